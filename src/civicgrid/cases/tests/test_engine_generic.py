"""The generic actions every case type gets: merge (并单), supervise and chase (督办/催办), escalate
(提级), reopen (返工), rate (回访评价), extension (延期) and deferral (缓办) with approval."""

from __future__ import annotations

import pytest

from civicgrid.audit.models import AuditEntry
from civicgrid.cases.errors import CaseConflict, TransitionNotAllowed, TransitionRefused
from civicgrid.cases.models import ApprovalRequest, AssignmentState, Rating, Supervision, Timer, TimerState
from civicgrid.cases.services import (
    case_decide_approval,
    case_escalate,
    case_merge,
    case_rate,
    case_reopen,
    case_request_approval,
    case_resume,
    case_supervise,
    case_transition,
)
from civicgrid.cases.tests.conftest import STREET_A, at, drill_create, fresh
from civicgrid.notify.models import Notification
from civicgrid.workcal import clock
from civicgrid.workcal.calendar import working_calendar, working_hours

pytestmark = pytest.mark.django_db

T0 = at(2024, 9, 23, 10)  # Monday; 5 working days → Sunday 09-29 10:00 (a make-up working day)


def dispatched(cast, units, now=T0, **kwargs):
    case = drill_create(cast.bob, now=now, **kwargs)
    return case_transition(actor=cast.alice, case=case, action="dispatch", department=units.urban, now=now)


def handling(cast, units, now=T0, **kwargs):
    case = dispatched(cast, units, now=now, **kwargs)
    return case_transition(actor=units.dana, case=fresh(case), action="accept", now=now)


def done(cast, units, now=T0, **kwargs):
    case = handling(cast, units, now=now, **kwargs)
    return case_transition(actor=units.dana, case=fresh(case), action="finish", note="已处理", now=now)


def handle_timer(case):
    return Timer.objects.filter(case=case, kind="handle").order_by("-id").first()


# --- merge ------------------------------------------------------------------------------------

def test_merged_duplicates_follow_the_survivor_and_their_clocks_stop(cast, units, calendar_2024):
    survivor = drill_create(cast.bob, now=T0)
    dup1 = dispatched(cast, units)
    dup2 = drill_create(cast.alice, now=T0)
    case_merge(actor=cast.alice, survivor=survivor, duplicates=[fresh(dup1), fresh(dup2)], note="同一井盖",
               now=at(2024, 9, 23, 11))
    for dup in (dup1, dup2):
        stored = fresh(dup)
        assert (stored.state, stored.merged_into, stored.closed_at) == ("merged", survivor, at(2024, 9, 23, 11))
        assert not stored.timers.filter(state__in=[TimerState.RUNNING, TimerState.PAUSED]).exists()
        entry = stored.timeline.get(action="merge")
        assert entry.public and entry.data == {"into": survivor.tracking_code} and entry.note == "同一井盖"
        assert AuditEntry.objects.filter(action="cases.drill.merge", target_id=str(dup.pk)).count() == 1
    assert set(fresh(survivor).merged_cases.all()) == {dup1, dup2}
    assert fresh(dup1).assignments.get().state == AssignmentState.DONE
    absorbed = fresh(survivor).timeline.get(action="absorb")
    assert sorted(absorbed.data["merged"]) == sorted([dup1.tracking_code, dup2.tracking_code])
    assert fresh(survivor).state == "new" and handle_timer(survivor).state == TimerState.RUNNING


def test_the_reporters_of_merged_cases_are_told_where_to_follow_the_problem(cast, units):
    survivor = drill_create(cast.bob, now=T0)
    by_account = drill_create(units.rita, reporter=units.rita, now=T0)
    by_phone = drill_create(cast.alice, reporter_phone="13800138000", now=T0)
    anonymous = drill_create(cast.alice, reporter_phone="13900139000", anonymous=True, now=T0)
    case_merge(actor=cast.alice, survivor=survivor, duplicates=[by_account, by_phone, anonymous], now=T0)
    inapp = Notification.objects.get(case=by_account, event="merged")
    assert inapp.recipient == units.rita and survivor.tracking_code in inapp.subject
    sms = Notification.objects.get(case=by_phone, event="merged")
    assert sms.channel == "sms" and sms.address == "13800138000" and survivor.tracking_code in sms.subject
    assert not Notification.objects.filter(case=anonymous, event="merged").exists()


