"""Writes of the follow-up calls (回访): record a call, set a unit's sampling rule.

A call's result is the engine's: ``cases.services.case_rate`` records the valid follow-up of a
reached call (and reopens the case when the type says an unsatisfied follow-up does), or a failed
attempt; this app records the call itself, linked to that rating."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.assessment.models import (
    Adjustment,
    AssessmentPeriod,
    CallAttempt,
    CallOutcome,
    PeriodState,
    SamplingRule,
    Scheme,
    SubjectKind,
    SubjectScore,
)
from civicgrid.assessment.performance import grade_of, score_parts
from civicgrid.assessment.selectors import may_call
from civicgrid.audit.services import audit_record, snapshot
from civicgrid.cases.errors import CaseConflict, TransitionNotAllowed, TransitionRefused
from civicgrid.cases.models import Case, Satisfaction
from civicgrid.cases.services import case_rate
from civicgrid.org.models import Department, Role


def call_record(*, actor: Any, case: Case, outcome: str, contacted: bool | None = None,
                resolved: bool | None = None, satisfaction: str = "", note: str = "",
                now: dt.datetime | None = None) -> CallAttempt:
    """Record one follow-up call about the case's current closing.

    ``reached``: the reporter answered — were they contacted by the handling unit, is it resolved,
    how satisfied (all three required); this is the closing's one valid follow-up (a second answers
    409). ``unreachable`` / ``refused``: an attempt, counted against the rule's attempts. The caller
    needs the engine's ``rate`` role on the case (403 otherwise); the case must be closed."""
    now = now or timezone.now()
    if outcome not in CallOutcome.values:
        raise TransitionNotAllowed({"outcome": _("Choose reached, unreachable or refused.")})
    if not may_call(actor):
        raise TransitionRefused(_("You do not make follow-up calls."))
    note = (note or "").strip()[:500]
    reached = outcome == CallOutcome.REACHED
    if reached:
        missing = {name: _("Answer this question.") for name, value in
                   (("contacted", contacted), ("resolved", resolved)) if value is None}
        if satisfaction not in Satisfaction.values:
            missing["satisfaction"] = _("Choose satisfied, basically satisfied or unsatisfied.")
        if missing:
            raise TransitionNotAllowed(missing)
    with transaction.atomic():
        # a failed attempt is the engine's attempt row (kept apart, reopens nothing); its
        # "satisfaction" is the engine's required field and means nothing: the outcome says why
        rating = case_rate(actor=actor, case=case, satisfaction=satisfaction if reached else Satisfaction.UNSATISFIED,
                           contacted=bool(contacted) if reached else False,
                           resolved=bool(resolved) if reached else False,
                           comment=note or (str(CallOutcome(outcome).label) if not reached else ""),
                           valid=reached, now=now)
        try:
            with transaction.atomic():
                call = CallAttempt.objects.create(case=case, closing=rating.closing, outcome=outcome, rating=rating,
                                                  note=note, by=actor if getattr(actor, "pk", None) else None, at=now)
        except IntegrityError:
            raise CaseConflict(_("The follow-up of this closing has been recorded already."),
                               action="call") from None
        audit_record(actor=actor, action="assessment.call", target=case,
                     after={"closing": call.closing, "outcome": outcome, "rating": rating.pk})
    return call


def _share(value: Any) -> Decimal:
    try:
        share = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise TransitionNotAllowed({"share": _("Give a share between 0 and 1.")}) from None
    if not share.is_finite() or share < 0 or share > 1:
        raise TransitionNotAllowed({"share": _("Give a share between 0 and 1.")})
    return share.quantize(Decimal("0.001"))


def sampling_rule_set(*, actor: Any, department: Department | None, share: Any, max_attempts: int = 3,
                      salt: str = "") -> SamplingRule:
    """Set the share of a unit's closed cases called back (``department`` None: the default rule).
    Administrators only; audited with the values before and after."""
    from civicgrid.org.models import Membership

    if not (getattr(actor, "is_superuser", False) or Membership.objects.filter(
            user=actor, is_active=True, role=Role.ADMIN).exists()):
        raise TransitionRefused(_("Only an administrator sets the follow-up sampling."))
    value = _share(share)
    if not isinstance(max_attempts, int) or not 1 <= max_attempts <= 20:
        raise TransitionNotAllowed({"max_attempts": _("Give a number of attempts from 1 to 20.")})
    with transaction.atomic():
        rule = SamplingRule.objects.select_for_update().filter(department=department).first()
        before = snapshot(rule, ["share", "max_attempts", "salt"]) if rule else None
        if rule is None:
            rule = SamplingRule(department=department)
        rule.share, rule.max_attempts, rule.salt = value, max_attempts, (salt or "").strip()[:32]
        rule.updated_by, rule.updated_at = actor, timezone.now()
        rule.save()
        audit_record(actor=actor, action="assessment.sampling_rule", target=rule, before=before,
                     after=snapshot(rule, ["share", "max_attempts", "salt"]))
    return rule


# --- unit performance (目标责任考核) -------------------------------------------------------------------

def _may_assess(actor: Any, region: Any = None) -> None:
    from civicgrid.assessment.selectors import may_assess
    from civicgrid.org.scoping import reaches

    if not may_assess(actor):
        raise TransitionRefused(_("Only a leader or an administrator runs unit assessments."))
    if region is not None and not reaches(region, actor):
        raise Http404(_("No region matches the given query."))


