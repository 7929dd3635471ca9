"""Open311 GeoReport v2 at /open311/v2/: every endpoint in JSON and XML checked against the spec's
shapes, POST requests through the events intake with an intake-scoped api_key, the query rules of
GET requests (ids, codes, 90-day windows, status, 1,000 by default, pages), the extensions, and
every error of the spec's list (400, 403, 404) in both formats."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from django.db import connection
from jsonschema import Draft202012Validator, FormatChecker

from civicgrid.api.tests.conftest import POINT_A, at, fresh, report, token
from civicgrid.cases.models import Case
from civicgrid.events import services as ev
from civicgrid.open311.tests import schemas

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"
SEPT = {"start_date": "2024-09-01T00:00:00+08:00", "end_date": "2024-09-30T23:59:59+08:00"}
ROOTS = {id(schemas.DISCOVERY): "discovery", id(schemas.SERVICES): "services",
         id(schemas.SERVICE_DEFINITION): "service_definition", id(schemas.ERRORS): "errors"}


def check(response, schema, status=200):
    """The answer's body, after checking its status, content type and shape (JSON or XML)."""
    assert response.status_code == status, response.content
    if response["Content-Type"].startswith("text/xml"):
        root = ET.fromstring(response.content)
        assert root.tag == ROOTS.get(id(schema), "service_requests")
        body = schemas.from_xml(root, schema)
    else:
        assert response["Content-Type"].startswith("application/json")
        body = response.json()
    Draft202012Validator(schema, format_checker=FormatChecker()).validate(body)
    return body


def both(client, path, params=None, schema=None, status=200):
    """GET ``path`` in both formats; the JSON body (after checking that XML says the same)."""
    as_json = check(client.get(f"{BASE}/{path}.json", params or {}), schema, status)
    as_xml = check(client.get(f"{BASE}/{path}.xml", params or {}), schema, status)
    if schema is not schemas.ERRORS:
        assert _normal(as_xml) == _normal(as_json)
    return as_json


