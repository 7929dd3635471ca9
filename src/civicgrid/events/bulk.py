"""The bulk path of the event import: the rows intake would write, written set-based.

For each chunk of checked rows (:class:`civicgrid.events.importing.ImportRow`):

1. **placing** — the points go through the in-memory grid index in one call
   (:func:`civicgrid.geo.selectors.points_locate_grid_codes`); a grid's region chain and boundary
   version come from one read of the current grids; a point no grid covers falls back to
   :func:`~civicgrid.geo.selectors.point_chain` (nearest community, else unassigned), and an event
   without any region goes to the city centre, exactly as ``case_create`` does;
2. **routing** — :func:`civicgrid.events.services.event_route` (the dispatch catalogue), once per
   distinct category × region chain;
3. **clocks** — the handling and registration clocks of the event type, computed once per distinct
   start time × limit;
4. **writing** — case ids are reserved from the sequence, then the case rows, their event details,
   their ``create`` timeline entries, their two clocks, their ``cases.event.create`` audit rows
   and their reporters as parties (``party_row``) are written: with ``COPY … FROM STDIN`` on
   PostgreSQL (psycopg's ``Copy.write_row``, which escapes every value itself), with batched
   ``INSERT`` on SQLite. The timeline entries, clocks, audit rows and parties are built by their
   tables' one constructors (``timeline_row``, ``timer_row``, ``audit_entry``, ``party_row``), as
   the services build theirs.

The rows are those the service path writes (a test compares them column by column). Differences,
on purpose: one "N events imported" notification per owning centre instead of one per event, and
no per-event photo handling (imports carry no photos). This module writes the case engine's tables
directly — the one place outside ``cases`` that does, because a million service calls would take
hours; it reads the engine's own rules (clock limits, the registry) so the rows stay the same.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections import Counter, defaultdict
from typing import Any

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.audit.models import AuditEntry
from civicgrid.audit.services import audit_entry
from civicgrid.cases.models import Case, Party, TimelineEntry, Timer
from civicgrid.cases.parties import party_row
from civicgrid.cases.services import notify
from civicgrid.cases.timeline import timeline_row
from civicgrid.cases.timers import timer_row
from civicgrid.core.batch import row_values
from civicgrid.events.models import EventDetail, Routing
from civicgrid.events.services import SELF_REPORTED, event_route
from civicgrid.events.workflow import EVENT, event_type
from civicgrid.geo.models import LEVELS, Boundary, Region
from civicgrid.geo.selectors import point_chain, points_locate_grid_codes
from civicgrid.privacy import crypto
from civicgrid.taxonomy.models import DispatchRule
from civicgrid.taxonomy.selectors import deadline_rules_for
from civicgrid.workcal import clock
from civicgrid.workcal.calendar import working_calendar, working_hours

_ALPHABET = np.frombuffer(b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ", dtype=np.uint8)  # the engine's 32 symbols

CASE_COLUMNS = ("id", "case_type", "state", "version", "tracking_code", "title", "text", "channel", "priority",
                "category_id", "request_type_id", "lon", "lat", "address", "boundary_version", "city_id",
                "district_id", "street_id", "community_id", "grid_id", "owner_region_id", "lead_department_id",
                "reporter_id", "reporter_name", "reporter_phone", "reporter_phone_hash", "anonymous",
                "merged_into_id", "reopen_count", "transfer_count", "escalation_level", "extended", "deferred",
                "handling_due_at", "created_by_id", "created_at", "updated_at", "closed_at")
DETAIL_COLUMNS = ("case_id", "idempotency_key", "fingerprint", "source_system", "external_id", "photos",
                  "location_source", "category_text", "routing", "routing_reason", "suggested_department_id")
_JSON = object()  # marks JSON columns in the type maps below
_TYPES: dict[str, dict[str, Any]] = {
    "case": {"created_at": dt, "updated_at": dt, "closed_at": dt, "handling_due_at": dt},
    "detail": {"photos": _JSON},
}


def _codes(n: int) -> list[str]:
    text = np.frombuffer(secrets.token_bytes(10 * n), dtype=np.uint8) & 31
    s = _ALPHABET[text].tobytes().decode("ascii")
    return [s[i:i + 10] for i in range(0, 10 * n, 10)]


_Place = tuple[dict[str, int | None], int | None]


class _Places:
    """Grid code → (region chain ids, boundary version), read once like the lookup index reads it."""

    def __init__(self) -> None:
        self.grids: dict[str, tuple[dict[str, int | None], int]] = {}
        rows = Boundary.objects.filter(valid_to__isnull=True, region__level="grid", region__is_active=True)
        for code, version, *chain in rows.values_list("region__code", "valid_from__number", "region__city_id",
                                                      "region__district_id", "region__street_id",
                                                      "region__community_id", "region__grid_id"):
            self.grids[code] = (dict(zip(LEVELS, chain, strict=True)), version)
        cities = list(Region.objects.filter(level="city", is_active=True).values_list("pk", flat=True)[:2])
        self.city = cities[0] if len(cities) == 1 else None

    def locate(self, lons: list[float | None], lats: list[float | None]) -> list[_Place]:
        out: list[_Place] = [({}, None)] * len(lons)
        idx = [i for i, x in enumerate(lons) if x is not None]
        if idx:
            codes = points_locate_grid_codes(np.array([lons[i] for i in idx]), np.array([lats[i] for i in idx]))
            for i, code in zip(idx, codes, strict=True):
                found = self.grids.get(code) if code is not None else None
                if found is not None:
                    out[i] = found
                else:
                    pc = point_chain(lons[i], lats[i])  # type: ignore[arg-type]
                    out[i] = (pc.ids, pc.boundary_version) if any(pc.ids.values()) else ({}, None)
        return out


class BulkWriter:
    """Writes checked import rows chunk by chunk inside the caller's transaction."""

    def __init__(self, *, actor: Any, now: dt.datetime) -> None:
        self.actor = actor if getattr(actor, "is_authenticated", False) else None
        self.now = now
        self.ctype = event_type()
        self.places = _Places()
        self.routes: dict[tuple[Any, ...], Any] = {}
        self.plans: dict[int, tuple[Any, ...]] = {}
        self.limits: dict[tuple[Any, Any], tuple[float, str]] = {}
        self.dues: dict[tuple[dt.datetime, float, str], tuple[dt.datetime, dt.datetime, bool]] = {}
        self.fallbacks: dict[tuple[dt.date, dt.date], bool] = {}
        self.first_seen: set[tuple[dt.datetime, float, str]] = set()
        self.cal, self.hours = working_calendar(), working_hours()
        self.postgres = connection.vendor == "postgresql"
        self.per_owner: Counter[int] = Counter()
        self.rules = {r.kind: r for r in self.ctype.start_clocks}
        # where the time goes: place, rows, and each table's write
        self.seconds: defaultdict[str, float] = defaultdict(float)

    # --- rules, memoised -------------------------------------------------------------------------

    def _route(self, category: Any, chain: dict[str, int | None], text: str) -> Any:
        key = self._route_key(category, chain, text)
        found = self.routes.get(key)
        if found is None:
            found = self.routes[key] = event_route(category=category, chain=chain, category_text=text)
        return found

    def _route_key(self, category: Any, chain: dict[str, int | None], text: str) -> tuple[Any, ...]:
        """What the routing answer depends on, so that it is asked once per distinct answer: without
        area lines in the category's lineage, the catalogue's deciding line is the nearest general
        one, and its answer depends only on the region at that line's level."""
        if category is None:
            return ("no category", text)
        if not chain.get("community") and not chain.get("grid"):
            return ("no location",)
        plan = self.plans.get(category.pk)
        if plan is None:
            lines = list(DispatchRule.objects.filter(is_active=True, category_id__in=category.lineage_ids)
                         .values_list("category_id", "region_id", "region_level"))
            if any(region for _c, region, _l in lines):
                plan = ("chain",)
            else:
                levels = {c: level for c, _r, level in lines}
                nearest = next((levels[c] for c in category.lineage_ids if c in levels), None)
                plan = ("level", nearest) if nearest else ("none",)
            self.plans[category.pk] = plan
        if plan[0] == "level":
            return (category.pk, plan[1], chain.get(plan[1]))
        if plan[0] == "none":
            return (category.pk,)
        return (category.pk, *(chain.get(lv) for lv in LEVELS))

    def _limit(self, rule: Any, category: Any, request_type: Any) -> tuple[float, str]:
        if not rule.from_category:
            return rule.amount, rule.unit
        key = (category.pk if category else None, request_type.pk if request_type else None)
        found = self.limits.get(key)
        if found is None:  # the engine's order: the category's rule, else the request type's, else the default
            rules = deadline_rules_for(category) if category is not None else []
            if rules:
                found = (float(rules[0].limit), rules[0].unit)
            elif request_type is not None:
                found = (float(request_type.limit), request_type.unit)
            else:
                found = (rule.amount, rule.unit)
            self.limits[key] = found
        return found

    def _due(self, start: dt.datetime, amount: float, unit: str) -> tuple[dt.datetime, bool]:
        """The clock's due time, as ``clock.due_at`` computes it, asked at most three times per minute
        of start time (once for a minute seen once).

        Working hours and calendar exceptions change at whole minutes, so when the limit is a whole
        number of minutes the due time is, for the start times strictly inside one minute, either
        constant (a start outside working time waits for the next working minute) or moving with the
        start second for second; the two are told apart by asking at 15 and 30 seconds past the
        minute. The whole minute itself is asked on its own (it may sit on an edge)."""
        per_unit = clock.UNIT_SECONDS.get(unit)
        seconds = amount * per_unit if per_unit else None
        if seconds is None or seconds % 60 or start.microsecond:
            due = self._due_exact(start, amount, unit)
        else:
            minute = start.replace(second=0)
            key = (minute, amount, unit)
            found = self.dues.get(key)
            if found is None and key not in self.first_seen:  # a minute seen once: just ask
                self.first_seen.add(key)
                due = self._due_exact(start, amount, unit)
            elif found is None:
                inside = minute + dt.timedelta(seconds=15)
                at_inside = self._due_exact(inside, amount, unit)
                slope = self._due_exact(inside + dt.timedelta(seconds=15), amount, unit) - at_inside
                found = self.dues[key] = (self._due_exact(minute, amount, unit), at_inside,
                                          slope == dt.timedelta(seconds=15))
            if found is not None:
                due = self._from_minute(found, start, minute)
        days = (start.date(), due.date())
        fallback = self.fallbacks.get(days)
        if fallback is None:
            fallback = self.fallbacks[days] = bool(clock.unknown_days_between(start, due, self.cal))
        return due, fallback

    @staticmethod
    def _from_minute(found: tuple[dt.datetime, dt.datetime, bool], start: dt.datetime,
                     minute: dt.datetime) -> dt.datetime:
        at_minute, at_inside, moves = found
        if start == minute:  # the whole minute itself can sit on an edge (landing exactly at 17:00)
            return at_minute
        return at_inside + (start - minute - dt.timedelta(seconds=15)) if moves else at_inside

    def _due_exact(self, start: dt.datetime, amount: float, unit: str) -> dt.datetime:
        return clock.due_at(start, amount, unit, calendar=self.cal, hours=self.hours)

    # --- one chunk -------------------------------------------------------------------------------

    def write(self, batch: list[Any]) -> int:
        """Write a chunk; returns how many of its events the catalogue routed."""
        t0 = time.perf_counter()
        places = self.places.locate([r.prepared.lon for r in batch], [r.prepared.lat for r in batch])
        self.seconds["place"] += time.perf_counter() - t0
        for attempt in range(3):
            try:
                with transaction.atomic():
                    return self._write(batch, places)
            except IntegrityError:  # a tracking code already taken (10 symbols of 32: very rare): again
                if attempt == 2:
                    raise
        return 0  # pragma: no cover

    def _write(self, batch: list[Any], places: list[Any]) -> int:
        n = len(batch)
        ids = self._reserve_ids(n)
        codes = _codes(n)
        while len(set(codes)) != n:  # pragma: no cover - a collision inside the chunk
            codes = _codes(n)
        now_wall = timezone.now()
        t0 = time.perf_counter()
        cases: list[tuple[Any, ...]] = []
        details: list[tuple[Any, ...]] = []
        timeline: list[TimelineEntry] = []
        timers: list[Timer] = []
        audit: list[AuditEntry] = []
        parties: list[Party] = []
        with_reporter = "reporter" in self.ctype.parties.kinds
        routed = 0
        handle_rule = self.rules.get("handle")
        for r, (chain, version), pk, code in zip(batch, places, ids, codes, strict=True):
            p = r.prepared
            chain = dict(chain) if chain else dict.fromkeys(LEVELS)
            if not any(chain.values()) and self.places.city is not None:
                chain["city"] = self.places.city
            owner = next((chain[lv] for lv in ("street", "district", "city") if chain.get(lv)), None)
            route = self._route(p.category, chain if version is not None else {}, p.category_text)
            routed += route.routing == Routing.ROUTED
            at = r.reported_at
            clocks = []
            for rule in self.ctype.start_clocks:
                amount, unit = self._limit(rule, p.category, p.request_type)
                due, fallback = self._due(at, amount, unit)
                clocks.append((rule.kind, unit, amount, due, fallback))
            handling_due = next((c[3] for c in clocks if handle_rule and c[0] == "handle"), None)
            reporter = self.actor.pk if self.actor and p.channel in SELF_REPORTED else None
            name = "" if p.anonymous else p.reporter_name
            phone = "" if p.anonymous else p.reporter_phone
            title = p.title[:200]
            cases.append((pk, EVENT, self.ctype.initial, 0, code, title, p.text, p.channel, p.priority,
                          p.category.pk if p.category else None, p.request_type.pk if p.request_type else None,
                          p.lon, p.lat, p.address[:200], version, chain.get("city"), chain.get("district"),
                          chain.get("street"), chain.get("community"), chain.get("grid"), owner, None, reporter,
                          crypto.encrypt(name) if name else "", crypto.encrypt(phone) if phone else "",
                          crypto.keyed_hash(phone, "phone") if phone else "", p.anonymous, None, 0, 0, 0, False,
                          False, handling_due, self.actor.pk if self.actor else None, at, now_wall, None))
            details.append((pk, r.full_key, r.fp, p.source_system, p.external_id, [], p.location_source,
                            p.category_text, route.routing, route.reason,
                            route.department.pk if route.department else None))
            timeline.append(timeline_row(case_id=pk, at=at, actor=self.actor, action="create",
                                         to_state=self.ctype.initial, public=True,
                                         data={"channel": p.channel, "grid": chain.get("grid")}))
            if with_reporter and (name or phone):  # the reporter as a party, as intake writes it
                parties.append(party_row(case_id=pk, kind="reporter", name=name, phone=phone, created_by=self.actor,
                                         at=at))
            for kind, unit, amount, due, fallback in clocks:
                timers.append(timer_row(case_id=pk, kind=kind, unit=unit, amount=amount, started_at=at, due_at=due,
                                        calendar_fallback=fallback))
            audit.append(audit_entry(actor=self.actor, action=f"cases.{EVENT}.create", target_type="cases.case",
                                     target_id=pk, target_repr=f"{code} {title}",
                                     after={"state": self.ctype.initial, "tracking_code": code, "channel": p.channel}))
            if owner is not None:
                self.per_owner[owner] += 1
        self.seconds["route, clocks, rows"] += time.perf_counter() - t0
        self._put(Case._meta.db_table, CASE_COLUMNS, cases, "case")
        self._put(EventDetail._meta.db_table, DETAIL_COLUMNS, details, "detail")
        self._put_rows(timeline, "timeline")
        self._put_rows(timers, "timer")
        self._put_rows(audit, "audit")
        self._put_rows(parties, "party")
        return routed

    def finish(self) -> None:
        """One notification per owning centre: "N events imported into your queue"."""
        for region_id, n in sorted(self.per_owner.items()):
            notify(case=None, event="imported", region=Region(pk=region_id),
                   subject=_("%(n)d events imported into your queue") % {"n": n})

    # --- database specifics ----------------------------------------------------------------------

    def _reserve_ids(self, n: int) -> list[int]:
        with connection.cursor() as cur:
            if self.postgres:
                cur.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                            [Case._meta.db_table, n])
                return [row[0] for row in cur.fetchall()]
            # SQLite: writers are serialised (BEGIN IMMEDIATE), so the next ids are ours
            cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Case._meta.db_table}")
            first = cur.fetchone()[0] + 1
            cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [Case._meta.db_table])
            row = cur.fetchone()
            first = max(first, (row[0] if row else 0) + 1)
            return list(range(first, first + n))

    def _put(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]], kind: str) -> None:
        """Rows given as tuples of Python values (cases, details): JSON and times converted here."""
        marks = [_TYPES[kind].get(c) for c in columns]
        t0 = time.perf_counter()
        if self.postgres:
            json_at = [i for i, m in enumerate(marks) if m is _JSON]
            if json_at:
                from psycopg.types.json import Jsonb

                rows = [tuple(Jsonb(v) if i in json_at and v is not None else v for i, v in enumerate(row))
                        for row in rows]
            _copy(table, columns, rows)
        else:
            _insert(table, columns, _sqlite_values(rows, marks))
        self.seconds[f"write {kind}"] += time.perf_counter() - t0

    def _put_rows(self, objs: list[Any], kind: str) -> None:
        """Rows built by their table's constructor: their values as an INSERT would send them."""
        if not objs:
            return
        t0 = time.perf_counter()
        columns, rows = row_values(objs)
        table = type(objs[0])._meta.db_table
        (_copy if self.postgres else _insert)(table, tuple(columns), rows)
        self.seconds[f"write {kind}"] += time.perf_counter() - t0


