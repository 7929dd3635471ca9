"""The events API: anonymous intake with an Idempotency-Key, the public tracking view and rating,
the sensor webhook with its token, and the staff list, detail and actions — errors in the house format."""

from __future__ import annotations

import base64

import pytest

from civicgrid.cases.models import Case
from civicgrid.events.tests.conftest import POINT_A, jpeg

pytestmark = pytest.mark.django_db

BODY = {"text": "小区门口上水井盖缺失", "category": "C0101", "lon": POINT_A[0], "lat": POINT_A[1],
        "reporter_phone": "13800138000", "reporter_name": "王女士"}


def post(client, url, body, **headers):
    return client.post(url, body, content_type="application/json", headers=headers)


def test_anyone_reports_and_a_retry_with_the_same_key_returns_the_same_tracking_code(client, world):
    first = post(client, "/api/v1/events", BODY, **{"Idempotency-Key": "k1"})
    assert first.status_code == 201, first.content
    again = post(client, "/api/v1/events", BODY, **{"Idempotency-Key": "k1"})
    assert again.status_code == 200 and again.json()["tracking_code"] == first.json()["tracking_code"]
    assert again.json()["created"] is False and Case.objects.count() == 1


def test_an_anonymous_client_cannot_claim_a_staff_channel(client, world):
    response = post(client, "/api/v1/events", {**BODY, "channel": "patrol"})
    assert response.status_code == 422 and "channel" in response.json()["error"]["fields"]
    assert not Case.objects.exists()


def test_bad_fields_are_answered_in_the_house_format(client, world):
    response = post(client, "/api/v1/events", {"text": "", "lon": 114.0})
    body = response.json()
    assert response.status_code == 422 and body["error"]["code"] == "invalid"
    assert set(body["error"]["fields"]) >= {"text", "location"}


def test_a_photo_is_sent_base64_and_its_gps_offered(client, world):
    photo = base64.b64encode(jpeg(gps=POINT_A)).decode()
    body = {"text": "路面坑洼", "photos": [{"name": "p.jpg", "content_base64": photo}]}
    response = post(client, "/api/v1/events", body)
    assert response.status_code == 201 and response.json()["photo_gps"] == pytest.approx(list(POINT_A), abs=1e-5)
    case = Case.objects.get(tracking_code=response.json()["tracking_code"])
    assert case.lon is None and case.grid is None  # offered, not used: the reporter did not confirm it
    confirmed = post(client, "/api/v1/events", {**body, "text": "路面坑洼，照片为准", "use_photo_location": True})
    case = Case.objects.get(tracking_code=confirmed.json()["tracking_code"])
    assert case.grid.code == "440301001001001" and case.event.location_source == "photo"
    bad = post(client, "/api/v1/events", {"text": "x", "photos": [{"content_base64": "***"}]})
    assert bad.status_code == 422 and "photos.0" in bad.json()["error"]["fields"]


def test_the_tracking_view_is_public_and_hides_personal_data(client, world):
    created = post(client, "/api/v1/events", BODY).json()
    code = created["tracking_code"]
    response = client.get(f"/api/v1/events/track/{code}")
    assert response.status_code == 200 and response.json()["state"] == "reported"
    assert "13800138000" not in response.content.decode() and "王女士" not in response.content.decode()
    assert client.get("/api/v1/events/track/ZZZZZZZZZZ").json()["error"]["code"] == "not_found"
    rate = post(client, f"/api/v1/events/track/{code}/rating",
                {"satisfaction": "satisfied", "secret": created["rating_secret"]})
    assert rate.status_code == 422  # not replied yet


def test_the_sensor_webhook_needs_an_intake_token_and_is_idempotent_by_external_id(client, world):
    from civicgrid.org.services import token_create

    alert = {"source_system": "video-ai", "external_id": "cam7-0001", "text": "占道经营", "lon": POINT_A[0],
             "lat": POINT_A[1]}
    _t, intake = token_create(actor=None, user=world.admin_a, name="video-ai", scopes=["intake"])
    _t, writer = token_create(actor=None, user=world.admin_a, name="writer", scopes=["read", "write"])
    _t, alices = token_create(actor=None, user=world.alice, name="alice's", scopes=["intake"])
    assert post(client, "/api/v1/events/webhook", alert).status_code == 401
    assert post(client, "/api/v1/events/webhook", alert, Authorization="Bearer cg_nope_nope").status_code == 401
    refused = post(client, "/api/v1/events/webhook", alert, Authorization=f"Bearer {writer}")
    assert refused.status_code == 403 and "intake" in refused.json()["error"]["message"]
    not_admin = post(client, "/api/v1/events/webhook", alert, **{"X-Api-Key": alices})
    assert not_admin.status_code == 422 and "channel" in not_admin.json()["error"]["fields"]
    client.force_login(world.admin_a)  # a session is not enough: the webhook is for systems
    assert post(client, "/api/v1/events/webhook", alert).status_code == 401
    client.logout()
    first = post(client, "/api/v1/events/webhook", alert, Authorization=f"Bearer {intake}")
    again = post(client, "/api/v1/events/webhook", alert, **{"X-Api-Key": intake})
    assert first.status_code == 201 and again.status_code == 200
    case = Case.objects.get()
    assert case.channel == "sensor" and case.event.source_system == "video-ai"
    assert case.created_by == world.admin_a and case.reporter is None


