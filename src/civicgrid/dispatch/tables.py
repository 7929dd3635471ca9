"""Reading message tables for training, evaluation and clustering: CSV (UTF-8 or GBK/GB18030,
detected) or an Excel workbook (.xlsx, first sheet). Every complaint names the file's row."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
MAX_BAD_SHOWN = 5


class TableError(ValueError):
    """A file that cannot be used, with the reason (and the rows) in the message."""


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number in the file, cells); the header is row 1
    encoding: str

    def column(self, name: str) -> int:
        wanted = name.strip()
        for i, h in enumerate(self.header):
            if h.strip().lstrip("\ufeff") == wanted:
                return i
        raise TableError(_("No column %(col)s; the columns are: %(cols)s")
                         % {"col": wanted, "cols": ", ".join(self.header)})


def _decode(raw: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            return raw.decode(encoding).lstrip("\ufeff"), encoding
        except LookupError:
            raise TableError(_("Unknown encoding %(enc)s.") % {"enc": encoding}) from None
        except UnicodeDecodeError as exc:
            raise TableError(_("The file cannot be read as %(enc)s (bad byte at offset %(at)d).")
                             % {"enc": encoding, "at": exc.start}) from None
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "utf-8-sig"
    if b"\x00" in raw[:4096]:
        raise TableError(_("This does not look like a CSV text file."))
    # UTF-8 is strict enough that GBK text almost never passes as UTF-8 by accident.
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise TableError(_("The file is neither UTF-8 nor GBK/GB18030: name its encoding."))  # pragma: no cover


def _read_csv(raw: bytes, encoding: str | None) -> Table:
    text, used = _decode(raw, encoding)
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    row_no = 0
    try:
        for cells in reader:
            row_no += 1
            rows.append((row_no, cells))
    except csv.Error as exc:
        raise TableError(_("Row %(row)d is not valid CSV: %(error)s") % {"row": row_no + 1, "error": exc}) from None
    if not rows:
        raise TableError(_("The file is empty."))
    return Table(header=rows[0][1], rows=rows[1:], encoding=used)


def _read_xlsx(path: Path) -> Table:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise TableError(_("%(file)s cannot be read as an Excel workbook: %(error)s")
                         % {"file": path.name, "error": exc}) from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for i, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = ["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
                     for v in values]
            rows.append((i, cells))
    finally:
        workbook.close()
    if not rows:
        raise TableError(_("The workbook's first sheet is empty."))
    return Table(header=rows[0][1], rows=rows[1:], encoding="xlsx")


def read_table(path: str | Path, *, encoding: str | None = None) -> Table:
    """A CSV or .xlsx file as a header and numbered rows (row 1 is the header)."""
    p = Path(path)
    if not p.is_file():
        raise TableError(_("No such file: %(path)s") % {"path": p})
    if p.suffix.lower() in EXCEL_SUFFIXES:
        return _read_xlsx(p)
    if p.suffix.lower() == ".xls":
        raise TableError(_("Old .xls workbooks are not supported: save the sheet as .xlsx or CSV."))
    return _read_csv(p.read_bytes(), encoding)


def split_columns(value: str) -> list[str]:
    cols = [c.strip() for c in (value or "").split(",") if c.strip()]
    if not cols:
        raise TableError(_("Name at least one column."))
    return cols


@dataclass
class Messages:
    """Messages read from a table: subject (the first text column), details (the others, joined),
    the label path (the label columns, top level first) and extra numeric columns."""

    rows: list[int]
    titles: list[str]
    bodies: list[str]
    labels: list[tuple[str, ...]]
    numbers: list[float]
    encoding: str


def _bad(problems: list[str]) -> TableError:
    shown = "; ".join(problems[:MAX_BAD_SHOWN])
    more = len(problems) - MAX_BAD_SHOWN
    if more > 0:
        shown += " " + _("(and %(n)d more rows)") % {"n": more}
    return TableError(shown)


def read_messages(path: str | Path, *, text_cols: Sequence[str], label_cols: Sequence[str] = (),
                  number_cols: Sequence[str] = (), encoding: str | None = None) -> Messages:
    """Read messages; a row with no text, no label or a number that is not a number is refused with
    its row number (nothing is used from a file with a bad row)."""
    table = read_table(path, encoding=encoding)
    t_idx = [table.column(c) for c in text_cols]
    l_idx = [table.column(c) for c in label_cols]
    n_idx = [table.column(c) for c in number_cols]
    out = Messages([], [], [], [], [], table.encoding)
    problems: list[str] = []
    for row_no, cells in table.rows:
        if not any(c.strip() for c in cells):
            continue  # a blank line
        cell = [cells[i].strip() if i < len(cells) else "" for i in range(len(table.header))]
        texts = [cell[i] for i in t_idx]
        if not any(texts):
            problems.append(_("row %(row)d: no text in %(cols)s") % {"row": row_no, "cols": ", ".join(text_cols)})
            continue
        label = tuple(cell[i] for i in l_idx)
        if l_idx and not label[0]:
            problems.append(_("row %(row)d: no label in %(col)s") % {"row": row_no, "col": label_cols[0]})
            continue
        # A deeper level may be blank (the row is labelled only down to where it is known).
        if "" in label:
            label = label[:label.index("")]
        total = 0.0
        try:
            for i in n_idx:
                total += float(cell[i] or 0)
        except ValueError:
            problems.append(_("row %(row)d: not a number in %(cols)s")
                            % {"row": row_no, "cols": ", ".join(number_cols)})
            continue
        out.rows.append(row_no)
        out.titles.append(texts[0])
        out.bodies.append("\n".join(texts[1:]))
        out.labels.append(label)
        out.numbers.append(total)
    if problems:
        raise _bad(problems)
    if not out.rows:
        raise TableError(_("The file has no messages."))
    return out
