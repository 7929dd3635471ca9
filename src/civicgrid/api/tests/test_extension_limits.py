"""Issue 13.13: an extension asks for a finite, positive amount no larger than the configured maximum
of its unit (default 10 working days), else 422 naming ``amount``; and nobody approves their own
request (403 with the reason). Through the API here, through the case page in the web tests."""

from __future__ import annotations

import json

import pytest

from civicgrid.api.tests.conftest import at, fresh, post, report
from civicgrid.cases.models import ApprovalRequest
from civicgrid.events import services as ev

pytestmark = pytest.mark.django_db


def handling(world, units):
    """An event being handled by Dana's urban management; its closing deadline counts working days
    (rubbish bins, C0301: 2 working days)."""
    case = report(None, category="C0301", text="小区门口垃圾箱破损").case
    ev.event_register(actor=world.alice, case=fresh(case), now=at(2024, 9, 23, 10, 30))
    ev.event_dispatch(actor=world.alice, case=fresh(case), now=at(2024, 9, 23, 11))
    ev.event_accept(actor=units.dana, case=fresh(case), now=at(2024, 9, 23, 11, 20))
    assert fresh(case).timers.get(kind="handle").unit == "working_days"
    return fresh(case)


def raw_post(client, url, text):
    return client.post(url, text, content_type="application/json")


@pytest.mark.parametrize("amount", ["0", "-3", "11", "1e308", "Infinity", "-Infinity", "NaN", "125000"])
def test_an_extension_outside_one_to_ten_working_days_is_refused_naming_the_amount(client, world, units, amount):
    case = handling(world, units)
    due = case.handling_due_at
    client.force_login(world.alice)
    answer = raw_post(client, f"/api/v1/cases/{case.pk}/requests",
                      f'{{"kind": "extension", "reason": "材料未到", "amount": {amount}}}')
    assert answer.status_code == 422, answer.content
    assert "amount" in answer.json()["error"]["fields"]
    assert not ApprovalRequest.objects.filter(case=case).exists() and fresh(case).handling_due_at == due


def test_ten_working_days_is_the_default_maximum_and_a_setting_changes_it(client, world, units, settings):
    case = handling(world, units)
    client.force_login(units.dana)
    url = f"/api/v1/cases/{case.pk}/requests"
    assert post(client, url, {"kind": "extension", "reason": "材料未到", "amount": 10}).status_code == 201
    ApprovalRequest.objects.filter(case=case).delete()
    settings.CIVICGRID_EXTENSION_MAX = {"working_days": 3}
    refused = post(client, url, {"kind": "extension", "reason": "材料未到", "amount": 4})
    assert refused.status_code == 422 and "3" in json.dumps(refused.json()["error"]["fields"]["amount"])


def test_the_requester_cannot_approve_their_own_extension(client, world, units):
    case = handling(world, units)
    due = case.handling_due_at
    client.force_login(world.alice)
    asked = post(client, f"/api/v1/cases/{case.pk}/requests", {"kind": "extension", "reason": "材料未到", "amount": 2})
    assert asked.status_code == 201
    rid = asked.json()["id"]
    own = post(client, f"/api/v1/cases/{case.pk}/requests/{rid}/decision", {"approve": True})
    assert own.status_code == 403 and own.json()["error"]["code"] == "forbidden"
    assert "本人提出" in own.json()["error"]["message"]
    assert ApprovalRequest.objects.get(pk=rid).state == "pending" and fresh(case).handling_due_at == due
    client.force_login(world.admin_a)  # somebody else decides
    assert post(client, f"/api/v1/cases/{case.pk}/requests/{rid}/decision", {"approve": True}).status_code == 200
    assert fresh(case).handling_due_at > due


def test_an_oversized_request_stored_before_the_limit_is_not_approved(client, world, units):
    case = handling(world, units)
    req = ApprovalRequest.objects.create(case=case, kind="extension", reason="旧请求", amount=125000.0,
                                         unit="working_days", requested_by=units.dana)
    client.force_login(world.alice)
    answer = post(client, f"/api/v1/cases/{case.pk}/requests/{req.pk}/decision", {"approve": True})
    assert answer.status_code == 422 and "amount" in answer.json()["error"]["fields"]
    assert ApprovalRequest.objects.get(pk=req.pk).state == "pending"
    rejected = post(client, f"/api/v1/cases/{case.pk}/requests/{req.pk}/decision", {"approve": False})
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
