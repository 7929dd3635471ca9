"""Time to import 10,000+ grids through the production import path (plan + commit, with the
audit rows and boundary version), on real Shenzhen shapes: city → 9 districts → 74 streets →
communities (subdivided) → grids (subdivided).

    python -m bench.geo_import [--database postgres|sqlite] [--grid-km2 0.18]

Django is configured once per process, so one run measures one database; ``python -m bench``
runs it for PostgreSQL, and for SQLite in a second process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import resource
import sys
import time

from bench.django_env import fresh_database, postgres_available, setup_django
from bench.report import machine_description, markdown_table, print_table, write_section

SHARED = "../shared/data/geo"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.geo_import")
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--grid-km2", type=float, default=0.18)
    parser.add_argument("--community-km2", type=float, default=2.0)
    args = parser.parse_args(argv)
    if args.database == "postgres" and not postgres_available():
        print("PostgreSQL does not answer on 127.0.0.1:5432: cannot run the import benchmark there")
        return 1
    setup_django(fresh_database(args.database))

    from civicgrid.audit.models import AuditEntry
    from civicgrid.geo.models import Boundary, Region
    from civicgrid.geo.services import (
        city_create,
        geojson_load,
        regions_import,
        regions_import_apply,
        regions_import_plan,
        subdivision_features,
    )

    city_create(code="440300", name="深圳市", actor=None)
    regions_import(geojson_load(f"{SHARED}/440300_full.json"), level="district", code_field="adcode",
                   source_crs="gcj02", actor=None, commit=True)
    regions_import(geojson_load(f"{SHARED}/深圳街道.geojson"), level="street", code_field="ID",
                   name_field="NAME", parent_field="DISTRICT", source_crs="gcj02", actor=None, commit=True)
    streets = list(Region.objects.filter(level="street"))
    communities = subdivision_features(streets, target_m2=args.community_km2 * 1e6, child_level="community")
    regions_import(communities, level="community", parent_field="parent", actor=None, commit=True)
    grids = subdivision_features(Region.objects.filter(level="community"), target_m2=args.grid_km2 * 1e6,
                                 child_level="grid")
    n = len(grids["features"])
    audit_before = AuditEntry.objects.count()
    gc.collect()

    t0 = time.perf_counter()
    dry = regions_import_plan(grids, level="grid", parent_field="parent", source="bench grids")
    t_plan = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = regions_import_plan(grids, level="grid", parent_field="parent", source="bench grids")
    regions_import_apply(report, actor=None)
    t_commit = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    created = Region.objects.filter(level="grid").count()
    audits = AuditEntry.objects.count() - audit_before
    shapes = Boundary.objects.filter(region__level="grid").count()
    assert created == n - len(report.rejected) == shapes, (created, n, shapes)
    headers = ["database", "grids", "dry run s", "plan + commit s", "grids/s", "audit rows", "rejected",
               "peak RSS MB"]
    rows = [[args.database, f"{created:,}", f"{t_plan:.2f}", f"{t_commit:.2f}", f"{created / t_commit:,.0f}",
             f"{audits:,}", len(dry.rejected), f"{peak_mb:.0f}"]]
    print_table(headers, rows)
    section = "\n".join([
        f"## Importing grids ({args.database})",
        "",
        f"`python -m bench.geo_import --database {args.database}` — {dt.date.today().isoformat()}, "
        f"{machine_description()}.",
        "",
        f"{created:,} grids cut from the real Shenzhen streets (74 streets → "
        f"{Region.objects.filter(level='community').count():,} communities of ~{args.community_km2} km² → grids of "
        f"~{args.grid_km2} km²), imported through `regions_import_plan` + `regions_import_apply`: validation, "
        "sibling-overlap checks, code generation, one transaction with the boundary version, one audit row per "
        "grid plus one for the import. Peak RSS includes building the shapes.",
        "",
        markdown_table(headers, rows),
    ])
    write_section(f"geo_import_{args.database}", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
