"""Two app servers and two workers on one PostgreSQL database for 60 seconds at 20 reports/s and 5
status reads/s, with the sweep running: every report stored once, every outbox row delivered to
its people once (the fake gateway's sink sees each message id once), every clock that fell due
marked within one sweep interval. The ten-minute run is ``python -m bench.ops_soak``
(docs/benchmarks.md)."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from civicgrid.cases.models import Case, TimelineEntry, Timer, WorkerHeartbeat
from civicgrid.events.models import EventDetail
from civicgrid.events.tests.conftest import POINT_A
from civicgrid.notify.models import Notification
from civicgrid.ops.gateway import sink_read
from civicgrid.org.models import Role
from civicgrid.org.services import membership_grant, token_create, user_create

from . import procs, soak
from .conftest import report

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="two servers and two workers on one database need PostgreSQL; `make test` runs this"),
]

# bench/ops_soak.py runs this test for ten minutes (CIVICGRID_SOAK_SECONDS) and reads its figures
# from CIVICGRID_SOAK_REPORT.
SECONDS = int(os.environ.get("CIVICGRID_SOAK_SECONDS", "60"))
RATE, READS = 20, 5
SWEEP_INTERVAL = 3.0


def test_two_servers_and_two_workers_store_each_report_once_deliver_each_message_once_and_mark_clocks_in_time(
        world: Any, tmp_path):
    bot = user_create(actor=None, username="hotline_system", password=None, display_name="12345")
    membership_grant(actor=None, user=bot, role=Role.DISPATCHER, region=world.city.city)
    _token, token = token_create(actor=None, user=bot, name="soak", scopes=["intake", "read"])
    # District A's centre, which overdue cases escalate to, has someone to tell.
    dora = user_create(actor=None, username="dora", password=None, display_name="Dora")
    membership_grant(actor=None, user=dora, role=Role.DISPATCHER, region=world.city.a)
    early = [report(None, now=timezone.now(), text=f"小区门口上水井盖缺失 {n}号楼").case
             for n in range(max(30, SECONDS // 2))]
    sink = tmp_path / "sink.log"
    env = procs.environment(tmp_path, CIVICGRID_FAKE_GATEWAY_SINK=sink, CIVICGRID_DEBUG="false",
                            CIVICGRID_ACCESS_LOG="false", CIVICGRID_LOG_LEVEL="WARNING")
    ports = [18761, 18762]
    started: list[Any] = []
    try:
        started += soak.start_servers(env, ports, tmp_path)
        started += [procs.worker(env, tmp_path / f"worker-{n}.log", "--interval", str(SWEEP_INTERVAL),
                                 "--outbox-interval", "1", module="tests.ops.sink_worker") for n in range(2)]
        procs.wait_until(lambda: WorkerHeartbeat.objects.filter(swept_at__isnull=False).count() == 2, timeout=120,
                         what="both workers sweeping", procs=tuple(started[2:]), log=tmp_path / "worker-0.log",
                         every=0.5)
        # Clocks that fall due while the load runs, one every two seconds.
        start = timezone.now()
        due = {}
        for n, case in enumerate(early):
            clock = Timer.objects.filter(case=case, kind="handle").get()
            clock.due_at = start + dt.timedelta(seconds=5 + n * (SECONDS - 10) / len(early) + random.random())
            clock.save(update_fields=["due_at"])
            due[clock.pk] = clock.due_at
        load_started = time.monotonic()
        load = soak.run_load(ports=ports, token=token, rate=RATE, reads_per_second=READS, seconds=SECONDS,
                             point=POINT_A, run="soak")
        load_seconds = time.monotonic() - load_started
        procs.wait_until(lambda: not Notification.objects.filter(state="pending").exists(), timeout=120,
                         what="the outbox drained", every=0.5)
        drained_seconds = time.monotonic() - load_started - load_seconds
    finally:
        for p in started:
            procs.stop(p)
    print(f"\nreports {len(load.created)}/{load.reports_due} (replayed {load.replayed}, retries {load.retries}), "
          f"reads {load.reads}, p50 {load.p(0.5) * 1000:.0f} ms, p99 {load.p(0.99) * 1000:.0f} ms")

    # Every report stored once.
    assert not load.failed and len(load.created) == load.reports_due == SECONDS * RATE
    assert len(set(load.created.values())) == load.reports_due
    keys = [k.rsplit(":", 1)[1] for k in EventDetail.objects.filter(idempotency_key__isnull=False)
            .values_list("idempotency_key", flat=True)]
    assert sorted(keys) == sorted(load.created)
    assert Case.objects.count() == load.reports_due + len(early)
    assert not load.read_errors and load.reads >= SECONDS * READS - 1

    # Every outbox row delivered, each message id to the gateway once.
    calls = sink_read(sink)
    assert [mid for mid, n in calls.items() if n > 1] == []
    sent = set(Notification.objects.filter(state="sent").values_list("pk", flat=True))
    assert list(Notification.objects.exclude(state="sent").values_list("event", "last_error")) == []
    assert {int(mid.split("-")[1]) for mid in calls} == sent

    # Every clock that fell due marked once, within one sweep interval.
    lags = {}
    for clock in Timer.objects.filter(pk__in=due):
        assert clock.overdue_at is not None, clock
        lags[clock.pk] = (clock.overdue_at - due[clock.pk]).total_seconds()
    print(f"sweep lag: max {max(lags.values()):.2f} s (interval {SWEEP_INTERVAL} s)")
    if os.environ.get("CIVICGRID_SOAK_REPORT"):
        with open(os.environ["CIVICGRID_SOAK_REPORT"], "w") as f:
            json.dump({"seconds": SECONDS, "rate": RATE, "reads_per_second": READS, "reports": len(load.created),
                       "reports_due": load.reports_due, "replayed": load.replayed, "retries": load.retries,
                       "reads": load.reads, "read_errors": len(load.read_errors), "p50_ms": load.p(0.5) * 1000,
                       "p99_ms": load.p(0.99) * 1000, "max_ms": max(load.latencies) * 1000,
                       "load_seconds": load_seconds, "drained_seconds": drained_seconds,
                       "messages": sum(calls.values()), "duplicate_ids": sum(1 for n in calls.values() if n > 1),
                       "notifications": len(sent), "clocks": len(lags), "max_sweep_lag_s": max(lags.values()),
                       "sweep_interval_s": SWEEP_INTERVAL}, f)
    assert max(lags.values()) <= SWEEP_INTERVAL + 0.5, lags
    named = Counter(k for case in early for e in TimelineEntry.objects.filter(case=case, action="overdue")
                    for k in e.data["clocks"])
    assert named["handle"] == len(early)
