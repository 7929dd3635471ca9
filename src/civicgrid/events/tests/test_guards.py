"""The event type's guards, as the engine and the rulebook read them: answering directly is for an
enquiry only (refused with the reason, 422, and listed as refused), and a guard that asks for it
is handed the event's detail row."""

from __future__ import annotations

import pytest

from civicgrid.cases.errors import TransitionNotAllowed
from civicgrid.cases.registry import Guard, Transition
from civicgrid.cases.rules import case_actions
from civicgrid.cases.services import guards_refusal
from civicgrid.events import services as ev
from civicgrid.events.models import EventDetail
from civicgrid.events.tests.conftest import fresh, report

pytestmark = pytest.mark.django_db

ONLY_ENQUIRY = "Only an enquiry can be answered directly; register it instead."


def test_only_an_enquiry_is_answered_directly_and_the_offer_says_why(world, units):
    complaint = report(None).case
    answer = {o.name: o for o in case_actions(world.alice, complaint)}["answer"]
    assert answer.refused == ONLY_ENQUIRY
    with pytest.raises(TransitionNotAllowed) as exc:
        ev.event_answer(actor=world.alice, case=complaint, answer="请拨打12345")
    assert exc.value.message_dict == {"action": [ONLY_ENQUIRY]}
    assert fresh(complaint).state == "reported"
    enquiry = report(None, request_type="咨询", text="请问垃圾几点收运？").case
    assert {o.name: o for o in case_actions(world.alice, enquiry)}["answer"].refused == ""
    assert ev.event_answer(actor=world.alice, case=enquiry, answer="每晚八点").state == "answered"


def test_a_guard_that_needs_the_detail_gets_it_and_the_others_do_not(world, units):
    case = report(None).case
    seen = []

    def routed(case, detail, actor):
        seen.append(detail)
        return detail is not None and detail.routing == "manual"

    t = Transition("check", ("reported",), None, frozenset({"dispatcher"}),
                   guards=(Guard(routed, "Only a manual case.", needs_detail=True),))
    refusal = guards_refusal(t, case, world.alice)
    assert isinstance(seen[0], EventDetail) and seen[0].case_id == case.pk
    assert refusal == (None if seen[0].routing == "manual" else ("action", "Only a manual case."))
    blind = Transition("check", ("reported",), None, frozenset({"dispatcher"}),
                       guards=(Guard(lambda c, d, a: seen.append(d) or True, "never"),))
    assert guards_refusal(blind, case, world.alice) is None and seen[-1] is None


def test_an_event_not_registered_is_not_reopened_it_was_never_handled(world, units):
    # Reopening sends a case back to its handlers; a rejected report has none (it would sit in
    # "handling" with no unit). The reporter's way on is a new report or a complaint, not a reopening.
    from civicgrid.cases.services import case_reopen

    case = report(units.rita).case
    rejected = ev.event_reject(actor=world.alice, case=case, reason="不属于受理范围")
    assert "reopen" not in {o.name for o in case_actions(units.rita, fresh(rejected))}
    with pytest.raises(TransitionNotAllowed):
        case_reopen(actor=units.rita, case=fresh(rejected), reason="我不同意")
    assert fresh(rejected).state == "rejected"
