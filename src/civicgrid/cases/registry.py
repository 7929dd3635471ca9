"""Case types register here (案件类型注册). The engine knows no type in particular: each type
declares its states, its transitions (who may do each, what it needs, which clocks it starts and
stops) and its clock defaults, and the engine carries them out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from civicgrid.org.models import Role

if TYPE_CHECKING:
    from civicgrid.cases.models import Case

# A transition's roles are org roles (civicgrid.org.models.Role values) plus these three:
REPORTER = "reporter"  # the account that reported the case
SYSTEM = "system"  # the engine itself, commands and imports (actor=None)
# ... and the person an open assignment of the case is given to (a mediator, a leader owning the case):
# a transition allowing ASSIGNEE may be taken by them on their own assignment (accept, dispute, finish)
ASSIGNEE = "assignee"

# The kinds of input an action may take (rules.InputSpec.kind) and the shorthand ``requires`` names.
INPUT_KINDS = ("text", "photos", "files", "department", "departments", "region", "choice", "number", "case",
               "person", "datetime")
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
    suggested at intake), which makes a required input optional for the person acting. ``roles``
    (an input of kind ``person`` only, and required there): the org roles one of which the person
    named must hold where the case lies (``selectors.person_targets``)."""

    name: str
    kind: str = "text"
    required: bool = False
    label: Any = ""
    choices: tuple[tuple[str, Any], ...] = ()
    default: Callable[[Case], Any] | None = None
    roles: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.kind not in INPUT_KINDS:
            raise ValueError(f"input {self.name}: unknown kind {self.kind!r}")
        if (self.kind == "person") != bool(self.roles):
            raise ValueError(f"input {self.name}: an input of kind person, and only one, names the roles "
                             "a person must hold to be named")
        unknown = set(self.roles) - set(Role.values)
        if unknown:
            raise ValueError(f"input {self.name}: unknown roles {', '.join(sorted(unknown))}")
        object.__setattr__(self, "roles", frozenset(self.roles))


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


class ExpiryPolicy(StrEnum):
    """What a clock's running over does (see :class:`OnExpiry`)."""

    ESCALATE = "escalate"  # 提级: supervision, and the case moves one level up (events' handling clock)
    SUPERVISE = "supervise"  # 督办: supervision item and notification; the owner and assignments stay
    REMIND = "remind"  # an external deadline (a court's): one notification, nothing else changes
    TRANSITION = "transition"  # a window lapses: the engine (SYSTEM) takes the named transition


@dataclass(frozen=True)
class OnExpiry:
    """A clock's expiry policy: use :data:`ESCALATE`, :data:`SUPERVISE`, :data:`REMIND` or
    :func:`run_transition`."""

    policy: ExpiryPolicy
    action: str = ""  # the transition a TRANSITION policy takes

    def __post_init__(self) -> None:
        object.__setattr__(self, "policy", ExpiryPolicy(self.policy))
        if (self.policy == ExpiryPolicy.TRANSITION) != bool(self.action):
            raise ValueError("an expiry policy names a transition exactly when it runs one")

    def __str__(self) -> str:
        return f"transition({self.action})" if self.action else str(self.policy)


ESCALATE = OnExpiry(ExpiryPolicy.ESCALATE)
SUPERVISE = OnExpiry(ExpiryPolicy.SUPERVISE)
REMIND = OnExpiry(ExpiryPolicy.REMIND)


def run_transition(name: str) -> OnExpiry:
    """The expiry policy that takes transition ``name`` as SYSTEM (a request window lapses and the
    stage becomes final)."""
    return OnExpiry(ExpiryPolicy.TRANSITION, name)


#: Clock kinds that escalate when no policy is declared (events' handling clock); any other clock
#: kind is supervised. This is the sweep's rule from before clocks declared a policy.
DEFAULT_ESCALATING: tuple[str, ...] = ("handle",)


def default_expiry(kind: str) -> OnExpiry:
    return ESCALATE if kind in DEFAULT_ESCALATING else SUPERVISE


