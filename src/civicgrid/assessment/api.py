"""Follow-up calls (回访), mounted at /api/v1/assessment/.

``GET /calls``: the signed-in caller's call list (closed cases due for a call, verifying calls
first); 403 for a user who makes no calls. ``POST /calls/{code}``: record one call about a case in
the caller's jurisdiction (404 outside it, 403 without the engine's rate role, 409 for a second
valid follow-up of the same closing, 422 naming the field for bad input)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from civicgrid.assessment import selectors, services
from civicgrid.cases.errors import TransitionRefused
from civicgrid.cases.selectors import case_get

router = Router(tags=["assessment"])


class CallItemOut(Schema):
    tracking_code: str
    title: str
    closing: int
    verify: bool
    due_at: dt.datetime | None
    attempts: int
    max_attempts: int
    department: str | None


class CallIn(Schema):
    outcome: str
    contacted: bool | None = None
    resolved: bool | None = None
    satisfaction: str = ""
    note: str = ""


class CallOut(Schema):
    id: int
    tracking_code: str
    closing: int
    outcome: str
    at: dt.datetime


@router.get("/calls", response=list[CallItemOut])
def calls(request: HttpRequest) -> list[dict[str, Any]]:
    if not selectors.may_call(request.user):
        raise TransitionRefused(_("You do not make follow-up calls."))
    return [{"tracking_code": i.case.tracking_code, "title": i.case.title, "closing": i.case.closing,
             "verify": i.verify, "due_at": i.due_at, "attempts": i.attempts, "max_attempts": i.max_attempts,
             "department": i.case.lead_department.name if i.case.lead_department is not None else None}
            for i in selectors.call_list(user=request.user)]


@router.post("/calls/{code}", response={201: CallOut})
def call(request: HttpRequest, code: str, payload: CallIn) -> Status[dict[str, Any]]:
    case = case_get(user=request.user, tracking_code=code)
    made = services.call_record(actor=request.user, case=case, outcome=payload.outcome,
                                contacted=payload.contacted, resolved=payload.resolved,
                                satisfaction=payload.satisfaction, note=payload.note)
    return Status(201, {"id": made.pk, "tracking_code": case.tracking_code, "closing": made.closing,
                        "outcome": made.outcome, "at": made.at})
