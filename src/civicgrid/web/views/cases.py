"""A case's page (detail with the timeline and the actions this person may take), every action as
one POST through the events/cases services, the case list (also the target of every dashboard
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
from django.core.paginator import InvalidPage
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from civicgrid.cases import services as engine
from civicgrid.cases.models import ApprovalRequest, Case, Supervision
from civicgrid.cases.selectors import (
    PUBLIC_VIEW,
    case_get,
    case_open_timers,
    case_timeline,
    case_view_of,
    cases_visible,
    departments_serving,
)
from civicgrid.events import services as ev
from civicgrid.events.models import WhistleKind, WhistleSummons
from civicgrid.events.photos import media_root
from civicgrid.events.selectors import event_detail, whistles_of
from civicgrid.events.workflow import STATES, event_type
from civicgrid.geo.models import Level
from civicgrid.org.models import Department
from civicgrid.org.permissions import ACT, VIEW
from civicgrid.org.scoping import roles_reaching
from civicgrid.org.selectors import departments_visible
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
    open_cases,
    queue_counts,
    user_departments,
    user_roles,
)

GENERIC = frozenset({"dispatcher", "admin"})
# The next step of the loop in each state: its form is the one shown open on the case page.
MAIN_ACTION = {"reported": "register", "registered": "dispatch", "review": "dispatch", "dispatched": "accept",
               "handling": "report_back", "verifying": "verify", "closed": "reply"}


def acting_roles(user: Any, case: Case) -> set[str]:
    """The roles through which this person may act on the case (the engine decides in the end; this
    only chooses which forms to show)."""
    if user.is_superuser:
        return {"admin", "dispatcher", "grid_worker", "department_handler", "leader"}
    roles = roles_reaching(case, user, ACT) | (roles_reaching(case, user, VIEW) & {"leader"})
    if "department_handler" in roles:
        mine = set(user_departments(user=user).values_list("pk", flat=True))
        holds = case.lead_department_id in mine or case.assignments.filter(
            department_id__in=mine, ended_at__isnull=True).exists()
        if not holds:
            roles.discard("department_handler")
    return roles


def allowed_actions(user: Any, case: Case) -> list[str]:
    """The actions whose forms this person sees on the case page."""
    if case.case_type != "event":
        return []
    roles = acting_roles(user, case)
    names = [t.name for t in event_type().allowed_from(case.state) if t.roles & roles]
    if case.state == "handling" and "accept" in names and not user.is_superuser:
        # a co-handling unit may still accept while the lead unit handles; the lead has accepted already
        mine = user_departments(user=user).values("pk")
        if not case.assignments.filter(department_id__in=mine, state="pending").exists():
            names.remove("accept")
    open_case = case.closed_at is None and case.merged_into_id is None
    if open_case and roles & GENERIC:
        names += ["merge", "escalate"]
    if open_case and roles & {"dispatcher", "admin", "leader"}:
        names.append("supervise")
    if open_case and roles & {"department_handler", "dispatcher", "grid_worker", "admin"}:
        names.append("extension")
    return names


def _department(user: Any, code: str, field: str) -> Department:
    dept = departments_visible(user).filter(code=code).first() if code else None
    if dept is None:
        raise ActionFailed({field: [_("Choose a department.")]})
    return dept


def _cases_by_codes(user: Any, codes: list[str]) -> list[Case]:
    return [case_get(user=user, tracking_code=c) for c in codes if c.strip()]


def _perform(request: HttpRequest, case: Case, action: str) -> str:
    """Carry out one action through the services; answers the message shown afterwards."""
    user, p = request.user, request.POST
    note, reason = p.get("note", "").strip(), p.get("reason", "").strip()
    calls: dict[str, Callable[[], Any]] = {
        "register": lambda: ev.event_register(actor=user, case=case, note=note),
        "reject": lambda: ev.event_reject(actor=user, case=case, reason=reason),
        "answer": lambda: ev.event_answer(actor=user, case=case, answer=note),
        "accept": lambda: ev.event_accept(actor=user, case=case),
        "dispute": lambda: ev.event_dispute(actor=user, case=case, reason=reason),
        "report_back": lambda: ev.event_report_back(actor=user, case=case, note=note,
                                                    photos=uploaded_photos(request)),
        "verify": lambda: ev.event_verify(actor=user, case=case, passed=True, note=note,
                                          photos=uploaded_photos(request)),
        "verify_fail": lambda: ev.event_verify(actor=user, case=case, passed=False, note=reason,
                                               photos=uploaded_photos(request)),
        "reply": lambda: ev.event_reply(actor=user, case=case, reply=note),
        "escalate": lambda: engine.case_escalate(actor=user, case=case, note=note),
        "supervise": lambda: engine.case_supervise(actor=user, case=case,
                                                   kind=p.get("kind") or Supervision.Kind.CHASE, note=note),
    }
    if action == "dispatch":
        dept = _department(user, p.get("department", ""), "department") if p.get("department") else None
        co = [_department(user, c, "co_departments") for c in p.getlist("co_departments") if c]
        calls[action] = lambda: ev.event_dispatch(actor=user, case=case, department=dept, co_departments=co,
                                                  note=note)
    elif action == "whistle":
        depts = [_department(user, c, "departments") for c in p.getlist("departments") if c]
        calls[action] = lambda: ev.whistle_blow(actor=user, case=case, kind=p.get("kind", ""), reason=reason,
                                                departments=depts)
    elif action == "merge":
        dups = _cases_by_codes(user, p.getlist("duplicates"))
        calls[action] = lambda: engine.case_merge(actor=user, survivor=case, duplicates=dups, note=note)
    elif action == "extension":
        try:
            amount = float(p.get("amount") or 0)
        except ValueError:
            raise ActionFailed({"amount": [_("Give a number.")]}) from None
        calls[action] = lambda: engine.case_request_approval(actor=user, case=case, kind="extension",
                                                             reason=reason, amount=amount)
    elif action == "decide":
        req = case.approval_requests.filter(pk=as_int(p.get("request"), 0)).first()
        if req is None:
            raise Http404
        calls[action] = lambda: engine.case_decide_approval(actor=user, request=req, approve=p.get("approve") == "1",
                                                            note=note)
    elif action == "summons":
        summons = WhistleSummons.objects.filter(pk=as_int(p.get("summons"), 0), whistle__case=case).first()
        step = p.get("step", "")
        if summons is None or step not in ("ack", "arrive", "respond", "score"):
            raise Http404
        calls[action] = {
            "ack": lambda: ev.whistle_acknowledge(actor=user, summons=summons, note=note),
            "arrive": lambda: ev.whistle_arrive(actor=user, summons=summons, note=note),
            "respond": lambda: ev.whistle_respond(actor=user, summons=summons, response=note),
            "score": lambda: ev.whistle_score(actor=user, summons=summons, score=as_int(p.get("score"), -1) or 0,
                                              note=note),
        }[step]
    if action not in calls:
        raise Http404
    run(calls[action])
    return _("Done: %(action)s.") % {"action": done_label(action, p)}


GENERIC_LABELS: dict[str, Any] = {
    "merge": gettext_lazy("merge duplicates"), "escalate": gettext_lazy("escalate"),
    "supervise": gettext_lazy("supervise"), "extension": gettext_lazy("ask for an extension"),
    "decide": gettext_lazy("decide"), "summons": gettext_lazy("answer the summons"),
}
# The steps of a whistle-summons, each its own action for the person doing it.
SUMMONS_LABELS: dict[str, Any] = {
    "ack": gettext_lazy("sign for the summons"), "arrive": gettext_lazy("report on site"),
    "respond": gettext_lazy("answer the summons"), "score": gettext_lazy("score the department's response"),
}


def done_label(action: str, data: Any) -> str:
    """The name of what was just done (or tried), from the action and the form: 催办 and 督办 are one
    action of two kinds, and a summons has four steps, each named for itself."""
    if action == "supervise":
        kind = data.get("kind") or Supervision.Kind.CHASE
        if kind in Supervision.Kind.values:
            return str(Supervision.Kind(kind).label)
    if action == "summons" and data.get("step") in SUMMONS_LABELS:
        return str(SUMMONS_LABELS[data["step"]])
    return str(_labels().get(action, action))


def _labels() -> dict[str, Any]:
    """The label of every action a case page may show: the event type's steps, then the generic ones."""
    return {**{name: t.label for name, t in event_type().transitions.items()}, **GENERIC_LABELS}


