"""The case page posts every upload input the engine offers under the input's own name: a type
whose step takes an ``agreement`` (files) and ``evidence`` (photos) gets those uploads passed to
the engine's one way in (``rules.case_act``), not dropped because they are not called ``files`` or
``photos``; an upload under a name the step does not take is passed on for the engine to refuse."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.cases import registry
from civicgrid.cases.registry import Input
from civicgrid.cases.rules import case_actions
from civicgrid.cases.testing import DRILL
from civicgrid.web.tests.conftest import POINT_A, client_for, fresh, jpeg

pytestmark = pytest.mark.django_db

SIGNED = dataclasses.replace(
    DRILL, code="signed",
    transitions={**DRILL.transitions, "finish": dataclasses.replace(
        DRILL.transitions["finish"], inputs=(Input("evidence", "photos", label="evidence"),
                                             Input("agreement", "files", label="signed agreement")))})


@pytest.fixture
def signed_type():
    registry.register(SIGNED)
    yield SIGNED
    registry.unregister(SIGNED.code)


@pytest.fixture
def handling(world, units, signed_type):
    from civicgrid.cases.rules import case_act
    from civicgrid.cases.services import Location, case_create

    case = case_create(actor=world.alice, case_type="signed", title="调解协议演练", text="演练",
                       location=Location(lon=POINT_A[0], lat=POINT_A[1]))
    case = case_act(actor=world.alice, case=case, action="dispatch", data={"department": units.urban.code})
    return case_act(actor=units.dana, case=fresh(case), action="accept", data={})


@pytest.fixture
def sent(monkeypatch):
    """What the page hands the engine's one way in."""
    calls = []

    def fake_case_act(*, actor, case, action, data, photos=(), files=(), now=None):
        calls.append({"action": action, "photos": {k: [p.name for p in v] for k, v in dict(photos).items()},
                      "files": {k: [f.name for f in v] for k, v in dict(files).items()}})
        return case

    monkeypatch.setattr("civicgrid.web.views.cases.case_act_rule", fake_case_act)
    return calls


def test_uploads_under_the_offered_inputs_names_reach_the_engine(units, handling, sent):
    offer = {o.name: o for o in case_actions(units.dana, fresh(handling))}["finish"]
    assert {(i.name, i.kind) for i in offer.inputs} >= {("evidence", "photos"), ("agreement", "files")}
    page = client_for(units.dana).get(f"/cases/{handling.tracking_code}/").content.decode()
    assert 'name="agreement" type="file"' in page and 'name="evidence" type="file"' in page
    response = client_for(units.dana).post(f"/cases/{handling.tracking_code}/act/finish/", {
        "note": "已签协议",
        "agreement": SimpleUploadedFile("agreement.pdf", b"%PDF-1.4 signed", content_type="application/pdf"),
        "evidence": SimpleUploadedFile("site.jpg", jpeg(), content_type="image/jpeg")})
    assert response.status_code == 302
    assert sent == [{"action": "finish", "photos": {"evidence": ["site.jpg"]},
                     "files": {"agreement": ["agreement.pdf"]}}]


def test_an_upload_the_step_does_not_take_is_passed_on_for_the_engine_to_refuse(units, handling, sent):
    client_for(units.dana).post(f"/cases/{handling.tracking_code}/act/finish/", {
        "note": "已签协议", "stray": SimpleUploadedFile("x.pdf", b"%PDF", content_type="application/pdf")})
    assert sent == [{"action": "finish", "photos": {}, "files": {"stray": ["x.pdf"]}}]


def test_an_upload_under_a_name_the_step_does_not_declare_is_refused_and_nothing_is_stored(units, handling):
    response = client_for(units.dana).post(f"/cases/{handling.tracking_code}/act/finish/", {
        "note": "已签协议", "stray": SimpleUploadedFile("x.pdf", b"%PDF", content_type="application/pdf")},
        headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert fresh(handling).state == "handling"


def test_the_drill_finish_still_stores_its_photos_and_files(world, units):
    from civicgrid.web.tests.test_pages_from_rules import drill, drill_walk

    case = drill_walk(world, units, drill(world), "handling")
    response = client_for(units.dana).post(f"/cases/{case.tracking_code}/act/finish/", {
        "note": "已完成", "photos": SimpleUploadedFile("a.jpg", jpeg(), content_type="image/jpeg"),
        "files": SimpleUploadedFile("r.pdf", b"%PDF-1.4", content_type="application/pdf")})
    assert response.status_code == 302
    entry = fresh(case).timeline.filter(action="finish").get()
    assert sorted(a["kind"] for a in entry.attachments) == ["file", "photo"]
