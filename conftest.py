"""Test-wide fixtures: a small two-district city built through the real import service, and the
cast — Alice (street dispatcher, district A), Bob (grid worker in Alice's street), Charlie
(street dispatcher, district B) who must never see or change district A's records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

X0, Y0, STEP = 114.0, 22.5, 0.1


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def feature(name: str, geom: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geom, "properties": {"name": name, **props}}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


@dataclass
class SmallCity:
    """City 440300 with districts A (440301, west) and B (440302, east); each district has two
    streets (south, north), each street one community, each community four grids (2×2)."""

    city: Any
    a: Any
    b: Any
    regions: dict[str, Any]

    def get(self, code: str) -> Any:
        return self.regions[code]


def build_small_city() -> SmallCity:
    from civicgrid.geo.models import Region
    from civicgrid.geo.services import city_create, regions_import

    city = city_create(code="440300", name="测试市", actor=None)
    districts = [feature("甲区", square(X0, Y0, X0 + STEP, Y0 + STEP), code="440301"),
                 feature("乙区", square(X0 + STEP, Y0, X0 + 2 * STEP, Y0 + STEP), code="440302")]
    regions_import(collection(*districts), level="district", code_field="code", actor=None, commit=True)
    streets, communities, grids = [], [], []
    for d, dcode in enumerate(("440301", "440302")):
        x = X0 + d * STEP
        for s in range(2):
            y = Y0 + s * STEP / 2
            scode = f"{dcode}{s + 1:03d}"
            streets.append(feature(f"{dcode}街道{s + 1}", square(x, y, x + STEP, y + STEP / 2), code=scode,
                                   parent=dcode))
            ccode = f"{scode}001"
            communities.append(feature(f"{scode}社区", square(x, y, x + STEP, y + STEP / 2), code=ccode,
                                       parent=scode))
            n = 0
            for gy in range(2):
                for gx in range(2):
                    n += 1
                    gx0, gy0 = x + gx * STEP / 2, y + gy * STEP / 4
                    grids.append(feature(f"{ccode}网格{n}", square(gx0, gy0, gx0 + STEP / 2, gy0 + STEP / 4),
                                         code=f"{ccode}{n:03d}", parent=ccode))
    for level, feats in (("street", streets), ("community", communities), ("grid", grids)):
        report = regions_import(collection(*feats), level=level, code_field="code", parent_field="parent",
                                actor=None, commit=True)
        assert report.ok, report.rejected
    regions = {r.code: r for r in Region.objects.all()}
    return SmallCity(city=city, a=regions["440301"], b=regions["440302"], regions=regions)


@pytest.fixture
def small_city(db: Any) -> SmallCity:
    return build_small_city()


@dataclass
class Cast:
    alice: Any  # street dispatcher of 440301001 (district A)
    bob: Any  # grid worker in grid 440301001001001
    charlie: Any  # street dispatcher of 440302001 (district B)
    admin_a: Any  # administrator of district A
    city: SmallCity


@pytest.fixture
def cast(small_city: SmallCity) -> Cast:
    from civicgrid.org.models import Role
    from civicgrid.org.services import membership_grant, user_create

    pw = "Correct-Horse-42"
    alice = user_create(actor=None, username="alice", password=pw, display_name="Alice")
    bob = user_create(actor=None, username="bob", password=pw, display_name="Bob")
    charlie = user_create(actor=None, username="charlie", password=pw, display_name="Charlie")
    admin_a = user_create(actor=None, username="admin_a", password=pw, display_name="Admin A")
    membership_grant(actor=None, user=alice, role=Role.DISPATCHER, region=small_city.get("440301001"))
    membership_grant(actor=None, user=bob, role=Role.GRID_WORKER, region=small_city.get("440301001001001"))
    membership_grant(actor=None, user=charlie, role=Role.DISPATCHER, region=small_city.get("440302001"))
    membership_grant(actor=None, user=admin_a, role=Role.ADMIN, region=small_city.a)
    return Cast(alice=alice, bob=bob, charlie=charlie, admin_a=admin_a, city=small_city)


PASSWORD = "Correct-Horse-42"


@pytest.fixture(autouse=True)
def _fresh_reference_cache() -> Any:
    """Each test's database is rolled back without signals: start every test with empty
    reference-data caches (core.refcache), no remembered API tokens and no sign-in failure counts,
    so no answer outlives the rows it came from."""
    from django.core.cache import caches

    from civicgrid.core.refcache import reference_changed
    from civicgrid.geo.selectors import lookup_index_invalidate
    from civicgrid.org.services import tokens_forget

    def forget() -> None:
        reference_changed()
        tokens_forget()
        caches["throttle"].clear()  # sign-in failure counts (per process in tests)
        # the point index is stamped by the newest boundary version, which two tests' identical
        # cities share; on PostgreSQL their regions have other ids (sequences do not roll back)
        lookup_index_invalidate()

    forget()
    yield
    forget()


@pytest.fixture(scope="session", autouse=True)
def _the_test_flush_may_empty_the_append_only_tables() -> Any:
    """Django empties every table after a test that commits (live-server page tests,
    ``transaction=True``) with the ``flush`` command. On SQLite that is a DELETE, which the
    append-only guards refuse on the audit trail and the timelines (core/appendonly.py): the flush,
    and only the flush, runs with them suspended. (PostgreSQL's flush is a superuser's TRUNCATE,
    which its guard lets through.)"""
    from django.core.management.commands import flush

    from civicgrid.core.appendonly import append_only_suspended

    original = flush.Command.handle

    def handle(self: Any, *args: Any, **options: Any) -> Any:
        with append_only_suspended():
            return original(self, *args, **options)

    flush.Command.handle = handle  # type: ignore[method-assign]
    yield
    flush.Command.handle = original  # type: ignore[method-assign]
