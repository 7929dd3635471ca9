"""Writes of early warning: rules, the tick that raises alerts, the nightly baselines, and the
handling of an alert (acknowledge, investigate, close, escalate) with its history and notices.

The tick (:func:`warning_tick`) runs in the worker beside the deadline sweep
(:func:`warning_worker_step`, registered with ``core.loops`` by this app) and as
``civicgrid warning tick``. Each rule finds its candidates set-based (:mod:`civicgrid.warning.rules`)
from the cases new since its watermark; a candidate becomes an alert through an INSERT that the
unique constraint (rule × area × key × window) lets through once, so two workers at once, or two
ticks over the same cases, raise each alert once."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.audit.services import audit_record
from civicgrid.core.errors import Conflict
from civicgrid.geo.models import LEVELS, Region
from civicgrid.notify.outbox import outbox_row
from civicgrid.org.models import Membership, Role
from civicgrid.taxonomy.models import Category
from civicgrid.warning import rules as finders
from civicgrid.warning.models import (
    LIVE_STATES,
    Alert,
    AlertEvent,
    AlertRule,
    AlertState,
    Outcome,
    RuleKind,
    Severity,
)
from civicgrid.warning.selectors import alert_may_act
from civicgrid.workcal import clock
from civicgrid.workcal.calendar import working_calendar, working_hours

log = logging.getLogger("civicgrid.warning")

#: A tick also re-reads the cases created this long before its last run (late commits).
OVERLAP = dt.timedelta(minutes=10)


# --- rules ---------------------------------------------------------------------------------------

def rule_save(*, actor: Any, code: str, name: str, kind: str, params: Any = None, level: str = "community",
              categories: list[Category] | None = None, severity: str = Severity.NORMAL,
              centre_level: str = "street", recipients: str = Role.DISPATCHER, ack_minutes: int | None = None,
              active: bool = True) -> AlertRule:
    """Create or update the rule ``code``; each bad input is a ValidationError naming its field."""
    errors: dict[str, list[str]] = {}
    try:
        clean = finders.params_clean(kind, params)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        clean = {}
    for fname, value in (("level", level), ("centre_level", centre_level)):
        try:
            finders.level_clean(value, name=fname)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if severity not in Severity.values:
        errors["severity"] = [_("Not a severity (%(v)s).") % {"v": ", ".join(Severity.values)}]
    if recipients not in Role.values or recipients == Role.RESIDENT:
        errors["recipients"] = [_("Not a staff role.")]
    if ack_minutes is not None and not (1 <= ack_minutes <= 7 * 24 * 60):
        errors["ack_minutes"] = [_("Must be between 1 and 10080 minutes.")]
    if not code or len(code) > 40:
        errors["code"] = [_("A code of 1 to 40 characters is required.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        rule, created = AlertRule.objects.update_or_create(
            code=code, defaults={"name": name or code, "kind": kind, "params": clean, "level": level,
                                 "severity": severity, "centre_level": centre_level, "recipients": recipients,
                                 "ack_minutes": ack_minutes, "active": active})
        rule.categories.set(categories or [])
        audit_record(actor=actor, action="warning.rule_create" if created else "warning.rule_update", target=rule,
                     after={"kind": kind, "params": clean, "level": level, "severity": severity, "active": active})
    return rule


# --- the tick ------------------------------------------------------------------------------------

@dataclass
class TickReport:
    now: dt.datetime
    rules: int = 0
    candidates: int = 0
    raised: list[int] = field(default_factory=list)
    overdue: int = 0
    baselines: int = 0

    def summary(self) -> str:
        built = f", {self.baselines} baselines" if self.baselines else ""
        return (f"{self.rules} rules, {self.candidates} candidates, {len(self.raised)} alerts raised, "
                f"{self.overdue} acknowledgements overdue{built}")


def ack_due(*, severity: str, start: dt.datetime, minutes: int | None = None) -> dt.datetime:
    """When an alert must be acknowledged: ``minutes`` when the rule sets them (working time, or round
    the clock when severe), else one working hour, or 15 minutes round the clock when severe
    (``CIVICGRID_WARNING_ACK_HOURS``, ``CIVICGRID_WARNING_ACK_SEVERE_MINUTES``) — on the working calendar."""
    severe = severity == Severity.SEVERE
    if minutes is None:
        minutes = (int(getattr(settings, "CIVICGRID_WARNING_ACK_SEVERE_MINUTES", 15)) if severe
                   else int(float(getattr(settings, "CIVICGRID_WARNING_ACK_HOURS", 1)) * 60))
    unit = "urgent_hours" if severe else "working_hours"
    return clock.due_at(start, minutes / 60.0, unit, calendar=working_calendar(), hours=working_hours())


def _centre_of(area: Region, level: str) -> Region:
    """The responsible centre: the area's ancestor at ``level`` (the area itself when it is at or above
    that level)."""
    if LEVELS.index(area.level) <= LEVELS.index(level):
        return area
    centre_id = getattr(area, f"{level}_id", None)
    return Region.objects.get(pk=centre_id) if centre_id else area


def _event(alert: Alert, *, actor: Any, action: str, from_state: str, note: str = "",
           now: dt.datetime | None = None) -> AlertEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AlertEvent.objects.create(alert=alert, at=now or timezone.now(), actor=user,
                                     actor_name=user.get_username() if user else "system", action=action,
                                     from_state=from_state, to_state=alert.state, note=note)


def _notify(alert: Alert, *, subject: str, body: str = "") -> None:
    """In-app and SMS notices to the rule's recipients at the alert's centre, through the outbox."""
    role = alert.rule.recipients
    for channel in ("inapp", "sms"):
        if role == Role.DISPATCHER:
            outbox_row(case=None, event="warning", subject=subject, body=body, region=alert.centre,
                       channel=channel).save()
            continue
        for m in Membership.objects.filter(region=alert.centre, role=role, is_active=True,
                                           user__is_active=True).select_related("user"):
            outbox_row(case=None, event="warning", subject=subject, body=body, recipient=m.user,
                       channel=channel).save()


def _subject(alert: Alert) -> str:
    return (_("Alert: %(rule)s in %(area)s — %(figure)s (expected %(expected)s)")
            % {"rule": alert.rule.name, "area": alert.area.name, "figure": f"{alert.figure:g}",
               "expected": "—" if alert.expected is None else f"{alert.expected:g}"})


def _raise(rule: AlertRule, c: finders.Candidate, areas: dict[int, Region], now: dt.datetime) -> Alert | None:
    area = areas[c.area_id]
    chain = area.chain()
    if rule.kind == RuleKind.SPIKE:
        finders.spike_evidence(rule, c)
    evidence = {"case_ids": c.case_ids, "series": c.series, **c.extra}
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule, kind=rule.kind, area=area, key=c.key, category_id=c.category_id,
                department_id=c.department_id, centre=_centre_of(area, rule.centre_level),
                city_id=chain.get("city"), district_id=chain.get("district"), street_id=chain.get("street"),
                community_id=chain.get("community"), window_start=c.window_start, window_end=c.window_end,
                figure=c.figure, expected=c.expected, threshold=c.threshold, evidence=evidence,
                severity=rule.severity, state=AlertState.OPEN, created_at=now,
                ack_due_at=ack_due(severity=rule.severity, start=now, minutes=rule.ack_minutes))
            _event(alert, actor=None, action="raised", from_state="", now=now)
            _notify(alert, subject=_subject(alert))
    except IntegrityError:
        return None  # raised already (by an earlier tick or another worker)
    return alert


def _rule_tick(rule: AlertRule, now: dt.datetime, report: TickReport) -> None:
    finder = finders.FINDERS.get(rule.kind)
    if finder is None:
        return
    from civicgrid.cases.models import Case

    high = Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    candidates = finder(rule, now=now, since=finders.since_q(rule, OVERLAP))
    report.candidates += len(candidates)
    if candidates:
        # the ones raised already cost one query, not an INSERT each
        seen = set(Alert.objects.filter(rule=rule, key__in={c.key for c in candidates},
                                        window_start__in={c.window_start for c in candidates})
                   .values_list("area_id", "key", "window_start"))
        fresh = [c for c in candidates if (c.area_id, c.key, c.window_start) not in seen]
        areas = Region.objects.in_bulk({c.area_id for c in fresh})
        for c in fresh:
            if c.area_id in areas:
                alert = _raise(rule, c, areas, now)
                if alert is not None:
                    report.raised.append(alert.pk)
    AlertRule.objects.filter(pk=rule.pk).update(watermark_id=max(high, rule.watermark_id), watermark_at=now)


def _overdue(now: dt.datetime, report: TickReport) -> None:
    """Alerts not acknowledged in time: one history entry and one notice each (claimed by an UPDATE,
    so two workers mark each once)."""
    late = list(Alert.objects.filter(state__in=(AlertState.OPEN, AlertState.ESCALATED), ack_due_at__lt=now,
                                     ack_overdue_at__isnull=True).select_related("rule", "area", "centre")[:500])
    for alert in late:
        with transaction.atomic():
            if not Alert.objects.filter(pk=alert.pk, ack_overdue_at__isnull=True).update(ack_overdue_at=now):
                continue
            _event(alert, actor=None, action="ack_overdue", from_state=alert.state, now=now)
            _notify(alert, subject=_("Not acknowledged in time: %(s)s") % {"s": _subject(alert)})
            report.overdue += 1


def warning_tick(*, now: dt.datetime | None = None, rules: list[AlertRule] | None = None) -> TickReport:
    """One round of every active rule over the cases new since its watermark; idempotent."""
    now = now or timezone.now()
    report = TickReport(now=now)
    for rule in rules if rules is not None else AlertRule.objects.filter(active=True).order_by("pk"):
        report.rules += 1
        _rule_tick(rule, now, report)
    _overdue(now, report)
    return report


def warning_baselines(*, now: dt.datetime | None = None) -> int:
    """Rebuild the baselines of every active spike rule (nightly); returns the rows written."""
    now = now or timezone.now()
    return sum(finders.spike_baselines_build(rule, now=now)
               for rule in AlertRule.objects.filter(active=True, kind=RuleKind.SPIKE))


def baselines_due(now: dt.datetime) -> bool:
    """Whether a spike rule's baselines were last built before today (local): the worker rebuilds
    them once a night, after ``CIVICGRID_WARNING_BASELINE_HOUR`` (1 a.m.)."""
    local = now.astimezone(finders.CALENDAR_TZ)
    if local.hour < int(getattr(settings, "CIVICGRID_WARNING_BASELINE_HOUR", 1)):
        return False
    today = finders.day_start(local.date())
    from django.db.models import Q

    return AlertRule.objects.filter(Q(baselines_built_at__isnull=True) | Q(baselines_built_at__lt=today),
                                    active=True, kind=RuleKind.SPIKE).exists()


def warning_worker_step() -> str:
    """The worker's round: the nightly baselines when due, then a tick."""
    now = timezone.now()
    built = warning_baselines(now=now) if baselines_due(now) else 0
    report = warning_tick(now=now)
    report.baselines = built
    if report.raised or report.overdue:
        log.info("warning tick: %s", report.summary())
    return report.summary()


