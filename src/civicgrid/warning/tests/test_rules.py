"""Each rule on hand-made fixtures: a planted spike is found and a flat series is not; a repeated
place, a hotspot, a pile of deadlines and late whistle answers; de-duplication across ticks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from civicgrid.notify.models import Notification
from civicgrid.warning import rules
from civicgrid.warning.models import Alert, AlertEvent, AlertRule, AlertState, Baseline
from civicgrid.warning.services import rule_save, warning_baselines, warning_tick
from civicgrid.warning.tests.conftest import COMMUNITY_A, COMMUNITY_B, at, plant

NOW = at(2024, 6, 12, 15)  # a Wednesday
POINT = (114.02, 22.51)


def _flat_history(city, category, community=COMMUNITY_A, days=56, per_day=1):
    """``per_day`` cases every day of the ``days`` before NOW's day."""
    for i in range(1, days + 1):
        plant(city, community, at_=NOW - dt.timedelta(days=i), n=per_day, category=category)


def test_rule_parameters_are_checked_per_kind_and_name_the_bad_field(db):
    with pytest.raises(ValidationError) as exc:
        rule_save(actor=None, code="x", name="x", kind="place", params={"n": 1, "radius": 5}, level="county")
    fields = exc.value.message_dict
    assert "params.n" in fields and "params.radius" in fields and "level" in fields
    with pytest.raises(ValidationError) as exc:
        rule_save(actor=None, code="x", name="x", kind="nonsense")
    assert "kind" in exc.value.message_dict
    rule = rule_save(actor=None, code="p", name="p", kind="place", params={"n": 4})
    assert rule.params == {"n": 4, "radius_m": 50.0, "days": 7}


def test_a_planted_spike_is_found_and_a_flat_series_is_not(cast, roads):
    city = cast.city
    rule = rule_save(actor=None, code="spike", name="Spike", kind="spike", categories=[roads])
    _flat_history(city, roads)
    _flat_history(city, roads, community=COMMUNITY_B)
    assert warning_baselines(now=NOW) > 0
    wed = Baseline.objects.get(rule=rule, area=city.get(COMMUNITY_A), category=roads, daytype=0)
    assert wed.mean == pytest.approx(1.0) and wed.threshold >= 5
    # today: an ordinary day in B, a spike in A
    plant(city, COMMUNITY_B, at_=NOW - dt.timedelta(hours=2), n=1, category=roads)
    spike = plant(city, COMMUNITY_A, at_=NOW - dt.timedelta(hours=1), n=wed.threshold + 2, category=roads)
    report = warning_tick(now=NOW)
    assert len(report.raised) == 1
    alert = Alert.objects.get()
    assert alert.area == city.get(COMMUNITY_A) and alert.category == roads
    assert alert.figure == wed.threshold + 2 and alert.expected == pytest.approx(1.0)
    assert sorted(alert.evidence["case_ids"]) == sorted(c.pk for c in spike)
    assert alert.evidence["series"][-1] == [NOW.date().isoformat(), wed.threshold + 2]
    assert alert.evidence["series"][-2][1] == 1  # yesterday, flat
    assert alert.centre == city.get("440301001")  # the street centre of the area
    assert alert.street == city.get("440301001") and alert.state == AlertState.OPEN
    assert AlertEvent.objects.filter(alert=alert, action="raised").count() == 1
    assert set(Notification.objects.filter(event="warning").values_list("channel", flat=True)) == {"inapp", "sms"}


def test_a_quiet_area_without_history_alarms_only_above_the_floor(cast, roads):
    rule_save(actor=None, code="spike", name="Spike", kind="spike", categories=[roads])
    plant(cast.city, COMMUNITY_A, at_=NOW - dt.timedelta(hours=1), n=4, category=roads)
    assert warning_tick(now=NOW).raised == []  # zero baseline: min_count (5) guards a quiet area
    plant(cast.city, COMMUNITY_A, at_=NOW - dt.timedelta(minutes=30), n=4, category=roads)
    assert len(warning_tick(now=NOW + dt.timedelta(minutes=1)).raised) == 1


def test_holidays_have_their_own_baseline(cast, roads):
    from civicgrid.workcal.calendar import working_calendar
    from civicgrid.workcal.clock import MappingCalendar

    assert rules.daytype(dt.date(2024, 6, 15), working_calendar()) == 1  # a Saturday: a rest day
    assert rules.daytype(dt.date(2024, 6, 12), working_calendar()) == 0  # a Wednesday: a working day
    dragon_boat = MappingCalendar({dt.date(2024, 6, 10): False, dt.date(2024, 2, 4): True}, {2024})
    assert rules.daytype(dt.date(2024, 6, 10), dragon_boat) == 1  # a Monday holiday: a rest day
    assert rules.daytype(dt.date(2024, 2, 4), dragon_boat) == 0  # a make-up Sunday (调休): a working day


