"""The engine's rulebook as every interface reads it, and its one way in.

``case_actions(user, case)`` lists what this person may do on this case now — the transitions of
the case's type and the generic actions every type gets (merge, recall, supervise, chase,
escalate, reopen, rate, request_extension, decide_extension, resume, link) — with their labels, their
typed inputs and the targets this person may name; an action a guard refuses now is listed with
the reason. It resolves roles as the services do (``services.actor_roles``), so it cannot offer
what the services refuse for a role, nor hide what they allow.

``case_act(actor=…, case=…, action=…, data=…)`` is the one façade the API and the pages call: it
parses the action's typed input (422 naming the field), checks the role (403) and calls the one
service behind the action (which checks the state, the guards, the targets and acts). Refusals are
the engine's exceptions (``cases.errors``), mapped to HTTP in one place (``core.api``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.cases import documents, registry
from civicgrid.cases import services as engine
from civicgrid.cases.documents import generable_kinds
from civicgrid.cases.errors import TransitionNotAllowed, TransitionRefused, UnknownAction
from civicgrid.cases.models import (
    ApprovalRequest,
    AssignmentState,
    Case,
    CaseDocument,
    DeliveryMethod,
    DocumentKind,
    Party,
    Rating,
    Satisfaction,
    Supervision,
)
from civicgrid.cases.registry import GENERIC_ACTIONS, CaseType, Input, Transition
from civicgrid.cases.selectors import (
    case_documents,
    case_get,
    department_targets,
    parties_of,
    person_targets,
    region_targets,
)
from civicgrid.cases.services import TRACKING_CODE_LENGTH
from civicgrid.core.inputs import MAX_ID
from civicgrid.geo.models import Region
from civicgrid.org.models import Department, User
from civicgrid.org.scoping import OutOfScope
from civicgrid.taxonomy.models import TimeUnit

Actor = AbstractBaseUser | AnonymousUser | None

__all__ = ["GENERIC_ACTIONS", "ActionOffer", "InputSpec", "PartiesView", "PartyView", "action_inputs", "case_act",
           "case_actions", "case_parties"]


@dataclass(frozen=True)
class InputSpec:
    name: str  # form/API field name: "note", "reason", "photos", "files", "department", "co_departments", …
    # "text" | "photos" | "files" | "department" | "departments" | "region" | "choice" | "number" | "case" | "person"
    kind: str
    required: bool
    label: str  # translated
    # (value, label): for department/departments/region the targets this actor may name (visible to
    # them and serving the case's region); for person the people (value: the account's id) holding
    # one of the input's roles where the case lies; for choice the options
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ActionOffer:
    name: str  # a transition's name or a generic action's name
    label: str
    kind: str  # "transition" | "generic"
    inputs: tuple[InputSpec, ...]
    refused: str = ""  # non-empty: a guard refuses it now; this is the reason (listed, not performable)
    public: bool = False


# The levels of region an action may name (a centre that handles the case itself): those that have
# a centre. case_actions offers them and case_act accepts them, no other.
REGION_TARGET_LEVELS = ("city", "district", "street")

# --- the generic actions' declarations ----------------------------------------------------------

_NOTE = Input("note", "text", label=gettext_lazy("note"))
_REASON = Input("reason", "text", required=True, label=gettext_lazy("reason"))
_YES_NO = (("yes", gettext_lazy("yes")), ("no", gettext_lazy("no")))

GENERIC_LABELS: dict[str, Any] = {
    "merge": gettext_lazy("merge duplicates"),  # 并单
    "recall": gettext_lazy("recall the dispatch"),  # 撤回
    "supervise": gettext_lazy("supervise"),  # 督办
    "chase": gettext_lazy("chase"),  # 催办
    "escalate": gettext_lazy("escalate"),  # 提级
    "reopen": gettext_lazy("reopen"),  # 返工
    "rate": gettext_lazy("record the rating"),  # 回访评价
    "request_extension": gettext_lazy("ask for more time"),  # 延期/缓办申请
    "decide_extension": gettext_lazy("decide on a request for more time"),  # 延期/缓办审批
    "resume": gettext_lazy("end the deferral"),  # 恢复
    "link": gettext_lazy("link to another case"),  # 关联
    "upload_document": gettext_lazy("upload a document"),  # 上传文书/材料
    "generate_document": gettext_lazy("generate a document"),  # 生成文书
    "record_delivery": gettext_lazy("record a delivery"),  # 送达登记
}

_DOCUMENT = Input("document", "choice", label=gettext_lazy("document"))  # choices: the case's documents
_DRAWN_KINDS = tuple((k, label) for k, label in DocumentKind.choices if k != DocumentKind.OTHER)

GENERIC_INPUTS: dict[str, tuple[Input, ...]] = {
    "merge": (Input("duplicates", "case", required=True, label=gettext_lazy("duplicates (tracking codes)")), _NOTE),
    "recall": (_NOTE,),
    "supervise": (_NOTE,),
    "chase": (_NOTE,),
    "escalate": (_NOTE,),
    "reopen": (_REASON,),
    "rate": (Input("satisfaction", "choice", required=True, label=gettext_lazy("satisfaction"),
                   choices=tuple(Satisfaction.choices)),
             Input("note", "text", label=gettext_lazy("comment")),
             Input("valid", "choice", label=gettext_lazy("the call reached the reporter"), choices=_YES_NO),
             Input("contacted", "choice", label=gettext_lazy("the reporter was contacted"), choices=_YES_NO),
             Input("resolved", "choice", label=gettext_lazy("the problem is resolved"), choices=_YES_NO)),
    "request_extension": (Input("kind", "choice", required=True, label=gettext_lazy("request"),
                                choices=tuple(ApprovalRequest.Kind.choices)),
                          _REASON,
                          Input("amount", "number", label=gettext_lazy("extra time (extension)")),
                          Input("unit", "choice", label=gettext_lazy("unit"), choices=tuple(TimeUnit.choices))),
    "decide_extension": (Input("request", "choice", required=True, label=gettext_lazy("request")),
                         Input("decision", "choice", required=True, label=gettext_lazy("decision"),
                               choices=(("approve", gettext_lazy("approve")), ("reject", gettext_lazy("reject")))),
                         _NOTE),
    "resume": (_NOTE,),
    "link": (Input("case", "case", required=True, label=gettext_lazy("the related case (tracking code)")), _NOTE),
    "upload_document": (Input("files", "files", required=True, label=gettext_lazy("file")),
                        Input("kind", "choice", label=gettext_lazy("kind of document"),
                              choices=tuple(DocumentKind.choices)),
                        Input("title", "text", label=gettext_lazy("title")),
                        Input("document", "choice", label=gettext_lazy("a new version of")),
                        _NOTE),
    # the kinds offered are those the case's type declares that have a template (documents.generable_kinds)
    "generate_document": (Input("kind", "choice", required=True, label=gettext_lazy("document"),
                                choices=_DRAWN_KINDS), _NOTE),
    "record_delivery": (Input("document", "choice", required=True, label=gettext_lazy("document")),
                        Input("party", "choice", required=True, label=gettext_lazy("delivered to (party)")),
                        Input("method", "choice", required=True, label=gettext_lazy("how"),
                              choices=tuple(DeliveryMethod.choices)),
                        Input("delivered_at", "datetime", label=gettext_lazy("delivered at (default: now)")),
                        Input("proof", "files", label=gettext_lazy("proof of delivery")),
                        _NOTE),
}


def _open(case: Case) -> bool:
    return case.closed_at is None and case.merged_into_id is None


def _pending_requests(case: Case) -> list[ApprovalRequest]:
    return list(case.approval_requests.filter(state=ApprovalRequest.State.PENDING).order_by("requested_at", "id"))


def _available(action: str, actor: Actor, case: Case, ctype: CaseType) -> bool:
    """Whether the case's state allows the generic action at all now (the service refuses it
    otherwise, 422): what case_actions offers."""
    if action in ("merge", "supervise", "chase"):
        return _open(case)
    if action == "escalate":
        return _open(case) and case.owner_region is not None and case.owner_region.parent_id is not None
    if action == "recall":
        return (case.assignments.filter(state=AssignmentState.PENDING).exists()
                and not case.assignments.filter(state=AssignmentState.ACCEPTED).exists())
    if action == "reopen":
        return ctype.reopenable(case.state) and case.merged_into_id is None
    if action == "rate":
        if case.closed_at is None or case.merged_into_id:
            return False
        source = engine.rating_source(_person(actor), case)
        return source == "attempt" or not Rating.objects.filter(case=case, closing=case.closing,
                                                                 source=source).exists()
    if action == "request_extension":
        return case.closed_at is None and len({r.kind for r in _pending_requests(case)}) < len(ApprovalRequest.Kind)
    if action == "decide_extension":
        return bool(_decidable(actor, case))
    if action == "resume":
        return bool(case.deferred) and _open(case)
    if action == "link":
        return case.merged_into_id is None  # a merged case is followed as its survivor: link that one
    if action == "upload_document":
        return case.merged_into_id is None
    if action == "generate_document":
        return case.merged_into_id is None and bool(generable_kinds(case))
    if action == "record_delivery":  # a document to deliver, and a party to deliver it to
        return (CaseDocument.objects.filter(case=case, current_version__gt=0).exists()
                and case.parties.exists())
    return False  # pragma: no cover - every generic action is named above


def _decidable(actor: Actor, case: Case) -> list[ApprovalRequest]:
    """The pending requests ``actor`` may decide: not their own (nobody approves their own request)."""
    me = getattr(actor, "pk", None)
    return [r for r in _pending_requests(case) if me is None or r.requested_by_id != me]


def _person(actor: Actor) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


# --- case_actions -----------------------------------------------------------------------------------


def _choices_of(inp: Input, actor: Actor, case: Case, ctype: CaseType) -> tuple[tuple[str, str], ...]:
    person = _person(actor)
    if inp.kind in ("department", "departments"):
        return tuple((d.code, d.name) for d in department_targets(actor=person, case=case).order_by("code"))
    if inp.kind == "region":
        regions = region_targets(actor=person, case=case).filter(level__in=REGION_TARGET_LEVELS)
        return tuple((r.code, r.name) for r in regions.order_by("code"))
    if inp.kind == "person":
        people = person_targets(actor=person, case=case, roles=inp.roles).order_by("display_name", "username")
        return tuple((str(u.pk), str(u)) for u in people)
    if inp.name == "satisfaction" and not inp.choices:
        return tuple((v, str(label)) for v, label in Satisfaction.choices)
    return tuple((str(v), str(label)) for v, label in inp.choices)


def _spec(inp: Input, actor: Actor, case: Case, ctype: CaseType, names: set[str]) -> InputSpec:
    required = inp.required
    if required and inp.default is not None and inp.default(case) is not None:
        required = False  # the engine fills it in (the suggested department)
    if inp.name == "region" and "department" in names:
        required = False  # a department or a region: the department is asked for
    return InputSpec(name=inp.name, kind=inp.kind, required=required, label=engine.input_label(inp),
                     choices=_choices_of(inp, actor, case, ctype))


def _generic_spec(action: str, inp: Input, actor: Actor, case: Case, ctype: CaseType) -> InputSpec:
    spec = _spec(inp, actor, case, ctype, set())
    if action == "decide_extension" and inp.name == "request":
        choices = tuple((str(r.pk), f"{r.get_kind_display()}: {r.reason}"[:120]) for r in _decidable(actor, case))
        return InputSpec(spec.name, spec.kind, spec.required, spec.label, choices)
    if action in ("upload_document", "record_delivery") and inp.name == "document":
        return InputSpec(spec.name, spec.kind, spec.required, spec.label, _document_choices(case))
    if action == "record_delivery" and inp.name == "party":
        return InputSpec(spec.name, spec.kind, spec.required, spec.label, _party_choices(case))
    if action == "generate_document" and inp.name == "kind":
        kinds = set(generable_kinds(case))
        return InputSpec(spec.name, spec.kind, spec.required, spec.label,
                         tuple(c for c in spec.choices if c[0] in kinds))
    if action == "request_extension" and inp.name == "kind":
        waiting = {r.kind for r in _pending_requests(case)}
        return InputSpec(spec.name, spec.kind, spec.required, spec.label,
                         tuple(c for c in spec.choices if c[0] not in waiting))
    return spec


def _party_choices(case: Case) -> tuple[tuple[str, str], ...]:
    """The case's parties a delivery may name (value: the party's id; label: its kind and name masked)."""
    name = Party._meta.get_field("name")
    return tuple((str(p.pk), f"{p.get_kind_display()} {name.masked(p)}")  # type: ignore[union-attr]
                 for p in parties_of(case=case))


def _document_choices(case: Case) -> tuple[tuple[str, str], ...]:
    return tuple((str(d.pk), f"{d.title} (v{d.current_version})")
                 for d in case_documents(case=case).filter(current_version__gt=0))


def case_actions(user: Actor, case: Case, *, now: dt.datetime | None = None) -> list[ActionOffer]:
    """What ``user`` may do on ``case`` now: the transitions possible in its state and the generic
    actions its state allows, each only for a role the declaration allows it (resolved as the
    services resolve it); a transition a guard refuses is listed with the reason in ``refused``.
    Nothing for a person outside the case's jurisdiction."""
    if user is not None and not getattr(user, "is_authenticated", False):
        return []  # a visitor acts on nothing (the platform itself is actor None)
    ctype = registry.of(case)
    roles = engine.actor_roles(user, case)
    offers: list[ActionOffer] = []
    try:
        for t in ctype.allowed_from(case.state):
            if not roles.may(t.roles):
                continue
            refusal = engine.guards_refusal(t, case, _person(user))
            names = {i.name for i in t.inputs}
            offers.append(ActionOffer(
                name=t.name, label=str(t.label or t.name), kind="transition",
                inputs=tuple(_spec(i, user, case, ctype, names) for i in t.inputs),
                refused=refusal[1] if refusal else "", public=t.public))
        for action in GENERIC_ACTIONS:
            if not roles.may(ctype.generic.of(action)) or not _available(action, user, case, ctype):
                continue
            offers.append(ActionOffer(
                name=action, label=str(GENERIC_LABELS[action]), kind="generic",
                inputs=tuple(_generic_spec(action, i, user, case, ctype) for i in GENERIC_INPUTS[action]),
                public=action in ("merge", "reopen", "rate")))
    except OutOfScope:
        return []
    return offers


