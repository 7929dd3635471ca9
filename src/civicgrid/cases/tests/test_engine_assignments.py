"""Assignments (派单): a lead unit and co-handling units, each with its own sign-off clock; disputes
(退单) reviewed and re-dispatched as transfers; 3 transfers make a problem case; recall (撤回) before
acceptance only."""

from __future__ import annotations

import pytest

from civicgrid.cases.errors import TransitionNotAllowed, TransitionRefused
from civicgrid.cases.models import AssignmentRole, AssignmentState, Supervision, Timer, TimerState
from civicgrid.cases.services import case_recall, case_transition
from civicgrid.cases.tests.conftest import STREET_A, at, drill_create, fresh
from civicgrid.notify.models import Notification

pytestmark = pytest.mark.django_db

T0 = at(2024, 11, 4, 10)  # Monday 4 November 2024, no holiday near


def dispatch(cast, case, department, co=(), now=T0):
    return case_transition(actor=cast.alice, case=fresh(case), action="dispatch", department=department,
                           co_departments=list(co), now=now)


def test_dispatch_opens_a_lead_assignment_and_co_handling_assignments(cast, units, calendar_2024):
    case = drill_create(cast.bob, now=T0)
    dispatch(cast, case, units.urban, co=[units.water])
    shares = list(fresh(case).assignments.order_by("id"))
    assert [(a.department, a.role, a.state, a.assigned_by) for a in shares] == [
        (units.urban, AssignmentRole.LEAD, AssignmentState.PENDING, cast.alice),
        (units.water, AssignmentRole.CO, AssignmentState.PENDING, cast.alice)]
    assert fresh(case).lead_department == units.urban
    told = Notification.objects.filter(case=case, event="assigned")
    assert {n.audience_department for n in told} == {units.urban, units.water}
    entry = fresh(case).timeline.get(action="dispatch")
    assert entry.data["assigned"] == [{"role": "lead", "department": "440301-cg", "region": None},
                                      {"role": "co", "department": "440301-sw", "region": None}]


def test_each_assignment_gets_its_own_sign_off_clock(cast, units, calendar_2024):
    case = drill_create(cast.bob, now=T0)
    dispatch(cast, case, units.urban, co=[units.water])
    signs = Timer.objects.filter(case=case, kind="sign").order_by("assignment_id")
    assert [(t.assignment.department, t.amount, t.unit, t.due_at, t.state) for t in signs] == [
        (units.urban, 1, "working_hours", at(2024, 11, 4, 11), TimerState.RUNNING),
        (units.water, 1, "working_hours", at(2024, 11, 4, 11), TimerState.RUNNING)]


def test_a_dispatch_late_in_the_day_is_due_for_sign_off_the_next_working_morning(cast, units, calendar_2024):
    case = drill_create(cast.bob, now=at(2024, 11, 8, 16, 30))  # Friday 16:30
    dispatch(cast, case, units.urban, now=at(2024, 11, 8, 16, 30))
    assert Timer.objects.get(case=case, kind="sign").due_at == at(2024, 11, 11, 9, 30)  # Monday 09:30


def test_accepting_stops_only_the_accepting_units_sign_off_clock(cast, units, calendar_2024):
    case = drill_create(cast.bob, now=T0)
    dispatch(cast, case, units.urban, co=[units.water])
    case_transition(actor=units.dana, case=fresh(case), action="accept", now=at(2024, 11, 4, 10, 20))
    lead = fresh(case).assignments.get(role="lead")
    assert (lead.state, lead.accepted_at) == (AssignmentState.ACCEPTED, at(2024, 11, 4, 10, 20))
    states = {t.assignment.department.code: (t.state, t.stopped_at) for t in Timer.objects.filter(kind="sign")}
    assert states == {"440301-cg": (TimerState.STOPPED, at(2024, 11, 4, 10, 20)),
                      "440301-sw": (TimerState.RUNNING, None)}
    assert Timer.objects.get(case=case, kind="handle").state == TimerState.RUNNING


def test_the_lead_may_still_accept_after_a_co_handling_unit_accepted_first(cast, units, calendar_2024):
    case = drill_create(cast.bob, now=T0)
    dispatch(cast, case, units.urban, co=[units.water])
    case_transition(actor=units.evan, case=fresh(case), action="accept", now=T0)
    case_transition(actor=units.dana, case=fresh(case), action="accept", now=T0)
    assert set(fresh(case).assignments.values_list("state", flat=True)) == {AssignmentState.ACCEPTED}
    assert not Timer.objects.filter(case=case, kind="sign", state=TimerState.RUNNING).exists()
    with pytest.raises(TransitionNotAllowed):  # nothing of hers is waiting any more
        case_transition(actor=units.dana, case=fresh(case), action="accept", now=T0)


def test_a_dispute_sends_the_case_to_review_and_tells_the_centre(cast, units, calendar_2024):
    case = drill_create(cast.bob, now=T0)
    dispatch(cast, case, units.urban)
    case_transition(actor=units.dana, case=fresh(case), action="dispute", reason="不属于城管职责", now=T0)
    stored = fresh(case)
    assert stored.state == "review"
    assert stored.assignments.get().state == AssignmentState.DISPUTED
    assert Timer.objects.get(case=case, kind="sign").state == TimerState.STOPPED
    told = Notification.objects.get(case=case, event="disputed")
    assert told.audience_region.code == STREET_A and told.body == "不属于城管职责"
    assert stored.timeline.get(action="dispute").note == "不属于城管职责"


