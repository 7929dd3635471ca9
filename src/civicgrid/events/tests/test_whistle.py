"""Whistle-summons (吹哨报到): the street summons departments with acknowledgement, arrival and
response deadlines as engine timers; departments answer; the street scores them; the whistle rate
per street and the department scores are read back."""

from __future__ import annotations

import pytest

from civicgrid.cases.errors import CaseConflict, TransitionRefused
from civicgrid.cases.models import TimerState
from civicgrid.cases.sweep import cases_sweep
from civicgrid.events import services as ev
from civicgrid.events.selectors import department_whistle_scores, whistle_rates
from civicgrid.events.tests.conftest import T0, at, fresh, report

pytestmark = pytest.mark.django_db


def registered(cast, units):
    case = report(units.rita).case
    ev.event_register(actor=cast.alice, case=fresh(case), now=T0)
    return fresh(case)


def test_an_emergency_whistle_starts_acknowledge_arrive_and_respond_clocks_for_each_department(world, units):
    case = registered(world, units)
    whistle = ev.whistle_blow(actor=world.alice, case=case, kind="emergency", reason="暴雨积水，需多部门联动",
                              departments=[units.water, units.urban], now=T0)
    assert whistle.street.code == "440301001" and whistle.summons.count() == 2
    s = whistle.summons.get(department=units.water)
    assert s.ack_due_at == at(2024, 9, 23, 10, 15) and s.arrive_due_at == at(2024, 9, 23, 10, 30)
    kinds = set(fresh(case).timers.filter(state=TimerState.RUNNING).values_list("kind", flat=True))
    assert {f"wh_ack:{s.pk}", f"wh_arr:{s.pk}", f"wh_rep:{s.pk}"} <= kinds
    # the summoned departments get a co-handling share of the event, so they can see it
    assert set(fresh(case).assignments.values_list("department__code", "role")) == {
        ("440301-sw", "co"), ("440301-cg", "co")}
    assert fresh(case).state == "registered"
    assert fresh(case).timeline.get(action="whistle").data["kind"] == "emergency"


def test_departments_acknowledge_and_arrive_and_a_late_arrival_counts_against_them(world, units):
    case = registered(world, units)
    whistle = ev.whistle_blow(actor=world.alice, case=case, kind="emergency", reason="燃气泄漏",
                              departments=[units.water, units.urban], now=T0)
    water = whistle.summons.get(department=units.water)
    urban = whistle.summons.get(department=units.urban)
    ev.whistle_acknowledge(actor=units.evan, summons=water, now=at(2024, 9, 23, 10, 5))
    ev.whistle_arrive(actor=units.evan, summons=water, now=at(2024, 9, 23, 10, 25))
    ev.whistle_arrive(actor=units.dana, summons=urban, now=at(2024, 9, 23, 11, 0))  # 30 minutes late
    with pytest.raises(CaseConflict):
        ev.whistle_acknowledge(actor=units.evan, summons=water, now=at(2024, 9, 23, 10, 6))
    ev.whistle_respond(actor=units.evan, summons=water, response="已关闭阀门并抢修", now=at(2024, 9, 23, 12))
    ev.whistle_respond(actor=units.dana, summons=urban, response="已疏散围挡", now=at(2024, 9, 23, 12))
    ev.whistle_score(actor=world.alice, summons=water, score=95, note="响应迅速", now=at(2024, 9, 23, 13))
    ev.whistle_score(actor=world.alice, summons=urban, score=70, now=at(2024, 9, 23, 13))
    assert not fresh(case).timers.filter(kind__startswith="wh_", state=TimerState.RUNNING).exists()

    scores = {s.department.code: s for s in department_whistle_scores()}
    assert (scores["440301-sw"].arrived_on_time, scores["440301-sw"].mean_score) == (1, 95.0)
    assert (scores["440301-cg"].arrived_on_time, scores["440301-cg"].acknowledged_on_time) == (0, 0)
    assert scores["440301-cg"].mean_score == 70.0
    actions = list(fresh(case).timeline.values_list("action", flat=True))
    assert actions.count("whistle_score") == 2 and "whistle_arrive" in actions


def test_only_the_summoned_department_answers_and_only_the_street_scores(world, units):
    case = registered(world, units)
    whistle = ev.whistle_blow(actor=world.alice, case=case, kind="routine", reason="占道经营反复",
                              departments=[units.urban], now=T0)
    s = whistle.summons.get()
    from civicgrid.org.scoping import OutOfScope

    with pytest.raises(OutOfScope):  # water's handler: the event is not his department's at all
        ev.whistle_acknowledge(actor=units.evan, summons=s, now=T0)
    ev.whistle_respond(actor=units.dana, summons=s, response="已联合执法", now=at(2024, 9, 24, 10))
    with pytest.raises(TransitionRefused):
        ev.whistle_score(actor=units.dana, summons=s, score=100, now=at(2024, 9, 24, 11))
    with pytest.raises(ev.EventInvalid):
        ev.whistle_score(actor=world.alice, summons=s, score=101, now=at(2024, 9, 24, 11))


def test_a_grid_worker_or_another_districts_dispatcher_may_not_blow_the_whistle(world, units):
    from civicgrid.org.scoping import OutOfScope

    case = registered(world, units)
    with pytest.raises(TransitionRefused):
        ev.whistle_blow(actor=world.bob, case=case, kind="routine", reason="x", departments=[units.urban], now=T0)
    with pytest.raises(OutOfScope):
        ev.whistle_blow(actor=world.charlie, case=fresh(case), kind="routine", reason="x",
                        departments=[units.urban], now=T0)


def test_an_unanswered_summons_goes_overdue_in_the_sweep(world, units):
    case = registered(world, units)
    whistle = ev.whistle_blow(actor=world.alice, case=case, kind="emergency", reason="险情",
                              departments=[units.water], now=T0)
    s = whistle.summons.get()
    cases_sweep(now=at(2024, 9, 23, 10, 20))
    overdue = fresh(case).timers.get(kind=f"wh_ack:{s.pk}")
    assert overdue.overdue_at is not None
    assert fresh(case).supervisions.filter(kind="overdue").exists()


def test_the_whistle_rate_per_street_counts_whistled_events(world, units):
    for _ in range(3):
        registered(world, units)
    case = registered(world, units)
    ev.whistle_blow(actor=world.alice, case=case, kind="hard", reason="违建整治", departments=[units.urban], now=T0)
    ev.whistle_blow(actor=world.alice, case=fresh(case), kind="routine", reason="再次吹哨",
                    departments=[units.water], now=at(2024, 9, 24, 10))
    (row,) = whistle_rates()
    assert row.street.code == "440301001" and (row.events, row.whistled) == (4, 1) and row.rate == 0.25