def test_the_same_spike_is_raised_once_across_ticks(cast, roads):
    rule_save(actor=None, code="spike", name="Spike", kind="spike", categories=[roads])
    plant(cast.city, COMMUNITY_A, at_=NOW - dt.timedelta(hours=1), n=9, category=roads)
    assert len(warning_tick(now=NOW).raised) == 1
    plant(cast.city, COMMUNITY_A, at_=NOW, n=3, category=roads)  # the day grows: still the same thing
    assert warning_tick(now=NOW + dt.timedelta(minutes=1)).raised == []
    # a tick that forgot its watermark finds the same candidate and still raises nothing
    AlertRule.objects.update(watermark_id=0, watermark_at=None)
    report = warning_tick(now=NOW + dt.timedelta(minutes=2))
    assert report.candidates == 1 and report.raised == []
    assert Alert.objects.count() == 1


def test_a_repeated_place_n_cases_within_r_metres_in_d_days(cast, roads):
    rule_save(actor=None, code="place", name="Place", kind="place", params={"n": 4, "radius_m": 50, "days": 7})
    for i in range(3):  # three within 30 m over three days
        plant(cast.city, COMMUNITY_A, at_=NOW - dt.timedelta(days=i + 1), point=(POINT[0] + i * 0.0001, POINT[1]))
    plant(cast.city, COMMUNITY_A, at_=NOW - dt.timedelta(days=20), point=POINT)  # too old
    plant(cast.city, COMMUNITY_A, at_=NOW - dt.timedelta(hours=1), point=(POINT[0] + 0.002, POINT[1]))  # 200 m off
    assert warning_tick(now=NOW).raised == []
    fourth = plant(cast.city, COMMUNITY_A, at_=NOW - dt.timedelta(minutes=5), point=(POINT[0], POINT[1] + 0.0002))
    report = warning_tick(now=NOW + dt.timedelta(minutes=1))
    assert len(report.raised) == 1
    alert = Alert.objects.get()
    assert alert.figure == 4 and fourth[0].pk in alert.evidence["case_ids"] and len(alert.evidence["case_ids"]) == 4
    assert alert.evidence["radius_m"] == 50 and sum(n for _d, n in alert.evidence["series"]) == 4
    plant(cast.city, COMMUNITY_A, at_=NOW, point=POINT)
    assert warning_tick(now=NOW + dt.timedelta(minutes=2)).raised == []  # the same place, same window


def test_a_hotspot_of_open_cases_in_a_grid_cell(cast):
    rule_save(actor=None, code="hot", name="Hot", kind="hotspot", params={"n": 6, "cell_m": 300, "days": 7})
    for i in range(5):
        plant(cast.city, COMMUNITY_A, at_=NOW - dt.timedelta(days=i), point=(POINT[0] + 0.0003 * (i % 2), POINT[1]))
    plant(cast.city, COMMUNITY_A, at_=NOW - dt.timedelta(days=1), point=POINT, n=3, closed=True)  # closed: not counted
    assert warning_tick(now=NOW).raised == []
    plant(cast.city, COMMUNITY_A, at_=NOW - dt.timedelta(minutes=1), point=POINT)
    assert len(warning_tick(now=NOW + dt.timedelta(minutes=1)).raised) == 1
    alert = Alert.objects.get()
    assert alert.figure == 6 and alert.area == cast.city.get(COMMUNITY_A) and alert.key.startswith("h")


def _department_with_timers(cast, n, *, kind="handle", due=None, overdue=None):
    from civicgrid.cases.models import Assignment, Timer
    from civicgrid.org.services import department_create

    street = cast.city.get("440301001")
    dept = department_create(actor=None, code="d-water", name="水务", region=street)
    for case in plant(cast.city, COMMUNITY_A, at_=NOW - dt.timedelta(days=2), n=n):
        assignment = Assignment.objects.create(case=case, department=dept)
        Timer.objects.create(case=case, assignment=assignment, kind=kind, unit="working_days", amount=5,
                             started_at=NOW - dt.timedelta(days=2), due_at=due or NOW + dt.timedelta(hours=3),
                             overdue_at=overdue)
    return dept


