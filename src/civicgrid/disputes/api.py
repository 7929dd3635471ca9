"""Disputes endpoints (mounted at /api/v1/disputes): register a dispute, the routing offer of a
dispute, the screening reports and the grids that have not reported. Every step of a dispute is
the engine's one way in, ``/api/v1/cases/{id}/actions/{action}``."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import Strict

from civicgrid.cases.selectors import case_get
from civicgrid.core.api import ApiError
from civicgrid.disputes import selectors, services
from civicgrid.disputes.models import Scale, Source
from civicgrid.geo.models import Region
from civicgrid.org.permissions import ACT
from civicgrid.org.scoping import get_scoped_or_404

router = Router(tags=["disputes"])
StrictFloat = Annotated[float, Strict()]


class DisputePartyIn(Schema):
    kind: str = Field(..., description="applicant, respondent, third_party or representative")
    name: str = Field("", max_length=100)
    id_number: str = Field("", max_length=40)
    phone: str = Field("", max_length=40)
    address: str = Field("", max_length=300)


class DisputeIn(Schema):
    title: str
    dispute_type: str = Field(..., description="a code of the configured dispute types (GET /disputes/types)")
    summary: str = ""
    source: Source = Source.WALK_IN
    source_reference: str = Field("", max_length=100, description="the sender's reference (警情号, 案号 …)")
    scale: Scale = Scale.ORDINARY
    people_involved: int = Field(2, ge=1, le=1_000_000)
    amount: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    applicant_claim: str = ""
    respondent_claim: str = ""
    units_involved: str = Field("", max_length=300)
    threat_violence: bool = False
    threat_petition: bool = False
    lon: StrictFloat | None = None
    lat: StrictFloat | None = None
    region: str | None = Field(None, description="the grid or community code, when there is no point")
    address: str = Field("", max_length=200)
    parties: list[DisputePartyIn] = Field(default_factory=list, description="the parties (当事人), kept encrypted")


class DisputeOut(Schema):
    id: int
    tracking_code: str
    state: str
    high_risk: bool
    risk: list[str]
    offer: list[str]


def _out(case: Any) -> dict[str, Any]:
    d = selectors.dispute_detail(case)
    return {"id": case.pk, "tracking_code": case.tracking_code, "state": case.state,
            "high_risk": bool(d and d.high_risk), "risk": [f.reason for f in selectors.risk_flags(case)],
            "offer": [o.code for o in selectors.organisations_for(case)]}


@router.post("", response={201: DisputeOut}, summary="Register a dispute (登记)")
def register(request: HttpRequest, payload: DisputeIn) -> Status[dict[str, Any]]:
    """Registered where the actor may act (a grid worker in their grid, a centre or a mediator in
    their region); the risk rules run at once. The answer carries the risk reasons and the routing
    offer (the organisations in the default order)."""
    data = payload.dict(exclude={"region", "parties"})
    region = None
    if payload.region:
        region = get_scoped_or_404(Region.objects.all(), request.user, ACT, code=payload.region)
    case = services.dispute_register(actor=request.user, data=services.DisputeInput(
        region=region, parties=[services.PartyInput(**p.dict()) for p in payload.parties], **data))
    return Status(201, _out(case))


@router.get("/types", response=list[dict[str, str]], summary="The configured dispute types")
def types(request: HttpRequest) -> list[dict[str, str]]:
    return [{"code": c, "label": str(label)} for c, label in selectors.dispute_types()]


@router.get("/{int:case_id}", response=DisputeOut, summary="A dispute's risk and routing offer")
def detail(request: HttpRequest, case_id: int) -> dict[str, Any]:
    case = case_get(user=request.user, pk=case_id)
    if case.case_type != services.DISPUTE:
        raise ApiError(404, "not_found", "Not found.")
    return _out(case)


class ScreeningIn(Schema):
    region: str
    period: str = Field(..., description="the month, YYYY-MM")
    none_found: bool = False
    disputes: list[str] = Field(default_factory=list, description="tracking codes of the disputes found")
    note: str = ""


@router.post("/screening", response={201: dict}, summary="File a screening report (排查, 零报告)")
def screening(request: HttpRequest, payload: ScreeningIn) -> Status[dict[str, Any]]:
    region = get_scoped_or_404(Region.objects.all(), request.user, ACT, code=payload.region)
    found = list(selectors.disputes_visible(request.user).filter(tracking_code__in=payload.disputes))
    missing = sorted(set(payload.disputes) - {c.tracking_code for c in found})
    if missing:
        raise ApiError(422, "invalid", "The request has invalid fields.", {"disputes": [f"No dispute {missing[0]}."]})
    report = services.screening_file(actor=request.user, region=region, period=payload.period,
                                     none_found=payload.none_found, disputes=found, note=payload.note)
    return Status(201, {"id": report.pk, "region": region.code, "period": report.period,
                        "none_found": report.none_found, "disputes": [c.tracking_code for c in found]})


class PeriodQuery(Schema):
    period: str = Field(..., pattern=r"^\d{4}-(0[1-9]|1[0-2])$")


@router.get("/screening/missing", response=list[dict[str, str]], summary="Grids that have not reported")
def screening_missing(request: HttpRequest, q: Query[PeriodQuery]) -> list[dict[str, str]]:
    return [{"code": r.code, "name": r.name} for r in selectors.grids_not_reported(request.user, q.period)]
