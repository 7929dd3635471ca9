"""Fixtures of early warning: a category, a few cases planted where a test wants them, the small
city's cast (Alice: street dispatcher of 440301001; Bob: grid worker there; Charlie: street
dispatcher in district B; Admin A: district A's administrator), plus Lea (leader of street
440301001) and Aud (auditor of district A)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from civicgrid.workcal.clock import CALENDAR_TZ

COMMUNITY_A = "440301001001"  # in street 440301001 (Alice's), district A
COMMUNITY_B = "440302001001"  # in street 440302001 (Charlie's), district B
_codes = itertools.count(1)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CALENDAR_TZ)


@pytest.fixture(autouse=True)
def _fresh_calendar() -> Iterator[None]:
    from civicgrid.workcal.calendar import working_calendar_invalidate

    working_calendar_invalidate()
    yield
    working_calendar_invalidate()


@pytest.fixture
def roads(db: Any) -> Any:
    from civicgrid.taxonomy.models import Category

    return Category.objects.create(code="roads", name="道路")


def plant(city: Any, community: str, *, at_: dt.datetime, n: int = 1, category: Any = None,
          point: tuple[float, float] | None = None, closed: bool = False) -> list[Any]:
    """``n`` cases in ``community`` created at ``at_`` (saved directly: fixtures, not intake)."""
    from civicgrid.cases.models import Case

    region = city.get(community)
    rows = []
    for _ in range(n):
        code = f"W{next(_codes):09d}"
        rows.append(Case(case_type="drill", state="closed" if closed else "new", tracking_code=code,
                         title=f"case {code}", category=category, city_id=region.city_id,
                         district_id=region.district_id, street_id=region.street_id, community_id=region.pk,
                         lon=point[0] if point else None, lat=point[1] if point else None,
                         created_at=at_, closed_at=at_ if closed else None))
    return Case.objects.bulk_create(rows)


@pytest.fixture
def staff(cast: Any) -> Any:
    from civicgrid.org.models import Role
    from civicgrid.org.services import membership_grant, user_create

    pw = "Correct-Horse-42"
    lea = user_create(actor=None, username="lea", password=pw, display_name="Lea")
    aud = user_create(actor=None, username="aud", password=pw, display_name="Aud")
    membership_grant(actor=None, user=lea, role=Role.LEADER, region=cast.city.get("440301001"))
    membership_grant(actor=None, user=aud, role=Role.AUDITOR, region=cast.city.a)
    cast.lea, cast.aud = lea, aud
    return cast
