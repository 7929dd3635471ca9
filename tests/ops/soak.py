"""Two app servers and two workers on one PostgreSQL database under a steady load of reports and
status reads, with the sweep running (issue 22, "Two of everything"). Used by
``test_two_of_everything.py`` (60 s in ``make test``) and ``bench/ops_soak.py`` (ten minutes).

The app servers are gunicorn processes (one worker, eight threads each) on 127.0.0.1; the workers
are ``civicgrid worker`` processes whose channels record every message id in the fake gateway's
sink (``tests.ops.sink_worker``). The load is open-loop: report *i* is due at ``i / rate`` seconds
whatever happened to the others, sent to the servers in turn, with an idempotency key; a connection
error or a 5xx is retried on the other server with the same key, as a client behind a load
balancer would.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import procs

TEXTS = ["小区门口上水井盖缺失，有行人掉落危险", "路口井盖松动，车辆经过响声很大", "人行道上水井盖破损下陷",
         "菜市场旁井盖缺失，夜间看不清"]


@dataclass
class Load:
    reports_due: int = 0
    created: dict[str, str] = field(default_factory=dict)  # idempotency key → tracking code
    replayed: int = 0  # answered 200: a retry found the first event
    retries: int = 0
    failed: list[str] = field(default_factory=list)  # keys never accepted
    reads: int = 0
    read_errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)  # every answer to a report, retries included
    lock: threading.Lock = field(default_factory=threading.Lock)

    def p(self, q: float) -> float:
        values = sorted(self.latencies)
        return values[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def start_servers(env: dict[str, str], ports: list[int], tmp: Path) -> list[Any]:
    servers = [procs.start(["gunicorn", "civicgrid.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers",
                            "1", "--threads", "8", "--timeout", "120", "--graceful-timeout", "5"],
                           env, tmp / f"server-{port}.log") for port in ports]
    for port, server in zip(ports, servers, strict=True):
        procs.wait_until(lambda port=port: _ok(f"http://127.0.0.1:{port}/healthz/app"), timeout=120,
                         what=f"app server on {port}", procs=(server,), log=tmp / f"server-{port}.log", every=0.5)
    return servers


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _request(url: str, token: str, body: dict[str, Any] | None = None, key: str = "") -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def run_load(*, ports: list[int], token: str, rate: float, reads_per_second: float, seconds: float,
             point: tuple[float, float], run: str, category: str = "C0101") -> Load:
    load = Load()
    rng = random.Random(run)

    def report(i: int) -> None:
        key = f"{run}-{i}"
        body = {"text": f"{TEXTS[i % len(TEXTS)]}（{i}）", "category": category,
                "lon": point[0] + rng.uniform(-0.004, 0.004), "lat": point[1] + rng.uniform(-0.004, 0.004),
                "reporter_phone": f"139{i:08d}"}
        started = time.monotonic()
        for attempt in range(6):
            port = ports[(i + attempt) % len(ports)]
            try:
                status, answer = _request(f"http://127.0.0.1:{port}/api/v1/events", token, body, key)
            except (OSError, urllib.error.URLError):
                status, answer = 0, {}
            with load.lock:
                load.statuses[status] += 1
            if status in (200, 201):
                with load.lock:
                    load.created[key] = answer["tracking_code"]
                    load.replayed += status == 200
                    load.latencies.append(time.monotonic() - started)
                return
            if status and status < 500:
                break  # refused: no retry helps
            with load.lock:
                load.retries += 1
            time.sleep(0.5 * (attempt + 1))
        with load.lock:
            load.failed.append(key)

    def read(j: int) -> None:
        with load.lock:
            codes = list(load.created.values())
        if not codes:
            return
        code = rng.choice(codes)
        try:
            status, answer = _request(f"http://127.0.0.1:{ports[j % len(ports)]}/api/v1/events/{code}", token)
        except (OSError, urllib.error.URLError) as exc:
            status, answer = 0, {"error": str(exc)}
        with load.lock:
            load.reads += 1
            if status != 200 or answer.get("tracking_code") != code:
                load.read_errors.append(f"{code}: {status}")

    reports, reads = int(rate * seconds), int(reads_per_second * seconds)
    load.reports_due = reports
    events = sorted([(i / rate, report, i) for i in range(reports)] +
                    [((j + 0.5) / reads_per_second, read, j) for j in range(reads)], key=lambda e: e[0])
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for at, fn, n in events:
            delay = t0 + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(fn, n)
    return load
