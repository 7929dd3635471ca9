"""The audited reveal of a sensitive value and the re-encryption after a key change.

privacy imports no domain app; it writes its rows through the audit app (foundation). Whether the
user may see the *record* at all (its jurisdiction) is the caller's job: fetch the instance through
the scoped queryset first, then ask this module for the full value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.utils.translation import gettext as _

from civicgrid.audit.services import audit_record
from civicgrid.privacy import crypto
from civicgrid.privacy.exports import bulk_read_check
from civicgrid.privacy.fields import EncryptedTextField, encrypted_fields, hash_lookup
from civicgrid.privacy.masking import mask_generic, mask_id_number, mask_phone

MIN_PURPOSE_LENGTH = 4
MAX_PURPOSE_LENGTH = 500


def reveal_permission(model: type[models.Model]) -> str:
    """The Django permission that allows revealing ``model``'s sensitive fields, e.g. ``org.reveal_user``."""
    return f"{model._meta.app_label}.reveal_{model._meta.model_name}"


# Roles that a domain rule (not a Django permission) lets reveal values — the case engine's
# declarations per case type of who may reveal a party's phone. Apps add a provider in
# AppConfig.ready; the second factor is required of those roles as of the reveal permissions.
_revealing_role_providers: list[Callable[[], Iterable[str]]] = []


def revealing_roles_provide(provider: Callable[[], Iterable[str]]) -> None:
    """Add a source of roles that may reveal personal values by a domain rule (idempotent)."""
    if provider not in _revealing_role_providers:
        _revealing_role_providers.append(provider)


def revealing_roles() -> frozenset[str]:
    """Every role some domain rule lets reveal personal values (asked when it is needed)."""
    return frozenset(role for provider in _revealing_role_providers for role in provider())


def second_factor_given(user: Any) -> bool:
    """On a request where the second factor is required (``CIVICGRID_SECOND_FACTOR_REQUIRED``), the
    user has given their one-time code (``is_verified``, set by django-otp's middleware); the sign-in
    middleware already keeps such a person on the code page: this is the second lock."""
    verified = getattr(user, "is_verified", None)
    return not (getattr(settings, "CIVICGRID_SECOND_FACTOR_REQUIRED", False) and callable(verified)
                and not verified())


def can_reveal(user: Any, model: type[models.Model]) -> bool:
    """The user has the reveal permission and has given the second factor where it is required."""
    if not (getattr(user, "is_authenticated", False) and user.is_active and user.has_perm(reveal_permission(model))):
        return False
    return second_factor_given(user)


def sensitive_value_reveal(*, user: Any, instance: models.Model, field_name: str, purpose: str,
                           permitted: bool | None = None) -> str:
    """Return the full value of a sensitive field to a user with the reveal permission (查看完整信息).

    The purpose (为何查看) is required and recorded; every reveal is one audit row (action
    ``privacy.reveal``, the field and purpose in ``extra``, never the value), written before the
    value is returned. Anyone without ``<app>.reveal_<model>`` gets ``PermissionDenied``; a
    missing or too short purpose is a ``ValidationError``.

    ``permitted`` is the caller's own decision when a domain rule, not a Django permission, says
    who may see the value (the case engine's declaration per role and case type for a party):
    False refuses as above, True skips the permission check (the purpose and the audit row stay).
    """
    model = type(instance)
    field = model._meta.get_field(field_name)
    if not isinstance(field, EncryptedTextField):
        raise ValueError(f"{model.__name__}.{field_name} is not a sensitive field")
    allowed = can_reveal(user, model) if permitted is None else (
        permitted and bool(getattr(user, "is_authenticated", False) and user.is_active)
        and second_factor_given(user))
    if not allowed:
        raise PermissionDenied(_("You may not see the full value of this field."))
    purpose = " ".join((purpose or "").split())
    if len(purpose) < MIN_PURPOSE_LENGTH:
        raise ValidationError(
            {"purpose": _("State why you need the full value (at least %(n)d characters).")
             % {"n": MIN_PURPOSE_LENGTH}},
            code="purpose_required")
    if len(purpose) > MAX_PURPOSE_LENGTH:
        raise ValidationError(
            {"purpose": _("Keep the purpose under %(n)d characters.") % {"n": MAX_PURPOSE_LENGTH}},
            code="purpose_too_long")
    with transaction.atomic():
        audit_record(actor=user, action="privacy.reveal", target=instance,
                     extra={"field": field_name, "purpose": purpose})
    bulk_read_check(user)
    return getattr(instance, field.attname) or ""


