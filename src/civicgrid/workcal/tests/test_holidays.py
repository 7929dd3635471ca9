"""National holidays and make-up working days (调休) from the chinese-calendar package."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest

from civicgrid.workcal import holidays
from civicgrid.workcal.clock import CALENDAR_TZ, WorkingHours, due_at, unknown_days_between
from civicgrid.workcal.holidays import (
    calendar_exceptions,
    chinese_calendar_days,
    covered_years,
    holiday_names,
    package_calendar,
)


def test_the_package_covers_a_contiguous_range_of_years_including_2024_and_2025():
    years = covered_years()
    assert 2024 in years and 2025 in years
    assert years.start == 2004  # the package's first year of data
    assert chinese_calendar_days(years.start - 1) is None
    assert chinese_calendar_days(years.stop) is None  # the year after the last published one


def test_a_year_the_package_does_not_know_gives_none_instead_of_raising():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2200, 1, 1))
    assert chinese_calendar_days(2200) is None
    assert holiday_names(2200) is None
    assert calendar_exceptions(2200) is None


def test_a_package_that_raises_midway_through_a_year_gives_none(monkeypatch):
    def is_workday(day: date) -> bool:
        if day.month > 6:
            raise NotImplementedError("no data")
        return day.weekday() < 5

    monkeypatch.setattr(chinese_calendar, "is_workday", is_workday)
    assert chinese_calendar_days(2024) is None


def test_every_day_of_a_covered_year_is_listed():
    days = chinese_calendar_days(2024)
    assert days is not None and len(days) == 366
    assert min(days) == date(2024, 1, 1) and max(days) == date(2024, 12, 31)


def test_national_day_2024_with_its_make_up_sunday_and_saturday():
    days = chinese_calendar_days(2024)
    assert days[date(2024, 9, 29)] is True  # Sunday 调休
    assert all(days[date(2024, 10, d)] is False for d in range(1, 8))
    assert days[date(2024, 10, 8)] is True
    assert days[date(2024, 10, 12)] is True  # Saturday 调休
    assert days[date(2024, 10, 13)] is False  # an ordinary Sunday


def test_spring_festival_2025_with_its_make_up_days():
    days = chinese_calendar_days(2025)
    assert days[date(2025, 1, 26)] is True  # Sunday 调休
    assert days[date(2025, 1, 27)] is True
    first = date(2025, 1, 28)
    assert all(days[first + timedelta(days=n)] is False for n in range(8))  # 01-28..02-04
    assert days[date(2025, 2, 5)] is True
    assert days[date(2025, 2, 8)] is True  # Saturday 调休


def test_holidays_are_named_in_chinese_and_make_up_days_say_so():
    names = holiday_names(2024)
    assert names[date(2024, 10, 1)] == "国庆节"
    assert names[date(2024, 10, 5)] == "国庆节"  # a weekend day of the holiday is named too
    assert names[date(2024, 9, 29)] == "调休上班（国庆节）"
    assert names[date(2024, 10, 12)] == "调休上班（国庆节）"
    assert date(2024, 10, 8) not in names and date(2024, 10, 13) not in names
    assert holiday_names(2025)[date(2025, 1, 28)] == "春节"
    assert holiday_names(2025)[date(2025, 1, 26)] == "调休上班（春节）"


def test_a_holiday_the_package_names_but_this_module_does_not_know_keeps_its_english_name(monkeypatch):
    monkeypatch.setattr(chinese_calendar, "get_holiday_detail",
                        lambda day: (True, "Moon Landing Day") if day == date(2024, 7, 20) else (False, None))
    assert holiday_names(2024) == {date(2024, 7, 20): "Moon Landing Day"}


def test_the_calendar_exceptions_are_the_days_that_differ_from_monday_to_friday():
    exceptions = calendar_exceptions(2024)
    assert exceptions[date(2024, 10, 1)] == (False, "国庆节")
    assert exceptions[date(2024, 9, 29)] == (True, "调休上班（国庆节）")
    assert date(2024, 10, 5) not in exceptions  # a Saturday off anyway
    assert date(2024, 10, 8) not in exceptions  # an ordinary Tuesday
    assert all(working != (day.weekday() < 5) for day, (working, _name) in exceptions.items())


def test_the_package_calendar_gives_the_same_deadlines_as_the_published_calendar():
    cal = package_calendar(range(2024, 2026))
    hours = WorkingHours.default()
    start = datetime(2024, 9, 27, 10, tzinfo=CALENDAR_TZ)
    assert due_at(start, 5, "working_days", calendar=cal, hours=hours) == datetime(2024, 10, 10, 10, tzinfo=CALENDAR_TZ)
    assert due_at(datetime(2025, 1, 26, 10, tzinfo=CALENDAR_TZ), 3, "working_days", calendar=cal,
                  hours=hours) == datetime(2025, 2, 6, 10, tzinfo=CALENDAR_TZ)
    assert cal.known(date(2025, 1, 1)) and not cal.known(date(2026, 1, 1))


def test_the_package_calendar_knows_every_covered_year_and_reports_the_next_one():
    cal = package_calendar()
    years = covered_years()
    assert {year for year in years if cal.known(date(year, 6, 1))} == set(years)
    assert unknown_days_between(date(years.stop - 1, 12, 1), date(years.stop, 1, 10), cal) == {years.stop}


def test_covered_years_is_probed_once(monkeypatch):
    covered_years.cache_clear()
    calls = []
    real = holidays._knows
    monkeypatch.setattr(holidays, "_knows", lambda year: calls.append(year) or real(year))
    first = covered_years()
    probes = len(calls)
    assert covered_years() == first and len(calls) == probes
    covered_years.cache_clear()
