"""The dispatch catalogue (派单目录): which department handles a category in a place, and why."""

from __future__ import annotations

from typing import Any

import pytest

from civicgrid.audit.models import AuditEntry
from civicgrid.org.models import Department
from civicgrid.org.services import department_create, department_update
from civicgrid.taxonomy.models import Category, CategoryKind, DispatchRule
from civicgrid.taxonomy.selectors import dispatch_department_for
from civicgrid.taxonomy.services import category_create, dispatch_rule_deactivate, dispatch_rule_set

GRID_A = "440301001001001"  # district A, street 440301001
GRID_B = "440302001001001"  # district B, street 440302001


def dept(city: Any, code: str, name: str, function: str, region: str,
         serves: list[str] | None = None) -> Department:
    return department_create(actor=None, code=code, name=name, region=city.get(region), function=function,
                             service_regions=[city.get(c) for c in serves] if serves else None)


def chain(city: Any, grid: str) -> dict[str, Any]:
    """The region chain of a case located in ``grid``, as Region objects (level → region)."""
    by_id = {r.pk: r for r in city.regions.values()}
    return {level: by_id.get(pk) for level, pk in city.get(grid).chain().items()}


@pytest.fixture
def covers(db):
    """公用设施 › 雨水井盖 (events kind does not matter here)."""
    major = category_create(actor=None, name="公用设施", kind=CategoryKind.COMPONENT, code="C01")
    minor = category_create(actor=None, name="雨水井盖", parent=major, code="C0103")
    return major, minor


def test_a_function_resolves_to_the_department_of_the_case_s_district(small_city, covers):
    _major, minor = covers
    water_a = dept(small_city, "W-A", "甲区水务局", "water", "440301")
    water_b = dept(small_city, "W-B", "乙区水务局", "water", "440302")
    dispatch_rule_set(actor=None, category=minor, region_level="district", department_function="water")
    assert dispatch_department_for(category=minor, chain=chain(small_city, GRID_A)).department == water_a
    department, rule, reason = dispatch_department_for(category=minor, chain=chain(small_city, GRID_B))
    assert department == water_b
    assert rule.category == minor
    assert "water" in reason and "乙区水务局" in reason


def test_an_area_line_beats_the_general_line_inside_its_area_only(small_city, covers):
    _major, minor = covers
    water_a = dept(small_city, "W-A", "甲区水务局", "water", "440301")
    water_b = dept(small_city, "W-B", "乙区水务局", "water", "440302")
    cg_street = dept(small_city, "CG-A1", "甲区街道1综合执法队", "urban_management", "440301001")
    dispatch_rule_set(actor=None, category=minor, region_level="district", department_function="water")
    dispatch_rule_set(actor=None, category=minor, region=small_city.a, region_level="street",
                      department_function="urban_management")
    assert dispatch_department_for(category=minor, chain=chain(small_city, GRID_A)).department == cg_street
    assert dispatch_department_for(category=minor, chain=chain(small_city, GRID_B)).department == water_b
    assert water_a != cg_street


def test_the_deepest_area_line_wins(small_city, covers):
    _major, minor = covers
    district_unit = dept(small_city, "X-A", "甲区公司", "water", "440301")
    street_unit = dept(small_city, "X-S", "街道公司", "water", "440301")
    dispatch_rule_set(actor=None, category=minor, region=small_city.a, region_level="district",
                      department=district_unit)
    dispatch_rule_set(actor=None, category=minor, region=small_city.get("440301001"), region_level="street",
                      department=street_unit)
    assert dispatch_department_for(category=minor, chain=chain(small_city, GRID_A)).department == street_unit
    other_street = chain(small_city, "440301002001001")
    assert dispatch_department_for(category=minor, chain=other_street).department == district_unit


def test_a_category_without_lines_uses_the_nearest_class_above_that_has_one(small_city, covers):
    major, minor = covers
    cg_a = dept(small_city, "CG-A", "甲区城管局", "urban_management", "440301")
    dispatch_rule_set(actor=None, category=major, region_level="district",
                      department_function="urban_management")
    department, rule, reason = dispatch_department_for(category=minor, chain=chain(small_city, GRID_A))
    assert department == cg_a and rule.category == major
    # the case's own category, the class it inherits from, the level in words, the unit chosen
    assert reason.startswith(f"Rule for {minor} (inherited from C01 公用设施)")
    assert "the urban management department at district level handles it → 甲区城管局" in reason


