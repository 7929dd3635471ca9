"""Events endpoints (mounted at /api/v1/events): intake from any client, the public tracking view
and rating, the sensor/video webhook, and a lean staff list and detail. The staff actions
(``/{code}/actions/{action}``, ``/{code}/whistles``) are aliases of the one way in,
``/api/v1/cases/{id}/actions/{action}`` (the engine's ``rules.case_act``).

Errors are the house format; the engine's refusals map (in ``core.api``) to 404 (outside the
jurisdiction), 403 (role), 422 (state or input, with fields) and 409 (somebody acted first).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import Strict

from civicgrid.cases import rules
from civicgrid.cases.models import Case
from civicgrid.cases.selectors import PUBLIC_VIEW, case_get, case_public_timeline, case_timeline, case_view_of
from civicgrid.core.api import ApiError, ErrorOut
from civicgrid.core.inputs import MAX_OFFSET
from civicgrid.core.ratelimit import rate_limit_public
from civicgrid.events import services as ev
from civicgrid.events.models import Whistle
from civicgrid.events.photos import PhotoUpload
from civicgrid.events.selectors import event_public, events_manual_queue, events_visible
from civicgrid.events.workflow import EVENT, STATES
from civicgrid.org.models import TokenScope
from civicgrid.org.tokens import api_auth_public, api_auth_token

router = Router(tags=["events"])
# Strict in JSON bodies: true is no coordinate and "yes" no answer (an integer is still a number).
StrictFloat = Annotated[float, Strict()]
StrictBool = Annotated[bool, Strict()]


# --- intake ------------------------------------------------------------------------------------


class PhotoIn(Schema):
    name: str = ""
    content_base64: str = Field(..., description="the image file, base64-encoded (JPEG, PNG or WebP)")


class EventIn(Schema):
    text: str = Field("", description="what the problem is (描述)")
    title: str = ""
    channel: Literal["resident", "open311", "patrol", "hotline", "other"] = "resident"
    request_type: str | None = Field(None, description="咨询/求助/投诉/举报/建议 (or enquiry, help, …)")
    category: str | None = Field(None, description="category code or name; unknown → the centre's manual queue")
    lon: StrictFloat | None = None
    lat: StrictFloat | None = None
    crs: Literal["wgs84", "gcj02"] = "wgs84"
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    anonymous: StrictBool = False
    photos: list[PhotoIn] = []
    use_photo_location: bool = Field(False, description="the reporter confirmed that the first photo's GPS position "
                                     "may place the report when lon/lat are not given (never used without it)")


class ReportOut(Schema):
    tracking_code: str
    state: str
    created: bool
    routing: str
    photo_gps: list[float] | None = None
    rating_secret: str | None = Field(None, description="the reporter's rating secret, needed to rate the result "
                                                        "with the tracking code; in the answer that created the "
                                                        "event only (null on a retry): give it to the reporter")


def _photos(items: list[PhotoIn]) -> list[PhotoUpload]:
    out = []
    for i, p in enumerate(items):
        try:
            out.append(PhotoUpload(p.name, base64.b64decode(p.content_base64, validate=True)))
        except (binascii.Error, ValueError):
            raise ApiError(422, "invalid", "The request has invalid fields.",
                           {f"photos.{i}": ["Not valid base64."]}) from None
    return out


def _actor(request: HttpRequest) -> Any:
    """The token's user or the signed-in person (the session is CSRF-checked by the auth), or None
    for an anonymous client — who is rate-limited (``CIVICGRID_RATE_PUBLIC_PER_MINUTE``)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        rate_limit_public(request, "events-intake")
        return None
    return user


def _report(request: HttpRequest, actor: Any, data: ev.EventInput, photos: list[PhotoUpload],
            key: str) -> Status[dict[str, Any]]:
    token = getattr(request, "api_token", None)  # a token's keys are its own
    result = ev.event_report(actor=actor, data=data, photos=photos, idempotency_key=key, token=token)
    body = {"tracking_code": result.case.tracking_code, "state": result.case.state, "created": result.created,
            "routing": result.detail.routing, "photo_gps": list(result.photo_gps) if result.photo_gps else None,
            "rating_secret": result.rating_secret or None}
    return Status(201 if result.created else 200, body)


PUBLIC = {"x-rate-limited": True}


@router.post("", auth=api_auth_public(TokenScope.INTAKE), response={200: ReportOut, 201: ReportOut},
             openapi_extra=PUBLIC, summary="Report a problem (any channel); answers its tracking code")
