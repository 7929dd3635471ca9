"""Point -> grid lookup benchmark: GridIndex vs Shapely STRtree vs PostGIS.

Run from the repository root::

    python -m bench.geo_lookup [--points 1000000] [--target-km2 0.2] [--no-postgis]

It loads the real Shenzhen street boundaries (../shared/data/geo/深圳街道.geojson,
GCJ-02), converts them to WGS-84, cuts every street into grids of about
``--target-km2`` (>= 10,000 grids by default), draws random points in the city (plus
~1 % exactly on grid vertices and edges, where several grids tie), and answers
"lowest code of the grids covering the point, else none" with

(a) civicgrid.geo.index.GridIndex.query_many,
(b) shapely.STRtree.query(points, predicate="covered_by") + numpy lowest-code resolution,
(c) PostGIS ST_Covers with a GiST index (skipped with a plain message if unavailable),

all in one process on one core, batched. Every answer is checked against a brute-force
exact reference (bbox candidates + shapely.intersects_xy, lowest code) on every point.
The table is printed and written to docs/benchmarks.md (section ``geo_lookup``).
"""

from __future__ import annotations

# One core: single-threaded numeric libraries, set before numpy is imported.
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
try:  # running from a checkout without `pip install -e .`
    import civicgrid  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(REPO_ROOT / "src"))

import numpy as np  # noqa: E402
import shapely  # noqa: E402
from shapely.geometry import shape  # noqa: E402

from bench.report import machine_description, markdown_table, print_table, write_section  # noqa: E402
from civicgrid.geo.crs import geometry_gcj02_to_wgs84  # noqa: E402
from civicgrid.geo.index import GridIndex, geometry_memory_estimate  # noqa: E402
from civicgrid.geo.subdivide import subdivide  # noqa: E402

STREETS_FILE = "深圳街道.geojson"
SCHEMA = "bench_geo_lookup"
MIN_GRIDS = 10_000
DEFAULT_DSNS = (
    "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=5",
    "host=127.0.0.1 port=5432 dbname=test user=root connect_timeout=5",
)
Q_JOIN = "SELECT p.id, min(g.code) FROM bench_points p JOIN bench_grids g ON ST_Covers(g.geom, p.geom) GROUP BY p.id"
Q_LATERAL = (
    "SELECT p.id, l.code FROM bench_points p LEFT JOIN LATERAL "
    "(SELECT g.code FROM bench_grids g WHERE ST_Covers(g.geom, p.geom) ORDER BY g.code LIMIT 1) l ON true"
)


def log(msg: str) -> None:
    print(msg, flush=True)


def data_dir() -> Path:
    """../shared/data/geo relative to the repository root (CIVICGRID_GEO_DATA overrides)."""
    env = os.environ.get("CIVICGRID_GEO_DATA")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "data" / "geo").resolve()


# ---------------------------------------------------------------------- data
def load_streets(path: Path) -> list[tuple[int, str, object]]:
    """(ID, NAME, WGS-84 geometry) of every street, sorted by ID."""
    with open(path, encoding="utf-8") as f:
        features = json.load(f)["features"]
    geoms = np.array([shape(ft["geometry"]) for ft in features], dtype=object)
    wgs = geometry_gcj02_to_wgs84(geoms)
    out = [(int(ft["properties"]["ID"]), str(ft["properties"]["NAME"]), g) for ft, g in zip(features, wgs, strict=True)]
    out.sort(key=lambda t: t[0])
    return out


def make_grids(streets, target_km2: float) -> tuple[list[str], list]:
    """Cut every street; code = 440300 + street ID (3 digits) + piece number (4 digits)."""
    codes, geoms = [], []
    for sid, _name, geom in streets:
        for k, piece in enumerate(subdivide(geom, target_km2 * 1e6), start=1):
            codes.append(f"440300{sid:03d}{k:04d}")
            geoms.append(piece)
    order = sorted(range(len(codes)), key=codes.__getitem__)
    return [codes[i] for i in order], [geoms[i] for i in order]


