"""The dashboard: the case engine's metrics (DOMAIN §6) for a chosen period and jurisdiction, as
tables and server-drawn SVG bars, every number a link to the cases behind it; CSV and Excel export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field, replace
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
from django.utils.translation import gettext_lazy

from civicgrid.cases.models import Case
from civicgrid.cases.selectors import (
    METRIC_DEFINITIONS,
    METRICS,
    Metrics,
    MetricsRow,
    Period,
    cases_visible,
    count_shown,
    metric_cases,
    metrics_by_department,
    metrics_by_region,
    metrics_for,
    restricted_among,
)
from civicgrid.core.inputs import day_error
from civicgrid.core.xmltext import xml_safe_cells
from civicgrid.geo.models import LEVELS, Level, Region
from civicgrid.org.models import Department
from civicgrid.org.selectors import departments_visible, regions_visible, user_memberships
from civicgrid.privacy.exports import Watermark, export_record
from civicgrid.warning.selectors import alert_counts, may_read_alerts
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
        if day_error(end):  # a day we cannot compute a period from (0001-01-01 …)
            end, errors["end"] = today, [day_error(end)]
        try:
            start = _date(g.get("start")) or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        except ValueError:
            start, errors["start"] = end - dt.timedelta(days=DEFAULT_DAYS - 1), [_("Give a date as YYYY-MM-DD.")]
        if day_error(start):
            start, errors["start"] = end - dt.timedelta(days=DEFAULT_DAYS - 1), [day_error(start)]
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
    definition: str = ""  # what the rate divides by, in words


def cells(f: DashboardFilter, m: Metrics, **scope: Any) -> list[Cell]:
    out = []
    base = reverse("web:cases")
    for name in METRICS:
        r = getattr(m, name)
        out.append(Cell(name, r.label, r.percent, r.numerator, r.denominator,
                        f"{base}?{f.query(metric=name, part='numerator', **scope)}",
                        f"{base}?{f.query(metric=name, part='denominator', **scope)}",
                        str(METRIC_DEFINITIONS[name])))
    return out


def _suppressed(m: Metrics) -> Metrics:
    """The metrics with every count from 1 to 4 shown as "<5" and the rates and score over them
    left out (cases.visibility.SMALL_COUNT): used when the counted cases include restricted ones."""
    def one(r: Any) -> Any:
        n, d = count_shown(r.numerator, suppressed=True), count_shown(r.denominator, suppressed=True)
        if n is None and d is None:
            return r
        return replace(r, numerator=n or r.numerator, denominator=d or r.denominator, value=None)

    rates = {name: one(getattr(m, name)) for name in METRICS}
    score, grade = m.score, m.grade
    if any(rates[name] is not getattr(m, name) for name in ("response", "resolution", "satisfaction")):
        score = replace(score, value=None, grade=None)
    if score.value is None or any(rates[name] is not getattr(m, name) for name in ("closure", "on_time")):
        grade = replace(grade, value=None, grade=None)
    return replace(m, score=score, grade=grade, **rates)


def _restricted_in(f: DashboardFilter, user: Any) -> bool:
    """Whether the dashboard's cases (the user's, of the chosen region and department) include a
    restricted type's: then its small counts are suppressed."""
    qs = cases_visible(user=user)
    if f.region is not None:
        qs = qs.filter(**{f"{f.region.level}_id": f.region.pk})
    if f.department is not None:
        qs = qs.filter(lead_department=f.department)
    return restricted_among(qs)


def _tables(f: DashboardFilter, user: Any) -> tuple[Metrics, str, list[MetricsRow], list[MetricsRow]]:
    overall = metrics_for(period=f.period, user=user, region=f.region, department=f.department)
    level = _child_level(f, user)
    by_region = metrics_by_region(level=level, period=f.period, user=user, region=f.region, department=f.department)
    by_dept = [] if f.department is not None else metrics_by_department(period=f.period, user=user, region=f.region)
    if _restricted_in(f, user):
        overall = _suppressed(overall)
        by_region = [replace(r, metrics=_suppressed(r.metrics)) for r in by_region]
        by_dept = [replace(r, metrics=_suppressed(r.metrics)) for r in by_dept]
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
        "f": f, "overall": cells(f, overall), "score": overall.score, "grade": overall.grade, "level": level,
        "region_rows": region_rows, "dept_rows": dept_rows, "bars": bars,
        "regions": regions_visible(request.user).filter(level__in=PICKABLE).order_by("code")[:200],
        "departments": departments_visible(request.user).order_by("code")[:200],
        "metric_names": [(label, METRIC_DEFINITIONS[name]) for name, label in METRICS.items()],
        "export_query": f.query(),
        "alerts": alert_counts(user=request.user) if may_read_alerts(user=request.user) else None},
        status=400 if f.errors else 200)  # the filter's bad fields are named on the page


EXPORT_FORMATS = ("csv", "xlsx")
# A text cell starting with one of these is read as a formula by spreadsheet programs (CSV/formula
# injection): a region or department name like "=HYPERLINK(…)" must stay text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
TEXT, PERCENT, NUMBER = "text", "percent", "number"


def formula_like(value: Any) -> bool:
    """A text that a spreadsheet would run as a formula (a plain number such as "-5" stays as it is)."""
    return isinstance(value, str) and value[:1] in FORMULA_START and not PLAIN_NUMBER.fullmatch(value)


