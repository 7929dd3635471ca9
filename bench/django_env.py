"""Set up Django on a throwaway benchmark database (SQLite file or a PostgreSQL database)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PG_ADMIN_URL = os.environ.get("CIVICGRID_BENCH_PG", "postgres://postgres@127.0.0.1:5432/test")


def fresh_database(kind: str, name: str = "civicgrid_bench") -> str:
    """Create an empty database and return its URL. ``kind`` is ``sqlite`` or ``postgres``."""
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="civicgrid-bench-")) / f"{name}.sqlite3"
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("CIVICGRID_ENV", "development")
    os.environ["CIVICGRID_DEBUG"] = "false"  # no query log growing in memory
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:
        return False
