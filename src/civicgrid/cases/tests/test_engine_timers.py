"""Clocks on the working calendar as stored in the database: a year without data falls back to
Monday–Friday, says so loudly, and is recomputed once the State Council's holidays are entered."""

from __future__ import annotations

import logging

import pytest

from civicgrid.cases.models import Timer, TimerState
from civicgrid.cases.services import case_decide_approval, case_request_approval, case_resume, case_transition
from civicgrid.cases.tests.conftest import at, calendar_enter, drill_create, fresh
from civicgrid.cases.timers import timers_recompute_unknown
from civicgrid.workcal.calendar import missing_years, working_calendar, working_calendar_invalidate
from civicgrid.workcal.models import CalendarYear, WorkingDay

pytestmark = pytest.mark.django_db


def enter_2027_new_year() -> None:
    """What an administrator types in when the 2027 holidays are published (元旦 on Friday 1 January)."""
    CalendarYear.objects.create(year=2027, source="State Council notice")
    WorkingDay.objects.create(day=at(2027, 1, 1).date(), is_working=False, name="元旦")
    working_calendar_invalidate()


def handle(case):
    return Timer.objects.get(case=case, kind="handle", state__in=[TimerState.RUNNING, TimerState.PAUSED])


def test_a_clock_in_a_year_without_calendar_data_assumes_monday_to_friday_and_warns(cast, caplog):
    calendar_enter(2026)
    assert missing_years(2026, 2027) == [2027]
    with caplog.at_level(logging.WARNING, logger="civicgrid.cases.timers"):
        case = drill_create(cast.alice, now=at(2026, 12, 28, 10))  # Monday; due in 2027
    timer = handle(case)
    assert timer.calendar_fallback
    assert timer.due_at == at(2027, 1, 4, 10)  # 12-29, 12-30, 12-31, 01-01 (assumed working), 01-04
    warnings = [r for r in caplog.records if r.name == "civicgrid.cases.timers" and r.levelno == logging.WARNING]
    assert warnings and "2027" in warnings[0].getMessage() and "Monday" in warnings[0].getMessage()


def test_a_clock_inside_known_years_neither_falls_back_nor_warns(cast, caplog):
    calendar_enter(2026)
    with caplog.at_level(logging.WARNING, logger="civicgrid.cases.timers"):
        case = drill_create(cast.alice, now=at(2026, 12, 14, 10))
    assert not handle(case).calendar_fallback
    assert not [r for r in caplog.records if r.name == "civicgrid.cases.timers"]


def test_entering_the_year_recomputes_the_open_clocks_that_assumed_it(cast):
    calendar_enter(2026)
    case = drill_create(cast.alice, now=at(2026, 12, 28, 10))
    other = drill_create(cast.alice, now=at(2026, 12, 28, 10))
    case_transition(actor=cast.alice, case=other, action="reject", reason="重复", now=at(2026, 12, 28, 11))
    enter_2027_new_year()
    assert timers_recompute_unknown(years=[2027], now=at(2026, 12, 29, 9)) == 1
    timer = handle(case)
    assert timer.due_at == at(2027, 1, 5, 10) and not timer.calendar_fallback
    assert fresh(case).handling_due_at == at(2027, 1, 5, 10)
    stopped = Timer.objects.get(case=other, kind="handle")
    assert stopped.due_at == at(2027, 1, 4, 10)  # a stopped clock is history: left as it was
    assert timers_recompute_unknown(years=[2027], now=at(2026, 12, 29, 9)) == 0  # nothing left to redo


def test_recomputing_keeps_an_approved_extension(cast, units):
    calendar_enter(2026)
    case = drill_create(cast.bob, now=at(2026, 12, 28, 10))
    case_transition(actor=cast.alice, case=case, action="dispatch", department=units.urban, now=at(2026, 12, 28, 10))
    request = case_request_approval(actor=units.dana, case=fresh(case), kind="extension", reason="需协调", amount=2)
    case_decide_approval(actor=cast.alice, request=request, approve=True, now=at(2026, 12, 28, 11))
    assert handle(case).due_at == at(2027, 1, 6, 10)  # fallback: 01-04 + 2 → 01-06
    enter_2027_new_year()
    timers_recompute_unknown(years=[2027], now=at(2026, 12, 29, 9))
    assert handle(case).due_at == at(2027, 1, 7, 10)  # 01-05 + 2 working days
    assert fresh(case).handling_due_at == at(2027, 1, 7, 10)


def test_recomputing_keeps_the_time_a_clock_stood_still(cast, units):
    calendar_enter(2026)
    case = drill_create(cast.bob, now=at(2026, 12, 28, 10))
    case_transition(actor=cast.alice, case=case, action="dispatch", department=units.urban, now=at(2026, 12, 28, 10))
    request = case_request_approval(actor=units.dana, case=fresh(case), kind="deferral", reason="等待")
    case_decide_approval(actor=cast.alice, request=request, approve=True, now=at(2026, 12, 29, 10))
    case_resume(actor=cast.alice, case=fresh(case), now=at(2026, 12, 31, 10))
    # Four working days were left at the pause (12-29 10:00 → 01-04 10:00 without 2027's data).
    assert handle(case).due_at == at(2027, 1, 6, 10) and handle(case).calendar_fallback
    enter_2027_new_year()
    timers_recompute_unknown(years=[2027], now=at(2026, 12, 31, 12))
    # The same four working days from the resume, 01-01 now being a holiday: 01-04..01-07. Counting
    # from the clock's start instead (as if it had never stood still) would give 01-05, too early.
    assert handle(case).due_at == at(2027, 1, 7, 10)
    assert not handle(case).calendar_fallback


def test_a_paused_clock_is_left_for_its_resume_to_compute(cast, units):
    calendar_enter(2026)
    case = drill_create(cast.bob, now=at(2026, 12, 28, 10))
    case_transition(actor=cast.alice, case=case, action="dispatch", department=units.urban, now=at(2026, 12, 28, 10))
    request = case_request_approval(actor=units.dana, case=fresh(case), kind="deferral", reason="等待")
    case_decide_approval(actor=cast.alice, request=request, approve=True, now=at(2026, 12, 29, 10))
    enter_2027_new_year()
    assert timers_recompute_unknown(years=[2027], now=at(2026, 12, 30, 10)) == 0
    case_resume(actor=cast.alice, case=fresh(case), now=at(2026, 12, 31, 10))
    timer = handle(case)
    assert timer.due_at == at(2027, 1, 7, 10) and not timer.calendar_fallback


def test_recomputing_one_year_leaves_clocks_of_other_unknown_years_flagged(cast):
    calendar_enter(2026)
    case = drill_create(cast.alice, now=at(2027, 12, 27, 10))  # runs into 2028, also unknown
    enter_2027_new_year()
    timers_recompute_unknown(years=[2027], now=at(2027, 12, 27, 11))
    timer = handle(case)
    assert timer.calendar_fallback  # 2028 is still unknown
    assert 2027 in working_calendar().known_years
