"""The request context: who and where a piece of work comes from, for the rows it writes.

Our request id, the client's correlation id, the client address and the minter of the API token a
request came with. Set by :mod:`civicgrid.audit.middleware` for web requests and by the CLI
(:class:`civicgrid.core.commands.CivicCommand`) and the worker for their runs; read by the audit
trail (:func:`civicgrid.audit.services.audit_entry`), the bulk import and the logs. It lives in
``core``, the lowest layer, so that anything may set or read it; it holds context variables so that
services need not pass the request around.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("civicgrid_request_id", default="")
client_ip_var: ContextVar[str] = ContextVar("civicgrid_client_ip", default="")
# The client's own X-Request-ID (well formed), kept apart from ours: a client chooses it, so it
# correlates with the client's logs but proves nothing.
correlation_id_var: ContextVar[str] = ContextVar("civicgrid_correlation_id", default="")
# Who minted the API token a request came with (an action taken with a token names its minter too).
token_minter_var: ContextVar[object | None] = ContextVar("civicgrid_token_minter", default=None)


def current_request_id() -> str:
    return request_id_var.get() or ""


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def request_context(request_id: str | None = None, client_ip: str = "") -> Iterator[str]:
    """Run a block (a command, a task) under one request id so its audit rows group together."""
    rid = request_id or new_request_id()
    t1 = request_id_var.set(rid)
    t2 = client_ip_var.set(client_ip)
    try:
        yield rid
    finally:
        request_id_var.reset(t1)
        client_ip_var.reset(t2)
