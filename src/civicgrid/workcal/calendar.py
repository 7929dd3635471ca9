"""The working calendar the clocks compute with: WorkingDay/CalendarYear rows, cached per process.

Days listed in :class:`~civicgrid.workcal.models.WorkingDay` override Monday–Friday; a year without a
:class:`~civicgrid.workcal.models.CalendarYear` row is *unknown*: Monday–Friday is assumed. (The case
engine then flags its timer ``calendar_fallback`` and warns; entering the year sends
``workcal.signals.calendar_year_entered``, on which it recomputes those timers.)
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date

from django.db.models import Max

from civicgrid.workcal.clock import MappingCalendar, WorkingHours
from civicgrid.workcal.models import CalendarYear, WorkingDay

log = logging.getLogger("civicgrid.workcal")
CHECK_SECONDS = 30.0


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calendar: MappingCalendar | None = None
        self.stamp: object = None
        self.checked = 0.0

    def get(self) -> MappingCalendar:
        now = time.monotonic()
        with self.lock:
            if self.calendar is None or now - self.checked > CHECK_SECONDS:
                stamp = (CalendarYear.objects.aggregate(m=Max("updated_at"))["m"], WorkingDay.objects.count())
                self.checked = now
                if self.calendar is None or stamp != self.stamp:
                    overrides = dict(WorkingDay.objects.values_list("day", "is_working"))
                    years = set(CalendarYear.objects.values_list("year", flat=True))
                    self.calendar = MappingCalendar(overrides, years)
                    self.stamp = stamp
            return self.calendar

    def invalidate(self) -> None:
        with self.lock:
            self.calendar = None


_cache = _Cache()
_warned_years: set[int] = set()


def unknown_years_not_warned(years: set[int]) -> set[int]:
    """The years of ``years`` not yet warned about since the calendar last changed (marks them warned)."""
    new = set(years) - _warned_years
    _warned_years.update(new)
    return new


def working_calendar() -> MappingCalendar:
    return _cache.get()


def working_calendar_invalidate() -> None:
    _cache.invalidate()
    _warned_years.clear()


def working_hours() -> WorkingHours:
    return WorkingHours.from_settings()


def missing_years(*years: int) -> list[int]:
    cal = working_calendar()
    return sorted(y for y in set(years) if not cal.known(date(y, 1, 1)))
