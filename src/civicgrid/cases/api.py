"""Case endpoints (mounted at /api/v1/cases and /api/v1/metrics): the staff list with filters and
pages, the detail with its timeline, every transition of the case's type as an action, the generic
actions (merge, recall, supervise, escalate, reopen, rate, extension/deferral request and decision,
resume), and the assessment metrics with the cases behind each number.

Everything is scoped as the pages are (``org.scoping`` through ``cases.selectors``): a case outside
the user's jurisdiction is 404. Every action goes through the engine's one façade
(``rules.case_act``); its refusals map to HTTP in one place (``core.api``): OutOfScope 404,
TransitionRefused 403, TransitionNotAllowed 422 (with fields), CaseConflict 409.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from civicgrid.cases import registry, rules, services
from civicgrid.cases.models import PARTY_SEARCH_FIELDS, ApprovalRequest, Case, Channel, Delivery
from civicgrid.cases.selectors import (
    CASE_METRICS,
    METRICS,
    PUBLIC_VIEW,
    DocumentFile,
    Metrics,
    Period,
    case_documents,
    case_get,
    case_links,
    case_open_timers,
    case_public_timeline,
    case_timeline,
    case_view_of,
    cases_assigned_to,
    cases_linked_with,
    cases_visible,
    delivery_proof_file,
    document_file,
    metric_cases,
    metrics_by_department,
    metrics_by_region,
    metrics_for,
    party_get,
)
from civicgrid.core.api import ApiError, ErrorOut, paginate
from civicgrid.core.inputs import MAX_ID, MAX_PAGE, Day, Upload
from civicgrid.geo.models import LEVELS, Region
from civicgrid.geo.selectors import region_by_code
from civicgrid.org.models import Department
from civicgrid.org.selectors import department_get, region_get
from civicgrid.taxonomy.selectors import category_by_code

router = Router(tags=["cases"])
metrics_router = Router(tags=["metrics"])


def _invalid(field: str, reason: str) -> ApiError:
    return ApiError(422, "invalid", "The request has invalid fields.", {field: [reason]})


# --- output --------------------------------------------------------------------------------------


class CaseOut(Schema):
    id: int
    tracking_code: str
    case_type: str
    title: str
    state: str
    state_label: str
    channel: str
    priority: str
    category: str | None = Field(None, description="category code")
    category_name: str | None
    request_type: str | None
    district: str | None
    street: str | None
    community: str | None
    grid: str | None
    owner_region: str | None = Field(None, description="the centre that owns the case now (首接负责)")
    lead_department: str | None
    handling_due_at: dt.datetime | None
    overdue: bool
    extended: bool
    deferred: bool
    reopen_count: int
    merged_into: str | None
    created_at: dt.datetime
    closed_at: dt.datetime | None


LIST_RELATED = ("category", "request_type", "district", "street", "community", "grid", "owner_region",
                "lead_department", "merged_into")


def _code(obj: Any) -> str | None:
    return obj.code if obj is not None else None


def _state_label(case: Case) -> str:
    try:
        return str(registry.of(case).states.get(case.state, case.state))
    except LookupError:
        return case.state


def case_out(case: Case, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    return {
        "id": case.pk, "tracking_code": case.tracking_code, "case_type": case.case_type, "title": case.title,
        "state": case.state, "state_label": _state_label(case), "channel": case.channel,
        "priority": case.priority, "category": _code(case.category),
        "category_name": case.category.name if case.category_id and case.category else None,
        "request_type": _code(case.request_type), "district": _code(case.district), "street": _code(case.street),
        "community": _code(case.community), "grid": _code(case.grid), "owner_region": _code(case.owner_region),
        "lead_department": _code(case.lead_department), "handling_due_at": case.handling_due_at,
        "overdue": bool(case.closed_at is None and case.handling_due_at and case.handling_due_at < now
                        and not case.deferred),
        "extended": case.extended, "deferred": case.deferred, "reopen_count": case.reopen_count,
        "merged_into": case.merged_into.tracking_code if case.merged_into_id and case.merged_into else None,
        "created_at": case.created_at, "closed_at": case.closed_at,
    }


class CasePage(Schema):
    items: list[CaseOut]
    page: int
    page_size: int
    count: int | None = Field(None, description="the total, only when asked for with count=true")
    has_next: bool


def _page(qs: QuerySet[Case], page: int, page_size: int, count: bool) -> dict[str, Any]:
    result = paginate(qs.select_related(*LIST_RELATED), page, page_size, count=count)
    now = timezone.now()
    result["items"] = [case_out(c, now) for c in result["items"]]
    return result


# --- list ------------------------------------------------------------------------------------------


class CaseFilters(Schema):
    state: str | None = Field(None, description="one state or several, comma-separated")
    type: str | None = Field(None, description="case type (event, …)")
    category: str | None = Field(None, description="category code: that category and everything below it")
    region: str | None = Field(None, description="region code (district, street, community or grid)")
    department: str | None = Field(None, description="lead department code")
    overdue: bool | None = Field(None, description="open cases past their handling deadline (true) or not (false)")
    channel: Literal[tuple(Channel.values)] | None = None  # type: ignore[valid-type]
    created_from: Day | None = Field(None, description="created on or after this day (Asia/Shanghai)")
    created_to: Day | None = Field(None, description="created on or before this day")
    closed_from: Day | None = None
    closed_to: Day | None = None
    q: str | None = Field(None, max_length=100, description="words in the title")
    linked_to: str | None = Field(None, max_length=32, description="cases linked with this case (its tracking code "
                                  "or id), either way, any kind; links of cases merged into it count")
    page: int = Field(1, le=MAX_PAGE)
    page_size: int = 50
    count: bool = Field(False, description="also count the whole list (costs a COUNT on large lists)")


def _day_period(first: dt.date | None, last: dt.date | None, field: str) -> Period:
    try:
        return Period.of_days(first, last + dt.timedelta(days=1) if last else None)
    except ValueError:
        raise _invalid(field, "The period ends before it starts.") from None


def _region(code: str, field: str = "region") -> Region:
    region = region_by_code(code)
    if region is None:
        raise _invalid(field, f"No region {code}.")
    return region


def _linked_to(user: Any, ref: str) -> QuerySet[Case]:
    """The cases linked with the case ``ref`` names, if ``user`` may see it (a case they may not
    see is answered as one that does not exist: 422 naming the field)."""
    ref = ref.strip()
    seen = cases_visible(user=user)
    if re.fullmatch(r"[0-9]{1,9}", ref) and 1 <= int(ref) <= MAX_ID:
        found = seen.filter(pk=int(ref))
    elif re.fullmatch(r"[0-9A-Za-z]{1,32}", ref):
        found = seen.filter(tracking_code=ref.upper())
    else:
        raise _invalid("linked_to", "Name a case by its tracking code or id.")
    case = found.first()
    if case is None:
        raise _invalid("linked_to", f"No case {ref[:32]}.")
    return cases_linked_with(case=case)


def cases_filtered(qs: QuerySet[Case], f: CaseFilters, user: Any = None) -> QuerySet[Case]:
    if f.linked_to:
        qs = qs.filter(pk__in=_linked_to(user, f.linked_to).values("pk"))
    if f.state:
        qs = qs.filter(state__in=[s.strip() for s in f.state.split(",") if s.strip()])
    if f.type:
        qs = qs.filter(case_type=f.type)
    if f.category:
        cat = category_by_code(f.category)
        if cat is None:
            raise _invalid("category", f"No category {f.category}.")
        qs = qs.filter(Q(category=cat) | Q(category__path__startswith=cat.children_path))
    if f.region:
        region = _region(f.region)
        qs = qs.filter(**{region.level: region}) if region.level in LEVELS else qs.none()
    if f.department:
        dept = Department.objects.filter(code=f.department).first()
        if dept is None:
            raise _invalid("department", f"No department {f.department}.")
        qs = qs.filter(lead_department=dept)
    if f.overdue is not None:
        late = Q(closed_at__isnull=True, deferred=False, handling_due_at__lt=timezone.now())
        qs = qs.filter(late) if f.overdue else qs.exclude(late)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.created_from or f.created_to:
        p = _day_period(f.created_from, f.created_to, "created_to")
        qs = qs.filter(p.q("created_at"))
    if f.closed_from or f.closed_to:
        p = _day_period(f.closed_from, f.closed_to, "closed_to")
        qs = qs.filter(p.q("closed_at"))
    if f.q:
        qs = qs.filter(title__icontains=f.q.strip())
    return qs


@router.get("", response=CasePage, summary="Cases in my jurisdiction, newest first, with filters and pages")
def cases_list(request: HttpRequest, filters: Query[CaseFilters]) -> dict[str, Any]:
    """Without ``count=true`` the total is not counted (a COUNT over millions of cases costs more
    than the page): follow ``has_next``."""
    qs = cases_filtered(cases_visible(user=request.user), filters, request.user).order_by("-created_at", "-id")
    return _page(qs, filters.page, filters.page_size, filters.count)


class MineFilters(Schema):
    done: bool = Field(False, description="also the cases where my assignment is done")
    page: int = Field(1, le=MAX_PAGE)
    page_size: int = 50
    count: bool = Field(False, description="also count the whole list")


@router.get("/mine", response=CasePage, summary="My cases: those assigned to me as a person, soonest due first")
def cases_mine(request: HttpRequest, filters: Query[MineFilters]) -> dict[str, Any]:
    """The cases where I hold an open person assignment (waiting for me to accept it, accepted, or
    disputed by me and under review) — a mediator's, a leader's who owns the case (包案) — with
    ``done=true`` also those where my part is done. What I may do on each: ``GET /cases/{id}/actions``."""
    return _page(cases_assigned_to(user=request.user, done=filters.done), filters.page, filters.page_size,
                 filters.count)


# --- detail ------------------------------------------------------------------------------------------


class StepOut(Schema):
    at: dt.datetime
    actor: str = Field(..., description="who acted (staff view)")
    action: str
    from_state: str
    to_state: str
    note: str
    public: bool = Field(..., description="shown to the reporter")


class AssignmentOut(Schema):
    id: int
    department: str | None
    region: str | None
    person: int | None = Field(None, description="the account id of the person it is given to")
    person_name: str | None = Field(None, description="their display name")
    role: str
    state: str
    created_at: dt.datetime
    accepted_at: dt.datetime | None
    ended_at: dt.datetime | None


class TimerOut(Schema):
    kind: str
    state: str
    due_at: dt.datetime | None


class SupervisionOut(Schema):
    kind: str
    note: str
    opened_at: dt.datetime


class ApprovalOut(Schema):
    id: int
    kind: str
    state: str
    amount: float | None
    unit: str
    reason: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str


class LinkOut(Schema):
    relation: str = Field(..., description="read from this case: led_to, opened_from, transferred_to, "
                                            "transferred_from, reviewed_by, review_of, related_to")
    label: str
    visible: bool = Field(..., description="false: a case I may not see (nothing of it is given)")
    case_id: int | None
    tracking_code: str | None
    case_type: str | None
    title: str | None
    state_label: str | None
    via: str = Field("", description="the case merged into this one that holds the link ('' for this case)")
    note: str
    created_at: dt.datetime


def links_out(case: Case, user: Any) -> list[dict[str, Any]]:
    return [{"relation": link.relation, "label": link.label, "visible": link.visible,
             "case_id": link.case.pk if link.case else None,
             "tracking_code": link.case.tracking_code if link.case else None,
             "case_type": link.case.case_type if link.case else None,
             "title": link.case.title if link.case else None,
             "state_label": _state_label(link.case) if link.case else None,
             "via": link.via, "note": link.note, "created_at": link.created_at}
            for link in case_links(case=case, user=user)]


class CaseDetailOut(CaseOut):
    text: str
    address: str
    lon: float | None
    lat: float | None
    reporter_name: str = Field(..., description="masked")
    reporter_phone: str = Field(..., description="masked")
    anonymous: bool
    actions: list[str] = Field(..., description="what I may do on the case now (GET …/actions, less those a guard "
                                                "refuses)")
    assignments: list[AssignmentOut]
    timers: list[TimerOut]
    supervisions: list[SupervisionOut]
    approval_requests: list[ApprovalOut]
    links: list[LinkOut] = Field(..., description="links with other cases, both ways (GET …/links)")
    timeline: list[StepOut]


def _approval_out(r: ApprovalRequest) -> dict[str, Any]:
    return {"id": r.pk, "kind": r.kind, "state": r.state, "amount": r.amount, "unit": r.unit, "reason": r.reason,
            "requested_at": r.requested_at, "decided_at": r.decided_at, "decision_note": r.decision_note}


def _case(request: HttpRequest, case_id: int) -> Case:
    return case_get(user=request.user, pk=case_id)


def case_detail_out(case: Case, user: Any = None) -> dict[str, Any]:
    """The staff view of ``case``; ``actions`` are what ``user`` may do on it now (``case_actions``,
    without those a guard refuses)."""
    case = Case.objects.select_related(*LIST_RELATED).get(pk=case.pk)
    meta = case._meta
    masked = {f: meta.get_field(f).masked(case) for f in ("reporter_name", "reporter_phone")}  # type: ignore[union-attr]
    try:
        actions = [o.name for o in rules.case_actions(user, case) if not o.refused] if user is not None else []
    except LookupError:
        actions = []
    return {
        **case_out(case), "text": case.description, "address": case.address, "lon": case.lon, "lat": case.lat,
        **masked, "anonymous": case.anonymous, "actions": actions,
        "assignments": [{"id": a.pk, "department": _code(a.department), "region": _code(a.region),
                         "person": a.person_id, "person_name": str(a.person) if a.person_id else None,
                         "role": a.role, "state": a.state, "created_at": a.created_at, "accepted_at": a.accepted_at,
                         "ended_at": a.ended_at}
                        for a in case.assignments.select_related("department", "region", "person").order_by("id")],
        "timers": [{"kind": t.kind, "state": t.state, "due_at": t.due_at} for t in case_open_timers(case=case)],
        "supervisions": [{"kind": s.kind, "note": s.note, "opened_at": s.opened_at}
                         for s in case.supervisions.filter(closed_at__isnull=True).order_by("opened_at")],
        "approval_requests": [_approval_out(r) for r in case.approval_requests.order_by("requested_at", "id")],
        "links": links_out(case, user) if user is not None else [],
        "timeline": [{"at": t.at, "actor": t.actor_name, "action": t.action, "from_state": t.from_state,
                      "to_state": t.to_state, "note": t.note, "public": t.public} for t in case_timeline(case=case)],
    }


def case_public_out(case: Case) -> dict[str, Any]:
    """The detail as the reporter may read it (``cases.selectors.case_view_of``): what the public
    tracking page shows — the public steps without their authors or internal notes, and none of
    the units, clocks, supervision or requests."""
    out = case_detail_out(case)
    out.update(lead_department=None, owner_region=None, actions=[], assignments=[], timers=[], supervisions=[],
               approval_requests=[], links=[],
               timeline=[{"at": t.at, "actor": t.actor_name, "action": t.action, "from_state": t.from_state,
                          "to_state": t.to_state, "note": t.note, "public": t.public}
                         for t in case_public_timeline(case=case)])
    return out


@router.get("/{int:case_id}", response=CaseDetailOut,
            summary="One case with its assignments, clocks and timeline (404 outside my jurisdiction)")
def case_detail(request: HttpRequest, case_id: int) -> dict[str, Any]:
    """Staff read the whole case; a resident reading their own report gets its public view (the
    units, clocks, supervision and requests empty, the public steps only, without authors)."""
    case = _case(request, case_id)
    if case_view_of(user=request.user, case=case) == PUBLIC_VIEW:
        return case_public_out(case)
    return case_detail_out(case, request.user)


@router.get("/{int:case_id}/links", response=list[LinkOut],
            summary="The case's links with other cases, read from this case (both ways; via merged cases too)")
def case_links_list(request: HttpRequest, case_id: int) -> list[dict[str, Any]]:
    """Each link says how the other case relates to this one (``opened_from``, ``transferred_to``,
    …). A linked case I may not see is given without anything of it (``visible`` false). A resident
    reading their own report gets no links (the public view). Link cases with the action ``link``."""
    case = _case(request, case_id)
    if case_view_of(user=request.user, case=case) == PUBLIC_VIEW:
        return []
    return links_out(case, request.user)


# --- actions: the one way in ------------------------------------------------------------------------------


class InputOut(Schema):
    name: str
    kind: str = Field(..., description="text, photos, files, department, departments, region, choice, number, case, "
                                       "person")
    required: bool
    label: str
    choices: list[list[str]] = Field(..., description="[value, label] pairs: the targets I may name, or the options")


class ActionOfferOut(Schema):
    name: str
    label: str
    kind: Literal["transition", "generic"]
    inputs: list[InputOut]
    refused: str = Field("", description="not possible now: a guard's reason")
    public: bool = Field(False, description="the step is shown to the reporter")


@router.get("/{int:case_id}/actions", response=list[ActionOfferOut],
            summary="What I may do on this case now, with each action's inputs and targets")
def case_actions_list(request: HttpRequest, case_id: int) -> list[dict[str, Any]]:
    """The engine's ``case_actions``: the transitions of the case's type and the generic actions
    (merge, recall, supervise, chase, escalate, reopen, rate, request_extension, decide_extension,
    resume) this user may take now; those a guard refuses now carry the reason in ``refused``."""
    case = _case(request, case_id)
    return [{"name": o.name, "label": o.label, "kind": o.kind, "refused": o.refused, "public": o.public,
             "inputs": [{"name": i.name, "kind": i.kind, "required": i.required, "label": i.label,
                         "choices": [list(c) for c in i.choices]} for i in o.inputs]}
            for o in rules.case_actions(request.user, case)]


class UploadIn(Schema):
    name: str = ""
    content_base64: str = Field(..., description="the file, base64-encoded (photos: JPEG, PNG or WebP)")


class ActionIn(BaseModel):
    """Every action's input: the fields its ``inputs`` name (``GET …/actions``). A type's own typed
    fields (a whistle's ``kind``, a drill's ``hours``, …) are sent beside these, by their input's
    name; a field the action does not declare is refused (422 naming it). (A pydantic model, not a
    ninja Schema: ninja's Schema drops fields it does not list.)"""

    model_config = ConfigDict(extra="allow")

    note: str = ""
    reason: str = ""
    department: str | None = Field(None, description="lead department code (dispatch, transfer)")
    co_departments: list[str] = Field([], description="co-handling department codes (协办)")
    departments: list[str] = Field([], description="departments an action summons (吹哨)")
    region: str | None = Field(None, description="a centre's region code, when a centre handles it itself")
    satisfaction: Literal["satisfied", "basic", "unsatisfied"] | None = None
    photos: list[UploadIn] = []
    files: list[UploadIn] = []
    duplicates: list[Annotated[int, Field(ge=1, le=MAX_ID)] | str] = Field(
        [], description="merge: the duplicates' ids or tracking codes")
    kind: str | None = Field(None, description="request_extension: extension or deferral; a type's own kind")
    amount: float | None = Field(None, gt=0, le=10_000, description="request_extension: extra time")
    unit: str | None = None
    request: int | None = Field(None, ge=1, le=MAX_ID, description="decide_extension: the request's id")
    decision: Literal["approve", "reject"] | None = None
    valid: bool | None = Field(None, description="rate: a valid follow-up (the call reached the reporter)")
    contacted: bool | None = None
    resolved: bool | None = None


def uploads(items: list[UploadIn], field: str) -> list[Upload]:
    out = []
    for i, p in enumerate(items):
        try:
            out.append(Upload(p.name, base64.b64decode(p.content_base64, validate=True)))
        except (binascii.Error, ValueError):
            raise ApiError(422, "invalid", "The request has invalid fields.",
                           {f"{field}.{i}": ["Not valid base64."]}) from None
    return out


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _sent(value: Any) -> bool:
    return value not in (None, "", [], {})


_UPLOADS = TypeAdapter(list[UploadIn])


def action_data(payload: ActionIn, inputs: Sequence[registry.Input] | None = None) -> dict[str, Any]:
    """The body as the engine's façade reads it (absent or empty fields left out; uploads apart:
    :func:`action_uploads`). With the action's declared ``inputs``: a field sent that the action
    does not take is 422 naming it."""
    sent = {k: getattr(payload, k) for k in payload.model_fields_set}
    sent.update(payload.model_extra or {})
    kinds = {i.name: i.kind for i in inputs} if inputs is not None else None
    if kinds is not None:
        for name, value in sent.items():
            if name not in kinds and _sent(value):
                raise _invalid(name, "This action takes no such field.")
    data = {k: v for k, v in sent.items() if k not in ("photos", "files") and _sent(v)
            and (kinds is None or kinds.get(k) not in ("photos", "files"))}
    for name in ("valid", "contacted", "resolved"):
        if isinstance(data.get(name), bool):
            data[name] = _yes_no(data[name])
    if isinstance(data.get("request"), int):
        data["request"] = str(data["request"])
    if isinstance(data.get("amount"), int | float):
        data["amount"] = str(data["amount"])
    return data


def action_uploads(payload: ActionIn, inputs: Sequence[registry.Input]) -> dict[str, list[Upload]]:
    """The uploads of each input of kind photos or files, by its name (``[{name, content_base64}]``
    each; 422 naming the field for anything else)."""
    out: dict[str, list[Upload]] = {}
    for inp in inputs:
        if inp.kind not in ("photos", "files"):
            continue
        raw = getattr(payload, inp.name, None) if inp.name in ("photos", "files") else \
            (payload.model_extra or {}).get(inp.name)
        if not raw:
            continue
        try:
            items = _UPLOADS.validate_python([i.model_dump() if isinstance(i, UploadIn) else i for i in raw])
        except ValidationError:
            raise _invalid(inp.name, "Send a list of {name, content_base64} objects.") from None
        out[inp.name] = uploads(items, inp.name)
    return out


def act(request: HttpRequest, case: Case, action: str, data: dict[str, Any],
        photos: Sequence[Upload] = (), files: Sequence[Upload] = ()) -> Case:
    """The one way in: ``rules.case_act`` (its refusals map to HTTP in core.api)."""
    return rules.case_act(actor=request.user, case=case, action=action, data=data, photos=photos, files=files)


@router.post("/{int:case_id}/actions/{action}", response={200: CaseOut, 409: ErrorOut},
             summary="Perform an action: a transition of the case's type or a generic action")
def case_act(request: HttpRequest, case_id: int, action: str, payload: ActionIn) -> dict[str, Any]:
    """``action`` is one of ``GET …/actions`` (a transition such as register, dispatch, accept,
    report_back — photos as base64 — or merge, recall, supervise, chase, escalate, reopen, rate,
    request_extension, decide_extension, resume); its inputs are the body's fields. 404 outside my
    jurisdiction or for an action the case's type does not have, 403 for a role that may not, 422
    naming the field for bad or missing input or a state or guard that refuses it, 404 for a target
    (department, region, case) I may not name, 409 when somebody acted first."""
    case = _case(request, case_id)
    inputs = rules.action_inputs(request.user, case, action)  # 404 / 403 before the body is read
    done = rules.case_act(actor=request.user, case=case, action=action, data=action_data(payload, inputs),
                          photos=action_uploads(payload, inputs))
    return _refreshed(done)


def _refreshed(case: Case) -> dict[str, Any]:
    return case_out(Case.objects.select_related(*LIST_RELATED).get(pk=case.pk))


# --- the generic actions' own addresses: thin aliases of the one way in ----------------------------------


class NoteIn(Schema):
    note: str = ""


class MergeIn(Schema):
    duplicates: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        ..., min_length=1, description="ids of the duplicates merged into this case")
    note: str = ""


