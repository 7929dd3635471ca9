"""The alert rules: each kind finds its candidates with one or a few aggregate queries over the
cases (never a loop over cases in Python), from the cases new since the rule's watermark.

A candidate is a :class:`Candidate`; :func:`civicgrid.warning.services.warning_tick` turns the
new ones into alerts (the unique constraint on rule × area × key × window keeps each one alert).

Parameters per kind are declared in :data:`PARAMS` (name → type, default, minimum, maximum) and
checked by :func:`params_clean` (the admin, the API and the demo go through it)."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import Floor, TruncDate
from django.utils.translation import gettext as _

from civicgrid.cases.models import Case, Timer, TimerState
from civicgrid.geo.models import LEVELS
from civicgrid.warning.models import AlertRule, Baseline, RuleKind
from civicgrid.warning.stats import daytype_of, mean_variance, nb_threshold
from civicgrid.workcal.calendar import working_calendar
from civicgrid.workcal.clock import CALENDAR_TZ

# name → (type, default, minimum, maximum)
PARAMS: dict[str, dict[str, tuple[type, float, float, float]]] = {
    RuleKind.SPIKE: {
        "alpha": (float, 1e-4, 1e-9, 0.1),  # the false-alarm probability of one area × category × day
        "min_count": (int, 5, 1, 10_000),  # never alarm below this many cases in a day
        "floor": (float, 0.2, 0.0, 1000.0),  # the least mean per day assumed (zero-heavy areas)
        "baseline_days": (int, 56, 14, 366),  # the trailing window of the baseline (8 weeks)
        "series_days": (int, 28, 7, 120),  # days of the chart in the evidence
    },
    RuleKind.PLACE: {"n": (int, 5, 2, 1000), "radius_m": (float, 50.0, 5.0, 5000.0), "days": (int, 7, 1, 90)},
    RuleKind.HOTSPOT: {"n": (int, 12, 2, 100_000), "cell_m": (float, 300.0, 20.0, 20_000.0),
                       "days": (int, 7, 1, 90)},
    RuleKind.DEADLINES: {"n": (int, 10, 1, 100_000), "hours": (float, 24.0, 0.5, 24.0 * 30)},
    RuleKind.WHISTLE: {"n": (int, 3, 2, 1000), "days": (int, 30, 1, 366)},
}

M_PER_DEG = 111_320.0  # metres per degree of latitude (and of longitude at the equator)
REF_LAT = 22.5  # the latitude at which grid cells are measured (the demo city; cells are local anyway)
MAX_EVIDENCE = 200  # case ids kept in an alert's evidence


def params_clean(kind: str, raw: Any) -> dict[str, Any]:
    """The rule's parameters with defaults filled in; a ValidationError names each bad one
    (``params.<name>``)."""
    if kind not in PARAMS:
        raise ValidationError({"kind": [_("Unknown rule kind %(kind)r.") % {"kind": kind}]})
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError({"params": [_("Parameters must be an object.")]})
    spec = PARAMS[kind]
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for name in raw:
        if name not in spec:
            errors[f"params.{name}"] = [_("Not a parameter of this kind (%(names)s).") % {"names": ", ".join(spec)}]
    for name, (typ, default, low, high) in spec.items():
        value = raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or (typ is int and value != int(value)):
            errors[f"params.{name}"] = [_("Must be a number.") if typ is float else _("Must be a whole number.")]
            continue
        if not (low <= value <= high) or (isinstance(value, float) and not math.isfinite(value)):
            errors[f"params.{name}"] = [_("Must be between %(low)s and %(high)s.") % {"low": low, "high": high}]
            continue
        out[name] = typ(value)
    if errors:
        raise ValidationError(errors)
    return out


def level_clean(level: str, *, name: str = "level") -> str:
    if level not in LEVELS or (level == "grid" and name == "centre_level"):
        raise ValidationError({name: [_("Not a region level (%(levels)s).") % {"levels": ", ".join(LEVELS)}]})
    return level


# --- helpers -----------------------------------------------------------------------------------

@dataclass
class Candidate:
    """One thing a rule found: where (an area), what (a key), when (a window) and the evidence."""

    area_id: int
    key: str
    window_start: dt.datetime
    window_end: dt.datetime
    figure: float
    expected: float | None = None
    threshold: float | None = None
    category_id: int | None = None
    department_id: int | None = None
    case_ids: list[int] = field(default_factory=list)
    series: list[list[Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=CALENDAR_TZ)


def local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(CALENDAR_TZ).date()


def bucket(now: dt.datetime, days: int) -> tuple[dt.datetime, dt.datetime]:
    """The ``days``-long window (aligned on day ordinals) that holds ``now``: a place or hotspot is
    raised at most once per window."""
    today = local_day(now)
    first = dt.date.fromordinal(today.toordinal() - today.toordinal() % days)
    return day_start(first), day_start(first + dt.timedelta(days=days))


def daytype(day: dt.date, calendar: Any = None) -> int:
    """0: a working day; 1: a rest day (weekend or holiday), on the working calendar (civicgrid.workcal)."""
    calendar = calendar or working_calendar()
    return daytype_of(day, calendar.is_working_day)


def rule_cases(rule: AlertRule, category_ids: list[int] | None = None) -> QuerySet[Case]:
    """The cases a rule counts: not merged into another, in its categories (all when it names none)."""
    qs = Case.objects.filter(merged_into__isnull=True)
    cats = category_ids if category_ids is not None else list(rule.categories.values_list("pk", flat=True))
    if cats:
        qs = qs.filter(category_id__in=cats)
    return qs


def since_q(rule: AlertRule, overlap: dt.timedelta) -> Q:
    """Cases new since the rule's watermark: a higher id, or created within ``overlap`` of the last
    tick (a transaction that committed late with a lower id is not missed)."""
    q = Q(pk__gt=rule.watermark_id)
    if rule.watermark_at is not None:
        q |= Q(created_at__gte=rule.watermark_at - overlap)
    return q


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in metres (equirectangular: exact enough within a few kilometres)."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6_371_000.0 * math.hypot(x, y)


def _cell(lat: float, lon: float, size_m: float) -> tuple[int, int]:
    kx = M_PER_DEG * math.cos(math.radians(REF_LAT)) / size_m
    ky = M_PER_DEG / size_m
    return math.floor(lon * kx), math.floor(lat * ky)


def _cell_box(cx: int, cy: int, size_m: float, margin_m: float) -> Q:
    kx = M_PER_DEG * math.cos(math.radians(REF_LAT)) / size_m
    ky = M_PER_DEG / size_m
    mx, my = margin_m / size_m / kx, margin_m / size_m / ky
    return Q(lon__gte=cx / kx - mx, lon__lt=(cx + 1) / kx + mx, lat__gte=cy / ky - my, lat__lt=(cy + 1) / ky + my)


def _any(qs: Iterable[Q]) -> Q:
    out = Q(pk__in=[])
    for q in qs:
        out |= q
    return out


# --- spike: a category's daily count against the area's own baseline for that type of day ------------

def spike_baselines_build(rule: AlertRule, *, now: dt.datetime) -> int:
    """Rebuild the rule's baselines from its trailing window (ending yesterday): one aggregate
    query (area × category × day), the rest in memory over that small result. Returns rows written."""
    p = params_clean(rule.kind, rule.params)
    area_f = f"{rule.level}_id"
    today = local_day(now)
    first = today - dt.timedelta(days=p["baseline_days"])
    calendar = working_calendar()
    days_of: Counter[int] = Counter(daytype(first + dt.timedelta(days=i), calendar)
                                    for i in range(p["baseline_days"]))
    rows = (rule_cases(rule).filter(created_at__gte=day_start(first), created_at__lt=day_start(today),
                                    category__isnull=False, **{f"{rule.level}__isnull": False})
            .annotate(day=TruncDate("created_at", tzinfo=CALENDAR_TZ))
            .values_list(area_f, "category_id", "day").annotate(n=Count("id")).order_by())
    sums: dict[tuple[int, int, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for area, cat, day, n in rows:
        s = sums[(area, cat, daytype(day, calendar))]
        s[0] += n
        s[1] += n * n
    out = []
    for (area, cat, dtype), (total, squares) in sums.items():
        ndays = days_of.get(dtype, 0)
        if not ndays:
            continue
        mean, variance = mean_variance(total, squares, ndays)
        out.append(Baseline(rule=rule, area_id=area, category_id=cat, daytype=dtype, mean=mean, variance=variance,
                            threshold=nb_threshold(mean, variance, p["alpha"], p["min_count"], p["floor"]),
                            days=ndays, built_at=now))
    return _baselines_replace(rule, out, now)


def _baselines_replace(rule: AlertRule, rows: list[Baseline], now: dt.datetime) -> int:
    """Swap the rule's baselines in one transaction. Two workers rebuilding at once: the second one's
    rows meet the first one's under the unique constraint and are dropped (the first one's stay)."""
    from django.db import IntegrityError, transaction

    try:
        with transaction.atomic():
            Baseline.objects.filter(rule=rule).delete()
            Baseline.objects.bulk_create(rows, batch_size=5000)
            AlertRule.objects.filter(pk=rule.pk).update(baselines_built_at=now)
    except IntegrityError:
        return 0
    return len(rows)


def spike_candidates(rule: AlertRule, *, now: dt.datetime, since: Q) -> list[Candidate]:
    p = params_clean(rule.kind, rule.params)
    area_f = f"{rule.level}_id"
    cats = list(rule.categories.values_list("pk", flat=True))
    base = rule_cases(rule, cats).filter(category__isnull=False, **{f"{rule.level}__isnull": False})
    today = local_day(now)
    lookback = day_start(today - dt.timedelta(days=1))  # today's and yesterday's counts can still grow
    touched = set(base.filter(since, created_at__gte=lookback)
                  .annotate(day=TruncDate("created_at", tzinfo=CALENDAR_TZ))
                  .values_list(area_f, "category_id", "day").distinct().order_by())
    if not touched:
        return []
    areas = {t[0] for t in touched}
    categories = {t[1] for t in touched}
    first = min(t[2] for t in touched)
    last = max(t[2] for t in touched)
    counts = (base.filter(**{f"{area_f}__in": areas}, category_id__in=categories,
                          created_at__gte=day_start(first), created_at__lt=day_start(last + dt.timedelta(days=1)))
              .annotate(day=TruncDate("created_at", tzinfo=CALENDAR_TZ))
              .values_list(area_f, "category_id", "day").annotate(n=Count("id")).order_by())
    baselines = {(b.area_id, b.category_id, b.daytype): b
                 for b in Baseline.objects.filter(rule=rule, area_id__in=areas, category_id__in=categories)}
    calendar = working_calendar()
    floor_threshold = nb_threshold(0.0, 0.0, p["alpha"], p["min_count"], p["floor"])
    out = []
    for area, cat, day, n in counts:
        if (area, cat, day) not in touched:
            continue
        b = baselines.get((area, cat, daytype(day, calendar)))
        threshold = b.threshold if b else floor_threshold
        if n >= threshold:
            out.append(Candidate(area_id=area, key=f"c{cat}", category_id=cat, window_start=day_start(day),
                                 window_end=day_start(day + dt.timedelta(days=1)), figure=float(n),
                                 expected=round(b.mean, 3) if b else 0.0, threshold=float(threshold),
                                 extra={"daytype": daytype(day, calendar)}))
    return out


def spike_evidence(rule: AlertRule, c: Candidate) -> None:
    """The day's case ids and the daily series of the area × category (for the chart)."""
    p = params_clean(rule.kind, rule.params)
    area_f = f"{rule.level}_id"
    assert c.category_id is not None  # a spike is of one category
    base = Case.objects.filter(merged_into__isnull=True, category_id=c.category_id, **{area_f: c.area_id})
    c.case_ids = list(base.filter(created_at__gte=c.window_start, created_at__lt=c.window_end)
                      .order_by("id").values_list("pk", flat=True)[:MAX_EVIDENCE])
    first = local_day(c.window_start) - dt.timedelta(days=p["series_days"] - 1)
    by_day = dict(base.filter(created_at__gte=day_start(first), created_at__lt=c.window_end)
                  .annotate(day=TruncDate("created_at", tzinfo=CALENDAR_TZ))
                  .values_list("day").annotate(n=Count("id")).order_by())
    c.series = [[(first + dt.timedelta(days=i)).isoformat(), by_day.get(first + dt.timedelta(days=i), 0)]
                for i in range(p["series_days"])]


