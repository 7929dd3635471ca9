"""Chinese pages name things in Chinese: a routing reason names the department function (城管, not
urban_management), a refused action is named and its reasons given, and the message after an action
names the action done (催办 is not 督办, scoring a whistle is not answering it)."""

from __future__ import annotations

import pytest
from django.utils import translation

from civicgrid.events.models import Whistle
from civicgrid.web.tests.conftest import client_for, reported, walk

pytestmark = pytest.mark.django_db


def test_the_routing_reason_names_the_department_function_in_chinese(world, units):
    with translation.override("zh-hans"):  # reported from the Chinese page: the reason is written in Chinese
        case = reported()  # a rubbish bin: the catalogue line names the urban-management function
    html = client_for(world.alice).get(f"/cases/{case.tracking_code}/").content.decode()
    assert "由区级城管部门办理 → 甲区城管局" in html and "urban_management" not in html


def test_a_refused_report_back_is_named_in_chinese_with_its_reason(world, units):
    case = walk(reported(), world, units, "handling")
    response = client_for(units.dana).post(f"/cases/{case.tracking_code}/act/report_back/", {"note": ""})
    html = response.content.decode()
    box = html[html.index('id="action-error"'):html.index("</div>", html.index('id="action-error"'))]
    assert response.status_code == 422
    assert "操作未完成（处置反馈）：" in box and "report_back）" not in box
    assert box.count("<li>") >= 1  # the reason is given, not an empty colon


def test_chasing_says_chased_and_supervising_says_supervised(world):
    case = reported()
    c = client_for(world.alice)
    chased = c.post(f"/cases/{case.tracking_code}/act/chase/", {"note": "请尽快"}, follow=True)
    assert "已完成：催办。" in chased.content.decode()
    supervised = c.post(f"/cases/{case.tracking_code}/act/supervise/", {"note": "限期办结"},
                        follow=True)
    assert "已完成：督办。" in supervised.content.decode()


def test_each_step_of_a_summons_is_named_for_itself(world, units):
    case = walk(reported(), world, units, "handling")
    alice, evan = client_for(world.alice), client_for(units.evan)
    alice.post(f"/cases/{case.tracking_code}/act/whistle/", {
        "kind": "hard", "reason": "需要水务协同", "departments": [units.water.code]})
    summons = Whistle.objects.get(case=case).summons.get()
    act = f"/cases/{case.tracking_code}/act/summons/"
    signed = evan.post(act, {"summons": summons.pk, "step": "ack"}, follow=True).content.decode()
    assert "已完成：签收吹哨。" in signed
    answered = evan.post(act, {"summons": summons.pk, "step": "respond", "note": "已派员疏通管道"},
                         follow=True).content.decode()
    assert "已完成：回应吹哨。" in answered
    scored = alice.post(act, {"summons": summons.pk, "step": "score", "score": "90"}, follow=True).content.decode()
    assert "已完成：为部门的响应评分。" in scored and "已完成：回应吹哨。" not in scored
