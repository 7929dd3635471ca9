"""Prometheus metrics (prometheus_client).

Two kinds:

* Request metrics, counted by :class:`civicgrid.ops.middleware.RequestMetricsMiddleware` in each app
  process: requests by method, route *pattern* (``api/v1/events/<str:code>``, never the path
  itself: no case codes or search words in labels) and status, and their latency. With several
  app processes per host (granian/gunicorn workers) set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
  directory, the same for all of them and emptied at each start: the client library then adds
  up the processes' values (its multiprocess mode).
* State metrics, read from the database at each scrape (:func:`civicgrid.ops.signals.signals_read`):
  outbox backlog, sweep lag, worker heartbeat age, open supervision items (overdue cases and other
  alerts) — the same in every process, so any app server may be scraped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

REQUESTS = Counter("civicgrid_http_requests", "HTTP requests answered, by method, route pattern and status",
                   ["method", "route", "status"])
LATENCY = Histogram("civicgrid_http_request_duration_seconds", "Time to answer an HTTP request",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))


class StateCollector(Collector):
    """The platform's state, read at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from civicgrid.ops.signals import signals_read

        try:
            s = signals_read()
        except Exception:  # the database went away between two queries: say so, as a scrape must answer
            s = None
        up = s is not None and s.database
        yield GaugeMetricFamily("civicgrid_database_up", "1 when the database answered", value=int(up))
        if not up:
            return
        yield GaugeMetricFamily("civicgrid_worker_heartbeat_age_seconds",
                                "Seconds since the newest worker heartbeat (-1: no worker ever ran)",
                                value=-1 if s.worker_age is None else s.worker_age)
        yield GaugeMetricFamily("civicgrid_workers_live", "Workers whose heartbeat is recent", value=s.workers)
        yield GaugeMetricFamily("civicgrid_outbox_due", "Pending notifications whose time has come",
                                value=s.outbox_due)
        yield GaugeMetricFamily("civicgrid_outbox_oldest_due_age_seconds",
                                "How long the oldest due notification has waited", value=s.outbox_oldest_due_age)
        yield GaugeMetricFamily("civicgrid_sweep_lag_seconds",
                                "How long ago the oldest clock fell due that the sweep has not marked overdue",
                                value=s.sweep_lag)
        open_items = GaugeMetricFamily("civicgrid_supervision_open",
                                       "Open supervision items by kind (overdue: cases over their deadline)",
                                       labels=["kind"])
        from civicgrid.cases.models import Supervision

        for kind in Supervision.Kind.values:
            open_items.add_metric([kind], s.supervision_open.get(kind, 0))
        yield open_items


def render() -> bytes:
    """The text exposition of every metric."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # request metrics of every process on this host
        registry.register(StateCollector())
        return generate_latest(registry)
    registry.register(StateCollector())
    return generate_latest(REGISTRY) + generate_latest(registry)
