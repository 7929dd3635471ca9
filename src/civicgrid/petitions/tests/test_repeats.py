"""Repeat petitions (重复信访), skip-level petitions (越级访), leader ownership (领导包案) and the
不再受理 answer to a matter whose re-review is final."""

from __future__ import annotations

import pytest

from civicgrid.cases.errors import TransitionNotAllowed, TransitionRefused
from civicgrid.cases.models import Assignment, CaseLink
from civicgrid.cases.selectors import cases_assigned_to
from civicgrid.cases.sweep import cases_sweep
from civicgrid.petitions.tests.conftest import MON, act, at, fresh, receive

pytestmark = pytest.mark.django_db


def _linked(a, b) -> bool:
    return CaseLink.objects.filter(from_case__in=(a, b), to_case__in=(a, b)).exists()


def test_the_same_petitioner_on_the_same_matter_is_a_repeat_linked_to_the_earlier(po):
    first = receive(po)
    assert not first.petition.repeat
    # the same identity number, other words around the same matter, another phone
    second = receive(po, now=at(2025, 10, 20, 10), matter="  某公司拖欠工资 ",
                     petitioner={"name": "王五", "id_number": "440301199001011234", "phone": "13700137000",
                                 "address": "甲区一街道1号"})
    assert second.petition.repeat and _linked(first, second)
    other = receive(po, matter="噪音扰民")
    assert not other.petition.repeat and not _linked(first, other)
    stranger = receive(po, petitioner={"name": "赵六", "phone": "13600136000", "address": "x"})
    assert not stranger.petition.repeat


def test_a_petition_to_the_city_office_about_a_district_matter_skips_a_level(po):
    skipped = receive(po, office=po.city_office, actor=po.cora)
    assert skipped.petition.skip_level
    assert not receive(po, matter="另一事项").petition.skip_level


def test_a_new_petition_after_a_final_re_review_is_answered_not_accepted_again(po):
    from civicgrid.petitions.tests.test_workflow import _deliver

    u = po.units
    case = receive(po)
    act(po.olga, case, "route", MON, unit=u.urban.code)
    act(u.dana, case, "accept", MON)
    act(u.dana, case, "reply", at(2025, 10, 9, 10), note="处理意见")
    _deliver(po, case, at(2025, 10, 10, 10))
    act(po.olga, case, "request_review", at(2025, 10, 13, 10), reason="不服", unit=u.water.code)
    act(u.evan, case, "decide_review", at(2025, 10, 20, 10), note="维持")
    act(po.olga, case, "request_rereview", at(2025, 10, 21, 10), reason="不服", unit=u.urban.code)
    act(u.dana, case, "decide_rereview", at(2025, 10, 30, 10), note="维持，终结")
    again = receive(po, now=at(2025, 11, 10, 10))
    assert again.state == "not_reaccepted" and again.closed_at is not None
    assert again.petition.not_reaccepted and again.petition.repeat and _linked(case, again)
    assert again.timeline.filter(action="not_reaccept", public=True).exists()


def test_a_leader_owns_a_petition_and_overdue_steps_are_supervised_in_place(po):
    u = po.units
    case = receive(po)
    act(po.olga, case, "route", MON, unit=u.urban.code)
    with pytest.raises(TransitionNotAllowed):  # the unit does not name the owner (the office's guard)
        act(u.dana, case, "assign_leader", MON, leader=str(po.leo.pk))
    with pytest.raises(TransitionRefused):  # a dispatcher of the street: not a role of the step
        act(po.cast.alice, case, "assign_leader", MON, leader=str(po.leo.pk))
    act(po.olga, case, "assign_leader", MON, leader=str(po.leo.pk))
    a = Assignment.objects.get(case=case, person=po.leo)
    assert a.role == "co" and fresh(case).lead_department == u.urban
    assert case.pk in [c.pk for c in cases_assigned_to(user=po.leo)]
    # the unit's notice clock (15 from Mon 09-22: Thu 10-09) runs over: supervised, nothing moves
    cases_sweep(now=at(2025, 10, 10, 1))
    c = fresh(case)
    assert c.supervisions.exists() and c.state == "routed" and c.lead_department == u.urban
    assert c.owner_region_id == case.owner_region_id
