"""Clock arithmetic for deadlines (时限计算), on fixed dates of the 2024–2025 national calendar."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

from civicgrid.workcal import clock
from civicgrid.workcal.clock import (
    CALENDAR_TZ,
    DayKinds,
    MappingCalendar,
    WeekdayCalendar,
    WorkingHours,
    clock_start,
    due_after_pause,
    due_at,
    extend,
    in_units,
    progress,
    remaining_after,
    resume_due,
    unknown_days_between,
    working_seconds_between,
)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# The State Council calendar around 中秋/国庆 2024 and 元旦/春节 2025 (as published; written out here
# so these tests do not depend on the chinese-calendar package — test_holidays checks the package).
OVERRIDES: dict[date, bool] = {
    date(2024, 9, 14): True,  # Saturday, 调休上班 (中秋)
    date(2024, 9, 16): False, date(2024, 9, 17): False,  # 中秋
    date(2024, 9, 29): True,  # Sunday, 调休上班 (国庆)
    **{day: False for day in _days(date(2024, 10, 1), date(2024, 10, 7))},  # 国庆 10-01..07
    date(2024, 10, 12): True,  # Saturday, 调休上班 (国庆)
    date(2025, 1, 1): False,  # 元旦
    date(2025, 1, 26): True,  # Sunday, 调休上班 (春节)
    **{day: False for day in _days(date(2025, 1, 28), date(2025, 2, 4))},  # 春节 01-28..02-04
    date(2025, 2, 8): True,  # Saturday, 调休上班 (春节)
}
CAL = MappingCalendar(OVERRIDES, {2024, 2025})
HOURS = WorkingHours.default()
KW = {"calendar": CAL, "hours": HOURS}


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CALENDAR_TZ)


# --- calendars ----------------------------------------------------------------------------------

def test_both_calendars_satisfy_the_day_kinds_protocol():
    assert isinstance(CAL, DayKinds)
    assert isinstance(WeekdayCalendar(), DayKinds)


def test_the_weekday_calendar_works_monday_to_friday_and_knows_no_year():
    cal = WeekdayCalendar()
    assert [cal.is_working_day(date(2024, 10, d)) for d in range(7, 14)] == [True] * 5 + [False] * 2
    assert not cal.known(date(2024, 1, 1))


def test_a_mapping_calendar_lets_listed_days_win_over_monday_to_friday():
    assert CAL.is_working_day(date(2024, 9, 29))  # Sunday, make-up working day
    assert not CAL.is_working_day(date(2024, 10, 1))  # Tuesday, National Day
    assert CAL.is_working_day(date(2024, 10, 8))  # an ordinary Tuesday, not listed
    assert not CAL.is_working_day(date(2024, 10, 13))  # an ordinary Sunday, not listed
    assert CAL.known(date(2025, 6, 1)) and not CAL.known(date(2026, 6, 1))


def test_a_mapping_calendar_lets_listed_days_win_even_in_a_year_it_does_not_know():
    cal = MappingCalendar({date(2027, 1, 1): False, date(2027, 1, 2): True}, {2026})
    assert not cal.is_working_day(date(2027, 1, 1))  # a Friday
    assert cal.is_working_day(date(2027, 1, 2))  # a Saturday
    assert cal.is_working_day(date(2027, 1, 4)) and not cal.known(date(2027, 1, 4))


# --- working hours ------------------------------------------------------------------------------

def test_working_hours_default_to_nine_to_twelve_and_one_to_five():
    assert HOURS.windows == ((time(9), time(12)), (time(13), time(17)))
    assert str(HOURS) == "09:00-12:00,13:00-17:00"
    assert HOURS.seconds_per_day == 7 * 3600
    assert (HOURS.day_start, HOURS.day_end) == (time(9), time(17))
    assert HOURS.contains(time(9)) and not HOURS.contains(time(12)) and not HOURS.contains(time(12, 30))


def test_working_hours_parse_a_setting_string_in_any_order_with_spaces():
    hours = WorkingHours.parse(" 14:30-18:00 , 8:30-12:00")
    assert hours.windows == ((time(8, 30), time(12)), (time(14, 30), time(18)))
    assert WorkingHours.parse(str(hours)) == hours


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("   ", "empty"),
    ("nine to five", "not a window"),
    ("09:00-12:00;13:00-17:00", "not a window"),
    ("09:00-12:00,", "not a window"),
    ("25:00-26:00", "not a valid time"),
    ("09:60-12:00", "not a valid time"),
    ("12:00-09:00", "ends before it starts"),
    ("09:00-09:00", "ends before it starts"),
    ("09:00-12:00,11:00-13:00", "overlaps"),
])
def test_bad_working_hours_are_refused_with_the_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        WorkingHours.parse(text)


def test_working_hours_built_directly_are_checked_too():
    with pytest.raises(ValueError, match="overlaps"):
        WorkingHours(((time(13), time(17)), (time(9), time(12))))
    with pytest.raises(ValueError, match="at least one"):
        WorkingHours(())


def test_working_hours_come_from_the_setting_or_the_default(settings):
    settings.CIVICGRID_WORKING_HOURS = "08:00-12:00,14:00-17:30"
    assert WorkingHours.from_settings().windows == ((time(8), time(12)), (time(14), time(17, 30)))
    settings.CIVICGRID_WORKING_HOURS = ""
    assert WorkingHours.from_settings() == HOURS


# --- working days -------------------------------------------------------------------------------

def test_five_working_days_from_the_friday_before_national_day_skip_the_holiday_and_count_the_make_up_sunday():
    # Sun 09-29 (调休), Mon 09-30, then 10-01..07 off, Tue 10-08, Wed 10-09, Thu 10-10.
    assert due_at(at(2024, 9, 27, 10), 5, "working_days", **KW) == at(2024, 10, 10, 10)


def test_a_make_up_saturday_counts_as_a_working_day():
    assert due_at(at(2024, 10, 11, 10), 1, "working_days", **KW) == at(2024, 10, 12, 10)


def test_working_days_over_the_spring_festival_count_the_make_up_sunday_and_skip_the_eight_days_off():
    # Sun 01-26 (调休) start, Mon 01-27 (1), 01-28..02-04 off, Wed 02-05 (2), Thu 02-06 (3).
    assert due_at(at(2025, 1, 26, 10), 3, "working_days", **KW) == at(2025, 2, 6, 10)
    # Sat 02-08 is a make-up working day: 4 working days from Wed 02-05 end on it.
    assert due_at(at(2025, 2, 5, 15), 3, "working_days", **KW) == at(2025, 2, 8, 15)


def test_working_days_started_on_a_non_working_day_count_from_the_next_working_morning():
    # Saturday 09-28 15:00 → Sunday 09-29 09:00 (make-up day) → one working day later: Monday 09:00.
    assert clock_start(at(2024, 9, 28, 15), "working_days", **KW) == at(2024, 9, 29, 9)
    assert due_at(at(2024, 9, 28, 15), 1, "working_days", **KW) == at(2024, 9, 30, 9)
    # A holiday: Thursday 10-03 → Tuesday 10-08 09:00.
    assert due_at(at(2024, 10, 3, 11), 2, "working_days", **KW) == at(2024, 10, 10, 9)


def test_working_days_started_before_the_first_window_count_from_that_morning():
    assert clock_start(at(2024, 9, 30, 7), "working_days", **KW) == at(2024, 9, 30, 9)
    assert due_at(at(2024, 9, 30, 7), 1, "working_days", **KW) == at(2024, 10, 8, 9)


def test_working_days_started_after_the_last_window_count_from_the_next_working_morning():
    assert clock_start(at(2024, 9, 30, 17), "working_days", **KW) == at(2024, 10, 8, 9)
    assert due_at(at(2024, 9, 30, 17), 1, "working_days", **KW) == at(2024, 10, 9, 9)
    # Friday 20:00 → the make-up Saturday 10-12 09:00 → Monday 10-14 09:00.
    assert due_at(at(2024, 10, 11, 20), 1, "working_days", **KW) == at(2024, 10, 14, 9)


def test_working_days_started_in_the_lunch_break_keep_their_time_of_day():
    assert clock_start(at(2024, 10, 9, 12, 30), "working_days", **KW) == at(2024, 10, 9, 12, 30)
    assert due_at(at(2024, 10, 9, 12, 30), 1, "working_days", **KW) == at(2024, 10, 10, 12, 30)


# --- working hours ------------------------------------------------------------------------------

def test_four_working_hours_from_four_pm_end_at_noon_the_next_working_day():
    assert due_at(at(2024, 10, 14, 16), 4, "working_hours", **KW) == at(2024, 10, 15, 12)


def test_four_working_hours_from_friday_four_pm_end_on_the_make_up_sunday():
    assert due_at(at(2024, 9, 27, 16), 4, "working_hours", **KW) == at(2024, 9, 29, 12)


def test_working_hours_ending_with_a_window_are_due_at_its_end_not_at_the_next_start():
    assert due_at(at(2024, 10, 14, 13), 4, "working_hours", **KW) == at(2024, 10, 14, 17)
    assert due_at(at(2024, 10, 14, 20), 3, "working_hours", **KW) == at(2024, 10, 15, 12)


def test_working_hours_started_in_the_lunch_break_wait_for_the_afternoon():
    assert due_at(at(2024, 10, 14, 12, 30), 2, "working_hours", **KW) == at(2024, 10, 14, 15)


def test_working_hours_started_in_the_evening_wait_for_the_next_morning():
    assert due_at(at(2024, 10, 14, 20), 4, "working_hours", **KW) == at(2024, 10, 15, 14)


def test_working_hours_skip_a_holiday_week():
    # 7 hours on Monday 09-30, then 10-01..07 off: the eighth hour is Tuesday 10-08 09:00–10:00.
    assert due_at(at(2024, 9, 30, 9), 8, "working_hours", **KW) == at(2024, 10, 8, 10)


def test_fractional_working_hours_are_allowed():
    assert due_at(at(2024, 10, 14, 11, 30), 1.5, "working_hours", **KW) == at(2024, 10, 14, 14)


def test_working_hours_follow_custom_windows():
    hours = WorkingHours.parse("08:30-12:00,14:30-18:00")
    assert due_at(at(2024, 10, 14, 11), 4, "working_hours", calendar=CAL, hours=hours) == at(2024, 10, 14, 17, 30)


# --- round the clock ----------------------------------------------------------------------------

def test_urgent_hours_run_across_midnight_and_into_a_holiday():
    assert due_at(at(2024, 9, 30, 23), 2, "urgent_hours", **KW) == at(2024, 10, 1, 1)
    assert due_at(at(2025, 1, 28, 10), 48, "urgent_hours", **KW) == at(2025, 1, 30, 10)


def test_calendar_days_keep_the_time_of_day_over_holidays():
    assert due_at(at(2024, 9, 30, 18), 3, "calendar_days", **KW) == at(2024, 10, 3, 18)


def test_natural_months_keep_the_day_of_month_clamped_to_the_month_end():
    assert due_at(at(2024, 1, 31, 10), 1, "natural_months", **KW) == at(2024, 2, 29, 10)  # leap year
    assert due_at(at(2025, 1, 31, 10), 1, "natural_months", **KW) == at(2025, 2, 28, 10)
    assert due_at(at(2025, 1, 31, 10), 2, "natural_months", **KW) == at(2025, 3, 31, 10)
    assert due_at(at(2024, 12, 15, 9), 1, "natural_months", **KW) == at(2025, 1, 15, 9)
    assert due_at(at(2024, 3, 31, 9), 12, "natural_months", **KW) == at(2025, 3, 31, 9)


def test_natural_months_must_be_whole():
    with pytest.raises(ValueError, match="whole"):
        due_at(at(2024, 1, 31), 1.5, "natural_months", **KW)


# --- inputs and outputs -------------------------------------------------------------------------

def test_due_times_are_computed_in_shanghai_time_whatever_the_input_zone():
    start_utc = datetime(2024, 9, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    due = due_at(start_utc, 5, "working_days", **KW)
    assert due == at(2024, 10, 10, 10)
    assert due.utcoffset() == timedelta(hours=8) and due.tzinfo == CALENDAR_TZ


def test_naive_datetimes_unknown_units_and_negative_amounts_are_refused():
    with pytest.raises(ValueError, match="naive"):
        due_at(datetime(2024, 10, 14, 9), 1, "working_days", **KW)
    with pytest.raises(ValueError, match="unknown time unit"):
        due_at(at(2024, 10, 14, 9), 1, "fortnights", **KW)
    with pytest.raises(ValueError, match="≥ 0"):
        due_at(at(2024, 10, 14, 9), -1, "working_hours", **KW)
    with pytest.raises(TypeError):
        due_at(at(2024, 10, 14, 9), "1", "working_hours", **KW)


def test_a_zero_amount_is_due_at_the_clock_start():
    assert due_at(at(2024, 10, 14, 10), 0, "working_hours", **KW) == at(2024, 10, 14, 10)
    assert due_at(at(2024, 10, 13, 10), 0, "working_days", **KW) == at(2024, 10, 14, 9)


# --- elapsed time -------------------------------------------------------------------------------

def test_working_seconds_between_count_only_the_unit_s_time():
    a, b = at(2024, 9, 27, 16), at(2024, 10, 8, 10)
    # Friday 1 h, Sunday 09-29 7 h, Monday 09-30 7 h, Tuesday 10-08 1 h.
    assert working_seconds_between(a, b, unit="working_hours", **KW) == 16 * 3600
    assert working_seconds_between(b, a, unit="working_hours", **KW) == -16 * 3600
    assert working_seconds_between(a, b, unit="urgent_hours", **KW) == (b - a).total_seconds()
    assert working_seconds_between(at(2024, 9, 27, 10), at(2024, 10, 10, 10), unit="working_days", **KW) == 5 * 86400


def test_in_units_shows_budget_seconds_as_hours_or_days():
    assert in_units(7200, "working_hours") == 2
    assert in_units(43200, "working_days") == 0.5


def test_progress_is_the_share_of_the_clock_used():
    start, due = at(2024, 10, 14, 9), at(2024, 10, 15, 10)  # 8 working hours
    assert progress(start, due, at(2024, 10, 14, 13), unit="working_hours", **KW) == 3 / 8
    assert progress(start, due, at(2024, 10, 14, 12, 45), unit="working_hours", **KW) == 3 / 8  # lunch
    assert progress(start, due, due, unit="working_hours", **KW) == 1
    assert progress(start, due, at(2024, 10, 15, 11), unit="working_hours", **KW) == 9 / 8
    # A working-days clock started on Sunday 10-13 runs from Monday 09:00: nothing used by then.
    assert progress(at(2024, 10, 13, 15), at(2024, 10, 15, 9), at(2024, 10, 14, 9),
                    unit="working_days", **KW) == 0


# --- pause, resume, extension -------------------------------------------------------------------

def test_a_pause_of_two_working_hours_moves_the_due_time_by_two_working_hours():
    start = at(2024, 10, 14, 9)
    due = due_at(start, 8, "working_hours", **KW)
    assert due == at(2024, 10, 15, 10)
    remaining = remaining_after(due, at(2024, 10, 14, 14), unit="working_hours", **KW)
    assert remaining == 4 * 3600  # 14–17 Monday, 09–10 Tuesday
    new_due = resume_due(at(2024, 10, 14, 16), remaining, unit="working_hours", **KW)
    assert new_due == at(2024, 10, 15, 12)
    assert working_seconds_between(due, new_due, unit="working_hours", **KW) == 2 * 3600


def test_a_pause_over_a_night_and_a_weekend_does_not_move_a_working_hours_due_time():
    due = at(2024, 10, 22, 11)
    assert due_after_pause(due, at(2024, 10, 18, 17, 30), at(2024, 10, 21, 8), unit="working_hours",
                           **KW) == due


def test_a_pause_of_one_working_day_moves_a_working_days_due_time_by_one_working_day():
    due = due_at(at(2024, 10, 14, 10), 5, "working_days", **KW)
    assert due == at(2024, 10, 21, 10)
    assert due_after_pause(due, at(2024, 10, 16, 10), at(2024, 10, 17, 10), unit="working_days",
                           **KW) == at(2024, 10, 22, 10)


def test_a_working_days_pause_over_the_national_day_holiday_moves_the_due_time_only_by_working_days():
    due = due_at(at(2024, 9, 26, 10), 5, "working_days", **KW)  # 27, 29, 30, 10-08, 10-09
    assert due == at(2024, 10, 9, 10)
    # Paused Monday 09-30 10:00, resumed Tuesday 10-08 10:00: one working day (09-30) stood still.
    assert due_after_pause(due, at(2024, 9, 30, 10), at(2024, 10, 8, 10), unit="working_days",
                           **KW) == at(2024, 10, 10, 10)


def test_a_clock_paused_when_overdue_stays_overdue_by_as_much_after_resuming():
    due = at(2024, 10, 15, 10)
    remaining = remaining_after(due, at(2024, 10, 15, 11), unit="working_hours", **KW)
    assert remaining == -3600
    assert resume_due(at(2024, 10, 16, 11), remaining, unit="working_hours", **KW) == at(2024, 10, 16, 10)
    # Over a lunch break: one working hour before 13:30 is 11:30.
    assert resume_due(at(2024, 10, 16, 13, 30), remaining, unit="working_hours", **KW) == at(2024, 10, 16, 11, 30)


def test_a_clock_cannot_resume_before_it_was_paused():
    with pytest.raises(ValueError, match="resume"):
        due_after_pause(at(2024, 10, 15, 10), at(2024, 10, 14, 11), at(2024, 10, 14, 10),
                        unit="working_hours", **KW)


def test_an_extension_adds_to_the_current_due_time():
    assert extend(at(2024, 9, 30, 10), 2, "working_days", **KW) == at(2024, 10, 9, 10)
    assert extend(at(2024, 10, 14, 16), 2, "working_hours", **KW) == at(2024, 10, 15, 10)
    assert extend(at(2024, 9, 30, 23), 2, "urgent_hours", **KW) == at(2024, 10, 1, 1)
    assert extend(at(2024, 10, 11, 10), 10, "working_days", **KW) == at(2024, 10, 24, 10)  # 12th is a make-up day
    assert extend(at(2025, 1, 31, 10), 1, "natural_months", **KW) == at(2025, 2, 28, 10)


# --- a year without calendar data ---------------------------------------------------------------

def test_a_year_without_calendar_data_falls_back_to_monday_to_friday_and_is_reported():
    cal_2026 = MappingCalendar({}, {2026})
    start = at(2026, 12, 31, 10)  # Thursday
    due = due_at(start, 1, "working_days", calendar=cal_2026, hours=HOURS)
    assert due == at(2027, 1, 1, 10)  # Friday: no data for 2027, so a plain weekday
    assert unknown_days_between(start, due, cal_2026) == {2027}
    # Once 2027 is entered (元旦 off), the recomputation moves the due time to Monday.
    cal_2027 = MappingCalendar({date(2027, 1, 1): False}, {2026, 2027})
    assert due_at(start, 1, "working_days", calendar=cal_2027, hours=HOURS) == at(2027, 1, 4, 10)
    assert unknown_days_between(start, at(2027, 1, 4, 10), cal_2027) == set()


def test_unknown_years_are_listed_in_either_order_from_dates_or_datetimes():
    assert unknown_days_between(date(2025, 6, 1), date(2023, 6, 1), CAL) == {2023}
    assert unknown_days_between(at(2024, 1, 1), at(2025, 12, 31, 23), CAL) == set()
    assert unknown_days_between(date(2024, 3, 1), date(2026, 3, 1), WeekdayCalendar()) == {2024, 2025, 2026}
    # 2025-12-31 20:00 UTC is already 2026-01-01 in Shanghai.
    utc_evening = datetime(2025, 12, 31, 20, tzinfo=UTC)
    assert unknown_days_between(at(2025, 6, 1), utc_evening, CAL) == {2026}


def test_a_calendar_without_any_working_day_is_an_error_not_an_endless_loop():
    class NeverWorking:
        def is_working_day(self, day: date) -> bool:
            return False

        def known(self, day: date) -> bool:
            return True

    with pytest.raises(ValueError, match="no working day"):
        due_at(at(2024, 10, 14, 10), 1, "working_hours", calendar=NeverWorking(), hours=HOURS)
    with pytest.raises(ValueError, match="no working day"):
        due_at(at(2024, 10, 14, 10), 1, "working_days", calendar=NeverWorking(), hours=HOURS)


# --- properties (a seeded random loop: hypothesis is not in the venv) ---------------------------

def _random_start(rng: random.Random) -> datetime:
    return at(2024, 1, 1) + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))


def _inside_a_window(moment: datetime, hours: WorkingHours) -> bool:
    """Within a window, its end included (a budget may run out exactly at a window's end)."""
    local = moment.astimezone(CALENDAR_TZ).time()
    return any(start < local <= end for start, end in hours.windows)


def test_working_hours_due_times_grow_with_the_amount_and_always_land_in_a_working_window():
    rng = random.Random(20241001)
    hours_options = [HOURS, WorkingHours.parse("08:30-12:00,14:30-18:00"), WorkingHours.parse("00:00-23:00")]
    for _ in range(300):
        start, hours = _random_start(rng), rng.choice(hours_options)
        amounts = sorted(rng.uniform(0.01, 60) for _ in range(4))
        dues = [due_at(start, amount, "working_hours", calendar=CAL, hours=hours) for amount in amounts]
        assert dues == sorted(dues) and len(set(dues)) == len(dues), (start, amounts)
        for amount, due in zip(amounts, dues, strict=True):
            assert CAL.is_working_day(due.date()), (start, amount, due)
            assert _inside_a_window(due, hours), (start, amount, due)
            elapsed = working_seconds_between(start, due, unit="working_hours", calendar=CAL, hours=hours)
            assert elapsed == pytest.approx(amount * 3600, abs=1e-3)


def test_working_days_due_times_grow_with_the_amount_and_keep_the_clock_start_s_time_of_day():
    rng = random.Random(20250128)
    for _ in range(300):
        start = _random_start(rng)
        begin = clock_start(start, "working_days", **KW)
        assert CAL.is_working_day(begin.date()) and HOURS.day_start <= begin.time() < HOURS.day_end
        amounts = sorted(rng.sample(range(1, 30), 4))
        dues = [due_at(start, amount, "working_days", **KW) for amount in amounts]
        assert dues == sorted(dues) and len(set(dues)) == len(dues)
        for amount, due in zip(amounts, dues, strict=True):
            assert due.time() == begin.time() and CAL.is_working_day(due.date())
            working_days_after = [d for d in _days(begin.date() + timedelta(days=1), due.date())
                                  if CAL.is_working_day(d)]
            assert len(working_days_after) == amount


# (statutory days move a resumed end off a rest day: tests/test_statutory_days.py)
@pytest.mark.parametrize("unit", [u for u in clock.UNITS if u != clock.STATUTORY_DAYS])
def test_pausing_moves_the_due_time_by_exactly_the_unit_s_time_that_elapsed_during_the_pause(unit):
    rng = random.Random(1000 + clock.UNITS.index(unit))
    amount_range = {"natural_months": (1, 3), "calendar_days": (1, 10)}.get(unit, (1, 40))
    for _ in range(150):
        start = _random_start(rng)
        due = due_at(start, rng.randint(*amount_range), unit, **KW)
        paused = start + (due - start) * rng.random()
        resumed = paused + timedelta(minutes=rng.randrange(0, 20 * 24 * 60))
        new_due = due_after_pause(due, paused, resumed, unit=unit, **KW)
        moved = working_seconds_between(due, new_due, unit=unit, **KW)
        stood_still = working_seconds_between(paused, resumed, unit=unit, **KW)
        assert moved == pytest.approx(stood_still, abs=1e-3), (start, due, paused, resumed, new_due)
        assert new_due >= due
