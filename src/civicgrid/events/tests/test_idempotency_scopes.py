"""Idempotency keys are scoped per client (issue 13, low): a key reused by someone else never
refuses their report nor hands them another person's. A token's keys are its own, a signed-in
person's their own; an anonymous client's key counts only with the same report (docs/api.md)."""

from __future__ import annotations

import pytest
from django.test import Client

from civicgrid.cases.models import Case
from civicgrid.events.tests.conftest import POINT_A

pytestmark = pytest.mark.django_db

BODY = {"text": "小区门口上水井盖缺失", "category": "C0101", "lon": POINT_A[0], "lat": POINT_A[1]}


def post(client, body, **headers):
    return client.post("/api/v1/events", body, content_type="application/json", headers=headers)


def test_two_anonymous_residents_using_the_same_key_each_get_their_own_report(world):
    first = post(Client(), BODY, **{"Idempotency-Key": "1"})
    second = post(Client(), {**BODY, "text": "路灯不亮，晚上很黑"}, **{"Idempotency-Key": "1"})
    assert first.status_code == 201 and second.status_code == 201, second.content
    assert first.json()["tracking_code"] != second.json()["tracking_code"]
    assert Case.objects.count() == 2


def test_an_anonymous_retry_of_the_same_report_still_returns_the_first_event(world):
    first = post(Client(), BODY, **{"Idempotency-Key": "retry-1"})
    again = post(Client(), BODY, **{"Idempotency-Key": "retry-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["tracking_code"] == first.json()["tracking_code"] and Case.objects.count() == 1


def test_two_tokens_of_one_account_have_their_own_keys(world):
    from civicgrid.org.services import token_create

    _t, app_a = token_create(actor=None, user=world.alice, name="hotline app A", scopes=["intake"])
    _t, app_b = token_create(actor=None, user=world.alice, name="hotline app B", scopes=["intake"])
    first = post(Client(), BODY, Authorization=f"Bearer {app_a}", **{"Idempotency-Key": "7"})
    second = post(Client(), {**BODY, "text": "路灯不亮，晚上很黑"}, Authorization=f"Bearer {app_b}",
                  **{"Idempotency-Key": "7"})
    assert first.status_code == 201 and second.status_code == 201, second.content
    retry = post(Client(), BODY, Authorization=f"Bearer {app_a}", **{"Idempotency-Key": "7"})
    assert retry.status_code == 200 and retry.json()["tracking_code"] == first.json()["tracking_code"]
    # within one token the same key with another report is still refused
    other = post(Client(), {**BODY, "text": "另一件事"}, Authorization=f"Bearer {app_a}", **{"Idempotency-Key": "7"})
    assert other.status_code == 422 and "idempotency_key" in other.json()["error"]["fields"]


def test_a_signed_in_person_has_their_own_keys(client, world, units):
    post(Client(), BODY, **{"Idempotency-Key": "mine"})
    client.force_login(units.rita)
    own = post(client, {**BODY, "text": "路灯不亮，晚上很黑"}, **{"Idempotency-Key": "mine"})
    assert own.status_code == 201, own.content
    other = post(client, {**BODY, "text": "另一件事"}, **{"Idempotency-Key": "mine"})
    assert other.status_code == 422 and "idempotency_key" in other.json()["error"]["fields"]


def test_two_visitors_sending_the_report_form_with_the_same_key_each_get_their_own_report(world):
    form = {"text": "小区门口上水井盖缺失", "lon": str(POINT_A[0]), "lat": str(POINT_A[1]),
            "request_type": "", "idempotency_key": "form-1"}
    first = Client().post("/report/", form)
    second = Client().post("/report/", {**form, "text": "路灯不亮，晚上很黑"})
    assert first.status_code == 302 and second.status_code == 302, second.content
    assert first["Location"] != second["Location"]
    assert sorted(Case.objects.values_list("text", flat=True)) == sorted(["小区门口上水井盖缺失", "路灯不亮，晚上很黑"])
