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


# --- unit performance (目标责任考核) -------------------------------------------------------------------


class SchemeIn(Schema):
    code: str
    name: str = ""
    indicators: list[dict[str, Any]]
    thresholds: dict[str, Any]


class SchemeOut(Schema):
    id: int
    code: str
    version: int
    name: str
    indicators: list[dict[str, Any]]
    thresholds: dict[str, Any]


class PeriodIn(Schema):
    scheme: int  # a scheme version's id
    subject_kind: str  # department, street, community
    region: str  # a region code
    first_day: dt.date
    last_day: dt.date


class SubjectScoreOut(Schema):
    id: int
    subject_id: int
    code: str
    label: str
    parts: dict[str, Any]
    computed: float | None
    adjustment: float
    final: float | None
    grade: str
    rank: int | None


class PeriodOut(Schema):
    id: int
    scheme: str
    subject_kind: str
    region: str
    first_day: dt.date
    last_day: dt.date
    state: str
    scores: list[SubjectScoreOut]


class AdjustIn(Schema):
    points: float
    reason: str


class AdvanceIn(Schema):
    state: str  # approved, published


def _period_out(period: Any) -> dict[str, Any]:
    return {"id": period.pk, "scheme": str(period.scheme), "subject_kind": period.subject_kind,
            "region": period.region.code, "first_day": period.first_day, "last_day": period.last_day,
            "state": period.state, "scores": list(selectors.period_scores(period=period))}


def _scheme(user: Any, pk: int) -> Any:
    from django.http import Http404

    from civicgrid.assessment.models import Scheme

    if not selectors.may_assess(user):
        raise TransitionRefused(_("Only a leader or an administrator runs unit assessments."))
    found = Scheme.objects.filter(pk=pk).first()
    if found is None:
        raise Http404("No scheme matches the given query.")
    return found


@router.post("/schemes", response={201: SchemeOut})
def scheme_create(request: HttpRequest, payload: SchemeIn) -> Status[Any]:
    """A new version of a scheme (version 1 when the code is new)."""
    made = services.scheme_version_create(actor=request.user, code=payload.code, name=payload.name,
                                          indicators=payload.indicators, thresholds=payload.thresholds)
    return Status(201, made)


@router.post("/periods", response={201: PeriodOut})
def period_compute(request: HttpRequest, payload: PeriodIn) -> Status[dict[str, Any]]:
    """Compute (or compute again while not approved) a period and store it."""
    from civicgrid.org.selectors import region_get

    scheme = _scheme(request.user, payload.scheme)
    region = region_get(request.user, payload.region)  # 404 outside my jurisdiction
    period = services.period_compute(actor=request.user, scheme=scheme, subject_kind=payload.subject_kind,
                                     region=region, first_day=payload.first_day, last_day=payload.last_day)
    return Status(201, _period_out(period))


@router.get("/periods/{pk}", response=PeriodOut)
def period_read(request: HttpRequest, pk: int) -> dict[str, Any]:
    if not selectors.may_read_rankings(request.user):
        raise TransitionRefused(_("Rankings are for staff."))
    return _period_out(selectors.period_get(user=request.user, pk=pk))


@router.post("/periods/{pk}/scores/{score_id}/adjustments", response={201: PeriodOut})
def score_adjust(request: HttpRequest, pk: int, score_id: int, payload: AdjustIn) -> Status[dict[str, Any]]:
    """A bonus or penalty with its reason (audited), while the period is under review."""
    from django.http import Http404

    period = selectors.period_get(user=request.user, pk=pk)
    score = period.scores.filter(pk=score_id).first()
    if score is None:
        raise Http404("No score matches the given query.")
    services.score_adjust(actor=request.user, score=score, points=payload.points, reason=payload.reason)
    return Status(201, _period_out(period))


@router.post("/periods/{pk}/state", response=PeriodOut)
def period_state(request: HttpRequest, pk: int, payload: AdvanceIn) -> dict[str, Any]:
    """Approve a computed period or publish an approved one."""
    period = selectors.period_get(user=request.user, pk=pk)
    return _period_out(services.period_advance(actor=request.user, period=period, to=payload.state))
