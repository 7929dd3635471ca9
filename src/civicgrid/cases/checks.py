"""System checks of the case engine (``civicgrid check``, and every management command): its
settings (working hours, extension limits, due-soon warnings, score weights) and its calendar data."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.translation import gettext as _

log = logging.getLogger("civicgrid.cases.calendar")


@register()
def calendar_years_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when this year or next year has no working-calendar data (deadlines would fall back to
    Monday–Friday and ignore the holidays). Silent when the database cannot be read yet (before
    ``migrate``): the database checks report that."""
    if app_configs is not None and not any(c.label == "cases" for c in app_configs):
        return []
    from civicgrid.cases.selectors import calendar_missing_message, calendar_years_missing

    try:
        missing = calendar_years_missing()
    except Exception as exc:  # no table yet, no database, or database access not allowed here
        log.debug("calendar check skipped: %s", exc)
        return []
    return [Warning(calendar_missing_message(year), id="civicgrid.cases.W001",
                    hint=_("Import the State Council's holiday notice for the year as date,working,name rows, "
                           "or upgrade chinese-calendar and run `civicgrid cases calendar package`."))
            for year in missing]


@register()
def settings_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The engine's settings make sense: each is read where it is used, so a bad value would
    otherwise fail the first clock, extension, sweep or metrics page that needs it."""
    if app_configs is not None and not any(c.label == "cases" for c in app_configs):
        return []
    from django.core.exceptions import ImproperlyConfigured

    from civicgrid.cases import clock
    from civicgrid.cases.selectors import score_weights
    from civicgrid.cases.sweep import setting_due_soon_max, setting_due_soon_ratio

    errors: list[CheckMessage] = []
    hours = getattr(settings, "CIVICGRID_WORKING_HOURS", None)
    if hours is not None:
        try:
            clock.WorkingHours.parse(hours)
        except ValueError as exc:
            errors.append(Error(f"CIVICGRID_WORKING_HOURS: {exc}", hint="e.g. 09:00-12:00,13:00-17:00",
                                id="civicgrid.cases.E001"))
    for unit, amount in (getattr(settings, "CIVICGRID_EXTENSION_MAX", None) or {}).items():
        if unit not in clock.UNIT_SECONDS:
            errors.append(Error(f"CIVICGRID_EXTENSION_MAX: {unit!r} is not a time unit",
                                hint=f"Units: {', '.join(clock.UNIT_SECONDS)}.", id="civicgrid.cases.E002"))
        elif not 0 < float(amount) < float("inf"):
            errors.append(Error(f"CIVICGRID_EXTENSION_MAX: {unit}={amount} needs a positive amount",
                                id="civicgrid.cases.E002"))
    try:
        score_weights()
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc), id="civicgrid.cases.E003"))
    for read in (setting_due_soon_ratio, setting_due_soon_max):
        try:
            read()
        except ValueError as exc:
            errors.append(Error(str(exc), id="civicgrid.cases.E004"))
    return errors