# --- repeated place: n cases within r metres in d days -------------------------------------------

def place_candidates(rule: AlertRule, *, now: dt.datetime, since: Q) -> list[Candidate]:
    p = params_clean(rule.kind, rule.params)
    n, r, days = p["n"], p["radius_m"], p["days"]
    area_f = f"{rule.level}_id"
    start = now - dt.timedelta(days=days)
    base = rule_cases(rule).filter(created_at__gte=start, lat__isnull=False, lon__isnull=False)
    new: list[tuple[Any, ...]] = list(base.filter(since).values_list("pk", "lat", "lon").order_by("pk"))
    if not new:
        return []
    cells = {_cell(lat, lon, r) for _pk, lat, lon in new}
    points: list[tuple[Any, ...]] = []
    cell_list = sorted(cells)
    for i in range(0, len(cell_list), 200):  # bounded OR lists
        points += list(base.filter(_any(_cell_box(cx, cy, r, r) for cx, cy in cell_list[i:i + 200]))
                       .values_list("pk", "lat", "lon", area_f, "created_at").order_by())
    grid: dict[tuple[int, int], list[tuple[Any, ...]]] = defaultdict(list)
    for pt in points:
        grid[_cell(pt[1], pt[2], r)].append(pt)
    by_pk = {pt[0]: pt for pt in points}
    covered: set[int] = set()
    out = []
    win_start, win_end = bucket(now, days)
    for pk, lat, lon in new:
        if pk in covered or pk not in by_pk:
            continue
        cx, cy = _cell(lat, lon, r)
        near = sorted({q for dx in (-1, 0, 1) for dy in (-1, 0, 1) for q in grid.get((cx + dx, cy + dy), ())
                       if metres(lat, lon, q[1], q[2]) <= r})
        if len(near) < n:
            continue
        covered.update(q[0] for q in near)
        area = by_pk[pk][3]
        if area is None:
            areas = Counter(q[3] for q in near if q[3])
            if not areas:
                continue
            area = areas.most_common(1)[0][0]
        out.append(Candidate(area_id=area, key=f"p{cx}:{cy}", window_start=win_start, window_end=win_end,
                             figure=float(len(near)), threshold=float(n), case_ids=[q[0] for q in near][:MAX_EVIDENCE],
                             series=_daily(q[4] for q in near),
                             extra={"lat": round(lat, 6), "lon": round(lon, 6), "radius_m": r, "days": days}))
    return out


