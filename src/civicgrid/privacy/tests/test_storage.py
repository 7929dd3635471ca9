"""Personal data at rest: ciphertext in the column, exact search through the keyed hash."""

from __future__ import annotations

import pytest
from django.core.exceptions import FieldError
from django.db import connection

from civicgrid.org.models import User
from civicgrid.org.services import user_create
from civicgrid.privacy import crypto
from civicgrid.privacy.fields import hash_lookup
from civicgrid.privacy.validators import id_check_char

pytestmark = pytest.mark.django_db

PHONE = "13800138000"
ID17 = "11010519900307123"
ID_NUMBER = ID17 + id_check_char(ID17)


COLUMNS = ("phone", "id_number", "phone_hash", "id_number_hash")


def raw_columns(user: User) -> dict[str, str]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {', '.join(COLUMNS)} FROM org_user WHERE id = %s", [user.pk])
        return dict(zip(COLUMNS, cur.fetchone(), strict=True))


@pytest.fixture
def dana() -> User:
    return user_create(actor=None, username="dana", password=None, phone=PHONE, id_number=ID_NUMBER)


def test_the_database_column_holds_a_fernet_token_and_never_the_digits(dana):
    raw = raw_columns(dana)
    for column, plain in (("phone", PHONE), ("id_number", ID_NUMBER)):
        assert raw[column].startswith(crypto.TOKEN_PREFIX)
        assert plain not in raw[column]
    # the keyed hashes are not the digits either, and not a plain unkeyed hash of them
    assert PHONE not in raw["phone_hash"] and len(raw["phone_hash"]) == 64


def test_the_model_reads_back_the_plain_value(dana):
    fresh = User.objects.get(pk=dana.pk)
    assert (fresh.phone, fresh.id_number) == (PHONE, ID_NUMBER)


def test_the_same_value_encrypts_differently_each_time(dana):
    other = user_create(actor=None, username="erin", password=None, phone=PHONE)
    assert raw_columns(dana)["phone"] != raw_columns(other)["phone"]
    assert raw_columns(dana)["phone_hash"] == raw_columns(other)["phone_hash"]


@pytest.mark.parametrize("typed", ["138 0013 8000", "138-0013-8000", " 13800138000 ", "+86 138 0013 8000"])
def test_exact_search_finds_a_phone_however_it_is_typed(dana, typed):
    assert list(User.objects.filter(**hash_lookup(User, "phone", typed))) == [dana]


def test_exact_search_finds_an_identity_number_typed_with_a_lower_case_x():
    id17 = "44030319851231002"
    number = id17 + id_check_char(id17)
    user = user_create(actor=None, username="xavier", password=None, id_number=number)
    assert list(User.objects.filter(**hash_lookup(User, "id_number", number.lower()))) == [user]


def test_a_different_number_is_not_found(dana):
    assert not User.objects.filter(**hash_lookup(User, "phone", "13800138001")).exists()


def test_clearing_a_value_clears_its_hash(dana):
    dana.phone = ""
    dana.save()
    raw = raw_columns(dana)
    assert raw["phone"] == "" and raw["phone_hash"] == ""


def test_searching_an_encrypted_column_by_value_is_refused_instead_of_finding_nothing(dana):
    with pytest.raises(FieldError):
        list(User.objects.filter(phone=PHONE))
    with pytest.raises(FieldError):
        list(User.objects.filter(phone__contains="0013"))
    assert User.objects.filter(phone="").count() == 0  # empty values are stored as-is
    assert User.objects.filter(phone__isnull=False).count() == 1


def test_hash_lookup_refuses_a_field_without_a_hash_index():
    with pytest.raises(ValueError):
        hash_lookup(User, "username", "dana")
