"""Key rotation (密钥轮换): put a new key first, re-encrypt, drop the old key."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from civicgrid.audit.models import AuditEntry
from civicgrid.org.models import User
from civicgrid.org.services import user_create
from civicgrid.privacy import crypto
from civicgrid.privacy.crypto import DecryptionError
from civicgrid.privacy.fields import hash_lookup
from civicgrid.privacy.validators import id_check_char

pytestmark = pytest.mark.django_db

OLD = crypto.generate_key()
NEW = crypto.generate_key()
PHONE = "13800138000"
ID17 = "11010519900307123"
ID_NUMBER = ID17 + id_check_char(ID17)


def raw_phone(pk: int) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT phone FROM org_user WHERE id = %s", [pk])
        return cur.fetchone()[0]


def rotate() -> str:
    out = StringIO()
    call_command("privacy_rotate", stdout=out)
    return out.getvalue()


@pytest.fixture
def saved_under_old_key() -> list[int]:
    with override_settings(CIVICGRID_ENCRYPTION_KEYS=[OLD]):
        users = [user_create(actor=None, username=f"u{i}", password=None, phone=PHONE, id_number=ID_NUMBER)
                 for i in range(3)]
        user_create(actor=None, username="blank", password=None)  # empty values stay empty
    return [u.pk for u in users]


def test_values_still_decrypt_with_only_the_new_key_after_rotation(saved_under_old_key):
    with override_settings(CIVICGRID_ENCRYPTION_KEYS=[NEW, OLD]):
        out = rotate()
    assert "org.User: 3 rows re-encrypted" in out
    with override_settings(CIVICGRID_ENCRYPTION_KEYS=[NEW]):
        for pk in saved_under_old_key:
            user = User.objects.get(pk=pk)
            assert (user.phone, user.id_number) == (PHONE, ID_NUMBER)
        assert User.objects.get(username="blank").phone == ""
        # the keyed hashes do not depend on the Fernet keys: search still works
        assert User.objects.filter(**hash_lookup(User, "phone", PHONE)).count() == 3


def test_before_rotation_the_new_key_alone_cannot_decrypt(saved_under_old_key):
    with override_settings(CIVICGRID_ENCRYPTION_KEYS=[NEW]), pytest.raises(DecryptionError):
        User.objects.get(pk=saved_under_old_key[0])


def test_during_rotation_both_keys_read_old_and_new_values(saved_under_old_key):
    with override_settings(CIVICGRID_ENCRYPTION_KEYS=[NEW, OLD]):
        assert User.objects.get(pk=saved_under_old_key[0]).phone == PHONE
        fresh = user_create(actor=None, username="fresh", password=None, phone="13900000000")
        assert User.objects.get(pk=fresh.pk).phone == "13900000000"


def test_rotation_changes_the_tokens_and_can_run_again(saved_under_old_key):
    before = raw_phone(saved_under_old_key[0])
    with override_settings(CIVICGRID_ENCRYPTION_KEYS=[NEW, OLD]):
        rotate()
        after = raw_phone(saved_under_old_key[0])
        assert after != before and after.startswith(crypto.TOKEN_PREFIX)
        assert "org.User: 0 rows re-encrypted" in rotate()  # finished rows are skipped
    assert raw_phone(saved_under_old_key[0]) == after


def test_rotation_is_audited_with_counts_only(saved_under_old_key):
    with override_settings(CIVICGRID_ENCRYPTION_KEYS=[NEW, OLD]):
        rotate()
    row = AuditEntry.objects.get(action="privacy.keys.rotate")
    assert row.extra["rows"]["org.User"] == 3
    assert NEW not in str(row.extra) and OLD not in str(row.extra)


def test_rotation_works_in_small_batches(saved_under_old_key):
    from civicgrid.privacy.services import encrypted_columns_rotate

    with override_settings(CIVICGRID_ENCRYPTION_KEYS=[NEW, OLD]):
        assert encrypted_columns_rotate(batch_size=1)["org.User"] == 3
    with override_settings(CIVICGRID_ENCRYPTION_KEYS=[NEW]):
        assert {u.phone for u in User.objects.filter(pk__in=saved_under_old_key)} == {PHONE}


def test_privacy_newkey_prints_a_usable_fernet_key():
    out = StringIO()
    call_command("privacy_newkey", stdout=out)
    key = out.getvalue().strip()
    with override_settings(CIVICGRID_ENCRYPTION_KEYS=[key]):
        assert crypto.decrypt(crypto.encrypt("测试")) == "测试"


def test_a_malformed_key_is_a_configuration_error():
    from django.core.exceptions import ImproperlyConfigured

    with override_settings(CIVICGRID_ENCRYPTION_KEYS=["not-a-key"]), pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")
