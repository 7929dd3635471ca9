"""The category tree, deadline rules and 12345 request types, read-only (mounted at /api/v1/taxonomy/).

Reference data for the whole city: any signed-in user may read it (the API's default session auth).
Only active categories and request types are shown.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema

from civicgrid.taxonomy.models import Category, DeadlineRule, RequestType
from civicgrid.taxonomy.selectors import (
    CategoryNode,
    categories,
    category_ancestors,
    category_by_code,
    category_tree,
    deadline_rules_for,
    request_types,
)

router = Router(tags=["taxonomy"])


class CategoryOut(Schema):
    code: str
    name: str
    kind: str
    depth: int
    parent: str | None


class CategoryTreeOut(Schema):
    code: str
    name: str
    kind: str
    depth: int
    parent: str | None
    children: list[CategoryTreeOut] | None = None


class CategoryRef(Schema):
    code: str
    name: str


class DeadlineRuleOut(Schema):
    condition: str
    limit: int
    unit: str
    unit_label: str
    closing_condition: str
    is_default: bool
    defined_on: str  # code of the category the rule belongs to (an ancestor when inherited)
    inherited: bool


class CategoryDetailOut(Schema):
    code: str
    name: str
    kind: str
    depth: int
    parent: str | None
    ancestors: list[CategoryRef]
    children: list[CategoryOut]
    deadline_rules: list[DeadlineRuleOut]


class RequestTypeOut(Schema):
    code: str
    name: str
    answer_directly: bool
    limit: int
    unit: str
    unit_label: str


CategoryTreeOut.model_rebuild()


def _flat(c: Category, parent_code: str | None) -> dict[str, Any]:
    return {"code": c.code, "name": c.name, "kind": c.kind, "depth": c.depth, "parent": parent_code}


def _parent_code(c: Category) -> str | None:
    return c.parent.code if c.parent_id and c.parent else None  # callers select_related("parent")


def _tree(node: CategoryNode, parent_code: str | None) -> dict[str, Any]:
    c = node.category
    return {**_flat(c, parent_code), "children": [_tree(child, c.code) for child in node.children]}


def _rule(rule: DeadlineRule, category: Category) -> dict[str, Any]:
    return {"condition": rule.condition, "limit": rule.limit, "unit": rule.unit,
            "unit_label": str(rule.get_unit_display()), "closing_condition": rule.closing_condition,
            "is_default": rule.is_default, "defined_on": rule.category.code,
            "inherited": rule.category_id != category.pk}


def _active_category(code: str) -> Category:
    category = category_by_code(code)
    if category is None or not category.is_active:
        raise Http404(code)
    return category


@router.get("/categories", response=list[CategoryTreeOut], exclude_unset=True,
            summary="The category tree, or the children of one category (?parent=code)")
def categories_list(request: HttpRequest, kind: str | None = None, parent: str | None = None,
                    flat: bool = False) -> list[dict[str, Any]]:
    """Without ``parent``: the whole tree (nested ``children``), or every category as a flat list
    with ``flat=true``. With ``parent``: its direct children, flat. ``kind``: component, event or request."""
    if parent:
        return [_flat(c, parent) for c in categories(parent=_active_category(parent), kind=kind)]
    if flat:
        return [_flat(c, _parent_code(c)) for c in categories(kind=kind)]
    return [_tree(node, None) for node in category_tree(kind=kind)]


@router.get("/categories/{code}", response=CategoryDetailOut,
            summary="One category with its ancestors, children and deadline rules")
def category_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    """``deadline_rules`` are those that apply: the category's own, else its nearest ancestor's
    (``inherited``), the default first."""
    category = _active_category(code)
    return {**_flat(category, _parent_code(category)),
            "ancestors": [{"code": a.code, "name": a.name} for a in category_ancestors(category)],
            "children": [_flat(c, category.code) for c in categories(parent=category)],
            "deadline_rules": [_rule(r, category) for r in deadline_rules_for(category)]}


@router.get("/request-types", response=list[RequestTypeOut], summary="The 12345 request types")
def request_types_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_request_type(rt) for rt in request_types()]


def _request_type(rt: RequestType) -> dict[str, Any]:
    return {"code": rt.code, "name": rt.name, "answer_directly": rt.answer_directly, "limit": rt.limit,
            "unit": rt.unit, "unit_label": str(rt.get_unit_display())}