class SuperviseIn(Schema):
    kind: Literal["chase", "supervise"] = Field("chase", description="催办 (chase) or 督办 (supervise)")
    note: str = ""


class ReopenIn(Schema):
    reason: str


class RateIn(Schema):
    satisfaction: Literal["satisfied", "basic", "unsatisfied"]
    contacted: bool = True
    resolved: bool = True
    comment: str = ""
    valid: bool = Field(True, description="a valid follow-up (counted in the three rates)")


class ApprovalIn(Schema):
    kind: Literal["extension", "deferral"]
    reason: str
    amount: float | None = Field(None, gt=0, le=10_000,  # the engine checks its own, smaller maximum
                                 description="extra time, in the handling clock's unit (extension)")
    unit: str = ""


class DecisionIn(Schema):
    approve: bool
    note: str = ""


@router.post("/{int:case_id}/merge", response={200: CaseOut, 409: ErrorOut},
             summary="Merge duplicates into this case (并单; actions/merge)")
def case_merge(request: HttpRequest, case_id: int, payload: MergeIn) -> dict[str, Any]:
    case = _case(request, case_id)
    return _refreshed(act(request, case, "merge", {"duplicates": payload.duplicates, "note": payload.note}))


@router.post("/{int:case_id}/recall", response={200: CaseOut, 409: ErrorOut},
             summary="Take back a dispatch nobody has accepted yet (撤回; actions/recall)")
