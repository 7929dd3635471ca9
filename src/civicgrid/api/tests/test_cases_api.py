"""The cases API: the list with its filters and pages, the detail with the timeline, transitions as
actions, the generic actions, scoping (Alice sees and acts in district A, Bob may look but not
register, Charlie sees nothing of it), tokens and the engine's refusals in the house error format."""

from __future__ import annotations

import pytest

from civicgrid.api.tests.conftest import POINT_B, at, bearer, fresh, jpeg, post, report, token
from civicgrid.cases.models import Case
from civicgrid.events import services as ev
from civicgrid.events.photos import PhotoUpload

pytestmark = pytest.mark.django_db


def ids(response):
    assert response.status_code == 200, response.content
    return [c["id"] for c in response.json()["items"]]


def closed_event(world, units, **fields):
    """An event of district A taken through the loop to ``closed`` by the services."""
    case = report(units.rita, **fields).case
    ev.event_register(actor=world.alice, case=fresh(case), now=at(2024, 9, 23, 10, 30))
    ev.event_dispatch(actor=world.alice, case=fresh(case), now=at(2024, 9, 23, 11))
    ev.event_accept(actor=units.evan, case=fresh(case), now=at(2024, 9, 23, 11, 20))
    ev.event_report_back(actor=units.evan, case=fresh(case), note="已补装", photos=[PhotoUpload("a.jpg", jpeg())],
                         now=at(2024, 9, 23, 14))
    ev.event_verify(actor=world.bob, case=fresh(case), passed=True, note="已整改", now=at(2024, 9, 23, 14, 30))
    return fresh(case)


def test_the_list_shows_my_jurisdiction_only_newest_first(client, world, units):
    a1 = report(None, text="井盖缺失一").case
    a2 = report(None, text="井盖缺失二", now=at(2024, 9, 24, 10)).case
    b = report(None, text="乙区井盖缺失", lon=POINT_B[0], lat=POINT_B[1]).case
    client.force_login(world.alice)
    assert ids(client.get("/api/v1/cases")) == [a2.pk, a1.pk]
    client.force_login(world.charlie)
    assert ids(client.get("/api/v1/cases")) == [b.pk]
    client.logout()
    denied = client.get("/api/v1/cases")
    assert denied.status_code == 401 and denied.json()["error"]["code"] == "unauthenticated"


def test_the_list_filters_by_state_type_category_region_department_channel_dates_and_title(client, world, units):
    manhole = report(None, text="上水井盖缺失").case  # C0101 → the water bureau
    other = report(units.rita, text="路灯不亮", category=None, lon=114.07, lat=22.51,  # the next grid
                   now=at(2024, 9, 25, 9)).case
    ev.event_register(actor=world.alice, case=fresh(manhole), now=at(2024, 9, 23, 11))
    ev.event_dispatch(actor=world.alice, case=fresh(manhole), now=at(2024, 9, 23, 11))
    client.force_login(world.alice)
    get = lambda **q: ids(client.get("/api/v1/cases", q))  # noqa: E731
    assert get(state="dispatched") == [manhole.pk]
    assert get(state="reported,dispatched") == [other.pk, manhole.pk]
    assert get(type="event") == [other.pk, manhole.pk] and get(type="dispute") == []
    parent = manhole.category.parent.code
    assert get(category=parent) == [manhole.pk]  # a category takes in everything below it
    assert get(region="440301001001001") == [manhole.pk]  # Bob's grid
    assert get(region="440301") == [other.pk, manhole.pk] and get(region="440302") == []
    assert get(department="440301-sw") == [manhole.pk] and get(department="440301-cg") == []
    assert get(channel="resident") == [other.pk, manhole.pk]
    assert get(created_from="2024-09-24") == [other.pk] and get(created_to="2024-09-23") == [manhole.pk]
    assert get(q="路灯") == [other.pk]
    assert get(overdue="true") == [other.pk, manhole.pk]  # due in September 2024: long overdue now
    assert get(overdue="false") == []
    bad = client.get("/api/v1/cases", {"category": "NOPE", "channel": "pigeon"})
    assert bad.status_code == 422 and "channel" in bad.json()["error"]["fields"]
    bad = client.get("/api/v1/cases", {"category": "NOPE"})
    assert bad.status_code == 422 and bad.json()["error"]["fields"] == {"category": ["No category NOPE."]}
    bad = client.get("/api/v1/cases", {"created_from": "2024-10-01", "created_to": "2024-09-01"})
    assert bad.status_code == 422 and "created_to" in bad.json()["error"]["fields"]


