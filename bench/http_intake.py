"""HTTP intake under load, with production server settings (PostgreSQL, granian or gunicorn).

    python -m bench.http_intake [--rate 500] [--seconds 20] [--server granian|gunicorn] [--workers N]
        [--threads N] [--list-cases 1000000]

The demo city 云川市 is loaded into a fresh PostgreSQL database (``civicgrid_bench_http``); a 12345
system account gets an API token with the ``intake`` scope. The production app server serves the
app (``CIVICGRID_ENV=production``, DEBUG off) on 127.0.0.1 — granian's WSGI interface (2 workers × 2
threads) by default, gunicorn's gthread workers (3 × 4) with ``--server gunicorn``; with granian the
intake at the fixed rate is measured again on gunicorn, for comparison — and the load generator
(``bench/http_load.py``, a separate process, open loop: requests are scheduled at a fixed rate and
each latency counts from the moment the request was due) posts reports:

* ``POST /api/v1/events`` at a fixed offered rate (default 500/s) for ``--seconds``: p50/p99 latency
  and errors (target p99 < 100 ms, no errors); then rising rates, 10 s each, to find the maximum
  sustained rate (every request answered 2xx, throughput ≥ 95 % of the offered rate, p99 < 1 s);
* the same for the Open311 ``POST /open311/v2/requests.json``, when the adapter is installed;
* with ``--list-cases N`` (default 1,000,000) that many open cases are added set-based (then the
  tables vacuumed and a checkpoint taken, the steady state autovacuum keeps) and the case
  list is read one request at a time (the API list of events, newest first, and the workbench page
  when it exists): p50/p99 (target p99 < 300 ms).

Every report goes through the production code path: validation, placement, routing, the case
engine's timeline, audit and outbox rows. The load generator shares the machine's cores with the
server and PostgreSQL, as the issue's setup has it; the table says how many cores there are.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench.django_env import fresh_database, postgres_available, setup_django
from bench.report import machine_description, markdown_table, print_table, write_section

DB = "civicgrid_bench_http"
PORT = 8971
TOPICS = [("井盖缺失", "路口井盖缺失，夜间行人容易踩空，请尽快处理"), ("路灯不亮", "小区北门路灯连续三晚不亮"),
          ("暴露垃圾", "菜市场旁边垃圾堆放两天无人清运"), ("占道经营", "早市摊贩占用人行道"),
          ("噪音扰民", "工地夜间十一点后仍在施工"), ("道路破损", "公交站前路面坑洼积水")]


def _setup(list_cases: int) -> dict[str, Any]:
    url = fresh_database("postgres", DB)
    setup_django(url)
    from django.core.management import call_command

    from civicgrid.geo.models import Region
    from civicgrid.org.models import Role
    from civicgrid.org.services import membership_grant, token_create, user_create
    from civicgrid.taxonomy.models import Category

    call_command("demo_load", events=0, no_progress=True, verbosity=0)
    city = Region.objects.get(level="city")
    bot = user_create(actor=None, username="hotline_system", password=None, display_name="12345 热线系统")
    membership_grant(actor=None, user=bot, role=Role.DISPATCHER, region=city)
    _token, text = token_create(actor=None, user=bot, name="12345 bench", scopes=["intake", "read"])
    categories = list(Category.objects.filter(is_active=True, parent__isnull=False).values_list("code", flat=True))
    grids = list(Region.objects.filter(level="grid", is_active=True).values_list("id", flat=True))
    from shapely import wkb

    from civicgrid.geo.models import Boundary

    points = []
    rng = random.Random(7)
    for raw in Boundary.objects.filter(region_id__in=grids[:200], valid_to__isnull=True).values_list("geom_wkb",
                                                                                                    flat=True):
        c = wkb.loads(bytes(raw)).representative_point()
        points.append((round(c.x, 6), round(c.y, 6)))
    rng.shuffle(points)
    listed = 0
    if list_cases:
        listed = _add_open_cases(list_cases)
    return {"url": url, "token": text, "categories": categories, "points": points, "listed": listed,
            "sessions": {name: _session_cookie(name) for name in ("city_dispatcher", "s1_dispatcher")}}


def _session_cookie(username: str) -> str:
    """A signed-in browser's cookie for a demo user (a session stored as a sign-in would store it)."""
    from django.conf import settings
    from django.test import Client

    from civicgrid.org.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _add_open_cases(m: int) -> int:
    """m open events added set-based (as bench.cases_engine does for the sweep), with their details."""
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from bench.cases_engine import generate_open_cases

    generate_open_cases(m, timezone.now() - dt.timedelta(days=1))
    with connection.cursor() as cur:
        cur.execute("UPDATE cases_case SET case_type = 'event', state = 'dispatched' WHERE case_type = 'drill'")
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'events_eventdetail'")
        columns = {r[0] for r in cur.fetchall()}
        defaults = {"idempotency_key": "'bench:' || c.id", "routing": "'routed'", "routing_reason": "''",
                    "source_system": "''", "external_id": "''", "photos": "'[]'::jsonb", "location_source": "'given'",
                    "category_text": "''", "fingerprint": "''"}
        cols = ["case_id"] + [c for c in defaults if c in columns]
        values = ["c.id"] + [defaults[c] for c in cols[1:]]
        cur.execute(f"INSERT INTO events_eventdetail ({', '.join(cols)}) SELECT {', '.join(values)} "
                    "FROM cases_case c WHERE NOT EXISTS (SELECT 1 FROM events_eventdetail d WHERE d.case_id = c.id)")
        # A database in its steady state, as autovacuum keeps a production one: the UPDATE above left a
        # dead row per case, and the load wrote gigabytes of WAL. Left alone, autovacuum and the
        # checkpoints it forces would run inside the measured minutes.
        cur.execute("VACUUM (ANALYZE) cases_case, events_eventdetail")
        cur.execute("ANALYZE")
        cur.execute("CHECKPOINT")
        cur.execute("SELECT count(*) FROM cases_case")
        return cur.fetchone()[0]


