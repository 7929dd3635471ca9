"""People as assignees (issue 16): an assignment may go to a person — a mediator, a leader who owns
the case (包案) — with the same accept / dispute / recall / transfer / done states and per-assignment
clocks as a department's; the person assigned is the one who may accept, dispute and finish it (the
engine's role ASSIGNEE); who may be named is declared by the type (the input's roles) and checked
like a department (out of reach: 404); "my cases" lists a person's cases (selector, API, page).

The test type TASK (``cases.testing``) names a mediator or a leader of the case's place."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.http import Http404
from django.test import Client

from civicgrid.cases.errors import TransitionNotAllowed, TransitionRefused
from civicgrid.cases.models import AssignmentState, Timer, TimerState
from civicgrid.cases.rules import case_act, case_actions
from civicgrid.cases.selectors import cases_assigned_to, person_targets
from civicgrid.cases.services import Location, case_create, case_recall
from civicgrid.cases.testing import OWNERS
from civicgrid.cases.tests.conftest import POINT_A, at, fresh
from civicgrid.notify.models import Notification

pytestmark = pytest.mark.django_db

T0 = at(2024, 11, 4, 10)  # Monday 4 November 2024, no holiday near


@pytest.fixture(autouse=True)
def task_type() -> Iterator[None]:
    """TASK registered for these tests only (the other tests list every registered type)."""
    from civicgrid.cases import registry
    from civicgrid.cases.testing import TASK, register_task

    register_task()
    yield
    registry.unregister(TASK.code)


@dataclass
class People:
    mia: Any  # mediator of Alice's street (the case's street)
    max: Any  # mediator of district A
    leo: Any  # leader of district A (a read-only role: owns cases, 包案)
    ned: Any  # mediator of district A's other street (not the case's place)
    bea: Any  # mediator of district B
    gus: Any  # grid worker of the case's grid (a role TASK does not name)


@pytest.fixture
def people(cast: Any, units: Any) -> People:
    from civicgrid.org.models import Role
    from civicgrid.org.services import membership_grant, user_create

    def person(name: str, role: str, region: str) -> Any:
        u = user_create(actor=None, username=name, password="Correct-Horse-42", display_name=name.title())
        membership_grant(actor=None, user=u, role=role, region=cast.city.get(region))
        return u

    return People(mia=person("mia", Role.MEDIATOR, "440301001"), max=person("max", Role.MEDIATOR, "440301"),
                  leo=person("leo", Role.LEADER, "440301"), ned=person("ned", Role.MEDIATOR, "440301002"),
                  bea=person("bea", Role.MEDIATOR, "440302001"),
                  gus=person("gus", Role.GRID_WORKER, "440301001001001"))


def task_create(actor: Any, **kwargs: Any) -> Any:
    return case_create(actor=actor, case_type="task", title=kwargs.pop("title", "邻里噪音纠纷"),
                       location=Location(lon=POINT_A[0], lat=POINT_A[1]), now=T0, **kwargs)


def assign(cast: Any, case: Any, person: Any, *, action: str = "assign", now: Any = T0) -> Any:
    return case_act(actor=cast.alice, case=fresh(case), action=action, data={"person": str(person.pk)}, now=now)


def offers(user: Any, case: Any) -> dict[str, Any]:
    return {o.name: o for o in case_actions(user, fresh(case))}


# --- assigning ------------------------------------------------------------------------------------


def test_assigning_gives_the_person_a_pending_assignment_with_its_own_sign_off_clock(cast, people, calendar_2024):
    case = assign(cast, task_create(cast.alice), people.mia)
    a = fresh(case).assignments.get()
    assert (a.person, a.department, a.region, a.state, a.assigned_by) == (
        people.mia, None, None, AssignmentState.PENDING, cast.alice)
    assert fresh(case).state == "assigned"
    sign = Timer.objects.get(case=case, kind="sign")
    assert (sign.assignment, sign.state, sign.due_at) == (a, TimerState.RUNNING, at(2024, 11, 5, 10))
    told = Notification.objects.get(case=case, event="assigned")
    assert (told.recipient, told.audience_department, told.audience_region) == (people.mia, None, None)
    assert fresh(case).timeline.get(action="assign").data["assigned"] == [
        {"role": "lead", "department": None, "region": None, "person": people.mia.pk}]
    assert fresh(case).timeline.get(action="assign").data["person"] == people.mia.pk


def test_the_assign_form_offers_the_people_of_the_declared_roles_where_the_case_lies(cast, people, units):
    case = task_create(cast.alice)
    spec = next(i for i in offers(cast.alice, case)["assign"].inputs if i.name == "person")
    assert spec.kind == "person" and spec.required
    # Alice's street's mediator, the district's mediator and leader; not the other street's or district's
    # mediators, not a grid worker or a department handler (roles TASK does not name)
    assert {v for v, _label in spec.choices} == {str(p.pk) for p in (people.mia, people.max, people.leo)}
    assert dict(spec.choices)[str(people.mia.pk)] == "Mia"
    assert set(person_targets(actor=None, case=case, roles=OWNERS)) == {people.mia, people.max, people.leo}
    # the outsider sees no one of district A (and cannot see the case at all)
    assert not person_targets(actor=cast.charlie, case=case, roles=OWNERS).exists()


@pytest.mark.parametrize("who", ["ned", "bea", "gus", "dana"])
def test_a_person_out_of_the_cases_place_or_of_another_role_is_refused_like_an_unknown_one(cast, people, units,
                                                                                            who):
    case = task_create(cast.alice)
    target = units.dana if who == "dana" else getattr(people, who)
    with pytest.raises(Http404):
        assign(cast, case, target)
    assert (fresh(case).state, fresh(case).assignments.count()) == ("new", 0)


def test_bad_person_input_is_422_naming_the_field_and_an_unknown_account_404(cast, people):
    case = task_create(cast.alice)
    for bad in ("mia", "1.5", "-3", True, "9" * 30):
        with pytest.raises(TransitionNotAllowed) as exc:
            case_act(actor=cast.alice, case=fresh(case), action="assign", data={"person": bad}, now=T0)
        assert "person" in exc.value.message_dict
    with pytest.raises(TransitionNotAllowed) as exc:
        case_act(actor=cast.alice, case=fresh(case), action="assign", data={}, now=T0)
    assert "person" in exc.value.message_dict
    with pytest.raises(Http404):
        case_act(actor=cast.alice, case=fresh(case), action="assign", data={"person": "999999"}, now=T0)


def test_only_the_centre_assigns(cast, people):
    case = task_create(cast.alice)
    with pytest.raises(TransitionRefused):  # a mediator of the place may not assign (not even to herself)
        case_act(actor=people.mia, case=fresh(case), action="assign", data={"person": str(people.mia.pk)}, now=T0)
    with pytest.raises(Http404):  # district B's dispatcher does not see the case
        case_act(actor=cast.charlie, case=fresh(case), action="assign", data={"person": str(people.bea.pk)}, now=T0)


# --- the person's own steps -----------------------------------------------------------------------------


def test_the_person_assigned_accepts_and_only_their_sign_off_clock_stops(cast, people, calendar_2024):
    case = assign(cast, task_create(cast.alice), people.mia)
    mine = offers(people.mia, case)
    assert {"accept", "dispute"} <= set(mine) and not mine["accept"].refused
    case_act(actor=people.mia, case=fresh(case), action="accept", data={}, now=at(2024, 11, 4, 11))
    a = fresh(case).assignments.get()
    assert (a.state, a.accepted_at) == (AssignmentState.ACCEPTED, at(2024, 11, 4, 11))
    assert fresh(case).state == "working"
    assert Timer.objects.get(case=case, kind="sign").state == TimerState.STOPPED
    assert Timer.objects.get(case=case, kind="handle").state == TimerState.RUNNING


def test_a_leader_owning_the_case_acts_on_it_through_the_assignment_alone(cast, people, calendar_2024):
    case = task_create(cast.alice)
    assert "accept" not in offers(people.leo, case)  # a read-only role: nothing of theirs yet
    assign(cast, case, people.leo)
    assert "accept" in offers(people.leo, case)
    case_act(actor=people.leo, case=fresh(case), action="accept", data={}, now=T0)
    case_act(actor=people.leo, case=fresh(case), action="finish", data={"note": "已包案化解"}, now=T0)
    assert fresh(case).state == "done"


def test_somebody_else_may_not_take_the_persons_steps(cast, people, units, calendar_2024):
    case = assign(cast, task_create(cast.alice), people.mia)
    for wrong in (people.max, people.leo, cast.bob):  # in the case's jurisdiction, not the person assigned
        assert not {"accept", "dispute", "finish"} & set(offers(wrong, case))
        with pytest.raises(TransitionRefused):
            case_act(actor=wrong, case=fresh(case), action="accept", data={}, now=T0)
        with pytest.raises(TransitionRefused):
            case_act(actor=wrong, case=fresh(case), action="dispute", data={"reason": "不是我的"}, now=T0)
    with pytest.raises(TransitionRefused):  # the centre assigns; the person accepts
        case_act(actor=cast.alice, case=fresh(case), action="accept", data={}, now=T0)
    for outsider in (people.bea, cast.charlie):
        assert offers(outsider, case) == {}
        with pytest.raises(Http404):
            case_act(actor=outsider, case=fresh(case), action="accept", data={}, now=T0)
    assert fresh(case).assignments.get().state == AssignmentState.PENDING


def test_the_person_disputes_the_centre_reviews_and_assigns_another(cast, people, calendar_2024):
    case = assign(cast, task_create(cast.alice), people.mia)
    case_act(actor=people.mia, case=fresh(case), action="dispute", data={"reason": "当事人是我亲属，需回避"},
             now=at(2024, 11, 4, 10, 30))
    first = fresh(case).assignments.get()
    assert (fresh(case).state, first.state) == ("review", AssignmentState.DISPUTED)
    assert Timer.objects.get(assignment=first).state == TimerState.STOPPED
    told = Notification.objects.get(case=case, event="disputed")
    assert told.audience_region == fresh(case).owner_region
    assign(cast, case, people.max, now=at(2024, 11, 4, 11))
    shares = list(fresh(case).assignments.order_by("id"))
    assert [(a.person, a.state) for a in shares] == [(people.mia, AssignmentState.TRANSFERRED),
                                                    (people.max, AssignmentState.PENDING)]
    assert fresh(case).transfer_count == 1
    with pytest.raises(TransitionRefused):  # her assignment ended: the case is no longer hers to act on
        case_act(actor=people.mia, case=fresh(case), action="accept", data={}, now=T0)
    case_act(actor=people.max, case=fresh(case), action="accept", data={}, now=at(2024, 11, 4, 12))
    assert fresh(case).state == "working"


def test_a_transfer_to_another_person_ends_the_first_and_starts_the_new_ones_clock(cast, people, calendar_2024):
    case = assign(cast, task_create(cast.alice), people.mia)
    case_act(actor=people.mia, case=fresh(case), action="accept", data={}, now=T0)
    assign(cast, case, people.leo, action="transfer", now=at(2024, 11, 5, 9, 30))
    shares = list(fresh(case).assignments.order_by("id"))
    assert [(a.person, a.state) for a in shares] == [(people.mia, AssignmentState.TRANSFERRED),
                                                    (people.leo, AssignmentState.PENDING)]
    assert shares[0].ended_at == at(2024, 11, 5, 9, 30)
    signs = {t.assignment.person.username: (t.state, t.due_at) for t in Timer.objects.filter(case=case, kind="sign")}
    assert signs == {"mia": (TimerState.STOPPED, at(2024, 11, 5, 10)),
                     "leo": (TimerState.RUNNING, at(2024, 11, 6, 9, 30))}
    assert Notification.objects.filter(case=case, event="assigned", recipient=people.leo).exists()
    with pytest.raises(TransitionRefused):
        case_act(actor=people.mia, case=fresh(case), action="finish", data={"note": "x"}, now=T0)
    with pytest.raises(Http404):  # a transfer is checked like an assignment
        assign(cast, case, people.bea, action="transfer")


def test_the_centre_recalls_an_assignment_nobody_accepted(cast, people, calendar_2024):
    case = assign(cast, task_create(cast.alice), people.mia)
    assert "recall" in offers(cast.alice, case)
    assert "recall" not in offers(people.mia, case)
    with pytest.raises(TransitionRefused):
        case_recall(actor=people.mia, case=fresh(case))
    case_act(actor=cast.alice, case=fresh(case), action="recall", data={"note": "派错了"}, now=at(2024, 11, 4, 10, 5))
    a = fresh(case).assignments.get()
    assert (fresh(case).state, a.state, a.ended_at) == ("new", AssignmentState.RECALLED, at(2024, 11, 4, 10, 5))
    assert Timer.objects.get(assignment=a).state == TimerState.STOPPED
    assert Notification.objects.filter(case=case, event="recalled", recipient=people.mia).exists()
    assert offers(people.mia, case) == {} or not {"accept", "dispute"} & set(offers(people.mia, case))


def test_an_accepted_assignment_is_not_recalled(cast, people, calendar_2024):
    case = assign(cast, task_create(cast.alice), people.mia)
    case_act(actor=people.mia, case=fresh(case), action="accept", data={}, now=T0)
    assert "recall" not in offers(cast.alice, case)
    with pytest.raises(TransitionNotAllowed):
        case_act(actor=cast.alice, case=fresh(case), action="recall", data={}, now=T0)


def test_the_person_finishes_the_case_and_every_clock_stops(cast, people, calendar_2024):
    case = assign(cast, task_create(cast.alice), people.mia)
    case_act(actor=people.mia, case=fresh(case), action="accept", data={}, now=T0)
    with pytest.raises(TransitionNotAllowed) as exc:
        case_act(actor=people.mia, case=fresh(case), action="finish", data={}, now=T0)
    assert "note" in exc.value.message_dict
    case_act(actor=people.mia, case=fresh(case), action="finish", data={"note": "双方和解"}, now=at(2024, 11, 6, 15))
    a = fresh(case).assignments.get()
    assert (fresh(case).state, a.state, a.ended_at) == ("done", AssignmentState.DONE, at(2024, 11, 6, 15))
    assert fresh(case).closed_at == at(2024, 11, 6, 15)
    assert not Timer.objects.filter(case=case, state=TimerState.RUNNING).exists()


def test_departments_still_act_on_their_own_assignments_only(cast, units, calendar_2024):
    """The person rule leaves the departments' as they were (DRILL: Dana's unit, not Evan's)."""
    from civicgrid.cases.tests.conftest import drill_create

    case = drill_create(cast.bob, now=T0)
    case_act(actor=cast.alice, case=case, action="dispatch", data={"department": units.urban.code}, now=T0)
    with pytest.raises(Http404):  # Evan's unit holds nothing of it: he does not even see it
        case_act(actor=units.evan, case=fresh(case), action="accept", data={}, now=T0)
    case_act(actor=units.dana, case=fresh(case), action="accept", data={}, now=T0)
    assert fresh(case).assignments.get().state == AssignmentState.ACCEPTED


