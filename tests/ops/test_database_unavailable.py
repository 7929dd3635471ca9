"""A database that drops or refuses the connection (a restart, a failover) gives the client an error
it may retry — 503 with Retry-After, nothing stored — not a 500; the same request with its
idempotency key then goes in once. (The restart itself, under load on a throwaway cluster:
``bench/ops_pg_restart.py``.)"""

from __future__ import annotations

from unittest import mock

import pytest
from django.db.utils import OperationalError
from django.test import Client

from civicgrid.cases.models import Case

pytestmark = pytest.mark.django_db

LOST = OperationalError("server closed the connection unexpectedly")


def body() -> dict:
    return {"text": "小区门口上水井盖缺失，有行人掉落危险", "category": "C0101", "lon": 114.02, "lat": 22.51}


def test_an_api_report_while_the_database_is_away_answers_503_and_its_retry_goes_in_once(world):
    client = Client(raise_request_exception=False)
    with mock.patch("civicgrid.events.services.case_create", side_effect=LOST):
        answer = client.post("/api/v1/events", body(), content_type="application/json",
                             headers={"Idempotency-Key": "db-1"})
    assert answer.status_code == 503 and answer["Retry-After"] == "5"
    assert answer.json()["error"]["code"] == "unavailable"
    assert not Case.objects.exists()
    for expected in (201, 200):  # the retry, then a duplicate retry: one event
        again = client.post("/api/v1/events", body(), content_type="application/json",
                            headers={"Idempotency-Key": "db-1"})
        assert again.status_code == expected
    assert Case.objects.count() == 1


def test_a_page_while_the_database_is_away_answers_503_with_retry_after(world):
    client = Client(raise_request_exception=False, headers={"Accept-Language": "en"})
    with mock.patch("civicgrid.events.services.case_create", side_effect=LOST):
        page = client.post("/report/", {"text": "小区门口上水井盖缺失", "category": "C0101", "lon": "114.02",
                                        "lat": "22.51"})
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert "Nothing was saved" in page.content.decode()
    assert not Case.objects.exists()


def test_other_database_errors_stay_server_errors(world):
    from django.db.utils import ProgrammingError

    client = Client(raise_request_exception=False)
    with mock.patch("civicgrid.events.services.case_create", side_effect=ProgrammingError("bug")):
        answer = client.post("/api/v1/events", body(), content_type="application/json")
    assert answer.status_code == 500


def test_the_api_description_lists_the_retryable_503_on_every_operation(client):
    doc = client.get("/api/v1/openapi.json").json()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert "503" in op["responses"], f"{method.upper()} {path}"
    assert "Retry-After" in doc["paths"]["/api/v1/events"]["post"]["responses"]["503"]["description"]
