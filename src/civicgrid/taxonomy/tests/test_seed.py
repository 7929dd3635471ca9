"""The default catalogue: 数字城管 部件/事件 with time limits and dispatch lines, 12345 request types."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from civicgrid.audit.models import AuditEntry
from civicgrid.taxonomy.models import Category, DeadlineRule, DispatchRule, RequestType
from civicgrid.taxonomy.selectors import deadline_rules_for
from civicgrid.taxonomy.services import catalogue_seed, deadline_rule_update


def counts() -> tuple[int, int, int, int]:
    return (Category.objects.count(), DeadlineRule.objects.count(), DispatchRule.objects.count(),
            RequestType.objects.count())


def test_the_seed_creates_the_five_major_classes_of_components_and_of_events(db):
    catalogue_seed()
    majors = dict(Category.objects.filter(depth=1).values_list("code", "name"))
    assert majors == {"C01": "公用设施", "C02": "道路交通", "C03": "市容环境", "C04": "园林绿化",
                      "C05": "其他设施", "E01": "市容环境", "E02": "宣传广告", "E03": "施工管理",
                      "E04": "街面秩序", "E05": "突发事件"}
    assert set(Category.objects.filter(code__startswith="C").values_list("kind", flat=True)) == {"component"}
    assert set(Category.objects.filter(code__startswith="E").values_list("kind", flat=True)) == {"event"}
    for major in Category.objects.filter(depth=1):
        assert major.children.count() >= 4, major


def test_seeding_twice_adds_nothing_the_second_time(db):
    first = catalogue_seed()
    after_first = counts()
    audits = AuditEntry.objects.count()
    second = catalogue_seed()
    assert counts() == after_first
    assert sum(second.created.values()) == 0
    assert second.existing == first.created
    assert AuditEntry.objects.count() == audits


def test_a_manhole_cover_has_an_urgent_and_a_working_hours_condition(db):
    catalogue_seed()
    cover = Category.objects.get(name="雨水井盖")
    rules = deadline_rules_for(cover)
    assert [(r.condition, r.limit, r.unit, r.is_default) for r in rules] == [
        ("井盖破损、移位或松动", 4, "working_hours", True),
        ("井盖缺失且有安全隐患", 2, "urgent_hours", False),
    ]


def test_illegal_construction_must_stop_in_4_working_hours_and_go_in_20_working_days(db):
    catalogue_seed()
    rules = deadline_rules_for(Category.objects.get(name="违法建设"))
    assert [(r.limit, r.unit) for r in rules] == [(4, "working_hours"), (20, "working_days")]
    rubbish = deadline_rules_for(Category.objects.get(name="暴露垃圾"))
    assert (rubbish[0].limit, rubbish[0].unit) == (4, "working_hours")


def test_the_five_12345_request_types_have_their_time_limits(db):
    catalogue_seed()
    types = {rt.name: (rt.limit, rt.unit, rt.answer_directly) for rt in RequestType.objects.all()}
    assert types == {"咨询": (3, "working_days", True), "求助": (5, "working_days", False),
                     "投诉": (13, "working_days", False), "举报": (5, "working_days", False),
                     "建议": (5, "working_days", False)}


def test_every_class_has_a_dispatch_line_naming_a_department_function(db):
    catalogue_seed()
    lines = DispatchRule.objects.select_related("category")
    assert all(r.department_function and r.department_id is None and r.region_id is None for r in lines)
    majors = {f"{kind}0{n}" for kind in "CE" for n in range(1, 6)}
    assert {r.category.code for r in lines} >= majors
    cover = DispatchRule.objects.get(category__name="上水井盖")
    assert (cover.department_function, cover.region_level) == ("water", "district")
    stall = DispatchRule.objects.get(category__code="E04")
    assert (stall.department_function, stall.region_level) == ("urban_management", "street")


def test_the_seed_never_overwrites_what_a_city_changed(db):
    catalogue_seed()
    rule = DeadlineRule.objects.get(category__name="暴露垃圾", condition="道路或公共场所零星暴露垃圾")
    deadline_rule_update(actor=None, rule=rule, limit=2)
    catalogue_seed()
    rule.refresh_from_db()
    assert rule.limit == 2


def test_the_seed_writes_audit_rows(db):
    catalogue_seed()
    created = Category.objects.count()
    assert AuditEntry.objects.filter(action="taxonomy.category.create").count() == created
    assert AuditEntry.objects.filter(action="taxonomy.request_type.create").count() == 5
    lines = DispatchRule.objects.count()
    assert AuditEntry.objects.filter(action="taxonomy.dispatch_rule.create").count() == lines


def test_the_seed_command_prints_what_it_created(db):
    out = StringIO()
    call_command("taxonomy_seed", stdout=out)
    assert "request types" in out.getvalue()
    out = StringIO()
    call_command("taxonomy_seed", stdout=out)
    assert "done: 0 records created" in out.getvalue()
