"""Follow-up calls (回访): the call list, the sampling rule, the reporter's own rating and the staff
call, and who may do what. Hand-computed: the draws below were computed once with
sha256("salt:case:closing") and are written here as numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from civicgrid.assessment import selectors
from civicgrid.assessment.models import CallAttempt, SamplingRule
from civicgrid.assessment.selectors import call_list, draw
from civicgrid.assessment.services import call_record, sampling_rule_set
from civicgrid.assessment.tests.conftest import replied
from civicgrid.audit.models import AuditEntry
from civicgrid.cases.errors import CaseConflict, TransitionNotAllowed, TransitionRefused
from civicgrid.cases.models import Rating
from civicgrid.cases.selectors import self_ratings, three_rates
from civicgrid.cases.services import case_rate
from civicgrid.cases.tests.conftest import at, fresh

pytestmark = pytest.mark.django_db

DRAW_1_1 = "0.8981382776983082294464111328"  # int(0xe5ec63e2) / 2**32: sha256(":1:1")[:4]
DRAW_2_1 = "0.6922625717706978321075439453"
DRAW_1_1_SALT = "0.01898590498603880405426025391"


def codes(user):
    return [i.case.tracking_code for i in call_list(user=user)]


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def test_the_draw_is_the_hash_computed_by_hand(db):
    # int(sha256(b":1:1").digest()[:4]) / 2**32 etc., computed once outside the code under test
    assert draw(case_id=1, closing=1) == Decimal(DRAW_1_1)
    assert draw(case_id=2, closing=1) == Decimal(DRAW_2_1)
    assert draw(case_id=1, closing=1, salt="2024Q4") == Decimal(DRAW_1_1_SALT)
    assert draw(case_id=1, closing=1) == draw(case_id=1, closing=1)  # the same list when computed again


def test_every_replied_case_is_due_for_a_call_without_a_rule(world, units):
    a, b = replied(world, units), replied(world, units, text="人行道井盖松动，夜间行人容易踩空")
    assert codes(world.alice) == [a.tracking_code, b.tracking_code]
    item = call_list(user=world.alice)[0]
    assert (item.verify, item.attempts, item.max_attempts) == (False, 0, 3)
    assert item.due_at is not None  # the 回访 clock's due time
    assert codes(world.charlie) == []  # district B's dispatcher: none of district A's cases


def test_a_unit_s_share_draws_the_cases_whose_hash_falls_below_it(world, units):
    cases = [replied(world, units, text=f"第{n}处上水井盖缺失，有行人掉落危险") for n in range(4)]
    share = Decimal("0.5")
    SamplingRule.objects.create(department=units.water, share=share, salt="x")
    expected = [c.tracking_code for c in cases if draw(case_id=c.pk, closing=1, salt="x") < share]
    assert codes(world.alice) == expected == codes(world.alice)  # recomputed: the same list
    SamplingRule.objects.filter(department=units.water).update(share=0)
    assert codes(world.alice) == []
    SamplingRule.objects.filter(department=units.water).update(share=1)
    assert len(codes(world.alice)) == 4


def test_a_reached_call_is_the_closing_s_one_follow_up_and_takes_the_case_off_the_list(world, units):
    case = replied(world, units)
    call = call_record(actor=world.alice, case=fresh(case), outcome="reached", contacted=True, resolved=True,
                       satisfaction="basic", now=at(2024, 9, 24, 10))
    assert call.rating.source == "follow_up" and call.closing == 1
    assert codes(world.alice) == []
    with pytest.raises(CaseConflict):
        call_record(actor=world.alice, case=fresh(case), outcome="reached", contacted=True, resolved=True,
                    satisfaction="satisfied")
    r = three_rates(region=world.city.a)
    assert (r.response.numerator, r.response.denominator, r.satisfaction.numerator) == (1, 1, 0.9)
    assert AuditEntry.objects.filter(action="assessment.call", target_id=str(case.pk)).count() == 1


def test_failed_attempts_count_nothing_in_the_rates_and_end_after_the_rule_s_attempts(world, units):
    case = replied(world, units)
    for outcome in ("unreachable", "refused"):
        call_record(actor=world.alice, case=fresh(case), outcome=outcome, note="无人接听")
        assert codes(world.alice) == [case.tracking_code]
    assert call_list(user=world.alice)[0].attempts == 2
    call_record(actor=world.alice, case=fresh(case), outcome="unreachable")
    assert codes(world.alice) == []  # three attempts: given up
    assert three_rates(region=world.city.a).response.denominator == 0
    assert fresh(case).state == "replied"
    assert list(Rating.objects.filter(case=case).values_list("source", flat=True).distinct()) == ["attempt"]


def test_the_reporter_s_unsatisfied_rating_asks_for_a_verifying_call_and_the_call_decides(world, units):
    satisfied = replied(world, units, text="路灯不亮，晚上很黑")
    unhappy = replied(world, units)
    SamplingRule.objects.create(department=None, share=0)  # no sampled calls at all
    case_rate(actor=units.rita, case=fresh(satisfied), satisfaction="satisfied")
    case_rate(actor=units.rita, case=fresh(unhappy), satisfaction="unsatisfied", resolved=False)
    assert fresh(unhappy).state == "replied"  # her own rating reopens nothing
    items = call_list(user=world.alice)
    assert [(i.case.tracking_code, i.verify) for i in items] == [(unhappy.tracking_code, True)]
    # the self-ratings are counted apart: no follow-up yet, 响应率 has no denominator
    assert three_rates(region=world.city.a).response.denominator == 0
    assert self_ratings(region=world.city.a).as_dict() == {"total": 2, "satisfied": 1, "basic": 0,
                                                           "unsatisfied": 1}
    call_record(actor=world.alice, case=fresh(unhappy), outcome="reached", contacted=True, resolved=False,
                satisfaction="unsatisfied", note="回访核实：仍未修好")
    stored = fresh(unhappy)
    assert (stored.state, stored.reopen_count) == ("handling", 1)  # the staff follow-up reopens
    assert codes(world.alice) == []


def test_a_verifying_call_that_finds_the_reporter_satisfied_reopens_nothing(world, units):
    case = replied(world, units)
    case_rate(actor=units.rita, case=fresh(case), satisfaction="unsatisfied", resolved=False)
    call_record(actor=world.alice, case=fresh(case), outcome="reached", contacted=True, resolved=True,
                satisfaction="satisfied")
    assert fresh(case).state == "replied"


@pytest.mark.parametrize(("data", "field"), [
    ({"outcome": "busy"}, "outcome"),
    ({"outcome": "reached", "contacted": True, "resolved": True}, "satisfaction"),
    ({"outcome": "reached", "resolved": True, "satisfaction": "satisfied"}, "contacted"),
])
def test_bad_input_names_the_field(world, units, data, field):
    case = replied(world, units)
    with pytest.raises(TransitionNotAllowed) as exc:
        call_record(actor=world.alice, case=fresh(case), **data)
    assert field in exc.value.message_dict
    assert not CallAttempt.objects.exists() and not Rating.objects.exists()


def test_who_may_call(world, units):
    case = replied(world, units)
    for person in (units.evan, units.rita, units.dana):  # the handling unit, the reporter, another unit
        assert not selectors.may_call(person)
        with pytest.raises(TransitionRefused):
            call_record(actor=person, case=fresh(case), outcome="unreachable")
    assert not CallAttempt.objects.exists()


def test_the_sampling_rule_is_set_by_an_administrator_and_audited(world, units):
    with pytest.raises(TransitionRefused):
        sampling_rule_set(actor=world.alice, department=units.water, share="0.2")
    with pytest.raises(TransitionNotAllowed) as exc:
        sampling_rule_set(actor=world.admin_a, department=units.water, share="1.5")
    assert "share" in exc.value.message_dict
    rule = sampling_rule_set(actor=world.admin_a, department=units.water, share="0.25", max_attempts=2)
    again = sampling_rule_set(actor=world.admin_a, department=units.water, share="0.3")
    assert again.pk == rule.pk and again.share == Decimal("0.300")
    assert AuditEntry.objects.filter(action="assessment.sampling_rule").count() == 2


# --- the page and the API ---------------------------------------------------------------------------


def test_the_centre_works_the_call_list_page(world, units):
    case = replied(world, units)
    alice = client_for(world.alice)
    page = alice.get("/assessment/calls/")
    assert page.status_code == 200 and f'id="call-{case.tracking_code}"' in page.content.decode()
    assert 'data-nav="calls"' in page.content.decode()  # in the menu of those who call
    evan_page = client_for(units.evan).get("/", follow=True).content.decode()
    assert 'data-nav="dashboard"' in evan_page and 'data-nav="calls"' not in evan_page
    bad = alice.post(f"/assessment/calls/{case.tracking_code}/", {"outcome": "reached", "contacted": "yes"})
    assert bad.status_code == 422 and 'data-field="satisfaction"' in bad.content.decode()
    done = alice.post(f"/assessment/calls/{case.tracking_code}/", {
        "outcome": "reached", "contacted": "yes", "resolved": "yes", "satisfaction": "satisfied"})
    assert done.status_code == 302
    assert f'id="call-{case.tracking_code}"' not in alice.get("/assessment/calls/").content.decode()
    assert CallAttempt.objects.get(case=case).by == world.alice


def test_the_page_refuses_wrong_roles_and_hides_other_jurisdictions(world, units):
    case = replied(world, units)
    for person in (units.evan, units.rita):
        c = client_for(person)
        assert c.get("/assessment/calls/").status_code == 403
    assert client_for(units.evan).post(f"/assessment/calls/{case.tracking_code}/",
                                       {"outcome": "unreachable"}).status_code == 403
    charlie = client_for(world.charlie)  # a dispatcher of district B: the case is not his
    assert f"call-{case.tracking_code}" not in charlie.get("/assessment/calls/").content.decode()
    assert charlie.post(f"/assessment/calls/{case.tracking_code}/", {"outcome": "unreachable"}).status_code == 404
    assert Client().get("/assessment/calls/").status_code == 302  # to sign in
    assert not CallAttempt.objects.exists()


def test_the_api_lists_and_records_calls(world, units):
    case = replied(world, units)
    alice = client_for(world.alice)
    listed = alice.get("/api/v1/assessment/calls").json()
    assert [(i["tracking_code"], i["verify"], i["attempts"]) for i in listed] == [(case.tracking_code, False, 0)]
    url = f"/api/v1/assessment/calls/{case.tracking_code}"
    bad = alice.post(url, {"outcome": "reached", "contacted": True}, content_type="application/json")
    assert bad.status_code == 422 and "satisfaction" in bad.content.decode()
    made = alice.post(url, {"outcome": "reached", "contacted": False, "resolved": True, "satisfaction": "basic"},
                      content_type="application/json")
    assert made.status_code == 201 and made.json()["closing"] == 1
    again = alice.post(url, {"outcome": "reached", "contacted": True, "resolved": True, "satisfaction": "basic"},
                       content_type="application/json")
    assert again.status_code == 409
    assert client_for(units.rita).get("/api/v1/assessment/calls").status_code == 403
    assert client_for(world.charlie).post(url, {"outcome": "refused"},
                                          content_type="application/json").status_code == 404
    r = three_rates(region=world.city.a)
    assert (r.response.numerator, r.resolution.numerator, r.response.denominator) == (0, 1, 1)
