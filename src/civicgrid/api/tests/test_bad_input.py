"""The bad-input battery: what a careless client or an attacker sends — NUL bytes, lone surrogates,
huge numbers, extreme dates, wrong types, malformed and oversized bodies — to the JSON API, Open311
and the pages. Every one answers a 4xx that names the field (the API's standard error body, the
Open311 error list, or the page's message), never a server error. Runs on SQLite and PostgreSQL
(where a NUL in a string used to reach the database and fail there)."""

from __future__ import annotations

import base64
import io
import json
import os
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from civicgrid.api.tests.conftest import bearer, report, token

pytestmark = pytest.mark.django_db

BIG = "99999999999999999999"  # beyond any 64-bit integer
TEXT = "小区门口上水井盖缺失，有行人掉落危险"


@dataclass(frozen=True)
class Bad:
    """One bad request: who sends it, where, with what; ``field`` is what the answer must name."""

    name: str
    who: str  # anon | alice (signed in) | intake (a token with the intake scope)
    method: str
    path: str  # {id} and {code}: a case of district A
    body: Any = None  # dict → JSON; str → sent as it is (JSON text); bytes → as is; ("form", dict) → a form
    field: str = ""

    def __str__(self) -> str:
        return self.name


def _raw(**fields: str) -> str:
    """JSON text with raw tokens (Infinity, NaN, 1e999) that json.dumps would not write."""
    return "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"


