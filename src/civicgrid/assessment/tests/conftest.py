"""Fixtures: the events world (a small city, the centre, two departments, a resident) and events
walked to "replied", when the 回访 clock starts."""

from __future__ import annotations

from typing import Any

from civicgrid.cases.tests.conftest import (  # noqa: F401 - fixtures re-exported for this package
    at,
    calendar_2024,
    engine_caches,
    fresh,
    units,
)
from civicgrid.events.tests.conftest import T0, catalogue, jpeg, media_root, report, world  # noqa: F401


def replied(cast: Any, people: Any, *, text: str = "小区门口上水井盖缺失，有行人掉落危险", reporter: Any = None) -> Any:
    """An event reported by ``reporter`` (the resident Rita by default), handled by the water
    department, verified, closed and replied to: its follow-up clock runs."""
    from civicgrid.events import services as ev
    from civicgrid.events.photos import PhotoUpload

    case = report(reporter or people.rita, text=text).case
    ev.event_register(actor=cast.alice, case=fresh(case), now=T0)
    ev.event_dispatch(actor=cast.alice, case=fresh(case), now=T0)
    handler = fresh(case).lead_department
    person = people.evan if handler == people.water else people.dana
    ev.event_accept(actor=person, case=fresh(case), now=at(2024, 9, 23, 11))
    ev.event_report_back(actor=person, case=fresh(case), note="已补装", photos=[PhotoUpload("a.jpg", jpeg())],
                         now=at(2024, 9, 23, 14))
    ev.event_verify(actor=cast.bob, case=fresh(case), passed=True, note="已整改", now=at(2024, 9, 23, 14, 30))
    ev.event_reply(actor=cast.alice, case=fresh(case), reply="已处理", now=at(2024, 9, 23, 15))
    return fresh(case)
