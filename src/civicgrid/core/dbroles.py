"""Two PostgreSQL roles (docs/deployment.md): the **migrating role** owns the schema and runs
``civicgrid migrate``; the **app role** owns nothing and may only read and write rows. An owner can
TRUNCATE a table or disable and drop its triggers; the app role can do none of that, and on the
append-only tables (the audit trail, the case timelines) it may not even UPDATE or DELETE.

:func:`app_role_grant` gives the app role exactly that, on every table that exists now; run it (as
the migrating role: ``civicgrid db grant ROLE``) after each ``civicgrid migrate``. It also sets
default privileges so tables a later migration creates are readable and writable at once.
"""

from __future__ import annotations

from typing import Any

from django.db import connection as default_connection

APPEND_ONLY_TABLES = ("audit_auditentry", "cases_timelineentry")


def app_role_grant(role: str, connection: Any = None) -> list[str]:
    """GRANT the app role what it needs and nothing more; returns the statements run."""
    conn = connection or default_connection
    if conn.vendor != "postgresql":
        raise ValueError("database roles exist on PostgreSQL only")
    qn = conn.ops.quote_name
    r = qn(role)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {r}",
        # TRUNCATE, TRIGGER and REFERENCES are never granted; on the append-only tables only reads
        # and inserts are.
        *(f"REVOKE UPDATE, DELETE, TRUNCATE ON {qn(t)} FROM {r}" for t in APPEND_ONLY_TABLES),
    ]
    with conn.cursor() as cur:
        for sql in statements:
            cur.execute(sql)
    return statements
