"""The auditor's desk (审计台): every reveal, export and personal-data search, filterable by person,
record, purpose and period, with the bulk-read alerts. Read only: GET and HEAD, nothing else."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from civicgrid.audit.selectors import KIND_ACTIONS, TrailFilter, bulk_read_alerts, personal_data_trail, trail_row
from civicgrid.org.selectors import may_read_audit_trail

PAGE_SIZE = 50


@require_safe
@login_required
def audit_desk(request: HttpRequest) -> HttpResponse:
    if not may_read_audit_trail(request.user):
        raise Http404
    f = TrailFilter.parse(request.GET)
    trail = personal_data_trail(None if f.errors else f)
    page = Paginator(trail, PAGE_SIZE).get_page(request.GET.get("page"))
    alerts = [trail_row(e) for e in bulk_read_alerts(None if f.errors else f)[:20]]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/audit_desk.html", {
        "f": f, "rows": [trail_row(e) for e in page.object_list], "page": page, "alerts": alerts,
        "kinds": list(KIND_ACTIONS), "query": query.urlencode()}, status=400 if f.errors else 200)
