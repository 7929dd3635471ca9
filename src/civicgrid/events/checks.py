"""System checks of the events case type: its clock overrides (``CIVICGRID_EVENT_CLOCKS``)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register


@register()
def event_clocks_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Each override names a clock of the event type, a positive amount and a time unit (read when the
    event type is built, so a bad one would otherwise surface as an error at the first report)."""
    if app_configs is not None and not any(c.label == "events" for c in app_configs):
        return []
    from civicgrid.events.workflow import clock_limits

    try:
        clock_limits()
    except (ValueError, TypeError) as exc:
        return [Error(str(exc) if isinstance(exc, ValueError) else
                      f"CIVICGRID_EVENT_CLOCKS: each value is (amount, unit): {exc}",
                      hint='e.g. {"handle": (3, "working_days")}', id="civicgrid.events.E001")]
    return []
