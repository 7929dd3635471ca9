"""Admin screens for regions and boundary versions (区域与网格).

geo may not import org (org → geo), yet the region admin must be scoped by jurisdiction and save
renames through ``org.services.region_rename``. So this module holds the display part of the
region admin (:class:`RegionAdminBase`, not registered), and ``civicgrid.org.admin`` registers
its scoped subclass. Boundary versions carry no jurisdiction and are registered here, read-only.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from shapely.geometry import mapping

from civicgrid.geo.models import Boundary, BoundaryVersion, Region
from civicgrid.geo.selectors import region_shape

GEOJSON_PREVIEW_CHARS = 20_000
CHAIN_FIELDS = ("city", "district", "street", "community", "grid")


def _rounded(coords: Any, digits: int = 6) -> Any:
    """Coordinates rounded for display (6 decimals ≈ 0.1 m); tuples become lists."""
    if isinstance(coords, dict):
        return {k: _rounded(v, digits) for k, v in coords.items()}
    if isinstance(coords, (list, tuple)):
        return [_rounded(c, digits) for c in coords]
    if isinstance(coords, float):
        return round(coords, digits)
    return coords


def _area_text(area_m2: float) -> str:
    if area_m2 >= 1_000_000:
        return f"{area_m2 / 1_000_000:,.3f} km²"
    return f"{area_m2:,.0f} m²"


class RegionAdminBase(admin.ModelAdmin):
    """Read-only display of a region: only the name may change, and only through a service
    (the subclass in ``civicgrid.org.admin`` wires it). Regions themselves come from imports."""

    list_display = ("code", "name", "level", "parent", "is_active")
    list_display_links = ("code", "name")
    list_filter = ("level", "is_active", "dedicated")
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    ordering = ("code",)
    list_per_page = 100
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("code", "name", "level", "parent", "dedicated", "is_active", "source_id")}),
        (_("Region chain"), {"fields": CHAIN_FIELDS}),
        (_("Boundary"), {"fields": ("boundary_area", "boundary_history", "boundary_geojson")}),
        (_("Dates"), {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = ("code", "level", "parent", "dedicated", "is_active", "source_id", *CHAIN_FIELDS,
                       "boundary_area", "boundary_history", "boundary_geojson", "created_at", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # regions and grids come from the GeoJSON import (dry run, then --commit)

    def has_delete_permission(self, request: HttpRequest, obj: Region | None = None) -> bool:
        return False  # a region is retired by a re-import, never deleted: cases keep pointing at it

    @admin.display(description=_("current area"))
    def boundary_area(self, obj: Region) -> str:
        current = Boundary.objects.filter(region=obj, valid_to__isnull=True)
        row = current.values_list("area_m2", flat=True).first()
        return _area_text(row) if row is not None else "—"

    @admin.display(description=_("boundary history"))
    def boundary_history(self, obj: Region) -> str:
        rows = (Boundary.objects.filter(region=obj).select_related("valid_from", "valid_to")
                .order_by("-valid_from__number"))
        if not rows:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>v{} → {}: {}</li>", (
                (b.valid_from.number, f"v{b.valid_to.number}" if b.valid_to else _("current"),
                 _area_text(b.area_m2)) for b in rows)))

    @admin.display(description=_("current boundary (GeoJSON)"))
    def boundary_geojson(self, obj: Region) -> str:
        geom = region_shape(obj)
        if geom is None:
            return "—"
        text = json.dumps({"type": "Feature", "properties": {"code": obj.code, "name": obj.name},
                           "geometry": _rounded(mapping(geom))}, ensure_ascii=False)
        if len(text) > GEOJSON_PREVIEW_CHARS:
            text = text[:GEOJSON_PREVIEW_CHARS] + " …"
        return format_html('<textarea readonly rows="8" class="vLargeTextField">{}</textarea>', text)


@admin.register(BoundaryVersion)
class BoundaryVersionAdmin(admin.ModelAdmin):
    """Boundary versions (边界版本) are written by imports only: this list is for reading."""

    list_display = ("number", "level", "source", "created_at", "created_by")
    list_filter = ("level",)
    search_fields = ("source", "note")
    list_select_related = ("created_by",)
    ordering = ("-number",)
    readonly_fields = ("number", "level", "source", "note", "created_at", "created_by")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: BoundaryVersion | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: BoundaryVersion | None = None) -> bool:
        return False
