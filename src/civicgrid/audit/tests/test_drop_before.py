"""Audit data is kept at least 6 months and leaves only by whole partitions, as the owner role."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from civicgrid.audit.models import AuditEntry
from civicgrid.audit.retention import AuditRetentionRefused, audit_drop_before, earliest_droppable

pytestmark = pytest.mark.django_db


def test_six_months_are_always_kept():
    assert earliest_droppable(dt.date(2026, 12, 7)) == dt.date(2026, 6, 1)
    assert earliest_droppable(dt.date(2026, 3, 31)) == dt.date(2025, 9, 1)
    with pytest.raises(AuditRetentionRefused, match="at least 6 months"):
        audit_drop_before("2026-07", today=dt.date(2026, 12, 7))
    with pytest.raises(AuditRetentionRefused, match="YYYY-MM"):
        audit_drop_before("2026-13", today=dt.date(2026, 12, 7))


def test_an_unpartitioned_table_loses_nothing():
    AuditEntry.objects.create(action="x.test")
    before = AuditEntry.objects.count()
    with pytest.raises(CommandError, match="not partitioned" if connection.vendor == "postgresql" else "PostgreSQL"):
        call_command("audit_drop_before", "2020-01")
    with pytest.raises(CommandError, match="at least 6 months"):
        call_command("audit_drop_before", dt.date.today().strftime("%Y-%m"))
    assert AuditEntry.objects.count() == before
