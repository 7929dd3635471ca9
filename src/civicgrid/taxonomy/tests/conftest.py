"""These tests read the import and dispatch messages in English (the msgids); the Chinese
translations are exercised by the admin and browser tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield
