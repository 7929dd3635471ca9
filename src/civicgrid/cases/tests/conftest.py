"""Fixtures for the case engine's tests: the DRILL case type, two departments of district A with a
handler each (Dana: urban management, Evan: water), a resident (Rita), fixed dates in Asia/Shanghai
and a working calendar entered from the State Council's published holidays."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from django.utils import translation

from civicgrid.workcal.clock import CALENDAR_TZ

# A point inside grid 440301001001001 (Bob's grid, Alice's street, district A) and one inside
# district B's first grid (Charlie's street).
POINT_A = (114.02, 22.51)
POINT_B = (114.12, 22.51)
GRID_A = "440301001001001"
STREET_A = "440301001"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware instant in the working calendar's zone (Asia/Shanghai)."""
    return datetime(year, month, day, hour, minute, tzinfo=CALENDAR_TZ)


@pytest.fixture(autouse=True)
def engine_caches() -> Iterator[None]:
    """Per-process caches (the point lookup index, the working calendar) must not outlive the test
    database they were read from; messages are read as their English msgids."""
    from civicgrid.cases.testing import register_drill
    from civicgrid.geo.selectors import lookup_index_invalidate
    from civicgrid.workcal.calendar import working_calendar_invalidate

    register_drill()
    lookup_index_invalidate()
    working_calendar_invalidate()
    with translation.override("en"):
        yield
    lookup_index_invalidate()
    working_calendar_invalidate()


def calendar_enter(*years: int) -> None:
    """Enter the years' holidays and make-up working days (as an administrator would each winter)."""
    from civicgrid.workcal.calendar import working_calendar_invalidate
    from civicgrid.workcal.holidays import calendar_exceptions
    from civicgrid.workcal.models import CalendarYear, WorkingDay

    for year in years:
        exceptions = calendar_exceptions(year)
        assert exceptions is not None, f"chinese-calendar does not know {year}"
        CalendarYear.objects.get_or_create(year=year)
        for day, (working, name) in exceptions.items():
            WorkingDay.objects.update_or_create(day=day, defaults={"is_working": working, "name": name[:40]})
    working_calendar_invalidate()


@pytest.fixture
def calendar_2024(db: Any) -> None:
    calendar_enter(2024, 2025)


@dataclass
class Units:
    """District A's departments and their handlers, and a resident with an account."""

    urban: Any  # 城管 department of district A
    water: Any  # 水务 department of district A
    dana: Any  # handler of `urban`
    evan: Any  # handler of `water`
    rita: Any  # a resident (reports cases from her account)


@pytest.fixture
def units(cast: Any) -> Units:
    from civicgrid.org.models import Role
    from civicgrid.org.services import department_create, membership_grant, user_create

    a = cast.city.a
    urban = department_create(actor=None, code="440301-cg", name="甲区城管局", region=a, function="urban_management")
    water = department_create(actor=None, code="440301-sw", name="甲区水务局", region=a, function="water")
    dana = user_create(actor=None, username="dana", password="Correct-Horse-42", display_name="Dana")
    evan = user_create(actor=None, username="evan", password="Correct-Horse-42", display_name="Evan")
    rita = user_create(actor=None, username="rita", password="Correct-Horse-42", display_name="Rita")
    membership_grant(actor=None, user=dana, role=Role.DEPARTMENT_HANDLER, department=urban)
    membership_grant(actor=None, user=evan, role=Role.DEPARTMENT_HANDLER, department=water)
    membership_grant(actor=None, user=rita, role=Role.RESIDENT)
    return Units(urban=urban, water=water, dana=dana, evan=evan, rita=rita)


def drill_create(actor: Any, *, point: tuple[float, float] | None = POINT_A, now: datetime | None = None,
                 **kwargs: Any) -> Any:
    """A DRILL case reported at ``point`` (default: Bob's grid in district A)."""
    from civicgrid.cases.services import Location, case_create

    location = Location(lon=point[0], lat=point[1]) if point is not None else None
    kwargs.setdefault("title", "井盖缺失")
    return case_create(actor=actor, case_type="drill", location=location, now=now or at(2024, 9, 23, 10), **kwargs)


def fresh(case: Any) -> Any:
    """The case as the database has it now (a new object: the next actor's view)."""
    from civicgrid.cases.models import Case

    return Case.objects.get(pk=case.pk)


def sweeps_at_once(now: datetime, *, batch_size: int, workers: int = 2) -> list[Any]:
    """Run ``workers`` sweeps at the same moment, each in its own thread and connection (PostgreSQL:
    SQLite serialises writers); their reports, after checking that none failed."""
    import threading

    from django.db import connection

    from civicgrid.cases.sweep import cases_sweep

    barrier = threading.Barrier(workers)
    reports: list[Any] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait(timeout=10)
            reports.append(cases_sweep(now=now, batch_size=batch_size))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return reports
