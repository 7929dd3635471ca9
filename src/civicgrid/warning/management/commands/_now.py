from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError
from django.utils import timezone


def now_option(text: str | None) -> dt.datetime | None:
    """``--now``: an ISO date and time, in the local time zone unless it names one."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--now {text!r}: not an ISO date and time (e.g. 2025-03-01T09:30)") from None
    return value if timezone.is_aware(value) else timezone.make_aware(value)