def report(request: HttpRequest, payload: EventIn) -> Status[dict[str, Any]]:
    """No sign-in needed (anonymous callers are rate-limited); a system sends a token with the
    ``intake`` scope, a signed-in person reports as themself. Send the header ``Idempotency-Key`` to
    make a retry safe: the same key and report return the first event (200), the same key with
    another report is refused (422) — from an anonymous client, whose keys nobody else shares, it is
    another report (201)."""
    actor = _actor(request)
    if actor is None and payload.channel not in ("resident", "open311", "other"):
        raise ApiError(422, "invalid", "The request has invalid fields.",
                       {"channel": ["Sign in to report through this channel."]})
    data = ev.EventInput(**payload.dict(exclude={"photos"}))
    return _report(request, actor, data, _photos(payload.photos), request.headers.get("Idempotency-Key", ""))


class SensorIn(Schema):
    source_system: str = Field(..., min_length=1, max_length=64, description="e.g. video-ai, water-level")
    external_id: str = Field(..., min_length=1, max_length=100, description="the alert's id in that system")
    text: str
    title: str = ""
    category: str | None = None
    lon: StrictFloat | None = None
    lat: StrictFloat | None = None
    crs: Literal["wgs84", "gcj02"] = "wgs84"
    address: str = ""
    priority: Literal["normal", "urgent"] = "normal"


@router.post("/webhook", auth=api_auth_token(TokenScope.INTAKE), response={200: ReportOut, 201: ReportOut},
             summary="Sensor or video alert (an API token with the intake scope)")
def webhook(request: HttpRequest, payload: SensorIn) -> Status[dict[str, Any]]:
    """An alert from a system, sent with an API token that has the ``intake`` scope (its user must
    be allowed the sensor channel: an administrator); its ``external_id`` is the idempotency key
    within ``source_system``."""
    data = ev.EventInput(channel="sensor", **payload.dict())
    return _report(request, request.user, data, [], payload.external_id)


# --- the reporter's side -------------------------------------------------------------------------


class PublicStepOut(Schema):
    at: dt.datetime
    action: str
    label: str
    state: str
    note: str


class PublicOut(Schema):
    tracking_code: str
    title: str
    state: str
    state_label: str
    category: str | None
    request_type: str | None
    reported_at: dt.datetime
    closed_at: dt.datetime | None
    merged_into: str | None
    can_rate: bool
    steps: list[PublicStepOut]


@router.get("/track/{code}", auth=None, response=PublicOut, openapi_extra=PUBLIC,
            summary="Follow a report by its tracking code")
def track(request: HttpRequest, code: str) -> Any:
    rate_limit_public(request, "events-track")
    view = event_public(tracking_code=code)
    if view is None:
        raise ApiError(404, "not_found", "Not found.")
    return view


class RatingIn(Schema):
    satisfaction: Literal["satisfied", "basic", "unsatisfied"]
    comment: str = ""
    secret: str = Field("", max_length=40, description="the rating secret given with the tracking code (not "
                                                       "needed when signed in to the account that reported)")


@router.post("/track/{code}/rating", auth=api_auth_public(), response={201: dict, 403: ErrorOut, 409: ErrorOut},
             openapi_extra=PUBLIC, summary="Rate the result (回访评价) with the rating secret")
def rate(request: HttpRequest, code: str, payload: RatingIn) -> Status[dict[str, Any]]:
    """The reporter rates with the tracking code and the rating secret they were given with it, or
    signed in to the account they reported from; the tracking code alone answers 403. Once per
    closing of the event: a second rating answers 409."""
    rate_limit_public(request, "events-track")
    user = request.user if request.user.is_authenticated else None
    rating = ev.event_rate_public(tracking_code=code, satisfaction=payload.satisfaction, secret=payload.secret,
                                  actor=user, comment=payload.comment)
    return Status(201, {"satisfaction": rating.satisfaction})


# --- staff: list, detail, actions ---------------------------------------------------------------


class EventOut(Schema):
    tracking_code: str
    title: str
    state: str
    state_label: str
    channel: str
    category: str | None
    request_type: str | None
    street: str | None
    grid: str | None
    lead_department: str | None
    routing: str | None
    routing_reason: str | None
    handling_due_at: dt.datetime | None
    created_at: dt.datetime
    closed_at: dt.datetime | None


def _out(case: Any) -> dict[str, Any]:
    detail = getattr(case, "event", None)
    return {"tracking_code": case.tracking_code, "title": case.title, "state": case.state,
            "state_label": str(STATES.get(case.state, case.state)), "channel": case.channel,
            "category": case.category.code if case.category_id else None,
            "request_type": case.request_type.code if case.request_type_id else None,
            "street": case.street.code if case.street_id else None, "grid": case.grid.code if case.grid_id else None,
            "lead_department": case.lead_department.code if case.lead_department_id else None,
            "routing": detail.routing if detail else None, "routing_reason": detail.routing_reason if detail else None,
            "handling_due_at": case.handling_due_at, "created_at": case.created_at, "closed_at": case.closed_at}