def _bodies(setup: dict[str, Any], path: Path, n: int = 2000) -> None:
    rng = random.Random(11)
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            title, text = rng.choice(TOPICS)
            lon, lat = rng.choice(setup["points"])
            f.write(json.dumps({"title": title, "text": f"{text}（{i}）", "lon": lon, "lat": lat,
                                "category": rng.choice(setup["categories"]), "request_type": "求助",
                                "reporter_name": "王小明", "reporter_phone": f"138{rng.randrange(10**8):08d}"},
                               ensure_ascii=False) + "\n")


def _open311_bodies(setup: dict[str, Any], path: Path, n: int = 2000) -> None:
    rng = random.Random(13)
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            title, text = rng.choice(TOPICS)
            lon, lat = rng.choice(setup["points"])
            f.write(json.dumps({"api_key": setup["token"], "service_code": rng.choice(setup["categories"]),
                                "lat": lat, "long": lon, "description": f"{title}：{text}（{i}）",
                                "phone": f"139{rng.randrange(10**8):08d}"}, ensure_ascii=False) + "\n")


SERVERS = {"granian": (2, 2), "gunicorn": (3, 4)}  # workers, threads per worker
APP = "civicgrid.wsgi:application"  # in every server process's command line (its CPU is counted by it)


def _server(url: str, server: str, workers: int, threads: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, DATABASE_URL=url, CIVICGRID_ENV="production", CIVICGRID_DEBUG="false",
               CIVICGRID_SECRET_KEY=os.environ["CIVICGRID_SECRET_KEY"], CIVICGRID_ALLOWED_HOSTS="127.0.0.1",
               CIVICGRID_ENCRYPTION_KEYS=os.environ.get("CIVICGRID_ENCRYPTION_KEYS",
                                                        "ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHJvZHVjdGk="),
               CIVICGRID_HASH_KEY=os.environ.get("CIVICGRID_HASH_KEY", "development-hash-key"),
               CIVICGRID_SECURE_COOKIES="false", CIVICGRID_LOG_LEVEL="WARNING",
               # plain HTTP on loopback: TLS is the proxy's in production (docs/deployment.md)
               CIVICGRID_SSL_REDIRECT="false",
               # the 12345 system is a trusted client: its token is not throttled like the public
               CIVICGRID_RATE_PUBLIC_PER_MINUTE="0")
    if server == "granian":
        cmd = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(PORT),
               "--workers", str(workers), "--blocking-threads", str(threads), "--backlog", "2048",
               "--log-level", "warning", "--no-ws", APP]
    else:
        cmd = [sys.executable, "-m", "gunicorn", APP, "--bind", f"127.0.0.1:{PORT}",
               "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
               "--keep-alive", "30", "--backlog", "2048", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/v1/openapi.json", timeout=2)
            return proc
        except urllib.error.HTTPError:
            return proc  # it answers
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"{server} did not start")


