"""Issue 13.7 through the case page: dispatch, whistle, transfer (dispatch again after a dispute)
and escalate name only units the dispatcher can see and that serve the case's place. A unit she
cannot see is not offered and not accepted (the form's own refusal, as for an unknown code); one
she can see that does not serve the case's place is the engine's 404."""

from __future__ import annotations

import pytest

from civicgrid.cases.models import Assignment
from civicgrid.events.models import Whistle
from civicgrid.web.tests.conftest import client_for, fresh, reported, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def others(world):
    from civicgrid.org.services import department_create

    department_create(actor=None, code="440302-cg", name="乙区城管局", region=world.city.b,
                      function="urban_management")
    department_create(actor=None, code="440300-b-only", name="市局乙区分队", region=world.city.city,
                      service_regions=[world.city.b])


def act(user, case, action, data):
    return client_for(user).post(f"/cases/{case.tracking_code}/act/{action}/", data)


def test_the_page_does_not_dispatch_to_a_unit_that_does_not_serve_the_case(world, units, others):
    case = walk(reported(), world, units, "registered")
    assert act(world.alice, case, "dispatch", {"department": "440300-b-only"}).status_code == 404
    assert act(world.alice, case, "dispatch", {"department": "440302-cg"}).status_code in (404, 422)
    assert act(world.alice, case, "dispatch", {"department": "440301-sw", "co_departments": "440300-b-only"}
               ).status_code == 404
    assert fresh(case).state == "registered" and not Assignment.objects.filter(case=case).exists()
    page = client_for(world.alice).get(f"/cases/{case.tracking_code}/").content.decode()
    assert "440302-cg" not in page and "440300-b-only" not in page  # never offered
    assert "440301-sw" in page


def test_the_page_does_not_whistle_for_a_unit_that_does_not_serve_the_case(world, units, others):
    case = walk(reported(), world, units, "registered")
    body = {"kind": "routine", "reason": "联合执法", "departments": ["440301-cg", "440300-b-only"]}
    assert act(world.alice, case, "whistle", body).status_code == 404
    assert not Whistle.objects.filter(case=case).exists()
    body["departments"] = ["440301-cg"]
    assert act(world.alice, case, "whistle", body).status_code == 302
    assert Whistle.objects.filter(case=case).count() == 1


def test_the_page_does_not_transfer_a_disputed_case_out_of_the_cases_area(world, units, others):
    from civicgrid.events import services as ev

    case = walk(reported(), world, units, "dispatched")
    ev.event_dispute(actor=units.dana, case=fresh(case), reason="不归城管")
    assert act(world.alice, case, "dispatch", {"department": "440300-b-only"}).status_code == 404
    assert fresh(case).state == "review" and fresh(case).lead_department == units.urban
    assert act(world.alice, case, "dispatch", {"department": "440301-sw"}).status_code == 302
    assert fresh(case).lead_department == units.water


def test_the_page_escalates_within_the_cases_chain_only(world, units, others):
    case = walk(reported(), world, units, "registered")
    assert act(world.charlie, case, "escalate", {"note": "提级"}).status_code == 404
    assert act(world.bob, case, "escalate", {"note": "提级"}).status_code == 403
    assert act(world.alice, case, "escalate", {"note": "提级"}).status_code == 302
    assert fresh(case).owner_region.code == "440301"