@dataclass(frozen=True)
class ClockRule:
    """A clock a transition starts: its kind, and its default limit when the category or request
    type gives none.

    Its policies: ``on_expiry`` (None: the handling clock escalates, any other clock is supervised,
    as the sweep always did); ``extension_cap``: the most its extensions may add up to, in its unit
    (None: no cap beyond the per-request maximum); ``recurs``: when it runs over, or a transition
    that names it in ``stops`` is taken on a case that stays open, the next occurrence starts, due
    one period (``amount`` ``unit``) after the last one was (a visit every month). Every rule of one
    kind in a type must declare the same policies: they belong to the clock kind."""

    kind: str
    amount: float
    unit: str  # a taxonomy TimeUnit value
    from_category: bool = False  # use the category's default deadline rule when it has one
    per_assignment: bool = False  # one clock per open assignment (sign-off of each unit)
    on_expiry: OnExpiry | None = None
    extension_cap: float | None = None
    recurs: bool = False

    def __post_init__(self) -> None:
        if self.extension_cap is not None and not self.extension_cap >= 0:
            raise ValueError(f"clock {self.kind}: extension_cap must be a number ≥ 0")
        if self.recurs and not self.amount > 0:
            raise ValueError(f"clock {self.kind}: a recurring clock needs a period (amount > 0)")

    @property
    def expiry(self) -> OnExpiry:
        """The declared policy, else the default for the kind."""
        return self.on_expiry or default_expiry(self.kind)

    def policies(self) -> tuple[OnExpiry, float | None, bool]:
        return self.expiry, self.extension_cap, self.recurs


@dataclass(frozen=True)
class Opens:
    """A new case of another type a transition opens and links to its case, in its own transaction
    ("turn into", "hand over": an event turned into a dispute, a dispute handed to the petition
    office). The new case takes the old one's place, text and reporter (``title``/``detail``:
    callables of the ``TransitionContext`` giving its title and its detail row's fields), and the
    link reads ``link`` from the old case (``led_to``: the new one was *opened from* it;
    ``transferred_to``; ``reviewed_by``). ``case_type`` is looked up in the registry when the step
    runs: the declaring type never imports the other."""

    case_type: str
    link: str = "led_to"
    title: Callable[[Any], str] | None = None
    detail: Callable[[Any], dict[str, Any]] | None = None
    reporter: bool = True  # the new case has the old one's reporter (account, name, phone)

    def __post_init__(self) -> None:
        from civicgrid.cases.models.links import LinkKind

        if self.link not in LinkKind.values or self.link == LinkKind.RELATED_TO:
            raise ValueError(f"opens {self.case_type}: a link kind of {', '.join(LinkKind.values[:-1])}, "
                             f"not {self.link!r}")


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
    opens: Opens | None = None  # a new case of another type, opened and linked in the same transaction

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

# The kinds of party a case may have (当事人类型); a type declares which of them it uses.
PARTY_KINDS: dict[str, Any] = {
    "reporter": _("reporter"),  # 反映人: who reported an event (written by intake)
    "applicant": _("applicant"),  # 申请人
    "respondent": _("respondent"),  # 被申请人
    "third_party": _("third party"),  # 第三人
    "representative": _("representative"),  # 代理人
    "petitioner": _("petitioner"),  # 信访人
}
# The party fields a reveal may show in full (each declared per role in PartyRules.reveal).
PARTY_FIELDS = ("name", "id_number", "phone", "address")
_CALL_BACK = frozenset({Role.DISPATCHER, Role.DEPARTMENT_HANDLER, Role.ADMIN})


def _default_reveal() -> dict[str, frozenset[str]]:
    return {"name": _CALL_BACK, "phone": _CALL_BACK, "id_number": frozenset({Role.DISPATCHER, Role.ADMIN}),
            "address": _CALL_BACK}