def scheme_version_create(*, actor: Any, code: str, name: str, indicators: Any, thresholds: Any) -> Scheme:
    """A new version of the scheme ``code`` (version 1 when new): earlier versions stay as they were."""
    from civicgrid.assessment.performance import check_indicators, check_thresholds

    _may_assess(actor)
    errors: dict[str, str] = {}
    try:
        inds = check_indicators(indicators)
    except ValueError as exc:
        errors["indicators"] = str(exc)
    try:
        floors = check_thresholds(thresholds)
    except ValueError as exc:
        errors["thresholds"] = str(exc)
    if not (code or "").strip():
        errors["code"] = _("Give the scheme a code.")
    if errors:
        raise TransitionNotAllowed(errors)
    with transaction.atomic():
        last = Scheme.objects.select_for_update().filter(code=code).order_by("-version").first()
        scheme = Scheme.objects.create(code=code, version=(last.version + 1) if last else 1, name=name or code,
                                       indicators=inds, thresholds=floors, created_by=actor)
        audit_record(actor=actor, action="assessment.scheme", target=scheme,
                     after={"indicators": inds, "thresholds": floors})
    return scheme


def period_compute(*, actor: Any, scheme: Scheme, subject_kind: str, region: Any, first_day: dt.date,
                   last_day: dt.date) -> AssessmentPeriod:
    """Compute (or compute again, while not approved) one period with this scheme version and store
    each subject's result; adjustments already entered are kept and added again."""
    from civicgrid.assessment.selectors import subject_metrics

    _may_assess(actor, region)
    if subject_kind not in SubjectKind.values:
        raise TransitionNotAllowed({"subject_kind": _("Choose departments, streets or communities.")})
    if last_day < first_day:
        raise TransitionNotAllowed({"last_day": _("The last day comes before the first.")})
    with transaction.atomic():
        period, _created = AssessmentPeriod.objects.select_for_update().get_or_create(
            scheme=scheme, subject_kind=subject_kind, region=region, first_day=first_day, last_day=last_day)
        if period.state != PeriodState.COMPUTED:
            raise CaseConflict(_("This period is approved: it is no longer computed again."), action="compute")
        rows = subject_metrics(subject_kind=subject_kind, region=region, first_day=first_day, last_day=last_day)
        kept = {s.subject_id: s for s in period.scores.all()}
        for row in rows:
            if row.key is None:  # cases without a subject (subject_metrics leaves them out)
                continue
            parts, computed = score_parts(row.metrics, scheme.indicators)
            s = kept.pop(row.key, None) or SubjectScore(period=period, subject_id=row.key)
            s.code, s.label, s.parts, s.computed = row.code, row.label, parts, computed
            s.save()
        SubjectScore.objects.filter(pk__in=[s.pk for s in kept.values()]).delete()
        period.computed_at = timezone.now()
        period.save(update_fields=["computed_at"])
        _rank(period)
        audit_record(actor=actor, action="assessment.compute", target=period,
                     after={"scheme": str(scheme), "subjects": len(rows)})
    return period


def _rank(period: AssessmentPeriod) -> None:
    floors = period.scheme.thresholds
    scores = list(period.scores.all())
    for s in scores:
        s.final = None if s.computed is None else round(s.computed + s.adjustment, 6)
        s.grade = grade_of(s.final, floors)
    ordered = sorted([s for s in scores if s.final is not None], key=lambda s: (-(s.final or 0), s.code))
    rank = 0
    for i, s in enumerate(ordered, start=1):
        if i == 1 or s.final != ordered[i - 2].final:
            rank = i
        s.rank = rank
    for s in scores:
        if s.final is None:
            s.rank = None
    SubjectScore.objects.bulk_update(scores, ["final", "grade", "rank"])


def score_adjust(*, actor: Any, score: SubjectScore, points: Any, reason: str) -> Adjustment:
    """A bonus or penalty with its reason, while the period is under review; audited."""
    period = score.period
    _may_assess(actor, period.region)
    errors = {}
    try:
        value = float(points)
        if not math.isfinite(value) or value == 0 or abs(value) > 100:
            raise ValueError
    except (TypeError, ValueError):
        errors["points"] = _("Give the points, from -100 to 100, not 0.")
        value = 0.0
    if not (reason or "").strip():
        errors["reason"] = _("Say why.")
    if errors:
        raise TransitionNotAllowed(errors)
    with transaction.atomic():
        period = AssessmentPeriod.objects.select_for_update().get(pk=period.pk)
        if period.state != PeriodState.COMPUTED:
            raise CaseConflict(_("This period is approved: it is no longer adjusted."), action="adjust")
        made = Adjustment.objects.create(score=score, points=value, reason=reason.strip()[:500], by=actor)
        before = score.adjustment
        score.adjustment = round(before + value, 6)
        score.save(update_fields=["adjustment"])
        _rank(period)
        audit_record(actor=actor, action="assessment.adjust", target=score, before={"adjustment": before},
                     after={"adjustment": score.adjustment, "points": value, "reason": made.reason})
    return made


def period_advance(*, actor: Any, period: AssessmentPeriod, to: str) -> AssessmentPeriod:
    """Approve a computed period, or publish an approved one."""
    _may_assess(actor, period.region)
    allowed: dict[str, str] = {PeriodState.APPROVED: PeriodState.COMPUTED,
                               PeriodState.PUBLISHED: PeriodState.APPROVED}
    if to not in allowed:
        raise TransitionNotAllowed({"state": _("Choose approved or published.")})
    with transaction.atomic():
        locked = AssessmentPeriod.objects.select_for_update().get(pk=period.pk)
        if locked.state != allowed[to]:
            raise CaseConflict(_("The period is %(state)s.") % {"state": locked.get_state_display()}, action=to)
        locked.state = to
        if to == PeriodState.APPROVED:
            locked.approved_by = actor
        else:
            locked.published_at = timezone.now()
        locked.save()
        audit_record(actor=actor, action=f"assessment.{to}", target=locked, after={"state": to})
    return locked