def case_recall(request: HttpRequest, case_id: int, payload: NoteIn) -> dict[str, Any]:
    return _refreshed(act(request, _case(request, case_id), "recall", {"note": payload.note}))


@router.post("/{int:case_id}/supervise", response={201: SupervisionOut, 409: ErrorOut},
             summary="Chase or supervise the handling unit (催办/督办; actions/chase, actions/supervise)")
def case_supervise(request: HttpRequest, case_id: int, payload: SuperviseIn) -> Status[dict[str, Any]]:
    case = act(request, _case(request, case_id), payload.kind, {"note": payload.note})
    item = case.supervisions.filter(kind=payload.kind, closed_at__isnull=True).order_by("-opened_at").first()
    assert item is not None
    return Status(201, {"kind": item.kind, "note": item.note, "opened_at": item.opened_at})


@router.post("/{int:case_id}/escalate", response={200: CaseOut, 409: ErrorOut},
             summary="Move the case's ownership one level up (提级; actions/escalate)")
def case_escalate(request: HttpRequest, case_id: int, payload: NoteIn) -> dict[str, Any]:
    return _refreshed(act(request, _case(request, case_id), "escalate", {"note": payload.note}))


@router.post("/{int:case_id}/reopen", response={200: CaseOut, 409: ErrorOut},
             summary="Send a closed case back to work (返工; actions/reopen)")
