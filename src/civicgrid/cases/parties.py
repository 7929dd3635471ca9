"""The one constructor of party rows (当事人): :func:`party_row`.

Intake writes the reporter's row with the case (``services._case_insert``: on PostgreSQL in the
case's one statement), the bulk import writes it with ``COPY``, and ``services.party_add`` writes
the parties staff add — all built here, so the paths cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from civicgrid.cases.models import Case, Party
from civicgrid.core.batch import new_row


def party_row(*, case: Case | None = None, case_id: int | None = None, kind: str, name: str = "",
              id_number: str = "", phone: str = "", address: str = "", created_by: Any = None,
              at: dt.datetime | None = None) -> Party:
    """One party, not yet saved, of ``case`` (or ``case_id``, for rows written without loading the
    case). Values are stripped; the keyed hashes are computed when the row is written (the
    encrypted fields' ``pre_save``)."""
    at = at or timezone.now()
    account = created_by if getattr(created_by, "is_authenticated", False) else None
    party = new_row(Party, {"case_id": case_id, "kind": kind, "name": (name or "").strip(),
                            "id_number": (id_number or "").strip(), "phone": (phone or "").strip(),
                            "address": (address or "").strip(), "created_at": at, "updated_at": at,
                            "created_by_id": account.pk if account is not None else None})
    if case is not None:
        party.case = case
    return party