def _daily(moments: Iterable[dt.datetime]) -> list[list[Any]]:
    days = Counter(local_day(m) for m in moments)
    if not days:
        return []
    first, last = min(days), max(days)
    return [[(first + dt.timedelta(days=i)).isoformat(), days.get(first + dt.timedelta(days=i), 0)]
            for i in range((last - first).days + 1)]


# --- space-time hotspot: a grid-cell count of open cases over a window ---------------------------

def hotspot_candidates(rule: AlertRule, *, now: dt.datetime, since: Q) -> list[Candidate]:
    p = params_clean(rule.kind, rule.params)
    n, size, days = p["n"], p["cell_m"], p["days"]
    start = now - dt.timedelta(days=days)
    base = rule_cases(rule).filter(created_at__gte=start, closed_at__isnull=True, lat__isnull=False,
                                   lon__isnull=False)
    new: list[tuple[Any, ...]] = list(base.filter(since).values_list("lat", "lon"))
    touched = {_cell(lat, lon, size) for lat, lon in new}
    if not touched:
        return []
    kx = M_PER_DEG * math.cos(math.radians(REF_LAT)) / size
    ky = M_PER_DEG / size
    rows = (base.annotate(cx=Floor(F("lon") * kx), cy=Floor(F("lat") * ky)).values("cx", "cy")
            .annotate(n=Count("id"), lat=Avg("lat"), lon=Avg("lon")).filter(n__gte=n).order_by())
    win_start, win_end = bucket(now, days)
    area_f = f"{rule.level}_id"
    out = []
    for row in rows:
        cell = (int(row["cx"]), int(row["cy"]))
        if cell not in touched:
            continue
        cases = list(base.filter(_cell_box(*cell, size, 0.0)).values_list("pk", area_f, "created_at").order_by("pk"))
        areas = Counter(a for _pk, a, _at in cases if a)
        if not areas:
            continue
        out.append(Candidate(area_id=areas.most_common(1)[0][0], key=f"h{cell[0]}:{cell[1]}",
                             window_start=win_start, window_end=win_end, figure=float(row["n"]),
                             threshold=float(n), case_ids=[c[0] for c in cases][:MAX_EVIDENCE],
                             series=_daily(c[2] for c in cases),
                             extra={"lat": round(row["lat"], 6), "lon": round(row["lon"], 6), "cell_m": size,
                                    "days": days}))
    return out


