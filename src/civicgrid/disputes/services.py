"""Writes of the disputes app: intake (a dispute through the engine's ``case_create``), the effects of
the declaration's steps, the risk rules and their warnings, mediation organisations and the
screening reports. Every change of a dispute goes through the engine (``rules.case_act``)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.audit.services import audit_record
from civicgrid.cases import registry
from civicgrid.cases.errors import TransitionNotAllowed
from civicgrid.cases.models import Case
from civicgrid.cases.registry import Opens
from civicgrid.cases.services import (
    Location,
    TransitionContext,
    assignment_accept,
    assignment_open,
    case_create,
    case_open_linked,
)
from civicgrid.cases.services import notify as case_notify
from civicgrid.disputes import selectors
from civicgrid.disputes.models import (
    AgreementKind,
    DisputeDetail,
    MediationOrganisation,
    Mediator,
    Referral,
    RiskFlag,
    Scale,
    ScreeningReport,
    Source,
)
from civicgrid.geo.models import Level, Region
from civicgrid.org.models import Role
from civicgrid.org.permissions import ACT
from civicgrid.org.scoping import OutOfScope, reaches

DISPUTE = "dispute"

# Risk thresholds (setting CIVICGRID_DISPUTE_RISK overrides any key).
DEFAULT_RISK: dict[str, Any] = {
    "people": 10,  # many parties: at least this many people involved (群体性)
    "amount": 500_000,  # amount at stake at or above this (yuan)
    "repeat_days": 90,  # repeated disputes at the same place within this many days …
    "repeat_count": 2,  # … at least this many others
    "repeat_radius_deg": 0.0005,  # about 50 m
    "repeat_party_count": 1,  # other disputes with a party of the same identity number or phone
}
RISK_REASONS: dict[str, Any] = {
    "many_people": "many people involved",
    "violence": "threat of violence",
    "group_petition": "threat of a group petition",
    "amount": "amount at stake above the threshold",
    "repeat_place": "repeated disputes at the same place",
    "repeat_party": "repeated disputes between the same parties",
}


def risk_thresholds() -> dict[str, Any]:
    out = dict(DEFAULT_RISK)
    out.update(getattr(settings, "CIVICGRID_DISPUTE_RISK", None) or {})
    return out


# --- intake ------------------------------------------------------------------------------------


PARTY_KINDS = ("applicant", "respondent", "third_party", "representative")


@dataclass
class PartyInput:
    """A party of the dispute at registration (当事人): kind and values (kept encrypted by the engine)."""

    kind: str
    name: str = ""
    id_number: str = ""
    phone: str = ""
    address: str = ""


@dataclass
class DisputeInput:
    title: str
    dispute_type: str
    summary: str = ""
    source: str = Source.WALK_IN
    source_reference: str = ""
    scale: str = Scale.ORDINARY
    people_involved: int = 2
    amount: Any = None
    applicant_claim: str = ""
    respondent_claim: str = ""
    units_involved: str = ""
    threat_violence: bool = False
    threat_petition: bool = False
    lon: float | None = None
    lat: float | None = None
    region: Region | None = None  # no point: the grid or community it belongs to
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    parties: list[PartyInput] = field(default_factory=list)


def _amount(value: Any, field: str = "amount") -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise TransitionNotAllowed({field: _("Give an amount in yuan.")}) from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise TransitionNotAllowed({field: _("Give an amount in yuan.")})
    return amount.quantize(Decimal("0.01"))


def _people(value: Any) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise TransitionNotAllowed({"people_involved": _("Give the number of people involved.")}) from None
    if not 1 <= n <= 1_000_000 or n != float(value):
        raise TransitionNotAllowed({"people_involved": _("Give the number of people involved.")})
    return n


# the engine's intake channel of each source (the source itself is kept on the detail)
_CHANNELS: dict[str, str] = {Source.HOTLINE: "hotline", Source.GRID_WORKER: "patrol"}


def dispute_register(*, actor: Any, data: DisputeInput, now: dt.datetime | None = None) -> Case:
    """Register a dispute (登记): checked, placed in its grid, the risk rules run. The actor must be
    able to act where it lies (a grid worker in their grid, a centre or mediator in their region)."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if data.dispute_type not in {c for c, _label in selectors.dispute_types()}:
        errors["dispute_type"] = _("Unknown dispute type.")
    if data.source not in Source.values:
        errors["source"] = _("Unknown source.")
    if data.scale not in Scale.values:
        errors["scale"] = _("Unknown scale.")
    if errors:
        raise TransitionNotAllowed(errors)
    detail = {
        "dispute_type": data.dispute_type, "source": data.source, "source_reference": data.source_reference[:100],
        "scale": data.scale, "people_involved": _people(data.people_involved), "amount": _amount(data.amount),
        "summary": data.summary, "applicant_claim": data.applicant_claim, "respondent_claim": data.respondent_claim,
        "units_involved": data.units_involved[:300], "threat_violence": bool(data.threat_violence),
        "threat_petition": bool(data.threat_petition),
    }
    location = Location(lon=data.lon, lat=data.lat, region=data.region)
    with transaction.atomic():
        case = case_create(actor=actor, case_type=DISPUTE, title=data.title, text=data.summary,
                           channel=_CHANNELS.get(data.source, "other"), location=location,
                           address=data.address, reporter_name=data.reporter_name,
                           reporter_phone=data.reporter_phone, detail=detail, now=now)
        if actor is not None and not getattr(actor, "is_superuser", False) and not reaches(case, actor, ACT):
            raise TransitionNotAllowed({"location": _("This place is outside your jurisdiction.")})
        _parties_write(actor, case, data.parties, now=now)
        _source_link(actor, case, data, now=now)
        risk_check(case, now=now)
    return case


