"""Two app servers and two workers on one PostgreSQL for ten minutes (issue 22, "Two of everything").

    CIVICGRID_BENCH_PG=postgres://postgres@127.0.0.1:5432/<a database to connect to> \\
        python -m bench.ops_soak [--seconds 600]

Runs ``tests/ops/test_two_of_everything.py`` — the same harness and checks as the 60-second test in
``make test`` — for ``--seconds``: two gunicorn app servers (1 process × 8 threads each) and two
``civicgrid worker`` processes (sweep every 3 s, outbox every 1 s) on one PostgreSQL database,
20 reports/s through the API (open loop, alternating servers, idempotency keys, a 5xx or a refused
connection retried on the other server) and 5 status reads/s, with a clock falling due every two
seconds. Every report must be stored once, every message id reach the fake gateway's sink once,
every clock be marked within one sweep interval; the figures go to docs/benchmarks.md with the
machine's load average (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.django_env import PG_ADMIN_URL, postgres_available
from bench.report import machine_description, markdown_table, print_table, write_section

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=600)
    args = parser.parse_args()
    if not postgres_available():
        print(f"PostgreSQL does not answer at {PG_ADMIN_URL}: skipped")
        return 0
    report_path = Path(tempfile.mkdtemp(prefix="civicgrid-soak-")) / "soak.json"
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    env = {**os.environ, "DATABASE_URL": f"{base}/civicgrid_bench_soak", "CIVICGRID_SOAK_SECONDS": str(args.seconds),
           "CIVICGRID_SOAK_REPORT": str(report_path), "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    load_before = os.getloadavg()
    started = time.monotonic()
    rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "--create-db",
                          "tests/ops/test_two_of_everything.py"], cwd=ROOT, env=env)
    wall = time.monotonic() - started
    load_after = os.getloadavg()
    if rc or not report_path.exists():
        print(f"the run failed (pytest exit {rc}): no figures written")
        return rc or 1
    r = json.loads(report_path.read_text())
    rows = [
        ["reports offered / stored once", f"{r['reports_due']:,} / {r['reports']:,}"],
        ["reports per second (offered)", f"{r['rate']} (achieved {r['reports'] / r['load_seconds']:.1f})"],
        ["retried requests / replayed by key", f"{r['retries']} / {r['replayed']}"],
        ["intake latency p50 / p99 / max", f"{r['p50_ms']:.0f} / {r['p99_ms']:.0f} / {r['max_ms']:.0f} ms"],
        ["status reads (errors)", f"{r['reads']:,} ({r['read_errors']})"],
        ["notifications delivered / message ids seen twice", f"{r['notifications']:,} / {r['duplicate_ids']}"],
        ["messages handed to the gateway", f"{r['messages']:,}"],
        ["outbox drained after the load in", f"{r['drained_seconds']:.1f} s"],
        ["clocks falling due / worst lag", f"{r['clocks']} / {r['max_sweep_lag_s']:.2f} s "
                                           f"(sweep interval {r['sweep_interval_s']:.0f} s)"],
        ["load average before / after (1, 5, 15 min)", f"{' '.join(f'{x:.1f}' for x in load_before)} / "
                                                       f"{' '.join(f'{x:.1f}' for x in load_after)}"],
        ["wall time (setup, load, drain, checks)", f"{wall:.0f} s"],
    ]
    print_table(["", "value"], rows)
    write_section("ops_soak", "\n".join([
        f"## Two app servers and two workers for {args.seconds // 60} minutes (PostgreSQL)",
        "",
        f"`python -m bench.ops_soak --seconds {args.seconds}` — {machine_description()}. Two gunicorn app servers "
        "(1 × 8 threads) and two workers (sweep every 3 s, outbox every 1 s) on one PostgreSQL; 20 reports/s "
        "through `POST /api/v1/events` with idempotency keys and 5 status reads/s, open loop, from a third "
        "process on the same cores; a clock falls due every two seconds. Checked: every report stored once, "
        "every message id handed to the fake gateway once, every clock marked within one sweep interval "
        "(`tests/ops/test_two_of_everything.py`, whose 60-second run is in `make test`). The machine was "
        "shared with other work: see its load average.",
        "",
        markdown_table(["", "value"], rows),
    ]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
