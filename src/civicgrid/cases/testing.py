"""Small case types that exercise the engine's features, for the engine's own tests and benchmarks.

DRILL goes to departments and regions; TASK to people (a mediator or a leader owning the case,
包案). Register them with :func:`register_drill` and :func:`register_task` (idempotent). They are
deliberately not events: the engine must work for any type that registers. A third small type,
RELAY, is what a drill is handed over to (``hand_over`` opens a relay case and links the two:
``Transition.opens``), named only by its code, as one type names another.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from civicgrid.cases import registry
from civicgrid.cases.registry import (
    ASSIGNEE,
    REMIND,
    SUPERVISE,
    SYSTEM,
    CaseType,
    ClockRule,
    Guard,
    Input,
    Opens,
    PartyRules,
    Transition,
    Visibility,
    run_transition,
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

CENTRE = frozenset({Role.DISPATCHER, Role.ADMIN, SYSTEM})
HANDLER = frozenset({Role.DEPARTMENT_HANDLER, Role.ADMIN, SYSTEM})


def _dispatch(ctx: TransitionContext) -> None:
    assignment_open(ctx, department=ctx.department, region=ctx.region if ctx.department is None else None)
    for co in ctx.co_departments:
        assignment_open(ctx, department=co, role="co")


def _titled(case: Any, detail: Any, actor: Any) -> bool:
    return not case.title.startswith("!")  # a drill titled "!…" cannot be finished: the guard's test


def _store(uploads: Sequence[Any], kind: str) -> list[dict[str, Any]]:
    """A drill keeps no bytes: each upload's name, size and digest (a type stores its own files)."""
    out = []
    for u in uploads:
        content = getattr(u, "content", b"") or b""
        out.append({"kind": kind, "name": getattr(u, "name", "") or "", "size": len(content),
                    "sha256": hashlib.sha256(content).hexdigest()})
    return out


DRILL = CaseType(
    code="drill",
    label="drill",
    states={"new": "new", "dispatched": "dispatched", "handling": "handling", "review": "review",
            "done": "done", "rejected": "rejected", "handed_over": "handed over", "merged": "merged"},
    initial="new",
    closed_states=frozenset({"done", "rejected", "handed_over"}),
    reopen_to="handling",
    transitions={
        "dispatch": Transition("dispatch", ("new", "review"), "dispatched", CENTRE, label="dispatch",
                               requires=("department",), effect=_dispatch, public=True, lead=True,
                               starts=(ClockRule("sign", 1, "working_hours", per_assignment=True),)),
        # from "handling" too: a co-handling unit may accept before the lead unit does
        "accept": Transition("accept", ("dispatched", "handling"), "handling", HANDLER, label="accept",
                             effect=assignment_accept, guards=(Guard(pending_assignment_of, NO_PENDING_ASSIGNMENT),)),
        "dispute": Transition("dispute", ("dispatched", "handling"), "review", HANDLER, label="dispute",
                              requires=("reason",), effect=assignment_dispute),
        "finish": Transition("finish", ("handling",), "done", HANDLER | {Role.GRID_WORKER}, label="finish",
                             requires=("note",), closes=True, stops=("*",), effect=assignments_finish, public=True,
                             inputs=(Input("photos", "photos"), Input("files", "files"),
                                     Input("hours", "number", label="hours spent")),
                             guards=(Guard(_titled, "A drill titled with ! cannot be finished."),)),
        "reject": Transition("reject", ("new",), "rejected", CENTRE, label="reject", requires=("reason",),
                             closes=True, stops=("*",), public=True),
        # a relay case is opened from the drill and linked to it ("transferred to"), in the same step
        "hand_over": Transition("hand_over", ("new",), "handed_over", CENTRE, label="hand over", closes=True,
                                stops=("*",), public=True, opens=Opens("relay", link="transferred_to"),
                                guards=(Guard(_titled, "A drill titled with ! cannot be handed over."),)),
    },
    start_clocks=(ClockRule("handle", 5, "working_days", from_category=True),),
    recall_to="new",
    reopen_on_unsatisfied=True,
    reopen_clocks=(ClockRule("handle", 5, "working_days", from_category=True),),
    photo_store=lambda uploads: _store(uploads, "photo"),
    file_store=lambda uploads: _store(uploads, "file"),
    # parties of every kind but a petitioner; the centre and the handling department may see a name
    # or phone in full (with a purpose), only a dispatcher an identity number
    parties=PartyRules(kinds=("reporter", "applicant", "respondent", "third_party", "representative"),
                       edit=CENTRE, reveal={"name": CENTRE | HANDLER, "phone": CENTRE | HANDLER,
                                            "id_number": frozenset({Role.DISPATCHER})}),
    documents=("work_order", "notice"),
    public_documents=frozenset({"notice"}),
)


RELAY = CaseType(
    code="relay",
    label="relay",
    states={"new": "new", "done": "done", "merged": "merged"},
    initial="new",
    closed_states=frozenset({"done"}),
    transitions={
        "close": Transition("close", ("new",), "done", CENTRE, label="close", closes=True, stops=("*",)),
    },
    start_clocks=(ClockRule("handle", 10, "calendar_days"),),
)


def register_drill() -> CaseType:
    """Register DRILL and RELAY, the type it hands over to (idempotent)."""
    codes = {t.code for t in registry.all_types()}
    for ctype in (DRILL, RELAY):
        if ctype.code not in codes:
            registry.register(ctype)
    return DRILL


