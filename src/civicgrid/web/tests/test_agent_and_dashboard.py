"""The 12345 agent's page (caller by phone through the keyed hash, earlier cases, answers given
before, answer and close, create and dispatch) and the dashboard (metrics, drill-down, export)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from civicgrid.cases.models import Case
from civicgrid.events import services as ev
from civicgrid.web.tests.conftest import BIN, POINT_A, POINT_B, client_for, fresh, reported, walk

pytestmark = pytest.mark.django_db


def test_the_agent_finds_a_repeat_caller_by_phone_within_the_jurisdiction(world):
    mine = reported(phone="13900001111")
    theirs = reported(phone="13900001111", point=POINT_B)
    reported(phone="13700002222")
    html = client_for(world.alice).post("/agent/caller/", {"phone": "139 0000 1111"}).content.decode()
    earlier = html[html.index('id="earlier"'):]
    assert mine.tracking_code in earlier and theirs.tracking_code not in earlier
    assert earlier.count("<li>") == 1


def test_a_bad_phone_number_is_named_on_the_agent_page(world):
    html = client_for(world.alice, lang="en").post("/agent/caller/", {"phone": "12"}).content.decode()
    assert 'id="earlier"' not in html and "errorlist" in html


def test_the_knowledge_base_finds_answers_given_before(world):
    case = reported(text="办理居住证需要什么材料", category="", request_type="咨询")
    ev.event_answer(actor=world.alice, case=fresh(case), answer="携带身份证和租房合同到社区服务中心办理")
    html = client_for(world.alice).get("/agent/", {"q": "居住证"}).content.decode()
    assert "携带身份证和租房合同" in html
    assert "携带身份证" not in client_for(world.charlie).get("/agent/", {"q": "居住证"}).content.decode()


def test_the_agent_answers_an_enquiry_and_closes_it(world):
    response = client_for(world.alice).post("/agent/", {
        "reporter_phone": "13800138000", "request_type": "enquiry", "text": "垃圾分类投放时间是几点",
        "lon": POINT_A[0], "lat": POINT_A[1], "then": "answer", "answer": "每天7点到9点、18点到20点"})
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.tracking_code}/"
    assert case.state == "answered" and case.channel == "hotline"


def test_answering_a_complaint_is_refused_and_nothing_is_left_behind(world):
    response = client_for(world.alice).post("/agent/", {
        "request_type": "complaint", "text": "垃圾箱坏了", "lon": POINT_A[0], "lat": POINT_A[1], "then": "answer",
        "answer": "好的"})
    assert response.status_code == 422 and Case.objects.count() == 0
    missing = client_for(world.alice).post("/agent/", {"request_type": "enquiry", "text": "问", "then": "answer"})
    assert missing.status_code == 422 and Case.objects.count() == 0


def test_the_agent_creates_registers_and_dispatches_to_the_suggested_department(world, units):
    agent = client_for(world.alice)
    response = agent.post("/agent/", {
        "reporter_phone": "13800138000", "request_type": "complaint", "text": "小区垃圾箱破损",
        "category": BIN, "lon": POINT_A[0], "lat": POINT_A[1], "then": "dispatch"}, follow=True)
    case = Case.objects.get()
    assert case.state == "dispatched" and case.lead_department == units.urban
    # the agent is told what happened, with the code to read to the caller
    assert f"已创建并派给{units.urban.name}：{case.tracking_code}。" in response.content.decode()


def test_dispatching_at_once_without_a_suggested_department_says_why_on_the_page(world, units):
    response = client_for(world.alice).post("/agent/", {
        "reporter_phone": "13800138000", "request_type": "complaint", "text": "路边暴露垃圾很多",
        "category": "E0101", "lon": POINT_A[0], "lat": POINT_A[1], "then": "dispatch"})
    html = response.content.decode()
    assert response.status_code == 422 and Case.objects.count() == 0  # nothing left half-way
    assert "请指定部门" in html[html.index('id="call-form"'):]


def test_the_agent_page_is_for_the_centre_only(world, units):
    assert client_for(world.bob).get("/agent/").status_code == 403
    assert client_for(units.dana).post("/agent/", {"text": "x"}).status_code == 403


def test_the_dashboard_shows_each_metric_with_links_to_its_cases(world, units):
    closed = walk(reported(), world, units, "replied")
    reported()
    html = client_for(world.alice).get("/dashboard/").content.decode()
    assert 'id="metrics"' in html and 'data-metric="closure"' in html and "<svg" in html
    by_area = html[html.index('id="by-region"'):]
    assert by_area.index("<th>区域</th>") < by_area.index("</thead>")  # areas are not headed "姓名"
    link = "/cases/?start="
    assert link in html and "metric=closure" in html and "part=numerator" in html
    from civicgrid.web.views.dashboard import DashboardFilter  # noqa: F401 - the drill-down below uses it
    drill = client_for(world.alice).get("/cases/", {"metric": "registration", "part": "numerator"}).content.decode()
    assert closed.tracking_code in drill and 'id="drill"' in drill


def test_a_drill_down_never_shows_cases_out_of_scope(world):
    theirs = reported(point=POINT_B)
    drill = client_for(world.alice).get("/cases/", {"metric": "registration", "part": "denominator"})
    assert theirs.tracking_code not in drill.content.decode()


def test_a_jurisdiction_outside_mine_is_not_found_and_a_bad_date_is_named(world):
    c = client_for(world.alice, lang="en")
    assert c.get("/dashboard/", {"region": "440302"}).status_code == 404
    html = c.get("/dashboard/", {"start": "2025-13-01"}).content.decode()
    assert "Give a date as YYYY-MM-DD." in html
    assert "Unknown metric." in c.get("/cases/", {"metric": "happiness"}).content.decode()


def test_the_dashboard_exports_csv_and_excel(world, units):
    walk(reported(), world, units, "replied")
    c = client_for(world.alice)
    response = c.get("/dashboard/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) >= 2 and len(rows[0]) == len(rows[1])
    scopes = {row[0] for row in rows[2:-1]}  # the last line is the watermark
    assert "社区" in scopes and not scopes & {"city", "district", "street", "community", "grid"}  # in words
    xlsx = c.get("/dashboard/export.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [cell.value for cell in sheet[5]] == rows[0]  # below the title, the period and the export time
    assert client_for(units.rita).get("/dashboard/export.csv").status_code == 403
