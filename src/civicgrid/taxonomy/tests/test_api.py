"""The read-only taxonomy API: the tree, one category with its rules, the request types."""

from __future__ import annotations

import pytest
from ninja.testing import TestClient

from civicgrid.core.api import build_api
from civicgrid.taxonomy.api import router
from civicgrid.taxonomy.models import Category
from civicgrid.taxonomy.services import catalogue_seed, category_deactivate


@pytest.fixture
def seeded(db):
    catalogue_seed()


@pytest.fixture
def api_client(seeded):
    api = build_api()  # the project's API: session auth by default
    api.add_router("/taxonomy/", router)
    return TestClient(api)


def test_signed_out_users_get_401(api_client):
    response = api_client.get("/taxonomy/categories")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_the_tree_nests_minor_classes_under_major_classes(api_client, cast):
    response = api_client.get("/taxonomy/categories?kind=component", user=cast.bob)
    assert response.status_code == 200
    tree = response.json()
    assert [n["code"] for n in tree] == ["C01", "C02", "C03", "C04", "C05"]
    assert tree[0]["children"][0] == {"code": "C0101", "name": "上水井盖", "kind": "component", "depth": 2,
                                      "parent": "C01", "children": []}


def test_parent_gives_a_flat_list_of_its_children(api_client, cast):
    rows = api_client.get("/taxonomy/categories?parent=E03", user=cast.bob).json()
    assert rows[0] == {"code": "E0301", "name": "违法建设", "kind": "event", "depth": 2, "parent": "E03"}
    flat = api_client.get("/taxonomy/categories?flat=true&kind=event", user=cast.bob).json()
    assert len(flat) == Category.objects.filter(kind="event").count()


def test_one_category_shows_its_own_or_inherited_deadline_rules(api_client, cast):
    cover = api_client.get("/taxonomy/categories/C0103", user=cast.charlie).json()
    assert cover["ancestors"] == [{"code": "C01", "name": "公用设施"}]
    assert [(r["limit"], r["unit"], r["inherited"]) for r in cover["deadline_rules"]] == [
        (4, "working_hours", False), (2, "urgent_hours", False)]
    sign = api_client.get("/taxonomy/categories/C0201", user=cast.charlie).json()
    assert {r["defined_on"] for r in sign["deadline_rules"]} == {"C02"}
    assert all(r["inherited"] for r in sign["deadline_rules"])


def test_unknown_and_inactive_categories_are_not_found(api_client, cast):
    assert api_client.get("/taxonomy/categories/ZZ99", user=cast.bob).status_code == 404
    category_deactivate(actor=None, category=Category.objects.get(code="E05"))
    assert api_client.get("/taxonomy/categories/E0501", user=cast.bob).status_code == 404
    codes = [n["code"] for n in api_client.get("/taxonomy/categories?kind=event", user=cast.bob).json()]
    assert "E05" not in codes


def test_the_request_types_list_their_time_limits(api_client, cast):
    rows = api_client.get("/taxonomy/request-types", user=cast.alice).json()
    assert [(r["name"], r["limit"], r["answer_directly"]) for r in rows] == [
        ("咨询", 3, True), ("求助", 5, False), ("投诉", 13, False), ("举报", 5, False), ("建议", 5, False)]
