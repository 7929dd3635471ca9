"""The notification outbox (通知发件箱): its one row constructor, :func:`outbox_row`, and delivery
(通知投递). Services write :class:`Notification` rows in the transaction of the change they announce
(``cases.services.notify``); the sweep writes its notifications set-based from the same row
(:func:`civicgrid.core.batch.select_list`); the worker's delivery loop
(:mod:`civicgrid.notify.delivery`) calls :func:`outbox_deliver` to send them.

How a batch goes:

1. *Claim* up to ``limit`` pending rows whose ``next_attempt_at`` has come, in a short transaction
   (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers take different rows),
   and push their ``next_attempt_at`` forward by a lease (``CIVICGRID_OUTBOX_LEASE_SECONDS``,
   default 300). A worker that dies mid-batch leaves its rows to be retried when the lease ends.
2. *Expand* each row's audience: its recipient; the active department handlers of
   ``audience_department``; the active dispatchers of ``audience_region``; or its ``address``.
3. *Deliver* through the channel registered under the row's ``channel``
   (:mod:`civicgrid.notify.channels`), and mark the row sent in the same transaction (an in-app
   message and its "sent" mark commit together).
4. A channel that raises leaves the row pending: ``attempts`` + 1, ``last_error``, and the next
   attempt after an exponential backoff — ``CIVICGRID_OUTBOX_BACKOFF_SECONDS`` (30) × 2^(attempts
   − 1), at most ``CIVICGRID_OUTBOX_BACKOFF_MAX_SECONDS`` (3600). After
   ``CIVICGRID_OUTBOX_MAX_ATTEMPTS`` (8) failed attempts the row is ``failed`` (kept, with its
   last error, for an operator). A row with nobody to deliver to (or nobody the channel can
   reach: a user without a phone for SMS) is ``failed`` at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from civicgrid.core.batch import new_row
from civicgrid.geo.models import Region
from civicgrid.notify.channels import Recipient, channel_get
from civicgrid.notify.models import Notification, NotificationState
from civicgrid.org.models import Department, Membership, Role, User

log = logging.getLogger("civicgrid.notify.outbox")


def outbox_row(
    *,
    case: models.Model | None,  # a cases.Case (notify sits below the engine and does not import it)
    event: str,
    subject: str,
    body: str = "",
    recipient: User | None = None,
    department: Department | None = None,
    region: Region | None = None,
    address: str = "",
    channel: str = "inapp",
    now: dt.datetime | None = None,
) -> Notification:
    """One outbox row, not yet saved: pending, due at once. Its audience is a ``recipient``, the
    handlers of a ``department``, the dispatchers of a ``region`` (a centre), or an ``address``
    (phone or e-mail, encrypted); the subject is cut to its column's 200 characters."""
    note = new_row(Notification, {"event": event, "subject": subject[:200], "body": body, "channel": channel,
                                  "address": address, "next_attempt_at": now or timezone.now()})
    for name, related in (("case", case), ("recipient", recipient), ("audience_department", department),
                          ("audience_region", region)):
        if related is not None:
            setattr(note, name, related)
    return note


