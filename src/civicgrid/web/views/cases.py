"""A case's page (detail with the timeline and the actions this person may take), drawn for any
registered case type from its declaration and ``rules.case_actions``; every action one POST through
the engine's one way in (``rules.case_act``), the case list (also the target of every dashboard
number), and the case's photos (served only to those who may see the case)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import InvalidPage
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from civicgrid.cases import registry
from civicgrid.cases.errors import TransitionRefused
from civicgrid.cases.models import ApprovalRequest, Case
from civicgrid.cases.rules import GENERIC_INPUTS, GENERIC_LABELS, ActionOffer, case_actions, case_parties
from civicgrid.cases.rules import case_act as case_act_rule
from civicgrid.cases.selectors import (
    PUBLIC_VIEW,
    DocumentFile,
    case_documents,
    case_get,
    case_links,
    case_open_timers,
    case_timeline,
    case_view_of,
    cases_linked_with,
    cases_visible,
    delivery_proof_file,
    document_file,
    party_get,
)
from civicgrid.cases.services import actor_roles, party_add, party_reveal
from civicgrid.events import services as ev
from civicgrid.events.models import WhistleSummons
from civicgrid.events.photos import PhotoUpload, media_root
from civicgrid.events.selectors import event_detail, whistles_of
from civicgrid.events.workflow import EVENT
from civicgrid.geo.models import Level
from civicgrid.web.helpers import (
    ActionFailed,
    as_int,
    flat_errors,
    remember,
    replayed,
    run,
    uploaded_photos,
)
from civicgrid.web.selectors import (
    CENTRE_ROLES,
    QUEUES,
    case_public,
    open_cases,
    queue_counts,
    row_actions,
    state_labels,
    user_departments,
    user_roles,
)


def main_action(case: Case, offers: list[ActionOffer]) -> str:
    """The offered action whose form opens at once: the next step of the case's loop, read from its
    type's declaration as the first transition this person may take now that moves the case on and
    asks for no reason (a rejection, a dispute, a send-back and a whistle each ask for one); else a
    lone offer."""
    transitions = registry.of(case).transitions
    for o in offers:
        if o.kind == "transition" and not o.refused and not any(i.name == "reason" for i in o.inputs):
            t = transitions.get(o.name)
            if t is not None and t.target is not None:
                return o.name
    doable = [o for o in offers if not o.refused]
    return doable[0].name if len(doable) == 1 else ""


def _summons_step(request: HttpRequest, case: Case) -> Callable[[], Any]:
    """The event's whistle-summons panel: a summoned department signs, reports on site and answers;
    the street scores the answer (the events services decide who may)."""
    user, p = request.user, request.POST
    note = p.get("note", "").strip()
    summons = WhistleSummons.objects.filter(pk=as_int(p.get("summons"), 0) or 0, whistle__case=case).first()
    step = p.get("step", "")
    if summons is None or step not in SUMMONS_LABELS:
        raise Http404
    return {
        "ack": lambda: ev.whistle_acknowledge(actor=user, summons=summons, note=note),
        "arrive": lambda: ev.whistle_arrive(actor=user, summons=summons, note=note),
        "respond": lambda: ev.whistle_respond(actor=user, summons=summons, response=note),
        "score": lambda: ev.whistle_score(actor=user, summons=summons, score=as_int(p.get("score"), -1) or 0,
                                          note=note),
    }[step]


def uploads_of(request: HttpRequest, case: Case,
               action: str) -> tuple[dict[str, list[PhotoUpload]], dict[str, list[PhotoUpload]]]:
    """The action's uploads as ``case_act`` takes them: (photos, files), each a mapping of input name
    to the files sent under that name (the form names each field after its input). The inputs are the
    declaration's, as ``case_actions`` offers them (same names and kinds), read without computing the
    offers again. An upload under any other name is passed on under its own name, for the engine to
    refuse (never dropped in silence)."""
    ctype = registry.of(case)
    t = ctype.transitions.get(action)
    inputs = t.inputs if t is not None else GENERIC_INPUTS.get(action, ())
    photos: dict[str, list[PhotoUpload]] = {}
    files: dict[str, list[PhotoUpload]] = {}
    kinds = {spec.name: spec.kind for spec in inputs if spec.kind in ("photos", "files")}
    for name in request.FILES:
        uploads = uploaded_photos(request, name)
        if uploads:
            (photos if kinds.get(name) == "photos" else files)[name] = uploads
    return photos, files


def _perform(request: HttpRequest, case: Case, action: str) -> str:
    """Carry out one action through the engine's one way in (``rules.case_act``), or a step of an
    event's summons panel; answers the message shown afterwards."""
    if action == "summons" and case.case_type == EVENT:
        run(_summons_step(request, case))
    else:
        photos, files = uploads_of(request, case, action)
        run(lambda: case_act_rule(actor=request.user, case=case, action=action, data=request.POST,
                                  photos=photos, files=files))
    return _("Done: %(action)s.") % {"action": done_label(case, action, request.POST)}


