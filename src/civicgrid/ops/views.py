"""``/healthz``, ``/healthz/app`` and ``/metrics``: for load balancers and monitoring, not people.

``/healthz/app`` answers 200 when this app process can serve (its database answers), else 503: what
a load balancer should probe — a stopped worker is no reason to take app servers out of rotation.
``/healthz`` adds the worker's heartbeat, the outbox backlog and the sweep lag, 503 when any is
out of bounds: what monitoring should probe. Both are open (no sign-in) and say nothing personal
or secret: numbers and ok/not ok.

``/metrics`` is the Prometheus text exposition, for a scraper that presents the token
``CIVICGRID_METRICS_TOKEN`` (``Authorization: Bearer …``) or connects from an address in
``CIVICGRID_METRICS_ALLOW`` (addresses or networks; default none in production, the loopback
addresses elsewhere). Anyone else gets 404, as if it were not there.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from civicgrid.ops.signals import signals_read


def _answer(checks: dict) -> JsonResponse:
    ok = all(c.get("ok") for c in checks.values())
    return JsonResponse({"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503)


@never_cache
@require_GET
def health_app(request: HttpRequest) -> JsonResponse:
    return _answer({"database": signals_read(database_only=True).checks()["database"]})


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    return _answer(signals_read().checks())


def metrics_allowed(request: HttpRequest) -> bool:
    token = str(getattr(settings, "CIVICGRID_METRICS_TOKEN", "") or "")
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    for allowed in getattr(settings, "CIVICGRID_METRICS_ALLOW", []):
        try:
            if address in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue
    return False


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return HttpResponse(status=404)
    from prometheus_client import CONTENT_TYPE_LATEST

    from civicgrid.ops.metrics import render

    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
