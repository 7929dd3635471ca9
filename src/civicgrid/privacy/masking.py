"""Masking for display (脱敏): pages, API, admin and exports show these, never the full value.

Every masker hides at least two fifths of the characters (an identity number shows 10 of 18, a
mobile 7 of 11), however short the value, so a truncated or unusual value never comes out whole.
"""

from __future__ import annotations

from collections.abc import Callable

STAR = "*"


def _keep_ends(value: str, head: int, tail: int) -> str:
    """Keep ``head`` leading and ``tail`` trailing characters, star the rest.

    When the value is too short for that, the kept ends shrink (the longer end first) until at
    least two fifths of the characters (and at least one) are hidden.
    """
    n = len(value)
    if n == 0:
        return ""
    hidden_min = max(n * 2 // 5, 1)
    while head + tail > n - hidden_min and (head or tail):
        if tail >= head and tail:
            tail -= 1
        else:
            head -= 1
    return value[:head] + STAR * (n - head - tail) + (value[n - tail:] if tail else "")


def mask_id_number(value: str) -> str:
    """110105********1234: region code and last four stay, the birth date is hidden."""
    return _keep_ends("".join(value.split()), 6, 4)


def mask_phone(value: str) -> str:
    """138****5678: network prefix and last four (a landline keeps what fits: 021****6666)."""
    v = "".join(value.split()).replace("-", "")
    if v.startswith("+86"):
        v = v[3:]
    return _keep_ends(v, 3, 4)


def mask_name(value: str) -> str:
    """张*, 欧阳**: the first character (the family name) stays; one character is hidden too."""
    v = value.strip()
    if len(v) <= 1:
        return STAR * len(v)
    return v[0] + STAR * (len(v) - 1)


def mask_generic(value: str) -> str:
    """a***z: first and last character of longer values, everything hidden when short."""
    v = value.strip()
    if len(v) <= 4:
        return STAR * len(v)
    return v[0] + STAR * (len(v) - 2) + v[-1]


MASKERS: dict[str, Callable[[str], str]] = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "name": mask_name,
    "generic": mask_generic,
}


def mask(value: str | None, kind: str = "generic") -> str:
    """Mask ``value`` the way ``kind`` says ("id_number", "phone", "name", "generic")."""
    if not value:
        return ""
    try:
        masker = MASKERS[kind]
    except KeyError:
        raise ValueError(f"unknown mask kind {kind!r}") from None
    return masker(value)