def test_redispatching_after_a_dispute_is_a_transfer(cast, units, calendar_2024):
    case = drill_create(cast.bob, now=T0)
    dispatch(cast, case, units.urban)
    case_transition(actor=units.dana, case=fresh(case), action="dispute", reason="不归我们", now=T0)
    dispatch(cast, case, units.water, now=at(2024, 11, 4, 14))
    stored = fresh(case)
    assert stored.state == "dispatched" and stored.transfer_count == 1
    assert stored.lead_department == units.water
    first, second = stored.assignments.order_by("id")
    assert (first.department, first.state, first.ended_at) == (units.urban, AssignmentState.TRANSFERRED,
                                                               at(2024, 11, 4, 14))
    assert (second.department, second.role, second.state) == (units.water, "lead", AssignmentState.PENDING)
    assert Timer.objects.get(case=case, kind="sign", state=TimerState.RUNNING).assignment == second
    assert not Supervision.objects.filter(case=case).exists()


def test_a_department_the_case_was_transferred_away_from_may_no_longer_work_on_it(cast, units, calendar_2024):
    case = drill_create(cast.bob, now=T0)
    dispatch(cast, case, units.urban)
    case_transition(actor=units.dana, case=fresh(case), action="dispute", reason="不归我们", now=T0)
    dispatch(cast, case, units.water)
    case_transition(actor=units.evan, case=fresh(case), action="accept", now=T0)
    with pytest.raises(TransitionRefused):
        case_transition(actor=units.dana, case=fresh(case), action="finish", note="顺手处理了", now=T0)
    assert fresh(case).state == "handling"


def test_a_department_holding_a_lead_and_a_co_handling_share_accepts_the_lead_first(cast, units, calendar_2024):
    case = drill_create(cast.bob, now=T0)
    dispatch(cast, case, units.urban, co=[units.water])
    case_transition(actor=units.dana, case=fresh(case), action="dispute", reason="主办应为水务", now=T0)
    dispatch(cast, case, units.water)  # water now leads, and still has its co-handling share
    case_transition(actor=units.evan, case=fresh(case), action="accept", now=T0)
    lead = fresh(case).assignments.get(role="lead", department=units.water)
    assert lead.state == AssignmentState.ACCEPTED


def test_three_transfers_open_a_problem_case_item_once(cast, units, calendar_2024):
    case = drill_create(cast.bob, now=T0)
    dispatch(cast, case, units.urban)
    handlers = {units.urban.pk: units.dana, units.water.pk: units.evan}
    for n, dept in enumerate([units.water, units.urban, units.water, units.urban], start=1):
        holder = handlers[fresh(case).lead_department_id]
        case_transition(actor=holder, case=fresh(case), action="dispute", reason=f"第{n}次退单", now=T0)
        dispatch(cast, case, dept)
        assert fresh(case).transfer_count == n
        problems = Supervision.objects.filter(case=case, kind=Supervision.Kind.PROBLEM)
        assert problems.count() == (1 if n >= 3 else 0)
    item = Supervision.objects.get(case=case, kind="problem")
    assert item.closed_at is None and "3" in item.note
    assert fresh(case).timeline.filter(action="problem").count() == 1
    told = Notification.objects.get(case=case, event="problem")
    assert told.audience_region.code == "440301"  # the district centre above the owning street


def test_the_centre_recalls_a_dispatch_nobody_has_accepted(cast, units, calendar_2024):
    case = drill_create(cast.bob, now=T0)
    dispatch(cast, case, units.urban, co=[units.water])
    case_recall(actor=cast.alice, case=fresh(case), note="派错了", now=at(2024, 11, 4, 10, 30))
    stored = fresh(case)
    assert stored.state == "new" and stored.lead_department is None
    assert set(stored.assignments.values_list("state", flat=True)) == {AssignmentState.RECALLED}
    assert not Timer.objects.filter(case=case, kind="sign", state=TimerState.RUNNING).exists()
    assert Timer.objects.get(case=case, kind="handle").state == TimerState.RUNNING
    entry = stored.timeline.get(action="recall")
    assert (entry.from_state, entry.to_state, entry.note) == ("dispatched", "new", "派错了")
    told = Notification.objects.filter(case=case, event="recalled")
    assert {n.audience_department for n in told} == {units.urban, units.water}
    dispatch(cast, case, units.water)  # and dispatches it again
    assert fresh(case).state == "dispatched" and fresh(case).lead_department == units.water


def test_a_dispatch_already_accepted_cannot_be_recalled(cast, units, calendar_2024):
    case = drill_create(cast.bob, now=T0)
    dispatch(cast, case, units.urban)
    case_transition(actor=units.dana, case=fresh(case), action="accept", now=T0)
    with pytest.raises(TransitionNotAllowed):
        case_recall(actor=cast.alice, case=fresh(case), now=T0)
    assert fresh(case).state == "handling"


def test_a_case_never_dispatched_cannot_be_recalled(cast, units):
    case = drill_create(cast.bob, now=T0)
    with pytest.raises(TransitionNotAllowed):
        case_recall(actor=cast.alice, case=case, now=T0)


def test_a_grid_worker_may_not_recall_a_dispatch(cast, units):
    case = drill_create(cast.bob, now=T0)
    dispatch(cast, case, units.urban)
    with pytest.raises(TransitionRefused):
        case_recall(actor=cast.bob, case=fresh(case), now=T0)


def test_finishing_ends_every_open_assignment(cast, units, calendar_2024):
    case = drill_create(cast.bob, now=T0)
    dispatch(cast, case, units.urban, co=[units.water])
    case_transition(actor=units.dana, case=fresh(case), action="accept", now=T0)
    case_transition(actor=units.dana, case=fresh(case), action="finish", note="已处理", now=at(2024, 11, 5, 9))
    assert set(fresh(case).assignments.values_list("state", "ended_at")) == {
        (AssignmentState.DONE, at(2024, 11, 5, 9))}
    assert not Timer.objects.filter(case=case, state=TimerState.RUNNING).exists()
