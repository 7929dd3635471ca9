"""Parties through the API (当事人): the list is masked; a reveal is a POST with a purpose, for the
roles the case type declares (403), within the user's jurisdiction (404), audited; a search by
name, identity number or phone is a POST only (GET 405), audited, and finds only cases the user may
see. The event's one party is its reporter."""

from __future__ import annotations

import json

import pytest

from civicgrid.api.tests.conftest import bearer, fresh, post, report, token
from civicgrid.audit.models import AuditEntry
from civicgrid.events import services as ev

pytestmark = pytest.mark.django_db

PHONE = "13800138000"


@pytest.fixture
def event(world, units):
    case = report(world.alice, channel="hotline", request_type="投诉", reporter_name="王女士",
                  reporter_phone=PHONE).case
    return case


def _parties(client, case):
    return client.get(f"/api/v1/cases/{case.pk}/parties")


def test_the_reporter_is_listed_masked_with_what_i_may_reveal(client, world, event):
    client.force_login(world.alice)
    body = _parties(client, event).json()
    [reporter] = body["parties"]
    assert reporter["kind"] == "reporter" and reporter["phone"] == "138****8000" and reporter["name"] == "王**"
    assert reporter["revealable"] == ["name", "phone"] and body["can_edit"] and body["kinds"] == []
    assert PHONE not in json.dumps(body, ensure_ascii=False) and "王女士" not in json.dumps(body, ensure_ascii=False)
    client.force_login(world.bob)  # the grid worker sees the event, may reveal nothing
    assert _parties(client, event).json()["parties"][0]["revealable"] == []
    client.force_login(world.charlie)
    assert _parties(client, event).status_code == 404


def test_a_dispatcher_reveals_the_phone_to_call_back_with_a_purpose_and_an_audit_row(client, world, event):
    client.force_login(world.alice)
    pid = _parties(client, event).json()["parties"][0]["id"]
    url = f"/api/v1/cases/{event.pk}/parties/{pid}/reveal"
    shown = post(client, url, {"field": "phone", "purpose": "回电告知处理进展"})
    assert shown.status_code == 200 and shown.json() == {"field": "phone", "value": PHONE}
    [row] = AuditEntry.objects.filter(action="privacy.reveal")
    assert row.actor_id == world.alice.pk and row.extra == {"field": "phone", "purpose": "回电告知处理进展"}
    missing = post(client, url, {"field": "phone"})
    assert missing.status_code == 422 and "purpose" in missing.json()["error"]["fields"]
    unknown = post(client, url, {"field": "password", "purpose": "回电告知处理进展"})
    assert unknown.status_code == 422 and "field" in str(unknown.json()["error"]["fields"])
    assert AuditEntry.objects.filter(action="privacy.reveal").count() == 1


def test_the_department_holding_the_event_may_reveal_the_wrong_role_and_outsiders_may_not(client, world, units,
                                                                                          event):
    ev.event_register(actor=world.alice, case=fresh(event), note="立案")
    ev.event_dispatch(actor=world.alice, case=fresh(event), department=units.water)
    pid = event.parties.get().pk
    url = f"/api/v1/cases/{event.pk}/parties/{pid}/reveal"
    body = {"field": "phone", "purpose": "回电核实井盖位置"}
    client.force_login(units.evan)  # the water bureau's handler: his department holds it
    assert post(client, url, body).json()["value"] == PHONE
    client.force_login(units.dana)  # urban management does not hold it: not in her scope
    assert post(client, url, body).status_code == 404
    client.force_login(world.bob)  # a grid worker sees the event, but the type does not let him reveal
    refused = post(client, url, body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    client.force_login(world.charlie)
    assert post(client, url, body).status_code == 404
    assert [r.actor_id for r in AuditEntry.objects.filter(action="privacy.reveal")] == [units.evan.pk]


def test_the_search_is_a_post_audited_and_scoped(client, world, event):
    client.force_login(world.alice)
    assert client.get("/api/v1/cases/parties/search", {"value": PHONE}).status_code == 405
    found = post(client, "/api/v1/cases/parties/search", {"value": "138 0013 8000", "field": "phone"})
    assert found.status_code == 200
    [hit] = found.json()
    assert hit["case_id"] == event.pk and hit["tracking_code"] == event.tracking_code
    assert hit["party"]["phone"] == "138****8000"
    by_name = post(client, "/api/v1/cases/parties/search", {"value": "王女士"}).json()
    assert [h["case_id"] for h in by_name] == [event.pk]
    client.force_login(world.charlie)
    assert post(client, "/api/v1/cases/parties/search", {"value": PHONE}).json() == []
    rows = AuditEntry.objects.filter(action="privacy.search").order_by("id")
    assert [r.actor_id for r in rows] == [world.alice.pk, world.alice.pk, world.charlie.pk]
    assert PHONE not in json.dumps([r.extra for r in rows]) and "王女士" not in json.dumps(
        [r.extra for r in rows], ensure_ascii=False)
    bad = post(client, "/api/v1/cases/parties/search", {"value": PHONE, "field": "address"})
    assert bad.status_code == 422 and "field" in str(bad.json()["error"]["fields"])


def test_adding_a_party_takes_only_the_kinds_the_type_uses_and_the_declared_roles(client, world, event):
    client.force_login(world.alice)
    url = f"/api/v1/cases/{event.pk}/parties"
    refused = post(client, url, {"kind": "applicant", "name": "张三"})  # an event has no applicants
    assert refused.status_code == 422 and "kind" in refused.json()["error"]["fields"]
    extra = post(client, url, {"kind": "reporter", "name": "张三", "password": "x"})
    assert extra.status_code == 422
    client.force_login(world.bob)
    assert post(client, url, {"kind": "reporter", "name": "张三"}).status_code == 403
    client.force_login(world.charlie)
    assert post(client, url, {"kind": "reporter", "name": "张三"}).status_code == 404
    assert event.parties.count() == 1


def test_correcting_the_reporters_phone_through_the_api(client, world, event):
    client.force_login(world.alice)
    pid = event.parties.get().pk
    changed = post(client, f"/api/v1/cases/{event.pk}/parties/{pid}", {"phone": "13900139000"})
    assert changed.status_code == 200 and changed.json()["phone"] == "139****9000"
    assert fresh(event).reporter_phone == "13900139000"
    bad = post(client, f"/api/v1/cases/{event.pk}/parties/{pid}", {"phone": "12"})
    assert bad.status_code == 422 and "phone" in bad.json()["error"]["fields"]


def test_a_token_user_is_held_to_the_same_rules(client, world, event):
    pid = event.parties.get().pk
    url = f"/api/v1/cases/{event.pk}/parties/{pid}/reveal"
    body = {"field": "phone", "purpose": "回电核实情况"}
    assert post(client, url, body, **bearer(token(world.bob, "read", "write"))).status_code == 403  # his role
    assert post(client, url, body, **bearer(token(world.alice, "read"))).status_code == 403  # the scope
    shown = post(client, url, body, **bearer(token(world.alice, "read", "write")))
    assert shown.status_code == 200 and shown.json()["value"] == PHONE
