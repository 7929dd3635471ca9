"""The whole loop of an event through the services: report → register → dispatch (lead + co) →
accept → report back with photos → on-site check → close → reply → rating (and reopen on
"unsatisfied"); an enquiry answered at once; rejection with a reason."""

from __future__ import annotations

import pytest

from civicgrid.audit.models import AuditEntry
from civicgrid.cases.models import AssignmentState, Rating, TimerState
from civicgrid.events import services as ev
from civicgrid.events.photos import PhotoUpload
from civicgrid.events.tests.conftest import T0, at, fresh, jpeg, report

pytestmark = pytest.mark.django_db


def test_an_event_goes_round_the_whole_loop_and_every_step_is_in_the_timeline_and_audit(world, units):
    cast = world
    result = report(units.rita)
    case = result.case
    assert result.created and case.state == "reported" and case.channel == "resident"
    assert case.grid.code == "440301001001001" and case.street.code == "440301001"
    assert case.event.routing == "routed" and case.event.suggested_department == units.water
    assert {t.kind for t in case.timers.all()} == {"handle", "register"}
    # 上水井盖: the category's default rule is 4 working hours → due Monday 15:00 (lunch excluded)
    assert case.handling_due_at == at(2024, 9, 23, 15)

    ev.event_register(actor=cast.alice, case=fresh(case), now=at(2024, 9, 23, 10, 30))
    ev.event_dispatch(actor=cast.alice, case=fresh(case), co_departments=[units.urban], note="请水务牵头",
                      now=at(2024, 9, 23, 11))
    stored = fresh(case)
    assert stored.state == "dispatched" and stored.lead_department == units.water
    assert sorted(stored.assignments.values_list("role", "department__code")) == [
        ("co", "440301-cg"), ("lead", "440301-sw")]
    assert stored.timers.filter(kind="sign", state=TimerState.RUNNING).count() == 2

    ev.event_accept(actor=units.evan, case=fresh(case), now=at(2024, 9, 23, 11, 20))
    ev.event_accept(actor=units.dana, case=fresh(case), now=at(2024, 9, 23, 11, 30))
    assert fresh(case).state == "handling"
    assert not fresh(case).timers.filter(kind="sign", state=TimerState.RUNNING).exists()

    ev.event_report_back(actor=units.evan, case=fresh(case), note="已补装井盖",
                         photos=[PhotoUpload("after.jpg", jpeg())], now=at(2024, 9, 23, 14))
    stored = fresh(case)
    assert stored.state == "verifying"
    back = stored.timeline.get(action="report_back")
    assert back.attachments[0]["type"] == "image/jpeg" and back.attachments[0]["path"].startswith("events/")

    ev.event_verify(actor=cast.bob, case=fresh(case), passed=True, note="现场核查已整改", now=at(2024, 9, 23, 14, 30))
    stored = fresh(case)
    assert stored.state == "closed" and stored.closed_at == at(2024, 9, 23, 14, 30)
    assert set(stored.assignments.values_list("state", flat=True)) == {AssignmentState.DONE}
    assert list(stored.timers.filter(state=TimerState.RUNNING).values_list("kind", flat=True)) == ["reply"]

    ev.event_reply(actor=cast.alice, case=fresh(case), reply="您反映的井盖已补装，感谢监督。", now=at(2024, 9, 23, 15))
    assert fresh(case).state == "replied"
    rating = ev.event_rate(actor=units.rita, case=fresh(case), satisfaction="satisfied", now=at(2024, 9, 24, 10))
    assert rating.resolved and rating.by == units.rita
    assert not fresh(case).timers.filter(state=TimerState.RUNNING).exists()

    actions = list(fresh(case).timeline.order_by("at", "id").values_list("action", flat=True))
    assert actions == ["create", "register", "dispatch", "accept", "accept", "report_back", "verify", "reply",
                       "rate"]
    audited = set(AuditEntry.objects.filter(target_id=str(case.pk), target_type="cases.case")
                  .values_list("action", flat=True))
    assert {"cases.event.create", "cases.event.register", "cases.event.dispatch", "cases.event.verify",
            "cases.event.reply", "cases.event.rate"} <= audited


def test_an_unsatisfied_self_rating_reopens_nothing_the_centre_s_follow_up_does(world, units):
    cast = world
    case = closed_and_replied(cast, units)
    ev.event_rate(actor=units.rita, case=fresh(case), satisfaction="unsatisfied", comment="井盖又松了",
                  now=at(2024, 9, 24, 10))
    assert fresh(case).state == "replied" and fresh(case).reopen_count == 0  # the reporter's word alone
    # the centre's verifying call (回访核实) reaches the reporter: still unsatisfied → rework
    ev.event_rate(actor=cast.alice, case=fresh(case), satisfaction="unsatisfied", resolved=False,
                  comment="回访核实：井盖仍松动", now=at(2024, 9, 24, 11))
    stored = fresh(case)
    assert stored.state == "handling" and stored.reopen_count == 1 and stored.closed_at is None
    assert stored.timers.filter(kind="handle", state=TimerState.RUNNING).exists()
    # handled again, reported back, verified, replied: the reporter may rate once more
    ev.event_report_back(actor=units.evan, case=fresh(case), note="已重新固定", photos=[PhotoUpload("a.jpg", jpeg())],
                         now=at(2024, 9, 24, 14))
    ev.event_verify(actor=cast.bob, case=fresh(case), passed=True, note="已整改", now=at(2024, 9, 24, 15))
    ev.event_reply(actor=cast.alice, case=fresh(case), reply="已重新处理", now=at(2024, 9, 24, 16))
    ev.event_rate(actor=units.rita, case=fresh(case), satisfaction="basic", now=at(2024, 9, 25, 10))
    assert sorted(Rating.objects.filter(case=case).values_list("closing", "source")) == [
        (1, "follow_up"), (1, "resident"), (2, "resident")]


