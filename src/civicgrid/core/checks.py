"""System checks of the settings ``core`` reads (``civicgrid check``; every management command runs
them): the database, the secret key in production, and how client addresses are read behind proxies."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

SUPPORTED_ENGINES = ("django.db.backends.sqlite3", "django.db.backends.postgresql")
DEV_SECRET_PREFIX = "civicgrid-development-only-secret-key"


def _ours(app_configs: Any, label: str) -> bool:
    return app_configs is None or any(c.label == label for c in app_configs)


@register("database")
def database_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """CivicGrid runs on SQLite or PostgreSQL only (the sweep, the bulk import and the append-only
    guards speak those two)."""
    if not _ours(app_configs, "core"):
        return []
    engine = settings.DATABASES.get("default", {}).get("ENGINE", "")
    if engine not in SUPPORTED_ENGINES:
        return [Error(f"DATABASE_URL points at {engine or 'no database'}: CivicGrid runs on SQLite or PostgreSQL.",
                      hint="Use sqlite:///path/to/file.sqlite3 or postgres://user@host:5432/name.",
                      id="civicgrid.core.E001")]
    return []


@register("security")
def secret_key_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """In production the secret key is a random string of at least 50 characters, not the
    development key (its absence stops start-up in settings.py)."""
    if not _ours(app_configs, "core") or getattr(settings, "ENVIRONMENT", "") != "production":
        return []
    wrapped: Any = settings._wrapped  # type: ignore[misc]  # (settings.SECRET_KEY raises when empty)
    key = str(getattr(wrapped, "SECRET_KEY", "") or "")
    if key.startswith(DEV_SECRET_PREFIX) or len(key) < 50:
        return [Error("CIVICGRID_SECRET_KEY must be a random string of at least 50 characters in production.",
                      hint="python -c 'import secrets; print(secrets.token_urlsafe(50))'",
                      id="civicgrid.core.E002")]
    return []


@register("security")
def proxy_hops_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Client addresses come from ``X-Forwarded-For`` only behind proxies of ours
    (:func:`civicgrid.core.ratelimit.client_address`)."""
    if not _ours(app_configs, "core"):
        return []
    hops = getattr(settings, "CIVICGRID_PROXY_HOPS", 0)
    behind = getattr(settings, "CIVICGRID_BEHIND_PROXY", False)
    if hops > 0 and not behind:
        return [Warning(f"CIVICGRID_PROXY_HOPS is {hops} but CIVICGRID_BEHIND_PROXY is off: client addresses are "
                        "read from X-Forwarded-For, which a client reaching the app directly writes itself "
                        "(sign-in throttling and rate limits would count the address it chooses).",
                        hint="Set CIVICGRID_BEHIND_PROXY=true behind a reverse proxy, else CIVICGRID_PROXY_HOPS=0.",
                        id="civicgrid.core.W001")]
    if behind and hops == 0:
        return [Warning("CIVICGRID_BEHIND_PROXY is on but CIVICGRID_PROXY_HOPS is 0: every request counts as "
                        "coming from the proxy, so one client's failed sign-ins slow down everyone.",
                        hint="Set CIVICGRID_PROXY_HOPS to the number of proxies of yours before the app.",
                        id="civicgrid.core.W002")]
    return []
