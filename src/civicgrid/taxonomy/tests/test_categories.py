"""Categories and deadline rules: codes, moves, deactivation, inheritance, the audit trail."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from civicgrid.audit.models import AuditEntry
from civicgrid.taxonomy.models import Category, CategoryKind, TimeUnit
from civicgrid.taxonomy.selectors import category_ancestors, category_tree, deadline_rules_for
from civicgrid.taxonomy.services import (
    category_create,
    category_deactivate,
    category_delete,
    category_update,
    deadline_rule_create,
    deadline_rule_update,
)


@pytest.fixture
def tree(db):
    """市容环境 (E01) › 暴露垃圾 (E0101) › 沿街暴露垃圾 (E010101); 街面秩序 (E02)."""
    city_looks = category_create(actor=None, name="市容环境", kind=CategoryKind.EVENT)
    rubbish = category_create(actor=None, name="暴露垃圾", parent=city_looks)
    street_rubbish = category_create(actor=None, name="沿街暴露垃圾", parent=rubbish)
    order = category_create(actor=None, name="街面秩序", kind=CategoryKind.EVENT)
    return city_looks, rubbish, street_rubbish, order


def test_codes_are_generated_two_digits_per_level_after_the_kind_s_letter(tree):
    city_looks, rubbish, street_rubbish, _order = tree
    assert [c.code for c in tree] == ["E01", "E0101", "E010101", "E02"]
    assert street_rubbish.depth == 3
    assert category_ancestors(street_rubbish) == [city_looks, rubbish]


def test_a_child_has_its_parent_s_kind_and_names_are_unique_among_siblings(tree):
    city_looks = tree[0]
    with pytest.raises(ValidationError):
        category_create(actor=None, name="井盖", parent=city_looks, kind=CategoryKind.COMPONENT)
    with pytest.raises(ValidationError):
        category_create(actor=None, name="暴露垃圾", parent=city_looks)
    # The same name is fine in another kind's tree: 部件 and 事件 both have a 市容环境 class.
    assert category_create(actor=None, name="市容环境", kind=CategoryKind.COMPONENT).code == "C01"


def test_a_minor_class_without_rules_inherits_the_nearest_ancestor_s_default_first(tree):
    city_looks, rubbish, street_rubbish, order = tree
    deadline_rule_create(actor=None, category=city_looks, condition="现场不洁", limit=1,
                         unit=TimeUnit.WORKING_DAYS)
    assert [r.condition for r in deadline_rules_for(street_rubbish)] == ["现场不洁"]
    deadline_rule_create(actor=None, category=rubbish, condition="成堆暴露垃圾", limit=1,
                         unit=TimeUnit.WORKING_DAYS)
    deadline_rule_create(actor=None, category=rubbish, condition="零星暴露垃圾", limit=4,
                         unit=TimeUnit.WORKING_HOURS, is_default=True)
    rules = deadline_rules_for(street_rubbish)
    assert [(r.condition, r.is_default) for r in rules] == [("零星暴露垃圾", True), ("成堆暴露垃圾", False)]
    assert all(r.category == rubbish for r in rules)
    assert deadline_rules_for(order) == []


def test_a_category_has_one_default_rule_at_a_time(tree):
    rubbish = tree[1]
    first = deadline_rule_create(actor=None, category=rubbish, condition="零星", limit=4,
                                 unit=TimeUnit.WORKING_HOURS)
    assert first.is_default  # the only rule is the default
    second = deadline_rule_create(actor=None, category=rubbish, condition="成堆", limit=1,
                                  unit=TimeUnit.WORKING_DAYS)
    deadline_rule_update(actor=None, rule=second, is_default=True)
    first.refresh_from_db()
    assert not first.is_default
    assert [r.condition for r in deadline_rules_for(rubbish)] == ["成堆", "零星"]


def test_a_time_limit_is_a_positive_whole_number_in_a_known_unit(tree):
    with pytest.raises(ValidationError):
        deadline_rule_create(actor=None, category=tree[1], condition="x", limit=0, unit=TimeUnit.WORKING_DAYS)
    with pytest.raises(ValidationError):
        deadline_rule_create(actor=None, category=tree[1], condition="x", limit=2, unit="fortnights")


def test_moving_a_category_moves_its_subtree(tree):
    city_looks, rubbish, street_rubbish, order = tree
    category_update(actor=None, category=rubbish, parent=order)
    street_rubbish.refresh_from_db()
    assert street_rubbish.depth == 3
    assert category_ancestors(street_rubbish) == [order, Category.objects.get(pk=rubbish.pk)]
    moved = AuditEntry.objects.get(action="taxonomy.category.update", target_id=str(rubbish.pk))
    assert moved.before["parent"] == city_looks.pk and moved.after["parent"] == order.pk


def test_a_category_cannot_move_below_itself_or_into_another_kind(tree):
    city_looks, rubbish, street_rubbish, _order = tree
    with pytest.raises(ValidationError):
        category_update(actor=None, category=city_looks, parent=street_rubbish)
    component = category_create(actor=None, name="公用设施", kind=CategoryKind.COMPONENT)
    with pytest.raises(ValidationError):
        category_update(actor=None, category=rubbish, parent=component)


def test_deactivating_a_class_deactivates_everything_below_and_hides_it_from_the_tree(tree):
    _city_looks, rubbish, street_rubbish, _order = tree
    assert category_deactivate(actor=None, category=rubbish) == 2
    assert not Category.objects.get(pk=street_rubbish.pk).is_active
    visible = category_tree(kind=CategoryKind.EVENT)
    assert [(n.category.name, [c.category.name for c in n.children]) for n in visible] == [
        ("市容环境", []), ("街面秩序", [])]
    entry = AuditEntry.objects.get(action="taxonomy.category.deactivate")
    assert entry.extra["categories"] == ["E0101", "E010101"]


def test_a_category_with_children_cannot_be_deleted(tree):
    with pytest.raises(ValidationError):
        category_delete(actor=None, category=tree[0])
    category_delete(actor=None, category=tree[2])
    assert AuditEntry.objects.filter(action="taxonomy.category.delete").count() == 1


def test_creating_and_renaming_write_audit_rows_with_the_actor(tree, cast):
    category_update(actor=cast.admin_a, category=tree[1], name="暴露垃圾（零星）")
    entry = AuditEntry.objects.get(action="taxonomy.category.update")
    assert entry.actor == cast.admin_a
    assert entry.before["name"] == "暴露垃圾" and entry.after == {"name": "暴露垃圾（零星）"}
    assert AuditEntry.objects.filter(action="taxonomy.category.create").count() == 4


def test_the_tree_is_built_in_one_query(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        roots = category_tree()
    assert [n.category.code for n in roots] == ["E01", "E02"]
    assert roots[0].children[0].children[0].category.name == "沿街暴露垃圾"
