"""The case engine's writes (案件引擎). Every change is one call, in one transaction, that checks the
rule, changes the state with a guarded update, appends a timeline entry, writes the audit row and
queues the notifications (outbox rows, delivered by the worker after commit).
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.audit.services import audit_entry
from civicgrid.cases import registry
from civicgrid.cases.errors import CaseConflict, TransitionNotAllowed, TransitionRefused
from civicgrid.cases.models import (
    LINK_KINDS,
    PARTY_SEARCH_FIELDS,
    PARTY_SENSITIVE_FIELDS,
    ApprovalRequest,
    Assignment,
    AssignmentRole,
    AssignmentState,
    Case,
    CaseLink,
    Channel,
    LinkKind,
    Party,
    Priority,
    Rating,
    RatingSource,
    Satisfaction,
    Supervision,
    TimelineEntry,
    Timer,
)
from civicgrid.cases.parties import party_row
from civicgrid.cases.registry import ASSIGNEE, REPORTER, SYSTEM, CaseType, ClockRule, Opens, Transition
from civicgrid.cases.selectors import cases_visible, department_serves, person_targets, region_meets
from civicgrid.cases.timeline import timeline_row
from civicgrid.cases.timers import (
    timer_extend,
    timer_start,
    timers_pause,
    timers_resume,
    timers_stop,
    timers_stop_for_assignment,
    timers_stop_for_assignments,
)
from civicgrid.core.batch import batched, insert_later, insert_one, returning_supported
from civicgrid.geo.models import LEVELS, Region
from civicgrid.geo.selectors import PointChain, point_chain
from civicgrid.notify.models import Notification
from civicgrid.notify.outbox import outbox_row
from civicgrid.org.models import Department, Membership, Role, User
from civicgrid.org.permissions import ACT, VIEW, role_allows
from civicgrid.org.scoping import OutOfScope, reaches, roles_reaching
from civicgrid.privacy.services import sensitive_search, sensitive_value_reveal
from civicgrid.privacy.validators import clean_id_number, clean_phone, validate_id_number, validate_phone
from civicgrid.taxonomy.models import TimeUnit
from civicgrid.taxonomy.selectors import deadline_rules_for
from civicgrid.workcal import clock
from civicgrid.workcal.calendar import working_calendar, working_hours

# The largest extension one request may ask for, per unit of the handling clock: 10 working days
# and what that comes to in the other units (the setting CIVICGRID_EXTENSION_MAX overrides any).
EXTENSION_MAX: dict[str, float] = {
    "working_days": 10,
    "working_hours": 70,  # 10 working days of 7 working hours (09:00-12:00, 13:00-17:00)
    "calendar_days": 14,
    "urgent_hours": 14 * 24,
    "natural_months": 1,
    "statutory_days": 30,  # a petition's handling period: +30 days (信访工作条例 art. 36)
}
PROBLEM_REOPENINGS = 3  # 3 reopenings or 3 transfers make a problem case (问题工单)
PROBLEM_TRANSFERS = 3
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
TRACKING_CODE_LENGTH = 10


# ---------------------------------------------------------------------------------------------
# helpers


def _account(user: Any) -> Any:
    """The signed-in account to record (created by, opened by, …); None for the system or a visitor."""
    return user if getattr(user, "is_authenticated", False) else None


_OPEN_ASSIGNMENT = (AssignmentState.PENDING, AssignmentState.ACCEPTED, AssignmentState.DISPUTED)


def _department_holds(case: Case, actor: Any) -> bool:
    """Whether one of the actor's departments leads the case or holds an open assignment of it (a
    department the case was transferred away from, or recalled from, still sees it but may not act)."""
    depts = Membership.objects.filter(user=actor, is_active=True, role=Role.DEPARTMENT_HANDLER).values("department_id")
    return Case.objects.filter(
        Q(lead_department__in=depts) | Q(assignments__department__in=depts, assignments__state__in=_OPEN_ASSIGNMENT),
        pk=case.pk,
    ).exists()


class ActorRoles:
    """The roles through which one person may act on one case: the one role resolution of the
    engine, used by every service and by ``rules.case_actions`` (so the two cannot disagree).

    Acting roles reach the case to act (a department handler only while one of their departments
    holds it; the reporter's own account as REPORTER). Read-only roles (a leader) reach a case only
    to view it; they count where an action allows them (督办, 提级, decisions). ASSIGNEE is the
    person an open person assignment of the case is given to, while they can see the case; it
    counts where an action allows it. Computed lazily: the viewing roles only when an action asks
    for a role the acting ones lack, ASSIGNEE only when an action allows it."""

    def __init__(self, actor: Any, case: Case) -> None:
        self.actor, self.case = actor, case
        self._viewing: frozenset[str] | None = None
        self._assignee: bool | None = None
        if actor is None:
            self.acting: frozenset[str] = frozenset({SYSTEM})
        elif getattr(actor, "is_superuser", False) and actor.is_active:
            self.acting = frozenset({Role.ADMIN, Role.DISPATCHER, Role.LEADER, Role.GRID_WORKER,
                                     Role.DEPARTMENT_HANDLER, Role.MEDIATOR, Role.AUDITOR})
        else:
            roles = roles_reaching(case, actor, ACT)
            if "owner" in roles:
                roles.discard("owner")
                roles.add(REPORTER)
            if Role.DEPARTMENT_HANDLER in roles and not _department_holds(case, actor):
                roles.discard(Role.DEPARTMENT_HANDLER)
            self.acting = frozenset(roles)

    @property
    def viewing(self) -> frozenset[str]:
        """Read-only roles through which the actor sees the case (raises OutOfScope when nothing
        reaches it at all)."""
        if self._viewing is None:
            if self.actor is None or SYSTEM in self.acting or getattr(self.actor, "is_superuser", False):
                self._viewing = frozenset()
            else:
                seen = roles_reaching(self.case, self.actor, VIEW)
                if not self.acting and not seen:
                    raise OutOfScope(_("No case matches the given query."))
                self._viewing = frozenset(r for r in seen if r != "owner" and not role_allows(r, ACT))
        return self._viewing

    @property
    def assignee(self) -> bool:
        """Whether the actor holds an open person assignment of the case (waiting, accepted or
        disputed): the assignment is theirs to accept, dispute or finish."""
        if self._assignee is None:
            pk = getattr(self.actor, "pk", None)
            self._assignee = bool(pk is not None and getattr(self.actor, "is_authenticated", False)
                                  and Assignment.objects.filter(case_id=self.case.pk, person_id=pk,
                                                                state__in=_OPEN_ASSIGNMENT).exists())
        return self._assignee

    def through(self, allowed: Iterable[str]) -> set[str]:
        """The actor's roles as an action allowing ``allowed`` counts them (OutOfScope when the
        actor cannot see the case)."""
        allowed = set(allowed)
        roles = set(self.acting) if self.acting & allowed else set(self.acting) | (self.viewing & allowed)
        if ASSIGNEE in allowed and self.assignee:
            if not roles:
                _ = self.viewing  # the case must be in their sight: OutOfScope otherwise
            roles.add(ASSIGNEE)
        return roles

    def may(self, allowed: Iterable[str]) -> bool:
        allowed = set(allowed)
        return bool(self.through(allowed) & allowed)


def actor_roles(actor: Any, case: Case) -> ActorRoles:
    """The engine's role resolution for ``actor`` on ``case`` (see ActorRoles)."""
    return ActorRoles(actor, case)


def _actor_roles(actor: Any, case: Case, allowed: Iterable[str] = ()) -> set[str]:
    """The roles through which ``actor`` may act on ``case``; raises OutOfScope if it cannot see it."""
    return actor_roles(actor, case).through(allowed)


def _require_role(actor: Any, case: Case, allowed: Iterable[str], what: str) -> set[str]:
    roles = _actor_roles(actor, case, allowed)
    if not roles & set(allowed):
        raise TransitionRefused(_("You may not %(what)s this case.") % {"what": what})
    return roles


def tracking_code_new() -> str:
    """A code residents type to follow their case: 10 characters, no look-alike letters."""
    # 32 symbols: 5 bits a byte
    return "".join([CODE_ALPHABET[b & 31] for b in secrets.token_bytes(TRACKING_CODE_LENGTH)])


def timeline_add(**kwargs: Any) -> TimelineEntry:
    """Append a timeline entry now (arguments as :func:`civicgrid.cases.timeline.timeline_row`)."""
    entry = timeline_row(**kwargs)
    entry.save(force_insert=True)
    return entry


