"""A dispute (矛盾纠纷) walked in a real browser through the engine's generated case page: a grid worker's
registration with its parties, routing by the centre, the organisation's mediator assigned as a person
who takes it on, mediates, records a written agreement, draws the 调解协议书 from the dispute's template,
uploads the signed scan as its next version, and follows it up."""

from __future__ import annotations

import pytest

from civicgrid.events.tests.conftest import POINT_A
from conftest import PASSWORD
from tests.browser.test_web_pages import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def form(page, action: str):
    """Open the action's form (only the next step opens by itself)."""
    page.eval_on_selector(f"#act-{action}", "d => { d.open = true; }")
    return page


def test_a_dispute_from_registration_to_a_signed_agreement_and_its_follow_up(page, live_server, world, settings,
                                                                              tmp_path):
    from civicgrid.cases.models import Case, CaseDocument
    from civicgrid.disputes.services import (
        DisputeInput,
        PartyInput,
        dispute_register,
        mediator_add,
        organisation_create,
    )
    from civicgrid.org.models import Role
    from civicgrid.org.services import membership_grant, user_create

    settings.CIVICGRID_MEDIA_ROOT = str(tmp_path)
    community = world.city.get("440301001001")
    org = organisation_create(actor=None, code="M-C", name="幸福社区人民调解委员会", kind="peoples_community",
                              region=community)
    mia = user_create(actor=None, username="mia", password=PASSWORD, display_name="Mia")
    membership_grant(actor=None, user=mia, role=Role.MEDIATOR, region=community)
    mediator_add(actor=None, organisation=org, user=mia, is_chief=True)
    case = dispute_register(actor=world.bob, data=DisputeInput(
        title="楼上漏水纠纷", dispute_type="neighbour", source="grid_worker", summary="楼上漏水致楼下受损",
        lon=POINT_A[0], lat=POINT_A[1],
        parties=[PartyInput(kind="applicant", name="张三", phone="13800138000"),
                 PartyInput(kind="respondent", name="李四", phone="13900139000")]))
    code, base = case.tracking_code, live_server.url

    sign_in(page, base, "alice")  # the centre routes it to the community's committee (the default)
    page.goto(f"{base}/cases/{code}/")
    page.locator("button[data-action=route]").click()
    page.wait_for_selector("#case-state[data-state=routed]")

    sign_in(page, base, "mia")
    page.goto(f"{base}/cases/{code}/")
    page.locator("button[data-action=accept]").click()
    page.wait_for_selector("#case-state[data-state=accepted]")
    form(page, "assign_mediator").select_option("#id_mediator_assign_mediator", str(mia.pk))
    page.locator("button[data-action=assign_mediator]").click()
    page.wait_for_selector("#act-take", state="attached")
    page.goto(f"{base}/mine/")
    assert code in page.content()  # my cases
    page.goto(f"{base}/cases/{code}/")
    form(page, "take").locator("button[data-action=take]").click()
    page.wait_for_selector("#act-start", state="attached")
    form(page, "start").locator("button[data-action=start]").click()
    page.wait_for_selector("#case-state[data-state=mediating]")
    terms = "维修防水层 | 李四 | 2030-10-15\n赔偿2000元 | 李四 | 2030-10-31"
    form(page, "agree_written").fill("#id_terms_agree_written", terms)
    page.locator("button[data-action=agree_written]").click()
    page.wait_for_selector("#case-state[data-state=agreed]")

    form(page, "generate_document").select_option("#id_kind_generate_document", "agreement")
    page.locator("button[data-action=generate_document]").click()
    page.wait_for_selector("#documents")
    agreement = CaseDocument.objects.get(case=case, kind="agreement")
    assert agreement.current_version == 1
    form(page, "upload_document").select_option("#id_document_upload_document", str(agreement.pk))
    page.set_input_files("#id_files_upload_document", files=[
        {"name": "签字协议.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}])
    page.locator("button[data-action=upload_document]").click()
    page.wait_for_selector(f"[data-document='{agreement.pk}'] >> text=v2")
    agreement.refresh_from_db()
    assert agreement.current_version == 2  # the signed scan is the agreement's next version

    form(page, "follow_up").select_option("#id_performed_follow_up", "yes")
    page.fill("#id_note_follow_up", "已维修并赔偿")
    shot(page, "dispute-follow-up")
    page.locator("button[data-action=follow_up]").click()
    page.wait_for_selector("#case-state[data-state=performed]")
    assert Case.objects.get(pk=case.pk).state == "performed"
    assert "张三" not in page.content()  # the page shows the parties masked
    assert page.console_errors == []