def _row_context(request: HttpRequest) -> dict[str, Any]:
    """What a queue row redrawn after an action needs besides the case: its queue (which buttons it
    shows) and, for the workbench, every queue's count, sent along to replace the badges (htmx
    out-of-band swap) so they never show the count from before the action."""
    queue = request.POST.get("queue", "")
    ctx: dict[str, Any] = {"queue": queue if queue in QUEUES else "", "now": timezone.now()}
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
    user = request.user
    actions = allowed_actions(user, case)
    detail = event_detail(case=case) if case.case_type == "event" else None
    fields = case._meta
    timers = list(case_open_timers(case=case))
    ctx: dict[str, Any] = {
        "case": case, "detail": detail, "state_label": STATES.get(case.state, case.state),
        "timeline": case_timeline(case=case), "timers": timers,
        # the extension form asks in the unit of the clock it extends
        "handle_unit": next((t.get_unit_display() for t in timers if t.kind == "handle"), ""),
        "assignments": case.assignments.select_related("department", "region").order_by("id"),
        "whistles": whistles_of(case=case) if case.case_type == "event" else [],
        "approvals": case.approval_requests.filter(state=ApprovalRequest.State.PENDING),
        "actions": actions, "labels": _labels(),
        # the next step of the loop opens at once; of the side actions only a lone one does
        "main_action": MAIN_ACTION.get(case.state) if MAIN_ACTION.get(case.state) in actions else
        (actions[0] if len(actions) == 1 else ""), "errors": errors or {}, "failed": failed,
        "reporter_name": fields.get_field("reporter_name").masked(case),
        "reporter_phone": fields.get_field("reporter_phone").masked(case),
        "whistle_kinds": WhistleKind.choices, "supervision_kinds": [Supervision.Kind.CHASE, Supervision.Kind.SUPERVISE],
        "values": request.POST if errors else {},
        # a refused action is named in words, with every reason given (some belong to no field shown)
        "failed_label": done_label(failed, request.POST) if failed else "",
        "failed_messages": [m for ms in (errors or {}).values() for m in ms],
        "my_department_ids": set(user_departments(user=user).values_list("pk", flat=True)),
        "can_decide": bool(acting_roles(user, case) & (GENERIC | {"leader"})),
    }
    if {"dispatch", "whistle"} & set(actions):
        # only units that serve the case's place: the engine refuses any other (404)
        ctx["departments"] = departments_serving(case=case, departments=departments_visible(user)).order_by("code")
    if "merge" in actions:
        from civicgrid.dispatch.selectors import duplicate_candidates_for_case

        ctx["duplicates"] = duplicate_candidates_for_case(case, user=user, limit=5)
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
                          {"c": case, "row_error": flat_errors(exc.errors), **_row_context(request)}, status=200)
        case = case_get(user=request.user, tracking_code=code)
        return render(request, "web/case_detail.html", case_context(request, case, exc.errors, action),
                      status=exc.status)
    case = case_get(user=request.user, tracking_code=code)
    if htmx_row:
        return render(request, "web/partials/queue_row.html", {"c": case, "row_done": message,
                                                               **_row_context(request)})
    messages.success(request, message)
    url = _safe_next(request, reverse("web:case", args=[case.tracking_code]))
    remember(request, url)
    return redirect(url)


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


