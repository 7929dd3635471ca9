"""Fixtures for the events tests: the engine's (DRILL registration aside, the same cast and units,
fixed dates, the 2024–2025 working calendar), the default category catalogue, and a temporary media
root for photos."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from civicgrid.cases.tests.conftest import (  # noqa: F401 - fixtures re-exported for this package
    POINT_A,
    POINT_B,
    at,
    calendar_2024,
    engine_caches,
    fresh,
    units,
)

T0 = at(2024, 9, 23, 10)  # a Monday, 10:00 in Shanghai


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Any) -> Any:
    settings.CIVICGRID_MEDIA_ROOT = tmp_path / "media"
    return settings.CIVICGRID_MEDIA_ROOT


@pytest.fixture
def catalogue(db: Any) -> None:
    from civicgrid.taxonomy.services import catalogue_seed

    catalogue_seed(actor=None)


@pytest.fixture
def world(cast: Any, units: Any, catalogue: None, calendar_2024: None) -> Any:  # noqa: F811
    """The cast, district A's departments and the catalogue: everything an event needs."""
    return cast


def jpeg(*, gps: tuple[float, float] | None = None, size: tuple[int, int] = (40, 30), comment: str = "") -> bytes:
    """A small JPEG, with EXIF GPS tags (lon, lat) and a maker's note if asked."""
    image = Image.new("RGB", size, (200, 120, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if comment:
        exif[0x9286] = comment  # UserComment
    if gps is not None:
        lon, lat = gps

        def dms(value: float) -> tuple[float, float, float]:
            d = int(value)
            m = int((value - d) * 60)
            s = round(((value - d) * 60 - m) * 60, 4)
            return (float(d), float(m), s)

        exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def report(actor: Any, *, now: Any = T0, key: str = "", photos: Any = (), **fields: Any) -> Any:
    """A report through the intake service (default: a resident's report of a missing manhole cover in
    Bob's grid, category C0101 上水井盖 → district A's water bureau)."""
    from civicgrid.events.services import EventInput, event_report

    fields.setdefault("text", "小区门口上水井盖缺失，有行人掉落危险")
    fields.setdefault("category", "C0101")
    if "lon" not in fields and fields.get("lon", 0) is not None:
        fields["lon"], fields["lat"] = POINT_A
    fields.setdefault("channel", "resident" if actor is None or actor.username == "rita" else "patrol")
    return event_report(actor=actor, data=EventInput(**fields), photos=photos, idempotency_key=key, now=now)
