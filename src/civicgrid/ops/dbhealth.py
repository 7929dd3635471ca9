"""Reconnect after a database restart without a round trip on every request.

Django's ``CONN_HEALTH_CHECKS`` sends ``SELECT 1`` at the start of every request that reuses a
connection. Under intake load each connection is reused within milliseconds, and that extra round trip
cost about a fifth of a report's CPU (docs/benchmarks.md). Here a reused PostgreSQL connection is
checked only when it sat idle longer than ``CIVICGRID_DB_HEALTH_IDLE_SECONDS`` (default 1): a restart
while the app was quiet is found before the request runs, as before; a connection busy at the moment
of a restart fails that one request with the retryable 503 (ops.middleware, core.api), and Django then
drops it (a connection that raised is closed at the request's end when it is no longer usable).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import connections

_ATTR = "_civicgrid_idle_since"


def check_idle_connections(**_kwargs: Any) -> None:
    """``request_started`` receiver: close each open PostgreSQL connection that was idle too long and
    no longer answers, so the request opens a new one."""
    idle = float(getattr(settings, "CIVICGRID_DB_HEALTH_IDLE_SECONDS", 1.0))
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        if conn.vendor != "postgresql" or conn.connection is None or conn.in_atomic_block:
            continue
        since = getattr(conn, _ATTR, None)
        if since is not None and now - since <= idle:
            continue
        if not conn.is_usable():
            conn.close()


def mark_idle(**_kwargs: Any) -> None:
    """``request_finished`` receiver: remember when each connection went idle."""
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        setattr(conn, _ATTR, now)
