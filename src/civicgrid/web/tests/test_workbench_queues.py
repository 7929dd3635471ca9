"""The workbench queues say how much of a queue the page shows ("1–2 of 3") and page on; a row
action sends the new counts with the row, so the badges never show the count from before."""

from __future__ import annotations

import pytest

from civicgrid.web.tests.conftest import client_for, reported
from civicgrid.web.views import work

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def two_a_page(monkeypatch):
    monkeypatch.setattr(work, "QUEUE_LIMIT", 2)


def _codes(html: str, cases) -> list[str]:
    table = html[html.index('id="queue-table"'):]
    return [c.tracking_code for c in cases if c.tracking_code in table]


def test_a_queue_says_which_rows_of_how_many_it_shows_and_pages_on(world, two_a_page):
    cases = [reported() for _ in range(3)]  # oldest first
    c = client_for(world.alice)
    first = c.get("/centre/").content.decode()
    assert "第 1–2 条，共 3 条" in first and 'id="queue-next"' in first
    assert _codes(first, cases) == [cases[0].tracking_code, cases[1].tracking_code]
    second = c.get("/centre/queue/new/", {"page": "2"}, **HTMX).content.decode()
    assert "第 3–3 条，共 3 条" in second and 'id="queue-prev"' in second and 'id="queue-next"' not in second
    assert _codes(second, cases) == [cases[2].tracking_code]
    assert "第 2 页，共 2 页" in second
    # the minute's refresh reloads the queue and page on screen, not the first queue
    assert 'hx-get="/centre/queue/new/?page=2"' in second
    beyond = c.get("/centre/", {"queue": "new", "page": "99"}).content.decode()
    assert _codes(beyond, cases) == [cases[2].tracking_code]  # past the end: the last page


def test_a_row_action_sends_the_new_badge_counts_along(world):
    case, _other = reported(), reported()
    c = client_for(world.alice)
    before = c.get("/centre/").content.decode()
    assert '<span class="badge" id="badge-new">2</span>' in before
    row = c.post(f"/cases/{case.tracking_code}/act/register/", {"row": "1", "queue": "new"}, **HTMX)
    html = row.content.decode()
    assert html.startswith("<tr") and "row-done" in html
    assert '<span class="badge" id="badge-new" hx-swap-oob="true">1</span>' in html
    assert '<span class="badge" id="badge-dispatch" hx-swap-oob="true">1</span>' in html
    assert "<template>" in html  # out-of-band spans after a table row must travel in a template


def test_the_departments_list_says_which_rows_of_how_many_it_shows_and_pages_on(world, units, two_a_page):
    from civicgrid.web.tests.conftest import walk

    cases = [walk(reported(), world, units, "dispatched") for _ in range(3)]
    c = client_for(units.dana)
    first = c.get("/department/").content.decode()
    assert "第 1–2 条，共 3 条" in first and 'id="queue-next"' in first
    second = c.get("/department/", {"page": "2"}).content.decode()
    assert "第 3–3 条，共 3 条" in second
    listed = [x.tracking_code for x in cases if x.tracking_code in first + second]
    assert sorted(listed) == sorted(x.tracking_code for x in cases)