API = [
    # NUL bytes and lone surrogates, in the path, the query and the JSON body
    Bad("NUL in an intake text", "anon", "POST", "/api/v1/events", {"text": "井盖\x00缺失"}, "text"),
    Bad("NUL in an intake title", "anon", "POST", "/api/v1/events", {"text": TEXT, "title": "\x00"}, "title"),
    Bad("NUL in a reporter name", "anon", "POST", "/api/v1/events", {"text": TEXT, "reporter_name": "a\x00"},
        "reporter_name"),
    Bad("NUL in a photo name", "anon", "POST", "/api/v1/events",
        {"text": TEXT, "photos": [{"name": "a\x00.jpg", "content_base64": ""}]}, "photos.0.name"),
    Bad("NUL in a key", "anon", "POST", "/api/v1/events", {"text": TEXT, "te\x00xt": "x"}, "te�xt"),
    Bad("lone surrogate in an intake text", "anon", "POST", "/api/v1/events", {"text": "\ud800" + TEXT}, "text"),
    Bad("lone surrogate in a reporter name", "anon", "POST", "/api/v1/events",
        {"text": TEXT, "reporter_name": "\udfff"}, "reporter_name"),
    Bad("NUL in the tracking code of the public view", "anon", "GET", "/api/v1/events/track/%00", None, "code"),
    Bad("NUL in the tracking code of the public rating", "anon", "POST", "/api/v1/events/track/%00/rating",
        {"satisfaction": "satisfied"}, "code"),
    Bad("NUL in an event's code", "alice", "GET", "/api/v1/events/%00", None, "code"),
    Bad("NUL in the title search", "alice", "GET", "/api/v1/cases?q=%00", None, "q"),
    Bad("NUL in the state filter", "alice", "GET", "/api/v1/cases?state=a%00b", None, "state"),
    Bad("NUL in a note", "alice", "POST", "/api/v1/cases/{id}/actions/register", {"note": "收到\x00"}, "note"),
    Bad("NUL in an event action's note", "alice", "POST", "/api/v1/events/{code}/actions/register",
        {"note": "\x00"}, "note"),
    Bad("NUL in a webhook's source", "intake", "POST", "/api/v1/events/webhook",
        {"source_system": "v\x00", "external_id": "1", "text": TEXT}, "source_system"),
    # extreme dates
    Bad("a created_to at the end of time", "alice", "GET", "/api/v1/cases?created_to=9999-12-31", None,
        "created_to"),
    Bad("a created_from at the start of time", "alice", "GET", "/api/v1/cases?created_from=0001-01-01", None,
        "created_from"),
    Bad("a closed_to at the end of time", "alice", "GET", "/api/v1/cases?closed_to=9999-12-31", None, "closed_to"),
    Bad("a metrics period over all time", "alice", "GET", "/api/v1/metrics?start=0001-01-01&end=9999-12-31",
        None, "start"),
    Bad("a metrics end at the end of time", "alice", "GET", "/api/v1/metrics/table?end=9999-12-31", None, "end"),
    Bad("a metric drill-down at the start of time", "alice", "GET", "/api/v1/metrics/closure/cases?start=0001-01-01",
        None, "start"),
    Bad("a date that is no date", "alice", "GET", "/api/v1/cases?created_to=2024-02-30", None, "created_to"),
    # huge and wrong numbers
    Bad("a page beyond any integer", "alice", "GET", f"/api/v1/cases?page={BIG}", None, "page"),
    Bad("a page far beyond the list", "alice", "GET", "/api/v1/cases?page=2000000000", None, "page"),
    Bad("a negative page size", "alice", "GET", "/api/v1/cases?page_size=-1", None, "page_size"),
    Bad("an offset beyond any integer", "alice", "GET", f"/api/v1/events?offset={BIG}", None, "offset"),
    Bad("an offset far beyond the list", "alice", "GET", "/api/v1/events?offset=9000000000000000000", None,
        "offset"),
    Bad("a limit that is no number", "alice", "GET", "/api/v1/events?limit=many", None, "limit"),
    Bad("a metric drill-down page beyond any integer", "alice", "GET", f"/api/v1/metrics/closure/cases?page={BIG}",
        None, "page"),
    Bad("an infinite longitude in JSON", "anon", "POST", "/api/v1/events", _raw(text='"x"', lon="1e999", lat="22.5"),
        "lon"),
    Bad("Infinity as a longitude", "anon", "POST", "/api/v1/events", _raw(text='"x"', lon="Infinity", lat="22.5"),
        "lon"),
    Bad("NaN as a latitude", "anon", "POST", "/api/v1/events", _raw(text='"x"', lon="114.02", lat="NaN"), "lat"),
    Bad("Infinity as an extension", "alice", "POST", "/api/v1/cases/{id}/requests",
        _raw(kind='"extension"', reason='"雨天"', amount="Infinity"), "amount"),
    Bad("an extension of 1e999", "alice", "POST", "/api/v1/cases/{id}/requests",
        _raw(kind='"extension"', reason='"雨天"', amount="1e999"), "amount"),
    Bad("a negative model version", "alice", "POST", "/api/v1/dispatch/cases/{id}/correction",
        {"category": "C0101", "model_version": -1}, "model_version"),
    Bad("a model version beyond any integer", "alice", "POST", "/api/v1/dispatch/cases/{id}/correction",
        _raw(category='"C0101"', model_version=BIG), "model_version"),
    Bad("an infinite longitude to the grid lookup", "alice", "GET", "/api/v1/geo/lookup?lon=1e999&lat=22.5", None,
        "lon"),
    Bad("a duplicate id beyond any integer", "alice", "POST", "/api/v1/cases/{id}/merge",
        _raw(duplicates=f"[{BIG}]"), "duplicates"),
    # wrong types and unknown values
    Bad("a bare JSON string as a report", "anon", "POST", "/api/v1/events", json.dumps(TEXT), "body"),
    Bad("a JSON list as a report", "anon", "POST", "/api/v1/events", "[1, 2]", "body"),
    Bad("booleans as coordinates", "anon", "POST", "/api/v1/events", {"text": TEXT, "lon": True, "lat": False},
        "lon"),
    Bad("a number as a text", "anon", "POST", "/api/v1/events", {"text": 12}, "text"),
    Bad("photos that are no list", "anon", "POST", "/api/v1/events", {"text": TEXT, "photos": "x"}, "photos"),
    Bad("a photo that is no base64", "anon", "POST", "/api/v1/events",
        {"text": TEXT, "photos": [{"name": "a.jpg", "content_base64": "!!"}]}, "photos.0"),
    Bad("an unknown case type for the metrics", "alice", "GET", "/api/v1/metrics?case_type=foo", None, "case_type"),
    Bad("an unknown case type for the metrics table", "alice", "GET", "/api/v1/metrics/table?case_type=foo", None,
        "case_type"),
    Bad("an unknown case type for a drill-down", "alice", "GET", "/api/v1/metrics/closure/cases?case_type=foo",
        None, "case_type"),
    # malformed and oversized bodies
    Bad("malformed JSON", "anon", "POST", "/api/v1/events", '{"text": "井盖', "body"),
    Bad("JSON that is not UTF-8", "anon", "POST", "/api/v1/events", b'{"text": "\xff\xfe"}', "body"),
    Bad("a body over the limit", "alice", "POST", "/api/v1/cases/{id}/escalate",
        {"note": "x" * 3_000_000}, "body"),
]