def _copy(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """``COPY … FROM STDIN`` with psycopg's ``Copy.write_row``: psycopg adapts and escapes each value
    (tabs, newlines, backslashes, ``\\N`` as text); a NUL character cannot be stored in PostgreSQL
    text at all, and the import refuses such a row before it gets here, naming its line."""
    qn = connection.ops.quote_name
    sql = f"COPY {qn(table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cur:
        raw = cur.cursor if hasattr(cur, "cursor") else cur
        with raw.copy(sql) as cp:
            for row in rows:
                cp.write_row(row)


def _sqlite_values(rows: list[tuple[Any, ...]], marks: list[Any]) -> list[tuple[Any, ...]]:
    ops = connection.ops
    conv: list[Any] = []
    for m in marks:
        if m is _JSON:
            conv.append(lambda v: None if v is None else json.dumps(v))
        elif m is dt:
            conv.append(ops.adapt_datetimefield_value)
        else:
            conv.append(None)
    return [tuple(v if f is None else f(v) for v, f in zip(row, conv, strict=True)) for row in rows]


def _insert(table: str, columns: tuple[str, ...], values: list[tuple[Any, ...]]) -> None:
    qn = connection.ops.quote_name
    sql = f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cur:
        for i in range(0, len(values), 2000):
            cur.executemany(sql, values[i:i + 2000])