def test_bulk_deadlines_of_one_unit(cast):
    rule_save(actor=None, code="due", name="Due", kind="deadlines", params={"n": 5, "hours": 24})
    _department_with_timers(cast, 4)
    assert warning_tick(now=NOW).raised == []
    AlertRule.objects.update(params={"n": 4, "hours": 24})
    assert len(warning_tick(now=NOW).raised) == 1
    alert = Alert.objects.get()
    assert alert.department.code == "d-water" and alert.area == cast.city.get("440301001")
    assert alert.figure == 4 and len(alert.evidence["case_ids"]) == 4
    assert warning_tick(now=NOW + dt.timedelta(hours=1)).raised == []  # one a day


def test_whistle_summons_answered_late_by_the_same_department(cast):
    rule_save(actor=None, code="wh", name="Whistle", kind="whistle", params={"n": 3, "days": 30})
    _department_with_timers(cast, 3, kind="wh_ack:1", due=NOW - dt.timedelta(days=1),
                            overdue=NOW - dt.timedelta(days=1))
    assert len(warning_tick(now=NOW).raised) == 1
    assert Alert.objects.get().figure == 3


def test_late_ordinary_clocks_are_not_whistle_answers(cast):
    rule_save(actor=None, code="wh", name="Whistle", kind="whistle", params={"n": 3, "days": 30})
    _department_with_timers(cast, 3, kind="handle", due=NOW - dt.timedelta(days=1), overdue=NOW - dt.timedelta(days=1))
    assert warning_tick(now=NOW).raised == []


def test_an_alert_not_acknowledged_in_time_is_marked_once(cast, roads):
    rule_save(actor=None, code="spike", name="Spike", kind="spike", categories=[roads], severity="severe")
    plant(cast.city, COMMUNITY_A, at_=NOW - dt.timedelta(hours=1), n=9, category=roads)
    warning_tick(now=NOW)
    alert = Alert.objects.get()
    assert alert.ack_due_at == NOW + dt.timedelta(minutes=15)  # severe: 15 minutes round the clock
    assert warning_tick(now=NOW + dt.timedelta(minutes=20)).overdue == 1
    assert warning_tick(now=NOW + dt.timedelta(minutes=30)).overdue == 0
    assert AlertEvent.objects.filter(alert=alert, action="ack_overdue").count() == 1


def test_the_holiday_baseline_is_the_rest_days_and_a_holiday_spike_is_found(cast, roads):
    """Rest days (weekends, holidays) have their own, quieter baseline: a busy working-day level on a
    rest day alarms, the same level on a working day does not."""
    rule = rule_save(actor=None, code="spike", name="Spike", kind="spike", categories=[roads],
                     params={"min_count": 2})
    from civicgrid.workcal.calendar import working_calendar

    calendar = working_calendar()  # the real 2024 calendar: Labour Day (May 1–5), Dragon Boat (June 10)
    for i in range(1, 57):
        day = NOW - dt.timedelta(days=i)
        plant(cast.city, COMMUNITY_A, at_=day, n=6 if calendar.is_working_day(day.date()) else 0, category=roads)
    warning_baselines(now=NOW)
    assert Baseline.objects.get(rule=rule, daytype=0).mean == pytest.approx(6.0)  # holidays left out
    assert not Baseline.objects.filter(rule=rule, daytype=1).exists()  # quiet rest days: the floor applies
    saturday = at(2024, 6, 15, 12)
    plant(cast.city, COMMUNITY_A, at_=NOW - dt.timedelta(hours=1), n=6, category=roads)
    assert warning_tick(now=NOW).raised == []  # an ordinary Wednesday
    plant(cast.city, COMMUNITY_A, at_=saturday - dt.timedelta(hours=1), n=6, category=roads)
    assert len(warning_tick(now=saturday).raised) == 1  # the same on a Saturday is a spike


def test_nb_threshold_is_monotone_and_respects_the_floor():
    assert rules.nb_threshold(0, 0, 2e-5, 5, 0.2) == 5
    assert rules.nb_threshold(1, 1, 2e-5, 5, 0.2) <= rules.nb_threshold(3, 3, 2e-5, 5, 0.2)
    assert rules.nb_threshold(3, 6, 2e-5, 5, 0.2) >= rules.nb_threshold(3, 3, 2e-5, 5, 0.2)
    assert rules.nb_threshold(10_000, 10_000, 2e-5, 5, 0.2) > 10_000


def test_the_whistle_rule_reads_the_clock_names_the_events_type_gives_summonses():
    """The contract with civicgrid.events: its summons clocks are engine timers named with the prefix
    the rule reads (so the rule needs no events import)."""
    from civicgrid.events.services import _timer_kinds

    assert all(kind.startswith(rules.WHISTLE_TIMER_PREFIX) for kind in _timer_kinds(7).values())