def case_reopen(request: HttpRequest, case_id: int, payload: ReopenIn) -> dict[str, Any]:
    return _refreshed(act(request, _case(request, case_id), "reopen", {"reason": payload.reason}))


class RatingOut(Schema):
    satisfaction: str
    contacted: bool
    resolved: bool
    valid: bool
    at: dt.datetime


@router.post("/{int:case_id}/rate", response={201: RatingOut, 409: ErrorOut},
             summary="Record the follow-up call and the rating (回访评价; actions/rate)")
def case_rate(request: HttpRequest, case_id: int, payload: RateIn) -> Status[dict[str, Any]]:
    case = act(request, _case(request, case_id), "rate", {
        "satisfaction": payload.satisfaction, "note": payload.comment, "valid": _yes_no(payload.valid),
        "contacted": _yes_no(payload.contacted), "resolved": _yes_no(payload.resolved)})
    r = case.ratings.order_by("-id").first()
    assert r is not None
    return Status(201, {"satisfaction": r.satisfaction, "contacted": r.contacted, "resolved": r.resolved,
                        "valid": r.valid, "at": r.at})


@router.post("/{int:case_id}/requests", response={201: ApprovalOut, 409: ErrorOut},
             summary="Ask for an extension (延期) or a deferral (缓办) (actions/request_extension)")
