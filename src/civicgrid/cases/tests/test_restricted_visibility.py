"""Issue 16, visibility per type and per kind: a restricted type's cases are seen by the people assigned,
their supervisors and the roles the type names — by the declared field (an accusation is narrower than
a suggestion) — and by nobody else, through the engine's one scoping (org.scoping + cases.selectors);
their free text is encrypted at rest."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import Http404

from civicgrid.cases import registry
from civicgrid.cases.errors import TransitionRefused
from civicgrid.cases.models import Assignment, Case
from civicgrid.cases.registry import JURISDICTION, RESTRICTED, Visibility
from civicgrid.cases.rules import case_act, case_actions
from civicgrid.cases.selectors import (
    PUBLIC_VIEW,
    STAFF_VIEW,
    case_get,
    case_view_of,
    cases_unrestricted,
    cases_visible,
    metric_cases,
    metrics_for,
)
from civicgrid.cases.services import case_audience_refresh
from civicgrid.cases.testing import DRILL, SEALED
from civicgrid.cases.tests.conftest import drill_create
from civicgrid.cases.tests.restricted import (
    SECRET,
    SUGGESTION_TEXT,
    sealed_case,
    sealed_fixture,  # noqa: F401 - the fixture
)
from civicgrid.org.models import Role

pytestmark = pytest.mark.django_db


def sees(user, case) -> bool:
    try:
        case_get(user=user, pk=case.pk)
    except Http404:
        return False
    return True


def test_the_declaration_chooses_the_rule_by_the_declared_field():
    v = SEALED.visibility
    assert v.is_restricted and not DRILL.visibility.is_restricted
    assert v.audience_of({"kind": "accusation"}) == RESTRICTED
    assert v.audience_of({"kind": "suggestion"}) == "suggestion"
    assert v.audience_of({"kind": "notice"}) == JURISDICTION
    assert v.audience_of(None) == RESTRICTED  # no kind: the narrowest
    assert v.audiences() == {"suggestion": frozenset({Role.ADMIN, Role.DISPATCHER}),
                             RESTRICTED: frozenset({Role.ADMIN})}
    with pytest.raises(ValueError):
        Visibility.restricted(by_value={"x": None})  # a rule by value names its field


def test_the_accusation_is_seen_by_its_assignee_supervisor_and_named_role_only(sealed):
    c, case = sealed.cast, sealed.accusation
    assert case.audience == RESTRICTED
    assert sees(sealed.peter, case)  # the person assigned
    assert sees(sealed.lena, case)  # his supervisor (leader of his street)
    assert sees(c.admin_a, case)  # the role the type names, in its jurisdiction
    assert not sees(c.alice, case)  # a dispatcher of the same street
    assert not sees(c.bob, case)  # a grid worker of the same grid
    assert not sees(sealed.dana, case)  # a handler of the department it is dispatched to
    assert not sees(sealed.leo, case)  # a leader elsewhere: no supervisor of Peter
    assert not sees(c.charlie, case)  # an outsider
    assert sees(sealed.rita, case) and case_view_of(user=sealed.rita, case=case) == PUBLIC_VIEW  # her own report
    assert case_view_of(user=sealed.peter, case=case) == STAFF_VIEW


def test_a_suggestion_is_wider_than_an_accusation_and_a_notice_is_the_jurisdictions(sealed):
    c = sealed.cast
    assert sees(c.alice, sealed.suggestion) and not sees(c.alice, sealed.accusation)
    assert not sees(c.bob, sealed.suggestion) and not sees(sealed.dana, sealed.suggestion)
    assert sees(c.alice, sealed.notice) and sees(c.bob, sealed.notice) and not sees(c.charlie, sealed.notice)
    assert sealed.notice.audience == JURISDICTION and sealed.notice.text  # a notice is kept as any case


def test_lists_and_the_tracking_code_search_leave_it_out(sealed):
    c, code = sealed.cast, sealed.accusation.tracking_code
    for user in (c.alice, c.bob, sealed.dana, sealed.leo, c.charlie):
        assert not cases_visible(user=user).filter(tracking_code=code).exists()
        with pytest.raises(Http404):
            case_get(user=user, tracking_code=code)
    for user in (sealed.peter, sealed.lena, c.admin_a):
        assert cases_visible(user=user).filter(tracking_code=code).exists()
    assert not cases_unrestricted().filter(tracking_code=code).exists()


def test_an_ended_person_assignment_ends_the_assignees_sight(sealed):
    Assignment.objects.filter(case=sealed.accusation, person=sealed.peter).update(state="done")
    assert not sees(sealed.peter, sealed.accusation)
    assert not sees(sealed.lena, sealed.accusation)  # nobody of hers holds it now
    assert sees(sealed.cast.admin_a, sealed.accusation)


def test_metric_drill_downs_count_it_only_for_those_who_see_it(sealed):
    c = sealed.cast
    for user in (c.alice, sealed.dana, c.charlie):
        assert not metric_cases("registration", part="denominator", user=user).filter(
            pk=sealed.accusation.pk).exists()
    assert metric_cases("registration", part="denominator", user=c.admin_a).filter(pk=sealed.accusation.pk).exists()
    # Alice's figures count her street's suggestion and notice, not the accusation
    assert metrics_for(user=c.alice).registration.denominator == 2
    assert metrics_for(user=c.admin_a).registration.denominator == 3


def test_nobody_outside_the_set_may_act_on_it_and_the_named_role_may(sealed):
    c, case = sealed.cast, sealed.accusation
    with pytest.raises(Http404):
        case_act(actor=c.alice, case=case, action="dispatch", data={"department": sealed.urban.code})
    assert case_actions(c.charlie, case) == [] and case_actions(c.alice, case) == []
    assert "dispatch" in {o.name for o in case_actions(c.admin_a, case)}
    # the assignee acts with his own role where the type allows it: a mediator may ask for more time
    assert "request_extension" in {o.name for o in case_actions(sealed.peter, case)}
    with pytest.raises(TransitionRefused):
        case_act(actor=sealed.lena, case=case, action="dispatch", data={"department": sealed.urban.code})


def test_its_free_text_is_encrypted_at_rest(sealed):
    case = sealed.accusation
    assert case.text == "" and case.description == SECRET
    with connection.cursor() as cur:
        cur.execute("SELECT text, sealed_text FROM cases_case WHERE id = %s", [case.pk])
        text, stored = cur.fetchone()
    assert text == "" and SECRET not in stored and "红包" not in stored and stored
    # an event-like type keeps its text as it is (no cost on its path)
    plain = drill_create(None, text="井盖缺失了")
    with connection.cursor() as cur:
        cur.execute("SELECT text, sealed_text, audience FROM cases_case WHERE id = %s", [plain.pk])
        assert cur.fetchone() == ("井盖缺失了", "", "")


def test_a_changed_kind_moves_the_case_and_its_text(sealed):
    case = case_audience_refresh(actor=None, case=sealed.suggestion, values={"kind": "notice"})
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.audience == JURISDICTION and fresh.text == SUGGESTION_TEXT and fresh.sealed_text == ""
    assert sees(sealed.cast.bob, fresh)
    case = case_audience_refresh(actor=None, case=fresh, values={"kind": "accusation"})
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.audience == RESTRICTED and fresh.text == "" and fresh.description == SUGGESTION_TEXT
    assert not sees(sealed.cast.alice, fresh)


def test_without_a_restricted_type_scoping_adds_nothing(cast):
    from civicgrid.org.scoping import scope_q

    # installed restricted types (petitions) are set aside for this test: the rule without any
    hidden = [t for t in registry.all_types() if t.visibility.is_restricted]
    for t in hidden:
        registry.unregister(t.code)
    try:
        assert not registry.restricted_audiences()
        assert "audience" not in str(scope_q(Case, cast.alice))
    finally:
        for t in hidden:
            registry.register(t)
    sealed_free = sealed_case  # the helper stays importable without the type registered
    assert callable(sealed_free)


def test_its_timeline_notes_are_encrypted_at_rest_and_read_as_notes(sealed):
    from civicgrid.cases.selectors import case_timeline

    case = case_act(actor=sealed.cast.admin_a, case=sealed.accusation, action="dispatch",
                    data={"department": sealed.urban.code, "note": "请核实红包线索"})
    entry = case_timeline(case=case).get(action="dispatch")
    assert entry.note == "请核实红包线索"
    with connection.cursor() as cur:
        cur.execute("SELECT note, sealed_note FROM cases_timelineentry WHERE id = %s", [entry.pk])
        note, stored = cur.fetchone()
    assert note == "" and "红包" not in stored and stored
    # an unrestricted case's notes stay plain text
    plain = case_act(actor=sealed.cast.alice, case=sealed.notice, action="dispatch",
                     data={"department": sealed.urban.code, "note": "停水通知已派"})
    with connection.cursor() as cur:
        cur.execute("SELECT note, sealed_note FROM cases_timelineentry WHERE case_id = %s AND action = 'dispatch'",
                    [plain.pk])
        assert cur.fetchone() == ("停水通知已派", "")
