"""``civicgrid warning baselines``: rebuild the spike rules' baselines now (the worker does it nightly)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from civicgrid.core.commands import CivicCommand
from civicgrid.warning.management.commands._now import now_option
from civicgrid.warning.services import warning_baselines


class Command(CivicCommand):
    help = "Rebuild the weekday baselines of every active spike rule from its trailing window."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="build as if it were this time (ISO, local time zone unless given)")
        super().add_arguments(parser)

    def run(self, *args: Any, **o: Any) -> None:
        rows = warning_baselines(now=now_option(o.get("now")))
        self.stdout.write(f"warning baselines: {rows} rows")
