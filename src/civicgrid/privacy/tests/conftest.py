"""The loop's fixtures (a small city, its cast and units, the catalogue) for the retention and rights tests."""

from civicgrid.events.tests.conftest import (  # noqa: F401 - fixtures re-exported for this package
    calendar_2024,
    catalogue,
    engine_caches,
    jpeg,
    media_root,
    units,
    world,
)
