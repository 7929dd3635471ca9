"""Early warning in the JSON API (mounted at /api/v1/warnings).

``GET /warnings`` lists the alerts the caller may read (their centre's and those below; ``state``
filters: a state, or ``live``), ``GET /warnings/{id}`` one alert with its evidence — the cases the
caller may see, by tracking code, and how many others it holds —, the series and its history.
``POST /warnings/{id}/actions/{action}`` acknowledges, investigates, closes (``outcome``: acted_on or
false_alarm) or escalates it. Outside the caller's reach: 404; a role that may read but not act: 403;
bad input: 422 naming the field; an action the alert's state does not allow: 409."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from civicgrid.core.api import ApiError, paginate, require_scope
from civicgrid.warning import selectors, services
from civicgrid.warning.models import Alert, AlertState

router = Router(tags=["warnings"])

ACTIONS = ("acknowledge", "investigate", "close", "escalate")


class AlertRegionRef(Schema):
    code: str
    name: str


class AlertOut(Schema):
    id: int
    rule: str
    kind: str
    severity: str
    state: str
    outcome: str
    area: AlertRegionRef
    centre: AlertRegionRef
    category: str | None
    department: str | None
    window_start: dt.datetime
    window_end: dt.datetime
    figure: float
    expected: float | None
    threshold: float | None
    ack_due_at: dt.datetime
    created_at: dt.datetime
    escalation_level: int


class AlertEventOut(Schema):
    at: dt.datetime
    actor: str
    action: str
    from_state: str
    to_state: str
    note: str


class AlertDetailOut(AlertOut):
    cases: list[str]  # tracking codes of the evidence cases the caller may see
    cases_hidden: int  # evidence cases outside the caller's reach (counted, never named)
    series: list[tuple[str, int]]
    events: list[AlertEventOut]


class AlertPage(Schema):
    items: list[AlertOut]
    page: int
    page_size: int
    count: int | None
    has_next: bool


class AlertActionIn(Schema):
    note: str = ""
    outcome: str = ""


def _out(a: Alert) -> dict[str, Any]:
    return {"id": a.pk, "rule": a.rule.code, "kind": a.kind, "severity": a.severity, "state": a.state,
            "outcome": a.outcome, "area": {"code": a.area.code, "name": a.area.name},
            "centre": {"code": a.centre.code, "name": a.centre.name},
            "category": a.category.code if a.category_id and a.category else None,
            "department": a.department.code if a.department_id and a.department else None,
            "window_start": a.window_start, "window_end": a.window_end, "figure": a.figure, "expected": a.expected,
            "threshold": a.threshold, "ack_due_at": a.ack_due_at, "created_at": a.created_at,
            "escalation_level": a.escalation_level}


def _detail(request: HttpRequest, a: Alert) -> dict[str, Any]:
    cases, total = selectors.alert_evidence_cases(user=request.user, alert=a)
    codes = list(cases.values_list("tracking_code", flat=True))
    return {**_out(a), "cases": codes, "cases_hidden": total - len(codes),
            "series": [(str(d), int(n)) for d, n in (a.evidence or {}).get("series", [])],
            "events": [{"at": e.at, "actor": e.actor_name, "action": e.action, "from_state": e.from_state,
                        "to_state": e.to_state, "note": e.note} for e in selectors.alert_events(alert=a)]}


@router.get("", response=AlertPage, summary="The alerts of the caller's centres (一网统防)")
def alerts(request: HttpRequest, state: str = "", page: int = 1, page_size: int = 50) -> dict[str, Any]:
    require_scope(request, "read")
    if state and state != "live" and state not in AlertState.values:
        raise ApiError(422, "invalid", "The request has invalid fields.",
                       {"state": [f"One of live, {', '.join(AlertState.values)}."]})
    result = paginate(selectors.alert_queue(user=request.user, state=state or None), page, page_size)
    result["items"] = [_out(a) for a in result["items"]]
    return result


@router.get("/{alert_id}", response=AlertDetailOut, summary="One alert with its evidence")
def alert(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    require_scope(request, "read")
    return _detail(request, selectors.alert_get(user=request.user, pk=alert_id))


@router.post("/{alert_id}/actions/{action}", response=AlertDetailOut,
             summary="Acknowledge, investigate, close (outcome) or escalate an alert")
def alert_act(request: HttpRequest, alert_id: int, action: str, payload: AlertActionIn) -> dict[str, Any]:
    require_scope(request, "write")
    a = selectors.alert_get(user=request.user, pk=alert_id)
    if action not in ACTIONS:
        raise ApiError(404, "not_found", f"No action {action!r}: {', '.join(ACTIONS)}.")
    if len(payload.note) > 2000:
        raise ApiError(422, "invalid", "The request has invalid fields.", {"note": ["At most 2000 characters."]})
    services.alert_act(actor=request.user, alert=a, action=action, note=payload.note, outcome=payload.outcome)
    return _detail(request, selectors.alert_get(user=request.user, pk=alert_id))