# The steps of a whistle-summons (an event's own panel), each its own action for the person doing it.
SUMMONS_LABELS: dict[str, Any] = {
    "ack": gettext_lazy("sign for the summons"), "arrive": gettext_lazy("report on site"),
    "respond": gettext_lazy("answer the summons"), "score": gettext_lazy("score the department's response"),
}


def done_label(case: Case, action: str, data: Any) -> str:
    """The name of what was just done (or tried): the action's label in the case's type (or the
    engine's generic action's); a summons has four steps, each named for itself."""
    if action == "summons" and data.get("step") in SUMMONS_LABELS:
        return str(SUMMONS_LABELS[data["step"]])
    t = registry.of(case).transitions.get(action)
    if t is not None:
        return str(t.label or t.name)
    return str(GENERIC_LABELS.get(action, action))


def _row_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    """What a queue row redrawn after an action needs besides the case: its queue (which buttons it
    shows) and, for the workbench, every queue's count, sent along to replace the badges (htmx
    out-of-band swap) so they never show the count from before the action."""
    queue = request.POST.get("queue", "")
    ctx: dict[str, Any] = {"queue": queue if queue in QUEUES else "", "now": timezone.now(),
                           "row_actions": row_actions(user=request.user, cases=[case])}
    if user_roles(request.user) & CENTRE_ROLES:
        ctx["oob_counts"] = queue_counts(user=request.user, now=ctx["now"])
    return ctx


def _safe_next(request: HttpRequest, default: str) -> str:
    nxt = request.POST.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}, require_https=request.is_secure()):
        return nxt
    return default


def case_context(request: HttpRequest, case: Case, errors: dict[str, list[str]] | None = None,
                 failed: str = "") -> dict[str, Any]:
    """The case page: the case, its timeline, clocks, units and pending requests; the actions the
    engine offers this person now (``rules.case_actions``), each drawn as a form from its inputs;
    and, for an event, the event's own panels (its report's detail and photos, its whistle-summons)."""
    user = request.user
    offers = case_actions(user, case)
    fields = case._meta
    ctx: dict[str, Any] = {
        "case": case, "timeline": case_timeline(case=case), "timers": list(case_open_timers(case=case)),
        "assignments": case.assignments.select_related("department", "region", "person").order_by("id"),
        "approvals": case.approval_requests.filter(state=ApprovalRequest.State.PENDING),
        "links": case_links(case=case, user=user),
        "actions": offers, "main_action": main_action(case, offers),
        "errors": errors or {}, "failed": failed, "values": request.POST if errors else {},
        "reporter_name": fields.get_field("reporter_name").masked(case),
        "reporter_phone": fields.get_field("reporter_phone").masked(case),
        # a refused action is named in words, with every reason given (some belong to no field shown)
        "failed_label": done_label(case, failed, request.POST) if failed else "",
        "failed_messages": [m for ms in (errors or {}).values() for m in ms],
        "parties": case_parties(user, case),
    }
    ctx["documents"] = list(case_documents(case=case))
    if any(o.name == "merge" for o in offers):
        from civicgrid.dispatch.selectors import duplicate_candidates_for_case

        ctx["candidates"] = duplicate_candidates_for_case(case, user=user, limit=5)
    if case.case_type == EVENT:
        ctx.update(event_panels(user, case))
    elif case.case_type == "dispute":
        from civicgrid.disputes.selectors import dispute_panel

        ctx.update(dispute_panel(case))  # the dispute's detail, risk reasons and routing offer
    return ctx


