"""The dispute case type (矛盾纠纷, DOMAIN §7) as the case engine runs it.

States and steps::

    registered ──route──▶ routed ──accept──▶ accepted ──start──▶ mediating ──agree_written / agree_oral──▶ agreed
        ▲                   │                   │                    │                                     │
        └──── return ───────┘                   └──── refer (after a recorded refusal) ───▶ refused         follow_up
                                                                     └── fail ──▶ failed                   ▼
                                                                                         closed ◀─close── performed

* ``route`` (分流): the centre (or a mediator) sends the dispute to a mediation organisation; the
  default is the first of :func:`civicgrid.disputes.selectors.organisations_for` (the committee of
  the dispute's community, then street, then district). The engine assigns it to the
  organisation's seat region (an engine assignment to a region) and the detail records the
  organisation; ``accept`` (受理) by one of its mediators, or ``return`` (退回) with a reason.
* People's mediation is voluntary: ``record_refusal`` notes which side refused (state unchanged);
  from then on ``start``, ``session`` and the agreements are refused by a guard, and ``refer``
  (guarded: only after a recorded refusal) ends the dispute with a referral.
* ``fail`` (调解不成) ends it with the route the parties were told of (arbitration, administrative,
  court).
* ``agree_written`` / ``agree_oral`` record the agreement and its terms (one per line:
  ``term | performer | due date``); ``follow_up`` (回访) records whether they were performed;
  ``close`` (结案).
* ``assess`` keeps the state: people involved, amount and the threat flags; every change re-runs the
  risk rules (:func:`civicgrid.disputes.services.risk_check`).

Clocks: ``handle`` (调解期限) one month by default (setting ``CIVICGRID_DISPUTE_TERM``, e.g.
``(30, "calendar_days")``) on the working calendar, from registration, stopped by an agreement or an
end; ``accept`` 3 working days per routing; ``follow_up`` 30 calendar days after the agreement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from civicgrid.cases import registry
from civicgrid.cases.registry import (
    ASSIGNEE,
    REMIND,
    SYSTEM,
    CaseType,
    ClockRule,
    GenericRoles,
    Guard,
    Input,
    PartyRules,
    Transition,
)
from civicgrid.cases.services import NO_PENDING_ASSIGNMENT, TransitionContext, pending_assignment_of
from civicgrid.disputes.models import DisputeDetail, Referral, Side
from civicgrid.org.models import Role
from civicgrid.workcal.clock import CALENDAR_TZ

DISPUTE = "dispute"

CENTRE = frozenset({Role.DISPATCHER, Role.ADMIN, SYSTEM})
MEDIATORS = frozenset({Role.MEDIATOR, Role.ADMIN, SYSTEM})
ROUTERS = CENTRE | {Role.MEDIATOR}  # a committee may pass a dispute up or across itself
# the mediator the organisation assigned (a person assignment) works the dispute as ASSIGNEE too
WORKERS = MEDIATORS | {ASSIGNEE}
ASSESSORS = WORKERS | {Role.DISPATCHER, Role.GRID_WORKER}

STATES: dict[str, Any] = {
    "registered": _("registered"),  # 已登记
    "routed": _("routed to an organisation"),  # 已分流
    "accepted": _("accepted by the organisation"),  # 已受理
    "mediating": _("being mediated"),  # 调解中
    "agreed": _("agreement reached"),  # 调解成功
    "failed": _("mediation failed"),  # 调解不成
    "refused": _("refused by a party, referred"),  # 当事人拒绝调解
    "performed": _("followed up"),  # 已回访
    "closed": _("closed"),  # 已结案
    "merged": _("merged"),
}
CLOSED_STATES = frozenset({"failed", "refused", "closed"})
OPEN_STATES = tuple(s for s in STATES if s not in CLOSED_STATES and s != "merged")

DEFAULT_TERM: tuple[float, str] = (1, "natural_months")

YES_NO = (("yes", _("yes")), ("no", _("no")))
PERFORMED = (("yes", _("performed")), ("partly", _("partly performed")), ("no", _("not performed")))


def term() -> tuple[float, str]:
    amount, unit = getattr(settings, "CIVICGRID_DISPUTE_TERM", None) or DEFAULT_TERM
    return float(amount), str(unit)


# The parties (当事人): registered with the dispute; the centre, the mediators and the grid worker who
# keys a dispute in may add and correct them; their names, phones and addresses are revealed (audited,
# with a purpose) to the mediators — by role where their membership reaches the dispute, or as the
# person assigned — and to the centre; the identity number to the mediators and the administrator.
_SEE = frozenset({Role.MEDIATOR, ASSIGNEE, Role.DISPATCHER, Role.ADMIN})
PARTIES = PartyRules(
    kinds=("reporter", "applicant", "respondent", "third_party", "representative"),
    edit=ROUTERS | {Role.GRID_WORKER, ASSIGNEE},
    reveal={"name": _SEE, "phone": _SEE, "address": _SEE,
            "id_number": frozenset({Role.MEDIATOR, ASSIGNEE, Role.ADMIN})},
)


# --- guards -----------------------------------------------------------------------------------


def not_refused(case: Any, detail: Any, actor: Any) -> bool:
    return detail is None or not detail.refused_side


def refused(case: Any, detail: Any, actor: Any) -> bool:
    return detail is not None and bool(detail.refused_side)


def mediator_of_organisation(case: Any, detail: Any, actor: Any) -> bool:
    """The actor mediates for the organisation the dispute was routed to (centre staff, the
    administrator and the system may act for it)."""
    from civicgrid.disputes.selectors import is_mediator_of

    if detail is None or detail.organisation_id is None:
        return False
    return is_mediator_of(actor, detail.organisation_id, case)


REFUSED = Guard(not_refused, _("A party refused mediation, which is voluntary: refer the dispute instead."),
                needs_detail=True)
NO_REFUSAL = Guard(refused, _("Only a dispute a party refused to mediate is referred this way; record the "
                              "refusal first."), needs_detail=True)
OWN_ORGANISATION = Guard(mediator_of_organisation,
                         _("Only a mediator of the organisation the dispute was routed to may do this."),
                         needs_detail=True)
HOLDS = Guard(pending_assignment_of, NO_PENDING_ASSIGNMENT)


def may_apply_confirmation(case: Any, detail: Any, actor: Any) -> bool:
    return detail is not None and detail.agreement_kind == "written" and detail.confirmation_applied_at is None


def awaiting_court(case: Any, detail: Any, actor: Any) -> bool:
    return detail is not None and detail.confirmation_applied_at is not None and not detail.confirmation_outcome


def not_awaiting_court(case: Any, detail: Any, actor: Any) -> bool:
    return not awaiting_court(case, detail, actor)


APPLY = Guard(may_apply_confirmation, _("Only a written agreement not yet sent to a court is applied for judicial "
                                        "confirmation."), needs_detail=True)
AWAITING = Guard(awaiting_court, _("No application for judicial confirmation awaits the court."), needs_detail=True)
NOT_AWAITING = Guard(not_awaiting_court, _("The court has not decided on the judicial confirmation yet."),
                     needs_detail=True)

# Judicial confirmation (司法确认, 人民调解法 art. 33; 民事诉讼法 art. 205/206): the parties apply jointly
# within 30 days of the written agreement taking effect; the court decides whether to accept within 3
# days and decides within 15 days. These are external deadlines: the clocks only remind.
CONFIRMATION = ClockRule("confirmation", 30, "statutory_days", on_expiry=REMIND)
COURT_CLOCKS = (ClockRule("court_acceptance", 3, "statutory_days", on_expiry=REMIND),
                ClockRule("court_decision", 15, "statutory_days", on_expiry=REMIND))
OUTCOMES = (("confirmed", _("confirmed")), ("refused", _("refused")))


# --- effects (the rows live with the services) ------------------------------------------------


def _route(ctx: TransitionContext) -> None:
    from civicgrid.disputes.services import route_effect

    route_effect(ctx)


def _accept(ctx: TransitionContext) -> None:
    from civicgrid.disputes.services import accept_effect

    accept_effect(ctx)


def _return(ctx: TransitionContext) -> None:
    from civicgrid.disputes.services import return_effect

    return_effect(ctx)


def _session(ctx: TransitionContext) -> None:
    from civicgrid.disputes.services import session_effect

    session_effect(ctx)


def _refusal(ctx: TransitionContext) -> None:
    from civicgrid.disputes.services import refusal_effect

    refusal_effect(ctx)


def _refer(ctx: TransitionContext) -> None:
    from civicgrid.disputes.services import referral_effect

    referral_effect(ctx)


def _agree(ctx: TransitionContext) -> None:
    from civicgrid.disputes.services import agreement_effect

    agreement_effect(ctx)


def _follow_up(ctx: TransitionContext) -> None:
    from civicgrid.disputes.services import follow_up_effect

    follow_up_effect(ctx)


def _assess(ctx: TransitionContext) -> None:
    from civicgrid.disputes.services import assess_effect

    assess_effect(ctx)


def _assign_mediator(ctx: TransitionContext) -> None:
    from civicgrid.disputes.services import assign_mediator_effect

    assign_mediator_effect(ctx)


def _take(ctx: TransitionContext) -> None:
    from civicgrid.cases.services import assignment_accept

    assignment_accept(ctx)


def _apply_confirmation(ctx: TransitionContext) -> None:
    from civicgrid.disputes.services import confirmation_apply_effect

    confirmation_apply_effect(ctx)


def _record_confirmation(ctx: TransitionContext) -> None:
    from civicgrid.disputes.services import confirmation_record_effect

    confirmation_record_effect(ctx)


def _finish(ctx: TransitionContext) -> None:
    from civicgrid.cases.services import assignments_finish

    assignments_finish(ctx)


def _dispute_type_choices() -> tuple[tuple[str, Any], ...]:
    from civicgrid.disputes.selectors import dispute_types

    return tuple(dispute_types())


def _default_organisation(case: Any) -> str | None:
    from civicgrid.disputes.selectors import organisations_for

    first = next(iter(organisations_for(case)), None)
    return first.code if first is not None else None


# --- documents ----------------------------------------------------------------------------------

AGREEMENT_TEMPLATE = str(Path(__file__).resolve().parent / "templates" / "disputes" / "documents" / "agreement.docx")
# Who may draw a dispute's documents: the agreement prints the parties' real names, identity numbers,
# phones and addresses, so only those who may reveal every one of them (PARTIES.reveal) — the
# mediators, the assigned mediator, the administrator — and the system.
DRAFTERS = frozenset({Role.MEDIATOR, ASSIGNEE, Role.ADMIN, SYSTEM})


def document_context(case: Any) -> dict[str, Any]:
    """What the dispute's documents print beyond the engine's context: the parties in full (the
    agreement is an instrument the parties sign: their real names, identity numbers, phones and
    addresses — drawn only by DRAFTERS, audited as every generate_document, and served only to those
    who see the case), the facts and claims, the terms (each term, performer, due date), the
    organisation and the mediators assigned, the agreement's date."""
    from civicgrid.cases.models import AssignmentState
    from civicgrid.cases.selectors import parties_of
    from civicgrid.disputes.selectors import dispute_types

    d = DisputeDetail.objects.select_related("organisation").filter(case=case).first()
    kinds = dict(registry.PARTY_KINDS)
    parties = [{"kind": str(kinds.get(p.kind, p.kind)), "name": p.name, "id_number": p.id_number,
                "phone": p.phone, "address": p.address}
               for p in parties_of(case=case) if p.kind != "reporter"]
    mediators = [str(a.person) for a in case.assignments.filter(person__isnull=False).exclude(
        state__in=[AssignmentState.RECALLED, AssignmentState.TRANSFERRED]).select_related("person").order_by("id")]
    labels = dict(dispute_types())
    agreed = d.agreed_at if d is not None else None
    return {
        "parties": parties,
        "dispute_type": str(labels.get(d.dispute_type, d.dispute_type)) if d else "",
        "facts": (d.summary if d else "") or case.text,
        "applicant_claim": d.applicant_claim if d else "", "respondent_claim": d.respondent_claim if d else "",
        "terms": list(d.agreement_terms) if d else [],
        "organisation": d.organisation.name if d and d.organisation else "",
        "mediators": "、".join(mediators),
        "agreed_on": agreed.astimezone(CALENDAR_TZ).date().isoformat() if agreed else "",
        "copies": max(len(parties), 2) + 1,
    }