@dataclass(frozen=True)
class PartyRules:
    """A type's parties (当事人): the kinds it uses, who may add or correct them, and who may see
    each field in full through the audited reveal (field → roles; a field not named is revealed to
    nobody). Roles are org roles reaching the case as the engine resolves them (a department
    handler while their department holds it); the reveal always asks for a purpose."""

    kinds: tuple[str, ...] = ("reporter",)
    edit: frozenset[str] = _CENTRE
    reveal: dict[str, frozenset[str]] = field(default_factory=_default_reveal)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(PARTY_KINDS)
        if unknown:
            raise ValueError(f"unknown party kind {', '.join(sorted(unknown))}")
        if not self.kinds:
            raise ValueError("a type uses at least one party kind")
        unknown = set(self.reveal) - set(PARTY_FIELDS)
        if unknown:
            raise ValueError(f"no party field {', '.join(sorted(unknown))} to reveal")

    def may_reveal(self, field_name: str) -> frozenset[str]:
        """The roles that may see ``field_name`` of this type's parties in full."""
        return self.reveal.get(field_name, frozenset())


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
    link: frozenset[str] = _CENTRE | {Role.LEADER}  # 关联: link to another case (related to)
    # documents (文书): file a scan or a signed paper, draw one from its template, record its delivery (送达)
    upload_document: frozenset[str] = _CENTRE | {Role.DEPARTMENT_HANDLER, Role.GRID_WORKER, Role.MEDIATOR}
    generate_document: frozenset[str] = _CENTRE | {Role.DEPARTMENT_HANDLER, Role.MEDIATOR}
    record_delivery: frozenset[str] = _CENTRE | {Role.DEPARTMENT_HANDLER, Role.MEDIATOR}

    def of(self, action: str) -> frozenset[str]:
        if action not in GENERIC_ACTIONS:
            raise UnknownTransition(f"no generic action {action!r}")
        roles: frozenset[str] = getattr(self, action)
        return roles


# Who sees a case of a type (see docs/case-types.md, "Visibility"). A case's ``audience`` column holds
# the key of the rule that applies to it: "" for the jurisdiction (everyone whose membership reaches
# its place), else the restricted rule's key (the declared field's value, or ``RESTRICTED``).
JURISDICTION = ""
RESTRICTED = "*"


@dataclass(frozen=True)
class Visibility:
    """Who sees the cases of a type.

    ``Visibility()`` (the default) is the jurisdiction: everyone whose membership reaches the case's
    place, as :mod:`civicgrid.org.scoping` defines it (events). ``Visibility.restricted(roles=…)``
    keeps a case to the people assigned to it (an open person assignment), their supervisors (a
    member holding one of ``supervisors`` in a region where an assignee works, or above it), and
    the members holding one of ``roles`` whose membership reaches the case's place. Membership of an
    assigned department or region alone is not enough, unless the type names that role.

    ``field`` names a value given at creation (a key of the ``detail`` dict, e.g. a petition's
    ``kind``) on which the rule depends: ``by_value`` maps a value to the roles named for it (None:
    the jurisdiction for that value), other values take ``roles``. The rule chosen is stored on the
    case (``Case.audience``) so reads join nothing; a service that changes the field calls
    ``cases.services.case_audience_refresh``."""

    restricted_default: bool = False
    roles: frozenset[str] = frozenset()
    field: str | None = None
    by_value: tuple[tuple[str, frozenset[str] | None], ...] = ()
    supervisors: frozenset[str] = frozenset({Role.LEADER})

    @classmethod
    def restricted(cls, *, roles: Sequence[str] | frozenset[str] = (), field: str | None = None,
                   by_value: dict[str, Sequence[str] | frozenset[str] | None] | None = None,
                   supervisors: Sequence[str] | frozenset[str] = (Role.LEADER,)) -> Visibility:
        if by_value and not field:
            raise ValueError("a visibility rule by value names its field")
        return cls(restricted_default=True, roles=frozenset(roles), field=field,
                   by_value=tuple((str(k), None if v is None else frozenset(v)) for k, v in (by_value or {}).items()),
                   supervisors=frozenset(supervisors))

    @property
    def is_restricted(self) -> bool:
        """Whether any case of the type may be restricted."""
        return self.restricted_default or any(v is not None for _k, v in self.by_value)

    def audience_of(self, values: dict[str, Any] | None) -> str:
        """The key of the rule for a case created with ``values`` (its detail)."""
        if self.field:
            value = str((values or {}).get(self.field, "") or "")
            for key, roles in self.by_value:
                if key == value:
                    return JURISDICTION if roles is None else key
        return RESTRICTED if self.restricted_default else JURISDICTION

    def audiences(self) -> dict[str, frozenset[str]]:
        """Every restricted rule's key → the roles it names."""
        out = {key: roles for key, roles in self.by_value if roles is not None}
        if self.restricted_default:
            out[RESTRICTED] = self.roles
        return out


