"""GeoJSON import: the real Shenzhen files, every kind of bad feature, dry runs, new versions."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from civicgrid.audit.models import AuditEntry
from civicgrid.core.testing import shared_file
from civicgrid.geo.models import Boundary, BoundaryVersion, Region
from civicgrid.geo.services import GeoImportError, city_create, regions_import
from conftest import collection, feature, square

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def shenzhen_districts():
    city_create(code="440300", name="深圳市", actor=None)
    path = shared_file("geo/440300_full.json")
    run("geo_import", str(path), "--level", "district", "--code-field", "adcode", "--crs", "gcj02", "--commit")
    return path


def test_real_shenzhen_districts_import_with_their_statistical_codes(shenzhen_districts):
    districts = Region.objects.filter(level="district").order_by("code")
    assert districts.count() == 9
    assert [d.code for d in districts][:2] == ["440303", "440304"]
    assert districts.get(code="440303").name == "罗湖区"
    assert all(d.city.code == "440300" and d.district_id == d.pk for d in districts)
    assert Boundary.objects.filter(region__level="district", valid_to__isnull=True).count() == 9


def test_real_shenzhen_streets_dry_run_explains_each_mismatch_and_writes_nothing(shenzhen_districts):
    path = shared_file("geo/深圳街道.geojson")
    before = (Region.objects.count(), Boundary.objects.count(), AuditEntry.objects.count())
    out = run("geo_import", str(path), "--level", "street", "--code-field", "ID", "--name-field", "NAME",
              "--parent-field", "DISTRICT", "--crs", "gcj02")
    assert "DRY RUN" in out
    assert (Region.objects.count(), Boundary.objects.count(), AuditEntry.objects.count()) == before
    # 大鹏新区 and 光明新区 are not DataV district names: the import says what it did with them.
    assert "'大鹏新区' is not the code or name" in out
    assert "placed in 龙岗区 (440307) by largest overlap" in out
    assert "'光明新区' matched 光明区 (440311) by name without its suffix" in out
    # The plain ids of the file are not statistical codes: hierarchical codes are generated.
    assert "are not 9-digit statistical codes" in out
    assert "features read:   74" in out


def test_real_shenzhen_streets_commit_places_all_74_streets_in_their_districts(shenzhen_districts):
    path = shared_file("geo/深圳街道.geojson")
    out = run("geo_import", str(path), "--level", "street", "--code-field", "ID", "--name-field", "NAME",
              "--parent-field", "DISTRICT", "--crs", "gcj02", "--commit")
    assert "COMMITTED" in out
    streets = Region.objects.filter(level="street")
    assert streets.count() + out.count("rejected feature") == 74
    assert streets.count() >= 70
    nanao = streets.get(name="南澳")
    assert nanao.parent.code == "440307" and nanao.code.startswith("440307") and len(nanao.code) == 9
    assert nanao.source_id == "1"
    assert streets.get(name="东门").parent.name == "罗湖区"
    # Re-running the same file changes nothing and opens no version.
    versions = BoundaryVersion.objects.count()
    out2 = run("geo_import", str(path), "--level", "street", "--code-field", "ID", "--name-field", "NAME",
               "--parent-field", "DISTRICT", "--crs", "gcj02", "--commit")
    assert "to create:       0" in out2 and "to reshape:      0" in out2
    assert BoundaryVersion.objects.count() == versions


def test_wgs84_district_file_reimported_over_gcj02_opens_a_new_version_and_keeps_history(shenzhen_districts):
    # The 2024 WGS-84 snapshot differs from the 2021 GCJ-02 one in five districts (宝安, 龙岗, 盐田, 龙华,
    # 坪山 redrawn; 罗湖, 福田, 南山, 光明 identical once converted): only those five get new shapes.
    v_before = BoundaryVersion.objects.order_by("-number").first().number
    old = Boundary.objects.get(region__code="440307", valid_to__isnull=True)
    unchanged = Boundary.objects.get(region__code="440303", valid_to__isnull=True)
    out = run("geo_import", str(shared_file("geo/440300_wgs84.utf8.json")), "--level", "district",
              "--code-field", "adcode", "--commit")
    assert "to reshape:      5" in out and "unchanged:       4" in out
    old.refresh_from_db()
    assert old.valid_to is not None and old.valid_to.number == v_before + 1
    current = Boundary.objects.get(region__code="440307", valid_to__isnull=True)
    assert current.valid_from.number == v_before + 1
    unchanged.refresh_from_db()
    assert unchanged.valid_to is None
    assert Region.objects.filter(level="district").count() == 9  # same regions, new shapes


@pytest.fixture
def city():
    c = city_create(code="440300", name="测试市", actor=None)
    regions_import(collection(feature("甲区", square(114.0, 22.5, 114.1, 22.6), code="440301")),
                   level="district", code_field="code", actor=None, commit=True)
    return c


def plan(features, **kw):
    kw.setdefault("code_field", "code")
    return regions_import(collection(*features), level="street", actor=None, **kw)


def reasons(report):
    return {r.index: r.reason for r in report.rejected}


def test_each_kind_of_bad_feature_is_rejected_with_its_index_and_reason(city):
    bowtie = {"type": "Polygon", "coordinates": [[[114.0, 22.5], [114.05, 22.55], [114.05, 22.5],
                                                  [114.0, 22.55], [114.0, 22.5]]]}
    features = [
        feature("好街道", square(114.0, 22.5, 114.05, 22.55), code="440301001"),
        feature("自交街道", bowtie, code="440301002"),
        feature("无码街道", square(114.05, 22.5, 114.1, 22.55)),
        feature("重码街道", square(114.05, 22.55, 114.1, 22.6), code="440301001"),
        feature("越界街道", square(190.0, 22.5, 191.0, 22.6), code="440301005"),
        feature("重叠街道", square(114.0, 22.5, 114.04, 22.54), code="440301006"),
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [114.0, 22.5]},
         "properties": {"name": "点街道", "code": "440301007"}},
        feature("", square(114.0, 22.55, 114.05, 22.6), code="440301008"),
        {"type": "Feature", "geometry": None, "properties": {"name": "空街道", "code": "440301009"}},
    ]
    report = plan(features)
    got = reasons(report)
    assert 0 not in got
    assert got[1].startswith("invalid geometry: Self-intersection")
    assert got[2].startswith("missing code")
    assert got[3].startswith("duplicate code 440301001 (also feature #0)")
    assert got[4].startswith("coordinates out of range")
    assert got[5].startswith("overlaps sibling feature #0 好街道 by 100.0% of the smaller area")
    assert "not Polygon or MultiPolygon" in got[6]
    assert got[7].startswith("missing name")
    assert got[8] == "no geometry"
    assert not report.committed and Region.objects.filter(level="street").count() == 0


def test_a_parent_that_cannot_be_found_rejects_the_feature(city):
    report = plan([feature("远街道", square(120.0, 30.0, 120.1, 30.1), code="440399001", parent="不存在区")],
                  parent_field="parent")
    assert "parent '不存在区' not found" in reasons(report)[0]


def test_repair_fixes_a_self_intersecting_polygon_instead_of_rejecting_it(city):
    bowtie = {"type": "Polygon", "coordinates": [[[114.0, 22.5], [114.05, 22.55], [114.05, 22.5],
                                                  [114.0, 22.55], [114.0, 22.5]]]}
    report = plan([feature("自交街道", bowtie, code="440301002")], repair=True, commit=True)
    assert report.ok and Region.objects.get(code="440301002").level == "street"


def test_commit_keeps_good_features_and_reports_bad_ones(city):
    report = plan([feature("好街道", square(114.0, 22.5, 114.05, 22.55), code="440301001"),
                   feature("无码街道", square(114.05, 22.5, 114.1, 22.55))], commit=True)
    assert len(report.rejected) == 1
    assert list(Region.objects.filter(level="street").values_list("code", flat=True)) == ["440301001"]


def test_dry_run_writes_nothing_at_all(city):
    counts = (Region.objects.count(), Boundary.objects.count(), BoundaryVersion.objects.count(),
              AuditEntry.objects.count())
    report = plan([feature("好街道", square(114.0, 22.5, 114.05, 22.55), code="440301001")])
    assert report.count("create") == 1 and not report.committed
    assert (Region.objects.count(), Boundary.objects.count(), BoundaryVersion.objects.count(),
            AuditEntry.objects.count()) == counts


def test_reimport_of_a_changed_file_opens_a_new_boundary_version_and_renames(city):
    plan([feature("甲街道", square(114.0, 22.5, 114.05, 22.55), code="440301001")], commit=True)
    v1 = Boundary.objects.get(region__code="440301001").valid_from.number
    report = plan([feature("甲街道（新）", square(114.0, 22.5, 114.06, 22.55), code="440301001")], commit=True)
    assert report.planned[0].action == "reshape+rename"
    shapes = Boundary.objects.filter(region__code="440301001").order_by("valid_from__number")
    assert [(b.valid_from.number, b.valid_to.number if b.valid_to else None) for b in shapes] == [
        (v1, v1 + 1), (v1 + 1, None)]
    assert Region.objects.get(code="440301001").name == "甲街道（新）"
    assert AuditEntry.objects.filter(action="geo.region.reshape+rename").count() == 1


def test_missing_regions_are_reported_and_retired_only_when_asked(city):
    plan([feature("甲街道", square(114.0, 22.5, 114.05, 22.55), code="440301001"),
          feature("乙街道", square(114.05, 22.5, 114.1, 22.55), code="440301002")], commit=True)
    report = plan([feature("甲街道", square(114.0, 22.5, 114.05, 22.55), code="440301001")], commit=True)
    assert [r.code for r in report.missing] == ["440301002"]
    assert Region.objects.get(code="440301002").is_active
    plan([feature("甲街道", square(114.0, 22.5, 114.05, 22.55), code="440301001")], commit=True,
         retire_missing=True)
    assert not Region.objects.get(code="440301002").is_active
    assert not Boundary.objects.filter(region__code="440301002", valid_to__isnull=True).exists()


def test_cli_names_a_file_that_is_not_geojson_without_a_traceback(tmp_path, city):
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match=r"not valid JSON \(line 1, column 2"):
        run("geo_import", str(bad), "--level", "street")
    bad.write_text(json.dumps({"type": "Feature"}), encoding="utf-8")
    with pytest.raises(CommandError, match="not a GeoJSON FeatureCollection"):
        run("geo_import", str(bad), "--level", "street")
    with pytest.raises(CommandError, match="no such file"):
        run("geo_import", str(tmp_path / "absent.json"), "--level", "street")


def test_importing_below_a_level_that_does_not_exist_yet_says_what_to_do_first(db):
    with pytest.raises(Exception, match="there is no city yet"):
        regions_import(collection(feature("甲区", square(114.0, 22.5, 114.1, 22.6))), level="district",
                       actor=None)


def test_subdivide_cuts_a_street_into_grids_under_communities(city):
    plan([feature("甲街道", square(114.0, 22.5, 114.05, 22.55), code="440301001")], commit=True)
    out = run("geo_subdivide", "--region", "440301001", "--target-km2", "5", "--commit")
    communities = Region.objects.filter(level="community")
    assert communities.count() >= 4 and "COMMITTED" in out
    run("geo_subdivide", "--level", "community", "--target-km2", "0.5", "--commit")
    grids = Region.objects.filter(level="grid")
    assert grids.count() >= 40
    g = grids.first()
    assert g.community.parent_id == g.street_id and g.district.code == "440301" and g.city.code == "440300"
    assert len(g.code) == 15 and g.code.startswith(g.community.code)


def test_a_second_file_with_the_same_plain_ids_does_not_pull_regions_into_another_parent(city):
    regions_import(collection(feature("乙区", square(114.1, 22.5, 114.2, 22.6), code="440302")),
                   level="district", code_field="code", actor=None, commit=True)
    first = [feature("甲一", square(114.0, 22.5, 114.05, 22.55), id="1", d="440301"),
             feature("甲二", square(114.05, 22.5, 114.1, 22.55), id="2", d="440301")]
    plan(first, code_field="id", parent_field="d", commit=True)
    second = [feature("乙一", square(114.1, 22.5, 114.15, 22.55), id="1", d="440302"),
              feature("乙二", square(114.15, 22.5, 114.2, 22.55), id="2", d="440302")]
    report = plan(second, code_field="id", parent_field="d", commit=True)
    assert report.count("create") == 2 and not report.rejected
    assert sorted(Region.objects.filter(level="street").values_list("name", "parent__code")) == [
        ("乙一", "440302"), ("乙二", "440302"), ("甲一", "440301"), ("甲二", "440301")]


def test_moving_a_stored_region_to_another_parent_needs_allow_move(city):
    regions_import(collection(feature("乙区", square(114.1, 22.5, 114.2, 22.6), code="440302")),
                   level="district", code_field="code", actor=None, commit=True)
    plan([feature("甲街道", square(114.0, 22.5, 114.05, 22.55), code="440301001", d="440301")],
         parent_field="d", commit=True)
    moved = [feature("甲街道", square(114.1, 22.5, 114.15, 22.55), code="440301001", d="440302")]
    report = plan(moved, parent_field="d", commit=True)
    assert "use --allow-move" in reasons(report)[0]
    assert Region.objects.get(code="440301001").parent.code == "440301"
    report = plan(moved, parent_field="d", commit=True, allow_move=True)
    assert "move" in report.planned[0].action
    assert Region.objects.get(code="440301001").parent.code == "440302"


def test_retire_missing_refuses_while_features_are_rejected_and_keeps_parents_of_active_regions(city):
    plan([feature("甲街道", square(114.0, 22.5, 114.05, 22.55), code="440301001"),
          feature("乙街道", square(114.05, 22.5, 114.1, 22.55), code="440301002")], commit=True)
    with pytest.raises(GeoImportError, match="fix them before retiring"):
        plan([feature("甲街道", square(114.0, 22.5, 114.05, 22.55), code="440301001"),
              feature("", square(114.05, 22.5, 114.1, 22.55), code="440301002")], commit=True, retire_missing=True)
    assert Region.objects.get(code="440301002").is_active
    regions_import(collection(feature("乙社区", square(114.05, 22.5, 114.1, 22.55), code="440301002001",
                                      parent="440301002")),
                   level="community", code_field="code", parent_field="parent", actor=None, commit=True)
    report = plan([feature("甲街道", square(114.0, 22.5, 114.05, 22.55), code="440301001")], commit=True,
                  retire_missing=True)
    assert Region.objects.get(code="440301002").is_active
    assert any("still has active regions below it" in n for n in report.notes)


def test_a_field_no_feature_has_is_named_once_with_the_properties_there_are(city):
    with pytest.raises(GeoImportError, match=r"--code-field adcod: no feature has that property \(properties: code"):
        plan([feature("甲街道", square(114.0, 22.5, 114.05, 22.55), code="440301001")], code_field="adcod")
    with pytest.raises(GeoImportError, match="overlap tolerance"):
        plan([feature("甲街道", square(114.0, 22.5, 114.05, 22.55), code="440301001")], overlap_tolerance=-1)
