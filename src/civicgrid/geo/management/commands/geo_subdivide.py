from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from civicgrid.core.commands import CivicCommand
from civicgrid.geo.models import Level, Region, child_level
from civicgrid.geo.services import GeoImportError, regions_import, subdivision_features


class Command(CivicCommand):
    help = ("Cut areas into pieces of a target size one level down (street → communities, community → "
            "grids), for demos and benchmarks on real shapes. Dry run by default; --commit writes.")
    expected_errors = (*CivicCommand.expected_errors, GeoImportError)

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--region", dest="codes", action="append", metavar="CODE",
                            help="cut this region (repeatable)")
        target.add_argument("--level", choices=[Level.DISTRICT, Level.STREET, Level.COMMUNITY],
                            help="cut every active region of this level")
        parser.add_argument("--target-km2", type=float, required=True, help="target area of a piece in km²")
        parser.add_argument("--commit", action="store_true", help="write (default: dry run)")
        super().add_arguments(parser)

    def run(self, *args: Any, **o: Any) -> None:
        if o["target_km2"] <= 0:
            raise CommandError("--target-km2 must be positive")
        if o["codes"]:
            parents = list(Region.objects.filter(code__in=o["codes"], is_active=True))
            missing = set(o["codes"]) - {r.code for r in parents}
            if missing:
                raise CommandError(f"no active region with code {', '.join(sorted(missing))}")
        else:
            parents = list(Region.objects.filter(level=o["level"], is_active=True))
        levels = {r.level for r in parents}
        if len(levels) != 1:
            raise CommandError("give regions of one level" if levels else "nothing to cut")
        child = child_level(levels.pop())
        assert child is not None
        data = subdivision_features(parents, target_m2=o["target_km2"] * 1e6, child_level=child)
        report = regions_import(data, level=child, actor=self.actor(), commit=o["commit"],
                                source=f"subdivide {len(parents)} regions to {o['target_km2']} km²",
                                parent_field="parent")
        mode = "COMMITTED" if report.committed else "DRY RUN (add --commit to write)"
        self.stdout.write(f"{mode}: {report.count('create')} {child} pieces from {len(parents)} regions; "
                          f"{len(report.rejected)} rejected")
        for r in report.rejected:
            self.stdout.write(self.style.ERROR(f"rejected piece #{r.index} {r.name}: {r.reason}"))
