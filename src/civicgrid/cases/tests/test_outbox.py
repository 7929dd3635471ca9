"""The notification outbox (通知发件箱): audiences expanded to people, in-app delivery, retries with
backoff when a channel is down, nothing lost, failed for good after the last attempt."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from civicgrid.cases.services import notify
from civicgrid.cases.tests.conftest import STREET_A, drill_create
from civicgrid.notify.channels import InAppChannel, Recipient, channel_get, channel_override
from civicgrid.notify.models import InboxMessage, Notification
from civicgrid.notify.outbox import backoff, outbox_deliver, recipients_of

pytestmark = pytest.mark.django_db


class FlakyChannel:
    """An in-app channel that is down until told otherwise."""

    name = "inapp"

    def __init__(self) -> None:
        self.down = True
        self.calls = 0

    def send(self, notification, recipients):
        self.calls += 1
        if self.down:
            raise ConnectionError("message service unreachable")
        return InAppChannel().send(notification, recipients)


def queued(**kwargs) -> Notification:
    kwargs.setdefault("case", None)
    kwargs.setdefault("event", "test")
    kwargs.setdefault("subject", "案件 ABC 已派发")
    return notify(**kwargs)


def soon() -> timezone.datetime:
    return timezone.now() + timedelta(seconds=1)


def test_a_department_notification_reaches_each_active_handler_of_that_department_in_app(cast, units):
    from civicgrid.org.models import Role
    from civicgrid.org.services import membership_grant, user_create

    frank = user_create(actor=None, username="frank", password="Correct-Horse-42", display_name="Frank")
    membership_grant(actor=None, user=frank, role=Role.DEPARTMENT_HANDLER, department=units.urban)
    gone = user_create(actor=None, username="gone", password="Correct-Horse-42", display_name="Gone")
    membership_grant(actor=None, user=gone, role=Role.DEPARTMENT_HANDLER, department=units.urban)
    gone.is_active = False
    gone.save()
    note = queued(department=units.urban, body="请在1小时内签收")

    report = outbox_deliver(now=soon())

    assert (report.claimed, report.sent, report.deliveries) == (1, 1, 2)
    assert set(InboxMessage.objects.values_list("user__username", flat=True)) == {"dana", "frank"}
    message = InboxMessage.objects.get(user=units.dana)
    assert (message.subject, message.body) == ("案件 ABC 已派发", "请在1小时内签收")
    note.refresh_from_db()
    assert note.state == "sent" and note.attempts == 1 and note.sent_at is not None
    assert not InboxMessage.objects.filter(user=units.evan).exists()  # the water department is not told


def test_a_centre_notification_reaches_its_dispatchers_and_not_those_of_other_centres(cast):
    queued(region=cast.city.get(STREET_A))
    outbox_deliver(now=soon())
    assert list(InboxMessage.objects.values_list("user__username", flat=True)) == ["alice"]


def test_a_person_is_told_once_even_when_named_and_in_the_audience(cast, units):
    queued(recipient=units.dana, department=units.urban)
    assert outbox_deliver(now=soon()).deliveries == 1
    assert InboxMessage.objects.filter(user=units.dana).count() == 1


def test_case_creation_queues_a_message_for_the_owning_centre_delivered_with_the_case(cast):
    case = drill_create(cast.bob)
    outbox_deliver(now=soon())
    assert InboxMessage.objects.get(user=cast.alice).case_id == case.pk


def test_a_notification_is_not_delivered_before_its_time(cast, units):
    note = queued(department=units.urban)
    assert outbox_deliver(now=note.next_attempt_at - timedelta(seconds=1)).claimed == 0
    assert not InboxMessage.objects.exists()


def test_a_failing_channel_keeps_the_notification_and_it_is_retried_with_backoff_until_it_works(cast, units):
    note = queued(department=units.urban)
    t0 = soon()
    flaky = FlakyChannel()
    with channel_override("inapp", flaky):
        first = outbox_deliver(now=t0)
        note.refresh_from_db()
        assert (first.sent, first.retried) == (0, 1)
        assert note.state == "pending" and note.attempts == 1
        assert note.next_attempt_at == t0 + timedelta(seconds=30)
        assert "ConnectionError: message service unreachable" in note.last_error
        assert not InboxMessage.objects.exists()

        assert outbox_deliver(now=t0 + timedelta(seconds=29)).claimed == 0  # not before its time
        outbox_deliver(now=t0 + timedelta(seconds=30))
        note.refresh_from_db()
        assert note.attempts == 2 and note.next_attempt_at == t0 + timedelta(seconds=90)  # 30 s, then 60 s

        flaky.down = False
        done = outbox_deliver(now=t0 + timedelta(seconds=90))
    note.refresh_from_db()
    assert done.sent == 1 and note.state == "sent" and note.attempts == 3 and note.last_error == ""
    assert InboxMessage.objects.filter(user=units.dana).count() == 1
    assert flaky.calls == 3


def test_the_backoff_doubles_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(40).total_seconds() == 3600


@override_settings(CIVICGRID_OUTBOX_MAX_ATTEMPTS=3)
def test_after_the_last_attempt_the_notification_is_failed_for_good_and_kept(cast, units, caplog):
    note = queued(department=units.urban)
    now = soon()
    with channel_override("inapp", FlakyChannel()):
        for _ in range(3):
            outbox_deliver(now=now)
            note.refresh_from_db()
            now = note.next_attempt_at
    assert note.state == "failed" and note.attempts == 3
    assert "unreachable" in note.last_error
    assert outbox_deliver(now=now + timedelta(days=1)).claimed == 0
    assert any("failed for good" in r.message for r in caplog.records)


def test_a_half_done_in_app_delivery_is_rolled_back_before_the_retry(cast, units):
    class BreaksHalfway:
        name = "inapp"

        def send(self, notification, recipients):
            InAppChannel().send(notification, recipients)
            raise RuntimeError("disk full")

    queued(department=units.urban)
    with channel_override("inapp", BreaksHalfway()):
        outbox_deliver(now=soon())
    assert not InboxMessage.objects.exists()
    outbox_deliver(now=soon() + timedelta(minutes=5))
    assert InboxMessage.objects.count() == 1


def test_a_notification_nobody_can_receive_is_failed_with_the_reason(cast):
    note = queued(region=cast.city.city)  # nobody dispatches at the city level here
    report = outbox_deliver(now=soon())
    note.refresh_from_db()
    assert report.failed == 1 and note.state == "failed" and note.last_error == "nobody to deliver to"


def test_an_sms_to_a_reporter_without_an_account_goes_to_the_console_masked(cast, caplog):
    caplog.set_level(logging.INFO, logger="civicgrid.notify.channels")
    queued(address="13800138000", channel="sms", subject="您的案件已办结")
    with override_settings(CIVICGRID_SMS_BACKEND="console"):
        assert outbox_deliver(now=soon()).sent == 1
    text = " ".join(r.getMessage() for r in caplog.records)
    assert "138****8000" in text and "您的案件已办结" in text and "13800138000" not in text


def test_an_email_goes_to_the_console_by_default(cast, caplog):
    caplog.set_level(logging.INFO, logger="civicgrid.notify.channels")
    cast.alice.email = "alice@example.org"
    cast.alice.save()
    queued(recipient=cast.alice, channel="email", subject="周报")
    assert outbox_deliver(now=soon()).sent == 1
    assert any("e-mail to" in r.getMessage() and "周报" in r.getMessage() for r in caplog.records)


def test_an_unknown_sms_backend_is_a_failed_attempt_not_a_lost_message(cast):
    note = queued(address="13800138000", channel="sms")
    with override_settings(CIVICGRID_SMS_BACKEND="nowhere.Backend"):
        outbox_deliver(now=soon())
    note.refresh_from_db()
    assert note.state == "pending" and "CIVICGRID_SMS_BACKEND" in note.last_error


def test_an_unregistered_channel_is_retried_later(cast, units):
    note = queued(department=units.urban, channel="wechat")
    outbox_deliver(now=soon())
    note.refresh_from_db()
    assert note.state == "pending" and "no notification channel 'wechat'" in note.last_error


def test_recipients_are_users_then_the_address(cast, units):
    note = queued(recipient=cast.alice, department=units.urban, address="13800138000", channel="sms")
    assert recipients_of(note) == [Recipient(user=cast.alice), Recipient(user=units.dana),
                                   Recipient(address="13800138000")]
    assert channel_get("inapp").name == "inapp"


@override_settings(CIVICGRID_OUTBOX_MAX_ATTEMPTS=1)
def test_an_operator_sends_a_failed_notification_again_once_the_channel_is_back(cast, units):
    from civicgrid.audit.models import AuditEntry
    from civicgrid.notify.outbox import outbox_retry

    note = queued(department=units.urban)
    with channel_override("inapp", FlakyChannel()):
        outbox_deliver(now=soon())
    note.refresh_from_db()
    assert note.state == "failed"
    assert outbox_retry(actor=cast.admin_a, notifications=[note]) == 1
    assert outbox_deliver(now=soon() + timedelta(seconds=5)).sent == 1
    assert InboxMessage.objects.filter(user=units.dana).count() == 1
    assert AuditEntry.objects.filter(action="cases.notification.retry", actor=cast.admin_a).count() == 1
