"""Assessment metrics (考核指标, DOMAIN §6) on a hand-computed fixture: ten DRILL cases driven through
the engine's services on fixed dates in September and October 2024, then every rate checked against
the value computed by hand below, with the cases behind each number.

The fixture (district A = Alice's street unless said otherwise; T = Tue 2024-10-08 10:00; 5 working
days from T are due Mon 2024-10-14 10:00 because Sat 10-12 is a make-up working day):

    C1  urban  closed 10-10 15:00 (on time)                     rated satisfied, contacted, resolved
    C2  urban  closed 10-16 09:00 (late)                        rated basic, contacted, not resolved
    C3  urban  accepted, still open
    C4  urban  deferred (clock paused)
    C5  water  extended by 3 working days (due 10-17 10:00), closed 10-16 (on time)
                                                                rated basic, not contacted, not resolved
    C6  water  closed 10-09, reopened 10-09 14:00 (due 10-15 14:00), closed 10-11 (on time)
                                                                rated satisfied but the call is not valid
    C7  rejected (not registered)
    C8  merged into C3 (not registered)
    C9  created 2024-09-23 (due 09-29, a make-up Sunday), closed 09-27; rated unsatisfied in October
    C10 district B (Charlie's street), closed on time, rated satisfied, contacted, resolved

October 2024, district A:
    due (handling due in October, counted) = C1..C6 = 6; deferred = C4; due − deferred = 5
    结案率   closed C1 C2 C5 C6            = 4 / 5 = 0.8
    按期结案率 on time C1 C5 C6             = 3 / 5 = 0.6
    返工率   reopened C6 / ever closed C1 C2 C5 C6 = 1 / 4 = 0.25
    延期率   extended C5 / due 6           = 1 / 6
    立案率   received C1..C8 = 8, registered = 8 − C7 − C8 = 6 → 0.75
    valid follow-ups in October: C1, C2, C5, C9 = 4 (C6's call is not valid; C10 is district B)
    响应率   contacted C1 C2 C9            = 3 / 4 = 0.75
    解决率   resolved C1                   = 1 / 4 = 0.25
    满意率   (1 satisfied + 0.9 × 2 basic) = 2.8 / 4 = 0.7
    score (0.1, 0.5, 0.4) = 100 × (0.075 + 0.125 + 0.28) = 48.0 → D
    overall grade (0.6, 0.2, 0.2) = 0.6 × 48.0 + 100 × (0.2 × 0.8 + 0.2 × 0.6) = 28.8 + 28 = 56.8 → D
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from civicgrid.cases.models import ApprovalRequest, Case, Rating
from civicgrid.cases.selectors import (
    Period,
    Rate,
    closure_rates,
    grade_for,
    grade_weights,
    metric_cases,
    metric_ratings,
    metrics_by_department,
    metrics_by_region,
    metrics_for,
    score_weights,
    self_ratings,
    three_rates,
    unregistered_states_of,
)
from civicgrid.cases.services import (
    case_decide_approval,
    case_merge,
    case_rate,
    case_reopen,
    case_request_approval,
    case_transition,
)
from civicgrid.cases.testing import DRILL
from civicgrid.cases.tests.conftest import POINT_B, at, drill_create, fresh
from civicgrid.org.services import department_create

pytestmark = pytest.mark.django_db

T = at(2024, 10, 8, 10)  # Tuesday after the National Day holiday
OCTOBER = Period.month(2024, 10)


@dataclass
class October:
    cases: dict[str, Any]
    units: Any
    cast: Any
    b_department: Any

    def codes(self, *names: str) -> set[str]:
        return {self.cases[n].tracking_code for n in names}


def _created(case: Any, when: Any) -> Any:
    # case_create(now=...) starts the clocks at ``now`` but created_at is auto_now_add: set it here.
    Case.objects.filter(pk=case.pk).update(created_at=when)
    return fresh(case)


def _rated(case: Any, when: Any, *, by: Any, **kwargs: Any) -> Rating:
    """A staff follow-up call (a reporter's own rating is not in the three rates)."""
    rating = case_rate(actor=by, case=fresh(case), **kwargs)
    Rating.objects.filter(pk=rating.pk).update(at=when)  # Rating.at is auto_now_add
    return rating


def _dispatched(cast: Any, department: Any, handler: Any, when: Any = T) -> Any:
    case = _created(drill_create(None, now=when), when)
    case = case_transition(actor=cast.alice, case=case, action="dispatch", department=department, now=when)
    return case_transition(actor=handler, case=fresh(case), action="accept", now=when)


def _finish(case: Any, handler: Any, when: Any) -> Any:
    return case_transition(actor=handler, case=fresh(case), action="finish", note="已处理", now=when)


@pytest.fixture
def october(cast: Any, units: Any) -> October:
    dana, evan = units.dana, units.evan
    c: dict[str, Any] = {}
    c["C1"] = _finish(_dispatched(cast, units.urban, dana), dana, at(2024, 10, 10, 15))
    c["C2"] = _finish(_dispatched(cast, units.urban, dana), dana, at(2024, 10, 16, 9))
    c["C3"] = _dispatched(cast, units.urban, dana)
    c["C4"] = _dispatched(cast, units.urban, dana)
    req = case_request_approval(actor=dana, case=fresh(c["C4"]), kind=ApprovalRequest.Kind.DEFERRAL,
                                reason="等待管线单位")
    case_decide_approval(actor=cast.alice, request=req, approve=True, now=at(2024, 10, 9, 9))
    c["C5"] = _dispatched(cast, units.water, evan)
    req = case_request_approval(actor=evan, case=fresh(c["C5"]), kind=ApprovalRequest.Kind.EXTENSION,
                                reason="需要更换管道", amount=3, unit="working_days")
    case_decide_approval(actor=cast.alice, request=req, approve=True, now=at(2024, 10, 11, 9))
    _finish(c["C5"], evan, at(2024, 10, 16, 16))
    c["C6"] = _finish(_dispatched(cast, units.water, evan), evan, at(2024, 10, 9, 10))
    case_reopen(actor=cast.alice, case=fresh(c["C6"]), reason="核查未通过", now=at(2024, 10, 9, 14))
    _finish(c["C6"], evan, at(2024, 10, 11, 10))
    c["C7"] = _created(drill_create(None, now=T), T)
    case_transition(actor=cast.alice, case=fresh(c["C7"]), action="reject", reason="不属实", now=T)
    c["C8"] = _created(drill_create(None, now=T), T)
    case_merge(actor=cast.alice, survivor=fresh(c["C3"]), duplicates=[fresh(c["C8"])], now=T)
    september = at(2024, 9, 23, 10)
    c["C9"] = _finish(_dispatched(cast, units.urban, dana, when=september), dana, at(2024, 9, 27, 10))

    b_dept = department_create(actor=None, code="440302-cg", name="乙区城管局", region=cast.city.b)
    c10 = _created(drill_create(None, point=POINT_B, now=T), T)
    c10 = case_transition(actor=cast.charlie, case=c10, action="dispatch", department=b_dept, now=T)
    case_transition(actor=None, case=fresh(c10), action="accept", now=T)
    c["C10"] = _finish(c10, None, at(2024, 10, 9, 10))

    _rated(c["C1"], by=cast.alice, when=at(2024, 10, 11, 9), satisfaction="satisfied", contacted=True, resolved=True)
    _rated(c["C2"], by=cast.alice, when=at(2024, 10, 17, 9), satisfaction="basic", contacted=True, resolved=False)
    _rated(c["C5"], by=cast.alice, when=at(2024, 10, 17, 9), satisfaction="basic", contacted=False, resolved=False)
    _rated(c["C6"], by=cast.alice, when=at(2024, 10, 12, 9), satisfaction="satisfied", contacted=True,
           resolved=True, valid=False)
    _rated(c["C10"], by=cast.charlie, when=at(2024, 10, 10, 9), satisfaction="satisfied", contacted=True,
           resolved=True)
    # Last: an unsatisfied rating reopens C9 (DRILL reopens on "unsatisfied"), which moves its
    # handling clock out of both months; the follow-up itself was made in October.
    _rated(c["C9"], by=cast.alice, when=at(2024, 10, 8, 9), satisfaction="unsatisfied", contacted=True, resolved=False)
    return October(cases={k: fresh(v) for k, v in c.items()}, units=units, cast=cast, b_department=b_dept)


def test_the_fixture_has_the_deadlines_computed_by_hand(october):
    c = october.cases
    assert c["C1"].handling_due_at == at(2024, 10, 14, 10)  # Sat 10-12 is a make-up working day
    assert c["C5"].handling_due_at == at(2024, 10, 17, 10) and c["C5"].extended
    assert c["C6"].handling_due_at == at(2024, 10, 15, 14) and c["C6"].reopen_count == 1
    assert c["C4"].deferred and c["C4"].handling_due_at == at(2024, 10, 14, 10)
    assert c["C7"].state == "rejected" and c["C8"].merged_into_id == c["C3"].pk
    assert c["C9"].reopen_count == 1 and c["C9"].closed_at is None


def test_the_closure_rates_of_october_equal_the_hand_computed_values(october):
    r = closure_rates(period=OCTOBER, region=october.cast.city.a)
    assert (r.closure.numerator, r.closure.denominator, r.closure.value) == (4, 5, pytest.approx(0.8))
    assert (r.on_time.numerator, r.on_time.denominator, r.on_time.value) == (3, 5, pytest.approx(0.6))
    assert (r.rework.numerator, r.rework.denominator, r.rework.value) == (1, 4, pytest.approx(0.25))
    assert (r.extension.numerator, r.extension.denominator, r.extension.value) == (1, 6, pytest.approx(1 / 6))
    assert (r.registration.numerator, r.registration.denominator) == (6, 8)
    assert r.registration.value == pytest.approx(0.75)
    assert r.closure.percent == 80.0


def test_the_three_rates_and_the_score_equal_the_hand_computed_values(october):
    r = three_rates(period=OCTOBER, region=october.cast.city.a)
    assert (r.response.numerator, r.response.denominator) == (3, 4)
    assert r.response.value == pytest.approx(0.75)
    assert (r.resolution.numerator, r.resolution.denominator, r.resolution.value) == (1, 4, pytest.approx(0.25))
    assert r.satisfaction.numerator == pytest.approx(2.8) and r.satisfaction.value == pytest.approx(0.7)
    assert r.score.value == pytest.approx(48.0)
    assert r.score.grade == "D"
    assert r.score.weights == pytest.approx((0.1, 0.5, 0.4))


def test_the_reporters_own_ratings_are_counted_apart_from_the_three_rates(october):
    # the reporter of C1 and of C2 rate themselves in October (C2 unsatisfied): a rating from the
    # reporter is a contact by construction, so it would push 响应率 towards 100 %; it is not a
    # follow-up, the three rates stay those of the four staff calls above
    for code, satisfaction in (("C1", "satisfied"), ("C2", "unsatisfied")):
        rating = case_rate(actor=None, case=fresh(october.cases[code]), satisfaction=satisfaction)
        Rating.objects.filter(pk=rating.pk).update(at=at(2024, 10, 18, 9))
    r = three_rates(period=OCTOBER, region=october.cast.city.a)
    assert (r.response.numerator, r.response.denominator) == (3, 4)
    assert self_ratings(period=OCTOBER, region=october.cast.city.a).as_dict() == {
        "total": 2, "satisfied": 1, "basic": 0, "unsatisfied": 1}
    assert self_ratings(period=OCTOBER, region=october.cast.city.b).total == 0


def test_the_overall_grade_weighs_the_score_the_closure_rate_and_the_on_time_rate(october, settings):
    m = metrics_for(period=OCTOBER, region=october.cast.city.a)
    assert m.grade.value == pytest.approx(56.8) and m.grade.grade == "D"
    assert m.grade.weights == pytest.approx((0.6, 0.2, 0.2))
    settings.CIVICGRID_GRADE_WEIGHTS = "5,3,2"  # relative: 0.5 × 48 + 100 × (0.3 × 0.8 + 0.2 × 0.6) = 60
    again = metrics_for(period=OCTOBER, region=october.cast.city.a)
    assert again.grade.value == pytest.approx(60.0) and again.grade.grade == "C"
    assert grade_weights((0, 1, 1)) == pytest.approx((0, 0.5, 0.5))
    with pytest.raises(ValueError, match="CIVICGRID_GRADE_WEIGHTS"):
        grade_weights("1,nan,1")
    # no follow-up in the period: no score, so no grade (a grade over half its parts would mislead)
    empty = metrics_for(period=Period.days(at(2024, 10, 1, 0).date(), at(2024, 10, 2, 0).date()),
                        region=october.cast.city.a)
    assert (empty.grade.value, empty.grade.grade) == (None, None)


def test_alice_sees_the_same_numbers_through_her_jurisdiction(october):
    by_user = metrics_for(period=OCTOBER, user=october.cast.alice)
    by_region = metrics_for(period=OCTOBER, region=october.cast.city.a)
    assert by_user == by_region


def test_a_department_handler_counts_the_cases_her_department_handles(october):
    m = metrics_for(period=OCTOBER, user=october.units.dana)  # urban: C1 C2 C3 C4 (C9 due in September)
    assert (m.closure.numerator, m.closure.denominator) == (2, 3)
    assert (m.response.numerator, m.response.denominator) == (3, 3)  # C1 C2 C9


def test_charlies_metrics_do_not_count_district_a_cases(october):
    m = metrics_for(period=OCTOBER, user=october.cast.charlie)
    assert (m.closure.numerator, m.closure.denominator) == (1, 1)
    assert (m.on_time.numerator, m.on_time.denominator) == (1, 1)
    assert (m.registration.numerator, m.registration.denominator) == (1, 1)
    assert (m.response.numerator, m.response.denominator) == (1, 1)
    assert m.score.value == pytest.approx(100.0) and m.score.grade == "A"
    assert set(metric_cases("closure", part="denominator", period=OCTOBER, user=october.cast.charlie)
               .values_list("tracking_code", flat=True)) == october.codes("C10")


def test_the_cases_behind_each_number_are_exactly_the_expected_ones(october):
    a = october.cast.city.a

    def behind(metric: str, part: str = "numerator") -> set[str]:
        return set(metric_cases(metric, part=part, period=OCTOBER, region=a).values_list("tracking_code", flat=True))

    assert behind("closure") == october.codes("C1", "C2", "C5", "C6")
    assert behind("closure", "denominator") == october.codes("C1", "C2", "C3", "C5", "C6")
    assert behind("on_time") == october.codes("C1", "C5", "C6")
    assert behind("rework") == october.codes("C6")
    assert behind("rework", "denominator") == october.codes("C1", "C2", "C5", "C6")
    assert behind("extension") == october.codes("C5")
    assert behind("extension", "denominator") == october.codes("C1", "C2", "C3", "C4", "C5", "C6")
    assert behind("registration") == october.codes("C1", "C2", "C3", "C4", "C5", "C6")
    assert behind("registration", "denominator") == october.codes(*(f"C{i}" for i in range(1, 9)))
    assert behind("response") == october.codes("C1", "C2", "C9")
    assert behind("response", "denominator") == october.codes("C1", "C2", "C5", "C9")
    assert behind("resolution") == october.codes("C1")
    assert behind("satisfaction") == october.codes("C1", "C2", "C5")
    assert metric_ratings("response", part="denominator", period=OCTOBER, region=a).count() == 4


def test_every_number_is_none_when_its_denominator_is_zero(october):
    m = metrics_for(period=Period.month(2023, 1), region=october.cast.city.a)
    for name in ("closure", "on_time", "rework", "extension", "registration", "response", "resolution",
                 "satisfaction"):
        rate = getattr(m, name)
        assert (rate.numerator, rate.denominator, rate.value, rate.percent) == (0, 0, None, None), name
    assert (m.score.value, m.score.grade) == (None, None)


def test_a_period_moves_with_the_handling_deadline_not_the_creation(october):
    september = metrics_for(period=Period.month(2024, 9), region=october.cast.city.a)
    # C9 was due 09-29 when it was closed, but the unsatisfied follow-up reopened it: its handling
    # deadline is now the new clock's, so September has no case due any more.
    assert september.closure.denominator == 0
    assert september.registration.denominator == 1  # C9 was received in September


def test_explicit_unregistered_states_override_the_case_types_own(october):
    # closed straight from "new" without handling: rejected, or handed over to another case (a relay)
    assert unregistered_states_of(DRILL) == frozenset({"rejected", "handed_over"})
    r = closure_rates(period=OCTOBER, region=october.cast.city.a, unregistered_states=[])
    # C7 (rejected, closed at T, on time) now counts as due and closed; C8 stays out (merged).
    assert (r.closure.numerator, r.closure.denominator) == (5, 6)
    assert (r.registration.numerator, r.registration.denominator) == (7, 8)


def test_all_metrics_take_two_queries_and_a_table_three(october, django_assert_num_queries):
    a = october.cast.city.a
    with django_assert_num_queries(2):
        metrics_for(period=OCTOBER, region=a)
    with django_assert_num_queries(3):
        metrics_by_department(period=OCTOBER, region=a)
    with django_assert_num_queries(3):
        metrics_by_region(level="district", period=OCTOBER)


def test_the_department_table_has_one_row_per_lead_department(october):
    rows = {row.label: row for row in metrics_by_department(period=OCTOBER, region=october.cast.city.a)}
    assert set(rows) == {"甲区城管局", "甲区水务局", "(none)"}
    urban, water = rows["甲区城管局"].metrics, rows["甲区水务局"].metrics
    assert (urban.closure.numerator, urban.closure.denominator) == (2, 3)  # C1 C2 of C1 C2 C3 (C4 deferred)
    assert (water.closure.numerator, water.closure.denominator) == (2, 2)  # C5 C6
    assert (water.rework.numerator, water.rework.denominator) == (1, 2)
    assert (urban.response.numerator, urban.response.denominator) == (3, 3)  # C1 C2 C9
    assert (water.response.numerator, water.response.denominator) == (0, 1)  # C5
    assert rows["(none)"].key is None
    assert (rows["(none)"].metrics.registration.numerator, rows["(none)"].metrics.registration.denominator) == (0, 2)


def test_the_region_table_groups_by_district_and_by_street(october):
    districts = {row.code: row.metrics for row in metrics_by_region(level="district", period=OCTOBER)}
    assert set(districts) == {"440301", "440302"}
    assert districts["440301"].closure.value == pytest.approx(0.8)
    assert districts["440302"].closure.value == pytest.approx(1.0)
    streets = metrics_by_region(level="street", period=OCTOBER, user=october.cast.charlie)
    assert [row.code for row in streets] == ["440302001"]


def test_the_score_weights_come_from_the_setting(october, settings):
    settings.CIVICGRID_SCORE_WEIGHTS = "0.30,0.35,0.35"
    r = three_rates(period=OCTOBER, region=october.cast.city.a)
    assert r.score.value == pytest.approx(100 * (0.3 * 0.75 + 0.35 * 0.25 + 0.35 * 0.7))  # 55.75
    assert r.score.grade == "D"
    only_satisfaction = three_rates(period=OCTOBER, region=october.cast.city.a, weights=(0, 0, 1))
    assert only_satisfaction.score.value == pytest.approx(70.0) and only_satisfaction.score.grade == "C"


def test_a_malformed_weights_setting_is_a_configuration_error(settings):
    settings.CIVICGRID_SCORE_WEIGHTS = "0.5,0.5"
    with pytest.raises(ImproperlyConfigured, match="CIVICGRID_SCORE_WEIGHTS"):
        score_weights()
    with pytest.raises(ValueError):
        score_weights(("a", 1, 1))
    assert score_weights((1, 5, 4)) == pytest.approx((0.1, 0.5, 0.4))  # relative weights


def test_grades_follow_the_published_thresholds():
    assert [grade_for(s) for s in (100, 90, 89.99, 75, 74.9, 60, 59.9, 40, 39.9, 0)] == [
        "A", "A", "B", "B", "C", "C", "D", "D", "E", "E"]
    assert grade_for(None) is None


def test_a_rate_with_no_denominator_has_no_value():
    assert Rate.of("closure", 0, 0).value is None
    assert Rate.of("closure", 1, 4).value == 0.25


def test_a_period_needs_aware_bounds_and_dates_are_shanghai_midnights():
    import datetime as dt

    assert Period.month(2024, 12).end == at(2025, 1, 1)
    assert Period.days(dt.date(2024, 10, 1), dt.date(2024, 10, 7)).end == at(2024, 10, 8)
    with pytest.raises(ValueError):
        Period(dt.datetime(2024, 1, 1), None)
    with pytest.raises(ValueError):
        Period(at(2024, 2, 1), at(2024, 1, 1))


def test_a_case_still_waiting_for_registration_is_received_but_not_registered(october):
    waiting = _created(drill_create(None, now=T), T)  # still "new": nobody has registered or rejected it
    a = october.cast.city.a
    r = closure_rates(period=OCTOBER, region=a)
    assert (r.registration.numerator, r.registration.denominator) == (6, 9)
    numerator = metric_cases("registration", period=OCTOBER, region=a).values_list("tracking_code", flat=True)
    denominator = metric_cases("registration", part="denominator", period=OCTOBER, region=a)
    assert waiting.tracking_code not in set(numerator)
    assert waiting.tracking_code in set(denominator.values_list("tracking_code", flat=True))


def test_the_events_awaiting_registration_are_the_reported_ones():
    from civicgrid.cases.selectors import awaiting_registration_states_of
    from civicgrid.events.workflow import register_event_type

    assert awaiting_registration_states_of(register_event_type()) == frozenset({"reported"})
    assert awaiting_registration_states_of(DRILL) == frozenset({"new"})


def test_a_satisfaction_numerator_carries_no_binary_noise(october):
    # 0.9 × 13 basically satisfied is 11.700000000000001 in floating point
    case = october.cases["C1"]
    Rating.objects.bulk_create([Rating(case=case, closing=n, satisfaction="basic", contacted=True, resolved=True,
                                       valid=True, at=at(2024, 10, 20, 9)) for n in range(2, 15)])  # 13 more closings
    r = three_rates(period=Period.days(at(2024, 10, 20, 0).date(), at(2024, 10, 20, 0).date()),
                    region=october.cast.city.a)
    assert repr(r.satisfaction.numerator) == "11.7"
