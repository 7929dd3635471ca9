"""Fixtures for the petitions tests: the engine's cast, district A's units (Dana: urban management,
Evan: water), district A's petition office (Olga), the city's petition office (Cora), a leader of
district A (Leo), an auditor of district A (Audrey), and the working calendar of 2025–2026.

Hand-counted dates (statutory days: the start day is not counted, a last day on a rest day moves to
the next working day; National Day 2025 is 10-01..10-08 off, Sun 09-28 and Sat 10-11 worked):

- received Mon 2025-09-22 10:00: 15 days → last day Tue 10-07 (off) → Thu 10-09; due 10-10 00:00.
- accepted Tue 2025-10-14 10:00: 60 days → last day Sat 12-13 → Mon 12-15; due 12-16 00:00.
- delivered Mon 2025-11-03 10:00: 30 days → last day Wed 12-03 (working); due 12-04 00:00.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from civicgrid.cases.tests.conftest import (  # noqa: F401 - fixtures re-exported for this package
    GRID_A,
    POINT_A,
    POINT_B,
    at,
    calendar_enter,
    engine_caches,
    fresh,
    units,
)

MON = at(2025, 9, 22, 10)


@dataclass
class Office:
    office: Any  # 甲区信访局 (district A's petition office)
    city_office: Any  # 测试市信访局
    olga: Any  # handler of `office`
    cora: Any  # handler of `city_office`
    leo: Any  # leader of district A
    audrey: Any  # auditor of district A
    units: Any
    cast: Any


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.CIVICGRID_MEDIA_ROOT = tmp_path / "media"
    return settings.CIVICGRID_MEDIA_ROOT


@pytest.fixture
def calendar_2025(db: Any) -> None:
    calendar_enter(2025, 2026)


@pytest.fixture
def po(cast: Any, units: Any, calendar_2025: None) -> Office:  # noqa: F811
    from civicgrid.org.models import Role
    from civicgrid.org.services import department_create, membership_grant, user_create

    a = cast.city.a
    office = department_create(actor=None, code="440301-xf", name="甲区信访局", region=a, function="petitions")
    city_office = department_create(actor=None, code="440300-xf", name="测试市信访局", region=cast.city.city,
                                    function="petitions")
    pw = "Correct-Horse-42"
    olga = user_create(actor=None, username="olga", password=pw, display_name="Olga")
    cora = user_create(actor=None, username="cora", password=pw, display_name="Cora")
    leo = user_create(actor=None, username="leo", password=pw, display_name="Leo")
    audrey = user_create(actor=None, username="audrey", password=pw, display_name="Audrey")
    membership_grant(actor=None, user=olga, role=Role.DEPARTMENT_HANDLER, department=office)
    membership_grant(actor=None, user=cora, role=Role.DEPARTMENT_HANDLER, department=city_office)
    membership_grant(actor=None, user=leo, role=Role.LEADER, region=a)
    membership_grant(actor=None, user=audrey, role=Role.AUDITOR, region=a)
    return Office(office=office, city_office=city_office, olga=olga, cora=cora, leo=leo, audrey=audrey,
                  units=units, cast=cast)


PETITIONER = {"name": "王五", "id_number": "440301199001011234", "phone": "13800138000",
              "address": "甲区一街道1号"}


def receive(po: Office, *, kind: str = "claim", now: Any = MON, office: Any = None, actor: Any = None,
            petitioner: dict[str, str] | None = None, **fields: Any) -> Any:
    from civicgrid.cases.services import Location
    from civicgrid.petitions.services import Person, Petition, petition_receive

    fields.setdefault("title", "工资拖欠")
    fields.setdefault("matter", "某公司拖欠工资")
    fields.setdefault("location", Location(lon=POINT_A[0], lat=POINT_A[1]))
    p = Person(**(PETITIONER if petitioner is None else petitioner))
    return petition_receive(actor=actor or po.olga, office=office or po.office,
                            petition=Petition(kind=kind, petitioner=p, **fields), now=now)


def act(actor: Any, case: Any, action: str, now: Any, **data: Any) -> Any:
    from civicgrid.cases.rules import case_act

    return case_act(actor=actor, case=fresh(case), action=action, data=data, now=now)


def api_act(client: Any, case: Any, action: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"/api/v1/cases/{case.pk}/actions/{action}", data=json.dumps(body or {}),
                       content_type="application/json")
