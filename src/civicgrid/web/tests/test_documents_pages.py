"""A case's documents on its page: generated and uploaded through the actions the engine offers,
listed with their versions and deliveries, downloaded only by those who may see the case."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.web.tests.conftest import POINT_A, client_for, fresh, reported

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_documents_are_made_listed_and_served_from_the_case_page(world, units):
    from civicgrid.cases.models import CaseDocument, Delivery

    case = reported()
    alice = client_for(world.alice)
    url = f"/cases/{case.tracking_code}/"
    page = alice.get(url).content.decode()
    assert 'data-action="generate_document"' in page and 'data-action="upload_document"' in page
    assert 'id="documents"' not in page  # no document yet
    done = alice.post(f"{url}act/generate_document/", {"kind": "work_order"})
    assert done.status_code == 302
    upload = SimpleUploadedFile("签字协议.pdf", PDF_BYTES, content_type="application/pdf")
    done = alice.post(f"{url}act/upload_document/", {"kind": "agreement", "title": "签字协议", "files": upload})
    assert done.status_code == 302
    order = CaseDocument.objects.get(case=case, kind="work_order")
    from civicgrid.cases.services import party_add

    party = party_add(actor=world.alice, case=fresh(case), kind="reporter", name="王小明")  # to deliver to
    page = alice.get(url).content.decode()
    assert 'id="documents"' in page and "签字协议" in page and order.title in page
    assert 'type="datetime-local"' in page  # record_delivery is offered now, its time a date-time field
    link = f"/cases/{case.tracking_code}/documents/{order.pk}/v1/"
    assert link in page and f"{link}?format=pdf" in page
    word = alice.get(link)
    assert word.status_code == 200 and "attachment" in word["Content-Disposition"]
    assert alice.get(f"{link}?format=pdf")["Content-Type"] == "application/pdf"
    # a delivery through the page, to one of the case's parties, with its proof
    proof = SimpleUploadedFile("回执.pdf", PDF_BYTES, content_type="application/pdf")
    done = alice.post(f"{url}act/record_delivery/", {"document": order.pk, "party": party.pk, "method": "post",
                                                     "delivered_at": "2024-09-24T09:30", "proof": proof})
    assert done.status_code == 302, done.content.decode()[:500]
    d = Delivery.objects.get()
    page = alice.get(url).content.decode()
    assert "王小明" not in page and f"/deliveries/{d.pk}/proof/" in page
    assert alice.get(f"/cases/{case.tracking_code}/deliveries/{d.pk}/proof/").status_code == 200
    # refused: a bad time (422 on the page, the field named), an outsider, the anonymous
    refused = alice.post(f"{url}act/record_delivery/", {"document": order.pk, "party": party.pk, "method": "sms",
                                                        "delivered_at": "later"})
    assert refused.status_code == 422 and Delivery.objects.count() == 1
    assert client_for(world.charlie).get(link).status_code == 404
    assert client_for(world.charlie).get(f"/cases/{case.tracking_code}/deliveries/{d.pk}/proof/").status_code == 404
    assert client_for().get(link).status_code == 302  # to sign in
    assert client_for(world.charlie).post(f"{url}act/generate_document/", {"kind": "work_order"}).status_code == 404
    assert fresh(case).state == case.state


def test_a_grid_worker_uploads_but_does_not_generate(world, units):
    case = reported()
    bob = client_for(world.bob)
    page = bob.get(f"/cases/{case.tracking_code}/").content.decode()
    assert 'data-action="upload_document"' in page and 'data-action="generate_document"' not in page
    assert bob.post(f"/cases/{case.tracking_code}/act/generate_document/", {"kind": "work_order"}).status_code == 403
    scan = SimpleUploadedFile("现场.pdf", PDF_BYTES, content_type="application/pdf")
    assert bob.post(f"/cases/{case.tracking_code}/act/upload_document/", {"files": scan}).status_code == 302


def test_the_reporter_downloads_the_public_pdf_from_the_tracking_page(world, units):
    from civicgrid.cases.models import CaseDocument
    from civicgrid.cases.rules import case_act
    from civicgrid.cases.services import Location, case_create
    from civicgrid.cases.testing import register_drill

    register_drill()  # its notices are public, its work order is not
    case = case_create(actor=world.alice, case_type="drill", title="告知演练", reporter=units.rita,
                       location=Location(lon=POINT_A[0], lat=POINT_A[1]))
    for kind in ("notice", "work_order"):
        case_act(actor=world.alice, case=case, action="generate_document", data={"kind": kind})
    notice = CaseDocument.objects.get(case=case, kind="notice")
    order = CaseDocument.objects.get(case=case, kind="work_order")
    rita = client_for(units.rita)
    page = rita.get(f"/track/{case.tracking_code}/").content.decode()
    link = f"/cases/{case.tracking_code}/documents/{notice.pk}/v1/?format=pdf"
    assert 'id="public-documents"' in page and link in page and f"/documents/{order.pk}/" not in page
    pdf = rita.get(link)
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert rita.get(f"/cases/{case.tracking_code}/documents/{notice.pk}/v1/").status_code == 404  # the Word file
    assert rita.get(f"/cases/{case.tracking_code}/documents/{order.pk}/v1/?format=pdf").status_code == 404
    # anyone else with the tracking code sees no documents on the public page
    assert 'id="public-documents"' not in client_for().get(f"/track/{case.tracking_code}/").content.decode()
    assert client_for(world.charlie).get(link).status_code == 404
