"""The organisation assigns one of its mediators as a person (指派调解员): the mediator takes it and works
it as the assignee; "my cases" lists it; refusals for a mediator of another organisation, a wrong
role and a person out of reach."""

from __future__ import annotations

from civicgrid.cases.models import Assignment
from civicgrid.cases.rules import case_actions
from civicgrid.disputes.tests.conftest import act, fields_of, fresh, register


def accepted(client, m):
    case = register(m.cast.bob)
    client.force_login(m.cast.alice)
    assert act(client, case, "route", {}).status_code == 200
    client.force_login(m.mia)
    assert act(client, case, "accept").status_code == 200
    return fresh(case)


def test_the_organisation_assigns_its_mediator_who_works_it_as_assignee(client, mediation):
    m = mediation
    case = accepted(client, m)
    client.force_login(m.cast.alice)  # the centre may assign for the organisation
    offer = next(o for o in case_actions(m.cast.alice, case) if o.name == "assign_mediator")
    choices = {str(v) for v, _label in offer.inputs[0].choices}
    assert str(m.mia.pk) in choices and str(m.max.pk) not in choices  # Max is of district B
    r = act(client, case, "assign_mediator", {"mediator": m.mia.pk})
    assert r.status_code == 200, r.content
    a = Assignment.objects.get(case=case, person=m.mia)
    assert a.state == "pending"

    client.force_login(m.mia)
    mine = client.get("/api/v1/cases/mine")
    assert mine.status_code == 200 and case.tracking_code in mine.content.decode()
    page = client.get("/mine/")
    assert page.status_code == 200 and case.tracking_code in page.content.decode()
    assert act(client, case, "take").status_code == 200
    a.refresh_from_db()
    assert a.state == "accepted"
    assert act(client, case, "start").status_code == 200
    assert fresh(case).state == "mediating"


def test_only_the_organisations_mediators_may_be_assigned(client, mediation):
    m = mediation
    from civicgrid.org.models import Role
    from civicgrid.org.services import membership_grant, user_create

    case = accepted(client, m)
    # a mediator where the dispute lies, but of no organisation it was routed to
    other = user_create(actor=None, username="otto", password="Correct-Horse-42", display_name="Otto")
    membership_grant(actor=None, user=other, role=Role.MEDIATOR, region=m.cast.city.get("440301001"))
    client.force_login(m.mia)
    r = act(client, case, "assign_mediator", {"mediator": other.pk})
    assert r.status_code == 422 and list(fields_of(r)) == ["mediator"]
    r = act(client, case, "assign_mediator", {"mediator": m.max.pk})  # out of reach: another district's
    assert r.status_code == 404
    r = act(client, case, "assign_mediator", {"mediator": m.cast.alice.pk})  # not a mediator
    assert r.status_code == 404
    r = act(client, case, "assign_mediator", {"mediator": "x"})
    assert r.status_code == 422 and list(fields_of(r)) == ["mediator"]
    client.force_login(m.cast.bob)  # a grid worker may not assign
    assert act(client, case, "assign_mediator", {"mediator": m.mia.pk}).status_code == 403
    client.force_login(m.max)  # another district's mediator does not see it
    assert act(client, case, "assign_mediator", {"mediator": m.mia.pk}).status_code == 404
    client.force_login(m.mia)
    assert act(client, case, "take").status_code == 403  # nothing assigned to her as a person yet


def test_a_session_names_a_co_mediator_where_the_dispute_lies(client, mediation):
    from civicgrid.cases.models import TimelineEntry

    m = mediation
    case = accepted(client, m)
    assert act(client, case, "start").status_code == 200
    held = fresh(case).created_at.date().isoformat()
    r = act(client, case, "session", {"note": "记录", "held_on": held, "co_mediator": m.max.pk})  # out of reach
    assert r.status_code == 404
    r = act(client, case, "session", {"note": "记录", "held_on": held, "co_mediator": m.mia.pk})
    assert r.status_code == 200, r.content
    entry = TimelineEntry.objects.filter(case=case, action="session").get()
    assert entry.data.get("co_mediator") in (m.mia.pk, str(m.mia.pk))
