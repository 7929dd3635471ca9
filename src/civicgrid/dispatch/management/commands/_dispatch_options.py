"""Options shared by the dispatch commands that read a message file."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from civicgrid.dispatch.tables import Messages, read_messages, split_columns


def add_file_options(parser: CommandParser, *, csv_required: bool, labels: bool = True) -> None:
    parser.add_argument("--csv", dest="csv", required=csv_required, metavar="FILE",
                        help="CSV (UTF-8 or GBK, detected) or .xlsx file; row 1 is the header")
    parser.add_argument("--text-cols", default="", metavar="COL[,COL]",
                        help="text columns: the first is the subject, the others the details")
    if labels:
        parser.add_argument("--label-col", default="", metavar="COL[,COL]",
                            help="label column(s), top level first (e.g. 一级分类,二级分类)")
    parser.add_argument("--encoding", default=None, help="file encoding (default: detect UTF-8 or GBK)")
    parser.add_argument("--background", default=None, metavar="FILE[,FILE]",
                        help="files of unlabelled messages (same text columns) used to fit the text space")


def check_labelled_options(options: dict[str, Any]) -> None:
    """Name the missing option instead of a generic "name a column"."""
    if not (options.get("text_cols") or "").strip():
        raise ValueError(_("--text-cols is missing: name the text column(s) of the file, the subject first."))
    if not (options.get("label_col") or "").strip():
        raise ValueError(_("--label-col is missing: name the column(s) holding the category, top level first."))


def read_labelled(options: dict[str, Any]) -> Messages:
    check_labelled_options(options)
    return read_messages(options["csv"], text_cols=split_columns(options["text_cols"]),
                         label_cols=split_columns(options["label_col"]), encoding=options["encoding"])


def read_background(options: dict[str, Any]) -> list[str]:
    texts: list[str] = []
    for path in [p for p in (options.get("background") or "").split(",") if p.strip()]:
        m = read_messages(path.strip(), text_cols=split_columns(options["text_cols"]), encoding=options["encoding"])
        texts += [f"{t}。{b}" for t, b in zip(m.titles, m.bodies, strict=True)]
    return texts
