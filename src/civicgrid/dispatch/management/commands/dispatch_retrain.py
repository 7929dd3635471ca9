"""``civicgrid dispatch retrain``: the scheduled retrain — train from the cases only when enough cases
closed or were corrected since the newest model (``CIVICGRID_DISPATCH_RETRAIN_MIN_NEW``). For cron or
the worker."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from civicgrid.core.commands import CivicCommand
from civicgrid.dispatch import services


class Command(CivicCommand):
    help = "Retrain from the cases when enough has changed since the newest model (for a schedule)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--min-new", type=int, default=None,
                            help="closed or corrected cases needed (default CIVICGRID_DISPATCH_RETRAIN_MIN_NEW)")

    def run(self, *args: Any, **options: Any) -> None:
        row = services.retrain_if_due(actor=self.actor(), min_new=options["min_new"])
        if row is None:
            self.stdout.write("not due: too few cases closed or corrected since the newest model")
        elif row.is_active:
            self.stdout.write(self.style.SUCCESS(f"model v{row.version} trained on {row.documents} documents"))
        else:
            self.stdout.write(self.style.WARNING(
                f"model v{row.version} trained on {row.documents} documents and stored NOT active: an older "
                f"version is active (rolled back); `civicgrid dispatch activate {row.version}` to use it"))