def event_panels(user: Any, case: Case) -> dict[str, Any]:
    """An event's own panels: the report's detail (routing, photos) and its whistle-summons, where a
    summoned department answers and the street scores the answer."""
    whistles = whistles_of(case=case)
    ctx: dict[str, Any] = {"detail": event_detail(case=case), "whistles": whistles,
                           "my_department_ids": set(), "can_score": False}
    if whistles:
        ctx["my_department_ids"] = set(user_departments(user=user).values_list("pk", flat=True))
        # who may score is who may blow the whistle (the street centre), as the engine resolves roles
        ctx["can_score"] = actor_roles(user, case).may(registry.of(case).transition("whistle").roles)
    return ctx


@login_required
def case_detail(request: HttpRequest, code: str) -> HttpResponse:
    case = case_get(user=request.user, tracking_code=code)
    if case_view_of(user=request.user, case=case) == PUBLIC_VIEW:
        # a resident reading their own report sees what the public sees: the tracking page
        return redirect("web:track_code", code=case.tracking_code)
    return render(request, "web/case_detail.html", case_context(request, case))


@login_required
@require_POST
def case_act(request: HttpRequest, code: str, action: str) -> HttpResponse:
    """One action on a case. Plain form: back to the case page (or ``next``) with a message, or the
    page again with the errors next to their fields. htmx (``row=1``): the queue row, redrawn."""
    case = case_get(user=request.user, tracking_code=code)
    done = replayed(request)
    if done:
        return redirect(done)
    htmx_row = bool(getattr(request, "htmx", False)) and request.POST.get("row") == "1"
    try:
        message = _perform(request, case, action)
    except ActionFailed as exc:
        if htmx_row:
            case = case_get(user=request.user, tracking_code=code)
            return render(request, "web/partials/queue_row.html",
                          {"c": case, "row_error": flat_errors(exc.errors), **_row_context(request, case)}, status=200)
        case = case_get(user=request.user, tracking_code=code)
        if case_view_of(user=request.user, case=case) == PUBLIC_VIEW:
            return _refused_on_tracking_page(request, case, exc, action)
        return render(request, "web/case_detail.html", case_context(request, case, exc.errors, action),
                      status=exc.status)
    case = case_get(user=request.user, tracking_code=code)
    if htmx_row:
        return render(request, "web/partials/queue_row.html", {"c": case, "row_done": message,
                                                               **_row_context(request, case)})
    messages.success(request, message)
    url = _safe_next(request, reverse("web:case", args=[case.tracking_code]))
    remember(request, url)
    return redirect(url)


@login_required
@require_POST
@never_cache
def case_party_reveal(request: HttpRequest, code: str, party_id: int) -> HttpResponse:
    """The full value of one field of a party, with the purpose the form asks for (the engine decides
    who may: the case type's declaration; 403 otherwise, 404 out of scope). htmx: the value alone,
    into the party's row; else the case page with it. Never cached."""
    case = case_get(user=request.user, tracking_code=code)
    party = party_get(user=request.user, case_id=case.pk, party_id=party_id)
    field = request.POST.get("field", "")
    revealed: dict[str, Any] = {"party": party.pk, "field": field}
    status = 200
    try:
        revealed["value"] = party_reveal(actor=request.user, party=party, field_name=field,
                                         purpose=request.POST.get("purpose", ""))
    except TransitionRefused:
        raise
    except ValidationError as exc:  # no purpose, an unknown field
        revealed["errors"] = exc.message_dict
        status = 422
    if getattr(request, "htmx", False):
        return render(request, "web/partials/party_revealed.html", {"r": revealed}, status=status)
    ctx = case_context(request, case)
    ctx["revealed"] = revealed
    return render(request, "web/case_detail.html", ctx, status=status)