def test_a_case_cannot_be_merged_into_itself(cast, units):
    case = drill_create(cast.bob, now=T0)
    with pytest.raises(TransitionNotAllowed) as info:
        case_merge(actor=cast.alice, survivor=case, duplicates=[fresh(case)], now=T0)
    assert "duplicates" in info.value.message_dict
    assert fresh(case).state == "new"


def test_nothing_is_merged_into_a_closed_case_and_a_closed_case_is_not_merged(cast, units):
    closed = drill_create(cast.bob, now=T0)
    case_transition(actor=cast.alice, case=closed, action="reject", reason="重复", now=T0)
    open_case = drill_create(cast.bob, now=T0)
    with pytest.raises(TransitionNotAllowed) as info:
        case_merge(actor=cast.alice, survivor=fresh(closed), duplicates=[open_case], now=T0)
    assert "survivor" in info.value.message_dict
    with pytest.raises(TransitionNotAllowed):
        case_merge(actor=cast.alice, survivor=open_case, duplicates=[fresh(closed)], now=T0)
    assert fresh(open_case).state == "new" and fresh(closed).state == "rejected"


def test_a_merge_with_one_bad_duplicate_merges_none(cast, units):
    survivor = drill_create(cast.bob, now=T0)
    good = drill_create(cast.bob, now=T0)
    case_merge(actor=cast.alice, survivor=drill_create(cast.bob, now=T0), duplicates=[fresh(good)], now=T0)
    other = drill_create(cast.bob, now=T0)
    with pytest.raises(TransitionNotAllowed):
        case_merge(actor=cast.alice, survivor=survivor, duplicates=[fresh(other), fresh(good)], now=T0)
    assert fresh(other).state == "new" and fresh(other).merged_into is None


def test_merging_needs_duplicates_and_a_centre_role(cast, units):
    survivor = drill_create(cast.bob, now=T0)
    dup = drill_create(cast.bob, now=T0)
    with pytest.raises(TransitionNotAllowed):
        case_merge(actor=cast.alice, survivor=survivor, duplicates=[], now=T0)
    with pytest.raises(TransitionRefused):
        case_merge(actor=cast.bob, survivor=survivor, duplicates=[dup], now=T0)


# --- supervise and chase ------------------------------------------------------------------------

def test_chasing_keeps_one_open_item_per_kind_and_tells_the_lead_department(cast, units):
    case = dispatched(cast, units)
    first = case_supervise(actor=cast.alice, case=fresh(case), kind="chase", note="请加快")
    again = case_supervise(actor=cast.alice, case=fresh(case), kind="chase", note="再催")
    supervised = case_supervise(actor=cast.admin_a, case=fresh(case), kind="supervise", note="区里督办")
    assert first.pk == again.pk and supervised.pk != first.pk
    assert Supervision.objects.filter(case=case, closed_at__isnull=True).count() == 2
    assert (first.kind, first.opened_by, first.note) == ("chase", cast.alice, "请加快")
    told = Notification.objects.filter(case=case, event__in=["chase", "supervise"])
    assert told.count() == 3 and {n.audience_department for n in told} == {units.urban}
    assert fresh(case).timeline.filter(action="chase").count() == 2
    assert fresh(case).timeline.filter(action="supervise").count() == 1
    assert fresh(case).version == 1  # supervision does not change the case


def test_chasing_a_case_nobody_leads_tells_the_owning_centre(cast, units):
    case = drill_create(cast.bob, now=T0)
    case_supervise(actor=cast.alice, case=case, kind="chase")
    told = Notification.objects.get(case=case, event="chase")
    assert told.audience_department is None and told.audience_region.code == STREET_A


