"""Reads for regions and grids, and the point → grid lookup (点位落格).

The lookup keeps an in-process :class:`~civicgrid.geo.index.GridIndex` of the current grid
boundaries. It is rebuilt when the boundary version changes: at once in the process that
committed an import, and within ``CHECK_SECONDS`` in every other process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.db.models import Max, QuerySet
from shapely.geometry import mapping

from civicgrid.core.refcache import reference_cached
from civicgrid.geo import crs as crsmod
from civicgrid.geo.index import GridIndex
from civicgrid.geo.models import Boundary, BoundaryVersion, Level, Region

CHECK_SECONDS = 2.0


@dataclass(frozen=True)
class Location:
    """Where a point falls: its grid and region chain, or the nearest community, or nothing."""

    lon: float  # WGS-84
    lat: float
    method: str  # "grid" | "nearest_community" | "unassigned"
    grid: Region | None = None
    community: Region | None = None
    street: Region | None = None
    district: Region | None = None
    city: Region | None = None
    boundary_version: int | None = None  # the version the grid's current shape dates from
    distance_m: float | None = None

    def chain_ids(self) -> dict[str, int | None]:
        return {lv: (getattr(self, lv).pk if getattr(self, lv) is not None else None)
                for lv in ("city", "district", "street", "community", "grid")}


class _LevelIndex:
    def __init__(self, level: str) -> None:
        rows = list(Boundary.objects.filter(valid_to__isnull=True, region__level=level, region__is_active=True)
                    .values_list("region_id", "region__code", "valid_from__number", "geom_wkb", "region__city_id",
                                 "region__district_id", "region__street_id", "region__community_id",
                                 "region__grid_id"))
        rows.sort(key=lambda r: r[1])
        self.region_ids = np.array([r[0] for r in rows], dtype=np.int64)
        self.versions = [r[2] for r in rows]
        # The region chain of each shape, so a caller that needs only ids makes no query.
        self.chains = [dict(zip(("city", "district", "street", "community", "grid"), r[4:9], strict=True))
                       for r in rows]
        geoms = [shapely.from_wkb(bytes(r[3])) for r in rows]
        self.index = GridIndex.build([r[1] for r in rows], geoms) if rows else None


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stamp: int | None = None
        self.checked = 0.0
        self.grids: _LevelIndex | None = None
        self.communities: _LevelIndex | None = None

    def get(self) -> tuple[_LevelIndex, _LevelIndex]:
        now = time.monotonic()
        with self.lock:
            if self.grids is None or now - self.checked > CHECK_SECONDS:
                stamp = BoundaryVersion.objects.aggregate(m=Max("number"))["m"] or 0
                self.checked = now
                if stamp != self.stamp or self.grids is None:
                    self.grids = _LevelIndex(Level.GRID)
                    self.communities = _LevelIndex(Level.COMMUNITY)
                    self.stamp = stamp
            assert self.communities is not None
            return self.grids, self.communities

    def invalidate(self) -> None:
        with self.lock:
            self.grids = self.communities = None
            self.stamp = None


_cache = _Cache()


def lookup_index_invalidate() -> None:
    _cache.invalidate()


def _to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    if crs == "gcj02":
        return crsmod.gcj02_to_wgs84(lon, lat)
    if crs != "wgs84":
        raise ValueError("crs must be wgs84 or gcj02")
    return lon, lat


@reference_cached(key=lambda region_id: ("region with its chain", region_id))
def _region_with_chain(region_id: int) -> Region:
    """A grid or community with the regions above it, as the answer of a look-up: read once per
    process and kept until a region is saved (``core.refcache``). Shared between requests: read only."""
    return Region.objects.select_related("community", "street", "district", "city").get(pk=region_id)


def point_locate(lon: float, lat: float, *, crs: str = "wgs84", max_meters: float | None = None) -> Location:
    """The grid that covers the point (boundary included; on a shared edge the lowest code), with its
    region chain; outside every grid, the nearest community within ``max_meters`` (setting
    ``CIVICGRID_NEAREST_COMMUNITY_METERS``); else unassigned."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError("longitude must be within ±180 and latitude within ±90")
    lon, lat = _to_wgs84(lon, lat, crs)
    grids, communities = _cache.get()
    if grids.index is not None:
        k = grids.index.query(lon, lat)
        if k >= 0:
            grid = _region_with_chain(int(grids.region_ids[k]))
            return Location(lon, lat, "grid", grid=grid, community=grid.community, street=grid.street,
                            district=grid.district, city=grid.city, boundary_version=grids.versions[k],
                            distance_m=0.0)
    limit = settings.CIVICGRID_NEAREST_COMMUNITY_METERS if max_meters is None else max_meters
    if communities.index is not None:
        k = communities.index.query(lon, lat)
        distance = 0.0
        if k < 0 and limit > 0:
            k = communities.index.nearest(lon, lat, limit)
            distance = float("nan")
        if k >= 0:
            community = _region_with_chain(int(communities.region_ids[k]))
            if distance != 0.0:
                distance = _distance_m(lon, lat, community)
            return Location(lon, lat, "nearest_community", community=community, street=community.street,
                            district=community.district, city=community.city,
                            boundary_version=communities.versions[k], distance_m=distance)
    return Location(lon, lat, "unassigned")


