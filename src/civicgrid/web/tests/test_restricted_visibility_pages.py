"""Issue 16: a restricted type's case through the pages — its case page, the case list and its search,
the dashboard's drill-down, the public tracking page, the 12345 knowledge base — and the dashboard's
small-number suppression (counts from 1 to 4 shown as "<5" where the counted cases include restricted
ones, on the page and in the CSV and Excel exports)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from civicgrid.cases.models import Case, TimelineEntry
from civicgrid.cases.tests.restricted import (
    SECRET,
    sealed_fixture,  # noqa: F401 - the fixture
)

pytestmark = pytest.mark.django_db


def as_(user=None) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        c.force_login(user)
    return c


def test_its_case_page_is_404_outside_the_set_and_shows_its_text_inside(sealed):
    c, code = sealed.cast, sealed.accusation.tracking_code
    for user in (c.alice, c.bob, sealed.dana, sealed.leo, c.charlie):
        answer = as_(user).get(f"/cases/{code}/")
        assert answer.status_code == 404, user.username
        assert SECRET not in answer.content.decode()
    for user in (sealed.peter, sealed.lena, c.admin_a):
        answer = as_(user).get(f"/cases/{code}/")
        assert answer.status_code == 200, user.username
        assert SECRET in answer.content.decode()


def test_the_case_list_its_search_and_drill_down_leave_it_out(sealed):
    c, code = sealed.cast, sealed.accusation.tracking_code
    today = timezone.localdate()
    period = {"start": (today - dt.timedelta(days=3)).isoformat(), "end": today.isoformat()}
    for user, seen in ((c.alice, False), (sealed.dana, False), (c.charlie, False), (c.admin_a, True),
                       (sealed.lena, True)):
        client = as_(user)
        pages = [client.get("/cases/").content.decode(), client.get("/cases/", {"q": code}).content.decode(),
                 client.get("/cases/", {"q": "举报"}).content.decode(),
                 client.get("/cases/", {**period, "metric": "registration", "part": "denominator"}).content.decode()]
        # its title (the code is echoed in the search box)
        assert ["举报某主任" in p for p in pages] == [seen] * 4, user.username


def test_the_public_tracking_page_never_shows_it_but_its_reporter_reads_her_own(sealed):
    code = sealed.accusation.tracking_code
    answer = as_().get(f"/track/{code}/")
    assert answer.status_code == 404 and "举报某主任" not in answer.content.decode()
    assert as_(sealed.cast.alice).get(f"/track/{code}/").status_code == 404
    mine = as_(sealed.rita).get(f"/track/{code}/")
    assert mine.status_code == 200 and SECRET not in mine.content.decode()  # the public view: no free text
    assert as_().get(f"/track/{sealed.notice.tracking_code}/").status_code == 200  # a notice is public


def test_the_knowledge_base_never_answers_from_it(sealed):
    case = sealed.accusation
    TimelineEntry.objects.create(case=case, action="answer", note="红包问题已转纪委处理", public=True)
    Case.objects.filter(pk=case.pk).update(state="answered")
    for user in (sealed.cast.admin_a, sealed.cast.alice):
        answer = as_(user).get("/agent/answers/", {"q": "红包"})
        assert answer.status_code == 200
        assert "纪委" not in answer.content.decode() and case.tracking_code not in answer.content.decode()


def test_the_dashboard_suppresses_small_counts_that_include_restricted_cases(sealed):
    today = timezone.localdate()
    period = {"start": (today - dt.timedelta(days=3)).isoformat(), "end": (today + dt.timedelta(days=1)).isoformat()}
    admin = as_(sealed.cast.admin_a)
    page = admin.get("/dashboard/", period).content.decode()
    assert "&lt;5" in page  # three cases received: shown as <5
    csv = admin.get("/dashboard/export.csv", period).content.decode("utf-8-sig")
    total = next(line for line in csv.splitlines() if line.startswith("total"))
    assert "<5" in total and ",3," not in total
    assert admin.get("/dashboard/export.xlsx", period).status_code == 200
    # Alice's cases include the suggestion (seen by dispatchers): suppressed too; Charlie's include none
    assert "&lt;5" in as_(sealed.cast.alice).get("/dashboard/", period).content.decode()
    assert "&lt;5" not in as_(sealed.cast.charlie).get("/dashboard/", period).content.decode()


def test_the_centre_map_counts_only_what_the_user_sees(sealed):
    from civicgrid.web.selectors import open_cases_by_grid

    # Alice sees the suggestion (dispatchers are named for it) and the notice; not the accusation
    assert sum(g.open for g in open_cases_by_grid(user=sealed.cast.alice).values()) == 2
    assert sum(g.open for g in open_cases_by_grid(user=sealed.cast.admin_a).values()) == 3
    assert open_cases_by_grid(user=sealed.cast.charlie) == {}
    assert as_(sealed.cast.alice).get("/centre/map/").status_code == 200
