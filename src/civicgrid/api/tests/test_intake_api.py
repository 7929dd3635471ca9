"""POST /api/v1/events as other systems and the public use it: tokens need the intake scope, a
refused token is never taken for an anonymous caller, anonymous callers are rate-limited (429 with
Retry-After), and retries with an Idempotency-Key are safe."""

from __future__ import annotations

import pytest

from civicgrid.api.tests.conftest import POINT_A, bearer, post, token
from civicgrid.cases.models import Case

pytestmark = pytest.mark.django_db

BODY = {"text": "小区门口上水井盖缺失", "category": "C0101", "lon": POINT_A[0], "lat": POINT_A[1]}


def test_a_system_reports_with_an_intake_token_as_its_user(client, world):
    intake = token(world.admin_a, "intake")
    made = post(client, "/api/v1/events", {**BODY, "channel": "patrol"}, **bearer(intake))
    assert made.status_code == 201, made.content
    case = Case.objects.get()
    assert case.created_by == world.admin_a and case.channel == "patrol"


def test_a_token_without_intake_is_refused_and_a_bad_token_is_not_anonymous(client, world):
    writer = token(world.admin_a, "read", "write")
    refused = post(client, "/api/v1/events", BODY, **bearer(writer))
    assert refused.status_code == 403 and "intake" in refused.json()["error"]["message"]
    bad = post(client, "/api/v1/events", BODY, **bearer("cg_wrong_wrong"))
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthenticated"
    assert post(client, "/api/v1/events", BODY, **{"X-Api-Key": "garbage"}).status_code == 401
    assert not Case.objects.exists()


def test_a_signed_in_person_needs_the_csrf_token_an_anonymous_caller_does_not(world):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert post(strict, "/api/v1/events", BODY).status_code == 201
    strict.force_login(world.alice)
    refused = post(strict, "/api/v1/events", BODY)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"


def test_anonymous_reports_are_rate_limited_with_retry_after(client, world, settings):
    settings.CIVICGRID_RATE_PUBLIC_PER_MINUTE = 2
    assert post(client, "/api/v1/events", BODY, **{"Idempotency-Key": "a"}).status_code == 201
    assert post(client, "/api/v1/events", BODY, **{"Idempotency-Key": "a"}).status_code == 200
    limited = post(client, "/api/v1/events", BODY)
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 60
    # a system with its token is not held back by the public limit
    assert post(client, "/api/v1/events", BODY, **bearer(token(world.admin_a, "intake"))).status_code == 201
    tracked = client.get("/api/v1/events/track/NOPE")
    assert tracked.status_code == 404
    client.get("/api/v1/events/track/NOPE")
    assert client.get("/api/v1/events/track/NOPE").status_code == 429
