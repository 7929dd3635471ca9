"""In-process point -> grid (网格) index.

:class:`GridIndex` answers "which grid covers this point?" for millions of points
per second on one core, with exactly the semantics of a brute-force GEOS test:

* a point belongs to a polygon that *covers* it (boundary included, i.e.
  ``shapely.intersects_xy(polygon, x, y)``);
* when several polygons cover the point (shared edge or vertex, small overlaps)
  the answer is the one with the lowest code (string order);
* a point covered by none answers ``-1``.

Answers are indexes into :attr:`GridIndex.codes` (the codes sorted).

Design
------
A hierarchical raster ("multi-level grid") over the bounding box of all polygons.
The finest level has cells of ``cell_size_deg`` (square in metres; about 1/32 of
the median polygon's side by default); each level above groups ``4 x 4`` cells of
the level below, and the root level (``depth`` = 2 levels above the finest by
default) is a plain array. Every cell is one of

* EMPTY: no polygon covers any point of it -> ``-1``;
* PURE: every point of it has the same answer -> that polygon, without any test;
* SPLIT: the cell is refined in the next level (a block of 16 children);
* MIXED (finest level only): a short list of candidate polygons, in code order,
  that the points in it are tested against with GEOS (``shapely.intersects_xy``
  on prepared geometries); the first candidate that covers the point wins.

The finest level is classified without GEOS, by rasterising the polygons'
boundaries in numpy:

1. every boundary segment marks the finest cells whose (slightly enlarged) box it
   may touch - a conservative "supercover", so an unmarked cell is certainly not
   touched by that polygon's boundary, hence entirely inside or entirely outside it;
2. an even-odd scanline through every row's centre gives, for each polygon, the
   spans of cells whose centre is inside it. For a cell untouched by a polygon's
   boundary, "centre inside" is exactly "cell inside";
3. a cell touched by no boundary and inside exactly one polygon is PURE; a touched
   cell gets the touching polygons (plus the lowest polygon whose interior holds the
   whole cell, if any) as candidates; the rare cells inside two or more polygons
   (overlaps) are classified exactly with GEOS box tests.

Coarser levels are then derived bottom-up (a block whose 16 children are all the
same PURE/EMPTY value collapses into its parent), which keeps the index compact.

Floating point: points and cells are mapped with one formula,
``i = floor((x - x0) * inv_cx)``, and a point's cell at every level is derived from
its finest cell by integer shifts, so the levels always agree. All cell tests use
boxes enlarged by a margin far above the rounding error of that formula, so a point
is never answered from a PURE cell that it is not really in.

Candidates that are axis-aligned rectangles (most lattice grids) are tested with four
exact float comparisons instead of GEOS, which gives the same answer, boundary included.

Polygons that are not valid are handled conservatively: every cell of their bounding
box lists them as a candidate, so the answer is whatever GEOS says for the geometry
as given.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from civicgrid.geo.crs import meters_per_degree

__all__ = ["GridIndex"]

_BITS = 2  # branching: each level splits a cell into (2**_BITS)**2 = 16 children
_BRANCH = 1 << _BITS
_MAX_FINEST_CELLS = 200_000_000
_DEFAULT_CELLS_PER_SIDE = 32.0
_CHUNK = 1 << 20


class GridIndex:
    """Point -> polygon index. Build with :meth:`GridIndex.build`."""

    codes: list[str]
    geoms: list[BaseGeometry]
    build_seconds: float
    stats: dict

    def __init__(self) -> None:  # use GridIndex.build
        self.codes = []
        self.geoms = []
        self.build_seconds = 0.0
        self.stats = {}
        self._n = 0
        self._garr = np.empty(0, dtype=object)
        self._tree: shapely.STRtree | None = None
        self._x0 = self._y0 = 0.0
        self._cx = self._cy = 1.0
        self._inv_cx = self._inv_cy = 1.0
        self._nxf = self._nyf = 0
        self._nx0 = self._ny0 = 0
        self._depth = 0
        self._levels: list[np.ndarray] = []
        self._leaf_start = np.zeros(1, dtype=np.int32)
        self._leaf_len = np.zeros(0, dtype=np.int32)
        self._leaf_cand = np.zeros(0, dtype=np.int32)
        self._is_rect = np.zeros(0, dtype=bool)
        self._rect_bounds = np.zeros((4, 0), dtype=np.float64)

    # ------------------------------------------------------------------ build
    @classmethod
    def build(
        cls,
        codes: Sequence[str],
        geoms: Sequence[BaseGeometry],
        *,
        cell_size_deg: float | None = None,
        depth: int | None = None,
    ) -> GridIndex:
        """Build the index.

        ``codes`` and ``geoms`` are parallel sequences (WGS-84 lon/lat polygons or
        multipolygons). ``cell_size_deg`` is the side of the finest raster cells in
        degrees of latitude (cells are made square in metres); by default about
        1/32 of the median polygon's side. ``depth`` is the number of levels above
        the finest one (default 2: root cells about half the median polygon's side).
        """
        t0 = time.perf_counter()
        self = cls()
        codes = [str(c) for c in codes]
        geoms = list(geoms)
        if len(codes) != len(geoms):
            raise ValueError("codes and geoms must have the same length")
        if len(set(codes)) != len(codes):
            raise ValueError("codes must be unique")
        if len(codes) >= 2**30:
            raise ValueError("too many polygons for one index")
        for g in geoms:
            if g is None or g.geom_type not in ("Polygon", "MultiPolygon"):
                raise ValueError(f"only Polygon/MultiPolygon geometries are supported, got {g!r:.80}")
        order = sorted(range(len(codes)), key=codes.__getitem__)
        self.codes = [codes[i] for i in order]
        self.geoms = [geoms[i] for i in order]
        n = self._n = len(self.codes)
        garr = np.empty(n, dtype=object)
        garr[:] = self.geoms
        self._garr = garr
        shapely.prepare(garr)
        self._tree = shapely.STRtree(garr)
        self._find_rectangles(garr)
        nonempty = ~shapely.is_empty(garr) if n else np.zeros(0, dtype=bool)
        if n == 0 or not nonempty.any():
            self.build_seconds = time.perf_counter() - t0
            return self
        self._setup_raster(garr[nonempty], cell_size_deg, depth)
        self._build_levels(garr)
        self.build_seconds = time.perf_counter() - t0
        self.stats["build_seconds"] = self.build_seconds
        return self

    def _find_rectangles(self, garr: np.ndarray) -> None:
        """Axis-aligned rectangles are tested with 4 exact float comparisons instead of GEOS
        (a point is covered by a rectangle iff xmin <= x <= xmax and ymin <= y <= ymax)."""
        n = garr.size
        bounds = shapely.bounds(garr) if n else np.zeros((0, 4))
        is_rect = np.zeros(n, dtype=bool)
        simple = (
            np.flatnonzero((shapely.get_type_id(garr) == 3) & (shapely.get_num_interior_rings(garr) == 0))
            if n
            else np.zeros(0, dtype=np.int64)
        )
        simple = simple[~shapely.is_empty(garr[simple])]
        if simple.size:
            boxes = shapely.box(*bounds[simple].T)
            is_rect[simple] = shapely.equals(garr[simple], boxes) & shapely.is_valid(garr[simple])
        self._is_rect = is_rect
        self._rect_bounds = np.ascontiguousarray(bounds.T)
        self.stats["rectangles"] = int(is_rect.sum())

    def _setup_raster(self, garr: np.ndarray, cell_size_deg: float | None, depth: int | None) -> None:
        minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(garr))
        mid_lat = min(max((miny + maxy) / 2.0, -85.0), 85.0)
        mx, my = meters_per_degree(mid_lat)
        aspect = my / mx if mx > 0 else 1.0  # degrees of lon per degree of lat for a square cell
        aspect = min(max(aspect, 1.0), 8.0)
        if cell_size_deg is None:
            areas = shapely.area(garr)
            areas = areas[areas > 0]
            if areas.size:
                side = math.sqrt(float(np.median(areas)) / aspect)  # lat-degrees side of a median square
            else:
                side = max(maxy - miny, (maxx - minx) / aspect, 1e-9)
            cell = side / _DEFAULT_CELLS_PER_SIDE
        else:
            cell = float(cell_size_deg)
            if not cell > 0:
                raise ValueError("cell_size_deg must be positive")
        span_x = maxx - minx
        span_y = maxy - miny
        # Keep the finest raster to a sane number of cells.
        while (span_x / (cell * aspect) + 2) * (span_y / cell + 2) > _MAX_FINEST_CELLS:
            cell *= 1.5
        cy = cell
        cx = cell * aspect
        if depth is None:
            # Root cells about half the median polygon's side: most root cells are then
            # split, but a point needs at most `depth` cheap gathers (measured fastest).
            depth = max(1, round(math.log(_DEFAULT_CELLS_PER_SIDE / 2.0, _BRANCH)))
        depth = int(depth)
        if depth < 0:
            raise ValueError("depth must be >= 0")
        m = _BRANCH**depth
        root_x = cx * m
        root_y = cy * m
        # Margin so that no polygon touches the outer border of the raster.
        mag = max(abs(minx), abs(maxx), abs(miny), abs(maxy), 1.0)
        margin_x = max(cx * 0.5, mag * 1e-12)
        margin_y = max(cy * 0.5, mag * 1e-12)
        x0 = minx - margin_x
        y0 = miny - margin_y
        nx0 = max(1, math.ceil((maxx + margin_x - x0) / root_x))
        ny0 = max(1, math.ceil((maxy + margin_y - y0) / root_y))
        self._x0, self._y0 = x0, y0
        self._cx, self._cy = cx, cy
        self._inv_cx, self._inv_cy = 1.0 / cx, 1.0 / cy
        self._depth = depth
        self._nx0, self._ny0 = nx0, ny0
        self._nxf, self._nyf = nx0 * m, ny0 * m
        # Safety margin, in finest-cell units, far above the rounding error of the
        # point -> cell formula (a few ulps of the coordinates).
        ulp_cells = mag * 2.0**-52 / min(cx, cy)
        self._e = max(1e-6, 1e4 * ulp_cells)
        self.stats.update(
            x0=x0,
            y0=y0,
            cell_deg_x=cx,
            cell_deg_y=cy,
            cell_m=cy * my,
            depth=depth,
            root_shape=(ny0, nx0),
            finest_shape=(self._nyf, self._nxf),
        )

    # Segments of all rings, in finest-cell units, with the polygon rank.
    def _segments(self, garr: np.ndarray) -> tuple[np.ndarray, ...]:
        parts, part_owner = shapely.get_parts(garr, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        u = (coords[:, 0] - self._x0) * self._inv_cx
        v = (coords[:, 1] - self._y0) * self._inv_cy
        same = coord_ring[:-1] == coord_ring[1:]
        a = np.flatnonzero(same)
        rank = part_owner[ring_part[coord_ring[a]]].astype(np.int64)
        return u[a], v[a], u[a + 1], v[a + 1], rank

    def _touch_records(self, u1, v1, u2, v2, rank) -> tuple[np.ndarray, np.ndarray]:
        """Conservative supercover: (finest cell id, rank) pairs, unique and sorted."""
        e = self._e
        nxf, nyf = self._nxf, self._nyf
        umin = np.minimum(u1, u2)
        umax = np.maximum(u1, u2)
        c_lo = np.floor(umin - e).astype(np.int64)
        c_hi = np.floor(umax + e).astype(np.int64)
        np.clip(c_lo, 0, nxf - 1, out=c_lo)
        np.clip(c_hi, 0, nxf - 1, out=c_hi)
        ncol = c_hi - c_lo + 1
        seg = np.repeat(np.arange(u1.size), ncol)
        col = np.repeat(c_lo, ncol) + (np.arange(seg.size) - np.repeat(np.cumsum(ncol) - ncol, ncol))
        su1, sv1, su2, sv2 = u1[seg], v1[seg], u2[seg], v2[seg]
        du = su2 - su1
        dv = sv2 - sv1
        # Parameter range of the segment within the column strip [col - e, col + 1 + e].
        with np.errstate(divide="ignore", invalid="ignore"):
            ta = (col - e - su1) / du
            tb = (col + 1 + e - su1) / du
        t0 = np.minimum(ta, tb)
        t1 = np.maximum(ta, tb)
        vertical = du == 0
        t0 = np.where(vertical, 0.0, np.clip(t0, 0.0, 1.0))
        t1 = np.where(vertical, 1.0, np.clip(t1, 0.0, 1.0))
        va = sv1 + t0 * dv
        vb = sv1 + t1 * dv
        # A little extra slack for the rounding of the parametric clip.
        slack = e + 1e-9 * np.abs(dv)
        r_lo = np.floor(np.minimum(va, vb) - slack).astype(np.int64)
        r_hi = np.floor(np.maximum(va, vb) + slack).astype(np.int64)
        np.clip(r_lo, 0, nyf - 1, out=r_lo)
        np.clip(r_hi, 0, nyf - 1, out=r_hi)
        nrow = r_hi - r_lo + 1
        rep = np.repeat(np.arange(seg.size), nrow)
        row = np.repeat(r_lo, nrow) + (np.arange(rep.size) - np.repeat(np.cumsum(nrow) - nrow, nrow))
        cell = row * nxf + col[rep]
        key = _sorted_unique(cell * self._n + rank[seg[rep]])
        return key // self._n, key % self._n

    def _spans(self, u1, v1, u2, v2, rank) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Even-odd scanline spans: (row, col_start, col_end, rank), cells whose centre is inside."""
        nxf = self._nxf
        lo = np.minimum(v1, v2)
        hi = np.maximum(v1, v2)
        # Row R crosses when t(lo) <= R < t(hi), t(v) = ceil(v - 0.5): consistent for shared vertices.
        r_lo = np.ceil(lo - 0.5).astype(np.int64)
        r_hi = np.ceil(hi - 0.5).astype(np.int64)
        nrow = np.maximum(r_hi - r_lo, 0)
        seg = np.repeat(np.arange(u1.size), nrow)
        row = np.repeat(r_lo, nrow) + (np.arange(seg.size) - np.repeat(np.cumsum(nrow) - nrow, nrow))
        su1, sv1, su2, sv2 = u1[seg], v1[seg], u2[seg], v2[seg]
        uc = su1 + (row + 0.5 - sv1) * ((su2 - su1) / (sv2 - sv1))
        col = np.floor(uc + 0.5).astype(np.int64)
        np.clip(col, 0, nxf, out=col)
        r = rank[seg]
        order = np.lexsort((col, row, r))
        row, col, r = row[order], col[order], r[order]
        if row.size % 2:
            raise RuntimeError("odd number of scanline crossings (unclosed ring?)")
        starts, ends = col[0::2], col[1::2]
        rows, ranks = row[0::2], r[0::2]
        if not (np.array_equal(rows, row[1::2]) and np.array_equal(ranks, r[1::2])):
            raise RuntimeError("scanline crossings do not pair up (unclosed ring?)")
        keep = ends > starts
        return rows[keep], starts[keep], ends[keep], ranks[keep]

    def _build_levels(self, garr: np.ndarray) -> None:
        n = self._n
        nxf, depth = self._nxf, self._depth
        m = _BRANCH**depth
        valid = shapely.is_valid(garr)
        nonempty = ~shapely.is_empty(garr)
        polys = np.flatnonzero(valid & nonempty)
        u1, v1, u2, v2, rank = self._segments(garr[polys])
        rank = polys[rank]
        t_cell, t_rank = self._touch_records(u1, v1, u2, v2, rank)
        # Invalid polygons: every cell of their bounding box is "touched".
        bad = np.flatnonzero(~valid & nonempty)
        if bad.size:
            extra_c, extra_r = self._bbox_records(garr, bad)
            key = _sorted_unique(np.concatenate([t_cell * n + t_rank, extra_c * n + extra_r]))
            t_cell, t_rank = key // n, key % n
        s_row, s_c0, s_c1, s_rank = self._spans(u1, v1, u2, v2, rank)
        del u1, v1, u2, v2, rank

        t_row = t_cell // nxf
        # Stripes of one root row each: m finest rows.
        t_bounds = np.searchsorted(t_row, np.arange(self._ny0 + 1) * m)
        s_order = np.argsort(s_row, kind="stable")
        s_row, s_c0, s_c1, s_rank = s_row[s_order], s_c0[s_order], s_c1[s_order], s_rank[s_order]
        s_bounds = np.searchsorted(s_row, np.arange(self._ny0 + 1) * m)

        level_blocks: list[list[np.ndarray]] = [[] for _ in range(depth + 1)]
        level_count = [0] * (depth + 1)
        leaf_lists: list[np.ndarray] = []  # padded candidate rows, per stripe
        leaf_count = 0
        pure_cells = 0
        mixed_cells = 0
        fallback_cells = 0
        root_empty = np.full(self._nx0, -1, dtype=np.int32)
        for J in range(self._ny0):
            rows0 = J * m
            ta, tb = t_bounds[J], t_bounds[J + 1]
            sa, sb = s_bounds[J], s_bounds[J + 1]
            if ta == tb and sa == sb:
                level_blocks[0].append(root_empty)
                continue
            # Only the root columns this stripe uses; the rest of the stripe is EMPTY.
            tc = t_cell[ta:tb] - rows0 * nxf
            tr = t_rank[ta:tb]
            t_col = tc % nxf
            c_lo = min(int(s_c0[sa:sb].min()) if sb > sa else nxf, int(t_col.min()) if tb > ta else nxf)
            c_hi = max(int(s_c1[sa:sb].max()) if sb > sa else 0, int(t_col.max()) + 1 if tb > ta else 0)
            r_lo = c_lo // m
            r_hi = min(self._nx0, -(-c_hi // m))
            col0 = r_lo * m
            w = (r_hi - r_lo) * m  # stripe width in finest cells
            width = w + 1
            # Coverage count and rank sum per cell from the spans (difference arrays).
            lr = s_row[sa:sb] - rows0
            i0 = lr * width + (s_c0[sa:sb] - col0)
            i1 = lr * width + (np.minimum(s_c1[sa:sb], col0 + w) - col0)
            size = m * width
            cnt = np.bincount(i0, minlength=size) - np.bincount(i1, minlength=size)
            cnt = np.cumsum(cnt.reshape(m, width), axis=1, dtype=np.int32)[:, :w]
            ranks = s_rank[sa:sb].astype(np.float64)
            rsum = np.bincount(i0, weights=ranks, minlength=size) - np.bincount(i1, weights=ranks, minlength=size)
            rsum = np.cumsum(rsum.reshape(m, width), axis=1)[:, :w]
            val = np.rint(rsum).astype(np.int32)
            val[cnt == 0] = -1
            # Touched cells, as flat ids in the (m, w) window.
            tc = (tc // nxf) * w + (t_col - col0)
            fb_cells = np.zeros(0, dtype=np.int64)
            if tc.size:
                first = np.flatnonzero(np.r_[True, tc[1:] != tc[:-1]])
                cells = tc[first]
                glen = np.diff(np.r_[first, tc.size])
                gid = np.repeat(np.arange(cells.size), glen)
                flat_cnt = cnt.reshape(-1)[cells]
                flat_val = val.reshape(-1)[cells]
                inside = np.where(flat_cnt == 1, flat_val, -1)  # the one polygon whose span covers it
                in_touch = np.zeros(cells.size, dtype=bool)
                hit = tr == inside[gid]
                in_touch[gid[hit]] = True
                min_touch = tr[first]  # records sorted by (cell, rank)
                # "whole cell inside polygon `inside`", and that polygon is not touching it
                holder = np.where((inside >= 0) & ~in_touch, inside, -1)
                pure = (holder >= 0) & (holder < min_touch)
                is_fb = flat_cnt >= 2
                mixed = ~pure & ~is_fb
                val.reshape(-1)[cells[pure]] = holder[pure]
                # Candidate lists: touching ranks below the holder (if any), then the holder.
                mcells = np.flatnonzero(mixed)
                if mcells.size:
                    rec_keep = mixed[gid] & ((holder[gid] < 0) | (tr < holder[gid]))
                    lg = gid[rec_keep]
                    lr_ = tr[rec_keep]
                    hm = holder[mcells]
                    add = hm >= 0
                    lg = np.concatenate([lg, mcells[add]])
                    lr_ = np.concatenate([lr_, hm[add]])
                    o = np.lexsort((lr_, lg))
                    lg, lr_ = lg[o], lr_[o]
                    padded = _pad_lists(lg, lr_, cells.size)[mcells]
                    ids = leaf_count + np.arange(mcells.size)
                    leaf_count += mcells.size
                    leaf_lists.append(padded)
                    val.reshape(-1)[cells[mcells]] = -2 - ids
                    mixed_cells += mcells.size
                fb_cells = cells[is_fb]
            # Over-covered cells not touched by any boundary: interior of >= 2 polygons.
            over_flat = np.flatnonzero(cnt.reshape(-1) >= 2)
            if over_flat.size:
                fb_cells = np.union1d(fb_cells, over_flat)
            if fb_cells.size:
                fvals, fpadded = self._classify_exact(fb_cells, rows0, col0, w)
                is_list = fvals == -2
                ids = leaf_count + np.arange(int(is_list.sum()))
                leaf_count += ids.size
                if ids.size:
                    leaf_lists.append(fpadded[is_list])
                fvals[is_list] = -2 - ids
                val.reshape(-1)[fb_cells] = fvals
                fallback_cells += fb_cells.size
            pure_cells += int(np.count_nonzero(val >= 0))
            # Bottom-up aggregation of this stripe.
            cur = val  # shape (rows_k, cols_k) at level k
            for k in range(depth, 0, -1):
                rk, ck = cur.shape
                blocks = cur.reshape(rk // _BRANCH, _BRANCH, ck // _BRANCH, _BRANCH).transpose(0, 2, 1, 3)
                blocks = blocks.reshape(rk // _BRANCH, ck // _BRANCH, _BRANCH * _BRANCH)
                lo = blocks.min(axis=2)
                hi = blocks.max(axis=2)
                uniform = (lo == hi) & (lo >= -1) & (lo < n)
                parent = np.where(uniform, lo, 0).astype(np.int32)
                split = np.flatnonzero(~uniform.reshape(-1))
                if split.size:
                    level_blocks[k].append(blocks.reshape(-1, _BRANCH * _BRANCH)[split])
                    parent.reshape(-1)[split] = n + level_count[k] + np.arange(split.size)
                    level_count[k] += split.size
                cur = parent
            root_row = np.full(self._nx0, -1, dtype=np.int32)
            root_row[r_lo:r_hi] = cur.reshape(-1)
            level_blocks[0].append(root_row)

        levels = []
        for k in range(depth + 1):
            if level_blocks[k]:
                arr = np.concatenate([b.reshape(-1) for b in level_blocks[k]])
            else:
                arr = np.zeros(0, dtype=np.int64)
            levels.append(arr)
        # Deduplicate the candidate lists (many cells share e.g. [A, B]).
        if leaf_lists:
            kmax = max(p.shape[1] for p in leaf_lists)
            allp = np.full((leaf_count, kmax), -1, dtype=np.int64)
            pos = 0
            for p in leaf_lists:
                allp[pos : pos + p.shape[0], : p.shape[1]] = p
                pos += p.shape[0]
            uniq, inverse = _unique_rows(allp)
            lens = (uniq >= 0).sum(axis=1)
            self._leaf_len = lens.astype(np.int32)
            self._leaf_start = np.r_[0, np.cumsum(lens)].astype(np.int32)
            self._leaf_cand = uniq[uniq >= 0].astype(np.int32)
            for k in range(depth + 1):
                arr = levels[k]
                neg = arr <= -2
                arr[neg] = -2 - inverse[-2 - arr[neg]]
        big = max(n + max(level_count) + 1, self._leaf_len.size + 2)
        dtype = np.int32 if big < 2**31 - 1 else np.int64
        self._levels = [a.astype(dtype) for a in levels]
        self.stats.update(
            finest_pure_cells=pure_cells,
            finest_mixed_cells=mixed_cells,
            finest_fallback_cells=fallback_cells,
            nodes=int(sum(a.size for a in self._levels)),
            leaf_lists=int(self._leaf_len.size),
        )

    def _bbox_records(self, garr: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cells = []
        ranks = []
        e = self._e
        for r in which:
            minx, miny, maxx, maxy = garr[r].bounds
            i0 = max(0, math.floor((minx - self._x0) * self._inv_cx - e))
            i1 = min(self._nxf - 1, math.floor((maxx - self._x0) * self._inv_cx + e))
            j0 = max(0, math.floor((miny - self._y0) * self._inv_cy - e))
            j1 = min(self._nyf - 1, math.floor((maxy - self._y0) * self._inv_cy + e))
            jj, ii = np.meshgrid(np.arange(j0, j1 + 1), np.arange(i0, i1 + 1), indexing="ij")
            c = (jj * self._nxf + ii).reshape(-1)
            cells.append(c)
            ranks.append(np.full(c.size, r, dtype=np.int64))
        return np.concatenate(cells), np.concatenate(ranks)

    def _cell_boxes(self, cells: np.ndarray, rows0: int, col0: int, w: int) -> np.ndarray:
        """Enlarged boxes of finest cells given as flat ids in a stripe window."""
        i = cells % w + col0
        j = cells // w + rows0
        ex = self._e * self._cx
        ey = self._e * self._cy
        return shapely.box(
            self._x0 + i * self._cx - ex,
            self._y0 + j * self._cy - ey,
            self._x0 + (i + 1) * self._cx + ex,
            self._y0 + (j + 1) * self._cy + ey,
        )

    def _classify_exact(self, cells: np.ndarray, rows0: int, col0: int, w: int) -> tuple[np.ndarray, np.ndarray]:
        """GEOS classification of (rare) finest cells: value (-1, rank or -2=list) and lists."""
        assert self._tree is not None
        boxes = self._cell_boxes(cells, rows0, col0, w)
        pairs = self._tree.query(boxes, predicate="intersects")
        bi, gi = pairs[0], pairs[1].astype(np.int64)
        o = np.lexsort((gi, bi))
        bi, gi = bi[o], gi[o]
        vals = np.full(cells.size, -1, dtype=np.int64)
        padded = _pad_lists(bi, gi, cells.size)
        if bi.size:
            first = np.flatnonzero(np.r_[True, bi[1:] != bi[:-1]])
            lowest_box = bi[first]
            lowest = gi[first]
            covered = shapely.covers(self._garr[lowest], boxes[lowest_box])
            vals[lowest_box] = np.where(covered, lowest, -2)
        return vals, padded

    # ------------------------------------------------------------------ query
    def query(self, lon: float, lat: float) -> int:
        """Index (into :attr:`codes`) of the grid covering the point, or -1.

        The walk of :meth:`_query_chunk` for one point, in plain integers (a report is placed one
        point at a time, where numpy's per-call cost would be most of the work)."""
        if not (self._n and self._levels):
            return -1
        u = (lon - self._x0) * self._inv_cx
        v = (lat - self._y0) * self._inv_cy
        if not (0 <= u < self._nxf and 0 <= v < self._nyf):  # NaN -> False
            return -1
        i, j = int(u), int(v)
        n, depth, levels = self._n, self._depth, self._levels
        sh = _BITS * depth
        val = int(levels[0][(j >> sh) * self._nx0 + (i >> sh)])
        mask = _BRANCH - 1
        for k in range(1, depth + 1):
            if val < n:
                break
            sh = _BITS * (depth - k)
            local = (((j >> sh) & mask) << _BITS) | ((i >> sh) & mask)
            val = int(levels[k][(val - n) * (_BRANCH * _BRANCH) + local])
        if val <= -2:
            val = int(self._resolve_mixed(np.array([-2 - val]), np.array([float(lon)]), np.array([float(lat)]))[0])
        return val

    def query_code(self, lon: float, lat: float) -> str | None:
        """Code of the grid covering the point, or None."""
        i = self.query(lon, lat)
        return self.codes[i] if i >= 0 else None

    def query_many(self, lons, lats, *, chunk: int = _CHUNK) -> np.ndarray:
        """Vectorised :meth:`query`: int32 array (shape of ``lons``) of indexes into
        :attr:`codes`, -1 where no polygon covers the point (or the point is NaN/inf).

        Points are processed in batches of ``chunk`` (default about a million)."""
        xa = np.asarray(lons, dtype=np.float64)
        ya = np.asarray(lats, dtype=np.float64)
        if xa.shape != ya.shape:
            raise ValueError("lons and lats must have the same shape")
        x = np.ascontiguousarray(xa).reshape(-1)
        y = np.ascontiguousarray(ya).reshape(-1)
        out = np.full(x.size, -1, dtype=np.int32)
        if self._n and self._levels:
            step = max(1, int(chunk))
            for s in range(0, x.size, step):
                out[s : s + step] = self._query_chunk(x[s : s + step], y[s : s + step])
        return out.reshape(xa.shape)

    def _query_chunk(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        n = self._n
        u = (x - self._x0) * self._inv_cx
        v = (y - self._y0) * self._inv_cy
        ok = (u >= 0) & (u < self._nxf) & (v >= 0) & (v < self._nyf)  # NaN -> False
        res = np.full(x.size, -1, dtype=np.int32)
        if ok.all():
            sel = None
            i = u.astype(np.int32)
            j = v.astype(np.int32)
        else:
            sel = np.flatnonzero(ok)
            i = u[sel].astype(np.int32)
            j = v[sel].astype(np.int32)
        depth = self._depth
        sh = _BITS * depth
        levels = self._levels
        val = levels[0][(j >> sh) * self._nx0 + (i >> sh)]
        mask = _BRANCH - 1
        for k in range(1, depth + 1):
            sp = np.flatnonzero(val >= n)
            if sp.size == 0:
                break
            sh = _BITS * (depth - k)
            ii = i[sp]
            jj = j[sp]
            if sh:
                ii >>= sh
                jj >>= sh
            local = ((jj & mask) << _BITS) | (ii & mask)
            val[sp] = levels[k][(val[sp] - n) * (_BRANCH * _BRANCH) + local]
        mixed = np.flatnonzero(val <= -2)
        if mixed.size:
            pt = mixed if sel is None else sel[mixed]
            val[mixed] = self._resolve_mixed(-2 - val[mixed], x[pt], y[pt])
        if sel is None:
            return val.astype(np.int32, copy=False)
        res[sel] = val
        return res

    def _resolve_mixed(self, leaf: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Test candidates in code order; the first polygon covering the point wins."""
        start = self._leaf_start[leaf]
        remaining = self._leaf_len[leaf]
        ans = np.full(leaf.size, -1, dtype=np.int32)
        active = np.arange(leaf.size)
        garr = self._garr
        cand_all = self._leaf_cand
        is_rect = self._is_rect
        x0, y0, x1, y1 = self._rect_bounds
        k = 0
        while active.size:
            cand = cand_all[start[active] + k]
            px = x[active]
            py = y[active]
            rect = is_rect[cand]
            if rect.all():
                hit = (x0[cand] <= px) & (px <= x1[cand]) & (y0[cand] <= py) & (py <= y1[cand])
            elif not rect.any():
                hit = shapely.intersects_xy(garr[cand], px, py)
            else:
                hit = np.empty(active.size, dtype=bool)
                r = np.flatnonzero(rect)
                c = cand[r]
                rx = px[r]
                ry = py[r]
                hit[r] = (x0[c] <= rx) & (rx <= x1[c]) & (y0[c] <= ry) & (ry <= y1[c])
                o = np.flatnonzero(~rect)
                hit[o] = shapely.intersects_xy(garr[cand[o]], px[o], py[o])
            ans[active[hit]] = cand[hit]
            k += 1
            active = active[~hit & (remaining[active] > k)]
        return ans

    # --------------------------------------------------------------- nearest
    def nearest(self, lon: float, lat: float, max_meters: float) -> int:
        """Index of the polygon nearest to the point within ``max_meters``, or -1.

        A covered point answers like :meth:`query` (distance 0, lowest code). Distances
        are measured in a local metric frame (degrees scaled by ``meters_per_degree``
        at the point's latitude); ties go to the lowest code.
        """
        if self._n == 0 or self._tree is None or not (math.isfinite(lon) and math.isfinite(lat)):
            return -1
        mx, my = meters_per_degree(min(max(lat, -89.0), 89.0))
        max_deg = max_meters / min(mx, my)
        pt = shapely.Point(lon, lat)
        cand = self._tree.query(pt, predicate="dwithin", distance=max_deg)
        if cand.size == 0:
            return -1
        cand = np.sort(cand)

        def to_local(coords: np.ndarray) -> np.ndarray:
            return (coords - (lon, lat)) * (mx, my)

        local = shapely.transform(self._garr[cand], to_local)
        dist = shapely.distance(local, shapely.Point(0.0, 0.0))
        best = int(np.argmin(dist))  # first minimum = lowest rank among ties
        if dist[best] > max_meters:
            return -1
        return int(cand[best])

    # ----------------------------------------------------------------- stats
    def memory_bytes(self) -> int:
        """Bytes used by the index's own arrays plus an estimate for the geometries.

        Geometries: 16 bytes per coordinate, twice (the GEOS coordinates and the
        prepared-geometry segment index), plus ~200 bytes of object overhead each.
        """
        own = sum(a.nbytes for a in self._levels)
        own += self._leaf_start.nbytes + self._leaf_len.nbytes + self._leaf_cand.nbytes + self._garr.nbytes
        return int(own + geometry_memory_estimate(self._garr))

    def __len__(self) -> int:
        return self._n

    def __repr__(self) -> str:
        return f"<GridIndex {self._n} polygons, {sum(a.size for a in self._levels)} nodes>"


def geometry_memory_estimate(geoms) -> int:
    """Rough bytes for GEOS geometries (+ prepared index): 32 B/coordinate + 200 B each."""
    arr = np.asarray(geoms, dtype=object)
    if arr.size == 0:
        return 0
    ncoords = int(shapely.get_num_coordinates(arr).sum())
    return 32 * ncoords + 200 * int(arr.size)


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    """np.unique for a 1-D int array via sort (much faster than hashing for millions)."""
    a = np.sort(a)
    if a.size:
        a = a[np.r_[True, a[1:] != a[:-1]]]
    return a


def _unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows of a 2-D int array (values >= -1) and the inverse map."""
    if a.shape[0] == 0:
        return a, np.zeros(0, dtype=np.int64)
    bits = int(a.max() + 1).bit_length()
    if bits * a.shape[1] <= 62:
        # Pack each row into one int64 (values >= -1, so +1 makes them >= 0): one argsort.
        key = np.zeros(a.shape[0], dtype=np.int64)
        for c in range(a.shape[1]):
            key = (key << bits) | (a[:, c] + 1)
        order = np.argsort(key)
        skey = key[order]
        new = np.r_[True, skey[1:] != skey[:-1]]
        uniq = a[order[new]]
    else:
        order = np.lexsort(a.T[::-1])
        s = a[order]
        new = np.r_[True, (s[1:] != s[:-1]).any(axis=1)]
        uniq = s[new]
    group = np.cumsum(new) - 1
    inverse = np.empty(a.shape[0], dtype=np.int64)
    inverse[order] = group
    return uniq, inverse


def _pad_lists(group: np.ndarray, values: np.ndarray, ngroups: int) -> np.ndarray:
    """Rows of ``values`` per group (group ids sorted), padded with -1."""
    if group.size == 0:
        return np.full((ngroups, 1), -1, dtype=np.int64)
    counts = np.bincount(group, minlength=ngroups)
    width = max(1, int(counts.max()))
    out = np.full((ngroups, width), -1, dtype=np.int64)
    starts = np.cumsum(counts) - counts
    pos = np.arange(group.size) - starts[group]
    out[group, pos] = values
    return out
