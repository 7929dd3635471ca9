"""The deadline rules' time units are the units the working calendar's clock computes."""

from __future__ import annotations

from civicgrid.taxonomy.models import TimeUnit
from civicgrid.workcal import clock


def test_the_units_are_the_values_of_the_taxonomy_time_unit():
    assert set(clock.UNITS) == set(TimeUnit.values)