OPEN311 = [
    Bad("NUL in a request id", "anon", "GET", "/open311/v2/requests/%00.json", None, "code"),
    Bad("NUL in a request id (XML)", "anon", "GET", "/open311/v2/requests/%00.xml", None, "code"),
    Bad("NUL in a token", "anon", "GET", "/open311/v2/tokens/%00.json", None, "token"),
    Bad("NUL in a service code", "anon", "GET", "/open311/v2/services/%00.json", None, "code"),
    Bad("NUL in a service filter", "anon", "GET", "/open311/v2/requests.json?service_code=%00", None,
        "service_code"),
    Bad("NUL in a posted description", "anon", "POST", "/open311/v2/requests.json",
        ("form", {"api_key": "x", "service_code": "C0101", "description": "井盖\x00"}), "description"),
    Bad("a start_date at the end of time", "anon", "GET", "/open311/v2/requests.json?start_date=9999-12-31", None,
        "start_date"),
    Bad("an end_date at the start of time", "anon", "GET", "/open311/v2/requests.json?end_date=0001-01-01", None,
        "end_date"),
    Bad("a start_date at the start of time", "anon", "GET", "/open311/v2/requests.xml?start_date=0001-01-01", None,
        "start_date"),
    Bad("a date-time at the end of time", "anon", "GET",
        "/open311/v2/requests.json?end_date=9999-12-31T23:59:59%2B08:00", None, "end_date"),
    Bad("a page beyond any integer", "anon", "GET", f"/open311/v2/requests.json?page={BIG}", None, "page"),
]

PAGES = [
    Bad("NUL in a tracking code", "anon", "GET", "/track/%00/", None, "code"),
    Bad("NUL in a tracking code to rate", "anon", "POST", "/track/%00/rate/", ("form", {"satisfaction": "satisfied"}),
        "code"),
    Bad("a tracking code with a slash", "anon", "GET", "/track/?code=a/b", None, "code"),
    Bad("NUL in the case search", "alice", "GET", "/cases/?q=%00", None, "q"),
    Bad("NUL in a case code", "alice", "GET", "/cases/%00/", None, "code"),
    Bad("a dashboard ending at the start of time", "alice", "GET", "/dashboard/?end=0001-01-01", None, "end"),
    Bad("a dashboard starting at the end of time", "alice", "GET", "/dashboard/?start=9999-12-31", None, "start"),
    Bad("a dashboard ending at the end of time", "alice", "GET", "/dashboard/?end=9999-12-31", None, "end"),
    Bad("an infinite longitude to the suggestions", "alice", "GET",
        "/report/suggest/?text=井盖缺失了&lon=1e999&lat=22.5", None, "lon"),
    Bad("NaN as a latitude to the suggestions", "alice", "GET", "/report/suggest/?text=井盖缺失了&lon=114&lat=nan",
        None, "lat"),
    Bad("NUL in a reported text", "anon", "POST", "/report/", ("form", {"text": "井盖\x00缺失"}), "text"),
    Bad("NUL in the admin's search", "superuser", "GET", "/admin/org/user/?q=%00", None, "q"),
]


@dataclass
class Battery:
    alice: Any
    admin_a: Any
    root: Any
    case: Any


@pytest.fixture(scope="module")
def battery(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One world for the whole battery (built once: each test runs in a savepoint inside it, rolled
    back after it): the small city, Alice (dispatcher of a street of district A), the district's
    administrator, a superuser, the catalogue, the 2024 calendar and one reported case."""
    from django.db import transaction

    from civicgrid.cases.calendar import working_calendar_invalidate
    from civicgrid.cases.tests.conftest import calendar_enter
    from civicgrid.geo.selectors import lookup_index_invalidate
    from civicgrid.org.models import Role, User
    from civicgrid.org.services import department_create, membership_grant, user_create
    from civicgrid.taxonomy.services import catalogue_seed
    from conftest import PASSWORD, build_small_city

    with django_db_blocker.unblock(), transaction.atomic():
        lookup_index_invalidate()
        working_calendar_invalidate()
        city = build_small_city()
        alice = user_create(actor=None, username="alice", password=PASSWORD, display_name="Alice")
        admin_a = user_create(actor=None, username="admin_a", password=PASSWORD, display_name="Admin A")
        membership_grant(actor=None, user=alice, role=Role.DISPATCHER, region=city.get("440301001"))
        membership_grant(actor=None, user=admin_a, role=Role.ADMIN, region=city.a)
        department_create(actor=None, code="440301-sw", name="甲区水务局", region=city.a, function="water")
        catalogue_seed(actor=None)
        calendar_enter(2024, 2025)
        root = User.objects.create_superuser(username="root", password=PASSWORD)
        yield Battery(alice=alice, admin_a=admin_a, root=root, case=report(None).case)
        transaction.set_rollback(True)
    lookup_index_invalidate()
    working_calendar_invalidate()


@pytest.fixture
def clients(battery: Battery, db: Any) -> dict[str, Any]:
    signed_in = Client()
    signed_in.force_login(battery.alice)
    superuser = Client()
    superuser.force_login(battery.root)
    return {"anon": (Client(), {}), "alice": (signed_in, {}), "superuser": (superuser, {}),
            "intake": (Client(), bearer(token(battery.admin_a, "intake")))}


@pytest.fixture
def case(battery: Battery) -> Any:
    return battery.case


def send(clients: dict[str, Any], bad: Bad, case: Any) -> Any:
    client, headers = clients[bad.who]
    path = bad.path.format(id=case.pk, code=case.tracking_code)
    if bad.method == "GET":
        return client.get(path, headers=headers)
    body = bad.body
    if isinstance(body, tuple) and body[0] == "form":
        return client.post(path, body[1], headers=headers)
    if isinstance(body, dict):
        body = json.dumps(body)
    return client.post(path, body, content_type="application/json", headers=headers)


def named(response: Any, field: str) -> bool:
    """Whether the answer names ``field``: the API's ``fields``, an Open311 error's description, or
    the page's text."""
    kind = response.get("Content-Type", "")
    if "json" in kind:
        data = response.json()
        if isinstance(data, dict) and "error" in data:
            return any(key == field or key.startswith(field + ".") for key in data["error"]["fields"])
        return any(field in item.get("description", "") for item in data)
    return field in response.content.decode()


def check(clients: dict[str, Any], bad: Bad, case: Any) -> None:
    response = send(clients, bad, case)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:400])
    assert named(response, bad.field), response.content[:600]