def _source_link(actor: Any, case: Case, data: DisputeInput, *, now: dt.datetime) -> None:
    """A dispute registered from an event (source "event", the event's tracking code as the sender's
    reference) is linked to it both ways (the event ``led_to`` it), when the registering actor sees that
    event (else 422 ``source_reference``). The link is written as part of the registration the actor
    may make (not as the generic ``link``, which only the centre may take)."""
    from civicgrid.cases.selectors import cases_visible
    from civicgrid.cases.services import case_link

    if data.source != Source.EVENT or not data.source_reference.strip():
        return
    event = cases_visible(user=actor).filter(tracking_code=data.source_reference.strip().upper()).exclude(
        pk=case.pk).first() if actor is not None else Case.objects.filter(
        tracking_code=data.source_reference.strip().upper()).first()
    if event is None:
        raise TransitionNotAllowed({"source_reference": _("No case you can see has this tracking code.")})
    case_link(actor=None, case=event, other=case, kind="led_to", note=_("registered as a dispute"), now=now)


def _parties_write(actor: Any, case: Case, parties: list[PartyInput], *, now: dt.datetime) -> None:
    """The dispute's parties as engine parties (encrypted, hashed), in the registration's transaction;
    a refused value names its field as ``parties.N.field``."""
    from civicgrid.cases.services import party_add

    for n, p in enumerate(parties):
        if p.kind not in PARTY_KINDS:
            raise TransitionNotAllowed({f"parties.{n}.kind": _("A dispute's party is an applicant, a respondent, "
                                                                "a third party or a representative.")})
        try:
            party_add(actor=actor, case=case, kind=p.kind, name=p.name, id_number=p.id_number, phone=p.phone,
                      address=p.address, now=now)
        except TransitionNotAllowed as exc:
            raise TransitionNotAllowed({f"parties.{n}.{k}": v for k, v in exc.message_dict.items()}) from None


# --- the declaration's effects -----------------------------------------------------------------


def _detail(ctx: TransitionContext) -> DisputeDetail:
    return DisputeDetail.objects.select_for_update().get(case=ctx.case)


