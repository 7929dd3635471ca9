"""``civicgrid worker``: the background process that runs the sweep and delivers the outbox.

The sweep and the delivery run in two threads of the process, each on its own schedule, so a long
sweep (a million open clocks) does not hold messages back and a slow SMS gateway does not delay
the sweep. Each thread has its own database connection and reopens it after a failure (a
database restart), so the worker recovers on its own.

One process is enough; several may run against one PostgreSQL database (each claims its rows with
SKIP LOCKED, so no work is done twice). Killed at any moment (``kill -9``, a lost host), nothing is
lost: a sweep batch is one transaction, and a claimed message is delivered again when its lease
ends (at least once; the message id lets the gateway drop a repeat — see ``cases.channels``).

Each process writes a heartbeat row (:class:`~civicgrid.cases.models.WorkerHeartbeat`) after every
round of either loop; the health endpoint and the metrics read it. SIGTERM or SIGINT ends it after
the step in progress.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connection
from django.utils import timezone

from civicgrid.cases.models import WorkerHeartbeat
from civicgrid.cases.outbox import OutboxReport, outbox_deliver
from civicgrid.cases.sweep import cases_sweep
from civicgrid.core.context import request_context

log = logging.getLogger("civicgrid.worker")

#: Heartbeat rows of workers silent for this long are removed when a worker starts.
STALE_HEARTBEAT = dt.timedelta(days=1)


def heartbeat(name: str, **fields: Any) -> None:
    """Record that worker ``name`` is alive now (and, in ``fields``, what it just finished)."""
    now = timezone.now()
    if not WorkerHeartbeat.objects.filter(name=name).update(beat_at=now, **fields):
        WorkerHeartbeat.objects.get_or_create(name=name, defaults={"started_at": now, "beat_at": now, **fields})


class Command(BaseCommand):
    help = "Run the case sweep and deliver notifications on a schedule until stopped (SIGTERM/SIGINT)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one round (sweep, then the outbox until empty), "
                                                                "then exit")
        parser.add_argument("--interval", type=float, default=10.0, help="seconds between sweeps (default 10)")
        parser.add_argument("--outbox-interval", type=float, default=None,
                            help="seconds between delivery rounds (default: the sweep's interval)")
        parser.add_argument("--batch-size", type=int, default=5000, help="sweep rows per transaction")
        parser.add_argument("--outbox-limit", type=int, default=500, help="notifications claimed at a time")

    def handle(self, *args: Any, **o: Any) -> None:
        interval = o["interval"]
        outbox_interval = interval if o["outbox_interval"] is None else o["outbox_interval"]
        if interval <= 0 or outbox_interval <= 0:
            raise CommandError("--interval and --outbox-interval must be positive")
        self.stop = threading.Event()
        self.name = f"{socket.gethostname()}:{os.getpid()}"[:120]
        self.batch_size, self.outbox_limit = o["batch_size"], o["outbox_limit"]
        previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, self._on_signal)
        try:
            if o["once"]:
                self.stdout.write(self.round(batch_size=self.batch_size, outbox_limit=self.outbox_limit))
                return
            log.info("worker %s started (sweep every %.0f s, outbox every %.0f s)", self.name, interval,
                     outbox_interval)
            if connection.in_atomic_block:
                # Inside a caller's transaction (a test) other threads could not see its rows: one
                # thread does both, one after the other.
                self._loop("round", lambda: self.round(batch_size=self.batch_size,
                                                       outbox_limit=self.outbox_limit), interval)
            else:
                self._forget_stale()
                loops = [threading.Thread(target=self._loop, args=("sweep", self.sweep_once, interval),
                                          name="civicgrid-sweep", daemon=True),
                         threading.Thread(target=self._loop, args=("outbox", self.deliver_once, outbox_interval),
                                          name="civicgrid-outbox", daemon=True)]
                for t in loops:
                    t.start()
                while any(t.is_alive() for t in loops):
                    self.stop.wait(0.5)  # short waits: signals are handled in this thread
                    for t in loops:
                        t.join(timeout=0.01)
                self._forget_self()
            log.info("worker %s stopped", self.name)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: Any) -> None:
        log.info("signal %d: stopping after the current step", signum)
        self.stop.set()
        signal.signal(signum, signal.SIG_DFL)  # a second signal stops at once

    def _loop(self, what: str, step: Callable[[], Any], interval: float) -> None:
        """Run ``step`` every ``interval`` seconds until stopped; a failed round is logged and retried.

        Rounds start at a fixed rate (a round that took 2 s of a 10 s interval is followed 8 s
        later), so a clock that falls due is marked within one interval of its due time."""
        try:
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    if not connection.in_atomic_block:
                        close_old_connections()  # drops a connection a database restart broke
                    step()
                except Exception:
                    # A database restart or a network blip must not end the worker: log and go on.
                    log.exception("worker %s failed; trying again in %.0f s", what, interval)
                    if not connection.in_atomic_block:
                        connection.close()
                if self.stop.wait(max(0.0, interval - (time.monotonic() - started))):
                    break
        finally:
            if threading.current_thread() is not threading.main_thread():
                connection.close()

    def _forget_stale(self) -> None:
        try:
            WorkerHeartbeat.objects.filter(beat_at__lt=timezone.now() - STALE_HEARTBEAT).delete()
        except Exception:
            log.exception("could not remove stale worker heartbeats")

    def _forget_self(self) -> None:
        connection.close()  # this thread's connection may be hours old (or gone with a database restart)
        try:
            WorkerHeartbeat.objects.filter(name=self.name).delete()
        except Exception:  # the database may be gone; the row then ages out
            log.exception("could not remove this worker's heartbeat")
        finally:
            connection.close()

    def sweep_once(self) -> str:
        with request_context():
            started = time.perf_counter()
            sweep = cases_sweep(batch_size=self.batch_size)
            heartbeat(self.name, swept_at=sweep.now)
            level = logging.INFO if sweep.changed else logging.DEBUG
            log.log(level, "sweep in %.2f s — %s", time.perf_counter() - started, sweep.summary())
        return sweep.summary()

    def deliver_once(self) -> str:
        with request_context():
            started = time.perf_counter()
            total = OutboxReport()
            while not self.stop.is_set():
                got = outbox_deliver(limit=self.outbox_limit)
                for name in ("claimed", "sent", "deliveries", "retried", "failed"):
                    setattr(total, name, getattr(total, name) + getattr(got, name))
                heartbeat(self.name)  # a long backlog is work, not silence
                if got.claimed < self.outbox_limit:
                    break
            heartbeat(self.name, delivered_at=timezone.now())
            level = logging.INFO if total.claimed else logging.DEBUG
            log.log(level, "outbox in %.2f s — %s", time.perf_counter() - started, total.summary())
        return total.summary()

    def round(self, *, batch_size: int, outbox_limit: int) -> str:
        """One sweep, then the outbox until it has nothing due; returns a one-line summary."""
        self.batch_size, self.outbox_limit = batch_size, outbox_limit
        if not hasattr(self, "stop"):
            self.stop = threading.Event()
            self.name = f"{socket.gethostname()}:{os.getpid()}"[:120]
        if not connection.in_atomic_block:  # (inside a test's transaction the connection must stay)
            close_old_connections()
        return f"sweep: {self.sweep_once()}; outbox: {self.deliver_once()}"