def _load(url: str, rate: float, seconds: float, bodies: Path | None, *, headers: list[str] = (),
          form: bool = False, method: str = "POST", key_header: str = "", connections: int = 64) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.http_load", "--url", url, "--rate", str(rate), "--seconds", str(seconds),
           "--method", method, "--connections", str(connections)]
    if bodies:
        cmd += ["--body-file", str(bodies)]
    for h in headers:
        cmd += ["--header", h]
    if form:
        cmd.append("--form")
    if key_header:
        cmd += ["--key-header", key_header]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _cpu_ticks(pattern: str) -> dict[int, int]:
    """CPU ticks (user + system) of each live process whose command line matches ``pattern``."""
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    ticks = {}
    for pid in map(int, out.split()):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


def _cpu_since(before: dict[int, int], pattern: str) -> float:
    """Seconds of CPU the matching processes used since ``before`` (a process started since counts whole)."""
    after = _cpu_ticks(pattern)
    return sum(t - before.get(pid, 0) for pid, t in after.items()) / os.sysconf("SC_CLK_TCK")


def _load_with_cpu(url: str, rate: float, seconds: float, bodies: Path | None, **kw: Any) -> dict[str, Any]:
    """:func:`_load`, and the CPU time per request of the app server's processes, PostgreSQL's and the
    load generator's (from /proc and the child's resource usage): where the two cores went."""
    import resource

    servers, pg = _cpu_ticks(APP), _cpu_ticks("postgres")
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = _load(url, rate, seconds, bodies, **kw)
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    n = max(1, r["requests"])
    r["cpu_ms"] = {"app server": round(_cpu_since(servers, APP) / n * 1000, 2),
                   "PostgreSQL": round(_cpu_since(pg, "postgres") / n * 1000, 2),
                   "load generator": round((c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime) / n * 1000, 2)}
    return r


def _sustained(r: dict[str, Any]) -> bool:
    errors = r["requests"] - r["ok"]
    return errors == 0 and r["achieved_rate"] >= 0.95 * r["offered_rate"] and r["p99_ms"] < 1000


def _ramp(url: str, bodies: Path, rates: list[int], **kw: Any) -> tuple[int, list[dict[str, Any]]]:
    best, runs = 0, []
    for rate in rates:
        r = _load(url, rate, 10, bodies, **kw)
        runs.append(r)
        print(f"  {rate}/s → achieved {r['achieved_rate']}/s, p99 {r['p99_ms']} ms, {r['statuses']}", flush=True)
        if not _sustained(r):
            break
        best = rate
    return best, runs


