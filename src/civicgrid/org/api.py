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


class AuditEntryOut(Schema):
    id: int
    at: str
    actor: str
    action: str
    target_type: str
    target_id: str
    target: str
    field: str | None = None
    purpose: str | None = None
    value: str | None = None  # a search's value, masked (138****8000)
    records: int | None = None
    detail: dict[str, Any] | None = None


@router.get("/audit/personal-data", response=list[AuditEntryOut],
            summary="The auditor's desk: reveals, exports, personal-data searches and bulk-read alerts (read only)")
def audit_personal_data(request: HttpRequest, actor: str = "", target: str = "", purpose: str = "", start: str = "",
                        end: str = "", kind: str = "", page: int = 1, page_size: int = 50) -> list[dict[str, Any]]:
    """Auditors (and superusers) only: anyone else gets 404, as for anything outside their reach.
    ``actor`` a user name; ``target`` ``type:id`` (``org.user:12``), an id or words of the record's
    name; ``purpose`` words of the stated purpose; ``start``/``end`` days (YYYY-MM-DD, both included);
    ``kind`` one of reveal, search, export, alert, rights, purge. A bad filter is a 422 naming the field."""
    from civicgrid.audit.selectors import TrailFilter, personal_data_trail, trail_row
    from civicgrid.core.api import page_params
    from civicgrid.org.selectors import may_read_audit_trail

    if getattr(request, "api_token", None) is not None or not may_read_audit_trail(request.user):
        raise ApiError(404, "not_found", "Not found.")
    f = TrailFilter.parse({"actor": actor, "target": target, "purpose": purpose, "start": start, "end": end,
                           "kind": kind})
    if f.errors:
        raise ApiError(422, "invalid", "The request has invalid fields.", f.errors)
    page, size = page_params(page, page_size)
    offset = (page - 1) * size
    return [trail_row(e) for e in personal_data_trail(f)[offset:offset + size]]
