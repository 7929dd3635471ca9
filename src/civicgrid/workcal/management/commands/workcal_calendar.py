"""``civicgrid workcal calendar``: the working calendar (工作日历).

    civicgrid workcal calendar list                        # years with data, their source and exceptions
    civicgrid workcal calendar show 2025                   # a year's holidays and make-up working days
    civicgrid workcal calendar import FILE [--year 2027]   # dry run of a date,working,name CSV
    civicgrid workcal calendar import FILE --commit        # enter it (recomputes the affected clocks)
    civicgrid workcal calendar package [YEAR ...] [--commit]  # years from the installed chinese-calendar
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from civicgrid.core.commands import CivicCommand
from civicgrid.workcal.holidays import covered_years
from civicgrid.workcal.selectors import (
    calendar_missing_message,
    calendar_year_days,
    calendar_years,
    calendar_years_missing,
)
from civicgrid.workcal.services import (
    CalendarDataError,
    CalendarImportReport,
    calendar_year_from_package,
    calendar_year_import_csv,
)

WEEKDAYS = "一二三四五六日"


class Command(CivicCommand):
    help = "The working calendar: list the years it has, show one, import a year from a CSV file."
    expected_errors = (*CivicCommand.expected_errors, CalendarDataError)

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{list,show,import,package}")
        sub.add_parser("list", help="years with data, their source and number of exceptions")
        show = sub.add_parser("show", help="the holidays and make-up working days of a year")
        show.add_argument("year", type=int)
        imp = sub.add_parser("import", help="a year from a CSV of date,working,name rows (dry run unless --commit)")
        imp.add_argument("file")
        imp.add_argument("--year", type=int, default=None, help="the year the file is for (default: its dates')")
        imp.add_argument("--encoding", default=None, help="default: detect UTF-8 or GBK")
        imp.add_argument("--commit", action="store_true", help="write it (default: dry run)")
        super().add_arguments(imp)
        pkg = sub.add_parser("package", help="enter years from the installed chinese-calendar "
                                             "(default: the years it covers that have no data)")
        pkg.add_argument("years", nargs="*", type=int)
        pkg.add_argument("--commit", action="store_true", help="write them (default: dry run)")
        super().add_arguments(pkg)

    def run(self, *args: Any, **o: Any) -> None:
        getattr(self, f"_{o['action']}")(**o)

    # --- list / show ---------------------------------------------------------------------------

    def _list(self, **o: Any) -> None:
        years = calendar_years()
        if not years:
            self.stdout.write("the working calendar has no data: every deadline assumes Monday–Friday")
        else:
            self.stdout.write(f"{'year':<6} {'holidays':>8} {'make-up':>8}  {'updated':<16}  source")
            for y in years:
                self.stdout.write(f"{y.year:<6} {y.holidays:>8} {y.make_up_days:>8}  "
                                  f"{timezone.localtime(y.updated_at):%Y-%m-%d %H:%M}  {y.source}")
        for year in calendar_years_missing():
            self.stdout.write(self.style.WARNING(calendar_missing_message(year)))

    def _show(self, **o: Any) -> None:
        year = o["year"]
        summary = next((y for y in calendar_years() if y.year == year), None)
        if summary is None:
            raise CommandError(calendar_missing_message(year))
        self.stdout.write(f"{year}: {summary.holidays} holidays on weekdays, {summary.make_up_days} make-up "
                          f"working days; source {summary.source}")
        for day in calendar_year_days(year=year):
            kind = "上班" if day.is_working else "休息"
            self.stdout.write(f"{day.day.isoformat()} 周{WEEKDAYS[day.day.weekday()]} {kind} {day.name}".rstrip())

    # --- import ----------------------------------------------------------------------------------

    def _import(self, **o: Any) -> None:
        report = calendar_year_import_csv(actor=self.actor(), path=o["file"], year=o["year"], commit=o["commit"],
                                          encoding=o["encoding"])
        self._print(report)
        if o["commit"] and not report.committed:
            raise CommandError(f"nothing written: {len(report.rejected)} line(s) rejected")

    def _print(self, report: CalendarImportReport) -> None:
        out = self.stdout
        if not report.committed:
            out.write(self.style.WARNING("DRY RUN: nothing was written (add --commit to write)"))
        out.write(f"file:        {report.source} ({report.encoding})")
        out.write(f"year:        {report.year}{' (replaces the data entered before)' if report.replaces else ''}")
        out.write(f"lines read:  {report.rows}")
        out.write(f"holidays:    {len(report.holidays)} weekdays off")
        out.write(f"make-up:     {len(report.make_up_days)} weekend working days "
                  f"({', '.join(d.isoformat() for d in report.make_up_days) or '-'})")
        out.write(f"ordinary:    {report.ordinary} lines repeat Monday–Friday (not stored)")
        out.write(f"rejected:    {len(report.rejected)}")
        for note in report.notes:
            out.write(f"note: {note}")
        if report.rejected:
            out.write(self.style.ERROR(f"rejected lines ({len(report.rejected)}):"))
            for rejection in report.rejected:
                out.write(str(rejection))
        if report.committed:
            out.write(self.style.SUCCESS(f"done: {report.year} entered; {report.timers_recomputed} open clock(s) "
                                         "recomputed"))

    # --- package ---------------------------------------------------------------------------------

    def _package(self, **o: Any) -> None:
        covered = covered_years()
        have = {y.year for y in calendar_years()}
        years = o["years"] or [y for y in covered if y not in have]
        if not years:
            self.stdout.write(f"nothing to do: every year chinese-calendar covers ({covered.start}–"
                              f"{covered.stop - 1}) has data")
            return
        unknown = [y for y in years if y not in covered]
        if unknown:
            raise CommandError(f"the installed chinese-calendar has no data for {', '.join(map(str, unknown))} "
                               f"(it covers {covered.start}–{covered.stop - 1}); import a file instead")
        if not o["commit"]:
            self.stdout.write(self.style.WARNING("DRY RUN: nothing was written (add --commit to write)"))
            for year in years:
                self.stdout.write(f"{year}: would be {'replaced' if year in have else 'entered'} from chinese-calendar")
            return
        actor = self.actor()
        for year in years:
            change = calendar_year_from_package(actor=actor, year=year)
            self.stdout.write(self.style.SUCCESS(
                f"{year}: {change.holidays} holidays, {change.make_up_days} make-up days "
                f"({change.source}); {change.timers_recomputed} open clock(s) recomputed"))
