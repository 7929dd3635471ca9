"""The dispute declaration end to end through the engine's API (``/api/v1/cases/{id}/actions/…``):
routing (the default organisation), acceptance by the organisation's mediator, sessions, the
voluntary refusal guard, agreements, failure, follow-up; and the refusals — a wrong role, an
outsider, a mediator of another organisation, bad input."""

from __future__ import annotations

from civicgrid.cases.models import Assignment, TimelineEntry
from civicgrid.cases.rules import case_actions
from civicgrid.disputes.models import DisputeDetail
from civicgrid.disputes.tests.conftest import act, fields_of, fresh, register


def detail(case):
    return DisputeDetail.objects.get(case=case)


def routed_and_accepted(client, m, case):
    client.force_login(m.cast.alice)
    assert act(client, case, "route", {}).status_code == 200
    client.force_login(m.mia)
    r = act(client, case, "accept")
    assert r.status_code == 200, r.content
    return fresh(case)


def test_a_dispute_from_a_grid_worker_to_a_written_agreement_and_its_follow_up(client, mediation):
    m = mediation
    case = register(m.cast.bob)
    assert case.state == "registered" and case.case_type == "dispute"
    assert case.timers.filter(kind="handle", stopped_at__isnull=True).exists()  # the one-month term

    # the centre routes it; the default is the committee of the dispute's community
    client.force_login(m.cast.alice)
    r = act(client, case, "route", {})
    assert r.status_code == 200, r.content
    case = fresh(case)
    assert case.state == "routed" and detail(case).organisation == m.community
    a = Assignment.objects.get(case=case)
    assert a.region == m.community.region and a.department is None

    client.force_login(m.mia)
    assert act(client, case, "accept").status_code == 200
    assert act(client, case, "start").status_code == 200
    r = act(client, case, "session", {"note": "双方到场", "held_on": "25/09/2024"})
    assert r.status_code == 422 and list(fields_of(r)) == ["held_on"]
    r = act(client, case, "session", {"note": "双方到场", "held_on": "2020-01-01"})
    assert r.status_code == 422 and list(fields_of(r)) == ["held_on"]
    held = fresh(case).created_at.date().isoformat()
    r = act(client, case, "session", {"note": "双方到场，初步沟通", "held_on": held, "place": "社区调解室"})
    assert r.status_code == 200, r.content
    terms = "楼上维修防水层 | 张三 | 2024-10-15\n赔偿2000元 | 张三 | 2024-10-31"
    r = act(client, case, "agree_written", {"terms": terms})
    assert r.status_code == 200, r.content
    case = fresh(case)
    d = detail(case)
    assert case.state == "agreed" and d.agreement_kind == "written"
    assert d.agreement_terms == [{"term": "楼上维修防水层", "performer": "张三", "due": "2024-10-15"},
                                 {"term": "赔偿2000元", "performer": "张三", "due": "2024-10-31"}]
    assert not case.timers.filter(kind="handle", stopped_at__isnull=True).exists()
    assert case.timers.filter(kind="follow_up", stopped_at__isnull=True).exists()

    r = act(client, case, "follow_up", {"note": "已维修并赔偿", "performed": "yes"})
    assert r.status_code == 200, r.content
    assert act(client, case, "close").status_code == 200
    case = fresh(case)
    assert case.state == "closed" and case.closed_at is not None and detail(case).performance == "yes"
    assert list(TimelineEntry.objects.filter(case=case).values_list("action", flat=True)) == [
        "create", "route", "accept", "start", "session", "agree_written", "follow_up", "close"]


