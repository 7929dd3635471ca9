"""``civicgrid dispatch evaluate --csv FILE --text-cols … --label-col … --folds 5``: cross-validate the
dispatch model on a labelled file and print macro-F1, accuracy, per-class precision/recall, the
confusion matrix and documents per second. Nothing is stored."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from civicgrid.core.commands import CivicCommand
from civicgrid.dispatch.management.commands._dispatch_options import add_file_options, read_background, read_labelled
from civicgrid.dispatch.report import evaluation_lines, write_lines
from civicgrid.dispatch.textmodel import cross_validate


class Command(CivicCommand):
    help = "Cross-validate the dispatch model on a labelled CSV/Excel file (nothing is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        add_file_options(parser, csv_required=True)
        parser.add_argument("--folds", type=int, default=5, help="number of folds (default 5)")

    def run(self, *args: Any, **options: Any) -> None:
        messages = read_labelled(options)
        background = read_background(options)
        ev = cross_validate(messages.titles, messages.bodies, messages.labels, folds=options["folds"],
                            background=background)
        self.stdout.write(f"file:            {options['csv']} ({messages.encoding})")
        write_lines(self.stdout.write, evaluation_lines(ev))
