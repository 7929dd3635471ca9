"""The disputes endpoints: registration (risk and routing offer in the answer), the screening report
and the not-reported list; refusals (outsider, out of scope, bad input naming the field)."""

from __future__ import annotations

import json

from civicgrid.disputes.tests.conftest import GRID_A, POINT_A, POINT_B, fields_of


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_register_through_the_api_with_its_risk_and_offer(client, mediation):
    client.force_login(mediation.cast.bob)
    r = post(client, "/api/v1/disputes", {"title": "劳资纠纷", "dispute_type": "labour", "people_involved": 30,
                                          "source": "police", "source_reference": "JQ2024-001",
                                          "lon": POINT_A[0], "lat": POINT_A[1]})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["state"] == "registered" and body["high_risk"] and body["risk"] == ["many_people"]
    assert body["offer"] == ["M-C", "M-S", "M-D"]
    assert client.get(f"/api/v1/disputes/{body['id']}").json()["risk"] == ["many_people"]
    client.force_login(mediation.cast.charlie)
    assert client.get(f"/api/v1/disputes/{body['id']}").status_code == 404


def test_register_refusals_name_the_field(client, mediation):
    client.force_login(mediation.cast.bob)
    base = {"title": "纠纷", "dispute_type": "neighbour", "lon": POINT_A[0], "lat": POINT_A[1]}
    for change, field in (({"dispute_type": "gossip"}, "dispute_type"), ({"source": "rumour"}, "source"),
                          ({"people_involved": 0}, "people_involved"), ({"amount": -1}, "amount"),
                          ({"lon": POINT_B[0], "lat": POINT_B[1]}, "location")):
        r = post(client, "/api/v1/disputes", {**base, **change})
        assert r.status_code == 422, (change, r.content)
        assert [k.split(".")[-1] for k in fields_of(r)] == [field], r.content
    r = post(client, "/api/v1/disputes", {**base, "region": "440302001001001"})  # a grid out of reach
    assert r.status_code == 404
    client.logout()
    assert post(client, "/api/v1/disputes", base).status_code == 401


def test_screening_through_the_api(client, mediation):
    client.force_login(mediation.cast.bob)
    r = post(client, "/api/v1/disputes/screening", {"region": GRID_A, "period": "2024-09", "none_found": True})
    assert r.status_code == 201, r.content
    r = post(client, "/api/v1/disputes/screening", {"region": GRID_A, "period": "2024-10", "disputes": ["NOPE"]})
    assert r.status_code == 422 and list(fields_of(r)) == ["disputes"]
    client.force_login(mediation.cast.alice)
    missing = client.get("/api/v1/disputes/screening/missing?period=2024-09").json()
    assert GRID_A not in [g["code"] for g in missing] and len(missing) == 3
    assert client.get("/api/v1/disputes/screening/missing?period=2024-9").status_code == 422
    client.force_login(mediation.cast.charlie)
    r = post(client, "/api/v1/disputes/screening", {"region": GRID_A, "period": "2024-11", "none_found": True})
    assert r.status_code == 404
