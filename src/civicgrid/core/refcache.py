"""Reference data cached in each process (参考数据缓存): categories, request types, deadline rules and
the dispatch catalogue are read on every report but change a few times a year.

A cached answer is dropped when this process changes reference data (the owning apps connect
:func:`reference_changed` to their models' save and delete signals) and, for changes made by
another process, after ``CIVICGRID_REFERENCE_CACHE_SECONDS`` (default 30; 0 turns caching off).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.conf import settings

F = TypeVar("F", bound=Callable[..., Any])

_state = {"generation": 0}
_caches: list[dict[Hashable, Any]] = []


def reference_changed(*_args: Any, **_kwargs: Any) -> None:
    """Forget every cached answer (a signal receiver, or call it directly)."""
    _state["generation"] += 1
    for cache in _caches:
        cache.clear()


def reference_generation() -> int:
    """A number that moves whenever :func:`reference_changed` runs (for caches kept elsewhere)."""
    return _state["generation"]


def reference_cached(key: Callable[..., Hashable]) -> Callable[[F], F]:
    """Cache a function's answers under ``key(*args, **kwargs)`` until reference data changes."""

    def decorate(fn: F) -> F:
        cache: dict[Hashable, Any] = {}
        _caches.append(cache)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ttl = float(getattr(settings, "CIVICGRID_REFERENCE_CACHE_SECONDS", 30))
            if ttl <= 0:
                return fn(*args, **kwargs)
            k = key(*args, **kwargs)
            now = time.monotonic()
            hit = cache.get(k)
            if hit is not None and now - hit[0] < ttl:
                return hit[1]
            value = fn(*args, **kwargs)
            if len(cache) > 10_000:  # bounded: many regions × categories
                cache.clear()
            cache[k] = (now, value)
            return value

        return wrapper  # type: ignore[return-value]

    return decorate
