"""The taxonomy admin saves through the services: every change leaves an audit row."""

from __future__ import annotations

from typing import Any

import pytest

from civicgrid.audit.models import AuditEntry
from civicgrid.org.services import user_create
from civicgrid.taxonomy.models import Category, DeadlineRule, DispatchRule, RequestType
from civicgrid.taxonomy.services import catalogue_seed, category_create
from conftest import PASSWORD


@pytest.fixture
def admin_client(db, client):
    root = user_create(actor=None, username="root", password=PASSWORD, is_superuser=True)
    client.force_login(root)
    client.user = root
    return client


def inline(rows: list[dict[str, Any]], initial: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = {"deadline_rules-TOTAL_FORMS": len(rows), "deadline_rules-INITIAL_FORMS": initial,
                            "deadline_rules-MIN_NUM_FORMS": 0, "deadline_rules-MAX_NUM_FORMS": 1000}
    for i, row in enumerate(rows):
        data.update({f"deadline_rules-{i}-{k}": v for k, v in row.items()})
    return data


def test_adding_a_category_with_a_rule_in_the_admin_goes_through_the_services(admin_client):
    response = admin_client.post("/admin/taxonomy/category/add/", {
        "kind": "event", "parent": "", "code": "", "name": "市容环境", "sort": "", "is_active": "on",
        **inline([{"condition": "现场不洁", "limit": 4, "unit": "working_hours",
                   "closing_condition": "已清扫", "is_default": "on"}]),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    category = Category.objects.get(name="市容环境")
    assert category.code == "E01"
    assert DeadlineRule.objects.get(category=category).limit == 4
    actions = set(AuditEntry.objects.filter(actor=admin_client.user).values_list("action", flat=True))
    assert {"taxonomy.category.create", "taxonomy.deadline_rule.create"} <= actions


def test_changing_a_category_in_the_admin_audits_only_what_changed(admin_client):
    category = category_create(actor=None, name="市容环境", kind="event")
    response = admin_client.post(f"/admin/taxonomy/category/{category.pk}/change/", {
        "parent": "", "code": "E01", "name": "市容环境卫生", "sort": category.sort, "is_active": "on",
        **inline([]),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="taxonomy.category.update")
    assert entry.after == {"name": "市容环境卫生"} and entry.actor == admin_client.user


def test_the_deactivate_action_deactivates_through_the_service(admin_client):
    catalogue_seed()
    major = Category.objects.get(code="E05")
    response = admin_client.post("/admin/taxonomy/category/", {"action": "deactivate",
                                                               "_selected_action": [major.pk]})
    assert response.status_code == 302
    assert not Category.objects.filter(path__startswith=major.children_path, is_active=True).exists()
    assert AuditEntry.objects.get(action="taxonomy.category.deactivate").actor == admin_client.user


def test_the_catalogue_and_request_type_pages_render(admin_client):
    catalogue_seed()
    for url in ("/admin/taxonomy/category/", "/admin/taxonomy/category/?kind__exact=event&depth__exact=2",
                "/admin/taxonomy/category/?q=井盖", "/admin/taxonomy/dispatchrule/",
                "/admin/taxonomy/requesttype/",
                f"/admin/taxonomy/category/{Category.objects.get(code='C0101').pk}/change/",
                f"/admin/taxonomy/dispatchrule/{DispatchRule.objects.first().pk}/change/"):
        assert admin_client.get(url).status_code == 200, url


def test_a_dispatch_line_saved_in_the_admin_is_audited(admin_client):
    catalogue_seed()
    line = DispatchRule.objects.get(category__code="E04")
    response = admin_client.post(f"/admin/taxonomy/dispatchrule/{line.pk}/change/", {
        "category": line.category_id, "region": "", "region_level": "district", "department": "",
        "department_function": "urban_management", "note": "区级统筹", "is_active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="taxonomy.dispatch_rule.update")
    assert entry.after == {"region_level": "district", "note": "区级统筹"}


def test_deactivating_a_request_type_in_the_admin_is_audited(admin_client):
    catalogue_seed()
    suggestion = RequestType.objects.get(code="suggestion")
    admin_client.post("/admin/taxonomy/requesttype/",
                      {"action": "deactivate", "_selected_action": [suggestion.pk]})
    suggestion.refresh_from_db()
    assert not suggestion.is_active
    assert AuditEntry.objects.filter(action="taxonomy.request_type.update",
                                     target_id=str(suggestion.pk)).exists()
