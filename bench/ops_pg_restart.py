"""PostgreSQL restarted under intake load, on a throwaway cluster (issue 22, "Faults").

    python -m bench.ops_pg_restart [--seconds 60] [--down 5]      # as root, on Debian's PostgreSQL 15

Creates the cluster ``15/chaos`` on port 5433 (``pg_createcluster``; refused if it exists), loads the
demo city into it, starts one gunicorn app server and one ``civicgrid worker`` against it, and posts
20 reports/s with idempotency keys for ``--seconds``; a third of the way in the cluster is stopped
(``pg_ctlcluster … stop -m fast``) for ``--down`` seconds and started again. The client retries an
error (503, or a refused connection) with the same key, up to six times with a growing pause. Then:
every report accepted exactly once, no case without its event details or its timeline, the worker
delivered every message after the restart (it reconnected on its own), and the app answered again
without being restarted. The cluster is dropped afterwards (``pg_dropcluster``), whatever happened;
the suite's own cluster (5432) is never touched. Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PORT, VERSION, NAME = 5433, "15", "chaos"
LEASE = 20
os.environ["CIVICGRID_BENCH_PG"] = f"postgres://postgres@127.0.0.1:{PORT}/postgres"

from bench.report import machine_description, markdown_table, print_table, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def sh(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True, text=True)


def cluster_create() -> None:
    if subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout.count(f" {NAME} "):
        raise SystemExit(f"a cluster {VERSION}/{NAME} exists already: drop it (pg_dropcluster {VERSION} {NAME} --stop) "
                         "if it is a leftover of this benchmark")
    sh("pg_createcluster", VERSION, NAME, "--port", str(PORT))
    # Trust on the loopback only, for this throwaway cluster.
    hba = Path(f"/etc/postgresql/{VERSION}/{NAME}/pg_hba.conf")
    hba.write_text("local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n")
    sh("pg_ctlcluster", VERSION, NAME, "start")


def cluster_drop() -> None:
    subprocess.run(["pg_dropcluster", VERSION, NAME, "--stop"], capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--down", type=float, default=5.0)
    args = parser.parse_args()
    if os.geteuid() != 0 or not shutil.which("pg_createcluster"):
        print("needs root and Debian's pg_createcluster: skipped")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="civicgrid-chaos-"))
    load_before = os.getloadavg()
    cluster_create()
    started: list[subprocess.Popen] = []
    try:
        from bench.http_intake import _setup

        info = _setup(0)  # the demo city in a fresh database on the chaos cluster, a 12345 token
        sys.path.insert(0, str(ROOT))
        from tests.ops import procs, soak

        env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_SETTINGS")}
        env.update({"DATABASE_URL": info["url"], "CIVICGRID_ENV": "development", "CIVICGRID_DEBUG": "false",
                    "CIVICGRID_DATA_DIR": str(tmp), "CIVICGRID_ACCESS_LOG": "false",
                    # Messages claimed just before the database went away wait for their lease to end.
                    "CIVICGRID_OUTBOX_LEASE_SECONDS": str(LEASE),
                    "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
                    "DJANGO_SETTINGS_MODULE": "civicgrid.settings"})
        ports = [18771]
        started += soak.start_servers(env, ports, tmp)
        started.append(procs.worker(env, tmp / "worker.log", "--interval", "2", "--outbox-interval", "1"))
        outage: dict[str, float] = {}

        def restart() -> None:
            time.sleep(args.seconds / 3)
            outage["stopped"] = time.monotonic()
            sh("pg_ctlcluster", VERSION, NAME, "stop", "-m", "fast")
            time.sleep(args.down)
            sh("pg_ctlcluster", VERSION, NAME, "start")
            outage["started"] = time.monotonic()

        chaos = threading.Thread(target=restart)
        t0 = time.monotonic()
        chaos.start()
        load = soak.run_load(ports=ports, token=info["token"], rate=20, reads_per_second=2, seconds=args.seconds,
                             point=info["points"][0], run="chaos", category=info["categories"][0])
        chaos.join()

        from django.db import close_old_connections, connection

        connection.close()
        close_old_connections()
        from civicgrid.cases.models import Case
        from civicgrid.events.models import EventDetail
        from civicgrid.notify.models import Notification

        deadline = time.monotonic() + LEASE + 90
        while Notification.objects.filter(state="pending").exists() and time.monotonic() < deadline:
            time.sleep(1)
        pending = Notification.objects.filter(state="pending").count()
        keys = [k.rsplit(":", 1)[1] for k in EventDetail.objects.filter(idempotency_key__contains=":chaos-")
                .values_list("idempotency_key", flat=True)]
        half = Case.objects.filter(event__isnull=True).count() + Case.objects.filter(timeline__isnull=True).count()
        app_ok = soak._ok(f"http://127.0.0.1:{ports[0]}/healthz/app")
        errors = {s: n for s, n in load.statuses.items() if s not in (200, 201)}
        print(f"answers: {dict(load.statuses)}; failed keys: {len(load.failed)}")
        ok = (not load.failed and len(keys) == len(set(keys)) == len(load.created) == load.reports_due
              and half == 0 and pending == 0 and app_ok)
        rows = [
            ["reports offered / accepted / stored", f"{load.reports_due} / {len(load.created)} / {len(set(keys))}"],
            ["duplicates stored", str(len(keys) - len(set(keys)))],
            ["cases without details or timeline (half-written)", str(half)],
            ["answers during the outage (status: count)", ", ".join(f"{'refused' if s == 0 else s}: {n}"
                                                                   for s, n in sorted(errors.items())) or "none"],
            ["requests retried by the client", str(load.retries)],
            ["database down", f"{outage['started'] - outage['stopped']:.1f} s "
                              f"(from {outage['stopped'] - t0:.0f} s into the load)"],
            ["intake latency p50 / p99 / max", f"{load.p(0.5) * 1000:.0f} / {load.p(0.99) * 1000:.0f} / "
                                               f"{max(load.latencies, default=0) * 1000:.0f} ms"],
            [f"messages pending {LEASE + 90} s after the run (lease {LEASE} s; worker reconnected)", str(pending)],
            ["app answers /healthz/app afterwards, not restarted", "yes" if app_ok else "NO"],
            ["load average before (1, 5, 15 min)", " ".join(f"{x:.1f}" for x in load_before)],
            ["outcome", "every check passed" if ok else "FAILED"],
        ]
        print_table(["", "value"], rows)
        write_section("ops_pg_restart", "\n".join([
            "## PostgreSQL restarted under intake load (throwaway cluster)",
            "",
            f"`python -m bench.ops_pg_restart --seconds {args.seconds} --down {args.down:g}` — "
            f"{machine_description()}. "
            f"Cluster {VERSION}/{NAME} on port {PORT}, made and dropped by the script; one gunicorn app server "
            "(1 × 8 threads) and one worker; 20 reports/s with idempotency keys, the client retrying a 503 or a "
            "refused connection with the same key (six tries, pauses growing from 0.5 s).",
            "",
            markdown_table(["", "value"], rows),
        ]))
        return 0 if ok else 1
    finally:
        for p in started:
            try:
                from tests.ops import procs

                procs.stop(p)
            except Exception:
                p.kill()
        cluster_drop()


if __name__ == "__main__":
    raise SystemExit(main())
