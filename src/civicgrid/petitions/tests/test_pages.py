"""The petitions page: the office's register with the routing offer, the unit's inbox; an accusation
absent for those it is hidden from."""

from __future__ import annotations

import pytest

from civicgrid.petitions.tests.conftest import MON, act, receive

pytestmark = pytest.mark.django_db


def test_the_register_shows_the_routing_offer_and_the_inbox_the_unit_s_petitions(client, po):
    u, c = po.units, po.cast
    claim = receive(po)
    accusation = receive(po, kind="accusation", matter="违规收费", title="举报违规收费", accused_department=u.water)
    client.force_login(po.olga)
    page = client.get("/petitions/").content.decode()
    assert claim.tracking_code in page and accusation.tracking_code in page and u.urban.code in page
    act(po.olga, claim, "route", MON, unit=u.urban.code)
    client.force_login(u.dana)
    page = client.get("/petitions/").content.decode()
    assert 'id="inbox"' in page and claim.tracking_code in page and accusation.tracking_code not in page
    client.force_login(c.alice)  # the street's dispatcher: the claim, not the accusation
    page = client.get("/petitions/?kind=bogus").content.decode()
    assert claim.tracking_code in page and accusation.tracking_code not in page
    client.logout()
    assert client.get("/petitions/").status_code == 302


def test_the_case_page_offers_the_office_and_the_unit_their_steps(client, po):
    from civicgrid.cases.rules import case_actions

    u = po.units
    case = receive(po)
    offered = {o.name for o in case_actions(po.olga, case) if not o.refused}
    assert {"route", "lead_to_channel", "assign_leader"} <= offered and "accept" not in offered
    client.force_login(po.olga)
    assert client.get(f"/cases/{case.tracking_code}/").status_code == 200
    act(po.olga, case, "route", MON, unit=u.urban.code)
    from civicgrid.petitions.tests.conftest import fresh

    offered = {o.name for o in case_actions(u.dana, fresh(case)) if not o.refused}
    assert {"accept", "not_accept", "object"} <= offered and "route" not in offered
    client.force_login(u.dana)
    r = client.get(f"/cases/{case.tracking_code}/")
    assert r.status_code == 200
