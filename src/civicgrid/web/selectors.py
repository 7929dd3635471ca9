"""Reads the pages need, composed from the apps' own selectors (every list goes through the
jurisdiction scoping of :mod:`civicgrid.org.scoping`, via ``cases_visible``/``events_visible``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models import Case, Supervision, TimelineEntry
from civicgrid.events.selectors import events_visible
from civicgrid.events.workflow import OPEN_STATES
from civicgrid.geo.models import Region
from civicgrid.org.models import Department, Membership
from civicgrid.privacy.fields import hash_lookup

CENTRE_ROLES = frozenset({"dispatcher", "admin"})


def user_roles(user: Any) -> set[str]:
    """The roles a signed-in person holds (any region or department); superusers hold them all."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_web_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = {"admin", "dispatcher", "grid_worker", "department_handler", "leader"}
        else:
            cached = set(Membership.objects.filter(user=user, is_active=True).values_list("role", flat=True))
        user._web_roles = cached
    return set(cached)


def home_url(user: Any) -> str:
    """Where the site root sends a person: the page of their main role."""
    roles = user_roles(user)
    if roles & CENTRE_ROLES:
        return reverse("web:centre")
    if "grid_worker" in roles:
        return reverse("web:grid")
    if "department_handler" in roles:
        return reverse("web:department")
    if roles & {"leader", "auditor", "mediator"}:
        return reverse("web:dashboard")
    return reverse("web:report")


@dataclass(frozen=True)
class NavItem:
    name: str
    label: Any
    url: str


def navigation(user: Any) -> list[NavItem]:
    """The menu of the pages this person may use."""
    roles = user_roles(user)
    items = [NavItem("report", _("Report"), reverse("web:report")), NavItem("track", _("Track"), reverse("web:track"))]
    if roles & CENTRE_ROLES:
        items += [NavItem("centre", _("Workbench"), reverse("web:centre")),
                  NavItem("map", _("Map"), reverse("web:centre_map")),
                  NavItem("agent", _("12345"), reverse("web:agent"))]
    if "grid_worker" in roles:
        items += [NavItem("grid", _("My grid"), reverse("web:grid")),
                  NavItem("tasks", _("My tasks"), reverse("web:grid_tasks"))]
    if "department_handler" in roles:
        items.append(NavItem("department", _("My cases"), reverse("web:department")))
    if roles - {"resident"}:
        items += [NavItem("cases", _("Cases"), reverse("web:cases")),
                  NavItem("dashboard", _("Dashboard"), reverse("web:dashboard"))]
    return items


def _open(user: Any) -> QuerySet[Case]:
    return events_visible(user=user).filter(state__in=OPEN_STATES, merged_into__isnull=True)


def open_cases(*, user: Any) -> QuerySet[Case]:
    """The open events of my jurisdiction, whatever their date: the cases the centre's map counts."""
    return _open(user)


def _list(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related("category", "grid", "street", "lead_department", "event",
                             "event__suggested_department")


QUEUES: dict[str, Any] = {
    "new": _("New"),  # 新上报, to register
    "dispatch": _("To dispatch"),
    "overdue": _("Overdue"),
    "disputed": _("Disputed dispatches"),
    "supervision": _("Supervision"),
}


def queue_cases(*, user: Any, name: str, now: dt.datetime | None = None) -> QuerySet[Case]:
    """One queue of the centre workbench, oldest first (what waits longest comes first)."""
    now = now or timezone.now()
    qs = _open(user)
    if name == "new":
        qs = qs.filter(state="reported")
    elif name == "dispatch":
        qs = qs.filter(state="registered")
    elif name == "overdue":
        qs = qs.filter(handling_due_at__lt=now, deferred=False)
    elif name == "disputed":
        qs = qs.filter(state="review")
    elif name == "supervision":
        qs = qs.filter(pk__in=Supervision.objects.filter(closed_at__isnull=True).values("case_id"))
    else:
        raise KeyError(name)
    order = ("handling_due_at", "id") if name == "overdue" else ("created_at", "id")
    return _list(qs).order_by(*order)


def queue_counts(*, user: Any, now: dt.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    return {name: queue_cases(user=user, name=name, now=now).count() for name in QUEUES}


@dataclass(frozen=True)
class GridLoad:
    """Open events of one grid, and how many of them are overdue (the map's colours)."""

    grid_id: int
    open: int
    overdue: int


def open_cases_by_grid(*, user: Any, now: dt.datetime | None = None) -> dict[int, GridLoad]:
    now = now or timezone.now()
    rows = (_open(user).filter(grid__isnull=False).values("grid")
            .annotate(n=Count("id"), late=Count("id", filter=Q(handling_due_at__lt=now, deferred=False)))
            .order_by())
    return {r["grid"]: GridLoad(r["grid"], r["n"], r["late"]) for r in rows}


def grid_worker_grids(*, user: Any) -> QuerySet[Region]:
    """The grids a grid worker patrols: those of their memberships (a community membership: its grids)."""
    regions = Membership.objects.filter(user=user, is_active=True, role="grid_worker").values_list("region", flat=True)
    return Region.objects.filter(Q(pk__in=regions, level="grid") | Q(parent__in=regions, level="grid"),
                                 is_active=True).order_by("code")


def grid_open_cases(*, user: Any) -> QuerySet[Case]:
    return _list(_open(user)).order_by("handling_due_at", "id")


def grid_tasks(*, user: Any) -> QuerySet[Case]:
    """What waits for the grid worker's on-site check (核查)."""
    return _list(_open(user).filter(state="verifying")).order_by("created_at", "id")


def user_departments(*, user: Any) -> QuerySet[Department]:
    return Department.objects.filter(memberships__user=user, memberships__is_active=True,
                                     memberships__role="department_handler").distinct()


def department_cases(*, user: Any, state: str = "") -> QuerySet[Case]:
    """The open events the person's departments lead or hold an assignment of."""
    depts = user_departments(user=user).values("pk")
    qs = _open(user).filter(Q(lead_department__in=depts) | Q(assignments__department__in=depts,
                                                             assignments__ended_at__isnull=True))
    if state:
        qs = qs.filter(state=state)
    return _list(Case.objects.filter(pk__in=qs.values("pk"))).order_by("handling_due_at", "id")


def caller_cases(*, user: Any, phone: str) -> QuerySet[Case]:
    """Earlier events of a caller, found by the keyed hash of the phone number (never a scan of
    decrypted values), within the agent's jurisdiction; newest first."""
    return _list(events_visible(user=user).filter(**hash_lookup(Case, "reporter_phone", phone))).order_by(
        "-created_at", "-id")


@dataclass(frozen=True)
class Answer:
    """An answer given before to an enquiry (直接答复): the knowledge base is the centre's own
    answered enquiries."""

    tracking_code: str
    question: str
    answer: str
    at: dt.datetime


def knowledge_answers(*, user: Any, query: str, limit: int = 10) -> list[Answer]:
    """Answered enquiries whose question or answer contains every word of ``query``, newest first."""
    words = [w for w in (query or "").split() if w][:5]
    if not words:
        return []
    entries = TimelineEntry.objects.filter(action="answer",
                                           case__in=events_visible(user=user).filter(state="answered").values("pk"))
    for w in words:
        entries = entries.filter(Q(note__icontains=w) | Q(case__title__icontains=w) | Q(case__text__icontains=w))
    rows = entries.select_related("case").order_by("-at", "-id")[:limit]
    return [Answer(e.case.tracking_code, e.case.text or e.case.title, e.note, e.at) for e in rows]
