"""Issue 13.5: a resident reading their own report through the staff doors (/api/v1/cases/{id},
/api/v1/events/{code}, the case page) gets the public view only — what the tracking page shows:
no internal notes, no staff names, no supervision items, assignments, clocks or requests. Staff
who also reported a case keep the staff view. Decided once, by cases.selectors.case_view_of."""

from __future__ import annotations

import json

import pytest

from civicgrid.api.tests.conftest import at, fresh, report
from civicgrid.cases.services import case_supervise
from civicgrid.events import services as ev

pytestmark = pytest.mark.django_db

INTERNAL = "内部：请联系王科长"
SUPERVISION = "督办：本周内必须处理"


def worked_on(world, units, reporter):
    case = report(reporter).case
    ev.event_register(actor=world.alice, case=fresh(case), note=INTERNAL, now=at(2024, 9, 23, 10, 30))
    ev.event_dispatch(actor=world.alice, case=fresh(case), note=INTERNAL, now=at(2024, 9, 23, 11))
    case_supervise(actor=world.alice, case=fresh(case), kind="supervise", note=SUPERVISION)
    return fresh(case)


def leaks(answer):
    """What of the staff's side shows in an answer (JSON read back as text, or a page)."""
    if answer["Content-Type"].startswith("application/json"):
        text = json.dumps(answer.json(), ensure_ascii=False)
    else:
        text = answer.content.decode()
    return [w for w in (INTERNAL, SUPERVISION, "Alice", "Evan", "440301-sw") if w in text]


def test_the_reporter_reads_only_the_public_view_of_her_case_in_the_cases_api(client, world, units):
    case = worked_on(world, units, units.rita)
    client.force_login(units.rita)
    answer = client.get(f"/api/v1/cases/{case.pk}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["tracking_code"] == case.tracking_code and body["state"] == "dispatched"
    assert leaks(answer) == []
    assert body["supervisions"] == [] and body["assignments"] == [] and body["approval_requests"] == []
    assert body["timers"] == [] and body["actions"] == [] and body["lead_department"] is None
    assert [s["action"] for s in body["timeline"]] == ["create", "register", "dispatch"]  # the public steps only
    assert all(s["actor"] == "" and s["public"] for s in body["timeline"])


def test_the_reporter_reads_only_the_public_view_of_her_event_in_the_events_api(client, world, units):
    case = worked_on(world, units, units.rita)
    client.force_login(units.rita)
    answer = client.get(f"/api/v1/events/{case.tracking_code}")
    assert answer.status_code == 200
    assert leaks(answer) == []
    body = answer.json()
    assert body["lead_department"] is None and body["routing_reason"] is None and body["actions"] == []
    assert [s["action"] for s in body["timeline"]] == ["create", "register", "dispatch"]


def test_the_reporter_is_sent_from_the_case_page_to_the_public_tracking_page(client, world, units):
    case = worked_on(world, units, units.rita)
    client.force_login(units.rita)
    page = client.get(f"/cases/{case.tracking_code}/")
    assert page.status_code == 302 and page["Location"] == f"/track/{case.tracking_code}/"
    assert leaks(client.get(page["Location"])) == []


def test_staff_keep_the_staff_view_even_of_a_case_they_reported(client, world, units):
    case = worked_on(world, units, world.bob)  # Bob reported it on patrol, in his own grid
    client.force_login(world.bob)
    body = client.get(f"/api/v1/cases/{case.pk}").json()
    assert body["supervisions"] and "Alice" in [s["actor"] for s in body["timeline"]]
    client.force_login(world.alice)
    assert INTERNAL in leaks(client.get(f"/api/v1/events/{case.tracking_code}"))
    assert client.get(f"/cases/{case.tracking_code}/").status_code == 200
