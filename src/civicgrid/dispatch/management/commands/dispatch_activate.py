"""``civicgrid dispatch activate VERSION``: make a stored model version the active one (roll back)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from civicgrid.core.commands import CivicCommand
from civicgrid.dispatch import services


class Command(CivicCommand):
    help = "Activate a stored dispatch model version (roll back or forward)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("version", type=int)

    def run(self, *args: Any, **options: Any) -> None:
        row = services.model_activate(actor=self.actor(), version=options["version"])
        self.stdout.write(self.style.SUCCESS(f"model v{row.version} is active"))
