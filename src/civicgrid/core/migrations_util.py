"""Operations shared by migrations of several apps."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def append_only_trigger(table: str, message: str) -> migrations.RunPython:
    """On PostgreSQL, a trigger that refuses UPDATE and DELETE on ``table`` (an append-only record:
    the audit trail, a case's timeline). Elsewhere the models refuse; the database cannot."""
    function, trigger = f"{table}_append_only", f"{table}_append_only_trg"

    def forward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$ BEGIN "
                f"RAISE EXCEPTION '{message}'; END; $$ LANGUAGE plpgsql; "
                f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {function}();")

    def backward(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}; DROP FUNCTION IF EXISTS {function}();")

    return migrations.RunPython(forward, backward)
