"""Writes of the follow-up calls (回访): record a call, set a unit's sampling rule.

A call's result is the engine's: ``cases.services.case_rate`` records the valid follow-up of a
reached call (and reopens the case when the type says an unsatisfied follow-up does), or a failed
attempt; this app records the call itself, linked to that rating."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.assessment.models import CallAttempt, CallOutcome, SamplingRule
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
