"""The resident's report page on a phone, as a resident uses it: it says where the pin landed and
warns before a report with no place or a pin outside every street goes; it says so when location
permission is refused; it checks a photo's size before uploading, shows the upload's progress on a
slow link, keeps the chosen photos when the form comes back with an error, and uses a photo's own
position only when the reporter confirms it. Without JavaScript the form still sends."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from civicgrid.events.tests.conftest import POINT_A, jpeg
from tests.browser.test_web_pages import pin as tap_map
from tests.browser.test_web_pages import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
BEIJING = (116.397, 39.909)


@pytest.fixture
def phone(browser):
    """A phone-sized page (390×844, touch), in Chinese; no permission granted unless a test asks."""
    contexts = []

    def make(**options):
        options = {"locale": "zh-CN", "viewport": PHONE, "is_mobile": True, "has_touch": True, **options}
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.posts = []
        page.on("request", lambda r: r.method == "POST" and "/report/" in r.url and page.posts.append(r.url))
        return page

    yield make
    for context in contexts:
        context.close()


def noisy_jpeg(kilobytes: int) -> bytes:
    """A photo of about the given size (noise does not compress)."""
    side = int((kilobytes * 1024 / 1.6) ** 0.5)
    rng = random.Random(kilobytes)
    image = Image.frombytes("RGB", (side, side), bytes(rng.getrandbits(8) for _ in range(side * side * 3)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


def file(content: bytes, name: str = "photo.jpg") -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": content}


def pin(page, lon: float, lat: float) -> None:
    page.locator("#report-map").scroll_into_view_if_needed()  # a warning may have scrolled it away
    tap_map(page, lon, lat)


def where(page) -> str:
    page.wait_for_function("() => { const w = document.getElementById('where');"
                           " return !w.hidden && !w.textContent.includes('…'); }")
    return page.inner_text("#where")


def send(page) -> None:
    page.click("#report-form button.primary")


def test_the_page_says_in_which_street_community_and_grid_the_pin_landed(phone, live_server, world):
    page = phone()
    page.goto(f"{live_server.url}/report/")
    assert page.locator(".area-label.area-street").count() == 4  # the streets are named on the map
    pin(page, *POINT_A)
    assert where(page) == "图钉位于 440301街道1 440301001社区 440301001001网格1。"
    shot(page, "report-where")
    assert page.errors == []


def test_no_place_at_all_is_warned_before_sending_and_a_second_press_sends_it(phone, live_server, world):
    from civicgrid.cases.models import Case

    page = phone()
    page.goto(f"{live_server.url}/report/")
    page.fill("#id_text", "路灯不亮，小路一片漆黑")
    send(page)
    page.wait_for_selector("#send-warning:not([hidden])")
    assert page.get_attribute("#send-warning", "data-reason") == "no-place"
    assert "没有给出地点" in page.inner_text("#send-warning")
    assert page.posts == [] and Case.objects.count() == 0
    shot(page, "report-no-place")
    send(page)  # sent as it is, knowingly
    page.wait_for_selector("#tracking-code")
    assert Case.objects.get().lon is None


def test_a_pin_in_beijing_is_said_to_be_outside_every_street_and_warned_before_sending(phone, live_server, world):
    from civicgrid.cases.models import Case

    page = phone()
    page.goto(f"{live_server.url}/report/")
    page.fill("#id_text", "路面塌陷")
    page.wait_for_function("document.getElementById('report-map').placePin !== undefined")
    page.evaluate("([lon, lat]) => document.getElementById('report-map').placePin(L.latLng(lat, lon))", BEIJING)
    assert "不在本系统服务的任何街道内" in where(page)
    send(page)
    page.wait_for_selector("#send-warning:not([hidden])")
    assert page.get_attribute("#send-warning", "data-reason") == "outside"
    assert page.posts == []
    shot(page, "report-beijing")
    pin(page, *POINT_A)  # moved to where the problem is: no warning, sent at once
    where(page)
    send(page)
    page.wait_for_selector("#tracking-code")
    assert Case.objects.get().grid.code == "440301001001001"


def test_an_address_without_a_pin_is_sent_at_once_for_the_centre_to_place(phone, live_server, world):
    from civicgrid.cases.models import Case

    page = phone()
    page.goto(f"{live_server.url}/report/")
    page.fill("#id_text", "井盖缺失")
    page.fill("#id_address", "百合路12号门口")
    page.route("**/report/", lambda route: route.continue_())
    send(page)
    page.wait_for_selector("#tracking-code")
    case = Case.objects.get()
    assert case.address == "百合路12号门口" and case.lon is None
    assert len(page.posts) == 1


def test_a_refused_location_permission_is_said_on_the_page(phone, live_server, world):
    page = phone()  # no geolocation permission granted: the browser refuses
    page.goto(f"{live_server.url}/report/")
    page.click("#use-location")
    page.wait_for_selector("#location-message:not([hidden])")
    page.wait_for_function("!document.getElementById('location-message').textContent.includes('…')")
    assert "定位权限被拒绝" in page.inner_text("#location-message")
    assert page.input_value("#id_lon") == ""
    shot(page, "report-permission-refused")


def test_a_granted_location_places_the_pin_and_names_the_grid(phone, live_server, world):
    page = phone(permissions=["geolocation"], geolocation={"longitude": POINT_A[0], "latitude": POINT_A[1]})
    page.goto(f"{live_server.url}/report/")
    page.click("#use-location")
    assert "440301001001网格1" in where(page)
    assert page.is_hidden("#location-message")


def test_a_photo_too_large_is_refused_before_anything_is_uploaded(phone, live_server, world, settings):
    settings.CIVICGRID_EVENT_PHOTO_MAX_BYTES = 100 * 1024
    page = phone()
    page.goto(f"{live_server.url}/report/")
    page.fill("#id_text", "路面坑洼")
    pin(page, *POINT_A)
    page.set_input_files("#id_photos", [file(noisy_jpeg(300), "big.jpg")])
    page.wait_for_selector("#photo-check:not([hidden])")
    assert "big.jpg" in page.inner_text("#photo-check") and "0.1 MB" in page.inner_text("#photo-check")
    send(page)
    page.wait_for_timeout(500)
    assert page.posts == []
    shot(page, "report-photo-too-big")


def test_on_a_slow_link_the_phone_shows_the_uploads_progress(phone, live_server, world):
    from civicgrid.cases.models import Case

    page = phone()
    page.goto(f"{live_server.url}/report/")
    page.fill("#id_text", "路面坑洼，积水严重")
    pin(page, *POINT_A)
    where(page)
    page.set_input_files("#id_photos", [file(noisy_jpeg(400))])
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 150,
                                                  "downloadThroughput": 400 * 1024, "uploadThroughput": 64 * 1024})
    send(page)
    # part of the way: the bar and the words say how far the photo has gone up
    page.wait_for_function("() => { const p = document.getElementById('upload-progress');"
                           " return !p.hidden && p.value > 5 && p.value < 90; }", timeout=20_000)
    status = page.inner_text("#report-form .status")
    assert "正在发送" in status and "%" in status and "MB" in status
    shot(page, "report-slow-upload")
    page.wait_for_selector("#tracking-code", timeout=60_000)
    assert len(Case.objects.get().event.photos) == 1


def test_chosen_photos_stay_chosen_when_the_form_comes_back_with_an_error(phone, live_server, world):
    from civicgrid.cases.models import Case

    page = phone()
    page.goto(f"{live_server.url}/report/")
    page.fill("#id_text", "垃圾箱破损")
    pin(page, *POINT_A)
    page.set_input_files("#id_photos", [file(jpeg(size=(120, 90)), "a.jpg"), file(jpeg(size=(90, 120)), "b.jpg")])
    page.fill("#id_reporter_phone", "12345")
    assert page.is_hidden("#photo-location")  # these photos carry no position: nothing is offered
    send(page)
    page.wait_for_selector("[data-errors=reporter_phone] .errorlist")
    assert page.evaluate("document.getElementById('id_photos').files.length") == 2
    assert page.input_value("#id_text") == "垃圾箱破损" and page.input_value("#id_lon") != ""
    assert "照片仍然保留" in page.inner_text("#report-form .status")
    shot(page, "report-error-kept-photos")
    page.fill("#id_reporter_phone", "13800138000")
    send(page)
    page.wait_for_selector("#tracking-code")
    assert len(Case.objects.get().event.photos) == 2


def test_a_photos_own_position_is_offered_and_used_only_when_confirmed(phone, live_server, world):
    from civicgrid.cases.models import Case

    page = phone()
    page.goto(f"{live_server.url}/report/")
    page.fill("#id_text", "井盖缺失")
    page.set_input_files("#id_photos", [file(jpeg(gps=POINT_A), "gps.jpg")])
    page.wait_for_selector("#photo-location:not([hidden])")
    assert "使用照片的位置" in page.inner_text("#photo-location")
    assert page.input_value("#id_lon") == ""  # offered, not used
    shot(page, "report-photo-location-offered")
    page.click("#use-photo-location")
    assert "440301001001网格1" in where(page)
    send(page)
    page.wait_for_selector("#tracking-code")
    case = Case.objects.get()
    assert case.grid.code == "440301001001001" and case.event.location_source == "photo"


def test_a_photos_position_unconfirmed_places_nothing(phone, live_server, world):
    from civicgrid.cases.models import Case

    page = phone()
    page.goto(f"{live_server.url}/report/")
    page.fill("#id_text", "井盖缺失")
    page.fill("#id_address", "百合路12号")
    page.set_input_files("#id_photos", [file(jpeg(gps=POINT_A), "gps.jpg")])
    page.wait_for_selector("#photo-location:not([hidden])")
    send(page)
    page.wait_for_selector("#tracking-code")
    case = Case.objects.get()
    assert case.lon is None and case.event.location_source == "none"


def test_without_javascript_the_form_still_sends(phone, live_server, world):
    from civicgrid.cases.models import Case

    page = phone(java_script_enabled=False)
    page.goto(f"{live_server.url}/report/")
    page.fill("#id_text", "路灯不亮")
    page.fill("#id_address", "百合路12号")
    page.set_input_files("#id_photos", [file(jpeg(gps=POINT_A), "gps.jpg")])
    page.check("#id_use_photo_location")  # without the page's script the reporter ticks it themselves
    send(page)
    page.wait_for_selector("#tracking-code")
    assert Case.objects.get().event.location_source == "photo"


def test_the_grid_workers_patrol_report_is_confirmed_with_its_tracking_code(phone, live_server, world):
    from civicgrid.cases.models import Case
    from tests.browser.test_web_pages import sign_in

    page = phone()
    sign_in(page, live_server.url, "bob")
    page.goto(f"{live_server.url}/grid/patrol/")
    page.fill("#id_text", "路灯不亮，小路一片漆黑")
    pin(page, *POINT_A)
    where(page)
    send(page)
    page.wait_for_selector("#case-state")
    code = Case.objects.get().tracking_code
    assert page.url.endswith(f"/cases/{code}/")
    assert f"巡查上报已提交，编号 {code}，已进入中心的待办。" in page.inner_text(".messages")
    shot(page, "patrol-confirmed")
