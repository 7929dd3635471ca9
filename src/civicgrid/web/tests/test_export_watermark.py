"""Every export carries who exported it and when, in the file and in the audit trail."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from civicgrid.audit.models import AuditEntry
from civicgrid.web.tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_the_csv_export_ends_with_the_watermark_and_is_audited(world):
    response = client_for(world.alice).get("/dashboard/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    row = AuditEntry.objects.get(action="privacy.export")
    assert row.actor_id == world.alice.pk and row.extra["kind"] == "dashboard.metrics"
    assert row.extra["format"] == "csv" and row.extra["rows"] == len(rows) - 2 and row.extra["personal"] is False
    last = rows[-1][0]
    assert "Alice (alice)" in last and f"{row.at.astimezone().year}" in last and str(row.pk) in last


def test_the_excel_export_shows_the_watermark_above_the_table_and_in_its_properties(world):
    response = client_for(world.alice).get("/dashboard/export.xlsx")
    book = load_workbook(io.BytesIO(response.content))
    row = AuditEntry.objects.get(action="privacy.export")
    assert row.extra["format"] == "xlsx"
    text = book.active["A3"].value
    assert "Alice (alice)" in text and str(row.pk) in text
    assert book.properties.creator == "alice" and book.properties.description == text
    assert book.properties.keywords == f"civicgrid-audit-{row.pk}"


def test_a_refused_export_writes_no_export_row(world, units):
    assert client_for(units.rita).get("/dashboard/export.csv").status_code == 403
    assert client_for(world.alice).get("/dashboard/export.csv", {"start": "nope"}).status_code == 400
    assert not AuditEntry.objects.filter(action="privacy.export").exists()
