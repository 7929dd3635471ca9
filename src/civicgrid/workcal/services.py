"""Writing the working calendar (工作日历): a year's holidays and make-up working days (调休), entered
each winter when the State Council publishes them, from a CSV file or from the installed
``chinese-calendar`` package.

Only days that differ from Monday–Friday are stored (a holiday on a weekday, a working weekend
day); a year is *known* once it has a :class:`~civicgrid.workcal.models.CalendarYear` row. Entering a
year recomputes the open clocks that were computed without its data (they assumed Monday–Friday).
Every write is audited, and only superusers and administrators of the city (and the system) may
write.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.audit.services import audit_record
from civicgrid.org.models import Membership, Role, User
from civicgrid.workcal.calendar import working_calendar_invalidate
from civicgrid.workcal.holidays import calendar_exceptions
from civicgrid.workcal.models import CalendarYear, WorkingDay
from civicgrid.workcal.signals import calendar_year_entered

log = logging.getLogger("civicgrid.workcal")

FIRST_YEAR, LAST_YEAR = 1949, 2200
NAME_MAX = 40
SOURCE_MAX = 60
PACKAGE_SOURCE = "chinese-calendar"

_WORKING = {"1", "上班", "班", "工作", "工作日", "working", "work", "true", "yes", "y", "是"}
_OFF = {"0", "休息", "休", "假", "放假", "休息日", "节假日", "holiday", "off", "false", "no", "n", "否"}
_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


class CalendarDataError(ValueError):
    """The file as a whole cannot be imported (unreadable, no day in it, several years)."""


def _default_working(day: dt.date) -> bool:
    return day.weekday() < 5


def calendar_may_edit(user: User | AnonymousUser | None) -> bool:
    """Superusers and administrators of the city change the working calendar (``None``: the system)."""
    if user is None:
        return True
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, is_active=True, role=Role.ADMIN, region__level="city").exists()


def _require_editor(actor: User | None) -> None:
    if not calendar_may_edit(actor):
        raise PermissionDenied(_("Only administrators of the city may change the working calendar."))


def _check_year(year: int) -> None:
    if not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError({"year": _("%(year)s is not a year the calendar can hold.") % {"year": year}})


def _year_days(year: int) -> Any:
    return WorkingDay.objects.filter(day__gte=dt.date(year, 1, 1), day__lte=dt.date(year, 12, 31))


def _describe(days: Mapping[dt.date, tuple[bool, str]]) -> dict[str, Any]:
    """What the audit trail keeps of a year: its holidays and make-up days by date."""
    ordered = sorted(days.items())
    return {"holidays": [d.isoformat() for d, (working, _n) in ordered if not working],
            "make_up_days": [d.isoformat() for d, (working, _n) in ordered if working]}


def _year_entered(year: int) -> int:
    """Tell the calendar's users that ``year`` is entered (they recompute, in this transaction);
    how many things they recomputed."""
    return sum(int(answer or 0) for _receiver, answer in calendar_year_entered.send(sender=CalendarYear, year=year))


def _invalidate_now_and_on_commit() -> None:
    working_calendar_invalidate()
    transaction.on_commit(working_calendar_invalidate)


@dataclass(frozen=True)
class CalendarYearChange:
    """What :func:`calendar_year_set` did."""

    year: int
    source: str
    holidays: int  # weekdays off
    make_up_days: int  # working weekend days
    ignored: int  # days given that are ordinary Monday–Friday days anyway (not stored)
    replaced: bool  # the year had data before
    timers_recomputed: int


def calendar_year_set(*, actor: User | None, year: int, days: Mapping[dt.date, tuple[bool, str]],
                      source: str) -> CalendarYearChange:
    """Replace the working calendar of ``year`` with ``days`` (day → (working, name)), in one
    transaction, audited; then recompute the open clocks computed without this year's data.

    Days that do not differ from Monday–Friday are not stored (an ordinary day needs no row)."""
    _require_editor(actor)
    _check_year(year)
    source = (source or "").strip()[:SOURCE_MAX] or _("manual entry")
    errors: list[str] = []
    clean: dict[dt.date, tuple[bool, str]] = {}
    for day, value in days.items():
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime) or day.year != year:
            errors.append(_("%(day)s is not a day of %(year)d.") % {"day": day, "year": year})
            continue
        working, name = value
        name = (name or "").strip()
        if len(name) > NAME_MAX:
            errors.append(_("%(day)s: the name is longer than %(n)d characters.") % {"day": day, "n": NAME_MAX})
            continue
        if bool(working) != _default_working(day):
            clean[day] = (bool(working), name)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            existing = CalendarYear.objects.select_for_update().filter(year=year).first()
            before = None
            if existing is not None:
                old = {d: (w, n) for d, w, n in _year_days(year).values_list("day", "is_working", "name")}
                before = {"source": existing.source, **_describe(old)}
            _year_days(year).delete()
            WorkingDay.objects.bulk_create([WorkingDay(day=d, is_working=w, name=n)
                                            for d, (w, n) in sorted(clean.items())])
            if existing is None:
                row = CalendarYear.objects.create(year=year, source=source)
            else:
                existing.source = source
                existing.save(update_fields=["source", "updated_at"])
                row = existing
            _invalidate_now_and_on_commit()
            recomputed = _year_entered(year)
            audit_record(actor=actor, action="cases.calendar.year_set", target=row, before=before,
                         after={"source": source, **_describe(clean)}, extra={"timers_recomputed": recomputed})
    except BaseException:
        working_calendar_invalidate()  # the cache may hold rows of the rolled-back transaction
        raise
    holidays = sum(1 for w, _n in clean.values() if not w)
    log.info("working calendar %d entered from %s: %d holidays, %d make-up days, %d clocks recomputed",
             year, source, holidays, len(clean) - holidays, recomputed)
    return CalendarYearChange(year=year, source=source, holidays=holidays, make_up_days=len(clean) - holidays,
                              ignored=len(days) - len(clean), replaced=existing is not None,
                              timers_recomputed=recomputed)


def calendar_year_from_package(*, actor: User | None, year: int) -> CalendarYearChange:
    """Enter ``year`` from the installed ``chinese-calendar`` (after upgrading it when the State
    Council has published a new year)."""
    exceptions = calendar_exceptions(year)
    if exceptions is None:
        raise ValidationError({"year": _("The installed chinese-calendar has no data for %(year)d: enter it "
                                         "from a file.") % {"year": year}})
    import chinese_calendar

    version = getattr(chinese_calendar, "__version__", "")
    return calendar_year_set(actor=actor, year=year, days={d: (w, n[:NAME_MAX]) for d, (w, n) in exceptions.items()},
                             source=f"{PACKAGE_SOURCE} {version}".strip())


def calendar_day_set(*, actor: User | None, day: dt.date, working: bool | None, name: str = "") -> WorkingDay | None:
    """Set one day of a year the calendar has data for: a holiday, a make-up working day, or
    (``working=None``, or the Monday–Friday value) back to an ordinary day, whose row goes away.

    A day of a year without data is refused: enter the whole year first (one day does not make a
    year known)."""
    _require_editor(actor)
    name = (name or "").strip()
    if len(name) > NAME_MAX:
        raise ValidationError({"name": _("At most %(n)d characters.") % {"n": NAME_MAX}})
    try:
        with transaction.atomic():
            year_row = CalendarYear.objects.select_for_update().filter(year=day.year).first()
            if year_row is None:
                raise ValidationError({"day": _("The working calendar has no data for %(year)d: enter the "
                                                "whole year first (civicgrid workcal calendar import).")
                                       % {"year": day.year}})
            current = WorkingDay.objects.filter(day=day).first()
            before = None if current is None else {"working": current.is_working, "name": current.name}
            ordinary = working is None or bool(working) == _default_working(day)
            result: WorkingDay | None = None
            if ordinary:
                if current is not None:
                    current.delete()
            elif current is None:
                result = WorkingDay.objects.create(day=day, is_working=bool(working), name=name)
            else:
                current.is_working, current.name = bool(working), name
                current.save(update_fields=["is_working", "name"])
                result = current
            year_row.save(update_fields=["updated_at"])  # other processes see the change through the stamp
            _invalidate_now_and_on_commit()
            after = None if result is None else {"working": result.is_working, "name": result.name}
            audit_record(actor=actor, action="cases.calendar.day_set", target=year_row,
                         target_repr=day.isoformat(), before=before, after=after, extra={"day": day.isoformat()})
    except BaseException:
        working_calendar_invalidate()
        raise
    return result


# ---------------------------------------------------------------------------------------------
# CSV import


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class CalendarImportReport:
    """What an import found (dry run) or did (``committed``)."""

    source: str
    encoding: str = ""
    year: int | None = None
    rows: int = 0
    days: dict[dt.date, tuple[bool, str]] = field(default_factory=dict)
    ordinary: int = 0  # lines naming a day that is Monday–Friday anyway (not stored)
    rejected: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    replaces: bool = False  # the year has data that the import replaces
    committed: bool = False
    timers_recomputed: int = 0

    @property
    def holidays(self) -> list[dt.date]:
        return sorted(d for d, (w, _n) in self.days.items() if not w)

    @property
    def make_up_days(self) -> list[dt.date]:
        return sorted(d for d, (w, _n) in self.days.items() if w)

    @property
    def ok(self) -> bool:
        return not self.rejected


def _decode(raw: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            return raw.decode(encoding).lstrip("\ufeff"), encoding
        except (LookupError, UnicodeDecodeError) as exc:
            raise CalendarDataError(_("The file cannot be read as %(enc)s: %(err)s") % {"enc": encoding,
                                                                                        "err": exc}) from None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    for enc in ("utf-8", "gb18030"):  # UTF-8 is strict: GBK text almost never passes for it
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise CalendarDataError(_("The file is neither UTF-8 nor GBK: name its encoding."))


def _parse_date(text: str) -> dt.date | None:
    text = text.strip()
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    m = _DATE_RE.match(text)
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _parse_working(text: str) -> bool | None:
    value = text.strip().lower()
    if value in _WORKING:
        return True
    if value in _OFF:
        return False
    return None


def calendar_year_import_bytes(*, actor: User | None, raw: bytes, source: str, year: int | None = None,
                               commit: bool = False, encoding: str | None = None) -> CalendarImportReport:
    """Read a year's calendar from CSV bytes (``date,working,name`` per line; ``working`` is 1/0 or
    上班/休息; an optional header line). Dry run unless ``commit``; nothing is written while any
    line is rejected (a year with a holiday missing would give wrong deadlines all year)."""
    if commit:
        _require_editor(actor)
    if year is not None:
        _check_year(year)
    text, used = _decode(raw, encoding)
    report = CalendarImportReport(source=source, encoding=used)
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    parsed: list[tuple[int, dt.date, bool, str]] = []
    seen: dict[dt.date, int] = {}
    line = 0
    header_possible = True
    try:
        for cells in reader:
            line_no, line = line + 1, reader.line_num
            cells = [c.strip() for c in cells]
            while cells and not cells[-1]:
                cells.pop()
            if not cells or cells[0].startswith("#"):
                continue
            day = _parse_date(cells[0])
            first_row, header_possible = header_possible, False
            if day is None and first_row:
                continue  # a header line (日期,上班,名称 or date,working,name)
            report.rows += 1
            if len(cells) < 2:
                report.rejected.append(Rejection(line_no, _("expected date,working,name")))
                continue
            if len(cells) > 3:
                report.rejected.append(Rejection(line_no, _("too many columns (expected date,working,name)")))
                continue
            if day is None:
                report.rejected.append(Rejection(line_no, _("%(value)r is not a date (YYYY-MM-DD)")
                                                 % {"value": cells[0]}))
                continue
            working = _parse_working(cells[1])
            if working is None:
                reason = _("%(value)r is neither 1/上班 (working) nor 0/休息 (day off)") % {"value": cells[1]}
                report.rejected.append(Rejection(line_no, reason))
                continue
            name = cells[2] if len(cells) > 2 else ""
            if len(name) > NAME_MAX:
                report.rejected.append(Rejection(line_no, _("the name is longer than %(n)d characters")
                                                 % {"n": NAME_MAX}))
                continue
            if year is not None and day.year != year:
                report.rejected.append(Rejection(line_no, _("%(day)s is not in %(year)d") % {"day": day, "year": year}))
                continue
            if day in seen:
                report.rejected.append(Rejection(line_no, _("%(day)s is already on line %(line)d")
                                                 % {"day": day, "line": seen[day]}))
                continue
            seen[day] = line_no
            parsed.append((line_no, day, working, name))
    except csv.Error as exc:
        raise CalendarDataError(_("Line %(line)d is not valid CSV: %(error)s") % {"line": line + 1, "error": exc}) \
            from None
    if not parsed and not report.rejected:
        raise CalendarDataError(_("The file lists no day."))
    years = sorted({day.year for _l, day, _w, _n in parsed})
    if year is None:
        if len(years) > 1:
            raise CalendarDataError(_("The file has days of several years (%(years)s): import one year at a time, "
                                      "or name the year.") % {"years": ", ".join(map(str, years))})
        year = years[0] if years else None
    report.year = year
    for _line, day, working, name in parsed:
        if working == _default_working(day):
            report.ordinary += 1
        else:
            report.days[day] = (working, name)
    if year is None:
        return report
    _check_year(year)
    report.replaces = CalendarYear.objects.filter(year=year).exists()
    if parsed and not report.holidays:
        report.notes.append(_("No holiday falls on a weekday: is the file complete?"))
    known = calendar_exceptions(year)
    if known is not None:
        differ = sorted(d for d in set(known) | set(report.days)
                        if (known.get(d, (None,))[0]) != (report.days.get(d, (None,))[0]))
        if differ:
            shown = ", ".join(d.isoformat() for d in differ[:10]) + (" …" if len(differ) > 10 else "")
            report.notes.append(_("%(n)d days differ from the installed chinese-calendar: %(days)s")
                                % {"n": len(differ), "days": shown})
    if commit:
        if report.rejected:
            report.notes.append(_("Nothing was written: correct the rejected lines first."))
            return report
        change = calendar_year_set(actor=actor, year=year, days=report.days, source=source)
        report.committed = True
        report.timers_recomputed = change.timers_recomputed
    return report


def calendar_year_import_csv(*, actor: User | None, path: str | Path, year: int | None = None, commit: bool = False,
                             encoding: str | None = None) -> CalendarImportReport:
    """Import a year's holidays and make-up working days from a CSV file (UTF-8 or GBK): see
    :func:`calendar_year_import_bytes`. The source recorded is the file's name."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CalendarDataError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}) from None
    source = f"file {path.name}"[:SOURCE_MAX]
    return calendar_year_import_bytes(actor=actor, raw=raw, source=source, year=year, commit=commit,
                                      encoding=encoding)
