"""The staff pages: the centre workbench (queues, one-click dispatch, the map of open cases by grid),
the grid worker's phone pages (my grid, my tasks, patrol report), the department's cases, and the
12345 agent's call-taking page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.events import services as ev
from civicgrid.geo.models import Region
from civicgrid.geo.selectors import regions_geojson
from civicgrid.privacy.validators import validate_phone
from civicgrid.web.helpers import ActionFailed, remember, replayed, run
from civicgrid.web.selectors import (
    CENTRE_ROLES,
    QUEUES,
    caller_cases,
    department_cases,
    grid_open_cases,
    grid_tasks,
    grid_worker_grids,
    knowledge_answers,
    open_cases_by_grid,
    queue_cases,
    queue_counts,
    user_departments,
    user_roles,
)
from civicgrid.web.views.resident import report_choices, report_form_post, submit_report

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


@role_required(*CENTRE_ROLES)
def centre(request: HttpRequest) -> HttpResponse:
    name = _queue_name(request)
    now = timezone.now()
    return render(request, "web/centre.html", {
        "queues": QUEUES, "queue": name, "counts": queue_counts(user=request.user, now=now),
        "cases": queue_cases(user=request.user, name=name, now=now)[:QUEUE_LIMIT], "now": now})


@role_required(*CENTRE_ROLES)
def centre_queue(request: HttpRequest, name: str) -> HttpResponse:
    """htmx: one queue's table (the workbench refreshes it every minute and on every tab click)."""
    name = _queue_name(request, name)
    now = timezone.now()
    return render(request, "web/partials/queue.html", {
        "queues": QUEUES, "queue": name, "counts": queue_counts(user=request.user, now=now),
        "cases": queue_cases(user=request.user, name=name, now=now)[:QUEUE_LIMIT], "now": now})


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


@role_required("grid_worker", "admin")
def grid_home(request: HttpRequest) -> HttpResponse:
    """My grid's map and its open cases."""
    grids = grid_worker_grids(user=request.user)
    cases = list(grid_open_cases(user=request.user)[:QUEUE_LIMIT])
    points = [{"code": c.tracking_code, "title": c.title, "lon": c.lon, "lat": c.lat, "state": c.state,
               "url": reverse("web:case", args=[c.tracking_code])} for c in cases if c.lon is not None]
    return render(request, "web/grid.html", {"grids": grids, "geojson": regions_geojson(grids), "cases": cases,
                                             "points": points, "now": timezone.now()})


@role_required("grid_worker", "admin")
def grid_tasks_view(request: HttpRequest) -> HttpResponse:
    """What waits for my on-site check, each with a verify form (photo, note)."""
    return render(request, "web/grid_tasks.html", {"cases": grid_tasks(user=request.user)[:QUEUE_LIMIT]})


@role_required("grid_worker", "admin")
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


@role_required("department_handler")
def department(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state and state not in ("dispatched", "handling", "verifying", "review"):
        state = ""
    return render(request, "web/department.html", {
        "departments": user_departments(user=request.user), "state": state, "now": timezone.now(),
        "cases": department_cases(user=request.user, state=state)[:QUEUE_LIMIT]})


# --- 12345 agent ------------------------------------------------------------------------------


def _agent_context(request: HttpRequest) -> dict[str, Any]:
    phone = (request.GET.get("phone") or request.POST.get("reporter_phone") or "").strip()
    ctx: dict[str, Any] = {"phone": phone, "phone_error": "", "earlier": None, "q": request.GET.get("q", ""),
                           "answers": [], "errors": {}, "values": {}, **report_choices()}
    if phone:
        try:
            validate_phone(phone)
            ctx["earlier"] = list(caller_cases(user=request.user, phone=phone)[:20])
        except Exception as exc:  # a ValidationError: shown next to the field
            ctx["phone_error"] = "; ".join(getattr(exc, "messages", [str(exc)]))
    if ctx["q"]:
        ctx["answers"] = knowledge_answers(user=request.user, query=ctx["q"])
    return ctx


@role_required(*CENTRE_ROLES)
def agent(request: HttpRequest) -> HttpResponse:
    """Call-taking (12345): find the caller by phone, see their earlier cases, search answers given
    before, then either answer the enquiry and close it (直接答复) or create the case — optionally
    registered and dispatched at once to the department the catalogue suggests."""
    ctx = _agent_context(request)
    if request.method != "POST":
        return render(request, "web/agent.html", ctx)
    done = replayed(request)
    if done:
        return redirect(done)
    how = request.POST.get("then", "create")
    try:
        if how == "answer" and not request.POST.get("answer", "").strip():
            raise ActionFailed({"answer": [_answer_missing()]})
        with transaction.atomic():  # all of it or nothing: no case left half-way
            case = submit_report(request, "hotline").case
            if how == "answer":
                case = run(lambda: ev.event_answer(actor=request.user, case=case,
                                                   answer=request.POST["answer"].strip()))
                told = _("Answered and closed: %(code)s.") % {"code": case.tracking_code}
            elif how == "dispatch":
                run(lambda: ev.event_register(actor=request.user, case=case))
                case = run(lambda: ev.event_dispatch(actor=request.user, case=case))
                told = _("Created and dispatched to %(dept)s: %(code)s.") % {
                    "code": case.tracking_code, "dept": case.lead_department.name}
            else:
                told = _("Created: %(code)s.") % {"code": case.tracking_code}
    except ActionFailed as exc:
        ctx.update(errors=exc.errors, values=request.POST)
        return render(request, "web/agent.html", ctx, status=exc.status)
    url = reverse("web:case", args=[case.tracking_code])
    remember(request, url)
    messages.success(request, told)
    return redirect(url)


def _answer_missing() -> str:
    return _("Write the answer given to the caller.")

