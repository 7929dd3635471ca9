"""``civicgrid events import FILE``: events from a CSV (UTF-8 or GBK) or .xlsx file. A dry run unless
``--commit``; every rejected row is listed with its line; a re-run imports nothing twice."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from civicgrid.core.commands import CivicCommand
from civicgrid.events.importing import EventImportError, ImportReport, count_rows, events_import


class Command(CivicCommand):
    help = _("Import events from a CSV (UTF-8 or GBK) or .xlsx file, one event per row (columns: id, title, "
             "text/描述, channel, request_type, category, lon, lat, crs, address, reporter_name, reporter_phone, "
             "anonymous, reported_at, priority). Dry run unless --commit; every rejected row is listed with its "
             "line; rows imported before (same id, or same content) are skipped.")
    expected_errors = (*CivicCommand.expected_errors, EventImportError)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("CSV or .xlsx file; line 1 is the header"))
        parser.add_argument("--commit", action="store_true", help=_("write the good rows (default: dry run)"))
        parser.add_argument("--encoding", default=None, help=_("file encoding (default: UTF-8, else GBK/GB18030)"))
        parser.add_argument("--source", default="import",
                            help=_("name of the source system; the id column is unique within it (default: import)"))
        parser.add_argument("--bulk", action="store_true",
                            help=_("the bulk path for large files: set-based routing, COPY on PostgreSQL"))
        parser.add_argument("--show", type=int, default=200, help=_("list at most this many rejected rows"))
        super().add_arguments(parser)

    def run(self, *args: Any, **o: Any) -> None:
        update, close = self.progress(count_rows(o["file"]), _("rows"))
        try:
            report = events_import(path=o["file"], actor=self.actor(), commit=o["commit"], encoding=o["encoding"],
                                   source=o["source"], bulk=o["bulk"], progress=update)
        finally:
            close()
        self._print(report, o["show"])

    def _print(self, r: ImportReport, show: int) -> None:
        out = self.stdout
        if not r.committed:
            out.write(self.style.WARNING(_("DRY RUN: nothing was written (add --commit to write)")))
        out.write(_("file: %(f)s (%(enc)s)") % {"f": r.source, "enc": r.encoding})
        out.write(_("rows read: %(n)d") % {"n": r.rows})
        out.write((_("imported: %(n)d") if r.committed else _("to import: %(n)d")) % {"n": r.good})
        if r.committed:
            out.write(_("  routed by the catalogue: %(a)d; in a centre's manual queue: %(b)d")
                      % {"a": r.routed, "b": r.manual})
        out.write(_("imported before (skipped): %(n)d") % {"n": r.already})
        out.write(_("repeating an earlier row (skipped): %(n)d") % {"n": r.repeated})
        out.write(_("rejected: %(n)d") % {"n": len(r.rejected)})
        for rejection in r.rejected[:show]:
            out.write(_("line %(line)d: %(reason)s") % {"line": rejection.line, "reason": rejection.reason})
        if len(r.rejected) > show:
            out.write(_("… and %(n)d more") % {"n": len(r.rejected) - show})
        if r.committed:
            out.write(self.style.SUCCESS(_("done in %(s).1f s") % {"s": r.seconds}))
