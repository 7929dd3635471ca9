"""Run every benchmark: ``python -m bench [NAME ...]`` from the repository root.

Each run is its own process (Django is configured once per process, and a fresh interpreter keeps
peak-memory figures honest). Results are printed and written into docs/benchmarks.md.
"""

from __future__ import annotations

import os
import subprocess
import sys

# name → argument lists; each list is one run.
BENCHMARKS: dict[str, tuple[tuple[str, ...], ...]] = {
    "geo_lookup": ((),),
    "geo_import": (("--database", "postgres"), ("--database", "sqlite")),
    "cases_metrics": ((),),
    "cases_engine": ((),),
    "dispatch": ((),),
    "events_import": ((),),
    "http_intake": ((),),
    "schemathesis_run": ((),),
    "ops_soak": ((),),
    "ops_pg_restart": ((),),
}


def main(argv: list[str] | None = None) -> int:
    names = list(argv if argv is not None else sys.argv[1:]) or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    rc = 0
    for name in names:
        for args in BENCHMARKS[name]:
            print(f"=== bench.{name} {' '.join(args)} ===", flush=True)
            rc = max(rc, subprocess.call([sys.executable, "-m", f"bench.{name}", *args], env=env))
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