def route_effect(ctx: TransitionContext) -> None:
    """Route to a mediation organisation: the engine assigns the organisation's seat region (the
    region's mediators and centre see it there), the detail records the organisation."""
    detail = _detail(ctx)
    known = {c for c, _label in selectors.dispute_types()}
    if ctx.data.get("dispute_type"):  # classified now (a dispute opened from an event comes unclassified)
        detail.dispute_type = str(ctx.data["dispute_type"])
        detail.save(update_fields=["dispute_type"])
        ctx.timeline_data["dispute_type"] = detail.dispute_type
    if detail.dispute_type not in known:
        raise TransitionNotAllowed({"dispute_type": _("Classify the dispute: choose its type.")})
    code = str(ctx.data.get("organisation") or "").strip()
    offered = selectors.organisations_for(ctx.case)
    # the routing default (the engine fills only a department input's default: the effect does it here)
    org = selectors.organisation_by_code(code) if code else next(iter(offered), None)
    if org is None and not code:
        raise TransitionNotAllowed({"organisation": _("No mediation organisation serves this dispute: name one.")})
    if org is None:
        raise TransitionNotAllowed({"organisation": _("Unknown mediation organisation.")})
    if org.pk not in {o.pk for o in offered}:
        raise TransitionNotAllowed({"organisation": _("This organisation does not serve the dispute's place or "
                                                      "type.")})
    detail.organisation = org
    detail.save(update_fields=["organisation"])
    risk_check(ctx.case, detail=detail, now=ctx.now)  # a dispute opened from another case is checked here
    # the organisation receives it at its seat region; it assigns one of its mediators once accepted
    assignment_open(ctx, region=org.region, note=org.name[:500])
    ctx.timeline_data["organisation"] = org.code


def assign_mediator_effect(ctx: TransitionContext) -> None:
    """The organisation assigns one of its mediators (指派调解员) as a person: the engine has checked
    the person holds the mediator role where the dispute lies (``person_targets``); here they must
    also mediate for the organisation the dispute was routed to. A second assignment transfers it."""
    person = ctx.data["mediator"]
    detail = _detail(ctx)
    if detail.organisation is None or not Mediator.objects.filter(
            organisation_id=detail.organisation.pk, user=person, is_active=True).exists():
        raise TransitionNotAllowed({"mediator": _("This person does not mediate for the organisation the dispute "
                                                  "was routed to.")})
    assignment_open(ctx, person=person, note=detail.organisation.name[:500])


def accept_effect(ctx: TransitionContext) -> None:
    assignment_accept(ctx)


def return_effect(ctx: TransitionContext) -> None:
    """The organisation returns the dispute to the centre: its assignment ends, the detail forgets it."""
    from civicgrid.cases.services import assignments_finish

    assignments_finish(ctx)
    detail = _detail(ctx)
    ctx.timeline_data["returned_by"] = detail.organisation.code if detail.organisation else None
    detail.organisation = None
    detail.save(update_fields=["organisation"])


def session_effect(ctx: TransitionContext) -> None:
    """A mediation session (调解会): its date must be a date, not after the step and not before the
    dispute was registered; the record is the step's note, on the timeline."""
    try:
        held = dt.date.fromisoformat(str(ctx.data.get("held_on") or "").strip())
    except ValueError:
        raise TransitionNotAllowed({"held_on": _("Give the session's date as YYYY-MM-DD.")}) from None
    if not ctx.case.created_at.date() - dt.timedelta(days=1) <= held <= ctx.now.date() + dt.timedelta(days=1):
        raise TransitionNotAllowed({"held_on": _("The session's date lies outside the dispute's time.")})
    ctx.timeline_data["held_on"] = held.isoformat()
    # a co-mediator (input kind "person": checked by the engine, kept on the timeline by account id)


def refusal_effect(ctx: TransitionContext) -> None:
    detail = _detail(ctx)
    detail.refused_side, detail.refused_at = str(ctx.data["side"]), ctx.now
    detail.save(update_fields=["refused_side", "refused_at"])


def referral_effect(ctx: TransitionContext) -> None:
    from civicgrid.cases.services import assignments_finish

    detail = _detail(ctx)
    detail.referral = str(ctx.data["referral"])
    detail.save(update_fields=["referral"])
    assignments_finish(ctx)
    # A referral to the petition office opens a linked case there once a "petition" type is registered
    # (the engine's Opens, named by code only). WIRE(petitions): its detail (the petition's fields)
    # once that type declares them; the police receive a 移交函 drawn as a document meanwhile.
    if detail.referral == Referral.PETITION and any(t.code == "petition" for t in registry.all_types()):
        case_open_linked(ctx, Opens("petition", link="transferred_to"))


