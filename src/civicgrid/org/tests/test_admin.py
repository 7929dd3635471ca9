"""The admin in Chinese, scoped by jurisdiction, saving through services (Alice/Bob/Charlie)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.utils import translation

from civicgrid.audit.models import AuditEntry
from civicgrid.geo.models import Region
from civicgrid.org.models import Department, Membership, Role, User
from civicgrid.org.services import department_create, membership_grant, user_update
from civicgrid.privacy.validators import id_check_char
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

PHONE = "13800138000"
ID17 = "44030319851231002"
ID_NUMBER = ID17 + id_check_char(ID17)


def allow(user: User, *codenames: str) -> User:
    """Give a cast member Django model permissions (the admin's first gate; jurisdiction is the second)."""
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    User.objects.filter(pk=user.pk).update(is_staff=True)
    return User.objects.get(pk=user.pk)


VIEW_ALL = ("view_region", "view_boundaryversion", "view_department", "view_membership", "view_user")
MANAGE_ALL = (*VIEW_ALL, "change_region", "add_department", "change_department", "add_membership",
              "change_membership", "add_user", "change_user")


@pytest.fixture
def staff(cast):
    """Alice and Charlie may open the admin and change what their memberships allow; admin_a manages
    district A (the admin role carries the ``manage`` action)."""
    cast.alice = allow(cast.alice, *MANAGE_ALL)
    cast.charlie = allow(cast.charlie, *MANAGE_ALL)
    cast.admin_a = allow(cast.admin_a, *MANAGE_ALL)
    return cast


def as_user(client, user: User):
    client.force_login(user)
    return client


def codes(response) -> set[str]:
    return {obj.code for obj in response.context["cl"].queryset}


def change_url(model: str, pk: int) -> str:
    return f"/admin/{model}/{pk}/change/"


# --- language -----------------------------------------------------------------------------------


def test_the_admin_index_speaks_chinese(client, staff):
    response = as_user(client, staff.alice).get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="zh-hans"' in html
    assert "区域与网格" in html and "组织与用户" in html  # our app names
    assert "最近动作" in html and "注销" in html  # Django's own strings, translated


def test_the_region_list_speaks_chinese(client, staff):
    response = as_user(client, staff.alice).get("/admin/geo/region/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "搜索" in html and "首页" in html
    with translation.override("zh-hans"):
        if translation.gettext("region") != "region":  # once the zh_Hans catalogue has our msgids
            assert "区域" in html


# --- regions: scoping ---------------------------------------------------------------------------


def test_alice_sees_her_streets_regions_and_not_district_b(client, staff):
    response = as_user(client, staff.alice).get("/admin/geo/region/")
    seen = codes(response)
    assert "440301001" in seen and "440301001001001" in seen
    assert not any(code.startswith("440302") for code in seen)
    assert "440301002" not in seen  # the other street of her own district is not hers either


def test_charlie_gets_404_for_a_district_a_region(client, staff):
    region = staff.city.get("440301001")
    client = as_user(client, staff.charlie)
    assert client.get(change_url("geo/region", region.pk)).status_code == 404
    assert client.post(change_url("geo/region", region.pk), {"name": "乙区拿走"}).status_code == 404
    assert client.get(f"/admin/geo/region/{region.pk}/history/").status_code == 404
    assert Region.objects.get(pk=region.pk).name != "乙区拿走"


def test_a_region_page_shows_its_chain_and_boundary_read_only(client, staff):
    region = staff.city.get("440301001001001")
    response = as_user(client, staff.alice).get(change_url("geo/region", region.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "&quot;type&quot;: &quot;Polygon&quot;" in html  # the GeoJSON preview (escaped in a textarea)
    assert "km²" in html
    assert 'name="name"' not in html  # Alice (dispatcher) may view, not manage, reference data


def test_a_rename_through_the_admin_goes_through_the_service_and_is_audited(client, staff):
    region = staff.city.get("440301001")
    client = as_user(client, staff.admin_a)
    response = client.post(change_url("geo/region", region.pk), {"name": "新安街道"})
    assert response.status_code == 302
    assert Region.objects.get(pk=region.pk).name == "新安街道"
    row = AuditEntry.objects.get(action="geo.region.rename", target_id=str(region.pk))
    assert row.actor_id == staff.admin_a.pk
    assert (row.before, row.after) == ({"name": "440301街道1"}, {"name": "新安街道"})


def test_a_viewer_cannot_rename_even_with_the_django_permission(client, staff):
    region = staff.city.get("440301001")
    response = as_user(client, staff.alice).post(change_url("geo/region", region.pk), {"name": "偷改"})
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="geo.region.rename").exists()


def test_regions_are_neither_added_nor_deleted_in_the_admin(client, staff):
    client = as_user(client, staff.admin_a)
    region = staff.city.get("440301001")
    assert client.get("/admin/geo/region/add/").status_code == 403
    assert client.post(f"/admin/geo/region/{region.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Region.objects.filter(pk=region.pk).exists()


def test_boundary_versions_are_listed_read_only(client, staff):
    client = as_user(client, staff.alice)
    assert client.get("/admin/geo/boundaryversion/").status_code == 200
    assert client.get("/admin/geo/boundaryversion/add/").status_code == 403


# --- departments ----------------------------------------------------------------------------------


def test_a_department_created_in_the_admin_is_created_by_the_service(client, staff):
    a = staff.city.get("440301")
    street = staff.city.get("440301001")
    response = as_user(client, staff.admin_a).post("/admin/org/department/add/", {
        "code": "A-CG", "name": "甲区城管局", "function": "urban_management", "region": a.pk,
        "is_active": "on", "service_regions": [a.pk, street.pk],
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    dept = Department.objects.get(code="A-CG")
    assert (dept.function, dept.district_id) == ("urban_management", a.pk)
    assert set(dept.service_regions.values_list("code", flat=True)) == {"440301", "440301001"}
    row = AuditEntry.objects.get(action="org.department.create")
    assert row.actor_id == staff.admin_a.pk
    assert row.after["function"] == "urban_management"
    assert row.after["service_regions"] == ["440301", "440301001"]


def test_a_department_cannot_be_placed_outside_ones_jurisdiction(client, staff):
    b = staff.city.get("440302")
    response = as_user(client, staff.admin_a).post("/admin/org/department/add/", {
        "code": "B-CG", "name": "乙区城管局", "region": b.pk, "is_active": "on", "service_regions": [b.pk],
    })
    assert response.status_code == 200  # the form refuses the choice
    assert "region" in response.context["adminform"].form.errors
    assert not Department.objects.filter(code="B-CG").exists()


def test_a_department_update_in_the_admin_is_audited_and_charlie_cannot_see_it(client, staff):
    a = staff.city.get("440301")
    dept = department_create(actor=None, code="A-ZJ", name="甲区住建局", region=a)
    response = as_user(client, staff.admin_a).post(change_url("org/department", dept.pk), {
        "name": "甲区住房和建设局", "function": "", "region": a.pk, "is_active": "on",
        "service_regions": [a.pk],
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Department.objects.get(pk=dept.pk).name == "甲区住房和建设局"
    assert AuditEntry.objects.filter(action="org.department.update", actor=staff.admin_a).exists()
    client.force_login(staff.charlie)
    assert client.get(change_url("org/department", dept.pk)).status_code == 404


# --- users ---------------------------------------------------------------------------------------------


@pytest.fixture
def bob_with_numbers(staff):
    return user_update(actor=None, user=User.objects.get(pk=staff.bob.pk), phone=PHONE, id_number=ID_NUMBER)


def test_the_user_list_and_page_show_masked_numbers_only(client, staff, bob_with_numbers):
    client = as_user(client, staff.alice)
    listing = client.get("/admin/org/user/").content.decode()
    assert "138****8000" in listing and PHONE not in listing
    page = client.get(change_url("org/user", staff.bob.pk)).content.decode()
    assert "138****8000" in page and "440303********" in page
    assert PHONE not in page and ID_NUMBER not in page and ID_NUMBER[6:14] not in page


def test_alice_sees_bob_but_not_charlie(client, staff):
    client = as_user(client, staff.alice)
    usernames = {u.username for u in client.get("/admin/org/user/").context["cl"].queryset}
    assert {"alice", "bob"} <= usernames and "charlie" not in usernames
    assert client.get(change_url("org/user", staff.charlie.pk)).status_code == 404


NUMBER_SEARCH = "/admin/org/user/number-search/"


def test_the_user_search_finds_an_exact_phone_sent_by_post_and_records_the_look_up(client, staff,
                                                                                  bob_with_numbers):
    client = as_user(client, staff.admin_a)
    assert "number-search/" in client.get("/admin/org/user/").content.decode()
    response = client.post(NUMBER_SEARCH, {"number": "138 0013 8000"})
    page = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert [u.username for u, _p, _i in response.context["results"]] == ["bob"]
    assert "138****8000" in page and PHONE not in page and "138 0013 8000" not in page
    row = AuditEntry.objects.get(action="privacy.search")
    assert row.actor_id == staff.admin_a.pk and row.target_type == "org.user"
    assert row.extra["matches"] == 1 and row.extra["value"] == "138****8000"
    assert row.extra["ids"] == [str(staff.bob.pk)]
    stored = User.objects.get(pk=staff.bob.pk)
    assert row.extra["hashes"]["phone"] == stored.phone_hash  # an auditor finds every search for bob
    every_value = str([getattr(row, f.attname) for f in AuditEntry._meta.concrete_fields])
    assert PHONE not in every_value and ID_NUMBER[6:14] not in every_value


def test_an_identity_number_search_is_audited_masked(client, staff, bob_with_numbers):
    response = as_user(client, staff.admin_a).post(NUMBER_SEARCH, {"number": ID_NUMBER})
    assert [u.username for u, _p, _i in response.context["results"]] == ["bob"]
    row = AuditEntry.objects.get(action="privacy.search")
    assert row.extra["value"] == ID_NUMBER[:6] + "********" + ID_NUMBER[-4:]
    assert ID_NUMBER not in response.content.decode() and ID_NUMBER not in str(row.extra)


def test_a_phone_number_in_the_changelists_address_finds_nobody_and_points_to_the_number_search(
        client, staff, bob_with_numbers):
    response = as_user(client, staff.admin_a).get("/admin/org/user/", {"q": "138 0013 8000"})
    assert list(response.context["cl"].queryset) == []
    assert "number-search/" in response.content.decode()
    assert not AuditEntry.objects.filter(action="privacy.search").exists()


def test_the_number_search_stays_in_the_jurisdiction_and_a_get_searches_nothing(client, staff):
    user_update(actor=None, user=User.objects.get(pk=staff.charlie.pk), phone=PHONE)
    client = as_user(client, staff.admin_a)
    assert client.get(NUMBER_SEARCH, {"number": PHONE}).context["results"] is None
    response = client.post(NUMBER_SEARCH, {"number": PHONE})
    assert response.context["results"] == []  # charlie is in district B
    assert AuditEntry.objects.get(action="privacy.search").extra["matches"] == 0
    bad = client.post(NUMBER_SEARCH, {"number": "bob"})
    assert bad.status_code == 200 and bad.context["form"].errors
    assert AuditEntry.objects.filter(action="privacy.search").count() == 1


def test_the_number_search_needs_the_admins_user_permission(client, cast):
    assert as_user(client, allow(cast.bob)).post(NUMBER_SEARCH, {"number": PHONE}).status_code == 403
    client.logout()
    assert client.post(NUMBER_SEARCH, {"number": PHONE}).status_code == 302  # to the admin's sign-in


def test_the_full_number_needs_the_reveal_permission(client, staff, bob_with_numbers):
    client = as_user(client, staff.alice)
    page = client.get(change_url("org/user", staff.bob.pk)).content.decode()
    assert "/reveal/" not in page
    assert client.get(f"/admin/org/user/{staff.bob.pk}/reveal/").status_code == 403


def test_the_reveal_page_asks_for_a_purpose_and_writes_one_audit_row(client, staff, bob_with_numbers):
    alice = allow(staff.alice, "reveal_user")
    client = as_user(client, alice)
    page = client.get(change_url("org/user", staff.bob.pk)).content.decode()
    assert f"/admin/org/user/{staff.bob.pk}/reveal/" in page
    url = f"/admin/org/user/{staff.bob.pk}/reveal/"
    refused = client.post(url, {"field": "phone", "purpose": "看"})
    assert refused.status_code == 200 and PHONE not in refused.content.decode()
    assert not AuditEntry.objects.filter(action="privacy.reveal").exists()
    shown = client.post(url, {"field": "phone", "purpose": "回访核实诉求"})
    assert shown.status_code == 200 and PHONE in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    row = AuditEntry.objects.get(action="privacy.reveal")
    assert row.actor_id == alice.pk and row.extra == {"field": "phone", "purpose": "回访核实诉求"}


def test_the_reveal_page_answers_404_outside_the_jurisdiction(client, staff):
    charlie = allow(staff.charlie, "reveal_user")
    assert as_user(client, charlie).get(f"/admin/org/user/{staff.bob.pk}/reveal/").status_code == 404


def test_a_new_phone_typed_in_the_user_page_is_saved_by_the_service(client, staff):
    bob = staff.bob
    form = {"username": "bob", "display_name": "Bob", "email": "", "new_phone": "139 1234 5678",
            "new_id_number": "", "is_active": "on", "is_staff": "on",
            "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    response = as_user(client, staff.admin_a).post(change_url("org/user", bob.pk), form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.get(pk=bob.pk).phone == "13912345678"
    row = AuditEntry.objects.filter(action="org.user.update", target_id=str(bob.pk)).get()
    assert set(row.after) == {"phone"}
    assert row.after["phone"].startswith("***") and "5678" not in row.after["phone"]


def test_a_user_added_in_the_admin_must_have_a_strong_password(client, staff):
    client = as_user(client, staff.admin_a)
    data = {"username": "dora", "display_name": "Dora", "usable_password": "true", "role": Role.GRID_WORKER,
            "region": staff.city.get("440301001001002").pk}
    weak = client.post("/admin/org/user/add/", {**data, "password1": "dora12345", "password2": "dora12345"})
    assert weak.status_code == 200 and "password2" in weak.context["adminform"].form.errors
    assert not User.objects.filter(username="dora").exists()
    strong = client.post("/admin/org/user/add/", {**data, "password1": PASSWORD, "password2": PASSWORD})
    assert strong.status_code == 302, strong.context["adminform"].form.errors
    dora = User.objects.get(username="dora")
    assert dora.check_password(PASSWORD)
    created = AuditEntry.objects.get(action="org.user.create", target_id=str(dora.pk))
    assert created.actor_id == staff.admin_a.pk
    assert Membership.objects.filter(user=dora, role=Role.GRID_WORKER, is_active=True).exists()
    assert client.get(change_url("org/user", dora.pk)).status_code == 200  # she is in admin_a's reach


def test_a_non_superuser_must_place_a_new_account_in_their_jurisdiction(client, staff):
    client = as_user(client, staff.admin_a)
    data = {"username": "evan", "usable_password": "true", "password1": PASSWORD, "password2": PASSWORD}
    assert client.post("/admin/org/user/add/", data).status_code == 200
    b_grid = staff.city.get("440302001001001")
    response = client.post("/admin/org/user/add/", {**data, "role": Role.GRID_WORKER, "region": b_grid.pk})
    assert response.status_code == 200 and "region" in response.context["adminform"].form.errors
    assert not User.objects.filter(username="evan").exists()


def test_the_unlock_action_calls_the_service(client, staff):
    response = as_user(client, staff.admin_a).post("/admin/org/user/", {
        "action": "unlock_users", "_selected_action": [staff.bob.pk, staff.charlie.pk]})
    assert response.status_code == 302
    assert list(AuditEntry.objects.filter(action="org.user.unlock").values_list("target_id", flat=True)) == [
        str(staff.bob.pk)]  # Charlie was not even selectable for admin_a


def test_a_district_admin_cannot_take_over_an_account_that_also_works_elsewhere(client, staff):
    b_grid = staff.city.get("440302001001001")
    membership_grant(actor=None, user=staff.bob, role=Role.GRID_WORKER, region=b_grid)
    client = as_user(client, staff.admin_a)
    assert client.get(change_url("org/user", staff.bob.pk)).status_code == 404  # neither seen …
    assert client.get(f"/admin/org/user/{staff.bob.pk}/password/").status_code in (403, 404)  # … nor managed


def test_a_password_set_in_the_admin_is_checked_and_audited(client, staff):
    client = as_user(client, staff.admin_a)
    url = f"/admin/org/user/{staff.bob.pk}/password/"
    weak = client.post(url, {"usable_password": "true", "password1": "bobbobbob1", "password2": "bobbobbob1"})
    assert weak.status_code == 200
    assert not AuditEntry.objects.filter(action="org.user.password").exists()
    strong = {"usable_password": "true", "password1": "New-Horse-77", "password2": "New-Horse-77"}
    ok = client.post(url, strong)
    assert ok.status_code == 302
    assert User.objects.get(pk=staff.bob.pk).check_password("New-Horse-77")
    assert AuditEntry.objects.get(action="org.user.password").actor_id == staff.admin_a.pk


def test_users_are_never_deleted_in_the_admin(client, staff):
    client = as_user(client, staff.admin_a)
    assert client.post(f"/admin/org/user/{staff.bob.pk}/delete/", {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=staff.bob.pk).exists()


# --- memberships -----------------------------------------------------------------------------------


def test_a_membership_granted_in_the_admin_goes_through_the_service(client, staff):
    community = staff.city.get("440301001001")
    response = as_user(client, staff.admin_a).post("/admin/org/membership/add/", {
        "user": staff.bob.pk, "role": Role.MEDIATOR, "region": community.pk, "department": ""})
    assert response.status_code == 302, response.context["adminform"].form.errors
    m = Membership.objects.get(user=staff.bob, role=Role.MEDIATOR)
    granted = AuditEntry.objects.get(action="org.membership.grant", target_id=str(m.pk))
    assert granted.actor_id == staff.admin_a.pk


def test_a_membership_outside_the_jurisdiction_cannot_be_granted(client, staff):
    response = as_user(client, staff.admin_a).post("/admin/org/membership/add/", {
        "user": staff.bob.pk, "role": Role.MEDIATOR, "region": staff.city.get("440302").pk, "department": ""})
    assert response.status_code == 200 and "region" in response.context["adminform"].form.errors


def test_the_revoke_action_calls_the_service_and_only_within_reach(client, staff):
    bob_m = Membership.objects.get(user=staff.bob)
    charlie_m = Membership.objects.get(user=staff.charlie)
    response = as_user(client, staff.admin_a).post("/admin/org/membership/", {
        "action": "revoke_memberships", "_selected_action": [bob_m.pk, charlie_m.pk]})
    assert response.status_code == 302
    assert not Membership.objects.get(pk=bob_m.pk).is_active
    assert Membership.objects.get(pk=charlie_m.pk).is_active
    assert AuditEntry.objects.filter(action="org.membership.revoke").count() == 1


def test_a_membership_page_is_read_only(client, staff):
    bob_m = Membership.objects.get(user=staff.bob)
    client = as_user(client, staff.admin_a)
    assert client.get(change_url("org/membership", bob_m.pk)).status_code == 200
    assert client.post(change_url("org/membership", bob_m.pk), {"role": Role.ADMIN}).status_code == 403
    client.force_login(staff.charlie)
    assert client.get(change_url("org/membership", bob_m.pk)).status_code == 404


# --- every page renders ------------------------------------------------------------------------------


@pytest.fixture
def root(cast):
    from civicgrid.org.services import user_create

    return user_create(actor=None, username="root", password=PASSWORD, is_superuser=True)


@pytest.mark.parametrize("who", ["root", "admin_a", "alice"])
def test_every_list_add_and_change_page_renders(client, staff, root, who):
    user = root if who == "root" else getattr(staff, who)
    dept = department_create(actor=None, code="A-X", name="甲区某局", region=staff.city.get("440301001"))
    bob_m = Membership.objects.get(user=staff.bob)
    client = as_user(client, user)
    pages = ["/admin/", "/admin/geo/region/", "/admin/geo/boundaryversion/", "/admin/org/department/",
             "/admin/org/user/", "/admin/org/membership/",
             change_url("geo/region", staff.city.get("440301001").pk), change_url("org/department", dept.pk),
             change_url("org/user", staff.bob.pk), change_url("org/membership", bob_m.pk),
             f"/admin/org/user/{staff.bob.pk}/history/"]
    if who != "alice":
        pages += ["/admin/org/department/add/", "/admin/org/user/add/", "/admin/org/membership/add/",
                  f"/admin/org/user/{staff.bob.pk}/password/"]
    for page in pages:
        assert client.get(page).status_code == 200, page


def test_the_region_autocomplete_offers_only_what_one_may_see(client, staff):
    response = as_user(client, staff.admin_a).get("/admin/autocomplete/", {
        "app_label": "org", "model_name": "department", "field_name": "region", "term": "4403"})
    assert response.status_code == 200
    offered = {r["text"] for r in response.json()["results"]}
    assert any("440301" in t for t in offered) and not any("440302" in t for t in offered)


def test_only_a_superuser_changes_access_rights_and_that_is_audited(client, staff, root):
    perm = Permission.objects.get(codename="reveal_user")
    form = {"username": "bob", "display_name": "Bob", "email": "", "new_phone": "", "new_id_number": "",
            "is_active": "on", "is_staff": "on", "user_permissions": [perm.pk],
            "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    as_user(client, staff.admin_a).post(change_url("org/user", staff.bob.pk), form)
    assert not User.objects.get(pk=staff.bob.pk).user_permissions.exists()  # read-only for admin_a
    response = as_user(client, root).post(change_url("org/user", staff.bob.pk), form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.get(pk=staff.bob.pk).has_perm("org.reveal_user")
    row = AuditEntry.objects.get(action="org.user.access")
    assert row.actor_id == root.pk and row.after == {"user_permissions": ["org.reveal_user"]}


def test_a_membership_added_on_the_user_page_is_granted_by_the_service(client, staff):
    community = staff.city.get("440301001001")
    form = {"username": "bob", "display_name": "Bob", "email": "", "new_phone": "", "new_id_number": "",
            "is_active": "on", "is_staff": "on",
            "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0",
            "memberships-0-role": Role.MEDIATOR, "memberships-0-region": community.pk,
            "memberships-0-department": ""}
    response = as_user(client, staff.admin_a).post(change_url("org/user", staff.bob.pk), form)
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    m = Membership.objects.get(user=staff.bob, role=Role.MEDIATOR, region=community)
    granted = AuditEntry.objects.get(action="org.membership.grant", target_id=str(m.pk))
    assert granted.actor_id == staff.admin_a.pk


@pytest.fixture
def city_accounts(staff):
    """A city-level administrator and the superuser, each also holding a role in district A."""
    a_grid = staff.city.get("440301001001001")
    boss = User.objects.create_user("city_boss", password=PASSWORD, is_staff=True)
    membership_grant(actor=None, user=boss, role=Role.ADMIN, region=staff.city.city)
    membership_grant(actor=None, user=boss, role=Role.GRID_WORKER, region=a_grid)
    root = User.objects.create_superuser("root", password=PASSWORD)
    membership_grant(actor=None, user=root, role=Role.GRID_WORKER, region=a_grid)
    return boss, root


def test_a_district_admin_neither_sees_nor_opens_city_level_accounts_or_the_superuser(client, staff, city_accounts):
    client = as_user(client, staff.admin_a)
    listed = {u.username for u in client.get("/admin/org/user/").context["cl"].queryset}
    assert "bob" in listed and not {"city_boss", "root"} & listed
    for user in city_accounts:
        assert client.get(change_url("org/user", user.pk)).status_code == 404


def test_a_district_admin_cannot_grant_a_city_level_account_or_the_superuser_a_role(client, staff, city_accounts):
    client = as_user(client, staff.admin_a)
    a_grid = staff.city.get("440301001001002")
    for user in city_accounts:
        response = client.post("/admin/org/membership/add/", {"user": user.pk, "role": Role.DISPATCHER,
                                                              "region": a_grid.pk})
        assert response.status_code == 200 and "user" in response.context["adminform"].form.errors
        assert not Membership.objects.filter(user=user, region=a_grid).exists()
    from civicgrid.org.scoping import OutOfScope

    with pytest.raises(OutOfScope):  # and the service refuses by itself
        membership_grant(actor=staff.admin_a, user=city_accounts[0], role=Role.DISPATCHER, region=a_grid)
