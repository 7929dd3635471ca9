"""Retention (保存期限): how long each kind of personal data is kept, and the purge that clears it.

Each app registers the kinds of personal data it holds, in its ``AppConfig.ready``::

    from civicgrid.privacy.retention import register
    register("cases.reporter", "cases.Case", date_field="closed_at",
             fields=("reporter_name", "reporter_phone"), days=3 * 365,
             description="the reporter's name and phone on a closed case")

- ``model`` is an ``app_label.ModelName`` string (or the class); ``date_field`` the date the period
  runs from (a row whose date is empty is never purged); ``fields`` the values cleared — an
  :class:`~civicgrid.privacy.fields.EncryptedTextField` is emptied together with its keyed hash, a
  text field emptied, a nullable field set to null; ``condition`` (a ``Q``) narrows the rows (only
  inactive accounts…); ``extra`` (a dict) other values set on the cleared rows (an anonymised name).
- ``days`` is the documented default; ``CIVICGRID_RETENTION_DAYS`` (``kind=days,kind=days``)
  overrides it per kind. ``docs/privacy-impact-assessment.md`` lists the kinds and their defaults.

:func:`retention_purge` (the worker, and ``civicgrid privacy purge [--dry-run]``) clears the values in
the records themselves, in batches, and writes one audit row ``privacy.purge`` per batch with the
kind, the fields and the ids cleared — never a value. It is idempotent: a cleared row no longer
matches (every one of its fields is already empty).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from civicgrid.audit.services import audit_record
from civicgrid.privacy.fields import EncryptedTextField

BATCH = 500


@dataclass(frozen=True)
class RetentionKind:
    name: str
    model: str
    date_field: str
    fields: tuple[str, ...]
    days: int
    description: str = ""
    condition: models.Q | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    @property
    def period_days(self) -> int:
        override = getattr(settings, "CIVICGRID_RETENTION_DAYS", {}) or {}
        return int(override.get(self.name, self.days))

    def cleared_values(self) -> dict[str, Any]:
        model = self.model_class
        values: dict[str, Any] = dict(self.extra)
        for name in self.fields:
            f = model._meta.get_field(name)
            if isinstance(f, EncryptedTextField):
                values[name] = ""
                if f.hash_field:
                    values[f.hash_field] = ""
            elif f.null:
                values[name] = None
            else:
                values[name] = ""
        return values

    def holding(self) -> models.Q:
        """Rows that still hold a value in one of the fields (a cleared row never matches again)."""
        model = self.model_class
        q = models.Q()
        for name in self.fields:
            held = ~models.Q(**{name: ""})
            if model._meta.get_field(name).null:
                held &= models.Q(**{f"{name}__isnull": False})
            q |= held
        return q

    def due(self, now: dt.datetime | None = None) -> models.QuerySet[Any]:
        cutoff = (now or timezone.now()) - dt.timedelta(days=self.period_days)
        qs = self.model_class._default_manager.filter(**{f"{self.date_field}__lt": cutoff}).filter(self.holding())
        return qs.filter(self.condition) if self.condition is not None else qs


_KINDS: dict[str, RetentionKind] = {}


def register(name: str, model: str | type[models.Model], *, date_field: str, fields: Iterable[str], days: int,
             description: str = "", condition: models.Q | None = None, extra: dict[str, Any] | None = None) -> None:
    """Declare a kind of personal data and its retention period (call from ``AppConfig.ready``)."""
    label = model if isinstance(model, str) else model._meta.label
    _KINDS[name] = RetentionKind(name=name, model=label, date_field=date_field, fields=tuple(fields), days=int(days),
                                 description=description, condition=condition, extra=dict(extra or {}))


def retention_kinds() -> list[RetentionKind]:
    return [_KINDS[k] for k in sorted(_KINDS)]


def retention_kind(name: str) -> RetentionKind:
    return _KINDS[name]


def retention_purge(*, actor: Any = None, dry_run: bool = False, now: dt.datetime | None = None,
                    kinds: Iterable[str] | None = None) -> dict[str, int]:
    """Clear the personal values whose retention period has ended; rows cleared (or due, with
    ``dry_run``) per kind. One audit row ``privacy.purge`` per batch (ids and field names only)."""
    now = now or timezone.now()
    done: dict[str, int] = {}
    for kind in retention_kinds():
        if kinds is not None and kind.name not in set(kinds):
            continue
        due = kind.due(now)
        if dry_run:
            done[kind.name] = due.count()
            continue
        values, count = kind.cleared_values(), 0
        while True:
            with transaction.atomic():
                ids = list(due.order_by("pk").values_list("pk", flat=True)[:BATCH])
                if not ids:
                    break
                kind.model_class._default_manager.filter(pk__in=ids).update(**values)
                audit_record(actor=actor, action="privacy.purge", target_type=kind.model_class._meta.label_lower,
                             target_repr=kind.name,
                             extra={"kind": kind.name, "fields": list(kind.fields), "days": kind.period_days,
                                    "records": len(ids), "ids": [str(i) for i in ids]})
            count += len(ids)
        done[kind.name] = count
    return done
