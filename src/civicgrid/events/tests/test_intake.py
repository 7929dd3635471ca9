"""Intake from every channel: field errors, idempotent retries, routing and its fallbacks to the
centre's manual queue, photos checked and stripped of EXIF with their GPS offered as the location."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from civicgrid.cases.models import Case
from civicgrid.events import services as ev
from civicgrid.events.photos import PhotoUpload, media_root
from civicgrid.events.selectors import events_manual_queue
from civicgrid.events.tests.conftest import POINT_A, jpeg, report

pytestmark = pytest.mark.django_db


def test_bad_fields_are_named_together_and_nothing_is_written(world, units):
    with pytest.raises(ev.EventInvalid) as info:
        report(units.rita, text="", title="", request_type="催办", lon="东经", lat=22.5, reporter_phone="12")
    assert set(info.value.fields) == {"text", "request_type", "location", "reporter_phone"}
    assert not Case.objects.exists()


def test_only_one_of_longitude_and_latitude_is_refused(world, units):
    with pytest.raises(ev.EventInvalid) as info:
        report(units.rita, lon=114.02, lat=None)
    assert "location" in info.value.fields


def test_a_retry_with_the_same_key_returns_the_same_event(world, units):
    first = report(units.rita, key="abc-1")
    again = report(units.rita, key="abc-1")
    assert first.created and not again.created and again.case.pk == first.case.pk
    assert Case.objects.count() == 1


def test_a_retry_racing_the_first_inside_a_callers_transaction_returns_the_first(world, units, monkeypatch):
    # A report with photos looks its key up before storing them; this retry's look-up ran before the
    # first report committed, so its write meets the taken key: the caller's transaction (the test's,
    # like a page's or an import's) must survive that to answer.
    photos = [PhotoUpload("a.jpg", jpeg())]
    first = report(units.rita, key="race-1", photos=photos)
    looked_up = []
    real = ev._existing

    def racing(key: str, fp: str):
        looked_up.append(key)
        return None if len(looked_up) == 1 else real(key, fp)

    monkeypatch.setattr(ev, "_existing", racing)
    again = report(units.rita, key="race-1", photos=photos)
    assert not again.created and again.case.pk == first.case.pk and len(looked_up) == 2
    assert Case.objects.count() == 1


def test_a_retry_without_photos_is_answered_by_the_taken_key_itself(world, units, monkeypatch):
    first = report(units.rita, key="plain-1")
    looked_up = []
    real = ev._existing
    monkeypatch.setattr(ev, "_existing", lambda key, fp: looked_up.append(key) or real(key, fp))
    again = report(units.rita, key="plain-1")
    assert not again.created and again.case.pk == first.case.pk
    assert looked_up == [f"user:{units.rita.pk}:plain-1"]  # once: after the write met the key
    assert Case.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_retry_outside_any_transaction_returns_the_first_and_writes_nothing_more(world, units):
    # As the API takes it on PostgreSQL: no transaction around the report, its write one statement.
    from django.db import connection

    from civicgrid.audit.models import AuditEntry
    from civicgrid.cases.models import TimelineEntry

    assert not connection.in_atomic_block
    first = report(units.rita, key="top-1")
    again = report(units.rita, key="top-1")
    assert not again.created and again.case.pk == first.case.pk
    assert Case.objects.count() == 1 and TimelineEntry.objects.filter(action="create").count() == 1
    assert AuditEntry.objects.filter(action="cases.event.create").count() == 1
    with pytest.raises(ev.EventInvalid):  # the same key with another report is still refused
        report(units.rita, key="top-1", text="另一件事：路灯不亮")
    assert Case.objects.count() == 1


def test_the_same_key_with_a_different_report_is_refused(world, units):
    report(units.rita, key="abc-1")
    with pytest.raises(ev.EventInvalid) as info:
        report(units.rita, key="abc-1", text="另一件事：路灯不亮")
    assert "idempotency_key" in info.value.fields


def test_keys_of_different_senders_do_not_collide(world, units):
    a = report(units.rita, key="1")
    b = report(world.bob, key="1")
    assert a.case.pk != b.case.pk


def test_a_grid_workers_patrol_report_is_his_and_a_resident_may_not_use_the_patrol_channel(world, units):
    patrol = report(world.bob, channel="patrol").case
    assert patrol.channel == "patrol" and patrol.reporter == world.bob
    with pytest.raises(ev.EventInvalid) as info:
        report(units.rita, channel="patrol")
    assert "channel" in info.value.fields


def test_a_12345_agent_reports_for_a_caller_whose_phone_is_encrypted(world, units):
    case = report(world.alice, channel="hotline", request_type="投诉", reporter_name="王女士",
                  reporter_phone="13800138000").case
    stored = Case.objects.get(pk=case.pk)
    assert stored.reporter is None and stored.reporter_phone == "13800138000"
    assert stored.reporter_phone_hash
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT reporter_phone FROM cases_case WHERE id = %s", [case.pk])
        assert "13800138000" not in cur.fetchone()[0]


def test_an_anonymous_report_keeps_no_name_or_phone(world, units):
    case = report(None, anonymous=True, reporter_name="张三", reporter_phone="13800138000").case
    assert case.anonymous and case.reporter_name == "" and case.reporter_phone == ""


def test_a_known_place_and_category_are_routed_to_the_department_of_the_catalogue(world, units):
    detail = report(units.rita, category="C0101").case.event
    assert detail.routing == "routed" and detail.suggested_department == units.water
    assert "440301-sw" not in detail.routing_reason or detail.routing_reason


def test_an_unknown_category_goes_to_the_manual_queue_of_the_street(world, units):
    case = report(units.rita, category="飞碟降落").case
    assert case.category is None and case.event.category_text == "飞碟降落"
    assert case.event.routing == "manual" and "unknown category" in case.event.routing_reason
    assert case.owner_region.code == "440301001"
    assert list(events_manual_queue(user=world.alice)) == [case]
    assert list(events_manual_queue(user=world.charlie)) == []


def test_a_report_outside_every_grid_goes_to_the_city_centre_never_lost(world, units):
    case = report(units.rita, lon=100.0, lat=30.0).case
    assert case.grid is None and case.city.code == "440300" and case.owner_region.code == "440300"
    assert case.event.routing == "manual" and "unknown location" in case.event.routing_reason


def test_a_report_without_location_or_category_is_kept_for_the_city_centre(world, units):
    case = report(units.rita, lon=None, lat=None, category="").case
    assert case.owner_region.code == "440300" and case.event.routing == "manual"


def test_a_category_without_a_department_serving_the_place_goes_to_the_manual_queue(world, units):
    # district B has no water bureau: the catalogue line names the function, nobody serves it there
    case = report(units.rita, lon=114.12, lat=22.51).case
    assert case.district.code == "440302" and case.event.routing == "manual"
    assert "water" in case.event.routing_reason


def test_the_category_suggestion_hook_is_used_when_no_category_is_given(world, units, settings):
    settings.CIVICGRID_EVENT_CATEGORY_SUGGESTER = "civicgrid.events.tests.test_intake.suggest_manhole"
    case = report(units.rita, category="").case
    assert case.category.code == "C0101" and case.event.routing == "routed"


def suggest_manhole(*, title: str, text: str) -> str | None:
    return "C0101" if "井盖" in text else None


def test_photos_are_stripped_of_exif_and_their_gps_becomes_the_location_when_the_reporter_confirms_it(world, units):
    lon, lat = POINT_A
    photo = jpeg(gps=(lon, lat), comment="my home address")
    assert b"PhoneMaker" in photo
    result = report(units.rita, lon=None, lat=None, photos=[PhotoUpload("IMG_1.jpg", photo)], use_photo_location=True)
    case = result.case
    assert case.event.location_source == "photo" and case.grid.code == "440301001001001"
    assert result.photo_gps == pytest.approx((lon, lat), abs=1e-5)
    meta = case.event.photos[0]
    stored = (media_root() / meta["path"]).read_bytes()
    assert b"PhoneMaker" not in stored and b"my home address" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()
    assert meta["type"] == "image/jpeg" and meta["name"] == "IMG_1.jpg" and meta["size"] == len(stored)


def test_a_photos_hidden_gps_places_nothing_and_is_not_kept_without_the_reporters_confirmation(world, units):
    result = report(units.rita, lon=None, lat=None, address="", photos=[PhotoUpload("IMG_1.jpg", jpeg(gps=POINT_A))])
    case = result.case
    assert case.lon is None and case.lat is None and case.grid is None
    assert case.event.location_source == "none"
    assert case.event.photos[0]["gps"] is None  # the stored record holds no position either
    assert result.photo_gps == pytest.approx(POINT_A, abs=1e-5)  # offered back to the sender only


def test_a_pin_placed_where_the_confirmed_photo_was_taken_is_recorded_as_from_the_photo(world, units):
    case = report(units.rita, lon=POINT_A[0], lat=POINT_A[1], use_photo_location=True,
                  photos=[PhotoUpload("a.jpg", jpeg(gps=POINT_A))]).case
    assert case.event.location_source == "photo" and case.event.photos[0]["gps"] is not None


def test_a_location_given_wins_over_the_photos_gps(world, units):
    case = report(units.rita, lon=114.12, lat=22.51, photos=[PhotoUpload("a.jpg", jpeg(gps=POINT_A))]).case
    assert case.event.location_source == "given" and case.district.code == "440302"


@pytest.mark.parametrize("content,why", [
    (b"not an image at all", "readable"),
    (b"GIF89a" + b"\x00" * 50, "readable"),
])
def test_a_file_that_is_not_a_photo_is_refused(world, units, content, why):
    with pytest.raises(ev.EventInvalid) as info:
        report(units.rita, photos=[PhotoUpload("x.jpg", content)])
    assert why in info.value.fields["photos"]


def test_a_gif_is_refused_by_its_content_not_its_name(world, units):
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="GIF")
    with pytest.raises(ev.EventInvalid) as info:
        report(units.rita, photos=[PhotoUpload("photo.jpg", out.getvalue())])
    assert "JPEG, PNG or WebP" in info.value.fields["photos"]


def test_too_large_and_too_many_photos_are_refused(world, units, settings):
    settings.CIVICGRID_EVENT_PHOTO_MAX_BYTES = 100
    with pytest.raises(ev.EventInvalid) as info:
        report(units.rita, photos=[PhotoUpload("a.jpg", jpeg())])
    assert "larger" in info.value.fields["photos"]
    settings.CIVICGRID_EVENT_PHOTO_MAX_BYTES = 10**7
    settings.CIVICGRID_EVENT_PHOTO_MAX_COUNT = 2
    with pytest.raises(ev.EventInvalid):
        report(units.rita, photos=[PhotoUpload("a.jpg", jpeg())] * 3)
    assert not Case.objects.exists()


def test_gcj02_coordinates_are_converted_before_placing_the_point(world, units):
    from civicgrid.geo.crs import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(*POINT_A)
    case = report(units.rita, lon=glon, lat=glat, crs="gcj02").case
    assert case.grid.code == "440301001001001"
    assert case.lon == pytest.approx(POINT_A[0], abs=1e-5)


def test_a_request_type_is_never_unknown_to_a_thread_while_another_reads_the_table(monkeypatch):
    """The shared look-ups serve every thread of a server process. One thread filling them must not
    let another see half a table: 求助 refused as unknown while the 12345 system posts (a 422 under
    load)."""
    import threading
    from types import SimpleNamespace

    from civicgrid.taxonomy.models import RequestType

    rows = [SimpleNamespace(code="enquiry", name="咨询"), SimpleNamespace(code="help", name="求助")]
    halfway, go_on = threading.Event(), threading.Event()
    calls = []

    def slow_table(**_filters):
        calls.append(1)
        for i, row in enumerate(rows):
            if i == 1 and len(calls) == 1:  # the first reader stops after one row
                halfway.set()
                go_on.wait(5)
            yield row

    monkeypatch.setattr(RequestType.objects, "filter", slow_table)
    lookups = ev.Lookups()
    first = threading.Thread(target=lookups.request_type, args=("求助",))
    first.start()
    assert halfway.wait(5)
    try:
        assert lookups.request_type("求助") is rows[1]  # the second reader, meanwhile
    finally:
        go_on.set()
        first.join(5)
    assert lookups.request_type("咨询") is rows[0]
