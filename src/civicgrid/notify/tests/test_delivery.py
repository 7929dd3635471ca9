"""notify's delivery loop on its own (no case engine): batch after batch until nothing is due, the
worker's callbacks after each batch and each round, and a stop between batches."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest

from civicgrid.notify.channels import Recipient, channel_override
from civicgrid.notify.delivery import DeliveryLoop
from civicgrid.notify.models import Notification, NotificationState

pytestmark = pytest.mark.django_db


class RecordingSms:
    name = "sms"

    def __init__(self) -> None:
        self.sent: list[int] = []

    def send(self, notification: Notification, recipients: Sequence[Recipient]) -> int:
        self.sent.append(notification.pk)
        return len(recipients)


def texts(n: int) -> list[Notification]:
    return [Notification.objects.create(channel="sms", event="test", subject=f"短信 {i}", address=f"1390000{i:04d}")
            for i in range(n)]


def test_a_round_delivers_batch_after_batch_until_nothing_is_due_and_reports_each() -> None:
    notes = texts(5)
    batches: list[int] = []
    rounds: list[Any] = []
    loop = DeliveryLoop(limit=2, on_batch=lambda: batches.append(1), on_round=rounds.append)
    gateway = RecordingSms()
    with channel_override("sms", gateway):
        report = loop.round()
    assert gateway.sent == [n.pk for n in notes]  # oldest first, each once
    assert (report.claimed, report.sent, report.retried, report.failed) == (5, 5, 0, 0)
    assert len(batches) == 3  # 2 + 2 + 1: the worker's heartbeat beats during a long backlog
    assert rounds == [report]
    assert set(Notification.objects.values_list("state", flat=True)) == {NotificationState.SENT}


def test_a_stopped_loop_takes_no_further_batch() -> None:
    texts(3)
    stop = threading.Event()
    stop.set()
    gateway = RecordingSms()
    with channel_override("sms", gateway):
        report = DeliveryLoop(limit=1).round(stop)
    assert report.claimed == 0 and gateway.sent == []
    assert Notification.objects.filter(state=NotificationState.PENDING).count() == 3


@pytest.mark.parametrize("limit, interval", [(0, 10.0), (1, 0.0)])
def test_a_loop_needs_a_positive_limit_and_interval(limit: int, interval: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        DeliveryLoop(limit=limit, interval=interval)
