"""Jurisdiction: Alice and Bob work in district A, Charlie in district B. Charlie must never read or
change district A's records — through the services, the selectors or the API (always 404)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import transaction

from civicgrid.audit.models import AuditEntry
from civicgrid.org.models import Role
from civicgrid.org.permissions import MANAGE, VIEW, matrix_markdown, role_allows
from civicgrid.org.scoping import OutOfScope
from civicgrid.org.selectors import department_get, departments_visible, region_get, regions_visible
from civicgrid.org.services import department_create, department_update, membership_grant, region_rename
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

A_GRID = "440301001001001"
A_STREET = "440301001"
B_GRID = "440302001001001"


def codes(qs):
    return set(qs.values_list("code", flat=True))


def test_a_street_dispatcher_sees_her_street_and_everything_below_it(cast):
    seen = codes(regions_visible(cast.alice))
    assert {A_STREET, "440301001001", A_GRID} <= seen
    assert "440301002" not in seen  # the other street of district A
    assert not any(c.startswith("440302") for c in seen)


def test_a_street_dispatcher_also_sees_the_district_and_city_above_her(cast):
    assert {"440301", "440300"} <= codes(regions_visible(cast.alice))
    assert "440302" not in codes(regions_visible(cast.alice))


def test_a_grid_worker_sees_only_his_grid(cast):
    assert codes(regions_visible(cast.bob, level="grid")) == {A_GRID}


def test_charlie_of_district_b_gets_404_for_district_a(cast):
    with pytest.raises(OutOfScope):
        region_get(cast.charlie, A_GRID)
    with pytest.raises(OutOfScope):
        region_get(cast.charlie, "440301")
    assert region_get(cast.charlie, B_GRID).code == B_GRID


def test_an_outsider_without_membership_sees_nothing(cast, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password=PASSWORD)
    assert regions_visible(nobody).count() == 0


def test_viewing_is_not_managing(cast):
    # Alice (dispatcher) may view but not manage reference data; the district admin may manage it.
    with pytest.raises(OutOfScope):
        region_rename(actor=cast.alice, region=cast.city.get(A_GRID), name="改名")
    renamed = region_rename(actor=cast.admin_a, region=cast.city.get(A_GRID), name="改名网格")
    assert renamed.name == "改名网格"
    assert AuditEntry.objects.filter(action="geo.region.rename", actor=cast.admin_a).count() == 1


def test_an_admin_of_district_a_cannot_rename_in_district_b(cast):
    with pytest.raises(OutOfScope):
        region_rename(actor=cast.admin_a, region=cast.city.get(B_GRID), name="越权")
    assert cast.city.get(B_GRID).name != "越权"
    assert not AuditEntry.objects.filter(action="geo.region.rename").exists()


def test_nobody_can_move_a_department_out_of_their_own_jurisdiction(cast):
    dept = department_create(actor=cast.admin_a, code="A-CG", name="甲区城管执法局", region=cast.city.a)
    with pytest.raises(OutOfScope), transaction.atomic():
        department_update(actor=cast.admin_a, department=dept, region=cast.city.b)
    dept.refresh_from_db()
    assert dept.region == cast.city.a


def test_departments_are_visible_down_and_up_the_chain_but_not_across(cast):
    department_create(actor=None, code="A-CG", name="甲区城管执法局", region=cast.city.a)
    department_create(actor=None, code="B-CG", name="乙区城管执法局", region=cast.city.b)
    department_create(actor=None, code="C-SW", name="市水务局", region=cast.city.city)
    assert codes(departments_visible(cast.alice)) == {"A-CG", "C-SW"}
    assert codes(departments_visible(cast.charlie)) == {"B-CG", "C-SW"}
    with pytest.raises(OutOfScope):
        department_get(cast.charlie, "A-CG")


def test_a_department_handler_sees_the_regions_his_department_serves(cast, django_user_model):
    dept = department_create(actor=None, code="A-CG", name="甲区城管执法局", region=cast.city.a,
                             service_regions=[cast.city.get(A_STREET)])
    handler = django_user_model.objects.create_user("handler", password=PASSWORD)
    membership_grant(actor=None, user=handler, role=Role.DEPARTMENT_HANDLER, department=dept)
    seen = codes(regions_visible(handler))
    assert A_GRID in seen and B_GRID not in seen and "440301002" not in seen
    assert codes(departments_visible(handler)) == {"A-CG"}


def test_a_revoked_or_inactive_user_loses_reach(cast):
    cast.alice.is_active = False
    assert regions_visible(cast.alice).count() == 0


def test_the_api_answers_404_for_another_district_and_refuses_to_change_it(cast, client):
    client.login(username="charlie", password=PASSWORD)
    r = client.get(f"/api/v1/regions/{A_GRID}")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
    r = client.patch(f"/api/v1/regions/{A_GRID}", {"name": "越权"}, content_type="application/json")
    assert r.status_code == 404
    assert cast.city.get(A_GRID).name != "越权"
    assert client.get(f"/api/v1/regions/{B_GRID}").status_code == 200


def test_the_api_lists_only_what_the_user_may_see(cast, client):
    client.login(username="alice", password=PASSWORD)
    listed = {r["code"] for r in client.get("/api/v1/regions?level=grid").json()}
    assert A_GRID in listed and B_GRID not in listed


def test_the_api_needs_a_signed_in_user(cast, client):
    r = client.get(f"/api/v1/regions/{A_GRID}")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"


def test_the_district_admin_renames_over_the_api_and_bad_input_names_the_field(cast, client):
    client.login(username="admin_a", password=PASSWORD)
    r = client.patch(f"/api/v1/regions/{A_GRID}", {"name": "新网格名"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["name"] == "新网格名"
    r = client.patch(f"/api/v1/regions/{A_GRID}", {"name": ""}, content_type="application/json")
    assert r.status_code == 422 and "name" in r.json()["error"]["fields"]
    r = client.patch(f"/api/v1/regions/{A_GRID}", {}, content_type="application/json")
    assert r.status_code == 422 and "name" in r.json()["error"]["fields"]


def test_role_matrix_refuses_unknown_actions():
    assert role_allows(Role.LEADER, VIEW) and not role_allows(Role.LEADER, MANAGE)
    with pytest.raises(ValueError):
        role_allows(Role.LEADER, "delete")


def test_permissions_doc_matches_the_code():
    doc = (Path(__file__).resolve().parents[4] / "docs" / "permissions.md").read_text(encoding="utf-8")
    assert matrix_markdown() in doc


def test_a_community_admin_does_not_manage_the_street_above_him(cast, django_user_model):
    from civicgrid.org.scoping import scoped, users_scoped

    street = cast.city.get(A_STREET)
    dept = department_create(actor=None, code="S-OFFICE", name="街道办", region=street)
    handler = django_user_model.objects.create_user("street_handler", password=PASSWORD)
    membership_grant(actor=None, user=handler, role=Role.DEPARTMENT_HANDLER, department=dept)
    c_admin = django_user_model.objects.create_user("c_admin", password=PASSWORD)
    membership_grant(actor=None, user=c_admin, role=Role.ADMIN, region=cast.city.get("440301001001"))
    from civicgrid.org.models import Department, User

    assert scoped(Department.objects.all(), c_admin, VIEW).filter(code="S-OFFICE").exists()  # may read it
    assert not scoped(Department.objects.all(), c_admin, MANAGE).filter(code="S-OFFICE").exists()
    assert not users_scoped(User.objects.all(), c_admin, MANAGE).filter(username="street_handler").exists()


def test_the_user_and_membership_services_check_jurisdiction_themselves(cast):
    from civicgrid.org.services import membership_revoke, user_unlock, user_update

    with pytest.raises(OutOfScope):  # a district A admin cannot change Charlie, who works in district B
        user_update(actor=cast.admin_a, user=cast.charlie, display_name="越权")
    with pytest.raises(OutOfScope):
        user_unlock(actor=cast.admin_a, user=cast.charlie)
    with pytest.raises(OutOfScope):
        membership_grant(actor=cast.admin_a, user=cast.bob, role=Role.DISPATCHER, region=cast.city.b)
    with pytest.raises(OutOfScope):
        membership_revoke(actor=cast.admin_a, membership=cast.charlie.memberships.get())
    user_update(actor=cast.admin_a, user=cast.bob, display_name="网格员鲍勃")  # Bob works in district A
    user_update(actor=cast.charlie, user=cast.charlie, display_name="查理")  # one's own profile
    assert cast.charlie.memberships.get().is_active


def test_an_unknown_level_is_a_422_naming_the_field(cast, client):
    client.login(username="alice", password=PASSWORD)
    r = client.get("/api/v1/regions?level=bogus")
    assert r.status_code == 422 and "level" in r.json()["error"]["fields"]


@pytest.mark.django_db
def test_roles_reaching_answers_like_the_database(cast):
    """The engine decides who may act on a loaded case without a query when the rule only compares
    the case's own columns; the answer must equal the database's for every user, action and case."""
    from civicgrid.cases.models import Case
    from civicgrid.cases.services import Location, case_create
    from civicgrid.cases.testing import register_drill
    from civicgrid.geo.models import Region
    from civicgrid.org.permissions import ACT
    from civicgrid.org.scoping import roles_reaching, scope_q

    register_drill()
    regions = list(Region.objects.filter(level__in=["grid", "community", "street"]).order_by("code"))
    cases = [case_create(actor=None, case_type="drill", title="t", location=Location(region=r)) for r in regions]
    users = [cast.alice, cast.bob, cast.charlie, cast.admin_a]
    reached = 0
    for user in users:
        for action in (VIEW, ACT):
            q = scope_q(Case, user, action)
            for case in cases:
                in_db = Case.objects.filter(q, pk=case.pk).exists()
                assert bool(roles_reaching(case, user, action)) == in_db, (user.username, action, case.street_id)
                reached += in_db
    assert 0 < reached < len(users) * 2 * len(cases)  # some reach, some do not
