"""Clock arithmetic for case deadlines (时限计算): pure functions, no database.

Every computation happens in the working calendar's local time, Asia/Shanghai (no daylight saving
since 1991, so local wall-clock arithmetic is exact); arguments must be aware datetimes and results
are aware datetimes in that zone.

Units (the values of :class:`civicgrid.taxonomy.models.TimeUnit`):

``urgent_hours`` (紧急工作时)
    Plain hours, round the clock, holidays included.
``working_hours`` (工作时)
    Only time inside the working-hour windows (default 09:00–12:00 and 13:00–17:00) of working days
    counts. A start outside a window waits for the next one; a budget that runs out exactly at the
    end of a window is due at that end (4 working hours from 13:00 are due at 17:00 the same day,
    not at 09:00 the next working day).
``working_days`` (工作日)
    The same time of day N working days later. The clock start is normalised first: a start on a
    working day between the start of its first window and the end of its last window (lunch break
    included) is kept as is; any other start (a non-working day, before the first window, at or
    after the end of the last window) counts from the start of the first window of the next
    working day (the same day when the start is earlier that morning). Thus 5 working days from
    Friday 2024-09-27 10:00 are due Thursday 2024-10-10 10:00 (Sunday 09-29 is a make-up working
    day, 10-01..07 the National Day holiday: 09-29, 09-30, 10-08, 10-09, 10-10), and from a
    Saturday 15:00 they run from Monday 09:00. A budget that runs out exactly at midnight (only
    possible after a resume or with a window starting at 00:00) is due at 24:00 of the last
    working day, i.e. 00:00 of the next calendar day.
``calendar_days`` (自然日)
    The same local time N days later.
``natural_months`` (自然月)
    The same day of the month N months later at the same time, clamped to the month's end
    (January 31 + 1 month = February 28 or 29). Whole months only.
``statutory_days`` (法定期间，按日计算)
    A period in days counted as the Civil Code counts it (民法典 art. 201, 203), for statutory
    windows such as a petition's 60 days or a 30-day review request. Whole days only.

    - Art. 201: 按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算 — the day the
      period starts (the delivery, the filing) is not counted: it runs from 00:00 of the next
      day, whatever the time of the start.
    - Art. 203 para. 2: 期间的最后一日的截止时间为二十四时 — it ends at 24:00 of its last day
      (stored as 00:00 of the following day).
    - Art. 203 para. 1: 期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日 —
      a last day that is a rest day (a public holiday, or a weekend day that is not a make-up
      working day 调休) moves to the first working day after it.

    Days in between count whatever they are: only the last day moves. So 8 statutory days from
    2025-09-23 10:00 have their last day on 10-01, inside the National Day holiday (10-01..08),
    and end at 24:00 on Thursday 10-09 (due 2025-10-10 00:00); 10 from 2025-10-01 end on the
    make-up working Saturday 10-11 itself (due 10-12 00:00). An extension adds its days to the
    current end and applies the rest-day rule again; a resumed clock spends what it had left in
    real time and then does too. The clock's measure is real seconds, as for calendar days.

Budgets. For pausing (缓办/挂起) each unit has a *measure*: the seconds of the unit's own time
between two instants (:func:`working_seconds_between`). ``urgent_hours``, ``calendar_days`` and
``natural_months`` count real seconds; ``working_hours`` count seconds inside windows on working
days; ``working_days`` count the seconds of working days, each working day counting its whole 24
hours and other days nothing. ``due_at`` for an amount of working days is therefore the instant at
which ``amount × 86400`` such seconds have elapsed from the normalised start. Pausing stores the
budget still to run (:func:`remaining_after`); resuming spends it from the resume instant
(:func:`resume_due`). The due time moves by exactly the unit's time that elapsed during the pause,
and a pause that covers only non-counting time (a night, a weekend) does not move it at all.

The calendar is anything with ``is_working_day(day)`` and ``known(day)`` (:class:`DayKinds`); a
year the calendar has no data for falls back to Monday–Friday, and :func:`unknown_days_between`
names those years so the engine can warn and recompute once the year is entered.
"""

from __future__ import annotations

import calendar as _calendar
import functools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

CALENDAR_TZ = ZoneInfo("Asia/Shanghai")

URGENT_HOURS = "urgent_hours"
WORKING_HOURS = "working_hours"
WORKING_DAYS = "working_days"
CALENDAR_DAYS = "calendar_days"
NATURAL_MONTHS = "natural_months"
STATUTORY_DAYS = "statutory_days"
UNITS = (URGENT_HOURS, WORKING_HOURS, WORKING_DAYS, CALENDAR_DAYS, NATURAL_MONTHS, STATUTORY_DAYS)

