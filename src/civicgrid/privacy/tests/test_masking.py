"""Masking for display (脱敏), including short and empty values."""

from __future__ import annotations

import pytest

from civicgrid.privacy.masking import mask, mask_generic, mask_id_number, mask_name, mask_phone


def test_an_identity_number_keeps_its_region_code_and_last_four():
    assert mask_id_number("11010519900307123X") == "110105********123X"


def test_a_mobile_number_keeps_its_network_prefix_and_last_four():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("138 0013 8000") == "138****8000"
    assert mask_phone("+86 13800138000") == "138****8000"


def test_a_landline_with_area_code_is_masked_in_the_middle():
    assert mask_phone("021-88886666") == "021****6666"


def test_a_name_keeps_only_the_family_name():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("张") == "*"


@pytest.mark.parametrize("masker", [mask_id_number, mask_phone, mask_name, mask_generic])
@pytest.mark.parametrize("value", ["1", "12", "123", "1234", "12345", "123456789", "1234567890"])
def test_short_values_never_come_out_whole(masker, value):
    out = masker(value)
    assert len(out) == len(value)
    hidden = out.count("*")
    assert hidden >= 1 and hidden >= len(value) * 2 // 5
    assert out != value


@pytest.mark.parametrize("kind", ["id_number", "phone", "name", "generic"])
def test_empty_and_missing_values_mask_to_an_empty_string(kind):
    assert mask("", kind) == ""
    assert mask(None, kind) == ""


def test_an_unknown_mask_kind_is_an_error():
    with pytest.raises(ValueError):
        mask("abc", "shoe_size")
