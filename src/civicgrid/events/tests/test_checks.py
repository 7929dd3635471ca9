"""The event type's clock overrides are a system check of events."""

from __future__ import annotations

from django.test import override_settings

from civicgrid.events.checks import event_clocks_check


def test_clock_overrides_name_a_clock_a_positive_amount_and_a_unit():
    assert event_clocks_check() == []
    with override_settings(CIVICGRID_EVENT_CLOCKS={"handle": (3, "working_days")}):
        assert event_clocks_check() == []
    for bad in ({"brew": (3, "working_days")}, {"handle": (0, "working_days")}, {"handle": (3, "moons")},
                {"handle": 3}):
        with override_settings(CIVICGRID_EVENT_CLOCKS=bad):
            [error] = event_clocks_check()
        assert error.id == "civicgrid.events.E001" and "CIVICGRID_EVENT_CLOCKS" in error.msg