@dataclass
class OutboxReport:
    claimed: int = 0
    sent: int = 0  # notifications delivered
    deliveries: int = 0  # messages handed to channels (one notification → several people)
    retried: int = 0  # failed this time, will be tried again
    failed: int = 0  # failed for good

    def add(self, other: OutboxReport) -> None:
        """Count ``other`` in (the rounds of a delivery loop add their batches up)."""
        for name in ("claimed", "sent", "deliveries", "retried", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def summary(self) -> str:
        return (f"claimed {self.claimed}, sent {self.sent} ({self.deliveries} messages), retry later "
                f"{self.retried}, failed {self.failed}")


def _setting(name: str, default: int) -> int:
    value = int(getattr(settings, name, default))
    if value < 1:
        raise ValueError(f"{name} must be at least 1")
    return value


def max_attempts() -> int:
    return _setting("CIVICGRID_OUTBOX_MAX_ATTEMPTS", 8)


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 30 s, 60 s, 120 s… capped."""
    base = _setting("CIVICGRID_OUTBOX_BACKOFF_SECONDS", 30)
    cap = _setting("CIVICGRID_OUTBOX_BACKOFF_MAX_SECONDS", 3600)
    return dt.timedelta(seconds=min(cap, base * 2 ** min(max(attempts - 1, 0), 30)))


def _claim(now: dt.datetime, limit: int) -> list[int]:
    lease = dt.timedelta(seconds=_setting("CIVICGRID_OUTBOX_LEASE_SECONDS", 300))
    with transaction.atomic():
        due = Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True)
        ids = list(Notification.objects.select_for_update(skip_locked=True)
                   .filter(due, state=NotificationState.PENDING)
                   .order_by("next_attempt_at", "id").values_list("id", flat=True)[:limit])
        if ids:
            Notification.objects.filter(id__in=ids).update(next_attempt_at=now + lease)
    return ids


def _audiences(notes: list[Notification]) -> tuple[dict[int, list[Any]], dict[int, list[Any]]]:
    """Department → its active handlers; region → its active dispatchers (one query each)."""
    by_dept: dict[int, list[Any]] = defaultdict(list)
    by_region: dict[int, list[Any]] = defaultdict(list)
    depts = {n.audience_department_id for n in notes if n.audience_department_id}
    regions = {n.audience_region_id for n in notes if n.audience_region_id}
    if depts:
        for m in (Membership.objects.filter(department_id__in=depts, role=Role.DEPARTMENT_HANDLER, is_active=True,
                                            user__is_active=True).select_related("user").order_by("user_id")):
            if m.department_id is not None:
                by_dept[m.department_id].append(m.user)
    if regions:
        for m in (Membership.objects.filter(region_id__in=regions, role=Role.DISPATCHER, is_active=True,
                                            user__is_active=True).select_related("user").order_by("user_id")):
            if m.region_id is not None:
                by_region[m.region_id].append(m.user)
    return by_dept, by_region


def recipients_of(notification: Notification, by_dept: dict[int, list[Any]] | None = None,
                  by_region: dict[int, list[Any]] | None = None) -> list[Recipient]:
    """The people a notification reaches, each once."""
    if by_dept is None or by_region is None:
        by_dept, by_region = _audiences([notification])
    users: dict[int, Any] = {}
    recipient = notification.recipient if notification.recipient_id else None
    if recipient is not None and recipient.is_active:
        users[recipient.pk] = recipient
    for user in (*by_dept.get(notification.audience_department_id or 0, ()),
                 *by_region.get(notification.audience_region_id or 0, ())):
        users.setdefault(user.pk, user)
    out = [Recipient(user=u) for u in users.values()]
    if notification.address:
        out.append(Recipient(address=notification.address))
    return out


# Notifications whose body carries a one-time secret (the reporter's rating secret, sent with the
# receipt of a report): once delivered or failed for good, the outbox keeps no copy of the body.
SECRET_BODY_EVENTS = frozenset({"received"})


def _finish(pk: int, **changes: Any) -> None:
    if changes.get("state") in (NotificationState.SENT, NotificationState.FAILED):
        Notification.objects.filter(pk=pk, state=NotificationState.PENDING, event__in=SECRET_BODY_EVENTS).update(
            body="", **changes)
    Notification.objects.filter(pk=pk, state=NotificationState.PENDING).update(**changes)


def outbox_deliver(*, now: dt.datetime | None = None, limit: int = 500) -> OutboxReport:
    """Deliver up to ``limit`` due notifications; return what happened. Safe in several workers."""
    now = now or timezone.now()
    report = OutboxReport()
    ids = _claim(now, limit)
    report.claimed = len(ids)
    if not ids:
        return report
    notes = list(Notification.objects.filter(id__in=ids).select_related("recipient").order_by("id"))
    by_dept, by_region = _audiences(notes)
    limit_attempts = max_attempts()
    for n in notes:
        attempts = n.attempts + 1
        recipients = recipients_of(n, by_dept, by_region)
        if not recipients:
            _finish(n.pk, state=NotificationState.FAILED, attempts=attempts, last_error="nobody to deliver to")
            report.failed += 1
            log.warning("notification %s (%s, case %s): nobody to deliver to", n.pk, n.event, n.case_id)
            continue
        try:
            with transaction.atomic():
                delivered = int(channel_get(n.channel).send(n, recipients) or 0)
                if delivered:
                    _finish(n.pk, state=NotificationState.SENT, attempts=attempts, sent_at=now, last_error="")
                else:
                    _finish(n.pk, state=NotificationState.FAILED, attempts=attempts,
                            last_error=f"nobody reachable through {n.channel}")
        except Exception as exc:  # a channel may fail in any way: the row is kept and retried
            error = f"{type(exc).__name__}: {exc}"[:2000]
            if attempts >= limit_attempts:
                _finish(n.pk, state=NotificationState.FAILED, attempts=attempts, last_error=error)
                report.failed += 1
                log.error("notification %s through %s failed for good after %d attempts: %s", n.pk, n.channel,
                          attempts, error)
            else:
                _finish(n.pk, attempts=attempts, last_error=error, next_attempt_at=now + backoff(attempts))
                report.retried += 1
                log.warning("notification %s through %s failed (attempt %d), retrying in %s: %s", n.pk,
                            n.channel, attempts, backoff(attempts), error)
            continue
        if delivered:
            report.sent += 1
            report.deliveries += delivered
        else:
            report.failed += 1
            log.warning("notification %s (%s, case %s): nobody reachable through %s", n.pk, n.event, n.case_id,
                        n.channel)
    return report


def outbox_retry(*, actor: User | None, notifications: Any, now: dt.datetime | None = None) -> int:
    """Send failed notifications again (an operator fixed the channel or the audience): they become
    pending with a fresh count of attempts. One audit row names them."""
    from civicgrid.audit.services import audit_record

    now = now or timezone.now()
    ids = sorted({getattr(n, "pk", n) for n in notifications})
    with transaction.atomic():
        count = Notification.objects.filter(id__in=ids, state=NotificationState.FAILED).update(
            state=NotificationState.PENDING, attempts=0, next_attempt_at=now)
        if count:
            audit_record(actor=actor, action="cases.notification.retry", target_type="cases.notification",
                         target_repr=f"{count} notifications", after={"ids": ids[:1000], "count": count})
    return count
