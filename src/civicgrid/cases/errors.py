"""What the engine answers when it refuses (each maps to an HTTP status in the API)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError


class CaseConflict(Exception):
    """Someone else changed the case first (two dispatchers at once): HTTP 409."""

    def __init__(self, message: str, *, action: str = "", actor_name: str = "") -> None:
        super().__init__(message)
        self.action, self.actor_name = action, actor_name


class TransitionRefused(PermissionDenied):
    """The actor reaches the case but their role may not do this: HTTP 403."""


class TransitionNotAllowed(ValidationError):
    """The action is not possible in the case's state, or it lacks what it requires: HTTP 422."""
