"""The dashboard: the case engine's metrics (DOMAIN §6) for a chosen period and jurisdiction, as
tables and server-drawn SVG bars, every number a link to the cases behind it; CSV and Excel export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases.models import Case
from civicgrid.cases.selectors import (
    METRICS,
    Metrics,
    MetricsRow,
    Period,
    cases_visible,
    metric_cases,
    metrics_by_department,
    metrics_by_region,
    metrics_for,
)
from civicgrid.core.xmltext import xml_safe_cells
from civicgrid.geo.models import LEVELS, Level, Region
from civicgrid.org.models import Department
from civicgrid.org.selectors import departments_visible, regions_visible, user_memberships
from civicgrid.web.selectors import user_roles

DEFAULT_DAYS = 30
PICKABLE = ("city", "district", "street")  # jurisdictions offered in the filter (any other by its code)
MAX_DAYS = 3 * 366


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@dataclass
class DashboardFilter:
    """Period, jurisdiction and (for a drill-down) the metric and which part of it."""

    start: dt.date
    end: dt.date
    region: Region | None = None
    department: Department | None = None
    metric: str = ""
    part: str = "numerator"
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_request(cls, request: HttpRequest) -> DashboardFilter:
        g = request.GET
        today = timezone.localdate()
        errors: dict[str, list[str]] = {}
        try:
            end = _date(g.get("end")) or today
        except ValueError:
            end, errors["end"] = today, [_("Give a date as YYYY-MM-DD.")]
        try:
            start = _date(g.get("start")) or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        except ValueError:
            start, errors["start"] = end - dt.timedelta(days=DEFAULT_DAYS - 1), [_("Give a date as YYYY-MM-DD.")]
        if start > end:
            errors["start"] = [_("The period cannot start after it ends.")]
            start = end
        elif (end - start).days > MAX_DAYS:
            errors["start"] = [_("Choose a period of at most three years.")]
            start = end - dt.timedelta(days=MAX_DAYS)
        f = cls(start=start, end=end, errors=errors)
        user = request.user
        if g.get("region"):  # out of my jurisdiction is a 404, as anywhere
            from civicgrid.org.selectors import region_get

            f.region = region_get(user, g["region"])
        if g.get("department"):
            from civicgrid.org.selectors import department_get

            f.department = department_get(user, g["department"])
        metric = g.get("metric", "")
        if metric:
            if metric not in METRICS:
                errors["metric"] = [_("Unknown metric.")]
            else:
                f.metric = metric
                f.part = "denominator" if g.get("part") == "denominator" else "numerator"
        return f

    @property
    def metric_label(self) -> str:
        return str(METRICS.get(self.metric, ""))

    @property
    def part_label(self) -> str:
        return _("denominator") if self.part == "denominator" else _("numerator")

    @property
    def period(self) -> Period:
        return Period.days(self.start, self.end)

    def query(self, **extra: Any) -> str:
        params = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.region is not None:
            params["region"] = self.region.code
        if self.department is not None:
            params["department"] = self.department.code
        params.update({k: v for k, v in extra.items() if v})
        return urlencode(params)

    def cases(self, user: Any) -> QuerySet[Case]:
        """The cases behind the filter: the metric's part when one is named, else my cases (of the region
        and department) created in the period."""
        if self.metric:
            return metric_cases(self.metric, part=self.part, period=self.period, user=user, region=self.region,
                                department=self.department)
        qs = cases_visible(user=user).filter(self.period.q("created_at"))
        if self.region is not None:
            qs = qs.filter(**{f"{self.region.level}_id": self.region.pk})
        if self.department is not None:
            qs = qs.filter(lead_department=self.department)
        return qs


def _child_level(f: DashboardFilter, user: Any) -> str:
    """The level of the breakdown table: one below the chosen region, else below the highest region
    the person works in (a city dispatcher sees districts, a street dispatcher communities)."""
    if f.region is not None:
        here = f.region.level
    elif user.is_superuser:
        here = "city"
    else:
        held = {m.region.level for m in user_memberships(user) if m.region is not None}
        here = next((lv for lv in LEVELS if lv in held), "district")
    return LEVELS[min(LEVELS.index(here) + 1, len(LEVELS) - 1)]


@dataclass(frozen=True)
class Cell:
    metric: str
    label: str
    percent: float | None
    numerator: float
    denominator: int
    num_url: str
    den_url: str


def cells(f: DashboardFilter, m: Metrics, **scope: Any) -> list[Cell]:
    out = []
    base = reverse("web:cases")
    for name in METRICS:
        r = getattr(m, name)
        out.append(Cell(name, r.label, r.percent, r.numerator, r.denominator,
                        f"{base}?{f.query(metric=name, part='numerator', **scope)}",
                        f"{base}?{f.query(metric=name, part='denominator', **scope)}"))
    return out


def _tables(f: DashboardFilter, user: Any) -> tuple[Metrics, str, list[MetricsRow], list[MetricsRow]]:
    overall = metrics_for(period=f.period, user=user, region=f.region, department=f.department)
    level = _child_level(f, user)
    by_region = metrics_by_region(level=level, period=f.period, user=user, region=f.region, department=f.department)
    by_dept = [] if f.department is not None else metrics_by_department(period=f.period, user=user, region=f.region)
    return overall, level, by_region, by_dept


def _allowed(user: Any) -> None:
    if not user_roles(user) - {"resident"}:
        raise PermissionDenied


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _allowed(request.user)
    f = DashboardFilter.from_request(request)
    overall, level, by_region, by_dept = _tables(f, request.user)
    region_rows = [(r, cells(f, r.metrics, region=r.code)) for r in by_region if r.key is not None]
    dept_rows = [(r, cells(f, r.metrics, department=r.code)) for r in by_dept if r.key is not None]
    bars = [(r.label, r.metrics.closure.percent) for r in by_region if r.key is not None][:30]
    return render(request, "web/dashboard.html", {
        "f": f, "overall": cells(f, overall), "score": overall.score, "level": level,
        "region_rows": region_rows, "dept_rows": dept_rows, "bars": bars,
        "regions": regions_visible(request.user).filter(level__in=PICKABLE).order_by("code")[:200],
        "departments": departments_visible(request.user).order_by("code")[:200],
        "metric_names": list(METRICS.values()), "export_query": f.query()})


def _export_rows(f: DashboardFilter, user: Any) -> list[list[Any]]:
    overall, level, by_region, by_dept = _tables(f, user)
    header = [_("scope"), _("code"), _("name")]
    for name in METRICS:
        label = str(METRICS[name])
        header += [f"{label} %", f"{label} " + _("numerator"), f"{label} " + _("denominator")]
    header.append(_("composite score"))

    def line(scope: str, code: str, name: str, m: Metrics) -> list[Any]:
        row: list[Any] = [scope, code, name]
        for metric in METRICS:
            r = getattr(m, metric)
            row += [r.percent if r.percent is not None else "", r.numerator, r.denominator]
        row.append(round(m.score.value, 2) if m.score.value is not None else "")
        return row

    rows = [header, line(_("total"), f.region.code if f.region else "", f.region.name if f.region else "", overall)]
    rows += [line(str(Level(level).label), r.code, r.label, r.metrics) for r in by_region]
    rows += [line(_("department"), r.code, r.label, r.metrics) for r in by_dept]
    return rows


@login_required
def dashboard_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The dashboard's tables as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese) or Excel."""
    _allowed(request.user)
    f = DashboardFilter.from_request(request)
    rows = _export_rows(f, request.user)
    name = f"civicgrid-metrics-{f.start:%Y%m%d}-{f.end:%Y%m%d}"
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        csv.writer(out).writerows(rows)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "metrics"
    for row in rows:
        ws.append(xml_safe_cells(row))  # the sheet is XML: a control character in a name would refuse it
    buf = io.BytesIO()
    wb.save(buf)
    response = HttpResponse(buf.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response
