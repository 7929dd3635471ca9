"""System checks of smart dispatch: its fractions lie between 0 and 1."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

FRACTIONS = ("CIVICGRID_DISPATCH_MIN_CONFIDENCE", "CIVICGRID_DISPATCH_DUPLICATE_MIN_SIMILARITY")


@register()
def fractions_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if app_configs is not None and not any(c.label == "dispatch" for c in app_configs):
        return []
    return [Error(f"{name} must be between 0 and 1 (it is {value}).", id="civicgrid.dispatch.E001")
            for name in FRACTIONS
            if (value := getattr(settings, name, None)) is not None and not 0 <= float(value) <= 1]
