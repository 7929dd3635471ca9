"""The centre's follow-up call list (回访): the calls to make, verifying calls first, with a form per
call (reached: contacted? resolved? how satisfied?; or unreachable, refused). A page worked all day:
a call recorded sends the caller back to the list, which no longer shows a case called to the end."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from civicgrid.assessment import selectors, services
from civicgrid.assessment.models import CallOutcome
from civicgrid.cases.errors import CaseConflict
from civicgrid.cases.models import Satisfaction
from civicgrid.cases.selectors import METRICS, case_get
from civicgrid.core.xmltext import xml_safe_cells
from civicgrid.privacy.exports import export_record


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _page(request: HttpRequest, *, errors: dict[str, list[str]] | None = None, failed: str = "",
          status: int = 200) -> HttpResponse:
    if not selectors.may_call(request.user):
        raise PermissionDenied(_("You do not make follow-up calls."))
    items = selectors.call_list(user=request.user)
    return render(request, "assessment/calls.html", {
        "items": items, "outcomes": CallOutcome.choices, "satisfactions": Satisfaction.choices,
        "errors": errors or {}, "failed": failed, "values": request.POST if failed else {},
    }, status=status)


@login_required
def calls(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
def call(request: HttpRequest, code: str) -> HttpResponse:
    """POST: record a call about the case. GET: the call list at that case's row."""
    case = case_get(user=request.user, tracking_code=code)  # 404 outside the caller's jurisdiction
    if not selectors.may_call(request.user):
        raise PermissionDenied(_("You do not make follow-up calls."))
    if request.method != "POST":
        return redirect(f"{reverse('assessment:calls')}#call-{case.tracking_code}")
    try:
        services.call_record(actor=request.user, case=case, outcome=request.POST.get("outcome", ""),
                             contacted=_yes_no(request.POST.get("contacted")),
                             resolved=_yes_no(request.POST.get("resolved")),
                             satisfaction=request.POST.get("satisfaction", ""), note=request.POST.get("note", ""))
    except ValidationError as exc:
        return _page(request, errors=exc.message_dict, failed=case.tracking_code, status=422)
    except CaseConflict as exc:
        messages.error(request, str(exc))
        return redirect("assessment:calls")
    messages.success(request, _("Call about %(code)s recorded.") % {"code": case.tracking_code})
    return redirect("assessment:calls")


# --- unit performance rankings (目标责任考核) ---------------------------------------------------------


def _ranking(request: HttpRequest, pk: int) -> tuple[Any, list[dict[str, Any]], list[str]]:
    if not selectors.may_read_rankings(request.user):
        raise PermissionDenied(_("Rankings are for staff."))
    period = selectors.period_get(user=request.user, pk=pk)
    metrics = [i["metric"] for i in period.scheme.indicators]
    before = selectors.previous_scores(period=period)
    rows = []
    for s in selectors.period_scores(period=period):
        prev = before.get(s.subject_id)
        rows.append({"score": s, "change": None if prev is None or s.final is None else round(s.final - prev, 2),
                     "parts": [{"metric": m, "label": METRICS[m], **s.parts.get(m, {}),
                                "url": selectors.drill_url(period, s, m),
                                "den_url": selectors.drill_url(period, s, m, "denominator")} for m in metrics]})
    return period, rows, metrics


@login_required
def performance(request: HttpRequest) -> HttpResponse:
    """The assessment periods the user may read, newest first."""
    if not selectors.may_read_rankings(request.user):
        raise PermissionDenied(_("Rankings are for staff."))
    periods = selectors.periods_visible(user=request.user)
    if not selectors.may_assess(request.user):
        periods = periods.filter(state="published")
    return render(request, "assessment/periods.html", {"periods": periods[:200]})


@login_required
def ranking(request: HttpRequest, pk: int) -> HttpResponse:
    """One period's ranking: each subject's score, grade, rank and change from the last period, and
    each indicator's value, linked to the cases behind it."""
    from django.contrib.staticfiles import finders

    period, rows, metrics = _ranking(request, pk)
    chart = None
    if finders.find("echarts/echarts.min.js"):  # installed by `make setup` (npm, package-lock.json)
        chart = [{"label": r["score"].label, "final": r["score"].final, "grade": r["score"].grade} for r in rows
                 if r["score"].final is not None]
    return render(request, "assessment/ranking.html", {
        "period": period, "rows": rows, "metrics": [METRICS[m] for m in metrics], "chart": chart,
        "can_assess": selectors.may_assess(request.user)})


@login_required
def ranking_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The ranking as Excel, watermarked and audited (privacy.exports): aggregates only."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    period, rows, metrics = _ranking(request, pk)
    mark = export_record(user=request.user, kind="assessment.ranking", rows=len(rows), fmt="xlsx",
                         filters={"period": period.pk}, target=period)
    wb = Workbook()
    ws = wb.active
    ws.title = _("Ranking")[:31]
    ws.append([f"{period.scheme.name} v{period.scheme.version} · {period.region.name} · "
               f"{period.first_day.isoformat()} – {period.last_day.isoformat()}"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([mark.text])
    wb.properties.creator = wb.properties.lastModifiedBy = mark.username
    wb.properties.description = mark.text
    wb.properties.keywords = f"civicgrid-audit-{mark.audit_id}"
    ws.append([])
    header = [_("rank"), _("code"), _("name")]
    for m in metrics:
        header += [f"{METRICS[m]} %", f"{METRICS[m]} " + _("points")]
    header += [_("computed score"), _("adjustments"), _("final score"), _("grade"), _("change")]
    ws.append(header)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for r in rows:
        s = r["score"]
        line: list[Any] = [s.rank, s.code, s.label]
        for p in r["parts"]:
            line += [None if p.get("value") is None else round(p["value"], 4),
                     None if p.get("points") is None else round(p["points"], 2)]
        line += [s.computed, s.adjustment, s.final, s.grade, r["change"]]
        ws.append(xml_safe_cells(line))
    buf = io.BytesIO()
    wb.save(buf)
    response = HttpResponse(buf.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="civicgrid-ranking-{period.pk}.xlsx"'
    return response
