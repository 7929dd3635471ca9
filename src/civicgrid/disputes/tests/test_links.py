"""An event turned into a dispute (转矛盾纠纷调处): the event's ``to_dispute`` opens a dispute through the
engine (``Opens("dispute", link="led_to")``, the event naming the type by its code only), with its
detail (source "event", the event's code), linked both ways; the centre classifies it when routing
it. Refusals: a wrong role, an outsider, a second time."""

from __future__ import annotations

from civicgrid.cases.models import Case, CaseLink
from civicgrid.disputes.models import DisputeDetail
from civicgrid.disputes.tests.conftest import POINT_A, act, fields_of, fresh


def an_event(m):
    from civicgrid.events.services import EventInput, event_report

    return event_report(actor=m.cast.alice, data=EventInput(text="两户邻居因楼道堆物发生争吵", channel="hotline",
                                                            lon=POINT_A[0], lat=POINT_A[1]), photos=()).case


def test_an_event_is_turned_into_a_linked_dispute_and_classified_when_routed(client, mediation):
    m = mediation
    event = an_event(m)
    client.force_login(m.cast.bob)  # a grid worker may not
    assert act(client, event, "to_dispute", {"note": "邻里纠纷，转调解"}).status_code == 403
    client.force_login(m.cast.charlie)  # another district's dispatcher does not see it
    assert act(client, event, "to_dispute", {"note": "邻里纠纷，转调解"}).status_code == 404
    client.force_login(m.cast.alice)
    r = act(client, event, "to_dispute", {})
    assert r.status_code == 422 and list(fields_of(r)) == ["note"]
    r = act(client, event, "to_dispute", {"note": "邻里纠纷，转调解"})
    assert r.status_code == 200, r.content
    link = CaseLink.objects.get(from_case=event, kind="led_to")
    dispute = Case.objects.get(pk=link.to_case_id)
    d = DisputeDetail.objects.get(case=dispute)
    assert dispute.case_type == "dispute" and dispute.state == "registered"
    assert (d.source, d.source_reference, d.dispute_type) == ("event", event.tracking_code, "")
    # both ways: the API's links of each case name the other
    assert dispute.tracking_code in client.get(f"/api/v1/cases/{event.pk}/links").content.decode()
    assert event.tracking_code in client.get(f"/api/v1/cases/{dispute.pk}/links").content.decode()
    assert event.tracking_code in client.get(f"/cases/{dispute.tracking_code}/").content.decode()
    r = act(client, event, "to_dispute", {"note": "再转一次"})  # once
    assert r.status_code == 422 and "already" in str(r.json())

    # routing asks for its type first
    r = act(client, dispute, "route", {})
    assert r.status_code == 422 and list(fields_of(r)) == ["dispute_type"]
    r = act(client, dispute, "route", {"dispute_type": "martian"})
    assert r.status_code == 422 and list(fields_of(r)) == ["dispute_type"]
    r = act(client, dispute, "route", {"dispute_type": "neighbour"})
    assert r.status_code == 200, r.content
    d = DisputeDetail.objects.get(case=dispute)
    assert d.dispute_type == "neighbour" and d.organisation == m.community and fresh(dispute).state == "routed"


def test_an_event_given_a_type_opens_a_classified_dispute(client, mediation):
    m = mediation
    event = an_event(m)
    client.force_login(m.cast.alice)
    r = act(client, event, "to_dispute", {"note": "转调解", "dispute_type": "property"})
    assert r.status_code == 200, r.content
    dispute = Case.objects.get(pk=CaseLink.objects.get(from_case=event).to_case_id)
    assert DisputeDetail.objects.get(case=dispute).dispute_type == "property"
    assert act(client, dispute, "route", {}).status_code == 200


def test_a_dispute_registered_from_an_event_is_linked_to_it(client, mediation):
    import json

    m = mediation
    event = an_event(m)
    client.force_login(m.cast.alice)
    body = {"title": "楼道堆物纠纷", "dispute_type": "neighbour", "source": "event", "lon": POINT_A[0],
            "lat": POINT_A[1]}
    r = client.post("/api/v1/disputes", json.dumps({**body, "source_reference": "NOSUCHCODE"}),
                    content_type="application/json")
    assert r.status_code == 422 and list(fields_of(r)) == ["source_reference"]
    r = client.post("/api/v1/disputes", json.dumps({**body, "source_reference": event.tracking_code}),
                    content_type="application/json")
    assert r.status_code == 201, r.content
    link = CaseLink.objects.get(from_case=event, kind="led_to")
    assert link.to_case_id == r.json()["id"]
