"""The reporter's side: the tracking code opens the public part of the timeline — no staff names,
no phone numbers, no internal notes — and the reporter rates once the centre has replied."""

from __future__ import annotations

import json

import pytest

from civicgrid.events import services as ev
from civicgrid.events.photos import PhotoUpload
from civicgrid.events.selectors import event_public
from civicgrid.events.tests.conftest import T0, at, fresh, jpeg, report

pytestmark = pytest.mark.django_db


def replied_event(cast, units):
    result = report(cast.alice, channel="hotline", request_type="投诉", reporter_name="王秀英",
                    reporter_phone="13912345678")
    case = result.case
    ev.event_register(actor=cast.alice, case=fresh(case), note="请Alice跟进", now=T0)
    ev.event_dispatch(actor=cast.alice, case=fresh(case), note="联系人 Dana 13700001111", now=T0)
    ev.event_accept(actor=units.evan, case=fresh(case), now=at(2024, 9, 23, 11))
    ev.event_report_back(actor=units.evan, case=fresh(case), note="Evan 已处理", now=at(2024, 9, 23, 14),
                         photos=[PhotoUpload("a.jpg", jpeg())])
    ev.event_verify(actor=cast.bob, case=fresh(case), passed=True, note="Bob 核查", now=at(2024, 9, 23, 15))
    ev.event_reply(actor=cast.alice, case=fresh(case), reply="您反映的问题已处理完毕。", now=at(2024, 9, 23, 16))
    case = fresh(case)
    case.rating_secret = result.rating_secret
    return case


def test_the_public_view_shows_the_steps_and_leaks_no_names_or_phone_numbers(world, units):
    case = replied_event(world, units)
    view = event_public(tracking_code=case.tracking_code.lower())
    assert view is not None and view.state == "replied" and view.can_rate
    assert [s.action for s in view.steps] == ["create", "register", "dispatch", "report_back", "verify", "reply"]
    assert view.steps[-1].note == "您反映的问题已处理完毕。"
    text = json.dumps([view.__dict__, [s.__dict__ for s in view.steps]], default=str, ensure_ascii=False)
    for secret in ("Alice", "Bob", "Dana", "Evan", "alice", "13912345678", "13700001111", "王秀英"):
        assert secret not in text, secret


def test_an_unknown_tracking_code_finds_nothing(world, units):
    assert event_public(tracking_code="NOPE123456") is None


def test_the_reporter_rates_with_the_rating_secret_once(world, units):
    case = replied_event(world, units)
    ev.event_rate_public(tracking_code=case.tracking_code, satisfaction="satisfied", comment="很快",
                         secret=case.rating_secret, now=at(2024, 9, 24))
    assert fresh(case).ratings.get().satisfaction == "satisfied"
    assert not event_public(tracking_code=case.tracking_code).can_rate
    with pytest.raises(ev.CaseConflict):
        ev.event_rate_public(tracking_code=case.tracking_code, satisfaction="basic", secret=case.rating_secret,
                             now=at(2024, 9, 24))


def test_the_reporter_cannot_rate_before_the_reply(world, units):
    result = report(units.rita)
    with pytest.raises(ev.TransitionNotAllowed):
        ev.event_rate_public(tracking_code=result.case.tracking_code, satisfaction="satisfied",
                             secret=result.rating_secret, now=T0)