@login_required
@require_POST
def case_party_add(request: HttpRequest, code: str) -> HttpResponse:
    """Add a party (the kinds the case's type uses, by the roles it names): back to the case page,
    or the page again with the errors under the form (422)."""
    case = case_get(user=request.user, tracking_code=code)
    p = request.POST
    try:
        party_add(actor=request.user, case=case, kind=p.get("kind", ""), name=p.get("name", ""),
                  id_number=p.get("id_number", ""), phone=p.get("phone", ""), address=p.get("address", ""))
    except TransitionRefused:
        raise
    except ValidationError as exc:
        ctx = case_context(request, case)
        ctx["party_errors"] = [m for ms in exc.message_dict.values() for m in ms]
        ctx["party_values"] = p
        return render(request, "web/case_detail.html", ctx, status=422)
    messages.success(request, _("Party added."))
    return redirect(reverse("web:case", args=[case.tracking_code]) + "#parties")


def _refused_on_tracking_page(request: HttpRequest, case: Case, exc: ActionFailed, action: str) -> HttpResponse:
    """A reporter's refused action comes back on the page they sent it from, their tracking page
    (the public view: never the staff's case page), with the errors next to the fields."""
    from civicgrid.web.views.resident import track_context

    view = case_public(tracking_code=case.tracking_code, user=request.user)
    if view is None:
        raise Http404
    ctx = track_context(request, view, {"errors": exc.errors, "failed": action, "values": request.POST})
    return render(request, "web/track.html", ctx, status=exc.status)


# --- the case list (dashboard drill-down target) ------------------------------------------------


def paged(request: HttpRequest, qs: QuerySet[Case]) -> dict[str, Any]:
    """A page of a list without counting it all (a count over a million rows costs more than the page):
    ``page`` from the query string, one extra row says whether a next page exists."""
    size = int(getattr(settings, "CIVICGRID_WEB_PAGE_SIZE", 50))
    page = max(1, as_int(request.GET.get("page"), 1) or 1)
    if page > 10_000:
        raise InvalidPage
    rows = list(qs[(page - 1) * size: page * size + 1])
    query = request.GET.copy()
    query.pop("page", None)
    base = query.urlencode()
    return {"rows": rows[:size], "page": page, "has_next": len(rows) > size, "has_prev": page > 1,
            "base_query": base + ("&" if base else "")}


@dataclass(frozen=True)
class ActiveFilter:
    """One filter the case list applies, as shown above it (what it is, its value)."""

    name: str
    label: str
    value: str


