"""What the health endpoint and the metrics report (selectors; read-only, no personal data).

Each figure is one cheap query on an index the engine keeps anyway: the outbox's partial index on
pending rows, the clocks' partial index on running clocks not yet overdue, the supervision items'
partial unique index on open items, and the small table of worker heartbeats.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Min, Q
from django.utils import timezone


def _seconds(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def worker_max_age() -> int:
    return _seconds("CIVICGRID_HEALTH_WORKER_MAX_AGE_SECONDS", 120)


def outbox_max_age() -> int:
    return _seconds("CIVICGRID_HEALTH_OUTBOX_MAX_AGE_SECONDS", 600)


def sweep_max_lag() -> int:
    return _seconds("CIVICGRID_HEALTH_SWEEP_MAX_LAG_SECONDS", 300)


@dataclass
class Signals:
    now: dt.datetime
    database: bool = False
    database_error: str = ""
    workers: int = 0  # heartbeats younger than the limit
    worker_age: float | None = None  # seconds since the newest heartbeat; None: no worker ever beat
    outbox_due: int = 0  # pending notifications whose time has come
    outbox_oldest_due_age: float = 0.0  # how long the oldest of them has waited
    sweep_lag: float = 0.0  # how long ago the oldest clock fell due that the sweep has not marked
    supervision_open: dict[str, int] = field(default_factory=dict)  # open supervision items by kind

    def checks(self) -> dict[str, dict[str, Any]]:
        """Each check: ok or not, with the figure it judged (numbers only: nothing personal)."""
        if not self.database:
            return {"database": {"ok": False, "error": self.database_error}}
        age = None if self.worker_age is None else round(self.worker_age, 1)
        return {
            "database": {"ok": True},
            "worker": {"ok": age is not None and age <= worker_max_age(), "heartbeat_age_seconds": age,
                       "live_workers": self.workers, "max_age_seconds": worker_max_age()},
            "outbox": {"ok": self.outbox_oldest_due_age <= outbox_max_age(), "due": self.outbox_due,
                       "oldest_due_age_seconds": round(self.outbox_oldest_due_age, 1),
                       "max_age_seconds": outbox_max_age()},
            "sweep": {"ok": self.sweep_lag <= sweep_max_lag(), "lag_seconds": round(self.sweep_lag, 1),
                      "max_lag_seconds": sweep_max_lag()},
        }


def database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, ""
    except Exception as exc:
        if not connection.in_atomic_block:
            connection.close()  # the next request opens a fresh one (the server may be back)
        # The class only: a driver's message may name hosts and users.
        return False, type(exc).__name__


def signals_read(*, now: dt.datetime | None = None, database_only: bool = False) -> Signals:
    from civicgrid.cases.models import Supervision, Timer, TimerState, WorkerHeartbeat
    from civicgrid.notify.models import Notification, NotificationState

    now = now or timezone.now()
    s = Signals(now=now)
    s.database, s.database_error = database_ok()
    if not s.database or database_only:
        return s
    beats = WorkerHeartbeat.objects.aggregate(
        newest=Max("beat_at"),
        live=Count("id", filter=Q(beat_at__gte=now - dt.timedelta(seconds=worker_max_age()))))
    if beats["newest"] is not None:
        s.worker_age = max(0.0, (now - beats["newest"]).total_seconds())
    s.workers = beats["live"]
    due = Q(state=NotificationState.PENDING) & (Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True))
    outbox = Notification.objects.filter(due).aggregate(n=Count("id"), oldest=Min("next_attempt_at"))
    s.outbox_due = outbox["n"]
    if outbox["n"]:
        oldest = outbox["oldest"]
        if oldest is None:  # rows written without a time are due since they were made
            oldest = Notification.objects.filter(due, next_attempt_at__isnull=True).aggregate(m=Min("created_at"))["m"]
        s.outbox_oldest_due_age = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    oldest_due = (Timer.objects.filter(state=TimerState.RUNNING, overdue_at__isnull=True, due_at__lte=now)
                  .aggregate(m=Min("due_at"))["m"])
    s.sweep_lag = max(0.0, (now - oldest_due).total_seconds()) if oldest_due else 0.0
    s.supervision_open = dict(Supervision.objects.filter(closed_at__isnull=True).values_list("kind")
                              .annotate(n=Count("id")).values_list("kind", "n"))
    return s