#: Seconds of measure per unit of amount (natural months have no fixed length).
UNIT_SECONDS: dict[str, int | None] = {
    URGENT_HOURS: 3600,
    WORKING_HOURS: 3600,
    WORKING_DAYS: 86400,
    CALENDAR_DAYS: 86400,
    NATURAL_MONTHS: None,
    STATUTORY_DAYS: 86400,
}

DEFAULT_WORKING_HOURS = "09:00-12:00,13:00-17:00"
SETTING_NAME = "CIVICGRID_WORKING_HOURS"

# How far the clock looks for a working day before it gives up (a calendar with no working day
# for ten years is a data error, not a deadline).
_MAX_IDLE_DAYS = 3660


# --- calendars --------------------------------------------------------------------------------

@runtime_checkable
class DayKinds(Protocol):
    """What the clock needs from a working calendar (工作日历)."""

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day (上班)."""
        ...

    def known(self, day: date) -> bool:
        """Whether the calendar has data for the year of ``day`` (otherwise it assumes Mon–Fri)."""
        ...


class WeekdayCalendar:
    """The fallback: Monday–Friday are working days; knows no year."""

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5

    def known(self, day: date) -> bool:
        return False

    def __repr__(self) -> str:
        return "WeekdayCalendar()"


class MappingCalendar:
    """Explicit days over Monday–Friday: a day listed in ``overrides`` is working or not as listed
    (holidays on weekdays, make-up working days 调休 on weekends); any other day is Monday–Friday.
    ``known_years`` are the years the data covers."""

    def __init__(self, overrides: dict[date, bool] | None = None, known_years: set[int] | None = None) -> None:
        self.overrides = dict(overrides or {})
        self.known_years = set(known_years or ())

    def is_working_day(self, day: date) -> bool:
        listed = self.overrides.get(day)
        if listed is not None:
            return listed
        return day.weekday() < 5

    def known(self, day: date) -> bool:
        return day.year in self.known_years

    def __repr__(self) -> str:
        return f"MappingCalendar({len(self.overrides)} days, years={sorted(self.known_years)})"


# --- working hours ----------------------------------------------------------------------------

_WINDOW_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _hhmm(hour: str, minute: str, text: str) -> time:
    h, m = int(hour), int(minute)
    if h > 23 or m > 59:
        raise ValueError(f"working hours: {text.strip()!r} is not a valid time of day (HH:MM, 00:00–23:59)")
    return time(h, m)


@dataclass(frozen=True)
class WorkingHours:
    """The working-hour windows (工作时段) of every working day, in order, not overlapping."""

    windows: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13), time(17)))

    def __post_init__(self) -> None:
        windows = tuple((start, end) for start, end in self.windows)
        object.__setattr__(self, "windows", windows)
        if not windows:
            raise ValueError("working hours: at least one window is needed")
        previous_end: time | None = None
        for start, end in windows:
            if end <= start:
                raise ValueError(f"working hours: window {start:%H:%M}-{end:%H:%M} ends before it starts")
            if previous_end is not None and start < previous_end:
                raise ValueError(f"working hours: window {start:%H:%M}-{end:%H:%M} overlaps the previous one "
                                 f"(which ends at {previous_end:%H:%M}) or is out of order")
            previous_end = end

    @classmethod
    @functools.lru_cache(maxsize=16)  # a few distinct strings; the result is frozen
    def parse(cls, text: str) -> WorkingHours:
        """``"09:00-12:00,13:00-17:00"`` → windows; ValueError with the reason on bad input. Each
        distinct text is parsed once (every new clock asks for the working hours)."""
        if not text or not text.strip():
            raise ValueError("working hours: empty; expected e.g. '09:00-12:00,13:00-17:00'")
        windows = []
        for part in text.split(","):
            match = _WINDOW_RE.match(part)
            if not match:
                raise ValueError(f"working hours: {part.strip()!r} is not a window like '09:00-12:00'")
            start = _hhmm(match[1], match[2], part)
            end = _hhmm(match[3], match[4], part)
            if end <= start:
                raise ValueError(f"working hours: window {part.strip()!r} ends before it starts")
            windows.append((start, end))
        windows.sort()
        return cls(tuple(windows))

    @classmethod
    def default(cls) -> WorkingHours:
        return cls.parse(DEFAULT_WORKING_HOURS)

    @classmethod
    def from_settings(cls) -> WorkingHours:
        """From ``settings.CIVICGRID_WORKING_HOURS`` (a string as for :meth:`parse`), else the default."""
        from django.conf import settings

        value = getattr(settings, SETTING_NAME, None)
        return cls.parse(value) if value else cls.default()

    @property
    def day_start(self) -> time:
        """The start of the first window."""
        return self.windows[0][0]

    @property
    def day_end(self) -> time:
        """The end of the last window."""
        return self.windows[-1][1]

    @property
    def seconds_per_day(self) -> int:
        return sum(_seconds(end) - _seconds(start) for start, end in self.windows)

    def contains(self, moment: time) -> bool:
        """Whether a time of day is inside a window (start included, end excluded)."""
        return any(start <= moment < end for start, end in self.windows)

    def __str__(self) -> str:
        return ",".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in self.windows)


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


# --- local time -------------------------------------------------------------------------------

def _local(moment: datetime) -> datetime:
    """An aware datetime as naive Asia/Shanghai wall time."""
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: the clock needs aware datetimes")
    return moment.astimezone(CALENDAR_TZ).replace(tzinfo=None)


def _aware(local: datetime) -> datetime:
    return local.replace(tzinfo=CALENDAR_TZ)


def _local_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return _local(value).date()
    return value


def _check_unit(unit: str) -> None:
    if unit not in UNIT_SECONDS:
        raise ValueError(f"unknown time unit {unit!r}; expected one of {', '.join(UNITS)}")


def _check_amount(amount: float) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise TypeError(f"amount must be a number, got {amount!r}")
    if not math.isfinite(amount) or amount < 0:
        raise ValueError(f"amount must be a finite number ≥ 0, got {amount!r}")


def _whole_months(amount: float) -> int:
    if float(amount) != int(amount):
        raise ValueError(f"natural months must be whole, got {amount!r}")
    return int(amount)


def _whole_days(amount: float) -> int:
    if float(amount) != int(amount):
        raise ValueError(f"statutory days must be whole, got {amount!r}")
    return int(amount)


def _statutory_end(end: datetime, calendar: DayKinds) -> datetime:
    """A period ending at local ``end`` whose last day (the day of the instant just before it) is
    a rest day ends instead at 24:00 of the first working day after it (民法典 art. 203)."""
    last = (end - timedelta(microseconds=1)).date()
    if calendar.is_working_day(last):
        return end
    idle = 0
    while not calendar.is_working_day(last):
        idle += 1
        if idle > _MAX_IDLE_DAYS:
            raise ValueError(f"the working calendar has no working day after {last}")
        last += timedelta(days=1)
    return datetime.combine(last + timedelta(days=1), time())


def statutory_last_day(start: date | datetime, days: int, *, calendar: DayKinds) -> date:
    """The last day of a period of ``days`` statutory days that starts on ``start`` (a local
    date, or an aware instant): the start day is not counted (民法典 art. 201), a last day that is
    a rest day moves to the next working day (art. 203). The period ends at 24:00 of that day."""
    _check_amount(days)
    first = _local_date(start)
    end = _statutory_end(datetime.combine(first + timedelta(days=_whole_days(days) + 1), time()), calendar)
    return (end - timedelta(days=1)).date()


def _add_months(local: datetime, months: int) -> datetime:
    years, month0 = divmod(local.month - 1 + months, 12)
    year = local.year + years
    day = min(local.day, _calendar.monthrange(year, month0 + 1)[1])
    return local.replace(year=year, month=month0 + 1, day=day)


# --- counting intervals -----------------------------------------------------------------------

def _counts_real_time(unit: str) -> bool:
    return unit in (URGENT_HOURS, CALENDAR_DAYS, NATURAL_MONTHS, STATUTORY_DAYS)


def _day_spans(day: date, unit: str, hours: WorkingHours) -> list[tuple[datetime, datetime]]:
    """The counting spans of a working day, in local time."""
    if unit == WORKING_DAYS:
        start = datetime.combine(day, time())
        return [(start, start + timedelta(days=1))]
    return [(datetime.combine(day, start), datetime.combine(day, end)) for start, end in hours.windows]


def _forward(moment: datetime, unit: str, calendar: DayKinds, hours: WorkingHours
             ) -> Iterator[tuple[datetime, datetime]]:
    """Counting spans from ``moment`` on, clipped to start no earlier than it."""
    day, idle = moment.date(), 0
    while True:
        if calendar.is_working_day(day):
            idle = 0
            for start, end in _day_spans(day, unit, hours):
                if end > moment:
                    yield max(start, moment), end
        else:
            idle += 1
            if idle > _MAX_IDLE_DAYS:
                raise ValueError(f"the working calendar has no working day between {moment:%Y-%m-%d} and {day}")
        day += timedelta(days=1)


def _backward(moment: datetime, unit: str, calendar: DayKinds, hours: WorkingHours
              ) -> Iterator[tuple[datetime, datetime]]:
    """Counting spans before ``moment``, latest first, clipped to end no later than it."""
    day, idle = moment.date(), 0
    while True:
        if calendar.is_working_day(day):
            idle = 0
            for start, end in reversed(_day_spans(day, unit, hours)):
                if start < moment:
                    yield start, min(end, moment)
        else:
            idle += 1
            if idle > _MAX_IDLE_DAYS:
                raise ValueError(f"the working calendar has no working day between {day} and {moment:%Y-%m-%d}")
        day -= timedelta(days=1)


def _measure(a: datetime, b: datetime, unit: str, calendar: DayKinds, hours: WorkingHours) -> float:
    """Signed counting seconds from local ``a`` to local ``b``."""
    if _counts_real_time(unit):
        return (b - a).total_seconds()
    if b < a:
        return -_measure(b, a, unit, calendar, hours)
    total = 0.0
    for start, end in _forward(a, unit, calendar, hours):
        if start >= b:
            break
        total += (min(end, b) - start).total_seconds()
    return total


def _advance(moment: datetime, budget: float, unit: str, calendar: DayKinds, hours: WorkingHours) -> datetime:
    """The earliest local instant at which ``budget`` counting seconds have run from ``moment``
    (for a negative budget: the latest instant that far before it)."""
    if _counts_real_time(unit):
        return moment + timedelta(seconds=budget)
    if budget == 0:
        return moment
    if budget > 0:
        for start, end in _forward(moment, unit, calendar, hours):
            length = (end - start).total_seconds()
            if budget <= length:
                return start + timedelta(seconds=budget)
            budget -= length
    else:
        need = -budget
        for start, end in _backward(moment, unit, calendar, hours):
            length = (end - start).total_seconds()
            if need <= length:
                return end - timedelta(seconds=need)
            need -= length
    raise AssertionError("unreachable")  # pragma: no cover - the span generators never end


def _clock_start_local(local: datetime, unit: str, calendar: DayKinds, hours: WorkingHours) -> datetime:
    if unit != WORKING_DAYS:
        return local
    day, moment = local.date(), local.time()
    if calendar.is_working_day(day):
        if hours.day_start <= moment < hours.day_end:
            return local
        if moment < hours.day_start:
            return datetime.combine(day, hours.day_start)
    idle = 0
    day += timedelta(days=1)
    while not calendar.is_working_day(day):
        idle += 1
        if idle > _MAX_IDLE_DAYS:
            raise ValueError(f"the working calendar has no working day after {local:%Y-%m-%d}")
        day += timedelta(days=1)
    return datetime.combine(day, hours.day_start)


# --- public API -------------------------------------------------------------------------------

def clock_start(start: datetime, unit: str, *, calendar: DayKinds, hours: WorkingHours) -> datetime:
    """The instant a clock actually starts counting from (only ``working_days`` normalise; see the
    module docstring). Other units return ``start`` (in local time)."""
    _check_unit(unit)
    return _aware(_clock_start_local(_local(start), unit, calendar, hours))


def due_at(start: datetime, amount: float, unit: str, *, calendar: DayKinds, hours: WorkingHours) -> datetime:
    """When a clock of ``amount`` ``unit`` started at ``start`` is due (aware, Asia/Shanghai)."""
    _check_unit(unit)
    _check_amount(amount)
    local = _local(start)
    if unit == NATURAL_MONTHS:
        return _aware(_add_months(local, _whole_months(amount)))
    if unit == CALENDAR_DAYS:
        return _aware(local + timedelta(days=amount))
    if unit == STATUTORY_DAYS:  # from 00:00 after the start day, to 24:00 of the (moved) last day
        begin = datetime.combine(local.date() + timedelta(days=1), time())
        return _aware(_statutory_end(begin + timedelta(days=_whole_days(amount)), calendar))
    local = _clock_start_local(local, unit, calendar, hours)
    per_unit = UNIT_SECONDS[unit]
    assert per_unit is not None
    return _aware(_advance(local, amount * per_unit, unit, calendar, hours))


def extend(due: datetime, amount: float, unit: str, *, calendar: DayKinds, hours: WorkingHours) -> datetime:
    """An extension (延期): ``amount`` ``unit`` added to the current due time. Working days and
    working hours are counted from the due time itself (no normalisation: a due time is already a
    working instant); natural months keep the due day of the month, clamped; statutory days are
    added to the current end and its last day moved off a rest day again (民法典 art. 203)."""
    _check_unit(unit)
    _check_amount(amount)
    local = _local(due)
    if unit == NATURAL_MONTHS:
        return _aware(_add_months(local, _whole_months(amount)))
    if unit == CALENDAR_DAYS:
        return _aware(local + timedelta(days=amount))
    if unit == STATUTORY_DAYS:
        return _aware(_statutory_end(local + timedelta(days=_whole_days(amount)), calendar))
    per_unit = UNIT_SECONDS[unit]
    assert per_unit is not None
    return _aware(_advance(local, amount * per_unit, unit, calendar, hours))


def working_seconds_between(a: datetime, b: datetime, *, unit: str, calendar: DayKinds,
                            hours: WorkingHours) -> float:
    """Seconds of the unit's own time from ``a`` to ``b`` (negative when ``b`` is before ``a``):
    real seconds for urgent hours, calendar days and natural months; seconds inside working-hour
    windows of working days for working hours; whole 24-hour working days for working days."""
    _check_unit(unit)
    return _measure(_local(a), _local(b), unit, calendar, hours)


def remaining_after(due: datetime, paused_at: datetime, *, unit: str, calendar: DayKinds,
                    hours: WorkingHours) -> float:
    """Pause (挂起): the budget still to run, in the unit's seconds (negative when already overdue)."""
    return working_seconds_between(paused_at, due, unit=unit, calendar=calendar, hours=hours)


