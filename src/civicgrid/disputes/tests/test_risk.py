"""The risk rules at intake and on every change (the ``assess`` step): each rule with its reason,
the centre warned once per reason (in-app and SMS through the outbox), never twice."""

from __future__ import annotations

import datetime as dt

import pytest

from civicgrid.disputes.models import DisputeDetail, RiskFlag
from civicgrid.disputes.selectors import risk_flags
from civicgrid.disputes.tests.conftest import T0, act, fields_of, fresh, register
from civicgrid.notify.models import Notification


def warnings(case):
    return list(Notification.objects.filter(case=case, event="dispute_risk").order_by("id")
                .values_list("channel", "audience_region__code"))


def reasons(case):
    return sorted(f.reason for f in risk_flags(case))


def test_an_ordinary_dispute_raises_no_flag(mediation):
    case = register(mediation.cast.bob)
    assert reasons(case) == [] and warnings(case) == []
    assert DisputeDetail.objects.get(case=case).high_risk is False


@pytest.mark.parametrize(("fields", "reason", "shown"), [
    ({"people_involved": 10}, "many_people", "10 people involved (threshold 10)"),
    ({"threat_violence": True}, "violence", "threat of violence"),
    ({"threat_petition": True}, "group_petition", "group petition"),
    ({"amount": "500000"}, "amount", "500000.00 yuan at stake"),
])
def test_each_rule_at_intake_warns_the_centre_in_app_and_by_sms(mediation, fields, reason, shown):
    case = register(mediation.cast.bob, **fields)
    flags = risk_flags(case)
    assert [f.reason for f in flags] == [reason] and shown in flags[0].detail
    assert DisputeDetail.objects.get(case=case).high_risk is True
    # the owning centre (Alice's street) is warned once, in-app and by SMS
    assert warnings(case) == [("inapp", "440301001"), ("sms", "440301001")]


def test_just_below_each_threshold_raises_nothing(mediation):
    case = register(mediation.cast.bob, people_involved=9, amount="499999.99")
    assert reasons(case) == []


def test_thresholds_are_settings(mediation, settings):
    settings.CIVICGRID_DISPUTE_RISK = {"people": 3}
    assert reasons(register(mediation.cast.bob, people_involved=3)) == ["many_people"]


def test_repeated_disputes_at_the_same_place_within_the_period(mediation):
    bob = mediation.cast.bob
    register(bob, now=T0 - dt.timedelta(days=120))  # outside the 90 days (of every later one)
    register(bob, now=T0 - dt.timedelta(days=30))
    second = register(bob, now=T0 - dt.timedelta(days=10))
    assert reasons(second) == []  # one other within the period: below the count of 2
    third = register(bob, now=T0)
    assert reasons(third) == ["repeat_place"]
    assert "2 other disputes at the same place within 90 days" in risk_flags(third)[0].detail
    elsewhere = register(bob, point=(114.04, 22.52), now=T0)  # a street away from the others
    assert reasons(elsewhere) == []


def test_a_change_raises_a_new_reason_once_and_never_warns_twice(client, mediation):
    m = mediation
    case = register(m.cast.bob)
    client.force_login(m.cast.bob)  # the grid worker updates the assessment on patrol
    r = act(client, case, "assess", {"threat_violence": "yes"})
    assert r.status_code == 200, r.content
    assert reasons(case) == ["violence"] and len(warnings(case)) == 2
    # the same reason again, a cleared and re-raised reason: no second warning
    act(client, case, "assess", {"threat_violence": "yes"})
    act(client, case, "assess", {"threat_violence": "no"})
    assert reasons(case) == [] and RiskFlag.objects.get(case=case).cleared_at is not None
    assert DisputeDetail.objects.get(case=case).high_risk is False
    act(client, case, "assess", {"threat_violence": "yes"})
    assert reasons(case) == ["violence"] and len(warnings(case)) == 2
    assert RiskFlag.objects.filter(case=case).count() == 1
    # a second reason warns for itself
    act(client, case, "assess", {"people_involved": 50})
    assert reasons(case) == ["many_people", "violence"] and len(warnings(case)) == 4


def test_assessment_refusals(client, mediation):
    m = mediation
    case = register(m.cast.bob)
    client.force_login(m.cast.bob)
    r = act(client, case, "assess", {})
    assert r.status_code == 422 and list(fields_of(r)) == ["people_involved"]
    r = act(client, case, "assess", {"amount": -5})
    assert r.status_code == 422 and list(fields_of(r)) == ["amount"]
    r = act(client, case, "assess", {"threat_violence": "maybe"})
    assert r.status_code == 422 and list(fields_of(r)) == ["threat_violence"]
    client.force_login(m.cast.charlie)  # an outsider
    assert act(client, case, "assess", {"threat_violence": "yes"}).status_code == 404
    client.force_login(m.max)  # a mediator of district B
    assert act(client, case, "assess", {"threat_violence": "yes"}).status_code == 404
    assert reasons(fresh(case)) == []