# --- case_act: parsing the typed input --------------------------------------------------------------


def _invalid(field: str, message: str) -> TransitionNotAllowed:
    return TransitionNotAllowed({field: message})


def _values(data: Mapping[str, Any], name: str, *, split: bool = False) -> list[Any]:
    """A field's values: a list as sent (JSON), every value of a form field, or one value (``split``:
    a text of comma-separated values); empty strings dropped."""
    if hasattr(data, "getlist"):
        raw: Any = data.getlist(name)
    else:
        raw = data.get(name)
    if raw is None:
        return []
    if isinstance(raw, list | tuple):
        items = list(raw)
    elif isinstance(raw, str) and split:
        items = raw.split(",")
    else:
        items = [raw]
    if split and len(items) == 1 and isinstance(items[0], str):
        items = items[0].split(",")
    return [v.strip() if isinstance(v, str) else v for v in items if not (isinstance(v, str) and not v.strip())]


def _one(data: Mapping[str, Any], name: str) -> Any:
    values = _values(data, name)
    if len(values) > 1:
        raise _invalid(name, _("Give one value."))
    return values[0] if values else None


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name) if not hasattr(data, "getlist") else (data.getlist(name) or [""])[-1]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _invalid(name, _("Give a text."))
    return value.strip()


def _department(actor: Actor, code: Any, name: str) -> Department:
    if not isinstance(code, str) or not code:
        raise _invalid(name, _("Choose a department."))
    dept = Department.objects.filter(code=code, is_active=True).first()
    if dept is None:
        raise _invalid(name, _("No active department %(code)s.") % {"code": code[:50]})
    return dept


