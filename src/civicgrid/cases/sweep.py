"""The sweep (超时巡检): marks clocks that are due soon or overdue, opens supervision items and
escalates by rule. ``civicgrid cases sweep`` runs it once; the background worker runs it on a
schedule.

Rules (see docs/operations.md, "Background worker"):

Due soon (临期预警)
    A running clock is *due soon* in the last ``CIVICGRID_DUE_SOON_RATIO`` (default 0.2) of its
    span ``due_at − started_at`` (wall-clock time), but never earlier than
    ``CIVICGRID_DUE_SOON_MAX_HOURS`` (default 72) before it is due. The unit it is handling
    (the assignment's unit for a per-assignment clock — the person, for a person's assignment —,
    else the case's lead department, else its owning centre) gets one notification per clock. No
    timeline entry.
Overdue (超时)
    A running clock whose ``due_at`` has passed is marked ``overdue_at`` once, by a conditional
    update. What follows is the clock's declared expiry policy (``ClockRule.on_expiry``, read from
    the case type's declaration; a clock that declares none escalates if it is the handling clock,
    ``handle``, and is supervised otherwise — the rule from before policies were declared):

    - *escalate* and *supervise*: each case with such newly overdue clocks gets one timeline entry
      ``overdue`` (actor: system), one open supervision item of kind ``overdue`` (if it has none
      open) and one notification to its lead department or owning centre;
    - *remind* (an external deadline, such as a court's): one notification ``deadline_passed``
      per clock to the unit handling it, and nothing else: no timeline entry, no supervision, no
      escalation;
    - *transition*: the engine takes the named transition as SYSTEM through ``rules.case_act``
      (its own timeline entry, audit row and notifications), in a savepoint. A case that no longer
      allows the step (it moved on, a guard refuses) is not forced: its clock is supervised.
Escalation (提级)
    When a clock whose policy is *escalate* becomes overdue, the case moves one level up:
    ``owner_region`` becomes its parent (street centre → district centre → city) and
    ``escalation_level`` rises by one, with a timeline entry ``escalate``; its overdue
    notification then reaches both the lead department and the new owner. A case owned at the
    top is not moved. Each time the clock runs over counts once: extending it and running over
    again escalates again.
Recurring clocks
    A recurring clock (``ClockRule.recurs``) that runs over is stopped after its policy has run
    and its next occurrence starts where it ended, due one period later (unless the case is
    closed or merged). Conditional on the clock still running, so it recurs once.
Problem cases (问题工单)
    An open case reopened or transferred three times or more gets a supervision item of kind
    ``problem`` (with a timeline entry and a notification to the centre above its owner) unless
    it has one open, or one closed since the case last changed (a supervisor who closed the item
    is not overruled until something happens to the case again).

Safety: the work is done in batches, each one transaction. On PostgreSQL every batch claims its
rows with ``FOR NO KEY UPDATE … SKIP LOCKED`` (the clocks *and* their cases, so a case being
changed by a service at that moment is simply left to the next sweep, and two workers never
wait for each other), and every mark is a conditional UPDATE (``… WHERE overdue_at IS NULL``);
the partial unique index on open supervision items turns a second insert into nothing
(``ON CONFLICT DO NOTHING``). On SQLite writers are serialised (``BEGIN IMMEDIATE``). So a sweep
may run in several workers at once and each mark fires exactly once.

The rows are written set-based (``INSERT … SELECT`` and ``UPDATE … WHERE id IN (batch)``), with
the SQL spelled out per database where they differ (JSON building, arrays): a million open cases
must be swept in seconds. The timeline entries and notifications are the rows their constructors
build (``timeline_row``, ``outbox_row``), with the columns that differ per case filled by SQL. One
audit row records each sweep that changed something.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.audit.services import audit_record
from civicgrid.cases import registry, rules
from civicgrid.cases.errors import CaseConflict, TransitionNotAllowed, TransitionRefused
from civicgrid.cases.models import Assignment, Case, Supervision, TimelineEntry, Timer
from civicgrid.cases.registry import ExpiryPolicy, OnExpiry
from civicgrid.cases.timeline import timeline_row
from civicgrid.cases.timers import timers_recur_expired
from civicgrid.core.batch import select_list
from civicgrid.geo.models import Region
from civicgrid.notify.models import Notification
from civicgrid.notify.outbox import outbox_row
from civicgrid.org.scoping import OutOfScope

log = logging.getLogger("civicgrid.cases.sweep")

#: Clock kinds whose overdue escalates the case one level when their type declares no policy (the
#: handling clock): ``registry.DEFAULT_ESCALATING``.
ESCALATING_CLOCKS: tuple[str, ...] = registry.DEFAULT_ESCALATING
PROBLEM_REOPENINGS = 3
PROBLEM_TRANSFERS = 3

DEFAULT_DUE_SOON_RATIO = 0.2
DEFAULT_DUE_SOON_MAX_HOURS = 72.0


@dataclass
class SweepReport:
    """What one sweep did."""

    now: dt.datetime
    due_soon: int = 0  # clocks warned (临期)
    overdue: int = 0  # clocks marked overdue
    overdue_cases: int = 0  # cases with a new "overdue" timeline entry
    supervisions: int = 0  # overdue supervision items opened
    escalated: int = 0  # cases moved one level up
    problems: int = 0  # problem-case supervision items opened
    reminded: int = 0  # remind-only clocks that ran over (one notification each)
    transitioned: int = 0  # transitions taken because a clock ran over
    recurred: int = 0  # next occurrences of recurring clocks started
    notifications: int = 0  # outbox rows queued
    batches: int = 0
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step

    @property
    def changed(self) -> bool:
        return bool(self.due_soon or self.overdue or self.problems or self.escalated or self.transitioned
                    or self.recurred)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["now"] = self.now.isoformat()
        data["seconds"] = round(self.seconds, 3)
        data["steps"] = {k: round(v, 3) for k, v in self.steps.items()}
        return data

    def summary(self) -> str:
        return (f"due soon {self.due_soon}, overdue {self.overdue} (cases {self.overdue_cases}), "
                f"supervision items {self.supervisions}, escalated {self.escalated}, problem cases "
                f"{self.problems}, reminded {self.reminded}, transitions {self.transitioned}, recurred "
                f"{self.recurred}, notifications {self.notifications}, {self.batches} batches, "
                f"{self.seconds:.2f} s")


def setting_due_soon_ratio() -> float:
    value = float(getattr(settings, "CIVICGRID_DUE_SOON_RATIO", DEFAULT_DUE_SOON_RATIO))
    if not 0 <= value < 1:
        raise ValueError("CIVICGRID_DUE_SOON_RATIO must be at least 0 and below 1")
    return value


def setting_due_soon_max() -> dt.timedelta:
    hours = float(getattr(settings, "CIVICGRID_DUE_SOON_MAX_HOURS", DEFAULT_DUE_SOON_MAX_HOURS))
    if hours < 0:
        raise ValueError("CIVICGRID_DUE_SOON_MAX_HOURS must not be negative")
    return dt.timedelta(hours=hours)


# ---------------------------------------------------------------------------------------------
# SQL, per database


class _Sql:
    """The few pieces of SQL that differ between PostgreSQL and SQLite."""

    def __init__(self) -> None:
        self.pg = connection.vendor == "postgresql"
        if not self.pg and connection.vendor != "sqlite":  # pragma: no cover - settings refuse others
            raise NotImplementedError(f"the sweep supports PostgreSQL and SQLite, not {connection.vendor}")
        self.timer = Timer._meta.db_table
        self.case = Case._meta.db_table
        self.assignment = Assignment._meta.db_table
        self.timeline = TimelineEntry._meta.db_table
        self.supervision = Supervision._meta.db_table
        self.notification = Notification._meta.db_table
        self.region = Region._meta.db_table

    def ids(self, column: str, name: str) -> str:
        """``column`` is one of the ids in parameter ``name`` (see :meth:`ids_param`)."""
        if self.pg:
            return f"{column} = ANY(%({name})s::bigint[])"
        return f"{column} IN (SELECT value FROM json_each(%({name})s))"

    def ids_param(self, ids: Sequence[int]) -> Any:
        return list(ids) if self.pg else json.dumps(list(ids))

    def dt(self, value: dt.datetime) -> Any:
        return connection.ops.adapt_datetimefield_value(value)

    def json_object(self, *pairs: tuple[str, str]) -> str:
        fn = "jsonb_build_object" if self.pg else "json_object"
        return f"{fn}({', '.join(f'{key!r}, {expr}' for key, expr in pairs)})"

    def json_agg(self, expr: str) -> str:
        return f"jsonb_agg({expr} ORDER BY {expr})" if self.pg else f"json_group_array({expr})"

    def string_agg(self, expr: str, sep: str) -> str:
        return f"string_agg({expr}, {sep!r} ORDER BY {expr})" if self.pg else f"group_concat({expr}, {sep!r})"

    def lock(self, tables: str) -> str:
        """Claim the rows for this transaction; rows someone else holds are left for later."""
        return f"FOR NO KEY UPDATE OF {tables} SKIP LOCKED" if self.pg else ""


def _text(template: str, params: dict[str, Any], prefix: str, **columns: str) -> str:
    """A translated message with ``%(name)s`` placeholders, as an SQL string expression whose
    placeholders are the given columns: ``_("Case %(code)s is overdue")`` → ``p0 || c.code || p1``."""
    marker = "\x00"
    rendered = template % {name: f"{marker}{name}{marker}" for name in columns}
    parts = rendered.split(marker)
    sql: list[str] = []
    for i, part in enumerate(parts):
        if i % 2:  # a placeholder
            sql.append(f"COALESCE(CAST({columns[part]} AS TEXT), '')")
        elif part:
            key = f"{prefix}{i}"
            params[key] = part
            sql.append(f"%({key})s")
    return " || ".join(sql) if sql else "''"


def _timeline_insert(q: _Sql, params: dict[str, Any], now: dt.datetime, action: str, **exprs: str) -> str:
    """``INSERT INTO <timeline> (…) SELECT …`` of the engine's own entries (actor: system): the row
    :func:`~civicgrid.cases.timeline.timeline_row` builds, with the columns in ``exprs`` taken from
    the query (the case id and state, the note and data built in SQL). FROM and WHERE follow."""
    row = timeline_row(actor=None, action=action, at=now)
    columns, select = select_list(row, exprs, params, f"tl_{action}_")
    return f"INSERT INTO {q.timeline} ({columns}) SELECT {select}"


def _notification_insert(q: _Sql, params: dict[str, Any], now: dt.datetime, event: str, *, department: str,
                         region: str, case: str, subject: str, recipient: str | None = None) -> str:
    """``INSERT INTO <outbox> (…) SELECT …`` of in-app notifications to a unit: the row
    :func:`~civicgrid.notify.outbox.outbox_row` builds, its audience, case and subject (cut as the
    constructor cuts it) from the query, created at the sweep's time. FROM and WHERE follow."""
    row = outbox_row(case=None, event=event, subject="", now=now)
    exprs = {"audience_department_id": department, "audience_region_id": region, "case_id": case,
             "subject": f"SUBSTR({subject}, 1, 200)", "created_at": "%(now)s"}
    if recipient is not None:  # a person (their own clock), else the unit's audience
        exprs["recipient_id"] = recipient
    columns, select = select_list(row, exprs, params, f"nt_{event}_")
    return f"INSERT INTO {q.notification} ({columns}) SELECT {select}"


