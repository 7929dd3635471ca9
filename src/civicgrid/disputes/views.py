"""The disputes pages: the centre's dispute queue with its risk flags and the routing offer, the
mediator's list, and the screening report (矛盾纠纷排查) with the grids that have not reported. Each
dispute's own page is the engine's case page (/cases/<code>/), drawn from the declaration."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from civicgrid.disputes import selectors, services
from civicgrid.disputes.models import RiskFlag
from civicgrid.geo.models import Region
from civicgrid.org.scoping import get_scoped_or_404

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """The open disputes the user sees, high risk first, each with its risk reasons and the
    organisation it was routed to, or the routing offer (the default organisations in order)."""
    only_risk = request.GET.get("risk") == "1"
    cases = selectors.dispute_queue(request.user, high_risk=True if only_risk else None)
    flags: dict[int, list[RiskFlag]] = {}
    for f in RiskFlag.objects.filter(case__in=cases, cleared_at__isnull=True).order_by("raised_at", "id"):
        flags.setdefault(f.case_id, []).append(f)
    rows = []
    for c in cases:
        d = getattr(c, "dispute", None)
        offer = [] if d is None or d.organisation_id else selectors.organisations_for(c, d.dispute_type)[:3]
        rows.append({"case": c, "detail": d, "flags": flags.get(c.pk, []), "offer": offer})
    mine = selectors.mediator_worklist(request.user)
    return render(request, "disputes/queue.html", {"rows": rows, "mine": mine, "only_risk": only_risk})


@login_required
@require_http_methods(["GET", "POST"])
def screening(request: HttpRequest) -> HttpResponse:
    """The screening reports of a month: file one (the disputes found by tracking code, or "none
    found"), and see which grids have not reported."""
    period = request.GET.get("period") or request.POST.get("period") or timezone.localdate().strftime("%Y-%m")
    if not PERIOD.match(period):
        period = timezone.localdate().strftime("%Y-%m")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        region = get_scoped_or_404(Region.objects.all(), request.user, "act", code=request.POST.get("region", ""))
        codes = [c for c in re.split(r"[\s,，]+", request.POST.get("disputes", "")) if c]
        found = list(selectors.disputes_visible(request.user).filter(tracking_code__in=codes))
        missing = sorted(set(codes) - {c.tracking_code for c in found})
        try:
            if missing:
                raise ValidationError({"disputes": _("No dispute %(code)s.") % {"code": missing[0]}})
            services.screening_file(actor=request.user, region=region, period=period,
                                    none_found=request.POST.get("none_found") == "yes", disputes=found,
                                    note=request.POST.get("note", ""))
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, _("Screening report filed."))
            return redirect(f"{request.path}?period={period}")
    return render(request, "disputes/screening.html", {
        "period": period, "reports": selectors.screening_reports(request.user, period),
        "missing": selectors.grids_not_reported(request.user, period),
        "regions": selectors.screening_regions(request.user), "errors": errors,
    }, status=422 if errors else 200)
