"""Identity numbers (GB 11643 check digit, real birth date) and phone numbers."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from civicgrid.privacy.validators import id_check_char, validate_id_number, validate_phone


def id_number(first17: str) -> str:
    return first17 + id_check_char(first17)


def test_the_check_character_follows_gb_11643():
    # The standard's own example: 11010519491231002X.
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("44030319851231002") in "0123456789X"


@pytest.mark.parametrize("first17", ["11010519491231002", "44030319851231002", "32010619990101001",
                                     "51010720000229003"])
def test_valid_identity_numbers_pass(first17):
    validate_id_number(id_number(first17))


def test_a_lower_case_x_is_accepted_as_x():
    number = id_number("11010519491231002")
    assert number.endswith("X")
    validate_id_number(number.lower())


def test_spaces_inside_an_identity_number_are_ignored():
    number = id_number("44030319851231002")
    validate_id_number(f"{number[:6]} {number[6:14]} {number[14:]}")


def test_a_wrong_check_digit_is_refused():
    number = id_number("44030319851231002")
    wrong = "0123456789X"[("0123456789X".index(number[-1]) + 1) % 11]
    with pytest.raises(ValidationError) as exc:
        validate_id_number(number[:17] + wrong)
    assert exc.value.code == "checksum"


@pytest.mark.parametrize("first17", ["44030319850230002", "44030319851301002", "44030318991231002",
                                     "44030329991231002"])
def test_an_impossible_or_out_of_range_birth_date_is_refused(first17):
    with pytest.raises(ValidationError) as exc:
        validate_id_number(id_number(first17))
    assert exc.value.code == "date"


@pytest.mark.parametrize("value", ["", "4403031985123100", "4403031985123100211", "44030319851231002Y",
                                   "X4030319851231002X", "440303198512310021a"])
def test_malformed_identity_numbers_are_refused(value):
    with pytest.raises(ValidationError) as exc:
        validate_id_number(value)
    assert exc.value.code == "format"


@pytest.mark.parametrize("value", ["13800138000", "138 0013 8000", "138-0013-8000", "+8613800138000",
                                   "19912345678", "02188886666", "0755-8888666", "0755 88886666"])
def test_mobiles_and_landlines_with_area_code_pass(value):
    validate_phone(value)


@pytest.mark.parametrize("value", ["", "12800138000", "1380013800", "138001380001", "88886666", "abc",
                                   "+1 2025550123"])
def test_other_phone_numbers_are_refused(value):
    with pytest.raises(ValidationError):
        validate_phone(value)