def _region(code: Any, name: str) -> Region:
    if not isinstance(code, str) or not code:
        raise _invalid(name, _("Choose a region."))
    region = Region.objects.filter(code=code, is_active=True, level__in=REGION_TARGET_LEVELS).first()
    if region is None:  # a community or grid is no target: a centre handles a case (as case_actions offers)
        raise _invalid(name, _("No region %(code)s.") % {"code": code[:50]})
    return region


def _person_ref(value: Any, name: str) -> User:
    """A person named by their account's id (as ``case_actions`` offers them): anything else is 422
    naming the field; an id that is no active account is answered like one out of reach (404), so
    nobody probes which accounts exist."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _invalid(name, _("Choose a person."))
    if isinstance(value, str):
        if not value.isdigit() or len(value) > len(str(MAX_ID)):
            raise _invalid(name, _("Choose a person."))
        value = int(value)
    if not 1 <= value <= MAX_ID:
        raise _invalid(name, _("Choose a person."))
    found = User.objects.filter(pk=value, is_active=True).first()
    if found is None:
        raise OutOfScope(_("No person matches the given query."))
    return found


def _number(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _invalid(name, _("Give a number."))
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _invalid(name, _("Give a number.")) from None
    if not math.isfinite(number):
        raise _invalid(name, _("Give a number."))
    return number


def _datetime(value: Any, name: str) -> dt.datetime | None:
    """An instant as a form (``2026-03-01T09:30``) or the API (ISO 8601) sends it; without a zone,
    in the platform's (Asia/Shanghai)."""
    if value is None or value == "":
        return None
    try:
        parsed = parse_datetime(value.replace(" ", "T", 1)) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise _invalid(name, _("Give a date and time (YYYY-MM-DD HH:MM)."))
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