# --- bulk deadlines: n open cases of one unit due soon -------------------------------------------

def _department_regions(dept_ids: Iterable[int]) -> dict[int, int]:
    from civicgrid.org.models import Department

    return dict(Department.objects.filter(pk__in=set(dept_ids)).values_list("pk", "region_id"))


def deadlines_candidates(rule: AlertRule, *, now: dt.datetime, since: Q) -> list[Candidate]:
    """Running clocks falling due within ``hours`` (not yet overdue), counted per department of the
    clock's assignment. Not incremental (clocks move without new cases); the day's window keeps it
    one alert per department a day."""
    p = params_clean(rule.kind, rule.params)
    cats = list(rule.categories.values_list("pk", flat=True))
    timers = Timer.objects.filter(state=TimerState.RUNNING, due_at__gt=now,
                                  due_at__lte=now + dt.timedelta(hours=p["hours"]), case__closed_at__isnull=True,
                                  assignment__department__isnull=False)
    if cats:
        timers = timers.filter(case__category_id__in=cats)
    rows = list(timers.values_list("assignment__department").annotate(n=Count("case", distinct=True))
                .filter(n__gte=p["n"]).order_by())
    if not rows:
        return []
    regions = _department_regions(d for d, _n in rows)
    today = local_day(now)
    out = []
    for dept, count in rows:
        ids = list(timers.filter(assignment__department=dept).values_list("case_id", flat=True)
                   .distinct().order_by("case_id")[:MAX_EVIDENCE])
        out.append(Candidate(area_id=regions[dept], key=f"d{dept}", department_id=dept,
                             window_start=day_start(today), window_end=day_start(today + dt.timedelta(days=1)),
                             figure=float(count), threshold=float(p["n"]), case_ids=ids,
                             extra={"hours": p["hours"]}))
    return out


