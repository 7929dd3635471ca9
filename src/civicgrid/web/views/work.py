"""The staff pages: the centre workbench (queues, one-click dispatch, the map of open cases by grid),
the grid worker's phone pages (my grid, my tasks, patrol report), the department's cases, the cases
assigned to a person (my cases), and the 12345 agent's call-taking page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.cases.models import Case
from civicgrid.cases.rules import case_act as case_act_rule
from civicgrid.cases.rules import case_actions
from civicgrid.cases.selectors import cases_assigned_to, department_targets
from civicgrid.events import services as ev
from civicgrid.events.workflow import EVENT
from civicgrid.geo.models import Region
from civicgrid.geo.selectors import regions_geojson
from civicgrid.org.models import Department, Role
from civicgrid.privacy.validators import validate_phone
from civicgrid.web.helpers import ActionFailed, as_int, errors_of, remember, replayed, run
from civicgrid.web.selectors import (
    CENTRE_ROLES,
    QUEUES,
    caller_cases,
    department_cases,
    department_states,
    grid_open_cases,
    grid_tasks,
    grid_worker_grids,
    knowledge_answers,
    open_cases_by_grid,
    queue_cases,
    queue_counts,
    row_actions,
    user_departments,
    user_roles,
)
from civicgrid.web.views.resident import event_input, report_choices, report_form_post, submit_report

QUEUE_LIMIT = 100


def role_required(*roles: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Signed in and holding one of ``roles`` (others get 403: the page is not theirs)."""

    def deco(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not user_roles(request.user) & set(roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return deco


# --- centre workbench ---------------------------------------------------------------------------


def _queue_name(request: HttpRequest, name: str | None = None) -> str:
    name = name or request.GET.get("queue") or "new"
    if name not in QUEUES:
        raise Http404
    return name


def queue_page(request: HttpRequest, name: str) -> dict[str, Any]:
    """One page of a queue (``QUEUE_LIMIT`` rows, oldest first) with the counts of every queue, and
    where this page stands in its queue ("101–200 of 2,194") so nobody takes a page for the whole."""
    now = timezone.now()
    counts = queue_counts(user=request.user, now=now)
    total = counts[name]
    pages = max(1, -(-total // QUEUE_LIMIT))
    page = min(max(1, as_int(request.GET.get("page"), 1) or 1), pages)
    first = (page - 1) * QUEUE_LIMIT
    cases = list(queue_cases(user=request.user, name=name, now=now)[first:first + QUEUE_LIMIT])
    return {"queues": QUEUES, "queue": name, "counts": counts, "cases": cases, "now": now, "page": page,
            "row_actions": row_actions(user=request.user, cases=cases),
            "pages": pages, "total": total, "first": first + 1 if cases else 0, "last": first + len(cases)}


@role_required(*CENTRE_ROLES)
def centre(request: HttpRequest) -> HttpResponse:
    return render(request, "web/centre.html", queue_page(request, _queue_name(request)))


@role_required(*CENTRE_ROLES)
def centre_queue(request: HttpRequest, name: str) -> HttpResponse:
    """htmx: one queue's table (the workbench refreshes it every minute and on every tab click)."""
    return render(request, "web/partials/queue.html", queue_page(request, _queue_name(request, name)))


def grid_features(grids: Any, loads: dict[int, Any]) -> dict[str, Any]:
    """GeoJSON of grids with their open and overdue counts in the properties."""
    fc = regions_geojson(grids)
    ids = dict(grids.values_list("code", "pk"))
    for feat in fc["features"]:
        load = loads.get(ids.get(feat["properties"]["code"]))
        feat["properties"]["open"] = load.open if load else 0
        feat["properties"]["overdue"] = load.overdue if load else 0
    return fc


@role_required(*CENTRE_ROLES)
def centre_map(request: HttpRequest) -> HttpResponse:
    """Open cases by grid: a count on each grid, red where some are overdue."""
    loads = open_cases_by_grid(user=request.user)
    grids = Region.objects.filter(pk__in=list(loads)).order_by("code")
    fc = grid_features(grids, loads)
    rows = sorted(((g, loads[g.pk]) for g in grids), key=lambda r: (-r[1].overdue, -r[1].open))
    return render(request, "web/centre_map.html", {"geojson": fc, "rows": rows[:50],
                                                   "total": sum(x.open for x in loads.values()),
                                                   "overdue": sum(x.overdue for x in loads.values())})


# --- grid worker ------------------------------------------------------------------------------


@role_required(Role.GRID_WORKER, Role.ADMIN)
def grid_home(request: HttpRequest) -> HttpResponse:
    """My grid's map and its open cases."""
    grids = grid_worker_grids(user=request.user)
    cases = list(grid_open_cases(user=request.user)[:QUEUE_LIMIT])
    points = [{"code": c.tracking_code, "title": c.title, "lon": c.lon, "lat": c.lat, "state": c.state,
               "url": reverse("web:case", args=[c.tracking_code])} for c in cases if c.lon is not None]
    return render(request, "web/grid.html", {"grids": grids, "geojson": regions_geojson(grids), "cases": cases,
                                             "points": points, "now": timezone.now()})


@role_required(Role.GRID_WORKER, Role.ADMIN)
def grid_tasks_view(request: HttpRequest) -> HttpResponse:
    """What waits for my step (an event's on-site check), each case with the forms of the steps the
    engine offers me on it now (``rules.case_actions``: verify with a photo and a note, or send back)."""
    tasks = []
    for case in grid_tasks(user=request.user)[:QUEUE_LIMIT]:
        offers = [o for o in case_actions(request.user, case) if o.kind == "transition"]
        if offers:
            tasks.append((case, offers))
    return render(request, "web/grid_tasks.html", {"tasks": tasks})


@role_required(Role.GRID_WORKER, Role.ADMIN)
def grid_patrol(request: HttpRequest) -> HttpResponse:
    """The patrol report (巡查上报): the report form on the patrol channel."""
    grids = grid_worker_grids(user=request.user)
    ctx: dict[str, Any] = {"errors": {}, "values": {}, **report_choices(), "outline": regions_geojson(grids),
                           "patrol": True}
    if request.method == "POST":
        return report_form_post(
            request, ctx, "patrol", lambda case: reverse("web:case", args=[case.tracking_code]),
            sent=lambda case: _("Patrol report sent: tracking code %(code)s. It is in the centre's queue.")
            % {"code": case.tracking_code})
    return render(request, "web/report.html", ctx)


# --- department -------------------------------------------------------------------------------


@role_required(Role.DEPARTMENT_HANDLER)
def department(request: HttpRequest) -> HttpResponse:
    """The open cases of my departments, of every registered type, with a tab per state in which a
    department has them (from the types' declarations)."""
    tabs = department_states()
    state = request.GET.get("state", "")
    if state not in tabs:
        state = ""
    qs = department_cases(user=request.user, state=state)
    total = qs.count()
    pages = max(1, -(-total // QUEUE_LIMIT))
    page = min(max(1, as_int(request.GET.get("page"), 1) or 1), pages)
    first = (page - 1) * QUEUE_LIMIT
    cases = list(qs[first:first + QUEUE_LIMIT])
    return render(request, "web/department.html", {
        "departments": user_departments(user=request.user), "state": state, "tabs": tabs, "now": timezone.now(),
        "cases": cases, "page": page, "pages": pages, "total": total, "first": first + 1 if cases else 0,
        "last": first + len(cases)})


# --- a person's cases ----------------------------------------------------------------------------


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """My cases (我的案件): the cases assigned to me as a person — a mediator, a leader owning the
    case (包案) — each with the forms of the steps the engine offers me on it now
    (``rules.case_actions``: accept or dispute a pending assignment, finish …); ``?done=1`` adds
    those where my part is done. Residents have none: 403."""
    if not user_roles(request.user) - {Role.RESIDENT}:
        raise PermissionDenied
    done = request.GET.get("done") == "1"
    rows = []
    for case in cases_assigned_to(user=request.user, done=done).select_related("grid", "street")[:QUEUE_LIMIT]:
        offers = [o for o in case_actions(request.user, case) if o.kind == "transition"]
        rows.append((case, offers))
    return render(request, "web/mine.html", {"rows": rows, "done": done, "now": timezone.now()})


# --- 12345 agent ------------------------------------------------------------------------------


def _agent_context(request: HttpRequest) -> dict[str, Any]:
    """The call-taking page. The caller's number is never read from the address (a GET would put it in
    access logs): the look-up is a POST of its own (:func:`agent_caller`)."""
    q = (request.GET.get("q") or "").strip()
    return {"phone": "", "phone_error": "", "earlier": None, "q": q,
            "answers": knowledge_answers(user=request.user, query=q) if q else [],
            "errors": {}, "values": {}, "departments": agent_departments(request.user),
            **report_choices()}


@role_required(*CENTRE_ROLES)
def agent(request: HttpRequest) -> HttpResponse:
    """Call-taking (12345): find the caller by phone, see their earlier cases, search answers given
    before, then either answer the enquiry and close it (直接答复) or create the case — optionally
    registered and dispatched at once to the department the catalogue suggests or the agent names.
    Whatever refuses the call, the form comes back with everything typed in it."""
    ctx = _agent_context(request)
    if request.method != "POST":
        return render(request, "web/agent.html", ctx)
    done = replayed(request)
    if done:
        return redirect(done)
    how = request.POST.get("then", "create")
    try:
        department = _agent_checks(request, how)
        with transaction.atomic():  # all of it or nothing: no case left half-way
            case = submit_report(request, "hotline").case
            if how == "answer":
                case = _act(request, case, "answer", {"note": request.POST["answer"].strip()})
                told = _("Answered and closed: %(code)s.") % {"code": case.tracking_code}
            elif how == "dispatch":
                case = _agent_dispatch(request, _act(request, case, "register", {}), department)
                told = _("Created and dispatched to %(dept)s: %(code)s.") % {
                    "code": case.tracking_code, "dept": case.lead_department.name}
            else:
                told = _("Created: %(code)s.") % {"code": case.tracking_code}
    except ActionFailed as exc:
        return _agent_refused(request, ctx, exc.errors, exc.status)
    except Http404:
        # the place given lies outside the agent's reach (the engine's OutOfScope): nothing was
        # stored, and the call is kept on the form to be created for the centre there instead
        return _agent_refused(request, ctx, {"location": [_outside_reach()]}, 422)
    except PermissionDenied as exc:  # the engine's TransitionRefused: this role may not
        return _agent_refused(request, ctx, {"action": [str(exc) or _("You may not do this.")]}, 403)
    # the creator and their centre keep sight of the case wherever it lies (org.scoping), so the
    # agent always lands on its page, the code to read to the caller in the message above it
    url = reverse("web:case", args=[case.tracking_code])
    remember(request, url)
    messages.success(request, told)
    return redirect(url)


def _act(request: HttpRequest, case: Case, action: str, data: dict[str, Any]) -> Case:
    """One step of the call through the engine's one way in, as the case page takes it."""
    return run(lambda: case_act_rule(actor=request.user, case=case, action=action, data=data))


def _agent_dispatch(request: HttpRequest, case: Case, department: Department | None) -> Case:
    """Dispatch the registered call: to the department named, if the engine's dispatch offer lists it
    for this case (visible to the agent and serving the call's place; refused on its field
    otherwise), else to the suggested one (the engine's default)."""
    if department is not None:
        offer = next((o for o in case_actions(request.user, case) if o.name == "dispatch"), None)
        codes = {v for i in (offer.inputs if offer else ()) if i.name == "department" for v, _label in i.choices}
        if department.code not in codes:
            raise ActionFailed({"department": [_("Choose a department from the list.")]})
    try:
        return _act(request, case, "dispatch", {"department": department.code} if department is not None else {})
    except ActionFailed as exc:
        if "department" in exc.errors:  # the desk asks for a department, never a region
            exc.errors.pop("region", None)
            if department is None:  # it went for the suggested one: say there was none
                exc.errors["department"] = [_("No department was suggested for this event: name one.")]
        raise


def agent_departments(user: Any) -> QuerySet[Department]:
    """The departments the desk lists before the call is placed: the engine's dispatch targets
    (``department_targets``) for a case with no place yet; once placed, the dispatch offer's own
    choices decide (:func:`_agent_dispatch`)."""
    return department_targets(actor=user, case=Case(case_type=EVENT)).order_by("code")


def _agent_checks(request: HttpRequest, how: str) -> Department | None:
    """What the page itself requires before anything is written: a chosen request type (never a
    silent 咨询), the answer when answering, a department from the agent's list. Every bad field is
    named at once, the report's own checks included. Answers the department named, if any."""
    p, errors = request.POST, {}
    if not p.get("request_type", "").strip():
        errors["request_type"] = [_("Choose the request type (咨询, 求助, 投诉, 举报 or 建议).")]
    if how == "answer" and not p.get("answer", "").strip():
        errors["answer"] = [_answer_missing()]
    department = None
    code = p.get("department", "").strip()
    if code:
        department = agent_departments(request.user).filter(code=code).first()
        if department is None:
            errors["department"] = [_("Choose a department from the list.")]
    if errors:
        try:
            ev.event_validate(event_input(request, "hotline"))
        except ValidationError as exc:
            errors = {**errors_of(exc), **errors}
        raise ActionFailed(errors)
    return department


def _agent_refused(request: HttpRequest, ctx: dict[str, Any], errors: dict[str, list[str]],
                   status: int) -> HttpResponse:
    ctx.update(errors=errors, values=request.POST)
    return render(request, "web/agent.html", ctx, status=status)


def _outside_reach() -> str:
    return _("This place lies outside your centre's jurisdiction, so the call cannot be answered, registered "
             "or dispatched here. Create it for the centre (the centre where it lies will handle it), or "
             "correct the location.")


@role_required(*CENTRE_ROLES)  # an outsider is sent to sign in first, whatever the method
@require_POST
def agent_caller(request: HttpRequest) -> HttpResponse:
    """The caller's earlier cases, by the phone number sent in the POST body (never in a URL), found
    through its keyed hash within the agent's jurisdiction; every look-up is audited (masked number
    and keyed hash only). htmx gets the result box; a plain form post the whole page."""
    phone = (request.POST.get("phone") or "").strip()
    box: dict[str, Any] = {"phone": phone, "phone_error": "", "earlier": None}
    if phone:
        try:
            validate_phone(phone)
        except ValidationError as exc:
            box["phone_error"] = "; ".join(exc.messages)
        else:
            box["earlier"] = list(caller_cases(user=request.user, phone=phone)[:20])
            ev.caller_lookup_record(actor=request.user, phone=phone, found=len(box["earlier"]))
    if request.headers.get("HX-Request"):
        return render(request, "web/partials/agent_caller.html", box)
    ctx = _agent_context(request)
    ctx.update(box)
    return render(request, "web/agent.html", ctx)


@role_required(*CENTRE_ROLES)
def agent_answers(request: HttpRequest) -> HttpResponse:
    """htmx: answers given before that match the words searched (the page keeps the call typed)."""
    q = (request.GET.get("q") or "").strip()
    return render(request, "web/partials/agent_answers.html",
                  {"q": q, "answers": knowledge_answers(user=request.user, query=q) if q else []})


def _answer_missing() -> str:
    return _("Write the answer given to the caller.")