def test_the_list_comes_in_pages_and_counts_only_when_asked(client, world, units):
    made = [report(None, text=f"井盖缺失{i}", now=at(2024, 9, 23, 10, i)).case.pk for i in range(5)]
    client.force_login(world.alice)
    first = client.get("/api/v1/cases", {"page_size": 2}).json()
    assert [c["id"] for c in first["items"]] == made[::-1][:2]
    assert first["has_next"] is True and first["count"] is None
    last = client.get("/api/v1/cases", {"page_size": 2, "page": 3, "count": "true"}).json()
    assert [c["id"] for c in last["items"]] == [made[0]] and last["has_next"] is False and last["count"] == 5
    bad = client.get("/api/v1/cases", {"page": 0, "page_size": 1000})
    assert bad.status_code == 422 and set(bad.json()["error"]["fields"]) == {"page", "page_size"}


def test_the_detail_has_the_timeline_and_masks_the_reporter(client, world, units):
    case = report(None, reporter_phone="13800138000", reporter_name="王女士").case
    ev.event_register(actor=world.alice, case=fresh(case), note="立案", now=at(2024, 9, 23, 11))
    client.force_login(world.alice)
    body = client.get(f"/api/v1/cases/{case.pk}").json()
    assert body["tracking_code"] == case.tracking_code and body["state"] == "registered"
    assert body["reporter_phone"] != "13800138000" and body["reporter_phone"].startswith("138")
    assert "王女士" not in str(body)
    assert [(s["action"], s["actor"]) for s in body["timeline"]] == [("create", "system"), ("register", "Alice")]
    assert "dispatch" in body["actions"] and {t["kind"] for t in body["timers"]} == {"handle"}
    client.force_login(world.charlie)
    missing = client.get(f"/api/v1/cases/{case.pk}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/cases/999999").status_code == 404


def test_a_transition_is_an_action_and_the_engine_refusals_map_to_403_404_422(client, world, units):
    case = report(None).case
    url = f"/api/v1/cases/{case.pk}/actions"
    client.force_login(world.bob)  # a grid worker sees the case in his grid but may not register it
    refused = post(client, f"{url}/register")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    client.force_login(world.charlie)
    assert post(client, f"{url}/register").status_code == 404
    client.force_login(world.alice)
    done = post(client, f"{url}/register", {"note": "立案"})
    assert done.status_code == 200 and done.json()["state"] == "registered"
    again = post(client, f"{url}/register")  # somebody (here: Alice herself) did it first
    assert again.status_code == 409 and "Alice" in again.json()["error"]["message"]
    wrong_state = post(client, f"{url}/verify", {"note": "x"})
    assert wrong_state.status_code == 422 and wrong_state.json()["error"]["fields"]
    assert post(client, f"{url}/fly").status_code == 404
    unknown = post(client, f"{url}/dispatch", {"department": "nope"})
    assert unknown.status_code == 422 and "department" in unknown.json()["error"]["fields"]
    dispatched = post(client, f"{url}/dispatch", {"department": "440301-sw", "co_departments": ["440301-cg"]})
    assert dispatched.status_code == 200 and dispatched.json()["lead_department"] == "440301-sw"
    client.force_login(units.evan)
    assert post(client, f"{url}/accept").json()["state"] == "handling"
    needs_photo = post(client, f"{url}/report_back", {"note": "已处理"})
    assert needs_photo.status_code == 422 and "photos" in needs_photo.json()["error"]["fields"]  # the body's field


