from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from civicgrid.core.context import (
    client_ip_var,
    correlation_id_var,
    new_request_id,
    request_id_var,
    token_minter_var,
)
from civicgrid.core.ratelimit import client_address

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    """Give every request an id of our own for its audit rows. A well-formed ``X-Request-ID`` from the
    client is kept as the correlation id, never as ours: a client must not choose the id that
    groups audit rows (it could make unrelated requests look like one)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        correlation = incoming if _SAFE_ID.match(incoming) else ""
        rid = new_request_id()
        t1 = request_id_var.set(rid)
        t2 = client_ip_var.set(client_address(request))  # behind our proxies, the client's
        t3 = correlation_id_var.set(correlation)
        t4 = token_minter_var.set(None)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(t1)
            client_ip_var.reset(t2)
            correlation_id_var.reset(t3)
            token_minter_var.reset(t4)
        response["X-Request-ID"] = rid
        if correlation:
            response["X-Correlation-ID"] = correlation
        return response


class RequestActorMiddleware:
    """Placeholder hook after authentication; the actor is always passed to services explicitly."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)