# --- my cases ---------------------------------------------------------------------------------------------


def test_my_cases_lists_the_open_person_assignments_and_with_done_those_done(cast, people, calendar_2024):
    working = assign(cast, task_create(cast.alice, title="甲"), people.mia)
    finished = assign(cast, task_create(cast.alice, title="乙"), people.mia)
    assign(cast, task_create(cast.alice, title="丙"), people.max)
    case_act(actor=people.mia, case=fresh(finished), action="accept", data={}, now=T0)
    case_act(actor=people.mia, case=fresh(finished), action="finish", data={"note": "好"}, now=T0)
    assert list(cases_assigned_to(user=people.mia)) == [fresh(working)]
    assert set(cases_assigned_to(user=people.mia, done=True)) == {fresh(working), fresh(finished)}
    assert [c.title for c in cases_assigned_to(user=people.max)] == ["丙"]
    assert not cases_assigned_to(user=cast.alice).exists()  # the centre assigns; nothing is hers
    assign(cast, working, people.max, action="transfer")
    assert not cases_assigned_to(user=people.mia).exists()


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_api_lists_my_cases_and_takes_the_persons_steps(cast, people, calendar_2024):
    case = task_create(cast.alice)
    alice = _client(cast.alice)
    actions = alice.get(f"/api/v1/cases/{case.pk}/actions").json()
    person = next(i for a in actions if a["name"] == "assign" for i in a["inputs"] if i["name"] == "person")
    assert person["kind"] == "person" and [str(people.mia.pk), "Mia"] in person["choices"]
    r = alice.post(f"/api/v1/cases/{case.pk}/actions/assign", {"person": people.mia.pk},
                   content_type="application/json")
    assert r.status_code == 200, r.content
    r = alice.post(f"/api/v1/cases/{case.pk}/actions/transfer", {"person": people.bea.pk},
                   content_type="application/json")
    assert r.status_code == 404
    r = alice.post(f"/api/v1/cases/{case.pk}/actions/transfer", {"person": "mia"}, content_type="application/json")
    assert r.status_code == 422 and "person" in r.json()["error"]["fields"]

    mia = _client(people.mia)
    page = mia.get("/api/v1/cases/mine").json()
    assert [c["tracking_code"] for c in page["items"]] == [case.tracking_code]
    assert _client(people.max).get("/api/v1/cases/mine").json()["items"] == []
    assert Client().get("/api/v1/cases/mine").status_code in (401, 403)
    detail = mia.get(f"/api/v1/cases/{case.pk}").json()
    assert set(detail["actions"]) >= {"accept", "dispute"}
    assert detail["assignments"][0]["person"] == people.mia.pk
    assert detail["assignments"][0]["person_name"] == "Mia"
    assert _client(people.max).post(f"/api/v1/cases/{case.pk}/actions/accept", {},
                                    content_type="application/json").status_code == 403
    assert _client(people.bea).post(f"/api/v1/cases/{case.pk}/actions/accept", {},
                                    content_type="application/json").status_code == 404
    assert mia.post(f"/api/v1/cases/{case.pk}/actions/accept", {}, content_type="application/json").status_code == 200
    assert fresh(case).state == "working"
    assert mia.get("/api/v1/cases/mine?done=true").json()["items"][0]["state"] == "working"


