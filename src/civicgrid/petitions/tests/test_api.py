"""A petition's steps through the engine's API (/api/v1/cases/{id}/actions/{action}): bad input names
the field, a wrong role is 403, an outsider 404 — and an accusation does not exist for those it is
hidden from."""

from __future__ import annotations

import pytest

from civicgrid.petitions.tests.conftest import api_act, fresh, receive

pytestmark = pytest.mark.django_db


def test_route_through_the_api(client, po):
    u, c = po.units, po.cast
    case = receive(po)
    client.force_login(c.charlie)  # another district: not there at all
    assert api_act(client, case, "route", {"unit": u.urban.code}).status_code == 404
    client.force_login(c.alice)  # sees it, may not route
    assert api_act(client, case, "route", {"unit": u.urban.code}).status_code == 403
    client.force_login(po.olga)
    r = api_act(client, case, "route", {})
    assert r.status_code == 422 and "unit" in r.json()["error"]["fields"]
    r = api_act(client, case, "route", {"unit": "no-such-unit"})
    assert r.status_code == 422 and "unit" in r.json()["error"]["fields"]
    r = api_act(client, case, "route", {"unit": u.urban.code})
    assert r.status_code == 200 and fresh(case).state == "routed"
    client.force_login(u.dana)
    r = api_act(client, case, "object", {})
    assert r.status_code == 422 and "reason" in r.json()["error"]["fields"]
    r = api_act(client, case, "lead_to_channel", {"channel": "court", "reason": "x"})
    assert r.status_code == 422


def test_an_accusation_is_404_to_the_dispatcher_the_auditor_and_the_accused_unit(client, po):
    u, c = po.units, po.cast
    case = receive(po, kind="accusation", matter="违规收费", accused_department=u.water)
    for who in (c.alice, po.audrey, u.evan):
        client.force_login(who)
        assert client.get(f"/api/v1/cases/{case.pk}").status_code == 404
        assert client.get(f"/cases/{case.tracking_code}/").status_code == 404
    client.force_login(po.olga)
    assert client.get(f"/api/v1/cases/{case.pk}").status_code == 200
    r = api_act(client, case, "route", {"unit": u.water.code})
    assert r.status_code == 422 and "unit" in r.json()["error"]["fields"]


def test_receive_and_deliver_through_the_petitions_api(client, po):
    import json

    from civicgrid.cases.documents import document_upload
    from civicgrid.core.inputs import Upload
    from civicgrid.petitions.tests.conftest import POINT_A, at
    from civicgrid.petitions.tests.test_workflow import _accepted

    body = {"office": po.office.code, "kind": "claim", "title": "工资拖欠", "matter": "拖欠工资",
            "petitioner": {"name": "王五", "phone": "13800138000", "address": "甲区"}, "lon": POINT_A[0],
            "lat": POINT_A[1]}
    client.force_login(po.cast.alice)  # not of the office
    assert client.post("/api/v1/petitions", json.dumps(body), content_type="application/json").status_code == 404
    client.force_login(po.olga)
    r = client.post("/api/v1/petitions", json.dumps({**body, "kind": "rumour"}), content_type="application/json")
    assert r.status_code == 422
    r = client.post("/api/v1/petitions", json.dumps({**body, "anonymous": True}), content_type="application/json")
    assert r.status_code == 422 and "anonymous" in r.json()["error"]["fields"]
    r = client.post("/api/v1/petitions", json.dumps(body), content_type="application/json")
    assert r.status_code == 201 and r.json()["state"] == "registered" and r.json()["notice_owed"]

    u = po.units
    case = _accepted(po)
    act_reply = api_act
    client.force_login(u.dana)
    assert act_reply(client, case, "reply", {"note": "处理意见"}).status_code == 200
    doc = document_upload(actor=u.dana, case=fresh(case), kind="decision", title="处理意见书",
                          files=[Upload(name="a.pdf", content=b"%PDF-1.4 x")])[0].document
    url = f"/api/v1/petitions/{case.pk}/deliveries"
    r = client.post(url, json.dumps({"document": 99999, "party": "王五", "method": "post"}),
                    content_type="application/json")
    assert r.status_code == 422 and "document" in r.json()["error"]["fields"]
    r = client.post(url, json.dumps({"document": doc.pk, "party": "王五", "method": "pigeon"}),
                    content_type="application/json")
    assert r.status_code == 422 and "method" in r.json()["error"]["fields"]
    when = at(2025, 11, 3, 10)
    r = client.post(url, json.dumps({"document": doc.pk, "party": "王五", "method": "post",
                                     "delivered_at": "2025-11-03T10:00"}), content_type="application/json")
    assert r.status_code == 201
    assert fresh(case).timers.get(kind="review_window").started_at == when
    client.force_login(po.cast.charlie)
    assert client.post(url, json.dumps({"document": doc.pk, "party": "王五", "method": "post"}),
                       content_type="application/json").status_code == 404


def test_a_resident_petitions_online_and_follows_it(client, po):
    import json

    from civicgrid.petitions.tests.conftest import POINT_A, POINT_B

    body = {"kind": "claim", "title": "楼道照明损坏", "matter": "楼道照明", "name": "Rita", "phone": "13700137000",
            "address": "甲区一街道2号", "lon": POINT_A[0], "lat": POINT_A[1]}
    assert client.post("/api/v1/petitions/online", json.dumps(body),
                       content_type="application/json").status_code in (401, 403)
    client.force_login(po.units.rita)
    r = client.post("/api/v1/petitions/online", json.dumps({**body, "lon": 10.0, "lat": 10.0}),
                    content_type="application/json")  # outside the city: no office receives it
    assert r.status_code == 422 and "location" in r.json()["error"]["fields"]
    r = client.post("/api/v1/petitions/online", json.dumps({**body, "lon": POINT_B[0], "lat": POINT_B[1]}),
                    content_type="application/json")  # district B has no office: the city's receives it
    assert r.status_code == 201 and not r.json()["skip_level"]
    r = client.post("/api/v1/petitions/online", json.dumps({**body, "lon": "x"}), content_type="application/json")
    assert r.status_code == 422
    r = client.post("/api/v1/petitions/online", json.dumps(body), content_type="application/json")
    assert r.status_code == 201 and r.json()["notice_owed"]
    from civicgrid.cases.models import Case

    case = Case.objects.get(tracking_code=r.json()["tracking_code"])
    assert case.petition.office == po.office and case.petition.form == "online" and case.reporter == po.units.rita
    page = client.get(f"/track/{case.tracking_code}/")
    assert page.status_code == 200 and case.tracking_code in page.content.decode()
