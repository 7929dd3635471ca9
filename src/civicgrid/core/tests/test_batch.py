"""Rows inserted together at the end of a service call (core.batch)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from civicgrid.audit.models import AuditEntry
from civicgrid.audit.services import audit_entry
from civicgrid.cases.models import Notification
from civicgrid.core.batch import batched, insert_later

pytestmark = pytest.mark.django_db


def _note(subject: str) -> Notification:
    return Notification(event="test", subject=subject, channel="sms", address="13800138000")


def test_rows_are_written_when_the_block_ends_in_order():
    with batched():
        for i in range(3):
            insert_later(audit_entry(actor=None, action=f"test.{i}"))
        insert_later(_note("hello"))
        assert not AuditEntry.objects.filter(action__startswith="test.").exists()  # not yet
    rows = AuditEntry.objects.filter(action__startswith="test.").order_by("id")
    actions = list(rows.values_list("action", flat=True))
    assert actions == ["test.0", "test.1", "test.2"]
    note = Notification.objects.get(subject="hello")
    assert note.address == "13800138000"  # the encrypted field went through its own preparation
    assert note.created_at is not None  # auto_now_add applied


def test_one_statement_for_several_tables_on_postgresql():
    with CaptureQueriesContext(connection) as queries:
        with batched():
            insert_later(audit_entry(actor=None, action="test.a"))
            insert_later(_note("x"))
            insert_later(_note("y"))
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"]]
    assert len(inserts) == (1 if connection.vendor == "postgresql" else 2)
    assert AuditEntry.objects.filter(action="test.a").count() == 1
    assert Notification.objects.filter(subject__in=["x", "y"]).count() == 2


def test_a_failed_inner_block_drops_its_rows_and_keeps_the_outer_ones():
    with batched():
        insert_later(audit_entry(actor=None, action="test.outer"))
        with pytest.raises(ValueError):
            with batched():
                insert_later(audit_entry(actor=None, action="test.inner"))
                raise ValueError("refused")
    assert AuditEntry.objects.filter(action="test.outer").count() == 1
    assert not AuditEntry.objects.filter(action="test.inner").exists()


def test_a_failed_block_writes_nothing():
    with pytest.raises(ValueError):
        with batched():
            insert_later(audit_entry(actor=None, action="test.lost"))
            raise ValueError("refused")
    assert not AuditEntry.objects.filter(action="test.lost").exists()


def test_outside_a_block_the_row_is_saved_at_once():
    entry = insert_later(audit_entry(actor=None, action="test.now"))
    assert entry.pk is not None
    assert AuditEntry.objects.filter(action="test.now").exists()
