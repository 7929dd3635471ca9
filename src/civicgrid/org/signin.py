"""Sign-in throttling (登录限速): repeated wrong passwords slow down the one who types them, never the
account's owner elsewhere.

An account is never locked. Failures are counted per **address and account together**: after
``LOGIN_MAX_FAILURES`` wrong passwords for one account from one address, that address waits
``LOGIN_LOCK_MINUTES`` before it may try that account again, while the owner signs in from anywhere
else. A second count per **address** alone (``CIVICGRID_SIGNIN_MAX_PER_ADDRESS`` failures over any
accounts) stops one address from guessing across many accounts. A throttled attempt is answered 429
with the wait, before any password is checked, and is not counted: the cool-down cannot be renewed
by hammering at it. Live sessions are never touched by anyone's failed sign-ins.

The counts live in the ``throttle`` cache, which every app process shares in production (a table in
the database, ``CIVICGRID_THROTTLE_CACHE``; per process in development and tests): with per-process
counts an attacker would get each process's allowance. Django's test client and the CLI
authenticate without a request: they are not counted.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import caches
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import ngettext

from civicgrid.core.ratelimit import THROTTLE_CACHE, client_address

PAIR, ADDRESS = "signin-pair", "signin-address"


def _address(request: HttpRequest) -> str:
    return client_address(request)  # behind our proxies, the client's, not the proxy's


def _account(username: str) -> str:
    # Hashed: any text may be typed as a user name, and cache keys must stay short and plain.
    return hashlib.sha256(username.strip().casefold().encode("utf-8", "replace")).hexdigest()[:32]


def _epoch_key(account: str) -> str:
    return f"signin-epoch:{account}"


def _pair(request: HttpRequest, username: str) -> str:
    account = _account(username)
    # The epoch lets an administrator lift every address's cool-down of one account at once.
    epoch = caches[THROTTLE_CACHE].get(_epoch_key(account), 0)
    return f"{_address(request)}|{account}|{epoch}"


def _seconds() -> int:
    return int(settings.LOGIN_LOCK_MINUTES) * 60


def signin_wait(request: HttpRequest, username: str) -> int:
    """Seconds this address must wait before trying ``username`` again (0: it may try now)."""
    from civicgrid.core.ratelimit import throttle_wait

    return max(throttle_wait(ADDRESS, _address(request)), throttle_wait(PAIR, _pair(request, username)))


def signin_failed(request: HttpRequest, username: str) -> None:
    """Count a wrong password (or unknown user name) from this address; a cool-down that starts for
    a real account is one audit row ``org.user.signin_throttled``."""
    from civicgrid.core.ratelimit import throttle_failure

    per_address = int(getattr(settings, "CIVICGRID_SIGNIN_MAX_PER_ADDRESS", 30))
    throttle_failure(ADDRESS, _address(request), limit=per_address, seconds=_seconds())
    if throttle_failure(PAIR, _pair(request, username), limit=int(settings.LOGIN_MAX_FAILURES),
                        seconds=_seconds()):
        from civicgrid.audit.services import audit_record
        from civicgrid.org.models import User

        user = User.objects.filter(username=username).first()
        if user is not None:
            audit_record(actor=None, action="org.user.signin_throttled", target=user,
                         extra={"address": _address(request), "minutes": settings.LOGIN_LOCK_MINUTES})


def signin_succeeded(request: HttpRequest, username: str) -> None:
    from civicgrid.core.ratelimit import throttle_clear

    throttle_clear(PAIR, _pair(request, username))


def signin_unthrottle(username: str) -> None:
    """End every address's cool-down for ``username`` (the administrator's 'lift' action)."""
    cache = caches[THROTTLE_CACHE]
    key = _epoch_key(_account(username))
    if not cache.add(key, 1, timeout=None):
        try:
            cache.incr(key)
        except ValueError:
            cache.add(key, 1, timeout=None)


def throttled_response(request: HttpRequest, wait: int) -> HttpResponse:
    minutes = max(1, (wait + 59) // 60)
    message = ngettext("Too many failed sign-ins from your address. Try again in %(n)d minute.",
                       "Too many failed sign-ins from your address. Try again in %(n)d minutes.",
                       minutes) % {"n": minutes}
    body = render_to_string("org/signin_throttled.html", {"message": message, "retry": request.path},
                            request=request)
    response = HttpResponse(body, status=429)
    response["Retry-After"] = str(wait)
    return response


class SignInThrottleMiddleware:
    """Answers a throttled sign-in POST (our sign-in page and the admin's) with 429 before the
    password is checked. Placed after CsrfViewMiddleware, so a forged form is still refused first."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        if request.method != "POST" or request.path not in _signin_paths():
            return None
        wait = signin_wait(request, request.POST.get("username") or "")
        return throttled_response(request, wait) if wait else None


def _signin_paths() -> set[str]:
    return {settings.LOGIN_URL, reverse("admin:login")}


@receiver(user_login_failed)
def _on_failure(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = credentials.get("username")
    if request is not None and username:
        signin_failed(request, username)


@receiver(user_logged_in)
def _on_success(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    if request is not None and user is not None:
        signin_succeeded(request, user.get_username())