_CODE = re.compile(r"[0-9A-Za-z-]{1,32}")


def _case_ref(actor: Actor, value: Any, name: str) -> Case:
    """A case named by its id or its tracking code; anything that is neither (a number out of
    range, "²", text with spaces or symbols) is 422 naming the field, a case the actor cannot see
    404."""
    person = _person(actor)
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise _invalid(name, _("Name a case by its tracking code."))
    if isinstance(value, str) and not _CODE.fullmatch(value):
        raise _invalid(name, _("Name a case by its tracking code."))
    if isinstance(value, str) and value.isdigit() and len(value) != TRACKING_CODE_LENGTH:
        if len(value) > TRACKING_CODE_LENGTH:
            raise _invalid(name, _("Name a case by its tracking code."))
        value = int(value)
    if isinstance(value, int):
        if not 1 <= value <= MAX_ID:
            raise _invalid(name, _("Name a case by its tracking code."))
        if person is not None:
            return case_get(user=person, pk=value)
        by_id = Case.objects.filter(pk=value).first()
        if by_id is None:
            raise OutOfScope(_("No case matches the given query."))
        return by_id
    if person is None:
        found = Case.objects.filter(tracking_code=value.upper()).first()
        if found is None:
            raise OutOfScope(_("No case matches the given query."))
        return found
    return case_get(user=person, tracking_code=value)


