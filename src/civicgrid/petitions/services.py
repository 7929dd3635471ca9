"""Writes of petitions (信访): intake with its repeat and skip-level flags, the effects of the type's
steps, and the delivery of a written answer (the request windows run from it).

Every step goes through the engine (``rules.case_act``); the rows of :class:`PetitionDetail` are
written here only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases import rules
from civicgrid.cases.documents import delivery_record, template_replace
from civicgrid.cases.errors import TransitionNotAllowed
from civicgrid.cases.models import Case, CaseDocument, Delivery, LinkKind
from civicgrid.cases.models.case import AssignmentRole
from civicgrid.cases.services import (
    Location,
    TransitionContext,
    assignment_accept,
    assignment_dispute,
    assignment_open,
    assignments_finish,
    case_create,
    case_link,
    party_add,
)
from civicgrid.cases.timers import timer_start, timers_pause, timers_resume
from civicgrid.geo.models import LEVELS
from civicgrid.org.models import Department
from civicgrid.petitions import casetype as ct
from civicgrid.petitions.models import MAX_REPRESENTATIVES, Channel, Form, Kind, PetitionDetail, Stage
from civicgrid.petitions.selectors import earlier_petitions, unit_for, works_at
from civicgrid.privacy.crypto import keyed_hash
from civicgrid.workcal import clock
from civicgrid.workcal.calendar import working_calendar, working_hours

FORM_CHANNEL: dict[str, str] = {Form.ONLINE: "resident", Form.PHONE: "hotline", Form.LETTER: "other",
                                Form.VISIT: "other"}
MAX_LINKED_EARLIER = 5  # the newest earlier petitions of the same matter linked to a repeat


@dataclass(frozen=True)
class Person:
    """A petitioner or representative as received (personal values; kept only encrypted on parties)."""

    name: str = ""
    id_number: str = ""
    phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class Petition:
    """What the office receives."""

    kind: str
    title: str
    text: str = ""
    form: str = Form.VISIT
    matter: str = ""  # the matter in a few words (the same words make a repeat)
    petitioner: Person = Person()
    representatives: Sequence[Person] = field(default_factory=tuple)
    group_size: int = 1
    anonymous: bool = False
    accused_department: Department | None = None
    accused_person: Any = None
    location: Location | None = None
    address: str = ""


def _detail(case: Case) -> PetitionDetail:
    return PetitionDetail.objects.get(pk=case.pk)


def _key(p: Person) -> str:
    if p.id_number.strip():
        return keyed_hash(p.id_number, "id_number")
    if p.phone.strip():
        return keyed_hash(p.phone, "phone")
    return ""


def _matter_key(matter: str) -> str:
    words = " ".join((matter or "").split()).lower()
    return keyed_hash(words) if words else ""


def _check(p: Petition) -> None:
    errors: dict[str, str] = {}
    if p.kind not in Kind.values:
        errors["kind"] = _("Choose one of the options.")
    if p.form not in Form.values:
        errors["form"] = _("Choose one of the options.")
    if p.anonymous and p.kind != Kind.ACCUSATION:
        errors["anonymous"] = _("Only a report or accusation may be made anonymously.")
    if p.group_size < 1:
        errors["group_size"] = _("At least one person.")
    if len(p.representatives) > MAX_REPRESENTATIVES:
        errors["representatives"] = _("A group visit sends at most %(n)d representatives.") % {
            "n": MAX_REPRESENTATIVES}
    if p.representatives and p.group_size < 2:
        errors["group_size"] = _("Representatives speak for a group: give its size.")
    if errors:
        raise TransitionNotAllowed(errors)


def _skip_level(office: Department, case: Case) -> bool:
    """越级: the office sits above the level the matter belongs to — a city or higher office receiving
    a matter of a place inside a district (the district's office was skipped)."""
    region = office.region
    level = getattr(region, "level", None)
    if level not in LEVELS:
        return False
    return LEVELS.index(level) < LEVELS.index("district") and case.district_id is not None


@transaction.atomic
def petition_receive(*, actor: Any, office: Department, petition: Petition, reporter: Any = None,
                     now: dt.datetime | None = None) -> Case:
    """Receive a petition at ``office`` (来信/来访/来电/网上信访): the case, its detail, its
    registration (the office holds it), its petitioner and representatives as parties, and the
    repeat (重复信访) and skip-level (越级) flags with the earlier petitions linked. A new petition on
    the same matter as a finished re-review (复核) is answered at once: not accepted again (不再受理),
    linked to it."""
    _check(petition)
    now = now or timezone.now()
    p = petition.petitioner
    anonymous = petition.anonymous
    notice_owed = not anonymous and bool(p.name.strip()) and bool(p.address.strip())
    pkey, mkey = ("" if anonymous else _key(p)), _matter_key(petition.matter)
    case = case_create(
        actor=actor, case_type=ct.PETITION, title=petition.title, text=petition.text,
        channel=FORM_CHANNEL.get(petition.form, "other"), location=petition.location, reporter=reporter,
        reporter_name="" if anonymous else p.name, reporter_phone="" if anonymous else p.phone,
        anonymous=anonymous, address=petition.address or p.address,
        detail={"kind": petition.kind, "form": petition.form, "office": office,
                "group_size": petition.group_size, "notice_owed": notice_owed,
                "accused_department": petition.accused_department, "accused_person": petition.accused_person,
                "petitioner_key": pkey, "matter_key": mkey},
        now=now,
    )
    rules.case_act(actor=None, case=case, action="register", data={}, now=now)
    if not anonymous and (p.name or p.id_number or p.phone):
        party_add(actor=None, case=case, kind="petitioner", name=p.name, id_number=p.id_number, phone=p.phone,
                  address=p.address, now=now)
    for r in petition.representatives:
        party_add(actor=None, case=case, kind="representative", name=r.name, id_number=r.id_number,
                  phone=r.phone, address=r.address, now=now)
    earlier = list(earlier_petitions(petitioner_key=pkey, matter_key=mkey, exclude=case.pk)[:MAX_LINKED_EARLIER])
    # an online petition is sent to the office of its place (or the city's where the district has none)
    flags = {"repeat": bool(earlier),
             "skip_level": petition.form != Form.ONLINE and _skip_level(office, case)}
    PetitionDetail.objects.filter(pk=case.pk).update(**flags)
    for old in earlier:
        case_link(actor=None, case=case, other=old, kind=LinkKind.RELATED_TO,
                  note=_("the same petitioner on the same matter"), now=now)
    finished = next((c for c in earlier if c.state == "final" and c.petition.stage == Stage.REREVIEW), None)
    if finished is not None:
        PetitionDetail.objects.filter(pk=case.pk).update(not_reaccepted=True)
        case.refresh_from_db()
        rules.case_act(actor=None, case=case, action="not_reaccept",
                       data={"note": _("The same facts and reasons as %(code)s, whose re-review is final.")
                             % {"code": finished.tracking_code}}, now=now)
    case.refresh_from_db()
    return case


# --- effects of the type's steps (casetype) ----------------------------------------------------


def _unit(ctx: TransitionContext, detail: PetitionDetail) -> Department:
    """The unit named by its code: one the office may route to, and — for an accusation — neither the
    unit it accuses nor the unit the accused person works at (检举控告 never goes to the accused)."""
    unit = unit_for(ctx.case, detail.office, str(ctx.data.get("unit") or ""))
    if unit is None:
        raise TransitionNotAllowed({"unit": _("No unit of that code serves this place within the office's reach.")})
    if detail.kind == Kind.ACCUSATION and (
            unit.pk == detail.accused_department_id
            or (detail.accused_person_id is not None and works_at(detail.accused_person, unit))):
        raise TransitionNotAllowed({"unit": _("An accusation is never routed to the unit or person it accuses.")})
    return unit


def register_effect(ctx: TransitionContext) -> None:
    """The office holds the petition from registration on (co-handling: routing does not end it)."""
    assignment_open(ctx, department=_detail(ctx.case).office, role=AssignmentRole.CO)


def route_effect(ctx: TransitionContext) -> None:
    """Route to a unit (转送/交办); never an accusation to the unit or person it accuses. The unit's
    decision and written notice are due in 15 days — unless no notice is owed (the petitioner's name
    or address is unknown): then no notice clock starts."""
    detail = _detail(ctx.case)
    unit = _unit(ctx, detail)
    a = assignment_open(ctx, department=unit)
    ctx.timeline_data["unit"] = unit.code
    if detail.notice_owed:
        timer_start(case=ctx.case, kind="notice", amount=ct.NOTICE_DAYS, unit=ct.DAYS, now=ctx.now, assignment=a,
                    replace=False)


def object_effect(ctx: TransitionContext) -> None:
    """The unit objects to a mis-routing (异议), within 5 working days of the routing; the office
    re-routes."""
    routed = ctx.case.timeline.filter(action="route").order_by("-at", "-id").values_list("at", flat=True).first()
    if routed is not None:
        due = clock.due_at(routed, ct.OBJECTION_WORKING_DAYS, "working_days", calendar=working_calendar(),
                           hours=working_hours())
        if ctx.now > due:
            raise TransitionNotAllowed({"reason": _("The %(n)d working days to object to the routing ended on "
                                                    "%(due)s.") % {"n": ct.OBJECTION_WORKING_DAYS,
                                                                   "due": f"{timezone.localtime(due):%Y-%m-%d %H:%M}"}})
    assignment_dispute(ctx)


def accept_effect(ctx: TransitionContext) -> None:
    assignment_accept(ctx)


def finish_effect(ctx: TransitionContext) -> None:
    assignments_finish(ctx)


def review_request_effect(ctx: TransitionContext) -> None:
    """A request for review (复查) or re-review (复核), refused after its window (30 days from the
    delivery of the reply or the review opinion); the superior unit becomes the lead unit."""
    window = "review_window" if ctx.transition.name == "request_review" else "rereview_window"
    timer = ctx.case.timers.filter(kind=window).order_by("-started_at", "-id").first()
    if timer is not None and timer.due_at < ctx.now:
        last_day = timezone.localtime(timer.due_at) - dt.timedelta(seconds=1)  # due at 24:00 of the last day
        raise TransitionNotAllowed({"reason": _("The 30 days to ask ran out on %(due)s: the answer is final.")
                                    % {"due": f"{last_day:%Y-%m-%d}"}})
    stage = Stage.REVIEW if window == "review_window" else Stage.REREVIEW
    unit = _unit(ctx, _detail(ctx.case))
    PetitionDetail.objects.filter(pk=ctx.case.pk).update(stage=stage)
    assignment_open(ctx, department=unit)
    ctx.timeline_data["unit"] = unit.code


def hearing_start_effect(ctx: TransitionContext) -> None:
    """A hearing (听证) does not count in the re-review's 30 days: its clock is paused."""
    detail = _detail(ctx.case)
    if detail.hearing_at is not None:
        raise TransitionNotAllowed({"action": _("A hearing is already under way.")})
    running = list(ctx.case.timers.filter(kind="rereview", state="running"))
    timers_pause(case=ctx.case, now=ctx.now, timers=running)
    PetitionDetail.objects.filter(pk=ctx.case.pk).update(hearing_at=ctx.now)


def hearing_end_effect(ctx: TransitionContext) -> None:
    detail = _detail(ctx.case)
    if detail.hearing_at is None:
        raise TransitionNotAllowed({"action": _("No hearing is under way.")})
    timers_resume(case=ctx.case, now=ctx.now)
    PetitionDetail.objects.filter(pk=ctx.case.pk).update(hearing_at=None)


def channel_effect(ctx: TransitionContext) -> None:
    """诉访分离: the matter is led to litigation, arbitration or administrative review."""
    channel = str(ctx.data.get("channel") or "")
    if channel not in Channel.values:
        raise TransitionNotAllowed({"channel": _("Choose one of the options.")})
    PetitionDetail.objects.filter(pk=ctx.case.pk).update(channel=channel)
    assignments_finish(ctx)


def leader_effect(ctx: TransitionContext) -> None:
    """领导包案: the leader owns the petition (a person assignment beside the unit's); never the person
    an accusation accuses."""
    detail = _detail(ctx.case)
    if detail.kind == Kind.ACCUSATION and ctx.data["leader"].pk == detail.accused_person_id:
        raise TransitionNotAllowed({"leader": _("An accusation is never given to the person it accuses.")})
    assignment_open(ctx, person=ctx.data["leader"], role=AssignmentRole.CO)


# --- deliveries -----------------------------------------------------------------------------------

_WINDOW_STEP = {"replied": "reply_delivered", "reviewed": "opinion_delivered"}


@transaction.atomic
def notice_delivered(*, actor: Any, case: Case, document: CaseDocument | int, party_name: str, method: str,
                     delivered_at: dt.datetime | None = None, party_id: int | None = None,
                     proof: Sequence[Any] = (), note: str = "", now: dt.datetime | None = None) -> Delivery:
    """Record the delivery (送达) of a written answer; the delivery of the reply (处理意见书) or of the
    review opinion opens the 30-day request window, counted from the delivery (its first delivery)."""
    now = now or timezone.now()
    row = delivery_record(actor=actor, case=case, document=document, party_name=party_name, method=method,
                          delivered_at=delivered_at, party=party_id, proof=proof, note=note, now=now)
    case.refresh_from_db()
    step = _WINDOW_STEP.get(case.state)
    doc_kind = row.version.document.kind
    if step and doc_kind == "decision":
        window = "review_window" if step == "reply_delivered" else "rereview_window"
        if not case.timers.filter(kind=window).exists():
            rules.case_act(actor=None, case=case, action=step, data={}, now=row.delivered_at)
    return row


TEMPLATES = Path(__file__).resolve().parent / "templates" / "petitions" / "documents"


def templates_install(*, actor: Any) -> list[str]:
    """Make the petition office's shipped templates (notice, decision: scripts/make_petition_templates.py)
    the active ones for petitions, each as its next version (checked and audited by the engine)."""
    done = []
    for kind in ("notice", "decision"):
        path = TEMPLATES / f"{kind}.docx"
        template_replace(actor=actor, kind=kind, case_type=ct.PETITION, content=path.read_bytes(), name=path.name)
        done.append(kind)
    return done
