"""System checks of the working calendar (``civicgrid check``, and every management command)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.translation import gettext as _

log = logging.getLogger("civicgrid.workcal")


@register()
def calendar_years_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when this year or next year has no working-calendar data (deadlines would fall back to
    Monday–Friday and ignore the holidays). Silent when the database cannot be read yet (before
    ``migrate``): the database checks report that."""
    if app_configs is not None and not any(c.label == "workcal" for c in app_configs):
        return []
    from civicgrid.workcal.selectors import calendar_missing_message, calendar_years_missing

    try:
        missing = calendar_years_missing()
    except Exception as exc:  # no table yet, no database, or database access not allowed here
        log.debug("calendar check skipped: %s", exc)
        return []
    return [Warning(calendar_missing_message(year), id="civicgrid.workcal.W001",
                    hint=_("Import the State Council's holiday notice for the year as date,working,name rows, "
                           "or upgrade chinese-calendar and run `civicgrid workcal calendar package`."))
            for year in missing]


@register()
def working_hours_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse working hours that do not parse: every working-hour clock is computed from them."""
    if app_configs is not None and not any(c.label == "workcal" for c in app_configs):
        return []
    from civicgrid.workcal.clock import SETTING_NAME, WorkingHours

    try:
        WorkingHours.from_settings()
    except ValueError as exc:
        return [Error(f"{SETTING_NAME}: {exc}", id="civicgrid.workcal.E001",
                      hint=_("Give the working-hour windows of a working day, e.g. 09:00-12:00,13:00-17:00."))]
    return []
