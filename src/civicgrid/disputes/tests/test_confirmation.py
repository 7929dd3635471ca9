"""Judicial confirmation (司法确认) of a written agreement on the working calendar of 2024 (National Day
10-01..10-07 off, 09-29 and 10-12 worked): the parties' 30 statutory days to apply, then the court's
3-day acceptance and 15-day decision windows — all remind-only (one message, never an escalation or a
supervision) — and the outcome recorded.

Hand-counted (statutory days: the start day is not counted; a last day that is a rest day moves to the
next working day):

- 30 days from Thu 2024-09-05: last day Sat 10-05 (holiday) → Tue 10-08; due 2024-10-09 00:00.
- 3 days from Sat 2024-09-28: last day Tue 10-01 (holiday) → Tue 10-08; due 2024-10-09 00:00.
- 15 days from Sat 2024-09-28: last day Sun 10-13 (rest) → Mon 10-14; due 2024-10-15 00:00.
"""

from __future__ import annotations

from datetime import timedelta

from civicgrid.cases.models import Supervision, TimelineEntry
from civicgrid.cases.rules import case_act
from civicgrid.cases.sweep import cases_sweep
from civicgrid.disputes.models import DisputeDetail
from civicgrid.disputes.tests.conftest import act, at, fields_of, fresh, register
from civicgrid.notify.models import Notification

AGREED = at(2024, 9, 5, 10)
APPLIED = at(2024, 9, 28, 10)


def clock(case, kind):
    return case.timers.get(kind=kind)


def agreed_in_writing(m, *, now=AGREED):
    case = register(m.cast.bob, now=at(2024, 9, 2, 10))
    for step, data in (("route", {}), ("accept", {}), ("start", {}), ("agree_written", {"terms": "赔偿 | 甲 | "})):
        case = case_act(actor=m.mia if step != "route" else m.cast.alice, case=fresh(case), action=step, data=data,
                        now=now)
    return fresh(case)


def followed_up(m, case, now):
    return case_act(actor=m.mia, case=fresh(case), action="follow_up", data={"note": "已履行", "performed": "yes"},
                    now=now)


def test_a_written_agreement_starts_the_30_statutory_day_window_moved_past_national_day(mediation):
    case = agreed_in_writing(mediation)
    case = followed_up(mediation, case, AGREED + timedelta(days=1))  # only the confirmation window runs
    c = clock(case, "confirmation")
    assert (c.unit, c.due_at) == ("statutory_days", at(2024, 10, 9, 0))
    before = Supervision.objects.filter(case=case).count()
    cases_sweep(now=at(2024, 10, 8, 23, 59))
    assert not Notification.objects.filter(case=case, event="deadline_passed").exists()
    cases_sweep(now=at(2024, 10, 9, 0, 1))
    reminded = Notification.objects.filter(case=case, event="deadline_passed", subject__contains="confirmation")
    n = reminded.count()
    assert n >= 1
    after = fresh(case)
    assert after.owner_region_id == case.owner_region_id and Supervision.objects.filter(case=case).count() == before
    assert not TimelineEntry.objects.filter(case=case, action="overdue").exists()
    cases_sweep(now=at(2024, 10, 10, 0, 1))  # reminded once
    assert reminded.count() == n


def test_an_oral_agreement_has_no_confirmation_window_and_may_not_be_applied_for(client, mediation):
    m = mediation
    case = register(m.cast.bob)
    client.force_login(m.cast.alice)
    act(client, case, "route")
    client.force_login(m.mia)
    for step, data in (("accept", {}), ("start", {}), ("agree_oral", {"terms": "互相道歉"})):
        assert act(client, case, step, data).status_code == 200
    assert not fresh(case).timers.filter(kind="confirmation").exists()
    r = act(client, case, "apply_confirmation", {"court": "甲区人民法院"})
    assert r.status_code == 422 and "written agreement" in str(r.json())


def test_the_application_starts_the_courts_remind_only_windows_and_the_outcome_stops_them(client, mediation):
    m = mediation
    case = agreed_in_writing(m)
    case = followed_up(m, case, APPLIED)
    case = case_act(actor=m.mia, case=case, action="apply_confirmation", data={"court": "甲区人民法院"}, now=APPLIED)
    assert clock(case, "confirmation").stopped_at == APPLIED
    acc, dec = clock(case, "court_acceptance"), clock(case, "court_decision")
    assert (acc.unit, acc.due_at) == ("statutory_days", at(2024, 10, 9, 0))
    assert (dec.unit, dec.due_at) == ("statutory_days", at(2024, 10, 15, 0))
    cases_sweep(now=at(2024, 10, 9, 0, 1))
    sent = Notification.objects.filter(case=case, event="deadline_passed")
    assert sent.filter(subject__contains="court_acceptance").count() >= 1
    assert not sent.filter(subject__contains="court_decision").exists()
    assert not Supervision.objects.filter(case=case, kind=Supervision.Kind.OVERDUE).exists()

    client.force_login(m.mia)
    r = act(client, case, "apply_confirmation", {"court": "乙区人民法院"})  # applied already
    assert r.status_code == 422
    r = act(client, case, "record_confirmation", {"outcome": "maybe"})
    assert r.status_code == 422 and list(fields_of(r)) == ["outcome"]
    client.force_login(m.cast.bob)  # a grid worker does not record the court's decision
    assert act(client, case, "record_confirmation", {"outcome": "confirmed"}).status_code == 403
    client.force_login(m.mia)
    r = act(client, case, "record_confirmation", {"outcome": "confirmed"})
    assert r.status_code == 200, r.content
    case = fresh(case)
    d = DisputeDetail.objects.get(case=case)
    assert d.confirmation_outcome == "confirmed" and d.confirmation_court == "甲区人民法院"
    assert not case.timers.filter(kind__in=["court_acceptance", "court_decision"], stopped_at__isnull=True).exists()
    r = act(client, case, "record_confirmation", {"outcome": "refused"})  # decided already
    assert r.status_code == 422


def test_a_dispute_awaiting_the_court_is_not_closed(client, mediation):
    m = mediation
    case = agreed_in_writing(m)
    case = case_act(actor=m.mia, case=case, action="apply_confirmation", data={"court": "甲区人民法院"}, now=APPLIED)
    case = followed_up(m, case, APPLIED)
    client.force_login(m.mia)
    r = act(client, case, "close")
    assert r.status_code == 422 and "not decided" in str(r.json())
    assert act(client, case, "record_confirmation", {"outcome": "refused"}).status_code == 200
    assert act(client, case, "close").status_code == 200
