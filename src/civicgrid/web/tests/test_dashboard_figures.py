"""The dashboard's figures as a leader reads them: 立案率 counts only registered cases, each rate
says what it divides by, and the exports carry clean numbers, a titled Chinese sheet, refuse what
they cannot make and never turn a cell into a formula."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from civicgrid.cases.models import Rating
from civicgrid.geo.models import Region
from civicgrid.org.models import Department
from civicgrid.web.tests.conftest import client_for, reported, walk
from civicgrid.web.views.dashboard import formula_like

pytestmark = pytest.mark.django_db


def _row(html: str, metric: str) -> str:
    start = html.index(f'<tr data-metric="{metric}">')
    return html[start:html.index("</tr>", start)]


def test_the_registration_rate_does_not_count_cases_still_waiting_to_be_registered(world, units):
    walk(reported(), world, units, "registered")
    reported()  # still 已上报: received, not registered
    html = client_for(world.alice).get("/dashboard/").content.decode()
    row = _row(html, "registration")
    assert "50.0%" in row or "50%" in row, row
    assert ">1</a>" in row and ">2</a>" in row


def test_the_dashboard_says_what_each_rate_divides_by(world, units):
    walk(reported(), world, units, "dispatched")
    html = client_for(world.alice).get("/dashboard/").content.decode()
    legend = html[html.index('id="metric-legend"'):]
    assert "已立案 ÷ 本时段收到的案件（含待立案、不予立案和已并单的）" in legend
    assert "包括尚未立案或派遣的" in legend  # why the total closure rate is below the departments'
    assert "（满意 + 0.9 × 基本满意）÷ 本时段的有效回访" in legend
    assert "部门的各项比率只计该部门主办" in html[html.index('id="by-department"') - 600:]


def _csv(response) -> list[list[str]]:
    """The table's lines, without the watermark (the file's last line)."""
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[:-1]


def _sheet(response):
    return load_workbook(io.BytesIO(response.content)).active


def _rated_13_times_basically_satisfied(world, units):
    case = walk(reported(), world, units, "replied")
    Rating.objects.bulk_create([Rating(case=case, closing=n, satisfaction="basic", contacted=True, resolved=True,
                                       valid=True, at=timezone.now()) for n in range(1, 14)])  # 13 closings
    return case


def test_the_exports_carry_no_float_noise(world, units):
    # 0.9 × 13 basically satisfied follow-ups is 11.700000000000001 in floating point
    _rated_13_times_basically_satisfied(world, units)
    c = client_for(world.alice)
    rows = _csv(c.get("/dashboard/export.csv"))
    total = dict(zip(rows[0], rows[1], strict=True))
    assert total["满意率 分子"] == "11.7" and total["满意率 %"] == "90.0"
    assert not [v for v in rows[1] if len(v) > 12 and v.replace(".", "").isdigit()]
    sheet = _sheet(c.get("/dashboard/export.xlsx"))
    header = [cell.value for cell in sheet[5]]
    values = dict(zip(header, [cell.value for cell in sheet[6]], strict=True))
    assert values["满意率 分子"] == 11.7
    assert values["满意率 %"] == 0.9 and sheet.cell(row=6, column=header.index("满意率 %") + 1).number_format == "0.0%"


def test_the_excel_export_has_a_chinese_sheet_a_title_the_period_and_set_widths(world, units):
    walk(reported(), world, units, "replied")
    c = client_for(world.alice)
    response = c.get("/dashboard/export.xlsx", {"start": "2026-11-01", "end": "2026-11-30"})
    sheet = _sheet(response)
    assert sheet.title == "考核指标"
    assert sheet["A1"].value.startswith("考核指标：") and sheet["A1"].font.bold
    assert sheet["A2"].value == "时段：2026-11-01 至 2026-11-30（含首尾两日）"
    assert "Alice (alice)" in sheet["A3"].value  # the watermark: who exported it and when
    csv_header = _csv(c.get("/dashboard/export.csv", {"start": "2026-11-01", "end": "2026-11-30"}))[0]
    assert [cell.value for cell in sheet[5]] == csv_header
    assert sheet.column_dimensions["C"].width >= 20 and sheet.column_dimensions["D"].width >= 10
    assert sheet.freeze_panes == "D6"
    assert 'filename="civicgrid-metrics-20261101-20261130.xlsx"' in response["Content-Disposition"]


def test_an_export_in_a_format_there_is_not_is_refused_saying_which_there_are(world, units):
    c = client_for(world.alice)
    response = c.get("/dashboard/export.pdf")
    assert response.status_code == 404
    assert "spreadsheet" not in response["Content-Type"]
    assert "没有 pdf 格式的导出：请选择 CSV 或 Excel（xlsx）。" in response.content.decode()
    assert "export.pdf" not in c.get("/dashboard/").content.decode()  # and the page offers none


def test_a_bad_date_in_an_export_is_refused_naming_the_field(world, units):
    c = client_for(world.alice)
    for fmt in ("xlsx", "csv"):
        response = c.get(f"/dashboard/export.{fmt}", {"start": "bad"})
        html = response.content.decode()
        assert response.status_code == 400, fmt
        assert 'data-field="start"' in html and "日期格式为 YYYY-MM-DD。" in html
    assert c.get("/dashboard/export.csv", {"start": "2026-12-01", "end": "2026-01-01"}).status_code == 400


def test_an_exported_name_never_becomes_a_formula(world, units):
    case = walk(reported(), world, units, "dispatched")
    evil = '=HYPERLINK("http://evil.example","点我")'
    Region.objects.filter(pk=case.community_id).update(name=evil)
    Department.objects.filter(pk=units.urban.pk).update(name="@SUM(1+1)*cmd")
    c = client_for(world.alice)
    names = [row[2] for row in _csv(c.get("/dashboard/export.csv"))]
    assert "'" + evil in names and "'@SUM(1+1)*cmd" in names and evil not in names
    sheet = _sheet(c.get("/dashboard/export.xlsx"))
    cells = {cell.value: cell for cell in sheet["C"] if cell.value in (evil, "@SUM(1+1)*cmd")}
    assert set(cells) == {evil, "@SUM(1+1)*cmd"}
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in cells.values())
    counts = [cell.value for cell in sheet[6][3:]]
    assert all(isinstance(v, int | float) or v in ("", None) for v in counts)  # numbers stay numbers


def test_a_negative_number_is_not_taken_for_a_formula():
    assert not formula_like("-5") and not formula_like("-12.5") and not formula_like("+3")
    assert formula_like("-2+3") and formula_like("=1") and formula_like("@A1") and formula_like("\t=1")
    assert not formula_like(-5) and not formula_like("区-1")