def resume_due(resumed_at: datetime, remaining: float, *, unit: str, calendar: DayKinds,
               hours: WorkingHours) -> datetime:
    """Resume: the new due time, spending ``remaining`` (from :func:`remaining_after`) from the
    resume instant. A negative remainder (paused when overdue) stays overdue by as much. A
    statutory period that would now end on a rest day ends on the next working day (art. 203)."""
    _check_unit(unit)
    if not math.isfinite(remaining):
        raise ValueError(f"remaining must be finite, got {remaining!r}")
    end = _advance(_local(resumed_at), remaining, unit, calendar, hours)
    if unit == STATUTORY_DAYS and remaining > 0:
        end = _statutory_end(end, calendar)
    return _aware(end)


def due_after_pause(due: datetime, paused_at: datetime, resumed_at: datetime, *, unit: str,
                    calendar: DayKinds, hours: WorkingHours) -> datetime:
    """Pause and resume in one step: the due time moved by the unit's time between the two."""
    if resumed_at < paused_at:
        raise ValueError("a clock cannot resume before it was paused")
    remaining = remaining_after(due, paused_at, unit=unit, calendar=calendar, hours=hours)
    return resume_due(resumed_at, remaining, unit=unit, calendar=calendar, hours=hours)


def progress(start: datetime, due: datetime, at: datetime, *, unit: str, calendar: DayKinds,
             hours: WorkingHours) -> float:
    """The share of the clock used at ``at`` (0 at the start, 1 at the due time, above 1 when
    overdue), in the unit's own time; useful for a due-soon warning (预警)."""
    _check_unit(unit)
    begin = _clock_start_local(_local(start), unit, calendar, hours)
    total = _measure(begin, _local(due), unit, calendar, hours)
    used = _measure(begin, _local(at), unit, calendar, hours)
    if total <= 0:
        return 1.0 if used >= 0 else 0.0
    return used / total


def in_units(seconds: float, unit: str) -> float:
    """Budget seconds expressed in the unit (hours or days); natural months are shown in days."""
    _check_unit(unit)
    per_unit = UNIT_SECONDS[unit] or 86400
    return seconds / per_unit


def unknown_days_between(a: date | datetime, b: date | datetime, calendar: DayKinds) -> set[int]:
    """The years from ``a`` to ``b`` (either order, local dates) the calendar has no data for:
    computations touching them assumed Monday–Friday and must be redone once the year is entered."""
    first, last = sorted((_local_date(a), _local_date(b)))
    return {year for year in range(first.year, last.year + 1) if not calendar.known(date(year, 1, 1))}