TERM_LINE = re.compile(r"^\s*(?P<term>[^|]+?)\s*(?:\|\s*(?P<performer>[^|]*?)\s*)?(?:\|\s*(?P<due>[^|]*?)\s*)?$")


def agreement_terms_parse(text: str) -> list[dict[str, str]]:
    """The agreement's terms, one per line: ``term | performer | due date (YYYY-MM-DD)``."""
    terms = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        m = TERM_LINE.match(line)
        if m is None:
            raise TransitionNotAllowed({"terms": _("Line %(n)d: write term | performer | due date.") % {"n": n}})
        due = (m.group("due") or "").strip()
        if due:
            try:
                due = dt.date.fromisoformat(due).isoformat()
            except ValueError:
                raise TransitionNotAllowed({"terms": _("Line %(n)d: the due date is not a date (YYYY-MM-DD).")
                                            % {"n": n}}) from None
        terms.append({"term": m.group("term")[:500], "performer": (m.group("performer") or "")[:100], "due": due})
    if not terms:
        raise TransitionNotAllowed({"terms": _("Write at least one term.")})
    return terms


def agreement_effect(ctx: TransitionContext) -> None:
    detail = _detail(ctx)
    detail.agreement_terms = agreement_terms_parse(str(ctx.data.get("terms") or ""))
    detail.agreement_kind = AgreementKind.ORAL if ctx.transition.name == "agree_oral" else AgreementKind.WRITTEN
    detail.agreed_at = ctx.now
    detail.save(update_fields=["agreement_terms", "agreement_kind", "agreed_at"])
    # a written agreement's 调解协议书 is drawn with the generic generate_document (kind "agreement");
    # the judicial-confirmation window (30 statutory days, remind-only) is started by the declaration.


def confirmation_apply_effect(ctx: TransitionContext) -> None:
    """The parties applied jointly to a court for judicial confirmation (司法确认申请)."""
    detail = _detail(ctx)
    detail.confirmation_court = str(ctx.data.get("court") or "").strip()[:100]
    detail.confirmation_applied_at = ctx.now
    detail.save(update_fields=["confirmation_court", "confirmation_applied_at"])
    ctx.timeline_data["court"] = detail.confirmation_court


def confirmation_record_effect(ctx: TransitionContext) -> None:
    """The court's decision: confirmed (the agreement becomes enforceable) or refused."""
    detail = _detail(ctx)
    detail.confirmation_outcome, detail.confirmation_decided_at = str(ctx.data["outcome"]), ctx.now
    detail.save(update_fields=["confirmation_outcome", "confirmation_decided_at"])


def follow_up_effect(ctx: TransitionContext) -> None:
    detail = _detail(ctx)
    detail.performance, detail.performance_note = str(ctx.data["performed"]), ctx.note
    detail.save(update_fields=["performance", "performance_note"])


def assess_effect(ctx: TransitionContext) -> None:
    detail = _detail(ctx)
    changed = []
    if ctx.data.get("people_involved") is not None:
        detail.people_involved = _people(ctx.data["people_involved"])
        changed.append("people_involved")
    if ctx.data.get("amount") is not None:
        detail.amount = _amount(ctx.data["amount"])
        changed.append("amount")
    for flag in ("threat_violence", "threat_petition"):
        if ctx.data.get(flag) is not None:
            setattr(detail, flag, ctx.data[flag] == "yes")
            changed.append(flag)
    if not changed:
        raise TransitionNotAllowed({"people_involved": _("Change at least one of the assessment's fields.")})
    detail.save(update_fields=changed)
    ctx.timeline_data["risk"] = risk_check(ctx.case, detail=detail, now=ctx.now)


# --- risk rules ----------------------------------------------------------------------------------


