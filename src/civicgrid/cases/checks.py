"""System checks of the case engine (``civicgrid check``, and every management command): its
settings (extension limits, due-soon warnings, score weights). The working hours and the calendar
data are the working calendar's checks (civicgrid.workcal.checks)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register


@register()
def settings_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The engine's settings make sense: each is read where it is used, so a bad value would
    otherwise fail the first clock, extension, sweep or metrics page that needs it."""
    if app_configs is not None and not any(c.label == "cases" for c in app_configs):
        return []
    from django.core.exceptions import ImproperlyConfigured

    from civicgrid.cases.selectors import grade_weights, score_weights
    from civicgrid.cases.sweep import setting_due_soon_max, setting_due_soon_ratio
    from civicgrid.workcal import clock

    errors: list[CheckMessage] = []
    for unit, amount in (getattr(settings, "CIVICGRID_EXTENSION_MAX", None) or {}).items():
        if unit not in clock.UNIT_SECONDS:
            errors.append(Error(f"CIVICGRID_EXTENSION_MAX: {unit!r} is not a time unit",
                                hint=f"Units: {', '.join(clock.UNIT_SECONDS)}.", id="civicgrid.cases.E002"))
        elif not 0 < float(amount) < float("inf"):
            errors.append(Error(f"CIVICGRID_EXTENSION_MAX: {unit}={amount} needs a positive amount",
                                id="civicgrid.cases.E002"))
    for read_weights in (score_weights, grade_weights):
        try:
            read_weights()
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), id="civicgrid.cases.E003"))
    for read in (setting_due_soon_ratio, setting_due_soon_max):
        try:
            read()
        except ValueError as exc:
            errors.append(Error(str(exc), id="civicgrid.cases.E004"))
    return errors