def _number(value: float | int | str | None) -> float | int | str:
    """A count or score as exported: integers stay integers, other numbers rounded to 2 decimals (a
    suppressed small count stays "<5")."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if float(value).is_integer():
        return int(value)
    return round(float(value), 2)


@dataclass(frozen=True)
class ExportTable:
    """The dashboard's tables as one sheet: the header, the kind of each column, and the rows (a
    percentage as a fraction 0…1, None when its denominator is 0)."""

    header: list[str]
    kinds: list[str]
    rows: list[list[Any]]


def _export_table(f: DashboardFilter, user: Any) -> ExportTable:
    overall, level, by_region, by_dept = _tables(f, user)
    header, kinds = [_("scope"), _("code"), _("name")], [TEXT, TEXT, TEXT]
    for name in METRICS:
        label = str(METRICS[name])
        header += [f"{label} %", f"{label} " + _("numerator"), f"{label} " + _("denominator")]
        kinds += [PERCENT, NUMBER, NUMBER]
    header += [_("composite score"), _("overall grade")]
    kinds += [NUMBER, NUMBER]

    def line(scope: str, code: str, name: str, m: Metrics) -> list[Any]:
        row: list[Any] = [scope, code, name]
        for metric in METRICS:
            r = getattr(m, metric)
            row += [r.value, r.numerator, r.denominator]
        row += [m.score.value, m.grade.value]
        return row

    rows = [line(_("total"), f.region.code if f.region else "", f.region.name if f.region else "", overall)]
    rows += [line(str(Level(level).label), r.code, r.label, r.metrics) for r in by_region]
    rows += [line(_("department"), r.code, r.label, r.metrics) for r in by_dept]
    return ExportTable(header=header, kinds=kinds, rows=rows)


def _csv_value(kind: str, value: Any) -> Any:
    if kind == PERCENT:
        return "" if value is None else round(value * 100, 2)
    if kind == NUMBER:
        return _number(value)
    return "'" + value if formula_like(value) else value  # the quote makes it text (OWASP's advice)


def _csv(table: ExportTable, mark: Watermark) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # a BOM, so spreadsheet programs read the Chinese
    writer = csv.writer(out)
    writer.writerow([_csv_value(TEXT, h) for h in table.header])
    for row in table.rows:
        writer.writerow([_csv_value(k, v) for k, v in zip(table.kinds, row, strict=True)])
    writer.writerow([_csv_value(TEXT, mark.text)])  # the watermark: the file's last line
    return out.getvalue()


def _title(f: DashboardFilter) -> str:
    scope = " · ".join(x.name for x in (f.region, f.department) if x is not None) or _("all of my jurisdiction")
    return _("Assessment metrics: %(scope)s") % {"scope": scope}


def _xlsx(f: DashboardFilter, table: ExportTable, mark: Watermark) -> bytes:
    """One sheet, named in the user's language: a title, the period, the time of export, then the
    table with percentages as numbers in percent format, widths set and the header kept in view."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = _("Assessment metrics")[:31]
    ws.append([_title(f)])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([_("Period: %(start)s to %(end)s (both days included)")
               % {"start": f.start.isoformat(), "end": f.end.isoformat()}])
    ws.append([mark.text])  # the watermark, visible above the table, and in the file's properties
    wb.properties.creator = wb.properties.lastModifiedBy = mark.username
    wb.properties.description = mark.text
    wb.properties.keywords = f"civicgrid-audit-{mark.audit_id}"
    ws.append([])
    ws.append(table.header)
    head = ws.max_row
    for cell in ws[head]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.fill = PatternFill("solid", fgColor="E8EEF7")
    for row in table.rows:
        # the sheet is XML: a control character in a name would make openpyxl refuse it
        ws.append(xml_safe_cells([_number(v) if k == NUMBER else ("" if v is None else round(v, 4))
                                  if k == PERCENT else v for k, v in zip(table.kinds, row, strict=True)]))
        for cell, kind in zip(ws[ws.max_row], table.kinds, strict=True):
            if kind == PERCENT and cell.value != "":
                cell.number_format = "0.0%"
            elif kind == TEXT and formula_like(cell.value):
                cell.data_type = "s"  # openpyxl makes "=…" a formula: keep it text
                cell.quotePrefix = True  # and text when someone edits the cell in Excel
    widths = {TEXT: 12, PERCENT: 11, NUMBER: 10}
    for i, kind in enumerate(table.kinds, start=1):
        ws.column_dimensions[get_column_letter(i)].width = widths[kind]
    ws.column_dimensions["B"].width = 18
    ws.column_dimensions["C"].width = 26
    ws.freeze_panes = ws.cell(row=head + 1, column=4)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


FIELD_LABELS: dict[str, Any] = {"start": gettext_lazy("From"), "end": gettext_lazy("To"),
                                "metric": gettext_lazy("Metric")}


@login_required
def dashboard_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The dashboard's tables as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese) or Excel.
    Another format is a 404 that says which ones there are; a bad filter is a 400 naming the field
    (an export must never quietly stand for another period)."""
    if fmt not in EXPORT_FORMATS:
        return render(request, "404.html", {"message": _("There is no export as %(fmt)s: choose CSV or Excel "
                                                         "(xlsx).") % {"fmt": fmt}}, status=404)
    _allowed(request.user)
    f = DashboardFilter.from_request(request)
    if f.errors:
        problems = [(str(FIELD_LABELS.get(k, k)), k, "; ".join(v)) for k, v in f.errors.items()]
        return render(request, "web/export_refused.html", {"problems": problems, "query": request.GET.urlencode()},
                      status=400)
    table = _export_table(f, request.user)
    mark = export_record(user=request.user, kind="dashboard.metrics", rows=len(table.rows), fmt=fmt,
                         filters=f.query())  # aggregates only: no personal data, no role beyond the page's
    name = f"civicgrid-metrics-{f.start:%Y%m%d}-{f.end:%Y%m%d}"
    if fmt == "csv":
        response = HttpResponse(_csv(table, mark), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    response = HttpResponse(_xlsx(f, table, mark),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response
