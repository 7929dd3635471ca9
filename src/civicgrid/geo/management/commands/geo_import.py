from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from civicgrid.core.commands import CivicCommand
from civicgrid.geo.models import LEVELS
from civicgrid.geo.services import CRS_CHOICES, GeoImportError, ImportReport, geojson_load, regions_import


class Command(CivicCommand):
    help = ("Import districts, streets, communities or grids from a GeoJSON file. Dry run by default: "
            "prints what would be created or changed and every rejected feature; --commit writes.")
    expected_errors = (*CivicCommand.expected_errors, GeoImportError)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a GeoJSON FeatureCollection (UTF-8 or GBK)")
        parser.add_argument("--level", required=True, choices=[lv for lv in LEVELS if lv != "city"])
        parser.add_argument("--code-field", help="property holding the code (default: generate codes)")
        parser.add_argument("--name-field", default="name", help="property holding the name (default: name)")
        parser.add_argument("--parent-field", help="property naming the parent by code or name "
                                                   "(dotted paths such as parent.adcode work); "
                                                   "default: the only parent, else largest overlap")
        parser.add_argument("--parent", dest="parent_code", help="put every feature under this parent code")
        parser.add_argument("--crs", choices=CRS_CHOICES, default="wgs84",
                            help="coordinate system of the file (GeoJSON without a crs member is often GCJ-02 "
                                 "when it comes from Chinese map services)")
        parser.add_argument("--repair", action="store_true", help="repair invalid geometry instead of rejecting it")
        parser.add_argument("--keep-codes", action="store_true",
                            help="use the code field as it is even when it is not a statistical code")
        parser.add_argument("--tolerance", type=float, default=settings.CIVICGRID_SIBLING_OVERLAP_TOLERANCE,
                            help="sibling overlap allowed, as a share of the smaller area (default %(default)s)")
        parser.add_argument("--allow-move", action="store_true",
                            help="move a stored region to the parent the file gives it (otherwise rejected)")
        parser.add_argument("--retire-missing", action="store_true",
                            help="retire regions of the same parents that the file no longer has")
        parser.add_argument("--commit", action="store_true", help="write the changes (default: dry run)")
        parser.add_argument("--verbose-plan", action="store_true", help="list every planned feature")
        super().add_arguments(parser)

    def run(self, *args: Any, **o: Any) -> None:
        data = geojson_load(o["file"])
        total = len(data["features"])
        update, close = self.progress(total, "planning")
        report = regions_import(
            data, level=o["level"], actor=self.actor(), commit=o["commit"], retire_missing=o["retire_missing"],
            source=str(o["file"]), code_field=o["code_field"], name_field=o["name_field"],
            parent_field=o["parent_field"], parent_code=o["parent_code"], source_crs=o["crs"],
            repair=o["repair"], keep_codes=o["keep_codes"], overlap_tolerance=o["tolerance"],
            allow_move=o["allow_move"], progress=update)
        close()
        self.print_report(report, verbose=o["verbose_plan"])

    def print_report(self, report: ImportReport, *, verbose: bool) -> None:
        w = self.stdout.write
        mode = "COMMITTED" if report.committed else "DRY RUN (nothing written; add --commit to write)"
        w(f"{mode}: {report.source} as {report.level}")
        w(f"  features read:   {report.features}")
        w(f"  to create:       {report.count('create')}")
        w(f"  to reshape:      {report.count('reshape')}  (new boundary version)")
        w(f"  to rename:       {report.count('rename')}")
        w(f"  to move:         {report.count('move')}")
        w(f"  unchanged:       {report.count('unchanged')}")
        w(f"  rejected:        {len(report.rejected)}")
        if report.version is not None:
            w(f"  boundary version: v{report.version}")
        for note in report.notes:
            w(f"note: {note}")
        for p in report.planned:
            if verbose or p.notes:
                parent = f" in {p.parent.name} ({p.parent.code})" if p.parent else ""
                extra = ("; " + "; ".join(p.notes)) if p.notes else ""
                w(f"feature #{p.index} {p.name}: {p.action} {p.code}{parent}{extra}")
        for r in report.rejected:
            w(self.style.ERROR(f"rejected feature #{r.index} {r.name}: {r.reason}"))
        if report.missing:
            retired = report.committed and self.options["retire_missing"]
            verb = "retired" if retired else "kept (use --retire-missing to retire)"
            names = ", ".join(f"{r.name} ({r.code})" for r in report.missing[:20])
            more = f" and {len(report.missing) - 20} more" if len(report.missing) > 20 else ""
            w(f"not in the file, {verb}: {names}{more}")
