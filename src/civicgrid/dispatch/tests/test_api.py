"""The dispatch API: suggestions for signed-in users, duplicates and corrections of cases in scope."""

from __future__ import annotations

import json

from civicgrid.dispatch import selectors, services
from civicgrid.dispatch.models import Correction
from civicgrid.dispatch.tests.conftest import POINT_A, case_new, messages


def _train():
    titles, bodies, labels = messages(24)
    codes = {"道路": "E01", "噪音": "E02", "教育": "E03"}
    services.model_train(actor=None, titles=titles, bodies=bodies, labels=[(codes[x[0]],) for x in labels],
                         source="fixture")


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_suggest_needs_a_signed_in_user(client, db):
    assert _post(client, "/api/v1/dispatch/suggest", {"text": "路面破损"}).status_code == 401


def test_suggest_answers_category_department_and_confidence(client, tree, cast):
    _train()
    client.force_login(cast.alice)
    r = _post(client, "/api/v1/dispatch/suggest", {"title": "幸福路路面破损", "text": "路面坑洼", "region": "440301"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["category"] == {"code": "E01", "name": "道路"} and body["department"]["code"] == "A-ROADS"
    assert body["auto"] is True and 0.6 <= body["confidence"] < 1 and body["model_version"] == 1
    assert body["levels"][0]["label"] == "E01" and body["alternatives"][0][0] == "E01"


def test_suggest_refuses_an_empty_text_or_an_unknown_region(client, tree, cast):
    _train()
    client.force_login(cast.alice)
    r = _post(client, "/api/v1/dispatch/suggest", {"text": "  "})
    assert r.status_code == 422 and "text" in r.json()["error"]["fields"]
    r = _post(client, "/api/v1/dispatch/suggest", {"text": "路面破损", "region": "999"})
    assert r.status_code == 422 and "region" in r.json()["error"]["fields"]


def test_duplicates_of_a_case_in_scope_and_404_outside(client, cast):
    first = case_new("幸福路井盖缺失", "幸福路交叉口东侧的井盖不见了，晚上很危险，请尽快处理。")
    second = case_new("幸福路井盖丢失", "幸福路交叉口东侧井盖不见了，晚上很危险，请尽快处理！",
                      point=(POINT_A[0] + 0.0002, POINT_A[1]))
    client.force_login(cast.alice)
    r = client.get(f"/api/v1/dispatch/cases/{first.pk}/duplicates")
    assert r.status_code == 200
    [dup] = r.json()
    assert dup["id"] == second.pk and dup["tracking_code"] == second.tracking_code
    assert dup["distance_m"] < 30 and dup["similarity"] > 0.4
    assert str(round(dup["distance_m"])) in dup["reason"]  # the reason names the distance (in either language)
    client.force_login(cast.charlie)
    assert client.get(f"/api/v1/dispatch/cases/{first.pk}/duplicates").status_code == 404


def test_a_dispatcher_records_a_correction(client, tree, cast):
    case = case_new("菜市场占道经营", "垃圾很多")
    client.force_login(cast.alice)
    r = _post(client, f"/api/v1/dispatch/cases/{case.pk}/correction", {"category": "E02", "suggested": "E01"})
    assert r.status_code == 201, r.content
    assert r.json()["chosen"] == "E02"
    assert Correction.objects.get().chosen == tree.noise
    r = _post(client, f"/api/v1/dispatch/cases/{case.pk}/correction", {"category": "NOPE"})
    assert r.status_code == 422
    client.force_login(cast.charlie)
    r = _post(client, f"/api/v1/dispatch/cases/{case.pk}/correction", {"category": "E02"})
    assert r.status_code == 404
    assert Correction.objects.count() == 1


def test_duplicates_list_only_cases_the_caller_may_view(client, cast):
    """Two near-identical reports 20 m apart on either side of the district border: each dispatcher
    sees their own case, never the other district's as a candidate."""
    text = ("边界路井盖缺失", "边界路与建设大道交叉口的井盖不见了，晚上很危险，请尽快处理。")
    mine = case_new(*text, point=(114.0999, 22.51))  # district A, Alice's street
    theirs = case_new(*text, point=(114.1001, 22.51))  # district B, Charlie's street
    assert (mine.district.code, theirs.district.code) == ("440301", "440302")
    # The platform itself (intake, no user) sees both: the pair really is a duplicate.
    assert [c.case_id for c in selectors.duplicate_candidates_for_case(mine, user=None)] == [theirs.pk]
    client.force_login(cast.alice)
    r = client.get(f"/api/v1/dispatch/cases/{mine.pk}/duplicates")
    assert r.status_code == 200 and r.json() == []
    client.force_login(cast.charlie)
    r = client.get(f"/api/v1/dispatch/cases/{theirs.pk}/duplicates")
    assert r.status_code == 200 and r.json() == []


def test_a_damaged_active_model_answers_503_not_a_bad_region(client, tree, cast):
    from civicgrid.dispatch.models import DispatchModel

    _train()
    row = DispatchModel.objects.get(is_active=True)
    data = bytearray(bytes(row.blob))
    data[100] ^= 0xFF
    DispatchModel.objects.filter(pk=row.pk).update(blob=bytes(data))
    client.force_login(cast.alice)
    body = {"title": "幸福路路面破损", "text": "路面坑洼很多", "region": "440301"}
    r = _post(client, "/api/v1/dispatch/suggest", body)
    assert r.status_code == 503, r.content
    error = r.json()["error"]
    assert error["code"] == "unavailable" and "v1" in error["message"] and error["fields"] == {}
    # Intake is not stopped by it: the report simply waits for a person.
    assert selectors.category_for_intake(title="幸福路路面破损", text="路面坑洼很多，车辆颠簸") is None
