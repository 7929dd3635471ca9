"""Starting, stopping, pausing and extending a case's clocks (计时器), on the working calendar.

:func:`timer_row` is the one constructor of clock rows: :func:`timer_start` and the bulk import
(``events/bulk.py``, which computes the due times itself, memoised) both build them with it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.utils import timezone

from civicgrid.cases.models import Assignment, Case, Timer, TimerState
from civicgrid.core.batch import insert_later, new_row
from civicgrid.workcal import clock
from civicgrid.workcal.calendar import unknown_years_not_warned, working_calendar, working_hours

log = logging.getLogger("civicgrid.cases.timers")


def _fallback(start: dt.datetime, due: dt.datetime) -> bool:
    unknown = clock.unknown_days_between(start, due, working_calendar())
    if unknown_years_not_warned(unknown):  # loudly, but once per year and calendar, not once per clock
        log.warning("working calendar has no data for %s: Monday–Friday assumed (enter the year's holidays "
                    "with `civicgrid workcal calendar`)", ", ".join(map(str, sorted(unknown))))
    return bool(unknown)


def timer_row(*, case: Case | None = None, case_id: int | None = None, kind: str, amount: float, unit: str,
              started_at: dt.datetime, due_at: dt.datetime, calendar_fallback: bool,
              assignment: Assignment | None = None, extended_by: float = 0.0) -> Timer:
    """One running clock, not yet saved, for ``case`` (or ``case_id``, for rows written without
    loading their case). ``due_at`` is computed by the caller on the working calendar;
    ``calendar_fallback``: it crossed a year without calendar data."""
    timer = new_row(Timer, {"case_id": case_id, "kind": kind, "unit": unit, "amount": amount,
                            "state": TimerState.RUNNING.value, "started_at": started_at, "due_at": due_at,
                            "calendar_fallback": calendar_fallback, "extended_by": extended_by})
    if assignment is not None:
        timer.assignment = assignment
    if case is not None:
        timer.case = case
    return timer


def timer_start(*, case: Case, kind: str, amount: float, unit: str, now: dt.datetime,
                assignment: Assignment | None = None, replace: bool = True, due: dt.datetime | None = None,
                extended_by: float = 0.0) -> Timer:
    """Start a clock; a running clock of the same kind (and assignment) is stopped first (``replace``;
    a new case or a new assignment has none, so the caller skips that statement). ``due`` is the due
    time when the caller has computed it already (``extended_by``: the extension it includes).

    The new clock's row is inserted with the rest of the step (see ``core.batch``); a clock that
    starts paused (the case is deferred) is written at once."""
    if replace:
        Timer.objects.filter(
            case=case, kind=kind, assignment=assignment, state__in=[TimerState.RUNNING, TimerState.PAUSED]
        ).update(state=TimerState.STOPPED, stopped_at=now)
    if due is None:
        due = clock.due_at(now, amount, unit, calendar=working_calendar(), hours=working_hours())
    timer = timer_row(case=case, assignment=assignment, kind=kind, unit=unit, amount=amount, started_at=now,
                      due_at=due, calendar_fallback=_fallback(now, due), extended_by=extended_by)
    if case.deferred:
        timer.save(force_insert=True)
        timers_pause(case=case, now=now, timers=[timer])
    else:
        insert_later(timer)
    return timer


def next_occurrence(timer: Timer, after: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The period of a recurring clock that follows ``timer``'s: (its start, its due time), one
    period (the clock's amount and unit) after the other. Periods that ended by ``after`` are
    skipped (a sweep that did not run for months starts the current period, not every missed one)."""
    cal, hours = working_calendar(), working_hours()
    start, due = timer.due_at, clock.extend(timer.due_at, timer.amount, timer.unit, calendar=cal, hours=hours)
    while due <= after:
        start, due = due, clock.extend(due, timer.amount, timer.unit, calendar=cal, hours=hours)
    return start, due


def _recur(case: Case, timer: Timer, now: dt.datetime, *, started: dt.datetime | None = None) -> Timer:
    """Start the next occurrence of a recurring clock (its running occurrence was stopped)."""
    start, due = next_occurrence(timer, now)
    nxt = timer_start(case=case, kind=timer.kind, amount=timer.amount, unit=timer.unit, now=started or start,
                      assignment=timer.assignment, replace=False, due=due)
    if timer.kind == "handle" and timer.assignment_id is None:
        Case.objects.filter(pk=case.pk).update(handling_due_at=due)
        case.handling_due_at = due
    return nxt


