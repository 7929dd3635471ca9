"""Who may rate an event, and how often: the reporter with the rating secret given once with the
tracking code (or signed in to the account they reported from) — never with the tracking code alone,
which Open311 may publish — once per closing of the event; a staff follow-up once per closing; call
attempts as many as were made. An approved extension survives a reopening."""

from __future__ import annotations

import pytest
from django.db import connection

from civicgrid.cases.errors import CaseConflict
from civicgrid.cases.models import Case, Rating, Timer
from civicgrid.cases.services import case_decide_approval, case_request_approval
from civicgrid.events import services as ev
from civicgrid.events.models import EventDetail
from civicgrid.events.photos import PhotoUpload
from civicgrid.events.selectors import event_public
from civicgrid.events.tests.conftest import T0, at, fresh, jpeg, report
from civicgrid.notify.models import Notification
from civicgrid.notify.outbox import outbox_deliver

pytestmark = pytest.mark.django_db


def replied(cast, units, reporter=None, **fields):
    """A hotline report (by default) taken to ``replied``; answers the event and its rating secret."""
    if reporter is None:
        fields.setdefault("channel", "hotline")
        fields.setdefault("reporter_phone", "13912345678")
        reporter = cast.alice
    result = report(reporter, **fields)
    case = result.case
    ev.event_register(actor=cast.alice, case=fresh(case), now=T0)
    ev.event_dispatch(actor=cast.alice, case=fresh(case), now=T0)
    ev.event_accept(actor=units.evan, case=fresh(case), now=at(2024, 9, 23, 11))
    ev.event_report_back(actor=units.evan, case=fresh(case), note="已处理", now=at(2024, 9, 23, 14),
                         photos=[PhotoUpload("a.jpg", jpeg())])
    ev.event_verify(actor=cast.bob, case=fresh(case), passed=True, note="核查", now=at(2024, 9, 23, 15))
    ev.event_reply(actor=cast.alice, case=fresh(case), reply="已处理完毕。", now=at(2024, 9, 23, 16))
    return fresh(case), result.rating_secret


# --- the rating secret ----------------------------------------------------------------------------

def test_the_tracking_code_alone_does_not_rate_an_event(world, units):
    case, _secret = replied(world, units)
    for secret in ("", "WRONG-CODE", "ABCD-EFGH", "\ud800", "评价码"):
        with pytest.raises(ev.RatingRefused) as refused:
            ev.event_rate_public(tracking_code=case.tracking_code, satisfaction="unsatisfied", secret=secret,
                                 now=at(2024, 9, 24))
        assert "rating secret" in str(refused.value)
    stored = fresh(case)
    assert not Rating.objects.exists() and (stored.state, stored.reopen_count) == ("replied", 0)


def test_the_reporter_rates_with_the_secret_typed_in_any_case_and_without_the_dash(world, units):
    case, secret = replied(world, units)
    assert len(secret) == 9 and secret[4] == "-"
    rating = ev.event_rate_public(tracking_code=case.tracking_code.lower(), satisfaction="satisfied",
                                  secret=f" {secret.replace('-', '').lower()} ", now=at(2024, 9, 24))
    assert (rating.satisfaction, rating.source, rating.closing) == ("satisfied", "resident", 1)
    assert not event_public(tracking_code=case.tracking_code).can_rate


def test_the_secret_is_kept_only_as_a_keyed_hash(world, units):
    case, secret = replied(world, units)
    stored = EventDetail.objects.get(case=case).rating_secret_hash
    assert len(stored) == 64 and secret not in stored and secret.replace("-", "") not in stored
    assert ev.rating_secret_hash(secret) == stored


def test_a_secret_of_another_event_does_not_rate_this_one(world, units):
    case, _secret = replied(world, units)
    _other, other_secret = replied(world, units)
    with pytest.raises(ev.RatingRefused):
        ev.event_rate_public(tracking_code=case.tracking_code, satisfaction="satisfied", secret=other_secret,
                             now=at(2024, 9, 24))


def test_the_reporter_signed_in_rates_without_the_secret_and_nobody_else_does(world, units):
    case, _secret = replied(world, units, reporter=units.rita, channel="resident")
    with pytest.raises(ev.RatingRefused):  # staff of the district, but not the reporter
        ev.event_rate_public(tracking_code=case.tracking_code, satisfaction="satisfied", actor=world.alice,
                             now=at(2024, 9, 24))
    rating = ev.event_rate_public(tracking_code=case.tracking_code, satisfaction="basic", actor=units.rita,
                                  now=at(2024, 9, 24))
    assert (rating.by, rating.source) == (units.rita, "resident")


def test_an_imported_event_without_a_secret_cannot_be_rated_by_code(world, units):
    case, _secret = replied(world, units)
    EventDetail.objects.filter(case=case).update(rating_secret_hash="")
    with pytest.raises(ev.RatingRefused):
        ev.event_rate_public(tracking_code=case.tracking_code, satisfaction="satisfied", secret="",
                             now=at(2024, 9, 24))


