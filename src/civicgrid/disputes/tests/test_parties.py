"""A dispute's parties (当事人) as engine parties: written at registration (service and API) in the
same transaction, encrypted and masked, revealed to the mediators and the centre; the repeat-party
risk rule by keyed hash (never in clear), one warning per reason; refusals naming the field."""

from __future__ import annotations

import json

from civicgrid.cases.models import Case, Party
from civicgrid.disputes.selectors import risk_flags
from civicgrid.disputes.services import PartyInput
from civicgrid.disputes.tests.conftest import POINT_A, fields_of, register
from civicgrid.notify.models import Notification

ZHANG = {"kind": "applicant", "name": "张三", "id_number": "110101199003074514", "phone": "13800138000",
         "address": "幸福路1号"}
LI = {"kind": "respondent", "name": "李四", "phone": "13900139000"}


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def base(**more):
    return {"title": "邻里纠纷", "dispute_type": "neighbour", "lon": POINT_A[0], "lat": POINT_A[1], **more}


def test_parties_are_written_at_registration_through_the_api_masked_and_revealed_to_the_mediator(client, mediation):
    m = mediation
    client.force_login(m.cast.bob)
    r = post(client, "/api/v1/disputes", base(parties=[ZHANG, LI]))
    assert r.status_code == 201, r.content
    case = Case.objects.get(pk=r.json()["id"])
    rows = list(Party.objects.filter(case=case).order_by("id"))
    assert [p.kind for p in rows] == ["applicant", "respondent"]
    assert rows[0].name == "张三" and rows[0].id_number_hash and rows[0].phone_hash
    # stored encrypted: the plain values are not in the table
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT name, id_number, phone FROM cases_party WHERE id = %s", [rows[0].pk])
        stored = " ".join(str(v) for v in cur.fetchone())
    assert "张三" not in stored and "13800138000" not in stored and "110101199003074514" not in stored

    listed = client.get(f"/api/v1/cases/{case.pk}/parties").json()["parties"]
    assert "张三" not in json.dumps(listed, ensure_ascii=False)  # masked
    client.force_login(m.mia)  # a mediator where it lies may reveal the name, with a purpose
    reveal = f"/api/v1/cases/{case.pk}/parties/{rows[0].pk}/reveal"
    r = post(client, reveal, {"field": "name", "purpose": "制作调解协议书"})
    assert r.status_code == 200 and r.json()["value"] == "张三"
    client.force_login(m.cast.bob)  # the grid worker may not
    r = post(client, f"/api/v1/cases/{case.pk}/parties/{rows[0].pk}/reveal", {"field": "name", "purpose": "核实身份"})
    assert r.status_code == 403
    client.force_login(m.max)  # another district's mediator does not see the case
    r = post(client, f"/api/v1/cases/{case.pk}/parties/{rows[0].pk}/reveal", {"field": "name", "purpose": "核实身份"})
    assert r.status_code == 404
    # the generated case page shows the Parties panel, masked
    client.force_login(m.mia)
    html = client.get(f"/cases/{case.tracking_code}/").content.decode()
    assert "张三" not in html and "13800138000" not in html and "138****8000" in html


def test_a_bad_party_is_refused_naming_its_field_and_nothing_is_written(client, mediation):
    m = mediation
    client.force_login(m.cast.bob)
    before = Case.objects.count()
    r = post(client, "/api/v1/disputes", base(parties=[ZHANG, {"kind": "reporter", "name": "王五"}]))
    assert r.status_code == 422 and list(fields_of(r)) == ["parties.1.kind"]
    r = post(client, "/api/v1/disputes", base(parties=[{"kind": "respondent"}]))
    assert r.status_code == 422 and list(fields_of(r)) == ["parties.0.name"]
    r = post(client, "/api/v1/disputes", base(parties=[{"kind": "respondent", "phone": "12"}]))
    assert r.status_code == 422 and list(fields_of(r)) == ["parties.0.phone"]
    assert Case.objects.count() == before and not Party.objects.exists()


def test_the_repeat_party_rule_by_keyed_hash_warns_once(mediation):
    m = mediation
    first = register(m.cast.bob, parties=[PartyInput(**ZHANG), PartyInput(**LI)])
    assert "repeat_party" not in {f.reason for f in risk_flags(first)}
    # the same person by identity number, written differently (spaces), another name
    again = register(m.cast.bob, title="又一纠纷", parties=[
        PartyInput(kind="respondent", name="张叁", id_number="1101 0119 9003 0745 14")])
    flags = {f.reason: f for f in risk_flags(again)}
    assert "repeat_party" in flags and "1 other disputes" in flags["repeat_party"].detail
    assert "110101199003074514" not in flags["repeat_party"].detail
    # by phone
    third = register(m.cast.bob, title="第三起", parties=[PartyInput(kind="third_party", phone="139 0013 9000")])
    assert "repeat_party" in {f.reason for f in risk_flags(third)}
    n = Notification.objects.filter(case=third, event="dispute_risk").count()
    assert n >= 1
    # another assessment does not warn again for the same reason
    from civicgrid.disputes.services import risk_check

    risk_check(third)
    assert Notification.objects.filter(case=third, event="dispute_risk").count() == n
    # a party unrelated: no flag
    other = register(m.cast.bob, title="无关", parties=[PartyInput(kind="applicant", phone="13700137000")])
    assert "repeat_party" not in {f.reason for f in risk_flags(other)}


def test_the_assigned_mediator_may_add_a_party_and_a_wrong_role_may_not(client, mediation):
    m = mediation
    case = register(m.cast.bob)
    client.force_login(m.cast.charlie)
    assert post(client, f"/api/v1/cases/{case.pk}/parties", {"kind": "applicant", "name": "赵六"}).status_code == 404
    client.force_login(m.mia)
    r = post(client, f"/api/v1/cases/{case.pk}/parties", {"kind": "applicant", "name": "赵六"})
    assert r.status_code == 201, r.content
    r = post(client, f"/api/v1/cases/{case.pk}/parties", {"kind": "petitioner", "name": "赵六"})
    assert r.status_code == 422 and list(fields_of(r)) == ["kind"]