def _choice(inp: Input, value: Any, choices: Sequence[tuple[str, Any]]) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) and {c[0] for c in choices} == {"yes", "no"}:
        return "yes" if value else "no"
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or value not in {str(c[0]) for c in choices}:
        raise _invalid(inp.name, _("Choose one of the options."))
    return value


def _parse(inputs: Sequence[Input], data: Mapping[str, Any], actor: Actor, case: Case,
           choices: Mapping[str, Sequence[tuple[str, Any]]] | None = None) -> dict[str, Any]:
    """Each input's typed value from ``data``: text stripped, departments and regions by code,
    cases by tracking code (or id), people by their account's id, numbers finite, choices among the
    options; 422 naming the field otherwise. Required inputs left empty are the service's to refuse
    (it names them)."""
    out: dict[str, Any] = {}
    for inp in inputs:
        if inp.kind == "text":
            out[inp.name] = _text(data, inp.name)
        elif inp.kind == "department":
            code = _one(data, inp.name)
            out[inp.name] = _department(actor, code, inp.name) if code is not None else None
        elif inp.kind == "departments":
            codes = _values(data, inp.name, split=True)
            if any(not isinstance(c, str) for c in codes):
                raise _invalid(inp.name, _("Choose a department."))
            out[inp.name] = [_department(actor, c, inp.name) for c in dict.fromkeys(codes)]
        elif inp.kind == "region":
            code = _one(data, inp.name)
            out[inp.name] = _region(code, inp.name) if code is not None else None
        elif inp.kind == "person":
            ref = _one(data, inp.name)
            out[inp.name] = _person_ref(ref, inp.name) if ref is not None else None
        elif inp.kind == "number":
            out[inp.name] = _number(_one(data, inp.name), inp.name)
        elif inp.kind == "datetime":
            out[inp.name] = _datetime(_one(data, inp.name), inp.name)
        elif inp.kind == "case":
            out[inp.name] = [_case_ref(actor, v, inp.name) for v in _values(data, inp.name, split=True)]
        elif inp.kind == "choice":
            if choices is not None and inp.name in choices:
                options = tuple(choices[inp.name])  # the case's own options (its requests), maybe none
            else:
                options = inp.choices or (tuple(Satisfaction.choices) if inp.name == "satisfaction" else ())
            out[inp.name] = _choice(inp, _one(data, inp.name), options)
        # photos and files come as uploads, not in data
    return out


