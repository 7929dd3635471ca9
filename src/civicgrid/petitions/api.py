"""Petitions endpoints (mounted at /api/v1/petitions): the office receives a petition, and records the
delivery of a written answer (the request windows run from it). Every other step is the engine's
one way in, ``/api/v1/cases/{id}/actions/{action}``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import Strict

from civicgrid.cases.models import CaseDocument
from civicgrid.cases.selectors import case_get
from civicgrid.cases.services import Location
from civicgrid.core.api import ApiError
from civicgrid.org.models import Department, Membership, Role
from civicgrid.petitions import selectors, services
from civicgrid.petitions.casetype import PETITION
from civicgrid.petitions.models import Form, Kind

router = Router(tags=["petitions"])
StrictFloat = Annotated[float, Strict()]


class PersonIn(Schema):
    name: str = Field("", max_length=50)
    id_number: str = Field("", max_length=18)
    phone: str = Field("", max_length=20)
    address: str = Field("", max_length=200)


class PetitionIn(Schema):
    office: str = Field(..., description="the code of the petition office receiving it (the actor works there)")
    kind: Kind
    form: Form = Form.VISIT
    title: str = Field(..., max_length=200)
    text: str = ""
    matter: str = Field("", max_length=200, description="the matter in a few words (the same words: a repeat)")
    petitioner: PersonIn | None = None
    representatives: list[PersonIn] = Field(default_factory=list)
    group_size: int = Field(1, ge=1, le=100_000)
    anonymous: bool = False
    accused_department: str | None = Field(None, description="the code of the unit an accusation accuses")
    lon: StrictFloat | None = None
    lat: StrictFloat | None = None
    address: str = Field("", max_length=200)


class PetitionOut(Schema):
    id: int
    tracking_code: str
    state: str
    kind: str
    repeat: bool
    skip_level: bool
    notice_owed: bool


def _out(case: Any) -> dict[str, Any]:
    d = case.petition
    return {"id": case.pk, "tracking_code": case.tracking_code, "state": case.state, "kind": d.kind,
            "repeat": d.repeat, "skip_level": d.skip_level, "notice_owed": d.notice_owed}


@router.post("", response={201: PetitionOut}, summary="Receive a petition (信访登记)")
def receive(request: HttpRequest, payload: PetitionIn) -> Status[dict[str, Any]]:
    """Received by a handler of the petition office named (another office is 404). The answer says
    whether it repeats an earlier petition, skips a level, and whether written notices are owed."""
    user = request.user
    office = Department.objects.filter(code=payload.office, is_active=True).first()
    works_there = office is not None and (getattr(user, "is_superuser", False) or Membership.objects.filter(
        user_id=int(user.pk or 0), department=office, role=Role.DEPARTMENT_HANDLER, is_active=True).exists())
    if office is None or not works_there:
        raise ApiError(404, "not_found", "No petition office matches the given query.")
    accused = None
    if payload.accused_department:
        accused = Department.objects.filter(code=payload.accused_department).first()
        if accused is None:
            raise ApiError(422, "invalid", "The request has invalid fields.",
                           {"accused_department": ["No unit of that code."]})
    location = Location(lon=payload.lon, lat=payload.lat) if payload.lon is not None and payload.lat is not None \
        else None
    case = services.petition_receive(actor=user, office=office, petition=services.Petition(
        kind=payload.kind, form=payload.form, title=payload.title, text=payload.text, matter=payload.matter,
        petitioner=services.Person(**payload.petitioner.dict()) if payload.petitioner else services.Person(),
        representatives=tuple(services.Person(**r.dict()) for r in payload.representatives),
        group_size=payload.group_size, anonymous=payload.anonymous, accused_department=accused,
        location=location, address=payload.address))
    return Status(201, _out(case))


class DeliveryIn(Schema):
    document: int = Field(..., description="the id of the case's document (its current version is delivered)")
    party: str = Field(..., max_length=200, description="delivered to")
    method: str = Field(..., description="in_person, post, sms, online")
    delivered_at: dt.datetime | None = None
    note: str = ""


@router.post("/{int:case_id}/deliveries", response={201: dict}, summary="Record a delivery (送达)")
def deliver(request: HttpRequest, case_id: int, payload: DeliveryIn) -> Status[dict[str, Any]]:
    """The delivery of a written answer; the reply's or the review opinion's opens the 30-day request
    window from the delivery's time."""
    case = case_get(user=request.user, pk=case_id)
    if case.case_type != PETITION:
        raise ApiError(404, "not_found", "Not found.")
    doc = CaseDocument.objects.filter(case=case, pk=payload.document).first()
    if doc is None:
        raise ApiError(422, "invalid", "The request has invalid fields.", {"document": ["No such document."]})
    when = payload.delivered_at
    if when is not None and timezone.is_naive(when):
        when = timezone.make_aware(when)  # without a zone: the working calendar's (Asia/Shanghai)
    row = services.notice_delivered(actor=request.user, case=case, document=doc, party_name=payload.party,
                                    method=payload.method, delivered_at=when, note=payload.note)
    case.refresh_from_db()
    return Status(201, {"delivery": row.pk, "state": case.state,
                        "window_due_at": next((t.due_at for t in case.timers.filter(
                            kind__in=("review_window", "rereview_window"), state="running")), None)})


class OnlineIn(Schema):
    kind: Kind
    title: str = Field(..., max_length=200)
    text: str = ""
    matter: str = Field("", max_length=200)
    name: str = Field("", max_length=50, description="the real name (written notices need it and the address)")
    phone: str = Field("", max_length=20)
    address: str = Field("", max_length=200)
    anonymous: bool = False
    lon: StrictFloat
    lat: StrictFloat


@router.post("/online", response={201: PetitionOut}, summary="Petition online (网上信访)")
def online(request: HttpRequest, payload: OnlineIn) -> Status[dict[str, Any]]:
    """A signed-in resident petitions the office of the district where the matter lies (else the
    city's); they follow it on the tracking page with their account. 422 on ``location`` where no
    office receives petitions."""
    office = selectors.office_for(lon=payload.lon, lat=payload.lat)
    if office is None:
        raise ApiError(422, "invalid", "The request has invalid fields.",
                       {"location": ["No petition office receives petitions about this place."]})
    case = services.petition_receive(actor=request.user, office=office, reporter=request.user,
                                     petition=services.Petition(
        kind=payload.kind, form=Form.ONLINE, title=payload.title, text=payload.text, matter=payload.matter,
        petitioner=services.Person(name=payload.name, phone=payload.phone, address=payload.address),
        anonymous=payload.anonymous, location=Location(lon=payload.lon, lat=payload.lat)))
    return Status(201, _out(case))
