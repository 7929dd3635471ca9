"""System checks of the privacy keys: every encryption key is a Fernet key and the hash key is set
(production refuses to start without them; this catches a malformed key before the first write)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured


@register("security")
def keys_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if app_configs is not None and not any(c.label == "privacy" for c in app_configs):
        return []
    from civicgrid.privacy.crypto import _fernet

    errors: list[CheckMessage] = []
    keys = tuple(getattr(settings, "CIVICGRID_ENCRYPTION_KEYS", ()) or ())
    if not keys:
        errors.append(Error("CIVICGRID_ENCRYPTION_KEYS is empty: personal fields cannot be encrypted.",
                            hint="civicgrid privacy newkey (see docs/operations.md)", id="civicgrid.privacy.E001"))
    else:
        try:
            _fernet(keys)
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), hint="Each key is 32 bytes in URL-safe base64 (civicgrid privacy newkey).",
                                id="civicgrid.privacy.E002"))
    if not getattr(settings, "CIVICGRID_HASH_KEY", ""):
        errors.append(Error("CIVICGRID_HASH_KEY is empty: phone and identity lookups cannot be keyed.",
                            id="civicgrid.privacy.E003"))
    return errors


@register("security")
def retention_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``CIVICGRID_RETENTION_DAYS`` names registered kinds with at least one day."""
    if app_configs is not None and not any(c.label == "privacy" for c in app_configs):
        return []
    from civicgrid.privacy.retention import retention_kinds

    known = {k.name for k in retention_kinds()}
    problems: list[CheckMessage] = []
    for name, days in (getattr(settings, "CIVICGRID_RETENTION_DAYS", {}) or {}).items():
        if name not in known:
            problems.append(Error(f"CIVICGRID_RETENTION_DAYS names {name!r}, which is no kind of personal data.",
                                  hint=f"Known kinds: {', '.join(sorted(known))}.", id="civicgrid.privacy.E004"))
        elif days < 1:
            problems.append(Error(f"CIVICGRID_RETENTION_DAYS: {name} must be kept at least 1 day.",
                                  id="civicgrid.privacy.E005"))
    return problems