def test_the_case_page_offers_the_mediators_steps(client, mediation):
    m = mediation
    case = routed_and_accepted(client, m, register(m.cast.bob))
    page = client.get(f"/cases/{case.tracking_code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-action="start"' in html and 'data-action="record_refusal"' in html
    assert 'data-action="agree_written"' not in html  # not in this state
    offers = {o.name for o in case_actions(m.mia, case)}
    assert {"start", "record_refusal", "refer", "assess"} <= offers
    client.force_login(m.max)  # district B's mediator: not theirs to see
    assert client.get(f"/cases/{case.tracking_code}/").status_code == 404


def test_an_oral_agreement_is_recorded_and_effective_at_once(client, mediation):
    m = mediation
    case = routed_and_accepted(client, m, register(m.cast.bob))
    assert act(client, case, "start").status_code == 200
    r = act(client, case, "agree_oral", {"terms": "互相道歉"})
    assert r.status_code == 200, r.content
    d = detail(case)
    assert d.agreement_kind == "oral" and d.agreed_at is not None
    assert d.agreement_terms == [{"term": "互相道歉", "performer": "", "due": ""}]


def test_a_partys_refusal_ends_mediation_with_a_referral(client, mediation):
    m = mediation
    case = routed_and_accepted(client, m, register(m.cast.bob))
    # without a recorded refusal, the refusal referral is refused by its guard
    r = act(client, case, "refer", {"referral": "court"})
    assert r.status_code == 422 and "record the refusal first" in str(fields_of(r))
    r = act(client, case, "record_refusal", {"side": "respondent", "reason": "被申请人不同意调解"})
    assert r.status_code == 200, r.content
    assert fresh(case).state == "accepted" and detail(case).refused_side == "respondent"
    # voluntary: mediation cannot start (nor an agreement be recorded) after a refusal
    r = act(client, case, "start")
    assert r.status_code == 422 and "voluntary" in str(fields_of(r))
    refused = {o.name: o.refused for o in case_actions(m.mia, fresh(case))}
    assert refused["start"] and not refused["refer"]
    r = act(client, case, "refer", {"referral": "court"})
    assert r.status_code == 200, r.content
    case = fresh(case)
    assert case.state == "refused" and case.closed_at is not None and detail(case).referral == "court"


def test_failure_names_the_route_the_parties_were_told_of(client, mediation):
    m = mediation
    case = routed_and_accepted(client, m, register(m.cast.bob))
    act(client, case, "start")
    r = act(client, case, "fail", {"reason": "双方分歧过大"})
    assert r.status_code == 422 and "referral" in fields_of(r)
    r = act(client, case, "fail", {"reason": "双方分歧过大", "referral": "arbitration"})
    assert r.status_code == 200, r.content
    assert fresh(case).state == "failed" and detail(case).referral == "arbitration"


def test_the_organisation_returns_a_dispute_to_the_centre(client, mediation):
    m = mediation
    case = register(m.cast.bob)
    client.force_login(m.cast.alice)
    act(client, case, "route", {})
    client.force_login(m.mia)
    r = act(client, case, "return", {"reason": "应由街道调委会处理"})
    assert r.status_code == 200, r.content
    case = fresh(case)
    assert case.state == "registered" and detail(case).organisation is None
    client.force_login(m.cast.alice)
    r = act(client, case, "route", {"organisation": "M-S"})
    assert r.status_code == 200, r.content
    assert detail(case).organisation == m.street


def test_refusals_wrong_role_outsider_other_organisation_bad_input(client, mediation):
    m = mediation
    case = register(m.cast.bob)
    # an outsider (district B's dispatcher) does not see it: 404
    client.force_login(m.cast.charlie)
    assert act(client, case, "route", {}).status_code == 404
    # a grid worker may not route: 403
    client.force_login(m.cast.bob)
    assert act(client, case, "route", {}).status_code == 403
    # an organisation that does not serve the place (district B's), an unknown one: 422 naming the field
    client.force_login(m.cast.alice)
    r = act(client, case, "route", {"organisation": "M-B"})
    assert r.status_code == 422 and list(fields_of(r)) == ["organisation"]
    r = act(client, case, "route", {"organisation": "nope"})
    assert r.status_code == 422 and list(fields_of(r)) == ["organisation"]
    r = act(client, case, "route", {"organisation": "M-MED"})  # a medical committee, a neighbours' dispute
    assert r.status_code == 422 and list(fields_of(r)) == ["organisation"]
    assert fresh(case).state == "registered"
    assert act(client, case, "route", {"organisation": "M-S"}).status_code == 200
    # Mia mediates for the community committee, not the street's: she may not accept it
    client.force_login(m.mia)
    r = act(client, case, "accept")
    assert r.status_code == 422 and "organisation" in str(fields_of(r))
    # the dispatcher (centre) may not accept for the committee: wrong role
    client.force_login(m.cast.alice)
    assert act(client, case, "accept").status_code == 403
    # district B's mediator does not see it
    client.force_login(m.max)
    assert act(client, case, "accept").status_code == 404
    assert fresh(case).state == "routed"


def test_bad_agreement_terms_are_422_naming_the_field(client, mediation):
    m = mediation
    case = routed_and_accepted(client, m, register(m.cast.bob))
    act(client, case, "start")
    r = act(client, case, "agree_written", {"terms": "赔偿 | 张三 | 下个月"})
    assert r.status_code == 422 and list(fields_of(r)) == ["terms"]
    r = act(client, case, "agree_written", {})
    assert r.status_code == 422 and list(fields_of(r)) == ["terms"]
    assert fresh(case).state == "mediating"


def test_the_case_page_shows_the_risk_and_the_routing_offer_then_the_organisation(client, mediation):
    m = mediation
    case = register(m.cast.bob, threat_violence=True, amount="1200")
    client.force_login(m.cast.alice)
    html = client.get(f"/cases/{case.tracking_code}/").content.decode()
    panel = html.split('id="dispute"')[1].split("</section>")[0]
    assert 'data-reason="violence"' in panel and "1200.00" in panel
    offer = panel.split('id="dispute-organisation"')[1]
    assert offer.index('data-code="M-C"') < offer.index('data-code="M-S"') < offer.index('data-code="M-D"')
    assert 'data-action="route"' in html
    act(client, case, "route", {})
    panel = client.get(f"/cases/{case.tracking_code}/").content.decode().split('id="dispute"')[1]
    assert m.community.name in panel.split("</section>")[0] and 'data-code=' not in panel.split("</section>")[0]
