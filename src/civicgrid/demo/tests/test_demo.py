"""The demo city 云川市: its map, its logins, its determinism, and a second run doing nothing."""

from __future__ import annotations

import hashlib
import itertools
from io import StringIO

import pytest
import shapely
from django.core.management import call_command
from django.db import transaction
from django.utils import translation

from civicgrid.audit.models import AuditEntry
from civicgrid.demo.city import CITY_CODE, demo_city_plan
from civicgrid.demo.services import DEMO_PASSWORD, demo_city_load
from civicgrid.geo.models import Boundary, BoundaryVersion, Region
from civicgrid.org.models import Department, Membership, Role, User
from civicgrid.org.services import user_create

SMALL = {"districts": 2, "streets_per_district": 2, "communities_per_street": 2}
LOGINS = ["admin", "city_dispatcher", "leader", "auditor", "d1_dispatcher", "d2_dispatcher", "d3_dispatcher",
          "d1_admin", "s1_dispatcher", "s2_dispatcher", "s3_dispatcher", "mediator", "grid1", "grid2", "grid3",
          "d1_chengguan", "d2_chengguan", "d3_chengguan", "resident"]


def db_digest() -> str:
    """Codes, names, parents and current shapes of every region, independent of database ids."""
    h = hashlib.sha256()
    shapes = dict(Boundary.objects.filter(valid_to__isnull=True).values_list("region__code", "geom_wkb"))
    for code, name, level, parent in Region.objects.order_by("code").values_list(
            "code", "name", "level", "parent__code"):
        h.update(f"{level}|{code}|{name}|{parent}|".encode())
        h.update(bytes(shapes.get(code, b"")))
    return h.hexdigest()


def table_sizes() -> dict[str, int]:
    return {m.__name__: m.objects.count()
            for m in (Region, Boundary, BoundaryVersion, Department, User, Membership, AuditEntry)}


# --- the plan (pure) -------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_map_and_another_seed_a_different_one():
    first, again, other = demo_city_plan(seed=2026), demo_city_plan(seed=2026), demo_city_plan(seed=7)
    assert first.digest() == again.digest()
    assert first.features("community") == again.features("community")
    assert other.digest() != first.digest()
    # Codes follow the layout, not the seed; shapes and names follow the seed.
    assert [r.code for r in other.regions] == [r.code for r in first.regions]


def test_sibling_regions_do_not_overlap_and_children_tile_their_parent():
    plan = demo_city_plan()
    shapes = {r.code: r.geom for r in plan.regions} | {plan.code: plan.outline}
    by_parent: dict[str, list] = {}
    for r in plan.regions:
        by_parent.setdefault(r.parent, []).append(r.geom)
    for parent, children in by_parent.items():
        for a, b in itertools.combinations(children, 2):
            assert a.intersection(b).area < 1e-6 * min(a.area, b.area)
        union = shapely.union_all(children)
        assert abs(union.area - shapes[parent].area) < 1e-4 * shapes[parent].area
        assert all(g.is_valid and not g.is_empty for g in children)


def test_districts_are_named_after_the_side_of_the_city_they_lie_on():
    for seed in range(20):
        plan = demo_city_plan(seed=seed)
        centre = plan.outline.centroid
        for district in plan.at("district"):
            c = district.geom.centroid
            side = district.name[0]
            assert (side != "东" or c.x > centre.x) and (side != "西" or c.x < centre.x)
            assert (side != "南" or c.y < centre.y) and (side != "北" or c.y > centre.y)


# --- loads into an empty database ------------------------------------------------------------


def test_the_whole_demo_including_grids_is_rebuilt_identically_from_the_same_seed(db):
    with transaction.atomic():
        demo_city_load(**SMALL)
        first = db_digest()
        transaction.set_rollback(True)
    assert not Region.objects.exists()
    demo_city_load(**SMALL)
    assert db_digest() == first


def test_bad_arguments_are_refused_before_anything_is_written(db):
    for bad in ({"districts": 0}, {"streets_per_district": 31}, {"grid_target_m2": 0}):
        with pytest.raises(ValueError):
            demo_city_load(**bad)
    assert not Region.objects.exists() and not User.objects.exists()


def test_an_account_that_existed_before_the_demo_keeps_its_password(db):
    user_create(actor=None, username="admin", password="Alice-Own-Pass-1", is_superuser=True)
    demo_city_load(**SMALL)
    admin = User.objects.get(username="admin")
    assert admin.check_password("Alice-Own-Pass-1") and not Membership.objects.filter(user=admin).exists()
    assert User.objects.get(username="d1_dispatcher").check_password(DEMO_PASSWORD)


def test_a_small_demo_walks_its_few_events_without_running_out(db):
    # 30 events leave the merge step no report to merge into (it stopped the whole load before)
    call_command("demo_load", "--districts", "2", "--streets", "2", "--communities", "2", "--no-progress",
                 "--events", "30", stdout=StringIO(), stderr=StringIO())
    from civicgrid.cases.models import Case

    assert Case.objects.filter(case_type="event").count() == 30


