"""Case types register here (案件类型注册). The engine knows no type in particular: each type
declares its states, its transitions (who may do each, what it needs, which clocks it starts and
stops) and its clock defaults, and the engine carries them out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civicgrid.cases.models import Case

# A transition's roles are org roles (civicgrid.org.models.Role values) plus these two:
REPORTER = "reporter"  # the account that reported the case
SYSTEM = "system"  # the engine itself, commands and imports (actor=None)

REQUIREMENTS = ("note", "reason", "photo", "department", "region", "satisfaction")


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
    """One move of a case: from ``sources`` to ``target`` (None keeps the state)."""

    name: str
    sources: tuple[str, ...]
    target: str | None
    roles: frozenset[str]
    label: str = ""
    requires: tuple[str, ...] = ()
    starts: tuple[ClockRule, ...] = ()
    stops: tuple[str, ...] = ()  # clock kinds stopped ("*" = all)
    public: bool = False  # the timeline entry is shown to the reporter
    closes: bool = False  # the case counts as closed after it (closed_at is set)
    lead: bool = False  # the given department becomes the case's lead unit (dispatch, transfer)
    effect: Callable[[Any], None] | None = None  # called with the TransitionContext, inside the transaction

    def __post_init__(self) -> None:
        unknown = set(self.requires) - set(REQUIREMENTS)
        if unknown:
            raise ValueError(f"transition {self.name}: unknown requirement {', '.join(sorted(unknown))}")


@dataclass(frozen=True)
class CaseType:
    """A kind of case: its states, transitions and generic-action settings."""

    code: str
    label: str
    states: dict[str, str]  # state → label
    initial: str
    transitions: dict[str, Transition]
    closed_states: frozenset[str] = frozenset()
    reopen_to: str | None = None  # where a reopened case goes (返工)
    merged_state: str = "merged"
    roles_supervise: frozenset[str] = frozenset({"dispatcher", "leader", "admin"})
    roles_generic: frozenset[str] = frozenset({"dispatcher", "admin"})  # merge, recall, extend, defer, escalate
    start_clocks: tuple[ClockRule, ...] = ()  # clocks started when a case is created
    detail_model: Any = None  # the one-to-one detail table, if the type has one
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        states = set(self.states)
        if self.initial not in states:
            raise ValueError(f"{self.code}: initial state {self.initial!r} is not a state")
        for t in self.transitions.values():
            for s in (*t.sources, *( [t.target] if t.target else [])):
                if s != "*" and s not in states:
                    raise ValueError(f"{self.code}.{t.name}: unknown state {s!r}")
        if self.reopen_to and self.reopen_to not in states:
            raise ValueError(f"{self.code}: reopen_to {self.reopen_to!r} is not a state")

    def transition(self, name: str) -> Transition:
        try:
            return self.transitions[name]
        except KeyError:
            raise UnknownTransition(f"{self.label} has no action {name!r}") from None

    def allowed_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions.values() if "*" in t.sources or state in t.sources]


class UnknownTransition(ValueError):
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