def sample_points(city, grids, n: int, seed: int, tie_fraction: float = 0.01):
    """n points: uniform in the city by rejection sampling, plus ~1 % exactly on grid
    vertices (half) and exactly on axis-parallel grid edges (half). Shuffled. Returns
    (x, y, is_tie)."""
    rng = np.random.default_rng(seed)
    n_tie = round(n * tie_fraction)
    n_uni = n - n_tie
    minx, miny, maxx, maxy = city.bounds
    shapely.prepare(city)
    xs, ys, got = [], [], 0
    while got < n_uni:
        k = max(1024, int((n_uni - got) * 2.3))
        x = rng.uniform(minx, maxx, k)
        y = rng.uniform(miny, maxy, k)
        keep = shapely.intersects_xy(city, x, y)
        xs.append(x[keep])
        ys.append(y[keep])
        got += int(keep.sum())
    ux = np.concatenate(xs)[:n_uni]
    uy = np.concatenate(ys)[:n_uni]
    # Tie points from the grids' rings.
    rings = shapely.get_rings(shapely.get_parts(np.array(grids, dtype=object)))
    coords, ring_id = shapely.get_coordinates(rings, return_index=True)
    n_vert = n_tie // 2
    vi = rng.integers(0, len(coords), n_vert)
    vx, vy = coords[vi, 0], coords[vi, 1]
    a = np.flatnonzero(ring_id[:-1] == ring_id[1:])
    p, q = coords[a], coords[a + 1]
    vertical = (p[:, 0] == q[:, 0]) & (p[:, 1] != q[:, 1])
    horizontal = (p[:, 1] == q[:, 1]) & (p[:, 0] != q[:, 0])
    axis = np.flatnonzero(vertical | horizontal)
    ei = axis[rng.integers(0, axis.size, n_tie - n_vert)]
    t = rng.uniform(0, 1, ei.size)
    ex = np.where(vertical[ei], p[ei, 0], p[ei, 0] + t * (q[ei, 0] - p[ei, 0]))
    ey = np.where(vertical[ei], p[ei, 1] + t * (q[ei, 1] - p[ei, 1]), p[ei, 1])
    x = np.concatenate([ux, vx, ex])
    y = np.concatenate([uy, vy, ey])
    tie = np.r_[np.zeros(n_uni, dtype=bool), np.ones(n_tie, dtype=bool)]
    perm = rng.permutation(n)
    return x[perm], y[perm], tie[perm]


# ------------------------------------------------------------------ methods
def lowest_per_point(point_idx: np.ndarray, rank: np.ndarray, n: int) -> np.ndarray:
    """Min rank per point (-1 where none), from (point, rank) pairs."""
    big = np.iinfo(np.int64).max
    ans = np.full(n, big, dtype=np.int64)
    np.minimum.at(ans, point_idx, rank.astype(np.int64))
    ans[ans == big] = -1
    return ans


