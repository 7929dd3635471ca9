"""Regions and departments as the signed-in user's jurisdiction sees them."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema

from civicgrid.core.api import ApiError
from civicgrid.geo.models import LEVELS
from civicgrid.geo.selectors import regions_geojson
from civicgrid.org.permissions import MANAGE
from civicgrid.org.selectors import department_get, departments_visible, region_get, regions_visible
from civicgrid.org.services import region_rename

router = Router(tags=["jurisdiction"])


class RegionOut(Schema):
    code: str
    name: str
    level: str
    parent: str | None


class RegionPatch(Schema):
    name: str


class DepartmentOut(Schema):
    code: str
    name: str
    region: str


def _region_out(r: Any) -> dict[str, Any]:
    return {"code": r.code, "name": r.name, "level": r.level, "parent": r.parent.code if r.parent else None}


LevelName = Literal["city", "district", "street", "community", "grid"]


@router.get("/regions", response=list[RegionOut], summary="Regions in my jurisdiction")
def regions_list(request: HttpRequest, level: LevelName | None = None) -> list[dict[str, Any]]:
    return [_region_out(r) for r in regions_visible(request.user, level=level).select_related("parent")[:5000]]


@router.get("/regions/{code}", response=RegionOut, summary="One region (404 when outside my jurisdiction)")
def region_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    return _region_out(region_get(request.user, code))


@router.get("/regions/{code}/geojson", summary="A region and its children (or all its regions of a level) as GeoJSON")
def region_geojson(request: HttpRequest, code: str, level: LevelName | None = None) -> dict[str, Any]:
    """Without ``level``: the region and its children. With ``level`` (below the region's): every
    region of that level inside it — e.g. all the grids of a street — without the region itself."""
    region = region_get(request.user, code)
    if level is not None:
        if LEVELS.index(level) <= LEVELS.index(region.level):
            raise ApiError(422, "invalid", "The request has invalid fields.",
                           {"level": [f"A level below {region.level}."]})
        return regions_geojson(regions_visible(request.user, level=level).filter(**{region.level: region}))
    children = regions_visible(request.user).filter(parent=region)
    return regions_geojson(regions_visible(request.user).filter(pk=region.pk) | children)


@router.patch("/regions/{code}", response=RegionOut, summary="Rename a region in my jurisdiction")
def region_patch(request: HttpRequest, code: str, payload: RegionPatch) -> dict[str, Any]:
    region = region_get(request.user, code, MANAGE)
    return _region_out(region_rename(actor=request.user, region=region, name=payload.name))


@router.get("/departments", response=list[DepartmentOut], summary="Departments I can see")
def departments_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [{"code": d.code, "name": d.name, "region": d.region.code}
            for d in departments_visible(request.user).select_related("region")]


@router.get("/departments/{code}", response=DepartmentOut)
def department_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    d = department_get(request.user, code)
    return {"code": d.code, "name": d.name, "region": d.region.code}
