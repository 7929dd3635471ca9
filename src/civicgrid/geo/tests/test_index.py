"""GridIndex: exact 'covers, lowest code wins, else -1' semantics (pure, no database)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, box, shape

from civicgrid.geo.crs import geometry_gcj02_to_wgs84
from civicgrid.geo.index import GridIndex
from civicgrid.geo.subdivide import subdivide


def brute_force(codes, geoms, xs, ys) -> np.ndarray:
    """Reference: test every polygon in code order, the first that covers the point wins."""
    order = sorted(range(len(codes)), key=lambda i: codes[i])
    ans = np.full(len(xs), -1, dtype=np.int64)
    for rank, i in enumerate(order):
        hit = shapely.intersects_xy(geoms[i], xs, ys) & (ans < 0)
        ans[hit] = rank
    return ans


# Four unit squares around (114, 22.5); input order differs from code order on purpose.
X0, Y0, S = 114.0, 22.5, 0.01


def four_squares():
    codes = ["D", "B", "C", "A"]
    geoms = [
        box(X0 + S, Y0 + S, X0 + 2 * S, Y0 + 2 * S),  # D: top right
        box(X0 + S, Y0, X0 + 2 * S, Y0 + S),  # B: bottom right
        box(X0, Y0 + S, X0 + S, Y0 + 2 * S),  # C: top left
        box(X0, Y0, X0 + S, Y0 + S),  # A: bottom left
    ]
    return codes, geoms


@pytest.fixture(scope="module")
def squares_index():
    codes, geoms = four_squares()
    return GridIndex.build(codes, geoms)


def code_at(idx: GridIndex, lon: float, lat: float):
    i = idx.query(lon, lat)
    return None if i < 0 else idx.codes[i]


def test_codes_are_sorted_and_answers_index_them(squares_index):
    assert squares_index.codes == ["A", "B", "C", "D"]
    assert squares_index.geoms[0].bounds == (X0, Y0, X0 + S, Y0 + S)
    assert len(squares_index) == 4
    assert squares_index.build_seconds >= 0
    assert squares_index.memory_bytes() > 0


def test_inside(squares_index):
    assert code_at(squares_index, X0 + 0.5 * S, Y0 + 0.5 * S) == "A"
    assert code_at(squares_index, X0 + 1.5 * S, Y0 + 0.5 * S) == "B"
    assert code_at(squares_index, X0 + 0.5 * S, Y0 + 1.5 * S) == "C"
    assert code_at(squares_index, X0 + 1.7 * S, Y0 + 1.2 * S) == "D"
    assert squares_index.query_code(X0 + 1.7 * S, Y0 + 1.2 * S) == "D"


def test_shared_edge_lowest_code_wins(squares_index):
    # Edge between C (top left) and D (top right): C < D.
    assert code_at(squares_index, X0 + S, Y0 + 1.5 * S) == "C"
    # Edge between B (bottom right) and D (top right): B < D.
    assert code_at(squares_index, X0 + 1.5 * S, Y0 + S) == "B"
    # Edge between A and B.
    assert code_at(squares_index, X0 + S, Y0 + 0.25 * S) == "A"


def test_shared_vertex_lowest_code_wins(squares_index):
    assert code_at(squares_index, X0 + S, Y0 + S) == "A"


def test_outer_boundary_is_covered(squares_index):
    assert code_at(squares_index, X0, Y0) == "A"
    assert code_at(squares_index, X0 + 2 * S, Y0 + 2 * S) == "D"
    assert code_at(squares_index, X0 + 2 * S, Y0 + 0.3 * S) == "B"


def test_outside(squares_index):
    assert squares_index.query(X0 - 1e-9, Y0) == -1
    assert squares_index.query(X0 + 2 * S + 1e-12, Y0 + S) == -1
    assert squares_index.query(0.0, 0.0) == -1
    assert squares_index.query(X0 + S, Y0 + 3 * S) == -1
    assert squares_index.query(float("nan"), Y0) == -1
    assert squares_index.query(math.inf, Y0) == -1


def test_query_many_matches_query(squares_index):
    xs = np.array([X0 + 0.5 * S, X0 + S, X0 - 1, np.nan, X0 + 1.5 * S])
    ys = np.array([Y0 + 0.5 * S, Y0 + S, Y0, Y0, Y0 + 1.5 * S])
    got = squares_index.query_many(xs, ys)
    assert got.dtype == np.int32
    assert got.tolist() == [squares_index.query(x, y) for x, y in zip(xs, ys, strict=True)]
    assert got.tolist() == [0, 0, -1, -1, 3]
    assert squares_index.query_many(np.array([]), np.array([])).shape == (0,)


def test_hole_answers_minus_one_or_the_filler():
    outer = Polygon(
        [(X0, Y0), (X0 + 3 * S, Y0), (X0 + 3 * S, Y0 + 3 * S), (X0, Y0 + 3 * S)],
        [[(X0 + S, Y0 + S), (X0 + 2 * S, Y0 + S), (X0 + 2 * S, Y0 + 2 * S), (X0 + S, Y0 + 2 * S)]],
    )
    hole_center = (X0 + 1.5 * S, Y0 + 1.5 * S)
    idx = GridIndex.build(["M"], [outer])
    assert idx.query(*hole_center) == -1
    assert code_at(idx, X0 + 0.5 * S, Y0 + 0.5 * S) == "M"
    assert code_at(idx, X0 + S, Y0 + 1.5 * S) == "M"  # on the hole's boundary: covered
    filler = box(X0 + S, Y0 + S, X0 + 2 * S, Y0 + 2 * S)
    idx2 = GridIndex.build(["M", "F"], [outer, filler])
    assert code_at(idx2, *hole_center) == "F"
    assert code_at(idx2, X0 + S, Y0 + 1.5 * S) == "F"  # on both boundaries: F < M
    assert code_at(idx2, X0 + 0.5 * S, Y0 + 0.5 * S) == "M"


def test_multipolygon():
    mp = MultiPolygon([box(X0, Y0, X0 + S, Y0 + S), box(X0 + 3 * S, Y0, X0 + 4 * S, Y0 + S)])
    other = box(X0 + S, Y0, X0 + 3 * S, Y0 + S)
    idx = GridIndex.build(["Z-multi", "Y-between"], [mp, other])
    assert code_at(idx, X0 + 0.5 * S, Y0 + 0.5 * S) == "Z-multi"
    assert code_at(idx, X0 + 3.5 * S, Y0 + 0.5 * S) == "Z-multi"
    assert code_at(idx, X0 + 2 * S, Y0 + 0.5 * S) == "Y-between"
    assert code_at(idx, X0 + 3 * S, Y0 + 0.5 * S) == "Y-between"  # shared edge
    assert idx.query(X0 + 2 * S, Y0 + 2 * S) == -1


def test_overlapping_polygons_lowest_code_wins():
    big = box(X0, Y0, X0 + 4 * S, Y0 + 4 * S)
    small = box(X0 + S, Y0 + S, X0 + 2 * S, Y0 + 2 * S)
    idx = GridIndex.build(["b-big", "a-small"], [big, small], cell_size_deg=S / 16)
    assert code_at(idx, X0 + 1.5 * S, Y0 + 1.5 * S) == "a-small"
    assert code_at(idx, X0 + 3.5 * S, Y0 + 3.5 * S) == "b-big"
    idx2 = GridIndex.build(["a-big", "b-small"], [big, small], cell_size_deg=S / 16)
    assert code_at(idx2, X0 + 1.5 * S, Y0 + 1.5 * S) == "a-big"


def test_invalid_polygon_follows_geos():
    bowtie = Polygon([(X0, Y0), (X0 + S, Y0 + S), (X0 + S, Y0), (X0, Y0 + S)])
    square = box(X0 + 2 * S, Y0, X0 + 3 * S, Y0 + S)
    codes, geoms = ["bow", "sq"], [bowtie, square]
    idx = GridIndex.build(codes, geoms)
    rng = np.random.default_rng(3)
    xs = rng.uniform(X0 - S, X0 + 4 * S, 5000)
    ys = rng.uniform(Y0 - S, Y0 + 2 * S, 5000)
    np.testing.assert_array_equal(idx.query_many(xs, ys), brute_force(codes, geoms, xs, ys))


def test_build_validation():
    with pytest.raises(ValueError):
        GridIndex.build(["a", "a"], [box(0, 0, 1, 1), box(1, 0, 2, 1)])
    with pytest.raises(ValueError):
        GridIndex.build(["a"], [shapely.Point(0, 0)])
    with pytest.raises(ValueError):
        GridIndex.build(["a", "b"], [box(0, 0, 1, 1)])
    empty = GridIndex.build([], [])
    assert empty.query(1.0, 2.0) == -1
    assert empty.nearest(1.0, 2.0, 100.0) == -1
    assert empty.query_many(np.zeros(3), np.zeros(3)).tolist() == [-1, -1, -1]


def test_nearest(squares_index):
    # Inside: same as query.
    assert squares_index.nearest(X0 + S, Y0 + S, 10.0) == 0
    # ~50 m west of A (at lat 22.5, 1e-3 deg of lon is ~103 m).
    lon = X0 - 0.0005
    assert squares_index.nearest(lon, Y0 + 0.5 * S, 100.0) == 0
    assert squares_index.nearest(lon, Y0 + 0.5 * S, 30.0) == -1
    # ~50 m north of the C/D edge: both at the same distance, lowest code (C) wins.
    assert code_of(squares_index, squares_index.nearest(X0 + S, Y0 + 2 * S + 0.00045, 100.0)) == "C"
    assert squares_index.nearest(X0 + 1.5 * S, Y0 + 2 * S + 0.00045, 100.0) == 3
    assert squares_index.nearest(float("nan"), Y0, 100.0) == -1


def code_of(idx, i):
    return None if i < 0 else idx.codes[i]


# ------------------------------------------------------------ property tests
def voronoi_tiling(n_sites: int, seed: int):
    """Irregular tiling with many shared edges/vertices, plus a hole, a multipolygon, overlaps."""
    rng = np.random.default_rng(seed)
    region = box(X0, Y0, X0 + 0.1, Y0 + 0.08)
    sites = shapely.multipoints(
        np.column_stack([rng.uniform(X0, X0 + 0.1, n_sites), rng.uniform(Y0, Y0 + 0.08, n_sites)])
    )
    cells = [c.intersection(region) for c in shapely.get_parts(shapely.voronoi_polygons(sites, extend_to=region))]
    cells = [c for c in cells if c.geom_type == "Polygon" and c.area > 0]
    geoms = list(cells)
    # Punch a hole in one cell, merge two far-apart cells into a multipolygon,
    # and add overlapping polygons (a disc and a rotated square).
    k = int(np.argmax([c.area for c in geoms]))
    inner = geoms[k].centroid.buffer(math.sqrt(geoms[k].area) * 0.2)
    if geoms[k].contains(inner):
        geoms[k] = geoms[k].difference(inner)
    a, b = 0, len(geoms) - 1
    geoms[a] = MultiPolygon([geoms[a], geoms[b]]) if geoms[a].disjoint(geoms[b]) else geoms[a]
    if geoms[a].geom_type == "MultiPolygon":
        geoms.pop(b)
    geoms.append(shapely.Point(X0 + 0.05, Y0 + 0.04).buffer(0.011))
    geoms.append(affinity.rotate(box(X0 + 0.02, Y0 + 0.02, X0 + 0.035, Y0 + 0.035), 30))
    codes = [f"g{int(c):05d}" for c in rng.permutation(len(geoms) * 7)[: len(geoms)]]
    return codes, geoms


def edge_and_vertex_points(geoms, rng, per_segment: int = 2):
    coords = shapely.get_coordinates(shapely.get_rings(shapely.get_parts(np.array(geoms, dtype=object))))
    xs = [coords[:, 0]]
    ys = [coords[:, 1]]
    a, b = coords[:-1], coords[1:]
    for _ in range(per_segment):
        t = rng.uniform(0, 1, (len(a), 1))
        p = a + t * (b - a)
        xs.append(p[:, 0])
        ys.append(p[:, 1])
    # Midpoints of axis-parallel-ish edges: often exactly on the edge.
    mid = (a + b) / 2
    xs.append(mid[:, 0])
    ys.append(mid[:, 1])
    return np.concatenate(xs), np.concatenate(ys)


def raster_border_points(idx: GridIndex, rng, n: int):
    st = idx.stats
    x0, y0, cx, cy = st["x0"], st["y0"], st["cell_deg_x"], st["cell_deg_y"]
    ny, nx = st["finest_shape"]
    i = rng.integers(0, nx + 1, n)
    j = rng.integers(0, ny + 1, n)
    bx = x0 + i * cx
    by = y0 + j * cy
    fx = rng.uniform(x0, x0 + nx * cx, n)
    fy = rng.uniform(y0, y0 + ny * cy, n)
    xs = np.concatenate([bx, bx, fx, np.nextafter(bx, -np.inf), np.nextafter(bx, np.inf)])
    ys = np.concatenate([fy, by, by, by, by])
    # Root-cell borders too.
    m = 4 ** st["depth"]
    ri = rng.integers(0, nx // m + 1, n) * m
    rj = rng.integers(0, ny // m + 1, n) * m
    xs = np.concatenate([xs, x0 + ri * cx, fx])
    ys = np.concatenate([ys, fy, y0 + rj * cy])
    return xs, ys


@pytest.mark.parametrize(
    ("seed", "cell_size_deg", "depth"),
    [(1, None, None), (2, 0.0004, 1), (3, 0.002, 0), (4, 0.00015, 3)],
)
def test_query_many_equals_brute_force(seed, cell_size_deg, depth):
    codes, geoms = voronoi_tiling(120, seed)
    idx = GridIndex.build(codes, geoms, cell_size_deg=cell_size_deg, depth=depth)
    rng = np.random.default_rng(seed + 100)
    rx = rng.uniform(X0 - 0.01, X0 + 0.11, 6000)
    ry = rng.uniform(Y0 - 0.01, Y0 + 0.09, 6000)
    ex, ey = edge_and_vertex_points(geoms, rng)
    bx, by = raster_border_points(idx, rng, 1500)
    xs = np.concatenate([rx, ex, bx])
    ys = np.concatenate([ry, ey, by])
    expected = brute_force(codes, geoms, xs, ys)
    got = idx.query_many(xs, ys, chunk=4096)
    mismatch = np.flatnonzero(got != expected)
    assert mismatch.size == 0, list(
        zip(xs[mismatch][:5], ys[mismatch][:5], got[mismatch][:5], expected[mismatch][:5], strict=True)
    )
    # The one-point walk (intake places reports one at a time) answers the same for every point.
    one = np.array([idx.query(x, y) for x, y in zip(xs.tolist(), ys.tolist(), strict=True)])
    np.testing.assert_array_equal(one, expected)
    # Ties really were exercised: some points are covered by more than one polygon.
    multi = sum(shapely.intersects_xy(g, ex, ey).astype(int) for g in geoms)
    assert (multi >= 2).sum() > 100
    assert idx.stats["finest_pure_cells"] > 0


def test_lattice_grid_with_points_exactly_on_edges():
    # A regular lattice (like subdivide's output): edges are exact float lines shared by
    # neighbours, so many points are exactly on 2 or 4 polygons.
    n = 12
    step = 0.004
    codes, geoms = [], []
    for r in range(n):
        for c in range(n):
            codes.append(f"{(r * 7919 + c * 104729) % 100003:06d}")
            geoms.append(box(X0 + c * step, Y0 + r * step, X0 + (c + 1) * step, Y0 + (r + 1) * step))
    # Mix in non-rectangles sharing the same edges: squares split into two triangles
    # (diagonal), squares with an extra collinear vertex (still rectangles), and a hole.
    for q in range(0, n * n, 7):
        x0, y0, x1, y1 = geoms[q].bounds
        if q % 3 == 0:
            geoms[q] = Polygon([(x0, y0), (x1, y0), (x1, y1)])
            codes.append(f"t{q:05d}")
            geoms.append(Polygon([(x0, y0), (x1, y1), (x0, y1)]))
        elif q % 3 == 1:
            geoms[q] = Polygon([(x0, y0), ((x0 + x1) / 2, y0), (x1, y0), (x1, y1), (x0, y1)])
        else:
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            d = step / 4
            geoms[q] = Polygon(
                [(x0, y0), (x1, y0), (x1, y1), (x0, y1)],
                [[(cx - d, cy - d), (cx + d, cy - d), (cx + d, cy + d), (cx - d, cy + d)]],
            )
    idx = GridIndex.build(codes, geoms)
    assert 0 < idx.stats["rectangles"] < len(geoms)
    rng = np.random.default_rng(7)
    k = rng.integers(0, n + 1, (2, 4000))
    xs = X0 + k[0] * step
    ys = Y0 + k[1] * step
    xs = np.concatenate([xs, xs, rng.uniform(X0, X0 + n * step, 4000)])
    ys = np.concatenate([ys, rng.uniform(Y0, Y0 + n * step, 4000), ys[:4000]])
    # Vertices of the triangles' diagonals and of the holes, and points on the diagonals.
    ex, ey = edge_and_vertex_points(geoms, rng, per_segment=3)
    xs = np.concatenate([xs, ex])
    ys = np.concatenate([ys, ey])
    np.testing.assert_array_equal(idx.query_many(xs, ys), brute_force(codes, geoms, xs, ys))


def test_batches_do_not_change_answers():
    codes, geoms = voronoi_tiling(60, 11)
    idx = GridIndex.build(codes, geoms)
    rng = np.random.default_rng(5)
    xs = rng.uniform(X0, X0 + 0.1, 3000)
    ys = rng.uniform(Y0, Y0 + 0.08, 3000)
    a = idx.query_many(xs, ys)
    b = idx.query_many(xs, ys, chunk=97)
    c = np.array([idx.query(x, y) for x, y in zip(xs[:200], ys[:200], strict=True)])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:200], c)


def test_shapes_are_kept(squares_index):
    xs = np.full((2, 3), X0 + 0.5 * S)
    ys = np.full((2, 3), Y0 + 0.5 * S)
    got = squares_index.query_many(xs, ys)
    assert got.shape == (2, 3) and (got == 0).all()
    with pytest.raises(ValueError):
        squares_index.query_many(np.zeros(2), np.zeros(3))


GEO_DATA = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "geo"


@pytest.mark.skipif(not (GEO_DATA / "深圳街道.geojson").is_file(), reason=f"shared geo data not at {GEO_DATA}")
def test_real_shenzhen_grids_match_brute_force():
    with open(GEO_DATA / "深圳街道.geojson", encoding="utf-8") as f:
        features = json.load(f)["features"][:8]
    streets = geometry_gcj02_to_wgs84(np.array([shape(ft["geometry"]) for ft in features], dtype=object))
    codes, geoms = [], []
    for s_i, street in enumerate(streets):
        for k, piece in enumerate(subdivide(street, 400_000)):
            codes.append(f"{s_i:02d}{k:04d}")
            geoms.append(piece)
    idx = GridIndex.build(codes, geoms)
    rng = np.random.default_rng(8)
    minx, miny, maxx, maxy = shapely.total_bounds(np.array(geoms, dtype=object))
    rx = rng.uniform(minx, maxx, 20000)
    ry = rng.uniform(miny, maxy, 20000)
    ex, ey = edge_and_vertex_points(geoms, rng, per_segment=1)
    pick = rng.choice(ex.size, min(ex.size, 20000), replace=False)
    xs = np.concatenate([rx, ex[pick]])
    ys = np.concatenate([ry, ey[pick]])
    np.testing.assert_array_equal(idx.query_many(xs, ys), brute_force(codes, geoms, xs, ys))
