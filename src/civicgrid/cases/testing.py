"""A small case type that exercises every engine feature, for the engine's own tests and benchmarks.

Register it with :func:`register_drill` (idempotent). It is deliberately not an event: the engine
must work for any type that registers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from civicgrid.cases import registry
from civicgrid.cases.registry import SYSTEM, CaseType, ClockRule, Guard, Input, Transition
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
    },
    start_clocks=(ClockRule("handle", 5, "working_days", from_category=True),),
    recall_to="new",
    reopen_on_unsatisfied=True,
    reopen_clocks=(ClockRule("handle", 5, "working_days", from_category=True),),
    photo_store=lambda uploads: _store(uploads, "photo"),
    file_store=lambda uploads: _store(uploads, "file"),
    documents=("work_order", "notice"),
    public_documents=frozenset({"notice"}),
)


def register_drill() -> CaseType:
    if DRILL.code not in {t.code for t in registry.all_types()}:
        registry.register(DRILL)
    return DRILL