def _step(
    *,
    case: Case,
    actor: Any,
    action: str,
    at: dt.datetime,
    audit_action: str | None = None,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    attachments: Sequence[Any] = (),
    public: bool = False,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> TimelineEntry:
    """One step of a case's history: its timeline entry and its audit row (``cases.<type>.<action>``),
    always written together, in the caller's transaction (inserted together when it ends)."""
    entry = timeline_row(
        at=at,
        case=case,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data,
        attachments=attachments,
        public=public,
    )
    insert_later(entry)
    insert_later(
        audit_entry(
            actor=actor,
            action=f"cases.{case.case_type}.{audit_action or action}",
            target=case,
            before=before,
            after=after,
        )
    )
    return entry


def notify(
    *,
    case: Case | None,
    event: str,
    subject: str,
    body: str = "",
    recipient: Any = None,
    department: Department | None = None,
    region: Region | None = None,
    address: str = "",
    channel: str = "inapp",
) -> Notification:
    """Queue a notification in the outbox (same transaction as the change); the worker delivers it."""
    row = outbox_row(case=case, event=event, subject=subject, body=body, recipient=recipient,
                     department=department, region=region, address=address, channel=channel)
    insert_later(row)
    return row


def _notify_reporter(case: Case, event: str, subject: str, body: str = "") -> None:
    if case.reporter_id:
        notify(case=case, event=event, subject=subject, body=body, recipient=case.reporter)
    elif case.reporter_phone and not case.anonymous:
        notify(case=case, event=event, subject=subject, body=body, address=case.reporter_phone, channel="sms")


def _clock_limit(case: Case, rule: ClockRule) -> tuple[float, str]:
    if rule.from_category:
        if case.category_id:
            rules = deadline_rules_for(case.category_id)
            if rules:
                return float(rules[0].limit), rules[0].unit
        request_type = case.request_type if case.request_type_id else None
        if request_type is not None:
            return float(request_type.limit), request_type.unit
    return rule.amount, rule.unit


def _start_clocks(case: Case, rules: Iterable[ClockRule], now: dt.datetime, *, new_case: bool = False,
                  opened: Sequence[Assignment] = (), handling_due: dt.datetime | None = None,
                  carried: dict[str, float] | None = None) -> None:
    """Start the rules' clocks. Per-assignment clocks go to the assignments this step ``opened``
    (new, so nothing to replace), else to every pending one. ``carried``: per kind, the extension
    an earlier clock of that kind was granted (a reopened case keeps it)."""
    for rule in rules:
        amount, unit = _clock_limit(case, rule)
        if rule.per_assignment:
            if opened:
                for a in opened:
                    if a.state == AssignmentState.PENDING:
                        timer_start(case=case, kind=rule.kind, amount=amount, unit=unit, now=now, assignment=a,
                                    replace=False)
            else:
                for a in case.assignments.filter(state=AssignmentState.PENDING):
                    timer_start(case=case, kind=rule.kind, amount=amount, unit=unit, now=now, assignment=a)
        else:
            due = handling_due if new_case and rule.kind == "handle" else None
            extra = (carried or {}).get(rule.kind, 0.0)
            if extra:
                cal, hours = working_calendar(), working_hours()
                due = clock.extend(clock.due_at(now, amount, unit, calendar=cal, hours=hours), extra, unit,
                                   calendar=cal, hours=hours)
            t = timer_start(case=case, kind=rule.kind, amount=amount, unit=unit, now=now, replace=not new_case,
                            due=due, extended_by=extra)
            if rule.kind == "handle" and case.handling_due_at != t.due_at:
                Case.objects.filter(pk=case.pk).update(handling_due_at=t.due_at)
                case.handling_due_at = t.due_at


def _handling_due(case: Case, rules: Iterable[ClockRule], now: dt.datetime) -> dt.datetime | None:
    """The handling due time a new case will get, so it is written with the case's own INSERT."""
    for rule in rules:
        if rule.kind == "handle" and not rule.per_assignment:
            amount, unit = _clock_limit(case, rule)
            return clock.due_at(now, amount, unit, calendar=working_calendar(), hours=working_hours())
    return None


def _guarded_update(case: Case, *, action: str, **changes: Any) -> None:
    """Change the case only if nobody changed it since we read it (one row or a conflict)."""
    changes.setdefault("updated_at", timezone.now())
    n = _update_versioned(case, changes)
    if n != 1:
        last = TimelineEntry.objects.filter(case_id=case.pk).order_by("-at", "-id").first()
        who = last.actor_name if last else "?"
        what = last.action if last else "?"
        raise CaseConflict(
            _("The case was changed meanwhile: already %(action)s by %(who)s. Reload it.")
            % {"action": what, "who": who},
            action=what,
            actor_name=who,
        )
    case.version += 1
    for k, v in changes.items():
        setattr(case, k, v)


def _update_versioned(case: Case, changes: dict[str, Any]) -> int:
    """``UPDATE … SET version = version + 1, <changes> WHERE id = … AND version = …``: the rows
    changed. Plain values are written by one statement compiled here (every step of every case
    makes it: Django's update compiler costs more than the row); an expression goes Django's way."""
    if any(hasattr(v, "resolve_expression") for v in changes.values()):
        return Case.objects.filter(pk=case.pk, version=case.version).update(version=F("version") + 1, **changes)
    qn = connection.ops.quote_name
    sets, params = [f"{qn('version')} = {qn('version')} + 1"], []
    for name, value in changes.items():
        f = cast(models.Field, Case._meta.get_field(name))  # the case's own columns, never a reverse relation
        if hasattr(value, "prepare_database_save"):  # a model instance for a foreign key
            value = value.prepare_database_save(f)
        sets.append(f"{qn(f.column or f.name)} = %s")
        params.append(f.get_db_prep_save(value, connection))
    sql = (f"UPDATE {qn(Case._meta.db_table)} SET {', '.join(sets)} "
           f"WHERE {qn('id')} = %s AND {qn('version')} = %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, case.pk, case.version])
        return cursor.rowcount


# ---------------------------------------------------------------------------------------------
# creating


@dataclass
class Location:
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    region: Region | None = None  # when there is no point: the grid (or another region) it belongs to
    placed: PointChain | None = None  # the point already placed by the caller (point_chain of lon, lat)


def case_create(
    *,
    actor: Any,
    case_type: str,
    title: str,
    text: str = "",
    channel: str = Channel.OTHER,
    location: Location | None = None,
    category: Any = None,
    request_type: Any = None,
    priority: str = Priority.NORMAL,
    reporter: Any = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    anonymous: bool = False,
    address: str = "",
    owner_region: Region | None = None,
    detail: dict[str, Any] | None = None,
    receipt: Callable[[Case], tuple[str, str]] | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """Register a new case of a registered type, placed in its grid and region chain. ``receipt``:
    the (subject, body) of a message to the reporter about the new case, written with the case
    (see ``_notify_reporter``)."""
    ctype = registry.get(case_type)
    title = (title or "").strip()
    if not title:
        raise TransitionNotAllowed({"title": _("A case needs a title.")})
    if channel not in Channel.values:
        raise TransitionNotAllowed({"channel": _("Unknown channel %(c)s.") % {"c": channel}})
    now = now or timezone.now()
    loc = location or Location()
    chain: dict[str, int | None] = dict.fromkeys(LEVELS)  # region ids
    boundary_version = None
    lon = lat = None
    if loc.lon is not None and loc.lat is not None:
        try:  # from the in-memory index: no query
            found = loc.placed if loc.placed is not None else point_chain(loc.lon, loc.lat, crs=loc.crs)
        except ValueError as exc:
            raise TransitionNotAllowed({"location": str(exc)}) from None
        lon, lat = found.lon, found.lat
        chain.update(found.ids)
        boundary_version = found.boundary_version
    elif loc.region is not None:
        chain.update({lv: getattr(loc.region, f"{lv}_id") for lv in LEVELS})
    if not any(chain.values()):
        # Outside every grid and community, or no location at all: never lost — it goes to the city
        # centre's manual queue (the only active city; a multi-city deployment must say which).
        cities = list(Region.objects.filter(level="city", is_active=True).values_list("pk", flat=True)[:2])
        if len(cities) == 1:
            chain["city"] = cities[0]
    owner_id = (
        owner_region.pk
        if owner_region
        else next((chain[lv] for lv in ("street", "district", "city") if chain[lv]), None)
    )
    sealed = {}
    if ctype.visibility.is_restricted:
        audience = ctype.visibility.audience_of(detail)
        if audience:  # a restricted case: its free text is kept encrypted (Case.description reads it)
            sealed = {"audience": audience, "sealed_text": text}
            text = ""
    for attempt in range(5):
        try:
            case = _case_insert(ctype, actor=actor, now=now, chain=chain, owner_id=owner_id, detail=detail,
                                receipt=receipt, fields={
                                    **sealed,
                                    "title": title[:200], "text": text, "channel": channel, "priority": priority,
                                    "category": category, "request_type": request_type, "lon": lon, "lat": lat,
                                    "address": address[:200], "boundary_version": boundary_version,
                                    "reporter": _account(reporter),
                                    "reporter_name": "" if anonymous else reporter_name,
                                    "reporter_phone": "" if anonymous else reporter_phone,
                                    "anonymous": anonymous,
                                    "created_by": _account(actor),
                                })
        except IntegrityError as exc:  # a tracking code collision (10 chars of 32 symbols: very rare)
            if "tracking_code" not in str(exc) or attempt == 4:
                raise
        else:
            if case is not None:
                return case
    raise IntegrityError("five tracking codes in a row were taken")  # pragma: no cover


def _case_insert(ctype: CaseType, *, actor: Any, now: dt.datetime, chain: dict[str, int | None],
                 owner_id: int | None, detail: dict[str, Any] | None, fields: dict[str, Any],
                 receipt: Callable[[Case], tuple[str, str]] | None = None) -> Case | None:
    """The rows of a new case, written together: the case, its detail, the timeline entry, the
    handling clock, the audit row and the centre's notification — on PostgreSQL as one statement
    (``core.batch``: the case is the batch's root), which needs no transaction of its own; elsewhere,
    or inside another service's batch, the case first and the rest at the end, in one transaction.
    None when the tracking code drawn is taken (nothing written: draw another).

    Inside a caller's transaction no savepoint is taken where the database can skip a taken code
    (``ON CONFLICT DO NOTHING``): nothing a caller could catch and go on from fails here."""
    with batched(savepoint=not returning_supported(), one_statement=True) as batch:
        case = Case(
            case_type=ctype.code,
            state=ctype.initial,
            owner_region_id=owner_id,
            tracking_code=tracking_code_new(),
            created_at=now,
            **fields,
            **{f"{lv}_id": chain[lv] for lv in LEVELS},
        )
        case.handling_due_at = _handling_due(case, ctype.start_clocks, now)
        if not batch.root(case, unique="tracking_code"):
            return None
        if ctype.detail_model is not None:
            insert_later(ctype.detail_model(case=case, **(detail or {})))
        insert_later(
            timeline_row(
                at=now,
                case=case,
                actor=actor,
                action="create",
                to_state=case.state,
                public=True,
                data={"channel": case.channel, "grid": chain["grid"]},
            )
        )
        if (case.reporter_name or case.reporter_phone) and "reporter" in ctype.parties.kinds:
            # the reporter as a party (当事人: 反映人), in the same statement as the case
            insert_later(party_row(case=case, kind="reporter", name=case.reporter_name, phone=case.reporter_phone,
                                   created_by=actor, at=now))
        _start_clocks(case, ctype.start_clocks, now, new_case=True, handling_due=case.handling_due_at)
        batch.link_text(
            audit_entry(
                actor=actor,
                action=f"cases.{ctype.code}.create",
                target=case,
                after={"state": case.state, "tracking_code": case.tracking_code, "channel": case.channel},
            ),
            "target_id",
        )
        if owner_id is not None:
            notify(
                case=case,
                event="created",
                subject=_("New case %(code)s: %(title)s") % {"code": case.tracking_code, "title": case.title},
                region=Region(pk=owner_id),
            )
        if receipt is not None:
            _notify_reporter(case, "received", *receipt(case))
    return case if batch.inserted else None


def case_audience_refresh(*, actor: Any, case: Case, values: dict[str, Any]) -> Case:
    """Apply the type's visibility rule again after the field it depends on changed (``values``: the
    detail's fields): the case's audience follows, and its free text moves to or from the encrypted
    column. A type's service calls this in the transaction that changes the field."""
    ctype = registry.of(case)
    audience = ctype.visibility.audience_of(values)
    if audience == case.audience:
        return case
    before = case.audience
    text = case.description
    case.audience = audience
    case.sealed_text, case.text = (text, "") if audience else ("", text)
    case.save(update_fields=["audience", "sealed_text", "text", "updated_at"])
    audit_entry(actor=actor, action=f"cases.{ctype.code}.audience", target=case,
                before={"audience": before}, after={"audience": audience}).save()
    return case


# ---------------------------------------------------------------------------------------------
# transitions


@dataclass
class TransitionContext:
    """What a transition's effect receives: the case (already in its new state), who, and the input."""

    case: Case
    case_type: CaseType
    transition: Transition
    actor: Any
    roles: set[str]
    now: dt.datetime
    from_state: str
    note: str = ""
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    attachments: Sequence[Any] = ()
    department: Department | None = None
    co_departments: Sequence[Department] = ()
    region: Region | None = None
    satisfaction: str | None = None
    timeline_data: dict[str, Any] = field(default_factory=dict)
    opened: list[Assignment] = field(default_factory=list)  # assignments this step gave out
    linked: list[Case] = field(default_factory=list)  # cases this step opened and linked (Transition.opens)
    first_step: bool = False  # the case's first change since intake: it has no assignments yet


_INPUT_LABELS = {
    "note": gettext_lazy("note"),
    "reason": gettext_lazy("reason"),
    "photos": gettext_lazy("photo"),
    "files": gettext_lazy("file"),
    "department": gettext_lazy("department"),
    "co_departments": gettext_lazy("department"),
    "region": gettext_lazy("region"),
    "person": gettext_lazy("person"),
    "satisfaction": gettext_lazy("satisfaction"),
}


def input_label(inp: Any) -> str:
    """The label of a transition's input (its declared label, else the engine's own word for it)."""
    return str(inp.label or _INPUT_LABELS.get(inp.name, inp.name))


def _check_requirements(
    t: Transition,
    *,
    note: str,
    reason: str,
    attachments: Sequence[Any],
    department: Any,
    region: Any,
    satisfaction: Any,
    co_departments: Sequence[Any] = (),
    data: dict[str, Any] | None = None,
    uploads: Mapping[str, Sequence[Any]] | None = None,
) -> None:
    """Every required input of the transition is given (422 naming each missing one); a required
    department or region is satisfied by either when the transition takes both. An input of kind
    photos or files is given by the uploads sent under its name (``attachments`` already stored by
    the caller count for the inputs of kind photos)."""
    uploads = uploads or {}
    by_kind = {
        "photos": bool(attachments),
        "files": False,
        "department": department is not None,
        "departments": bool(co_departments),
        "region": region is not None,
    }
    given = {
        "note": bool(note.strip()),
        "reason": bool(reason.strip()),
        "satisfaction": satisfaction in Satisfaction.values,
        "department": department is not None,
        "region": region is not None,
    }
    data = data or {}
    missing = {}
    for inp in t.inputs:
        if not inp.required:
            continue
        if inp.kind in ("photos", "files") and uploads.get(inp.name):
            ok = True
        elif inp.kind in ("department", "region") and inp.name not in ("department", "region"):
            ok = data.get(inp.name) is not None  # a type's own target input: its own value
        elif inp.kind in by_kind:
            ok = by_kind[inp.kind]
        elif inp.name in given:
            ok = given[inp.name]
        else:
            ok = data.get(inp.name) not in (None, "", [], ())
        if not ok:
            missing[inp.name] = _("This action needs a %(what)s.") % {"what": input_label(inp)}
    names = {i.name for i in t.inputs}
    if "department" in missing and "region" in names and given["region"]:
        missing.pop("department")
    if "region" in missing and "department" in names and given["department"]:
        missing.pop("region")
    if missing:
        raise TransitionNotAllowed(missing)


def case_detail_row(case: Case) -> Any:
    """The case's detail row (its type's one-to-one table), or None."""
    model = registry.of(case).detail_model
    if model is None:
        return None
    return model.objects.filter(case=case).first()


def guards_refusal(t: Transition, case: Case, actor: Any) -> tuple[str, str] | None:
    """The first guard of the transition that refuses it now: (field, reason); None when all hold."""
    if not t.guards:
        return None
    detail = case_detail_row(case) if any(g.needs_detail for g in t.guards) else None
    for g in t.guards:
        if not g.check(case, detail, actor):
            return g.field, str(g.reason)
    return None


def targets_check(
    *,
    actor: Any,
    case: Case,
    departments: Sequence[Department | None] = (),
    region: Region | None = None,
    regions: Sequence[Region | None] = (),
    cases: Sequence[Case] = (),
    people: Sequence[tuple[Any, frozenset[str]]] = (),
) -> None:
    """Every unit an action names (lead and co-handling departments, whistle-summoned departments, a
    centre's region, and any input of kind department, departments or region, whatever its name)
    must be one the actor can see and one that serves the case's place; every case it names (an
    input of kind case) one the actor can see. Anything else is answered as if it did not exist
    (OutOfScope, 404), so nobody can send a case into, or probe, another jurisdiction. The platform
    itself (``actor=None``) sees every unit and case, but a unit that does not serve the case's
    place is refused for it too. Every person named (``people``: each with the roles its input
    declares) must be one ``selectors.person_targets`` lists for those roles — holding one of them
    where the case lies, in the actor's sight —, else OutOfScope too."""
    # The answer of department_targets / region_targets for the named units, decided in memory: the
    # units are loaded, their service areas are cached reference data and the actor's reach comes
    # from their memberships (org.scoping.reaches asks the database only when it must).
    for dept in {d.pk: d for d in departments if d is not None}.values():
        if not (dept.is_active and department_serves(case=case, department=dept)
                and (actor is None or reaches(dept, actor, VIEW))):
            raise OutOfScope(_("No department matches the given query."))
    for place in {r.pk: r for r in (region, *regions) if r is not None}.values():
        if not (place.is_active and region_meets(case=case, region=place)
                and (actor is None or reaches(place, actor, VIEW))):
            raise OutOfScope(_("No region matches the given query."))
    named = {c.pk for c in cases}
    if named and actor is not None and cases_visible(user=actor).filter(pk__in=named).count() != len(named):
        raise OutOfScope(_("No case matches the given query."))
    by_roles: dict[frozenset[str], set[int]] = {}
    for person, roles in people:
        if person is not None:
            by_roles.setdefault(frozenset(roles), set()).add(person.pk)
    for roles, ids in by_roles.items():
        if person_targets(actor=actor, case=case, roles=roles, among=ids).count() != len(ids):
            raise OutOfScope(_("No person matches the given query."))


def _free_targets(data: dict[str, Any] | None) -> tuple[list[Department], list[Region], list[Case]]:
    """The departments, regions and cases among a step's typed inputs of the type's own names."""
    found: list[Any] = []
    for value in (data or {}).values():
        found += list(value) if isinstance(value, list | tuple) else [value]
    return ([v for v in found if isinstance(v, Department)], [v for v in found if isinstance(v, Region)],
            [v for v in found if isinstance(v, Case)])


def timeline_value(value: Any) -> Any:
    """A typed input as the timeline's JSON keeps it: a department or region by its code, a case by
    its tracking code, lists item by item; anything else as it is."""
    if isinstance(value, Department | Region):
        return value.code
    if isinstance(value, Case):
        return value.tracking_code
    if isinstance(value, User):
        return value.pk
    if isinstance(value, list | tuple):
        return [timeline_value(v) for v in value]
    return value


def _upload_stores(ctype: CaseType, t: Transition, uploads: Mapping[str, Sequence[Any]]
                   ) -> list[tuple[str, Callable[[Sequence[Any]], list[dict[str, Any]]]]]:
    """The store of each input uploads were sent for (422 naming an input that takes none)."""
    out = []
    for name, items in uploads.items():
        if not items:
            continue
        inp = t.input(name)
        if inp is None or inp.kind not in ("photos", "files"):
            raise TransitionNotAllowed({name: _("This action takes no files or photos here.")})
        store = ctype.photo_store if inp.kind == "photos" else ctype.file_store
        if store is None:
            raise TransitionNotAllowed({name: _("This action takes no attachments of this kind.")})
        out.append((name, store))
    return out


def case_transition(
    *,
    actor: Any,
    case: Case,
    action: str,
    note: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    attachments: Sequence[Any] = (),
    department: Department | None = None,
    co_departments: Sequence[Department] = (),
    region: Region | None = None,
    satisfaction: str | None = None,
    uploads: Mapping[str, Sequence[Any]] | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """Perform one of the case type's transitions.

    ``uploads`` maps an input of kind photos or files (by its name) to the uploads sent for it
    (objects with ``name`` and ``content``); they are stored by the type's ``photo_store`` or
    ``file_store`` only once every check has passed and the step's effect has run (a refused step
    stores nothing), and kept as the timeline entry's attachments beside ``attachments`` (those
    already stored by the caller).

    Refusals: out of the actor's jurisdiction → OutOfScope (404); a role that may not →
    TransitionRefused (403); wrong state or missing input → TransitionNotAllowed (422); somebody
    else acted first → CaseConflict (409, "already dispatched by X").
    """
    ctype = registry.of(case)
    t = ctype.transition(action)
    now = now or timezone.now()
    with batched():
        roles = _actor_roles(actor, case, t.roles)
        if not roles & t.roles:
            raise TransitionRefused(_("Your role may not %(action)s this case.") % {"action": t.label or t.name})
        if "*" not in t.sources and case.state not in t.sources:
            last = TimelineEntry.objects.filter(case_id=case.pk).order_by("-at", "-id").first()
            if last is not None and last.action == t.name:
                raise CaseConflict(
                    _("Already %(action)s by %(who)s.") % {"action": t.label or t.name, "who": last.actor_name},
                    action=t.name,
                    actor_name=last.actor_name,
                )
            raise TransitionNotAllowed(
                {
                    "action": _("%(action)s is not possible while the case is %(state)s.")
                    % {"action": t.label or t.name, "state": ctype.states.get(case.state, case.state)}
                }
            )
        refused = guards_refusal(t, case, actor)
        if refused is not None:
            raise TransitionNotAllowed({refused[0]: refused[1]})
        _check_requirements(
            t,
            note=note,
            reason=reason,
            attachments=attachments,
            department=department,
            region=region,
            satisfaction=satisfaction,
            co_departments=co_departments,
            data=data,
            uploads=uploads,
        )
        stores = _upload_stores(ctype, t, uploads or {})
        free_departments, free_regions, free_cases = _free_targets(data)
        people = [(p, i.roles) for i in t.inputs if i.kind == "person"
                  for p in ((data or {}).get(i.name),) if isinstance(p, User)]
        targets_check(actor=actor, case=case, departments=[department, *co_departments, *free_departments],
                      region=region, regions=free_regions, cases=free_cases, people=people)
        from_state = case.state
        target = t.target or case.state
        changes: dict[str, Any] = {"state": target}
        if t.closes:
            changes["closed_at"] = now
            changes["deferred"] = False
            changes["closing"] = case.closing + 1  # guarded by the version like the rest
        if t.lead and department is not None:  # the new lead unit, in the same UPDATE
            changes["lead_department"] = department
        # Only a transition's effect gives out assignments, and every transition (like every other
        # change of a case) moves its version: a case still at version 0 has none.
        first_step = case.version == 0
        _guarded_update(case, action=t.name, **changes)
        ctx = TransitionContext(
            case=case,
            case_type=ctype,
            transition=t,
            actor=actor,
            roles=roles,
            now=now,
            from_state=from_state,
            note=note,
            reason=reason,
            data=dict(data or {}),
            attachments=attachments,
            department=department,
            co_departments=co_departments,
            region=region,
            satisfaction=satisfaction,
            first_step=first_step,
        )
        if t.stops:
            timers_stop(case=case, kinds=t.stops, now=now, recur=_recurring_stopped(ctype, t))
        if t.effect is not None:
            t.effect(ctx)
        _start_clocks(case, t.starts, now, opened=ctx.opened)
        if t.opens is not None:
            case_open_linked(ctx, t.opens)
        attachments = [*attachments, *(a for name, store in stores for a in store(list((uploads or {})[name])))]
        _step(
            case=case,
            actor=actor,
            action=t.name,
            at=now,
            from_state=from_state,
            to_state=target,
            note=note or reason,
            data={**{k: timeline_value(v) for k, v in ctx.data.items()}, **ctx.timeline_data},
            attachments=attachments,
            public=t.public,
            before={"state": from_state},
            after={"state": target, **ctx.timeline_data},
        )
        if t.public:
            _notify_reporter(
                case,
                t.name,
                _("Your case %(code)s: %(what)s") % {"code": case.tracking_code, "what": t.label or t.name},
            )
    return case


def _recurring_stopped(ctype: CaseType, t: Transition) -> list[str]:
    """The recurring clocks whose occurrence ``t`` completes: named in its ``stops`` (not "*"),
    on a case it leaves open, and not started again by the step itself."""
    if t.closes or (t.target is not None and t.target in ctype.closed_states):
        return []
    restarted = {r.kind for r in t.starts}
    return [k for k in t.stops if k != "*" and k not in restarted
            and (rule := ctype.clock_rule(k)) is not None and rule.recurs]


# ---------------------------------------------------------------------------------------------
# links between cases (案件关联)


def _link_write(*, actor: Any, from_case: Case, to_case: Case, kind: str, note: str, now: dt.datetime) -> CaseLink:
    """The link row and a timeline entry (with its audit row) on each of the two cases, in the
    caller's transaction. A link of that kind between the two, either way, is a conflict (409)."""
    if from_case.pk == to_case.pk:
        raise TransitionNotAllowed({"case": _("A case cannot be linked to itself.")})
    if kind not in LINK_KINDS:
        raise TransitionNotAllowed({"kind": _("Unknown kind of link.")})
    if kind == LinkKind.RELATED_TO and from_case.pk > to_case.pk:  # one row whichever side made it
        from_case, to_case = to_case, from_case
    pair = Q(from_case=from_case, to_case=to_case) | Q(from_case=to_case, to_case=from_case)
    taken = _("%(a)s and %(b)s are linked already.") % {"a": from_case.tracking_code, "b": to_case.tracking_code}
    if CaseLink.objects.filter(pair, kind=kind).exists():
        raise CaseConflict(taken, action="link")
    try:
        with batched():  # its own savepoint: a link made meanwhile leaves the step usable
            link = CaseLink.objects.create(from_case=from_case, to_case=to_case, kind=kind, note=note[:500],
                                           created_by=_account(actor), created_at=now)
    except IntegrityError:
        raise CaseConflict(taken, action="link") from None
    for case, other, relation in ((from_case, to_case, LINK_KINDS[kind][0]), (to_case, from_case, LINK_KINDS[kind][1])):
        # The other case is named in the entry's data only (never its title): the pages and the API
        # show a linked case through selectors.case_links, to those who may see it.
        _step(case=case, actor=actor, action="link", at=now, from_state=case.state,
              data={"relation": relation, "kind": kind, "case": other.tracking_code, "link": link.pk},
              after={"relation": relation, "case": other.tracking_code})
    return link


def case_link(*, actor: Any, case: Case, other: Case, kind: str = LinkKind.RELATED_TO, note: str = "",
              now: dt.datetime | None = None) -> CaseLink:
    """Link ``case`` to ``other`` (关联; the generic action ``link``): the link reads ``kind`` from
    ``case`` and its reverse from ``other``, with a timeline entry on both, in one transaction.

    The actor must be allowed the action on ``case`` (the type's ``generic.link``) and see
    ``other`` (else 404, as if it did not exist); neither may be merged into another case (link
    the case it follows)."""
    now = now or timezone.now()
    with batched():
        _generic(actor, case, ctype_roles(case, "link"), _("link"))
        targets_check(actor=actor, case=case, cases=[other])
        for c, name in ((case, "action"), (other, "case")):
            if c.merged_into_id:
                raise TransitionNotAllowed({name: _("%(code)s is merged into another case: link that one.")
                                            % {"code": c.tracking_code}})
        return _link_write(actor=actor, from_case=case, to_case=other, kind=kind, note=note, now=now)


def case_open_linked(ctx: TransitionContext, opens: Opens) -> Case:
    """Open a new case of ``opens.case_type`` from the transition's case and link them ("turn into",
    "hand over"), inside the transition's transaction: a step refused afterwards, or failing, leaves
    neither the new case nor the link. The engine finds the type in the registry (the declaring type
    imports no other). The new case's timeline starts with its creation and the link; the old
    case's step names it (``opened`` in its data). A type's own effect may call it too."""
    case = ctx.case
    try:
        registry.get(opens.case_type)
    except LookupError:
        raise TransitionNotAllowed({"action": _("No case type %(t)s to open.") % {"t": opens.case_type}}) from None
    if case.lon is not None and case.lat is not None:
        location = Location(lon=case.lon, lat=case.lat)
    else:
        deepest = next((getattr(case, lv) for lv in reversed(LEVELS) if getattr(case, f"{lv}_id")), None)
        location = Location(region=deepest)
    reporter: dict[str, Any] = {}
    if opens.reporter:
        reporter = {"reporter": case.reporter if case.reporter_id else None, "reporter_name": case.reporter_name,
                    "reporter_phone": case.reporter_phone, "anonymous": case.anonymous}
    new = case_create(
        actor=ctx.actor, case_type=opens.case_type,
        title=opens.title(ctx) if opens.title is not None else case.title,
        text=case.text, channel=case.channel, location=location, priority=case.priority, address=case.address,
        detail=opens.detail(ctx) if opens.detail is not None else None, now=ctx.now, **reporter)
    _link_write(actor=ctx.actor, from_case=case, to_case=new, kind=opens.link, note=ctx.note or ctx.reason,
                now=ctx.now)
    ctx.linked.append(new)
    ctx.timeline_data.setdefault("opened", []).append(new.tracking_code)
    return new


# ---------------------------------------------------------------------------------------------
# assignments (派单、接单、退单、转派、撤回) — used by the case types' transition effects


def assignment_open(
    ctx: TransitionContext,
    *,
    department: Department | None = None,
    region: Region | None = None,
    person: Any = None,
    role: str = AssignmentRole.LEAD,
    note: str = "",
) -> Assignment:
    """Give a unit — a department, a centre's region — or a person (a mediator, a leader owning the
    case) its share of the case. A new lead ends the previous lead assignment (a transfer). A person
    must have been named through an input of kind ``person`` (checked by the engine before the
    effect runs); they are told in the outbox."""
    case = ctx.case
    if role == AssignmentRole.LEAD:
        # End the open lead assignment, if any (a transfer, 转派), in one statement.
        ended = [] if ctx.first_step else _leads_end(case, ctx.now)
        changes: dict[str, Any] = {}
        if case.lead_department_id != (department.pk if department else None):
            changes["lead_department"] = department
        if ended:
            changes["transfer_count"] = F("transfer_count") + 1
            case.transfer_count += 1
        if changes:
            Case.objects.filter(pk=case.pk).update(**changes)
        case.lead_department = department
    a = Assignment(
        case=case,
        department=department,
        region=region,
        person=person,
        role=role,
        note=note,
        assigned_by=ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None,
    )
    insert_one(a)
    ctx.opened.append(a)
    assigned: dict[str, Any] = {"role": role, "department": department.code if department else None,
                                "region": region.code if region else None}
    if person is not None:
        assigned["person"] = person.pk
    ctx.timeline_data.setdefault("assigned", []).append(assigned)
    notify(
        case=case,
        event="assigned",
        subject=_("Case %(code)s assigned to you: %(title)s") % {"code": case.tracking_code, "title": case.title},
        recipient=person,
        department=department if person is None else None,
        region=region if department is None and person is None else None,
    )
    if case.transfer_count >= PROBLEM_TRANSFERS:
        _problem_open(case, ctx.actor, _("transferred %(n)d times") % {"n": case.transfer_count})
    return a


def _leads_end(case: Case, now: dt.datetime) -> list[int]:
    """Mark the case's open lead assignments transferred and stop their clocks; their ids."""
    table = Assignment._meta.db_table
    states = (AssignmentState.PENDING, AssignmentState.ACCEPTED, AssignmentState.DISPUTED)
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET state = %s, ended_at = %s WHERE case_id = %s AND role = %s "
            f"AND state IN ({', '.join(['%s'] * len(states))}) RETURNING id",
            [AssignmentState.TRANSFERRED, connection.ops.adapt_datetimefield_value(now), case.pk,
             AssignmentRole.LEAD, *states],
        )
        ended = [r[0] for r in cur.fetchall()]
    if ended:
        timers_stop_for_assignments(ids=ended, now=now)
    return ended


def _own_assignments(qs: models.QuerySet[Assignment], actor: Any, roles: Iterable[str]
                     ) -> models.QuerySet[Assignment]:
    """Those of ``qs`` the actor works in, by the roles they act through: centre staff and the
    system any; a department handler their departments' (and their own as a person); a person
    acting as ASSIGNEE their own; anyone else (a grid worker, a mediator acting by region) any."""
    roles = set(roles)
    if actor is None or roles & {Role.DISPATCHER, Role.ADMIN, SYSTEM}:
        return qs
    if Role.DEPARTMENT_HANDLER in roles:
        depts = Membership.objects.filter(user=actor, is_active=True, role=Role.DEPARTMENT_HANDLER)
        return qs.filter(Q(department__in=depts.values("department_id")) | Q(person_id=actor.pk))
    if ASSIGNEE in roles:
        return qs.filter(person_id=actor.pk)
    return qs


def _my_assignment(ctx: TransitionContext, states: Sequence[str]) -> Assignment:
    """The assignment the actor works in (their department's, their own as a person, or any for
    centre staff)."""
    qs = _own_assignments(ctx.case.assignments.filter(state__in=states), ctx.actor, ctx.roles)
    a = qs.filter(role=AssignmentRole.LEAD).order_by("id").first() or qs.order_by("id").first()  # the lead first
    if a is None:
        raise TransitionNotAllowed({"action": _("There is no assignment of yours in that state.")})
    return a


def pending_assignment_of(case: Case, detail: Any, actor: Any) -> bool:
    """A guard for accepting (签收): the actor's unit holds an assignment of the case waiting to be
    accepted, or the actor holds one as a person (centre staff and the system: any unit's), as
    ``assignment_accept`` will take it."""
    qs = case.assignments.filter(state=AssignmentState.PENDING)
    if actor is not None:
        ar = actor_roles(actor, case)
        roles = set(ar.acting)
        if not roles & {Role.DISPATCHER, Role.ADMIN, Role.DEPARTMENT_HANDLER} and ar.assignee:
            roles.add(ASSIGNEE)
        qs = _own_assignments(qs, actor, roles)
    return qs.exists()


NO_PENDING_ASSIGNMENT = gettext_lazy("There is no assignment of yours in that state.")


def assignment_accept(ctx: TransitionContext) -> Assignment:
    a = _my_assignment(ctx, [AssignmentState.PENDING])
    a.state, a.accepted_at = AssignmentState.ACCEPTED, ctx.now
    a.save(update_fields=["state", "accepted_at"])
    timers_stop_for_assignment(assignment=a, now=ctx.now)
    ctx.timeline_data["assignment"] = a.pk
    return a


def assignment_dispute(ctx: TransitionContext) -> Assignment:
    """A unit says the dispatch is not theirs (退单/派单异议); the centre reviews it."""
    a = _my_assignment(ctx, [AssignmentState.PENDING, AssignmentState.ACCEPTED])
    a.state = AssignmentState.DISPUTED
    a.save(update_fields=["state"])
    timers_stop_for_assignment(assignment=a, now=ctx.now)
    ctx.timeline_data["assignment"] = a.pk
    notify(
        case=ctx.case,
        event="disputed",
        subject=_("Dispatch of %(code)s disputed") % {"code": ctx.case.tracking_code},
        body=ctx.reason or ctx.note,
        region=ctx.case.owner_region,
    )
    return a


def assignments_finish(ctx: TransitionContext) -> None:
    ctx.case.assignments.filter(state__in=[AssignmentState.PENDING, AssignmentState.ACCEPTED]).update(
        state=AssignmentState.DONE, ended_at=ctx.now
    )


# ---------------------------------------------------------------------------------------------
# generic actions every case type gets


def _generic(actor: Any, case: Case, allowed: Iterable[str], what: str) -> tuple[CaseType, set[str]]:
    ctype = registry.of(case)
    roles = _require_role(actor, case, set(allowed) | {SYSTEM}, what)
    return ctype, roles


def _problem_open(case: Case, actor: Any, note: str) -> None:
    if not Supervision.objects.filter(case=case, kind=Supervision.Kind.PROBLEM, closed_at__isnull=True).exists():
        Supervision.objects.create(
            case=case,
            kind=Supervision.Kind.PROBLEM,
            note=note,
            opened_by=_account(actor),
        )
        timeline_add(case=case, actor=None, action="problem", from_state=case.state, note=note)
        notify(
            case=case,
            event="problem",
            subject=_("Problem case %(code)s: %(note)s") % {"code": case.tracking_code, "note": note},
            region=_parent_centre(case.owner_region),
        )


def _parent_centre(region: Region | None) -> Region | None:
    if region is None:
        return None
    return region.parent if region.parent_id else region


def case_recall(*, actor: Any, case: Case, note: str = "", now: dt.datetime | None = None) -> Case:
    """Take back a dispatch before the unit accepted it (撤回)."""
    ctype, _roles = _generic(actor, case, ctype_roles(case, "recall"), _("recall"))
    now = now or timezone.now()
    with batched():
        pending = list(case.assignments.filter(state=AssignmentState.PENDING))
        if not pending or case.assignments.filter(state=AssignmentState.ACCEPTED).exists():
            raise TransitionNotAllowed({"action": _("Only a dispatch nobody has accepted yet can be recalled.")})
        back_to = ctype.recall_to or case.state
        from_state = case.state
        _guarded_update(case, action="recall", state=back_to, lead_department=None)
        for a in pending:
            a.state, a.ended_at = AssignmentState.RECALLED, now
            a.save(update_fields=["state", "ended_at"])
            timers_stop_for_assignment(assignment=a, now=now)
        _step(
            case=case,
            actor=actor,
            action="recall",
            at=now,
            from_state=from_state,
            to_state=back_to,
            note=note,
            data={"assignments": [a.pk for a in pending]},
            before={"state": from_state},
            after={"state": back_to},
        )
        for a in pending:
            notify(
                case=case,
                event="recalled",
                subject=_("Dispatch of %(code)s recalled") % {"code": case.tracking_code},
                recipient=a.person,
                department=a.department,
                region=a.region if not a.department else None,
            )
    return case


def ctype_roles(case: Case, action: str) -> frozenset[str]:
    """Who may take the generic ``action`` on a case of this type (its declaration)."""
    return registry.of(case).generic.of(action)


def case_merge(
    *, actor: Any, survivor: Case, duplicates: Sequence[Case], note: str = "", now: dt.datetime | None = None
) -> Case:
    """Merge duplicates of the same problem into ``survivor`` (并单): they stop, follow it, and their
    reporters are told where to follow the problem now."""
    now = now or timezone.now()
    if not duplicates:
        raise TransitionNotAllowed({"duplicates": _("Name the cases to merge.")})
    with batched():
        _generic(actor, survivor, ctype_roles(survivor, "merge"), _("merge"))
        if survivor.closed_at or survivor.merged_into_id:
            raise TransitionNotAllowed({"survivor": _("A closed or merged case cannot take others in.")})
        for dup in duplicates:
            if dup.pk == survivor.pk:
                raise TransitionNotAllowed({"duplicates": _("A case cannot be merged into itself.")})
            _generic(actor, dup, ctype_roles(dup, "merge"), _("merge"))
            if dup.merged_into_id or dup.closed_at:
                raise TransitionNotAllowed(
                    {"duplicates": _("%(code)s is already closed or merged.") % {"code": dup.tracking_code}}
                )
            dtype = registry.of(dup)
            from_state = dup.state
            _guarded_update(dup, action="merge", state=dtype.merged_state, merged_into=survivor, closed_at=now,
                            closing=dup.closing + 1, deferred=False)  # a deferral ends with the case
            timers_stop(case=dup, kinds=["*"], now=now)
            dup.assignments.filter(
                state__in=[AssignmentState.PENDING, AssignmentState.ACCEPTED, AssignmentState.DISPUTED]
            ).update(state=AssignmentState.DONE, ended_at=now)
            _step(
                case=dup,
                actor=actor,
                action="merge",
                at=now,
                from_state=from_state,
                to_state=dtype.merged_state,
                note=note,
                data={"into": survivor.tracking_code},
                public=True,
                before={"state": from_state},
                after={"state": dtype.merged_state, "merged_into": survivor.tracking_code},
            )
            _notify_reporter(
                dup,
                "merged",
                _("Your case %(code)s is now followed as %(into)s")
                % {"code": dup.tracking_code, "into": survivor.tracking_code},
            )
        timeline_add(
            at=now,
            case=survivor,
            actor=actor,
            action="absorb",
            from_state=survivor.state,
            note=note,
            data={"merged": [d.tracking_code for d in duplicates]},
        )
    return survivor


def case_supervise(
    *, actor: Any, case: Case, kind: str = Supervision.Kind.CHASE, note: str = "", now: dt.datetime | None = None
) -> Supervision:
    """Chase (催办) or supervise (督办) a case: an item for the handling unit, in the timeline."""
    now = now or timezone.now()
    if kind not in (Supervision.Kind.CHASE, Supervision.Kind.SUPERVISE):
        raise TransitionNotAllowed({"kind": _("Choose chase or supervise.")})
    with batched():
        _generic(actor, case, ctype_roles(case, str(kind)), _("supervise"))
        if case.closed_at is not None or case.merged_into_id:
            raise TransitionNotAllowed({"action": _("A closed or merged case is not chased or supervised.")})
        item = Supervision.objects.filter(case=case, kind=kind, closed_at__isnull=True).first()
        if item is None:
            item = Supervision.objects.create(
                case=case,
                kind=kind,
                note=note[:500],
                opened_by=_account(actor),
            )
        _step(
            case=case,
            actor=actor,
            action=kind,
            at=now,
            from_state=case.state,
            note=note,
            after={"note": note},
        )
        notify(
            case=case,
            event=kind,
            subject=_("%(kind)s: case %(code)s") % {"kind": Supervision.Kind(kind).label, "code": case.tracking_code},
            body=note,
            department=case.lead_department,
            region=case.owner_region if not case.lead_department_id else None,
        )
    return item


def case_escalate(*, actor: Any, case: Case, note: str = "", now: dt.datetime | None = None) -> Case:
    """Move the case's ownership one level up (提级): street centre → district centre → city."""
    now = now or timezone.now()
    with batched():
        _generic(actor, case, ctype_roles(case, "escalate"), _("escalate"))
        if case.closed_at is not None or case.merged_into_id:
            raise TransitionNotAllowed({"action": _("A closed or merged case is not escalated.")})
        owner = case.owner_region
        up = owner.parent if owner is not None and owner.parent_id else None
        if up is None:
            raise TransitionNotAllowed({"action": _("The case is already owned at the top level.")})
        assert owner is not None  # it has a parent
        _guarded_update(case, action="escalate", owner_region=up, escalation_level=case.escalation_level + 1)
        _step(
            case=case,
            actor=actor,
            action="escalate",
            at=now,
            from_state=case.state,
            note=note,
            data={"from": owner.code, "to": up.code},
            before={"owner": owner.code},
            after={"owner": up.code},
        )
        notify(
            case=case,
            event="escalated",
            subject=_("Case %(code)s escalated to you") % {"code": case.tracking_code},
            body=note,
            region=up,
        )
    return case


def case_reopen(*, actor: Any, case: Case, reason: str, now: dt.datetime | None = None) -> Case:
    """Send a closed case back to work (返工): the check failed or the reporter is not satisfied."""
    now = now or timezone.now()
    with batched():
        ctype = registry.of(case)
        _require_role(actor, case, ctype.generic.reopen, _("reopen"))
        if not reason.strip():
            raise TransitionNotAllowed({"reason": _("Say why the case is reopened.")})
        if ctype.reopen_to is None or not ctype.reopenable(case.state):
            raise TransitionNotAllowed({"action": _("Only a closed case can be reopened.")})
        from_state = case.state
        _guarded_update(
            case, action="reopen", state=ctype.reopen_to, closed_at=None, reopen_count=case.reopen_count + 1
        )
        # The time an approved extension added stays granted: the restarted clocks carry it over.
        carried: dict[str, float] = {}
        for kind, extended in (Timer.objects.filter(case=case, assignment__isnull=True)
                               .order_by("-id").values_list("kind", "extended_by")):
            carried.setdefault(kind, extended)  # the latest clock of each kind
        _start_clocks(case, ctype.reopen_clocks, now, carried=carried)
        _step(
            case=case,
            actor=actor,
            action="reopen",
            at=now,
            from_state=from_state,
            to_state=ctype.reopen_to,
            note=reason,
            public=True,
            before={"state": from_state},
            after={"state": ctype.reopen_to, "reopen_count": case.reopen_count},
        )
        notify(
            case=case,
            event="reopened",
            subject=_("Case %(code)s reopened") % {"code": case.tracking_code},
            body=reason,
            department=case.lead_department,
            region=case.owner_region if not case.lead_department_id else None,
        )
        if case.reopen_count >= PROBLEM_REOPENINGS:
            _problem_open(case, actor, _("reopened %(n)d times") % {"n": case.reopen_count})
    return case


def rating_source(actor: Any, case: Case, *, valid: bool = True) -> str:
    """Whose rating this is: the reporter's own (their account, or the public rating made for them
    with their rating secret: no actor), a staff follow-up that reached them (``valid``), or a
    call attempt that did not."""
    if actor is None or (case.reporter_id is not None and getattr(actor, "pk", None) == case.reporter_id):
        return RatingSource.RESIDENT
    return RatingSource.FOLLOW_UP if valid else RatingSource.ATTEMPT


def case_rate(
    *,
    actor: Any,
    case: Case,
    satisfaction: str,
    contacted: bool = True,
    resolved: bool = True,
    comment: str = "",
    valid: bool = True,
    now: dt.datetime | None = None,
) -> Rating:
    """Record the follow-up and the reporter's rating (回访评价). A type may reopen on an
    "unsatisfied" staff follow-up (``reopen_on_unsatisfied``); the reporter's own "unsatisfied"
    reopens nothing: it puts the case on the centre's call list for a verifying call (回访核实),
    and that call decides.

    One rating from the reporter and one valid staff follow-up per closing of the case (a unique
    constraint: a second answers 409, however the requests race); call attempts (``valid`` false:
    unreachable, refused) are kept apart, as many as were made, and reopen nothing."""
    now = now or timezone.now()
    if satisfaction not in Satisfaction.values:
        raise TransitionNotAllowed({"satisfaction": _("Choose satisfied, basically satisfied or unsatisfied.")})
    with batched():
        ctype = registry.of(case)
        _require_role(actor, case, ctype.generic.rate, _("rate"))
        if case.closed_at is None or case.merged_into_id:
            raise TransitionNotAllowed({"action": _("A case is rated once it is closed.")})
        source = rating_source(actor, case, valid=valid)
        try:
            with batched():  # its own savepoint: a taken (case, closing, source) leaves the step usable
                rating = Rating.objects.create(
                    case=case,
                    closing=case.closing,
                    source=source,
                    satisfaction=satisfaction,
                    contacted=contacted,
                    resolved=resolved,
                    comment=comment,
                    valid=valid,
                    by=_account(actor),
                    at=now,
                )
        except IntegrityError:
            raise CaseConflict(
                _("This case has been rated already since it was last closed.") if source == RatingSource.RESIDENT
                else _("The follow-up of this closing has been recorded already."),
                action="rate",
            ) from None
        _step(
            case=case,
            actor=actor,
            action="rate",
            at=now,
            from_state=case.state,
            note=comment,
            data={"satisfaction": satisfaction, "contacted": contacted, "resolved": resolved, "source": source,
                  "closing": case.closing},
            public=source != RatingSource.ATTEMPT,
            after={"satisfaction": satisfaction, "resolved": resolved, "source": source},
        )
        if source != RatingSource.ATTEMPT and ctype.rating_stops:
            timers_stop(case=case, kinds=ctype.rating_stops, now=now)
        if (satisfaction == Satisfaction.UNSATISFIED and source == RatingSource.FOLLOW_UP
                and ctype.reopen_on_unsatisfied and ctype.reopenable(case.state)):
            case_reopen(actor=None, case=case, reason=comment or _("The reporter is not satisfied."), now=now)
    return rating


def extension_max(unit: str) -> float:
    """The largest extension one request may ask for in ``unit`` (CIVICGRID_EXTENSION_MAX, else the
    engine's default; a unit it does not know is held to the working-day limit)."""
    limits = {**EXTENSION_MAX, **(getattr(settings, "CIVICGRID_EXTENSION_MAX", None) or {})}
    return float(limits.get(unit, limits["working_days"]))


def _extension_check(amount: float | None, unit: str) -> None:
    """An extension's amount is a finite positive number no larger than its unit's maximum (a
    deadline pushed centuries out, or an amount that takes seconds of CPU to count, is refused)."""
    if amount is None or not math.isfinite(amount) or amount <= 0:
        raise TransitionNotAllowed({"amount": _("Say how much more time is needed.")})
    most = extension_max(unit)
    if amount > most:
        raise TransitionNotAllowed(
            {"amount": _("At most %(n)s %(unit)s can be asked for at once.")
             % {"n": f"{most:g}", "unit": TimeUnit(unit).label if unit in TimeUnit.values else unit}}
        )


def _extension_cap_check(case: Case, amount: float | None) -> None:
    """A clock that caps its extensions (``ClockRule.extension_cap``, in its own unit) takes no
    extension past the cap in total: what it was granted already plus what is asked (422 at
    ``amount``, saying how much is left)."""
    rule = registry.of(case).clock_rule("handle")
    if rule is None or rule.extension_cap is None:
        return
    row = case.timers.filter(kind="handle").order_by("-id").values_list("extended_by", "unit").first()
    granted, unit = (row[0] or 0.0, row[1]) if row else (0.0, rule.unit)
    if granted + (amount or 0.0) > rule.extension_cap + 1e-9:
        left = max(rule.extension_cap - granted, 0.0)
        raise TransitionNotAllowed({"amount": _(
            "This clock may be extended by at most %(cap)s %(unit)s in all; %(left)s %(unit)s are left.")
            % {"cap": f"{rule.extension_cap:g}", "left": f"{left:g}",
               "unit": TimeUnit(unit).label if unit in TimeUnit.values else unit}})


def case_request_approval(
    *,
    actor: Any,
    case: Case,
    kind: str,
    reason: str,
    amount: float | None = None,
    unit: str = "",
    now: dt.datetime | None = None,
) -> ApprovalRequest:
    """Ask for an extension (延期) or a deferral (缓办) of the handling clock."""
    now = now or timezone.now()
    if kind not in ApprovalRequest.Kind.values:
        raise TransitionNotAllowed({"kind": _("Choose extension or deferral.")})
    if not reason.strip():
        raise TransitionNotAllowed({"reason": _("Say why.")})
    if kind == ApprovalRequest.Kind.EXTENSION and not (amount and math.isfinite(amount) and amount > 0):
        raise TransitionNotAllowed({"amount": _("Say how much more time is needed.")})
    with batched():
        _require_role(actor, case, ctype_roles(case, "request_extension"), _("ask for more time on"))
        if case.closed_at is not None:
            raise TransitionNotAllowed({"action": _("The case is closed.")})
        if kind == ApprovalRequest.Kind.EXTENSION:
            # The amount is added in the handling clock's own unit (working days to working days).
            clock_unit = case.timers.filter(kind="handle").order_by("-id").values_list("unit", flat=True).first()
            if unit and clock_unit and unit != clock_unit:
                raise TransitionNotAllowed(
                    {"unit": _("The handling time is counted in %(unit)s: ask in that unit.") % {"unit": clock_unit}}
                )
            unit = unit or clock_unit or ""
            _extension_check(amount, unit)
            _extension_cap_check(case, amount)
        try:
            with batched():
                req = ApprovalRequest.objects.create(
                    case=case,
                    kind=kind,
                    reason=reason,
                    amount=amount,
                    unit=unit,
                    requested_by=_account(actor),
                )
        except IntegrityError:
            raise TransitionNotAllowed({"kind": _("A request of this kind is already waiting.")}) from None
        _step(
            case=case,
            actor=actor,
            action=f"{kind}_request",
            at=now,
            from_state=case.state,
            note=reason,
            data={"amount": amount, "unit": unit},
            after={"amount": amount, "reason": reason},
        )
        notify(
            case=case,
            event=f"{kind}_request",
            subject=_("Approval asked on case %(code)s") % {"code": case.tracking_code},
            body=reason,
            region=case.owner_region,
        )
    return req


def case_decide_approval(
    *, actor: Any, request: ApprovalRequest, approve: bool, note: str = "", now: dt.datetime | None = None
) -> ApprovalRequest:
    """Approve or reject an extension or deferral; an approved extension adds time to the handling
    clock, an approved deferral pauses every clock until the case is resumed."""
    now = now or timezone.now()
    case = Case.objects.get(pk=request.case_id)  # as it is now: it may have moved on since the request
    with batched():
        _generic(actor, case, ctype_roles(case, "decide_extension"), _("decide on"))
        if approve and case.closed_at is not None:
            raise TransitionNotAllowed({"action": _("The case is closed: there is nothing left to extend or defer.")})
        if actor is not None and request.requested_by_id == getattr(actor, "pk", None):
            raise TransitionRefused(_("You asked for this yourself: somebody else must approve your own request."))
        if approve and request.kind == ApprovalRequest.Kind.EXTENSION:
            _extension_check(request.amount, request.unit)  # a request stored before the limit existed
            _extension_cap_check(case, request.amount)
        n = ApprovalRequest.objects.filter(pk=request.pk, state=ApprovalRequest.State.PENDING).update(
            state=ApprovalRequest.State.APPROVED if approve else ApprovalRequest.State.REJECTED,
            decided_by=_account(actor),
            decided_at=now,
            decision_note=note,
        )
        if n != 1:
            raise CaseConflict(_("This request has been decided already."))
        request.refresh_from_db()
        if approve and request.kind == ApprovalRequest.Kind.EXTENSION:
            timer_extend(case=case, kind="handle", amount=float(request.amount or 0), now=now)
            due = case.timers.filter(kind="handle").order_by("-id").values_list("due_at", flat=True).first()
            _guarded_update(case, action="extend", extended=True, handling_due_at=due)
        elif approve:
            timers_pause(case=case, now=now)
            _guarded_update(case, action="defer", deferred=True)
        _step(
            case=case,
            actor=actor,
            action=f"{request.kind}_{'approved' if approve else 'rejected'}",
            audit_action=f"{request.kind}_decide",
            at=now,
            from_state=case.state,
            note=note,
            data={"amount": request.amount},
            after={"approved": approve, "amount": request.amount},
        )
        notify(
            case=case,
            event=f"{request.kind}_decided",
            subject=_("Request on case %(code)s %(verdict)s")
            % {"code": case.tracking_code, "verdict": _("approved") if approve else _("rejected")},
            body=note,
            recipient=request.requested_by,
        )
    return request


def case_resume(*, actor: Any, case: Case, note: str = "", now: dt.datetime | None = None) -> Case:
    """End a deferral: the paused clocks run again from now with the time they had left."""
    now = now or timezone.now()
    with batched():
        _generic(actor, case, ctype_roles(case, "resume"), _("resume"))
        if case.closed_at is not None or case.merged_into_id:
            raise TransitionNotAllowed({"action": _("A closed or merged case is not resumed.")})
        if not case.deferred:
            raise TransitionNotAllowed({"action": _("The case is not deferred.")})
        timers_resume(case=case, now=now)
        due = case.timers.filter(kind="handle").order_by("-id").values_list("due_at", flat=True).first()
        _guarded_update(case, action="resume", deferred=False, handling_due_at=due)
        _step(
            case=case, actor=actor, action="resume", at=now, from_state=case.state, note=note, after={"deferred": False}
        )
    return case


# ---------------------------------------------------------------------------------------------
# parties (当事人)


def _party_values(*, name: str | None, id_number: str | None, phone: str | None,
                  address: str | None) -> dict[str, str]:
    """The given party fields, cleaned and checked (422 naming the field)."""
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if name is not None:
        values["name"] = " ".join(name.split())
        if len(values["name"]) > 100:
            errors["name"] = _("Keep the name under %(n)d characters.") % {"n": 100}
    checked = (("id_number", id_number, clean_id_number, validate_id_number),
               ("phone", phone, clean_phone, validate_phone))
    for key, given, clean, validate in checked:
        if given is None:
            continue
        values[key] = clean(given.strip())
        if values[key]:
            try:
                validate(values[key])
            except DjangoValidationError as exc:
                errors[key] = "; ".join(exc.messages)
    if address is not None:
        values["address"] = " ".join(address.split())
        if len(values["address"]) > 200:
            errors["address"] = _("Keep the address under %(n)d characters.") % {"n": 200}
    if errors:
        raise TransitionNotAllowed(errors)
    return values


def party_add(*, actor: Any, case: Case, kind: str, name: str = "", id_number: str = "", phone: str = "",
              address: str = "", now: dt.datetime | None = None) -> Party:
    """Add a party to a case (当事人登记): a kind the case's type uses (422 ``kind``), with a name, an
    identity number or a phone at least (422 ``name``), by a role the type's ``parties.edit`` names
    (403; 404 when the actor cannot see the case). One timeline entry and one audit row; neither
    holds a personal value (the kind and the party's id only)."""
    ctype = registry.of(case)
    _require_role(actor, case, ctype.parties.edit, _("add parties to"))
    if kind not in ctype.parties.kinds:
        raise TransitionNotAllowed({"kind": _("A %(type)s has no parties of kind %(kind)s.")
                                    % {"type": ctype.label, "kind": kind}})
    values = _party_values(name=name, id_number=id_number, phone=phone, address=address)
    if not (values["name"] or values["id_number"] or values["phone"]):
        raise TransitionNotAllowed({"name": _("Give the party's name, identity number or phone.")})
    now = now or timezone.now()
    with batched():
        party = party_row(case=case, kind=kind, created_by=actor, at=now, name=values["name"],
                          id_number=values["id_number"], phone=values["phone"], address=values["address"])
        insert_one(party)
        insert_later(timeline_row(case=case, actor=actor, action="party_add", from_state=case.state, at=now,
                                  data={"party": party.pk, "kind": kind}))
        insert_later(audit_entry(actor=actor, action=f"cases.{ctype.code}.party_add", target=party,
                                 after={"case": case.pk, "kind": kind}))
    return party


def party_update(*, actor: Any, party: Party, name: str | None = None, id_number: str | None = None,
                 phone: str | None = None, address: str | None = None, kind: str | None = None,
                 now: dt.datetime | None = None) -> Party:
    """Correct a party's values (fields left None stay), under the same rule as ``party_add``. A
    reporter's corrected name or phone is written to the case's reporter fields too (which the
    notifications and the 12345 look-up read), in the same transaction. The timeline and audit
    name the fields changed, not their values."""
    case = party.case
    ctype = registry.of(case)
    _require_role(actor, case, ctype.parties.edit, _("edit the parties of"))
    changes: dict[str, Any] = _party_values(name=name, id_number=id_number, phone=phone, address=address)
    if kind is not None and kind != party.kind:
        if kind not in ctype.parties.kinds or "reporter" in (kind, party.kind):
            raise TransitionNotAllowed({"kind": _("A %(type)s has no parties of kind %(kind)s.")
                                        % {"type": ctype.label, "kind": kind}})
        changes["kind"] = kind
    changes = {k: v for k, v in changes.items() if getattr(party, k) != v}
    if not changes:
        return party
    now = now or timezone.now()
    with batched():
        for k, v in changes.items():
            setattr(party, k, v)
        party.updated_at = now
        hashes = [f"{f}_hash" for f in changes if f in PARTY_SEARCH_FIELDS]
        party.save(update_fields=[*changes, *hashes, "updated_at"])
        if party.kind == "reporter" and {"name", "phone"} & set(changes):
            case.reporter_name, case.reporter_phone = party.name, party.phone
            case.save(update_fields=["reporter_name", "reporter_phone", "reporter_phone_hash", "updated_at"])
        insert_later(timeline_row(case=case, actor=actor, action="party_edit", from_state=case.state, at=now,
                                  data={"party": party.pk, "fields": sorted(changes)}))
        insert_later(audit_entry(actor=actor, action=f"cases.{ctype.code}.party_edit", target=party,
                                 after={"case": case.pk, "fields": sorted(changes)}))
    return party


def party_may_reveal(actor: Any, party: Party, field_name: str) -> bool:
    """Whether ``actor`` may see ``field_name`` of ``party`` in full: a role the case type's
    ``parties.reveal`` names for that field, reaching the case as the engine resolves roles."""
    if not getattr(actor, "is_authenticated", False):
        return False
    allowed = registry.of(party.case).parties.may_reveal(field_name)
    return bool(allowed) and actor_roles(actor, party.case).may(allowed)


def party_reveal(*, actor: Any, party: Party, field_name: str, purpose: str) -> str:
    """The full value of one of a party's fields (查看完整信息), for a call-back or a notice: only to a
    role the case type declares for that field (403), with a stated purpose (422 ``purpose``), and
    one audit row (``privacy.reveal``: the field and the purpose, never the value). The caller has
    fetched the case through ``selectors.case_get`` (404 out of scope)."""
    if field_name not in PARTY_SENSITIVE_FIELDS:
        raise TransitionNotAllowed({"field": _("Unknown field %(f)s.") % {"f": field_name}})
    if not party_may_reveal(actor, party, field_name):
        raise TransitionRefused(_("You may not see the full value of this field."))
    return sensitive_value_reveal(user=actor, instance=party, field_name=field_name, purpose=purpose,
                                  permitted=True)


def parties_search(*, actor: Any, value: str, fields: Sequence[str] = PARTY_SEARCH_FIELDS) -> list[Party]:
    """Parties of the cases ``actor`` may see whose name, identity number or phone (``fields``) is
    exactly ``value`` (the keyed hash: spaces, dashes and +86 do not matter), oldest case first.
    Always audited (``privacy.search``: the value masked and its hashes, never the value), also when
    nothing matches; a look-up of at least 2 characters (422 ``value``)."""
    unknown = set(fields) - set(PARTY_SEARCH_FIELDS)
    if unknown or not fields:
        raise TransitionNotAllowed({"field": _("Search by name, identity number or phone.")})
    value = (value or "").strip()
    if len("".join(value.split())) < 2:
        raise TransitionNotAllowed({"value": _("Give a full name, identity number or phone.")})
    queryset = Party.objects.filter(case__in=cases_visible(user=actor)).select_related("case").order_by(
        "case_id", "id")
    return sensitive_search(user=actor, queryset=queryset, value=value, fields=list(fields))
