"""The centre workbench in Chromium: a row action updates the queue badges at once, and a long queue
says how much of it is shown and pages on without leaving the page."""

from __future__ import annotations

import pytest

from tests.browser.test_web_pages import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_registering_from_the_queue_updates_the_badges(page, live_server, world):
    from civicgrid.web.tests.conftest import reported

    first = reported()
    reported()
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/centre/")
    assert page.inner_text("#badge-new") == "2" and page.inner_text("#badge-dispatch") == "0"
    page.click(f"#row-{first.tracking_code} button")
    page.wait_for_selector(f"#row-{first.tracking_code}.row-done")
    page.wait_for_function("document.getElementById('badge-new').textContent.trim() === '1'")
    assert page.inner_text("#badge-dispatch") == "1"
    assert page.locator("template").count() == 0  # the out-of-band wrapper leaves nothing behind
    shot(page, "workbench-badges")
    assert page.console_errors == []


def test_a_long_queue_says_how_much_it_shows_and_pages_on(page, live_server, world, monkeypatch):
    from civicgrid.web.tests.conftest import reported
    from civicgrid.web.views import work

    monkeypatch.setattr(work, "QUEUE_LIMIT", 2)  # the live server runs in this process
    cases = [reported() for _ in range(3)]
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/centre/")
    assert "第 1–2 条，共 3 条" in page.inner_text("#queue-range")
    assert page.locator(f"#row-{cases[2].tracking_code}").count() == 0
    page.click("#queue-next")
    page.wait_for_selector(f"#row-{cases[2].tracking_code}")
    assert "第 3–3 条，共 3 条" in page.inner_text("#queue-range")
    assert "page=2" in page.url and page.locator(f"#row-{cases[0].tracking_code}").count() == 0
    page.click("#queue-prev")
    page.wait_for_selector(f"#row-{cases[0].tracking_code}")
    shot(page, "workbench-paging")
    assert page.console_errors == []
