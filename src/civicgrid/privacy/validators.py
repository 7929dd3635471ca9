"""Validation of identity and phone numbers."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 11643-1999: weights of the first 17 digits, and the check character for each remainder mod 11.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE_RE = re.compile(r"^0\d{2,3}\d{7,8}$")


def id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def validate_id_number(value: str) -> None:
    """An 18-character resident identity number (居民身份证号码) with a valid date and check digit."""
    v = "".join(value.split()).upper()
    if not _ID_RE.match(v):
        raise ValidationError(_("An identity number has 17 digits followed by a digit or X."), code="format")
    try:
        birth = dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        raise ValidationError(_("The birth date in the identity number is not a real date."),
                              code="date") from None
    if birth.year < 1900 or birth > dt.date.today():
        raise ValidationError(_("The birth date in the identity number is out of range."), code="date")
    if id_check_char(v[:17]) != v[17]:
        raise ValidationError(_("The check digit of the identity number is wrong."), code="checksum")


def validate_phone(value: str) -> None:
    """A mainland mobile (11 digits starting 1[3-9]) or a landline with its area code."""
    v = re.sub(r"[\s-]", "", value)
    if v.startswith("+86"):
        v = v[3:]
    if not (_MOBILE_RE.match(v) or _LANDLINE_RE.match(v)):
        raise ValidationError(_("Enter a mobile number (11 digits) or a landline with its area code."),
                              code="format")


def clean_phone(value: str) -> str:
    """The stored form of a phone number: no spaces or dashes, no +86 (13800138000, 02188886666)."""
    v = re.sub(r"[\s-]", "", value or "")
    return v[3:] if v.startswith("+86") else v


def clean_id_number(value: str) -> str:
    """The stored form of an identity number: no spaces, upper-case X."""
    return "".join((value or "").split()).upper()
