"""The issue-16 "second real case type" end to end through the API and the generated case page: a small
mediation with parties, a person assignee, a remind-only clock and a generated Word agreement
(调解协议书) — drawn from the dispute's own template with the parties' real names, the facts and the
terms — its signed scan uploaded, delivered to a party, and the follow-up. Refusals: a dispatcher and a
grid worker may not draw it (it prints the parties in full), an outsider sees nothing."""

from __future__ import annotations

import base64
import io
import json

import pytest

from civicgrid.audit.models import AuditEntry
from civicgrid.cases.models import CaseDocument, Delivery, Party
from civicgrid.disputes.tests.conftest import POINT_A, act, fields_of, fresh

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.CIVICGRID_MEDIA_ROOT = str(tmp_path)
    return tmp_path


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def docx_text(data: bytes) -> str:
    import docx

    d = docx.Document(io.BytesIO(data))
    cells = [c.text for t in d.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in d.paragraphs] + cells)


def test_a_small_mediation_from_registration_to_a_signed_agreement_and_its_follow_up(client, mediation):
    m = mediation
    client.force_login(m.cast.bob)  # the grid worker registers it on patrol, with its parties
    r = post(client, "/api/v1/disputes", {
        "title": "楼上漏水纠纷", "dispute_type": "neighbour", "source": "grid_worker",
        "summary": "楼上卫生间漏水致楼下受损",
        "applicant_claim": "赔偿装修损失3000元", "respondent_claim": "同意维修，赔偿金额有异议",
        "lon": POINT_A[0], "lat": POINT_A[1],
        "parties": [{"kind": "applicant", "name": "张三", "id_number": "110101199003074514", "phone": "13800138000"},
                    {"kind": "respondent", "name": "李四", "phone": "13900139000", "address": "幸福路1号502"}]})
    assert r.status_code == 201, r.content
    case_id = r.json()["id"]
    from civicgrid.cases.models import Case

    case = Case.objects.get(pk=case_id)
    client.force_login(m.cast.alice)
    assert act(client, case, "route").status_code == 200
    client.force_login(m.mia)
    assert act(client, case, "accept").status_code == 200
    assert act(client, case, "assign_mediator", {"mediator": m.mia.pk}).status_code == 200
    assert case.tracking_code in client.get("/mine/").content.decode()
    assert act(client, case, "take").status_code == 200
    assert act(client, case, "start").status_code == 200
    r = act(client, case, "agree_written", {"terms": "维修防水层 | 李四 | 2024-10-15\n赔偿2000元 | 李四 | 2024-10-31"})
    assert r.status_code == 200, r.content
    assert fresh(case).timers.filter(kind="confirmation", stopped_at__isnull=True).exists()

    # the case page offers the agreement to draw
    page = client.get(f"/cases/{case.tracking_code}/").content.decode()
    assert 'data-action="generate_document"' in page and 'value="agreement"' in page

    # who may not draw it: the dispatcher and the grid worker (403), an outsider (404)
    for who, status in ((m.cast.alice, 403), (m.cast.bob, 403), (m.cast.charlie, 404), (m.max, 404)):
        client.force_login(who)
        assert act(client, case, "generate_document", {"kind": "agreement"}).status_code == status, who
    client.force_login(m.mia)
    r = act(client, case, "generate_document", {"kind": "decision"})  # a kind the dispute does not declare
    assert r.status_code == 422 and list(fields_of(r)) == ["kind"]
    r = act(client, case, "generate_document", {"kind": "agreement"})
    assert r.status_code == 200, r.content
    assert AuditEntry.objects.filter(action="cases.dispute.generate_document").count() == 1
    docs = client.get(f"/api/v1/cases/{case.pk}/documents").json()
    agreement = next(d for d in docs if d["kind"] == "agreement")
    v = agreement["versions"][0]
    word = client.get(v["url"])
    assert word.status_code == 200
    text = docx_text(b"".join(word.streaming_content))
    assert "人民调解协议书" in text  # the dispute's own template, not the engine's generic agreement
    for seen in ("张三", "李四", "110101199003074514", "幸福路1号502", "楼上卫生间漏水致楼下受损", "赔偿装修损失3000元",
                 "维修防水层", "2024-10-15", "赔偿2000元", "2024-10-31", "Mia", m.community.name):
        assert seen in text, seen
    pdf = client.get(v["pdf_url"])
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    # served only to those who see the case
    client.force_login(m.cast.charlie)
    assert client.get(v["url"]).status_code == 404

    # the signed scan uploaded as a new version of the agreement; delivered to the respondent
    client.force_login(m.mia)
    scan = {"name": "签字协议.pdf", "content_base64": base64.b64encode(PDF_BYTES).decode()}
    r = act(client, case, "upload_document", {"document": str(agreement["id"]), "files": [scan]})
    assert r.status_code == 200, r.content
    assert CaseDocument.objects.get(pk=agreement["id"]).current_version == 2
    offers = {o["name"]: o for o in client.get(f"/api/v1/cases/{case.pk}/actions").json()}
    party_choices = next(i for i in offers["record_delivery"]["inputs"] if i["name"] == "party")["choices"]
    respondent = Party.objects.get(case=case, kind="respondent")
    assert str(respondent.pk) in [c[0] for c in party_choices] and "李四" not in json.dumps(party_choices,
                                                                                         ensure_ascii=False)
    r = act(client, case, "record_delivery", {"document": str(agreement["id"]), "party": "李四", "method": "in_person"})
    assert r.status_code == 422 and list(fields_of(r)) == ["party"]
    r = act(client, case, "record_delivery", {"document": str(agreement["id"]), "party": str(respondent.pk),
                                              "method": "in_person"})
    assert r.status_code == 200, r.content
    d = Delivery.objects.get()
    assert d.party == respondent and d.version.number == 2

    # the follow-up and the close
    assert act(client, case, "follow_up", {"note": "已维修并赔偿", "performed": "yes"}).status_code == 200
    assert act(client, case, "close").status_code == 200
    case = fresh(case)
    assert case.state == "closed"
    page = client.get(f"/cases/{case.tracking_code}/").content.decode()
    assert "张三" not in page and "13800138000" not in page  # the page masks the parties
