"""Small pieces the page views share: turning the services' refusals into messages next to the
fields, reading uploaded photos, and answering a retried upload (same idempotency key) once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from civicgrid.cases.errors import CaseConflict
from civicgrid.core.errors import StorageFull
from civicgrid.events.photos import PhotoUpload

T = TypeVar("T")
NON_FIELD = "form"  # errors not tied to one field (templates cannot read "__all__")
KEY_TTL = 24 * 3600  # a retried upload is recognised for a day


class ActionFailed(Exception):
    """A service refused the input: ``errors`` maps a field (or ``__all__``) to its messages."""

    def __init__(self, errors: dict[str, list[str]], status: int = 422) -> None:
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors, self.status = errors, status


def errors_of(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {(NON_FIELD if k == "__all__" else k): [str(m) for m in ValidationError(v).messages]
                for k, v in exc.error_dict.items()}
    return {NON_FIELD: [str(m) for m in exc.messages]}


def run(call: Callable[[], T]) -> T:
    """Call a service; its input refusals (422) and conflicts (409) become :class:`ActionFailed`.
    Out of scope (404) and role refusals (403) pass through to Django's own answers."""
    try:
        return call()
    except ValidationError as exc:
        raise ActionFailed(errors_of(exc)) from None
    except CaseConflict as exc:
        raise ActionFailed({NON_FIELD: [str(exc)]}, status=409) from None
    except StorageFull as exc:  # nothing was stored: the form may be sent again later
        raise ActionFailed({exc.field or NON_FIELD: [str(exc)]}, status=503) from None


def uploaded_photos(request: HttpRequest, field: str = "photos") -> list[PhotoUpload]:
    return [PhotoUpload(f.name or "photo", f.read()) for f in request.FILES.getlist(field)]


def idempotency_key(request: HttpRequest) -> str:
    return (request.POST.get("idempotency_key") or request.headers.get("Idempotency-Key") or "").strip()[:100]


def _key(request: HttpRequest, key: str) -> str | None:
    """The replay cache's key, per person or browser session. A visitor with no session shares
    nothing with other visitors: no replay here (intake still answers a true retry with the
    first report, by key and content)."""
    who = request.user.pk if request.user.is_authenticated else request.session.session_key
    return f"web:idem:{who}:{key}" if key and who else None


def replayed(request: HttpRequest) -> str | None:
    """Where a submission with this key already led (a retry after a dropped connection), if any."""
    key = _key(request, idempotency_key(request))
    return caches["default"].get(key) if key else None


def remember(request: HttpRequest, url: str) -> None:
    key = _key(request, idempotency_key(request))
    if key:
        caches["default"].set(key, url, KEY_TTL)


def flat_errors(errors: dict[str, list[str]]) -> str:
    return " ".join(m for ms in errors.values() for m in ms) or _("The request was refused.")


def as_int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
