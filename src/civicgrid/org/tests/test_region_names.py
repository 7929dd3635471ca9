"""A region's name is shown on every map and list: markup and control characters are refused
wherever a name comes in — the API, the admin, a boundary file, a new city."""

from __future__ import annotations

import pytest

from civicgrid.audit.models import AuditEntry
from civicgrid.geo.models import Region
from civicgrid.geo.services import GeoImportError, city_create, regions_import
from civicgrid.org.tests.test_admin import MANAGE_ALL, allow
from conftest import PASSWORD, collection, feature, square

pytestmark = pytest.mark.django_db

A_GRID = "440301001001001"
MARKUP = "<img src=x onerror=alert(1)>"
BAD_NAMES = [MARKUP, "第1网格<script>", "网格\x00一", "网格\u202e一", "网格\n一", "A&B", '"引号"']


@pytest.mark.parametrize("name", BAD_NAMES)
def test_the_api_refuses_a_region_name_with_markup_or_control_characters_naming_the_field(cast, client, name):
    client.login(username="admin_a", password=PASSWORD)
    before = Region.objects.get(code=A_GRID).name
    r = client.patch(f"/api/v1/regions/{A_GRID}", {"name": name}, content_type="application/json")
    assert r.status_code == 422, r.content
    assert list(r.json()["error"]["fields"]) == ["name"]
    assert Region.objects.get(code=A_GRID).name == before
    assert not AuditEntry.objects.filter(action="geo.region.rename").exists()


def test_the_api_still_takes_an_ordinary_place_name(cast, client):
    client.login(username="admin_a", password=PASSWORD)
    r = client.patch(f"/api/v1/regions/{A_GRID}", {"name": "百合社区 第1网格（东）· A-1"},
                     content_type="application/json")
    assert r.status_code == 200, r.content
    assert Region.objects.get(code=A_GRID).name == "百合社区 第1网格（东）· A-1"


def test_the_admin_shows_a_form_error_for_a_name_with_markup(client, cast):
    admin_a = allow(cast.admin_a, *MANAGE_ALL)
    region = cast.city.get("440301001")
    client.force_login(admin_a)
    response = client.post(f"/admin/geo/region/{region.pk}/change/", {"name": MARKUP})
    assert response.status_code == 200  # the form again, with its error
    assert response.context["adminform"].form.errors["name"]
    assert Region.objects.get(pk=region.pk).name != MARKUP


def test_a_boundary_file_feature_with_markup_in_its_name_is_rejected_with_its_reason(db):
    city_create(code="440300", name="测试市", actor=None)
    regions_import(collection(feature("甲区", square(114.0, 22.5, 114.1, 22.6), code="440301")),
                   level="district", code_field="code", actor=None, commit=True)
    report = regions_import(collection(
        feature("好街道", square(114.0, 22.5, 114.01, 22.51), code="440301009"),
        feature(MARKUP, square(114.02, 22.5, 114.03, 22.51), code="440301010")),
        level="street", code_field="code", actor=None, commit=True)
    rejected = {r.index: r.reason for r in report.rejected}
    assert list(rejected) == [1] and "refused" in rejected[1] and "<" in rejected[1]
    assert not Region.objects.filter(code="440301010").exists()
    assert Region.objects.get(code="440301009").name == "好街道"


def test_a_new_city_with_markup_in_its_name_is_refused(db):
    with pytest.raises(GeoImportError, match="refused"):
        city_create(code="990100", name=MARKUP, actor=None)