def test_staff_list_see_and_act_within_their_jurisdiction(client, world, units):
    code = post(client, "/api/v1/events", BODY).json()["tracking_code"]
    client.force_login(world.alice)
    listed = client.get("/api/v1/events").json()
    assert [e["tracking_code"] for e in listed] == [code]
    detail = client.get(f"/api/v1/events/{code}").json()
    assert detail["reporter_phone"] != "13800138000" and "138" in detail["reporter_phone"]
    assert "register" in detail["actions"]
    assert post(client, f"/api/v1/events/{code}/actions/register", {}).json()["state"] == "registered"
    done = post(client, f"/api/v1/events/{code}/actions/dispatch", {"co_departments": ["440301-cg"]})
    assert done.status_code == 200 and done.json()["lead_department"] == "440301-sw"
    again = post(client, f"/api/v1/events/{code}/actions/register", {})
    assert again.status_code == 422 and again.json()["error"]["code"] == "invalid"
    whistle = post(client, f"/api/v1/events/{code}/whistles",
                   {"kind": "hard", "reason": "多部门联动", "departments": ["440301-cg"]})
    assert whistle.status_code == 201 and whistle.json()["summons"][0]["department"] == "440301-cg"

    client.force_login(world.charlie)
    assert client.get(f"/api/v1/events/{code}").status_code == 404
    assert post(client, f"/api/v1/events/{code}/actions/accept", {}).status_code == 404
    client.force_login(world.bob)
    refused = post(client, f"/api/v1/events/{code}/actions/accept", {})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"


def test_the_staff_endpoints_need_a_session(client, world):
    assert client.get("/api/v1/events").status_code == 401


# --- rating: the secret, once per closing (security findings 1 and 8) ----------------------------------

EN = {"Accept-Language": "en"}  # the messages checked are the English ones

def test_the_public_rating_refuses_the_tracking_code_alone_and_says_what_is_needed(client, world, units):
    from civicgrid.events.tests.test_rating import replied

    case, secret = replied(world, units)
    url = f"/api/v1/events/track/{case.tracking_code}/rating"
    for body in ({"satisfaction": "unsatisfied"}, {"satisfaction": "unsatisfied", "secret": "AAAA-AAAA"}):
        refused = post(client, url, body, **EN)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
        assert "rating secret" in refused.json()["error"]["message"]
        assert case.title not in refused.content.decode()
    assert Case.objects.get(pk=case.pk).state == "replied" and not case.ratings.exists()
    # an unknown code answers as the public tracking view does
    assert post(client, "/api/v1/events/track/ZZZZZZZZZZ/rating", {"satisfaction": "basic"}).status_code == 404
    ok = post(client, url, {"satisfaction": "satisfied", "secret": secret})
    assert ok.status_code == 201 and ok.json() == {"satisfaction": "satisfied"}


def test_a_second_public_rating_of_the_same_closing_answers_409(client, world, units):
    from civicgrid.events.tests.test_rating import replied

    case, secret = replied(world, units)
    url = f"/api/v1/events/track/{case.tracking_code}/rating"
    answers = [post(client, url, {"satisfaction": "satisfied", "secret": secret}, **EN) for _ in range(4)]
    assert [a.status_code for a in answers] == [201, 409, 409, 409]
    assert "rated already" in answers[1].json()["error"]["message"]
    assert case.ratings.count() == 1


def test_the_reporter_signed_in_rates_without_the_secret(client, world, units):
    from civicgrid.events.tests.test_rating import replied

    case, _secret = replied(world, units, reporter=units.rita, channel="resident")
    client.force_login(world.alice)  # staff of the district is not the reporter
    url = f"/api/v1/events/track/{case.tracking_code}/rating"
    assert post(client, url, {"satisfaction": "satisfied"}).status_code == 403
    client.force_login(units.rita)
    assert post(client, url, {"satisfaction": "satisfied"}).status_code == 201


def test_the_intake_answer_gives_the_rating_secret_once(client, world):
    first = post(client, "/api/v1/events", BODY, **{"Idempotency-Key": "s1"}).json()
    again = post(client, "/api/v1/events", BODY, **{"Idempotency-Key": "s1"}).json()
    assert len(first["rating_secret"]) == 9 and again["rating_secret"] is None


def test_staff_rating_a_case_five_times_stores_one_follow_up(client, world, units):
    from civicgrid.events.tests.test_rating import replied

    case, _secret = replied(world, units)
    client.force_login(world.alice)
    answers = [post(client, f"/api/v1/cases/{case.pk}/rate", {"satisfaction": "basic"}, **EN) for _ in range(5)]
    assert [a.status_code for a in answers] == [201, 409, 409, 409, 409]
    assert "follow-up of this closing" in answers[1].json()["error"]["message"]
    attempts = [post(client, f"/api/v1/cases/{case.pk}/rate",
                     {"satisfaction": "basic", "valid": False, "contacted": False}) for _ in range(2)]
    assert [a.status_code for a in attempts] == [201, 201]  # call attempts are not limited
    assert sorted(case.ratings.values_list("source", flat=True)) == ["attempt", "attempt", "follow_up"]
