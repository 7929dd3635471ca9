"""Cut an area into grid cells (网格) of roughly a target area.

The area (WGS-84 lon/lat) is overlaid with a square lattice whose side is
``sqrt(target_area_m2)`` metres, converted to degrees with
:func:`~civicgrid.geo.crs.meters_per_degree` at the area's centroid, and clipped
to the area. Clipped parts smaller than 25 % of the target are then merged into
the touching piece they share the longest border with (an isolated part, e.g. a
small island, goes to the nearest piece), so the result has no slivers. Every
output piece is a valid Polygon or MultiPolygon, pieces do not overlap, and their
union is the input area (up to floating point noise).

The output order is deterministic: row-major over the lattice (north to south,
then west to east) by each piece's representative point.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from civicgrid.geo.crs import meters_per_degree

__all__ = ["MIN_PIECE_FRACTION", "polygon_parts", "subdivide"]

MIN_PIECE_FRACTION = 0.25


def polygon_parts(geom: BaseGeometry) -> list[Polygon]:
    """The non-empty polygonal parts of any geometry (lines and points are dropped)."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return [g for g in geom.geoms if not g.is_empty]
    if hasattr(geom, "geoms"):
        out: list[Polygon] = []
        for g in geom.geoms:
            out.extend(polygon_parts(g))
        return out
    return []


def _as_polygonal(parts: list[Polygon]) -> Polygon | MultiPolygon:
    if len(parts) == 1:
        return parts[0]
    return MultiPolygon(parts)


def _clean(geom: BaseGeometry) -> Polygon | MultiPolygon:
    """Valid polygonal version of ``geom`` (drops degenerate line/point parts)."""
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = polygon_parts(geom)
    if not parts:
        return Polygon()
    return _as_polygonal(parts)


def subdivide(geom: BaseGeometry, target_area_m2: float) -> list[Polygon | MultiPolygon]:
    """Cut ``geom`` (lon/lat WGS-84) into pieces of roughly ``target_area_m2`` square metres.

    Returns a list of valid Polygons/MultiPolygons that do not overlap and whose union
    is ``geom``. No piece is smaller than 25 % of the target unless the whole input
    is (then the input itself is the only piece).
    """
    if target_area_m2 <= 0 or not math.isfinite(target_area_m2):
        raise ValueError("target_area_m2 must be a positive number")
    geom = _clean(geom)
    if geom.is_empty:
        return []

    minx, miny, maxx, maxy = geom.bounds
    mx, my = meters_per_degree(geom.centroid.y)
    m2_per_deg2 = mx * my
    target_deg2 = target_area_m2 / m2_per_deg2
    min_deg2 = MIN_PIECE_FRACTION * target_deg2
    if geom.area <= target_deg2:
        # Already no bigger than one piece.
        return [geom]

    side_m = math.sqrt(target_area_m2)
    dx = side_m / mx
    dy = side_m / my
    # Center the lattice on the bounding box so that edge cells are balanced.
    nx = max(1, math.ceil((maxx - minx) / dx))
    ny = max(1, math.ceil((maxy - miny) / dy))
    x0 = (minx + maxx) / 2.0 - nx * dx / 2.0
    y0 = (miny + maxy) / 2.0 - ny * dy / 2.0

    ix, iy = np.meshgrid(np.arange(nx), np.arange(ny))
    ix = ix.ravel()
    iy = iy.ravel()
    # Lattice lines are computed once so neighbouring boxes share exact coordinates.
    xs = x0 + np.arange(nx + 1) * dx
    ys = y0 + np.arange(ny + 1) * dy
    xs[0] = min(xs[0], minx)
    ys[0] = min(ys[0], miny)
    xs[-1] = max(xs[-1], maxx)
    ys[-1] = max(ys[-1], maxy)
    boxes = shapely.box(xs[ix], ys[iy], xs[ix + 1], ys[iy + 1])

    shapely.prepare(geom)
    hit = shapely.intersects(geom, boxes)
    inside = np.zeros(len(boxes), dtype=bool)
    inside[hit] = shapely.contains_properly(geom, boxes[hit])
    partial = hit & ~inside

    pieces: list[Polygon] = []
    piece_cell: list[int] = []
    for i in np.flatnonzero(inside):
        pieces.append(boxes[i])
        piece_cell.append(int(i))
    if partial.any():
        clipped = shapely.intersection(boxes[partial], geom)
        for i, g in zip(np.flatnonzero(partial), clipped, strict=True):
            for part in polygon_parts(g):
                if part.area > 0:
                    pieces.append(part)
                    piece_cell.append(int(i))
    shapely.destroy_prepared(geom)

    merged = _merge_small(pieces, min_deg2)
    return _sorted_row_major(merged, x0, y0, dx, dy)


def _merge_small(pieces: list[Polygon], min_area: float) -> list[Polygon | MultiPolygon]:
    """Merge pieces below ``min_area`` into neighbours until none is left (or one piece)."""
    n = len(pieces)
    if n <= 1:
        return list(pieces)
    geoms: list[BaseGeometry | None] = list(pieces)
    areas = np.array([g.area for g in pieces])
    # Groups: every original piece belongs to one group (union-find, flat).
    owner = np.arange(n)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    tree = shapely.STRtree(pieces)
    eps = 1e-9 * max(1.0, *(abs(c) for c in pieces[0].bounds))

    def neighbours(gid: int, geom: BaseGeometry) -> list[int]:
        cand = tree.query(shapely.buffer(geom, eps), predicate="intersects")
        gids = {int(owner[c]) for c in cand}
        gids.discard(gid)
        return sorted(gids)

    while len(members) > 1:
        small = [g for g in members if areas[g] < min_area]
        if not small:
            break
        # Smallest first; ties broken by group id for determinism.
        gid = min(small, key=lambda g: (areas[g], g))
        geom = geoms[gid]
        assert geom is not None
        nbrs = neighbours(gid, geom)
        if nbrs:
            boundary = geom.boundary
            nbr_geoms = [geoms[g] for g in nbrs]
            shared = shapely.length(
                shapely.intersection(boundary, shapely.buffer(np.array(nbr_geoms, dtype=object), eps))
            )
            order = sorted(range(len(nbrs)), key=lambda k: (-round(float(shared[k]) / eps), -areas[nbrs[k]], nbrs[k]))
            target = nbrs[order[0]]
        else:
            # Isolated part (island): merge into the nearest group.
            others = [g for g in members if g != gid]
            dists = shapely.distance(geom, np.array([geoms[g] for g in others], dtype=object))
            k = int(np.lexsort((np.array(others), dists))[0])
            target = others[k]
        union = _clean(shapely.union(geoms[target], geom))
        geoms[target] = union
        areas[target] = union.area
        for m in members[gid]:
            owner[m] = target
        members[target].extend(members.pop(gid))
        geoms[gid] = None
    return [geoms[g] for g in sorted(members)]  # type: ignore[misc]


def _sorted_row_major(
    pieces: list[Polygon | MultiPolygon], x0: float, y0: float, dx: float, dy: float
) -> list[Polygon | MultiPolygon]:
    if not pieces:
        return []
    arr = np.array(pieces, dtype=object)
    pts = shapely.point_on_surface(arr)
    px = shapely.get_x(pts)
    py = shapely.get_y(pts)
    row = np.floor((py - y0) / dy)
    col = np.floor((px - x0) / dx)
    order = np.lexsort((px, -py, col, -row))
    return [pieces[i] for i in order]
