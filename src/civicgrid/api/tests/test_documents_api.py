"""A case's documents through the API: generated and uploaded through the actions, listed with their
versions and deliveries, and downloaded only by those who may see the case (never a public URL)."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from django.test import Client

from civicgrid.api.tests.conftest import post, report

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_a_work_order_is_generated_listed_and_downloaded_through_the_api(world: Any, units: Any) -> None:
    import docx

    case = report(units.rita).case
    alice = client(world.alice)
    offers = {o["name"]: o for o in alice.get(f"/api/v1/cases/{case.pk}/actions").json()}
    assert "generate_document" in offers and "record_delivery" not in offers
    kinds = next(i for i in offers["generate_document"]["inputs"] if i["name"] == "kind")["choices"]
    assert [k[0] for k in kinds] == ["work_order"]  # the event type prints its work order
    answer = post(alice, f"/api/v1/cases/{case.pk}/actions/generate_document", {"kind": "work_order"})
    assert answer.status_code == 200, answer.content
    docs = alice.get(f"/api/v1/cases/{case.pk}/documents").json()
    assert [(d["kind"], d["current_version"]) for d in docs] == [("work_order", 1)]
    v = docs[0]["versions"][0]
    word = alice.get(v["url"])
    assert word.status_code == 200 and word["Content-Disposition"].startswith("attachment")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(b"".join(word.streaming_content))).paragraphs)
    assert case.tracking_code in text
    pdf = alice.get(v["pdf_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")

    # a delivery to one of the case's parties, with its proof, then listed (the party masked)
    from civicgrid.cases.services import party_add

    party = party_add(actor=world.alice, case=case, kind="reporter", name="王小明")
    doc_id = docs[0]["id"]
    answer = post(alice, f"/api/v1/cases/{case.pk}/actions/record_delivery",
                  {"document": doc_id, "party": str(party.pk), "method": "in_person",
                   "delivered_at": "2024-09-24T09:00:00+08:00",
                   "proof": [{"name": "回执.pdf", "content_base64": b64(PDF_BYTES)}]})
    assert answer.status_code == 200, answer.content
    delivery = alice.get(f"/api/v1/cases/{case.pk}/documents").json()[0]["versions"][0]["deliveries"][0]
    assert delivery["method"] == "in_person" and delivery["party"] != "王小明" and "王" in delivery["party"]
    proof = alice.get(delivery["proof_url"])
    assert proof.status_code == 200 and b"".join(proof.streaming_content) == PDF_BYTES

    # an outsider, an anonymous visitor, the reporter (the work order is not public) get nothing
    for who, expected in ((client(world.charlie), 404), (Client(), 401), (client(units.rita), 404)):
        assert who.get(v["url"]).status_code in (expected, 403), who
        assert who.get(v["pdf_url"]).status_code in (expected, 403)
        assert who.get(delivery["proof_url"]).status_code in (expected, 403)
    assert client(world.charlie).get(f"/api/v1/cases/{case.pk}/documents").status_code == 404
    assert client(units.rita).get(f"/api/v1/cases/{case.pk}/documents").json() == []
    # another case's document named through this case: 404
    other = report(units.rita, text="又一处井盖缺失").case
    assert alice.get(f"/api/v1/cases/{other.pk}/documents/{doc_id}/versions/1").status_code == 404


def test_uploads_and_refusals_through_the_api(world: Any, units: Any) -> None:
    case = report(units.rita).case
    alice = client(world.alice)
    url = f"/api/v1/cases/{case.pk}/actions/upload_document"
    ok = post(alice, url, {"kind": "agreement", "title": "签字协议",
                           "files": [{"name": "协议.pdf", "content_base64": b64(PDF_BYTES)}]})
    assert ok.status_code == 200, ok.content
    doc = alice.get(f"/api/v1/cases/{case.pk}/documents").json()[0]
    assert (doc["title"], doc["versions"][0]["content_type"]) == ("签字协议", "application/pdf")
    bad = post(alice, url, {"files": [{"name": "x.exe", "content_base64": b64(b"MZ\x00\x00\x90")}]})
    assert bad.status_code == 422 and "files" in bad.json()["error"]["fields"]
    assert post(alice, url, {"title": "无文件"}).status_code == 422
    assert post(alice, url, {"files": [], "pages": 3}).status_code == 422  # a field the action does not take
    generate = f"/api/v1/cases/{case.pk}/actions/generate_document"
    assert post(alice, generate, {"kind": "agreement"}).status_code == 422  # the event type declares no agreement
    assert post(client(world.charlie), generate, {"kind": "work_order"}).status_code == 404
    assert post(client(units.rita), generate, {"kind": "work_order"}).status_code == 403
    delivery = f"/api/v1/cases/{case.pk}/actions/record_delivery"
    from civicgrid.cases.services import party_add

    party = party_add(actor=world.alice, case=case, kind="reporter", name="王小明")
    refused = post(alice, delivery, {"document": doc["id"], "party": str(party.pk), "method": "sms",
                                     "delivered_at": "明天"})
    assert refused.status_code == 422 and "delivered_at" in refused.json()["error"]["fields"]
    assert len(alice.get(f"/api/v1/cases/{case.pk}/documents").json()) == 1
