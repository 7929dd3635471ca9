"""Fixtures for the disputes tests: the engine's cast and calendar, mediation organisations of
district A (the committee of Alice's community, of her street and of district A, a medical
committee), Mia (a mediator of the community committee), Max (a mediator of district B's street
committee) and the API helper."""

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
    calendar_2024,
    engine_caches,
    fresh,
    units,
)

T0 = at(2024, 9, 23, 10)  # a Monday


@dataclass
class Mediation:
    community: Any  # 440301001001 people's mediation committee
    street: Any  # 440301001
    district: Any  # 440301
    medical: Any  # a professional committee for doctor-patient disputes, serving district A
    street_b: Any  # district B's street 440302001
    mia: Any  # mediator of `community`
    max: Any  # mediator of `street_b`
    cast: Any


@pytest.fixture
def mediation(cast: Any, calendar_2024: None) -> Mediation:  # noqa: F811
    from civicgrid.disputes.services import mediator_add, organisation_create
    from civicgrid.org.models import Role
    from civicgrid.org.services import membership_grant, user_create

    city = cast.city
    org = {}
    for code, kind, region in (("M-C", "peoples_community", "440301001001"),
                               ("M-S", "peoples_street", "440301001"),
                               ("M-D", "peoples_district", "440301"),
                               ("M-B", "peoples_street", "440302001")):
        org[code] = organisation_create(actor=None, code=code, name=f"{region}人民调解委员会", kind=kind,
                                        region=city.get(region))
    medical = organisation_create(actor=None, code="M-MED", name="甲区医患纠纷调解委员会", kind="professional",
                                  region=city.get("440301"), dispute_types=["medical"])
    mia = user_create(actor=None, username="mia", password="Correct-Horse-42", display_name="Mia")
    mx = user_create(actor=None, username="max", password="Correct-Horse-42", display_name="Max")
    membership_grant(actor=None, user=mia, role=Role.MEDIATOR, region=city.get("440301001001"))
    membership_grant(actor=None, user=mx, role=Role.MEDIATOR, region=city.get("440302001"))
    mediator_add(actor=None, organisation=org["M-C"], user=mia, is_chief=True)
    mediator_add(actor=None, organisation=org["M-B"], user=mx)
    return Mediation(community=org["M-C"], street=org["M-S"], district=org["M-D"], medical=medical,
                     street_b=org["M-B"], mia=mia, max=mx, cast=cast)


def register(actor: Any, *, point: tuple[float, float] | None = POINT_A, now: Any = T0, **fields: Any) -> Any:
    from civicgrid.disputes.services import DisputeInput, dispute_register

    fields.setdefault("title", "邻里漏水纠纷")
    fields.setdefault("dispute_type", "neighbour")
    fields.setdefault("summary", "楼上漏水，双方就赔偿争执")
    if point is not None:
        fields.setdefault("lon", point[0])
        fields.setdefault("lat", point[1])
    return dispute_register(actor=actor, data=DisputeInput(**fields), now=now)


def act(client: Any, case: Any, action: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"/api/v1/cases/{case.pk}/actions/{action}", data=json.dumps(body or {}),
                       content_type="application/json")


def fields_of(response: Any) -> dict[str, Any]:
    return response.json()["error"]["fields"]


@pytest.fixture(autouse=True)
def _english(settings):
    """The tests read messages as their English msgids: pages and API answers in English (a client
    without Accept-Language gets the site's language, zh-hans, whose catalogue translates them)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
