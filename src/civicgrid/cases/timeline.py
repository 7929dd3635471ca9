"""The one constructor of timeline rows (办理记录): :func:`timeline_row`.

Every timeline entry is built here — by the services (a step's entry, written with the rest of the
step), by the sweep (its ``overdue``, ``escalate`` and ``problem`` entries are this row with a few
columns filled by SQL, see :func:`civicgrid.core.batch.select_list`) and by the bulk import (one
``create`` entry per event, written with ``COPY``) — so the three cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from civicgrid.cases.models import Case, TimelineEntry
from civicgrid.cases.registry import SYSTEM
from civicgrid.core.batch import new_row
from civicgrid.org.models import User


def actor_name(actor: User | None) -> str:
    """The name a timeline entry shows for ``actor``: the display name, else the username; the
    engine itself (``None``) is ``system``."""
    if actor is None:
        return SYSTEM
    return (getattr(actor, "display_name", "") or actor.get_username())[:150]


def timeline_row(
    *,
    case: Case | None = None,
    case_id: int | None = None,
    actor: User | None,
    action: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    attachments: Sequence[Any] = (),
    public: bool = False,
    at: dt.datetime | None = None,
) -> TimelineEntry:
    """One timeline entry, not yet saved. ``case`` (or, for rows written without loading their case,
    ``case_id``; neither for the sweep, whose SQL names the case); ``to_state`` defaults to
    ``from_state`` (a step that does not move the case); the actor is recorded only when signed in
    (an anonymous visitor or the system is ``actor=None``)."""
    account = actor if getattr(actor, "is_authenticated", False) else None
    entry = new_row(TimelineEntry, {
        "case_id": case_id,
        "at": at or timezone.now(),
        "actor_id": account.pk if account is not None else None,
        "actor_name": actor_name(actor),
        "action": action,
        "from_state": from_state,
        "to_state": to_state or from_state,
        "note": note,
        "data": data or {},
        "attachments": list(attachments),
        "public": public,
    })
    if account is not None:
        entry.actor = account
    if case is not None:
        entry.case = case
        if case.audience and note:  # a restricted case's note is kept encrypted (TimelineEntry.sealed_note)
            entry.sealed_note, entry.note = note, ""
    return entry
