"""The 12345 desk in a real browser (issue 14): a refused call comes back with everything typed; the
caller look-up and the knowledge base answer in place without losing the call being typed (the
number goes by POST, never in the address); an enquiry without a location is answered and closed; the
city agent names the department when none is suggested and lands on the new case with its code."""

from __future__ import annotations

import pytest

from civicgrid.events.tests.conftest import POINT_B
from civicgrid.web.tests.conftest import BIN
from conftest import PASSWORD
from tests.browser.test_web_pages import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_refused_call_comes_back_with_everything_typed(page, live_server, world):
    from civicgrid.cases.models import Case

    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/agent/")
    typed = {"#id_reporter_phone": "13800138000", "#id_reporter_name": "王先生", "#id_text": "东区路灯不亮已经三天",
             "#id_address": "乙区某路12号", "#id_lon": str(POINT_B[0]), "#id_lat": str(POINT_B[1]),
             "#id_answer": "已记录，转乙区处理"}
    for selector, value in typed.items():
        page.fill(selector, value)
    page.select_option("#id_category", BIN)
    # the request type is not chosen: named, and nothing typed is lost
    page.click("#call-form button[value=dispatch]")
    page.wait_for_selector("#call-form .errorlist")
    assert "请选择诉求类型" in page.inner_text("#call-form")
    for selector, value in typed.items():
        assert page.input_value(selector) == value
    # chosen now; the place lies in district B, outside Alice's reach: said on the form, all kept
    page.select_option("#id_request_type", "complaint")
    page.click("#call-form button[value=dispatch]")
    page.locator("#call-form .errorlist", has_text="不在本中心辖区内").wait_for()
    shot(page, "agent-refused")
    for selector, value in typed.items():
        assert page.input_value(selector) == value
    assert page.input_value("#id_request_type") == "complaint" and page.input_value("#id_category") == BIN
    assert Case.objects.count() == 0
    # created for the centre instead: the agent lands on its page, with the code to read out
    page.click("#call-form button[value=create]")
    page.wait_for_url("**/cases/*/")
    code = Case.objects.get().tracking_code
    assert f"已创建：{code}。" in page.inner_text(".messages")


def test_an_enquiry_without_a_location_is_answered_from_the_knowledge_base(page, live_server, world):
    from civicgrid.cases.models import Case
    from civicgrid.web.tests.conftest import reported

    earlier = reported(phone="13900001111")
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/agent/")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.fill("#id_text", "请问垃圾分类的投放时间是几点")  # typed while the caller talks
    page.fill("#id_phone_find", "13900001111")
    page.click("#caller-form button")
    page.wait_for_selector("#earlier")
    assert earlier.tracking_code in page.inner_text("#earlier")
    assert not any("13900001111" in url for url in requests)  # the number never rode in an address
    assert page.input_value("#id_text") == "请问垃圾分类的投放时间是几点"  # nothing lost: no reload
    assert page.input_value("#id_reporter_phone") == "13900001111"  # the caller's number on the call
    # no knowledge yet: the agent answers, and the answer is found for the next caller
    page.select_option("#id_request_type", "enquiry")
    page.fill("#id_answer", "每天7:00—9:00、18:00—20:00定时定点投放。")
    page.click("#call-form button[value=answer]")
    page.wait_for_url("**/cases/*/")
    case = Case.objects.get(channel="hotline")
    assert case.state == "answered" and f"{case.tracking_code}" in page.inner_text(".messages")
    page.goto(f"{live_server.url}/agent/")
    page.fill("#id_text", "垃圾分类几点投放")
    page.fill("#id_q", "垃圾分类")
    page.click("#kb-form button")
    page.wait_for_selector(".kb-answer")
    assert "每天7:00—9:00、18:00—20:00定时定点投放。" in page.inner_text("#answers")
    page.click("[data-use-answer]")
    assert page.input_value("#id_answer") == "每天7:00—9:00、18:00—20:00定时定点投放。"
    assert page.input_value("#id_text") == "垃圾分类几点投放"
    shot(page, "agent-knowledge")
    assert not page.console_errors  # type: ignore[attr-defined]


def test_the_city_agent_names_the_department_when_none_is_suggested(page, live_server, world, units):
    from civicgrid.cases.models import Case
    from civicgrid.org.models import Role
    from civicgrid.org.services import membership_grant, user_create

    cathy = user_create(actor=None, username="cathy", password=PASSWORD, display_name="Cathy")
    membership_grant(actor=None, user=cathy, role=Role.DISPATCHER, region=world.city.city)
    sign_in(page, live_server.url, "cathy")
    page.goto(f"{live_server.url}/agent/")
    page.select_option("#id_request_type", "complaint")
    page.fill("#id_text", "小区门口垃圾箱破损")
    page.select_option("#id_category", BIN)
    page.fill("#id_address", "甲区某街道百合小区南门")
    page.click("#call-form button[value=dispatch]")
    page.wait_for_selector("#call-form .errorlist")
    assert "请指定部门" in page.inner_text("#call-form")
    assert page.input_value("#id_address") == "甲区某街道百合小区南门"
    page.select_option("#id_department", units.urban.code)
    page.click("#call-form button[value=dispatch]")
    page.wait_for_url("**/cases/*/")
    case = Case.objects.get()
    assert case.state == "dispatched" and case.lead_department == units.urban
    assert f"已创建并派给{units.urban.name}：{case.tracking_code}。" in page.inner_text(".messages")
    shot(page, "agent-dispatched")
