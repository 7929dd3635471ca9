"""Exports and bulk reads (导出与批量读取): every export is watermarked and audited, exports of personal
data need a permission, and a person who reads many records in a short time raises an alert.

- :func:`export_record` is called by every view or command that writes a file for someone: it
  checks the permission for personal data (``org.export_personal``, named here as a string: privacy
  sits below org), writes one audit row ``privacy.export`` (what, how many rows, the format, the
  filter — never a value) and returns the :class:`Watermark` the file carries: who exported it,
  when, and the audit row's number.
- Bulk reads: the records a person read in full over the last ``CIVICGRID_BULK_READ_WINDOW_MINUTES``
  (default 60) — one per reveal, the matches of each personal-data search, the rows of each personal
  export — are summed after each such read; over ``CIVICGRID_BULK_READ_THRESHOLD`` (default 200) one
  audit row ``privacy.alert.bulk_read`` is written (at most one per person per window) and the signal
  :data:`bulk_read_alert` is sent: the notify app answers it with an in-app message to every active
  auditor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.audit.models import AuditEntry
from civicgrid.audit.services import audit_record

EXPORT_PERSONAL_PERMISSION = "org.export_personal"
READ_ACTIONS = ("privacy.reveal", "privacy.search", "privacy.export", "events.caller_lookup")
ALERT_ACTION = "privacy.alert.bulk_read"
DEFAULT_THRESHOLD = 200
DEFAULT_WINDOW_MINUTES = 60

# sent with user=, records=, since=, entry= (the alert's audit row) after the alert row is written
bulk_read_alert = Signal()


@dataclass(frozen=True)
class Watermark:
    """Who exported a file and when, for its header or footer line and its properties."""

    username: str
    name: str
    at: dt.datetime
    audit_id: int

    @property
    def text(self) -> str:
        return _("Exported by %(who)s at %(at)s · CivicGrid audit no. %(no)d") % {
            "who": f"{self.name} ({self.username})" if self.name and self.name != self.username else self.username,
            "at": timezone.localtime(self.at).strftime("%Y-%m-%d %H:%M:%S %Z"), "no": self.audit_id}


def can_export_personal(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active
                and user.has_perm(EXPORT_PERSONAL_PERMISSION))


def export_record(*, user: Any, kind: str, rows: int, fmt: str, personal: bool = False,
                  filters: dict[str, Any] | str | None = None, target: Any = None) -> Watermark:
    """Audit one export (action ``privacy.export``) and return its watermark. ``personal`` exports
    need ``org.export_personal`` (``PermissionDenied`` otherwise) and count as bulk reads."""
    if personal and not can_export_personal(user):
        raise PermissionDenied(_("You may not export personal data."))
    extra: dict[str, Any] = {"kind": kind, "rows": rows, "format": fmt, "personal": personal}
    if filters:
        extra["filters"] = filters
    if personal:
        extra["records"] = rows
    with transaction.atomic():
        entry = audit_record(actor=user, action="privacy.export", target=target,
                             target_type="" if target is not None else "privacy.export", target_repr=kind, extra=extra)
    if personal:
        bulk_read_check(user)
    name = getattr(user, "display_name", "") or ""
    return Watermark(username=user.get_username() if getattr(user, "is_authenticated", False) else "system",
                     name=name, at=entry.at, audit_id=entry.pk)


def _records(action: str, extra: Any) -> int:
    if action == "privacy.reveal":
        return 1
    if not isinstance(extra, dict):
        return 0
    value = extra.get("records", extra.get("matches", extra.get("found", 0)))
    return int(value) if isinstance(value, int) else 0


def bulk_read_check(user: Any, *, now: dt.datetime | None = None) -> AuditEntry | None:
    """Sum the records ``user`` read in the window; over the threshold, the alert (once per window)."""
    if not getattr(user, "is_authenticated", False):
        return None
    now = now or timezone.now()
    threshold = int(getattr(settings, "CIVICGRID_BULK_READ_THRESHOLD", DEFAULT_THRESHOLD))
    minutes = int(getattr(settings, "CIVICGRID_BULK_READ_WINDOW_MINUTES", DEFAULT_WINDOW_MINUTES))
    since = now - dt.timedelta(minutes=minutes)
    mine = AuditEntry.objects.filter(actor_id=user.pk, at__gte=since)
    total = sum(_records(action, extra) for action, extra in
                mine.filter(action__in=READ_ACTIONS).values_list("action", "extra"))
    raised = AuditEntry.objects.filter(action=ALERT_ACTION, target_type=user._meta.label_lower,
                                       target_id=str(user.pk), at__gte=since)
    if total <= threshold or raised.exists():
        return None
    with transaction.atomic():
        entry = audit_record(actor=None, action=ALERT_ACTION, target=user, target_repr=user.get_username(),
                             extra={"records": total, "threshold": threshold, "window_minutes": minutes,
                                    "actor": user.pk})
        # the alert's row names the reader as its target; its actor is the system
        bulk_read_alert.send(sender=AuditEntry, user=user, records=total, since=since, entry=entry)
    return entry