def case_request(request: HttpRequest, case_id: int, payload: ApprovalIn) -> Status[dict[str, Any]]:
    data: dict[str, Any] = {"kind": payload.kind, "reason": payload.reason, "unit": payload.unit}
    if payload.amount is not None:
        data["amount"] = str(payload.amount)
    case = act(request, _case(request, case_id), "request_extension", data)
    req = case.approval_requests.filter(kind=payload.kind).order_by("-id").first()
    assert req is not None
    return Status(201, _approval_out(req))


@router.post("/{int:case_id}/requests/{int:request_id}/decision", response={200: ApprovalOut, 409: ErrorOut},
             summary="Approve or reject an extension or deferral (actions/decide_extension)")
def case_decide(request: HttpRequest, case_id: int, request_id: int, payload: DecisionIn) -> dict[str, Any]:
    case = _case(request, case_id)
    if not ApprovalRequest.objects.filter(pk=request_id, case=case).exists():
        raise ApiError(404, "not_found", "Not found.")
    act(request, case, "decide_extension", {"request": str(request_id), "note": payload.note,
                                            "decision": "approve" if payload.approve else "reject"})
    return _approval_out(ApprovalRequest.objects.get(pk=request_id))


@router.post("/{int:case_id}/resume", response={200: CaseOut, 409: ErrorOut},
             summary="End a deferral: the clocks run again (actions/resume)")
