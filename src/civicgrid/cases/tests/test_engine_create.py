"""Registering a case (立案): placed in its grid from a point, never lost, with a tracking code, the
reporter's data protected, its handling clock started, and its first timeline, audit and outbox rows."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from civicgrid.audit.models import AuditEntry
from civicgrid.cases import services
from civicgrid.cases.errors import TransitionNotAllowed
from civicgrid.cases.models import Case, TimelineEntry, Timer
from civicgrid.cases.services import Location, case_create
from civicgrid.cases.tests.conftest import GRID_A, POINT_A, STREET_A, at, drill_create
from civicgrid.geo.crs import wgs84_to_gcj02
from civicgrid.notify.models import Notification
from civicgrid.privacy.fields import hash_lookup

pytestmark = pytest.mark.django_db


def test_a_case_reported_at_a_point_is_placed_in_its_grid_and_region_chain(cast):
    case = drill_create(cast.bob)
    assert case.grid.code == GRID_A
    assert (case.community.code, case.street.code, case.district.code, case.city.code) == (
        "440301001001", STREET_A, "440301", "440300")
    assert case.boundary_version is not None
    assert case.owner_region.code == STREET_A  # the street centre owns it first (首接负责制)
    assert (case.lon, case.lat) == POINT_A
    assert case.state == "new" and case.version == 0
    assert case.created_by == cast.bob


def test_a_gcj02_point_from_a_phone_map_is_converted_to_wgs84_before_it_is_placed(cast):
    lon, lat = wgs84_to_gcj02(*POINT_A)
    assert abs(lon - POINT_A[0]) > 1e-4  # the shift is real: hundreds of metres
    case = case_create(actor=cast.bob, case_type="drill", title="占道经营",
                       location=Location(lon=lon, lat=lat, crs="gcj02"), now=at(2024, 9, 23, 10))
    assert case.grid.code == GRID_A
    assert case.lon == pytest.approx(POINT_A[0], abs=1e-5)
    assert case.lat == pytest.approx(POINT_A[1], abs=1e-5)


def test_a_point_outside_every_grid_goes_to_the_city_centres_queue_and_is_never_lost(cast, django_user_model):
    case = drill_create(cast.alice, point=(120.0, 30.0))
    stored = Case.objects.get(pk=case.pk)
    assert stored.grid is None and stored.street is None
    assert stored.city.code == "440300" and stored.owner_region.code == "440300"
    from civicgrid.org.models import Role
    from civicgrid.org.scoping import scoped
    from civicgrid.org.services import membership_grant

    centre = django_user_model.objects.create_user("city_centre", password="x")
    membership_grant(actor=None, user=centre, role=Role.DISPATCHER, region=cast.city.city)
    assert scoped(Case.objects.all(), centre, "act").filter(pk=case.pk).exists()
    assert (stored.lon, stored.lat) == (120.0, 30.0)
    assert stored.state == "new"
    assert TimelineEntry.objects.filter(case=stored, action="create").exists()
    assert Timer.objects.filter(case=stored, kind="handle").exists()


def test_a_point_just_outside_the_grids_falls_to_the_nearest_community_without_a_grid(cast):
    case = drill_create(cast.alice, point=(114.02, 22.4985))  # ~170 m south of district A's edge
    assert case.grid is None
    assert case.community.code == "440301001001"
    assert case.owner_region.code == STREET_A


def test_a_case_without_any_location_is_still_created(cast):
    case = drill_create(cast.alice, point=None)
    assert case.pk and case.grid is None and case.lon is None


def test_a_case_given_a_grid_instead_of_a_point_takes_that_grids_chain(cast):
    grid = cast.city.get(GRID_A)
    case = case_create(actor=cast.alice, case_type="drill", title="噪音扰民", location=Location(region=grid),
                       now=at(2024, 9, 23, 10))
    for seen in (case, Case.objects.get(pk=case.pk)):  # the returned object is whole, like the stored one
        assert seen.grid == grid and seen.grid.code == GRID_A and seen.street.code == STREET_A
        assert seen.owner_region.code == STREET_A and seen.owner_region.parent.code == "440301"
        assert seen.lon is None and seen.boundary_version is None


def test_impossible_coordinates_are_refused(cast):
    with pytest.raises(TransitionNotAllowed) as info:
        drill_create(cast.alice, point=(200.0, 22.5))
    assert "location" in info.value.message_dict


def test_a_case_needs_a_title(cast):
    with pytest.raises(TransitionNotAllowed) as info:
        drill_create(cast.alice, title="   ")
    assert "title" in info.value.message_dict


def test_tracking_codes_are_ten_unambiguous_characters_and_unique(cast):
    codes = [drill_create(cast.alice, title=f"案件{n}").tracking_code for n in range(40)]
    assert all(re.fullmatch(r"[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{10}", c) for c in codes)
    assert len(set(codes)) == len(codes)


def test_a_tracking_code_collision_draws_a_new_code(cast, monkeypatch):
    first = drill_create(cast.alice)
    draws = iter([first.tracking_code, "ABCDEFGH23"])
    monkeypatch.setattr(services, "tracking_code_new", lambda: next(draws))
    second = drill_create(cast.alice)
    assert second.tracking_code == "ABCDEFGH23"
    assert Case.objects.count() == 2
    # the draw that collided wrote nothing, and the caller's transaction (the test's) goes on
    assert TimelineEntry.objects.filter(action="create").count() == 2
    assert AuditEntry.objects.filter(action="cases.drill.create").count() == 2


def test_an_anonymous_report_keeps_no_reporter_name_or_phone(cast):
    case = drill_create(cast.alice, reporter_name="王小明", reporter_phone="13800138000", anonymous=True)
    stored = Case.objects.get(pk=case.pk)
    assert stored.anonymous
    assert stored.reporter_name == "" and stored.reporter_phone == "" and stored.reporter_phone_hash == ""


def test_the_reporters_phone_is_encrypted_at_rest_and_found_by_its_keyed_hash(cast):
    case = drill_create(cast.alice, reporter_name="王小明", reporter_phone="13800138000")
    with connection.cursor() as cur:
        cur.execute("SELECT reporter_phone, reporter_name FROM cases_case WHERE id = %s", [case.pk])
        raw_phone, raw_name = cur.fetchone()
    assert raw_phone and "13800138000" not in raw_phone and "0013800" not in raw_phone
    assert raw_name and "王小明" not in raw_name
    assert Case.objects.get(pk=case.pk).reporter_phone == "13800138000"
    assert list(Case.objects.filter(**hash_lookup(Case, "reporter_phone", "13800138000"))) == [case]
    assert not Case.objects.filter(**hash_lookup(Case, "reporter_phone", "13900139000")).exists()


def test_the_handling_clock_runs_five_working_days_by_default(cast, calendar_2024):
    case = drill_create(cast.alice, now=at(2024, 9, 27, 10))  # Friday before National Day
    timer = Timer.objects.get(case=case, kind="handle")
    assert (timer.amount, timer.unit) == (5, "working_days")
    # 09-29 (Sunday, make-up day), 09-30, 10-08, 10-09, 10-10: 10-01..07 are the holiday.
    assert timer.due_at == at(2024, 10, 10, 10)
    assert Case.objects.get(pk=case.pk).handling_due_at == at(2024, 10, 10, 10)
    assert not timer.calendar_fallback


def test_the_handling_clock_follows_the_categorys_default_deadline_rule(cast, calendar_2024):
    from civicgrid.taxonomy.services import category_create, deadline_rule_create

    root = category_create(actor=None, name="市容环境", kind="event")
    leaf = category_create(actor=None, name="暴露垃圾", parent=root)
    deadline_rule_create(actor=None, category=leaf, condition="一般", limit=3, unit="working_days")
    deadline_rule_create(actor=None, category=leaf, condition="紧急", limit=4, unit="urgent_hours", is_default=True)
    case = drill_create(cast.alice, category=leaf, now=at(2024, 9, 27, 10))
    timer = Timer.objects.get(case=case, kind="handle")
    assert (timer.amount, timer.unit) == (4, "urgent_hours")
    assert timer.due_at == at(2024, 9, 27, 14)

    # A class without rules of its own takes its nearest ancestor's.
    deadline_rule_create(actor=None, category=root, condition="一般", limit=3, unit="working_days")
    sibling = category_create(actor=None, name="乱堆物料", parent=root)
    case = drill_create(cast.alice, category=sibling, now=at(2024, 9, 27, 10))
    timer = Timer.objects.get(case=case, kind="handle")
    assert (timer.amount, timer.unit, timer.due_at) == (3, "working_days", at(2024, 10, 8, 10))


def test_a_category_without_any_rule_leaves_the_type_default(cast, calendar_2024):
    from civicgrid.taxonomy.services import category_create

    bare = category_create(actor=None, name="其他", kind="event")
    case = drill_create(cast.alice, category=bare, now=at(2024, 9, 27, 10))
    timer = Timer.objects.get(case=case, kind="handle")
    assert (timer.amount, timer.unit, timer.due_at) == (5, "working_days", at(2024, 10, 10, 10))


def test_a_12345_request_type_gives_its_limit_when_there_is_no_category(cast, calendar_2024):
    from civicgrid.taxonomy.services import request_type_create

    complaint = request_type_create(actor=None, code="complaint-x", name="投诉", limit=2, unit="working_days")
    case = drill_create(cast.alice, request_type=complaint, now=at(2024, 9, 27, 10))
    timer = Timer.objects.get(case=case, kind="handle")
    assert (timer.amount, timer.unit, timer.due_at) == (2, "working_days", at(2024, 9, 30, 10))


def test_creating_writes_a_public_timeline_entry_an_audit_row_and_tells_the_owning_centre(cast):
    case = drill_create(cast.bob, channel="patrol")
    entry = TimelineEntry.objects.get(case=case)
    assert (entry.action, entry.to_state, entry.public, entry.actor, entry.actor_name) == (
        "create", "new", True, cast.bob, "Bob")
    assert entry.data == {"channel": "patrol", "grid": case.grid_id}
    audit = AuditEntry.objects.get(action="cases.drill.create", target_id=str(case.pk))
    assert audit.actor == cast.bob and audit.after["tracking_code"] == case.tracking_code
    note = Notification.objects.get(case=case)
    assert note.event == "created" and note.audience_region.code == STREET_A and note.state == "pending"
    assert case.tracking_code in note.subject


def test_an_unknown_channel_or_case_type_is_refused(cast):
    with pytest.raises(TransitionNotAllowed):
        drill_create(cast.alice, channel="pigeon")
    with pytest.raises(LookupError):
        case_create(actor=cast.alice, case_type="no-such-type", title="x")
