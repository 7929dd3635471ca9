"""Dispatch suggestions and duplicate candidates (mounted at /api/v1/dispatch/).

``POST /suggest``: any signed-in user (the 12345 agent, a dispatcher) asks for the category and
department of a text. ``GET /cases/{id}/duplicates`` and ``POST /cases/{id}/correction`` act on a case
in the user's jurisdiction (404 outside it); the duplicate candidates listed are only cases the user
may view too. Merging a duplicate is the case engine's merge.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from civicgrid.cases.models import Case
from civicgrid.core.api import ApiError
from civicgrid.dispatch import selectors, services
from civicgrid.org.permissions import ACT, VIEW
from civicgrid.org.scoping import get_scoped_or_404
from civicgrid.taxonomy.selectors import category_by_code

router = Router(tags=["dispatch"])


class SuggestIn(Schema):
    text: str
    title: str = ""
    region: str | None = None  # a region code (grid, community, street…), when the place is known


class CategoryRef(Schema):
    code: str
    name: str


class LevelOut(Schema):
    label: str
    category: CategoryRef | None
    confidence: float


class DepartmentRef(Schema):
    code: str
    name: str


class SuggestOut(Schema):
    auto: bool
    reason: str
    category: CategoryRef | None
    confidence: float
    levels: list[LevelOut]
    department: DepartmentRef | None
    department_confidence: float
    department_reason: str
    model_version: int | None
    alternatives: list[tuple[str, float]]


class DuplicateOut(Schema):
    id: int
    tracking_code: str
    title: str
    distance_m: float | None
    hours_apart: float
    similarity: float
    reason: str


class CorrectionIn(Schema):
    category: str  # the category code chosen
    suggested: str | None = None  # the code that was suggested
    model_version: int | None = Field(None, ge=0, le=2**31 - 1, description="the model version that suggested it")


class CorrectionOut(Schema):
    id: int
    case: str
    chosen: str
    suggested: str | None


def _cat(c: Any) -> dict[str, str] | None:
    return {"code": c.code, "name": c.name} if c is not None else None


@router.post("/suggest", response=SuggestOut, summary="Suggest the category and department for a text")
def suggest(request: HttpRequest, payload: SuggestIn) -> dict[str, Any]:
    if not payload.text.strip() and not payload.title.strip():
        raise ApiError(422, "invalid", "The request has invalid fields.", {"text": ["Give the text to classify."]})
    try:
        s = selectors.suggest(payload.text, title=payload.title, region=payload.region or None)
    except selectors.ModelIntegrityError as exc:  # before ValueError: it is one, but not the caller's fault
        raise ApiError(503, "unavailable", _("The active dispatch model cannot be used: %(why)s")
                       % {"why": exc}) from None
    except ValueError as exc:
        raise ApiError(422, "invalid", "The request has invalid fields.", {"region": [str(exc)]}) from None
    return {
        "auto": s.auto, "reason": s.reason, "category": _cat(s.category), "confidence": s.confidence,
        "levels": [{"label": lv.label, "category": _cat(lv.category), "confidence": lv.confidence}
                   for lv in s.levels],
        "department": {"code": s.department.code, "name": s.department.name} if s.department else None,
        "department_confidence": s.department_confidence, "department_reason": s.department_reason,
        "model_version": s.model_version, "alternatives": s.alternatives,
    }


@router.get("/cases/{case_id}/duplicates", response=list[DuplicateOut],
            summary="Open cases that probably report the same problem as this one")
def duplicates(request: HttpRequest, case_id: int) -> list[dict[str, Any]]:
    case = get_scoped_or_404(Case.objects.all(), request.user, VIEW, pk=case_id)
    return [{"id": c.case_id, "tracking_code": c.tracking_code, "title": c.title, "distance_m": c.distance_m,
             "hours_apart": c.hours_apart, "similarity": c.similarity, "reason": c.reason}
            for c in selectors.duplicate_candidates_for_case(case, user=request.user)]


@router.post("/cases/{case_id}/correction", response={201: CorrectionOut},
             summary="Record the category a dispatcher chose instead of the suggestion")
def correction(request: HttpRequest, case_id: int, payload: CorrectionIn) -> Status[dict[str, Any]]:
    case = get_scoped_or_404(Case.objects.all(), request.user, ACT, pk=case_id)
    chosen = category_by_code(payload.category)
    if chosen is None or not chosen.is_active:
        raise ApiError(422, "invalid", "The request has invalid fields.", {"category": ["Unknown category."]})
    suggested = category_by_code(payload.suggested) if payload.suggested else None
    if payload.suggested and suggested is None:
        raise ApiError(422, "invalid", "The request has invalid fields.", {"suggested": ["Unknown category."]})
    row = services.correction_record(actor=request.user, case=case, chosen=chosen, suggested=suggested,
                                     model_version=payload.model_version)
    return Status(201, {"id": row.pk, "case": case.tracking_code, "chosen": chosen.code,
                        "suggested": suggested.code if suggested else None})
