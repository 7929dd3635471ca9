"""``civicgrid warning tick``: one round of the alert rules now (the worker runs it every minute)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from civicgrid.core.commands import CivicCommand
from civicgrid.warning.management.commands._now import now_option
from civicgrid.warning.services import warning_tick


class Command(CivicCommand):
    help = ("Run every active alert rule over the cases new since its last run and raise the new alerts "
            "(idempotent; safe beside running workers).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="tick as if it were this time (ISO, local time zone unless given)")
        super().add_arguments(parser)

    def run(self, *args: Any, **o: Any) -> None:
        report = warning_tick(now=now_option(o.get("now")))
        self.stdout.write(f"warning tick at {report.now.isoformat(timespec='seconds')}: {report.summary()}")
