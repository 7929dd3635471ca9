"""The audited reveal of a sensitive value and the re-encryption after a key change.

privacy imports no domain app; it writes its reveal rows through the audit app (foundation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction

from civicgrid.audit.services import audit_record
from civicgrid.privacy import crypto
from civicgrid.privacy.fields import EncryptedTextField, encrypted_fields

MIN_PURPOSE_LENGTH = 4


def reveal_permission(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}.reveal_{model._meta.model_name}"


def sensitive_value_reveal(*, user: Any, instance: models.Model, field_name: str, purpose: str) -> str:
    """Return the full value of a sensitive field to a user with the reveal permission.

    The purpose (为何查看) is required and recorded; every reveal is one audit row, written
    before the value is returned. Anyone without ``<app>.reveal_<model>`` is refused.
    """
    model = type(instance)
    field = model._meta.get_field(field_name)
    if not isinstance(field, EncryptedTextField):
        raise ValueError(f"{model.__name__}.{field_name} is not a sensitive field")
    if not getattr(user, "is_authenticated", False) or not user.has_perm(reveal_permission(model)):
        raise PermissionDenied("You may not reveal this value.")
    purpose = (purpose or "").strip()
    if len(purpose) < MIN_PURPOSE_LENGTH:
        raise ValidationError({"purpose": "State why you need the full value (at least 4 characters)."})
    with transaction.atomic():
        audit_record(actor=user, action="privacy.reveal", target=instance,
                     extra={"field": field_name, "purpose": purpose})
    return getattr(instance, field.attname) or ""


def masked_value(instance: models.Model, field_name: str) -> str:
    field = type(instance)._meta.get_field(field_name)
    if not isinstance(field, EncryptedTextField):
        raise ValueError(f"{type(instance).__name__}.{field_name} is not a sensitive field")
    return field.masked(instance)


def encrypted_columns_rotate(*, batch_size: int = 500,
                             progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Re-encrypt every encrypted column of every model under the newest key.

    Reads the raw tokens (no decrypt into Python objects), rotates each, and writes it back with
    an UPDATE per row inside one transaction per batch. Returns rows rotated per model.
    """
    done: dict[str, int] = {}
    for model in apps.get_models():
        fields = encrypted_fields(model)
        if not fields:
            continue
        columns = [f.attname for f in fields]
        table = model._meta.db_table
        count = 0
        qs = model._default_manager.order_by("pk")
        last_pk: Any = None
        while True:
            batch_qs = qs if last_pk is None else qs.filter(pk__gt=last_pk)
            # values_list on the raw column bypasses from_db_value only via a cast: use a plain SQL read.
            pks = list(batch_qs.values_list("pk", flat=True)[:batch_size])
            if not pks:
                break
            with transaction.atomic():
                from django.db import connection

                quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
                pk_col = connection.ops.quote_name(model._meta.pk.column)
                placeholders = ", ".join(["%s"] * len(pks))
                with connection.cursor() as cur:
                    cur.execute(f"SELECT {pk_col}, {quoted} FROM {connection.ops.quote_name(table)} "
                                f"WHERE {pk_col} IN ({placeholders})", pks)
                    rows = cur.fetchall()
                    for row in rows:
                        pk, values = row[0], row[1:]
                        new = [crypto.rotate(v) if v else v for v in values]
                        if new != list(values):
                            sets = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in columns)
                            cur.execute(f"UPDATE {connection.ops.quote_name(table)} SET {sets} WHERE {pk_col} = %s",
                                        [*new, pk])
                            count += 1
            last_pk = pks[-1]
        done[model._meta.label] = count
        if progress:
            progress(model._meta.label, count)
    return done
