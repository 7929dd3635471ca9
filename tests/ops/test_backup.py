"""Backup and restore: ``civicgrid ops backup`` then ``civicgrid ops restore`` into an empty
database and media root finds every case, photo and audit row, and the configured key reads a
reporter's phone; without the key the restore refuses. Runs on SQLite and on PostgreSQL
(pg_dump/pg_restore of the server's version)."""

from __future__ import annotations

import hashlib
import sqlite3
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from civicgrid.audit.models import AuditEntry
from civicgrid.cases.models import Case
from civicgrid.events.models import EventDetail
from civicgrid.events.photos import PhotoUpload
from civicgrid.ops.backup import Target
from civicgrid.privacy.crypto import decrypt, generate_key

from .conftest import jpeg, report

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def empty_database(tmp_path: Path) -> Any:
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored' / 'civicgrid.sqlite3'}"
        return
    s = connection.settings_dict
    name = f"{s['NAME']}_restore"
    admin = Target(engine="postgresql", name="postgres", user=s["USER"], password=s.get("PASSWORD") or "",
                   host=s["HOST"], port=str(s["PORT"] or ""))
    with admin.pg_connect(autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    yield f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"
    with admin.pg_connect(autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rows(url: str, sql: str) -> list[tuple]:
    target = Target.from_url(url)
    if target.engine == "sqlite":
        with sqlite3.connect(target.name) as db:
            return list(db.execute(sql))
    with target.pg_connect() as db:
        return list(db.execute(sql))


def test_a_backup_restores_into_an_empty_database_with_every_case_photo_and_audit_row_given_its_key(
        world, tmp_path, empty_database):
    for n in range(3):
        report(None, reporter_phone=f"1391234567{n}", reporter_name="张三", key=f"k{n}",
               photos=[PhotoUpload(f"p{n}.jpg", jpeg(size=(40 + n, 30)))], text=f"小区门口上水井盖缺失 {n}")
    cases = sorted(Case.objects.values_list("id", flat=True))
    audit = sorted(AuditEntry.objects.values_list("id", flat=True))
    photos = [p for e in EventDetail.objects.all() for p in e.photos]
    assert len(photos) == 3 and len(audit) > 3
    out = StringIO()
    call_command("ops_backup", str(tmp_path / "backup"), stdout=out)
    assert "3 cases" in out.getvalue() and "3 stored files" in out.getvalue()
    media = tmp_path / "restored_media"

    # Without the key it was made under, the restore refuses before touching the database.
    with override_settings(CIVICGRID_ENCRYPTION_KEYS=[generate_key()]), \
            pytest.raises(CommandError, match="unreadable"):
        call_command("ops_restore", str(tmp_path / "backup"), database_url=empty_database, media_root=str(media),
                     stdout=StringIO())
    target = Target.from_url(empty_database)
    if target.engine == "sqlite":
        assert not Path(target.name).exists()
    else:
        assert rows(empty_database, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
                    ) == [(0,)]

    out = StringIO()
    call_command("ops_restore", str(tmp_path / "backup"), database_url=empty_database, media_root=str(media),
                 stdout=out)
    assert "every table's row count matches" in out.getvalue()
    # Looked up in the restored database itself, not through the command's own report:
    assert sorted(r[0] for r in rows(empty_database, "SELECT id FROM cases_case")) == cases
    assert sorted(r[0] for r in rows(empty_database, "SELECT id FROM audit_auditentry")) == audit
    for photo in photos:
        assert hashlib.sha256((media / photo["path"]).read_bytes()).hexdigest() == photo["sha256"]
    stored = dict(rows(empty_database, "SELECT id, reporter_phone FROM cases_case"))
    assert sorted(decrypt(v) for v in stored.values()) == ["13912345670", "13912345671", "13912345672"]
    assert not any("1391234567" in v for v in stored.values())  # encrypted in the backup too


def test_a_restore_into_a_database_in_use_is_refused(tmp_path):
    call_command("ops_backup", str(tmp_path / "backup"), stdout=StringIO())
    with pytest.raises(CommandError, match="not empty"):
        call_command("ops_restore", str(tmp_path / "backup"), media_root=str(tmp_path / "m"), stdout=StringIO())
    with pytest.raises(CommandError, match="not empty"):
        call_command("ops_backup", str(tmp_path / "backup"), stdout=StringIO())
