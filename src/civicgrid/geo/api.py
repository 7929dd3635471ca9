"""Geo endpoints that need no jurisdiction: the point → grid lookup."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema

from civicgrid.core.api import ApiError
from civicgrid.core.ratelimit import rate_limit_public
from civicgrid.geo.selectors import point_locate

router = Router(tags=["geo"])


class LookupIn(Schema):
    lon: float
    lat: float
    crs: Literal["wgs84", "gcj02"] = "wgs84"


class RegionRef(Schema):
    code: str
    name: str


class LookupOut(Schema):
    method: str
    lon: float
    lat: float
    grid: RegionRef | None
    community: RegionRef | None
    street: RegionRef | None
    district: RegionRef | None
    city: RegionRef | None
    boundary_version: int | None
    distance_m: float | None


def _ref(region: object) -> dict[str, str] | None:
    return {"code": region.code, "name": region.name} if region is not None else None  # type: ignore[attr-defined]


@router.get("/lookup", response=LookupOut, auth=None, openapi_extra={"x-rate-limited": True},
            summary="Which grid covers a point (public: the resident's report page asks it)")
def lookup(request: HttpRequest, params: Query[LookupIn]) -> dict[str, object]:
    # Region names and codes are public reference data (the report page draws them); an anonymous
    # caller is rate-limited like every public endpoint.
    if not request.user.is_authenticated:
        rate_limit_public(request, "geo-lookup")
    try:
        loc = point_locate(params.lon, params.lat, crs=params.crs)
    except ValueError as exc:
        raise ApiError(422, "invalid", str(exc), {"lon": [str(exc)], "lat": [str(exc)]}) from None
    distance = loc.distance_m if loc.distance_m is None or loc.distance_m == loc.distance_m else None
    return {"method": loc.method, "lon": loc.lon, "lat": loc.lat, "grid": _ref(loc.grid),
            "community": _ref(loc.community), "street": _ref(loc.street), "district": _ref(loc.district),
            "city": _ref(loc.city), "boundary_version": loc.boundary_version, "distance_m": distance}