# --- handling an alert ---------------------------------------------------------------------------

ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "acknowledge": ((AlertState.OPEN, AlertState.ESCALATED), AlertState.ACKNOWLEDGED),
    "investigate": ((AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.ESCALATED), AlertState.INVESTIGATING),
    "close": (LIVE_STATES, AlertState.CLOSED),
    "escalate": (LIVE_STATES, AlertState.ESCALATED),
}


def _begin(actor: Any, alert: Alert, action: str) -> tuple[Alert, str]:
    """Lock the alert, check who acts and from which state; returns the locked row and its state."""
    if not alert_may_act(user=actor, alert=alert):
        raise PermissionDenied(_("Only the dispatchers, administrators and leaders of the responsible centre "
                                 "or above act on this alert."))
    locked = Alert.objects.select_for_update().select_related("rule", "area", "centre").get(pk=alert.pk)
    allowed, _target = ACTIONS[action]
    if locked.state not in allowed:
        raise Conflict(_("The alert is %(state)s: it cannot be %(action)s now.")
                       % {"state": locked.get_state_display(), "action": action})
    return locked, locked.state


def _finish(actor: Any, alert: Alert, action: str, before: str, note: str, now: dt.datetime,
            fields: list[str]) -> Alert:
    alert.version += 1
    alert.save(update_fields=[*fields, "state", "version"])
    _event(alert, actor=actor, action=action, from_state=before, note=note, now=now)
    audit_record(actor=actor, action=f"warning.{action}", target=alert, before={"state": before},
                 after={"state": alert.state, "outcome": alert.outcome, "centre": alert.centre_id})
    return alert