def reference(garr: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Brute force, exact: every polygon whose bbox holds the point, shapely.intersects_xy,
    lowest code wins."""
    tree = shapely.STRtree(garr)  # bounding boxes only (no predicate)
    pi, gi = tree.query(shapely.points(x, y))
    hit = shapely.intersects_xy(garr[gi], x[pi], y[pi])
    return lowest_per_point(pi[hit], gi[hit], x.size)


def timed(fn, repeat: int):
    """Best wall time over `repeat` runs (and the CPU time of that run), plus the result."""
    best = None
    result = None
    for _ in range(repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        result = fn()
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        if best is None or wall < best[0]:
            best = (wall, cpu)
    assert best is not None
    return best[0], best[1], result


def bench_ours(codes, geoms, x, y, repeat: int) -> dict:
    idx = GridIndex.build(codes, geoms)
    assert idx.codes == codes
    wall, cpu, ans = timed(lambda: idx.query_many(x, y), repeat)
    return {
        "name": "GridIndex.query_many (ours)",
        "build_s": idx.build_seconds,
        "memory_mb": idx.memory_bytes() / 1e6,
        "seconds": wall,
        "cpu_seconds": cpu,
        "answers": ans.astype(np.int64),
        "stats": idx.stats,
    }


def bench_strtree(garr: np.ndarray, x, y, repeat: int) -> dict:
    t0 = time.perf_counter()
    tree = shapely.STRtree(garr)
    tree.query(shapely.points(x[:1], y[:1]))  # STRtree builds lazily on first query
    build = time.perf_counter() - t0

    def run():
        pts = shapely.points(x, y)
        pi, gi = tree.query(pts, predicate="covered_by")
        return lowest_per_point(pi, gi, x.size)

    wall, cpu, ans = timed(run, repeat)
    # Estimate: the geometries (same estimate as ours) + ~48 bytes per tree item.
    mem = geometry_memory_estimate(garr) + 48 * len(garr)
    return {
        "name": 'STRtree.query(predicate="covered_by")',
        "build_s": build,
        "memory_mb": mem / 1e6,
        "seconds": wall,
        "cpu_seconds": cpu,
        "answers": ans,
    }


def _pg_connect(dsn: str | None):
    import psycopg

    errors = []
    for d in [dsn] if dsn else list(DEFAULT_DSNS):
        try:
            return psycopg.connect(d, autocommit=True), d
        except Exception as e:
            errors.append(f"{d}: {str(e).strip()}")
    raise RuntimeError("; ".join(errors))


def bench_postgis(codes, garr: np.ndarray, x, y, repeat: int, dsn: str | None, lateral_points: int) -> dict:
    """ST_Covers + GiST. Returns a result dict, or {"skipped": reason}.

    PostgreSQL gets its best shot: GiST indexes on both tables (the planner then drives
    the join from the grids, so PostGIS reuses each prepared grid polygon for all its
    points), work_mem 256MB, JIT off, and the server-side execution time is what counts.
    The LATERAL form (one index probe per point) is much slower, so it is timed on the
    first ``lateral_points`` points only and reported as a rate.
    """
    try:
        conn, used_dsn = _pg_connect(dsn or os.environ.get("BENCH_PG_DSN"))
    except Exception as e:
        return {"skipped": f"PostgreSQL could not be reached ({e})"}
    forms: dict[str, dict] = {}
    try:
        with conn.cursor() as cur:
            try:
                cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                cur.execute("SELECT postgis_lib_version()")
                version = cur.fetchone()[0]
            except Exception as e:
                return {"skipped": f"PostGIS could not be had: {str(e).strip()}"}
            cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            cur.execute(f"CREATE SCHEMA {SCHEMA}")
            cur.execute(f"SET search_path = {SCHEMA}, public")
            cur.execute("SET max_parallel_workers_per_gather = 0")  # one core, like the others
            cur.execute("SET work_mem = '256MB'")
            cur.execute("SET jit = off")
            cur.execute("SET statement_timeout = '20min'")
            cur.execute("CREATE TABLE bench_grids (code text PRIMARY KEY, geom geometry(Geometry, 4326) NOT NULL)")
            cur.execute("CREATE TABLE bench_points (id integer PRIMARY KEY, geom geometry(Point, 4326) NOT NULL)")

            t0 = time.perf_counter()
            gwkb = shapely.to_wkb(shapely.set_srid(garr, 4326), hex=True, include_srid=True)
            with cur.copy("COPY bench_grids (code, geom) FROM STDIN") as cp:
                cp.write("".join(f"{c}\t{w}\n" for c, w in zip(codes, gwkb, strict=True)))
            pwkb = shapely.to_wkb(shapely.set_srid(shapely.points(x, y), 4326), hex=True, include_srid=True)
            buf = io.StringIO()
            for i, w in enumerate(pwkb):
                buf.write(f"{i}\t{w}\n")
            with cur.copy("COPY bench_points (id, geom) FROM STDIN") as cp:
                cp.write(buf.getvalue())
            del buf, pwkb
            load = time.perf_counter() - t0
            t0 = time.perf_counter()
            cur.execute("CREATE INDEX bench_grids_geom_gist ON bench_grids USING gist (geom)")
            build_grids = time.perf_counter() - t0
            t0 = time.perf_counter()
            cur.execute("CREATE INDEX bench_points_geom_gist ON bench_points USING gist (geom)")
            build_points = time.perf_counter() - t0
            cur.execute("ANALYZE bench_grids")
            cur.execute("ANALYZE bench_points")
            cur.execute("SELECT pg_total_relation_size('bench_grids')")
            size = cur.fetchone()[0]

            n_lat = min(int(lateral_points), x.size)
            plans = (
                ("JOIN … GROUP BY min(code)", Q_JOIN, x.size, repeat),
                ("LATERAL … ORDER BY code LIMIT 1", Q_LATERAL + f" WHERE p.id < {n_lat}", n_lat, 1),
            )
            for label, q, npts, runs in plans:
                best_exec = None
                for _ in range(runs):
                    cur.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + q)
                    plan = cur.fetchone()[0]
                    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
                    ms = float(plan["Execution Time"])
                    best_exec = ms if best_exec is None else min(best_exec, ms)
                t0 = time.perf_counter()
                cur.execute(q)
                rows = cur.fetchall()
                wall = time.perf_counter() - t0
                exec_s = best_exec / 1000.0
                forms[label] = {
                    "exec_s": exec_s,
                    "wall_s": wall,
                    "rows": rows,
                    "points": npts,
                    "rate": npts / exec_s,
                }
                log(f"  PostGIS {label} on {npts:,} points: server {exec_s:.2f} s, with fetch {wall:.2f} s")
    finally:
        try:
            with conn.cursor() as cur:
                cur.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        finally:
            conn.close()

    codes_arr = np.array(codes)
    for f in forms.values():
        ans = np.full(f["points"], -1, dtype=np.int64)
        rows = [r for r in f.pop("rows") if r[1] is not None]
        if rows:
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            got = np.array([r[1] for r in rows])
            ans[ids] = np.searchsorted(codes_arr, got)
        f["answers"] = ans
    label = max(forms, key=lambda k: forms[k]["rate"])
    best = forms[label]
    return {
        "name": f"PostGIS {version} ST_Covers + GiST ({label.split(' ')[0]})",
        "build_s": build_grids + build_points,
        "build_grids_s": build_grids,
        "build_points_s": build_points,
        "memory_mb": size / 1e6,
        "seconds": best["points"] / best["rate"] * (x.size / best["points"]),
        "answers": best["answers"],
        "answers_points": best["points"],
        "forms": forms,
        "load_s": load,
        "dsn": used_dsn.replace(" connect_timeout=5", ""),
    }


# --------------------------------------------------------------------- main
def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.geo_lookup", description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--target-km2", type=float, default=0.2, help="grid size (default 0.2 -> >= 10,000 grids)")
    ap.add_argument("--no-postgis", action="store_true", help="skip the PostGIS column")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per method; the best is reported")
    ap.add_argument("--dsn", default=None, help="PostgreSQL DSN (default: 127.0.0.1:5432 db test, postgres/root)")
    ap.add_argument("--lateral-points", type=int, default=100_000, help="points for the slow PostGIS LATERAL form")
    ap.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    raw = list(argv if argv is not None else sys.argv[1:])
    args = ap.parse_args(raw)
    command = " ".join(["python -m bench.geo_lookup", *(shlex.quote(a) for a in raw)])

    src = data_dir() / STREETS_FILE
    if not src.is_file():
        log(f"geo_lookup: skipped, street boundaries not found at {src} (../shared/data/geo beside the repo)")
        return 0
    t_start = t0 = time.perf_counter()
    streets = load_streets(src)
    codes, grids = make_grids(streets, args.target_km2)
    log(f"{len(streets)} streets -> {len(grids):,} grids of ~{args.target_km2} km2 ({time.perf_counter() - t0:.1f} s)")
    if len(grids) < MIN_GRIDS:
        log(f"warning: only {len(grids)} grids (< {MIN_GRIDS:,}); use a smaller --target-km2")
    garr = np.array(grids, dtype=object)
    shapely.prepare(garr)
    city = shapely.union_all([g for _sid, _name, g in streets])
    t0 = time.perf_counter()
    x, y, tie = sample_points(city, grids, args.points, args.seed)
    n, n_tie = x.size, int(tie.sum())
    log(f"{n:,} points ({n_tie:,} exactly on grid vertices/edges) ({time.perf_counter() - t0:.1f} s)")

    t0 = time.perf_counter()
    ref = reference(garr, x, y)
    ref_s = time.perf_counter() - t0
    sub = np.flatnonzero(tie)
    pi, _gi = shapely.STRtree(garr).query(shapely.points(x[sub], y[sub]), predicate="intersects")
    n_multi = int((np.bincount(pi, minlength=sub.size) >= 2).sum())
    log(f"reference: {ref_s:.1f} s; {int((ref < 0).sum()):,} points in no grid, {n_multi:,} tie points in >= 2 grids")

    results = []
    log("(a) GridIndex ...")
    ours = bench_ours(codes, grids, x, y, args.repeat)
    results.append(ours)
    log(f"  build {ours['build_s']:.2f} s, query {ours['seconds']:.3f} s (cpu {ours['cpu_seconds']:.3f} s)")
    log("(b) STRtree ...")
    strt = bench_strtree(garr, x, y, args.repeat)
    results.append(strt)
    log(f"  query {strt['seconds']:.3f} s (cpu {strt['cpu_seconds']:.3f} s)")
    pg = None
    pg_note = "PostGIS: skipped (--no-postgis)."
    if not args.no_postgis:
        log("(c) PostGIS ...")
        pg = bench_postgis(codes, garr, x, y, max(1, min(args.repeat, 2)), args.dsn, args.lateral_points)
        if "skipped" in pg:
            pg_note = f"PostGIS: skipped - {pg['skipped']}"
            log(pg_note)
            pg = None
        else:
            results.append(pg)

    rate_ours = n / ours["seconds"]
    headers = ["method", "build s", "memory MB", "lookups/s", "ratio vs ours", "mismatches"]
    rows = []
    for r in results:
        k = r.get("answers_points", n)
        r["mismatches"] = int(np.count_nonzero(r["answers"] != ref[:k]))
        rate = n / r["seconds"]
        rows.append(
            [
                r["name"],
                f"{r['build_s']:.2f}",
                f"{r['memory_mb']:.1f}",
                f"{rate:,.0f}",
                f"{rate_ours / rate:.1f}x",
                f"{r['mismatches']:,}",
            ]
        )
    print()
    print_table(headers, rows)

    vs_strtree = strt["seconds"] / ours["seconds"]
    checks = [f"ours vs STRtree: {vs_strtree:.1f}x faster (target >= 1.5x: {_verdict(vs_strtree >= 1.5)})"]
    if pg is not None:
        vs_pg = pg["seconds"] / ours["seconds"]
        checks.append(f"ours vs PostGIS: {vs_pg:.1f}x faster (target >= 10x: {_verdict(vs_pg >= 10)})")
        forms = "; ".join(
            f"`{k}` on {f['points']:,} points {f['exec_s']:.2f} s = {f['rate']:,.0f} lookups/s "
            f"(with fetching the rows into Python {f['wall_s']:.2f} s), "
            f"mismatches {int(np.count_nonzero(f['answers'] != ref[: f['points']]))}"
            for k, f in pg["forms"].items()
        )
        pg_note = (
            f"PostGIS ({pg['dsn']}; max_parallel_workers_per_gather = 0, work_mem 256MB, jit off): "
            f"loading grids and points as hex EWKB with COPY took {pg['load_s']:.1f} s (not part of any "
            f"timing); build s = GiST on the grids {pg['build_grids_s']:.2f} s + GiST on the points "
            f"{pg['build_points_s']:.2f} s (with it the planner drives the join from the grids and reuses "
            "each prepared polygon); memory = pg_total_relation_size of the grid table. Query time = "
            f"server-side execution (EXPLAIN ANALYZE, best of runs). Both query forms: {forms}."
        )
    mism_total = sum(r["mismatches"] for r in results)
    checks.append(f"mismatches against the exact reference: {mism_total} (must be 0)")
    print()
    for c in checks:
        log(c)
    log(pg_note)
    st = ours["stats"]
    nonempty = st["finest_pure_cells"] + st["finest_mixed_cells"] + st["finest_fallback_cells"]
    mixed_pct = 100.0 * (st["finest_mixed_cells"] + st["finest_fallback_cells"]) / max(1, nonempty)
    index_note = (
        f"GridIndex: finest cells {st['cell_m']:.1f} m, depth {st['depth']} "
        f"(root cells {st['cell_m'] * 4 ** st['depth']:.0f} m), {st['nodes']:,} nodes, "
        f"{st['finest_mixed_cells']:,} mixed finest cells ({mixed_pct:.1f} % of the non-empty ones), "
        f"{st['leaf_lists']:,} distinct candidate lists; "
        f"query CPU/wall {ours['cpu_seconds'] / ours['seconds']:.2f}."
    )
    log(index_note)
    total = time.perf_counter() - t_start
    log(f"total {total:.0f} s")

    if not args.no_write:
        today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        md = "\n".join(
            [
                "## Point → grid lookup (`geo_lookup`)",
                "",
                f"- Command: `{command}` (from the repository root)",
                f"- Machine: {machine_description()}; one core (numeric threads = 1, no parallel workers)",
                f"- Date: {today}",
                f"- Data: {len(streets)} Shenzhen streets (`{STREETS_FILE}`, GCJ-02 → WGS-84 with "
                f"`civicgrid.geo.crs`) cut by `civicgrid.geo.subdivide` into **{len(grids):,} grids** "
                f"of ~{args.target_km2} km²",
                f"- Points: **{n:,}** ({n - n_tie:,} uniform in the city, seed {args.seed}; "
                f"{n_tie:,} exactly on grid vertices/edges, {n_multi:,} of them covered by two or more "
                "grids), one batch per method",
                "",
                markdown_table(headers, rows),
                "",
                "Semantics for every method: the lowest code among the grids that cover the point (boundary "
                "included), none if no grid does. *lookups/s* = points ÷ best-of-"
                f"{args.repeat} query time (the STRtree time includes making the shapely points and the "
                "lowest-code resolution); *ratio vs ours* = how many times more lookups/s ours does; "
                "*mismatches* = answers differing from a brute-force exact reference (bbox candidates + "
                "`shapely.intersects_xy`, lowest code) over **all** points. "
                "Memory of the in-process methods = "
                "index arrays + an estimate of the GEOS geometries (32 B/coordinate + 200 B/geometry; "
                "STRtree + 48 B/item).",
                "",
                "- " + "\n- ".join(checks),
                f"- {pg_note}",
                f"- {index_note}",
                f"- Whole run (data, sampling, reference, all methods): {total:.0f} s.",
            ]
        )
        path = write_section("geo_lookup", md)
        log(f"wrote section geo_lookup of {path.relative_to(REPO_ROOT)}")
    return 0 if mism_total == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
