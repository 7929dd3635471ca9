"""A petition's steps through the engine's API (/api/v1/cases/{id}/actions/{action}): bad input names
the field, a wrong role is 403, an outsider 404 — and an accusation does not exist for those it is
hidden from."""

from __future__ import annotations

import pytest

from civicgrid.petitions.tests.conftest import api_act, fresh, receive

pytestmark = pytest.mark.django_db


def test_route_through_the_api(client, po):
    u, c = po.units, po.cast
    case = receive(po)
    client.force_login(c.charlie)  # another district: not there at all
    assert api_act(client, case, "route", {"unit": u.urban.code}).status_code == 404
    client.force_login(c.alice)  # sees it, may not route
    assert api_act(client, case, "route", {"unit": u.urban.code}).status_code == 403
    client.force_login(po.olga)
    r = api_act(client, case, "route", {})
    assert r.status_code == 422 and "unit" in r.json()["error"]["fields"]
    r = api_act(client, case, "route", {"unit": "no-such-unit"})
    assert r.status_code == 422 and "unit" in r.json()["error"]["fields"]
    r = api_act(client, case, "route", {"unit": u.urban.code})
    assert r.status_code == 200 and fresh(case).state == "routed"
    client.force_login(u.dana)
    r = api_act(client, case, "object", {})
    assert r.status_code == 422 and "reason" in r.json()["error"]["fields"]
    r = api_act(client, case, "lead_to_channel", {"channel": "court", "reason": "x"})
    assert r.status_code == 422


def test_an_accusation_is_404_to_the_dispatcher_the_auditor_and_the_accused_unit(client, po):
    u, c = po.units, po.cast
    case = receive(po, kind="accusation", matter="违规收费", accused_department=u.water)
    for who in (c.alice, po.audrey, u.evan):
        client.force_login(who)
        assert client.get(f"/api/v1/cases/{case.pk}").status_code == 404
        assert client.get(f"/cases/{case.tracking_code}/").status_code == 404
    client.force_login(po.olga)
    assert client.get(f"/api/v1/cases/{case.pk}").status_code == 200
    r = api_act(client, case, "route", {"unit": u.water.code})
    assert r.status_code == 422 and "unit" in r.json()["error"]["fields"]
