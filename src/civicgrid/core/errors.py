"""Errors shared by every layer."""

from __future__ import annotations


class StorageFull(RuntimeError):
    """The server could not store a file (its disk is full or unavailable). Nothing of the request
    was stored, so the same request may be sent again later: the API answers 503 with
    ``Retry-After``, a page shows the message at the ``field`` it names."""

    retry_after = 60

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class Conflict(Exception):
    """Somebody changed the record first ("already dispatched by X"): the API answers 409 with the
    message, a page shows it. The apps' own conflicts subclass it (``cases.errors.CaseConflict``)."""
