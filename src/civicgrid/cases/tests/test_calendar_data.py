"""The working calendar as data (工作日历): seeded by a migration from chinese-calendar, a year entered
from a CSV file (dry run, commit, bad lines), single days, the clocks recomputed when a missing year
is entered, the command line, and the system check that warns about a missing year."""

from __future__ import annotations

import datetime as dt
import importlib
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from civicgrid.audit.models import AuditEntry
from civicgrid.cases.models import Timer
from civicgrid.cases.tests.conftest import at, drill_create, fresh
from civicgrid.org.models import Role
from civicgrid.org.services import membership_grant, user_create
from civicgrid.workcal.calendar import working_calendar, working_calendar_invalidate
from civicgrid.workcal.checks import calendar_years_check
from civicgrid.workcal.holidays import covered_years
from civicgrid.workcal.models import CalendarYear, WorkingDay
from civicgrid.workcal.selectors import calendar_years, calendar_years_missing
from civicgrid.workcal.services import (
    CalendarDataError,
    calendar_day_set,
    calendar_may_edit,
    calendar_year_from_package,
    calendar_year_import_csv,
    calendar_year_set,
)

pytestmark = pytest.mark.django_db

# 2027 as the State Council might publish it (invented for the tests: chinese-calendar does not know
# 2027 yet). 01-01 is a Friday; 02-08..02-12 Monday–Friday; 02-20 a Saturday; 02-13 a Saturday.
CSV_2027 = """日期,上班,名称
2027-01-01,休息,元旦
2027-02-08,休息,春节
2027/2/9,休息,春节
2027-02-10,0,春节
2027-02-11,0,春节
20270212,休息,春节
2027-02-13,休息,春节
2027-02-20,上班,调休上班（春节）
"""


@pytest.fixture
def no_2027(db: Any) -> None:
    """Make 2027 unknown whatever the installed chinese-calendar knows."""
    WorkingDay.objects.filter(day__year=2027).delete()
    CalendarYear.objects.filter(year=2027).delete()
    working_calendar_invalidate()


def write(tmp_path: Any, text: str, name: str = "2027.csv", encoding: str = "utf-8") -> Any:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def city_admin(cast: Any) -> Any:
    admin = user_create(actor=None, username="carol", password="Correct-Horse-42", display_name="Carol")
    membership_grant(actor=None, user=admin, role=Role.ADMIN, region=cast.city.city)
    return admin


# --- the seed migration -----------------------------------------------------------------------------


def test_the_migration_seeded_every_year_chinese_calendar_covers():
    years = set(CalendarYear.objects.values_list("year", flat=True))
    assert set(covered_years()) <= years
    assert CalendarYear.objects.get(year=2024).source.startswith("chinese-calendar")


def test_the_seeded_2024_has_the_national_day_holiday_and_its_make_up_sunday():
    national_day = WorkingDay.objects.get(day=dt.date(2024, 10, 1))
    assert not national_day.is_working and national_day.name == "国庆节"
    make_up = WorkingDay.objects.get(day=dt.date(2024, 9, 29))  # a Sunday
    assert make_up.is_working and "调休" in make_up.name
    assert not WorkingDay.objects.filter(day=dt.date(2024, 10, 5)).exists()  # a Saturday off anyway
    cal = working_calendar()
    assert cal.known(dt.date(2024, 1, 1))
    assert not cal.is_working_day(dt.date(2024, 10, 1)) and cal.is_working_day(dt.date(2024, 9, 29))


def test_the_seed_migration_can_be_reversed_and_applied_again():
    migration = importlib.import_module("civicgrid.cases.migrations.0002_seed_calendar")
    # The models as that migration sees them (they have since moved to workcal, same tables).
    historical = MigrationLoader(connection).project_state(("cases", "0002_seed_calendar")).apps

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection  # type: ignore[attr-defined]
    before = WorkingDay.objects.count()
    migration.unseed(historical, editor)
    assert not CalendarYear.objects.exists() and not WorkingDay.objects.exists()
    migration.seed(historical, editor)
    migration.seed(historical, editor)  # a second run adds nothing
    assert WorkingDay.objects.count() == before
    assert set(covered_years()) <= set(CalendarYear.objects.values_list("year", flat=True))


# --- entering a year from a CSV file ------------------------------------------------------------


