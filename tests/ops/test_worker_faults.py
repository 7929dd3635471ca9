"""The worker killed with SIGKILL (``kill -9``) in the middle of delivering the outbox and in the
middle of a sweep, then started again: no message lost, none delivered twice by the gateway (each
carries its message id; the gateway drops an id it has seen), no clock missed or marked twice.

Real worker processes on PostgreSQL (the deployment where several workers run); the fake gateway
(``civicgrid.ops.gateway.FakeSmsGateway``) is slow, so the kill lands while a message is in flight.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from civicgrid.cases.models import Supervision, TimelineEntry, Timer, WorkerHeartbeat
from civicgrid.cases.services import notify
from civicgrid.notify.models import Notification
from civicgrid.ops.gateway import sink_read

from . import procs
from .conftest import report

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="real worker processes against one database need PostgreSQL; `make test` runs this"),
]


def test_a_worker_killed_mid_delivery_loses_nothing_and_the_gateway_delivers_each_message_once(tmp_path):
    sink = tmp_path / "gateway.log"
    notes = [notify(case=None, event="test", subject=f"通知 {n}", channel="sms", address=f"1390000{n:04d}")
             for n in range(24)]
    expected = {f"civicgrid-{n.pk}-a" for n in notes}
    env = procs.environment(tmp_path, CIVICGRID_SMS_BACKEND="civicgrid.ops.gateway.FakeSmsGateway",
                            CIVICGRID_FAKE_GATEWAY_SINK=sink, CIVICGRID_FAKE_GATEWAY_DELAY="0.25",
                            CIVICGRID_OUTBOX_LEASE_SECONDS="10")
    log = tmp_path / "worker.log"
    first = procs.worker(env, log, "--interval", "0.5", "--outbox-limit", "8")
    try:
        procs.wait_until(lambda: sum(sink_read(sink).values()) >= 4, timeout=60, what="4 messages handed over",
                         procs=(first,), log=log)
    finally:
        procs.kill9(first)
    at_kill = sink_read(sink)
    in_flight = {line.split()[0] for line in sink.read_text().splitlines()[-1:]}
    sent_at_kill = Notification.objects.filter(state="sent").count()
    assert 0 < sent_at_kill < len(notes)  # killed mid-batch: some sent, the rest still pending
    assert Notification.objects.filter(state="pending").count() == len(notes) - sent_at_kill

    second = procs.worker(env, log, "--interval", "0.5", "--outbox-limit", "8")
    try:
        procs.wait_until(lambda: Notification.objects.filter(state="sent").count() == len(notes), timeout=90,
                         what="every message sent after the restart", procs=(second,), log=log)
    finally:
        procs.stop(second)
    # SIGTERM ends the restarted worker cleanly (both loops finish their step) and removes its
    # heartbeat; the killed worker's row stays behind, ageing.
    assert second.returncode == 0
    names = set(WorkerHeartbeat.objects.values_list("name", flat=True))
    assert not any(n.endswith(f":{second.pid}") for n in names) and any(n.endswith(f":{first.pid}") for n in names)
    calls = sink_read(sink)
    assert set(calls) == expected  # nothing lost, nothing unknown
    repeats = {mid for mid, n in calls.items() if n > 1}
    # At least once: only the message in flight at the kill (handed over, not yet marked sent) was
    # handed over again, with the same id, so the gateway dropped the repeat.
    assert repeats <= in_flight, (repeats, in_flight, at_kill)
    assert all(n <= 2 for n in calls.values())
    assert not Notification.objects.exclude(state="sent").exists()
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}


def test_a_worker_killed_mid_sweep_misses_no_clock_and_marks_none_twice(tmp_path, world: Any):
    now = timezone.now()
    cases = [report(None, now=now - dt.timedelta(days=40), text=f"小区门口上水井盖缺失 {n}号楼").case
             for n in range(16)]
    due = Timer.objects.filter(state="running", overdue_at__isnull=True, due_at__lte=now).count()
    assert due >= len(cases)
    env = procs.environment(tmp_path, SLOW_SWEEP_PAUSE="0.3")
    log = tmp_path / "worker.log"
    slow = procs.worker(env, log, "--interval", "0.5", "--batch-size", "3", module="tests.ops.slow_sweep_worker")
    try:
        procs.wait_until(lambda: Timer.objects.filter(overdue_at__isnull=False).count() >= 6, timeout=90,
                         what="two sweep batches committed", procs=(slow,), log=log)
    finally:
        procs.kill9(slow)
    marked = Timer.objects.filter(overdue_at__isnull=False).count()
    assert marked < due  # killed mid-sweep (a batch held open in its transaction is rolled back)

    worker = procs.worker(env, log, "--interval", "0.5", "--batch-size", "3")
    try:
        procs.wait_until(lambda: not Timer.objects.filter(state="running", overdue_at__isnull=True,
                                                          due_at__lte=now).exists(),
                         timeout=90, what="every due clock marked after the restart", procs=(worker,), log=log)
    finally:
        procs.stop(worker)
    for case in cases:
        # Each clock named by exactly one overdue entry of its case (a case's clocks may fall in two
        # batches, each with its entry): none missed, none marked twice.
        named = sorted(k for e in TimelineEntry.objects.filter(case=case, action="overdue") for k in e.data["clocks"])
        assert named == sorted(Timer.objects.filter(case=case, overdue_at__isnull=False).values_list("kind", flat=True))
        assert Supervision.objects.filter(case=case, kind="overdue").count() == 1
        handle_overdue = Timer.objects.filter(case=case, kind="handle", overdue_at__isnull=False).count()
        assert TimelineEntry.objects.filter(case=case, action="escalate").count() == handle_overdue


def test_a_slow_sms_gateway_does_not_hold_the_deadlines_back(tmp_path, world: Any):
    """The delivery and the sweep are separate loops of the worker (notify's and the engine's): while
    every text message waits seconds for the gateway, the overdue clocks are marked on time."""
    sink = tmp_path / "gateway.log"
    texts = [notify(case=None, event="test", subject=f"短信 {n}", channel="sms", address=f"1390001{n:04d}")
             for n in range(6)]  # queued first: the delivery loop takes them before anything else
    now = timezone.now()
    cases = [report(None, now=now - dt.timedelta(days=40), text=f"小区门口上水井盖缺失 {n}号楼").case
             for n in range(3)]
    due = Timer.objects.filter(case__in=cases, state="running", overdue_at__isnull=True, due_at__lte=now)
    assert due.exists()
    env = procs.environment(tmp_path, CIVICGRID_SMS_BACKEND="civicgrid.ops.gateway.FakeSmsGateway",
                            CIVICGRID_FAKE_GATEWAY_SINK=sink, CIVICGRID_FAKE_GATEWAY_DELAY="4")
    log = tmp_path / "worker.log"
    worker = procs.worker(env, log, "--interval", "0.5", "--outbox-limit", "1")
    try:
        procs.wait_until(lambda: sink.exists(), timeout=60, what="the gateway handed a first message",
                         procs=(worker,), log=log)
        procs.wait_until(lambda: not due.exists(), timeout=15, what="every due clock marked while the gateway is slow",
                         procs=(worker,), log=log)
        # The gateway has been answering for a few seconds at most: most texts still wait.
        assert Notification.objects.filter(pk__in=[t.pk for t in texts], state="pending").count() >= 3
        assert sum(sink_read(sink).values()) <= 3
    finally:
        procs.stop(worker)
    assert worker.returncode == 0  # SIGTERM ends it after the message in the gateway's hands
    for case in cases:
        assert Supervision.objects.filter(case=case, kind="overdue").count() == 1
