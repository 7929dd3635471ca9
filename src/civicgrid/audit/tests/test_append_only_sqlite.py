"""SQLite's append-only guards (core/appendonly.py): triggers refuse UPDATE and DELETE on the audit
trail and the timelines, for our connections and for any other client; only Django's test flush
empties them; a migrate that rebuilds a table gets its triggers back."""

from __future__ import annotations

import sqlite3

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from civicgrid.audit.models import AuditEntry
from civicgrid.audit.services import audit_record
from civicgrid.core.appendonly import FUNCTION, sqlite_trigger_sql

pytestmark = pytest.mark.django_db


def raw(tmp_path, *, knows_the_guard: bool) -> sqlite3.Connection:
    db = sqlite3.connect(tmp_path / "trail.sqlite3", isolation_level=None)
    if knows_the_guard:
        db.create_function(FUNCTION, 0, lambda: 1)
    db.execute("CREATE TABLE IF NOT EXISTS audit_auditentry (id INTEGER PRIMARY KEY, action TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS cases_timelineentry (id INTEGER PRIMARY KEY, note TEXT)")
    for sql in sqlite_trigger_sql():
        db.execute(sql)
    return db


def test_a_program_that_does_not_know_the_guard_cannot_change_the_trail_either(tmp_path):
    ours = raw(tmp_path, knows_the_guard=True)
    ours.execute("INSERT INTO audit_auditentry (action) VALUES ('a')")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ours.execute("DELETE FROM audit_auditentry")
    other = raw(tmp_path, knows_the_guard=False)  # the sqlite3 shell, another program
    for sql in ("UPDATE audit_auditentry SET action = 'b'", "DELETE FROM audit_auditentry",
                "DELETE FROM cases_timelineentry"):
        with pytest.raises(sqlite3.OperationalError, match=FUNCTION):
            other.execute(sql)
    assert other.execute("SELECT action FROM audit_auditentry").fetchall() == [("a",)]
    other.execute("INSERT INTO audit_auditentry (action) VALUES ('c')")  # appending still works


@pytest.mark.django_db(transaction=True)
def test_only_the_test_flush_empties_the_trail_on_sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's guard; PostgreSQL's flush is a superuser's TRUNCATE")
    audit_record(actor=None, action="test.thing.do")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("DELETE FROM audit_auditentry")
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEntry.objects.exists()
    audit_record(actor=None, action="test.thing.again")  # the guard is back once the flush is done
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("UPDATE audit_auditentry SET action = 'x'")


def test_a_rebuilt_table_gets_its_triggers_back_after_migrate():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite rebuilds a table to alter it; PostgreSQL alters it in place")
    with connection.cursor() as cur:
        cur.execute("DROP TRIGGER audit_auditentry_append_only_delete")  # as a table rebuild would
    call_command("migrate", verbosity=0)
    entry = audit_record(actor=None, action="test.thing.do")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