class ListParams(Schema):
    state: str | None = None
    manual: bool = Field(False, description="only the manual queue (人工派单)")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


@router.get("", response=list[EventOut], summary="Events in my jurisdiction, newest first")
def events_list(request: HttpRequest, params: Query[ListParams]) -> list[dict[str, Any]]:
    qs = events_manual_queue(user=request.user) if params.manual else events_visible(user=request.user)
    if params.state:
        qs = qs.filter(state=params.state)
    qs = qs.select_related("category", "request_type", "street", "grid", "lead_department", "event")
    return [_out(c) for c in qs[params.offset:params.offset + params.limit]]


class EventStepOut(Schema):
    at: dt.datetime
    actor: str
    action: str
    from_state: str
    to_state: str
    note: str


class EventDetailOut(EventOut):
    text: str
    address: str
    reporter_name: str
    reporter_phone: str
    photos: list[dict[str, Any]]
    actions: list[str]
    timeline: list[EventStepOut]


@router.get("/{code}", response=EventDetailOut, summary="One event with its timeline (404 outside my jurisdiction)")
def event_get(request: HttpRequest, code: str) -> dict[str, Any]:
    case = case_get(user=request.user, tracking_code=code)
    if case.case_type != "event":
        raise ApiError(404, "not_found", "Not found.")
    fields = case._meta
    masked = {f: fields.get_field(f).masked(case) for f in ("reporter_name", "reporter_phone")}
    if case_view_of(user=request.user, case=case) == PUBLIC_VIEW:
        # the reporter reading their own report: what the public tracking page shows, no more
        steps = [{"at": t.at, "actor": t.actor_name, "action": t.action, "from_state": t.from_state,
                  "to_state": t.to_state, "note": t.note} for t in case_public_timeline(case=case)]
        return {**_out(case), "lead_department": None, "routing": None, "routing_reason": None,
                "text": case.text, "address": case.address, **masked, "photos": [], "actions": [],
                "timeline": steps}
    steps = [{"at": t.at, "actor": t.actor_name, "action": t.action, "from_state": t.from_state,
              "to_state": t.to_state, "note": t.note} for t in case_timeline(case=case)]
    return {**_out(case), "text": case.text, "address": case.address, **masked,
            "photos": getattr(getattr(case, "event", None), "photos", []) or [],
            "actions": [o.name for o in rules.case_actions(request.user, case) if not o.refused],
            "timeline": steps}


class EventActionIn(Schema):
    note: str = ""
    reason: str = ""
    department: str | None = Field(None, description="lead department code (dispatch)")
    co_departments: list[str] = []
    photos: list[PhotoIn] = []


ACTIONS = Literal["register", "reject", "answer", "dispatch", "accept", "dispute", "report_back", "verify",
                  "verify_fail", "reply"]


def _staff_event(request: HttpRequest, code: str) -> Case:
    case = case_get(user=request.user, tracking_code=code)  # seen: the engine answers 403 where it may not act
    if case.case_type != EVENT:
        raise ApiError(404, "not_found", "Not found.")
    return case


@router.post("/{code}/actions/{action}", response=EventOut,
             summary="Perform a step of the loop (an alias of /cases/{id}/actions/{action})")
def event_act(request: HttpRequest, code: str, action: ACTIONS, payload: EventActionIn) -> dict[str, Any]:
    case = _staff_event(request, code)
    data: dict[str, Any] = {"note": payload.note, "reason": payload.reason, "co_departments": payload.co_departments}
    if payload.department:
        data["department"] = payload.department
    if action == "verify_fail":  # the finding may come as the note
        data["reason"] = payload.reason or payload.note
    rules.case_act(actor=request.user, case=case, action=action, data=data, photos=_photos(payload.photos))
    return _out(case_get(user=request.user, tracking_code=code))


class WhistleIn(Schema):
    kind: Literal["routine", "hard", "emergency"]
    reason: str
    departments: list[str] = Field(..., min_length=1)


@router.post("/{code}/whistles", response={201: dict},
             summary="Summon departments to the event (吹哨; an alias of /cases/{id}/actions/whistle)")
def whistle(request: HttpRequest, code: str, payload: WhistleIn) -> Status[dict[str, Any]]:
    case = case_get(user=request.user, tracking_code=code)
    rules.case_act(actor=request.user, case=case, action="whistle",
                   data={"kind": payload.kind, "reason": payload.reason, "departments": payload.departments})
    w = Whistle.objects.filter(case=case).order_by("-id").first()
    assert w is not None
    return Status(201, {"whistle": w.pk, "kind": w.kind,
                 "summons": [{"department": s.department.code, "ack_due_at": s.ack_due_at.isoformat(),
                              "arrive_due_at": s.arrive_due_at.isoformat()} for s in w.summons.all()]})
