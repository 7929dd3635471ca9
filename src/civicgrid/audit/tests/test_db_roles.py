"""On PostgreSQL the app runs as a role that owns nothing: it reads and inserts audit rows but can
neither change them nor TRUNCATE the table nor disable or drop its triggers; and the owner's own
TRUNCATE is refused by a statement trigger. The roles are made inside the test's transaction."""

from __future__ import annotations

import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from civicgrid.audit.models import AuditEntry
from civicgrid.audit.services import audit_record
from civicgrid.core.dbroles import app_role_grant

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
TABLE = AuditEntry._meta.db_table


@pytest.fixture
def roles():
    if connection.vendor != "postgresql":
        pytest.skip(f"database roles exist on PostgreSQL only (this run uses {connection.vendor})")
    suffix = uuid.uuid4().hex[:8]
    owner, app = f"cg_migrate_{suffix}", f"cg_app_{suffix}"
    with connection.cursor() as cur:
        cur.execute(f"CREATE ROLE {owner} NOLOGIN")
        cur.execute(f"CREATE ROLE {app} NOLOGIN")
        for table in (TABLE, "cases_timelineentry"):  # the migrating role owns the tables, not a superuser
            cur.execute(f"ALTER TABLE {table} OWNER TO {owner}")
    app_role_grant(app)
    yield owner, app
    with connection.cursor() as cur:
        cur.execute("RESET ROLE")


def refused(sql: str, match: str) -> None:
    with pytest.raises(DatabaseError, match=match), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql)


def test_the_app_role_reads_and_appends_but_cannot_change_or_destroy_the_audit_trail(roles):
    _owner, app = roles
    row = audit_record(actor=None, action="test.before")
    with connection.cursor() as cur:
        cur.execute(f"SET ROLE {app}")
    audit_record(actor=None, action="test.as_app")  # the app still writes its audit rows
    assert AuditEntry.objects.filter(action__startswith="test.").count() == 2
    refused(f"UPDATE {TABLE} SET action = 'x' WHERE id = {row.pk}", "permission denied")
    refused(f"DELETE FROM {TABLE} WHERE id = {row.pk}", "permission denied")
    refused(f"TRUNCATE {TABLE}", "permission denied")
    refused("TRUNCATE cases_timelineentry", "permission denied")
    refused(f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL", "must be owner")
    refused(f"DROP TRIGGER {TABLE}_append_only_trg ON {TABLE}", "must be owner")
    refused("DROP TRIGGER cases_timelineentry_no_truncate_trg ON cases_timelineentry", "must be owner")
    refused("UPDATE cases_timelineentry SET note = '' WHERE id = -1", "permission denied")


def test_even_the_owning_role_cannot_truncate_the_append_only_tables(roles):
    owner, _app = roles
    audit_record(actor=None, action="test.keep")
    with connection.cursor() as cur:
        cur.execute(f"SET ROLE {owner}")
    refused(f"TRUNCATE {TABLE}", "append-only: TRUNCATE refused")
    refused("TRUNCATE cases_timelineentry", "append-only: TRUNCATE refused")
    with connection.cursor() as cur:
        cur.execute("RESET ROLE")
    assert AuditEntry.objects.filter(action="test.keep").exists()


def test_the_grant_command_prints_what_it_granted(roles, capsys):
    from django.core.management import call_command

    _owner, app = roles
    call_command("db_grant", app)
    out = capsys.readouterr().out
    assert f"REVOKE UPDATE, DELETE, TRUNCATE ON \"{TABLE}\" FROM \"{app}\";" in out
