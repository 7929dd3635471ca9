"""The pages in a real browser: the whole loop from a resident's report to the rating, clicked
through by the people who do each step; no console errors on the main pages; phone-sized pages;
an upload that survives a dropped connection. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest

from civicgrid.events.tests.conftest import POINT_A, jpeg
from conftest import PASSWORD
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)


def sign_in(page, base: str, username: str) -> None:
    # Leave the previous person's page first: a request it still has in flight (htmx) would answer
    # with that person's session cookie after the new sign-in and put it back.
    page.goto("about:blank")
    page.context.clear_cookies()
    page.goto(f"{base}/signin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button.primary")
    page.wait_for_url(lambda url: "/signin/" not in url)  # signed in: the browser has left the sign-in page
    page.wait_for_load_state()


def pin(page, lon: float, lat: float) -> None:
    """Click the report map where the point is (as a person taps it)."""
    page.wait_for_function("document.getElementById('report-map').leafletMap !== undefined")
    box = page.locator("#report-map").bounding_box()
    x, y = page.evaluate("([lat, lon]) => { const p = document.getElementById('report-map').leafletMap"
                         ".latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }", [lat, lon])
    page.mouse.click(box["x"] + x, box["y"] + y)


def photo() -> dict:
    return {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": jpeg(size=(120, 90))}


def test_the_whole_loop_through_the_pages(page, live_server, world, units):
    from civicgrid.cases.models import Case

    base = live_server.url
    # a visitor reports with a pin and a photo
    page.goto(f"{base}/report/")
    page.fill("#id_text", "小区门口垃圾箱破损，垃圾散落一地")
    page.select_option("#id_category", "C0301")
    pin(page, *POINT_A)
    assert page.input_value("#id_lon") != ""
    page.set_input_files("#id_photos", [photo()])
    page.fill("#id_reporter_phone", "13800138000")
    shot(page, "1-report")
    page.click("#report-form button.primary")
    page.wait_for_selector("#tracking-code")
    code = page.inner_text("#tracking-code").strip()
    secret = page.inner_text("#rating-secret").strip()  # the rating secret, shown this once
    assert len(secret) == 9 and "评价码只显示这一次" in page.inner_text("#new-report")
    assert "已上报" in page.inner_text("#state")
    shot(page, "2-tracking")
    case = Case.objects.get(tracking_code=code)
    assert case.grid.code == "440301001001001" and len(case.event.photos) == 1

    # the street centre registers and dispatches with one click each
    sign_in(page, base, "alice")
    assert page.url.endswith("/centre/")
    page.click(f"#row-{code} button")
    page.wait_for_selector(f"#row-{code}.row-done")
    page.click("a[data-queue=dispatch]")
    page.wait_for_selector(f"[data-dispatch='{code}']")
    shot(page, "3-workbench")
    page.click(f"[data-dispatch='{code}']")
    page.wait_for_selector(f"#row-{code}.row-done")
    assert Case.objects.get(pk=case.pk).state == "dispatched"

    # the department accepts and reports back with a photo
    sign_in(page, base, "dana")
    assert page.url.endswith("/department/")
    page.click(f"a[href='/cases/{code}/']")
    page.click("button[data-action=accept]")
    page.wait_for_selector("#act-report_back")
    page.fill("#id_note_report_back", "已更换新垃圾箱")
    page.set_input_files("#id_photos_report_back", [photo()])
    shot(page, "4-department")
    page.click("button[data-action=report_back]")
    page.wait_for_selector("#case-state[data-state=verifying]")
    assert "已完成：处置反馈" in page.inner_text(".messages")  # sent by fetch, the message still shows

    # the grid worker checks on site from a phone and closes it
    sign_in(page, base, "bob")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/grid/tasks/")
    page.fill(f"#id_note_{code}", "现场已修复")
    page.set_input_files(f"#id_photos_{code}", [photo()])
    shot(page, "5-grid-tasks")
    page.click(f"#task-{code} button.primary")
    page.wait_for_selector("#no-tasks")
    assert "已完成：核查结案" in page.inner_text(".messages")
    page.set_viewport_size({"width": 1280, "height": 900})

    # the centre replies to the reporter
    sign_in(page, base, "alice")
    page.goto(f"{base}/cases/{code}/")
    page.fill("#id_note_reply", "垃圾箱已更换，感谢您的反映")
    page.click("button[data-action=reply]")
    page.wait_for_selector("#case-state[data-state=replied]")
    assert "回访时限" in page.inner_text("#clocks")  # clocks by their names, not their codes
    first_step = page.inner_text("#timeline li:first-child")
    assert "已上报" in first_step and "→" not in first_step and "system" not in first_step
    shot(page, "6-case")

    # the reporter rates it on the tracking page
    page.context.clear_cookies()
    page.goto(f"{base}/track/{code}/")
    assert "垃圾箱已更换，感谢您的反映" in page.inner_text("#public-timeline")
    assert page.locator("#rating-secret").count() == 0  # shown only once, on the thank-you page
    page.check("input[name=satisfaction][value=satisfied]")
    page.fill("#id_secret", "AAAA-AAAA")  # the tracking code alone, or a guessed secret, does not rate
    page.click("#rate button.primary")
    page.wait_for_load_state()
    assert "只有报告人可以评价" in page.inner_text("#rate")
    assert case.ratings.count() == 0
    page.fill("#id_secret", secret.lower())
    page.click("#rate button.primary")
    page.wait_for_load_state()
    assert page.locator("#rate").count() == 0
    assert "谢谢！您的评价（满意）已记录。" in page.inner_text(".messages")
    assert "已评价：满意" in page.inner_text("#public-timeline")
    assert "→" not in page.inner_text("#public-timeline li:first-child")  # the report itself moved nothing
    shot(page, "7-rated")
    assert case.ratings.get().satisfaction == "satisfied"
    # the only error: the browser noting the refused rating's 403
    assert page.console_errors == ["Failed to load resource: the server responded with a status of 403 (Forbidden)"]


def test_the_main_pages_have_no_console_errors(page, live_server, world, units):
    from civicgrid.web.tests.conftest import reported, walk

    case = walk(reported(), world, units, "verifying")
    base = live_server.url
    for url in ("/report/", f"/track/{case.tracking_code}/", "/signin/"):
        page.goto(base + url)
        page.wait_for_load_state("networkidle")
    for user, urls in (("alice", ["/centre/", "/centre/map/", "/agent/", f"/cases/{case.tracking_code}/",
                                  "/dashboard/", "/cases/"]),
                       ("bob", ["/grid/", "/grid/tasks/", "/grid/patrol/"]), ("dana", ["/department/"])):
        sign_in(page, base, user)
        for url in urls:
            response = page.goto(base + url)
            page.wait_for_load_state("networkidle")
            assert response.status == 200, url
            shot(page, f"page-{user}-{url.strip('/').replace('/', '-') or 'home'}")
    assert page.console_errors == []


def test_the_resident_and_grid_pages_fit_a_phone(browser, live_server, world):
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        for url in ("/report/", "/track/"):
            page.goto(live_server.url + url)
            assert page.evaluate("document.documentElement.scrollWidth") <= 376, url
        shot(page, "phone-track")
        page.goto(live_server.url + "/report/")
        shot(page, "phone-report")
        page.goto(f"{live_server.url}/signin/")
        page.fill("#id_username", "bob")
        page.fill("#id_password", PASSWORD)
        page.click("form button.primary")
        page.wait_for_url("**/grid/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 376
        shot(page, "phone-grid")
    finally:
        context.close()
    assert errors == []


def test_a_report_survives_a_dropped_connection_and_is_made_once(page, live_server, world):
    from civicgrid.cases.models import Case

    attempts = []

    def drop_the_first_answer(route):
        attempts.append(route.request.post_data_buffer)
        if len(attempts) == 1:
            route.fetch()  # the server takes the report in …
            route.abort("connectionreset")  # … and the answer never arrives
        else:
            route.continue_()

    page.goto(f"{live_server.url}/report/")
    page.route("**/report/", lambda route: drop_the_first_answer(route) if route.request.method == "POST"
               else route.continue_())
    page.fill("#id_text", "路灯不亮，小路一片漆黑")
    pin(page, *POINT_A)
    page.click("#report-form button.primary")
    page.wait_for_selector("#tracking-code", timeout=20_000)
    assert len(attempts) == 2
    assert Case.objects.count() == 1
    assert page.inner_text("#tracking-code").strip() == Case.objects.get().tracking_code
    assert [e for e in page.console_errors if "ERR_CONNECTION_RESET" not in e] == []
