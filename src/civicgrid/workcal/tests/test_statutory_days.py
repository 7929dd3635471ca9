"""Statutory days (法定期间) on boundary days of National Day and Spring Festival 2025 and 2026.

The rule (民法典):
- art. 201: 按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算 — the start day is not counted;
- art. 203: 期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日；期间的最后一日的截止时间为
  二十四时 — a last day on a rest day moves to the day after the rest ends, and the period ends at
  24:00 of its last day (the clock stores 00:00 of the day after).

Every expected value below is counted by hand on the State Council's calendar, which the
``chinese-calendar`` data of ``workcal.holidays`` carries (checked first, so a changed package
cannot silently change these answers):

- 2025 National Day + Mid-Autumn: Wed 10-01 … Wed 10-08 off; Sun 09-28 and Sat 10-11 worked (调休).
- 2026 National Day: Thu 10-01 … Wed 10-07 off; Sun 09-20 and Sat 10-10 worked.
- 2025 Spring Festival: Tue 01-28 … Tue 02-04 off; Sun 01-26 and Sat 02-08 worked.
- 2026 Spring Festival: Sun 02-15 … Mon 02-23 off; Sat 02-14 and Sat 02-28 worked.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from civicgrid.workcal import clock
from civicgrid.workcal.clock import CALENDAR_TZ, WorkingHours, due_at, extend, resume_due, statutory_last_day
from civicgrid.workcal.holidays import package_calendar

CAL = package_calendar(range(2025, 2027))
KW = {"calendar": CAL, "hours": WorkingHours.default()}
UNIT = clock.STATUTORY_DAYS


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CALENDAR_TZ)


def _range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_the_calendar_data_is_the_published_one_around_these_holidays():
    off = [*_range(date(2025, 10, 1), date(2025, 10, 8)), *_range(date(2026, 10, 1), date(2026, 10, 7)),
           *_range(date(2025, 1, 28), date(2025, 2, 4)), *_range(date(2026, 2, 15), date(2026, 2, 23))]
    assert not any(CAL.is_working_day(d) for d in off)
    worked = [date(2025, 9, 28), date(2025, 10, 11), date(2026, 9, 20), date(2026, 10, 10),
              date(2025, 1, 26), date(2025, 2, 8), date(2026, 2, 14), date(2026, 2, 28)]
    assert all(CAL.is_working_day(d) and d.weekday() >= 5 for d in worked)  # weekends worked: 调休
    assert CAL.is_working_day(date(2025, 10, 9)) and CAL.is_working_day(date(2026, 10, 8))
    assert CAL.is_working_day(date(2025, 2, 5)) and CAL.is_working_day(date(2026, 2, 24))


# --- art. 201: the start day is not counted -----------------------------------------------------

@pytest.mark.parametrize("hour, minute", [(0, 0), (9, 30), (23, 59)])
def test_the_start_day_is_not_counted_whatever_the_time_of_the_start(hour, minute):
    # Wed 2025-09-10 + 1 day: the period is Thu 09-11 alone, ending at its 24:00.
    assert due_at(at(2025, 9, 10, hour, minute), 1, UNIT, **KW) == at(2025, 9, 12)
    # 15 days from Mon 2025-09-15: 09-16 … 09-30 (Tue), a working day.
    assert due_at(at(2025, 9, 15, hour, minute), 15, UNIT, **KW) == at(2025, 10, 1)


def test_days_inside_a_holiday_count_when_the_last_day_is_a_working_day():
    # 10 days from Tue 2025-09-30: 10-01 … 10-10; the eight days off count, Fri 10-10 is worked.
    assert due_at(at(2025, 9, 30, 16), 10, UNIT, **KW) == at(2025, 10, 11)
    # the same 10 in working days would run to Thu 10-16 17:00 … a different unit altogether
    assert due_at(at(2025, 9, 30, 16), 10, "working_days", **KW) > at(2025, 10, 16)


# --- art. 203: a last day on a rest day moves to the next working day, ending at 24:00 ------------

@pytest.mark.parametrize("start, days, last_day", [
    # National Day 2025: every last day from 10-01 to 10-08 moves to Thu 10-09
    (date(2025, 9, 23), 8, date(2025, 10, 9)),   # last day 10-01, the first day off
    (date(2025, 9, 23), 11, date(2025, 10, 9)),  # last day 10-04, a Saturday inside the holiday
    (date(2025, 9, 23), 13, date(2025, 10, 9)),  # last day 10-06, 中秋
    (date(2025, 9, 23), 15, date(2025, 10, 9)),  # last day 10-08, the last day off
    (date(2025, 9, 23), 16, date(2025, 10, 9)),  # last day 10-09 itself: worked, stays
    (date(2025, 9, 29), 1, date(2025, 9, 30)),   # last day Tue 09-30, the eve: stays
    # National Day 2026
    (date(2026, 9, 30), 1, date(2026, 10, 8)),   # last day 10-01 → Thu 10-08
    (date(2026, 9, 26), 7, date(2026, 10, 8)),   # last day Sat 10-03 → 10-08
    (date(2026, 9, 30), 7, date(2026, 10, 8)),   # last day 10-07, the last day off → 10-08
    # Spring Festival 2025
    (date(2025, 1, 18), 10, date(2025, 2, 5)),   # last day 01-28, 除夕 off → Wed 02-05
    (date(2025, 1, 18), 15, date(2025, 2, 5)),   # last day Sun 02-02 inside the holiday → 02-05
    (date(2025, 1, 18), 17, date(2025, 2, 5)),   # last day 02-04, the last day off → 02-05
    (date(2025, 1, 17), 10, date(2025, 1, 27)),  # last day Mon 01-27, the eve: stays
    (date(2025, 1, 31), 9, date(2025, 2, 10)),   # last day Sun 02-09, an ordinary Sunday → Mon 02-10
    # Spring Festival 2026
    (date(2026, 2, 5), 10, date(2026, 2, 24)),   # last day Sun 02-15, the first day off → Tue 02-24
    (date(2026, 2, 5), 13, date(2026, 2, 24)),   # last day Wed 02-18 → 02-24
    (date(2026, 2, 13), 10, date(2026, 2, 24)),  # last day Mon 02-23, the last day off → 02-24
])
def test_a_last_day_that_is_a_rest_day_moves_to_the_end_of_the_next_working_day(start, days, last_day):
    assert statutory_last_day(start, days, calendar=CAL) == last_day
    for hour in (0, 10, 23):
        due = due_at(at(start.year, start.month, start.day, hour), days, UNIT, **KW)
        assert due == at(last_day.year, last_day.month, last_day.day) + timedelta(days=1)  # 24:00 of the last day


@pytest.mark.parametrize("start, days, last_day", [
    (date(2025, 10, 1), 10, date(2025, 10, 11)),  # Sat 10-11, worked after National Day 2025
    (date(2025, 9, 18), 10, date(2025, 9, 28)),   # Sun 09-28, worked before it
    (date(2026, 9, 30), 10, date(2026, 10, 10)),  # Sat 10-10, worked after National Day 2026
    (date(2025, 1, 16), 10, date(2025, 1, 26)),   # Sun 01-26, worked before Spring Festival 2025
    (date(2025, 2, 1), 7, date(2025, 2, 8)),      # Sat 02-08, worked after it
    (date(2026, 2, 4), 10, date(2026, 2, 14)),    # Sat 02-14, worked before Spring Festival 2026
    (date(2026, 2, 18), 10, date(2026, 2, 28)),   # Sat 02-28, worked after it
])
def test_a_last_day_on_a_make_up_working_weekend_counts_as_a_working_day(start, days, last_day):
    assert statutory_last_day(start, days, calendar=CAL) == last_day
    assert due_at(at(start.year, start.month, start.day, 15), days, UNIT, **KW) == \
        at(last_day.year, last_day.month, last_day.day) + timedelta(days=1)


def test_the_day_after_a_make_up_saturday_is_a_rest_day_again():
    # 11 days from 2025-10-01: last day Sun 10-12 → Mon 10-13
    assert statutory_last_day(date(2025, 10, 1), 11, calendar=CAL) == date(2025, 10, 13)


def test_an_extension_adds_its_days_to_the_end_and_moves_a_rest_day_again():
    due = due_at(at(2025, 9, 23, 10), 8, UNIT, **KW)  # ends at 24:00 of Thu 10-09
    assert due == at(2025, 10, 10)
    # +30: last day Sat 11-08 → Mon 11-10
    assert extend(due, 30, UNIT, **KW) == at(2025, 11, 11)
    # +2: last day Sat 10-11, worked → stays
    assert extend(due, 2, UNIT, **KW) == at(2025, 10, 12)


def test_a_resumed_statutory_clock_spends_what_it_had_left_and_moves_off_a_rest_day():
    due = at(2026, 9, 20)  # a period ending at 24:00 of Sat 09-19 (say, resumed earlier)
    paused = at(2026, 9, 10)
    left = clock.remaining_after(due, paused, unit=UNIT, **KW)
    assert left == 10 * 86400
    # resumed 2026-09-22 00:00: ten days later is 10-02 00:00, i.e. the last day is 10-01 (off) → 10-08
    assert resume_due(at(2026, 9, 22), left, unit=UNIT, **KW) == at(2026, 10, 9)
    # a clock paused when overdue stays overdue by as much: no day moves
    assert resume_due(at(2026, 10, 3, 12), -3600, unit=UNIT, **KW) == at(2026, 10, 3, 11)


def test_statutory_days_are_whole_days():
    with pytest.raises(ValueError, match="whole"):
        due_at(at(2025, 9, 23), 1.5, UNIT, **KW)
    with pytest.raises(ValueError):
        due_at(at(2025, 9, 23), -1, UNIT, **KW)
