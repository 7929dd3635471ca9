"""``civicgrid taxonomy import FILE``: load a category tree from a CSV (or .xlsx) whose columns are
the levels. A dry run unless ``--commit``."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicgrid.core.context import request_context
from civicgrid.taxonomy.models import CategoryKind
from civicgrid.taxonomy.services import CategoryImportError, CategoryImportReport, categories_import_csv


def _width(text: str) -> int:
    """Terminal width: Chinese characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _ljust(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


class Command(BaseCommand):
    help = ("Import a category tree from a CSV (UTF-8 or GBK) or .xlsx file whose columns are the "
            "levels, e.g. 一级分类,二级分类,三级分类. Dry run unless --commit; every rejected row is "
            "listed with its line.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV or .xlsx file; line 1 is the header")
        parser.add_argument("--commit", action="store_true", help="write the import (default: dry run)")
        parser.add_argument("--encoding", default=None,
                            help="file encoding (default: detect UTF-8 or GBK/GB18030)")
        parser.add_argument("--kind", default=CategoryKind.REQUEST, choices=CategoryKind.values,
                            help="which tree the categories belong to (default: request)")
        parser.add_argument("--levels", default=None,
                            help="comma-separated header names of the level columns, top down "
                                 "(default: every column that is not a code column)")

    def handle(self, *args: Any, **options: Any) -> None:
        levels = [s.strip() for s in options["levels"].split(",") if s.strip()] if options["levels"] else None
        try:
            with request_context():
                report = categories_import_csv(path=options["file"], actor=None, commit=options["commit"],
                                               encoding=options["encoding"], levels=levels,
                                               kind=options["kind"])
        except CategoryImportError as exc:
            raise CommandError(str(exc)) from None
        self._print(report)

    def _print(self, report: CategoryImportReport) -> None:
        out = self.stdout
        if not report.committed:
            out.write(self.style.WARNING("DRY RUN: nothing was written (add --commit to write)"))
        out.write(f"file:            {report.source} ({report.encoding}, kind {report.kind})")
        out.write(f"rows read:       {report.rows}")
        out.write(f"blank lines:     {report.blank}")
        out.write(f"already present: {report.duplicates} (rows repeating an earlier row)")
        out.write(f"rejected:        {len(report.rejected)}")
        out.write("")
        width = max([len("column"), *(_width(name) for name in report.levels)])
        created = "created" if report.committed else "to create"
        out.write(f"{'level':<6} {_ljust('column', width)} {created:>10} {'existing':>9}")
        for depth, count in sorted(report.counts.items()):
            name = report.levels[depth - 1]
            out.write(f"{depth:<6} {_ljust(name, width)} {count.created:>10} {count.existing:>9}")
        out.write(f"{'total':<6} {_ljust('', width)} {report.created:>10} {report.existing:>9}")
        for note in report.notes:
            out.write(f"note: {note}")
        if report.rejected:
            out.write("")
            out.write(self.style.ERROR(f"rejected rows ({len(report.rejected)}):"))
            for rejection in report.rejected:
                out.write(f"line {rejection.line}: {rejection.reason}")
        if report.committed:
            out.write(self.style.SUCCESS(f"done: {report.created} categories created"))
