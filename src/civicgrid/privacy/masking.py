"""Masking for display (脱敏): pages, API, admin and exports show these, never the full value."""

from __future__ import annotations

from collections.abc import Callable


def mask_id_number(value: str) -> str:
    """110105********1234 style: region code and last four stay, birth date is hidden."""
    v = value.strip()
    if len(v) <= 8:
        return "*" * len(v)
    return v[:6] + "*" * (len(v) - 10) + v[-4:]


def mask_phone(value: str) -> str:
    """138****5678: network prefix and last four."""
    v = "".join(value.split())
    if len(v) <= 7:
        return v[:1] + "*" * max(len(v) - 1, 0)
    return v[:3] + "*" * (len(v) - 7) + v[-4:]


def mask_name(value: str) -> str:
    """张*、欧阳** : the family name (first character) stays."""
    v = value.strip()
    if len(v) <= 1:
        return v
    return v[0] + "*" * (len(v) - 1)


def mask_generic(value: str) -> str:
    v = value.strip()
    if len(v) <= 2:
        return "*" * len(v)
    return v[0] + "*" * (len(v) - 2) + v[-1]


MASKERS: dict[str, Callable[[str], str]] = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "name": mask_name,
    "generic": mask_generic,
}


def mask(value: str | None, kind: str = "generic") -> str:
    if not value:
        return ""
    return MASKERS[kind](value)
