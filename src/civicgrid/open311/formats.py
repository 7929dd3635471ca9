"""Open311 answers in JSON or XML (GeoReport v2 element names), and its error list.

The XML is written with the standard library (``xml.etree``): a list becomes one child element per
item, named after the list (``services`` → ``service``, ``service_requests`` → ``request`` …); a
dict becomes child elements; None an empty element; booleans ``true``/``false``. Text loses the
characters XML cannot carry (:mod:`civicgrid.core.xmltext`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

from civicgrid.core.xmltext import xml_safe

# the element name of the items of each list, per the spec (and our extensions)
ITEM = {"services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
        "endpoints": "endpoint", "formats": "format", "errors": "error", "notes": "note",
        "category_path": "category"}
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


class Open311Error(Exception):
    """An answer from the spec's error list: HTTP ``code`` with ``[{"code", "description"}]``."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


def w3c(value: dt.datetime | None) -> str | None:
    """A W3C (ISO 8601) date-time with its offset, in the deployment's zone."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return w3c(value)
    return xml_safe(str(value))  # a control character in a title must not break the document


def _fill(parent: ET.Element, name: str, value: Any) -> None:
    el = ET.SubElement(parent, name)
    _content(el, name, value)


def _content(el: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(el, key, item)
    elif isinstance(value, list):
        for item in value:
            _fill(el, ITEM.get(name, "item"), item)
    else:
        el.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    el = ET.Element(root)
    _content(el, root, value)
    return ET.tostring(el, encoding="utf-8", xml_declaration=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return w3c(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def render(value: Any, fmt: str, root: str, *, status: int = 200) -> HttpResponse:
    """``value`` as JSON, or as XML under the element ``root``."""
    if fmt == "xml":
        body = to_xml(root, value)
    else:
        body = json.dumps(value, ensure_ascii=False, default=_json_default).encode()
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def input_error(status: int, text: str, view_kwargs: dict[str, Any]) -> HttpResponse:
    """The input guard's refusal (:mod:`civicgrid.core.inputs`) as Open311's error list."""
    fmt = view_kwargs.get("fmt") if view_kwargs.get("fmt") in ("json", "xml") else "json"
    return render_error(Open311Error(status, text), str(fmt))


def render_error(exc: Open311Error, fmt: str) -> HttpResponse:
    response = render([{"code": exc.code, "description": exc.description}], fmt, "errors", status=exc.code)
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response
