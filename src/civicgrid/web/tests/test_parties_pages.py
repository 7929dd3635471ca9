"""The parties panel on the case page (当事人): masked values; a reveal form asking why for those the
case type lets reveal, answered in place (htmx) or on the page, audited; refused to a wrong role
(403) and outside the jurisdiction (404); adding a party of a type that has applicants."""

from __future__ import annotations

import pytest

from civicgrid.audit.models import AuditEntry
from civicgrid.cases.models import Party
from civicgrid.events.tests.conftest import report
from civicgrid.web.tests.conftest import client_for

pytestmark = pytest.mark.django_db

PHONE = "13800138000"


@pytest.fixture
def event(world, units):
    return report(world.alice, channel="hotline", request_type="投诉", reporter_name="王女士",
                  reporter_phone=PHONE).case


def _reveal_url(case):
    return f"/cases/{case.tracking_code}/parties/{case.parties.get().pk}/reveal/"


def test_the_case_page_shows_the_reporter_masked_with_a_reveal_form_for_the_dispatcher(world, event):
    page = client_for(world.alice).get(f"/cases/{event.tracking_code}/").content.decode()
    assert 'id="parties"' in page and "138****8000" in page and "王**" in page
    assert PHONE not in page and "王女士" not in page
    assert _reveal_url(event) in page and 'name="purpose"' in page
    bob = client_for(world.bob).get(f"/cases/{event.tracking_code}/").content.decode()
    assert "138****8000" in bob and _reveal_url(event) not in bob  # the grid worker may not reveal


def test_a_reveal_from_the_case_page_with_a_purpose_is_shown_in_place_and_audited(world, event):
    client = client_for(world.alice)
    answer = client.post(_reveal_url(event), {"field": "phone", "purpose": "回电告知处理进展"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and PHONE in answer.content.decode()
    assert "no-store" in answer.get("Cache-Control", "") or "no-cache" in answer.get("Cache-Control", "")
    [row] = AuditEntry.objects.filter(action="privacy.reveal")
    assert row.actor_id == world.alice.pk and row.extra["purpose"] == "回电告知处理进展"
    page = client.post(_reveal_url(event), {"field": "phone", "purpose": "再次回电"})  # without htmx: the page
    assert page.status_code == 200 and PHONE in page.content.decode() and 'id="parties"' in page.content.decode()


def test_a_reveal_without_a_purpose_is_refused_naming_it(world, event):
    answer = client_for(world.alice).post(_reveal_url(event), {"field": "phone", "purpose": ""},
                                          HTTP_HX_REQUEST="true")
    assert answer.status_code == 422 and PHONE not in answer.content.decode()
    assert 'data-field="purpose"' in answer.content.decode()
    assert not AuditEntry.objects.filter(action="privacy.reveal").exists()


def test_a_reveal_is_refused_to_a_wrong_role_and_outside_the_jurisdiction(world, event):
    body = {"field": "phone", "purpose": "回电核实情况"}
    assert client_for(world.bob).post(_reveal_url(event), body).status_code == 403
    assert client_for(world.charlie).post(_reveal_url(event), body).status_code == 404
    assert client_for(world.alice).get(_reveal_url(event)).status_code == 405
    assert not AuditEntry.objects.filter(action="privacy.reveal").exists()


def test_a_dispatcher_adds_a_party_to_a_type_that_has_them(world, units):
    from civicgrid.cases.services import Location, case_create
    from civicgrid.cases.testing import register_drill

    register_drill()
    case = case_create(actor=world.alice, case_type="drill", title="邻里纠纷", location=Location(lon=114.02, lat=22.51))
    client = client_for(world.alice)
    page = client.get(f"/cases/{case.tracking_code}/").content.decode()
    assert 'id="party-add"' in page and 'value="applicant"' in page and 'value="petitioner"' not in page
    bad = client.post(f"/cases/{case.tracking_code}/parties/", {"kind": "applicant", "phone": "12"})
    assert bad.status_code == 422 and not Party.objects.filter(case=case).exists()
    done = client.post(f"/cases/{case.tracking_code}/parties/", {"kind": "applicant", "name": "张三", "phone": PHONE})
    assert done.status_code == 302 and Party.objects.get(case=case).phone == PHONE
    assert client_for(world.bob).post(f"/cases/{case.tracking_code}/parties/",
                                      {"kind": "respondent", "name": "李四"}).status_code == 403
    assert client_for(world.charlie).post(f"/cases/{case.tracking_code}/parties/",
                                          {"kind": "respondent", "name": "李四"}).status_code == 404
    assert Party.objects.filter(case=case).count() == 1