def risk_reasons(case: Case, detail: DisputeDetail, *, now: dt.datetime) -> dict[str, str]:
    """The risk rules that hold for the dispute now: reason code → what was seen."""
    limits = risk_thresholds()
    found: dict[str, str] = {}
    if detail.people_involved >= int(limits["people"]):
        found["many_people"] = _("%(n)d people involved (threshold %(t)d)") % {
            "n": detail.people_involved, "t": int(limits["people"])}
    if detail.threat_violence:
        found["violence"] = _("a threat of violence was reported")
    if detail.threat_petition:
        found["group_petition"] = _("a threat of a group petition was reported")
    if detail.amount is not None and detail.amount >= Decimal(str(limits["amount"])):
        found["amount"] = _("%(a)s yuan at stake (threshold %(t)s)") % {"a": detail.amount, "t": limits["amount"]}
    others = selectors.repeat_place_count(case, days=int(limits["repeat_days"]),
                                          radius_deg=float(limits["repeat_radius_deg"]), now=now)
    if others >= int(limits["repeat_count"]):
        found["repeat_place"] = _("%(n)d other disputes at the same place within %(d)d days") % {
            "n": others, "d": int(limits["repeat_days"])}
    others = selectors.repeat_party_count(case, days=int(limits["repeat_days"]), now=now)
    if others >= int(limits["repeat_party_count"]):
        found["repeat_party"] = _("%(n)d other disputes with the same party (identity number or phone) within "
                                  "%(d)d days") % {"n": others, "d": int(limits["repeat_days"])}
    return found


def risk_check(case: Case, *, detail: DisputeDetail | None = None, now: dt.datetime | None = None) -> list[str]:
    """Run the risk rules (at intake and on every change): a new reason raises a flag and warns the
    centre once (in-app and SMS through the outbox); a reason that no longer holds is cleared but
    never warns again. Returns the reasons that hold."""
    now = now or timezone.now()
    detail = detail or DisputeDetail.objects.get(case=case)
    found = risk_reasons(case, detail, now=now)
    flags = {f.reason: f for f in RiskFlag.objects.filter(case=case)}
    for reason, seen in found.items():
        flag = flags.get(reason)
        if flag is None:
            try:
                with transaction.atomic():
                    RiskFlag.objects.create(case=case, reason=reason, detail=seen[:300], raised_at=now)
            except IntegrityError:  # raised by a concurrent check: it warned
                continue
            _warn(case, reason, seen)
        elif flag.cleared_at is not None:
            flag.cleared_at = None
            flag.save(update_fields=["cleared_at"])
    RiskFlag.objects.filter(case=case, cleared_at__isnull=True).exclude(reason__in=list(found)).update(cleared_at=now)
    high = bool(found)
    if detail.high_risk != high:
        DisputeDetail.objects.filter(pk=detail.pk).update(high_risk=high)
        detail.high_risk = high
    return sorted(found)


def _centre(case: Case) -> Region | None:
    if case.owner_region_id:
        return Region.objects.filter(pk=case.owner_region_id).first()
    return None


def _warn(case: Case, reason: str, seen: str) -> None:
    centre = _centre(case)
    subject = _("High-risk dispute %(code)s: %(reason)s") % {"code": case.tracking_code, "reason": seen}
    for channel in ("inapp", "sms"):
        case_notify(case=case, event="dispute_risk", subject=subject, body=case.title, region=centre,
                    channel=channel)


# --- organisations -------------------------------------------------------------------------------


def organisation_create(*, actor: Any, code: str, name: str, kind: str, region: Region,
                        served_regions: list[Region] | None = None, dispute_types: list[str] | None = None
                        ) -> MediationOrganisation:
    if actor is not None and not getattr(actor, "is_superuser", False) and not reaches(region, actor, "manage"):
        raise OutOfScope(_("No region matches the given query."))
    known = {c for c, _label in selectors.dispute_types()}
    unknown = [t for t in dispute_types or [] if t not in known]
    if unknown:
        raise TransitionNotAllowed({"dispute_types": _("Unknown dispute type %(t)s.") % {"t": unknown[0]}})
    with transaction.atomic():
        org = MediationOrganisation.objects.create(code=code, name=name, kind=kind, level=region.level,
                                                   region=region, dispute_types=list(dispute_types or []))
        if served_regions:
            org.served_regions.set(served_regions)
        audit_record(actor=actor, action="disputes.organisation_create", target=org, extra={"code": code})
    return org