Uploads = Sequence[Any] | Mapping[str, Sequence[Any]]


def _uploads(inputs: Sequence[Input], photos: Uploads, files: Uploads) -> dict[str, list[Any]]:
    """The uploads of an action by input name. ``photos`` and ``files`` are each a mapping of
    input name → uploads (any input of kind photos or files), or a plain sequence: the uploads of the
    input of that name ("photos", "files"), else of the one input of that kind the action takes
    (422 naming the field when there is none or several)."""
    declared = {i.name: i for i in inputs}
    out: dict[str, list[Any]] = {}
    for given, kind in ((photos, "photos"), (files, "files")):
        if isinstance(given, Mapping):
            for name, items in given.items():
                if items:
                    out.setdefault(str(name), []).extend(items)
            continue
        if not given:
            continue
        inp = declared.get(kind)
        if inp is None or inp.kind != kind:
            of_kind = [i for i in inputs if i.kind == kind]
            if len(of_kind) != 1:
                raise _invalid(kind, _("This action takes no photos.") if kind == "photos"
                               else _("This action takes no files."))
            inp = of_kind[0]
        out.setdefault(inp.name, []).extend(given)
    for name in out:
        inp = declared.get(name)
        if inp is None or inp.kind not in ("photos", "files"):
            raise _invalid(name, _("This action takes no files or photos here."))
    return out


def _refuse(roles: engine.ActorRoles, allowed: frozenset[str], label: Any) -> None:
    if not roles.may(allowed):
        raise TransitionRefused(_("Your role may not %(action)s this case.") % {"action": label})


# --- case_act: the action → service table ---------------------------------------------------------------


def _do_transition(actor: Actor, case: Case, ctype: CaseType, t: Transition, data: Mapping[str, Any],
                   photos: Uploads, files: Uploads, now: dt.datetime | None) -> Case:
    names = {i.name for i in t.inputs}
    uploads = _uploads(t.inputs, photos, files)
    v = _parse(t.inputs, data, actor, case)
    department = v.get("department")
    if department is None and "department" in names and v.get("region") is None:
        default = t.input("department")
        department = default.default(case) if default is not None and default.default is not None else None
    co: list[Department] = []
    for inp in t.inputs:
        if inp.kind == "departments":
            co += v.get(inp.name) or []
    core = {"note", "reason", "department", "region", "satisfaction"}
    free = {i.name: v.get(i.name) for i in t.inputs
            if i.name not in core and i.kind not in ("departments", "photos", "files") and v.get(i.name) is not None}
    return engine.case_transition(
        actor=_person(actor), case=case, action=t.name, note=v.get("note") or "", reason=v.get("reason") or "",
        data=free, uploads=uploads, department=department, co_departments=co, region=v.get("region"),
        satisfaction=v.get("satisfaction"), now=now)


def _bool(value: str | None, default: bool) -> bool:
    return default if value is None else value == "yes"


