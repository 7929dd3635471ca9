"""The dashboard's figures as a leader reads them: 立案率 counts only registered cases, each rate
says what it divides by, and the exports carry clean numbers, a titled Chinese sheet, refuse what
they cannot make and never turn a cell into a formula."""

from __future__ import annotations

import pytest

from civicgrid.web.tests.conftest import client_for, reported, walk

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