def _normal(value):
    """JSON and XML agree up to the type of numbers (XML has no integers apart from floats)."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def submit(client, fmt="json", status=201, **params):
    params.setdefault("service_code", "C0101")
    params.setdefault("description", "小区门口上水井盖缺失")
    return check(client.post(f"{BASE}/requests.{fmt}", params), schemas.CREATED if status < 300 else schemas.ERRORS,
                 status)


def test_discovery_names_the_endpoint_and_its_formats(client, world):
    body = both(client, "discovery", schema=schemas.DISCOVERY)
    endpoint = body["endpoints"][0]
    assert endpoint["url"].endswith("/open311/v2") and set(endpoint["formats"]) == {"text/xml", "application/json"}


def test_services_are_our_categories_with_their_group(client, world):
    body = both(client, "services", schema=schemas.SERVICES)
    by_code = {s["service_code"]: s for s in body}
    assert by_code["C0101"]["metadata"] is True and by_code["C0101"]["type"] == "realtime"
    assert by_code["C0101"]["group"] and by_code["C0101"]["description"].endswith(by_code["C0101"]["service_name"])


def test_a_service_definition_lists_the_attributes_and_the_handling_limit(client, world):
    body = both(client, "services/C0101", schema=schemas.SERVICE_DEFINITION)
    attrs = {a["code"]: a for a in body["attributes"]}
    assert {"request_type", "title", "anonymous"} <= set(attrs)
    assert "投诉" in [v["name"] for v in attrs["request_type"]["values"]]
    assert attrs["deadline"]["variable"] is False
    missing = both(client, "services/NOPE", schema=schemas.ERRORS, status=404)
    assert missing[0]["code"] == 404 and "NOPE" in missing[0]["description"]


def test_a_wrong_jurisdiction_is_404_everywhere(client, world):
    for path in ("services", "services/C0101", "requests", "requests/ABC", "tokens/ABC"):
        body = both(client, path, {"jurisdiction_id": "110000"}, schema=schemas.ERRORS, status=404)
        assert "jurisdiction_id" in body[0]["description"]
    assert both(client, "services", {"jurisdiction_id": "440300"}, schema=schemas.SERVICES)
    response = client.post(f"{BASE}/requests.json", {"jurisdiction_id": "110000", "service_code": "C0101",
                                                      "api_key": token(world.admin_a, "intake"), "lat": "22.5"})
    check(response, schemas.ERRORS, 404)


def test_post_a_request_with_an_intake_key_goes_through_the_events_intake(client, world):
    key = token(world.admin_a, "intake")
    body = submit(client, api_key=key, lat=str(POINT_A[1]), long=str(POINT_A[0]), first_name="女士",
                  last_name="王", phone="13800138000", email="wang@example.org",
                  media_url="https://photos.example.org/p/1.jpg", **{"attribute[request_type]": "help"})
    code = body[0]["service_request_id"]
    assert code in body[0]["service_notice"]
    case = Case.objects.get(tracking_code=code)
    assert case.channel == "open311" and case.category.code == "C0101" and case.request_type.name == "求助"
    assert case.grid.code == "440301001001001" and case.event.routing == "routed"
    assert case.reporter_phone == "13800138000" and case.reporter_name == "王 女士"
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone, reporter_name FROM cases_case WHERE id = %s", [case.pk])
        raw = " ".join(cursor.fetchone())
    assert "13800138000" not in raw and "女士" not in raw  # encrypted at rest by the events services
    got = both(client, f"requests/{code}", schema=schemas.REQUESTS)[0]
    assert got["status"] == "open" and got["media_url"] == "https://photos.example.org/p/1.jpg"
    assert got["service_code"] == "C0101" and got["lat"] == pytest.approx(POINT_A[1], abs=0.0005)
    assert "13800138000" not in str(got) and "王" not in str(got)
    assert both(client, f"tokens/{code}", schema=schemas.TOKEN)[0]["service_request_id"] == code


def test_post_in_xml_and_the_other_location_forms(client, world):
    key = token(world.admin_a, "intake")
    body = submit(client, "xml", api_key=key, address_id="440301001001002", address_string="幸福路12号")
    case = Case.objects.get(tracking_code=body[0]["service_request_id"])
    assert case.grid.code == "440301001001002" and case.address == "幸福路12号"
    body = submit(client, api_key=key, address_string="某小区东门")
    case = Case.objects.get(tracking_code=body[0]["service_request_id"])
    assert case.grid is None and case.event.routing == "manual"  # no place: the centre's manual queue


def test_an_idempotency_key_makes_a_retry_safe(client, world):
    key = token(world.admin_a, "intake")
    params = {"api_key": key, "service_code": "C0101", "description": "井盖缺失", "lat": "22.51", "long": "114.02"}
    first = client.post(f"{BASE}/requests.json", params, headers={"Idempotency-Key": "o-1"})
    again = client.post(f"{BASE}/requests.json", params, headers={"Idempotency-Key": "o-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_every_post_error_of_the_spec(client, world, fmt):
    key, reader = token(world.admin_a, "intake"), token(world.admin_a, "read", "write")
    where = {"lat": "22.51", "long": "114.02"}
    cases = [
        ({}, 403, "api_key"),
        ({"api_key": "cg_nope_nope"}, 403, "api_key"),
        ({"api_key": reader}, 403, "intake"),
        ({"api_key": key, "service_code": ""}, 400, "service_code"),
        ({"api_key": key, "service_code": "NOPE"}, 400, "NOPE"),
        ({"api_key": key}, 400, "location"),
        ({"api_key": key, "lat": "22.5"}, 400, "lat"),
        ({"api_key": key, "lat": "north", "long": "114"}, 400, "lat"),
        ({"api_key": key, "address_id": "999"}, 400, "address_id"),
        ({"api_key": key, **where, "attribute[colour]": "red"}, 400, "attribute[colour]"),
        ({"api_key": key, **where, "attribute[anonymous]": "maybe"}, 400, "attribute[anonymous]"),
        ({"api_key": key, **where, "email": "not-an-address"}, 400, "email"),
        ({"api_key": key, **where, "phone": "12"}, 400, "phone"),
        ({"api_key": key, **where, "media_url": "ftp://x/y"}, 400, "media_url"),
        ({"api_key": key, **where, "description": ""}, 400, "description"),
    ]
    for params, status, word in cases:
        body = submit(client, fmt, status=status, **params)
        assert body[0]["code"] == status and word in body[0]["description"], (params, body)
    assert not Case.objects.exists()


def _history(world, units):
    """Three events of September 2024: one dispatched, one registered, one of another category rejected."""
    done = report(units.rita).case
    ev.event_register(actor=world.alice, case=fresh(done), note="内部：请尽快", now=at(2024, 9, 23, 10, 30))
    ev.event_dispatch(actor=world.alice, case=fresh(done), now=at(2024, 9, 23, 11))
    busy = report(None, text="路面坑洼", now=at(2024, 9, 24, 9)).case
    ev.event_register(actor=world.alice, case=fresh(busy), now=at(2024, 9, 24, 9, 30))
    refused = report(None, text="重复反映", category="C0102", now=at(2024, 9, 25, 9)).case
    ev.event_reject(actor=world.alice, case=fresh(refused), reason="已有同类工单", now=at(2024, 9, 25, 10))
    return done, busy, refused


def test_get_requests_filters_by_ids_codes_dates_and_status(client, world, units):
    done, busy, refused = _history(world, units)
    listed = both(client, "requests", SEPT, schema=schemas.REQUESTS)
    assert [r["service_request_id"] for r in listed] == [refused.tracking_code, busy.tracking_code, done.tracking_code]
    assert [r["status"] for r in listed] == ["closed", "open", "open"]
    assert listed[0]["status_notes"] == "已有同类工单"  # the reason the reporter was told
    only = both(client, "requests", {"service_request_id": f"{busy.tracking_code},NOPE"}, schema=schemas.REQUESTS)
    assert [r["service_request_id"] for r in only] == [busy.tracking_code]
    by_code = both(client, "requests", {**SEPT, "service_code": "C0102"}, schema=schemas.REQUESTS)
    assert [r["service_request_id"] for r in by_code] == [refused.tracking_code]
    closed = both(client, "requests", {**SEPT, "status": "closed"}, schema=schemas.REQUESTS)
    assert [r["service_request_id"] for r in closed] == [refused.tracking_code]
    both_statuses = both(client, "requests", {**SEPT, "status": "open,closed"}, schema=schemas.REQUESTS)
    assert len(both_statuses) == 3
    assert both(client, "requests", schema=schemas.REQUESTS) == []  # default: the last 90 days
    one_day = both(client, "requests", {"start_date": "2024-09-24", "end_date": "2024-09-24"},
                   schema=schemas.REQUESTS)
    assert [r["service_request_id"] for r in one_day] == [busy.tracking_code]


def test_get_requests_pages_and_extended_attributes_show_the_public_part_only(client, world, units):
    done, busy, refused = _history(world, units)
    first = both(client, "requests", {**SEPT, "page_size": 2}, schema=schemas.REQUESTS)
    second = both(client, "requests", {**SEPT, "page_size": 2, "page": 2}, schema=schemas.REQUESTS)
    assert [r["service_request_id"] for r in first + second] == [
        refused.tracking_code, busy.tracking_code, done.tracking_code]
    extended = both(client, f"requests/{done.tracking_code}", {"extensions": "true"}, schema=schemas.REQUESTS)[0]
    ext = extended["extended_attributes"]
    assert ext["state"] == "dispatched" and ext["grid"] == "440301001001001"
    assert [c["code"] for c in ext["category_path"]][-1] == "C0101" and len(ext["category_path"]) >= 2
    assert [n["type"] for n in ext["notes"]] == ["create", "register", "dispatch"]
    text = str(extended)
    assert "Alice" not in text and "内部" not in text and "Rita" not in text  # no staff names, no inside notes
    assert extended["agency_responsible"] == units.water.name
    assert "extended_attributes" not in both(client, f"requests/{done.tracking_code}", schema=schemas.REQUESTS)[0]


@pytest.mark.parametrize("params, word", [
    ({"start_date": "2024-01-01", "end_date": "2024-06-01"}, "90"),
    ({"start_date": "2024-09-30", "end_date": "2024-09-01"}, "end_date"),
    ({"start_date": "last tuesday"}, "start_date"),
    ({"status": "pending"}, "status"),
    ({"page_size": "5000"}, "page_size"),
    ({"page": "0"}, "page"),
    ({"extensions": "yes"}, "extensions"),
])
def test_every_get_requests_error_of_the_spec(client, world, params, word):
    body = both(client, "requests", params, schema=schemas.ERRORS, status=400)
    assert body[0]["code"] == 400 and word in body[0]["description"]


def test_unknown_requests_and_tokens_are_404(client, world):
    for path in ("requests/NOPE", "tokens/NOPE"):
        assert both(client, path, schema=schemas.ERRORS, status=404)[0]["code"] == 404
    wrong = client.delete(f"{BASE}/requests.json")
    assert wrong.status_code == 405 and wrong.json()[0]["code"] == 405


def test_an_unknown_open311_path_answers_the_error_list_not_a_page(client, world):
    as_json = client.get(f"{BASE}/no-such-thing.json")
    assert as_json.status_code == 404 and as_json["Content-Type"].startswith("application/json")
    assert check(as_json, schemas.ERRORS, 404)[0]["code"] == 404
    as_xml = client.get(f"{BASE}/no/such/thing")
    assert as_xml.status_code == 404 and "xml" in as_xml["Content-Type"]
    assert b"<errors>" in as_xml.content and b"<html" not in as_xml.content.lower()


def test_the_public_reads_are_rate_limited(client, world, settings):
    settings.CIVICGRID_RATE_PUBLIC_PER_MINUTE = 3
    for _ in range(3):
        assert client.get(f"{BASE}/services.json").status_code == 200
    limited = client.get(f"{BASE}/services.xml")
    body = check(limited, schemas.ERRORS, 429)
    assert body[0]["code"] == 429 and 1 <= int(limited["Retry-After"]) <= 60


# --- what is published (security finding 1) ----------------------------------------------------------

def _mixed(world, units):
    """Events of every kind: public (a resident's, a patrol's, a resident's 求助) and not (a 12345 call,
    a complaint, a report/accusation, one without a category)."""
    public = [report(None, text="井盖缺失").case, report(world.bob, channel="patrol", text="巡查发现井盖缺失").case,
              report(units.rita, text="路灯不亮求助", request_type="求助").case]
    hidden = [report(world.alice, channel="hotline", text="来电反映井盖缺失").case,
              report(None, text="投诉施工扰民", request_type="投诉").case,
              report(None, text="举报违建", request_type="举报").case,
              report(None, text="说不清是什么问题", category="").case]
    return public, hidden


def _listed(client, params=None):
    return {r["service_request_id"] for r in both(client, "requests", {**SEPT, **(params or {})},
                                                  schema=schemas.REQUESTS)}


def test_only_public_channels_request_types_and_categories_are_published(client, world, units):
    public, hidden = _mixed(world, units)
    assert _listed(client) == {c.tracking_code for c in public}
    for case in hidden:  # neither by id nor as a token
        assert both(client, f"requests/{case.tracking_code}", schema=schemas.ERRORS, status=404)[0]["code"] == 404
        assert both(client, f"tokens/{case.tracking_code}", schema=schemas.ERRORS, status=404)[0]["code"] == 404
    ids = ",".join(c.tracking_code for c in public + hidden)
    assert _listed(client, {"service_request_id": ids}) == {c.tracking_code for c in public}


def test_the_administrators_rule_narrows_the_list_and_never_opens_12345_calls_complaints_or_reports(
        client, world, units):
    from civicgrid.events.models import Open311Publication

    public, _hidden = _mixed(world, units)
    rule = Open311Publication.objects.create(channels=["patrol"])
    assert _listed(client) == {public[1].tracking_code}
    rule.channels = ["resident", "patrol", "hotline", "open311"]
    rule.request_types = ["enquiry", "help", "suggestion", "complaint", "report"]
    rule.save()
    assert _listed(client) == {c.tracking_code for c in public}  # still never the 12345 call or 投诉/举报
    rule.without_request_type = False
    rule.save()
    assert _listed(client) == {public[2].tracking_code}


def test_published_coordinates_are_rounded_to_three_decimals(client, world, units):
    case = report(None, lon=114.023456, lat=22.512345).case
    assert (case.lon, case.lat) == (pytest.approx(114.023456), pytest.approx(22.512345))
    for fmt in ("json", "xml"):
        for path, params in (("requests", SEPT), (f"requests/{case.tracking_code}", {})):
            response = client.get(f"{BASE}/{path}.{fmt}", params)
            text = response.content.decode()
            assert "114.023" in text and "22.512" in text and "114.0234" not in text and "22.5123" not in text
    row = both(client, f"requests/{case.tracking_code}", schema=schemas.REQUESTS)[0]
    assert (row["lat"], row["long"]) == (22.512, 114.023)


def test_the_typed_address_is_never_published_only_the_grid(client, world, units):
    # "3栋502室，王女士家门口" names a door: with the rounded coordinates the grid says where
    case = report(None, lon=114.023456, lat=22.512345, address="幸福路12号3栋502室（王女士家门口）").case
    for fmt in ("json", "xml"):
        for path, params in (("requests", SEPT), (f"requests/{case.tracking_code}", {})):
            assert "王女士" not in client.get(f"{BASE}/{path}.{fmt}", params).content.decode()
    row = both(client, f"requests/{case.tracking_code}", schema=schemas.REQUESTS)[0]
    assert row["address"] is None and row["address_id"] == case.grid.code


def test_only_a_city_administrator_edits_the_publication_rule_in_the_admin(client, world):
    from django.contrib.auth import get_user_model

    from civicgrid.events.models import Open311Publication

    client.force_login(world.admin_a)  # a district administrator
    assert client.get("/admin/events/open311publication/add/").status_code in (302, 403)
    root = get_user_model().objects.create_superuser("root", password="Correct-Horse-42")
    client.force_login(root)
    page = client.get("/admin/events/open311publication/add/")
    html = page.content.decode()
    assert page.status_code == 200 and 'value="resident"' in html and 'value="hotline"' not in html
    assert 'value="help"' in html and 'value="complaint"' not in html and 'value="report"' not in html
    saved = client.post("/admin/events/open311publication/add/", {
        "channels": ["resident"], "category_kinds": ["component"], "request_types": ["help"],
        "without_request_type": "on"})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    rule = Open311Publication.objects.get()
    assert (rule.channels, rule.category_kinds, rule.request_types) == (["resident"], ["component"], ["help"])


# --- text XML cannot carry (security finding 12) ---------------------------------------------------

def test_a_control_character_in_an_anonymous_title_leaves_requests_xml_parseable(client, world):
    case = report(None, title="井盖\x01缺失\x08\x1b", text="井盖缺失\x07", anonymous=True).case
    for params in (SEPT, {**SEPT, "extensions": "true"}):
        response = client.get(f"{BASE}/requests.xml", params)
        root = ET.fromstring(response.content)  # an XML parser reads it (it refused it before)
        titles = [r.findtext("description") for r in root.iter("request")]
        assert titles == ["井盖缺失"] and root.findtext("request/service_request_id") == case.tracking_code
    detail = ET.fromstring(client.get(f"{BASE}/requests/{case.tracking_code}.xml").content)
    assert detail.findtext("request/description") == "井盖缺失"
    assert client.get(f"{BASE}/requests/{case.tracking_code}.json").json()[0]["description"] == "井盖\x01缺失\x08\x1b"
