"""Reads of the events app: the reporter's public view by tracking code, the centre's manual
queue, and whistle-summons figures (whistle rate per street, department scores)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet
from django.utils.translation import gettext as _

from civicgrid.cases.models import Case, RatingSource, Satisfaction, TimelineEntry
from civicgrid.cases.selectors import Period, cases_visible, unrestricted_q
from civicgrid.events.models import (
    NEVER_PUBLIC_CHANNELS,
    NEVER_PUBLIC_REQUEST_TYPES,
    EventDetail,
    Open311Publication,
    Routing,
    Whistle,
    WhistleSummons,
)
from civicgrid.events.workflow import EVENT, OPEN_STATES, PUBLIC_NOTES, STATES, event_type
from civicgrid.geo.models import Region
from civicgrid.org.models import Department


def events_visible(*, user: Any) -> QuerySet[Case]:
    """The events ``user`` may see (jurisdiction, department assignments, own reports)."""
    return cases_visible(user=user).filter(case_type=EVENT)


def event_detail(*, case: Case) -> EventDetail | None:
    return EventDetail.objects.select_related("suggested_department").filter(case=case).first()


def events_manual_queue(*, user: Any) -> QuerySet[Case]:
    """Events the centre must route by hand (人工派单): unknown place or category, or no department
    found, and not dispatched yet."""
    return (events_visible(user=user).filter(event__routing=Routing.MANUAL, state__in=("reported", "registered"))
            .order_by("created_at", "id"))


def events_open(*, user: Any) -> QuerySet[Case]:
    return events_visible(user=user).filter(state__in=OPEN_STATES)


def _action_label(action: str) -> str:
    t = event_type().transitions.get(action)
    if t is not None:
        return str(t.label)
    return str({"create": _("reported"), "merge": _("merged into another report"), "reopen": _("reopened"),
                "rate": _("rated"), "recall": _("dispatch recalled")}.get(action, action))


@dataclass(frozen=True)
class PublicStep:
    at: dt.datetime
    action: str
    label: str
    state: str
    note: str
    moved: bool = True  # the step changed the state (not so for the report itself, or a rating)


@dataclass(frozen=True)
class PublicEvent:
    """What the reporter sees (公众查询): no staff names, no personal data, no internal notes."""

    tracking_code: str
    title: str
    state: str
    state_label: str
    category: str | None
    request_type: str | None
    reported_at: dt.datetime
    closed_at: dt.datetime | None
    merged_into: str | None
    steps: list[PublicStep]
    can_rate: bool


def step_label(label: str, entry: TimelineEntry) -> str:
    """A timeline step's ``label``, with the satisfaction given when the step is a rating
    (已评价：满意) — on the reporter's page and the staff's alike."""
    satisfaction = entry.data.get("satisfaction") if entry.action == "rate" else None
    if satisfaction not in Satisfaction.values:
        return label
    return _("%(step)s: %(satisfaction)s") % {"step": label, "satisfaction": Satisfaction(satisfaction).label}


def _public_step(entry: TimelineEntry) -> PublicStep:
    note = entry.note if entry.action in PUBLIC_NOTES else ""
    return PublicStep(at=entry.at, action=entry.action, label=step_label(_action_label(entry.action), entry),
                      state=str(STATES.get(entry.to_state, entry.to_state)), note=note, moved=entry.moved)


def events_public_steps(*, case_ids: list[int]) -> dict[int, list[PublicStep]]:
    """The public timeline of several events at once (one query), oldest step first: what
    :func:`event_public` shows the reporter, for lists (Open311's notes)."""
    steps: dict[int, list[PublicStep]] = {pk: [] for pk in case_ids}
    for entry in TimelineEntry.objects.filter(case_id__in=case_ids, public=True).order_by("case_id", "at", "id"):
        steps[entry.case_id].append(_public_step(entry))
    return steps


def event_public(*, tracking_code: str) -> PublicEvent | None:
    """The public view of one event by its tracking code (None when there is no such event)."""
    case = (Case.objects.select_related("category", "request_type", "merged_into")
            .filter(case_type=EVENT, tracking_code=(tracking_code or "").strip().upper()).first())
    if case is None:
        return None
    steps = [_public_step(e) for e in TimelineEntry.objects.filter(case=case, public=True).order_by("at", "id")]
    rated = case.closed_at is not None and case.ratings.filter(closing=case.closing,
                                                               source=RatingSource.RESIDENT).exists()
    return PublicEvent(
        tracking_code=case.tracking_code, title=case.title, state=case.state,
        state_label=str(STATES.get(case.state, case.state)),
        category=case.category.name if case.category else None,
        request_type=case.request_type.name if case.request_type else None,
        reported_at=case.created_at, closed_at=case.closed_at,
        merged_into=case.merged_into.tracking_code if case.merged_into else None,
        steps=steps, can_rate=case.state in ("answered", "replied") and not rated)


def event_reported_by(*, tracking_code: str, user: Any) -> bool:
    """Whether the signed-in ``user`` is the account the event was reported from (who may rate it
    without the rating secret)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Case.objects.filter(case_type=EVENT, tracking_code=(tracking_code or "").strip().upper(),
                               reporter=user).exists()


# ---------------------------------------------------------------------------------------------
# what Open311 publishes


def open311_publication() -> Open311Publication:
    """The administrator's Open311 publication rule (the defaults while none is saved)."""
    return Open311Publication.objects.order_by("pk").first() or Open311Publication()


def open311_public_q(rule: Open311Publication | None = None) -> Q:
    """The events Open311 may show anyone: of a public channel, with a category of a public kind,
    and of a public request type (or none, when the rule says so) — never a 12345 call, a
    complaint or a report/accusation, whatever the rule says."""
    rule = rule or open311_publication()
    channels = sorted(set(rule.channels or ()) - NEVER_PUBLIC_CHANNELS)
    types = sorted(set(rule.request_types or ()) - NEVER_PUBLIC_REQUEST_TYPES)
    of_type = Q(request_type__code__in=types)
    if rule.without_request_type:
        of_type |= Q(request_type__isnull=True)
    # never a restricted type's case (registry.Visibility), whatever the rule says
    return unrestricted_q() & Q(channel__in=channels, category__kind__in=list(rule.category_kinds or ())) & of_type


# ---------------------------------------------------------------------------------------------
# whistle-summons figures


@dataclass(frozen=True)
class WhistleRate:
    """How often a street blows the whistle: whistled events / events of the street in the period
    (too low: the mechanism is unused; too high: routine handling is failing)."""

    street: Region
    events: int
    whistled: int

    @property
    def rate(self) -> float | None:
        return self.whistled / self.events if self.events else None


def whistle_rates(*, period: Period | None = None, user: Any = None,
                  district: Region | None = None) -> list[WhistleRate]:
    """Per street: events created in the period, and how many of them were whistled (two queries)."""
    period = period or Period()
    cases = Case.objects.filter(case_type=EVENT, street__isnull=False).filter(period.q("created_at"))
    if user is not None:
        cases = events_visible(user=user).filter(street__isnull=False).filter(period.q("created_at"))
    if district is not None:
        cases = cases.filter(district=district)
    rows = cases.values("street").annotate(n=Count("id", distinct=True),
                                           w=Count("id", filter=Q(whistles__isnull=False), distinct=True)).order_by()
    counts = {r["street"]: (r["n"], r["w"]) for r in rows}
    streets = Region.objects.in_bulk(list(counts))
    return sorted((WhistleRate(streets[s], n, w) for s, (n, w) in counts.items()), key=lambda r: r.street.code)


@dataclass(frozen=True)
class DepartmentWhistleScore:
    """A department's answers to whistles: how many, on time, and the streets' mean score."""

    department: Department
    summoned: int
    acknowledged_on_time: int
    arrived_on_time: int
    responded: int
    scored: int
    mean_score: float | None

    @property
    def on_time_rate(self) -> float | None:
        return self.arrived_on_time / self.summoned if self.summoned else None


def department_whistle_scores(*, period: Period | None = None,
                              street: Region | None = None) -> list[DepartmentWhistleScore]:
    """Per summoned department, over whistles blown in the period (optionally by one street)."""
    period = period or Period()
    qs = WhistleSummons.objects.filter(period.q("whistle__blown_at"))
    if street is not None:
        qs = qs.filter(whistle__street=street)
    rows = qs.values("department").annotate(
        n=Count("id"),
        ack=Count("id", filter=Q(acknowledged_at__isnull=False, acknowledged_at__lte=F("ack_due_at"))),
        arr=Count("id", filter=Q(arrived_at__isnull=False, arrived_at__lte=F("arrive_due_at"))),
        resp=Count("id", filter=Q(responded_at__isnull=False)),
        scored=Count("score"),
        mean=Avg("score"),
    ).order_by()
    depts = Department.objects.in_bulk([r["department"] for r in rows])
    out = [DepartmentWhistleScore(depts[r["department"]], r["n"], r["ack"], r["arr"], r["resp"], r["scored"],
                                  round(r["mean"], 1) if r["mean"] is not None else None) for r in rows]
    return sorted(out, key=lambda s: s.department.code)


def whistles_of(*, case: Case) -> QuerySet[Whistle]:
    return Whistle.objects.filter(case=case).prefetch_related("summons__department").order_by("blown_at", "id")
