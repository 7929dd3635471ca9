"""Model fields for personal data: encrypted text with an optional keyed-hash companion."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import FieldError
from django.db import models
from django.db.models import Model
from django.db.models.lookups import Exact, IsNull

from civicgrid.privacy import crypto
from civicgrid.privacy.masking import MASKERS, mask


class EncryptedTextField(models.TextField):
    """Text encrypted at rest with Fernet; the database column never holds the plain value.

    ``hash_field`` names a :class:`KeyedHashField` on the same model, kept in step on save, for
    exact-match search (:func:`hash_lookup`). ``mask`` names the masking used for display
    ("id_number", "phone", "name", "generic"); it also picks how values are normalised before
    hashing. Ciphertext is randomised, so the only lookups are ``isnull`` and ``exact`` with an
    empty value; anything else is refused rather than silently finding nothing.

    Saving with ``update_fields`` must name the hash field too, or the hash goes stale.
    """

    sensitive = True  # read by civicgrid.audit.services.snapshot: masked in the audit trail

    def __init__(self, *args: Any, hash_field: str | None = None, mask: str = "generic",
                 **kwargs: Any) -> None:
        if mask not in MASKERS:
            raise ValueError(f"unknown mask kind {mask!r}")
        self.hash_field = hash_field
        self.mask_kind = mask
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if self.hash_field:
            kwargs["hash_field"] = self.hash_field
        if self.mask_kind != "generic":
            kwargs["mask"] = self.mask_kind
        return name, path, args, kwargs

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def to_python(self, value: Any) -> Any:
        return value if value is None or isinstance(value, str) else str(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

    def pre_save(self, model_instance: Model, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        if self.hash_field:
            digest = crypto.keyed_hash(value, self.mask_kind) if value else ""
            setattr(model_instance, self.hash_field, digest)
        return value

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return EncryptedEmptyExact
        if lookup_name == "isnull":
            return IsNull
        return None  # Django then raises FieldError: unsupported lookup

    def formfield(self, **kwargs: Any) -> Any:
        # One line of text, not a textarea: these are numbers, not prose.
        defaults = {"form_class": forms.CharField, "widget": forms.TextInput}
        defaults.update(kwargs)
        return super(models.TextField, self).formfield(**defaults)

    def masked(self, instance: Model) -> str:
        return mask(getattr(instance, self.attname), self.mask_kind)


class EncryptedEmptyExact(Exact):
    """``field=""`` works (it is stored as-is); ``field="138…"`` cannot match ciphertext."""

    def get_prep_lookup(self) -> Any:
        if self.rhs not in (None, "") and not hasattr(self.rhs, "resolve_expression"):
            raise FieldError("An encrypted field cannot be searched by value; use "
                             "civicgrid.privacy.fields.hash_lookup() instead.")
        return super().get_prep_lookup()


class KeyedHashField(models.CharField):
    """HMAC-SHA256 of a normalised sensitive value, indexed, for exact-match search (密钥哈希索引)."""

    audit_skip = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if not self.db_index:  # indexed unless told otherwise (a model may prefer a partial index)
            kwargs["db_index"] = False
        else:
            kwargs.pop("db_index", None)
        return name, path, args, kwargs


def encrypted_fields(model: type[Model]) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def hash_lookup(model: type[Model], field_name: str, value: str) -> dict[str, str]:
    """The filter kwargs that find ``value`` through the keyed hash of ``field_name``.

    ``User.objects.filter(**hash_lookup(User, "phone", "138 0013 8000"))`` finds the user whose
    phone is 13800138000: spaces, dashes, case and a +86 prefix do not matter.
    """
    field = model._meta.get_field(field_name)
    if not isinstance(field, EncryptedTextField) or not field.hash_field:
        raise ValueError(f"{model.__name__}.{field_name} has no keyed-hash index")
    return {field.hash_field: crypto.keyed_hash(value, field.mask_kind)}