def test_a_caller_without_an_account_gets_the_secret_by_sms_and_the_outbox_forgets_it_once_sent(world, units):
    result = report(world.alice, channel="hotline", reporter_phone="13912345678", request_type="求助")
    sms = Notification.objects.get(case=result.case, event="received")
    assert sms.channel == "sms" and sms.address == "13912345678"
    assert result.case.tracking_code in sms.body and result.rating_secret in sms.body
    outbox_deliver()
    sms.refresh_from_db()
    assert sms.state == "sent" and sms.body == ""


def test_an_anonymous_report_or_one_from_an_account_sends_no_secret_anywhere(world, units):
    report(None, anonymous=True, reporter_phone="13912345678")
    report(units.rita)
    assert not Notification.objects.filter(event="received").exists()


def test_a_retry_gives_no_secret_again(world, units):
    first = report(units.rita, key="r-1")
    again = report(units.rita, key="r-1")
    assert first.rating_secret and not again.created and again.rating_secret == ""


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement intake is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_the_secret_and_the_receipt_are_written_in_intakes_one_statement(world, units):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        result = report(world.alice, channel="hotline", reporter_phone="13912345678", request_type="求助")
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].lstrip().upper().startswith(("INSERT", "WITH", "UPDATE", "DELETE"))]
    assert len(writes) == 1, writes
    assert "events_eventdetail" in writes[0] and "cases_notification" in writes[0]
    assert EventDetail.objects.get(case=result.case).rating_secret_hash == ev.rating_secret_hash(result.rating_secret)


# --- once per closing ------------------------------------------------------------------------------

def test_the_reporter_rates_once_per_closing_and_a_second_answers_a_conflict(world, units):
    case, secret = replied(world, units)
    ev.event_rate_public(tracking_code=case.tracking_code, satisfaction="satisfied", secret=secret,
                         now=at(2024, 9, 24))
    with pytest.raises(CaseConflict) as conflict:
        ev.event_rate_public(tracking_code=case.tracking_code, satisfaction="unsatisfied", secret=secret,
                             now=at(2024, 9, 24, 1))
    assert "rated already" in str(conflict.value)
    assert Rating.objects.count() == 1 and fresh(case).state == "replied"


def test_after_a_reopening_and_a_new_closing_the_reporter_rates_again(world, units):
    case, secret = replied(world, units)
    ev.event_rate_public(tracking_code=case.tracking_code, satisfaction="unsatisfied", secret=secret,
                         comment="没修好", now=at(2024, 9, 24))
    assert (fresh(case).state, fresh(case).closing) == ("replied", 1)  # the resident's own rating reopens nothing
    ev.event_rate(actor=world.alice, case=fresh(case), satisfaction="unsatisfied", comment="回访核实：未修好",
                  now=at(2024, 9, 24, 1))  # the verifying call (回访核实) does
    assert (fresh(case).state, fresh(case).closing) == ("handling", 1)
    ev.event_report_back(actor=units.evan, case=fresh(case), note="返工", now=at(2024, 9, 25),
                         photos=[PhotoUpload("a.jpg", jpeg())])
    ev.event_verify(actor=world.bob, case=fresh(case), passed=True, note="核查", now=at(2024, 9, 25, 1))
    ev.event_reply(actor=world.alice, case=fresh(case), reply="已返工。", now=at(2024, 9, 25, 2))
    assert fresh(case).closing == 2 and event_public(tracking_code=case.tracking_code).can_rate
    ev.event_rate_public(tracking_code=case.tracking_code, satisfaction="satisfied", secret=secret,
                         now=at(2024, 9, 26))
    assert list(Rating.objects.order_by("closing", "id").values_list("closing", "source", "satisfaction")) == [
        (1, "resident", "unsatisfied"), (1, "follow_up", "unsatisfied"), (2, "resident", "satisfied")]


def test_one_valid_staff_follow_up_per_closing_beside_the_reporters_rating_and_any_call_attempts(world, units):
    case, secret = replied(world, units)
    for _ in range(3):  # unreachable three times: attempts, not limited, reopening nothing
        ev.event_rate(actor=world.alice, case=fresh(case), satisfaction="unsatisfied", contacted=False,
                      valid=False, now=at(2024, 9, 24))
    ev.event_rate(actor=world.alice, case=fresh(case), satisfaction="basic", now=at(2024, 9, 24, 1))
    with pytest.raises(CaseConflict) as conflict:
        ev.event_rate(actor=world.alice, case=fresh(case), satisfaction="satisfied", now=at(2024, 9, 24, 2))
    assert "follow-up of this closing" in str(conflict.value)
    ev.event_rate_public(tracking_code=case.tracking_code, satisfaction="satisfied", secret=secret,
                         now=at(2024, 9, 24, 3))
    assert sorted(Rating.objects.values_list("source", flat=True)) == [
        "attempt", "attempt", "attempt", "follow_up", "resident"]
    assert fresh(case).state == "replied"


