"""Early warning: the quality of the spike rule on a year of synthetic daily counts, and (skeleton)
the speed of the tick and the nightly baselines on PostgreSQL.

    python -m bench.warning [--communities 200] [--categories 20] [--seed 2026] [--part quality|speed]

(i) ``quality`` (in memory, seconds; no database): a year of daily counts per community × category
with weekly seasonality (rest days × 0.6), holidays (× 0.5) and zero-heavy areas (60 % of the pairs
have a mean of 0.02–0.3 a day, the others 0.5–5), the same statistics as the rule
(``civicgrid.warning.stats``: trailing 56-day baselines per day type rebuilt every night, the
negative-binomial threshold at ``alpha``, ``min_count``, ``floor``). Reported:

* false alarms per 100 community-weeks, counted across all categories, on the series with nothing
  planted (target ≤ 1);
* recall of planted spikes — max(10, 3 × expected) extra cases in one community × category within one
  day — (target ≥ 95 %), and the median delay from the spike's start to the alert, the planted cases
  arriving evenly over 24 hours beside the day's background (the tick runs every minute).

The hotspot and repeated-place rules (12 cases within 300 m in 7 days; the rule's own n within r in d)
need points: TODO, on the database with the real tick (``warning_tick`` over generated cases).

(ii) ``speed`` (PostgreSQL, database ``warning_bench``; long at full size, not run by the tests):
``--cases`` open cases (default 1,000,000) generated set-based by ``bench.cases_engine`` (its small
city, one running clock each), given categories and places; the last ``--recent`` (1,000) moved into
the last 5 minutes. Timed: ``warning_baselines`` (target < 10 min over 10,000,000 cases: run with
``--cases 10000000``), one tick of the spike, place, hotspot and deadlines rules over the last 5
minutes' intake (< 5 s), and a catch-up tick over a day's ``--day`` (30,000) new cases (< 60 s).
``--cases 20000`` checks the script in seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from civicgrid.warning.stats import daytype_of, mean_variance, nb_threshold

ALPHA, MIN_COUNT, FLOOR, WINDOW = 1e-4, 5, 0.2, 56  # the spike rule's defaults
YEAR = 2025
HOLIDAYS = {dt.date(2025, 1, 1), *(dt.date(2025, 1, 28) + dt.timedelta(days=i) for i in range(8)),
            dt.date(2025, 4, 4), dt.date(2025, 4, 5), dt.date(2025, 4, 6),
            *(dt.date(2025, 5, 1) + dt.timedelta(days=i) for i in range(5)),
            dt.date(2025, 5, 31), dt.date(2025, 6, 1), dt.date(2025, 6, 2),
            *(dt.date(2025, 10, 1) + dt.timedelta(days=i) for i in range(8))}


def working(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS


def poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def series(rng: random.Random, days: list[dt.date], base: float) -> list[int]:
    return [poisson(rng, base * (1.0 if working(d) else 0.6) * (0.5 if d in HOLIDAYS else 1.0)) for d in days]


def alarms(counts: list[int], days: list[dt.date]) -> list[tuple[int, int]]:
    """(day index, threshold) of every alarm, with baselines rebuilt every night from the trailing window."""
    out = []
    for i in range(WINDOW, len(days)):
        sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
        for j in range(i - WINDOW, i):
            s = sums[daytype_of(days[j], working)]
            s[0] += counts[j]
            s[1] += counts[j] ** 2
            s[2] += 1
        dtype = daytype_of(days[i], working)
        total, squares, n = sums[dtype] if dtype in sums else (0.0, 0.0, 0)
        mean, var = mean_variance(total, squares, int(n)) if n else (0.0, 0.0)
        threshold = nb_threshold(mean, var, ALPHA, MIN_COUNT, FLOOR)
        if counts[i] >= threshold:
            out.append((i, threshold))
    return out


def quality(communities: int, categories: int, seed: int) -> None:
    rng = random.Random(seed)
    days = [dt.date(YEAR, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    false_alarms, planted, found, delays = 0, 0, 0, []
    for _c in range(communities):
        for _k in range(categories):
            base = rng.uniform(0.02, 0.3) if rng.random() < 0.6 else rng.uniform(0.5, 5.0)
            counts = series(rng, days, base)
            false_alarms += len(alarms(counts, days))
            # one planted spike per pair, on a random day after the warm-up
            i = rng.randrange(WINDOW, len(days))
            expected = base * (1.0 if working(days[i]) else 0.6)
            extra = max(10, math.ceil(3 * expected))
            spiked = list(counts)
            spiked[i] += extra
            hit = [t for j, t in alarms(spiked[: i + 1], days[: i + 1]) if j == i]
            planted += 1
            if hit:
                found += 1
                # arrivals even over the day: the alarm comes with the threshold-th case of the day
                delays.append(24.0 * min(1.0, hit[0] / spiked[i]))
    weeks = communities * (len(days) - WINDOW) / 7
    print(f"false alarms: {false_alarms} over {weeks:.0f} community-weeks "
          f"= {100 * false_alarms / weeks:.2f} per 100 community-weeks ({categories} categories)")
    print(f"recall: {found}/{planted} = {100 * found / planted:.1f} %; "
          f"median delay {statistics.median(delays) if delays else float('nan'):.1f} h")


def speed(m: int, recent: int, day: int) -> None:
    import time

    from bench.cases_engine import build_city, generate_open_cases
    from bench.django_env import fresh_database, setup_django

    setup_django(fresh_database("postgres", "warning_bench"))
    from django.db import connection
    from django.utils import timezone

    from civicgrid.cases.testing import register_drill
    from civicgrid.taxonomy.models import Category
    from civicgrid.taxonomy.services import catalogue_seed
    from civicgrid.warning.models import AlertRule
    from civicgrid.warning.services import rule_save, warning_baselines, warning_tick

    register_drill()
    build_city()
    catalogue_seed(actor=None)
    now = timezone.now()
    t = time.perf_counter()
    generate_open_cases(m, now)
    cats = list(Category.objects.filter(depth=2).order_by("id").values_list("id", flat=True))[:20]
    with connection.cursor() as cur:  # categories, and the newest cases into the last minutes (not timed)
        cur.execute("UPDATE cases_case SET category_id = (%s::bigint[])[1 + id %% %s]", [cats, len(cats)])
        cur.execute("UPDATE cases_case SET created_at = %s - (max_id - id) * (%s / %s) * interval '1 second' "
                    "FROM (SELECT max(id) AS max_id FROM cases_case) m WHERE id > max_id - %s",
                    [now, 86400.0, day, day])
        cur.execute("UPDATE cases_case SET created_at = %s - (max_id - id) * (300.0 / %s) * interval '1 second' "
                    "FROM (SELECT max(id) AS max_id FROM cases_case) m WHERE id > max_id - %s", [now, recent, recent])
        cur.execute("VACUUM ANALYZE cases_case")
        cur.execute("SELECT max(id) FROM cases_case")
        top = cur.fetchone()[0]
    print(f"setup: {m} open cases in {time.perf_counter() - t:.0f} s")
    # The generated places lie on a lattice (a case every ~20 m along lines): the place and hotspot
    # thresholds are raised so that the ticks measure the queries, not thousands of alerts being written.
    for code, kind, params in (("spike", "spike", {}), ("place", "place", {"n": 40}),
                               ("hot", "hotspot", {"n": 5000}), ("due", "deadlines", {"n": 5000})):
        rule_save(actor=None, code=code, name=code, kind=kind, params=params, level="community")
    t = time.perf_counter()
    rows = warning_baselines(now=now)
    print(f"baselines: {rows} rows in {time.perf_counter() - t:.2f} s (target < 600 s at 10,000,000 cases)")
    for label, new, target in (("tick over the last 5 minutes", recent, 5), ("catch-up tick over a day", day, 60)):
        AlertRule.objects.update(watermark_id=top - new, watermark_at=now - dt.timedelta(seconds=86400 * new / day))
        t = time.perf_counter()
        report = warning_tick(now=now)
        print(f"{label} ({new} new cases): {time.perf_counter() - t:.2f} s (target < {target} s) — {report.summary()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--communities", type=int, default=200)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--part", choices=("quality", "speed"), default="quality")
    parser.add_argument("--cases", type=int, default=1_000_000, help="speed: open cases")
    parser.add_argument("--recent", type=int, default=1000, help="speed: cases of the last 5 minutes")
    parser.add_argument("--day", type=int, default=30_000, help="speed: cases of the last day")
    o = parser.parse_args()
    if o.part == "speed":
        speed(o.cases, o.recent, min(o.day, o.cases))
    else:
        quality(o.communities, o.categories, o.seed)


if __name__ == "__main__":
    main()
