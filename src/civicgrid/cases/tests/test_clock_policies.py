"""Clock policies (issue 16): what a clock's running over does (escalate, supervise, remind, run a
transition), caps on extensions, recurring clocks — on the CLOCK_DRILL test type, with the
working calendar of 2025–2026 entered from the State Council's published holidays.

Hand-counted dates (statutory days: the start day is not counted, a last day on a rest day moves
to the next working day, 民法典 art. 201/203; National Day 2025 is 10-01..10-08 off, 09-28 and
10-11 worked):

- 10 statutory days from Mon 2025-09-22: last day 10-02 (off) → Thu 10-09; due 2025-10-10 00:00.
- 15 statutory days from Tue 2025-09-16: last day 10-01 (off) → Thu 10-09; due 2025-10-10 00:00.
- 5 working days from Mon 2025-09-22 10:00: 09-23, 24, 25, 26 and Sun 09-28 (worked) → 09-28 10:00.
- 1 working day from Mon 2025-09-22 10:00: Tue 09-23 10:00.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connection

from civicgrid.cases import registry
from civicgrid.cases.errors import TransitionNotAllowed
from civicgrid.cases.models import Assignment, Case, Supervision, TimelineEntry, Timer, TimerState
from civicgrid.cases.registry import (
    ESCALATE,
    REMIND,
    SUPERVISE,
    SYSTEM,
    CaseType,
    ClockRule,
    Transition,
    run_transition,
)
from civicgrid.cases.rules import case_act
from civicgrid.cases.services import Location, case_create
from civicgrid.cases.sweep import cases_sweep
from civicgrid.cases.testing import CENTRE, DRILL, register_clock_drill
from civicgrid.cases.tests.conftest import POINT_A, STREET_A, at, calendar_enter, fresh, sweeps_at_once
from civicgrid.notify.models import Notification

pytestmark = pytest.mark.django_db

MON = at(2025, 9, 22, 10)
TUE = at(2025, 9, 16, 10)
NATIONAL_DAY_END = at(2025, 10, 10)  # 24:00 of Thu 2025-10-09


@pytest.fixture(autouse=True)
def clock_drill() -> Iterator[None]:
    """Registered for these tests only (the registry is per process: other tests list every type)."""
    register_clock_drill()
    yield
    registry.unregister("clockdrill")


@pytest.fixture
def calendar_2025(db) -> None:
    calendar_enter(2025, 2026)


def new_case(cast, now=MON) -> Case:
    return case_create(actor=cast.bob, case_type="clockdrill", title="定期走访",
                       location=Location(lon=POINT_A[0], lat=POINT_A[1]), now=now)


def act(actor, case, action, now, **data) -> Case:
    return case_act(actor=actor, case=fresh(case), action=action, data=data, now=now)


def clock(case, kind, **filters) -> Timer:
    return Timer.objects.get(case=case, kind=kind, **filters)


def rows() -> dict[str, int]:
    """Everything a sweep may write or change, to compare before and after one."""
    cases = list(Case.objects.values_list("state", "version", "owner_region_id", "escalation_level",
                                          "lead_department_id", "closed_at"))
    return {
        "timeline": TimelineEntry.objects.count(),
        "supervision": Supervision.objects.count(),
        "notification": Notification.objects.count(),
        "running": Timer.objects.filter(state=TimerState.RUNNING).count(),
        "assignments": hash(tuple(Assignment.objects.order_by("id").values_list("id", "state"))),
        "cases": hash(tuple(sorted(cases, key=str))),
    }


# --- the declaration -------------------------------------------------------------------------------

def test_without_a_declared_policy_the_handling_clock_escalates_and_the_others_are_supervised():
    assert DRILL.expiry_of("handle") == ESCALATE and DRILL.expiry_of("sign") == SUPERVISE
    assert registry.expiry_of("no-such-type", "handle") == ESCALATE  # a type not registered: the default
    clocks = register_clock_drill()
    assert clocks.expiry_of("court") == REMIND and clocks.expiry_of("watch") == SUPERVISE
    assert clocks.expiry_of("window") == run_transition("finalise") and str(clocks.expiry_of("window")) == \
        "transition(finalise)"
    assert clocks.clock_rule("handle").extension_cap == 7 and clocks.clock_rule("visit").recurs


def _ctype(*, rule: ClockRule, roles=CENTRE, requires=(), extra=()) -> CaseType:
    return CaseType(code="bad", label="bad", states={"a": "a", "b": "b"}, initial="a", transitions={
        "go": Transition("go", ("a",), "b", roles, requires=requires, starts=(rule,)), **dict(extra)})


@pytest.mark.parametrize("kwargs, message", [
    ({"rule": ClockRule("w", 1, "statutory_days", on_expiry=run_transition("nope"))}, "unknown transition"),
    ({"rule": ClockRule("w", 1, "statutory_days", on_expiry=run_transition("go")),
      "roles": frozenset({"dispatcher"})}, "SYSTEM may not"),
    ({"rule": ClockRule("w", 1, "statutory_days", on_expiry=run_transition("go")), "requires": ("department",)},
     "needs department"),
    ({"rule": ClockRule("w", 1, "statutory_days", on_expiry=REMIND),
      "extra": {"again": Transition("again", ("b",), "a", CENTRE, starts=(ClockRule("w", 2, "statutory_days"),))}},
     "different policies"),
])
def test_a_declaration_with_an_impossible_policy_is_refused_when_it_is_built(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _ctype(**kwargs)


def test_a_policy_names_a_transition_exactly_when_it_runs_one():
    with pytest.raises(ValueError):
        registry.OnExpiry(registry.ExpiryPolicy.REMIND, "go")
    with pytest.raises(ValueError):
        registry.OnExpiry(registry.ExpiryPolicy.TRANSITION)
    with pytest.raises(ValueError, match="extension_cap"):
        ClockRule("h", 1, "working_days", extension_cap=-1)
    assert SYSTEM in CENTRE


# --- escalate (events' rule, unchanged) ------------------------------------------------------------

def test_an_overdue_handling_clock_still_escalates_the_case_one_level(cast, units, calendar_2025):
    case = new_case(cast)
    assert clock(case, "handle").due_at == at(2025, 9, 28, 10)  # Sunday 09-28 is a make-up working day
    report = cases_sweep(now=at(2025, 9, 28, 10, 1))
    stored = fresh(case)
    assert report.escalated == 1 and stored.escalation_level == 1 and stored.owner_region == cast.city.a
    assert TimelineEntry.objects.filter(case=case, action="escalate").count() == 1
    assert Supervision.objects.filter(case=case, kind="overdue", closed_at__isnull=True).count() == 1


# --- supervise ---------------------------------------------------------------------------------------

def test_a_supervised_clock_opens_supervision_and_moves_neither_owner_nor_assignment(cast, units, calendar_2025):
    case = act(cast.alice, new_case(cast), "dispatch", MON, department="440301-cg")
    case = act(cast.alice, case, "watch", MON)
    assert clock(case, "watch").due_at == at(2025, 9, 23, 10)
    before = fresh(case)
    assignment = Assignment.objects.get(case=case)

    report = cases_sweep(now=at(2025, 9, 23, 10, 1))

    after = fresh(case)
    assert (report.overdue, report.supervisions, report.escalated) == (1, 1, 0)
    item = Supervision.objects.get(case=case, kind="overdue")
    assert item.closed_at is None and item.note == "watch"
    assert (after.owner_region_id, after.lead_department_id, after.escalation_level, after.state, after.version) == \
        (before.owner_region_id, before.lead_department_id, 0, "open", before.version)
    assert after.owner_region.code == STREET_A
    stored = Assignment.objects.get(pk=assignment.pk)
    assert (stored.state, stored.department_id) == (assignment.state, units.urban.pk)
    assert Notification.objects.get(event="overdue").audience_department == units.urban
    assert not TimelineEntry.objects.filter(case=case, action="escalate").exists()


# --- remind only ---------------------------------------------------------------------------------------

def test_a_remind_only_clock_sends_one_notification_and_changes_nothing_else(cast, units, calendar_2025):
    case = act(cast.alice, new_case(cast), "dispatch", MON, department="440301-cg")
    case = act(cast.alice, case, "court", MON)
    court = clock(case, "court")
    assert (court.unit, court.due_at) == ("statutory_days", NATIONAL_DAY_END)  # the court's 10 days, moved
    cases_sweep(now=NATIONAL_DAY_END - timedelta(minutes=1))  # the handling clock escalated long before
    before = rows()

    report = cases_sweep(now=NATIONAL_DAY_END + timedelta(minutes=1))

    after = rows()
    assert (report.reminded, report.overdue, report.supervisions, report.escalated) == (1, 1, 0, 0)
    assert after == {**before, "notification": before["notification"] + 1}
    told = Notification.objects.get(event="deadline_passed")
    assert told.case_id == case.pk and told.audience_department == units.urban
    assert case.tracking_code in told.subject and "court" in told.subject
    assert clock(case, "court").overdue_at == NATIONAL_DAY_END + timedelta(minutes=1)

    again = cases_sweep(now=NATIONAL_DAY_END + timedelta(hours=5))
    assert again.reminded == 0 and rows() == after


# --- run a transition -----------------------------------------------------------------------------------

def answered(cast, now=TUE) -> Case:
    case = act(cast.alice, new_case(cast, now), "answer", now)
    assert clock(case, "window").due_at == NATIONAL_DAY_END
    return case


def test_a_lapsed_window_makes_the_answer_final_once_even_with_two_sweeps(cast, units, calendar_2025):
    case = answered(cast)
    assert cases_sweep(now=NATIONAL_DAY_END - timedelta(minutes=1)).transitioned == 0
    assert fresh(case).state == "answered"

    first = cases_sweep(now=NATIONAL_DAY_END + timedelta(minutes=1))
    second = cases_sweep(now=NATIONAL_DAY_END + timedelta(minutes=1))
    third = cases_sweep(now=NATIONAL_DAY_END + timedelta(days=2))

    stored = fresh(case)
    assert (first.transitioned, second.transitioned, third.transitioned) == (1, 0, 0)
    assert stored.state == "final" and stored.closed_at == NATIONAL_DAY_END + timedelta(minutes=1)
    step = TimelineEntry.objects.get(case=case, action="finalise")
    assert (step.actor, step.from_state, step.to_state) == (None, "answered", "final")
    assert "window" in step.note
    assert not Supervision.objects.filter(case=case).exists()  # the policy ran: nobody needs to chase
    assert not Timer.objects.filter(case=case, state=TimerState.RUNNING).exists()  # "finalise" stops all


def test_a_review_asked_for_in_time_stops_the_window_and_the_sweep_does_nothing(cast, units, calendar_2025):
    case = answered(cast)
    act(cast.alice, case, "request_review", at(2025, 10, 9, 16))
    report = cases_sweep(now=NATIONAL_DAY_END + timedelta(minutes=1))
    assert report.transitioned == 0 and fresh(case).state == "review"
    assert not TimelineEntry.objects.filter(case=case, action="finalise").exists()


def test_a_case_that_no_longer_allows_the_step_is_not_forced_but_supervised(cast, units, calendar_2025):
    case = answered(cast)
    Case.objects.filter(pk=case.pk).update(state="review")  # moved on without stopping the window
    report = cases_sweep(now=NATIONAL_DAY_END + timedelta(minutes=1))
    assert report.transitioned == 0 and fresh(case).state == "review"
    assert Supervision.objects.get(case=case, kind="overdue").note == "window"
    assert TimelineEntry.objects.get(case=case, action="overdue").data == {"clocks": ["window"]}


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_take_each_lapsed_window_s_transition_once(cast):
    if connection.vendor != "postgresql":
        pytest.skip("two sweeps at once need PostgreSQL (SQLite serialises writers)")
    calendar_enter(2025, 2026)
    cases = [answered(cast) for _ in range(12)]
    now = NATIONAL_DAY_END + timedelta(minutes=1)
    reports = sweeps_at_once(now, batch_size=2)
    assert sum(r.transitioned for r in reports) == len(cases)
    for case in cases:
        assert fresh(case).state == "final"
        assert TimelineEntry.objects.filter(case=case, action="finalise").count() == 1


# --- caps on extensions ---------------------------------------------------------------------------------

def ask(actor, case, amount, now=MON):
    return act(actor, case, "request_extension", now, kind="extension", reason="需协调", amount=str(amount))


def decide(actor, case, now=MON):
    from civicgrid.cases.models import ApprovalRequest

    request = ApprovalRequest.objects.get(case=case, state=ApprovalRequest.State.PENDING)
    return act(actor, case, "decide_extension", now, request=str(request.pk), decision="approve")


def test_extensions_past_the_clock_s_cap_are_refused_naming_the_amount(cast, units, calendar_2025):
    case = new_case(cast)
    with pytest.raises(TransitionNotAllowed) as exc:
        ask(cast.alice, case, 8)  # the cap is 7 working days in all (within the 10 one request may ask)
    assert exc.value.message_dict == {
        "amount": ["This clock may be extended by at most 7 working days in all; 7 working days are left."]}
    ask(cast.alice, case, 5)
    decide(cast.admin_a, case)
    assert clock(case, "handle").extended_by == 5

    with pytest.raises(TransitionNotAllowed) as exc:
        ask(cast.alice, case, 3)
    assert list(exc.value.message_dict) == ["amount"]
    assert "2 working days are left" in exc.value.message_dict["amount"][0]
    ask(cast.alice, case, 2)  # up to the cap exactly
    decide(cast.admin_a, case)
    assert clock(case, "handle").extended_by == 7
    with pytest.raises(TransitionNotAllowed) as exc:
        ask(cast.alice, case, 1)
    assert "0 working days are left" in exc.value.message_dict["amount"][0]


def test_a_clock_without_a_cap_is_held_only_to_the_per_request_limit(cast, units, calendar_2024):
    from civicgrid.cases.tests.conftest import drill_create

    case = drill_create(cast.bob)
    for _ in range(2):  # 2 × 10 working days on the DRILL's handling clock: no cap
        act(cast.alice, case, "request_extension", at(2024, 9, 23, 10), kind="extension", reason="需协调",
            amount="10")
        decide(cast.admin_a, case, at(2024, 9, 23, 10))
    assert clock(case, "handle").extended_by == 20


# --- recurring clocks -------------------------------------------------------------------------------------

def test_a_recurring_clock_that_runs_over_starts_its_next_occurrence_once(cast, units, calendar_2025):
    case = act(cast.alice, new_case(cast, TUE), "plan_visits", TUE)
    first = clock(case, "visit")
    assert first.due_at == at(2025, 10, 16, 10)
    cases_sweep(now=at(2025, 10, 16, 9))  # the handling clock ran over long before
    now = at(2025, 10, 16, 10, 1)

    report = cases_sweep(now=now)
    cases_sweep(now=now)  # a second sweep: nothing more

    assert report.recurred == 1
    first.refresh_from_db()
    assert (first.state, first.overdue_at, first.stopped_at) == (TimerState.STOPPED, now, now)
    following = clock(case, "visit", state=TimerState.RUNNING)
    assert (following.started_at, following.due_at) == (at(2025, 10, 16, 10), at(2025, 11, 16, 10))
    assert Timer.objects.filter(case=case, kind="visit").count() == 2
    missed = TimelineEntry.objects.get(case=case, action="overdue", at=now)  # the missed visit is chased
    assert missed.data == {"clocks": ["visit"]}


def test_when_the_visit_is_done_the_next_one_is_due_a_month_after_this_one_was(cast, units, calendar_2025):
    case = act(cast.alice, new_case(cast, TUE), "plan_visits", TUE)
    done = at(2025, 10, 3, 15)
    act(cast.bob, case, "visited", done)
    assert clock(case, "visit", state=TimerState.STOPPED).stopped_at == done
    following = clock(case, "visit", state=TimerState.RUNNING)
    assert (following.started_at, following.due_at) == (done, at(2025, 11, 16, 10))
    act(cast.bob, case, "visited", at(2025, 11, 2, 9))
    assert clock(case, "visit", state=TimerState.RUNNING).due_at == at(2025, 12, 16, 10)


def test_closing_the_case_ends_the_series(cast, units, calendar_2025):
    case = act(cast.alice, new_case(cast, TUE), "plan_visits", TUE)
    act(cast.alice, case, "close", at(2025, 10, 3, 15))
    assert not Timer.objects.filter(case=case, state=TimerState.RUNNING).exists()
    assert cases_sweep(now=at(2025, 12, 1)).recurred == 0
    assert Timer.objects.filter(case=case, kind="visit").count() == 1


def test_periods_nobody_swept_are_skipped_to_the_current_one(cast, units, calendar_2025):
    case = act(cast.alice, new_case(cast, TUE), "plan_visits", TUE)
    cases_sweep(now=at(2026, 1, 20))  # the worker was down for three months
    following = clock(case, "visit", state=TimerState.RUNNING)
    assert (following.started_at, following.due_at) == (at(2026, 1, 16, 10), at(2026, 2, 16, 10))


def test_the_api_refuses_an_extension_past_the_cap_with_422_naming_the_amount(client, cast, units, calendar_2025):
    case = new_case(cast)
    url = f"/api/v1/cases/{case.pk}/actions/request_extension"
    body = {"kind": "extension", "reason": "需协调", "amount": 8}
    client.force_login(cast.charlie)  # a dispatcher of another district: the case is not there for him
    assert client.post(url, body, content_type="application/json").status_code == 404
    client.force_login(units.rita)  # a resident who did not report it
    assert client.post(url, body, content_type="application/json").status_code == 404
    client.force_login(cast.alice)
    refused = client.post(url, body, content_type="application/json")
    assert refused.status_code == 422, refused.content
    assert list(refused.json()["error"]["fields"]) == ["amount"]
    assert "7" in refused.json()["error"]["fields"]["amount"][0]  # the cap (in the user's language)
    assert client.post(url, {**body, "amount": 7}, content_type="application/json").status_code == 200
    assert fresh(case).timeline.filter(action="extension_request").count() == 1


def test_a_statutory_clock_that_assumed_monday_to_friday_is_recounted_when_the_year_is_entered(cast, units):
    from datetime import date

    from civicgrid.workcal.services import calendar_year_set

    calendar_enter(2026)  # 2027 is not known yet: Monday–Friday is assumed
    case = act(cast.alice, new_case(cast, at(2027, 9, 22, 10)), "court", at(2027, 9, 22, 10))
    court = clock(case, "court")
    # 10 days from Wed 2027-09-22: last day Sat 10-02 → Mon 10-04 (a weekend, as far as anyone knows)
    assert court.due_at == at(2027, 10, 5) and court.calendar_fallback
    days = {date(2027, 10, d): (False, "国庆节") for d in (1, 4, 5, 6, 7)}
    days[date(2027, 10, 2)] = (True, "调休上班（国庆节）")  # (a made-up year: Saturday 10-02 worked)
    calendar_year_set(actor=None, year=2027, days=days, source="test")
    court.refresh_from_db()
    # counted again from its start: the last day, Sat 10-02, is a working day and stays
    assert court.due_at == at(2027, 10, 3) and not court.calendar_fallback
