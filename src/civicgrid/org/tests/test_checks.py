"""The sign-in throttle's store: it must exist, and in production be shared by every process."""

from __future__ import annotations

from django.test import override_settings

from civicgrid.org.checks import throttle_cache_check

LOCAL = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
SHARED = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "civicgrid_throttle"}


def test_production_warns_about_a_per_process_throttle_store():
    with override_settings(ENVIRONMENT="production", CACHES={"default": LOCAL, "throttle": SHARED}):
        assert throttle_cache_check() == []
    with override_settings(ENVIRONMENT="development", CACHES={"default": LOCAL, "throttle": LOCAL}):
        assert throttle_cache_check() == []
    with override_settings(ENVIRONMENT="production", CACHES={"default": LOCAL, "throttle": LOCAL}):
        assert [m.id for m in throttle_cache_check()] == ["civicgrid.org.W001"]
    with override_settings(CACHES={"default": LOCAL}):
        assert [m.id for m in throttle_cache_check()] == ["civicgrid.org.E001"]