# ---------------------------------------------------------------------------------------------
# the steps


def _execute(sql: str, params: dict[str, Any]) -> tuple[int, list[tuple[Any, ...]]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall() if cur.description else []
        return cur.rowcount, rows


def _claim(q: _Sql, select: str, column: str, sets: str, params: dict[str, Any],
           returning: str, still: str = "") -> list[tuple[Any, ...]]:
    """Claim a batch of timers selected by ``select`` (a SELECT of timer ids, already locking on
    PostgreSQL) and mark them with ``sets`` on the condition that ``column`` is still NULL (and
    ``still`` holds: when a clock the select did not lock changed meanwhile, the UPDATE sees the new
    row and checks again)."""
    still = f" AND {still}" if still else ""
    if q.pg:
        sql = (f"WITH claimed AS ({select}) UPDATE {q.timer} t SET {sets} FROM claimed "
               f"WHERE t.id = claimed.id AND t.{column} IS NULL{still} RETURNING {returning}")
        return _execute(sql, params)[1]
    # SQLite: the transaction holds the write lock from its start (BEGIN IMMEDIATE), so what we
    # read is what we update.
    ids = [r[0] for r in _execute(select, params)[1]]
    if not ids:
        return []
    params = {**params, "claimed": q.ids_param(ids)}
    rows = _execute(f"SELECT {returning} FROM {q.timer} t WHERE {q.ids('t.id', 'claimed')} "
                    f"AND t.{column} IS NULL{still}", params)[1]
    _execute(f"UPDATE {q.timer} SET {sets} WHERE {q.ids('id', 'claimed')} AND {column} IS NULL", params)
    return rows


def _due_soon_batch(q: _Sql, report: SweepReport, now: dt.datetime, ratio: float, horizon: dt.datetime,
                    batch_size: int) -> int:
    params: dict[str, Any] = {"now": q.dt(now), "horizon": q.dt(horizon), "ratio": ratio, "n": batch_size}
    if q.pg:
        near = "t.due_at - (t.due_at - t.started_at) * %(ratio)s <= %(now)s"
    else:
        near = "julianday(t.due_at) - (julianday(t.due_at) - julianday(t.started_at)) * %(ratio)s <= julianday(%(now)s)"
    # Only the clocks are locked: the notification rows take a key-share lock on their case, which
    # a service's UPDATE of the case does not block.
    select = (f"SELECT t.id FROM {q.timer} t "
              "WHERE t.state = 'running' AND t.overdue_at IS NULL AND t.due_soon_at IS NULL "
              f"AND t.due_at > %(now)s AND t.due_at <= %(horizon)s AND {near} "
              f"ORDER BY t.due_at LIMIT %(n)s {q.lock('t')}")
    rows = _claim(q, select, "due_soon_at", "due_soon_at = %(now)s", params, "t.id")
    if not rows:
        return 0
    params["ids"] = q.ids_param([r[0] for r in rows])
    # a person's own clock (their assignment's sign-off) tells the person; any other clock the unit
    unit_department = "CASE WHEN a.person_id IS NULL THEN COALESCE(a.department_id, c.lead_department_id) END"
    unit_region = ("CASE WHEN a.person_id IS NULL AND COALESCE(a.department_id, c.lead_department_id) IS NULL "
                   "THEN COALESCE(a.region_id, c.owner_region_id) END")
    subject = _text(_("Case %(code)s: the %(clock)s clock is due soon"), params, "s", code="c.tracking_code",
                    clock="t.kind")
    sql = (_notification_insert(q, params, now, "due_soon", department=unit_department, region=unit_region,
                                case="c.id", subject=subject, recipient="a.person_id") + " "
           f"FROM {q.timer} t JOIN {q.case} c ON c.id = t.case_id LEFT JOIN {q.assignment} a ON a.id = t.assignment_id "
           f"WHERE {q.ids('t.id', 'ids')} AND ({unit_department} IS NOT NULL OR {unit_region} IS NOT NULL "
           "OR a.person_id IS NOT NULL)")
    report.notifications += _execute(sql, params)[0]
    report.due_soon += len(rows)
    return len(rows)


def _policies(q: _Sql, params: dict[str, Any], rows: list[tuple[Any, ...]]
              ) -> tuple[dict[int, OnExpiry], set[int]]:
    """Per claimed clock: its expiry policy, and which clocks recur (read from the declarations of
    the cases' types; a type or kind not declared gets the default: escalate the handling clock,
    supervise the others)."""
    types = dict(_execute(f"SELECT id, case_type FROM {q.case} WHERE {q.ids('id', 'cases')}", params)[1])
    policy: dict[int, OnExpiry] = {}
    recurring: set[int] = set()
    for timer_id, case_id, kind in rows:
        policy[timer_id] = registry.expiry_of(types[case_id], kind)
        rule = registry.clock_rule_of(types[case_id], kind)
        if rule is not None and rule.recurs:
            recurring.add(timer_id)
    return policy, recurring


def _transitions(report: SweepReport, now: dt.datetime, rows: list[tuple[Any, ...]],
                 policy: dict[int, OnExpiry]) -> list[tuple[Any, ...]]:
    """Take the transitions of the clocks whose policy runs one, as SYSTEM through the engine's
    one way in (``rules.case_act``), each in a savepoint. The clock was marked overdue in this
    transaction by a conditional update, so the step runs once however many sweeps run. A step the
    case no longer allows (it moved on) is not forced: the clock is supervised instead. The rows
    supervised instead are returned."""
    refused: list[tuple[Any, ...]] = []
    for row in rows:
        timer_id, case_id, kind = row
        action = policy[timer_id].action
        case = Case.objects.get(pk=case_id)
        if case.closed_at is not None or case.merged_into_id is not None:
            continue
        note = _("The %(clock)s clock ran out.") % {"clock": kind}
        try:
            with transaction.atomic():
                rules.case_act(actor=None, case=case, action=action, data={"note": note, "reason": note}, now=now)
        except (TransitionNotAllowed, TransitionRefused, CaseConflict, OutOfScope) as exc:
            log.info("sweep: the %s clock of case %s could not take %s: %s", kind, case_id, action, exc)
            refused.append(row)
            continue
        report.transitioned += 1
    return refused


def _remind(q: _Sql, report: SweepReport, now: dt.datetime, timer_ids: list[int]) -> None:
    """One notification per clock that only reminds (an external deadline): to the unit handling
    it, as for a due-soon warning. No timeline entry, no supervision, no escalation."""
    params: dict[str, Any] = {"now": q.dt(now), "rem": q.ids_param(timer_ids)}
    unit_department = "COALESCE(a.department_id, c.lead_department_id)"
    unit_region = f"CASE WHEN {unit_department} IS NULL THEN COALESCE(a.region_id, c.owner_region_id) END"
    subject = _text(_("Case %(code)s: the %(clock)s deadline has passed"), params, "r", code="c.tracking_code",
                    clock="t.kind")
    report.notifications += _execute(
        _notification_insert(q, params, now, "deadline_passed", department=unit_department, region=unit_region,
                             case="c.id", subject=subject) + " "
        f"FROM {q.timer} t JOIN {q.case} c ON c.id = t.case_id LEFT JOIN {q.assignment} a ON a.id = t.assignment_id "
        f"WHERE {q.ids('t.id', 'rem')} AND ({unit_department} IS NOT NULL OR {unit_region} IS NOT NULL)", params)[0]
    report.reminded += len(timer_ids)


def _overdue_batch(q: _Sql, report: SweepReport, now: dt.datetime, batch_size: int) -> int:
    params: dict[str, Any] = {"now": q.dt(now), "n": batch_size}
    # The cases are claimed (a case a service is changing is left to the next sweep, and two
    # workers never split one case's clocks); the clocks themselves are locked by the UPDATE.
    select = (f"SELECT t.id FROM {q.timer} t JOIN {q.case} c ON c.id = t.case_id "
              "WHERE t.state = 'running' AND t.overdue_at IS NULL AND t.due_at <= %(now)s "
              f"ORDER BY t.due_at LIMIT %(n)s {q.lock('c')}")
    rows = _claim(q, select, "overdue_at", "overdue_at = %(now)s", params, "t.id, t.case_id, t.kind",
                  still="t.state = 'running' AND t.due_at <= %(now)s")
    if not rows:
        return 0
    params["cases"] = q.ids_param(sorted({r[1] for r in rows}))
    policy, recurring = _policies(q, params, rows)
    by = {p: [r for r in rows if policy[r[0]].policy == p] for p in ExpiryPolicy}
    supervised = [*by[ExpiryPolicy.ESCALATE], *by[ExpiryPolicy.SUPERVISE],
                  *_transitions(report, now, by[ExpiryPolicy.TRANSITION], policy)]
    if by[ExpiryPolicy.REMIND]:
        _remind(q, report, now, [r[0] for r in by[ExpiryPolicy.REMIND]])
    if supervised:
        _supervise(q, report, params, now, supervised, policy)
    if recurring:
        report.recurred += timers_recur_expired(ids=sorted(recurring), now=now)
    report.overdue += len(rows)
    return len(rows)


def _supervise(q: _Sql, report: SweepReport, params: dict[str, Any], now: dt.datetime,
               rows: list[tuple[Any, ...]], policy: dict[int, OnExpiry]) -> None:
    """The overdue clocks to supervise (and escalate, by their policy): a timeline entry, an
    overdue supervision item and a notification per case; the cases of escalating clocks move up."""
    case_ids = sorted({r[1] for r in rows})
    params = {**params, "ids": q.ids_param([r[0] for r in rows]), "cases": q.ids_param(case_ids)}

    # One timeline entry per case, naming the clocks that ran over.
    data = q.json_object(("clocks", q.json_agg("t.kind")))
    _execute(_timeline_insert(q, params, now, "overdue", case_id="c.id", from_state="c.state", to_state="c.state",
                              data=data) + " "
             f"FROM {q.timer} t JOIN {q.case} c ON c.id = t.case_id "
             f"WHERE {q.ids('t.id', 'ids')} GROUP BY c.id, c.state", params)

    # A supervision item per case, unless one is open (the partial unique index decides).
    note = q.string_agg("t.kind", ", ")
    report.supervisions += _execute(
        f"INSERT INTO {q.supervision} (case_id, kind, note, opened_by_id, opened_at, closed_at) "
        f"SELECT t.case_id, 'overdue', SUBSTR({note}, 1, 500), NULL, %(now)s, NULL FROM {q.timer} t "
        f"WHERE {q.ids('t.id', 'ids')} GROUP BY t.case_id "
        "ON CONFLICT (case_id, kind) WHERE closed_at IS NULL DO NOTHING", params)[0]

    # Which cases move one level up (提级): those with a clock whose policy escalates (the handling
    # clock by default), unless owned at the top.
    escalating = sorted({r[1] for r in rows if policy[r[0]].policy == ExpiryPolicy.ESCALATE})
    movable: list[int] = []
    if escalating:
        params["esc"] = q.ids_param(escalating)
        movable = [r[0] for r in _execute(
            f"SELECT c.id FROM {q.case} c JOIN {q.region} r ON r.id = c.owner_region_id "
            f"WHERE {q.ids('c.id', 'esc')} AND r.parent_id IS NOT NULL ORDER BY c.id", params)[1]]
    staying = sorted(set(case_ids) - set(movable))

    # Tell the unit handling it: the lead department, else the owning centre.
    if staying:
        params["stay"] = q.ids_param(staying)
        subject = _text(_("Case %(code)s is overdue"), params, "s", code="c.tracking_code")
        dept, region = "c.lead_department_id", "CASE WHEN c.lead_department_id IS NULL THEN c.owner_region_id END"
        report.notifications += _execute(
            _notification_insert(q, params, now, "overdue", department=dept, region=region, case="c.id",
                                 subject=subject) + f" FROM {q.case} c "
            f"WHERE {q.ids('c.id', 'stay')} AND (c.lead_department_id IS NOT NULL OR c.owner_region_id IS NOT NULL)",
            params)[0]
    if movable:
        _escalate(q, report, params, movable, now)
    report.overdue_cases += len(case_ids)


def _escalate(q: _Sql, report: SweepReport, params: dict[str, Any], case_ids: list[int], now: dt.datetime) -> None:
    """Move the cases one level up (提级). Their rows are ours: claimed with the timers (PostgreSQL)
    or under the write lock (SQLite). One notification reaches both the lead department (it is
    overdue) and the centre that owns the case now."""
    params = {**params, "esc": q.ids_param(case_ids)}
    data = q.json_object(("from", "r.code"), ("to", "p.code"), ("rule", "'overdue'"))
    note = _text(_("The handling clock ran over: escalated to %(region)s"), params, "e", region="p.name")
    _execute(_timeline_insert(q, params, now, "escalate", case_id="c.id", from_state="c.state", to_state="c.state",
                              note=note, data=data) + " "
             f"FROM {q.case} c JOIN {q.region} r ON r.id = c.owner_region_id "
             f"JOIN {q.region} p ON p.id = r.parent_id WHERE {q.ids('c.id', 'esc')}", params)
    subject = _text(_("Case %(code)s is overdue and escalated to %(region)s"), params, "x",
                    code="c.tracking_code", region="p.name")
    report.notifications += _execute(
        _notification_insert(q, params, now, "overdue", department="c.lead_department_id", region="r.parent_id",
                             case="c.id", subject=subject) + " "
        f"FROM {q.case} c JOIN {q.region} r ON r.id = c.owner_region_id JOIN {q.region} p ON p.id = r.parent_id "
        f"WHERE {q.ids('c.id', 'esc')}", params)[0]
    # The version moves too: a dispatcher holding the case as it was is told it changed.
    if q.pg:
        _execute(f"UPDATE {q.case} c SET owner_region_id = r.parent_id, escalation_level = c.escalation_level + 1, "
                 f"version = c.version + 1, updated_at = %(now)s FROM {q.region} r "
                 f"WHERE r.id = c.owner_region_id AND {q.ids('c.id', 'esc')}", params)
    else:  # (UPDATE … FROM needs SQLite 3.33)
        _execute(f"UPDATE {q.case} SET owner_region_id = (SELECT r.parent_id FROM {q.region} r "
                 f"WHERE r.id = {q.case}.owner_region_id), escalation_level = escalation_level + 1, "
                 f"version = version + 1, updated_at = %(now)s WHERE {q.ids('id', 'esc')}", params)
    report.escalated += len(case_ids)


def _problem_batch(q: _Sql, report: SweepReport, now: dt.datetime, batch_size: int) -> int:
    params: dict[str, Any] = {"now": q.dt(now), "n": batch_size, "reopenings": PROBLEM_REOPENINGS,
                              "transfers": PROBLEM_TRANSFERS}
    select = (f"SELECT c.id FROM {q.case} c WHERE c.closed_at IS NULL AND c.merged_into_id IS NULL "
              "AND (c.reopen_count >= %(reopenings)s OR c.transfer_count >= %(transfers)s) "
              f"AND NOT EXISTS (SELECT 1 FROM {q.supervision} s WHERE s.case_id = c.id AND s.kind = 'problem' "
              "AND (s.closed_at IS NULL OR s.closed_at >= c.updated_at)) "
              f"ORDER BY c.id LIMIT %(n)s {q.lock('c')}")
    candidates = [r[0] for r in _execute(select, params)[1]]
    if not candidates:
        return 0
    params["cand"] = q.ids_param(candidates)
    note = _text(_("reopened %(reopenings)s times, transferred %(transfers)s times"), params, "p",
                 reopenings="c.reopen_count", transfers="c.transfer_count")
    insert = (f"INSERT INTO {q.supervision} (case_id, kind, note, opened_by_id, opened_at, closed_at) "
              f"SELECT c.id, 'problem', SUBSTR({note}, 1, 500), NULL, %(now)s, NULL FROM {q.case} c "
              f"WHERE {q.ids('c.id', 'cand')} ON CONFLICT (case_id, kind) WHERE closed_at IS NULL DO NOTHING")
    if q.pg:
        opened = [r[0] for r in _execute(insert + " RETURNING case_id", params)[1]]
    else:
        _execute(insert, params)
        opened = candidates  # serialised writers: every candidate had none open
    if opened:
        params["opened"] = q.ids_param(opened)
        data = q.json_object(("reopenings", "c.reopen_count"), ("transfers", "c.transfer_count"))
        _execute(_timeline_insert(q, params, now, "problem", case_id="c.id", from_state="c.state",
                                  to_state="c.state", note=f"SUBSTR({note}, 1, 2000)", data=data)
                 + f" FROM {q.case} c WHERE {q.ids('c.id', 'opened')}", params)
        subject = _text(_("Problem case %(code)s: %(note)s"), params, "q", code="c.tracking_code", note=note)
        above = "COALESCE(r.parent_id, c.owner_region_id)"
        report.notifications += _execute(
            _notification_insert(q, params, now, "problem", department="NULL", region=above, case="c.id",
                                 subject=subject) + f" FROM {q.case} c "
            f"LEFT JOIN {q.region} r ON r.id = c.owner_region_id "
            f"WHERE {q.ids('c.id', 'opened')} AND c.owner_region_id IS NOT NULL", params)[0]
    report.problems += len(opened)
    return len(candidates)


def cases_sweep(*, now: dt.datetime | None = None, batch_size: int = 5000, due_soon_ratio: float | None = None,
                due_soon_max: dt.timedelta | None = None, actor: Any = None, audit_empty: bool = False
                ) -> SweepReport:
    """Mark due-soon and overdue clocks, open supervision items, escalate and flag problem cases.

    Idempotent (a second run with the same ``now`` changes nothing) and safe in several workers at
    once. Each batch of ``batch_size`` clocks or cases is one transaction. One audit row
    ``cases.sweep`` with the counts records a sweep that changed something (or every sweep with
    ``audit_empty``, as the command does).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    started = time.perf_counter()
    now = now or timezone.now()
    ratio = setting_due_soon_ratio() if due_soon_ratio is None else due_soon_ratio
    horizon = now + (setting_due_soon_max() if due_soon_max is None else due_soon_max)
    report = SweepReport(now=now)
    q = _Sql()

    def loop(name: str, step: Any, *args: Any) -> None:
        t = time.perf_counter()
        while True:
            with transaction.atomic():
                done = step(q, report, *args)
            if done:
                report.batches += 1
            if done < batch_size:
                break
        report.steps[name] = time.perf_counter() - t

    loop("overdue", _overdue_batch, now, batch_size)
    loop("due_soon", _due_soon_batch, now, ratio, horizon, batch_size)
    loop("problems", _problem_batch, now, batch_size)
    report.seconds = time.perf_counter() - started
    if report.changed or audit_empty:
        audit_record(actor=actor, action="cases.sweep", target_type="cases.sweep",
                     target_repr=f"sweep {now.isoformat(timespec='seconds')}", after=report.as_dict())
    if report.changed:
        log.info("sweep: %s", report.summary())
    return report