def test_a_leader_may_supervise_a_case_of_his_region(cast, units):
    from civicgrid.org.services import membership_grant, user_create

    lee = user_create(actor=None, username="lee", password="Correct-Horse-42", display_name="Lee")
    membership_grant(actor=None, user=lee, role="leader", region=cast.city.a)
    case = dispatched(cast, units)
    item = case_supervise(actor=lee, case=fresh(case), kind="supervise", note="区领导督办")
    assert item.opened_by == lee
    request = case_request_approval(actor=units.dana, case=fresh(case), kind="extension", reason="需协调", amount=1,
                                    now=T0)
    case_decide_approval(actor=lee, request=request, approve=True, now=T0)  # and decides on requests
    assert ApprovalRequest.objects.get(pk=request.pk).decided_by == lee
    with pytest.raises(TransitionRefused):  # a leader views and supervises; he does not dispatch
        case_transition(actor=lee, case=drill_create(cast.bob, now=T0), action="dispatch",
                        department=units.urban, now=T0)


def test_only_a_chase_or_a_supervision_is_opened_and_not_by_a_grid_worker(cast, units):
    case = drill_create(cast.bob, now=T0)
    with pytest.raises(TransitionNotAllowed):
        case_supervise(actor=cast.alice, case=case, kind="problem")
    with pytest.raises(TransitionRefused):
        case_supervise(actor=cast.bob, case=case, kind="chase")
    assert not Supervision.objects.exists()


# --- escalate ---------------------------------------------------------------------------------

def test_escalation_moves_ownership_street_then_district_then_city_and_stops_at_the_top(cast, units):
    case = drill_create(cast.bob, now=T0)
    assert case.owner_region.code == STREET_A
    case_escalate(actor=cast.alice, case=fresh(case), note="街道无法协调")
    assert (fresh(case).owner_region.code, fresh(case).escalation_level) == ("440301", 1)
    case_escalate(actor=cast.admin_a, case=fresh(case))
    assert (fresh(case).owner_region.code, fresh(case).escalation_level) == ("440300", 2)
    with pytest.raises(TransitionNotAllowed):
        case_escalate(actor=cast.admin_a, case=fresh(case))
    assert fresh(case).escalation_level == 2
    entries = list(fresh(case).timeline.filter(action="escalate").values_list("data", flat=True))
    assert entries == [{"from": STREET_A, "to": "440301"}, {"from": "440301", "to": "440300"}]
    told = Notification.objects.filter(case=case, event="escalated").order_by("id")
    assert [n.audience_region.code for n in told] == ["440301", "440300"]


def test_a_grid_worker_may_not_escalate(cast, units):
    case = drill_create(cast.bob, now=T0)
    with pytest.raises(TransitionRefused):
        case_escalate(actor=cast.bob, case=case)


# --- reopen -----------------------------------------------------------------------------------

def test_a_closed_case_is_reopened_with_a_reason_and_its_handling_clock_restarts(cast, units, calendar_2024):
    case = done(cast, units)
    case_reopen(actor=cast.bob, case=fresh(case), reason="核查未通过：井盖仍缺失", now=at(2024, 9, 30, 10))
    stored = fresh(case)
    assert (stored.state, stored.closed_at, stored.reopen_count) == ("handling", None, 1)
    timer = handle_timer(case)
    assert (timer.state, timer.started_at) == (TimerState.RUNNING, at(2024, 9, 30, 10))
    assert timer.due_at == at(2024, 10, 12, 10)  # 09-30, 10-08..10-11, 10-12 (Saturday, make-up day)
    assert stored.handling_due_at == timer.due_at
    entry = stored.timeline.get(action="reopen")
    assert (entry.public, entry.note, entry.from_state, entry.to_state) == (True, "核查未通过：井盖仍缺失", "done",
                                                                         "handling")
    assert Notification.objects.get(case=case, event="reopened").audience_department == units.urban


def test_only_a_closed_case_is_reopened_and_only_with_a_reason(cast, units):
    open_case = handling(cast, units)
    with pytest.raises(TransitionNotAllowed) as info:
        case_reopen(actor=cast.alice, case=fresh(open_case), reason="再看看", now=T0)
    assert "action" in info.value.message_dict
    closed = done(cast, units)
    with pytest.raises(TransitionNotAllowed) as info:
        case_reopen(actor=cast.alice, case=fresh(closed), reason="  ", now=T0)
    assert "reason" in info.value.message_dict
    assert fresh(closed).reopen_count == 0