def organisation_update(*, actor: Any, organisation: MediationOrganisation, **changes: Any) -> MediationOrganisation:
    """Change an organisation's name, kind, served regions, dispute types or active flag."""
    if actor is not None and not getattr(actor, "is_superuser", False) and not reaches(organisation.region, actor,
                                                                                       "manage"):
        raise OutOfScope(_("No region matches the given query."))
    allowed = {"name", "kind", "served_regions", "dispute_types", "is_active"}
    if set(changes) - allowed:
        raise ValueError(f"organisation_update: unknown fields {sorted(set(changes) - allowed)}")
    known = {c for c, _label in selectors.dispute_types()}
    if any(t not in known for t in changes.get("dispute_types") or []):
        raise TransitionNotAllowed({"dispute_types": _("Unknown dispute type.")})
    with transaction.atomic():
        served = changes.pop("served_regions", None)
        for name, value in changes.items():
            setattr(organisation, name, value)
        if changes:
            organisation.save(update_fields=list(changes))
        if served is not None:
            organisation.served_regions.set(served)
        audit_record(actor=actor, action="disputes.organisation_update", target=organisation,
                     extra={"fields": sorted([*changes, *(["served_regions"] if served is not None else [])])})
    return organisation


def mediator_add(*, actor: Any, organisation: MediationOrganisation, user: Any, is_chief: bool = False) -> Mediator:
    """Add a mediator to an organisation: the person must hold Role.MEDIATOR."""
    if actor is not None and not getattr(actor, "is_superuser", False) and not reaches(organisation.region, actor,
                                                                                       "manage"):
        raise OutOfScope(_("No region matches the given query."))
    if not user.memberships.filter(is_active=True, role=Role.MEDIATOR).exists():
        raise TransitionNotAllowed({"user": _("Only a person with the mediator role can mediate.")})
    with transaction.atomic():
        m, _created = Mediator.objects.update_or_create(organisation=organisation, user=user,
                                                        defaults={"is_chief": is_chief, "is_active": True})
        audit_record(actor=actor, action="disputes.mediator_add", target=m, extra={"user": user.pk})
    return m


# --- screening (矛盾纠纷排查) --------------------------------------------------------------------

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
SCREENING_LEVELS = (Level.GRID, Level.COMMUNITY)


def screening_file(*, actor: Any, region: Region, period: str, none_found: bool = False,
                   disputes: list[Case] | None = None, note: str = "", now: dt.datetime | None = None
                   ) -> ScreeningReport:
    """File a grid's or committee's screening for a month: the disputes found, or "none found" (零报告).
    One report per region and period; the actor must act in the region."""
    now = now or timezone.now()
    if actor is None or not (getattr(actor, "is_superuser", False) or reaches(region, actor, ACT)):
        raise OutOfScope(_("No region matches the given query."))
    errors = {}
    if not PERIOD.match(period or ""):
        errors["period"] = _("Give the month as YYYY-MM.")
    if region.level not in SCREENING_LEVELS:
        errors["region"] = _("A screening is filed by a grid or a community.")
    disputes = list(disputes or [])
    if none_found and disputes:
        errors["none_found"] = _("A report with disputes found cannot say none were found.")
    if not none_found and not disputes:
        errors["disputes"] = _("Name the disputes found, or report that none were found.")
    for case in disputes:
        if case.case_type != DISPUTE or getattr(case, f"{region.level}_id") != region.pk:
            errors["disputes"] = _("%(code)s is not a dispute of this region.") % {"code": case.tracking_code}
    if errors:
        raise TransitionNotAllowed(errors)
    with transaction.atomic():
        if ScreeningReport.objects.filter(region=region, period=period).exists():
            raise TransitionNotAllowed({"period": _("This region has reported for this period already.")})
        org = selectors.organisations_for_region(region)
        report = ScreeningReport.objects.create(region=region, period=period, none_found=none_found, note=note,
                                                filed_by=actor if actor.is_authenticated else None, filed_at=now,
                                                organisation=org)
        if disputes:
            report.disputes.set(disputes)
        audit_record(actor=actor, action="disputes.screening_file", target=report,
                  extra={"period": period, "none_found": none_found, "disputes": len(disputes)})
    return report
