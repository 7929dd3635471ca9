"""``civicgrid worker``: the background process that runs the case engine's sweep and the delivery
of the notification outbox.

It composes two loops, each in a thread of its own, on its own schedule: the sweep (this app's,
:func:`civicgrid.cases.sweep.cases_sweep`) and the delivery loop of ``civicgrid.notify``
(:class:`civicgrid.notify.delivery.DeliveryLoop`). So a long sweep (a million open clocks) does not
hold messages back, and a slow SMS gateway does not delay the sweep: deadlines are marked on time
while a message waits for the gateway. Each thread has its own database connection and reopens it
after a failure (a database restart), so the worker recovers on its own.

One process is enough; several may run against one PostgreSQL database (each claims its rows with
SKIP LOCKED, so no work is done twice). Killed at any moment (``kill -9``, a lost host), nothing is
lost: a sweep batch is one transaction, and a claimed message is delivered again when its lease
ends (at least once; the message id lets the gateway drop a repeat — see ``notify.channels``).

Other apps add steps of their own with :func:`civicgrid.core.loops.worker_step_register` (early
warning's tick, ``civicgrid.warning``): each runs on a thread of its own, at its interval (at least
the sweep's); ``--once`` runs each once after the sweep. The engine imports none of them.

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
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connection
from django.utils import timezone

from civicgrid.cases.models import WorkerHeartbeat
from civicgrid.cases.sweep import cases_sweep
from civicgrid.core.context import request_context
from civicgrid.core.loops import WORKER_STEPS, run_every
from civicgrid.notify.delivery import DeliveryLoop
from civicgrid.notify.outbox import OutboxReport

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
        self.delivery = self._delivery(outbox_interval)
        previous: dict[signal.Signals, Any] = {}
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
                run_every("round", lambda: self.round(batch_size=self.batch_size, outbox_limit=self.outbox_limit),
                          interval, self.stop)
            else:
                self._forget_stale()
                loops = [threading.Thread(target=run_every, args=("sweep", self.sweep_once, interval, self.stop),
                                          name="civicgrid-sweep", daemon=True),
                         threading.Thread(target=self.delivery.run, args=(self.stop,),
                                          name="civicgrid-outbox", daemon=True)]
                # the other apps' steps (early warning's tick), each on its own thread
                loops += [threading.Thread(target=run_every, args=(name, self._step(name, step),
                                                                   max(interval, every), self.stop),
                                           name=f"civicgrid-{name}", daemon=True)
                          for name, (step, every) in WORKER_STEPS.items()]
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

    def _delivery(self, interval: float) -> DeliveryLoop:
        """notify's delivery loop, writing this worker's heartbeat after each batch and each round."""
        return DeliveryLoop(limit=self.outbox_limit, interval=interval,
                            on_batch=lambda: heartbeat(self.name),  # a long backlog is work, not silence
                            on_round=lambda _report: heartbeat(self.name, delivered_at=timezone.now()))

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

    def _step(self, name: str, step: Any) -> Any:
        def run() -> str:
            with request_context():
                return str(step())
        return run

    def steps_once(self) -> str:
        return "".join(f"; {name}: {self._step(name, step)()}" for name, (step, _every) in WORKER_STEPS.items())

    def deliver_once(self) -> str:
        report: OutboxReport = self.delivery.round(self.stop)
        return report.summary()

    def round(self, *, batch_size: int, outbox_limit: int) -> str:
        """One sweep, then the outbox until it has nothing due; returns a one-line summary."""
        self.batch_size, self.outbox_limit = batch_size, outbox_limit
        if not hasattr(self, "stop"):
            self.stop = threading.Event()
            self.name = f"{socket.gethostname()}:{os.getpid()}"[:120]
        if getattr(self, "delivery", None) is None or self.delivery.limit != outbox_limit:
            self.delivery = self._delivery(10.0)  # (one round: the interval is not used)
        if not connection.in_atomic_block:  # (inside a test's transaction the connection must stay)
            close_old_connections()
        return f"sweep: {self.sweep_once()}{self.steps_once()}; outbox: {self.deliver_once()}"