GENERIC_ACTIONS = ("merge", "recall", "supervise", "chase", "escalate", "reopen", "rate", "request_extension",
                   "decide_extension", "resume", "link", "upload_document", "generate_document", "record_delivery")

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
    reopen_on_unsatisfied: bool = False  # an "unsatisfied" staff follow-up (not a self-rating) reopens
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
    parties: PartyRules = PartyRules()  # its parties' kinds, who edits them and who may reveal what
    visibility: Visibility = Visibility()  # who sees its cases (default: the jurisdiction)
    # The documents a case of the type can be drawn from a template (generate_document): kinds of
    # DOCUMENT_KINDS. Every type prints its work order (工单) unless it says otherwise.
    documents: tuple[str, ...] = ("work_order",)
    # Kinds whose PDF the case's reporter may download from the public tracking page (none by default).
    public_documents: frozenset[str] = frozenset()
    # More names a document template may print, for a case of the type (its detail row, its parties):
    # called with the case, merged into the engine's context (documents.document_context).
    document_context: Callable[[Case], dict[str, Any]] | None = None
    # The type's own shipped template of a kind (kind → path of a .docx in the type's app), used before
    # the engine's shipped one while no administrator's template of the kind is active.
    document_templates: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown_docs = (set(self.documents) | set(self.public_documents) | set(self.document_templates)
                        ) - set(DOCUMENT_KINDS)
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
        clocks: dict[str, ClockRule] = {}
        for rule in self.clock_rules():
            first = clocks.setdefault(rule.kind, rule)
            if first.policies() != rule.policies():
                raise ValueError(f"{self.code}: clock {rule.kind!r} is declared with different policies")
            self._check_expiry(rule)
        object.__setattr__(self, "_clocks", clocks)

    def _check_expiry(self, rule: ClockRule) -> None:
        action = rule.expiry.action
        if not action:
            return
        t = self.transitions.get(action)
        if t is None:
            raise ValueError(f"{self.code}: clock {rule.kind!r} runs an unknown transition {action!r}")
        if SYSTEM not in t.roles:
            raise ValueError(f"{self.code}: clock {rule.kind!r} runs {action!r}, which SYSTEM may not take")
        needs = [i.name for i in t.inputs if i.required and i.default is None and i.name not in ("note", "reason")]
        if needs:
            raise ValueError(f"{self.code}: clock {rule.kind!r} runs {action!r}, which needs {', '.join(needs)}")

    def clock_rules(self) -> list[ClockRule]:
        """Every clock the type declares (at creation, on transitions, on reopening)."""
        return [*self.start_clocks, *(r for t in self.transitions.values() for r in t.starts), *self.reopen_clocks]

    def clock_rule(self, kind: str) -> ClockRule | None:
        """The declaration of a clock kind (its policies), None for a kind the type does not declare."""
        clocks: dict[str, ClockRule] = getattr(self, "_clocks")  # noqa: B009 - set in __post_init__
        return clocks.get(kind)

    def expiry_of(self, kind: str) -> OnExpiry:
        """What running over does for a clock of ``kind`` (the default for an undeclared kind)."""
        rule = self.clock_rule(kind)
        return rule.expiry if rule is not None else default_expiry(kind)

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


def revealing_roles() -> frozenset[str]:
    """The platform roles that some registered type lets reveal a party's values in full."""
    return frozenset(role for t in _registry.values() for roles in t.parties.reveal.values() for role in roles
                     if role in Role.values)


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


def clock_rule_of(case_type: str, kind: str) -> ClockRule | None:
    """The declaration of a clock kind of a registered type (None: unknown type or kind)."""
    ctype = _registry.get(case_type)
    return ctype.clock_rule(kind) if ctype is not None else None


def expiry_of(case_type: str, kind: str) -> OnExpiry:
    """What running over does for a clock of ``kind`` on a case of ``case_type`` (the default
    policy for a type or kind that is not declared)."""
    ctype = _registry.get(case_type)
    return ctype.expiry_of(kind) if ctype is not None else default_expiry(kind)


def restricted_audiences() -> dict[tuple[str, str], CaseType]:
    """(type code, audience key) → type, for every restricted rule of the registered types (empty
    while every type is seen by its jurisdiction: then scoping adds nothing)."""
    return {(t.code, key): t for t in _registry.values() for key in t.visibility.audiences()}
