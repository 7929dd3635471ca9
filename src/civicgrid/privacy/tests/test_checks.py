from __future__ import annotations

from django.test import override_settings

from civicgrid.privacy.checks import keys_check


def test_the_keys_are_checked_before_the_first_write():
    assert keys_check() == []
    with override_settings(CIVICGRID_ENCRYPTION_KEYS=["not-a-key"]):
        assert [m.id for m in keys_check()] == ["civicgrid.privacy.E002"]
    with override_settings(CIVICGRID_ENCRYPTION_KEYS=[], CIVICGRID_HASH_KEY=""):
        assert [m.id for m in keys_check()] == ["civicgrid.privacy.E001", "civicgrid.privacy.E003"]
