"""Reads of the taxonomy: the category tree, inherited deadline rules, request types, and the
dispatch catalogue resolution (which department handles a category in a place).

Categories are reference data for the whole city: every signed-in user may read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, NamedTuple

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from civicgrid.core.refcache import reference_cached
from civicgrid.geo.models import LEVELS, Region
from civicgrid.org.models import Department
from civicgrid.taxonomy.models import Category, DeadlineRule, DispatchRule, RequestType, function_label


@dataclass
class CategoryNode:
    """A category with its children, for trees built from one query."""

    category: Category
    children: list[CategoryNode] = field(default_factory=list)


def category_by_code(code: str) -> Category | None:
    return Category.objects.select_related("parent").filter(code=code).first()


def categories(*, kind: str | None = None, parent: Category | None = None, roots: bool = False,
               include_inactive: bool = False) -> QuerySet[Category]:
    """A flat list of categories, in tree order (sort, then code) within each parent."""
    qs = Category.objects.select_related("parent")
    if kind:
        qs = qs.filter(kind=kind)
    if parent is not None:
        qs = qs.filter(parent=parent)
    elif roots:
        qs = qs.filter(parent__isnull=True)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("depth", "sort", "code") if roots or parent is not None else qs.order_by("code")


def category_tree(*, kind: str | None = None, include_inactive: bool = False) -> list[CategoryNode]:
    """The whole tree (of one kind, or all), roots first, children by sort then code — one query.

    Without ``include_inactive`` an inactive category is left out together with everything below it.
    """
    qs = Category.objects.all()
    if kind:
        qs = qs.filter(kind=kind)
    nodes = {c.pk: CategoryNode(c) for c in qs.order_by("depth", "sort", "code")}
    roots: list[CategoryNode] = []
    placed: set[int] = set()
    for pk, node in nodes.items():  # depth order: a parent is placed before its children
        c = node.category
        if not include_inactive and not c.is_active:
            continue
        if c.parent_id is None:
            roots.append(node)
        elif c.parent_id in placed:
            nodes[c.parent_id].children.append(node)
        else:
            continue
        placed.add(pk)
    return roots


def category_ancestors(category: Category) -> list[Category]:
    """The ancestors of a category, root first (one query)."""
    ids = category.ancestor_ids
    if not ids:
        return []
    found = {c.pk: c for c in Category.objects.filter(pk__in=ids)}
    return [found[i] for i in ids if i in found]


def _category(category: Category | int) -> Category:
    return category if isinstance(category, Category) else Category.objects.get(pk=category)


@reference_cached(key=lambda category: category if isinstance(category, int) else category.pk)
def deadline_rules_for(category: Category | int) -> list[DeadlineRule]:
    """The deadline rules that apply to ``category``: its own, else those of the nearest ancestor
    that has some; the default rule first. Empty when no class up the tree has rules. One query.
    """
    category = _category(category)
    lineage = category.lineage_ids
    rules = list(DeadlineRule.objects.filter(category_id__in=lineage).select_related("category"))
    for cid in lineage:
        own = [r for r in rules if r.category_id == cid]
        if own:
            return sorted(own, key=lambda r: (not r.is_default, r.pk))
    return []


def request_types(*, include_inactive: bool = False) -> QuerySet[RequestType]:
    qs = RequestType.objects.all()
    return qs if include_inactive else qs.filter(is_active=True)


class DispatchAnswer(NamedTuple):
    """Who handles a case: the department (None → the centre's manual queue), the catalogue line
    that decided it, and a sentence saying why (for the timeline)."""

    department: Department | None
    rule: DispatchRule | None
    reason: str


def _chain_ids(chain: dict[str, Region | int | None]) -> tuple[dict[str, int], dict[int, Region]]:
    ids: dict[str, int] = {}
    objects: dict[int, Region] = {}
    for key, value in chain.items():
        level = key.removesuffix("_id")
        if level not in LEVELS:
            raise ValueError(f"unknown level {key!r} in the region chain")
        if value is None:
            continue
        if isinstance(value, Region):
            ids[level] = value.pk
            objects[value.pk] = value
        else:
            ids[level] = int(value)
    return ids, objects


def _region_label(region_id: int, objects: dict[int, Region]) -> str:
    region = objects.get(region_id)
    return str(region) if region else _region_name(region_id)


@reference_cached(key=lambda region_id: region_id)
def _region_name(region_id: int) -> str:
    """A region's name for a routing reason (a renamed region shows its new name within the
    reference cache's time)."""
    region = Region.objects.filter(pk=region_id).first()
    return str(region) if region else f"#{region_id}"


def _dispatch_key(*, category: Category | int, chain: dict[str, Region | int | None]) -> tuple[Any, ...]:
    ids, _objects = _chain_ids(chain)  # the reason is a sentence: one answer per language
    return (category if isinstance(category, int) else category.pk, tuple(sorted(ids.items())),
            translation.get_language())


@reference_cached(key=_dispatch_key)
def dispatch_department_for(*, category: Category | int,
                            chain: dict[str, Region | int | None]) -> DispatchAnswer:
    """Resolve the dispatch catalogue (派单目录) for a case of ``category`` located in ``chain``.

    ``chain`` maps levels (``city`` … ``grid``, or ``city_id`` … as on scoped records) to the
    case's regions (Region objects or ids; None where unknown). Resolution walks up the category
    tree from the case's category; at the first category with an applicable active line, a line
    for an area in the chain wins (the deepest area first), else the general line. A fixed
    department answers directly; a department function answers the active department of that
    function serving the chain's region at the line's level (``service_regions`` contains it,
    else the department belongs to it; several → the first by code). The nearest line decides:
    when it cannot be resolved the answer is no department, with the reason, so the caller puts
    the case in the centre's manual queue. The catalogue lines of a category and the departments of
    a function serving a region are cached apart (a city has thousands of grids: most places are
    new to the answer's cache but not to these).
    """
    ids, objects = _chain_ids(chain)
    depth_of = {rid: LEVELS.index(level) for level, rid in ids.items()}
    if isinstance(category, int):
        category, lineage, every_line = _dispatch_lines(category)
    else:
        category, lineage, every_line = _dispatch_lines(category.pk, category)
    lines = [r for r in every_line if r.region_id is None or r.region_id in depth_of]
    for cid in lineage:
        here = [r for r in lines if r.category_id == cid]
        if not here:
            continue
        area = sorted((r for r in here if r.region_id is not None), key=lambda r: -depth_of[r.region_id])
        rule = area[0] if area else here[0]
        return _resolve_line(rule, ids, objects, category)
    return DispatchAnswer(None, None, _("No dispatch rule for %(category)s or the classes above it.")
                          % {"category": category})


@reference_cached(key=lambda category_id, given=None: category_id)
def _dispatch_lines(category_id: int, given: Category | None = None
                    ) -> tuple[Category, list[int], list[DispatchRule]]:
    """A category (``given``, or read), its lineage (nearest first) and the active catalogue lines
    of that lineage."""
    category = given if given is not None else Category.objects.get(pk=category_id)
    lineage = category.lineage_ids
    lines = list(DispatchRule.objects.filter(is_active=True, category_id__in=lineage)
                 .select_related("category", "department"))
    return category, lineage, lines


@reference_cached(key=lambda function, region_id: (function, region_id))
def _departments_serving(function: str, region_id: int) -> list[Department]:
    """The first two active departments of ``function`` serving ``region_id`` (named in
    ``service_regions`` first, else belonging to it), by code; each with ``serves`` set."""
    through = Department.service_regions.through
    serves = Exists(through.objects.filter(department_id=OuterRef("pk"), region_id=region_id))
    return list(Department.objects.filter(is_active=True, function=function).annotate(serves=serves)
                .filter(Q(serves=True) | Q(region_id=region_id)).order_by("-serves", "code")[:2])


def _resolve_line(rule: DispatchRule, ids: dict[str, int], objects: dict[int, Region],
                  category: Category) -> DispatchAnswer:
    via = ""
    if rule.category_id != category.pk:
        via = _(" (inherited from %(parent)s)") % {"parent": rule.category}
    if rule.department_id is not None:
        dept = rule.department
        assert dept is not None
        if not dept.is_active:
            return DispatchAnswer(None, None, _("The department %(dept)s named by the rule for %(category)s "
                                                "is inactive.") % {"dept": dept, "category": rule.category})
        return DispatchAnswer(dept, rule, _("Rule for %(category)s%(via)s names %(dept)s.")
                              % {"category": category, "via": via, "dept": dept})
    function = rule.department_function
    level = rule.get_region_level_display()
    region_id = ids.get(rule.region_level)
    if region_id is None:
        return DispatchAnswer(None, None, _("The rule for %(category)s is handled at %(level)s level, and "
                                            "the case has no %(level)s region.")
                              % {"category": rule.category, "level": level})
    found = _departments_serving(function, region_id)
    if not found:
        return DispatchAnswer(None, None, _("No %(function)s department serves %(region)s "
                                            "(rule for %(category)s%(via)s).")
                              % {"function": function_label(function), "region": _region_label(region_id, objects),
                                 "category": category, "via": via})
    dept = found[0]
    reason = _("Rule for %(category)s%(via)s: the %(function)s department at %(level)s level handles it → "
               "%(dept)s.") % {"category": category, "via": via, "function": function_label(function),
                               "level": level, "dept": dept}
    if len(found) > 1 and bool(getattr(found[1], "serves", False)) == bool(getattr(dept, "serves", False)):
        reason += " " + _("Several departments qualify; the first by code was chosen.")
    return DispatchAnswer(dept, rule, reason)


def catalogue_data() -> dict[str, Any]:
    """The default catalogue shipped in ``civicgrid/taxonomy/data/catalogue.json``."""
    text = resources.files("civicgrid.taxonomy.data").joinpath("catalogue.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def department_functions() -> dict[str, str]:
    """The department functions the default catalogue names, with their Chinese names."""
    functions: dict[str, Any] = catalogue_data().get("functions", {})
    return {str(k): str(v) for k, v in functions.items()}
