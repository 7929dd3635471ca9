"""The centre's alert pages: the queue (/warnings/), one alert (/warnings/<id>/: its evidence — the
cases the reader may see —, the figure against the baseline, a small inline SVG chart of the series,
its history) and its actions as plain forms (/warnings/<id>/act/<action>/)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.core.errors import Conflict
from civicgrid.warning import selectors, services
from civicgrid.warning.models import Alert, AlertState, Outcome

CHART_W, CHART_H, CHART_PAD = 560, 120, 4


def series_chart(series: list[Any], expected: float | None, threshold: float | None) -> dict[str, Any]:
    """Bars of a daily series, with the expected level and the threshold as lines, in SVG units."""
    values = [int(n) for _d, n in series] if series else []
    top = max([*values, expected or 0, threshold or 0, 1])
    n = max(1, len(values))
    w = (CHART_W - 2 * CHART_PAD) / n

    def y(v: float) -> float:
        return round(CHART_H - CHART_PAD - (CHART_H - 2 * CHART_PAD) * v / top, 1)

    bars = [{"x": round(CHART_PAD + i * w + 1, 1), "y": y(v), "w": round(max(1.0, w - 2), 1),
             "h": round(CHART_H - CHART_PAD - y(v), 1), "label": f"{series[i][0]}: {v}"}
            for i, v in enumerate(values)]
    return {"w": CHART_W, "h": CHART_H, "bars": bars,
            "expected_y": y(expected) if expected is not None else None,
            "threshold_y": y(threshold) if threshold is not None else None}


def _allowed(user: Any) -> None:
    if not selectors.may_read_alerts(user=user):
        raise PermissionDenied


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _allowed(request.user)
    state = request.GET.get("state", "live")
    if state not in ("live", "", *AlertState.values):
        state = "live"
    alerts = list(selectors.alert_queue(user=request.user, state=state or None)[:200])
    return render(request, "warning/queue.html", {"alerts": alerts, "state": state, "states": AlertState.choices,
                                                  "counts": selectors.alert_counts(user=request.user)})


def _context(request: HttpRequest, alert: Alert, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    cases, total = selectors.alert_evidence_cases(user=request.user, alert=alert)
    shown = list(cases[:100])  # the first hundred the reader may see
    visible = len(shown) if len(shown) < 100 else cases.count()
    series = (alert.evidence or {}).get("series", [])
    return {"alert": alert, "cases": shown, "hidden": max(0, total - visible),
            "total": total, "chart": series_chart(series, alert.expected, alert.threshold), "series": series,
            "events": list(selectors.alert_events(alert=alert)), "errors": errors or {},
            "general_errors": (errors or {}).get("__all__", []),
            "may_act": alert.is_live and selectors.alert_may_act(user=request.user, alert=alert),
            "outcomes": Outcome.choices, "evidence": alert.evidence or {}}


@login_required
def detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = selectors.alert_get(user=request.user, pk=alert_id)
    return render(request, "warning/alert.html", _context(request, alert))


@login_required
@require_POST
def act(request: HttpRequest, alert_id: int, action: str) -> HttpResponse:
    alert = selectors.alert_get(user=request.user, pk=alert_id)
    try:
        services.alert_act(actor=request.user, alert=alert, action=action, note=request.POST.get("note", "")[:2000],
                           outcome=request.POST.get("outcome", ""))
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return render(request, "warning/alert.html", _context(request, alert, errors), status=400)
    except Conflict as exc:
        return render(request, "warning/alert.html", _context(request, alert, {"__all__": [str(exc)]}), status=409)
    except PermissionDenied:
        raise
    messages.success(request, _("Done: %(action)s.") % {"action": action})
    return redirect(reverse("warning:alert", args=[alert_id]))