# --- an extension survives a reopening (issue 14) ----------------------------------------------------

def test_an_approved_extension_is_kept_when_an_unsatisfied_rating_reopens_the_event(world, units, calendar_2024):
    result = report(world.alice, channel="hotline", reporter_phone="13912345678")
    case = result.case
    ev.event_register(actor=world.alice, case=fresh(case), now=T0)
    ev.event_dispatch(actor=world.alice, case=fresh(case), now=T0)
    ev.event_accept(actor=units.evan, case=fresh(case), now=T0)
    base_due = fresh(case).handling_due_at
    request = case_request_approval(actor=units.evan, case=fresh(case), kind="extension", reason="需协调",
                                    amount=2, now=T0)
    case_decide_approval(actor=world.alice, request=request, approve=True, now=T0)
    extended_due = fresh(case).handling_due_at
    assert extended_due > base_due
    ev.event_report_back(actor=units.evan, case=fresh(case), note="已处理", now=T0,
                         photos=[PhotoUpload("a.jpg", jpeg())])
    ev.event_verify(actor=world.bob, case=fresh(case), passed=True, note="核查", now=T0)
    ev.event_reply(actor=world.alice, case=fresh(case), reply="已处理。", now=T0)
    ev.event_rate_public(tracking_code=case.tracking_code, satisfaction="unsatisfied", secret=result.rating_secret,
                         comment="没修好", now=T0)
    ev.event_rate(actor=world.alice, case=fresh(case), satisfaction="unsatisfied", now=T0)  # the verifying call
    stored = fresh(case)
    assert stored.state == "handling" and stored.extended
    assert stored.handling_due_at == extended_due  # not back to the due time without the extension
    timer = Timer.objects.filter(case=case, kind="handle").order_by("-id").first()
    assert (timer.due_at, timer.extended_by) == (extended_due, 2)


def test_cases_count_their_closings(world, units):
    case, _secret = replied(world, units)
    assert Case.objects.get(pk=case.pk).closing == 1


# --- concurrent ratings (PostgreSQL: two connections at the same moment) ---------------------------

@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("satisfaction", ["satisfied", "unsatisfied"])
def test_four_public_ratings_at_the_same_moment_store_exactly_one(world, units, satisfaction):
    from civicgrid.cases.tests.test_engine_concurrency import race

    case, secret = replied(world, units)

    def rate() -> object:
        return lambda: ev.event_rate_public(tracking_code=case.tracking_code, satisfaction=satisfaction,
                                            secret=secret, now=at(2024, 9, 24))

    results, errors = race(*[rate for _ in range(4)])
    assert len(results) == 1, errors
    assert all(isinstance(e, (CaseConflict, ev.TransitionNotAllowed)) for e in errors), errors
    assert Rating.objects.filter(case=case).count() == 1
    assert fresh(case).reopen_count == 0  # the resident's own rating never reopens (the verifying call may)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_staff_follow_ups_at_the_same_moment_store_exactly_one(world, units):
    from civicgrid.cases.tests.test_engine_concurrency import race

    case, _secret = replied(world, units)

    def follow_up() -> object:
        stale = Case.objects.get(pk=case.pk)  # each reads the case before any writes
        return lambda: ev.event_rate(actor=world.alice, case=stale, satisfaction="basic", now=at(2024, 9, 24))

    results, errors = race(*[follow_up for _ in range(4)])
    assert len(results) == 1 and all(isinstance(e, CaseConflict) for e in errors), errors
    assert Rating.objects.filter(case=case, source="follow_up").count() == 1


def test_a_rating_comment_that_names_the_resident_stays_off_the_public_timeline(world, units):
    # An unsatisfied verifying call reopens the event with the comment as the reopening's note; the
    # public timeline (the tracking page, its API and Open311's notes) says it was reopened, not what
    # the resident wrote or said about themself.
    case, secret = replied(world, units)
    comment = "没修好。我是李四，电话13800002222，住3栋502"
    ev.event_rate_public(tracking_code=case.tracking_code, satisfaction="unsatisfied", secret=secret,
                         comment=comment, now=at(2024, 9, 24))
    ev.event_rate(actor=world.alice, case=fresh(case), satisfaction="unsatisfied", comment=comment,
                  now=at(2024, 9, 24, 1))
    public = event_public(tracking_code=case.tracking_code)
    assert "reopen" in [s.action for s in public.steps]
    shown = " ".join(str(s.note) for s in public.steps)
    assert "13800002222" not in shown and "李四" not in shown