# --- the type ---------------------------------------------------------------------------------


def build_dispute_type() -> CaseType:
    t = Transition
    referral = Input("referral", "choice", required=True, label=_("referred to"), choices=tuple(Referral.choices))
    terms = Input("terms", "text", required=True,
                  label=_("terms, one per line: term | performer | due date (YYYY-MM-DD)"))
    transitions = {
        # route assigns the organisation's seat region; the organisation (its mediators, or the centre)
        # then assigns one of its mediators as a person (assign_mediator), who takes it (take).
        "route": t("route", ("registered",), "routed", ROUTERS, label=_("route to an organisation"),
                   inputs=(Input("organisation", "text", label=_("mediation organisation (code; empty: the default)"),
                                 default=_default_organisation),
                           Input("dispute_type", "choice", label=_("dispute type (to classify it)"),
                                 choices=_dispute_type_choices())),
                   effect=_route, public=True, starts=(ClockRule("accept", 3, "working_days", per_assignment=True),)),
        "accept": t("accept", ("routed",), "accepted", MEDIATORS, label=_("accept the dispute"),
                    guards=(OWN_ORGANISATION, HOLDS), effect=_accept, public=True),
        "return": t("return", ("routed",), "registered", MEDIATORS, label=_("return to the centre"),
                    requires=("reason",), guards=(OWN_ORGANISATION,), effect=_return),
        "assign_mediator": t("assign_mediator", ("accepted", "mediating"), None, MEDIATORS | {Role.DISPATCHER},
                             label=_("assign a mediator"), guards=(OWN_ORGANISATION,),
                             inputs=(Input("mediator", "person", required=True, label=_("mediator"),
                                           roles=frozenset({Role.MEDIATOR})),),
                             effect=_assign_mediator,
                             starts=(ClockRule("take", 1, "working_days", per_assignment=True),)),
        "take": t("take", ("accepted", "mediating"), None, frozenset({ASSIGNEE, Role.ADMIN, SYSTEM}),
                  label=_("take on the dispute"), guards=(HOLDS,), effect=_take),
        "start": t("start", ("accepted",), "mediating", WORKERS, label=_("start mediation"),
                   guards=(REFUSED,), public=True),
        "session": t("session", ("mediating",), None, WORKERS, label=_("record a session"),
                     requires=("note",), guards=(REFUSED,),
                     inputs=(Input("held_on", "text", required=True, label=_("date (YYYY-MM-DD)")),
                             Input("place", "text", label=_("place")),
                             Input("attendees", "text", label=_("attendees")),
                             Input("co_mediator", "person", label=_("co-mediator"),
                                   roles=frozenset({Role.MEDIATOR}))),
                     effect=_session),
        "record_refusal": t("record_refusal", ("accepted", "mediating"), None, WORKERS,
                            label=_("record a party's refusal"), requires=("reason",), guards=(REFUSED,),
                            inputs=(Input("side", "choice", required=True, label=_("refused by"),
                                          choices=tuple(Side.choices)),),
                            effect=_refusal),
        # WIRE(links): a referral to the police or the petition office opens a linked case there.
        "refer": t("refer", ("accepted", "mediating"), "refused", WORKERS | {Role.DISPATCHER},
                   label=_("refer after a refusal"), inputs=(referral,), guards=(NO_REFUSAL,),
                   closes=True, stops=("*",), effect=_refer, public=True),
        "agree_written": t("agree_written", ("mediating",), "agreed", WORKERS,
                           label=_("written agreement reached"), inputs=(terms,), guards=(REFUSED,),
                           stops=("handle",), starts=(ClockRule("follow_up", 30, "calendar_days"), CONFIRMATION),
                           effect=_agree, public=True),
        "agree_oral": t("agree_oral", ("mediating",), "agreed", WORKERS,
                        label=_("oral agreement reached"), inputs=(terms,), guards=(REFUSED,),
                        stops=("handle",), starts=(ClockRule("follow_up", 30, "calendar_days"),),
                        effect=_agree, public=True),
        "fail": t("fail", ("mediating",), "failed", WORKERS, label=_("mediation failed"),
                  requires=("reason",), inputs=(referral,), closes=True, stops=("*",), effect=_refer,
                  public=True),
        "follow_up": t("follow_up", ("agreed",), "performed", WORKERS | {Role.GRID_WORKER},
                       label=_("record the follow-up"), requires=("note",),
                       inputs=(Input("performed", "choice", required=True, label=_("terms performed"),
                                     choices=PERFORMED),),
                       stops=("follow_up",), effect=_follow_up, public=True),
        "apply_confirmation": t("apply_confirmation", ("agreed", "performed"), None, WORKERS,
                                label=_("record the application for judicial confirmation"),
                                inputs=(Input("court", "text", required=True, label=_("court applied to")),),
                                guards=(APPLY,), stops=("confirmation",), starts=COURT_CLOCKS,
                                effect=_apply_confirmation, public=True),
        "record_confirmation": t("record_confirmation", ("agreed", "performed"), None, WORKERS,
                                 label=_("record the court's decision on confirmation"),
                                 inputs=(Input("outcome", "choice", required=True, label=_("the court's decision"),
                                               choices=OUTCOMES),),
                                 guards=(AWAITING,), stops=("court_acceptance", "court_decision"),
                                 effect=_record_confirmation, public=True),
        "close": t("close", ("performed",), "closed", WORKERS | {Role.DISPATCHER}, label=_("close"),
                   guards=(NOT_AWAITING,), closes=True, stops=("*",), effect=_finish, public=True),
        "assess": t("assess", OPEN_STATES, None, ASSESSORS, label=_("update the risk assessment"),
                    inputs=(Input("people_involved", "number", label=_("people involved")),
                            Input("amount", "number", label=_("amount at stake")),
                            Input("threat_violence", "choice", label=_("threat of violence"), choices=YES_NO),
                            Input("threat_petition", "choice", label=_("threat of a group petition"),
                                  choices=YES_NO)),
                    effect=_assess),
    }
    amount, unit = term()
    return CaseType(
        code=DISPUTE,
        label=_("dispute"),
        states=STATES,
        initial="registered",
        transitions=transitions,
        closed_states=CLOSED_STATES,
        reopen_to="mediating",
        reopen_from=frozenset({"closed"}),  # a failed performance reopens the mediation
        generic=GenericRoles(reopen=frozenset({Role.MEDIATOR, Role.DISPATCHER, Role.ADMIN, SYSTEM}),
                             rate=frozenset({Role.MEDIATOR, Role.DISPATCHER, Role.ADMIN, SYSTEM}),
                             upload_document=WORKERS | {Role.DISPATCHER, Role.GRID_WORKER},
                             generate_document=DRAFTERS,
                             record_delivery=WORKERS | {Role.DISPATCHER}),
        # the term on the working calendar (CIVICGRID_DISPUTE_TERM may name statutory_days); the
        # judicial-confirmation windows are remind-only clocks of agree_written and apply_confirmation.
        start_clocks=(ClockRule("handle", amount, unit),),
        detail_model=DisputeDetail,
        recall_to="registered",
        reopen_clocks=(ClockRule("handle", amount, unit),),
        public_notes=frozenset({"refer", "fail"}),
        parties=PARTIES,
        documents=("agreement", "work_order"),
        document_templates={"agreement": AGREEMENT_TEMPLATE},
        document_context=document_context,
    )


_registered: CaseType | None = None


def register_dispute_type() -> CaseType:
    """Register the dispute type once per process (AppConfig.ready)."""
    global _registered
    if _registered is None:
        existing = {t.code: t for t in registry.all_types()}
        _registered = existing.get(DISPUTE) or registry.register(build_dispute_type())
    return _registered
