"""The append-only tables (the audit trail, the case timelines) refused by the database itself.

PostgreSQL: row triggers refuse UPDATE and DELETE and a statement trigger refuses TRUNCATE
(migrations ``audit.0003``, ``cases.0003``, ``audit.0005``); the app role has no such privileges
(core/dbroles.py).

SQLite has no roles and no TRUNCATE (its ``DELETE FROM t`` without a WHERE is a DELETE, which the
triggers see). Here :func:`sqlite_guards_install` adds ``BEFORE UPDATE`` and ``BEFORE DELETE`` triggers
that abort — ``WHEN civicgrid_append_only()``, a function each of our connections registers
(:func:`sqlite_register`) and that answers 1. A client that does not register it (the ``sqlite3``
shell, another program) gets "no such function" on any UPDATE or DELETE of those tables: refused
too. The triggers are (re)created after every ``migrate`` (post_migrate), because SQLite's schema
editor rebuilds a table to alter it and a rebuilt table has lost its triggers.

Only Django's test flush — which empties every table between tests that commit (live-server page
tests, ``transaction=True``) — switches the guard off, for its own thread and only while it runs
(:func:`append_only_suspended`, wrapped around the ``flush`` command by the test suite's conftest).
This keeps careless code and careless SQL off the trail; it does not stop someone who holds the
database file, who can drop the triggers: on SQLite the file's permissions are the only guard.
A trigger may call an application function only while SQLite's ``trusted_schema`` is on (its
default; Python's ``create_function`` cannot mark a function innocuous): a build that turns it off
refuses every UPDATE and DELETE of these tables, the test flush's included.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from civicgrid.core.dbroles import APPEND_ONLY_TABLES

MESSAGES = {"audit_auditentry": "audit entries are append-only",
            "cases_timelineentry": "the case timeline is append-only"}
FUNCTION = "civicgrid_append_only"

_suspended: ContextVar[bool] = ContextVar("civicgrid_append_only_suspended", default=False)


def _enforced() -> int:
    return 0 if _suspended.get() else 1


def sqlite_register(sender: Any = None, connection: Any = None, **kwargs: Any) -> None:
    """``connection_created``: give each SQLite connection the function the triggers ask."""
    if connection is not None and connection.vendor == "sqlite":
        connection.connection.create_function(FUNCTION, 0, _enforced)


def sqlite_trigger_sql(tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> list[str]:
    """The SQLite triggers' ``CREATE TRIGGER IF NOT EXISTS`` statements."""
    return [f"CREATE TRIGGER IF NOT EXISTS {table}_append_only_{event.lower()} BEFORE {event} ON {table} "
            f"FOR EACH ROW WHEN {FUNCTION}() BEGIN SELECT RAISE(ABORT, '{MESSAGES[table]}'); END"
            for table in tables for event in ("UPDATE", "DELETE")]


def sqlite_guards_install(connection: Any) -> int:
    """Create the SQLite triggers on the append-only tables that exist (idempotent); returns how
    many statements ran."""
    if connection.vendor != "sqlite":
        return 0
    existing = set(connection.introspection.table_names())
    statements = sqlite_trigger_sql(tuple(t for t in APPEND_ONLY_TABLES if t in existing))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
    return len(statements)


def post_migrate_install(sender: Any = None, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    if sender is not None and getattr(sender, "label", "") != "audit":
        return  # post_migrate comes once per app, after all of the run's migrations: once is enough
    sqlite_guards_install(connections[using])


@contextmanager
def append_only_suspended() -> Iterator[None]:
    """For Django's test flush only: lets this thread empty the append-only tables on SQLite."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)
