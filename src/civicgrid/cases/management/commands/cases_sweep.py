"""``civicgrid cases sweep``: one sweep now (the worker runs it on a schedule)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError, CommandParser

from civicgrid.cases.sweep import cases_sweep
from civicgrid.core.commands import CivicCommand


def _aware(text: str) -> dt.datetime:
    from django.utils import timezone

    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--now {text!r}: not an ISO date and time (e.g. 2025-03-01T09:30)") from None
    return value if timezone.is_aware(value) else timezone.make_aware(value)


class Command(CivicCommand):
    help = ("Mark due-soon and overdue clocks, open supervision items, escalate overdue cases and flag problem "
            "cases (idempotent; safe beside running workers).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=5000, help="rows per transaction (default 5000)")
        parser.add_argument("--now", help="sweep as if it were this time (ISO, local time zone unless given)")
        super().add_arguments(parser)

    def run(self, *args: Any, **o: Any) -> None:
        now = _aware(o["now"]) if o.get("now") else None
        report = cases_sweep(now=now, batch_size=o["batch_size"], actor=self.actor(), audit_empty=True)
        self.stdout.write(f"sweep at {report.now.isoformat(timespec='seconds')}: {report.summary()}")
