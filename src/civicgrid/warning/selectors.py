"""Reads of early warning. Who sees an alert: the centre staff (dispatchers, administrators,
leaders, auditors) whose membership's region is the alert's area or one of its ancestors — the
alert's ``scope`` through org.scoping; everyone else gets a 404. Who acts on it (acknowledge,
investigate, close, escalate): dispatchers, administrators and leaders at the responsible centre or
above (:func:`alert_may_act`). An alert's evidence lists only the cases its reader may see
(``cases.selectors.cases_visible``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from civicgrid.cases.models import Case
from civicgrid.cases.selectors import cases_visible
from civicgrid.org.models import Role
from civicgrid.org.permissions import VIEW
from civicgrid.org.scoping import OutOfScope, is_superuser_active, scoped
from civicgrid.org.selectors import user_memberships
from civicgrid.warning.models import LIVE_STATES, Alert, AlertEvent, AlertRule, AlertState

#: Roles that read the alert queue of their centre and the centres below it.
VIEW_ROLES = frozenset({Role.DISPATCHER, Role.ADMIN, Role.LEADER, Role.AUDITOR})
#: Roles that act on an alert of their centre (or of a centre below).
ACT_ROLES = frozenset({Role.DISPATCHER, Role.ADMIN, Role.LEADER})


def _centre_memberships(user: Any, roles: frozenset[str]) -> list[Any]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    return [m for m in user_memberships(user) if m.role in roles and m.region_id is not None]


def alerts_visible(*, user: Any) -> QuerySet[Alert]:
    """The alerts ``user`` may read: in their jurisdiction (org.scoping on the alert's area) and held
    through a centre role (a grid worker or a department handler of the same area sees none)."""
    qs = Alert.objects.select_related("rule", "area", "centre", "category", "department")
    if is_superuser_active(user):
        return qs
    members = _centre_memberships(user, VIEW_ROLES)
    if not members:
        return qs.none()
    # org.scoping decides the jurisdiction; the regions of the centre-role memberships narrow it to them
    levels = Alert.scope["regions"]
    by_role = Q(pk__in=[])
    for m in members:
        if m.region.level in levels:
            by_role |= Q(**{levels[m.region.level]: m.region_id})
    return scoped(qs, user, VIEW).filter(by_role)


def may_read_alerts(*, user: Any) -> bool:
    """Whether ``user`` holds a role that reads alert queues (the queue page's door)."""
    return is_superuser_active(user) or bool(_centre_memberships(user, VIEW_ROLES))


def alert_get(*, user: Any, pk: int) -> Alert:
    """One alert the user may read; anything else is a 404."""
    try:
        return alerts_visible(user=user).get(pk=pk)
    except Alert.DoesNotExist:
        raise OutOfScope("No alert matches the given query.") from None


def alert_may_act(*, user: Any, alert: Alert) -> bool:
    """A dispatcher, administrator or leader whose centre is the alert's responsible centre or one
    above it (the system, ``user=None``, may too)."""
    if user is None or is_superuser_active(user):
        return True
    centre = alert.centre
    chain = {centre.pk, *(v for v in centre.chain().values() if v)}
    return any(m.region_id in chain for m in _centre_memberships(user, ACT_ROLES))


def alert_queue(*, user: Any, state: str | None = None) -> QuerySet[Alert]:
    """The centre's queue: live alerts first (the most overdue acknowledgement first), then closed."""
    qs = alerts_visible(user=user)
    if state == "live":
        qs = qs.filter(state__in=LIVE_STATES)
    elif state:
        qs = qs.filter(state=state)
    return qs.order_by("state", "ack_due_at", "-id")


def alert_counts(*, user: Any) -> dict[str, int]:
    """Alerts the user may read, by state (for the dashboard)."""
    counts = dict(alerts_visible(user=user).order_by().values_list("state").annotate(n=Count("id")))
    return {s: counts.get(s, 0) for s in AlertState.values}


def alert_evidence_cases(*, user: Any, alert: Alert) -> tuple[QuerySet[Case], int]:
    """The evidence cases ``user`` may see, and how many the evidence holds in all (the others are
    counted, never shown)."""
    ids = [int(i) for i in (alert.evidence or {}).get("case_ids", [])]
    return cases_visible(user=user).filter(pk__in=ids).order_by("-created_at"), len(ids)


def alert_events(*, alert: Alert) -> QuerySet[AlertEvent]:
    return alert.events.select_related("actor").order_by("at", "id")


def rules_list() -> QuerySet[AlertRule]:
    return AlertRule.objects.prefetch_related("categories").order_by("code")
