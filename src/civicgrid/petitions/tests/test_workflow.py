"""The statutory path of a claim (申诉求决) and the other kinds' paths, on the working calendar with
National Day 2025 (dates hand-counted in conftest)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicgrid.cases.errors import TransitionNotAllowed, TransitionRefused
from civicgrid.cases.models import Timer, TimerState
from civicgrid.cases.sweep import cases_sweep
from civicgrid.petitions.tests.conftest import MON, act, at, fresh, receive

pytestmark = pytest.mark.django_db

ROUTE_DUE = at(2025, 10, 10)  # 24:00 of Thu 2025-10-09


def _timer(case, kind):
    return Timer.objects.filter(case=case, kind=kind).order_by("-id").first()


def test_intake_registers_at_the_office_with_the_route_clock_over_national_day(po):
    case = receive(po)
    assert case.state == "registered" and case.case_type == "petition"
    t = _timer(case, "route")
    assert t.due_at == ROUTE_DUE and t.state == TimerState.RUNNING
    assert case.petition.office == po.office and case.petition.notice_owed
    assert case.parties.filter(kind="petitioner").count() == 1


def test_route_clock_overdue_is_supervised_without_moving_the_petition(po):
    case = receive(po)
    cases_sweep(now=ROUTE_DUE - timedelta(minutes=1))
    assert not fresh(case).supervisions.exists()
    cases_sweep(now=ROUTE_DUE + timedelta(minutes=1))
    c = fresh(case)
    assert c.supervisions.count() == 1
    assert c.owner_region_id == case.owner_region_id and c.state == "registered"


def test_routing_starts_the_notice_clock_and_acceptance_the_60_day_handling_clock(po):
    u = po.units
    case = receive(po)
    act(po.olga, case, "route", at(2025, 9, 29, 10), unit=u.urban.code)
    notice = _timer(case, "notice")
    assert notice.due_at == at(2025, 10, 15)  # 15 from Mon 09-29 → Tue 10-14, due 24:00
    act(u.dana, case, "accept", at(2025, 10, 14, 10))
    c = fresh(case)
    assert c.state == "accepted"
    assert _timer(case, "notice").state == TimerState.STOPPED
    assert _timer(case, "handle").due_at == at(2025, 12, 16)  # Sat 12-13 → Mon 12-15
    assert c.handling_due_at == at(2025, 12, 16)


def test_no_notice_is_owed_without_name_or_address(po):
    case = receive(po, petitioner={"name": "", "phone": "13900139000"})
    assert not case.petition.notice_owed
    act(po.olga, case, "route", at(2025, 9, 29, 10), unit=po.units.urban.code)
    assert _timer(case, "notice") is None


def test_the_office_routes_the_unit_accepts_others_are_refused(po):
    u = po.units
    case = receive(po)
    with pytest.raises(TransitionRefused):  # a dispatcher of the street: not a role of the step
        act(po.cast.alice, case, "route", MON, unit=u.urban.code)
    act(po.olga, case, "route", MON, unit=u.urban.code)
    with pytest.raises(TransitionNotAllowed) as e:  # the office does not accept for the unit
        act(po.olga, case, "accept", MON)
    assert "action" in e.value.message_dict


def test_objection_within_5_working_days_returns_to_the_office_which_re_routes(po):
    u = po.units
    case = receive(po)
    act(po.olga, case, "route", MON, unit=u.urban.code)
    # 5 working days from Mon 09-22 10:00: 23, 24, 25, 26, Sun 28 (worked) → 09-28 10:00
    act(u.dana, case, "object", at(2025, 9, 28, 9), reason="不属于本单位职责")
    assert fresh(case).state == "registered"
    act(po.olga, case, "route", at(2025, 9, 29, 9), unit=u.water.code)
    c = fresh(case)
    assert c.state == "routed" and c.lead_department == u.water
    act(u.evan, case, "accept", at(2025, 9, 29, 10))


def test_objection_after_5_working_days_is_refused(po):
    u = po.units
    case = receive(po)
    act(po.olga, case, "route", MON, unit=u.urban.code)
    with pytest.raises(TransitionNotAllowed) as e:
        act(u.dana, case, "object", at(2025, 9, 28, 11), reason="不属于本单位职责")
    assert "reason" in e.value.message_dict and fresh(case).state == "routed"


ACCEPTED_AT = at(2025, 10, 14, 10)


def _accepted(po, now=ACCEPTED_AT):
    u = po.units
    case = receive(po)
    act(po.olga, case, "route", MON, unit=u.urban.code)
    act(u.dana, case, "accept", now)
    return case


def test_extension_is_capped_at_30_days_and_needs_a_leader(po):
    u = po.units
    case = _accepted(po)
    with pytest.raises(TransitionNotAllowed) as e:
        act(u.dana, case, "request_extension", at(2025, 12, 1, 10), kind="extension", reason="需调查",
            amount="31", unit="statutory_days")
    assert "amount" in e.value.message_dict
    act(u.dana, case, "request_extension", at(2025, 12, 1, 10), kind="extension", reason="需调查",
        amount="30", unit="statutory_days")
    req = fresh(case).approval_requests.get()
    with pytest.raises(TransitionRefused):  # the unit does not approve its own extension
        act(u.dana, case, "decide_extension", at(2025, 12, 1, 11), request=str(req.pk), decision="approve")
    act(po.leo, case, "decide_extension", at(2025, 12, 1, 11), request=str(req.pk), decision="approve")
    # 30 more statutory days from the period's (moved) last day, Mon 12-15: Wed 2026-01-14, due 24:00
    assert _timer(case, "handle").due_at == at(2026, 1, 15)
    with pytest.raises(TransitionNotAllowed) as e:
        act(u.dana, case, "request_extension", at(2025, 12, 2, 10), kind="extension", reason="再延",
            amount="1", unit="statutory_days")
    assert "amount" in e.value.message_dict


def _replied(po):
    u = po.units
    case = _accepted(po)
    act(u.dana, case, "reply", at(2025, 10, 30, 10), note="处理意见：补发工资")
    return case


def _deliver(po, case, when, actor=None):
    actor = actor or po.units.dana
    from civicgrid.cases.documents import document_upload
    from civicgrid.petitions.services import notice_delivered

    class Up:
        name = "reply.pdf"
        content = b"%PDF-1.4 reply"

    doc = document_upload(actor=actor, case=fresh(case), files=[Up()], kind="decision", title="处理意见书",
                          now=when - timedelta(hours=1))
    doc = doc[0].document
    return notice_delivered(actor=actor, case=fresh(case), document=doc, party_name="王五",
                            method="in_person", delivered_at=when, now=when)


def test_a_claim_is_closed_by_its_reply_suggestions_by_an_answer(po):
    u = po.units
    case = _accepted(po)
    with pytest.raises(TransitionNotAllowed):
        act(u.dana, case, "answer", at(2025, 10, 30, 10), note="已答复")
    act(u.dana, case, "reply", at(2025, 10, 30, 10), note="处理意见")
    assert fresh(case).state == "replied" and _timer(case, "handle").state == TimerState.STOPPED
    s = receive(po, kind="suggestion", matter="建议增设公交站")
    act(po.olga, s, "route", MON, unit=u.urban.code)
    act(u.dana, s, "accept", MON)
    with pytest.raises(TransitionNotAllowed):
        act(u.dana, s, "reply", MON, note="x")
    act(u.dana, s, "answer", MON, note="已研究采纳")
    assert fresh(s).state == "answered" and fresh(s).closed_at is not None


def test_the_review_window_runs_from_the_reply_s_delivery_and_lapses_to_final(po):
    case = _replied(po)
    assert _timer(case, "review_window") is None  # not delivered: no window yet
    _deliver(po, case, at(2025, 11, 3, 10))
    w = _timer(case, "review_window")
    assert w.started_at == at(2025, 11, 3, 10) and w.due_at == at(2025, 12, 4)
    cases_sweep(now=at(2025, 12, 3, 23, 59))
    assert fresh(case).state == "replied"
    cases_sweep(now=at(2025, 12, 4, 0, 1))
    c = fresh(case)
    assert c.state == "final" and c.closed_at is not None


def test_a_review_request_inside_the_window_goes_to_the_superior(po):
    u = po.units
    case = _replied(po)
    _deliver(po, case, at(2025, 11, 3, 10))
    act(po.olga, case, "request_review", at(2025, 12, 3, 23), reason="不服处理意见", unit=u.water.code)
    c = fresh(case)
    assert c.state == "review" and c.petition.stage == "review" and c.lead_department == u.water
    # 30 from Wed 12-03: Fri 2026-01-02 (New Year, off) → Sun 01-04 (a make-up working day)
    assert _timer(case, "review").due_at == at(2026, 1, 5)


def test_a_review_request_after_the_window_is_refused_with_the_reason(po):
    u = po.units
    case = _replied(po)
    _deliver(po, case, at(2025, 11, 3, 10))
    with pytest.raises(TransitionNotAllowed) as e:
        act(po.olga, case, "request_review", at(2025, 12, 4, 9), reason="不服", unit=u.water.code)
    assert "2025-12-03" in e.value.message_dict["reason"][0]


def test_re_review_hearing_pauses_its_clock_and_the_decision_is_final(po):
    u = po.units
    case = _replied(po)
    _deliver(po, case, at(2025, 11, 3, 10))
    act(po.olga, case, "request_review", at(2025, 11, 10, 10), reason="不服", unit=u.water.code)
    act(u.evan, case, "decide_review", at(2025, 11, 20, 10), note="维持")
    _deliver(po, case, at(2025, 11, 24, 10), actor=u.evan)
    assert _timer(case, "rereview_window").due_at == at(2025, 12, 25)  # 30 from Mon 11-24: Wed 12-24
    act(po.olga, case, "request_rereview", at(2025, 12, 1, 10), reason="不服复查", unit=u.urban.code)
    before = _timer(case, "rereview").due_at
    assert before == at(2026, 1, 1)  # 30 from Mon 12-01: Wed 12-31, due 24:00
    act(u.dana, case, "hearing_start", at(2025, 12, 10, 10))
    assert _timer(case, "rereview").state == TimerState.PAUSED
    act(u.dana, case, "hearing_end", at(2025, 12, 17, 10))
    after = _timer(case, "rereview")
    assert after.state == TimerState.RUNNING and after.due_at > before
    act(u.dana, case, "decide_rereview", at(2025, 12, 20, 10), note="维持，终结")
    c = fresh(case)
    assert c.state == "final" and c.petition.stage == "rereview"


def test_lead_to_litigation_closes_with_the_channel(po):
    case = receive(po)
    with pytest.raises(TransitionNotAllowed) as e:
        act(po.olga, case, "lead_to_channel", MON, reason="属诉讼事项", channel="court")
    assert "channel" in e.value.message_dict
    act(po.olga, case, "lead_to_channel", MON, reason="属诉讼事项", channel="litigation")
    c = fresh(case)
    assert c.state == "redirected" and c.petition.channel == "litigation" and c.closed_at


def test_group_visits_send_at_most_five_representatives_and_anonymity_is_for_accusations(po):
    from civicgrid.petitions.services import Person

    reps = tuple(Person(name=f"代表{i}", phone=f"1380013800{i}") for i in range(6))
    with pytest.raises(TransitionNotAllowed) as e:
        receive(po, form="visit", group_size=30, representatives=reps)
    assert "representatives" in e.value.message_dict
    case = receive(po, form="visit", group_size=30, representatives=reps[:5])
    assert case.parties.filter(kind="representative").count() == 5 and case.petition.group_size == 30
    with pytest.raises(TransitionNotAllowed) as e:
        receive(po, anonymous=True)
    assert "anonymous" in e.value.message_dict


def test_an_overdue_review_decision_is_supervised_and_the_petition_stays(po):
    u = po.units
    case = _replied(po)
    _deliver(po, case, at(2025, 11, 3, 10))
    act(po.olga, case, "request_review", at(2025, 12, 3, 23), reason="不服处理意见", unit=u.water.code)
    cases_sweep(now=at(2026, 1, 4, 23, 59))  # the last day moved to Sun 01-04 (worked): not yet overdue
    assert not fresh(case).supervisions.exists()
    cases_sweep(now=at(2026, 1, 5, 0, 1))
    c = fresh(case)
    assert c.supervisions.count() == 1 and c.state == "review" and c.lead_department == u.water
