"""People's rights over their personal information (PIPL art. 44–47): find a person's records by their
phone or identity number, export them for the person, correct them, delete them where the legal basis
is consent or the retention period has ended.

Every record that holds a keyed-hash-indexed encrypted field of the kind asked (``phone`` or
``id_number``) is searched, in every app (a new model with such a field — parties — is found without
change here), through :func:`~civicgrid.privacy.services.sensitive_search`: each look-up is one
audited ``privacy.search``. Each right is one audit row (``privacy.rights.export`` / ``.correct`` /
``.erase``) with record ids and field names, never a value. Only a person with ``org.export_personal``
(the privacy officer's, administrators') may use them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.audit.services import audit_record
from civicgrid.privacy.exports import Watermark, can_export_personal, export_record
from civicgrid.privacy.fields import EncryptedTextField, encrypted_fields
from civicgrid.privacy.retention import retention_kinds
from civicgrid.privacy.services import _models_with_encrypted_fields, sensitive_search

KINDS = ("phone", "id_number")
BASES = ("consent", "retention")


@dataclass
class PersonRecords:
    """What was found for one person: per model label, the records."""

    kind: str
    found: dict[str, list[models.Model]]

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.found.values())


def _ensure_officer(actor: Any) -> None:
    if not can_export_personal(actor):
        raise PermissionDenied(_("You may not act on a person's data (org.export_personal)."))


def person_find(*, actor: Any, kind: str, value: str) -> PersonRecords:
    """Every record whose ``kind`` field (phone or identity number) holds ``value``; audited."""
    _ensure_officer(actor)
    if kind not in KINDS:
        raise ValidationError({"kind": _("Search by phone or id_number.")})
    if not "".join((value or "").split()):
        raise ValidationError({kind: _("Give the number to search for.")})
    found: dict[str, list[models.Model]] = {}
    for model, fields in _models_with_encrypted_fields():
        names = [f.name for f in fields if f.hash_field and f.mask_kind == kind]
        if names:
            hits = sensitive_search(user=actor, queryset=model._default_manager.order_by("pk"), value=value,
                                    fields=names)
            if hits:
                found[model._meta.label] = hits
    return PersonRecords(kind=kind, found=found)


def _record_data(obj: models.Model) -> dict[str, Any]:
    """The person's own data in a record: every encrypted field in full, plus the record's id and dates."""
    data: dict[str, Any] = {"id": obj.pk}
    for f in encrypted_fields(type(obj)):
        data[f.name] = getattr(obj, f.attname) or ""
    for f in obj._meta.concrete_fields:
        if isinstance(f, (models.DateTimeField, models.DateField)) and getattr(obj, f.attname) is not None:
            data[f.name] = getattr(obj, f.attname).isoformat()
    for name in ("tracking_code", "title", "username", "state"):
        if hasattr(obj, name) and name in {f.name for f in obj._meta.concrete_fields}:
            data[name] = getattr(obj, name)
    return data


def person_export(*, actor: Any, records: PersonRecords) -> tuple[dict[str, Any], Watermark]:
    """The person's records, for them (art. 45): a JSON-ready dict with the watermark in it; audited
    as ``privacy.rights.export`` and as a personal export (``privacy.export``, counts as a bulk read)."""
    _ensure_officer(actor)
    mark = export_record(user=actor, kind="privacy.rights.export", rows=records.count, fmt="json", personal=True)
    ids = {k: [str(o.pk) for o in v] for k, v in records.found.items()}
    with transaction.atomic():
        audit_record(actor=actor, action="privacy.rights.export", target_type="privacy.person",
                     target_repr=records.kind, extra={"records": records.count, "export": mark.audit_id, "ids": ids})
    return {"watermark": mark.text, "exported_at": mark.at.isoformat(),
            "records": {label: [_record_data(o) for o in objs] for label, objs in records.found.items()}}, mark


def person_correct(*, actor: Any, instance: models.Model, field: str, value: str, reason: str) -> models.Model:
    """Correct one personal value of one record (art. 46); audited with the field name only."""
    _ensure_officer(actor)
    f = type(instance)._meta.get_field(field)
    if not isinstance(f, EncryptedTextField):
        raise ValidationError({"field": _("Only personal (encrypted) fields are corrected here.")})
    if len(" ".join((reason or "").split())) < 4:
        raise ValidationError({"reason": _("Say why (the person's request, at least 4 characters).")})
    for validator in f.validators:
        try:
            validator(value)
        except ValidationError as exc:
            raise ValidationError({field: exc.messages}) from None
    with transaction.atomic():
        setattr(instance, f.attname, value)
        instance.save(update_fields=[f.name, *([f.hash_field] if f.hash_field else [])])
        audit_record(actor=actor, action="privacy.rights.correct", target=instance,
                     extra={"field": field, "reason": " ".join(reason.split())})
    return instance


def _retention_ended(obj: models.Model, now: dt.datetime) -> tuple[bool, tuple[str, ...]]:
    for kind in retention_kinds():
        if kind.model_class is type(obj):
            return _date_passed(kind, obj, now), kind.fields
    return False, ()


def _date_passed(kind: Any, obj: models.Model, now: dt.datetime) -> bool:
    when: Any = obj
    for part in kind.date_field.split("__"):  # a path through a relation (a party's case__closed_at)
        when = getattr(when, part, None)
    return bool(when and when < now - dt.timedelta(days=kind.period_days)
                and (kind.condition is None or type(obj)._default_manager.filter(kind.condition, pk=obj.pk).exists()))


def person_erase(*, actor: Any, records: PersonRecords, basis: str, note: str = "") -> dict[str, int]:
    """Delete the person's personal values (art. 47) where the basis allows: ``consent`` (the data was
    given on consent, now withdrawn: every personal field of the records found) or ``retention`` (only
    records whose retention period has ended). Returns records cleared per model; audited."""
    _ensure_officer(actor)
    if basis not in BASES:
        raise ValidationError({"basis": _("The basis is consent or retention.")})
    if basis == "consent" and len(" ".join((note or "").split())) < 4:
        raise ValidationError({"note": _("Say where the consent and its withdrawal are recorded.")})
    now = timezone.now()
    done: dict[str, int] = {}
    with transaction.atomic():
        for label, objs in records.found.items():
            for obj in objs:
                fields: tuple[str, ...]
                if basis == "retention":
                    ended, fields = _retention_ended(obj, now)
                    if not ended:
                        continue
                else:
                    fields = tuple(f.name for f in encrypted_fields(type(obj)))
                changes: list[str] = []
                for name in fields:
                    f = type(obj)._meta.get_field(name)
                    setattr(obj, f.attname, None if f.null and not isinstance(f, EncryptedTextField) else "")
                    changes.append(name)
                    if isinstance(f, EncryptedTextField) and f.hash_field:
                        changes.append(f.hash_field)
                obj.save(update_fields=changes)
                done[label] = done.get(label, 0) + 1
        audit_record(actor=actor, action="privacy.rights.erase", target_type="privacy.person", target_repr=records.kind,
                     extra={"basis": basis, "note": " ".join((note or "").split()), "records": sum(done.values()),
                            "ids": {k: [str(o.pk) for o in v] for k, v in records.found.items()}})
    return done