def alert_acknowledge(*, actor: Any, alert: Alert, note: str = "", now: dt.datetime | None = None) -> Alert:
    now = now or timezone.now()
    with transaction.atomic():
        alert, before = _begin(actor, alert, "acknowledge")
        alert.state, alert.acknowledged_at = AlertState.ACKNOWLEDGED, now
        return _finish(actor, alert, "acknowledge", before, note, now, ["acknowledged_at"])


def alert_investigate(*, actor: Any, alert: Alert, note: str = "", now: dt.datetime | None = None) -> Alert:
    now = now or timezone.now()
    with transaction.atomic():
        alert, before = _begin(actor, alert, "investigate")
        alert.state = AlertState.INVESTIGATING
        alert.acknowledged_at = alert.acknowledged_at or now
        return _finish(actor, alert, "investigate", before, note, now, ["acknowledged_at"])


def alert_close(*, actor: Any, alert: Alert, outcome: str, note: str = "", now: dt.datetime | None = None) -> Alert:
    """Close as acted on or as a false alarm (``outcome``, required)."""
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": [_("Choose %(choices)s.") % {"choices": " or ".join(Outcome.values)}]})
    now = now or timezone.now()
    with transaction.atomic():
        alert, before = _begin(actor, alert, "close")
        alert.state, alert.outcome, alert.closed_at = AlertState.CLOSED, outcome, now
        return _finish(actor, alert, "close", before, note, now, ["outcome", "closed_at"])