def test_a_department_serving_the_region_is_preferred_to_one_merely_belonging_to_it(small_city, covers):
    _major, minor = covers
    belongs = dept(small_city, "L-A", "甲区园林所", "landscaping", "440301", serves=["440301001"])
    serves = dept(small_city, "L-C", "市园林中心", "landscaping", "440300", serves=["440301", "440302"])
    dispatch_rule_set(actor=None, category=minor, region_level="district", department_function="landscaping")
    assert dispatch_department_for(category=minor, chain=chain(small_city, GRID_A)).department == serves
    assert belongs.region == small_city.a


def test_without_any_line_the_answer_is_no_department_with_a_reason(small_city, covers):
    _major, minor = covers
    department, rule, reason = dispatch_department_for(category=minor, chain=chain(small_city, GRID_A))
    assert (department, rule) == (None, None)
    assert "No dispatch rule for C0103 雨水井盖" in reason


def test_a_function_nobody_serves_here_is_no_department_with_a_reason(small_city, covers):
    _major, minor = covers
    dept(small_city, "W-B", "乙区水务局", "water", "440302")
    dispatch_rule_set(actor=None, category=minor, region_level="district", department_function="water")
    department, rule, reason = dispatch_department_for(category=minor, chain=chain(small_city, GRID_A))
    assert (department, rule) == (None, None)
    assert "No water affairs department serves 甲区 (440301)" in reason


def test_an_inactive_department_or_line_is_not_used(small_city, covers):
    _major, minor = covers
    water_a = dept(small_city, "W-A", "甲区水务局", "water", "440301")
    line = dispatch_rule_set(actor=None, category=minor, region_level="district", department_function="water")
    department_update(actor=None, department=water_a, is_active=False)
    assert dispatch_department_for(category=minor, chain=chain(small_city, GRID_A)).department is None
    department_update(actor=None, department=water_a, is_active=True)
    dispatch_rule_deactivate(actor=None, rule=line)
    assert dispatch_department_for(category=minor, chain=chain(small_city, GRID_A)).rule is None


def test_a_case_without_a_region_at_the_line_s_level_goes_to_the_manual_queue(small_city, covers):
    _major, minor = covers
    dispatch_rule_set(actor=None, category=minor, region_level="street",
                      department_function="urban_management")
    answer = dispatch_department_for(category=minor, chain={"city": small_city.city, "district": small_city.a,
                                                            "street": None})
    assert answer.department is None and "no street region" in answer.reason


def test_the_chain_may_hold_ids_as_on_scoped_records(small_city, covers):
    _major, minor = covers
    water_a = dept(small_city, "W-A", "甲区水务局", "water", "440301")
    dispatch_rule_set(actor=None, category=minor, region_level="district", department_function="water")
    ids = {f"{level}_id": pk for level, pk in small_city.get(GRID_A).chain().items()}
    assert dispatch_department_for(category=minor, chain=ids).department == water_a


def test_resolution_takes_two_queries(small_city, covers, django_assert_max_num_queries):
    major, minor = covers
    dept(small_city, "W-A", "甲区水务局", "water", "440301")
    dispatch_rule_set(actor=None, category=major, region_level="district", department_function="water")
    dispatch_rule_set(actor=None, category=major, region=small_city.b, region_level="district",
                      department_function="water")
    where = chain(small_city, GRID_A)
    minor = Category.objects.get(pk=minor.pk)
    with django_assert_max_num_queries(2):
        assert dispatch_department_for(category=minor, chain=where).department is not None


def test_setting_a_line_again_changes_it_and_both_writes_are_audited(small_city, covers):
    _major, minor = covers
    first = dispatch_rule_set(actor=None, category=minor, region_level="district",
                              department_function="water")
    second = dispatch_rule_set(actor=None, category=minor, region_level="street",
                               department_function="urban_management")
    assert first.pk == second.pk
    assert DispatchRule.objects.filter(category=minor).count() == 1
    actions = list(AuditEntry.objects.filter(target_type="taxonomy.dispatchrule").order_by("id")
                   .values_list("action", flat=True))
    assert actions == ["taxonomy.dispatch_rule.create", "taxonomy.dispatch_rule.update"]
    update = AuditEntry.objects.get(action="taxonomy.dispatch_rule.update")
    assert update.after == {"region_level": "street", "department_function": "urban_management"}


def test_a_line_must_name_a_department_or_a_function_but_not_both(small_city, covers):
    from django.core.exceptions import ValidationError

    _major, minor = covers
    water_a = dept(small_city, "W-A", "甲区水务局", "water", "440301")
    with pytest.raises(ValidationError):
        dispatch_rule_set(actor=None, category=minor, region_level="district")
    with pytest.raises(ValidationError):
        dispatch_rule_set(actor=None, category=minor, region_level="district", department=water_a,
                          department_function="water")
    with pytest.raises(ValidationError):
        dispatch_rule_set(actor=None, category=minor, region_level="district",
                          department_function="Water Bureau")
