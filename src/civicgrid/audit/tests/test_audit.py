"""The audit trail (审计日志): append-only, and every row written during a request carries its id."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, transaction

from civicgrid.audit.models import AppendOnlyError, AuditEntry
from civicgrid.audit.services import audit_record
from civicgrid.core.context import current_request_id, request_context
from civicgrid.org.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry() -> AuditEntry:
    return audit_record(actor=None, action="test.thing.do", target_type="test.thing", target_id=1,
                        target_repr="thing", after={"a": 1})


def test_a_saved_row_cannot_be_saved_again(entry):
    entry.action = "test.thing.undo"
    with pytest.raises(AppendOnlyError):
        entry.save()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.thing.do"


def test_a_row_cannot_be_deleted(entry):
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_queryset_refuses_bulk_update_and_delete(entry):
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="test.thing.undo")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.thing.do"


def test_new_rows_are_still_appended(entry):
    audit_record(actor=None, action="test.thing.again")
    assert AuditEntry.objects.count() == 2


def test_the_database_itself_refuses_update_and_delete_on_postgresql_and_sqlite(entry):
    from django.db.utils import DatabaseError

    table = AuditEntry._meta.db_table
    for sql in (f"UPDATE {table} SET action = 'test.thing.undo' WHERE id = %s",
                f"DELETE FROM {table} WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(sql, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.thing.do"


# --- request ids -----------------------------------------------------------------------------------


@pytest.fixture
def renamer(cast):
    """admin_a, allowed to open the admin and rename regions of district A."""
    user = cast.admin_a
    for codename in ("view_region", "change_region"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return User.objects.get(pk=user.pk)


def rename(client, cast, name: str, **headers: str):
    region = cast.city.get("440301001")
    return client.post(f"/admin/geo/region/{region.pk}/change/", {"name": name}, headers=headers)


def test_the_clients_request_id_is_kept_as_a_correlation_id_and_never_becomes_ours(client, cast, renamer):
    client.force_login(renamer)
    response = rename(client, cast, "新安街道", **{"X-Request-ID": "req-2024-abcdef"})
    assert response.status_code == 302
    rid = response["X-Request-ID"]
    assert rid != "req-2024-abcdef" and re.fullmatch(r"[0-9a-f]{32}", rid)
    assert response["X-Correlation-ID"] == "req-2024-abcdef"
    row = AuditEntry.objects.get(action="geo.region.rename")
    assert (row.request_id, row.correlation_id) == (rid, "req-2024-abcdef")
    assert row.client_ip == "127.0.0.1"


def test_two_requests_sending_the_same_request_id_get_rows_under_two_ids(client, cast, renamer):
    client.force_login(renamer)
    for name in ("新安街道", "西乡街道"):
        rename(client, cast, name, **{"X-Request-ID": "same-id-every-time"})
    rows = AuditEntry.objects.filter(action="geo.region.rename")
    assert len({r.request_id for r in rows}) == 2 and {r.correlation_id for r in rows} == {"same-id-every-time"}


def test_without_a_header_a_request_id_is_generated_and_returned(client, cast, renamer):
    client.force_login(renamer)
    response = rename(client, cast, "新安街道")
    rid = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert AuditEntry.objects.get(action="geo.region.rename").request_id == rid


@pytest.mark.parametrize("bad", ["short", "has spaces in it", "x" * 65, "<script>alert(1)</script>"])
def test_a_malformed_request_id_header_is_replaced(client, cast, renamer, bad):
    client.force_login(renamer)
    response = rename(client, cast, "新安街道", **{"X-Request-ID": bad})
    rid = response["X-Request-ID"]
    assert rid != bad and re.fullmatch(r"[0-9a-f]{32}", rid) and "X-Correlation-ID" not in response
    row = AuditEntry.objects.get(action="geo.region.rename")
    assert (row.request_id, row.correlation_id) == (rid, "")


def test_each_request_gets_its_own_id_and_nothing_leaks_after_it(client, cast, renamer):
    client.force_login(renamer)
    first = rename(client, cast, "新安街道")["X-Request-ID"]
    second = rename(client, cast, "西乡街道")["X-Request-ID"]
    assert first != second
    assert current_request_id() == ""
    assert [r.request_id for r in AuditEntry.objects.filter(action="geo.region.rename").order_by("id")] == [
        first, second]


def test_rows_written_by_a_failed_sign_in_carry_the_request_id(client, cast):
    from django.conf import settings
    from django.core.cache import cache

    cache.clear()
    for i in range(settings.LOGIN_MAX_FAILURES):
        response = client.post("/admin/login/", {"username": "bob", "password": "nope"},
                               headers={"X-Request-ID": f"login-attempt-{i:04d}"})
    row = AuditEntry.objects.get(action="org.user.signin_throttled")
    assert row.request_id == response["X-Request-ID"]
    assert row.correlation_id == f"login-attempt-{settings.LOGIN_MAX_FAILURES - 1:04d}"
    cache.clear()


def test_commands_and_tasks_group_their_rows_under_one_id():
    with request_context() as rid:
        audit_record(actor=None, action="test.batch.one")
        audit_record(actor=None, action="test.batch.two")
    assert set(AuditEntry.objects.values_list("request_id", flat=True)) == {rid}
    assert current_request_id() == ""


def test_a_changed_phone_shows_in_the_audit_trail_without_its_value(db):
    from civicgrid.org.services import user_create, user_update

    user = user_create(actor=None, username="zhang", password="Correct-Horse-42", phone="13800138000")
    user_update(actor=None, user=user, phone="13900139000")
    row = AuditEntry.objects.get(action="org.user.update")
    assert set(row.after) == {"phone"}
    assert row.after["phone"].startswith("***") and "139" not in row.after["phone"]
