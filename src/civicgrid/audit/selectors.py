from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.audit.models import AuditEntry


def audit_for_target(target: models.Model) -> models.QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk))


def audit_by_action(action: str) -> models.QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(action=action)


# --- the auditor's desk: reveals, exports, personal-data searches and the alerts ------------------

KIND_ACTIONS: dict[str, tuple[str, ...]] = {
    "reveal": ("privacy.reveal",),
    "search": ("privacy.search", "events.caller_lookup"),  # the 12345 caller look-up writes its own row
    "export": ("privacy.export",),
    "alert": ("privacy.alert.bulk_read",),
    "rights": ("privacy.rights.export", "privacy.rights.correct", "privacy.rights.erase"),
    "purge": ("privacy.purge",),
}
PERSONAL_DATA_ACTIONS: tuple[str, ...] = tuple(a for actions in KIND_ACTIONS.values() for a in actions)
MAX_PERIOD_DAYS = 3 * 366


@dataclass
class TrailFilter:
    """The desk's filter: who (the actor's user name), which record (``type:id``, an id, or words of
    its name), the purpose's words, the period (days, both included) and the kind of read."""

    actor: str = ""
    target: str = ""
    purpose: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    kind: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> TrailFilter:
        f = cls(actor=str(data.get("actor") or "").strip()[:150], target=str(data.get("target") or "").strip()[:200],
                purpose=str(data.get("purpose") or "").strip()[:200])
        for name in ("start", "end"):
            raw = str(data.get(name) or "").strip()
            if not raw:
                continue
            try:
                setattr(f, name, dt.date.fromisoformat(raw))
            except ValueError:
                f.errors[name] = [_("Give a date as YYYY-MM-DD.")]
        if f.start and f.end:
            if f.start > f.end:
                f.errors["start"] = [_("The period cannot start after it ends.")]
            elif (f.end - f.start).days > MAX_PERIOD_DAYS:
                f.errors["start"] = [_("Choose a period of at most three years.")]
        kind = str(data.get("kind") or "").strip()
        if kind and kind not in KIND_ACTIONS:
            f.errors["kind"] = [_("Choose one of: %(kinds)s.") % {"kinds": ", ".join(KIND_ACTIONS)}]
        else:
            f.kind = kind
        return f

    def apply(self, qs: models.QuerySet[AuditEntry]) -> models.QuerySet[AuditEntry]:
        qs = qs.filter(action__in=KIND_ACTIONS[self.kind]) if self.kind else qs
        if self.actor:
            qs = qs.filter(actor_name__iexact=self.actor)
        if self.target:
            kind, _sep, ident = self.target.rpartition(":")
            if kind and ident:
                qs = qs.filter(target_type__iexact=kind, target_id=ident)
            else:
                qs = qs.filter(models.Q(target_id=self.target) | models.Q(target_repr__icontains=self.target))
        if self.purpose:
            qs = qs.filter(extra__purpose__icontains=self.purpose)
        tz = timezone.get_current_timezone()
        if self.start:
            qs = qs.filter(at__gte=dt.datetime.combine(self.start, dt.time.min, tzinfo=tz))
        if self.end:
            qs = qs.filter(at__lt=dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
        return qs


def personal_data_trail(f: TrailFilter | None = None) -> models.QuerySet[AuditEntry]:
    """Every reveal, export, personal-data search, bulk-read alert, rights request and purge, newest
    first, narrowed by ``f``. Who may read it is the caller's question (``org.selectors``)."""
    qs = AuditEntry.objects.filter(action__in=PERSONAL_DATA_ACTIONS).order_by("-at", "-id")
    return f.apply(qs) if f is not None else qs


def bulk_read_alerts(f: TrailFilter | None = None) -> models.QuerySet[AuditEntry]:
    """The bulk-read alerts of the filter's period (every other part of the filter ignored but the record)."""
    period = TrailFilter(start=f.start, end=f.end, target=f.target) if f is not None else None
    qs = AuditEntry.objects.filter(action__in=KIND_ACTIONS["alert"]).order_by("-at", "-id")
    return period.apply(qs) if period is not None else qs


def trail_row(e: AuditEntry) -> dict[str, Any]:
    """One row of the personal-data trail as the desk shows it: ids, field names, masked values, the
    purpose, never a plain value (the rows hold none)."""
    extra = e.extra if isinstance(e.extra, dict) else {}
    records = extra.get("records", extra.get("matches", extra.get("found", extra.get("rows"))))
    return {"id": e.pk, "at": e.at.isoformat(), "actor": e.actor_name, "action": e.action,
            "target_type": e.target_type, "target_id": e.target_id, "target": e.target_repr,
            "field": extra.get("field") or (",".join(extra["fields"]) if extra.get("fields") else None),
            "purpose": extra.get("purpose"), "value": extra.get("value") or extra.get("phone"),
            "records": records if isinstance(records, int) else None,
            "detail": {k: v for k, v in extra.items() if k not in ("purpose", "hashes", "phone_hash")} or None}
