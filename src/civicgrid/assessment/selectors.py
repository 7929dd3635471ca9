"""Reads of the follow-up calls (回访): who is due for a call, and who may make calls.

The call list of a user is the closed cases in their jurisdiction that

* are due for a follow-up: the 回访 clock (``follow_up``) was started since the case was last closed,
  and the case's unit's sampling rule draws it (a deterministic hash: the list computed again is the
  same list) — or
* need a verifying call (回访核实): the reporter rated this closing "unsatisfied" themself (their own
  rating reopens nothing: this call decides), sampled or not;

and have no valid follow-up of this closing yet, and fewer failed attempts than the rule allows."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from civicgrid.assessment.models import AssessmentPeriod, CallAttempt, SamplingRule, SubjectScore
from civicgrid.cases import registry
from civicgrid.cases.models import Case, Rating, RatingSource, Satisfaction, Timer
from civicgrid.cases.registry import REPORTER, SYSTEM
from civicgrid.cases.selectors import MetricsRow, Period, cases_visible, metrics_by_department, metrics_by_region
from civicgrid.org.models import Membership

FOLLOW_UP_CLOCK = "follow_up"
DEFAULT_MAX_ATTEMPTS = 3


def caller_roles() -> frozenset[str]:
    """The org roles that may record a follow-up on some case type (the engine's ``rate`` roles)."""
    roles: set[str] = set()
    for ctype in registry.all_types():
        roles |= set(ctype.generic.rate)
    return frozenset(roles - {REPORTER, SYSTEM})


def may_call(user: Any) -> bool:
    """Whether ``user`` works a call list at all (each call is still the engine's decision)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, is_active=True, role__in=caller_roles()).exists()


def draw(*, case_id: int, closing: int, salt: str = "") -> Decimal:
    """The case's place in the sample, in [0, 1): the same for the same case, closing and salt."""
    digest = hashlib.sha256(f"{salt}:{case_id}:{closing}".encode()).digest()
    return Decimal(int.from_bytes(digest[:4], "big")) / Decimal(2**32)


@dataclass(frozen=True)
class Rule:
    share: Decimal
    max_attempts: int
    salt: str


ALL = Rule(share=Decimal("1"), max_attempts=DEFAULT_MAX_ATTEMPTS, salt="")


def rules() -> tuple[Rule, dict[int, Rule]]:
    """The default rule (every case when none is set) and each department's own."""
    default, own = ALL, {}
    for r in SamplingRule.objects.all():
        rule = Rule(share=r.share, max_attempts=r.max_attempts, salt=r.salt)
        if r.department_id is None:
            default = rule
        else:
            own[r.department_id] = rule
    return default, own


def sampled(case_id: int, closing: int, rule: Rule) -> bool:
    return rule.share >= 1 or draw(case_id=case_id, closing=closing, salt=rule.salt) < rule.share


@dataclass(frozen=True)
class CallItem:
    case: Case
    verify: bool  # 回访核实: the reporter rated this closing "unsatisfied"
    due_at: dt.datetime | None  # the 回访 clock's due time
    attempts: int
    max_attempts: int


def _pending(cases: QuerySet[Case]) -> QuerySet[Case]:
    this_closing = Q(case=OuterRef("pk"), closing=OuterRef("closing"))
    clock = Timer.objects.filter(case=OuterRef("pk"), kind=FOLLOW_UP_CLOCK, started_at__gte=OuterRef("closed_at"))
    unsatisfied = Rating.objects.filter(this_closing, source=RatingSource.RESIDENT,
                                        satisfaction=Satisfaction.UNSATISFIED)
    followed = Rating.objects.filter(this_closing, source=RatingSource.FOLLOW_UP)
    attempts = (CallAttempt.objects.filter(this_closing).order_by().values("case")
                .annotate(n=Count("pk")).values("n"))
    return (cases.filter(closed_at__isnull=False, merged_into__isnull=True)
            .annotate(cl_verify=Exists(unsatisfied), cl_clock=Exists(clock),
                      cl_due=Subquery(clock.order_by("-started_at").values("due_at")[:1]),
                      cl_attempts=Coalesce(Subquery(attempts, output_field=IntegerField()), 0))
            .filter(Q(cl_verify=True) | Q(cl_clock=True))
            .exclude(Exists(followed))
            .order_by("-cl_verify", F("cl_due").asc(nulls_last=True), "pk"))


def call_list(*, user: Any, limit: int | None = 500) -> list[CallItem]:
    """The user's calls to make, verifying calls first, then by the 回访 clock's due time."""
    default, own = rules()
    cases = _pending(cases_visible(user=user)).select_related("lead_department", "street")
    items = []
    for case in cases.iterator(chunk_size=500):
        rule = own.get(case.lead_department_id or 0, default)
        verify, attempts = bool(getattr(case, "cl_verify")), int(getattr(case, "cl_attempts"))  # noqa: B009
        if attempts >= rule.max_attempts:
            continue
        if not verify and not sampled(case.pk, case.closing, rule):
            continue
        items.append(CallItem(case=case, verify=verify, due_at=getattr(case, "cl_due"),  # noqa: B009
                              attempts=attempts, max_attempts=rule.max_attempts))
        if limit is not None and len(items) >= limit:
            break
    return items


def calls_of(*, case: Case) -> QuerySet[CallAttempt]:
    """The calls made about a case (any closing), newest first."""
    return CallAttempt.objects.filter(case=case).select_related("by").order_by("-at", "-pk")


# --- unit performance (目标责任考核) -------------------------------------------------------------------


def subject_metrics(*, subject_kind: str, region: Any, first_day: dt.date, last_day: dt.date) -> list[MetricsRow]:
    """The engine's metrics per subject of the region over the days (both included): per lead
    department, or per street or community. Cases without a subject are left out."""
    period = Period.days(first_day, last_day)
    if subject_kind == "department":
        rows = metrics_by_department(period=period, region=region)
    else:
        rows = metrics_by_region(level=subject_kind, period=period, region=region)
    return [r for r in rows if r.key is not None]


def period_scores(*, period: AssessmentPeriod) -> QuerySet[SubjectScore]:
    """The ranking of a stored period: ranked subjects first, by rank, then the unscored."""
    return period.scores.order_by(F("rank").asc(nulls_last=True), "code")


def periods_visible(*, user: Any) -> QuerySet[AssessmentPeriod]:
    """The periods of regions the user reaches (newest first)."""
    from civicgrid.geo.models import Region
    from civicgrid.org.scoping import scoped

    regions = scoped(Region.objects.all(), user)
    return (AssessmentPeriod.objects.filter(region__in=regions).select_related("scheme", "region")
            .order_by("-last_day", "-pk"))


def previous_scores(*, period: AssessmentPeriod) -> dict[int, float | None]:
    """Each subject's final score in the previous period of the same scheme code, kind and region."""
    before = (AssessmentPeriod.objects.filter(scheme__code=period.scheme.code, subject_kind=period.subject_kind,
                                              region=period.region, last_day__lt=period.first_day)
              .order_by("-last_day").first())
    if before is None:
        return {}
    return dict(before.scores.values_list("subject_id", "final"))


def may_assess(user: Any) -> bool:
    """Whether ``user`` computes, reviews, approves and publishes unit assessments."""
    from civicgrid.org.models import Role

    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser or Membership.objects.filter(
        user=user, is_active=True, role__in=(Role.ADMIN, Role.LEADER)).exists())


def may_read_rankings(user: Any) -> bool:
    """Staff read published rankings of the regions they reach; residents do not."""
    from civicgrid.org.models import Role

    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser or Membership.objects.filter(user=user, is_active=True)
                .exclude(role=Role.RESIDENT).exists())


def period_get(*, user: Any, pk: int) -> AssessmentPeriod:
    """A period the user may read (404 otherwise): of a region they reach, and published unless they
    assess."""
    from django.http import Http404

    from civicgrid.assessment.models import PeriodState

    periods = periods_visible(user=user)
    if not may_assess(user):
        periods = periods.filter(state=PeriodState.PUBLISHED)
    found = periods.filter(pk=pk).first()
    if found is None:
        raise Http404("No assessment period matches the given query.")
    return found


def drill_url(period: AssessmentPeriod, score: SubjectScore, metric: str, part: str = "numerator") -> str:
    """The case list behind one indicator of one subject (the engine's metric drill-down)."""
    from urllib.parse import urlencode

    params = {"start": period.first_day.isoformat(), "end": period.last_day.isoformat(), "metric": metric,
              "part": part}
    if period.subject_kind == "department":
        params.update(region=period.region.code, department=score.code)
    else:
        params["region"] = score.code
    return "/cases/?" + urlencode(params)