def test_tokens_read_with_read_and_act_with_write(client, world, units):
    case = report(None).case
    reader, writer = token(world.alice, "read"), token(world.alice, "read", "write")
    assert ids(client.get("/api/v1/cases", headers=bearer(reader))) == [case.pk]
    refused = post(client, f"/api/v1/cases/{case.pk}/actions/register", **bearer(reader))
    assert refused.status_code == 403 and "write" in refused.json()["error"]["message"]
    assert post(client, f"/api/v1/cases/{case.pk}/actions/register", **bearer(writer)).status_code == 200
    charlies = token(world.charlie, "read", "write")
    assert client.get(f"/api/v1/cases/{case.pk}", headers=bearer(charlies)).status_code == 404


def test_merge_recall_supervise_and_escalate(client, world, units):
    survivor, dup = report(None).case, report(None, text="又一个井盖缺失").case
    for c in (survivor, dup):
        ev.event_register(actor=world.alice, case=fresh(c), now=at(2024, 9, 23, 11))
    client.force_login(world.alice)
    merged = post(client, f"/api/v1/cases/{survivor.pk}/merge", {"duplicates": [dup.pk], "note": "同一井盖"})
    assert merged.status_code == 200 and fresh(dup).merged_into_id == survivor.pk
    assert post(client, f"/api/v1/cases/{survivor.pk}/merge", {"duplicates": [dup.pk]}).status_code == 422
    assert post(client, f"/api/v1/cases/{survivor.pk}/merge", {"duplicates": []}).status_code == 422

    post(client, f"/api/v1/cases/{survivor.pk}/actions/dispatch", {"department": "440301-sw"})
    recalled = post(client, f"/api/v1/cases/{survivor.pk}/recall", {"note": "派错了"})
    assert recalled.status_code == 200 and recalled.json()["state"] == "registered"
    assert recalled.json()["lead_department"] is None

    chased = post(client, f"/api/v1/cases/{survivor.pk}/supervise", {"kind": "supervise", "note": "请加快"})
    assert chased.status_code == 201 and chased.json()["kind"] == "supervise"
    up = post(client, f"/api/v1/cases/{survivor.pk}/escalate", {"note": "跨街道"})
    assert up.status_code == 200 and up.json()["owner_region"] == "440301"

    client.force_login(world.charlie)
    assert post(client, f"/api/v1/cases/{survivor.pk}/escalate").status_code == 404
    client.force_login(world.bob)
    assert post(client, f"/api/v1/cases/{survivor.pk}/recall").status_code == 403


def test_extension_and_deferral_are_asked_and_decided_and_a_second_decision_is_a_conflict(client, world, units):
    case = report(None).case
    ev.event_register(actor=world.alice, case=fresh(case), now=at(2024, 9, 23, 11))
    ev.event_dispatch(actor=world.alice, case=fresh(case), now=at(2024, 9, 23, 11))
    ev.event_accept(actor=units.evan, case=fresh(case), now=at(2024, 9, 23, 11, 20))
    due = fresh(case).handling_due_at
    client.force_login(units.evan)
    no_amount = post(client, f"/api/v1/cases/{case.pk}/requests", {"kind": "extension", "reason": "材料未到"})
    assert no_amount.status_code == 422 and "amount" in no_amount.json()["error"]["fields"]
    asked = post(client, f"/api/v1/cases/{case.pk}/requests",
                 {"kind": "extension", "reason": "材料未到", "amount": 2})
    assert asked.status_code == 201 and asked.json()["state"] == "pending"
    rid = asked.json()["id"]
    assert post(client, f"/api/v1/cases/{case.pk}/requests/{rid}/decision", {"approve": True}).status_code == 403
    client.force_login(world.alice)
    decided = post(client, f"/api/v1/cases/{case.pk}/requests/{rid}/decision", {"approve": True, "note": "同意"})
    assert decided.status_code == 200 and decided.json()["state"] == "approved"
    assert fresh(case).extended and fresh(case).handling_due_at > due
    twice = post(client, f"/api/v1/cases/{case.pk}/requests/{rid}/decision", {"approve": False})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "conflict"
    assert post(client, f"/api/v1/cases/{case.pk}/requests/999/decision", {"approve": True}).status_code == 404

    client.force_login(units.evan)  # the unit asks; the centre decides (nobody approves their own request)
    deferral = post(client, f"/api/v1/cases/{case.pk}/requests", {"kind": "deferral", "reason": "等待施工"})
    client.force_login(world.alice)
    post(client, f"/api/v1/cases/{case.pk}/requests/{deferral.json()['id']}/decision", {"approve": True})
    assert fresh(case).deferred
    detail = client.get(f"/api/v1/cases/{case.pk}").json()
    assert [r["state"] for r in detail["approval_requests"]] == ["approved", "approved"]
    resumed = post(client, f"/api/v1/cases/{case.pk}/resume", {"note": "恢复"})
    assert resumed.status_code == 200 and resumed.json()["deferred"] is False
    assert post(client, f"/api/v1/cases/{case.pk}/resume").status_code == 422