@dataclass(frozen=True)
class PointChain:
    """Where a point falls, as region ids only (no query): for writers such as case intake."""

    lon: float  # WGS-84
    lat: float
    method: str  # "grid" | "nearest_community" | "unassigned"
    ids: dict[str, int | None]
    boundary_version: int | None = None


def point_chain(lon: float, lat: float, *, crs: str = "wgs84", max_meters: float | None = None) -> PointChain:
    """The same answer as :func:`point_locate`, as the ids of the region chain, from the index alone."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError("longitude must be within ±180 and latitude within ±90")
    lon, lat = _to_wgs84(lon, lat, crs)
    grids, communities = _cache.get()
    if grids.index is not None:
        k = grids.index.query(lon, lat)
        if k >= 0:
            return PointChain(lon, lat, "grid", dict(grids.chains[k]), grids.versions[k])
    limit = settings.CIVICGRID_NEAREST_COMMUNITY_METERS if max_meters is None else max_meters
    if communities.index is not None:
        k = communities.index.query(lon, lat)
        if k < 0 and limit > 0:
            k = communities.index.nearest(lon, lat, limit)
        if k >= 0:
            return PointChain(lon, lat, "nearest_community", {**communities.chains[k], "grid": None},
                              communities.versions[k])
    return PointChain(lon, lat, "unassigned", dict.fromkeys(("city", "district", "street", "community", "grid")))


def _distance_m(lon: float, lat: float, region: Region) -> float:
    geom = region_shape(region)
    if geom is None:
        return float("nan")
    mx, my = crsmod.meters_per_degree(lat)
    scaled = shapely.transform(geom, lambda c: (c - np.array([lon, lat])) * np.array([mx, my]))
    return float(scaled.distance(shapely.Point(0, 0)))


def points_locate_grid_codes(lons: np.ndarray, lats: np.ndarray, *, crs: str = "wgs84") -> list[str | None]:
    """Batch lookup: the covering grid's code for each point (None where no grid covers it)."""
    if crs == "gcj02":
        lons, lats = crsmod.gcj02_to_wgs84_array(lons, lats)
    grids, _ = _cache.get()
    if grids.index is None:
        return [None] * len(lons)
    found = grids.index.query_many(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
    codes = grids.index.codes
    return [codes[k] if k >= 0 else None for k in found.tolist()]


def region_shape(region: Region, *, version: int | None = None) -> Any:
    """The region's shape now, or as it was in boundary version ``version``."""
    qs = Boundary.objects.filter(region=region)
    if version is None:
        qs = qs.filter(valid_to__isnull=True)
    else:
        qs = qs.filter(valid_from__number__lte=version).exclude(valid_to__number__lte=version)
    row = qs.values_list("geom_wkb", flat=True).first()
    return shapely.from_wkb(bytes(row)) if row is not None else None


def regions_geojson(regions: QuerySet[Region]) -> dict[str, Any]:
    """A FeatureCollection of the regions' current shapes, with code, name, level and parent code."""
    regions = regions.select_related("parent")
    ids = [r.pk for r in regions]
    shapes = dict(Boundary.objects.filter(region_id__in=ids, valid_to__isnull=True)
                  .values_list("region_id", "geom_wkb"))
    features = []
    for r in regions:
        wkb = shapes.get(r.pk)
        features.append({
            "type": "Feature",
            "geometry": mapping(shapely.from_wkb(bytes(wkb))) if wkb is not None else None,
            "properties": {"code": r.code, "name": r.name, "level": r.level,
                           "parent": r.parent.code if r.parent else None},
        })
    return {"type": "FeatureCollection", "features": features}


def region_by_code(code: str) -> Region | None:
    return Region.objects.filter(code=code).first()
