"""The event case type (事件, 一网统管) as the case engine runs it.

States and steps (DOMAIN §2)::

    reported ──register──▶ registered ──dispatch──▶ dispatched ──accept──▶ handling
       │  │                     ▲                      │  ▲                  │
       │  └─answer (咨询)─▶ answered                  dispute            report_back (photos)
       └─reject──▶ rejected     └────dispatch─── review ◀┘                  ▼
                                                                       verifying
                              handling ◀── verify_fail (返工) ────────────┤
                                                                          verify
                                                                           ▼
                                      rated by the reporter ◀── replied ◀─reply── closed

* ``reported`` (已上报) → ``registered`` (立案) or ``rejected`` (不予立案, with a reason), or an
  enquiry (咨询, a request type that may be answered at once) is ``answered`` and closed.
* ``dispatch`` (派遣) opens the lead unit's assignment and co-handling units' (主办/协办), each with a
  sign-off clock; a unit ``accept``\\ s (签收) or ``dispute``\\ s (退单, within the return window of
  2 working days); the centre reviews (``review``) and dispatches again.
* ``report_back`` (处置反馈) needs a note and a photo; the grid worker checks on site: ``verify``
  closes (核查结案), ``verify_fail`` sends it back to handling (返工).
* ``reply`` (答复) tells the reporter; the follow-up rating (回访评价, ``case_rate``) reopens it
  when "unsatisfied" (engine ``case_reopen`` → ``handling``).
* ``whistle`` (吹哨) keeps the state: the street summons departments (see services.whistle_blow).
* The engine's generic actions apply: merge, recall (back to ``registered``), extension, deferral,
  supervision, escalation, reopen.

Clocks (defaults; the setting ``CIVICGRID_EVENT_CLOCKS`` overrides any, e.g.
``{"sign": (2, "working_hours")}``): ``handle`` from the category's deadline rule, else the
request type's limit, else 5 working days, from intake; ``register`` 2 working hours from intake;
``sign`` 1 working hour per dispatched unit; ``verify`` 1 working day after the report-back;
``reply`` 1 working day after closing; ``follow_up`` 2 working days after the reply.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.cases import registry
from civicgrid.cases.errors import TransitionNotAllowed
from civicgrid.cases.registry import (
    SYSTEM,
    CaseType,
    ClockRule,
    GenericRoles,
    Guard,
    Input,
    Opens,
    PartyRules,
    Transition,
)
from civicgrid.cases.services import (
    NO_PENDING_ASSIGNMENT,
    TransitionContext,
    assignment_accept,
    assignment_dispute,
    assignment_open,
    assignments_finish,
    pending_assignment_of,
)
from civicgrid.org.models import Role
from civicgrid.taxonomy.models import TimeUnit
from civicgrid.workcal import clock
from civicgrid.workcal.calendar import working_calendar, working_hours

EVENT = "event"
RETURN_WINDOW = (2, "working_days")  # a unit may dispute a dispatch within 2 working days (退单时限)

CENTRE = frozenset({Role.DISPATCHER, Role.ADMIN, SYSTEM})
CALL_BACK = frozenset({Role.DISPATCHER, Role.DEPARTMENT_HANDLER, Role.ADMIN})  # may reveal the reporter's phone
HANDLER = frozenset({Role.DEPARTMENT_HANDLER, Role.ADMIN, SYSTEM})
VERIFIER = frozenset({Role.GRID_WORKER, Role.DISPATCHER, Role.ADMIN, SYSTEM})
WHISTLER = frozenset({Role.DISPATCHER, Role.ADMIN})

STATES: dict[str, Any] = {
    "reported": gettext_lazy("reported"),  # 已上报
    "registered": gettext_lazy("registered"),  # 已立案
    "rejected": gettext_lazy("not registered"),  # 不予立案
    "answered": gettext_lazy("answered directly"),  # 直接答复
    "dispatched": gettext_lazy("dispatched"),  # 已派遣
    "review": gettext_lazy("dispatch disputed, under review"),  # 退单审核
    "handling": gettext_lazy("being handled"),  # 处置中
    "verifying": gettext_lazy("waiting for on-site check"),  # 待核查
    "closed": gettext_lazy("closed"),  # 已结案
    "replied": gettext_lazy("replied to the reporter"),  # 已答复
    "merged": gettext_lazy("merged"),  # 已并单
}
# Timeline notes the reporter may read: what the centre wrote *to them* (a rejection's reason, the
# direct answer, the reply, why it was reopened). Other notes (instructions to a department, a
# handler's report, a supervision) stay inside.
# A reopening's note stays inside: it is a verifier's finding or the resident's own rating comment,
# which may name them (a phone, a door); the public step says only that the case was reopened.
PUBLIC_NOTES = frozenset({"reject", "answer", "reply"})
OPEN_STATES = ("reported", "registered", "dispatched", "review", "handling", "verifying")
CLOSED_STATES = frozenset({"rejected", "answered", "closed", "replied"})

CLOCK_LABELS: dict[str, Any] = {
    "handle": gettext_lazy("closing deadline"),  # 办结时限: from the report until closed (check included)
    "register": gettext_lazy("registration deadline"),  # 立案时限
    "sign": gettext_lazy("sign-off deadline"),  # 签收时限, one per dispatched unit
    "verify": gettext_lazy("on-site check deadline"),  # 核查时限
    "reply": gettext_lazy("reply deadline"),  # 答复时限
    "follow_up": gettext_lazy("follow-up deadline"),  # 回访时限
}

DEFAULT_CLOCKS: dict[str, tuple[float, str]] = {
    "handle": (5, "working_days"),
    "register": (2, "working_hours"),
    "sign": (1, "working_hours"),
    "verify": (1, "working_days"),
    "reply": (1, "working_days"),
    "follow_up": (2, "working_days"),
}


def clock_limits() -> dict[str, tuple[float, str]]:
    """The default limits of the event clocks, with the setting ``CIVICGRID_EVENT_CLOCKS`` applied."""
    limits = dict(DEFAULT_CLOCKS)
    override = getattr(settings, "CIVICGRID_EVENT_CLOCKS", None) or {}
    for kind, value in override.items():
        if kind not in limits:
            raise ValueError(f"CIVICGRID_EVENT_CLOCKS: unknown clock {kind!r} (known: {', '.join(limits)})")
        amount, unit = value
        if unit not in TimeUnit.values or not float(amount) > 0:
            raise ValueError(f"CIVICGRID_EVENT_CLOCKS[{kind!r}]: give a positive amount and one of "
                             f"{', '.join(TimeUnit.values)}")
        limits[kind] = (float(amount), str(unit))
    return limits


# --- effects ----------------------------------------------------------------------------------


def _dispatch(ctx: TransitionContext) -> None:
    if ctx.department is None and ctx.region is None:
        raise TransitionNotAllowed({"department": _("Name the lead department.")})
    if ctx.department is not None and ctx.department in ctx.co_departments:
        raise TransitionNotAllowed({"co_departments": _("The lead department cannot also co-handle.")})
    assignment_open(ctx, department=ctx.department, region=ctx.region if ctx.department is None else None,
                    note=ctx.note[:500])
    for co in ctx.co_departments:
        assignment_open(ctx, department=co, role="co", note=ctx.note[:500])


def _dispute(ctx: TransitionContext) -> None:
    a = assignment_dispute(ctx)
    amount, unit = RETURN_WINDOW
    # when the unit got it: its first clock (the sign-off clock starts at the dispatch's own time)
    started = a.timers.order_by("started_at").values_list("started_at", flat=True).first() or a.created_at
    last = clock.due_at(started, amount, unit, calendar=working_calendar(), hours=working_hours())
    if ctx.now > last:
        raise TransitionNotAllowed({"reason": _("A dispatch can only be disputed within %(n)d working days; "
                                                "ask the centre to transfer it instead.") % {"n": amount}})


def _is_enquiry(case: Any, detail: Any, actor: Any) -> bool:
    rt = case.request_type
    return rt is not None and bool(rt.answer_directly)


def _suggested_department(case: Any) -> Any:
    """The department the dispatch catalogue suggested at intake (dispatch's default), or None."""
    from civicgrid.events.models import EventDetail
    from civicgrid.org.models import Department

    pk = EventDetail.objects.filter(case=case).values_list("suggested_department", flat=True).first()
    return Department.objects.filter(pk=pk, is_active=True).first() if pk else None


def _store_photos(photos: Any) -> list[dict[str, Any]]:
    from civicgrid.events.services import photos_stored

    return photos_stored(photos)


def _whistle(ctx: TransitionContext) -> None:
    from civicgrid.events.services import whistle_effect  # the whistle rows live with the services

    whistle_effect(ctx)


# An event turned into a dispute (转矛盾纠纷调处): the engine opens a case of the type registered as
# "dispute" (named by its code only: events import no other type) and links the two (led_to ↔
# opened_from). Its detail says where it came from; the centre classifies and routes it there.
DISPUTE_TYPE = "dispute"


def _dispute_detail(ctx: TransitionContext) -> dict[str, Any]:
    return {"source": "event", "source_reference": ctx.case.tracking_code, "summary": ctx.case.text,
            "dispute_type": str(ctx.data.get("dispute_type") or "").strip()[:30]}


def _not_turned_yet(case: Any, detail: Any, actor: Any) -> bool:
    from civicgrid.cases.models import CaseLink

    return not CaseLink.objects.filter(from_case=case, kind="led_to", to_case__case_type=DISPUTE_TYPE).exists()


# --- the type ---------------------------------------------------------------------------------


def build_event_type() -> CaseType:
    lim = clock_limits()

    def rule(kind: str, **kw: Any) -> ClockRule:
        return ClockRule(kind, lim[kind][0], lim[kind][1], **kw)

    t = Transition
    note = Input("note", "text")
    photos = Input("photos", "photos")
    enquiry = Guard(_is_enquiry, gettext_lazy("Only an enquiry can be answered directly; register it instead."))
    holds = Guard(pending_assignment_of, NO_PENDING_ASSIGNMENT)
    transitions = {
        "register": t("register", ("reported",), "registered", CENTRE, label=gettext_lazy("register"),
                      stops=("register",), public=True),
        "reject": t("reject", ("reported",), "rejected", CENTRE, label=gettext_lazy("not register"),
                    requires=("reason",), closes=True, stops=("*",), public=True),
        "answer": t("answer", ("reported",), "answered", CENTRE, label=gettext_lazy("answer directly"),
                    requires=("note",), closes=True, stops=("*",), public=True, guards=(enquiry,)),
        "dispatch": t("dispatch", ("registered", "review"), "dispatched", CENTRE, label=gettext_lazy("dispatch"),
                      requires=("department", "region"), effect=_dispatch, public=True,
                      inputs=(Input("department", "department", label=gettext_lazy("lead department"),
                                    default=_suggested_department),
                              Input("co_departments", "departments", label=gettext_lazy("co-handling departments")),
                              Input("region", "region", label=gettext_lazy("region")), note),
                      starts=(rule("sign", per_assignment=True),)),
        # from "handling" too: a co-handling unit may accept after the lead unit did
        "accept": t("accept", ("dispatched", "handling"), "handling", HANDLER, label=gettext_lazy("accept"),
                    effect=assignment_accept, guards=(holds,)),
        "dispute": t("dispute", ("dispatched", "handling"), "review", HANDLER,
                     label=gettext_lazy("dispute the dispatch"), requires=("reason",), effect=_dispute),
        "report_back": t("report_back", ("handling",), "verifying", HANDLER, label=gettext_lazy("report back"),
                         requires=("note", "photo"), starts=(rule("verify"),), public=True),
        "verify": t("verify", ("verifying",), "closed", VERIFIER, label=gettext_lazy("verify and close"),
                    requires=("note",), inputs=(photos,), closes=True, stops=("*",), effect=assignments_finish,
                    public=True, starts=(rule("reply"),)),
        "verify_fail": t("verify_fail", ("verifying",), "handling", VERIFIER,
                         label=gettext_lazy("send back for rework"), requires=("reason",), inputs=(photos,),
                         stops=("verify",), public=True),
        "reply": t("reply", ("closed",), "replied", CENTRE, label=gettext_lazy("reply to the reporter"),
                   requires=("note",), stops=("reply",), starts=(rule("follow_up"),), public=True),
        "whistle": t("whistle", ("registered", "dispatched", "review", "handling"), None, WHISTLER,
                     label=gettext_lazy("blow the whistle"), requires=("reason",), effect=_whistle,
                     inputs=(Input("kind", "choice", required=True, label=gettext_lazy("kind of whistle"),
                                   choices=tuple((k.value, k.label) for k in _whistle_kinds())),
                             Input("departments", "departments", required=True,
                                   label=gettext_lazy("departments to summon")))),
        "to_dispute": t("to_dispute", ("reported", "registered"), None, CENTRE,
                        label=gettext_lazy("turn into a dispute for mediation"), requires=("note",),
                        inputs=(Input("dispute_type", "text",
                                      label=gettext_lazy("dispute type (code; empty: classified when routed)")),),
                        guards=(Guard(_not_turned_yet, gettext_lazy("This event was turned into a dispute "
                                                                    "already.")),),
                        opens=Opens(DISPUTE_TYPE, link="led_to", detail=_dispute_detail)),
    }
    return CaseType(
        code=EVENT,
        label=gettext_lazy("event"),
        states=STATES,
        initial="reported",
        transitions=transitions,
        closed_states=CLOSED_STATES,
        reopen_to="handling",
        generic=GenericRoles(),
        start_clocks=(rule("handle", from_category=True), rule("register")),
        detail_model=_detail_model(),
        recall_to="registered",
        # a report not registered (rejected, answered directly) was never handled: nobody to send it back to
        reopen_from=frozenset({"closed", "replied"}),
        reopen_on_unsatisfied=True,
        reopen_clocks=(rule("handle", from_category=True),),
        rating_stops=("follow_up",),
        unregistered_states=frozenset({"rejected", "answered"}),
        public_notes=PUBLIC_NOTES,
        photo_store=_store_photos,
        # the reporter (反映人) is the event's one party: the centre and the department holding the
        # event may see the name and phone in full to call back, with a purpose (audited)
        parties=PartyRules(kinds=("reporter",), edit=CENTRE,
                           reveal={"name": CALL_BACK, "phone": CALL_BACK, "address": CALL_BACK}),
    )


def _whistle_kinds() -> Any:
    from civicgrid.events.models import WhistleKind

    return WhistleKind


def _detail_model() -> Any:
    from civicgrid.events.models import EventDetail

    return EventDetail


_registered: CaseType | None = None


def register_event_type() -> CaseType:
    """Register the event type once per process (AppConfig.ready)."""
    global _registered
    if _registered is None:
        existing = {t.code: t for t in registry.all_types()}
        _registered = existing.get(EVENT) or registry.register(build_event_type())
    return _registered


def event_type() -> CaseType:
    return registry.get(EVENT)
