"""API authentication for other systems: ``Authorization: Bearer cg_…`` (or ``X-Api-Key``).

A token acts as its user (same jurisdiction and roles) and only within its scopes: by default a
safe request (GET, HEAD) needs ``read`` and any other needs ``write``; an operation that takes new
reports declares ``intake`` instead (:func:`api_auth`). Refused tokens answer 401 — even beside a
valid session, which is never a fallback for a token that was sent —, a missing scope 403. Every
audit row of an action taken with a token also names who minted it (``token_minter``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth
from ninja.utils import check_csrf

from civicgrid.core.api import ApiError
from civicgrid.core.context import token_minter_var
from civicgrid.org.models import TokenScope
from civicgrid.org.services import token_authenticate

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _accept(request: HttpRequest, raw: str | None, scope: str | None) -> Any:
    if not raw:
        return None
    token = token_authenticate(raw)
    if token is None:
        raise AuthenticationError()  # a refused token is 401, not a reason to try the session
    needed = str(scope or (TokenScope.READ.value if request.method in SAFE_METHODS else TokenScope.WRITE.value))
    if needed not in token.scopes:
        raise ApiError(403, "forbidden", f"This token lacks the {needed!r} scope.")
    request.user = token.user  # the token acts as its user: same jurisdiction, same roles
    request.api_token = token  # type: ignore[attr-defined]
    token_minter_var.set(token.created_by)
    return token.user


class TokenAuth(HttpBearer):
    """``Authorization: Bearer cg_<prefix>_<secret>``."""

    def __init__(self, scope: str | None = None) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return _accept(request, token, self.scope)


class TokenHeaderAuth(APIKeyHeader):
    """The same token in ``X-Api-Key`` (for clients that cannot set Authorization)."""

    param_name = "X-Api-Key"

    def __init__(self, scope: str | None = None) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return _accept(request, key, self.scope)


def api_auth(scope: str | None = None) -> list[Any]:
    """The authentications an operation accepts: a token (with ``scope``, or read/write by method)
    or a signed-in session."""
    return [TokenAuth(scope), TokenHeaderAuth(scope), SessionAuth()]


class Anonymous:
    """A caller who sends no credentials at all (a resident, a public client). It is what a
    ``public`` operation falls back to; anyone who sent a token that was refused is 401, never
    treated as anonymous."""

    def __bool__(self) -> bool:
        return True


class SessionOrAnonymous(SessionAuth):
    """A signed-in person (CSRF-checked on unsafe methods) or, with no credentials, an anonymous
    caller: an anonymous POST needs no CSRF token (it carries no session to ride on)."""

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if request.method not in SAFE_METHODS and check_csrf(request) is not None:
                raise ApiError(403, "forbidden", "CSRF check failed.")
            return user
        if request.headers.get("Authorization") or request.headers.get(TokenHeaderAuth.param_name):
            raise AuthenticationError()
        return Anonymous()


def api_auth_public(scope: str | None = None) -> list[Any]:
    """For public operations (intake, tracking): a token (with ``scope``), a signed-in session, or
    nobody. ``request.user`` is the token's user, the signed-in person, or anonymous."""
    return [TokenAuth(scope), TokenHeaderAuth(scope), SessionOrAnonymous()]


def api_auth_token(scope: str | None = None) -> list[Any]:
    """Systems only: a token (with ``scope``), no session (the sensor webhook)."""
    return [TokenAuth(scope), TokenHeaderAuth(scope)]
