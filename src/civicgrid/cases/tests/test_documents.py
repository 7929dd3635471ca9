"""Documents of a case: generated from templates (Word and PDF), uploaded, versioned, delivered,
audited, and served only to those who may see the case; who may do each is the type's declaration,
taken through the engine's one way in (``rules.case_act``)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from civicgrid.cases.errors import TransitionNotAllowed, TransitionRefused
from civicgrid.cases.tests.conftest import drill_create, fresh
from civicgrid.core.inputs import Upload
from civicgrid.org.scoping import OutOfScope

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.CIVICGRID_MEDIA_ROOT = tmp_path / "media"
    return settings.CIVICGRID_MEDIA_ROOT


def act(actor: Any, case: Any, action: str, data: dict[str, Any], **kw: Any) -> Any:
    from civicgrid.cases.rules import case_act

    return case_act(actor=actor, case=fresh(case), action=action, data=data, **kw)


def docx_text(data: bytes) -> str:
    import docx

    d = docx.Document(io.BytesIO(data))
    cells = [c.text for t in d.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in d.paragraphs] + cells)


def pdf_text(data: bytes) -> str:
    import pypdf

    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def stored(rel: str) -> bytes:
    from civicgrid.cases.documents import file_path

    path = file_path(rel)
    assert path is not None
    return path.read_bytes()


def audits(action: str) -> int:
    from civicgrid.audit.models import AuditEntry

    return AuditEntry.objects.filter(action=action).count()


def test_a_work_order_is_generated_as_word_and_pdf_with_the_case_in_it(cast: Any, units: Any) -> None:
    from civicgrid.cases.models import CaseDocument, TimelineEntry

    case = drill_create(cast.alice, title="路灯不亮 <请修>", text="人民路路灯整晚不亮")
    act(cast.alice, case, "dispatch", {"department": units.urban.code})
    act(cast.alice, case, "generate_document", {"kind": "work_order", "note": "打印工单"})
    doc = CaseDocument.objects.get(case=case)
    v = doc.versions.get()
    assert (doc.kind, doc.current_version, v.number, v.source) == ("work_order", 1, 1, "generated")
    text = docx_text(stored(v.path))
    assert case.tracking_code in text and "路灯不亮 <请修>" in text and "甲区城管局" in text
    assert "dispatch" in text  # the steps so far, by their labels
    pdf = stored(v.pdf_path)
    assert pdf.startswith(b"%PDF")
    assert case.tracking_code in pdf_text(pdf) and "路灯不亮" in pdf_text(pdf)
    step = TimelineEntry.objects.get(case=case, action="generate_document")
    assert step.data["version"] == 1 and step.note == "打印工单" and step.actor_name == "Alice"
    assert audits("cases.drill.generate_document") == 1


def test_each_generation_and_each_new_upload_is_the_next_version(cast: Any, units: Any) -> None:
    from civicgrid.cases.models import CaseDocument

    case = drill_create(cast.alice)
    act(cast.alice, case, "generate_document", {"kind": "work_order"})
    act(cast.alice, case, "generate_document", {"kind": "work_order"})
    doc = CaseDocument.objects.get(case=case, kind="work_order")
    assert doc.current_version == 2 and list(doc.versions.values_list("number", flat=True)) == [1, 2]
    act(cast.bob, case, "upload_document", {"kind": "agreement", "title": "调解协议（签字版）"},
        files=[Upload("协议.pdf", PDF_BYTES)])
    scan = CaseDocument.objects.get(case=case, kind="agreement")
    assert (scan.title, scan.current_version) == ("调解协议（签字版）", 1)
    act(cast.bob, case, "upload_document", {"document": str(scan.pk)}, files=[Upload("协议2.pdf", PDF_BYTES + b" ")])
    scan.refresh_from_db()
    v2 = scan.versions.get(number=2)
    assert scan.current_version == 2 and v2.content_type == "application/pdf" and v2.source == "uploaded"
    assert stored(v2.path) == PDF_BYTES + b" " and v2.size == len(PDF_BYTES) + 1
    assert audits("cases.drill.upload_document") == 2


def test_an_upload_is_checked_by_its_content(cast: Any, units: Any) -> None:
    case = drill_create(cast.alice)
    with pytest.raises(TransitionNotAllowed) as refused:
        act(cast.alice, case, "upload_document", {}, files=[Upload("x.pdf", b"\x00\x01binary\xff")])
    assert "files" in refused.value.message_dict
    with pytest.raises(TransitionNotAllowed) as refused:
        act(cast.alice, case, "upload_document", {"title": "无文件"})
    assert "files" in refused.value.message_dict
    from civicgrid.cases.models import CaseDocument

    assert not CaseDocument.objects.filter(case=case).exists()


def test_a_delivery_is_recorded_against_the_current_version(cast: Any, units: Any) -> None:
    from civicgrid.cases.models import CaseDocument, Delivery

    case = drill_create(cast.alice)
    from civicgrid.cases.rules import case_actions
    from civicgrid.cases.services import party_add

    party = party_add(actor=cast.alice, case=case, kind="applicant", name="王小明")
    stranger = party_add(actor=cast.alice, case=drill_create(cast.alice, title="别的案件"), kind="applicant", name="李")

    assert "record_delivery" not in {o.name for o in case_actions(cast.alice, fresh(case))}  # nothing to deliver
    act(cast.alice, case, "generate_document", {"kind": "notice"})
    doc = CaseDocument.objects.get(case=case)
    offer = next(o for o in case_actions(cast.alice, fresh(case)) if o.name == "record_delivery")
    assert [c[0] for c in next(i for i in offer.inputs if i.name == "document").choices] == [str(doc.pk)]
    # the party is one of the case's parties, offered masked
    offered = next(i for i in offer.inputs if i.name == "party").choices
    assert [c[0] for c in offered] == [str(party.pk)] and "王小明" not in str(offered)
    act(cast.alice, case, "record_delivery",
        {"document": str(doc.pk), "party": str(party.pk), "method": "post", "delivered_at": "2024-09-25T10:30"},
        files={"proof": [Upload("回执.jpg", b"\xff\xd8\xff\xe0fakejpeg")]})
    d = Delivery.objects.get()
    assert (d.version.number, d.method, d.party_name, d.proof_content_type) == (1, "post", "王小明", "image/jpeg")
    assert d.party == party
    from django.utils import timezone

    assert timezone.localtime(d.delivered_at).isoformat().startswith("2024-09-25T10:30")  # Asia/Shanghai
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT party_name FROM cases_delivery")
        assert "王小明" not in str(cur.fetchall())  # encrypted at rest
    assert audits("cases.drill.record_delivery") == 1
    mine = str(party.pk)
    for data, field in (({"document": str(doc.pk), "party": mine, "method": "pigeon"}, "method"),
                        ({"document": str(doc.pk), "party": "", "method": "sms"}, "party"),
                        ({"document": str(doc.pk), "party": "王小明", "method": "sms"}, "party"),  # a name: not a party
                        ({"document": str(doc.pk), "party": str(stranger.pk), "method": "sms"}, "party"),
                        ({"document": str(doc.pk), "party": mine, "method": "sms", "delivered_at": "2999-01-01 09:00"},
                         "delivered_at"),
                        ({"document": str(doc.pk), "party": mine, "method": "sms", "delivered_at": "昨天"},
                         "delivered_at"),
                        ({"document": "999999", "party": mine, "method": "sms"}, "document")):
        with pytest.raises(TransitionNotAllowed) as refused:
            act(cast.alice, case, "record_delivery", data)
        assert field in refused.value.message_dict, data
    assert Delivery.objects.count() == 1


def test_who_may_act_on_documents_is_the_declaration(cast: Any, units: Any) -> None:
    from civicgrid.cases.models import CaseDocument
    from civicgrid.cases.rules import case_actions

    case = drill_create(cast.alice, reporter=units.rita)
    act(cast.alice, case, "generate_document", {"kind": "work_order"})
    doc = CaseDocument.objects.get(case=case)
    with pytest.raises(TransitionRefused):  # a grid worker may upload, not generate or record a delivery
        act(cast.bob, case, "generate_document", {"kind": "work_order"})
    with pytest.raises(TransitionRefused):
        act(cast.bob, case, "record_delivery", {"document": str(doc.pk), "party": "王", "method": "sms"})
    with pytest.raises(TransitionRefused):  # the reporter does none of it
        act(units.rita, case, "upload_document", {}, files=[Upload("a.pdf", PDF_BYTES)])
    with pytest.raises(OutOfScope):  # district B's dispatcher does not see the case
        act(cast.charlie, case, "generate_document", {"kind": "work_order"})
    with pytest.raises(OutOfScope):  # a handler whose department has not been given the case
        act(units.evan, case, "upload_document", {}, files=[Upload("a.pdf", PDF_BYTES)])
    act(cast.alice, case, "dispatch", {"department": units.water.code})
    act(units.evan, case, "upload_document", {}, files=[Upload("a.pdf", PDF_BYTES)])  # now it holds it
    with pytest.raises(TransitionNotAllowed) as refused:  # a kind the type does not declare
        act(cast.alice, case, "generate_document", {"kind": "agreement"})
    assert "kind" in refused.value.message_dict
    offers = {o.name: o for o in case_actions(cast.bob, fresh(case))}
    assert "upload_document" in offers and "generate_document" not in offers
    kinds = next(i for i in {o.name: o for o in case_actions(cast.alice, fresh(case))}["generate_document"].inputs
                 if i.name == "kind")
    assert [c[0] for c in kinds.choices] == ["work_order", "notice"]
    assert CaseDocument.objects.filter(case=case).count() == 2


def test_a_merged_case_takes_no_documents(cast: Any, units: Any) -> None:
    from civicgrid.cases.rules import case_actions

    survivor, dup = drill_create(cast.alice), drill_create(cast.alice, title="重复")
    act(cast.alice, survivor, "merge", {"duplicates": [dup.tracking_code]})
    names = {o.name for o in case_actions(cast.alice, fresh(dup))}
    assert not {"upload_document", "generate_document"} & names
    with pytest.raises(TransitionNotAllowed):
        act(cast.alice, dup, "upload_document", {}, files=[Upload("a.pdf", PDF_BYTES)])


def test_a_version_is_served_only_to_those_who_may_see_the_case(cast: Any, units: Any) -> None:
    from civicgrid.cases.models import CaseDocument
    from civicgrid.cases.selectors import case_get, document_file

    case = drill_create(cast.alice, reporter=units.rita)
    act(cast.alice, case, "generate_document", {"kind": "work_order"})
    act(cast.alice, case, "generate_document", {"kind": "notice"})
    order = CaseDocument.objects.get(case=case, kind="work_order")
    notice = CaseDocument.objects.get(case=case, kind="notice")
    f = document_file(user=cast.alice, case=case_get(user=cast.alice, pk=case.pk), document_id=order.pk, number=1)
    assert f.name.endswith(".docx") and case.tracking_code in docx_text(f.path.read_bytes())
    with pytest.raises(OutOfScope):
        case_get(user=cast.charlie, pk=case.pk)
    with pytest.raises(OutOfScope):  # a version that is not there
        document_file(user=cast.alice, case=case, document_id=order.pk, number=2)
    other = drill_create(cast.alice)
    with pytest.raises(OutOfScope):  # a document of another case, named through this one
        document_file(user=cast.alice, case=other, document_id=order.pk, number=1)
    # the reporter: only the PDF of a kind the type declares public (the notice), never the work order
    mine = case_get(user=units.rita, pk=case.pk)
    assert document_file(user=units.rita, case=mine, document_id=notice.pk, number=1, pdf=True).content_type == \
        "application/pdf"
    for doc_id, pdf in ((notice.pk, False), (order.pk, True), (order.pk, False)):
        with pytest.raises(OutOfScope):
            document_file(user=units.rita, case=mine, document_id=doc_id, number=1, pdf=pdf)


def test_a_template_replaced_by_an_administrator_is_used_for_the_next_generation(cast: Any, units: Any) -> None:
    import docx

    from civicgrid.cases.documents import template_replace
    from civicgrid.cases.models import CaseDocument, DocumentTemplate

    case = drill_create(cast.alice)
    act(cast.alice, case, "generate_document", {"kind": "work_order"})
    d = docx.Document()
    d.add_paragraph("甲区专用工单 {{ tracking_code }} / {{ title }}")
    buf = io.BytesIO()
    d.save(buf)
    row = template_replace(actor=cast.admin_a, kind="work_order", case_type="drill", content=buf.getvalue(),
                           name="甲区工单.docx")
    assert (row.version, row.active) == (1, True) and audits("cases.document_template.replace") == 1
    act(cast.alice, case, "generate_document", {"kind": "work_order"})
    v2 = CaseDocument.objects.get(case=case).versions.get(number=2)
    assert f"甲区专用工单 {case.tracking_code}" in docx_text(stored(v2.path))
    assert (v2.template_id, v2.template_version) == (row.pk, 1)
    assert "甲区专用工单" in pdf_text(stored(v2.pdf_path))
    # a second replacement is version 2; the first is kept, inactive
    again = template_replace(actor=cast.admin_a, kind="work_order", case_type="drill", content=buf.getvalue())
    assert again.version == 2 and not DocumentTemplate.objects.get(pk=row.pk).active
    # what docxtpl cannot read is refused, naming the file
    broken = docx.Document()
    broken.add_paragraph("{{ tracking_code ")
    buf2 = io.BytesIO()
    broken.save(buf2)
    for content in (b"not a word file", buf2.getvalue()):
        with pytest.raises(TransitionNotAllowed) as refused:
            template_replace(actor=cast.admin_a, kind="work_order", content=content)
        assert "file" in refused.value.message_dict


def _template(text: str) -> bytes:
    import docx

    d = docx.Document()
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_an_administrator_replaces_a_template_in_the_admin(cast: Any, units: Any, client: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from civicgrid.cases.models import CaseDocument, DocumentTemplate
    from civicgrid.org.services import user_create

    root = user_create(actor=None, username="root", password=None, display_name="Root")
    root.is_staff = root.is_superuser = True
    root.save()
    client.force_login(root)
    upload = SimpleUploadedFile("通知.docx", _template("区级通知 {{ tracking_code }}"))
    answer = client.post("/admin/cases/documenttemplate/add/", {"kind": "notice", "case_type": "", "file": upload})
    assert answer.status_code == 302, answer.content.decode()[:2000]
    row = DocumentTemplate.objects.get()
    assert (row.kind, row.case_type, row.version, row.uploaded_by) == ("notice", "", 1, root)
    assert audits("cases.document_template.replace") == 1
    bad = client.post("/admin/cases/documenttemplate/add/",
                      {"kind": "notice", "case_type": "", "file": SimpleUploadedFile("x.docx", b"PK\x03\x04junk")})
    assert bad.status_code == 200 and DocumentTemplate.objects.count() == 1  # the form again, with the error
    assert client.get(f"/admin/cases/documenttemplate/{row.pk}/change/").status_code == 200  # read only
    case = drill_create(cast.alice)
    act(cast.alice, case, "generate_document", {"kind": "notice"})
    v = CaseDocument.objects.get(case=case).versions.get()
    assert f"区级通知 {case.tracking_code}" in docx_text(stored(v.path))
    # a non-staff person cannot reach the admin's template screen
    client.force_login(cast.alice)
    assert client.get("/admin/cases/documenttemplate/add/").status_code in (302, 403)


def test_the_command_lists_and_replaces_templates(cast: Any, tmp_path: Any) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from civicgrid.cases.models import DocumentTemplate

    out = io.StringIO()
    call_command("cases_templates", stdout=out)
    assert "work_order\t*\tshipped" in out.getvalue()
    path = tmp_path / "order.docx"
    path.write_bytes(_template("事件工单 {{ tracking_code }}"))
    call_command("cases_templates", "work_order", str(path), "--case-type", "drill", "--as", "alice", stdout=out)
    row = DocumentTemplate.objects.get()
    assert (row.case_type, row.version, row.uploaded_by) == ("drill", 1, cast.alice)
    out = io.StringIO()
    call_command("cases_templates", stdout=out)
    assert "work_order\tdrill\tv1\torder.docx" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("cases_templates", "work_order", str(path), "--case-type", "nosuchtype")
    path.write_bytes(b"plain text")
    with pytest.raises(CommandError):
        call_command("cases_templates", "notice", str(path))