def test_the_my_cases_page_shows_the_persons_accept_and_dispute_forms(cast, people, units, calendar_2024):
    case = assign(cast, task_create(cast.alice), people.mia)
    page = _client(people.mia).get("/mine/")
    assert page.status_code == 200
    html = page.content.decode()
    assert case.tracking_code in html
    assert f'action="/cases/{case.tracking_code}/act/accept/"' in html
    assert f'action="/cases/{case.tracking_code}/act/dispute/"' in html
    assert 'data-nav="mine"' in html
    other = _client(people.max).get("/mine/").content.decode()
    assert case.tracking_code not in other and 'id="no-mine"' in other
    assert _client(units.rita).get("/mine/").status_code == 403
    assert Client().get("/mine/").status_code == 302  # to the sign-in page
    # the person accepts through the page's form
    r = _client(people.mia).post(f"/cases/{case.tracking_code}/act/accept/", {"next": "/mine/"})
    assert r.status_code in (302, 303)
    assert fresh(case).state == "working"


def test_the_case_page_offers_a_select_of_the_people_who_may_be_named(cast, people, calendar_2024):
    case = task_create(cast.alice)
    html = _client(cast.alice).get(f"/cases/{case.tracking_code}/").content.decode()
    assert 'name="person"' in html
    for p in (people.mia, people.max, people.leo):
        assert f'<option value="{p.pk}"' in html
    for p in (people.ned, people.bea, people.gus):
        assert f'<option value="{p.pk}"' not in html
    r = _client(cast.alice).post(f"/cases/{case.tracking_code}/act/assign/", {"person": str(people.mia.pk)})
    assert r.status_code in (200, 302, 303)
    assert fresh(case).assignments.get().person == people.mia


def test_the_sweep_tells_the_person_when_their_own_sign_off_clock_is_due_soon(cast, people, calendar_2024):
    from civicgrid.cases.sweep import cases_sweep

    case = assign(cast, task_create(cast.alice), people.mia)  # sign-off due Tuesday 10:00
    report = cases_sweep(now=at(2024, 11, 5, 9))
    assert report.due_soon >= 1
    told = Notification.objects.get(case=case, event="due_soon", recipient=people.mia)
    assert (told.audience_department, told.audience_region) == (None, None)
    cases_sweep(now=at(2024, 11, 5, 10, 30))
    assert Timer.objects.get(case=case, kind="sign").overdue_at == at(2024, 11, 5, 10, 30)