@translation.override("en")
def test_the_command_prints_progress_logins_password_and_counts_and_a_rerun_does_nothing(db):
    out = StringIO()
    call_command("demo_load", "--districts", "2", "--streets", "2", "--communities", "2", "--no-progress",
                 "--events", "300", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "云川市" in text and "d2_dispatcher" in text and "d1_chengguan" in text and DEMO_PASSWORD in text
    assert text.count("· ") >= 7  # one progress line per step
    grids = Region.objects.filter(level="grid").count()
    assert f" {grids}" in text

    from civicgrid.cases.models import Case

    states = set(Case.objects.filter(case_type="event").values_list("state", flat=True))
    assert Case.objects.filter(case_type="event").count() == 300 and "300 events reported" in text
    assert {"reported", "registered", "dispatched", "review", "handling", "verifying", "closed", "replied",
            "answered", "rejected", "merged"} <= states

    # the 12345 knowledge base holds real answers: each answered enquiry has the answer to its question
    from civicgrid.cases.models import TimelineEntry
    from civicgrid.demo.events import ENQUIRIES

    answers = list(TimelineEntry.objects.filter(action="answer", case__case_type="event").select_related("case"))
    assert answers and all(e.note == ENQUIRIES[e.case.text] for e in answers)

    # the report page's category hint works from the start: trained on the events the demo closed
    from civicgrid.dispatch.selectors import suggest

    assert "category suggestions trained on" in text
    assert suggest("小区门口垃圾箱坏了").category is not None

    again = StringIO()
    call_command("demo_load", "--no-progress", stdout=again, stderr=StringIO())
    assert "nothing to do" in again.getvalue() and "d2_dispatcher" in again.getvalue()
    assert Region.objects.filter(level="grid").count() == grids
    assert Case.objects.filter(case_type="event").count() == 300  # events are not made twice either

    # a few replied events are the demo resident's, who rates them signed in (no rating secret)
    from django.test import Client

    from civicgrid.cases.models import Rating

    awaiting = Case.objects.filter(reporter__username="resident", state="replied")
    assert awaiting.exists() and all(c.tracking_code in text for c in awaiting)
    resident = Client()
    resident.force_login(User.objects.get(username="resident"))
    case = awaiting.first()
    assert resident.post(f"/track/{case.tracking_code}/rate/", {"satisfaction": "satisfied"}).status_code == 302
    assert Rating.objects.get(case=case).source == "resident"
    assert Client().post(f"/track/{case.tracking_code}/rate/", {"satisfaction": "basic"}).status_code == 403


# --- the default demo, loaded once for the class (rolled back after it) ------------------------


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield demo_city_load()
        transaction.set_rollback(True)


@pytest.mark.django_db
class TestTheDefaultDemoCity:
    def test_it_has_a_few_hundred_grids_each_inside_a_community(self, demo):
        assert (demo["city"], demo["district"], demo["street"], demo["community"]) == (1, 3, 9, 27)
        assert 200 <= demo["grid"] <= 500
        grids = Region.objects.filter(level="grid", city__code=CITY_CODE).select_related("community")
        assert grids.count() == demo["grid"]
        for grid in grids:
            assert grid.community is not None and grid.community.level == "community"
            assert grid.parent_id == grid.community_id
            assert grid.code.startswith(grid.community.code) and len(grid.code) == 15
            assert grid.street_id and grid.district_id and grid.city_id

    def test_every_community_is_cut_into_several_grids(self, demo):
        communities = Region.objects.filter(level="community", city__code=CITY_CODE)
        per_community = [Region.objects.filter(level="grid", community=c).count() for c in communities]
        assert min(per_community) >= 3

    def test_it_lies_around_lon_118_78_lat_32_05_with_codes_no_real_city_uses(self, demo):
        city = Region.objects.get(code=CITY_CODE)
        assert city.name == "云川市" and CITY_CODE.startswith("99")
        boundary = Boundary.objects.get(region=city, valid_to__isnull=True)
        assert boundary.min_x < 118.78 < boundary.max_x and boundary.min_y < 32.05 < boundary.max_y
        assert 30e6 < boundary.area_m2 < 150e6  # some 60 km²
        assert not Region.objects.exclude(code__startswith="99").exists()
        districts = set(Region.objects.filter(level="district").values_list("name", flat=True))
        assert len(districts) == 3 and all(n.endswith("区") for n in districts)
        for level, suffix in (("street", "街道"), ("community", "社区"), ("grid", "网格")):
            names = Region.objects.filter(level=level).values_list("name", flat=True)
            assert all(n.endswith(suffix) for n in names), level

    def test_every_demo_login_signs_in_with_the_shared_password(self, demo, client):
        assert set(User.objects.values_list("username", flat=True)) == set(LOGINS)
        assert demo["users"] == len(LOGINS)
        for username in LOGINS:
            assert client.login(username=username, password=DEMO_PASSWORD), username
            client.logout()

    def test_each_demo_login_has_its_role_in_its_place(self, demo):
        def only(username: str) -> Membership:
            (membership,) = Membership.objects.filter(user__username=username).select_related(
                "region", "department")
            return membership

        for username, code in (("city_dispatcher", CITY_CODE), ("d1_dispatcher", "990101")):
            assert (only(username).role, only(username).region.code) == (Role.DISPATCHER, code)
        assert only("s2_dispatcher").region.code == "990102001"
        assert only("mediator").role == Role.MEDIATOR and only("mediator").region.code == "990101001"
        assert only("grid1").role == Role.GRID_WORKER and only("grid1").region.level == "grid"
        assert only("leader").role == Role.LEADER and only("auditor").role == Role.AUDITOR
        chengguan = only("d2_chengguan")
        assert chengguan.role == Role.DEPARTMENT_HANDLER
        assert chengguan.department.code == "990102-urban_management"
        assert chengguan.department.name.endswith("城管执法局")
        resident = only("resident")
        assert resident.role == Role.RESIDENT and resident.region is None

    def test_staff_reach_the_admin_with_view_permissions_and_residents_do_not(self, demo):
        admin = User.objects.get(username="admin")
        assert admin.is_superuser and admin.is_staff
        dispatcher = User.objects.get(username="d1_dispatcher")
        assert dispatcher.is_staff and not dispatcher.is_superuser
        assert dispatcher.has_perm("geo.view_region") and dispatcher.has_perm("org.view_department")
        assert not dispatcher.has_perm("geo.change_region") and not dispatcher.has_perm("org.view_user")
        district_admin = User.objects.get(username="d1_admin")
        assert district_admin.has_perm("geo.change_region") and district_admin.has_perm("org.change_user")
        assert not district_admin.has_perm("taxonomy.change_category")  # city-wide data: city admins only
        resident = User.objects.get(username="resident")
        assert not resident.is_staff and not resident.has_perm("geo.view_region")

    def test_the_city_and_every_district_have_the_seven_functional_departments(self, demo):
        for region in Region.objects.filter(level__in=["city", "district"]):
            names = sorted(Department.objects.filter(region=region).values_list("name", flat=True))
            assert len(names) == 7 and all(n.startswith(region.name) for n in names)
            assert Department.objects.get(code=f"{region.code}-water").service_regions.get() == region
        assert demo["departments"] == 28

    def test_the_load_is_written_through_audited_services(self, demo):
        actions = set(AuditEntry.objects.values_list("action", flat=True))
        assert {"demo.city.load", "geo.import", "geo.region.create",
                "org.department.create", "org.user.create", "org.membership.grant"} <= actions
        load = AuditEntry.objects.get(action="demo.city.load")
        assert load.extra["seed"] == 2026 and load.extra["grid"] == demo["grid"]

    def test_a_second_load_changes_nothing_and_says_so(self, demo):
        before = table_sizes()
        digest = db_digest()
        messages: list[str] = []
        counts = demo_city_load(progress=messages.append)
        assert counts == {**demo, "created": 0}
        assert table_sizes() == before and db_digest() == digest
        assert len(messages) == 1 and "990100" in messages[0]


def test_the_demo_mediator_has_disputes_in_every_state(db):
    call_command("demo_load", "--districts", "2", "--streets", "2", "--communities", "2", "--no-progress",
                 "--events", "0", stdout=StringIO(), stderr=StringIO())
    from civicgrid.cases.models import Case
    from civicgrid.cases.rules import case_actions
    from civicgrid.disputes.selectors import mediator_worklist

    states = set(Case.objects.filter(case_type="dispute").values_list("state", flat=True))
    assert {"registered", "routed", "accepted", "mediating", "agreed", "performed", "closed", "failed",
            "refused"} <= states
    mediator = User.objects.get(username="mediator")
    from civicgrid.cases.selectors import cases_assigned_to

    assert cases_assigned_to(user=mediator).filter(case_type="dispute").exists()  # person assignments
    work = mediator_worklist(mediator)
    assert work and any(case_actions(mediator, c) for c in work)
    from django.test import Client

    client = Client()
    client.force_login(mediator)
    assert client.get("/disputes/").status_code == 200


def test_the_demo_petition_office_has_petitions_in_its_states(db):
    call_command("demo_load", "--districts", "2", "--streets", "2", "--communities", "2", "--no-progress",
                 "--events", "0", stdout=StringIO(), stderr=StringIO())
    from civicgrid.cases.models import Case
    from civicgrid.cases.rules import case_actions
    from civicgrid.petitions.selectors import register_of

    states = set(Case.objects.filter(case_type="petition").values_list("state", flat=True))
    assert {"registered", "routed", "accepted", "replied", "review", "rereview", "final", "redirected", "answered",
            "not_reaccepted"} <= states
    clerk = User.objects.get(username="d1_petitions")
    register = list(register_of(clerk))
    assert len(register) == 12 and any(case_actions(clerk, c) for c in register)
    assert Case.objects.filter(case_type="petition", petition__repeat=True).count() == 2
    leader = User.objects.get(username="leader")
    from civicgrid.cases.selectors import cases_assigned_to

    assert cases_assigned_to(user=leader).filter(case_type="petition").count() == 1
