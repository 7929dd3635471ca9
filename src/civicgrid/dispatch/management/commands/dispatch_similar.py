"""``civicgrid dispatch similar --csv FILE --text-cols … [--votes-cols …]``: clusters of near-duplicate
messages in a file (hot issues, 热点问题), largest first, with their size and summed votes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from civicgrid.core.commands import CivicCommand
from civicgrid.dispatch.report import ljust
from civicgrid.dispatch.similarity import clusters
from civicgrid.dispatch.tables import read_messages, split_columns


class Command(CivicCommand):
    help = "Find clusters of near-duplicate messages in a CSV/Excel file and print the largest."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--csv", required=True, metavar="FILE", help="CSV (UTF-8 or GBK) or .xlsx file")
        parser.add_argument("--text-cols", required=True, metavar="COL[,COL]", help="text columns compared")
        parser.add_argument("--votes-cols", default="", metavar="COL[,COL]", help="numeric columns summed as votes")
        parser.add_argument("--threshold", type=float, default=0.4,
                            help="shingle Jaccard similarity that links two messages (default 0.4)")
        parser.add_argument("--top", type=int, default=20, help="clusters shown (default 20)")
        parser.add_argument("--encoding", default=None, help="file encoding (default: detect UTF-8 or GBK)")

    def run(self, *args: Any, **options: Any) -> None:
        if not 0 < options["threshold"] <= 1:
            raise ValueError("--threshold must be between 0 and 1")
        if options["top"] < 1:
            raise ValueError(_("--top must be 1 or more (the number of clusters shown)."))
        votes = [c for c in options["votes_cols"].split(",") if c.strip()]
        m = read_messages(options["csv"], text_cols=split_columns(options["text_cols"]), number_cols=votes,
                          encoding=options["encoding"])
        texts = [f"{t}。{b}" if b else t for t, b in zip(m.titles, m.bodies, strict=True)]
        found = clusters(texts, threshold=options["threshold"])
        self.stdout.write(f"{len(m.rows)} messages, {len(found)} clusters of 2 or more "
                          f"(threshold {options['threshold']})")
        self.stdout.write(f"{'rank':>4}  {'size':>4}  {'votes':>6}  rows / first subject")
        for rank, group in enumerate(found[:options["top"]], start=1):
            total = sum(m.numbers[i] for i in group)
            rows = ",".join(str(m.rows[i]) for i in group[:8]) + ("…" if len(group) > 8 else "")
            self.stdout.write(f"{rank:4d}  {len(group):4d}  {total:6.0f}  {ljust(m.titles[group[0]][:40], 0)}")
            self.stdout.write(f"{'':18}rows {rows}")