def case_resume(request: HttpRequest, case_id: int, payload: NoteIn) -> dict[str, Any]:
    return _refreshed(act(request, _case(request, case_id), "resume", {"note": payload.note}))


# --- documents (案件文书) ---------------------------------------------------------------------------------


class DeliveryOut(Schema):
    id: int
    party: str = Field(..., description="the party's name, masked")
    party_id: int | None
    method: Literal["in_person", "post", "sms", "online"]
    delivered_at: dt.datetime
    recorded_by: str | None
    recorded_at: dt.datetime
    proof_url: str | None = Field(None, description="the proof of delivery (a receipt), when one was filed")


class VersionOut(Schema):
    number: int
    source: Literal["uploaded", "generated"]
    name: str
    content_type: str
    size: int
    sha256: str
    template: str = Field("", description="the template it was generated from (name)")
    template_version: int | None = None
    created_by: str | None
    created_at: dt.datetime
    url: str | None = Field(None, description="download (the Word file or the upload)")
    pdf_url: str | None = Field(None, description="download its PDF (generated documents)")
    deliveries: list[DeliveryOut]


class DocumentOut(Schema):
    id: int
    kind: Literal["work_order", "notice", "agreement", "decision", "other"]
    title: str
    current_version: int
    created_at: dt.datetime
    versions: list[VersionOut] = Field(..., description="newest first")


def documents_out(case: Case, *, public: bool = False) -> list[dict[str, Any]]:
    """The case's documents; ``public``: only the PDFs of the kinds the type declares public, without
    staff names or deliveries (what the reporter may read)."""
    base = f"/api/v1/cases/{case.pk}/documents"
    kinds = registry.of(case).public_documents
    out = []
    for d in case_documents(case=case):
        if public and d.kind not in kinds:
            continue
        versions = []
        for v in d.versions.all():
            if public and not v.pdf_path:
                continue
            deliveries = [] if public else [
                {"id": x.pk, "party": Delivery._meta.get_field("party_name").masked(x),  # type: ignore[union-attr]
                 "party_id": x.party_id, "method": x.method, "delivered_at": x.delivered_at,
                 "recorded_by": str(x.recorded_by) if x.recorded_by_id else None, "recorded_at": x.recorded_at,
                 "proof_url": f"/api/v1/cases/{case.pk}/deliveries/{x.pk}/proof" if x.proof_path else None}
                for x in v.deliveries.all()]
            versions.append({
                "number": v.number, "source": v.source, "name": v.name, "content_type": v.content_type,
                "size": v.size, "sha256": v.sha256, "template": v.template_name, "template_version": v.template_version,
                "created_by": None if public or not v.created_by_id else str(v.created_by), "created_at": v.created_at,
                "url": None if public else f"{base}/{d.pk}/versions/{v.number}",
                "pdf_url": f"{base}/{d.pk}/versions/{v.number}?format=pdf" if v.pdf_path else None,
                "deliveries": deliveries})
        out.append({"id": d.pk, "kind": d.kind, "title": d.title, "current_version": d.current_version,
                    "created_at": d.created_at, "versions": versions})
    return out


@router.get("/{int:case_id}/documents", response=list[DocumentOut],
            summary="The case's documents with their versions and deliveries (404 outside my jurisdiction)")
def case_documents_list(request: HttpRequest, case_id: int) -> list[dict[str, Any]]:
    """Uploaded files and documents generated from templates, each with its versions (newest first)
    and, for each version, its deliveries (送达). Made through the actions ``upload_document``,
    ``generate_document`` and ``record_delivery`` (``POST …/actions/{action}``). A resident reading
    their own case sees only the PDFs of the kinds its type makes public."""
    case = _case(request, case_id)
    return documents_out(case, public=case_view_of(user=request.user, case=case) == PUBLIC_VIEW)


