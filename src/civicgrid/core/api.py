"""API plumbing shared by every app's router: one error format, auth, pagination helpers.

Errors always look like ``{"error": {"code": ..., "message": ..., "fields": {...}}}``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import SessionAuth

from civicgrid.core.errors import Conflict, StorageFull
from civicgrid.core.inputs import MAX_PAGE, BadBody, JsonParser
from civicgrid.core.ratelimit import RateLimited


class ApiError(Exception):
    """Raise from a view to answer with the standard error body."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


_STATUS_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid", 429: "rate_limited"}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _ninja_fields(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "payload", "form")]
        fields.setdefault(".".join(loc) or "__all__", []).append(str(err.get("msg", "invalid")))
    return fields


def _django_fields(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def require_scope(request: HttpRequest, scope: str) -> None:
    """A request made with an API token must carry ``scope``; a signed-in person is not limited here
    (their roles and jurisdiction decide, as for the token's user)."""
    token = getattr(request, "api_token", None)
    if token is not None and scope not in token.scopes:
        raise ApiError(403, "forbidden", f"This token lacks the {scope!r} scope.")


def page_params(page: int, page_size: int, *, max_size: int = 200) -> tuple[int, int]:
    """Validated page number and size (1-based page; size 1…max_size)."""
    fields = {}
    if page < 1:
        fields["page"] = ["Pages start at 1."]
    elif page > MAX_PAGE:
        fields["page"] = [f"At most {MAX_PAGE}."]
    if not 1 <= page_size <= max_size:
        fields["page_size"] = [f"Between 1 and {max_size}."]
    if fields:
        raise ApiError(422, "invalid", "The request has invalid fields.", fields)
    return page, page_size


def paginate(queryset: Any, page: int, page_size: int, *, max_size: int = 200,
             count: bool = True) -> dict[str, Any]:
    """One page of ``queryset``: ``{"items", "page", "page_size", "count", "has_next"}``. With
    ``count=False`` the total is not counted (large lists) and ``count`` is None."""
    page, page_size = page_params(page, page_size, max_size=max_size)
    start = (page - 1) * page_size
    rows = list(queryset[start:start + page_size + 1])
    return {"items": rows[:page_size], "page": page, "page_size": page_size,
            "count": queryset.count() if count else None, "has_next": len(rows) > page_size}


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "fields"],
        "properties": {
            "code": {"type": "string", "enum": sorted(set(_STATUS_CODES.values()))},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                       "description": "each bad field with its reasons (422)"},
        },
    }},
}
_ERROR_TEXT = {400: "Bad request (a NUL character in the path, the query or a form field, named in `fields`)",
               401: "Not signed in, or the token is unknown, revoked or expired",
               403: "Not allowed (role, or the token lacks the scope)",
               404: "Not found, or outside your jurisdiction", 409: "Somebody changed it first",
               422: "Invalid fields (`fields` names each with its reasons)",
               413: "The request body is too large (`fields.body` gives the limit)",
               429: "Too many requests (see the Retry-After header)",
               503: "Nothing was stored: the database is away for a moment (`unavailable`) or a file could not "
                    "be stored (`storage_full`); send the same request again after Retry-After"}


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] = {}


class ErrorOut(Schema):
    """The house error body, for operations that declare an error response themselves (409 …)."""

    error: ErrorBody


class CivicNinjaAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document lists the house error responses of every operation: 422
    (any input), 401 and 403 when it needs authentication, 404 when its path names something, 429
    when it is rate-limited (an operation says so with ``openapi_extra={"x-rate-limited": True}``).
    Responses an operation declares itself are kept."""

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for path, item in schema.get("paths", {}).items():
            for op in item.values():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                codes = [400, 422, 503]  # 503: a lost database connection can meet any operation
                if "requestBody" in op:
                    codes.append(413)
                if op.get("security"):
                    codes += [401, 403]
                if "{" in path:
                    codes.append(404)
                if op.get("x-rate-limited"):
                    codes.append(429)
                for status in codes:
                    op["responses"].setdefault(status, {"description": _ERROR_TEXT[status], **ref})
        return schema


def build_api(auth: Any = None) -> NinjaAPI:
    """The API with the house error format. ``auth`` is the list of accepted authentications (the
    assembling app passes token and session auth); by default, a signed-in session."""
    api = CivicNinjaAPI(
        title="CivicGrid API",
        version="1",
        description="JSON API of CivicGrid (市域社会治理). Errors: {\"error\": {code, message, fields}}.",
        auth=auth if auth is not None else SessionAuth(),
        urls_namespace="api-v1",
        parser=JsonParser(),
    )

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(ApiError)
    def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return respond(request, exc.status, error_body(exc.code, exc.message, exc.fields))

    @api.exception_handler(NinjaValidationError)
    def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return respond(request, 422, error_body("invalid", "The request has invalid fields.",
                                                _ninja_fields(exc.errors)))

    @api.exception_handler(ValidationError)
    def _django_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return respond(request, 422, error_body("invalid", "The request has invalid fields.", _django_fields(exc)))

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, error_body("not_found", "Not found."))

    @api.exception_handler(Conflict)
    def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
        return respond(request, 409, error_body("conflict", str(exc)))

    @api.exception_handler(PermissionDenied)
    def _denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return respond(request, 403, error_body("forbidden", str(exc) or "Not allowed."))

    @api.exception_handler(AuthenticationError)
    def _unauth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return respond(request, 401, error_body("unauthenticated", "Sign in or send a valid token."))

    @api.exception_handler(RateLimited)
    def _limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
        response = respond(request, 429, error_body("rate_limited", str(exc)))
        response["Retry-After"] = str(exc.retry_after)
        return response

    def _database_down(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A lost or refused connection (a restart, a failover) is the client's to retry: the
        # request's transaction was rolled back, and the same request with its idempotency key is safe.
        response = respond(request, 503, error_body("unavailable", "The database is unavailable for a moment: "
                                                    "send the same request again (with its idempotency key)."))
        response["Retry-After"] = "5"
        return response

    api.add_exception_handler(OperationalError, _database_down)
    api.add_exception_handler(InterfaceError, _database_down)

    @api.exception_handler(StorageFull)
    def _storage_full(request: HttpRequest, exc: StorageFull) -> HttpResponse:
        # Nothing was stored: the client may send the same request (with its idempotency key) later.
        response = respond(request, 503, error_body("storage_full", str(exc),
                                                    {exc.field: [str(exc)]} if exc.field else None))
        response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(HttpError)
    def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, BadBody):  # ninja wraps whatever the body parser raises
            return respond(request, 422, error_body("invalid", "The request has invalid fields.",
                                                    exc.__cause__.fields))
        code = _STATUS_CODES.get(exc.status_code, "bad_request" if exc.status_code < 500 else "error")
        return respond(request, exc.status_code, error_body(code, str(exc)))

    return api