def test_a_csv_import_is_a_dry_run_by_default(tmp_path, no_2027):
    report = calendar_year_import_csv(actor=None, path=write(tmp_path, CSV_2027))
    assert report.year == 2027 and not report.committed and report.ok
    assert report.holidays == [dt.date(2027, 1, 1), *(dt.date(2027, 2, d) for d in range(8, 13))]
    assert report.make_up_days == [dt.date(2027, 2, 20)]
    assert report.ordinary == 1  # Saturday 02-13 is a day off anyway
    assert report.rows == 8  # the header line is not a day
    assert not CalendarYear.objects.filter(year=2027).exists()
    assert not WorkingDay.objects.filter(day__year=2027).exists()


def test_a_committed_csv_import_enters_the_year_audited(tmp_path, no_2027):
    report = calendar_year_import_csv(actor=None, path=write(tmp_path, CSV_2027, encoding="gbk"), commit=True)
    assert report.committed and report.encoding == "gb18030"
    year = CalendarYear.objects.get(year=2027)
    assert year.source == "file 2027.csv"
    assert WorkingDay.objects.filter(day__year=2027).count() == 7
    assert WorkingDay.objects.get(day=dt.date(2027, 2, 10)).name == "春节"
    cal = working_calendar()
    assert cal.known(dt.date(2027, 6, 1))
    assert not cal.is_working_day(dt.date(2027, 1, 1)) and cal.is_working_day(dt.date(2027, 2, 20))
    entry = AuditEntry.objects.filter(action="cases.calendar.year_set").latest("id")
    assert entry.after["holidays"][0] == "2027-01-01" and entry.after["make_up_days"] == ["2027-02-20"]


def test_every_bad_line_is_reported_and_nothing_is_written(tmp_path, no_2027):
    text = (CSV_2027
            + "2027-13-01,休息,不存在的日子\n"  # line 10
            + "2027-10-01,也许,国庆节\n"  # line 11
            + "2027-01-01,休息,元旦\n"  # line 12: again
            + "2026-10-01,休息,国庆节\n"  # line 13: another year
            + "2027-10-02\n"  # line 14
            + "2027-10-04,休息,国庆节,多余\n")  # line 15
    report = calendar_year_import_csv(actor=None, path=write(tmp_path, text), year=2027, commit=True)
    reasons = [str(r) for r in report.rejected]
    assert [r.line for r in report.rejected] == [10, 11, 12, 13, 14, 15]
    assert reasons[0].startswith("line 10: '2027-13-01' is not a date")
    assert "neither 1/上班" in reasons[1]
    assert reasons[2] == "line 12: 2027-01-01 is already on line 2"
    assert reasons[3] == "line 13: 2026-10-01 is not in 2027"
    assert not report.committed
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_a_file_spanning_two_years_needs_the_year_named(tmp_path, no_2027):
    path = write(tmp_path, "2026-12-31,休息,x\n2027-01-01,休息,元旦\n")
    with pytest.raises(CalendarDataError, match="several years"):
        calendar_year_import_csv(actor=None, path=path)
    report = calendar_year_import_csv(actor=None, path=path, year=2027)
    assert [r.line for r in report.rejected] == [1]


def test_a_file_with_no_day_is_refused(tmp_path):
    with pytest.raises(CalendarDataError):
        calendar_year_import_csv(actor=None, path=write(tmp_path, "date,working,name\n"))


# --- the clocks that assumed Monday–Friday are recomputed ----------------------------------------


def test_entering_a_missing_year_recomputes_a_fallback_timer(cast, no_2027):
    # Monday 2026-12-28 10:00 + 5 working days crosses into 2027, which has no data: Friday
    # 2027-01-01 is assumed to be a working day, so the clock is due Monday 01-04 10:00.
    case = drill_create(cast.bob, now=at(2026, 12, 28, 10))
    timer = Timer.objects.get(case=case, kind="handle")
    assert timer.calendar_fallback and timer.due_at == at(2027, 1, 4, 10)
    days = {dt.date(2027, 1, 1): (False, "元旦")}
    change = calendar_year_set(actor=None, year=2027, days=days, source="国务院办公厅通知")
    assert change.timers_recomputed == 1 and change.holidays == 1 and not change.replaced
    timer.refresh_from_db()
    assert not timer.calendar_fallback and timer.due_at == at(2027, 1, 5, 10)  # New Year's Day is off
    assert AuditEntry.objects.filter(action="cases.calendar.year_set", after__source="国务院办公厅通知").exists()
    assert fresh(case).handling_due_at == at(2027, 1, 5, 10)  # the case's copy of its handling clock too


