"""Writing the audit trail. Every service that changes data calls :func:`audit_record`."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import hmac
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import models

from civicgrid.audit.models import AuditEntry
from civicgrid.core.batch import new_row
from civicgrid.core.context import client_ip_var, correlation_id_var, current_request_id, token_minter_var

MASK = "***"


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return str(value)


def _fingerprint(value: Any) -> str:
    """``***`` plus 8 hex digits of a keyed hash: a change is visible, the value is not."""
    digest = hmac.new(settings.SECRET_KEY.encode(), str(value).encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{MASK}{digest[:8]}"


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """A JSON-safe picture of a model's concrete fields, with sensitive fields masked.

    A field marks itself sensitive with a ``sensitive = True`` attribute (the privacy app's
    encrypted fields do), so the audit trail never holds a plain identity or phone number; it holds
    a short keyed fingerprint instead, so that a change of the value still shows.
    """
    wanted = set(fields) if fields is not None else None
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if wanted is not None and field.name not in wanted:
            continue
        if getattr(field, "audit_skip", False):
            continue
        if getattr(field, "sensitive", False):
            value = getattr(instance, field.attname)
            data[field.name] = _fingerprint(value) if value not in (None, "") else None
            continue
        data[field.name] = _jsonable(getattr(instance, field.attname))
    return data


def changed(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """Only the keys whose values differ, for compact before/after rows."""
    before, after = before or {}, after or {}
    return {k: after.get(k) for k in set(before) | set(after) if before.get(k) != after.get(k)}


def audit_entry(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    target_repr: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> AuditEntry:
    """The audit row for one write, not yet saved: the one constructor of audit rows. :func:`audit_record`
    saves it; services that insert rows together, bulk imports (:func:`audit_bulk`) and the bulk event
    import (``COPY``) build theirs here too. The request context (:mod:`civicgrid.core.context`) gives
    the request id, client address, correlation id and token minter."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
        target_repr = target_repr or str(target)
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    minter = token_minter_var.get()
    name = actor_obj.get_username() if actor_obj is not None else (str(actor) if actor else "system")
    entry = new_row(AuditEntry, {
        "actor_name": name[:150],
        "action": action,
        "target_type": target_type,
        "target_id": str(target_id or ""),
        "target_repr": target_repr[:200],
        "before": _jsonable(before) if before is not None else None,
        "after": _jsonable(after) if after is not None else None,
        "extra": _jsonable(extra) if extra is not None else None,
        "request_id": current_request_id(),
        "client_ip": client_ip_var.get() or "",
        "correlation_id": correlation_id_var.get() or "",
        "token_minter_name": (minter.get_username() if minter is not None else "")[:150],
    })
    if actor_obj is not None:
        entry.actor = actor_obj
    if getattr(minter, "pk", None):
        entry.token_minter = minter  # type: ignore[assignment]  # (the user model: audit does not import org)
    return entry


def audit_record(**kwargs: Any) -> AuditEntry:
    """Append one audit row (see :func:`audit_entry` for the arguments). Call it inside the same
    transaction as the write it records."""
    entry = audit_entry(**kwargs)
    entry.save(force_insert=True)
    return entry


def audit_bulk(rows: list[AuditEntry], *, batch_size: int = 2000) -> None:
    """Append many prepared rows at once (bulk imports); each row is still one audit entry."""
    rid, correlation, minter = current_request_id(), correlation_id_var.get() or "", token_minter_var.get()
    for row in rows:
        row.request_id = row.request_id or rid
        row.correlation_id = row.correlation_id or correlation
        if minter is not None and row.token_minter_id is None:
            row.token_minter, row.token_minter_name = minter, minter.get_username()[:150]
    AuditEntry.objects.bulk_create(rows, batch_size=batch_size)