# --- TASK: a case owned by a person ----------------------------------------------------------------

OWNERS = frozenset({Role.MEDIATOR, Role.LEADER})  # who may be named to own a task
ASSIGNED = frozenset({ASSIGNEE, Role.ADMIN, SYSTEM})  # the person it is given to (and an administrator)


def _give(ctx: TransitionContext) -> None:
    """Give the case to the person named (a new one ends the previous person's assignment: a transfer)."""
    assignment_open(ctx, person=ctx.data["person"])


_PERSON = Input("person", "person", required=True, label="person", roles=OWNERS)

TASK = CaseType(
    code="task",
    label="task",
    states={"new": "new", "assigned": "assigned", "working": "working", "review": "review", "done": "done",
            "merged": "merged"},
    initial="new",
    closed_states=frozenset({"done"}),
    reopen_to="working",
    transitions={
        "assign": Transition("assign", ("new", "review"), "assigned", CENTRE, label="assign", inputs=(_PERSON,),
                             effect=_give, starts=(ClockRule("sign", 1, "working_days", per_assignment=True),)),
        "transfer": Transition("transfer", ("assigned", "working"), "assigned", CENTRE, label="transfer",
                               inputs=(_PERSON,), effect=_give,
                               starts=(ClockRule("sign", 1, "working_days", per_assignment=True),)),
        "accept": Transition("accept", ("assigned",), "working", ASSIGNED, label="accept", effect=assignment_accept,
                             guards=(Guard(pending_assignment_of, NO_PENDING_ASSIGNMENT),)),
        "dispute": Transition("dispute", ("assigned", "working"), "review", ASSIGNED, label="dispute",
                              requires=("reason",), effect=assignment_dispute),
        "finish": Transition("finish", ("working",), "done", ASSIGNED, label="finish", requires=("note",),
                             closes=True, stops=("*",), effect=assignments_finish, public=True),
    },
    start_clocks=(ClockRule("handle", 10, "working_days"),),
    recall_to="new",
)


def register_task() -> CaseType:
    if TASK.code not in {t.code for t in registry.all_types()}:
        registry.register(TASK)
    return TASK


# A second small type for the clocks' policies (issue 16): its handling clock escalates as events'
# does and caps its extensions at 7 working days; "court" only reminds (a court's deadline);
# "watch" is supervised; "window" is a 15-statutory-day request window whose lapse makes the answer
# final; "visit" recurs every month until the case is closed.
CLOCK_DRILL = CaseType(
    code="clockdrill",
    label="clock drill",
    states={"open": "open", "answered": "answered", "review": "under review", "final": "final",
            "done": "done", "merged": "merged"},
    initial="open",
    closed_states=frozenset({"final", "done"}),
    transitions={
        "dispatch": Transition("dispatch", ("open",), None, CENTRE, label="dispatch", requires=("department",),
                               effect=_dispatch, lead=True),
        "court": Transition("court", ("open",), None, CENTRE, label="set the court's deadline",
                            starts=(ClockRule("court", 10, "statutory_days", on_expiry=REMIND),)),
        "watch": Transition("watch", ("open",), None, CENTRE, label="watch",
                            starts=(ClockRule("watch", 1, "working_days", on_expiry=SUPERVISE),)),
        "plan_visits": Transition("plan_visits", ("open",), None, CENTRE, label="plan monthly visits",
                                  starts=(ClockRule("visit", 1, "natural_months", recurs=True),)),
        "visited": Transition("visited", ("open",), None, CENTRE | {Role.GRID_WORKER}, label="visited",
                              stops=("visit",)),
        "answer": Transition("answer", ("open",), "answered", CENTRE, label="answer", stops=("handle",),
                             starts=(ClockRule("window", 15, "statutory_days", on_expiry=run_transition("finalise")),)),
        "request_review": Transition("request_review", ("answered",), "review", CENTRE | {Role.RESIDENT},
                                     label="ask for a review", stops=("window",)),
        "finalise": Transition("finalise", ("answered",), "final", CENTRE, label="make final", closes=True,
                               stops=("*",), public=True),
        "close": Transition("close", ("open", "review"), "done", CENTRE, label="close", closes=True, stops=("*",)),
    },
    start_clocks=(ClockRule("handle", 5, "working_days", extension_cap=7),),
)


def register_clock_drill() -> CaseType:
    if CLOCK_DRILL.code not in {t.code for t in registry.all_types()}:
        registry.register(CLOCK_DRILL)
    return CLOCK_DRILL


# A restricted drill (a petition office's kind of case): seen by the people assigned to it, their
# supervisors (leaders of a region where an assignee works) and administrators; a "suggestion" is
# also seen by the centre's dispatchers, a "notice" by the whole jurisdiction. An "accusation" — any
# kind not named — is the narrowest.
SEALED = replace(
    DRILL,
    code="sealed",
    label="sealed drill",
    visibility=Visibility.restricted(roles=(Role.ADMIN,), field="kind",
                                     by_value={"suggestion": (Role.ADMIN, Role.DISPATCHER), "notice": None}),
)


def register_sealed() -> CaseType:
    """Register the restricted drill (idempotent); tests unregister it (``registry.unregister``) so that
    other tests keep reading the jurisdiction alone."""
    if SEALED.code not in {t.code for t in registry.all_types()}:
        registry.register(SEALED)
    return SEALED
