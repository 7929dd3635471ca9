"""Helpers for tests: honest skips. (Shipped with the package so every app's tests can use them.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SHARED_DATA = Path(os.environ.get("CIVICGRID_SHARED_DATA", REPO.parent / "shared" / "data"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, what: str) -> None:
    """Skip (or, under CI=true, fail) when something a test needs from outside is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {what} is missing", pytrace=False)
    pytest.skip(f"{what} is missing")


def shared_file(relative: str) -> Path:
    """A file of ``../shared/data`` (real public data, never copied into the repository)."""
    path = SHARED_DATA / relative
    require(path.is_file(), f"shared data file {path}")
    return path
