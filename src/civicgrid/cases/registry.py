"""Case types register here (案件类型注册). The engine knows no type in particular: each type
declares its states, its transitions (who may do each, what it needs, which clocks it starts and
stops) and its clock defaults, and the engine carries them out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from civicgrid.org.models import Role

if TYPE_CHECKING:
    from civicgrid.cases.models import Case

# A transition's roles are org roles (civicgrid.org.models.Role values) plus these two:
REPORTER = "reporter"  # the account that reported the case
SYSTEM = "system"  # the engine itself, commands and imports (actor=None)

# The kinds of input an action may take (rules.InputSpec.kind) and the shorthand ``requires`` names.
INPUT_KINDS = ("text", "photos", "files", "department", "departments", "region", "choice", "number", "case",
               "datetime")
REQUIREMENTS = ("note", "reason", "photo", "photos", "files", "department", "co_departments", "region",
                "satisfaction")
_REQUIREMENT_KINDS = {"note": "text", "reason": "text", "photos": "photos", "files": "files",
                      "department": "department", "co_departments": "departments", "region": "region",
                      "satisfaction": "choice"}


@dataclass(frozen=True)
class Input:
    """One input an action takes (a typed field of its form and of its API body).

    ``kind`` is one of INPUT_KINDS; ``choices`` the (value, label) options of a ``choice``;
    ``default`` gives the value used when none is sent (called with the case; e.g. the department
    suggested at intake), which makes a required input optional for the person acting."""

    name: str
    kind: str = "text"
    required: bool = False
    label: Any = ""
    choices: tuple[tuple[str, Any], ...] = ()
    default: Callable[[Case], Any] | None = None

    def __post_init__(self) -> None:
        if self.kind not in INPUT_KINDS:
            raise ValueError(f"input {self.name}: unknown kind {self.kind!r}")


@dataclass(frozen=True)
class Guard:
    """A condition over the case (and its detail row) that must hold for an action;
    ``check(case, detail, actor)`` false refuses it with ``reason`` (HTTP 422 at ``field``), and
    ``case_actions`` lists the action as refused with that reason. The detail row is read only for a
    guard that says ``needs_detail`` (else ``detail`` is None: a step costs no extra read)."""

    check: Callable[[Case, Any, Any], bool]
    reason: Any
    field: str = "action"
    needs_detail: bool = False


def _input_of(requirement: str) -> Input:
    name = "photos" if requirement == "photo" else requirement
    return Input(name, _REQUIREMENT_KINDS[name], required=True)


@dataclass(frozen=True)
class ClockRule:
    """A clock a transition starts: its kind, and its default limit when the category or request
    type gives none."""

    kind: str
    amount: float
    unit: str  # a taxonomy TimeUnit value
    from_category: bool = False  # use the category's default deadline rule when it has one
    per_assignment: bool = False  # one clock per open assignment (sign-off of each unit)


@dataclass(frozen=True)
class Transition:
    """One move of a case: from ``sources`` to ``target`` (None keeps the state).

    Its inputs are ``inputs`` (typed, each required or not) plus the shorthand ``requires``
    (names of REQUIREMENTS, each a required input; "department" and "region" together mean either
    one). ``guards`` refuse it with a reason while the case does not allow it."""

    name: str
    sources: tuple[str, ...]
    target: str | None
    roles: frozenset[str]
    label: Any = ""
    requires: tuple[str, ...] = ()
    inputs: tuple[Input, ...] = ()
    guards: tuple[Guard, ...] = ()
    starts: tuple[ClockRule, ...] = ()
    stops: tuple[str, ...] = ()  # clock kinds stopped ("*" = all)
    public: bool = False  # the timeline entry is shown to the reporter
    closes: bool = False  # the case counts as closed after it (closed_at is set)
    lead: bool = False  # the given department becomes the case's lead unit (dispatch, transfer)
    effect: Callable[[Any], object] | None = None  # called with the TransitionContext, inside the transaction

    def __post_init__(self) -> None:
        unknown = set(self.requires) - set(REQUIREMENTS)
        if unknown:
            raise ValueError(f"transition {self.name}: unknown requirement {', '.join(sorted(unknown))}")
        declared = {i.name: i for i in self.inputs}
        for r in self.requires:  # the shorthand: a required input of the requirement's kind
            inp = _input_of(r)
            declared[inp.name] = replace(declared[inp.name], required=True) if inp.name in declared else inp
        if not {"note", "reason"} & set(declared):
            declared["note"] = Input("note", "text")  # every step may carry a note
        object.__setattr__(self, "inputs", tuple(declared.values()))
        object.__setattr__(self, "requires", tuple(dict.fromkeys(
            "photos" if r == "photo" else r for r in self.requires)))

    def input(self, name: str) -> Input | None:
        return next((i for i in self.inputs if i.name == name), None)


# The generic actions every case type gets, and who may take them by default.
_CENTRE = frozenset({Role.DISPATCHER, Role.ADMIN, SYSTEM})


@dataclass(frozen=True)
class GenericRoles:
    """Who may take each generic action on a case of the type (org roles plus REPORTER/SYSTEM)."""

    merge: frozenset[str] = _CENTRE
    recall: frozenset[str] = _CENTRE
    supervise: frozenset[str] = _CENTRE | {Role.LEADER}  # 督办
    chase: frozenset[str] = _CENTRE | {Role.LEADER}  # 催办
    escalate: frozenset[str] = _CENTRE | {Role.LEADER}  # 提级
    reopen: frozenset[str] = frozenset({Role.DISPATCHER, Role.GRID_WORKER, Role.ADMIN, REPORTER, SYSTEM})  # 返工
    rate: frozenset[str] = frozenset({Role.DISPATCHER, Role.ADMIN, REPORTER, SYSTEM})  # 回访评价
    request_extension: frozenset[str] = frozenset({Role.DEPARTMENT_HANDLER, Role.DISPATCHER, Role.GRID_WORKER,
                                                   Role.MEDIATOR, Role.ADMIN, SYSTEM})  # 延期/缓办申请
    decide_extension: frozenset[str] = _CENTRE | {Role.LEADER}
    resume: frozenset[str] = _CENTRE | {Role.DEPARTMENT_HANDLER}
    # documents (文书): file a scan or a signed paper, draw one from its template, record its delivery (送达)
    upload_document: frozenset[str] = _CENTRE | {Role.DEPARTMENT_HANDLER, Role.GRID_WORKER, Role.MEDIATOR}
    generate_document: frozenset[str] = _CENTRE | {Role.DEPARTMENT_HANDLER, Role.MEDIATOR}
    record_delivery: frozenset[str] = _CENTRE | {Role.DEPARTMENT_HANDLER, Role.MEDIATOR}

    def of(self, action: str) -> frozenset[str]:
        if action not in GENERIC_ACTIONS:
            raise UnknownTransition(f"no generic action {action!r}")
        roles: frozenset[str] = getattr(self, action)
        return roles


GENERIC_ACTIONS = ("merge", "recall", "supervise", "chase", "escalate", "reopen", "rate", "request_extension",
                   "decide_extension", "resume", "upload_document", "generate_document", "record_delivery")

# The kinds of document a case type may draw from a template (``CaseType.documents``); an uploaded
# file may also be of kind "other" (a scan, a photo of a signed paper).
DOCUMENT_KINDS = ("work_order", "notice", "agreement", "decision")


@dataclass(frozen=True)
class CaseType:
    """A kind of case: its states, transitions and generic-action settings."""

    code: str
    label: Any
    states: dict[str, Any]  # state → label
    initial: str
    transitions: dict[str, Transition]
    closed_states: frozenset[str] = frozenset()
    reopen_to: str | None = None  # where a reopened case goes (返工)
    # the closed states a case may be reopened from (None: every closed state); a case closed without
    # being handled (an event not registered) has nobody to send it back to
    reopen_from: frozenset[str] | None = None
    merged_state: str = "merged"
    generic: GenericRoles = GenericRoles()  # who may take each generic action
    start_clocks: tuple[ClockRule, ...] = ()  # clocks started when a case is created
    detail_model: Any = None  # the one-to-one detail table, if the type has one
    recall_to: str | None = None  # where a recalled dispatch goes (None: the state stays)
    reopen_on_unsatisfied: bool = False  # an "unsatisfied" rating reopens the case
    reopen_clocks: tuple[ClockRule, ...] = ()  # clocks restarted when the case is reopened
    rating_stops: tuple[str, ...] = ()  # clock kinds a rating (not a failed call attempt) stops
    unregistered_states: frozenset[str] | None = None  # None: derived (selectors.unregistered_states_of)
    awaiting_registration_states: frozenset[str] | None = None  # None: the initial state
    reporter_roles: frozenset[str] = frozenset({REPORTER})
    public_notes: frozenset[str] = frozenset()  # actions whose notes are written to the reporter
    # Store uploaded photos / files of an action: a list of attachment dicts for the timeline
    # (None: the type takes none).
    photo_store: Callable[[Sequence[Any]], list[dict[str, Any]]] | None = None
    file_store: Callable[[Sequence[Any]], list[dict[str, Any]]] | None = None
    # The documents a case of the type can be drawn from a template (generate_document): kinds of
    # DOCUMENT_KINDS. Every type prints its work order (工单) unless it says otherwise.
    documents: tuple[str, ...] = ("work_order",)
    # Kinds whose PDF the case's reporter may download from the public tracking page (none by default).
    public_documents: frozenset[str] = frozenset()
    # More names a document template may print, for a case of the type (its detail row, its parties):
    # called with the case, merged into the engine's context (documents.document_context).
    document_context: Callable[[Case], dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        unknown_docs = (set(self.documents) | set(self.public_documents)) - set(DOCUMENT_KINDS)
        if unknown_docs:
            raise ValueError(f"{self.code}: unknown document kind {', '.join(sorted(unknown_docs))}")
        states = set(self.states)
        if self.initial not in states:
            raise ValueError(f"{self.code}: initial state {self.initial!r} is not a state")
        for t in self.transitions.values():
            for s in (*t.sources, *([t.target] if t.target else [])):
                if s != "*" and s not in states:
                    raise ValueError(f"{self.code}.{t.name}: unknown state {s!r}")
            if t.name in GENERIC_ACTIONS:
                raise ValueError(f"{self.code}.{t.name}: the name of a generic action")
        for name, state in (("reopen_to", self.reopen_to), ("recall_to", self.recall_to)):
            if state and state not in states:
                raise ValueError(f"{self.code}: {name} {state!r} is not a state")
        if self.reopen_from is not None and not self.reopen_from <= self.closed_states:
            raise ValueError(f"{self.code}: reopen_from names states that are not closed states")

    def reopenable(self, state: str) -> bool:
        """Whether a case in ``state`` may be reopened (返工)."""
        if not self.reopen_to or state not in self.closed_states:
            return False
        return self.reopen_from is None or state in self.reopen_from

    def transition(self, name: str) -> Transition:
        try:
            return self.transitions[name]
        except KeyError:
            raise UnknownTransition(f"{self.label} has no action {name!r}") from None

    def allowed_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions.values() if "*" in t.sources or state in t.sources]


class UnknownTransition(ValueError):
    """The case's type has no such action (HTTP 404)."""

    pass


_registry: dict[str, CaseType] = {}


def register(case_type: CaseType) -> CaseType:
    existing = _registry.get(case_type.code)
    if existing is not None and existing is not case_type:
        raise ValueError(f"case type {case_type.code!r} is registered already")
    _registry[case_type.code] = case_type
    return case_type


def unregister(code: str) -> None:
    _registry.pop(code, None)


def get(code: str) -> CaseType:
    try:
        return _registry[code]
    except KeyError:
        raise LookupError(f"no case type {code!r} is registered") from None


def of(case: Case) -> CaseType:
    return get(case.case_type)


def all_types() -> list[CaseType]:
    return list(_registry.values())
