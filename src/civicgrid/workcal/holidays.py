"""National holidays and make-up working days (法定节假日与调休) from the ``chinese-calendar`` package.

The package ships the State Council's published calendar for a range of years and raises
``NotImplementedError`` for any other year (e.g. next year before its release is installed). Every
function here answers ``None`` for such a year instead of raising: the working-calendar table is
seeded from what the package knows, and an administrator enters a new year by hand when the State
Council publishes it (each winter).
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

import chinese_calendar

from civicgrid.workcal.clock import MappingCalendar

MAKE_UP_DAY = "调休上班"

# The widest span worth probing for; the package has data from 2004.
_PROBE_FIRST, _PROBE_LAST = 1949, 2200


def _days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


def _knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
        chinese_calendar.is_workday(date(year, 12, 31))
    except NotImplementedError:
        return False
    return True


@functools.cache
def covered_years() -> range:
    """The years the installed ``chinese-calendar`` has data for (``range(0)`` if none)."""
    known = [year for year in range(_PROBE_FIRST, _PROBE_LAST + 1) if _knows(year)]
    if not known:
        return range(0)
    return range(known[0], known[-1] + 1)


def chinese_calendar_days(year: int) -> dict[date, bool] | None:
    """Every day of ``year`` → whether it is a working day, or None when the package does not
    know the year."""
    try:
        return {day: bool(chinese_calendar.is_workday(day)) for day in _days_of(year)}
    except NotImplementedError:
        return None


def _chinese_name(english: str) -> str:
    try:
        return chinese_calendar.Holiday(english).chinese
    except ValueError:  # a holiday newer than this table: keep the package's English name
        return english


def holiday_names(year: int) -> dict[date, str] | None:
    """Named days of ``year``: holidays by their Chinese name (``国庆节``), make-up working days as
    ``调休上班（国庆节）``; ordinary weekdays and weekends are left out. None for an unknown year."""
    names: dict[date, str] = {}
    try:
        for day in _days_of(year):
            on_holiday, english = chinese_calendar.get_holiday_detail(day)
            if not english:
                continue
            name = _chinese_name(english)
            names[day] = name if on_holiday else f"{MAKE_UP_DAY}（{name}）"
    except NotImplementedError:
        return None
    return names


def calendar_exceptions(year: int) -> dict[date, tuple[bool, str]] | None:
    """The days of ``year`` that differ from Monday–Friday, as ``day → (working, name)``: what the
    working-calendar table stores (holidays on weekdays, make-up working days on weekends). None
    for an unknown year."""
    working = chinese_calendar_days(year)
    names = holiday_names(year)
    if working is None or names is None:
        return None
    return {day: (is_working, names.get(day, "")) for day, is_working in working.items()
            if is_working != (day.weekday() < 5)}


def package_calendar(years: range | None = None) -> MappingCalendar:
    """A working calendar straight from the package (for tests, tools and seeding checks): the
    given years, by default all it covers."""
    overrides: dict[date, bool] = {}
    known: set[int] = set()
    for year in covered_years() if years is None else years:
        exceptions = calendar_exceptions(year)
        if exceptions is None:
            continue
        known.add(year)
        overrides.update({day: is_working for day, (is_working, _name) in exceptions.items()})
    return MappingCalendar(overrides, known)