def _do_generic(actor: Actor, case: Case, ctype: CaseType, action: str, data: Mapping[str, Any],
                now: dt.datetime | None, uploads: Mapping[str, Sequence[Any]]) -> Case:
    person = _person(actor)
    choices: dict[str, Sequence[tuple[str, Any]]] = {}
    if action == "decide_extension":
        # any request of this case: one decided meanwhile is the service's conflict (409)
        choices["request"] = [(str(pk), "") for pk in case.approval_requests.values_list("pk", flat=True)]
    if action in ("upload_document", "record_delivery"):
        choices["document"] = _document_choices(case)
    if action == "record_delivery":
        choices["party"] = _party_choices(case)
    v = _parse(GENERIC_INPUTS[action], data, actor, case, choices)
    note = v.get("note") or ""
    if action in ("upload_document", "generate_document", "record_delivery"):
        _do_document(person, case, action, v, uploads, now)
    elif action == "merge":
        engine.case_merge(actor=person, survivor=case, duplicates=v["duplicates"], note=note, now=now)
    elif action == "recall":
        engine.case_recall(actor=person, case=case, note=note, now=now)
    elif action in ("supervise", "chase"):
        engine.case_supervise(actor=person, case=case, kind=Supervision.Kind(action), note=note, now=now)
    elif action == "escalate":
        engine.case_escalate(actor=person, case=case, note=note, now=now)
    elif action == "reopen":
        engine.case_reopen(actor=person, case=case, reason=v.get("reason") or "", now=now)
    elif action == "rate":
        satisfaction = v.get("satisfaction") or ""
        contacted = _bool(v.get("contacted"), True)
        resolved = _bool(v.get("resolved"), satisfaction != Satisfaction.UNSATISFIED)
        engine.case_rate(actor=person, case=case, satisfaction=satisfaction, comment=note,
                         contacted=contacted, resolved=resolved, valid=_bool(v.get("valid"), True), now=now)
    elif action == "request_extension":
        engine.case_request_approval(actor=person, case=case, kind=v.get("kind") or ApprovalRequest.Kind.EXTENSION,
                                     reason=v.get("reason") or "", amount=v.get("amount"), unit=v.get("unit") or "",
                                     now=now)
    elif action == "decide_extension":
        if v.get("request") is None:
            raise _invalid("request", _("Choose the request to decide."))
        if v.get("decision") is None:
            raise _invalid("decision", _("Approve or reject."))
        req = ApprovalRequest.objects.get(pk=int(v["request"]), case=case)
        engine.case_decide_approval(actor=person, request=req, approve=v["decision"] == "approve", note=note,
                                    now=now)
    elif action == "resume":
        engine.case_resume(actor=person, case=case, note=note, now=now)
    elif action == "link":
        others = v.get("case") or []
        if len(others) != 1:
            raise _invalid("case", _("Name one case by its tracking code."))
        engine.case_link(actor=person, case=case, other=others[0], note=note, now=now)
    return Case.objects.get(pk=case.pk)


def _do_document(person: Any, case: Case, action: str, v: Mapping[str, Any], uploads: Mapping[str, Sequence[Any]],
                 now: dt.datetime | None) -> None:
    """The documents' generic actions (cases.documents checks the role, the case and the input)."""
    note = v.get("note") or ""
    document = int(v["document"]) if v.get("document") else None
    if action == "upload_document":
        documents.document_upload(actor=person, case=case, files=uploads.get("files", []),
                                  kind=v.get("kind") or DocumentKind.OTHER, title=v.get("title") or "",
                                  document=document, note=note, now=now)
    elif action == "generate_document":
        if not v.get("kind"):
            raise _invalid("kind", _("Choose the document to generate."))
        documents.document_generate(actor=person, case=case, kind=v["kind"], note=note, now=now)
    else:
        if document is None:
            raise _invalid("document", _("Choose the document that was delivered."))
        if not v.get("party"):
            raise _invalid("party", _("Choose one of the case's parties."))
        documents.delivery_record(actor=person, case=case, document=document, party=int(v["party"]),
                                  method=v.get("method") or "", delivered_at=v.get("delivered_at"),
                                  proof=uploads.get("proof", []), note=note, now=now)