def _reads(url: str, n: int, headers: list[str], rate: float = 20) -> dict[str, Any]:
    """n GETs at ``rate`` per second over one connection (spaced out so that they do not queue behind each
    other): the latency a user sees on a quiet server."""
    return _load(url, rate, n / rate, None, headers=headers, method="GET", connections=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_intake")
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--server", choices=sorted(SERVERS), default="granian")
    parser.add_argument("--workers", type=int, help="worker processes (granian 2, gunicorn 3)")
    parser.add_argument("--threads", type=int, help="threads per worker (granian 2, gunicorn 4)")
    parser.add_argument("--list-cases", type=int, default=1_000_000)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)
    args.workers = args.workers or SERVERS[args.server][0]
    args.threads = args.threads or SERVERS[args.server][1]
    if not postgres_available():
        print("PostgreSQL does not answer on 127.0.0.1:5432: the HTTP benchmark needs it")
        return 1
    # One secret for this process and the server: the signed-in sessions made here must be the server's.
    os.environ["CIVICGRID_SECRET_KEY"] = secrets.token_urlsafe(48)
    t0 = time.perf_counter()
    setup = _setup(args.list_cases)
    print(f"setup {time.perf_counter() - t0:.0f} s ({setup['listed']:,} cases in the database)", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="civicgrid-bench-http-"))
    bodies, o311 = tmp / "events.jsonl", tmp / "open311.jsonl"
    _bodies(setup, bodies)
    _open311_bodies(setup, o311)
    from django.db import connections

    connections.close_all()
    server = _server(setup["url"], args.server, args.workers, args.threads)
    base = f"http://127.0.0.1:{PORT}"
    auth = [f"Authorization: Bearer {setup['token']}"]
    rows: list[list[str]] = []
    results: dict[str, Any] = {}
    try:
        events_url = f"{base}/api/v1/events"
        _load(events_url, 50, 4, bodies, headers=auth, key_header="Idempotency-Key")  # warm-up
        # The floor first, on the fresh server: the cheapest request the API answers with a token (point
        # → grid and its regions from memory) at the same rate — what the server and the load generator
        # cost before any intake work.
        lon, lat = setup["points"][0]
        floor = _load_with_cpu(f"{base}/api/v1/geo/lookup?lon={lon}&lat={lat}", args.rate, 10, None, headers=auth,
                               method="GET")
        print(f"floor (lookup) at {args.rate}/s: {floor}", flush=True)
        results["floor"] = floor
        fixed = _load_with_cpu(events_url, args.rate, args.seconds, bodies, headers=auth,
                               key_header="Idempotency-Key")
        print(f"events at {args.rate}/s: {fixed}", flush=True)
        best, ramp = _ramp(events_url, bodies, [100, 150, 200, 250, 300, 400, 500, 600, 800],
                           headers=auth, key_header="Idempotency-Key")
        results["events"] = {"fixed": fixed, "max_sustained": best, "ramp": ramp}
        rows.append(["POST /api/v1/events", f"{args.rate}/s", f"{fixed['achieved_rate']}/s", str(fixed["p50_ms"]),
                     str(fixed["p99_ms"]), str(fixed["requests"] - fixed["ok"]), f"{best}/s"])
        rows.append(["floor: GET /api/v1/geo/lookup (token, answered from memory)", f"{args.rate}/s",
                     f"{floor['achieved_rate']}/s", str(floor["p50_ms"]), str(floor["p99_ms"]),
                     str(floor["requests"] - floor["ok"]), "—"])

        o311_url = f"{base}/open311/v2/requests.json"
        probe = _load(o311_url, 5, 1, o311, form=True)
        if probe["ok"]:
            fixed = _load(o311_url, args.rate, args.seconds, o311, form=True)
            print(f"open311 at {args.rate}/s: {fixed}", flush=True)
            best, ramp = _ramp(o311_url, o311, [100, 150, 200, 250, 300, 400, 500, 600, 800], form=True)
            results["open311"] = {"fixed": fixed, "max_sustained": best, "ramp": ramp}
            rows.append(["POST /open311/v2/requests.json", f"{args.rate}/s", f"{fixed['achieved_rate']}/s",
                         str(fixed["p50_ms"]), str(fixed["p99_ms"]), str(fixed["requests"] - fixed["ok"]),
                         f"{best}/s"])
        else:
            results["open311"] = {"unavailable": probe["statuses"]}
            rows.append(["POST /open311/v2/requests.json", "—", "—", "—", "—", "—", f"not served {probe['statuses']}"])

        reads = {}
        if setup["listed"]:
            reads["GET /api/v1/events (50 newest in jurisdiction)"] = _reads(f"{base}/api/v1/events?limit=50", 200,
                                                                             auth)
            # The case list page a dispatcher works from (signed in, a browser's session cookie): the
            # city's whole jurisdiction, then a street's; the first page, then the tenth.
            for who, label in (("city_dispatcher", "city dispatcher"), ("s1_dispatcher", "street dispatcher")):
                cookie = [f"Cookie: {setup['sessions'][who]}"]
                for page in (1, 10):
                    name = f"GET /cases/?page={page} (page, {label})"
                    reads[name] = _reads(f"{base}/cases/?page={page}", 100, cookie, rate=5)
            for name, r in reads.items():
                rows.append([name, f"{r['offered_rate']:g}/s, 1 at a time", f"{r['achieved_rate']}/s",
                             str(r["p50_ms"]), str(r["p99_ms"]),
                             str(r["requests"] - r["ok"]), "—"])
        results["reads"] = reads
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    if args.server != "gunicorn":  # the same intake on the other production server, for comparison
        gw, gt = SERVERS["gunicorn"]
        server = _server(setup["url"], "gunicorn", gw, gt)
        try:
            _load(events_url, 50, 4, bodies, headers=auth, key_header="Idempotency-Key")  # warm-up
            other = _load_with_cpu(events_url, args.rate, args.seconds, bodies, headers=auth,
                                   key_header="Idempotency-Key")
            print(f"events on gunicorn at {args.rate}/s: {other}", flush=True)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        results["gunicorn"] = other
        rows.insert(1, [f"POST /api/v1/events on gunicorn ({gw} gthread workers × {gt})", f"{args.rate}/s",
                        f"{other['achieved_rate']}/s", str(other["p50_ms"]), str(other["p99_ms"]),
                        str(other["requests"] - other["ok"]), "—"])

    headers = ["request", "offered", "achieved", "p50 ms", "p99 ms", "errors", "max sustained"]
    print_table(headers, rows)
    ev = results["events"]["fixed"]
    verdict = "met" if ev["p99_ms"] < 100 and ev["requests"] == ev["ok"] else "NOT met"
    print(f"target p99 < 100 ms with no errors at {args.rate}/s (events): {verdict}")
    pages = {k: r for k, r in results["reads"].items() if k.startswith("GET /cases/")}
    page_verdict = ("met" if pages and all(r["p99_ms"] < 300 and r["requests"] == r["ok"] for r in pages.values())
                    else "NOT met")
    if pages:
        print(f"target p99 < 300 ms for the case list page with {setup['listed']:,} cases: {page_verdict}")
    budget = 1000 * (os.cpu_count() or 1) / args.rate  # ms of CPU per request the cores have at the rate
    cpu_lines = []
    measured = [("POST /api/v1/events", results["events"]["fixed"]), ("floor (lookup)", results["floor"])]
    if "gunicorn" in results:
        measured.insert(1, ("POST /api/v1/events on gunicorn", results["gunicorn"]))
    for name, r in measured:
        parts = ", ".join(f"{k} {v} ms" for k, v in r["cpu_ms"].items())
        cpu_lines.append(f"- {name}: {parts}; {sum(r['cpu_ms'].values()):.2f} ms in all")
    cpu_note = (f"CPU time per request at the offered {args.rate}/s ({os.cpu_count()} cores give "
                f"{budget:.1f} ms per request when fully busy):")
    print(cpu_note)
    print("\n".join(cpu_lines))
    if args.no_docs:
        return 0
    section = "\n".join([
        f"## HTTP intake and the case list under load (PostgreSQL, {args.server})",
        "",
        f"`python -m bench.http_intake --rate {args.rate} --seconds {args.seconds:g} --server {args.server} "
        f"--workers {args.workers} "
        f"--threads {args.threads} --list-cases {args.list_cases}` — {time.strftime('%Y-%m-%d')}, "
        f"{machine_description()}.",
        "",
        (f"granian's WSGI interface ({args.workers} workers × {args.threads} threads" if args.server == "granian"
         else f"gunicorn ({args.workers} gthread workers × {args.threads} threads")
        + ", `CIVICGRID_ENV=production`, DEBUG off) on 127.0.0.1 with the demo city and "
        f"{setup['listed']:,} cases in the database; the load generator (`bench/http_load.py`, open loop: requests "
        "scheduled at a fixed rate, latency counted from when each was due) runs as a separate process on the "
        "same cores. Each report is a full intake: validation, placement in its grid, routing through the "
        "dispatch catalogue, the case, its timeline entry, clocks, audit and outbox rows, the caller's name "
        "and phone encrypted. The 12345 system posts with an API token (`intake` scope); its rate limit is "
        "off for this trusted client. Max sustained: the highest of 100…800/s (10 s each) answered without "
        "errors, at ≥ 95 % of the offered rate, with p99 < 1 s.",
        "",
        markdown_table(headers, rows),
        "",
        cpu_note,
        "",
        *cpu_lines,
        "",
        "The floor row is the cheapest request the API answers with a token — a point looked up in the "
        "in-memory grid index, its grid and the regions above it from the process's reference cache — offered "
        "at the same rate: what the app server, Django and the load generator cost before any intake work."
        + (" The gunicorn row is the same intake at the same rate on the other production server (gunicorn's "
           "HTTP parsing and thread hand-off are Python; granian's are Rust)." if "gunicorn" in results else ""),
        "",
        f"Target at {args.rate}/s on POST /api/v1/events: p99 < 100 ms and no errors — **{verdict}**.",
    ] + ([f"Target for the case list page (`/cases/`, signed in) with {setup['listed']:,} cases in the "
          f"database: p99 < 300 ms — **{page_verdict}**."] if pages else []))
    write_section("http_intake", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