def test_rate_and_reopen_a_closed_case(client, world, units):
    case = closed_event(world, units)
    client.force_login(world.alice)
    open_one = report(None, text="未结案").case
    assert post(client, f"/api/v1/cases/{open_one.pk}/rate", {"satisfaction": "satisfied"}).status_code == 422
    rated = post(client, f"/api/v1/cases/{case.pk}/rate", {"satisfaction": "basic", "comment": "还行"})
    assert rated.status_code == 201 and rated.json()["satisfaction"] == "basic"
    assert post(client, f"/api/v1/cases/{case.pk}/rate", {"satisfaction": "so-so"}).status_code == 422
    assert post(client, f"/api/v1/cases/{case.pk}/reopen", {"reason": " "}).status_code == 422
    reopened = post(client, f"/api/v1/cases/{case.pk}/reopen", {"reason": "井盖又松了"})
    assert reopened.status_code == 200 and reopened.json()["state"] == "handling"
    assert reopened.json()["reopen_count"] == 1 and Case.objects.get(pk=case.pk).closed_at is None


def test_the_actions_list_says_what_i_may_do_now_and_the_one_way_in_takes_photos(client, world, units):
    import base64

    case = report(None).case
    client.force_login(world.alice)
    offers = {o["name"]: o for o in client.get(f"/api/v1/cases/{case.pk}/actions").json()}
    assert {"register", "reject", "merge", "chase"} <= set(offers) and "accept" not in offers
    assert offers["answer"]["refused"]  # not an enquiry: listed with the guard's reason
    assert offers["reject"]["inputs"] == [{"name": "reason", "kind": "text", "required": True,
                                           "label": offers["reject"]["inputs"][0]["label"], "choices": []}]
    post(client, f"/api/v1/cases/{case.pk}/actions/register")
    dispatch = {o["name"]: o for o in client.get(f"/api/v1/cases/{case.pk}/actions").json()}["dispatch"]
    department = next(i for i in dispatch["inputs"] if i["name"] == "department")
    assert not department["required"]  # the suggested department is the default
    assert ["440301-sw", "甲区水务局"] in department["choices"] and all(
        not code.startswith("440302") for code, _label in department["choices"])
    post(client, f"/api/v1/cases/{case.pk}/actions/dispatch")
    client.force_login(world.charlie)
    assert client.get(f"/api/v1/cases/{case.pk}/actions").status_code == 404
    client.force_login(units.evan)
    post(client, f"/api/v1/cases/{case.pk}/actions/accept")
    photo = {"name": "a.jpg", "content_base64": base64.b64encode(jpeg()).decode()}
    bad = post(client, f"/api/v1/cases/{case.pk}/actions/report_back",
               {"note": "已补装", "photos": [{"name": "a.jpg", "content_base64": "%%%"}]})
    assert bad.status_code == 422 and "photos.0" in bad.json()["error"]["fields"]
    done = post(client, f"/api/v1/cases/{case.pk}/actions/report_back", {"note": "已补装", "photos": [photo]})
    assert done.status_code == 200 and done.json()["state"] == "verifying"
    asked = post(client, f"/api/v1/cases/{case.pk}/actions/request_extension",
                 {"kind": "extension", "reason": "材料未到", "amount": "many"})
    assert asked.status_code == 422 and "amount" in asked.json()["error"]["fields"]
    client.force_login(world.alice)
    chased = post(client, f"/api/v1/cases/{case.pk}/actions/chase", {"note": "请尽快核查"})
    assert chased.status_code == 200 and fresh(case).supervisions.filter(kind="chase").exists()