def action_inputs(actor: Actor, case: Case, action: str) -> tuple[Input, ...]:
    """The inputs ``action`` takes on ``case`` (its declaration), once the actor may take it: the
    refusals of :func:`case_act` up to the role (404 out of scope or for an action the type does not
    have, 403 for a role that may not). An interface reads a body with it (what to accept, what to
    refuse as undeclared)."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        raise OutOfScope(_("No case matches the given query."))  # a visitor is not the platform
    ctype = registry.of(case)
    roles = engine.actor_roles(actor, case)
    roles.through(())  # OutOfScope when the actor cannot see the case at all
    if action in ctype.transitions:
        t = ctype.transitions[action]
        _refuse(roles, t.roles, t.label or t.name)
        return t.inputs
    if action in GENERIC_ACTIONS:
        _refuse(roles, ctype.generic.of(action), GENERIC_LABELS[action])
        return GENERIC_INPUTS[action]
    raise UnknownAction(_("This case has no action %(action)s.") % {"action": action[:50]})


def case_act(*, actor: Actor, case: Case, action: str, data: Mapping[str, Any], photos: Uploads = (),
             files: Uploads = (), now: dt.datetime | None = None) -> Case:
    """Perform ``action`` (a transition of the case's type or a generic action) with its typed
    input ``data`` and uploads (objects with ``name`` and ``content``): ``photos`` and ``files``
    each either a mapping of input name → uploads (any input of kind photos or files, whatever its
    name; both may carry any such input) or a plain sequence for the input named "photos" /
    "files", else the transition's one input of that kind. They are stored only once the step is
    allowed (``services.case_transition``).

    Refusals, in this order: a case outside the actor's jurisdiction → OutOfScope (404); an action
    the type does not have → UnknownAction (404); a role that may not → TransitionRefused (403);
    bad input → TransitionNotAllowed naming the field (422); the state, a guard or a missing input
    → TransitionNotAllowed (422); a target outside the actor's reach → OutOfScope (404); somebody
    acted first → CaseConflict (409). The case as it is afterwards. Fields of ``data`` the action
    does not declare are not read (a page's form carries its own; the API refuses them)."""
    action_inputs(actor, case, action)
    ctype = registry.of(case)
    if action in ctype.transitions:
        return _do_transition(actor, case, ctype, ctype.transitions[action], data, photos, files, now)
    inputs = GENERIC_INPUTS[action]
    if any(i.kind in ("photos", "files") for i in inputs):
        uploads = _uploads(inputs, photos, files)
    else:
        uploads = {}
        for given, kind in ((photos, "photos"), (files, "files")):
            if any(given.values()) if isinstance(given, Mapping) else given:
                raise _invalid(kind, _("This action takes no attachments."))
    return _do_generic(actor, case, ctype, action, data, now, uploads)


# ---------------------------------------------------------------------------------------------
# parties (当事人): what a person sees of a case's parties and may do with them


@dataclass(frozen=True)
class PartyView:
    """One party as every interface shows it: masked values only, and the fields this person may
    reveal (the case type's ``parties.reveal`` for their roles on this case)."""

    id: int
    kind: str
    kind_label: str
    name: str
    id_number: str
    phone: str
    address: str
    revealable: tuple[str, ...]


@dataclass(frozen=True)
class PartiesView:
    parties: list[PartyView]
    kinds: tuple[tuple[str, str], ...]  # (kind, label) the type uses: what a new party may be
    can_edit: bool


def case_parties(user: Actor, case: Case) -> PartiesView:
    """The parties of a case ``user`` has fetched through ``selectors.case_get`` (masked), with what
    they may reveal and whether they may add or correct parties (``parties.edit``)."""
    rules = registry.of(case).parties
    roles = engine.actor_roles(user, case)

    def may(allowed: frozenset[str]) -> bool:
        try:
            return roles.may(allowed)
        except OutOfScope:  # they see the case without a role reaching it (the call they keyed in)
            return False

    signed_in = bool(getattr(user, "is_authenticated", False))
    revealable = tuple(f for f in registry.PARTY_FIELDS
                       if signed_in and rules.may_reveal(f) and may(rules.may_reveal(f)))
    views = []
    for p in parties_of(case=case):
        masked = {f: type(p)._meta.get_field(f).masked(p) for f in registry.PARTY_FIELDS}  # type: ignore[union-attr]
        views.append(PartyView(id=p.pk, kind=p.kind, kind_label=str(registry.PARTY_KINDS.get(p.kind, p.kind)),
                               revealable=tuple(f for f in revealable if masked[f]), **masked))
    kinds = tuple((k, str(registry.PARTY_KINDS[k])) for k in rules.kinds if k != "reporter")
    return PartiesView(parties=views, kinds=kinds, can_edit=signed_in and may(rules.edit))
