"""An Excel file is XML inside: a name with a control character must not refuse the whole export
(security finding 12; openpyxl refuses such a cell, which was a 500)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from civicgrid.org.models import Department
from civicgrid.web.tests.conftest import client_for, reported, walk

pytestmark = pytest.mark.django_db


def test_the_dashboard_exports_excel_when_a_name_holds_a_control_character(world, units):
    case = walk(reported(), world, units, "replied")
    Department.objects.filter(pk=case.lead_department_id).update(name="城管\x01执法\x1b局")
    xlsx = client_for(world.alice).get("/dashboard/export.xlsx")
    assert xlsx.status_code == 200
    names = [row[2].value for row in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(min_row=2)]
    assert "城管执法局" in names
