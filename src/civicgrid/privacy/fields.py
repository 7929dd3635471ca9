"""Model fields for personal data: encrypted text with an optional keyed-hash companion."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Model

from civicgrid.privacy import crypto
from civicgrid.privacy.masking import mask


class EncryptedTextField(models.TextField):
    """Text encrypted at rest with Fernet; the database column never holds the plain value.

    ``hash_field`` names a :class:`KeyedHashField` on the same model kept in step on save, for
    exact-match search. ``mask`` names the masking used for display. Only ``isnull`` and exact
    empty-string lookups make sense on ciphertext; search goes through the hash field.
    """

    sensitive = True

    def __init__(self, *args: Any, hash_field: str | None = None, mask: str = "generic", **kwargs: Any) -> None:
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
        return value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

    def pre_save(self, model_instance: Model, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        if self.hash_field:
            setattr(model_instance, self.hash_field, crypto.keyed_hash(value) if value else "")
        return value

    def masked(self, instance: Model) -> str:
        return mask(getattr(instance, self.attname), self.mask_kind)


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


def encrypted_fields(model: type[Model]) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def hash_lookup(model: type[Model], field_name: str, value: str) -> dict[str, str]:
    """The filter kwargs that find ``value`` through the keyed hash of ``field_name``."""
    field = model._meta.get_field(field_name)
    if not isinstance(field, EncryptedTextField) or not field.hash_field:
        raise ValueError(f"{model.__name__}.{field_name} has no keyed-hash index")
    return {field.hash_field: crypto.keyed_hash(value)}
