"""A small case type that exercises every engine feature, for the engine's own tests and benchmarks.

Register it with :func:`register_drill` (idempotent). It is deliberately not an event: the engine
must work for any type that registers.
"""

from __future__ import annotations

from civicgrid.cases import registry
from civicgrid.cases.registry import SYSTEM, CaseType, ClockRule, Transition
from civicgrid.cases.services import (
    TransitionContext,
    assignment_accept,
    assignment_dispute,
    assignment_open,
    assignments_finish,
)

CENTRE = frozenset({"dispatcher", "admin", SYSTEM})
HANDLER = frozenset({"department_handler", "admin", SYSTEM})


def _dispatch(ctx: TransitionContext) -> None:
    assignment_open(ctx, department=ctx.department, region=ctx.region if ctx.department is None else None)
    for co in ctx.co_departments:
        assignment_open(ctx, department=co, role="co")


DRILL = CaseType(
    code="drill",
    label="drill",
    states={"new": "new", "dispatched": "dispatched", "handling": "handling", "review": "review",
            "done": "done", "rejected": "rejected", "merged": "merged"},
    initial="new",
    closed_states=frozenset({"done", "rejected"}),
    reopen_to="handling",
    transitions={
        "dispatch": Transition("dispatch", ("new", "review"), "dispatched", CENTRE, label="dispatch",
                               requires=("department",), effect=_dispatch, public=True, lead=True,
                               starts=(ClockRule("sign", 1, "working_hours", per_assignment=True),)),
        # from "handling" too: a co-handling unit may accept before the lead unit does
        "accept": Transition("accept", ("dispatched", "handling"), "handling", HANDLER, label="accept",
                             effect=assignment_accept),
        "dispute": Transition("dispute", ("dispatched", "handling"), "review", HANDLER, label="dispute",
                              requires=("reason",), effect=assignment_dispute),
        "finish": Transition("finish", ("handling",), "done", HANDLER | {"grid_worker"}, label="finish",
                             requires=("note",), closes=True, stops=("*",), effect=assignments_finish, public=True),
        "reject": Transition("reject", ("new",), "rejected", CENTRE, label="reject", requires=("reason",),
                             closes=True, stops=("*",), public=True),
    },
    start_clocks=(ClockRule("handle", 5, "working_days", from_category=True),),
    extra={"recall_to": "new", "reopen_on_unsatisfied": True,
           "reopen_clocks": (ClockRule("handle", 5, "working_days", from_category=True),)},
)


def register_drill() -> CaseType:
    if DRILL.code not in {t.code for t in registry.all_types()}:
        registry.register(DRILL)
    return DRILL
