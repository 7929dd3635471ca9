"""subdivide(): pieces of about the target area, no slivers, exact cover (pure, no database)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
import shapely.affinity
from shapely.geometry import MultiPolygon, Polygon, box

from civicgrid.geo.crs import meters_per_degree
from civicgrid.geo.subdivide import subdivide

LON, LAT = 114.05, 22.55
MX, MY = meters_per_degree(LAT)


def deg_box(w_m: float, h_m: float, x_m: float = 0.0, y_m: float = 0.0):
    return box(LON + x_m / MX, LAT + y_m / MY, LON + (x_m + w_m) / MX, LAT + (y_m + h_m) / MY)


def area_m2(g) -> float:
    mx, my = meters_per_degree(g.centroid.y)
    return g.area * mx * my


def check_partition(geom, pieces, target_m2, *, allow_small=False):
    assert pieces, "no pieces"
    for p in pieces:
        assert p.geom_type in ("Polygon", "MultiPolygon")
        assert p.is_valid
        assert not p.is_empty
    union = shapely.union_all(pieces)
    # Union equals the input within a tiny tolerance.
    assert shapely.symmetric_difference(union, geom).area <= 1e-9 * geom.area
    # No overlaps: areas add up to the union's area, and pairwise intersections are noise.
    total = sum(p.area for p in pieces)
    assert total == pytest.approx(union.area, rel=1e-9)
    tree = shapely.STRtree(pieces)
    a, b = tree.query(pieces, predicate="intersects")
    pairs = a < b
    if pairs.any():
        inter = shapely.area(shapely.intersection(np.array(pieces)[a[pairs]], np.array(pieces)[b[pairs]]))
        assert inter.max() <= 1e-12 * geom.area
    if not allow_small:
        smallest = min(area_m2(p) for p in pieces)
        assert smallest >= 0.25 * target_m2 * (1 - 1e-6)


def test_square_is_cut_into_lattice_cells():
    geom = deg_box(2000, 2000)
    pieces = subdivide(geom, 200_000)
    check_partition(geom, pieces, 200_000)
    assert 16 <= len(pieces) <= 30
    areas = np.array([area_m2(p) for p in pieces])
    # Square lattice: the interior cells (3 x 3 here) are exactly the target.
    assert np.sum(np.abs(areas / 200_000 - 1) < 0.01) >= 9
    assert areas.max() < 2.5 * 200_000


def test_irregular_polygon_with_hole():
    outer = shapely.Point(LON, LAT).buffer(3000 / MY, quad_segs=32)
    outer = shapely.affinity.scale(outer, MY / MX, 1.0)  # roughly a circle in metres
    hole = shapely.Point(LON + 500 / MX, LAT).buffer(400 / MY)
    geom = outer.difference(hole)
    target = 300_000
    pieces = subdivide(geom, target)
    check_partition(geom, pieces, target)
    assert len(pieces) == pytest.approx(area_m2(geom) / target, rel=0.35)
    assert all(not p.contains(shapely.Point(LON + 500 / MX, LAT)) for p in pieces)


def test_multipolygon_with_tiny_island_has_no_slivers():
    main = deg_box(1500, 1000)
    island = deg_box(60, 60, x_m=1700, y_m=300)  # 3,600 m2, far below 25 % of the target
    geom = MultiPolygon([main, island])
    pieces = subdivide(geom, 100_000)
    check_partition(geom, pieces, 100_000)
    # The island went into some piece (a MultiPolygon), it is not a piece of its own.
    holders = [p for p in pieces if p.intersects(island)]
    assert len(holders) == 1 and holders[0].geom_type == "MultiPolygon"


def test_narrow_strip_and_jagged_edge():
    # A comb-like polygon: many small clipped parts along the teeth.
    pts = [(0, 0)]
    for k in range(20):
        pts += [
            (k * 150 + 50, 0),
            (k * 150 + 50, -220 - 37 * (k % 5)),
            (k * 150 + 100, -220 - 37 * (k % 5)),
            (k * 150 + 100, 0),
        ]
    pts += [(3000, 0), (3000, 900), (0, 900)]
    geom = Polygon([(LON + x / MX, LAT + y / MY) for x, y in pts])
    assert geom.is_valid
    pieces = subdivide(geom, 250_000)
    check_partition(geom, pieces, 250_000)


def test_small_input_is_one_piece():
    geom = deg_box(100, 100)
    assert subdivide(geom, 200_000) == [geom]
    tiny = deg_box(300, 300)  # 90,000 m2 < target
    pieces = subdivide(tiny, 200_000)
    assert len(pieces) == 1
    check_partition(tiny, pieces, 200_000, allow_small=True)


def test_deterministic_row_major_order():
    geom = deg_box(1800, 1200)
    a = subdivide(geom, 150_000)
    b = subdivide(geom, 150_000)
    assert [p.wkb for p in a] == [p.wkb for p in b]
    ys = [p.representative_point().y for p in a]
    # North to south by lattice row.
    assert ys[0] >= ys[-1]
    first_row = [p for p in a if abs(p.representative_point().y - ys[0]) < 1e-9]
    xs = [p.representative_point().x for p in first_row]
    assert xs == sorted(xs)


def test_rejects_bad_target():
    with pytest.raises(ValueError):
        subdivide(deg_box(100, 100), 0)
    assert subdivide(Polygon(), 1000) == []
