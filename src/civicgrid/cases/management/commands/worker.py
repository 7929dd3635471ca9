"""``civicgrid worker``: the background process that runs the sweep and delivers the outbox.

One process is enough; several may run against one PostgreSQL database (each claims its rows with
SKIP LOCKED, so no work is done twice). SIGTERM or SIGINT ends it after the step in progress.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connection

from civicgrid.audit.context import request_context
from civicgrid.cases.outbox import OutboxReport, outbox_deliver
from civicgrid.cases.sweep import cases_sweep

log = logging.getLogger("civicgrid.worker")


class Command(BaseCommand):
    help = "Run the case sweep and deliver notifications on a schedule until stopped (SIGTERM/SIGINT)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one round (sweep, then the outbox until empty), "
                                                                "then exit")
        parser.add_argument("--interval", type=float, default=10.0, help="seconds between rounds (default 10)")
        parser.add_argument("--batch-size", type=int, default=5000, help="sweep rows per transaction")
        parser.add_argument("--outbox-limit", type=int, default=500, help="notifications claimed at a time")

    def handle(self, *args: Any, **o: Any) -> None:
        if o["interval"] <= 0:
            raise CommandError("--interval must be positive")
        self.stop = threading.Event()
        previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, self._on_signal)
        try:
            log.info("worker started (interval %.0f s)", o["interval"])
            while True:
                try:
                    summary = self.round(batch_size=o["batch_size"], outbox_limit=o["outbox_limit"])
                    if o["once"]:
                        self.stdout.write(summary)
                except Exception:
                    if o["once"]:
                        raise
                    # A database restart or a network blip must not end the worker: log and go on.
                    log.exception("worker round failed; trying again in %.0f s", o["interval"])
                if o["once"] or self.stop.wait(o["interval"]):
                    break
            log.info("worker stopped")
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: Any) -> None:
        log.info("signal %d: stopping after the current step", signum)
        self.stop.set()
        signal.signal(signum, signal.SIG_DFL)  # a second signal stops at once

    def round(self, *, batch_size: int, outbox_limit: int) -> str:
        """One sweep, then the outbox until it has nothing due; returns a one-line summary."""
        if not connection.in_atomic_block:  # (inside a test's transaction the connection must stay)
            close_old_connections()
        with request_context():
            started = time.perf_counter()
            sweep = cases_sweep(batch_size=batch_size)
            total = OutboxReport()
            while not self.stop.is_set():
                got = outbox_deliver(limit=outbox_limit)
                for name in ("claimed", "sent", "deliveries", "retried", "failed"):
                    setattr(total, name, getattr(total, name) + getattr(got, name))
                if got.claimed < outbox_limit:
                    break
        summary = f"sweep: {sweep.summary()}; outbox: {total.summary()}"
        level = logging.INFO if sweep.changed or total.claimed else logging.DEBUG
        log.log(level, "round in %.2f s — %s", time.perf_counter() - started, summary)
        return summary