def test_three_reopenings_open_a_problem_case_item(cast, units):
    case = done(cast, units)
    for n in range(1, 4):
        case_reopen(actor=cast.alice, case=fresh(case), reason=f"第{n}次返工", now=T0)
        assert Supervision.objects.filter(case=case, kind="problem").exists() == (n >= 3)
        case_transition(actor=units.dana, case=fresh(case), action="finish", note="再次处理", now=T0)
    assert fresh(case).reopen_count == 3
    assert Supervision.objects.get(case=case, kind="problem").note == "reopened 3 times"


# --- rate -------------------------------------------------------------------------------------

@pytest.mark.parametrize("satisfaction", ["satisfied", "basic"])
def test_the_reporter_rates_a_closed_case(cast, units, satisfaction):
    case = done(cast, units, reporter=units.rita)
    rating = case_rate(actor=units.rita, case=fresh(case), satisfaction=satisfaction, comment="不错", now=T0)
    assert (rating.satisfaction, rating.by, rating.resolved, rating.valid) == (satisfaction, units.rita, True, True)
    assert fresh(case).state == "done"
    entry = fresh(case).timeline.get(action="rate")
    assert entry.public and entry.data["satisfaction"] == satisfaction
    assert AuditEntry.objects.filter(action="cases.drill.rate", target_id=str(case.pk)).count() == 1


def test_an_unsatisfied_rating_reopens_the_case(cast, units, calendar_2024):
    case = done(cast, units)
    case_rate(actor=cast.alice, case=fresh(case), satisfaction="unsatisfied", resolved=False, comment="没修好",
              now=at(2024, 11, 4, 10))
    stored = fresh(case)
    assert (stored.state, stored.reopen_count, stored.closed_at) == ("handling", 1, None)
    reopen = stored.timeline.get(action="reopen")
    assert (reopen.actor_name, reopen.note) == ("system", "没修好")
    assert handle_timer(case).due_at == at(2024, 11, 11, 10)  # five working days from the fixed date
    assert Rating.objects.get(case=case).satisfaction == "unsatisfied"


def test_the_reporter_s_unsatisfied_rating_reopens_nothing(cast, units, calendar_2024):
    case = done(cast, units, reporter=units.rita)
    rating = case_rate(actor=units.rita, case=fresh(case), satisfaction="unsatisfied", resolved=False,
                       now=at(2024, 11, 4, 10))
    assert rating.source == "resident"
    stored = fresh(case)
    assert (stored.state, stored.reopen_count) == ("done", 0)  # the verifying call decides
    assert not stored.timeline.filter(action="reopen").exists()


def test_a_case_is_rated_only_once_closed_and_only_on_the_three_point_scale(cast, units):
    case = handling(cast, units)
    with pytest.raises(TransitionNotAllowed):
        case_rate(actor=cast.alice, case=fresh(case), satisfaction="satisfied", now=T0)
    closed = done(cast, units)
    with pytest.raises(TransitionNotAllowed):
        case_rate(actor=cast.alice, case=fresh(closed), satisfaction="delighted", now=T0)
    with pytest.raises(TransitionRefused):
        case_rate(actor=cast.bob, case=fresh(closed), satisfaction="satisfied", now=T0)
    assert not Rating.objects.exists()


def test_a_merged_case_is_not_rated(cast, units):
    survivor = drill_create(cast.bob, now=T0)
    dup = drill_create(cast.bob, now=T0)
    case_merge(actor=cast.alice, survivor=survivor, duplicates=[dup], now=T0)
    with pytest.raises(TransitionNotAllowed):
        case_rate(actor=cast.alice, case=fresh(dup), satisfaction="satisfied", now=T0)


def test_a_case_counts_its_closings_and_takes_one_rating_of_each_source_per_closing(cast, units, calendar_2024):
    case = done(cast, units, reporter=units.rita)
    assert fresh(case).closing == 1
    case_rate(actor=units.rita, case=fresh(case), satisfaction="basic", now=T0)
    case_rate(actor=cast.alice, case=fresh(case), satisfaction="basic", now=T0)
    for actor in (units.rita, cast.alice):
        with pytest.raises(CaseConflict):
            case_rate(actor=actor, case=fresh(case), satisfaction="satisfied", now=T0)
    case_rate(actor=cast.alice, case=fresh(case), satisfaction="unsatisfied", valid=False, contacted=False, now=T0)
    assert fresh(case).state == "done"  # a call attempt reopens nothing
    case_reopen(actor=cast.alice, case=fresh(case), reason="又坏了", now=at(2024, 9, 30, 10))
    case_transition(actor=units.dana, case=fresh(case), action="finish", note="再次处理", now=at(2024, 9, 30, 11))
    assert fresh(case).closing == 2
    case_rate(actor=units.rita, case=fresh(case), satisfaction="satisfied", now=at(2024, 9, 30, 12))
    assert sorted(Rating.objects.values_list("closing", "source")) == [
        (1, "attempt"), (1, "follow_up"), (1, "resident"), (2, "resident")]


