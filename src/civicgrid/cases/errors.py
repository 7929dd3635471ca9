"""What the engine answers when it refuses. Each maps to an HTTP status in one place, the API's
exception handlers (``core.api.build_api``): OutOfScope and UnknownAction 404 (``Http404``),
TransitionRefused 403 (``PermissionDenied``), TransitionNotAllowed 422 with its fields
(``ValidationError``), CaseConflict 409 (``core.errors.Conflict``). Pages map the same classes."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from civicgrid.core.errors import Conflict


class CaseConflict(Conflict):
    """Someone else changed the case first (two dispatchers at once): HTTP 409."""

    def __init__(self, message: str, *, action: str = "", actor_name: str = "") -> None:
        super().__init__(message)
        self.action, self.actor_name = action, actor_name


class TransitionRefused(PermissionDenied):
    """The actor reaches the case but their role may not do this: HTTP 403."""


class TransitionNotAllowed(ValidationError):
    """The action is not possible in the case's state, or it lacks what it requires: HTTP 422."""


class UnknownAction(Http404):
    """The case's type has no such action: HTTP 404."""