def test_a_failed_on_site_check_sends_the_event_back_to_handling(world, units):
    cast = world
    case = handled(cast, units)
    ev.event_verify(actor=cast.bob, case=fresh(case), passed=False, note="井盖未固定", now=at(2024, 9, 23, 15))
    stored = fresh(case)
    assert stored.state == "handling" and stored.closed_at is None
    assert stored.timeline.filter(action="verify_fail", note="井盖未固定").exists()


def test_an_event_is_rated_once_per_closing(world, units):
    cast = world
    case = closed_and_replied(cast, units)
    ev.event_rate(actor=units.rita, case=fresh(case), satisfaction="satisfied", now=at(2024, 9, 24, 10))
    with pytest.raises(ev.CaseConflict):
        ev.event_rate(actor=units.rita, case=fresh(case), satisfaction="unsatisfied", now=at(2024, 9, 24, 11))


def test_an_enquiry_is_answered_at_once_and_closed(world, units):
    cast = world
    case = report(cast.alice, channel="hotline", request_type="咨询", category="", text="请问垃圾分类投放时间？").case
    ev.event_answer(actor=cast.alice, case=fresh(case), answer="每天7:00-9:00和18:00-20:00。", now=T0)
    stored = fresh(case)
    assert stored.state == "answered" and stored.closed_at == T0 and stored.reporter is None
    assert not stored.timers.filter(state=TimerState.RUNNING).exists()


def test_a_complaint_cannot_be_answered_directly(world, units):
    cast = world
    case = report(cast.alice, channel="hotline", request_type="投诉").case
    with pytest.raises(ev.TransitionNotAllowed) as info:
        ev.event_answer(actor=cast.alice, case=fresh(case), answer="好的", now=T0)
    assert "enquiry" in str(info.value)
    assert fresh(case).state == "reported"


def test_the_centre_rejects_a_report_with_a_reason(world, units):
    cast = world
    case = report(units.rita).case
    with pytest.raises(ev.TransitionNotAllowed):
        ev.event_reject(actor=cast.alice, case=fresh(case), reason="  ", now=T0)
    ev.event_reject(actor=cast.alice, case=fresh(case), reason="不属于受理范围", now=T0)
    assert fresh(case).state == "rejected" and fresh(case).closed_at == T0


def test_a_disputed_dispatch_is_reviewed_and_dispatched_again(world, units):
    cast = world
    case = report(units.rita).case
    ev.event_register(actor=cast.alice, case=fresh(case), now=T0)
    ev.event_dispatch(actor=cast.alice, case=fresh(case), department=units.urban, now=T0)
    ev.event_dispute(actor=units.dana, case=fresh(case), reason="井盖属水务管理", now=at(2024, 9, 23, 11))
    assert fresh(case).state == "review"
    ev.event_dispatch(actor=cast.alice, case=fresh(case), department=units.water, now=at(2024, 9, 23, 13))
    stored = fresh(case)
    assert stored.state == "dispatched" and stored.lead_department == units.water
    assert list(stored.assignments.order_by("id").values_list("state", flat=True)) == ["transferred", "pending"]


def test_a_dispatch_can_no_longer_be_disputed_after_two_working_days(world, units):
    cast = world
    case = report(units.rita).case
    ev.event_register(actor=cast.alice, case=fresh(case), now=T0)
    ev.event_dispatch(actor=cast.alice, case=fresh(case), department=units.urban, now=T0)
    with pytest.raises(ev.TransitionNotAllowed) as info:
        # Monday 10:00 + 2 working days = Wednesday 10:00; Thursday is too late
        ev.event_dispute(actor=units.dana, case=fresh(case), reason="不归我们管", now=at(2024, 9, 26, 10))
    assert "2 working days" in str(info.value)
    assert fresh(case).state == "dispatched"


# --- helpers ---------------------------------------------------------------------------------

def handled(cast, units):
    case = report(units.rita).case
    ev.event_register(actor=cast.alice, case=fresh(case), now=T0)
    ev.event_dispatch(actor=cast.alice, case=fresh(case), now=T0)
    ev.event_accept(actor=units.evan, case=fresh(case), now=at(2024, 9, 23, 11))
    ev.event_report_back(actor=units.evan, case=fresh(case), note="已补装", photos=[PhotoUpload("a.jpg", jpeg())],
                         now=at(2024, 9, 23, 14))
    return case


def closed_and_replied(cast, units):
    case = handled(cast, units)
    ev.event_verify(actor=cast.bob, case=fresh(case), passed=True, note="已整改", now=at(2024, 9, 23, 14, 30))
    ev.event_reply(actor=cast.alice, case=fresh(case), reply="已处理", now=at(2024, 9, 23, 15))
    return case