def test_the_database_itself_refuses_a_second_rating_of_a_source_per_closing(cast, units):
    from django.db import IntegrityError, transaction

    case = done(cast, units)
    Rating.objects.create(case=case, closing=1, source="resident", satisfaction="basic")
    Rating.objects.create(case=case, closing=1, source="attempt", satisfaction="basic", valid=False)
    Rating.objects.create(case=case, closing=1, source="attempt", satisfaction="basic", valid=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(case=case, closing=1, source="resident", satisfaction="satisfied")


# --- extension --------------------------------------------------------------------------------

def test_an_approved_extension_moves_the_handling_due_time_later_by_the_amount(cast, units, calendar_2024):
    case = handling(cast, units)
    assert handle_timer(case).due_at == at(2024, 9, 29, 10)
    request = case_request_approval(actor=units.dana, case=fresh(case), kind="extension", reason="需协调供电部门",
                                    amount=2, now=at(2024, 9, 25, 10))
    assert request.state == "pending" and request.requested_by == units.dana
    case_decide_approval(actor=cast.alice, request=request, approve=True, note="同意", now=at(2024, 9, 26, 10))
    stored = fresh(case)
    timer = handle_timer(case)
    assert timer.due_at == at(2024, 10, 8, 10)  # 09-30, then 10-08 after the National Day holiday
    assert (timer.extended_by, stored.extended, stored.handling_due_at) == (2, True, at(2024, 10, 8, 10))
    assert ApprovalRequest.objects.get(pk=request.pk).state == "approved"
    actions = list(stored.timeline.values_list("action", flat=True))
    assert actions[-2:] == ["extension_request", "extension_approved"]
    told = Notification.objects.get(case=case, event="extension_decided")
    assert told.recipient == units.dana


def test_a_rejected_extension_leaves_the_due_time(cast, units, calendar_2024):
    case = handling(cast, units)
    request = case_request_approval(actor=units.dana, case=fresh(case), kind="extension", reason="人手不足",
                                    amount=3, now=T0)
    case_decide_approval(actor=cast.alice, request=request, approve=False, note="不同意", now=T0)
    assert handle_timer(case).due_at == at(2024, 9, 29, 10) and handle_timer(case).extended_by == 0
    assert not fresh(case).extended and fresh(case).handling_due_at == at(2024, 9, 29, 10)
    assert ApprovalRequest.objects.get(pk=request.pk).state == "rejected"
    assert fresh(case).timeline.filter(action="extension_rejected").exists()


def test_a_decision_on_a_case_that_moved_on_since_the_request_still_applies(cast, units, calendar_2024):
    case = dispatched(cast, units)
    request = case_request_approval(actor=units.dana, case=fresh(case), kind="extension", reason="需协调",
                                    amount=1, now=T0)
    case_transition(actor=units.dana, case=fresh(case), action="accept", now=T0)  # the request's copy is stale
    case_decide_approval(actor=cast.alice, request=request, approve=True, now=T0)
    assert handle_timer(case).due_at == at(2024, 9, 30, 10) and fresh(case).extended


def test_an_extension_is_asked_in_the_handling_clocks_unit(cast, units, calendar_2024):
    case = handling(cast, units)
    with pytest.raises(TransitionNotAllowed) as info:
        case_request_approval(actor=units.dana, case=fresh(case), kind="extension", reason="x", amount=4,
                              unit="working_hours", now=T0)
    assert "unit" in info.value.message_dict
    request = case_request_approval(actor=units.dana, case=fresh(case), kind="extension", reason="x", amount=1, now=T0)
    assert request.unit == "working_days"
    assert fresh(case).timeline.get(action="extension_request").data == {"amount": 1, "unit": "working_days"}


def test_a_second_pending_request_of_the_same_kind_is_refused(cast, units):
    case = handling(cast, units)
    case_request_approval(actor=units.dana, case=fresh(case), kind="extension", reason="一", amount=1, now=T0)
    with pytest.raises(TransitionNotAllowed) as info:
        case_request_approval(actor=units.dana, case=fresh(case), kind="extension", reason="二", amount=2, now=T0)
    assert "kind" in info.value.message_dict
    # another kind is fine
    case_request_approval(actor=units.dana, case=fresh(case), kind="deferral", reason="另一种", now=T0)
    assert ApprovalRequest.objects.filter(case=case, state="pending").count() == 2


def test_deciding_a_request_twice_is_a_conflict(cast, units):
    case = handling(cast, units)
    request = case_request_approval(actor=units.dana, case=fresh(case), kind="extension", reason="一", amount=1, now=T0)
    stale = ApprovalRequest.objects.get(pk=request.pk)
    case_decide_approval(actor=cast.alice, request=request, approve=True, now=T0)
    with pytest.raises(CaseConflict):
        case_decide_approval(actor=cast.admin_a, request=stale, approve=False, now=T0)
    assert ApprovalRequest.objects.get(pk=request.pk).state == "approved"


def test_a_request_needs_a_reason_an_amount_and_an_open_case(cast, units):
    case = handling(cast, units)
    with pytest.raises(TransitionNotAllowed):
        case_request_approval(actor=units.dana, case=fresh(case), kind="extension", reason="  ", amount=1, now=T0)
    with pytest.raises(TransitionNotAllowed):
        case_request_approval(actor=units.dana, case=fresh(case), kind="extension", reason="x", amount=0, now=T0)
    with pytest.raises(TransitionNotAllowed):
        case_request_approval(actor=units.dana, case=fresh(case), kind="holiday", reason="x", now=T0)
    closed = done(cast, units)
    with pytest.raises(TransitionNotAllowed):
        case_request_approval(actor=units.dana, case=fresh(closed), kind="extension", reason="x", amount=1, now=T0)


def test_the_handling_department_may_not_approve_its_own_request(cast, units):
    case = handling(cast, units)
    request = case_request_approval(actor=units.dana, case=fresh(case), kind="extension", reason="一", amount=1, now=T0)
    with pytest.raises(TransitionRefused):
        case_decide_approval(actor=units.dana, request=request, approve=True, now=T0)


# --- deferral ---------------------------------------------------------------------------------

def test_a_deferral_pauses_the_clocks_and_resuming_moves_the_due_time_by_the_paused_working_time(
        cast, units, calendar_2024):
    case = dispatched(cast, units)  # sign clock (1 working hour) and handling clock both running
    request = case_request_approval(actor=units.dana, case=fresh(case), kind="deferral", reason="等待法院裁定",
                                    now=at(2024, 9, 23, 11))
    paused, resumed = at(2024, 9, 24, 10), at(2024, 10, 8, 10)
    case_decide_approval(actor=cast.alice, request=request, approve=True, now=paused)
    stored = fresh(case)
    assert stored.deferred
    timers = list(Timer.objects.filter(case=case))
    assert {t.state for t in timers} == {TimerState.PAUSED}
    assert {t.paused_at for t in timers} == {paused}
    assert handle_timer(case).remaining == 4 * 86400  # 09-24 10:00 → 09-29 10:00: four working days

    case_resume(actor=cast.alice, case=fresh(case), note="裁定已出", now=resumed)
    stored = fresh(case)
    timer = handle_timer(case)
    assert not stored.deferred and timer.state == TimerState.RUNNING
    assert (timer.paused_at, timer.remaining) == (None, None)
    # The pause covered 09-24..09-27, 09-29 (make-up day) and 09-30: six working days.
    paused_days = clock.working_seconds_between(paused, resumed, unit="working_days", calendar=working_calendar(),
                                                hours=working_hours()) / 86400
    assert paused_days == 6
    assert timer.due_at == at(2024, 10, 12, 10)  # 09-29 10:00 moved by six working days (10-12 is a make-up day)
    assert stored.handling_due_at == timer.due_at
    # The sign-off clock was already overdue when paused: it stays overdue by the same working time.
    sign = Timer.objects.get(case=case, kind="sign")
    assert sign.due_at == at(2024, 9, 30, 11)
    hours = {"unit": "working_hours", "calendar": working_calendar(), "hours": working_hours()}
    assert clock.working_seconds_between(at(2024, 9, 23, 11), sign.due_at, **hours) == (
        clock.working_seconds_between(paused, resumed, **hours))
    assert [e for e in stored.timeline.values_list("action", flat=True) if e.startswith(("deferral", "resume"))] == [
        "deferral_request", "deferral_approved", "resume"]


def test_a_pause_over_a_holiday_does_not_move_a_working_days_due_time(cast, units, calendar_2024):
    case = handling(cast, units, now=at(2024, 9, 30, 10))  # due 10-12 10:00 (10-01..07 are holidays)
    assert handle_timer(case).due_at == at(2024, 10, 12, 10)
    request = case_request_approval(actor=units.dana, case=fresh(case), kind="deferral", reason="节日", now=T0)
    case_decide_approval(actor=cast.alice, request=request, approve=True, now=at(2024, 10, 1, 9))
    case_resume(actor=cast.alice, case=fresh(case), now=at(2024, 10, 8, 0))
    assert handle_timer(case).due_at == at(2024, 10, 12, 10)


def test_a_clock_started_while_the_case_is_deferred_starts_paused(cast, units, calendar_2024):
    case = dispatched(cast, units)
    case_transition(actor=units.dana, case=fresh(case), action="dispute", reason="不归我们", now=T0)
    request = case_request_approval(actor=cast.alice, case=fresh(case), kind="deferral", reason="等待区里协调", now=T0)
    case_decide_approval(actor=cast.admin_a, request=request, approve=True, now=T0)
    case_transition(actor=cast.alice, case=fresh(case), action="dispatch", department=units.water,
                    now=at(2024, 9, 24, 10))
    sign = Timer.objects.get(case=case, kind="sign", assignment__department=units.water)
    assert (sign.state, sign.paused_at, sign.remaining) == (TimerState.PAUSED, at(2024, 9, 24, 10), 3600)


def test_resuming_a_case_that_is_not_deferred_is_refused(cast, units):
    case = handling(cast, units)
    with pytest.raises(TransitionNotAllowed):
        case_resume(actor=cast.alice, case=fresh(case), now=T0)


def test_a_rejected_deferral_keeps_the_clocks_running(cast, units):
    case = handling(cast, units)
    request = case_request_approval(actor=units.dana, case=fresh(case), kind="deferral", reason="等待", now=T0)
    case_decide_approval(actor=cast.alice, request=request, approve=False, now=T0)
    assert not fresh(case).deferred
    assert handle_timer(case).state == TimerState.RUNNING


def test_the_migration_numbers_existing_closings_and_ratings_so_the_constraint_holds(cast, units):
    import importlib

    from django.db import connection

    from civicgrid.cases.models import Case

    forward = importlib.import_module("civicgrid.cases.migrations.0009_ratings_once_per_closing").FORWARD
    case = done(cast, units, reporter=units.rita)
    Case.objects.filter(pk=case.pk).update(closing=0, reopen_count=1)  # as before: closed twice, uncounted
    rows = [(None, True, T0), (units.rita, True, at(2024, 9, 24)), (cast.alice, True, T0),
            (cast.alice, True, at(2024, 9, 25)), (cast.alice, False, T0), (cast.alice, False, T0)]
    # (in the migration the constraint comes after the numbering; here it is in place, so the rows
    # start on closings of their own)
    made = [Rating.objects.create(case=case, by=by, valid=valid, at=when, satisfaction="basic", closing=10 + i,
                                  source="attempt") for i, (by, valid, when) in enumerate(rows)]
    with connection.cursor() as cursor:
        for sql in forward:
            cursor.execute(sql)
    assert fresh(case).closing == 2
    got = {r.pk: (r.source, r.closing) for r in Rating.objects.all()}
    assert [got[r.pk] for r in made] == [("resident", 1), ("resident", 2), ("follow_up", 1), ("follow_up", 2),
                                         ("attempt", 1), ("attempt", 2)]
