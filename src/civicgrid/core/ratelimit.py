"""Rate limits for public endpoints (限流): a fixed window per client and bucket, counted in Django's
default cache — per process unless ``CIVICGRID_CACHE=database`` (docs/deployment.md). The failure
throttles below (sign-in) count in the ``throttle`` cache, shared by every app process in production
(the database)."""

from __future__ import annotations

import ipaddress
import time

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests: try again in {retry_after} s.")
        self.retry_after = retry_after


def client_address(request: HttpRequest) -> str:
    """The client's network address. Directly served, the socket's; behind ``CIVICGRID_PROXY_HOPS``
    proxies of ours, the address the nearest of them appended to ``X-Forwarded-For`` (each proxy
    appends the address it was reached from, so the entries further left are whatever the client
    chose to send and are never trusted). Without a well-formed entry there, the socket's."""
    remote = request.META.get("REMOTE_ADDR") or "-"
    hops = getattr(settings, "CIVICGRID_PROXY_HOPS", 0)
    if hops <= 0:
        return remote
    chain = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if len(chain) < hops:
        return remote
    try:
        return str(ipaddress.ip_address(chain[-hops]))
    except ValueError:
        return remote


def client_key(request: HttpRequest) -> str:
    """Who is asking: the token or the signed-in user when there is one, else the address."""
    token = getattr(request, "api_token", None)
    if token is not None:
        return f"t{token.pk}"
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"u{user.pk}"
    return "a" + client_address(request)


def rate_limit(request: HttpRequest, bucket: str, *, limit: int, per_seconds: int) -> None:
    """Count this request; raise :class:`RateLimited` once ``limit`` requests came in the window.
    ``limit <= 0`` turns the limit off."""
    if limit <= 0:
        return
    now = int(time.time())
    window = now // per_seconds
    key = f"rl:{bucket}:{client_key(request)}:{window}"
    cache = caches["default"]
    if cache.add(key, 1, timeout=per_seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=per_seconds + 1)
            count = 1
    if count > limit:
        raise RateLimited(retry_after=(window + 1) * per_seconds - now)


def rate_limit_public(request: HttpRequest, bucket: str) -> None:
    """The limit of public endpoints: ``CIVICGRID_RATE_PUBLIC_PER_MINUTE`` requests a minute per
    client (0 turns it off)."""
    from django.conf import settings

    rate_limit(request, bucket, limit=int(getattr(settings, "CIVICGRID_RATE_PUBLIC_PER_MINUTE", 120)),
               per_seconds=60)


# --- failure throttles (cool-down after repeated failures) -------------------------------------
# Unlike the request limits above, these count only failures (a wrong password, say) under a key
# the caller chooses. After ``limit`` failures within ``seconds`` the key cools down for ``seconds``;
# attempts during the cool-down are refused unseen and not counted, so nobody can stretch a
# cool-down for ever by hammering at it.


THROTTLE_CACHE = "throttle"


def _throttle_keys(bucket: str, key: str) -> tuple[str, str]:
    return f"th:{bucket}:{key}:n", f"th:{bucket}:{key}:until"


def throttle_wait(bucket: str, key: str) -> int:
    """Seconds left of ``key``'s cool-down in ``bucket`` (0: not cooling down)."""
    until = caches[THROTTLE_CACHE].get(_throttle_keys(bucket, key)[1])
    if until is None:
        return 0
    return max(0, int(until - time.time()) + 1)


def throttle_failure(bucket: str, key: str, *, limit: int, seconds: int) -> int:
    """Count one failure of ``key``; returns the cool-down it started (seconds, 0 if none).
    ``limit <= 0`` turns the throttle off."""
    if limit <= 0 or throttle_wait(bucket, key):
        return 0
    cache = caches[THROTTLE_CACHE]
    count_key, until_key = _throttle_keys(bucket, key)
    if cache.add(count_key, 1, timeout=seconds):
        count = 1
    else:
        try:
            count = cache.incr(count_key)
        except ValueError:  # expired between add and incr
            cache.add(count_key, 1, timeout=seconds)
            count = 1
    if count < limit:
        return 0
    cache.set(until_key, time.time() + seconds, timeout=seconds)
    cache.delete(count_key)
    return seconds


def throttle_clear(bucket: str, key: str) -> None:
    """Forget ``key``'s failures and end its cool-down (a success, or an administrator's unlock)."""
    caches[THROTTLE_CACHE].delete_many(list(_throttle_keys(bucket, key)))