def timers_stop(*, case: Case, kinds: Iterable[str], now: dt.datetime, recur: Iterable[str] = ()) -> int:
    """Stop the case's open clocks of ``kinds`` ("*": all). The recurring kinds in ``recur`` (the
    work of this occurrence is done) start their next occurrence: from now, due one period after
    the stopped one was."""
    kinds, recur = list(kinds), list(recur)
    done = list(Timer.objects.filter(case=case, kind__in=recur, state__in=[TimerState.RUNNING, TimerState.PAUSED])
                .select_related("assignment")) if recur else []
    qs = Timer.objects.filter(case=case, state__in=[TimerState.RUNNING, TimerState.PAUSED])
    if "*" not in kinds:
        qs = qs.filter(kind__in=kinds)
    n = qs.update(state=TimerState.STOPPED, stopped_at=now)
    for t in done:
        _recur(case, t, now, started=now)
    return n


def timers_recur_expired(*, ids: Iterable[int], now: dt.datetime) -> int:
    """The sweep's step for recurring clocks that ran over (already marked overdue): each is
    stopped and its next occurrence starts where it ended, unless its case is closed or merged.
    Conditional (``state = running``), so a clock recurs once however often this runs."""
    items = list(Timer.objects.filter(id__in=list(ids), state=TimerState.RUNNING).select_related("case", "assignment"))
    started = 0
    for t in items:
        if Timer.objects.filter(pk=t.pk, state=TimerState.RUNNING).update(
                state=TimerState.STOPPED, stopped_at=now) != 1:
            continue
        if t.case.closed_at is not None or t.case.merged_into_id is not None:
            continue
        nxt = _recur(t.case, t, now)
        if nxt.pk is None:
            nxt.save(force_insert=True)
        started += 1
    return started


def timers_stop_for_assignment(*, assignment: Assignment, now: dt.datetime) -> int:
    return Timer.objects.filter(assignment=assignment, state__in=[TimerState.RUNNING, TimerState.PAUSED]).update(
        state=TimerState.STOPPED, stopped_at=now)


def timers_stop_for_assignments(*, ids: Iterable[int], now: dt.datetime) -> int:
    return Timer.objects.filter(assignment_id__in=list(ids), state__in=[TimerState.RUNNING, TimerState.PAUSED]
                                ).update(state=TimerState.STOPPED, stopped_at=now)


def timers_pause(*, case: Case, now: dt.datetime, timers: Iterable[Timer] | None = None) -> int:
    """Stop the clocks (缓办/挂起), keeping the budget each has left."""
    cal, hours = working_calendar(), working_hours()
    items = list(timers) if timers is not None else list(case.timers.filter(state=TimerState.RUNNING))
    for t in items:
        t.remaining = clock.remaining_after(t.due_at, now, unit=t.unit, calendar=cal, hours=hours)
        t.paused_at, t.state = now, TimerState.PAUSED
    Timer.objects.bulk_update(items, ["remaining", "paused_at", "state"])
    return len(items)


def timers_resume(*, case: Case, now: dt.datetime) -> int:
    """Start the paused clocks again: each spends the budget it had left, from now."""
    cal, hours = working_calendar(), working_hours()
    items = list(case.timers.filter(state=TimerState.PAUSED))
    for t in items:
        t.due_at = clock.resume_due(now, t.remaining or 0.0, unit=t.unit, calendar=cal, hours=hours)
        t.calendar_fallback = _fallback(now, t.due_at)
        t.paused_at, t.remaining, t.state = None, None, TimerState.RUNNING
        if t.due_at > now:
            t.overdue_at = None
            t.due_soon_at = None
    Timer.objects.bulk_update(items, ["due_at", "calendar_fallback", "paused_at", "remaining", "state",
                                      "overdue_at", "due_soon_at"])
    return len(items)


