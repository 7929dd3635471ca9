"""The department's and the grid worker's pages: my cases, accept, dispute, report back with a
photo, ask for an extension; my grid, my tasks, verify with a photo, patrol report; photos served
only to those who may see the case."""

from __future__ import annotations

import io

import pytest

from civicgrid.cases.models import ApprovalRequest, Case
from civicgrid.web.tests.conftest import POINT_A, client_for, fresh, jpeg, reported, walk

pytestmark = pytest.mark.django_db


def photo():
    f = io.BytesIO(jpeg())
    f.name = "fixed.jpg"
    return f


def test_the_department_sees_what_was_dispatched_to_it_and_accepts(world, units):
    case = walk(reported(), world, units, "dispatched")
    dana = client_for(units.dana)
    assert case.tracking_code in dana.get("/department/?state=dispatched").content.decode()
    assert case.tracking_code not in client_for(units.evan).get("/department/").content.decode()
    assert dana.post(f"/cases/{case.tracking_code}/act/accept/").status_code == 302
    assert fresh(case).state == "handling"


def test_another_department_cannot_reach_the_case(world, units):
    case = walk(reported(), world, units, "dispatched")
    assert client_for(units.evan).get(f"/cases/{case.tracking_code}/").status_code == 404
    assert client_for(units.evan).post(f"/cases/{case.tracking_code}/act/accept/").status_code == 404


def test_the_department_disputes_a_dispatch_with_a_reason(world, units):
    case = walk(reported(), world, units, "dispatched")
    dana = client_for(units.dana)
    assert dana.post(f"/cases/{case.tracking_code}/act/dispute/", {"reason": ""}).status_code == 422
    assert dana.post(f"/cases/{case.tracking_code}/act/dispute/", {"reason": "不属于城管职责"}).status_code == 302
    assert fresh(case).state == "review"
    assert case.tracking_code in client_for(world.alice).get("/centre/?queue=disputed").content.decode()


def test_a_report_back_needs_a_photo_and_then_waits_for_the_check(world, units):
    case = walk(reported(), world, units, "handling")
    dana = client_for(units.dana, lang="en")
    refused = dana.post(f"/cases/{case.tracking_code}/act/report_back/", {"note": "已更换"})
    assert refused.status_code == 422 and fresh(case).state == "handling"
    done = dana.post(f"/cases/{case.tracking_code}/act/report_back/", {"note": "已更换", "photos": photo()})
    assert done.status_code == 302 and fresh(case).state == "verifying"


def test_the_department_asks_for_an_extension_and_the_centre_approves(world, units):
    case = walk(reported(), world, units, "handling")
    dana = client_for(units.dana)
    ask = f"/cases/{case.tracking_code}/act/request_extension/"
    assert dana.post(ask, {"kind": "extension", "amount": "x", "reason": "r"}).status_code == 422
    assert dana.post(ask, {"kind": "extension", "amount": "2", "reason": "需要采购配件"}).status_code == 302
    req = ApprovalRequest.objects.get(case=case)
    alice = client_for(world.alice)
    assert "需要采购配件" in alice.get(f"/cases/{case.tracking_code}/").content.decode()
    decided = alice.post(f"/cases/{case.tracking_code}/act/decide_extension/",
                         {"request": req.pk, "decision": "approve"})
    assert decided.status_code == 302
    assert fresh(case).extended
    unknown = client_for(world.alice).post(f"/cases/{case.tracking_code}/act/decide_extension/",
                                           {"request": 999999, "decision": "approve"})
    assert unknown.status_code == 422 and list(unknown.context["errors"]) == ["request"]


def test_the_grid_worker_sees_the_open_cases_of_the_grid_on_a_map(world, units):
    case = reported()
    html = client_for(world.bob).get("/grid/").content.decode()
    assert case.tracking_code in html and 'id="my-grids"' in html and "440301001001001" in html


def test_the_grid_worker_verifies_with_a_photo_from_my_tasks(world, units):
    case = walk(reported(), world, units, "verifying")
    bob = client_for(world.bob)
    assert case.tracking_code in bob.get("/grid/tasks/").content.decode()
    response = bob.post(f"/cases/{case.tracking_code}/act/verify/",
                        {"note": "现场已修复", "photos": photo(), "next": "/grid/tasks/"})
    assert response.status_code == 302 and response["Location"] == "/grid/tasks/"
    stored = fresh(case)
    assert stored.state == "closed"
    attachment = stored.timeline.filter(action="verify").get().attachments[0]
    assert 'id="no-tasks"' in bob.get("/grid/tasks/").content.decode()
    assert bob.get(f"/cases/{case.tracking_code}/photos/{attachment['sha256']}/").status_code == 200
    assert client_for(world.charlie).get(
        f"/cases/{case.tracking_code}/photos/{attachment['sha256']}/").status_code == 404
    assert bob.get(f"/cases/{case.tracking_code}/photos/{'0' * 64}/").status_code == 404


def test_a_retried_verify_with_the_same_key_is_answered_once(world, units):
    case = walk(reported(), world, units, "verifying")
    bob = client_for(world.bob)
    data = {"note": "现场已修复", "idempotency_key": "verify-1"}
    first = bob.post(f"/cases/{case.tracking_code}/act/verify/", {**data, "photos": photo()})
    again = bob.post(f"/cases/{case.tracking_code}/act/verify/", {**data, "photos": photo()})
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    assert fresh(case).timeline.filter(action="verify").count() == 1


def test_a_failed_check_sends_it_back(world, units):
    case = walk(reported(), world, units, "verifying")
    bob = client_for(world.bob)
    assert bob.post(f"/cases/{case.tracking_code}/act/verify_fail/", {"reason": ""}).status_code == 422
    assert bob.post(f"/cases/{case.tracking_code}/act/verify_fail/", {"reason": "仍有垃圾"}).status_code == 302
    assert fresh(case).state == "handling"


def test_the_patrol_report_comes_in_on_the_patrol_channel(world):
    bob = client_for(world.bob)
    assert bob.get("/grid/patrol/").status_code == 200
    response = bob.post("/grid/patrol/", {"text": "路灯不亮", "category": "C0109", "lon": POINT_A[0],
                                          "lat": POINT_A[1]})
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.tracking_code}/"
    assert case.channel == "patrol" and case.reporter == world.bob
    assert bob.post("/grid/patrol/", {"text": ""}).status_code == 422


def test_the_patrol_report_lands_on_its_case_page_with_a_confirmation_naming_its_tracking_code(world):
    bob = client_for(world.bob)
    response = bob.post("/grid/patrol/", {"text": "路灯不亮", "category": "C0109", "lon": POINT_A[0],
                                          "lat": POINT_A[1]}, follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    case = Case.objects.get()
    assert response.redirect_chain[-1][0] == f"/cases/{case.tracking_code}/"
    assert f"巡查上报已提交，编号 {case.tracking_code}，已进入中心的待办。" in response.content.decode()
