"""System checks of accounts: the sign-in throttle's counts are shared by every app process."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

PER_PROCESS = ("django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.dummy.DummyCache")


@register("caches")
def throttle_cache_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Failed sign-ins are counted in the ``throttle`` cache (:mod:`civicgrid.org.signin`): it must
    exist, and in production be shared (the database), or an attacker gets each process's allowance."""
    if app_configs is not None and not any(c.label == "org" for c in app_configs):
        return []
    from civicgrid.core.ratelimit import THROTTLE_CACHE

    cache = settings.CACHES.get(THROTTLE_CACHE)
    if cache is None:
        return [Error(f"CACHES has no {THROTTLE_CACHE!r} cache: sign-in throttling has nowhere to count.",
                      id="civicgrid.org.E001")]
    if getattr(settings, "ENVIRONMENT", "") == "production" and cache.get("BACKEND") in PER_PROCESS:
        return [Warning("The sign-in throttle counts per process (CIVICGRID_THROTTLE_CACHE=local): with several "
                        "app processes an attacker gets each one's allowance of wrong passwords.",
                        hint="Set CIVICGRID_THROTTLE_CACHE=database (and run `civicgrid migrate`).",
                        id="civicgrid.org.W001")]
    return []


@register("security", deploy=True)
def second_factor_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """In production the second factor is required of who may reveal or export personal data
    (:mod:`civicgrid.org.second_factor`); turning it off is said at ``check --deploy``."""
    if app_configs is not None and not any(c.label == "org" for c in app_configs):
        return []
    if getattr(settings, "ENVIRONMENT", "") == "production" and not getattr(
            settings, "CIVICGRID_SECOND_FACTOR_REQUIRED", False):
        return [Warning("CIVICGRID_SECOND_FACTOR_REQUIRED is off: people who may reveal or export personal data "
                        "sign in with a password alone (等保 2.0 level 3 expects two factors).",
                        hint="Unset CIVICGRID_SECOND_FACTOR_REQUIRED (on by default in production).",
                        id="civicgrid.org.W002")]
    return []