def _download(f: DocumentFile) -> FileResponse:
    response = FileResponse(f.path.open("rb"), as_attachment=True, filename=f.name, content_type=f.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


@router.get("/{int:case_id}/documents/{int:document_id}/versions/{int:number}",
            summary="Download a version of a document (format=pdf: its PDF); 404 unless I may see the case",
            response={200: None})
def case_document_download(request: HttpRequest, case_id: int, document_id: int, number: int,
                           format: Literal["", "pdf"] = "") -> FileResponse:
    """The file as stored (the Word file of a generated document, the upload as sent), or with
    ``format=pdf`` the PDF of a generated one, as an attachment. Only through the case's scoping: a
    case I may not see, a document of another case or a version that is not there is 404; a resident
    reading their own case gets only the PDF of a kind its type makes public."""
    case = _case(request, case_id)
    return _download(document_file(user=request.user, case=case, document_id=document_id, number=number,
                                   pdf=format == "pdf"))


@router.get("/{int:case_id}/deliveries/{int:delivery_id}/proof", response={200: None},
            summary="Download the proof filed with a delivery (404 unless I may see the case)")
def case_delivery_proof(request: HttpRequest, case_id: int, delivery_id: int) -> FileResponse:
    case = _case(request, case_id)
    return _download(delivery_proof_file(user=request.user, case=case, delivery_id=delivery_id))


# --- metrics ------------------------------------------------------------------------------------------


class MetricFilters(Schema):
    start: Day | None = Field(None, description="first day of the period (Asia/Shanghai); open when absent")
    end: Day | None = Field(None, description="last day of the period (included)")
    region: str | None = Field(None, description="a region code in my jurisdiction")
    department: str | None = Field(None, description="a lead department code I can see")
    case_type: str | None = Field(None, description="a case type's code (event, …)")


class RateOut(Schema):
    metric: str
    label: str
    numerator: float
    denominator: int
    value: float | None = Field(None, description="numerator ÷ denominator, 0…1; null when nothing to count")
    percent: float | None
    cases: str = Field(..., description="the API address listing the cases behind the numerator")
    denominator_cases: str


class ScoreOut(Schema):
    value: float | None
    grade: str | None
    weights: list[float]


class GradeOut(Schema):
    value: float | None
    grade: str | None
    weights: list[float]  # the three rates' composite score, 结案率, 按期结案率


class MetricsOut(Schema):
    start: dt.date | None
    end: dt.date | None
    region: str | None
    department: str | None
    rates: list[RateOut]
    score: ScoreOut
    grade: GradeOut


class MetricsRowOut(Schema):
    code: str
    label: str
    rates: list[RateOut]
    score: ScoreOut
    grade: GradeOut


def _selection(request: HttpRequest, f: MetricFilters) -> dict[str, Any]:
    if f.case_type:
        try:
            registry.get(f.case_type)
        except LookupError:
            raise _invalid("case_type", f"No case type {f.case_type!r}.") from None
    period = _day_period(f.start, f.end, "end")
    region = region_get(request.user, f.region) if f.region else None  # 404 outside my jurisdiction
    dept = department_get(request.user, f.department) if f.department else None
    return {"period": period, "user": request.user, "region": region, "department": dept,
            "case_type": f.case_type or None}


def _rates(m: Metrics, f: MetricFilters, extra: dict[str, str] | None = None) -> dict[str, Any]:
    base = {k: v for k, v in {"start": f.start, "end": f.end, "region": f.region, "department": f.department,
                               "case_type": f.case_type, **(extra or {})}.items() if v}
    rates = []
    for name in METRICS:
        r = getattr(m, name)
        link = f"/api/v1/metrics/{name}/cases?" + urlencode({**base, "part": "numerator"})
        rates.append({"metric": name, "label": r.label, "numerator": r.numerator, "denominator": r.denominator,
                      "value": r.value, "percent": r.percent, "cases": link,
                      "denominator_cases": link.replace("part=numerator", "part=denominator")})
    return {"rates": rates, "score": {"value": m.score.value, "grade": m.score.grade,
                                      "weights": list(m.score.weights)},
            "grade": {"value": m.grade.value, "grade": m.grade.grade, "weights": list(m.grade.weights)}}


@metrics_router.get("", response=MetricsOut,
                    summary="The assessment metrics (结案率 … 满意率, score and grade) for a period and jurisdiction")
def metrics(request: HttpRequest, filters: Query[MetricFilters]) -> dict[str, Any]:
    """Each rate links to the cases behind its numerator and denominator (``cases``)."""
    m = metrics_for(**_selection(request, filters))
    return {"start": filters.start, "end": filters.end, "region": filters.region,
            "department": filters.department, **_rates(m, filters)}


class GroupFilters(MetricFilters):
    by: Literal["department", "district", "street", "community", "grid"] = "street"


@metrics_router.get("/table", response=list[MetricsRowOut],
                    summary="The metrics per lead department or per region of a level (a dashboard table)")
def metrics_table(request: HttpRequest, filters: Query[GroupFilters]) -> list[dict[str, Any]]:
    sel = _selection(request, filters)
    if filters.by == "department":
        sel.pop("department")
        rows = metrics_by_department(**sel)
        key = "department"
    else:
        rows = metrics_by_region(level=filters.by, **sel)
        key = "region"
    return [{"code": r.code, "label": r.label, **_rates(r.metrics, filters, {key: r.code} if r.code else None)}
            for r in rows]


class MetricCasesFilters(MetricFilters):
    part: Literal["numerator", "denominator"] = "numerator"
    page: int = Field(1, le=MAX_PAGE)
    page_size: int = 50
    count: bool = False


@metrics_router.get("/{metric}/cases", response=CasePage, summary="The cases behind one number of the metrics")
def metric_cases_list(request: HttpRequest, metric: str, filters: Query[MetricCasesFilters]) -> dict[str, Any]:
    """For the three rates (response, resolution, satisfaction) a case followed up twice is one row
    here and two in the number."""
    if metric not in METRICS:
        raise ApiError(404, "not_found", f"No metric {metric!r} (one of {', '.join(METRICS)}).")
    qs = metric_cases(metric, part=filters.part, **_selection(request, filters))
    ordering = ("-created_at", "-id") if metric in CASE_METRICS else ("-id",)
    return _page(qs.order_by(*ordering), filters.page, filters.page_size, filters.count)



# --- parties (当事人): masked, revealed with a purpose, searched by POST ------------------------------------

SEARCH_HITS = 100  # parties listed by one search (the audit row counts them all)
PartyKind = Literal["reporter", "applicant", "respondent", "third_party", "representative", "petitioner"]
PartyField = Literal["name", "id_number", "phone", "address"]


class PartyOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str = Field(..., description="masked")
    id_number: str = Field(..., description="masked")
    phone: str = Field(..., description="masked")
    address: str = Field(..., description="masked")
    revealable: list[str] = Field(..., description="the fields I may reveal (with a purpose, audited)")


class PartiesOut(Schema):
    parties: list[PartyOut]
    kinds: list[list[str]] = Field(..., description="[kind, label] of the kinds a new party may be")
    can_edit: bool


class PartyIn(Schema):
    model_config = ConfigDict(extra="forbid")
    kind: PartyKind
    name: str = Field("", max_length=200)
    id_number: str = Field("", max_length=40)
    phone: str = Field("", max_length=40)
    address: str = Field("", max_length=400)


class PartyEditIn(Schema):
    model_config = ConfigDict(extra="forbid")
    kind: PartyKind | None = None
    name: str | None = Field(None, max_length=200)
    id_number: str | None = Field(None, max_length=40)
    phone: str | None = Field(None, max_length=40)
    address: str | None = Field(None, max_length=400)


class RevealIn(Schema):
    model_config = ConfigDict(extra="forbid")
    field: PartyField
    purpose: str = Field("", max_length=1000, description="why the full value is needed (at least 4 characters)")


class RevealOut(Schema):
    field: str
    value: str


class PartySearchIn(Schema):
    model_config = ConfigDict(extra="forbid")
    value: str = Field(..., max_length=100, description="a full name, identity number or phone (exact match)")
    field: Literal["name", "id_number", "phone", "any"] = "any"


class PartyHitOut(Schema):
    case_id: int
    tracking_code: str
    party: PartyOut


def _party_out(view: rules.PartyView) -> dict[str, Any]:
    return {"id": view.id, "kind": view.kind, "kind_label": view.kind_label, "name": view.name,
            "id_number": view.id_number, "phone": view.phone, "address": view.address,
            "revealable": list(view.revealable)}


def _party_view(request: HttpRequest, case: Case, party_id: int) -> dict[str, Any]:
    view = next(p for p in rules.case_parties(request.user, case).parties if p.id == party_id)
    return _party_out(view)


@router.get("/{int:case_id}/parties", response=PartiesOut,
            summary="The parties of a case (当事人), masked, with what I may reveal")
def case_parties_list(request: HttpRequest, case_id: int) -> dict[str, Any]:
    found = rules.case_parties(request.user, _case(request, case_id))
    return {"parties": [_party_out(p) for p in found.parties], "kinds": [list(k) for k in found.kinds],
            "can_edit": found.can_edit}


@router.post("/{int:case_id}/parties", response={201: PartyOut},
             summary="Add a party (a kind the case's type uses; the roles its declaration names)")
def case_party_add(request: HttpRequest, case_id: int, payload: PartyIn) -> Status[dict[str, Any]]:
    case = _case(request, case_id)
    party = services.party_add(actor=request.user, case=case, kind=payload.kind, name=payload.name,
                               id_number=payload.id_number, phone=payload.phone, address=payload.address)
    return Status(201, _party_view(request, case, party.pk))


@router.post("/{int:case_id}/parties/{int:party_id}", response=PartyOut,
             summary="Correct a party's values (fields not sent stay)")
def case_party_edit(request: HttpRequest, case_id: int, party_id: int, payload: PartyEditIn) -> dict[str, Any]:
    party = party_get(user=request.user, case_id=case_id, party_id=party_id)
    services.party_update(actor=request.user, party=party, **payload.model_dump(exclude_none=True))
    return _party_view(request, party.case, party.pk)


@router.post("/{int:case_id}/parties/{int:party_id}/reveal", response=RevealOut,
             summary="The full value of one field, with a purpose (audited; the roles the type declares)")
def case_party_reveal(request: HttpRequest, case_id: int, party_id: int, payload: RevealIn) -> dict[str, Any]:
    party = party_get(user=request.user, case_id=case_id, party_id=party_id)
    value = services.party_reveal(actor=request.user, party=party, field_name=payload.field,
                                  purpose=payload.purpose)
    return {"field": payload.field, "value": value}


@router.post("/parties/search", response=list[PartyHitOut],
             summary="Parties of the cases I may see with exactly this name, identity number or phone (audited; "
                   "the first 100)")
def parties_search(request: HttpRequest, payload: PartySearchIn) -> list[dict[str, Any]]:
    """A look-up by personal data is a POST (the value stays out of addresses and logs) and writes
    one audit row (``privacy.search``, the value masked) whatever it finds."""
    fields = PARTY_SEARCH_FIELDS if payload.field == "any" else (payload.field,)
    found = services.parties_search(actor=request.user, value=payload.value, fields=fields)[:SEARCH_HITS]
    out = []
    views: dict[int, dict[int, rules.PartyView]] = {}
    for party in found:
        if party.case_id not in views:
            views[party.case_id] = {p.id: p for p in rules.case_parties(request.user, party.case).parties}
        out.append({"case_id": party.case_id, "tracking_code": party.case.tracking_code,
                    "party": _party_out(views[party.case_id][party.pk])})
    return out
