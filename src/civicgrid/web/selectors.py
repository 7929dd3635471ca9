"""Reads the pages need, composed from the apps' own selectors (every list goes through the
jurisdiction scoping of :mod:`civicgrid.org.scoping`, via ``cases_visible``/``events_visible``).

The workbench queues, the department list, the grid tasks and the map list every registered case
type and read each type's declaration (:mod:`civicgrid.cases.registry`): a case is open when its
state is not one of its type's closed states and it was not merged; its state's label is its type's.
A new type shows up here by registering, without a page of its own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civicgrid.cases import registry
from civicgrid.cases.models import Case, Supervision, TimelineEntry
from civicgrid.cases.registry import CaseType
from civicgrid.cases.rules import ActionOffer, case_actions
from civicgrid.cases.selectors import case_public_timeline, cases_visible, unrestricted_q
from civicgrid.events.selectors import events_visible
from civicgrid.geo.models import Level, Region
from civicgrid.org.models import Department, Membership, Role
from civicgrid.privacy.fields import hash_lookup
from civicgrid.warning.selectors import VIEW_ROLES as ALERT_READERS

CENTRE_ROLES = frozenset({Role.DISPATCHER, Role.ADMIN})


def user_roles(user: Any) -> set[str]:
    """The roles a signed-in person holds (any region or department); superusers hold them all."""
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_web_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = {Role.ADMIN, Role.DISPATCHER, Role.GRID_WORKER, Role.DEPARTMENT_HANDLER, Role.LEADER}
        else:
            cached = set(Membership.objects.filter(user=user, is_active=True).values_list("role", flat=True))
        user._web_roles = cached
    return set(cached)


def home_url(user: Any) -> str:
    """Where the site root sends a person: the page of their main role."""
    roles = user_roles(user)
    if roles & CENTRE_ROLES:
        return reverse("web:centre")
    if Role.GRID_WORKER in roles:
        return reverse("web:grid")
    if Role.DEPARTMENT_HANDLER in roles:
        return reverse("web:department")
    if Role.MEDIATOR in roles:
        return reverse("disputes:queue")  # the disputes routed to their organisations, and the queue
    if roles & {Role.LEADER, Role.AUDITOR}:
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
    if roles & ALERT_READERS:
        items.append(NavItem("warnings", _("Alerts"), reverse("warning:queue")))
    if Role.GRID_WORKER in roles:
        items += [NavItem("grid", _("My grid"), reverse("web:grid")),
                  NavItem("tasks", _("My tasks"), reverse("web:grid_tasks"))]
    if Role.DEPARTMENT_HANDLER in roles:
        items.append(NavItem("department", _("My department's cases"), reverse("web:department")))
    if roles & (CENTRE_ROLES | {Role.MEDIATOR, Role.GRID_WORKER}):
        items += [NavItem("disputes", _("Disputes"), reverse("disputes:queue")),
                  NavItem("screening", _("Screening reports"), reverse("disputes:screening"))]
    if roles - {Role.RESIDENT}:
        items += [NavItem("mine", _("My cases"), reverse("web:mine")),
                  NavItem("cases", _("Cases"), reverse("web:cases")),
                  NavItem("dashboard", _("Dashboard"), reverse("web:dashboard"))]
    from civicgrid.assessment.selectors import caller_roles

    if roles & caller_roles():  # who records follow-ups: the engine's rate roles
        items.append(NavItem("calls", _("Follow-up calls"), reverse("assessment:calls")))
    if roles - {Role.RESIDENT}:
        items.append(NavItem("performance", _("Unit assessments"), reverse("assessment:performance")))
    if Role.AUDITOR in roles:
        items.append(NavItem("audit", _("Auditor's desk"), reverse("web:audit_desk")))
    return items


# --- what the declarations say about states ---------------------------------------------------


def state_label_of(case_type: str, state: str) -> str:
    """The label a case type gives one of its states (the state's name when the type is unknown)."""
    try:
        return str(registry.get(case_type).states.get(state, state))
    except LookupError:
        return state


def state_labels() -> dict[str, str]:
    """Every registered type's states with their labels, for a filter over all types: a state two
    types share under two labels shows both."""
    out: dict[str, list[str]] = {}
    for ctype in registry.all_types():
        for state, label in ctype.states.items():
            if str(label) not in out.setdefault(state, []):
                out[state].append(str(label))
    return {state: " / ".join(labels) for state, labels in out.items()}


# The engine's own steps (not a type's transitions), as the timelines name them.
GENERIC_STEPS: dict[str, Any] = {
    "create": _("reported"), "merge": _("merged into another case"), "absorb": _("took in duplicates"),
    "reopen": _("reopened"), "rate": _("rated"), "recall": _("dispatch recalled"), "escalate": _("escalated"),
    "chase": _("chased"), "supervise": _("supervised"), "extension_request": _("asked for an extension"),
    "extension_approved": _("extension approved"), "extension_rejected": _("extension refused"),
    "whistle_ack": _("summons signed"), "whistle_arrive": _("on site"), "whistle_respond": _("summons answered"),
    "whistle_score": _("summons scored"), "link": _("linked"),
    "upload_document": _("document uploaded"), "generate_document": _("document generated"),
    "record_delivery": _("delivery recorded"),
}
DOCUMENT_STEPS = ("upload_document", "generate_document", "record_delivery")
# ... and as the reporter reads them: their report was merged into another *report*
PUBLIC_STEPS: dict[str, Any] = {**GENERIC_STEPS, "merge": _("merged into another report")}


def step_name(action: str, case_type: str, *, public: bool = False) -> str:
    """The translated name of a timeline step: the case type's label of its transition, else the
    engine's generic step's."""
    try:
        t = registry.get(case_type).transitions.get(action)
    except LookupError:
        t = None
    if t is not None and t.label:
        return str(t.label)
    return str((PUBLIC_STEPS if public else GENERIC_STEPS).get(action, action))


def step_label(entry: TimelineEntry, case_type: str, *, public: bool = False) -> str:
    """A timeline step's name, with the satisfaction given when it is a rating (已评价：满意) and the
    relation when it is a link (linked: opened from; the other case is shown in the links panel,
    to those who may see it)."""
    from civicgrid.cases.models import RELATION_LABELS, Satisfaction

    label = step_name(entry.action, case_type, public=public)
    relation = entry.data.get("relation") if entry.action == "link" else None
    if relation in RELATION_LABELS:
        return gettext("%(step)s: %(relation)s") % {"step": label, "relation": RELATION_LABELS[relation]}
    if entry.action in DOCUMENT_STEPS and entry.data.get("title"):  # which document, which version
        return gettext("%(step)s: %(title)s (v%(version)s)") % {"step": label, "title": entry.data["title"],
                                                                "version": entry.data.get("version", "")}
    satisfaction = entry.data.get("satisfaction") if entry.action == "rate" else None
    if satisfaction not in Satisfaction.values:
        return label
    return gettext("%(step)s: %(satisfaction)s") % {"step": label, "satisfaction": Satisfaction(satisfaction).label}


@dataclass(frozen=True)
class PublicStep:
    at: dt.datetime
    action: str
    label: str
    state: str
    note: str
    moved: bool = True  # the step changed the state (not so for the report itself, or a rating)


@dataclass(frozen=True)
class PublicCase:
    """What anyone with the tracking code sees (公众查询), for a case of any type: its state and the
    steps its type marks public, with no staff names, no personal data and no internal notes."""

    tracking_code: str
    case_type: str
    title: str
    state: str
    state_label: str
    category: str | None
    reported_at: dt.datetime
    closed_at: dt.datetime | None
    merged_into: str | None
    steps: list[PublicStep]


def case_public(*, tracking_code: str, user: Any = None) -> PublicCase | None:
    """The public view of one case of a registered type by its tracking code (None when none). A
    case of a restricted type (registry.Visibility) is never public: only its reporter's own signed-in
    account (``user``) reads it here."""
    seen = unrestricted_q()
    if getattr(user, "is_authenticated", False):
        seen |= Q(reporter=user)
    case = (Case.objects.select_related("category", "merged_into")
            .filter(seen, tracking_code=(tracking_code or "").strip().upper(),
                    case_type__in=[t.code for t in registry.all_types()]).first())
    if case is None:
        return None
    steps = [PublicStep(at=e.at, action=e.action, label=step_label(e, case.case_type, public=True),
                        state=state_label_of(case.case_type, e.to_state), note=e.note, moved=e.moved)
             for e in case_public_timeline(case=case)]
    return PublicCase(
        tracking_code=case.tracking_code, case_type=case.case_type, title=case.title, state=case.state,
        state_label=state_label_of(case.case_type, case.state),
        category=case.category.name if case.category else None, reported_at=case.created_at,
        closed_at=case.closed_at, merged_into=case.merged_into.tracking_code if case.merged_into else None,
        steps=steps)


def _per_type(states_of: Any) -> Q:
    """Cases whose state is one of ``states_of(case_type)`` for their own type (no case when no type
    names any)."""
    q = Q(pk__in=[])
    for ctype in registry.all_types():
        states = set(states_of(ctype))
        if states:
            q |= Q(case_type=ctype.code, state__in=sorted(states))
    return q


def closed_states_of(ctype: CaseType) -> frozenset[str]:
    return frozenset(ctype.closed_states) | {ctype.merged_state}


def open_q() -> Q:
    """Open cases of every registered type: not in one of the type's closed states, not merged."""
    return _per_type(lambda t: set(t.states) - closed_states_of(t)) & Q(merged_into__isnull=True)


def _open(user: Any) -> QuerySet[Case]:
    return cases_visible(user=user).filter(open_q())


def open_cases(*, user: Any) -> QuerySet[Case]:
    """The open cases of my jurisdiction, of every type, whatever their date: those the centre's map counts."""
    return _open(user)


def _sources(ctype: CaseType, name: str) -> set[str]:
    t = ctype.transitions.get(name)
    if t is None:
        return set()
    return set(ctype.states) if "*" in t.sources else set(t.sources)


def _targets(ctype: CaseType, name: str) -> set[str]:
    t = ctype.transitions.get(name)
    return {t.target} if t is not None and t.target else set()


def new_states(ctype: CaseType) -> set[str]:
    """A type's "new" queue: cases still in the state they were created in."""
    return {ctype.initial}


def disputed_states(ctype: CaseType) -> set[str]:
    """A type's "disputed" queue: the states a unit's dispute (the transition ``dispute``) leads to."""
    return _targets(ctype, "dispute") - closed_states_of(ctype)


def dispatch_states(ctype: CaseType) -> set[str]:
    """A type's "to dispatch" queue: the states its ``dispatch`` leaves from, but for new and disputed
    cases, which have queues of their own."""
    return _sources(ctype, "dispatch") - new_states(ctype) - disputed_states(ctype) - closed_states_of(ctype)


def check_states(ctype: CaseType) -> set[str]:
    """The states in which a grid worker has a step to take: the grid worker's tasks."""
    return {s for t in ctype.transitions.values() if Role.GRID_WORKER in t.roles
            for s in (ctype.states if "*" in t.sources else t.sources)} - closed_states_of(ctype)


def handler_states(ctype: CaseType) -> set[str]:
    """The open states of the type in which a department handler may act (the department list's tabs)."""
    return {s for t in ctype.transitions.values() if Role.DEPARTMENT_HANDLER in t.roles
            for s in (ctype.states if "*" in t.sources else t.sources)} - closed_states_of(ctype)


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
        qs = qs.filter(_per_type(new_states))
    elif name == "dispatch":
        qs = qs.filter(_per_type(dispatch_states))
    elif name == "overdue":
        qs = qs.filter(handling_due_at__lt=now, deferred=False)
    elif name == "disputed":
        qs = qs.filter(_per_type(disputed_states))
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
class RowActions:
    """A queue row's shortcuts, drawn from the engine's offers (``rules.case_actions``): ``steps``
    the offered steps that move the case on and ask for no required input (one click each), ``asks``
    those that ask for one (a link to the case page's form), ``chase`` whether chase is offered."""

    steps: tuple[ActionOffer, ...] = ()
    asks: tuple[ActionOffer, ...] = ()
    chase: bool = False


def _row_actions_of(user: Any, case: Case) -> RowActions:
    try:
        ctype = registry.of(case)
    except LookupError:
        return RowActions()
    offers = case_actions(user, case)
    steps, asks = [], []
    for o in offers:
        t = ctype.transitions.get(o.name) if o.kind == "transition" else None
        if t is None or o.refused or t.target is None or t.target == case.state or t.target in ctype.closed_states:
            continue
        if any(i.name == "reason" for i in o.inputs):
            continue  # a rejection, a dispute, a send-back: the case page, where the reason is asked
        (asks if any(i.required for i in o.inputs) else steps).append(o)
    return RowActions(tuple(steps), tuple(asks), any(o.name == "chase" for o in offers))


def _loaded_suggestion(case: Case) -> bool:
    """Whether the row came with a suggested department (an event's, loaded with it): the engine's
    default for dispatch, which makes the department optional."""
    # a case with no event detail has none (the missing relation is an AttributeError too)
    return getattr(getattr(case, "event", None), "suggested_department_id", None) is not None


def row_actions(*, user: Any, cases: Iterable[Case]) -> dict[int, RowActions]:
    """Each row's shortcuts (:class:`RowActions`), by case id.

    ``case_actions`` costs some queries a case (roles, assignments, requests, targets): computed for
    every row, a page of 100 rows would cost hundreds. So the offers are computed once per distinct
    (type, state, suggested department or not) among the rows, on the first row of each: a queue
    holds only cases of this person's jurisdiction, where their roles resolve alike, so the rows of
    one type and state are offered the same steps. A guard that refuses one case of the group is
    still the engine's to refuse when the button is pressed (the row then shows the reason)."""
    memo: dict[tuple[str, str, bool], RowActions] = {}
    out: dict[int, RowActions] = {}
    for c in cases:
        key = (c.case_type, c.state, _loaded_suggestion(c))
        if key not in memo:
            memo[key] = _row_actions_of(user, c)
        out[c.pk] = memo[key]
    return out


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
    regions = (Membership.objects.filter(user=user, is_active=True, role=Role.GRID_WORKER)
               .values_list("region", flat=True))
    return Region.objects.filter(Q(pk__in=regions, level=Level.GRID) | Q(parent__in=regions, level=Level.GRID),
                                 is_active=True).order_by("code")


def grid_open_cases(*, user: Any) -> QuerySet[Case]:
    return _list(_open(user)).order_by("handling_due_at", "id")


def grid_tasks(*, user: Any) -> QuerySet[Case]:
    """What waits for the grid worker's step (an event's on-site check, 核查): open cases in a state
    where their type lets a grid worker act."""
    return _list(_open(user).filter(_per_type(check_states))).order_by("created_at", "id")


def user_departments(*, user: Any) -> QuerySet[Department]:
    return Department.objects.filter(memberships__user=user, memberships__is_active=True,
                                     memberships__role=Role.DEPARTMENT_HANDLER).distinct()


def department_cases(*, user: Any, state: str = "") -> QuerySet[Case]:
    """The open cases (every type) the person's departments lead or hold an assignment of."""
    depts = user_departments(user=user).values("pk")
    qs = _open(user).filter(Q(lead_department__in=depts) | Q(assignments__department__in=depts,
                                                             assignments__ended_at__isnull=True))
    if state:
        qs = qs.filter(state=state)
    return _list(Case.objects.filter(pk__in=qs.values("pk"))).order_by("handling_due_at", "id")


def department_states() -> dict[str, str]:
    """The department list's tabs: every open state, after the one a case is created in, of every
    registered type (a state several types share is one tab), with its label."""
    labels = state_labels()
    states: list[str] = []
    for ctype in registry.all_types():
        for state in ctype.states:
            if state not in closed_states_of(ctype) and state not in new_states(ctype) and state not in states:
                states.append(state)
    return {state: labels[state] for state in states}


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
    # never a restricted type's answer (registry.Visibility), even to someone who may read the case
    answered = events_visible(user=user).filter(unrestricted_q(), state="answered")
    entries = TimelineEntry.objects.filter(action="answer", case__in=answered.values("pk"))
    for w in words:
        entries = entries.filter(Q(note__icontains=w) | Q(case__title__icontains=w) | Q(case__text__icontains=w))
    rows = entries.select_related("case").order_by("-at", "-id")[:limit]
    return [Answer(e.case.tracking_code, e.case.text or e.case.title, e.note, e.at) for e in rows]
