"""Background loops of a worker process: a step run at a fixed rate until stopped, on its own
database connection, surviving a failed round (a database restart, a network blip)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.db import close_old_connections, connection

log = logging.getLogger("civicgrid.worker")


def run_every(what: str, step: Callable[[], object], interval: float, stop: threading.Event) -> None:
    """Run ``step`` every ``interval`` seconds until ``stop`` is set; a failed round is logged and
    retried after the interval.

    Rounds start at a fixed rate (a round that took 2 s of a 10 s interval is followed 8 s later),
    so, for the sweep, a clock that falls due is marked within one interval of its due time. In a
    thread of its own the loop closes its connection when it ends."""
    try:
        while not stop.is_set():
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
            if stop.wait(max(0.0, interval - (time.monotonic() - started))):
                break
    finally:
        if threading.current_thread() is not threading.main_thread():
            connection.close()


# Steps other apps run in the worker beside the case sweep, each on its own thread and schedule
# (``civicgrid worker``): an app registers its step in its AppConfig.ready(), so the worker (in the
# case engine) imports no app above it. Early warning's tick is one (civicgrid.warning).
WORKER_STEPS: dict[str, tuple[Callable[[], object], float]] = {}


def worker_step_register(name: str, step: Callable[[], object], *, interval: float) -> None:
    """Have the worker call ``step`` every ``interval`` seconds (at most as often as its sweep)."""
    WORKER_STEPS[name] = (step, interval)
