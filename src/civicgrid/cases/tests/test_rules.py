"""The rulebook as interfaces read it: ``rules.case_actions`` offers, ``rules.case_act`` performs
(typed input 422 naming the field, guards 422 with their reason, roles 403, targets 404)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from civicgrid.cases.errors import TransitionNotAllowed, TransitionRefused, UnknownAction
from civicgrid.cases.models import ApprovalRequest, Supervision
from civicgrid.cases.rules import case_act, case_actions
from civicgrid.cases.tests.conftest import at, drill_create, fresh

pytestmark = pytest.mark.django_db

T0 = at(2024, 9, 23, 10)


def names(offers):
    return [o.name for o in offers]


def fields(exc: ValidationError) -> dict[str, list[str]]:
    return {k: [m for e in v for m in e.messages] for k, v in exc.error_dict.items()}


def test_a_dispatcher_is_offered_the_new_drills_steps_with_their_inputs_and_targets(cast, units):
    case = drill_create(cast.bob, now=T0)
    offers = {o.name: o for o in case_actions(cast.alice, case)}
    assert set(offers) >= {"dispatch", "reject", "merge", "supervise", "chase"}
    assert "accept" not in offers and "finish" not in offers and "reopen" not in offers
    dispatch = {i.name: i for i in offers["dispatch"].inputs}
    assert dispatch["department"].required and dispatch["department"].kind == "department"
    assert ("440301-cg", "甲区城管局") in dispatch["department"].choices
    assert {i.name: i.required for i in offers["reject"].inputs} == {"reason": True}
    assert case_actions(units.dana, case) == []  # nothing of her department's yet


def test_case_act_dispatches_by_code_and_the_handler_may_then_accept(cast, units):
    case = drill_create(cast.bob, now=T0)
    case = case_act(actor=cast.alice, case=case, action="dispatch", data={"department": "440301-cg"}, now=T0)
    assert case.state == "dispatched" and case.lead_department == units.urban
    assert "accept" in names(case_actions(units.dana, fresh(case)))
    assert "accept" not in names(case_actions(units.evan, fresh(case)))
    case = case_act(actor=units.dana, case=fresh(case), action="accept", data={}, now=T0)
    assert case.state == "handling"
    # accepted: the accept step stays possible in "handling" for a co-handling unit, but a guard
    # refuses it to Dana's unit, which has nothing waiting
    accept = {o.name: o for o in case_actions(units.dana, fresh(case))}["accept"]
    assert accept.refused == "There is no assignment of yours in that state."
    with pytest.raises(TransitionNotAllowed) as exc:
        case_act(actor=units.dana, case=fresh(case), action="accept", data={})
    assert fields(exc.value) == {"action": ["There is no assignment of yours in that state."]}


def test_bad_typed_input_is_refused_naming_the_field(cast, units):
    case = drill_create(cast.bob, now=T0)
    with pytest.raises(TransitionNotAllowed) as exc:
        case_act(actor=cast.alice, case=case, action="dispatch", data={"department": "no-such"})
    assert list(fields(exc.value)) == ["department"]
    with pytest.raises(TransitionNotAllowed) as exc:
        case_act(actor=cast.alice, case=case, action="reject", data={"reason": ["a", "b"]})
    assert list(fields(exc.value)) == ["reason"]
    with pytest.raises(TransitionNotAllowed) as exc:
        case_act(actor=cast.alice, case=case, action="reject", data={"reason": "  "})
    assert fields(exc.value) == {"reason": ["This action needs a reason."]}
    with pytest.raises(TransitionNotAllowed) as exc:
        case_act(actor=cast.alice, case=case, action="reject", data={"reason": "x"}, photos=[object()])
    assert list(fields(exc.value)) == ["photos"]
    assert fresh(case).state == "new"


def test_roles_targets_and_unknown_actions(cast, units):
    case = drill_create(cast.bob, now=T0)
    with pytest.raises(TransitionRefused):  # Bob, the grid worker, sees it but does not dispatch
        case_act(actor=cast.bob, case=case, action="dispatch", data={"department": "440301-cg"})
    with pytest.raises(Http404):  # Rita, a resident, does not see Bob's report
        case_act(actor=units.rita, case=case, action="dispatch", data={"department": "440301-cg"})
    with pytest.raises(Http404):  # Charlie's street is another district's: he does not see it
        case_act(actor=cast.charlie, case=case, action="dispatch", data={"department": "440301-cg"})
    with pytest.raises(UnknownAction):
        case_act(actor=cast.alice, case=case, action="fly", data={})
    assert case_actions(cast.charlie, case) == []


def test_a_guard_refuses_with_its_reason(cast, units):
    case = drill_create(cast.bob, now=T0, title="!不可结案")
    case = case_act(actor=cast.alice, case=case, action="dispatch", data={"department": "440301-cg"}, now=T0)
    case = case_act(actor=units.dana, case=fresh(case), action="accept", data={}, now=T0)
    finish = {o.name: o for o in case_actions(units.dana, fresh(case))}["finish"]
    assert finish.refused == "A drill titled with ! cannot be finished."
    with pytest.raises(TransitionNotAllowed) as exc:
        case_act(actor=units.dana, case=fresh(case), action="finish", data={"note": "好了"})
    assert fields(exc.value) == {"action": ["A drill titled with ! cannot be finished."]}
    assert fresh(case).state == "handling"


def test_the_generic_actions_through_the_one_way_in(cast, units, calendar_2024):
    case = drill_create(cast.bob, now=T0)
    case = case_act(actor=cast.alice, case=case, action="dispatch", data={"department": "440301-cg"}, now=T0)
    case = case_act(actor=units.dana, case=fresh(case), action="accept", data={}, now=T0)
    case_act(actor=cast.alice, case=fresh(case), action="chase", data={"note": "请尽快"}, now=T0)
    assert Supervision.objects.filter(case=case, kind="chase").exists()
    case_act(actor=units.dana, case=fresh(case), action="request_extension",
             data={"kind": "extension", "reason": "材料未到", "amount": "2"}, now=T0)
    req = ApprovalRequest.objects.get(case=case)
    assert "decide_extension" not in names(case_actions(units.dana, fresh(case)))  # her own request
    decide = {o.name: o for o in case_actions(cast.alice, fresh(case))}["decide_extension"]
    assert [c[0] for c in decide.inputs[0].choices] == [str(req.pk)]
    with pytest.raises(TransitionNotAllowed) as exc:
        case_act(actor=cast.alice, case=fresh(case), action="decide_extension",
                 data={"request": str(req.pk), "decision": "maybe"})
    assert list(fields(exc.value)) == ["decision"]
    case_act(actor=cast.alice, case=fresh(case), action="decide_extension",
             data={"request": str(req.pk), "decision": "approve"}, now=T0)
    assert fresh(case).extended
    case = case_act(actor=units.dana, case=fresh(case), action="finish", data={"note": "已处理", "hours": "1.5"},
                    now=T0)
    assert case.state == "done"
    offered = names(case_actions(cast.alice, fresh(case)))
    assert "reopen" in offered and "rate" in offered and "merge" not in offered
    case = case_act(actor=cast.alice, case=fresh(case), action="rate", data={"satisfaction": "unsatisfied"})
    assert case.state == "handling" and case.reopen_count == 1
