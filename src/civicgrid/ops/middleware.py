"""Counts every request for the metrics and writes one access-log line per request (logger
``civicgrid.request``): method, route pattern, status, duration and — through the log filter — the
request id. Never the path or the query string: they may carry a phone number or a name searched for."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from civicgrid.ops.metrics import LATENCY, REQUESTS

log = logging.getLogger("civicgrid.request")


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.route or match.view_name or "?") if match is not None else "<unmatched>"


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            elapsed = time.perf_counter() - started
            route = route_of(request)
            REQUESTS.labels(request.method or "?", route, str(status)).inc()
            LATENCY.labels(request.method or "?", route).observe(elapsed)
            if getattr(settings, "CIVICGRID_ACCESS_LOG", True):
                log.info("%s %s %d %.1f ms", request.method, route, status, elapsed * 1000,
                         extra={"http_method": request.method, "route": route, "status": status,
                                "duration_ms": round(elapsed * 1000, 1)})

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A page whose database connection was lost or refused (a restart, a failover) answers 503
        with Retry-After: nothing of the request was committed, and sending it again is safe. (The
        API answers the same in its own error format: core.api.)"""
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        log.warning("database unavailable during %s %s: %s", request.method, route_of(request),
                    type(exception).__name__)
        response = HttpResponse(_("The service is unavailable for a moment. Nothing was saved: please try again."),
                                status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "5"
        return response
