"""The delivery loop of the notification outbox: what a worker runs, in a thread of its own, to
send what the services queued. It is apart from the case engine's sweep on purpose: a slow SMS
gateway holds back only the messages behind it, never the marking of overdue clocks.

``civicgrid worker`` composes this loop with the engine's sweep (``cases``' worker command); the
loop itself knows nothing of cases. It reports each batch and each finished round through
callbacks (the worker writes its heartbeat there)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from civicgrid.core.context import request_context
from civicgrid.core.loops import run_every
from civicgrid.notify.outbox import OutboxReport, outbox_deliver

log = logging.getLogger("civicgrid.worker")


class DeliveryLoop:
    """Deliver the outbox until it has nothing due, every ``interval`` seconds.

    ``on_batch`` is called after each batch of ``limit`` claimed notifications (a long backlog is
    work, not silence); ``on_round`` after each round, with its report."""

    what = "outbox"

    def __init__(self, *, limit: int = 500, interval: float = 10.0,
                 on_batch: Callable[[], None] | None = None,
                 on_round: Callable[[OutboxReport], None] | None = None) -> None:
        if limit < 1 or interval <= 0:
            raise ValueError("the delivery loop needs a positive limit and interval")
        self.limit, self.interval = limit, interval
        self.on_batch, self.on_round = on_batch, on_round

    def round(self, stop: threading.Event | None = None) -> OutboxReport:
        """Deliver batch after batch until fewer than ``limit`` were due (or ``stop`` is set)."""
        with request_context():
            started = time.perf_counter()
            total = OutboxReport()
            while stop is None or not stop.is_set():
                got = outbox_deliver(limit=self.limit)
                total.add(got)
                if self.on_batch is not None:
                    self.on_batch()
                if got.claimed < self.limit:
                    break
            if self.on_round is not None:
                self.on_round(total)
            level = logging.INFO if total.claimed else logging.DEBUG
            log.log(level, "outbox in %.2f s — %s", time.perf_counter() - started, total.summary())
        return total

    def run(self, stop: threading.Event) -> None:
        """Rounds at a fixed rate until ``stop`` is set (the body of the worker's delivery thread)."""
        run_every(self.what, lambda: self.round(stop), self.interval, stop)