# --- whistle-summons answered late by the same department again and again -----------------------

# The engine's clocks of a whistle-summons are named "wh_ack:<id>", "wh_arr:<id>", "wh_rep:<id>" by the
# events case type (civicgrid.events.services._timer_kinds): read here as engine timers, not events rows.
WHISTLE_TIMER_PREFIX = "wh_"


def whistle_candidates(rule: AlertRule, *, now: dt.datetime, since: Q) -> list[Candidate]:
    p = params_clean(rule.kind, rule.params)
    start = now - dt.timedelta(days=p["days"])
    late = Timer.objects.filter(kind__startswith=WHISTLE_TIMER_PREFIX, overdue_at__isnull=False,
                                overdue_at__gte=start, assignment__department__isnull=False)
    rows = list(late.values_list("assignment__department").annotate(n=Count("case", distinct=True))
                .filter(n__gte=p["n"]).order_by())
    if not rows:
        return []
    regions = _department_regions(d for d, _n in rows)
    win_start, win_end = bucket(now, p["days"])
    out = []
    for dept, count in rows:
        ids = list(late.filter(assignment__department=dept).values_list("case_id", flat=True)
                   .distinct().order_by("case_id")[:MAX_EVIDENCE])
        out.append(Candidate(area_id=regions[dept], key=f"w{dept}", department_id=dept, window_start=win_start,
                             window_end=win_end, figure=float(count), threshold=float(p["n"]), case_ids=ids,
                             extra={"days": p["days"]}))
    return out


# --- a repeated problem: a hot-issue thread growing ----------------------------------------------

def thread_candidates(rule: AlertRule, *, now: dt.datetime, since: Q) -> list[Candidate]:
    """The hook for hot-issue threads: civicgrid.dispatch exposes no threads through its selectors
    yet (hot issues are an offline command over a CSV). When it does (``dispatch.selectors.threads``),
    a THREAD kind counts a thread's new cases since the watermark here."""
    return []


FINDERS: dict[str, Callable[..., list[Candidate]]] = {
    RuleKind.SPIKE: spike_candidates,
    RuleKind.PLACE: place_candidates,
    RuleKind.HOTSPOT: hotspot_candidates,
    RuleKind.DEADLINES: deadlines_candidates,
    RuleKind.WHISTLE: whistle_candidates,
}