def test_a_year_can_be_replaced_and_its_old_days_go(no_2027):
    calendar_year_set(actor=None, year=2027, days={dt.date(2027, 1, 1): (False, "元旦")}, source="draft")
    change = calendar_year_set(actor=None, year=2027, days={dt.date(2027, 2, 8): (False, "春节")}, source="final")
    assert change.replaced
    assert list(WorkingDay.objects.filter(day__year=2027).values_list("day", flat=True)) == [dt.date(2027, 2, 8)]
    assert CalendarYear.objects.get(year=2027).source == "final"


def test_a_day_outside_the_year_is_refused(no_2027):
    with pytest.raises(ValidationError):
        calendar_year_set(actor=None, year=2027, days={dt.date(2026, 1, 1): (False, "")}, source="x")
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_a_year_comes_from_the_installed_package():
    WorkingDay.objects.filter(day__year=2024).delete()
    change = calendar_year_from_package(actor=None, year=2024)
    assert change.replaced and change.holidays == WorkingDay.objects.filter(day__year=2024, is_working=False).count()
    assert WorkingDay.objects.get(day=dt.date(2024, 10, 1)).name == "国庆节"


# --- single days and who may change the calendar -------------------------------------------------


def test_one_day_is_set_and_set_back_to_ordinary():
    saturday = dt.date(2024, 10, 19)
    day = calendar_day_set(actor=None, day=saturday, working=True, name="演练调休")
    assert day is not None and working_calendar().is_working_day(saturday)
    assert calendar_day_set(actor=None, day=saturday, working=None) is None
    assert not WorkingDay.objects.filter(day=saturday).exists()
    assert not working_calendar().is_working_day(saturday)
    assert AuditEntry.objects.filter(action="cases.calendar.day_set").count() == 2


def test_a_day_of_a_year_without_data_is_refused(no_2027):
    with pytest.raises(ValidationError, match="enter the whole"):
        calendar_day_set(actor=None, day=dt.date(2027, 1, 1), working=False, name="元旦")


def test_only_superusers_and_city_administrators_change_the_calendar(cast):
    assert not calendar_may_edit(cast.alice) and not calendar_may_edit(cast.admin_a)  # a district admin
    with pytest.raises(PermissionDenied):
        calendar_day_set(actor=cast.admin_a, day=dt.date(2024, 10, 19), working=True)
    carol = city_admin(cast)
    assert calendar_may_edit(carol)
    calendar_day_set(actor=carol, day=dt.date(2024, 10, 19), working=True, name="演练")
    assert AuditEntry.objects.filter(action="cases.calendar.day_set", actor=carol).exists()


# --- the command line --------------------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("cases_calendar", *args, stdout=out)
    return out.getvalue()


def test_the_command_lists_and_shows_years():
    listing = run("list")
    assert "2024" in listing and "chinese-calendar" in listing
    shown = run("show", "2024")
    assert "2024-10-01 周二 休息 国庆节" in shown and "2024-09-29 周日 上班" in shown


def test_the_command_imports_a_file_dry_run_then_commit(tmp_path, no_2027):
    path = str(write(tmp_path, CSV_2027))
    assert "DRY RUN" in run("import", path)
    assert not CalendarYear.objects.filter(year=2027).exists()
    out = run("import", path, "--commit")
    assert "done: 2027 entered" in out
    assert CalendarYear.objects.filter(year=2027).exists()
    assert "2027" in run("show", "2027")


def test_the_command_refuses_to_commit_a_file_with_bad_lines(tmp_path, no_2027):
    path = str(write(tmp_path, CSV_2027 + "2027-02-30,休息,x\n"))
    with pytest.raises(CommandError, match="1 line"):
        run("import", path, "--commit")
    with pytest.raises(CommandError, match="no data for 2027"):
        run("show", "2027")


# --- the warning ---------------------------------------------------------------------------------


def test_the_system_check_warns_when_this_year_has_no_calendar_data():
    this_year = timezone.localdate().year
    CalendarYear.objects.get_or_create(year=this_year + 1)
    assert calendar_years_check() == []
    CalendarYear.objects.filter(year=this_year).delete()
    warnings = calendar_years_check()
    assert [w.id for w in warnings] == ["civicgrid.workcal.W001"]
    assert f"no data for {this_year}" in warnings[0].msg and "Monday–Friday" in warnings[0].msg
    assert calendar_years_missing() == [this_year]


def test_the_system_check_warns_about_next_year_too():
    next_year = timezone.localdate().year + 1
    CalendarYear.objects.filter(year=next_year).delete()
    assert [w.msg for w in calendar_years_check()] == [
        f"the working calendar has no data for {next_year}: deadlines fall back to Monday–Friday; enter the "
        "holidays with `civicgrid workcal calendar import`"]
    assert next_year not in {y.year for y in calendar_years()}