def alert_escalate(*, actor: Any, alert: Alert, note: str = "", now: dt.datetime | None = None) -> Alert:
    """Hand the alert to the centre above the responsible one, with a new acknowledgement clock."""
    now = now or timezone.now()
    with transaction.atomic():
        alert, before = _begin(actor, alert, "escalate")
        parent = alert.centre.parent
        if parent is None:
            raise ValidationError({"centre": [_("The responsible centre has no centre above it.")]})
        alert.state, alert.centre, alert.escalation_level = AlertState.ESCALATED, parent, alert.escalation_level + 1
        alert.ack_due_at, alert.ack_overdue_at = ack_due(severity=alert.severity, start=now), None
        _finish(actor, alert, "escalate", before, note, now,
                ["centre", "escalation_level", "ack_due_at", "ack_overdue_at"])
        _notify(alert, subject=_("Escalated to you: %(s)s") % {"s": _subject(alert)}, body=note)
    return alert


def alert_act(*, actor: Any, alert: Alert, action: str, note: str = "", outcome: str = "") -> Alert:
    """One entry for the pages and the API: ``action`` is acknowledge, investigate, close or escalate."""
    if action == "acknowledge":
        return alert_acknowledge(actor=actor, alert=alert, note=note)
    if action == "investigate":
        return alert_investigate(actor=actor, alert=alert, note=note)
    if action == "close":
        return alert_close(actor=actor, alert=alert, outcome=outcome, note=note)
    if action == "escalate":
        return alert_escalate(actor=actor, alert=alert, note=note)
    raise ValidationError({"action": [_("Choose acknowledge, investigate, close or escalate.")]})