def _active_filters(f: Any, *, open_only: bool, state: str, q: str, code_hit: bool,
                    linked: Case | None = None) -> list[ActiveFilter]:
    out = []
    if linked is not None:
        out.append(ActiveFilter("linked_to", _("Linked to"), linked.tracking_code))
    if f.region is not None:
        out.append(ActiveFilter("region", str(Level(f.region.level).label), f.region.name))
    if f.department is not None:
        out.append(ActiveFilter("department", _("Department"), f.department.name))
    if code_hit or linked is not None:
        out.append(ActiveFilter("period", _("Period"), _("any date (a tracking code is found at any age)")))
    elif open_only:
        out.append(ActiveFilter("period", _("Period"), _("open cases, reported at any date")))
    else:
        out.append(ActiveFilter("period", _("Reported"), _("%(start)s to %(end)s") % {
            "start": f.start.isoformat(), "end": f.end.isoformat()}))
    if state:
        out.append(ActiveFilter("state", _("State"), state_labels().get(state, state)))
    if q:
        out.append(ActiveFilter("q", _("Search"), q))
    return out


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    """Cases in my jurisdiction, filtered by state, text, region, department, or by the metric and
    period of a dashboard number (the cases behind it). ``open=1`` lists the open cases (those the
    centre's map counts) whatever their date. A search that is a tracking code finds that case at any
    age; other words search the titles of the period, and the page says which period that was.
    ``linked_to=<tracking code>`` lists the cases linked with that case, at any date (none when the
    reader may not see it)."""
    from civicgrid.web.views.dashboard import MAX_DAYS, DashboardFilter

    f = DashboardFilter.from_request(request)
    open_only = request.GET.get("open") == "1" and not f.metric
    q = (request.GET.get("q") or "").strip()
    code_hit = False
    if q and not f.metric and " " not in q:
        found = cases_visible(user=request.user).filter(tracking_code=q.upper())
        code_hit = found.exists()
    linked_code = (request.GET.get("linked_to") or "").strip()[:32]
    linked = cases_visible(user=request.user).filter(tracking_code=linked_code.upper()).first() if linked_code else None
    if linked_code:
        code_hit = False
        qs = (cases_visible(user=request.user).filter(pk__in=cases_linked_with(case=linked).values("pk"))
              if linked is not None else Case.objects.none())
    elif code_hit:
        qs = found
    elif open_only:
        qs = open_cases(user=request.user)
        if f.region is not None:
            qs = qs.filter(**{f"{f.region.level}_id": f.region.pk})
        if f.department is not None:
            qs = qs.filter(lead_department=f.department)
    else:
        qs = f.cases(request.user)
    if f.errors and not code_hit and not linked_code:
        qs = Case.objects.none()
    state = request.GET.get("state", "")
    if state and not code_hit:
        qs = qs.filter(state=state)
    if q and not code_hit:
        qs = qs.filter(title__icontains=q)
    qs = qs.select_related("category", "grid", "street", "lead_department").order_by("-created_at", "-id")
    try:
        page = paged(request, qs)
    except InvalidPage:
        raise Http404 from None
    # a word search covers the period only: offer the longest period the list allows
    wider = ""
    if q and not code_hit and not open_only:
        query = request.GET.copy()
        query.pop("page", None)
        query["start"] = (f.end - dt.timedelta(days=MAX_DAYS)).isoformat()
        query["end"] = f.end.isoformat()
        wider = query.urlencode()
    return render(request, "web/case_list.html", {
        "f": f, "states": state_labels(), "state": state, "q": q, "open_only": open_only, "code_hit": code_hit,
        "active": _active_filters(f, open_only=open_only, state=state, q=q, code_hit=code_hit, linked=linked),
        "linked_to": linked_code,
        "wider_query": wider, **page})


# --- photos --------------------------------------------------------------------------------------


@login_required
def case_photo(request: HttpRequest, code: str, sha: str) -> HttpResponse:
    """A photo of the case (its report's or a step's), to those who may see the case."""
    case = case_get(user=request.user, tracking_code=code)
    if case_view_of(user=request.user, case=case) == PUBLIC_VIEW:
        raise Http404  # the public view shows no photos (a handler's or a check's photos are internal)
    photos = list(getattr(getattr(case, "event", None), "photos", None) or [])
    for entry in case_timeline(case=case).exclude(attachments=[]):
        photos += list(entry.attachments or [])
    meta = next((m for m in photos if isinstance(m, dict) and m.get("sha256") == sha), None)
    if meta is None or not meta.get("path"):
        raise Http404
    root = media_root().resolve()
    path = (root / meta["path"]).resolve()
    if root not in path.parents or not Path(path).is_file():
        raise Http404
    return FileResponse(path.open("rb"), content_type=meta.get("type") or "application/octet-stream")



# --- documents -----------------------------------------------------------------------------------


def _download(f: DocumentFile) -> FileResponse:
    response = FileResponse(f.path.open("rb"), as_attachment=True, filename=f.name, content_type=f.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def case_document(request: HttpRequest, code: str, document: int, number: int) -> HttpResponse:
    """A version of one of the case's documents (``?format=pdf``: its PDF), as an attachment, to
    those who may see the case (``cases.selectors.document_file``; anything else 404)."""
    case = case_get(user=request.user, tracking_code=code)
    return _download(document_file(user=request.user, case=case, document_id=document, number=number,
                                   pdf=request.GET.get("format") == "pdf"))


@login_required
def case_delivery_proof(request: HttpRequest, code: str, delivery: int) -> HttpResponse:
    """The proof filed with a delivery of one of the case's documents, to staff who see the case."""
    case = case_get(user=request.user, tracking_code=code)
    return _download(delivery_proof_file(user=request.user, case=case, delivery_id=delivery))
