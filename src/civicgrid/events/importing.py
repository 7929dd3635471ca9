"""Bulk import of events from a file (``civicgrid events import FILE``): CSV (UTF-8 or GBK/GB18030)
or Excel (.xlsx), one event per row.

A dry run unless ``commit``: every row is checked exactly as intake checks a report, and every
rejected row is listed with its line and reason. With ``commit`` the good rows are written (in one
transaction) and the rejected ones left out. Each row has an idempotency key — ``<source>:<id>``
when the file has an id column, else a digest of the row — so running the same file again imports
nothing twice.

Two writers: the service path (one :func:`~civicgrid.events.services.event_report` per row, for
ordinary files) and the bulk path (``bulk=True``, :mod:`civicgrid.events.bulk`: set-based routing
and COPY on PostgreSQL) that writes the same case, detail, timeline, timer and audit rows.

Columns (header names, Chinese or English; only a description is required):
id/编号, title/标题, text/描述, channel/渠道, request_type/诉求类型, category/分类 (code or name),
lon/经度, lat/纬度, crs/坐标系 (wgs84|gcj02), address/地址, reporter_name/姓名, reporter_phone/电话,
anonymous/匿名, reported_at/上报时间, priority/紧急程度.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases.models import Channel, Priority
from civicgrid.core.inputs import NUL
from civicgrid.events.models import EventDetail
from civicgrid.events.services import (
    EventInput,
    EventInvalid,
    Lookups,
    PreparedEvent,
    event_report,
    event_validate,
    fingerprint,
    idempotency_scope,
)
from civicgrid.workcal.clock import CALENDAR_TZ

HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "外部编号", "external_id", "工单编号"),
    "title": ("title", "标题"),
    "text": ("text", "description", "描述", "问题描述", "内容", "诉求内容"),
    "channel": ("channel", "渠道", "来源"),
    "request_type": ("request_type", "诉求类型", "类型"),
    "category": ("category", "分类", "类别", "事件分类"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "crs": ("crs", "坐标系"),
    "address": ("address", "地址"),
    "reporter_name": ("reporter_name", "name", "姓名", "联系人"),
    "reporter_phone": ("reporter_phone", "phone", "电话", "联系电话"),
    "anonymous": ("anonymous", "匿名"),
    "reported_at": ("reported_at", "上报时间", "时间"),
    "priority": ("priority", "紧急程度"),
}
_TRUE = {"1", "true", "yes", "y", "是", "匿名"}
_FALSE = {"", "0", "false", "no", "n", "否"}
_PRIORITY = {"紧急": Priority.URGENT, "一般": Priority.NORMAL, "普通": Priority.NORMAL}
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CHUNK = 20_000


class EventImportError(ValueError):
    """The file as a whole cannot be imported (unreadable, no description column…)."""


@dataclass
class RowRejection:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    source: str
    encoding: str = ""
    rows: int = 0  # data rows read (blank lines excluded)
    good: int = 0  # rows that are (or would be) imported now
    already: int = 0  # rows imported by an earlier run (same key)
    repeated: int = 0  # rows repeating an earlier row of this file
    rejected: list[RowRejection] = field(default_factory=list)
    routed: int = 0  # of the imported: routed by the catalogue / left in a manual queue
    manual: int = 0
    committed: bool = False
    bulk: bool = False
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)  # bulk path: seconds per step

    @property
    def ok(self) -> bool:
        return not self.rejected


@dataclass
class ImportRow:
    """A checked row, ready for either writer."""

    line: int
    prepared: PreparedEvent
    key: str  # the idempotency key as given to intake (without its sender scope)
    full_key: str  # as stored
    fp: str
    reported_at: dt.datetime


# --- reading ---------------------------------------------------------------------------------


def _detect_encoding(path: Path, encoding: str | None) -> str:
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise EventImportError(_("Unknown encoding %(enc)s.") % {"enc": encoding}) from None
        return encoding
    with path.open("rb") as f:
        head = f.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := f.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            return "gb18030"  # GBK's superset: the other encoding Chinese spreadsheets save


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    with path.open("r", encoding=encoding, newline="") as f:
        first = f.readline()
        delimiter = max((",", "\t", ";"), key=first.count) if first else ","
        f.seek(0)
        reader = csv.reader(f, delimiter=delimiter)
        last = 0
        try:
            for cells in reader:
                yield last + 1, cells
                last = reader.line_num
        except csv.Error as exc:
            raise EventImportError(_("Line %(line)d is not valid CSV: %(error)s") % {"line": last + 1, "error": exc}) \
                from None
        except UnicodeDecodeError as exc:
            raise EventImportError(_("The file cannot be read as %(enc)s near line %(line)d (%(error)s).")
                                   % {"enc": encoding, "line": last + 1, "error": exc.reason}) from None


def _excel_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise EventImportError(_("%(file)s cannot be read as an Excel workbook: %(error)s")
                               % {"file": path.name, "error": exc}) from None
    try:
        for i, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
            cells = []
            for v in values:
                if v is None:
                    cells.append("")
                elif isinstance(v, float) and v.is_integer():
                    cells.append(str(int(v)))
                elif isinstance(v, dt.datetime):
                    cells.append(v.strftime("%Y-%m-%d %H:%M:%S"))
                else:
                    cells.append(str(v))
            yield i, cells
    finally:
        workbook.close()


def _table(path: Path, encoding: str | None) -> tuple[str, Iterator[tuple[int, list[str]]]]:
    if not path.is_file():
        raise EventImportError(_("No such file: %(path)s") % {"path": path})
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return "xlsx", _excel_rows(path)
    if path.suffix.lower() == ".xls":
        raise EventImportError(_("Old .xls workbooks are not supported: save the sheet as .xlsx or CSV."))
    enc = _detect_encoding(path, encoding)
    return enc, _csv_rows(path, enc)


def count_rows(path: str | Path) -> int:
    """About how many data rows a file has (for a progress bar)."""
    path = Path(path)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return 0
    n = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            n += chunk.count(b"\n")
    return max(0, n - 1)


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    names = {alias.casefold(): key for key, aliases in HEADERS.items() for alias in aliases}
    for i, name in enumerate(header):
        key = names.get(name.strip().lstrip("\ufeff").casefold())
        if key and key not in found:
            found[key] = i
    if "text" not in found and "title" not in found:
        raise EventImportError(_("The header names no description column (text/描述) or title column (title/标题)."))
    return found


# --- checking rows ---------------------------------------------------------------------------


def _when(value: str, now: dt.datetime) -> dt.datetime:
    value = value.strip()
    if not value:
        return now
    if len(value) == 19 and value[4] == "-" and value[10] == " ":  # the common form, parsed fast
        try:
            moment = dt.datetime.fromisoformat(value).replace(tzinfo=CALENDAR_TZ)
        except ValueError:
            pass
        else:
            if moment > now + dt.timedelta(minutes=5):
                raise EventInvalid({"reported_at": _("The time %(v)s is in the future.") % {"v": value}})
            return moment
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d"):
        try:
            moment = dt.datetime.strptime(value, fmt).replace(tzinfo=CALENDAR_TZ)
            break
        except ValueError:
            continue
    else:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise EventInvalid({"reported_at": _("Not a date and time: %(v)s") % {"v": value}}) from None
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=CALENDAR_TZ)
    if moment > now + dt.timedelta(minutes=5):
        raise EventInvalid({"reported_at": _("The time %(v)s is in the future.") % {"v": value}})
    return moment


def _row_input(cells: list[str], cols: dict[str, int], source: str) -> tuple[EventInput, str, str]:
    def get(key: str) -> str:
        i = cols.get(key)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    anonymous = get("anonymous").casefold()
    if anonymous not in _TRUE and anonymous not in _FALSE:
        raise EventInvalid({"anonymous": _("Write 是 or 否 (yes or no).")})
    priority = get("priority")
    priority = _PRIORITY.get(priority, priority or Priority.NORMAL)
    channel = get("channel") or Channel.IMPORT
    data = EventInput(text=get("text"), title=get("title"), channel=channel, request_type=get("request_type"),
                      category=get("category"), lon=get("lon"), lat=get("lat"), crs=get("crs") or "wgs84",
                      address=get("address"), reporter_name=get("reporter_name"),
                      reporter_phone=get("reporter_phone"), anonymous=anonymous in _TRUE, priority=priority,
                      source_system=source, external_id=get("id"))
    row_id = get("id")
    if row_id:
        key = row_id
    else:
        digest = hashlib.sha256("\x1f".join(c.strip() for c in cells).encode("utf-8")).hexdigest()[:32]
        key = f"row:{digest}"
    return data, key, get("reported_at")


def _reason(exc: EventInvalid) -> str:
    return "; ".join(f"{k}: {v}" for k, v in exc.fields.items())


def _rows(path: Path, encoding: str | None, source: str, now: dt.datetime, report: ImportReport,
          lookups: Lookups) -> Iterator[ImportRow]:
    """Checked rows; rejections and in-file repeats go into the report."""
    report.encoding, table = _table(path, encoding)
    cols: dict[str, int] | None = None
    seen: dict[int, tuple[int, str]] = {}  # 8-byte key digest → (line, fingerprint)
    scope = idempotency_scope(None, source)
    for line, cells in table:
        if cols is None:
            cols = _columns(cells)
            continue
        if not any(c.strip() for c in cells):
            continue
        report.rows += 1
        nul = [name for name, i in cols.items() if i < len(cells) and "\x00" in cells[i]]
        if nul:  # PostgreSQL cannot store it (COPY would fail the whole import): this row is refused
            report.rejected.append(RowRejection(line, "; ".join(f"{name}: {_(NUL)}" for name in nul)))
            continue
        try:
            data, key, when = _row_input(cells, cols, source)
            reported_at = _when(when, now)
            prepared = event_validate(data, lookups=lookups)
        except EventInvalid as exc:
            report.rejected.append(RowRejection(line, _reason(exc)))
            continue
        fp = fingerprint(prepared)
        digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")
        earlier = seen.get(digest)
        if earlier is not None:
            if earlier[1] != fp:
                report.rejected.append(RowRejection(line, _("id %(key)s is used by line %(line)d for another report.")
                                                    % {"key": key, "line": earlier[0]}))
            else:
                report.repeated += 1
            continue
        seen[digest] = (line, fp)
        yield ImportRow(line, prepared, key, f"{scope}:{key}", fp, reported_at)
    if cols is None:
        raise EventImportError(_("The file is empty."))


def _chunks(rows: Iterator[ImportRow], size: int) -> Iterator[list[ImportRow]]:
    batch: list[ImportRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _new_only(batch: list[ImportRow], report: ImportReport) -> list[ImportRow]:
    """Rows not imported by an earlier run (one query per 5,000 keys)."""
    existing: dict[str, str] = {}
    for i in range(0, len(batch), 5000):
        keys = [r.full_key for r in batch[i:i + 5000]]
        existing.update(EventDetail.objects.filter(idempotency_key__in=keys).values_list("idempotency_key",
                                                                                         "fingerprint"))
    fresh = []
    for r in batch:
        fp = existing.get(r.full_key)
        if fp is None:
            fresh.append(r)
        elif fp and fp != r.fp:
            report.rejected.append(RowRejection(r.line, _("id %(key)s was imported before with different content.")
                                                % {"key": r.key}))
        else:
            report.already += 1
    return fresh


# --- the import ------------------------------------------------------------------------------


def events_import(*, path: str | Path, actor: Any = None, commit: bool = False, encoding: str | None = None,
                  source: str = "import", bulk: bool = False, now: dt.datetime | None = None,
                  progress: Callable[[int], None] | None = None, chunk: int = CHUNK) -> ImportReport:
    """Import events from a CSV or .xlsx file (see the module's docstring)."""
    started = time.monotonic()
    path = Path(path)
    now = now or timezone.now()
    source = (source or "import").strip()[:60]
    report = ImportReport(source=str(path), bulk=bulk)
    lookups = Lookups()
    done = 0
    with transaction.atomic():
        writer = None
        if commit and bulk:
            from civicgrid.events.bulk import BulkWriter

            writer = BulkWriter(actor=actor, now=now)
        for batch in _chunks(_rows(path, encoding, source, now, report, lookups), chunk):
            batch = _new_only(batch, report)
            report.good += len(batch)
            if commit and writer is not None:
                routed = writer.write(batch)
                report.routed += routed
                report.manual += len(batch) - routed
            elif commit:
                for r in batch:
                    result = event_report(actor=actor, data=_input_of(r.prepared), idempotency_key=r.key,
                                          now=r.reported_at, lookups=lookups)
                    if result.detail.routing == "routed":
                        report.routed += 1
                    else:
                        report.manual += 1
            done += len(batch)
            if progress:
                progress(report.rows)
        if writer is not None:
            writer.finish()
            report.steps = dict(writer.seconds)
        report.committed = commit
        ending = time.monotonic()
    if writer is not None:  # PostgreSQL checks the deferred foreign keys of every row here
        report.steps["commit"] = time.monotonic() - ending
    report.seconds = time.monotonic() - started
    return report


def _input_of(p: PreparedEvent) -> EventInput:
    """A checked row given back to intake (it checks again: the same rules, no second copy of them)."""
    return EventInput(text=p.text, title=p.title, channel=p.channel, request_type=p.request_type,
                      category=p.category_text or p.category, lon=p.lon, lat=p.lat, address=p.address,
                      reporter_name=p.reporter_name, reporter_phone=p.reporter_phone, anonymous=p.anonymous,
                      priority=p.priority, source_system=p.source_system, external_id=p.external_id)