def _active_filters(f: Any, *, open_only: bool, state: str, q: str, code_hit: bool) -> list[ActiveFilter]:
    out = []
    if f.region is not None:
        out.append(ActiveFilter("region", str(Level(f.region.level).label), f.region.name))
    if f.department is not None:
        out.append(ActiveFilter("department", _("Department"), f.department.name))
    if code_hit:
        out.append(ActiveFilter("period", _("Period"), _("any date (a tracking code is found at any age)")))
    elif open_only:
        out.append(ActiveFilter("period", _("Period"), _("open cases, reported at any date")))
    else:
        out.append(ActiveFilter("period", _("Reported"), _("%(start)s to %(end)s") % {
            "start": f.start.isoformat(), "end": f.end.isoformat()}))
    if state:
        out.append(ActiveFilter("state", _("State"), str(STATES.get(state, state))))
    if q:
        out.append(ActiveFilter("q", _("Search"), q))
    return out


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    """Cases in my jurisdiction, filtered by state, text, region, department, or by the metric and
    period of a dashboard number (the cases behind it). ``open=1`` lists the open cases (those the
    centre's map counts) whatever their date. A search that is a tracking code finds that case at any
    age; other words search the titles of the period, and the page says which period that was."""
    from civicgrid.web.views.dashboard import MAX_DAYS, DashboardFilter

    f = DashboardFilter.from_request(request)
    open_only = request.GET.get("open") == "1" and not f.metric
    q = (request.GET.get("q") or "").strip()
    code_hit = False
    if q and not f.metric and " " not in q:
        found = cases_visible(user=request.user).filter(tracking_code=q.upper())
        code_hit = found.exists()
    if code_hit:
        qs = found
    elif open_only:
        qs = open_cases(user=request.user)
        if f.region is not None:
            qs = qs.filter(**{f"{f.region.level}_id": f.region.pk})
        if f.department is not None:
            qs = qs.filter(lead_department=f.department)
    else:
        qs = f.cases(request.user)
    if f.errors and not code_hit:
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
        "f": f, "states": STATES, "state": state, "q": q, "open_only": open_only, "code_hit": code_hit,
        "active": _active_filters(f, open_only=open_only, state=state, q=q, code_hit=code_hit),
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

