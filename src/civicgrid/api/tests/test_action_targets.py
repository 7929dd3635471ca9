"""Issue 13.7: every department, co-department and region an action names must be one the actor
can see and one that serves the case's region; anything else is the standard 404 (as if it did not
exist), decided in the engine's transition service — whichever door the action comes through."""

from __future__ import annotations

import pytest

from civicgrid.api.tests.conftest import at, fresh, post, report
from civicgrid.cases.models import Assignment
from civicgrid.events import services as ev
from civicgrid.events.models import Whistle

pytestmark = pytest.mark.django_db


@pytest.fixture
def others(world, units):
    """District B's urban management, and a city department that serves district B only (Alice can
    see it — departments are visible up the chain — but it does not serve her street)."""
    from civicgrid.org.services import department_create

    b = department_create(actor=None, code="440302-cg", name="乙区城管局", region=world.city.b,
                          function="urban_management")
    city_b = department_create(actor=None, code="440300-b-only", name="市局乙区分队", region=world.city.city,
                               service_regions=[world.city.b])
    city_all = department_create(actor=None, code="440300-all", name="市局", region=world.city.city)
    return type("Others", (), {"b": b, "city_b": city_b, "city_all": city_all})


def registered(world):
    case = report(None).case
    ev.event_register(actor=world.alice, case=fresh(case), now=at(2024, 9, 23, 10, 30))
    return fresh(case)


def not_found(response):
    return response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_dispatcher_cannot_dispatch_to_another_districts_department_through_either_api(client, world, others):
    case = registered(world)
    client.force_login(world.alice)
    for url, body in [
        (f"/api/v1/cases/{case.pk}/actions/dispatch", {"department": "440302-cg"}),
        (f"/api/v1/cases/{case.pk}/actions/dispatch", {"department": "440301-sw", "co_departments": ["440302-cg"]}),
        (f"/api/v1/cases/{case.pk}/actions/dispatch", {"department": "440300-b-only"}),
        (f"/api/v1/cases/{case.pk}/actions/dispatch", {"region": "440302001"}),
        (f"/api/v1/events/{case.tracking_code}/actions/dispatch", {"department": "440302-cg"}),
        (f"/api/v1/events/{case.tracking_code}/actions/dispatch", {"department": "440300-b-only"}),
    ]:
        assert not_found(post(client, url, body)), (url, body)
    stored = fresh(case)
    assert stored.state == "registered" and stored.lead_department_id is None
    assert not Assignment.objects.filter(case=case).exists()


def test_a_dispatcher_may_dispatch_to_her_own_districts_and_the_citys_departments(client, world, others):
    case = registered(world)
    client.force_login(world.alice)
    done = post(client, f"/api/v1/cases/{case.pk}/actions/dispatch",
                {"department": "440301-sw", "co_departments": ["440300-all"]})
    assert done.status_code == 200 and done.json()["lead_department"] == "440301-sw"


def test_a_dispatcher_may_hand_the_case_to_her_own_centre_but_not_another_streets(client, world, others):
    case = registered(world)
    client.force_login(world.alice)
    assert not_found(post(client, f"/api/v1/cases/{case.pk}/actions/dispatch", {"region": "440301002"}))
    done = post(client, f"/api/v1/cases/{case.pk}/actions/dispatch", {"region": "440301001"})
    assert done.status_code == 200 and done.json()["state"] == "dispatched"


def test_a_whistle_cannot_summon_another_districts_department(client, world, others):
    case = registered(world)
    client.force_login(world.alice)
    body = {"kind": "routine", "reason": "多部门联合处置", "departments": ["440301-cg", "440302-cg"]}
    assert not_found(post(client, f"/api/v1/events/{case.tracking_code}/whistles", body))
    body["departments"] = ["440300-b-only"]
    assert not_found(post(client, f"/api/v1/events/{case.tracking_code}/whistles", body))
    assert not_found(post(client, f"/api/v1/cases/{case.pk}/actions/whistle",  # the one way in, its inputs
                          {"kind": "routine", "reason": "多部门联合处置", "departments": ["440302-cg"]}))
    assert not Whistle.objects.filter(case=case).exists()
    body["departments"] = ["440301-cg", "440300-all"]
    assert post(client, f"/api/v1/events/{case.tracking_code}/whistles", body).status_code == 201


def test_a_disputed_case_cannot_be_transferred_to_another_districts_department(client, world, units, others):
    case = registered(world)
    ev.event_dispatch(actor=world.alice, case=fresh(case), now=at(2024, 9, 23, 11))
    ev.event_dispute(actor=units.evan, case=fresh(case), reason="不属于水务", now=at(2024, 9, 23, 11, 5))
    client.force_login(world.alice)
    assert not_found(post(client, f"/api/v1/cases/{case.pk}/actions/dispatch", {"department": "440302-cg"}))
    assert fresh(case).state == "review" and fresh(case).lead_department == units.water
    moved = post(client, f"/api/v1/cases/{case.pk}/actions/dispatch", {"department": "440301-cg"})
    assert moved.status_code == 200 and moved.json()["lead_department"] == "440301-cg"


def test_escalation_goes_up_the_cases_own_chain_and_is_not_found_outside_the_jurisdiction(client, world, others):
    case = registered(world)
    client.force_login(world.charlie)
    assert not_found(post(client, f"/api/v1/cases/{case.pk}/escalate", {"note": "提级"}))
    client.force_login(world.alice)
    up = post(client, f"/api/v1/cases/{case.pk}/escalate", {"note": "提级"})
    assert up.status_code == 200 and up.json()["owner_region"] == "440301"


def test_the_engine_refuses_foreign_targets_whatever_calls_it(world, units, others):
    from civicgrid.cases.services import case_transition
    from civicgrid.org.scoping import OutOfScope

    case = registered(world)
    with pytest.raises(OutOfScope):
        case_transition(actor=world.alice, case=fresh(case), action="dispatch", department=others.b)
    with pytest.raises(OutOfScope):
        ev.whistle_blow(actor=world.alice, case=fresh(case), kind="routine", reason="x", departments=[others.b])
    # the platform itself (an import, a command) is not a person in a jurisdiction, but a unit that
    # does not serve the case's place is still refused
    with pytest.raises(OutOfScope):
        case_transition(actor=None, case=fresh(case), action="dispatch", department=others.b)
