"""Reads of the case engine: simple case lookups and the assessment
metrics (考核指标, DOMAIN §6) over any period and jurisdiction.

Metrics
=======

Every metric is a :class:`Rate` — numerator, denominator, and ``value`` (numerator ÷ denominator,
a fraction between 0 and 1; ``None`` when the denominator is 0) — and every number can be opened
to the cases behind it with :func:`metric_cases`. The definitions, for a :class:`Period`
``[start, end)`` and a set of cases (the user's jurisdiction and/or an explicit region,
department, case type):

* **counted** cases are those not merged into another (a merged duplicate follows its survivor) and
  not in an *unregistered* state (rejected, closed without handling; see
  :func:`unregistered_states_of`).
* **due in the period**: counted cases whose ``handling_due_at`` (the current handling deadline,
  moved by an approved extension or a resumed deferral) falls in ``[start, end)``.
* **deferred**: due cases whose clocks stand still now (``deferred``; 缓办/挂起).
* **closed**: due, not deferred cases with ``closed_at`` set (closed at any time, even after the
  period: the rate of a past month keeps rising until its late cases are closed).
* 结案率 ``closure`` = closed / (due − deferred).
* 按期结案率 ``on_time`` = closed with ``closed_at <= handling_due_at`` / (due − deferred).
* 返工率 ``rework`` = reworked / ever closed, both among due − deferred: *ever closed* means closed
  now or reopened at least once (a reopened case that is being handled again was closed once),
  *reworked* means reopened at least once (``reopen_count > 0``).
* 延期率 ``extension`` = due cases with an approved extension (``extended``) / due.
* 立案率 ``registration`` = registered / received: *received* = cases created in the period
  (merged, rejected and still undecided included), *registered* = received, counted and past the
  registration decision: not still waiting for it in one of the type's *awaiting* states (an
  event still ``reported``; see :func:`awaiting_registration_states_of`).
* The three rates (三率) count **valid follow-ups** (``Rating.valid``) made in the period
  (``Rating.at`` in ``[start, end)``) on the cases of the set; each follow-up call counts once (a
  case rated twice, before and after a rework, counts twice): 响应率 ``response`` = contacted /
  valid; 解决率 ``resolution`` = resolved / valid; 满意率 ``satisfaction`` = (satisfied + 0.9 ×
  basically satisfied) / valid.
* The composite score is ``100 × (w₁·response + w₂·resolution + w₃·satisfaction)`` with the weights
  of the setting ``CIVICGRID_SCORE_WEIGHTS`` (default ``"0.1,0.5,0.4"``; relative: divided by their
  sum), graded A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E below.

:func:`metrics_for` answers all of them in two queries. The one over cases groups them by nine
flags (due, counted, deferred, closed, on time, reopened, extended, received, registered;
``CASE_PARTS`` states each metric as a condition on them), so the database evaluates each flag once per case and returns
a handful of rows, which are then added up; the one over follow-ups counts with conditional
``COUNT … FILTER``. :func:`metrics_by_department` and :func:`metrics_by_region` answer a dashboard
table the same way, in two grouped queries (and one for the names of the rows).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civicgrid.cases import registry
from civicgrid.cases.models import (
    LINK_KINDS,
    RELATION_LABELS,
    Assignment,
    AssignmentState,
    Case,
    CaseDocument,
    CaseLink,
    Delivery,
    DocumentVersion,
    Party,
    Rating,
    RatingSource,
    Satisfaction,
    TimelineEntry,
    Timer,
    TimerState,
)
from civicgrid.cases.registry import CaseType
from civicgrid.cases.visibility import SMALL_COUNT as SMALL_COUNT  # re-exported: the public threshold
from civicgrid.cases.visibility import restricted_q, suppress, unrestricted_q
from civicgrid.geo.models import LEVELS, Region
from civicgrid.org.models import Department, Membership, Role, User
from civicgrid.org.permissions import VIEW
from civicgrid.org.scoping import (
    OutOfScope,
    get_scoped_or_404,
    is_superuser_active,
    memberships_scoped,
    reaches_as_creator,
    roles_reaching,
    scope_q,
    scoped,
)
from civicgrid.org.selectors import department_service_areas
from civicgrid.workcal.clock import CALENDAR_TZ

# ---------------------------------------------------------------------------------------------
# simple case reads


def cases_visible(*, user: Any, action: str = VIEW) -> QuerySet[Case]:
    """The cases ``user`` may ``action`` (its jurisdiction, its department's cases, its own reports)."""
    return scoped(Case.objects.all(), user, action)


def cases_unrestricted() -> QuerySet[Case]:
    """Every case its jurisdiction sees, none of a restricted type's (registry.Visibility): what the
    platform's own readers without a user take — the public tracking page, Open311, the dispatch
    model's training data, the duplicate index, the 12345 knowledge base."""
    return Case.objects.filter(unrestricted_q())


def restricted_among(cases: QuerySet[Case]) -> bool:
    """Whether ``cases`` include a case of a restricted rule (then counts of them are suppressed
    below ``SMALL_COUNT``: :func:`count_shown`)."""
    if not registry.restricted_audiences():
        return False
    return cases.filter(restricted_q()).exists()


def count_shown(value: float | int | None, *, suppressed: bool) -> str | None:
    """A count as a dashboard shows it: "<5" for 1…4 when the counted set includes restricted cases
    (``suppressed``), else None (show the number)."""
    return suppress(value) if suppressed else None


def case_get(*, user: Any, pk: int | None = None, tracking_code: str | None = None, action: str = VIEW) -> Case:
    """One case by id or tracking code, if ``user`` may ``action`` it; anything else is a 404."""
    if (pk is None) == (tracking_code is None):
        raise ValueError("give either pk or tracking_code")
    lookup: dict[str, Any] = {"pk": pk} if pk is not None else {"tracking_code": (tracking_code or "").strip().upper()}
    return get_scoped_or_404(Case.objects.select_related("district", "street", "lead_department"), user, action,
                             **lookup)


def case_timeline(*, case: Case, public_only: bool = False) -> QuerySet[TimelineEntry]:
    """The case's history, oldest first; ``public_only`` keeps what the reporter is shown."""
    qs = TimelineEntry.objects.filter(case=case).order_by("at", "id")
    return qs.filter(public=True) if public_only else qs


def regions_meeting_q(case: Case) -> Q | None:
    """Regions whose area meets the case's place: its own chain (the region it lies in and the
    ones above) and, below its deepest known region, everything inside it (a case known only to
    its district may go to any of the district's streets). None when the case has no place."""
    chain = {lv: getattr(case, f"{lv}_id") for lv in LEVELS}
    known = [lv for lv in LEVELS if chain[lv]]
    if not known:
        return None
    deepest = known[-1]
    return Q(pk__in=[chain[lv] for lv in known]) | Q(**{f"{deepest}_id": chain[deepest]})


def departments_serving(*, case: Case, departments: QuerySet[Department]) -> QuerySet[Department]:
    """Those of ``departments`` that serve the case's place: a department serves the areas it names
    (``service_regions``), or the region it belongs to when it names none. The units an action may
    name (the engine's ``targets_check``) and the ones a case page offers."""
    where = regions_meeting_q(case)
    if where is None:
        return departments
    served = Region.objects.filter(where)
    return departments.filter(
        pk__in=Department.objects.filter(Q(service_regions__in=served)
                                         | Q(service_regions__isnull=True, region__in=served)).values("pk"))


def _place_chain(case: Case) -> tuple[set[int], str, int] | None:
    chain = {lv: getattr(case, f"{lv}_id") for lv in LEVELS}
    known = [lv for lv in LEVELS if chain[lv]]
    if not known:
        return None
    return {chain[lv] for lv in known}, known[-1], chain[known[-1]]


def _meets(place: tuple[set[int], str, int] | None, region_id: int, region_chain: Callable[[str], Any]) -> bool:
    """:func:`regions_meeting_q` for one region in memory: the region is on the case's chain, or
    lies inside the case's deepest known region."""
    if place is None:
        return True
    known, deepest, deepest_id = place
    return region_id in known or region_chain(deepest) == deepest_id


def region_meets(*, case: Case, region: Region) -> bool:
    """Whether ``region`` meets the case's place (:func:`regions_meeting_q`), without a query."""
    return _meets(_place_chain(case), region.pk, lambda lv: getattr(region, f"{lv}_id"))


def department_serves(*, case: Case, department: Department) -> bool:
    """Whether ``department`` serves the case's place (:func:`departments_serving` for one
    department), from its cached service areas (``org.selectors.department_service_areas``)."""
    place = _place_chain(case)
    if place is None:
        return True
    return any(_meets(place, int(area["id"] or 0), area.get) for area in department_service_areas(department.pk))


def department_targets(*, actor: Any, case: Case, among: Iterable[int] | None = None) -> QuerySet[Department]:
    """The departments an action on ``case`` may name for ``actor`` (lead, co-handling, summoned):
    active, serving the case's place, and visible to the actor (the platform, ``actor=None``, sees
    every one). The engine's ``targets_check`` and ``rules.case_actions`` both ask this; ``among``
    (ids) narrows it first, so a check of the named units reads only those."""
    base = Department.objects.filter(is_active=True)
    if among is not None:
        base = base.filter(pk__in=list(among))
    qs = departments_serving(case=case, departments=base)
    return scoped(qs, actor, VIEW) if actor is not None else qs


def region_targets(*, actor: Any, case: Case, among: Iterable[int] | None = None) -> QuerySet[Region]:
    """The regions an action on ``case`` may name for ``actor`` (a centre handling it itself):
    active, meeting the case's place, visible to the actor (``among``: only those ids)."""
    rq = Region.objects.filter(is_active=True)
    if among is not None:
        rq = rq.filter(pk__in=list(among))
    if actor is not None:
        rq = scoped(rq, actor, VIEW)
    where = regions_meeting_q(case)
    return rq.filter(where) if where is not None else rq


def person_targets(*, actor: Any, case: Case, roles: Iterable[str], among: Iterable[int] | None = None
                   ) -> QuerySet[User]:
    """The people an action on ``case`` may name for ``actor`` (an input of kind ``person``: a
    mediator, a leader owning the case, a petition handler): active accounts holding one of
    ``roles`` (the input's declaration) through an active membership that reaches the case's place
    — a region on the case's chain (its grid, community, street, district or city), or, for a
    department handler, a department serving the place — and that the actor can see (the region or
    department of that membership is in the actor's view; the platform, ``actor=None``, sees every
    one). The engine's ``targets_check`` and ``rules.case_actions`` both ask this; ``among`` (ids)
    narrows it first."""
    held = Membership.objects.filter(is_active=True, role__in=list(roles), user__is_active=True)
    if among is not None:
        held = held.filter(user_id__in=list(among))
    chain = [getattr(case, f"{lv}_id") for lv in LEVELS if getattr(case, f"{lv}_id")]
    if chain:
        serving = departments_serving(case=case, departments=Department.objects.filter(is_active=True))
        held = held.filter(Q(region_id__in=chain)
                           | Q(role=Role.DEPARTMENT_HANDLER, department__in=serving.values("pk")))
    if actor is not None:
        held = memberships_scoped(held, actor, VIEW)
    return User.objects.filter(pk__in=held.values("user_id"), is_active=True)


def cases_assigned_to(*, user: Any, done: bool = False) -> QuerySet[Case]:
    """"My cases" of a person: the cases they may see where they hold an open person assignment
    (waiting to be accepted, accepted or disputed) — with ``done``, also those where their assignment
    is done —, soonest due first."""
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    states = [AssignmentState.PENDING, AssignmentState.ACCEPTED, AssignmentState.DISPUTED]
    if done:
        states.append(AssignmentState.DONE)
    mine = Assignment.objects.filter(person_id=user.pk, state__in=states).values("case_id")
    return cases_visible(user=user).filter(pk__in=mine).order_by(F("handling_due_at").asc(nulls_last=True), "id")


STAFF_VIEW, PUBLIC_VIEW = "staff", "public"


def case_view_of(*, user: Any, case: Case) -> str:
    """How ``user`` may read ``case`` — decided here once for the API, the pages and any later door:
    ``STAFF_VIEW`` (the whole case: internal notes, who acted, assignments, clocks, supervision,
    requests) for a superuser, anyone whose role reaches it, and the staff who keyed it in or work at
    that person's centre (a 12345 call placed elsewhere); ``PUBLIC_VIEW`` (what the public tracking
    page shows) for a reporter who reaches it only as its owner. Call it on a case the user can see at
    all (:func:`case_get`)."""
    if is_superuser_active(user):
        return STAFF_VIEW
    if roles_reaching(case, user, VIEW) - {"owner"} or reaches_as_creator(case, user):
        return STAFF_VIEW
    return PUBLIC_VIEW


def case_public_notes(case: Case) -> frozenset[str]:
    """The actions whose timeline notes are written *to* the reporter (the type's ``public_notes``:
    a rejection's reason, a direct answer, the reply); every other note stays inside."""
    try:
        return registry.of(case).public_notes
    except LookupError:
        return frozenset()


def case_public_timeline(*, case: Case) -> list[TimelineEntry]:
    """The public view of the case's history, oldest first: only the steps shown to the reporter,
    with no author and no note except those written to the reporter (read-only copies)."""
    notes = case_public_notes(case)
    entries = list(case_timeline(case=case, public_only=True))
    for e in entries:
        e.actor_id, e.actor_name = None, ""
        if e.action not in notes:
            e.note = ""
        e.attachments = []
    return entries


def case_open_timers(*, case: Case) -> QuerySet[Timer]:
    """The clocks still running or paused on the case, soonest due first."""
    return (Timer.objects.filter(case=case, state__in=[TimerState.RUNNING, TimerState.PAUSED])
            .select_related("assignment__department", "assignment__person").order_by("due_at"))


# ---------------------------------------------------------------------------------------------
# links between cases (案件关联)

MERGE_DEPTH = 5  # how far down a chain of merges (A took in B, which had taken in C) links are gathered


def _merged_family(case_id: int) -> dict[int, str]:
    """The case and the cases merged into it (and into those, to MERGE_DEPTH levels): id → the
    tracking code of the merged case a link came through ('' for the case itself)."""
    family: dict[int, str] = {case_id: ""}
    frontier = [case_id]
    for _level in range(MERGE_DEPTH):
        if not frontier:
            break
        rows = list(Case.objects.filter(merged_into_id__in=frontier).values_list("pk", "tracking_code"))
        frontier = [pk for pk, _code in rows if pk not in family]
        family.update({pk: code for pk, code in rows if pk in frontier})
    return family


@dataclass(frozen=True)
class LinkView:
    """One link as a reader of one case sees it: the ``relation`` from this case's side (``led_to``,
    ``opened_from``, …) and its label; the other case, or None when the reader may not see it (then
    nothing of it is shown: no code, no title, no note); ``via``: the tracking code of the case merged
    into this one that holds the link ('' when this case holds it)."""

    id: int
    kind: str
    relation: str
    label: str
    case: Case | None
    via: str
    note: str
    created_at: dt.datetime

    @property
    def visible(self) -> bool:
        return self.case is not None


def case_links(*, case: Case, user: Any) -> list[LinkView]:
    """The links of ``case`` — its own and those of the cases merged into it (a merge keeps them:
    the survivor shows them) — oldest first, read from this case's side. A linked case ``user`` may
    not see (``cases_visible``) is given as None (``user=None``: the platform, which sees all)."""
    family = _merged_family(case.pk)
    links = list(CaseLink.objects.filter(Q(from_case_id__in=family) | Q(to_case_id__in=family))
                 .exclude(from_case_id__in=family, to_case_id__in=family)  # within the family: not a link out
                 .order_by("created_at", "id"))
    others = {link.to_case_id if link.from_case_id in family else link.from_case_id for link in links}
    seen = cases_visible(user=user) if user is not None else Case.objects.all()
    shown = {c.pk: c for c in seen.filter(pk__in=others).select_related("merged_into")} if others else {}
    out = []
    for link in links:
        outgoing = link.from_case_id in family
        mine, other = (link.from_case_id, link.to_case_id) if outgoing else (link.to_case_id, link.from_case_id)
        relation = LINK_KINDS[link.kind][0 if outgoing else 1]
        visible = shown.get(other)
        out.append(LinkView(id=link.pk, kind=link.kind, relation=relation, label=str(RELATION_LABELS[relation]),
                            case=visible, via=family[mine], note=link.note if visible is not None else "",
                            created_at=link.created_at))
    return out


def cases_linked_with(*, case: Case) -> QuerySet[Case]:
    """The cases linked with ``case`` or with a case merged into it (either way, any kind): the
    search "linked to case X". Narrow it to what a reader may see (``cases_visible``) before
    showing it."""
    family = list(_merged_family(case.pk))
    out_ids = CaseLink.objects.filter(from_case_id__in=family).values("to_case_id")
    in_ids = CaseLink.objects.filter(to_case_id__in=family).values("from_case_id")
    return Case.objects.filter(Q(pk__in=out_ids) | Q(pk__in=in_ids)).exclude(pk__in=family)


# ---------------------------------------------------------------------------------------------
# metrics: periods, results


def _aware(value: dt.datetime | dt.date | None) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            raise ValueError("a period bound must be an aware datetime (or a date)")
        return value
    return dt.datetime(value.year, value.month, value.day, tzinfo=CALENDAR_TZ)


@dataclass(frozen=True)
class Period:
    """A half-open span of time ``[start, end)``; ``None`` leaves a side open. Dates are local
    midnights in Asia/Shanghai (the working calendar's zone)."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None

    @classmethod
    def of_days(cls, first: dt.date | None, end: dt.date | None) -> Period:
        """From the local midnight of ``first`` to that of ``end`` (either may be open)."""
        return cls(_aware(first), _aware(end))

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _aware(self.start))
        object.__setattr__(self, "end", _aware(self.end))
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("a period cannot end before it starts")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        return cls(_aware(dt.date(year, month, 1)), _aware(nxt))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(_aware(dt.date(year, 1, 1)), _aware(dt.date(year + 1, 1, 1)))

    @classmethod
    def days(cls, first: dt.date, last: dt.date) -> Period:
        """From the start of ``first`` to the end of ``last`` (both included)."""
        return cls(_aware(first), _aware(last + dt.timedelta(days=1)))

    def q(self, field_name: str) -> Q:
        """The filter keeping values of ``field_name`` inside the period (and not null)."""
        q = Q(**{f"{field_name}__isnull": False})
        if self.start is not None:
            q &= Q(**{f"{field_name}__gte": self.start})
        if self.end is not None:
            q &= Q(**{f"{field_name}__lt": self.end})
        return q


WHOLE_TIME = Period()

METRICS: dict[str, Any] = {
    "closure": _("closure rate"),  # 结案率
    "on_time": _("on-time closure rate"),  # 按期结案率
    "rework": _("rework rate"),  # 返工率
    "extension": _("extension rate"),  # 延期率
    "registration": _("registration rate"),  # 立案率
    "response": _("response rate"),  # 响应率
    "resolution": _("resolution rate"),  # 解决率
    "satisfaction": _("satisfaction rate"),  # 满意率
}
# What each rate divides by, in words for the pages (the definitions above, said briefly).
METRIC_DEFINITIONS: dict[str, Any] = {
    "closure": _("closed ÷ cases whose handling deadline falls in the period, deferred ones left out; "
                 "every case of the area counts, also those not yet registered or dispatched"),
    "on_time": _("closed by the handling deadline ÷ the same cases as the closure rate"),
    "rework": _("reopened at least once ÷ the cases of the closure rate that were ever closed"),
    "extension": _("with an approved extension ÷ cases whose handling deadline falls in the period"),
    "registration": _("registered ÷ cases received in the period, including those still waiting for "
                      "registration, not registered or merged"),
    # a valid follow-up is a staff call that reached the reporter: their own ratings are counted apart
    "response": _("follow-ups where the reporter says the unit contacted them ÷ valid follow-ups made in the "
                  "period"),
    "resolution": _("follow-ups where the problem was resolved ÷ valid follow-ups made in the period"),
    "satisfaction": _("(satisfied + 0.9 × basically satisfied) ÷ valid follow-ups made in the period"),
}
CASE_METRICS = ("closure", "on_time", "rework", "extension", "registration")
RATING_METRICS = ("response", "resolution", "satisfaction")
BASIC_SATISFACTION_WEIGHT = 0.9  # 基本满意 counts 0.9 of 满意
GRADES: tuple[tuple[float, str], ...] = ((90.0, "A"), (75.0, "B"), (60.0, "C"), (40.0, "D"))
DEFAULT_SCORE_WEIGHTS = "0.1,0.5,0.4"  # 响应率, 解决率, 满意率
DEFAULT_GRADE_WEIGHTS = "0.6,0.2,0.2"  # the three rates' composite score, 结案率, 按期结案率


@dataclass(frozen=True)
class Rate:
    """One metric: ``value`` = numerator ÷ denominator (0…1), None when the denominator is 0."""

    metric: str
    numerator: float
    denominator: int
    value: float | None = None

    @classmethod
    def of(cls, metric: str, numerator: float | None, denominator: int | None) -> Rate:
        num, den = numerator or 0, int(denominator or 0)
        return cls(metric=metric, numerator=num, denominator=den, value=(num / den) if den else None)

    @property
    def percent(self) -> float | None:
        return None if self.value is None else round(self.value * 100, 2)

    @property
    def label(self) -> str:
        return str(METRICS.get(self.metric, self.metric))


@dataclass(frozen=True)
class Score:
    """The composite of the three rates (综合得分, 0–100 points) and its grade (A–E)."""

    value: float | None
    grade: str | None
    weights: tuple[float, float, float]


@dataclass(frozen=True)
class Grade:
    """The overall grade (综合等级, 0–100 points, A–E): the three rates' composite score, 结案率 and
    按期结案率, weighted by ``weights`` in that order (``CIVICGRID_GRADE_WEIGHTS``). None while any
    of the three has no denominator. Each part is a figure of its own, drillable to its cases."""

    value: float | None
    grade: str | None
    weights: tuple[float, float, float]


@dataclass(frozen=True)
class ClosureRates:
    closure: Rate
    on_time: Rate
    rework: Rate
    extension: Rate
    registration: Rate


@dataclass(frozen=True)
class ThreeRates:
    response: Rate
    resolution: Rate
    satisfaction: Rate
    score: Score


@dataclass(frozen=True)
class Metrics:
    """Every metric of one set of cases over one period."""

    closure: Rate
    on_time: Rate
    rework: Rate
    extension: Rate
    registration: Rate
    response: Rate
    resolution: Rate
    satisfaction: Rate
    score: Score
    grade: Grade

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MetricsRow:
    """One line of a dashboard table: a department or a region (``key`` None: cases without one)."""

    key: int | None
    label: str
    metrics: Metrics
    code: str = ""


def _weights(raw: Any, *, setting: str, names: str, example: str, from_setting: bool) -> tuple[float, float, float]:
    try:
        parts = [p for p in raw.replace("/", ",").split(",")] if isinstance(raw, str) else list(raw)
        values = [float(p) for p in parts]
        if len(values) != 3 or any(not math.isfinite(v) or v < 0 for v in values) or sum(values) <= 0:
            raise ValueError
    except (TypeError, ValueError):
        message = f"{setting} must be three non-negative numbers for {names}, e.g. {example} (got {raw!r})"
        if from_setting:
            raise ImproperlyConfigured(message) from None
        raise ValueError(message) from None
    total = sum(values)
    return (values[0] / total, values[1] / total, values[2] / total)


def score_weights(weights: Sequence[float] | str | None = None) -> tuple[float, float, float]:
    """The composite weights of 响应率/解决率/满意率, from the argument or the setting
    ``CIVICGRID_SCORE_WEIGHTS`` (``"0.1,0.5,0.4"`` by default); divided by their sum."""
    from_setting = weights is None
    raw: Any = getattr(settings, "CIVICGRID_SCORE_WEIGHTS", DEFAULT_SCORE_WEIGHTS) if from_setting else weights
    return _weights(raw, setting="CIVICGRID_SCORE_WEIGHTS", names="响应率,解决率,满意率", example="0.1,0.5,0.4",
                    from_setting=from_setting)


def grade_weights(weights: Sequence[float] | str | None = None) -> tuple[float, float, float]:
    """The weights of the overall grade: the three rates' composite score, 结案率 and 按期结案率, from
    the argument or the setting ``CIVICGRID_GRADE_WEIGHTS`` (``"0.6,0.2,0.2"`` by default)."""
    from_setting = weights is None
    raw: Any = getattr(settings, "CIVICGRID_GRADE_WEIGHTS", DEFAULT_GRADE_WEIGHTS) if from_setting else weights
    return _weights(raw, setting="CIVICGRID_GRADE_WEIGHTS", names="三率综合得分,结案率,按期结案率",
                    example="0.6,0.2,0.2", from_setting=from_setting)


def grade_for(score: float | None) -> str | None:
    """A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E below (None for no score)."""
    if score is None:
        return None
    for floor, grade in GRADES:
        if score >= floor - 1e-9:
            return grade
    return "E"


def composite_score(response: Rate, resolution: Rate, satisfaction: Rate,
                    weights: Sequence[float] | str | None = None) -> Score:
    w = score_weights(weights)
    if response.value is None or resolution.value is None or satisfaction.value is None:
        return Score(value=None, grade=None, weights=w)
    value = 100.0 * (w[0] * response.value + w[1] * resolution.value + w[2] * satisfaction.value)
    return Score(value=value, grade=grade_for(value), weights=w)


def overall_grade(score: Score, closure: Rate, on_time: Rate,
                  weights: Sequence[float] | str | None = None) -> Grade:
    w = grade_weights(weights)
    if score.value is None or closure.value is None or on_time.value is None:
        return Grade(value=None, grade=None, weights=w)
    value = w[0] * score.value + 100.0 * (w[1] * closure.value + w[2] * on_time.value)
    return Grade(value=value, grade=grade_for(value), weights=w)


# ---------------------------------------------------------------------------------------------
# metrics: which cases


def unregistered_states_of(case_type: CaseType) -> frozenset[str]:
    """The states in which a case of this type was not registered (不予立案, rejected, closed
    without handling).

    A type names them in ``unregistered_states``; otherwise they are the closed states
    that are only reached by closing transitions from the initial state (DRILL: ``reject`` from
    ``new`` → ``rejected``; ``finish`` from ``handling`` → ``done`` is a registered, handled case)."""
    explicit = case_type.unregistered_states
    if explicit is not None:
        return frozenset(explicit)
    found = set()
    for state in case_type.closed_states:
        into = [t for t in case_type.transitions.values() if t.target == state]
        if into and all(t.closes and set(t.sources) == {case_type.initial} for t in into):
            found.add(state)
    return frozenset(found)


def awaiting_registration_states_of(case_type: CaseType) -> frozenset[str]:
    """The states in which a case of this type still waits for the registration decision (an
    event ``reported``, not yet 立案 or 不予立案): received but not registered.

    A type names them in ``awaiting_registration_states``; otherwise it is the initial
    state, where every case starts before anyone has decided on it."""
    explicit = case_type.awaiting_registration_states
    return frozenset(explicit) if explicit is not None else frozenset({case_type.initial})


def _states_q(case_type: str | None, states_of: Callable[[CaseType], frozenset[str]]) -> Q | None:
    """Cases of ``case_type`` (every registered type when None) in the states ``states_of`` names for
    their type; None when no type names any."""
    types = [registry.get(case_type)] if case_type else registry.all_types()
    q: Q | None = None
    for ctype in types:
        found = states_of(ctype)
        if found:
            part = Q(case_type=ctype.code, state__in=sorted(found))
            q = part if q is None else q | part
    return q


def _awaiting_q(case_type: str | None) -> Q | None:
    return _states_q(case_type, awaiting_registration_states_of)


def _unregistered_q(case_type: str | None, states: Iterable[str] | None) -> Q | None:
    if states is not None:
        states = sorted(set(states))
        return Q(state__in=states) if states else None
    return _states_q(case_type, unregistered_states_of)


# A case metric is a condition on nine flags of a case row, written as alternatives (OR) of
# conjunctions (flag → required value). The same definition gives the SQL filter of the cases behind
# a number (:func:`metric_cases`) and picks the groups to add up when counting (:func:`_case_counts`).
Conjunction = dict[str, bool]
_DUE = {"due": True, "counted": True}
_BASE = {**_DUE, "deferred": False}  # due − deferred
CASE_PARTS: dict[str, tuple[tuple[Conjunction, ...], tuple[Conjunction, ...]]] = {
    "closure": (({**_BASE, "closed": True},), (_BASE,)),
    "on_time": (({**_BASE, "closed": True, "on_time": True},), (_BASE,)),
    "rework": (({**_BASE, "reopened": True},), ({**_BASE, "closed": True}, {**_BASE, "reopened": True})),
    "extension": (({**_DUE, "extended": True},), (_DUE,)),
    "registration": (({"received": True, "registered": True},), ({"received": True},)),
}


@dataclass(frozen=True)
class _Selection:
    """The set of cases and the conditions of each metric (see the module docstring)."""

    cases: QuerySet[Case]
    period: Period
    counted: Q
    registered: Q  # counted and no longer awaiting the registration decision

    # --- case metrics ------------------------------------------------------------------------

    def flag_q(self) -> dict[str, Q]:
        """Each flag as a condition on Case rows."""
        return {
            "due": self.period.q("handling_due_at"),
            "counted": self.counted,
            "deferred": Q(deferred=True),
            "closed": Q(closed_at__isnull=False),
            "on_time": Q(closed_at__isnull=False, closed_at__lte=F("handling_due_at")),
            "reopened": Q(reopen_count__gt=0),
            "extended": Q(extended=True),
            "received": self.period.q("created_at"),
            "registered": self.registered,
        }

    def part_q(self, metric: str, index: int) -> Q:
        """The numerator (0) or denominator (1) of a case metric as a condition on Case rows."""
        flags = self.flag_q()
        terms = []
        for conjunction in CASE_PARTS[metric][index]:
            term = Q()
            for flag, wanted in conjunction.items():
                term &= flags[flag] if wanted else ~flags[flag]
            terms.append(term)
        return functools.reduce(operator.or_, terms)

    def case_filter(self) -> Q:
        """Rows any case metric may need (lets the database skip the others)."""
        if self.period.start is None and self.period.end is None:
            return Q()
        return self.period.q("handling_due_at") | self.period.q("created_at")

    def flag_groups(self, *keys: str) -> QuerySet[Case, dict[str, Any]]:
        """The cases counted by ``keys`` and the nine flags: one row per combination, so the
        database evaluates each flag once per case and returns a few rows whatever the number of
        cases."""
        flags = {f"m_{name}": ExpressionWrapper(q, output_field=BooleanField()) for name, q in self.flag_q().items()}
        return (self.cases.filter(self.case_filter()).annotate(**flags)
                .values(*keys, *flags).annotate(m_n=Count("*")).order_by())

    # --- follow-ups --------------------------------------------------------------------------

    def ratings(self) -> QuerySet[Rating]:
        """The valid staff follow-ups (有效回访) made in the period: the reporter's own ratings and
        failed call attempts are not follow-ups (see :func:`self_ratings`)."""
        return Rating.objects.filter(self.period.q("at"), valid=True, source=RatingSource.FOLLOW_UP,
                                     case__in=self.cases.values("pk"))

    def self_ratings(self) -> QuerySet[Rating]:
        return Rating.objects.filter(self.period.q("at"), source=RatingSource.RESIDENT,
                                     case__in=self.cases.values("pk"))

    @staticmethod
    def rating_parts() -> dict[str, tuple[Q, Q]]:
        """metric → (numerator condition, denominator condition), on valid Rating rows; the
        satisfaction numerator is weighted (see :func:`_rating_aggregates`)."""
        return {
            "response": (Q(contacted=True), Q()),
            "resolution": (Q(resolved=True), Q()),
            "satisfaction": (Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASIC]), Q()),
        }


def _lookups(q: Q) -> Iterable[str]:
    for child in q.children:
        if isinstance(child, Q):
            yield from _lookups(child)
        elif isinstance(child, tuple):
            yield child[0]
        else:  # an expression: no lookup to read (the scoping rules write none)
            raise TypeError(f"not a lookup: {child!r}")


def _scoped_cases(user: Any) -> QuerySet[Case]:
    """The user's cases for counting. ``scoped`` filters through a subquery of keys whenever the
    model declares a multi-valued path (a case's assignments), which makes the database join the
    case table with itself; here the subquery is used only when this user's reach really goes
    through such a path (a department handler's), and a dispatcher's or leader's reach is a plain
    filter on the region chain that an index answers."""
    q = scope_q(Case, user, VIEW)
    if q is None:
        return Case.objects.all()
    for lookup in _lookups(q):
        name = lookup.split("__", 1)[0]
        f = Case._meta.pk if name == "pk" else Case._meta.get_field(name)
        if f.many_to_many or f.one_to_many:
            return scoped(Case.objects.all(), user, VIEW)
    return Case.objects.filter(q)


def _selection(*, period: Period | None, user: Any, region: Region | None, department: Department | None,
               case_type: str | None, unregistered_states: Iterable[str] | None) -> _Selection:
    cases = _scoped_cases(user) if user is not None else Case.objects.all()
    if region is not None:
        if region.level not in LEVELS:
            raise ValueError(f"unknown region level {region.level!r}")
        cases = cases.filter(**{f"{region.level}_id": region.pk})
    if department is not None:
        cases = cases.filter(lead_department_id=department.pk)
    if case_type is not None:
        registry.get(case_type)  # an unknown type is a mistake, not an empty result
        cases = cases.filter(case_type=case_type)
    counted = Q(merged_into__isnull=True)
    unregistered = _unregistered_q(case_type, None if unregistered_states is None else list(unregistered_states))
    if unregistered is not None:
        counted &= ~unregistered
    awaiting = _awaiting_q(case_type)
    registered = counted & ~awaiting if awaiting is not None else counted
    return _Selection(cases=cases, period=period or WHOLE_TIME, counted=counted, registered=registered)


def _matches(row: dict[str, Any], alternatives: tuple[Conjunction, ...]) -> bool:
    return any(all(bool(row[f"m_{flag}"]) == wanted for flag, wanted in c.items()) for c in alternatives)


def _case_counts(groups: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Add up the flag groups into each metric's numerator and denominator."""
    counts = {f"{m}__{part}": 0 for m in CASE_METRICS for part in ("n", "d")}
    for row in groups:
        for metric, (num, den) in CASE_PARTS.items():
            if _matches(row, num):
                counts[f"{metric}__n"] += row["m_n"]
            if _matches(row, den):
                counts[f"{metric}__d"] += row["m_n"]
    return counts


def _rating_aggregates() -> dict[str, Count]:
    return {
        "valid": Count("pk"),
        "contacted": Count("pk", filter=Q(contacted=True)),
        "resolved": Count("pk", filter=Q(resolved=True)),
        "satisfied": Count("pk", filter=Q(satisfaction=Satisfaction.SATISFIED)),
        "basic": Count("pk", filter=Q(satisfaction=Satisfaction.BASIC)),
    }


def _closure_from(row: dict[str, Any]) -> ClosureRates:
    return ClosureRates(**{m: Rate.of(m, row.get(f"{m}__n"), row.get(f"{m}__d")) for m in CASE_METRICS})


def _three_from(row: dict[str, Any], weights: Sequence[float] | str | None) -> ThreeRates:
    valid = row.get("valid") or 0
    response = Rate.of("response", row.get("contacted"), valid)
    resolution = Rate.of("resolution", row.get("resolved"), valid)
    # rounded: 0.9 × 71 is 63.900000000000006 in binary floating point, and this number is shown
    # and exported as it is
    satisfied = round((row.get("satisfied") or 0) + BASIC_SATISFACTION_WEIGHT * (row.get("basic") or 0), 6)
    satisfaction = Rate.of("satisfaction", satisfied, valid)
    return ThreeRates(response=response, resolution=resolution, satisfaction=satisfaction,
                      score=composite_score(response, resolution, satisfaction, weights))


def _merge(closure: ClosureRates, three: ThreeRates) -> Metrics:
    return Metrics(**{m: getattr(closure, m) for m in CASE_METRICS},
                   **{m: getattr(three, m) for m in RATING_METRICS}, score=three.score,
                   grade=overall_grade(three.score, closure.closure, closure.on_time))


# ---------------------------------------------------------------------------------------------
# metrics: the public selectors


def closure_rates(*, period: Period | None = None, user: Any = None, region: Region | None = None,
                  department: Department | None = None, case_type: str | None = None,
                  unregistered_states: Iterable[str] | None = None) -> ClosureRates:
    """结案率, 按期结案率, 返工率, 延期率 and 立案率 of a set of cases over a period, in one query.

    ``user`` limits the cases to that user's jurisdiction (``scoped(..., "view")``); ``region``
    to the cases whose region chain contains it; ``department`` to the cases it leads;
    ``case_type`` to one type. ``unregistered_states`` overrides the states counted as not
    registered (default: :func:`unregistered_states_of` of each type)."""
    sel = _selection(period=period, user=user, region=region, department=department, case_type=case_type,
                     unregistered_states=unregistered_states)
    return _closure_from(_case_counts(sel.flag_groups()))


def three_rates(*, period: Period | None = None, user: Any = None, region: Region | None = None,
                department: Department | None = None, case_type: str | None = None,
                weights: Sequence[float] | str | None = None) -> ThreeRates:
    """响应率, 解决率, 满意率 over the valid follow-ups made in the period on the set's cases, and
    the composite score with its grade, in one query."""
    sel = _selection(period=period, user=user, region=region, department=department, case_type=case_type,
                     unregistered_states=None)
    return _three_from(sel.ratings().aggregate(**_rating_aggregates()), weights)


@dataclass(frozen=True)
class SelfRatings:
    """The reporters' own ratings (自评), counted apart from the follow-ups: they are not in the
    three rates (a reporter who rates was, by construction, reached)."""

    total: int
    satisfied: int
    basic: int
    unsatisfied: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def self_ratings(*, period: Period | None = None, user: Any = None, region: Region | None = None,
                 department: Department | None = None, case_type: str | None = None) -> SelfRatings:
    """How the reporters rated their own cases in the period (one query)."""
    sel = _selection(period=period, user=user, region=region, department=department, case_type=case_type,
                     unregistered_states=None)
    row = sel.self_ratings().aggregate(
        total=Count("pk"), satisfied=Count("pk", filter=Q(satisfaction=Satisfaction.SATISFIED)),
        basic=Count("pk", filter=Q(satisfaction=Satisfaction.BASIC)),
        unsatisfied=Count("pk", filter=Q(satisfaction=Satisfaction.UNSATISFIED)))
    return SelfRatings(**{k: v or 0 for k, v in row.items()})


def metrics_for(*, period: Period | None = None, user: Any = None, region: Region | None = None,
                department: Department | None = None, case_type: str | None = None,
                unregistered_states: Iterable[str] | None = None,
                weights: Sequence[float] | str | None = None) -> Metrics:
    """Every metric of the set over the period: two queries (see :func:`closure_rates` and
    :func:`three_rates` for the arguments)."""
    closure = closure_rates(period=period, user=user, region=region, department=department, case_type=case_type,
                            unregistered_states=unregistered_states)
    three = three_rates(period=period, user=user, region=region, department=department, case_type=case_type,
                        weights=weights)
    return _merge(closure, three)


def metric_cases(metric: str, *, part: str = "numerator", period: Period | None = None, user: Any = None,
                 region: Region | None = None, department: Department | None = None,
                 case_type: str | None = None, unregistered_states: Iterable[str] | None = None) -> QuerySet[Case]:
    """The cases behind a number: those counted in the metric's ``numerator`` or ``denominator``
    (same arguments as :func:`metrics_for`).

    For the three rates these are the cases with at least one follow-up counted (a case followed
    up twice is one row here and two in the number); the satisfaction numerator gives the cases
    rated satisfied or basically satisfied."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; one of {', '.join(METRICS)}")
    if part not in ("numerator", "denominator"):
        raise ValueError("part is 'numerator' or 'denominator'")
    sel = _selection(period=period, user=user, region=region, department=department, case_type=case_type,
                     unregistered_states=unregistered_states)
    index = 0 if part == "numerator" else 1
    if metric in CASE_METRICS:
        return sel.cases.filter(sel.part_q(metric, index))
    ratings = sel.ratings().filter(sel.rating_parts()[metric][index])
    return sel.cases.filter(pk__in=ratings.values("case_id"))


def metric_ratings(metric: str, *, part: str = "numerator", period: Period | None = None, user: Any = None,
                   region: Region | None = None, department: Department | None = None,
                   case_type: str | None = None) -> QuerySet[Rating]:
    """The follow-ups behind one of the three rates (exactly the rows counted)."""
    if metric not in RATING_METRICS:
        raise ValueError(f"{metric!r} is not one of the three rates")
    sel = _selection(period=period, user=user, region=region, department=department, case_type=case_type,
                     unregistered_states=None)
    index = 0 if part == "numerator" else 1
    return sel.ratings().filter(sel.rating_parts()[metric][index])


def _grouped(group: str, model: type[Department] | type[Region], *, period: Period | None, user: Any,
             region: Region | None, department: Department | None, case_type: str | None,
             unregistered_states: Iterable[str] | None,
             weights: Sequence[float] | str | None) -> list[MetricsRow]:
    """Metrics per value of the foreign key ``group`` (grouped by its id, so the big queries join
    nothing; the names come in a third, small query)."""
    sel = _selection(period=period, user=user, region=region, department=department, case_type=case_type,
                     unregistered_states=unregistered_states)
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in sel.flag_groups(group):
        groups.setdefault(row[group], []).append(row)
    merged: dict[Any, dict[str, Any]] = {key: _case_counts(rows) for key, rows in groups.items()}
    for row in sel.ratings().values(f"case__{group}").annotate(**_rating_aggregates()).order_by():
        merged.setdefault(row.pop(f"case__{group}"), {}).update(row)
    names = {pk: (code, name) for pk, code, name in
             model.objects.filter(pk__in=[k for k in merged if k is not None]).values_list("pk", "code", "name")}
    result = []
    for key, row in merged.items():
        code, name = names.get(key, ("", gettext("(none)")))
        result.append(MetricsRow(key=key, label=name, code=code,
                                 metrics=_merge(_closure_from(row), _three_from(row, weights))))
    result.sort(key=lambda r: (r.key is None, r.code or r.label))
    return result


def metrics_by_department(*, period: Period | None = None, user: Any = None, region: Region | None = None,
                          case_type: str | None = None, unregistered_states: Iterable[str] | None = None,
                          weights: Sequence[float] | str | None = None) -> list[MetricsRow]:
    """Every metric per lead department (one row per department, plus one for cases without one):
    two grouped queries and one for the departments' names."""
    return _grouped("lead_department", Department, period=period, user=user, region=region, department=None,
                    case_type=case_type, unregistered_states=unregistered_states, weights=weights)


def metrics_by_region(*, level: str = "street", period: Period | None = None, user: Any = None,
                      region: Region | None = None, department: Department | None = None,
                      case_type: str | None = None, unregistered_states: Iterable[str] | None = None,
                      weights: Sequence[float] | str | None = None) -> list[MetricsRow]:
    """Every metric per region of ``level`` (district, street, community or grid) of the cases'
    region chain: two grouped queries and one for the regions' names."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; one of {', '.join(LEVELS)}")
    return _grouped(level, Region, period=period, user=user, region=region,
                    department=department, case_type=case_type, unregistered_states=unregistered_states,
                    weights=weights)


def parties_of(*, case: Case) -> QuerySet[Party]:
    """The parties of a case the caller has fetched through ``case_get`` (in the order added)."""
    return Party.objects.filter(case=case).order_by("id")


def party_get(*, user: Any, case_id: int, party_id: int, action: str = VIEW) -> Party:
    """One party of a case ``user`` may ``action`` (the case through ``case_get``: 404 out of scope);
    a party of another case is a 404 too."""
    case = case_get(user=user, pk=case_id, action=action)
    party = Party.objects.filter(case=case, pk=party_id).first()
    if party is None:
        raise Http404(gettext("No party matches the given query."))
    party.case = case
    return party


# --- documents (案件文书) ------------------------------------------------------------------------------


def case_documents(*, case: Case) -> QuerySet[CaseDocument]:
    """The case's documents, oldest first, with their versions (newest first) and deliveries."""
    versions = DocumentVersion.objects.order_by("-number").select_related("created_by").prefetch_related(
        Prefetch("deliveries", queryset=Delivery.objects.order_by("delivered_at", "id")))
    return CaseDocument.objects.filter(case=case).order_by("id").prefetch_related(Prefetch("versions", versions))


@dataclass(frozen=True)
class DocumentFile:
    """A stored file to serve: where it is, the name to give it and its type."""

    path: Any  # pathlib.Path
    name: str
    content_type: str


def document_file(*, user: Any, case: Case, document_id: int, number: int, pdf: bool = False) -> DocumentFile:
    """A version of one of ``case``'s documents (``pdf``: its PDF rendering), for ``user``, who must
    see the case (call it with :func:`case_get`'s case). Staff who see the case read every version;
    the reporter reading their own case (the public view) only the PDF of a kind the case's type
    declares public (``CaseType.public_documents``). Anything else is OutOfScope (404)."""
    from civicgrid.cases.documents import PDF, file_path

    v = DocumentVersion.objects.select_related("document").filter(
        document_id=document_id, document__case=case, number=number).first()
    if v is None:
        raise OutOfScope(gettext("No document matches the given query."))
    if case_view_of(user=user, case=case) != STAFF_VIEW and not (
            pdf and v.document.kind in registry.of(case).public_documents):
        raise OutOfScope(gettext("No document matches the given query."))
    rel = v.pdf_path if pdf else v.path
    path = file_path(rel) if rel else None
    if path is None:
        raise OutOfScope(gettext("No document matches the given query."))
    name = v.name.rsplit(".", 1)[0] + ".pdf" if pdf else v.name
    return DocumentFile(path=path, name=name, content_type=PDF if pdf else v.content_type)


def delivery_proof_file(*, user: Any, case: Case, delivery_id: int) -> DocumentFile:
    """The proof of a delivery of one of ``case``'s documents, to staff who see the case (else 404)."""
    from civicgrid.cases.documents import file_path

    d = Delivery.objects.filter(pk=delivery_id, version__document__case=case).first()
    if d is None or not d.proof_path or case_view_of(user=user, case=case) != STAFF_VIEW:
        raise OutOfScope(gettext("No document matches the given query."))
    path = file_path(d.proof_path)
    if path is None:
        raise OutOfScope(gettext("No document matches the given query."))
    return DocumentFile(path=path, name=d.proof_name or "proof", content_type=d.proof_content_type)


def reporter_documents(*, user: Any, tracking_code: str) -> list[DocumentVersion]:
    """The PDFs the signed-in reporter of a case may download from its tracking page: the current
    version of each generated document of a kind its type declares public (none for anyone else:
    staff read them on the case page)."""
    if not getattr(user, "is_authenticated", False):
        return []
    try:
        case = case_get(user=user, tracking_code=tracking_code)
    except OutOfScope:
        return []
    kinds = registry.of(case).public_documents
    if not kinds or case_view_of(user=user, case=case) != PUBLIC_VIEW:
        return []
    return list(DocumentVersion.objects.select_related("document").filter(
        document__case=case, document__kind__in=kinds, number=F("document__current_version")
    ).exclude(pdf_path="").order_by("document_id"))