def timer_extend(*, case: Case, kind: str, amount: float, now: dt.datetime) -> list[Timer]:
    """Add time to the open clocks of a kind (延期); an overdue clock that is no longer overdue is
    warned about again."""
    cal, hours = working_calendar(), working_hours()
    items = list(case.timers.filter(kind=kind, state__in=[TimerState.RUNNING, TimerState.PAUSED]))
    for t in items:
        if t.state == TimerState.PAUSED:
            t.remaining = (t.remaining or 0.0) + amount * (clock.UNIT_SECONDS[t.unit] or 0)
        else:
            t.due_at = clock.extend(t.due_at, amount, t.unit, calendar=cal, hours=hours)
            t.calendar_fallback = _fallback(now, t.due_at)
            if t.due_at > now:
                t.overdue_at = None
                t.due_soon_at = None
        t.extended_by += amount
    Timer.objects.bulk_update(items, ["due_at", "remaining", "calendar_fallback", "overdue_at", "due_soon_at",
                                      "extended_by"])
    return items


def timers_recompute_unknown(*, years: Iterable[int], now: dt.datetime | None = None) -> int:
    """Recompute the due time of open clocks computed without calendar data for these years (run when
    a year's holidays are entered), and the cases' handling due times with them.

    A clock that never stood still is counted again from its start (its limit plus any extension).
    One that was paused and resumed keeps the budget it had left at ``now`` under the Monday–Friday
    assumption and spends it from ``now`` on the real calendar: exact as long as the year is entered
    before it begins, as it is each winter. (Counting from the start would forget the pause.)"""
    years = set(years)
    now = now or timezone.now()
    cal, hours = working_calendar(), working_hours()
    assumed = clock.MappingCalendar({d: w for d, w in cal.overrides.items() if d.year not in years},
                                    cal.known_years - years)

    def year(moment: dt.datetime) -> int:  # of the local (Asia/Shanghai) date, not the UTC one
        return moment.astimezone(clock.CALENDAR_TZ).year

    items = [t for t in Timer.objects.filter(calendar_fallback=True, state=TimerState.RUNNING)
             if {year(t.started_at), year(t.due_at)} & years or year(t.due_at) > year(t.started_at)]
    for t in items:
        before = t.due_at
        per_unit = clock.UNIT_SECONDS[t.unit]
        begin = clock.clock_start(t.started_at, t.unit, calendar=assumed, hours=hours)
        if t.unit == clock.STATUTORY_DAYS:  # its end is not its start plus its days: compare with the count
            counted = clock.due_at(t.started_at, t.amount, t.unit, calendar=assumed, hours=hours)
            if t.extended_by:
                counted = clock.extend(counted, t.extended_by, t.unit, calendar=assumed, hours=hours)
            never_paused = counted == t.due_at
        else:
            never_paused = per_unit is None or abs(clock.working_seconds_between(
                begin, t.due_at, unit=t.unit, calendar=assumed, hours=hours)
                - (t.amount + t.extended_by) * per_unit) < 1
        if not never_paused:  # paused and resumed meanwhile
            left = clock.remaining_after(t.due_at, now, unit=t.unit, calendar=assumed, hours=hours)
            t.due_at = clock.resume_due(now, left, unit=t.unit, calendar=cal, hours=hours)
        elif t.extended_by:
            base = clock.due_at(t.started_at, t.amount, t.unit, calendar=cal, hours=hours)
            t.due_at = clock.extend(base, t.extended_by, t.unit, calendar=cal, hours=hours)
        else:
            t.due_at = clock.due_at(t.started_at, t.amount, t.unit, calendar=cal, hours=hours)
        t.calendar_fallback = bool(clock.unknown_days_between(t.started_at, t.due_at, cal))
        if t.due_at != before and t.due_at > now:  # warned or overdue too early: the sweep looks again
            t.overdue_at = None
            t.due_soon_at = None
    Timer.objects.bulk_update(items, ["due_at", "calendar_fallback", "overdue_at", "due_soon_at"])
    for t in items:  # the case's own copy of its handling clock
        if t.kind == "handle" and t.assignment_id is None:
            Case.objects.filter(pk=t.case_id).update(handling_due_at=t.due_at)
    return len(items)


def calendar_year_entered_recompute(sender: object, *, year: int, **kwargs: object) -> int:
    """Receiver of ``workcal.signals.calendar_year_entered``: the clocks computed without ``year``'s
    data are recomputed in the transaction that entered it (connected in ``CasesConfig.ready``)."""
    return timers_recompute_unknown(years=[year])
