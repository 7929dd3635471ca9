"""Fixtures for the page tests: the events tests' world (the cast — Alice dispatcher of street A,
Bob grid worker in her street, Charlie dispatcher in district B — with district A's departments and
their handlers Dana (urban management) and Evan (water), the resident Rita, the catalogue), and
helpers that walk an event through the loop by the services, as the other pages would."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from civicgrid.events.tests.conftest import (  # noqa: F401 - fixtures re-exported for this package
    POINT_A,
    POINT_B,
    calendar_2024,
    catalogue,
    engine_caches,
    jpeg,
    media_root,
    units,
    world,
)

BIN = "C0301"  # 垃圾箱 (rubbish bin): routed to district A's urban management (Dana's department)


def client_for(user: Any = None, lang: str = "") -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    if lang:
        c.cookies["django_language"] = lang
    return c


@pytest.fixture
def as_user() -> Any:
    return client_for


def reported(*, point: tuple[float, float] = POINT_A, category: str = BIN, phone: str = "13800138000",
             text: str = "小区门口垃圾箱破损，垃圾散落一地", **kw: Any) -> Any:
    """A resident's report through the intake service (anonymous web visitor)."""
    from civicgrid.events.services import EventInput, event_report

    data = EventInput(text=text, category=category, lon=point[0], lat=point[1], reporter_phone=phone,
                      reporter_name="张三", **kw)
    result = event_report(actor=None, data=data)
    SECRETS[result.case.tracking_code] = result.rating_secret
    return result.case


SECRETS: dict[str, str] = {}  # tracking code → the rating secret its reporter was given


def secret_of(case: Any) -> str:
    return SECRETS[case.tracking_code]


def fresh(case: Any) -> Any:
    from civicgrid.cases.models import Case

    return Case.objects.get(pk=case.pk)


def walk(case: Any, cast: Any, units: Any, to: str) -> Any:  # noqa: F811 - the fixture's value, passed in
    """Take the event along the loop up to state ``to`` through the services."""
    from civicgrid.events import services as ev
    from civicgrid.events.photos import PhotoUpload

    steps = [
        ("registered", lambda c: ev.event_register(actor=cast.alice, case=c)),
        ("dispatched", lambda c: ev.event_dispatch(actor=cast.alice, case=c)),
        ("handling", lambda c: ev.event_accept(actor=units.dana, case=c)),
        ("verifying", lambda c: ev.event_report_back(actor=units.dana, case=c, note="已更换",
                                                     photos=[PhotoUpload("a.jpg", jpeg())])),
        ("closed", lambda c: ev.event_verify(actor=cast.bob, case=c, passed=True, note="现场已修复")),
        ("replied", lambda c: ev.event_reply(actor=cast.alice, case=c, reply="垃圾箱已更换，感谢您的反映")),
    ]
    order = [s for s, _ in steps]
    start = order.index(case.state) + 1 if case.state in order else 0
    for state, step in steps[start:]:
        step(fresh(case))
        if state == to:
            break
    return fresh(case)
