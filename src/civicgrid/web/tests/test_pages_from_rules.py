"""The case page is drawn from the engine's rulebook: for every person and every case (an event, or
the test types DRILL and TASK — given to a person —, which have no view of their own), the page
offers exactly the actions ``rules.case_actions`` lists, each posted through the one façade;
refusals through the page are the engine's (outsider 404, wrong role 403, target out of reach
refused); and a DRILL case goes from the workbench through dispatch, acceptance and finishing on its
pages to its public tracking page."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from civicgrid.cases.rules import case_actions
from civicgrid.cases.testing import register_drill
from civicgrid.org.models import Role
from civicgrid.web.tests.conftest import BIN, POINT_A, client_for, fresh, reported, walk

pytestmark = pytest.mark.django_db

FORM = re.compile(r'<form [^>]*class="case-action" data-action="([^"]+)"')


def offered(user, case) -> list[str]:
    """The actions the pages offer ``user`` on the case, as their forms name them: the case page, or
    for its reporter the tracking page it sends them to; none only when the case is not found."""
    response = client_for(user).get(f"/cases/{case.tracking_code}/")
    if response.status_code == 302:  # the reporter reads their own report on the tracking page
        assert response["Location"] == f"/track/{case.tracking_code}/"
        response = client_for(user).get(response["Location"])
    if response.status_code == 404:
        return []
    assert response.status_code == 200, response.status_code
    return FORM.findall(response.content.decode())


@pytest.fixture
def people(world, units):
    from civicgrid.org.services import membership_grant, user_create

    street = world.city.get("440301001")
    leader = user_create(actor=None, username="lee", password=None, display_name="Lee")
    membership_grant(actor=None, user=leader, role=Role.LEADER, region=street)
    mediator = user_create(actor=None, username="mei", password=None, display_name="Mei")
    membership_grant(actor=None, user=mediator, role=Role.MEDIATOR, region=street)
    return SimpleNamespace(dispatcher=world.alice, handler=units.dana, other_handler=units.evan,
                           grid_worker=world.bob, leader=leader, mediator=mediator, resident=units.rita,
                           outsider=world.charlie)


def drill(world, *, title="路灯巡检演练", reporter=None):
    from civicgrid.cases.services import Location, case_create

    register_drill()
    return case_create(actor=world.alice, case_type="drill", title=title, text="演练", reporter=reporter,
                       location=Location(lon=POINT_A[0], lat=POINT_A[1]))


def drill_walk(world, units, case, to):
    from civicgrid.cases.rules import case_act

    if to in ("dispatched", "handling"):
        case = case_act(actor=world.alice, case=fresh(case), action="dispatch",
                        data={"department": units.urban.code})
    if to == "handling":
        case = case_act(actor=units.dana, case=fresh(case), action="accept", data={})
    return fresh(case)


def test_the_case_page_offers_exactly_what_the_engine_lists_for_events(world, units, people):
    cases = [reported()] + [walk(reported(), world, units, state)
                            for state in ("registered", "dispatched", "handling", "verifying", "closed")]
    seen = set()
    for case in cases:
        for name, user in vars(people).items():
            expected = [o.name for o in case_actions(user, fresh(case))]
            assert offered(user, case) == expected, (case.state, name)
            seen |= set(expected)
    # the walk met the loop's steps and the generic actions, not only empty pages
    assert {"register", "dispatch", "accept", "report_back", "verify", "reply", "merge", "chase"} <= seen


def test_the_case_page_offers_exactly_what_the_engine_lists_for_a_drill(world, units, people):
    cases = [drill_walk(world, units, drill(world), state) for state in ("new", "dispatched", "handling")]
    seen = set()
    for case in cases:
        for name, user in vars(people).items():
            expected = [o.name for o in case_actions(user, fresh(case))]
            assert offered(user, case) == expected, (case.state, name)
            seen |= set(expected)
    assert {"dispatch", "reject", "accept", "dispute", "finish"} <= seen


@pytest.fixture
def task_type():
    from civicgrid.cases import registry
    from civicgrid.cases.testing import TASK, register_task

    register_task()
    yield
    registry.unregister(TASK.code)  # the other tests list every registered type


def test_the_case_page_offers_exactly_what_the_engine_lists_for_a_persons_case(world, units, people, task_type):
    """TASK goes to a person (Mei, the street's mediator): her page offers her own steps, nobody else's."""
    from civicgrid.cases.rules import case_act
    from civicgrid.cases.services import Location, case_create

    def task(to):
        case = case_create(actor=world.alice, case_type="task", title="邻里纠纷", location=Location(*POINT_A))
        if to in ("assigned", "working"):
            case = case_act(actor=world.alice, case=case, action="assign", data={"person": str(people.mediator.pk)})
        if to == "working":
            case = case_act(actor=people.mediator, case=fresh(case), action="accept", data={})
        return fresh(case)

    seen = set()
    for case in [task(s) for s in ("new", "assigned", "working")]:
        for name, user in vars(people).items():
            expected = [o.name for o in case_actions(user, fresh(case))]
            assert offered(user, case) == expected, (case.state, name)
            seen |= set(expected)
    assert {"assign", "transfer", "accept", "dispute", "finish", "recall"} <= seen
    assert "accept" not in offered(people.leader, task("assigned"))  # not hers


def test_an_action_a_guard_refuses_is_shown_with_its_reason_and_cannot_be_sent(world, units):
    case = drill_walk(world, units, drill(world, title="!不可完成"), "handling")
    offers = {o.name: o for o in case_actions(units.dana, fresh(case))}
    assert offers["finish"].refused
    html = client_for(units.dana).get(f"/cases/{case.tracking_code}/").content.decode()
    form = html[html.index('data-action="finish"'):]
    form = form[:form.index("</form>")]
    assert 'data-refused="finish"' in form and "disabled" in form
    response = client_for(units.dana).post(f"/cases/{case.tracking_code}/act/finish/", {"note": "完成"})
    assert response.status_code == 422 and fresh(case).state == "handling"


def test_the_tracking_page_offers_the_reporter_exactly_what_the_engine_lists(world, units, people):
    from civicgrid.cases.rules import case_act
    from civicgrid.events.services import EventInput, event_report

    own_event = event_report(actor=people.resident, data=EventInput(
        text="楼道灯不亮，晚上很黑", category=BIN, lon=POINT_A[0], lat=POINT_A[1],
        reporter_phone="13800138000", reporter_name="丽塔")).case
    rejected = case_act(actor=world.alice, case=drill(world, reporter=people.resident), action="reject",
                        data={"reason": "不属于本平台受理范围"})
    seen = set()
    for case in (own_event, "replied", rejected):
        case = walk(own_event, world, units, case) if case == "replied" else fresh(case)
        expected = [o.name for o in case_actions(people.resident, case)]
        assert offered(people.resident, case) == expected, case.state
        seen |= set(expected)
    assert {"reopen", "rate"} <= seen  # the reporter's own actions, not an empty page


def test_the_reporter_reopens_their_rejected_case_from_the_tracking_page(world, units, people):
    case = drill(world, reporter=people.resident)
    rita = client_for(people.resident)
    assert rita.post(f"/cases/{case.tracking_code}/act/reject/", {"reason": "x"}).status_code == 403
    from civicgrid.cases.rules import case_act

    case_act(actor=world.alice, case=case, action="reject", data={"reason": "不属于本平台受理范围"})
    page = rita.get(f"/track/{case.tracking_code}/").content.decode()
    form = page[page.index('data-action="reopen"'):]
    form = form[:form.index("</form>")]
    assert 'name="reason"' in form and f'name="next" value="/track/{case.tracking_code}/"' in form
    # a refusal comes back on the tracking page (never the staff's case page), the reason asked for
    refused = rita.post(f"/cases/{case.tracking_code}/act/reopen/", {"reason": "",
                                                                      "next": f"/track/{case.tracking_code}/"})
    html = refused.content.decode()
    assert refused.status_code == 422 and 'id="public-timeline"' in html and 'id="timeline"' not in html
    assert fresh(case).state == "rejected"
    done = rita.post(f"/cases/{case.tracking_code}/act/reopen/", {"reason": "问题仍然存在",
                                                                   "next": f"/track/{case.tracking_code}/"})
    assert done.status_code == 302 and done["Location"] == f"/track/{case.tracking_code}/"
    assert fresh(case).state != "rejected" and fresh(case).reopen_count == 1


# --- the page column of the authorization matrix ----------------------------------------------


def post(user, case, action, data=None):
    return client_for(user).post(f"/cases/{case.tracking_code}/act/{action}/", data or {})


@pytest.mark.parametrize("kind", ["event", "drill"])
def test_every_offered_action_is_not_found_for_an_outsider_and_refused_for_a_wrong_role(world, units, people, kind):
    if kind == "event":
        cases = [reported()] + [walk(reported(), world, units, s) for s in ("registered", "handling", "closed")]
    else:
        cases = [drill_walk(world, units, drill(world), s) for s in ("new", "dispatched", "handling")]
    tried, statuses = 0, set()
    for case in cases:
        before = fresh(case)
        actors = [people.dispatcher, people.handler, people.grid_worker, people.leader, people.mediator]
        allowed = {o.name for u in actors for o in case_actions(u, before)}
        for action in sorted(allowed):
            # an outsider (another district's dispatcher) does not find the case
            assert post(people.outsider, case, action).status_code == 404, (case.state, action)
            # a person who sees the case but is not offered the action is refused, never served
            for user in actors:
                if action in {o.name for o in case_actions(user, before)}:
                    continue
                status = post(user, case, action).status_code
                assert status in (403, 404, 422), (case.state, action, user.username, status)
                statuses.add(status)
            tried += 1
        after = fresh(case)
        assert (after.state, after.version) == (before.state, before.version)  # nothing was done
    assert tried >= 5 and 403 in statuses  # a role that sees the case but may not act is refused as such


def test_a_target_department_out_of_reach_is_refused_through_the_page(world, units):
    from civicgrid.cases.models import Assignment
    from civicgrid.org.services import department_create

    department_create(actor=None, code="440302-cg", name="乙区城管局", region=world.city.b,
                      function="urban_management")
    for case in (walk(reported(), world, units, "registered"), drill(world)):
        choices = {o.name: o for o in case_actions(world.alice, fresh(case))}["dispatch"].inputs
        offered_codes = {v for i in choices if i.kind == "department" for v, _label in i.choices}
        assert "440302-cg" not in offered_codes and units.urban.code in offered_codes
        assert post(world.alice, case, "dispatch", {"department": "440302-cg"}).status_code in (404, 422)
        assert not Assignment.objects.filter(case=case).exists()


# --- DRILL end to end through the pages -------------------------------------------------------


def test_a_drill_case_is_listed_dispatched_accepted_finished_and_tracked_through_the_pages(world, units):
    case = drill(world)
    alice, dana = client_for(world.alice), client_for(units.dana)
    assert case.tracking_code in alice.get("/centre/").content.decode()  # the "new" queue
    assert case.tracking_code in alice.get("/cases/", {"open": "1"}).content.decode()
    page = alice.get(f"/cases/{case.tracking_code}/").content.decode()
    assert 'id="act-dispatch" open' in page and units.urban.code in page

    assert post(world.alice, case, "dispatch", {"department": units.urban.code, "note": "请处理"}).status_code == 302
    assert fresh(case).state == "dispatched" and fresh(case).lead_department == units.urban
    listed = dana.get("/department/").content.decode()
    assert case.tracking_code in listed and 'data-state="dispatched"' in listed

    assert dana.post(f"/cases/{case.tracking_code}/act/accept/").status_code == 302
    assert fresh(case).state == "handling"
    assert dana.post(f"/cases/{case.tracking_code}/act/finish/", {"note": ""}).status_code == 422
    assert dana.post(f"/cases/{case.tracking_code}/act/finish/", {"note": "已完成演练", "hours": "2"}
                     ).status_code == 302
    done = fresh(case)
    assert done.state == "done" and done.closed_at is not None
    assert case.tracking_code not in dana.get("/department/").content.decode()  # closed: no longer open

    public = client_for().get(f"/track/{case.tracking_code}/").content.decode()
    steps = public[public.index('id="public-timeline"'):]
    steps = steps[:steps.index("</ol>")]
    assert "dispatch" in steps and "finish" in steps and "accept" not in steps  # only the public steps
    assert "请处理" not in public and "Dana" not in public and 'id="rate"' not in public


def test_a_mediator_is_offered_the_extension_the_engine_allows_and_can_ask_for_it(world, units, people):
    # the pages once hid "ask for more time" from mediators, whom the engine allows: no longer
    case = walk(reported(), world, units, "handling")
    assert "request_extension" in offered(people.mediator, case)
    response = post(people.mediator, case, "request_extension",
                    {"kind": "extension", "amount": "1", "unit": "working_days", "reason": "需当事人到场"})
    assert response.status_code == 302
    assert fresh(case).approval_requests.filter(state="pending").count() == 1
