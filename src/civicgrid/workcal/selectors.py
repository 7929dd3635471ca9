"""Reading the working calendar (工作日历): the years it has data for, a year's exceptions, the years
missing. (The calendar the clocks compute with, cached per process, is :mod:`civicgrid.workcal.calendar`.)"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.translation import gettext

from civicgrid.workcal.models import CalendarYear, WorkingDay


@dataclass(frozen=True)
class CalendarYearSummary:
    year: int
    source: str
    updated_at: dt.datetime
    holidays: int  # weekdays off (法定节假日 on Monday–Friday)
    make_up_days: int  # weekend working days (调休上班)

    @property
    def exceptions(self) -> int:
        return self.holidays + self.make_up_days


def calendar_years() -> list[CalendarYearSummary]:
    """The years the working calendar has data for, with their counts of exceptions (two queries)."""
    counts: dict[int, dict[bool, int]] = {}
    rows = (WorkingDay.objects.annotate(y=ExtractYear("day")).values("y", "is_working")
            .annotate(n=Count("pk")).order_by())
    for row in rows:
        counts.setdefault(row["y"], {})[row["is_working"]] = row["n"]
    return [CalendarYearSummary(year=cy.year, source=cy.source, updated_at=cy.updated_at,
                                holidays=counts.get(cy.year, {}).get(False, 0),
                                make_up_days=counts.get(cy.year, {}).get(True, 0))
            for cy in CalendarYear.objects.order_by("year")]


def calendar_year_days(*, year: int) -> QuerySet[WorkingDay]:
    """The exceptions stored for ``year`` (holidays on weekdays, make-up working days), in order."""
    return WorkingDay.objects.filter(day__gte=dt.date(year, 1, 1), day__lte=dt.date(year, 12, 31)).order_by("day")


def calendar_years_missing(*, today: dt.date | None = None) -> list[int]:
    """This year and next year, when the working calendar has no data for them: deadlines in such a
    year fall back to Monday–Friday."""
    today = today or timezone.localdate()
    wanted = [today.year, today.year + 1]
    have = set(CalendarYear.objects.filter(year__in=wanted).values_list("year", flat=True))
    return [y for y in wanted if y not in have]


def calendar_missing_message(year: int) -> str:
    return gettext("the working calendar has no data for %(year)d: deadlines fall back to Monday–Friday; "
                   "enter the holidays with `civicgrid workcal calendar import`") % {"year": year}
