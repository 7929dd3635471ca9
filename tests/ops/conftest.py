"""Fixtures for the operations tests: the events tests' world (cast, units of district A, the
catalogue, the 2024 calendar, a temporary media root) and a report through the real intake."""

from __future__ import annotations

from civicgrid.events.tests.conftest import (  # noqa: F401 - fixtures re-exported for this package
    T0,
    calendar_2024,
    catalogue,
    engine_caches,
    jpeg,
    media_root,
    report,
    units,
    world,
)
