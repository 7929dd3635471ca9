"""Issue 16: a restricted type's case through the API — the case, its actions, the list and its search,
the metric drill-down and the duplicates endpoint answer 404 / leave it out for everyone outside the
set (the people assigned, their supervisors, the roles the type names), and show it to those inside."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from civicgrid.cases.tests.restricted import (
    SECRET,
    sealed_fixture,  # noqa: F401 - the fixture
)

pytestmark = pytest.mark.django_db


def as_(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_case_and_its_actions_are_404_outside_the_set(sealed):
    c, case = sealed.cast, sealed.accusation
    for user in (c.alice, c.bob, sealed.dana, sealed.leo, c.charlie):
        client = as_(user)
        for path in (f"/api/v1/cases/{case.pk}", f"/api/v1/cases/{case.pk}/actions",
                     f"/api/v1/dispatch/cases/{case.pk}/duplicates"):
            answer = client.get(path)
            assert answer.status_code == 404, (user.username, path)
            assert SECRET not in answer.content.decode()
        answer = client.post(f"/api/v1/cases/{case.pk}/actions/dispatch",
                             data=json.dumps({"department": sealed.urban.code}), content_type="application/json")
        assert answer.status_code == 404, user.username


def test_the_assignee_supervisor_and_named_role_read_it_with_its_text(sealed):
    case = sealed.accusation
    for user in (sealed.peter, sealed.lena, sealed.cast.admin_a):
        answer = as_(user).get(f"/api/v1/cases/{case.pk}")
        assert answer.status_code == 200, user.username
        assert answer.json()["text"] == SECRET


def test_the_list_its_search_and_the_metric_drill_down_leave_it_out(sealed):
    c, code = sealed.cast, sealed.accusation.tracking_code
    for user, seen in ((c.alice, False), (sealed.dana, False), (c.charlie, False), (c.admin_a, True),
                       (sealed.peter, True)):
        client = as_(user)
        listed = [r["tracking_code"] for r in client.get("/api/v1/cases", {"page_size": 100}).json()["items"]]
        searched = [r["tracking_code"] for r in client.get("/api/v1/cases", {"q": "举报"}).json()["items"]]
        drilled = [r["tracking_code"] for r in client.get(
            "/api/v1/metrics/registration/cases", {"part": "denominator", "page_size": 100}).json()["items"]]
        assert (code in listed, code in searched, code in drilled) == (seen, seen, seen), user.username
