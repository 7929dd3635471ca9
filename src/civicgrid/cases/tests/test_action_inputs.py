"""Every input a type declares reaches the engine through every door, typed and checked: the API
carries a type's own fields (and refuses fields the action does not declare), targets of any name
(department, region, case) are scope-checked before any effect runs and written to the timeline as
codes, malformed case references are 422 naming the field, and uploads of any name are stored only
once the step is allowed. A small type declared here (HANDOVER) names its inputs its own way."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from django.http import Http404

from civicgrid.cases import registry
from civicgrid.cases.errors import TransitionNotAllowed, TransitionRefused
from civicgrid.cases.models import TimelineEntry
from civicgrid.cases.registry import SYSTEM, CaseType, Guard, Input, Transition
from civicgrid.cases.rules import case_act
from civicgrid.cases.tests.conftest import POINT_A, POINT_B, at, fresh
from civicgrid.org.models import Role

pytestmark = pytest.mark.django_db

T0 = at(2024, 9, 23, 10)
CENTRE = frozenset({Role.DISPATCHER, Role.ADMIN, SYSTEM})
STORED: list[str] = []  # the names of the uploads the type's stores wrote
EFFECTS: list[dict[str, Any]] = []  # what the note_it effect was given


def _store(uploads: Sequence[Any]) -> list[dict[str, Any]]:
    """Stores that set no ``kind`` key: the engine must know photos from files by the input."""
    STORED.extend(u.name for u in uploads)
    return [{"name": u.name, "size": len(u.content)} for u in uploads]


def _note_it(ctx: Any) -> None:
    EFFECTS.append(dict(ctx.data))


HANDOVER = CaseType(
    code="handover",
    label="handover",
    states={"new": "new", "working": "working", "done": "done", "merged": "merged"},
    initial="new",
    closed_states=frozenset({"done"}),
    transitions={
        "note_it": Transition("note_it", ("new", "working"), None, CENTRE, label="note it", effect=_note_it,
                              inputs=(Input("handover", "department"), Input("area", "region"),
                                      Input("related", "case"), Input("hours", "number"))),
        "sign": Transition("sign", ("new",), "working", CENTRE, label="sign",
                           inputs=(Input("agreement", "files", required=True), Input("evidence", "photos")),
                           guards=(Guard(lambda case, detail, actor: not case.title.startswith("!"),
                                         "Not with a title like that."),)),
        "close": Transition("close", ("working",), "done", CENTRE, label="close", closes=True, requires=("note",)),
    },
    photo_store=_store,
    file_store=_store,
)


@pytest.fixture(autouse=True)
def handover_type() -> Iterator[CaseType]:
    registry.register(HANDOVER)
    STORED.clear()
    EFFECTS.clear()
    yield HANDOVER
    registry.unregister(HANDOVER.code)


def handover_create(actor: Any, point: tuple[float, float] = POINT_A, title: str = "交接") -> Any:
    from civicgrid.cases.services import Location, case_create

    return case_create(actor=actor, case_type="handover", location=Location(lon=point[0], lat=point[1]),
                       title=title, now=T0)


def act(client: Any, case: Any, action: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1/cases/{case.pk}/actions/{action}", data=json.dumps(body),
                       content_type="application/json")


def fields_of(response: Any) -> dict[str, list[str]]:
    return response.json()["error"]["fields"]


# --- malformed case references (review #4) ---------------------------------------------------------


@pytest.mark.parametrize("bad", ["²", "99999999999999999999999", 0, -5, "a b", "x" * 40])
def test_a_malformed_case_reference_is_422_naming_the_field(client, cast, bad):
    case = handover_create(cast.bob)
    client.force_login(cast.alice)
    r = act(client, case, "merge", {"duplicates": [bad]})
    assert r.status_code == 422, r.content
    assert {k.split(".")[0] for k in fields_of(r)} == {"duplicates"}
    with pytest.raises(TransitionNotAllowed) as exc:  # the page's way in: the same parser
        case_act(actor=cast.alice, case=case, action="note_it", data={"related": bad})
    assert list(exc.value.message_dict) == ["related"]
    assert fresh(case).state == "new" and EFFECTS == []


# --- the API carries every declared input (review #1) ------------------------------------------------


def test_the_api_carries_a_types_own_fields_to_the_engine(client, cast, units, calendar_2024):
    from civicgrid.cases.testing import register_drill

    register_drill()
    from civicgrid.cases.tests.conftest import drill_create

    case = drill_create(cast.bob, now=T0)
    client.force_login(cast.alice)
    assert act(client, case, "dispatch", {"department": "440301-cg"}).status_code == 200
    client.force_login(units.dana)
    assert act(client, case, "accept", {}).status_code == 200
    r = act(client, case, "finish", {"note": "done", "hours": "abc"})
    assert r.status_code == 422 and list(fields_of(r)) == ["hours"]
    assert fresh(case).state == "handling"
    r = act(client, case, "finish", {"note": "done", "hours": 1.5})
    assert r.status_code == 200, r.content
    entry = TimelineEntry.objects.filter(case=case, action="finish").get()
    assert entry.data == {"hours": 1.5}


def test_a_field_the_action_does_not_declare_is_refused_naming_it(client, cast):
    case = handover_create(cast.bob)
    client.force_login(cast.alice)
    r = act(client, case, "note_it", {"note": "x", "handvoer": "440301-cg"})
    assert r.status_code == 422 and list(fields_of(r)) == ["handvoer"]
    r = act(client, case, "chase", {"note": "x", "reason": "not an input of chase"})
    assert r.status_code == 422 and list(fields_of(r)) == ["reason"]
    assert not TimelineEntry.objects.filter(case=case, action__in=("note_it", "chase")).exists()
    assert act(client, case, "chase", {"note": "快点", "reason": ""}).status_code == 200  # empty: as not sent


def test_the_openapi_schema_still_describes_the_action_body(client, cast):
    client.force_login(cast.alice)
    spec = client.get("/api/v1/openapi.json").json()
    body = spec["paths"]["/api/v1/cases/{case_id}/actions/{action}"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    schema = spec["components"]["schemas"][ref]
    assert {"note", "department", "photos", "duplicates"} <= set(schema["properties"])
    assert schema.get("additionalProperties") is True


# --- targets of any name are scope-checked before the effect, and kept as codes (review #2) ----------


@pytest.fixture
def district_b_unit(cast):
    from civicgrid.org.services import department_create

    return department_create(actor=None, code="440302-cg", name="乙区城管局", region=cast.city.b,
                             function="urban_management")


def test_a_target_of_the_types_own_name_outside_my_reach_is_404_and_no_effect_runs(client, cast, units,
                                                                                  district_b_unit):
    case = handover_create(cast.bob)
    client.force_login(cast.alice)
    elsewhere = handover_create(cast.charlie, point=POINT_B)
    for body in ({"handover": "440302-cg"}, {"area": "440301002"}, {"area": "440302001"},
                 {"related": elsewhere.tracking_code}, {"related": elsewhere.pk}):
        r = act(client, case, "note_it", body)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (body, r.content)
        with pytest.raises(Http404):  # the page's way in: the same refusal
            case_act(actor=cast.alice, case=fresh(case), action="note_it", data=body)
    assert EFFECTS == []
    assert not TimelineEntry.objects.filter(case=case, action="note_it").exists()


def test_a_target_of_the_types_own_name_in_reach_is_written_as_its_code(client, cast, units):
    case = handover_create(cast.bob)
    other = handover_create(cast.bob)
    client.force_login(cast.alice)
    r = act(client, case, "note_it", {"handover": "440301-cg", "area": "440301001", "related": other.tracking_code,
                                      "hours": 2})
    assert r.status_code == 200, r.content
    assert EFFECTS[0]["handover"] == units.urban  # the effect gets the checked department
    entry = TimelineEntry.objects.get(case=case, action="note_it")
    assert entry.data == {"handover": "440301-cg", "area": "440301001", "related": [other.tracking_code],
                          "hours": 2.0}


# --- a merged or closed case is not resumed (review #6) ----------------------------------------------


def deferred_drill(cast, units):
    from civicgrid.cases.models import ApprovalRequest
    from civicgrid.cases.tests.conftest import drill_create

    case = drill_create(cast.bob, now=T0)
    case_act(actor=cast.alice, case=case, action="dispatch", data={"department": "440301-cg"}, now=T0)
    case_act(actor=units.dana, case=fresh(case), action="accept", data={}, now=T0)
    case_act(actor=units.dana, case=fresh(case), action="request_extension",
             data={"kind": "deferral", "reason": "等待审批"}, now=T0)
    req = ApprovalRequest.objects.get(case=case)
    case_act(actor=cast.alice, case=fresh(case), action="decide_extension",
             data={"request": str(req.pk), "decision": "approve"}, now=T0)
    assert fresh(case).deferred
    return fresh(case)


def test_a_merged_case_ends_its_deferral_and_is_not_offered_or_allowed_resume(client, cast, units, calendar_2024):
    from civicgrid.cases.rules import case_actions
    from civicgrid.cases.services import case_resume
    from civicgrid.cases.tests.conftest import drill_create

    case = deferred_drill(cast, units)
    survivor = drill_create(cast.bob, now=T0)
    case_act(actor=cast.alice, case=survivor, action="merge", data={"duplicates": [case.tracking_code]}, now=T0)
    merged = fresh(case)
    assert merged.merged_into_id == survivor.pk and not merged.deferred
    assert "resume" not in [o.name for o in case_actions(cast.alice, merged)]
    # a case merged while deferred before this fix: still refused, by the service and the API
    type(merged).objects.filter(pk=merged.pk).update(deferred=True)
    merged = fresh(case)
    assert "resume" not in [o.name for o in case_actions(cast.alice, merged)]
    with pytest.raises(TransitionNotAllowed):
        case_resume(actor=cast.alice, case=merged)
    client.force_login(cast.alice)
    r = act(client, merged, "resume", {})
    assert r.status_code == 422 and list(fields_of(r)) == ["action"]
    assert fresh(case).handling_due_at == merged.handling_due_at


# --- uploads of any name, stored only once the step is allowed (review #3, #10) -----------------------


def b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


def test_uploads_of_the_types_own_names_through_the_api(client, cast):
    case = handover_create(cast.bob)
    client.force_login(cast.alice)
    r = act(client, case, "sign", {"evidence": [{"name": "p.jpg", "content_base64": b64("jpg")}]})
    assert r.status_code == 422 and list(fields_of(r)) == ["agreement"]  # a photo is not the agreement
    r = act(client, case, "sign", {"agreement": "not a list"})
    assert r.status_code == 422 and list(fields_of(r)) == ["agreement"]
    r = act(client, case, "sign", {"agreement": [{"name": "a.pdf", "content_base64": b64("pdf")}],
                                   "evidence": [{"name": "p.jpg", "content_base64": b64("jpg")}]})
    assert r.status_code == 200, r.content
    entry = TimelineEntry.objects.get(case=case, action="sign")
    assert sorted(a["name"] for a in entry.attachments) == ["a.pdf", "p.jpg"]
    assert sorted(STORED) == ["a.pdf", "p.jpg"]


def test_case_act_takes_uploads_by_input_name_or_for_the_one_input_of_the_kind(cast):
    from civicgrid.core.inputs import Upload

    case = handover_create(cast.bob)
    case_act(actor=cast.alice, case=case, action="sign", data={}, files={"agreement": [Upload("a.pdf", b"%PDF")]},
             photos={"evidence": [Upload("p.jpg", b"jpg")]})
    assert fresh(case).state == "working" and sorted(STORED) == ["a.pdf", "p.jpg"]
    other = handover_create(cast.bob)
    case_act(actor=cast.alice, case=other, action="sign", data={}, files=[Upload("b.pdf", b"%PDF")])
    assert fresh(other).state == "working"
    third = handover_create(cast.bob)
    with pytest.raises(TransitionNotAllowed) as exc:
        case_act(actor=cast.alice, case=third, action="sign", data={}, photos={"agreement2": [Upload("x", b"x")]})
    assert list(exc.value.message_dict) == ["agreement2"]


def test_a_refused_step_stores_no_upload(client, cast, units):
    from civicgrid.core.inputs import Upload

    files = {"agreement": [Upload("a.pdf", b"%PDF")]}
    case = handover_create(cast.bob)
    with pytest.raises(TransitionRefused):  # Bob's role may not sign
        case_act(actor=cast.bob, case=case, action="sign", data={}, files=files)
    guarded = handover_create(cast.bob, title="!交接")
    with pytest.raises(TransitionNotAllowed):  # the guard refuses
        case_act(actor=cast.alice, case=guarded, action="sign", data={}, files=files)
    assert STORED == []
    case_act(actor=cast.alice, case=case, action="sign", data={}, files=files)
    STORED.clear()
    client.force_login(cast.alice)
    r = act(client, case, "sign", {"agreement": [{"name": "again.pdf", "content_base64": b64("pdf")}]})
    assert r.status_code in (409, 422)  # signed already: the state refuses it
    assert STORED == []


# --- one rule each (review #9) ------------------------------------------------------------------------


def test_nobody_decides_their_own_request_approve_or_reject(cast, units, calendar_2024):
    from civicgrid.cases.models import ApprovalRequest
    from civicgrid.cases.services import case_decide_approval
    from civicgrid.cases.tests.conftest import drill_create

    case = drill_create(cast.bob, now=T0)
    case_act(actor=cast.alice, case=case, action="request_extension",
             data={"kind": "deferral", "reason": "等待审批"}, now=T0)
    req = ApprovalRequest.objects.get(case=case)
    for approve in (True, False):
        with pytest.raises(TransitionRefused):
            case_decide_approval(actor=cast.alice, request=req, approve=approve)
    assert ApprovalRequest.objects.get(pk=req.pk).state == ApprovalRequest.State.PENDING
    case_decide_approval(actor=cast.admin_a, request=req, approve=False)
    assert ApprovalRequest.objects.get(pk=req.pk).state == ApprovalRequest.State.REJECTED


def test_rate_declares_what_it_reads_and_the_api_carries_it(client, cast, units, calendar_2024):
    from civicgrid.cases.models import Rating
    from civicgrid.cases.rules import case_actions
    from civicgrid.cases.tests.conftest import drill_create

    case = drill_create(cast.bob, now=T0)
    case_act(actor=cast.alice, case=case, action="reject", data={"reason": "重复"}, now=T0)
    rate = {o.name: o for o in case_actions(cast.alice, fresh(case))}["rate"]
    assert {"satisfaction", "contacted", "resolved", "valid"} <= {i.name for i in rate.inputs}
    client.force_login(cast.alice)
    r = act(client, case, "rate", {"satisfaction": "basic", "contacted": False, "resolved": True})
    assert r.status_code == 200, r.content
    rating = Rating.objects.get(case=case)
    assert rating.contacted is False and rating.resolved is True


def test_the_detail_lists_what_this_user_may_do(client, cast, units):
    from civicgrid.cases.tests.conftest import drill_create

    case = drill_create(cast.bob, now=T0)
    client.force_login(cast.alice)
    assert "dispatch" in client.get(f"/api/v1/cases/{case.pk}").json()["actions"]
    client.force_login(cast.bob)  # the grid worker sees the case but does not dispatch it
    assert "dispatch" not in client.get(f"/api/v1/cases/{case.pk}").json()["actions"]


def test_the_parser_accepts_only_the_region_levels_offered(cast):
    from civicgrid.cases.rules import case_actions

    case = handover_create(cast.bob)
    offered = {o.name: o for o in case_actions(cast.alice, case)}["note_it"]
    area = {i.name: i for i in offered.inputs}["area"]
    assert "440301001001" not in [c[0] for c in area.choices]  # a community is not offered
    with pytest.raises(TransitionNotAllowed) as exc:
        case_act(actor=cast.alice, case=case, action="note_it", data={"area": "440301001001"})
    assert list(exc.value.message_dict) == ["area"]
