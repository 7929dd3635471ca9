"""Reads of the Open311 adapter: our categories as Open311 services, their attribute definitions,
and events as service requests — the public part only (what the reporter's tracking page shows:
no staff names, no personal data, no internal notes)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from civicgrid.cases.models import Case
from civicgrid.core.refcache import reference_cached
from civicgrid.events.selectors import PublicStep, events_public_steps, open311_public_q
from civicgrid.events.workflow import EVENT, OPEN_STATES, STATES
from civicgrid.geo.models import Region
from civicgrid.taxonomy.models import Category
from civicgrid.taxonomy.selectors import category_by_code, deadline_rules_for, request_types

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-01-01T00:00:00+08:00"  # when this endpoint's definition last changed
MAX_DAYS = 90
MAX_REQUESTS = 1000
ANONYMOUS_VALUES = (("true", "匿名 anonymous"), ("false", "实名 named"))


@reference_cached(key=lambda: "jurisdictions")
def jurisdictions() -> dict[str, Region]:
    """The cities this deployment serves, by code (the spec's ``jurisdiction_id``); read once per
    reference-cache period (every POST asks)."""
    return {r.code: r for r in Region.objects.filter(level="city", is_active=True)}


# --- services ------------------------------------------------------------------------------------


def _services_qs() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).order_by("code")


def services() -> list[dict[str, Any]]:
    """Every active category as a service: its code, name, the path above it as the description and
    its top-level class as the group (one query)."""
    cats = list(_services_qs())
    by_id = {c.pk: c for c in cats}
    out = []
    for c in cats:
        path = [by_id[i].name for i in c.ancestor_ids if i in by_id]
        out.append({"service_code": c.code, "service_name": c.name,
                    "description": " / ".join([*path, c.name]), "metadata": True, "type": "realtime",
                    "keywords": str(c.get_kind_display()),
                    "group": path[0] if path else c.name})
    return out


@reference_cached(key=lambda code: code)
def service_get(code: str) -> Category | None:
    c = category_by_code(code)
    return c if c is not None and c.is_active else None


@reference_cached(key=lambda category: (category.pk, translation.get_language()))
def service_definition(category: Category) -> dict[str, Any]:
    """The attributes a client may send with ``attribute[code]`` (all optional), and the handling
    limit as information (``variable`` false)."""
    types = [{"key": rt.code, "name": rt.name} for rt in request_types()]
    attributes: list[dict[str, Any]] = [
        {"variable": True, "code": "request_type", "datatype": "singlevaluelist", "required": False,
         "datatype_description": _("one of the keys"), "order": 1,
         "description": _("What kind of request it is (咨询, 求助, 投诉, 举报, 建议)."), "values": types},
        {"variable": True, "code": "title", "datatype": "string", "required": False,
         "datatype_description": _("at most 200 characters"), "order": 2,
         "description": _("A short title; the start of the description when absent."), "values": []},
        {"variable": True, "code": "anonymous", "datatype": "singlevaluelist", "required": False,
         "datatype_description": _("true or false"), "order": 3,
         "description": _("Report without name and phone."),
         "values": [{"key": k, "name": n} for k, n in ANONYMOUS_VALUES]},
    ]
    rules = deadline_rules_for(category)
    if rules:
        limits = "; ".join(f"{r.condition}: {r.limit} {r.get_unit_display()}" if r.condition
                           else f"{r.limit} {r.get_unit_display()}" for r in rules)
        attributes.append({"variable": False, "code": "deadline", "datatype": "text", "required": False,
                           "datatype_description": None, "order": 4,
                           "description": _("Handling limit: %(limits)s") % {"limits": limits}, "values": []})
    return {"service_code": category.code, "attributes": attributes}


# --- requests --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestQuery:
    city: Region
    ids: list[str] | None = None
    service_codes: list[str] | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: list[str] | None = None


_RELATED = ("category", "lead_department", "grid", "street", "merged_into", "event")


def requests_matching(q: RequestQuery) -> QuerySet[Case]:
    """The public events of the city (the administrator's publication rule: see
    :func:`civicgrid.events.selectors.open311_public_q`) answering the query, newest first. ``ids``
    overrides every other filter (the spec's rule) but never the publication rule."""
    qs = Case.objects.filter(open311_public_q(), case_type=EVENT, city=q.city).select_related(*_RELATED)
    if q.ids is not None:
        return qs.filter(tracking_code__in=[i.strip().upper() for i in q.ids]).order_by("-created_at", "-id")
    if q.service_codes:
        qs = qs.filter(category__code__in=q.service_codes)
    if q.start is not None:
        qs = qs.filter(created_at__gte=q.start)
    if q.end is not None:
        qs = qs.filter(created_at__lte=q.end)
    if q.statuses and set(q.statuses) != {"open", "closed"}:
        qs = qs.filter(state__in=OPEN_STATES) if q.statuses == ["open"] else qs.exclude(state__in=OPEN_STATES)
    return qs.order_by("-created_at", "-id")


def request_get(city: Region, code: str) -> Case | None:
    return requests_matching(RequestQuery(city=city, ids=[code])).first()


PUBLIC_DECIMALS = 3  # about 100 m: where the problem is, not whose door it is


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, PUBLIC_DECIMALS)


def status_of(case: Case) -> str:
    return "open" if case.state in OPEN_STATES else "closed"


def _media_url(case: Case) -> str | None:
    detail = getattr(case, "event", None)
    for item in (detail.photos if detail else None) or []:
        if isinstance(item, dict) and item.get("url"):
            return str(item["url"])
    return None


def _status_notes(case: Case, steps: list[PublicStep]) -> str:
    noted = [s for s in steps if s.note]
    return noted[-1].note if noted else str(STATES.get(case.state, case.state))


def request_rows(cases: list[Case], *, extensions: bool = False) -> list[dict[str, Any]]:
    """The spec's fields of each event (and, with ``extensions``, ``extended_attributes``: the
    detailed state, the category path, the grid and the public notes history). Two queries for
    the whole list besides the events."""
    steps = events_public_steps(case_ids=[c.pk for c in cases])
    paths: dict[int, list[Category]] = {}
    if extensions:
        ancestor_ids = {i for c in cases if c.category_id for i in c.category.ancestor_ids}
        ancestors = Category.objects.in_bulk(list(ancestor_ids))
        paths = {c.pk: [*[ancestors[i] for i in c.category.ancestor_ids if i in ancestors], c.category]
                 for c in cases if c.category_id}
    rows = []
    for c in cases:
        mine = steps.get(c.pk, [])
        row: dict[str, Any] = {
            "service_request_id": c.tracking_code,
            "status": status_of(c),
            "status_notes": _status_notes(c, mine),
            "service_name": c.category.name if c.category_id else None,
            "service_code": c.category.code if c.category_id else "",
            "description": c.title,
            "agency_responsible": c.lead_department.name if c.lead_department_id else None,
            "service_notice": None,
            "requested_datetime": c.created_at,
            "updated_datetime": c.closed_at or c.updated_at,
            "expected_datetime": c.handling_due_at,
            # the typed address can name a door ("3栋502室，王女士家门口"): published places are the
            # grid (address_id) and coordinates rounded to about 100 m, never the free text
            "address": None,
            "address_id": c.grid.code if c.grid_id else None,
            "zipcode": None,
            "lat": _rounded(c.lat),
            "long": _rounded(c.lon),
            "media_url": _media_url(c),
        }
        if extensions:
            row["extended_attributes"] = {
                "state": c.state,
                "state_label": str(STATES.get(c.state, c.state)),
                "category_path": [{"code": k.code, "name": k.name} for k in paths.get(c.pk, [])],
                "grid": c.grid.code if c.grid_id else None,
                "street": c.street.code if c.street_id else None,
                "merged_into": c.merged_into.tracking_code if c.merged_into_id else None,
                "notes": [{"datetime": s.at, "type": s.action, "summary": s.label, "status": s.state,
                           "description": s.note} for s in mine],
            }
        rows.append(row)
    return rows

