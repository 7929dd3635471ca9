"""The petition case type (信访, DOMAIN §8; 信访工作条例 2022) as the case engine runs it.

States and steps (days are statutory days unless stated: the start day is not counted, a last day
on a rest day moves to the next working day)::

    received ─register─▶ registered ─route─▶ routed ─accept─▶ accepted ─reply (claim)──▶ replied
       (SYSTEM, at intake)   ▲  │            │  │                  │   └─answer (suggestion,
                             │  │            │  └─not_accept─▶ not_accepted    accusation)─▶ answered
                             └──┼── object ──┘  (the unit's objection to a mis-routing, 5 working days)
                                └─ lead_to_channel (诉访分离) ─▶ redirected
    replied ─request_review─▶ review ─decide_review─▶ reviewed ─request_rereview─▶ rereview
       │                                                 │                          │ hearing_start /
       └── finalise (the window lapsed: SYSTEM) ─▶ final ◀┘                          │ hearing_end pause
                                                         final ◀─ decide_rereview ───┘

Clocks: ``route`` 15 days from receipt (register and route); ``notice`` 15 days per routing for the
unit's decision and written notice — started only when a notice is owed (the petitioner's name and
address are known); ``handle`` 60 days from acceptance, extensions capped at 30; ``review_window`` /
``rereview_window`` 30 days from the *delivery* of the reply / review opinion
(:func:`civicgrid.petitions.services.notice_delivered`), lapsing into ``final``; ``review`` and
``rereview`` 30 days to decide (a hearing pauses the re-review clock). Every overdue step is
supervised (督办) without moving the petition.

Review and re-review are *stages of the same case* (``PetitionDetail.stage``), not linked cases:
the engine opens a linked case in the new type's initial state, and a review is a continuation of
the same matter with the same petitioner, parties and documents. The superior unit that reviews
is routed to as the case's new lead unit. Earlier petitions of the same matter are linked cases.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from civicgrid.cases import registry
from civicgrid.cases.registry import (
    SUPERVISE,
    SYSTEM,
    CaseType,
    ClockRule,
    GenericRoles,
    Guard,
    Input,
    PartyRules,
    Transition,
    Visibility,
    run_transition,
)
from civicgrid.cases.services import NO_PENDING_ASSIGNMENT, TransitionContext, pending_assignment_of
from civicgrid.org.models import Role
from civicgrid.petitions.models import Channel, Kind, PetitionDetail

PETITION = "petition"

# The petition office (信访办) and the units it routes to are departments: their handlers act, the
# guards tell the office's staff from the unit's.
HANDLERS = frozenset({Role.DEPARTMENT_HANDLER, Role.ADMIN, SYSTEM})
LEADERS = frozenset({Role.LEADER, Role.ADMIN, SYSTEM})

STATES: dict[str, Any] = {
    "received": _("received"),  # 已收到
    "registered": _("registered"),  # 已登记
    "routed": _("routed to a unit"),  # 已转送/交办
    "accepted": _("accepted, being handled"),  # 已受理, 办理中
    "not_accepted": _("not accepted"),  # 不予受理
    "answered": _("answered"),  # 已答复 (suggestions, accusations)
    "replied": _("replied"),  # 已出具处理意见书
    "review": _("under review"),  # 复查中
    "reviewed": _("review decided"),  # 已复查
    "rereview": _("under re-review"),  # 复核中
    "final": _("final"),  # 终结
    "redirected": _("led to another procedure"),  # 诉访分离
    "not_reaccepted": _("not accepted again"),  # 不再受理
    "merged": _("merged"),
}
CLOSED_STATES = frozenset({"not_accepted", "answered", "final", "redirected", "not_reaccepted"})
OPEN_STATES = tuple(s for s in STATES if s not in CLOSED_STATES and s != "merged")

DAYS = "statutory_days"
ROUTE_DAYS = 15
NOTICE_DAYS = 15
OBJECTION_WORKING_DAYS = 5
HANDLE_DAYS = 60
EXTENSION_CAP = 30
WINDOW_DAYS = 30
DECIDE_DAYS = 30


# --- guards -----------------------------------------------------------------------------------


def _office_staff(case: Any, detail: Any, actor: Any) -> bool:
    from civicgrid.petitions.selectors import is_office_staff

    return detail is not None and is_office_staff(actor, detail)


def _unit_staff(case: Any, detail: Any, actor: Any) -> bool:
    from civicgrid.petitions.selectors import is_unit_staff

    return is_unit_staff(actor, case)


def _is_claim(case: Any, detail: Any, actor: Any) -> bool:
    return detail is not None and detail.kind == Kind.CLAIM


def _not_claim(case: Any, detail: Any, actor: Any) -> bool:
    return detail is not None and detail.kind != Kind.CLAIM


OFFICE = Guard(_office_staff, _("Only the petition office that registered the petition may do this."),
               needs_detail=True)
UNIT = Guard(_unit_staff, _("Only the unit the petition was routed to may do this."))
HOLDS = Guard(pending_assignment_of, NO_PENDING_ASSIGNMENT)
CLAIM = Guard(_is_claim, _("Only a claim (申诉求决) has a written reply and its review path."), needs_detail=True)
NOT_CLAIM = Guard(_not_claim, _("A claim is closed by its written reply (处理意见书)."), needs_detail=True)


# --- effects (the rows live with the services) ------------------------------------------------


def _effect(name: str) -> Any:
    def run(ctx: TransitionContext) -> None:
        from civicgrid.petitions import services

        getattr(services, name)(ctx)

    run.__name__ = name
    return run


def _document_names(case: Any) -> dict[str, Any]:
    from civicgrid.petitions.selectors import document_names

    return document_names(case)


# --- the type ---------------------------------------------------------------------------------


def _supervised(kind: str, amount: float, unit: str = DAYS, **kw: Any) -> ClockRule:
    return ClockRule(kind, amount, unit, on_expiry=SUPERVISE, **kw)


def build_petition_type() -> CaseType:
    t = Transition
    # The unit by its code: the office's handlers see no other department through the engine's
    # department input (a handler reaches only their own department), so the office's reach is
    # resolved here (selectors.units_for: units serving the place within the office's region).
    unit_input = Input("unit", "text", required=True, label=_("unit (code)"))
    leader_input = Input("leader", "person", required=True, label=_("leader"), roles=frozenset({Role.LEADER}))
    transitions = {
        # The office registers what it received (run by the intake itself, as the system): the office
        # holds the petition from then on (a co-handling assignment of its department).
        "register": t("register", ("received",), "registered", frozenset({SYSTEM}), label=_("register"),
                      effect=_effect("register_effect")),
        "route": t("route", ("registered",), "routed", HANDLERS, label=_("route to a unit"),
                   inputs=(unit_input,), guards=(OFFICE,), stops=("route",),
                   effect=_effect("route_effect"), public=True),
        "object": t("object", ("routed",), "registered", HANDLERS, label=_("object to the routing"),
                    requires=("reason",), guards=(UNIT,), effect=_effect("object_effect"),
                    starts=(_supervised("route", ROUTE_DAYS),)),
        "accept": t("accept", ("routed",), "accepted", HANDLERS, label=_("accept"), guards=(UNIT, HOLDS),
                    effect=_effect("accept_effect"), public=True,
                    starts=(ClockRule("handle", HANDLE_DAYS, DAYS, on_expiry=SUPERVISE,
                                      extension_cap=EXTENSION_CAP),)),
        "not_accept": t("not_accept", ("routed",), "not_accepted", HANDLERS, label=_("do not accept"),
                        requires=("reason",), guards=(UNIT,), closes=True, stops=("*",),
                        effect=_effect("finish_effect"), public=True),
        "answer": t("answer", ("accepted",), "answered", HANDLERS, label=_("answer"), requires=("note",),
                    guards=(UNIT, NOT_CLAIM), closes=True, stops=("*",), effect=_effect("finish_effect"),
                    public=True),
        "reply": t("reply", ("accepted",), "replied", HANDLERS, label=_("written reply (处理意见书)"),
                   requires=("note",), guards=(UNIT, CLAIM), stops=("handle",), public=True),
        # The request windows run from the delivery of the written answer: notice_delivered takes these
        # steps, as the system, at the delivery's time.
        "reply_delivered": t("reply_delivered", ("replied",), None, frozenset({SYSTEM}),
                             label=_("reply delivered"), public=True,
                             starts=(ClockRule("review_window", WINDOW_DAYS, DAYS,
                                               on_expiry=run_transition("finalise")),)),
        "request_review": t("request_review", ("replied",), "review", HANDLERS | {Role.DISPATCHER},
                            label=_("request a review (复查)"), requires=("reason",),
                            inputs=(Input("unit", "text", required=True, label=_("reviewing unit (code)")),),
                            guards=(OFFICE,), stops=("review_window",), effect=_effect("review_request_effect"),
                            starts=(_supervised("review", DECIDE_DAYS),), public=True),
        "decide_review": t("decide_review", ("review",), "reviewed", HANDLERS, label=_("review opinion"),
                           requires=("note",), guards=(UNIT,), stops=("review",), public=True),
        "opinion_delivered": t("opinion_delivered", ("reviewed",), None, frozenset({SYSTEM}),
                               label=_("review opinion delivered"), public=True,
                               starts=(ClockRule("rereview_window", WINDOW_DAYS, DAYS,
                                                 on_expiry=run_transition("finalise")),)),
        "request_rereview": t("request_rereview", ("reviewed",), "rereview", HANDLERS | {Role.DISPATCHER},
                              label=_("request a re-review (复核)"), requires=("reason",),
                              inputs=(Input("unit", "text", required=True, label=_("re-reviewing unit (code)")),),
                              guards=(OFFICE,), stops=("rereview_window",),
                              effect=_effect("review_request_effect"),
                              starts=(_supervised("rereview", DECIDE_DAYS),), public=True),
        "hearing_start": t("hearing_start", ("rereview",), None, HANDLERS, label=_("hold a hearing (听证)"),
                           guards=(UNIT,), effect=_effect("hearing_start_effect"), public=True),
        "hearing_end": t("hearing_end", ("rereview",), None, HANDLERS, label=_("hearing ended"),
                         guards=(UNIT,), effect=_effect("hearing_end_effect"), public=True),
        "decide_rereview": t("decide_rereview", ("rereview",), "final", HANDLERS, label=_("re-review opinion"),
                             requires=("note",), guards=(UNIT,), closes=True, stops=("*",),
                             effect=_effect("finish_effect"), public=True),
        "finalise": t("finalise", ("replied", "reviewed"), "final", frozenset({SYSTEM}),
                      label=_("final: no request in time"), closes=True, stops=("*",),
                      effect=_effect("finish_effect"), public=True),
        "lead_to_channel": t("lead_to_channel", ("registered", "routed", "accepted"), "redirected", HANDLERS,
                             label=_("lead to another procedure (诉访分离)"), requires=("reason",),
                             inputs=(Input("channel", "choice", required=True, label=_("procedure"),
                                           choices=tuple(Channel.choices)),),
                             guards=(OFFICE,), closes=True, stops=("*",), effect=_effect("channel_effect"),
                             public=True),
        "not_reaccept": t("not_reaccept", ("registered",), "not_reaccepted", frozenset({SYSTEM}),
                          label=_("not accepted again (不再受理)"), closes=True, stops=("*",), public=True,
                          effect=_effect("finish_effect")),
        # 领导包案: a leader owns a major petition (a person assignment, co-handling: the unit keeps it).
        "assign_leader": t("assign_leader", OPEN_STATES, None, HANDLERS, label=_("leader takes charge (包案)"),
                           inputs=(leader_input,), guards=(OFFICE,), effect=_effect("leader_effect")),
    }
    return CaseType(
        code=PETITION,
        label=_("petition"),
        states=STATES,
        initial="received",
        transitions=transitions,
        closed_states=CLOSED_STATES,
        generic=GenericRoles(
            request_extension=frozenset({Role.DEPARTMENT_HANDLER, Role.ADMIN, SYSTEM}),
            decide_extension=LEADERS,  # an extension needs a leader's approval
            link=HANDLERS | {Role.LEADER},
            reopen=frozenset(),
            rate=frozenset({Role.ADMIN, SYSTEM, registry.REPORTER}),
            recall=frozenset({Role.ADMIN, SYSTEM}),
            merge=frozenset({Role.ADMIN, SYSTEM}),
        ),
        start_clocks=(_supervised("route", ROUTE_DAYS),),
        detail_model=PetitionDetail,
        recall_to="registered",
        public_notes=frozenset({"not_accept", "answer", "reply", "decide_review", "decide_rereview",
                                "lead_to_channel"}),
        parties=PartyRules(kinds=("petitioner", "representative"), edit=HANDLERS,
                           reveal={"name": HANDLERS, "phone": HANDLERS, "address": HANDLERS,
                                   "id_number": frozenset({Role.ADMIN})}),
        # Accusations: the petition office (its handlers through the office's assignment) and the
        # handlers assigned; not the region's centre, the auditor, or any unit not holding it.
        visibility=Visibility.restricted(roles=(Role.DEPARTMENT_HANDLER,), field="kind",
                                         by_value={Kind.SUGGESTION.value: None, Kind.CLAIM.value: None}),
        documents=("work_order", "notice", "decision"),
        public_documents=frozenset({"notice", "decision"}),
        document_context=_document_names,
    )


_registered: CaseType | None = None


def register_petition_type() -> CaseType:
    """Register the petition type once per process (AppConfig.ready)."""
    global _registered
    if _registered is None:
        existing = {t.code: t for t in registry.all_types()}
        _registered = existing.get(PETITION) or registry.register(build_petition_type())
    return _registered
