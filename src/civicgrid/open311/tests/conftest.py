"""Fixtures for the Open311 tests: the API tests' world (cast, departments, catalogue, calendar,
media root) and a clean rate-limit cache."""

from civicgrid.api.tests.conftest import (  # noqa: F401 - fixtures re-exported for this package
    calendar_2024,
    catalogue,
    engine_caches,
    fresh_rate_limits,
    media_root,
    units,
    world,
)