def sensitive_search(*, user: Any, queryset: models.QuerySet[Any], value: str,
                     fields: Sequence[str]) -> list[Any]:
    """Records whose sensitive ``fields`` (keyed-hash indexed) hold exactly ``value``, out of
    ``queryset`` (the caller's scoped queryset), as a list — and one audit row for the look-up
    (action ``privacy.search``): who searched, in which fields, how many records matched, the value
    masked and its keyed hash per field (the hash the table itself holds, so an auditor can find
    every search for one person; never the plain value). The row is written before the answer."""
    model = queryset.model
    value = "".join((value or "").split())
    condition = models.Q()
    hashes: dict[str, str] = {}
    for name in fields:
        lookup = hash_lookup(model, name, value)
        hashes[name] = next(iter(lookup.values()))
        condition |= models.Q(**lookup)
    found = list(queryset.filter(condition)) if value else []
    kinds = {model._meta.get_field(name).mask_kind for name in fields}  # type: ignore[union-attr]
    shown = mask_id_number(value) if "id_number" in kinds and len(value) in (15, 18) else (
        mask_phone(value) if "phone" in kinds else mask_generic(value))
    with transaction.atomic():
        audit_record(actor=user, action="privacy.search", target_type=model._meta.label_lower,
                     extra={"fields": list(fields), "value": shown, "hashes": hashes, "matches": len(found),
                            "ids": [str(obj.pk) for obj in found[:50]]})
    bulk_read_check(user)
    return found


def masked_value(instance: models.Model, field_name: str) -> str:
    """The display form of a sensitive field (138****8000)."""
    field = type(instance)._meta.get_field(field_name)
    if not isinstance(field, EncryptedTextField):
        raise ValueError(f"{type(instance).__name__}.{field_name} is not a sensitive field")
    return field.masked(instance)


def _models_with_encrypted_fields() -> list[tuple[type[models.Model], list[EncryptedTextField]]]:
    found = []
    for model in apps.get_models():
        opts = model._meta
        if opts.proxy or not opts.managed or opts.swapped:
            continue  # a proxy shares its table with the concrete model: rotate that once
        fields = encrypted_fields(model)
        if fields:
            found.append((model, fields))
    return found


def encrypted_columns_rotate(*, actor: Any = None, batch_size: int = 500,
                             progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Re-encrypt every encrypted column of every model under the newest key (密钥轮换).

    Reads the raw tokens with SQL (nothing is decrypted into model objects), re-encrypts each one
    not yet under the first key of ``CIVICGRID_ENCRYPTION_KEYS`` and writes it back, one
    transaction per batch. Safe to interrupt and run again: finished rows are skipped. Returns rows
    re-encrypted per model and writes one audit row ``privacy.keys.rotate`` with those counts.
    A token that no configured key opens stops the run with ``DecryptionError``.
    """
    qn = connection.ops.quote_name
    done: dict[str, int] = {}
    for model, fields in _models_with_encrypted_fields():
        columns = [f.column for f in fields]
        table = qn(model._meta.db_table)
        pk_col = qn(model._meta.pk.column)
        select = f"SELECT {pk_col}, {', '.join(qn(c) for c in columns)} FROM {table}"
        count = 0
        last_pk: Any = None
        while True:
            with transaction.atomic(), connection.cursor() as cur:
                if last_pk is None:
                    cur.execute(f"{select} ORDER BY {pk_col} LIMIT %s", [batch_size])
                else:
                    cur.execute(f"{select} WHERE {pk_col} > %s ORDER BY {pk_col} LIMIT %s",
                                [last_pk, batch_size])
                rows = cur.fetchall()
                for pk, *values in rows:
                    updates = {col: crypto.rotate(v) for col, v in zip(columns, values, strict=True)
                               if v and not crypto.is_current(v)}
                    if updates:
                        sets = ", ".join(f"{qn(c)} = %s" for c in updates)
                        cur.execute(f"UPDATE {table} SET {sets} WHERE {pk_col} = %s", [*updates.values(), pk])
                        count += 1
            if len(rows) < batch_size:
                break
            last_pk = rows[-1][0]
        done[model._meta.label] = count
        if progress:
            progress(model._meta.label, count)
    with transaction.atomic():
        audit_record(actor=actor, action="privacy.keys.rotate", target_type="privacy.keys",
                     target_repr="CIVICGRID_ENCRYPTION_KEYS",
                     extra={"rows": done, "keys": len(settings.CIVICGRID_ENCRYPTION_KEYS)})
    return done
