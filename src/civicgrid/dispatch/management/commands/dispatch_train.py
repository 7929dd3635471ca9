"""``civicgrid dispatch train``: train a new model version and make it active.

With ``--csv FILE --text-cols … --label-col …`` from a labelled file (evaluated first with
``--folds``, 5 by default, 0 to skip); without ``--csv`` from the platform's own closed cases and
dispatchers' corrections."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from civicgrid.core.commands import CivicCommand
from civicgrid.dispatch import services
from civicgrid.dispatch.management.commands._dispatch_options import add_file_options, read_background, read_labelled
from civicgrid.dispatch.report import evaluation_lines, write_lines
from civicgrid.dispatch.textmodel import cross_validate


class Command(CivicCommand):
    help = ("Train a dispatch model from a labelled CSV/Excel file (--csv) or, without --csv, from the "
            "closed cases and corrections in the database; the new version becomes active.")

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        add_file_options(parser, csv_required=False)
        parser.add_argument("--folds", type=int, default=5, help="evaluate first with k folds (0: skip)")
        parser.add_argument("--no-activate", action="store_true", help="store the version without activating it")

    def run(self, *args: Any, **options: Any) -> None:
        actor = self.actor()
        activate = not options["no_activate"]
        if not options["csv"]:
            if options["text_cols"] or options["label_col"]:
                raise ValueError(_("--text-cols and --label-col read a file: give it with --csv FILE (without "
                                   "--csv the model learns from the closed cases)."))
            row = services.model_train_from_cases(actor=actor, activate=activate)
        else:
            messages = read_labelled(options)
            background = read_background(options)
            metrics: dict[str, Any] = {}
            if options["folds"]:
                ev = cross_validate(messages.titles, messages.bodies, messages.labels, folds=options["folds"],
                                    background=background)
                write_lines(self.stdout.write, evaluation_lines(ev))
                self.stdout.write("")
                metrics["evaluation"] = ev.as_dict()
            row = services.model_train(actor=actor, titles=messages.titles, bodies=messages.bodies,
                                       labels=messages.labels, background=background, metrics=metrics,
                                       activate=activate, source=f"{options['csv']} ({len(messages.rows)} rows)")
        state = "active" if row.is_active else "stored, not active"
        self.stdout.write(self.style.SUCCESS(
            f"model v{row.version} trained on {row.documents} documents ({row.size / 2**20:.1f} MB, {state})"))
