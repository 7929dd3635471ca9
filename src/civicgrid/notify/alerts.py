"""The auditors' in-app message for a bulk-read alert (``civicgrid.privacy.exports.bulk_read_alert``):
one outbox row per active auditor, written in the alert's transaction. Connected in ``NotifyConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from civicgrid.notify.outbox import outbox_row
from civicgrid.org.models import Membership, Role, User


def auditors() -> list[User]:
    ids = Membership.objects.filter(role=Role.AUDITOR, is_active=True, user__is_active=True).values("user_id")
    return list(User.objects.filter(pk__in=ids).order_by("pk"))


def bulk_read_alert_notify(sender: Any, *, user: Any, records: int, since: Any, entry: Any, **kwargs: Any) -> None:
    subject = _("Bulk read: %(who)s read %(n)d personal records within the alert window") % {
        "who": user.get_username(), "n": records}
    body = _("See the auditor's desk, audit entry no. %(no)d.") % {"no": entry.pk}
    rows = [outbox_row(case=None, event="privacy.alert.bulk_read", subject=subject, body=body, recipient=auditor)
            for auditor in auditors()]
    if rows:
        type(rows[0]).objects.bulk_create(rows)
