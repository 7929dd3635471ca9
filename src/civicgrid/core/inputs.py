"""Input that no field may carry, refused once for every endpoint, naming where it was found.

- ``InputGuardMiddleware``: a NUL character in a URL part, a query parameter or a form field is 400
  (PostgreSQL cannot store or even compare it, so it used to end in a server error); an integer in
  the URL beyond 64 bits is 404 (no row has that id); a JSON API body over its limit is 413. The
  answer is in the format of the endpoint: the API's error body, Open311's error list, or text.
- ``JsonParser``: the API's JSON bodies, strictly: malformed JSON, a body that is not an object, a
  NUL character or a lone surrogate in any string or key, a number that is not finite (``NaN``,
  ``Infinity``, ``1e999``) and an integer beyond 64 bits are refused with 422 naming the field.
- ``Day``: a day the system can compute with (periods, deadlines, time zones), 1900–2999.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import annotated_types
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt
from ninja.parser import Parser

DAY_MIN, DAY_MAX = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
Day = Annotated[dt.date, annotated_types.Ge(DAY_MIN), annotated_types.Le(DAY_MAX)]
INT64_MAX = 2**63 - 1
NUL = gettext_noop("Contains a NUL character.")  # English in the API, translated on pages and Open311
MAX_PAGE = 1_000_000  # pages of a list (×200 rows at most): far beyond any real list, inside every integer
MAX_OFFSET = 100_000_000
MAX_ID = 2**63 - 1  # a database id (bigint): anything larger is no id


@dataclass(frozen=True)
class Upload:
    """A file as received in an API body or a form: its name (for the record only) and its bytes."""

    name: str
    content: bytes

# The API operations that take photos in their JSON body (base64): their own body limit.
_INTAKE_PATHS = re.compile(r"^/api/v1/(events(/[^/]+/actions/[^/]+)?|cases/\d+/actions/[^/]+)/?$")


def day_error(value: dt.date) -> str | None:
    """Why ``value`` cannot be used as a day, or None."""
    if not DAY_MIN <= value <= DAY_MAX:
        return _("Give a day between %(first)s and %(last)s.") % {"first": DAY_MIN.isoformat(),
                                                                   "last": DAY_MAX.isoformat()}
    return None


class BadBody(ValueError):
    """A JSON body refused by the parser; ``fields`` maps each bad field to its reasons."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in fields.items()))
        self.fields = fields


class _NotFinite(float):
    """A float the JSON text spelled as NaN, Infinity or beyond range: found and named by the walk."""


def _constant(text: str) -> float:
    return _NotFinite("nan")


def _float(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else _NotFinite(value)


def string_problem(value: str) -> str | None:
    """Why a string cannot be stored, or None: a NUL character, or a lone surrogate (not Unicode)."""
    if "\x00" in value:
        return NUL
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "Contains a lone surrogate: not valid Unicode."
    return None


def _printable(key: str) -> str:
    return key.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _walk(value: Any, path: list[str], out: dict[str, list[str]]) -> None:
    where = ".".join(path) or "body"
    if isinstance(value, str):
        problem = string_problem(value)
        if problem:
            out.setdefault(where, []).append(problem)
    elif isinstance(value, _NotFinite):
        out.setdefault(where, []).append("Not a finite number.")
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int):
        if abs(value) > INT64_MAX:
            out.setdefault(where, []).append("Out of range (a 64-bit integer).")
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = string_problem(key)
            if problem:
                out.setdefault(".".join([*path, _printable(key)]), []).append(problem)
            else:
                _walk(item, [*path, key], out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, [*path, str(i)], out)


class JsonParser(Parser):
    """The API's JSON bodies, refused with the field named where they cannot be used (module doc)."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            data = json.loads(request.body, parse_constant=_constant, parse_float=_float)
        except UnicodeDecodeError:
            raise BadBody({"body": ["Not UTF-8 text."]}) from None
        except ValueError as exc:
            raise BadBody({"body": [f"Not valid JSON: {exc}"]}) from None
        if not isinstance(data, dict):
            raise BadBody({"body": ["Send a JSON object."]})
        problems: dict[str, list[str]] = {}
        _walk(data, [], problems)
        if problems:
            raise BadBody(problems)
        return data


def api_error(status: int, code: str, message: str, fields: dict[str, list[str]] | None = None) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "fields": fields or {}}}, status=status)


@csrf_exempt
def api_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any path under /api/ that no operation answers: the API's 404, not the pages' HTML."""
    return api_error(404, "not_found", "Not found.")


def intake_body_limit() -> int:
    return int(getattr(settings, "CIVICGRID_API_INTAKE_MAX_BODY_BYTES", 20 * 1024 * 1024))


class InputGuardMiddleware:
    """Refuses, before any view, what no field may carry (module doc)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/api/") and request.method in ("POST", "PUT", "PATCH"):
            refused = self._body_size(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _body_size(self, request: HttpRequest) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        intake = request.method == "POST" and _INTAKE_PATHS.match(request.path_info) is not None
        limit = intake_body_limit() if intake else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return api_error(413, "too_large", "The request body is too large.",
                             {"body": [f"At most {limit} bytes."]})
        if intake and length > (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0):
            # Read it here, within our own limit: Django's general limit would refuse it on access.
            request._body = request.read()  # type: ignore[attr-defined]
        return None

    def process_view(self, request: HttpRequest, view: Any, args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> HttpResponse | None:
        fields: dict[str, list[str]] = {}
        for name, value in kwargs.items():
            if isinstance(value, str) and "\x00" in value:
                fields[name] = [NUL]
            elif isinstance(value, int) and abs(value) > INT64_MAX:
                return self._answer(request, kwargs, 404, {})
        params = [request.GET]
        if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded",
                                                                 "multipart/form-data"):
            params.append(request.POST)
        for query in params:
            for key, values in query.lists():
                if "\x00" in key or any("\x00" in v for v in values):
                    fields[_printable(key)] = [NUL]
        if fields:
            return self._answer(request, kwargs, 400, fields)
        return None

    def _answer(self, request: HttpRequest, kwargs: dict[str, Any], status: int,
                fields: dict[str, list[str]]) -> HttpResponse:
        path = request.path_info
        if path.startswith("/api/"):
            if status == 404:
                return api_error(404, "not_found", "Not found.")
            return api_error(status, "bad_request", "The request has invalid characters.", fields)
        text = "; ".join(f"{name}: {' '.join(_(r) for r in reasons)}" for name, reasons in fields.items())
        text = text or _("Not found.")
        if path.startswith("/open311/"):
            from civicgrid.open311.formats import Open311Error, render_error

            fmt = kwargs.get("fmt") if kwargs.get("fmt") in ("json", "xml") else "json"
            return render_error(Open311Error(status, text), fmt)
        return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
