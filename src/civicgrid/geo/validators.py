"""What a region's name may hold.

Region names are shown on every map, list and export, and typed by district administrators (the
admin, ``PATCH /api/v1/regions/{code}``) or read from boundary files. A name is a place name: letters
of any script, digits, spaces and ordinary punctuation. Markup characters (``< > & " ' ` ``), control
and format characters (including the bidirectional overrides that make a name read backwards) and
line breaks are refused, so a name can never carry markup into a page or a spreadsheet.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

NAME_MAX = 100
FORBIDDEN = set("<>&\"'`")
# Unicode categories refused: control (Cc), format (Cf: bidi overrides, zero-width joiners…),
# surrogate (Cs), private use (Co), unassigned (Cn), line and paragraph separators (Zl, Zp).
FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def region_name_problem(name: str) -> str | None:
    """Why ``name`` (already stripped) cannot name a region, or None when it can."""
    if not name:
        return str(_("A name is needed."))
    if len(name) > NAME_MAX:
        return str(_("A name is at most %(n)d characters.") % {"n": NAME_MAX})
    for ch in name:
        if ch in FORBIDDEN or unicodedata.category(ch) in FORBIDDEN_CATEGORIES:
            shown = ch if ch in FORBIDDEN else f"U+{ord(ch):04X}"
            return str(_("A name may not contain %(ch)s (letters, digits, spaces and ordinary punctuation only).")
                       % {"ch": shown})
    return None


def validate_region_name(value: str) -> None:
    """The model field's validator (the admin's form shows it as the field's error)."""
    problem = region_name_problem((value or "").strip())
    if problem:
        raise ValidationError(problem, code="region_name")
