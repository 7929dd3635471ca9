"""Text that XML can carry (XML 1.0 characters).

XML 1.0 allows tab, newline and carriage return and every character from U+0020 up, except the
surrogates (U+D800–U+DFFF) and U+FFFE/U+FFFF. Anything else — a control character pasted into a
report's title, a lone surrogate — makes the document unparseable for every reader (the XML writers
of the standard library and openpyxl write it as it is, or refuse the whole file). Writers of XML
(Open311's ``.xml`` answers, Excel exports) pass their text through :func:`xml_safe`.
"""

from __future__ import annotations

import re
from typing import Any

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (dropped: they carry no meaning a
    reader could use)."""
    return _NOT_XML.sub("", text)


def xml_safe_cells(row: list[Any]) -> list[Any]:
    """A spreadsheet row with its text cells made :func:`xml_safe` (other values unchanged)."""
    return [xml_safe(v) if isinstance(v, str) else v for v in row]
