"""Fixtures for the API tests: the events tests' world (the cast, district A's departments with
their handlers, the default catalogue, the 2024–2025 working calendar, a temporary media root), a
token maker, and a clean rate-limit cache."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches

from civicgrid.events.tests.conftest import (  # noqa: F401 - fixtures re-exported for this package
    POINT_A,
    POINT_B,
    T0,
    at,
    calendar_2024,
    catalogue,
    engine_caches,
    fresh,
    jpeg,
    media_root,
    report,
    units,
    world,
)


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> Iterator[None]:
    caches["default"].clear()
    yield
    caches["default"].clear()


def token(user: Any, *scopes: str) -> str:
    """The text of a new API token of ``user`` with ``scopes``."""
    from civicgrid.org.services import token_create

    _token, text = token_create(actor=None, user=user, name="test " + ",".join(scopes), scopes=list(scopes))
    return text


def bearer(text: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {text}"}


def post(client: Any, url: str, body: Any = None, **headers: Any) -> Any:
    return client.post(url, body or {}, content_type="application/json", headers=headers)