@pytest.mark.parametrize("bad", API, ids=str)
def test_the_api_refuses_bad_input_naming_the_field(clients, case, bad):
    response = send(clients, bad, case)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:400])
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert named(response, bad.field), error


@pytest.mark.parametrize("bad", OPEN311, ids=str)
def test_open311_refuses_bad_input_in_its_error_list_naming_the_parameter(clients, case, bad):
    response = send(clients, bad, case)
    check(clients, bad, case)
    if bad.path.split("?")[0].endswith(".xml"):
        assert response.content.startswith(b"<?xml") and b"<errors>" in response.content
    else:
        assert response.json()[0]["code"] == response.status_code


@pytest.mark.parametrize("bad", PAGES, ids=str)
def test_the_pages_refuse_bad_input_naming_the_field(clients, case, bad):
    check(clients, bad, case)


def test_nothing_is_stored_from_a_refused_report(clients, case):
    from civicgrid.cases.models import Case

    before = Case.objects.count()
    for bad in API:
        if bad.path == "/api/v1/events":
            send(clients, bad, case)
    assert Case.objects.count() == before


def test_malformed_json_is_the_standard_422(clients, case):
    response = clients["anon"][0].post("/api/v1/events", "{", content_type="application/json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid" and "body" in response.json()["error"]["fields"]


def test_an_unknown_api_path_answers_the_json_404(clients, case):
    for who, path in (("anon", "/api/v1/nowhere"), ("alice", "/api/v1/cases/not-a-number"),
                      ("alice", "/api/v2/cases"), ("anon", "/api/v1/events/track/")):
        response = clients[who][0].get(path)
        assert response.status_code == 404, path
        assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def test_a_case_id_beyond_any_integer_is_not_found(clients, case):
    response = clients["alice"][0].get(f"/api/v1/cases/{BIG}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_flat_category_list_keeps_each_parent(clients, case):
    rows = clients["alice"][0].get("/api/v1/taxonomy/categories", {"flat": "true"}).json()
    by_code = {r["code"]: r for r in rows}
    assert by_code["C0101"]["parent"] == "C01" or by_code["C0101"]["parent"]
    assert any(r["parent"] is None for r in rows) and sum(r["parent"] is not None for r in rows) > len(rows) / 2


def _noise_png(nbytes: int) -> bytes:
    side = int((nbytes / 3) ** 0.5) + 1
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, format="PNG", compress_level=0)
    return out.getvalue()


def test_a_photo_of_several_megabytes_reaches_the_intake(clients, case, settings):
    """A photo under the documented limit must not be stopped by the size of its JSON body (base64
    makes it a third larger than the file)."""
    photo = _noise_png(3_000_000)
    assert len(photo) < settings.CIVICGRID_EVENT_PHOTO_MAX_BYTES
    body = {"text": TEXT, "lon": 114.02, "lat": 22.51,
            "photos": [{"name": "big.png", "content_base64": base64.b64encode(photo).decode()}]}
    response = clients["anon"][0].post("/api/v1/events", json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content[:400]


def test_an_intake_body_over_its_own_limit_is_refused_with_413(clients, case, settings):
    settings.CIVICGRID_API_INTAKE_MAX_BODY_BYTES = 4_000_000
    body = {"text": TEXT, "photos": [{"name": "a.png", "content_base64": "A" * 4_100_000}]}
    response = clients["anon"][0].post("/api/v1/events", json.dumps(body), content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large" and "body" in response.json()["error"]["fields"]
