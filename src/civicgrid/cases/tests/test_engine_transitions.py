"""Transitions allowed and refused by role and scope (DRILL: new → dispatched → handling → done/rejected,
dispute → review, recall → new), and the append-only timeline they leave behind."""

from __future__ import annotations

import pytest

from civicgrid.audit.models import AuditEntry
from civicgrid.cases import services
from civicgrid.cases.errors import CaseConflict, TransitionNotAllowed, TransitionRefused
from civicgrid.cases.models import Case, TimelineEntry
from civicgrid.cases.registry import UnknownTransition
from civicgrid.cases.services import case_transition
from civicgrid.cases.tests.conftest import POINT_B, at, drill_create, fresh
from civicgrid.org.scoping import OutOfScope

pytestmark = pytest.mark.django_db

T0 = at(2024, 9, 23, 10)  # a Monday


def dispatched(cast, units, **kwargs):
    case = drill_create(cast.bob, now=T0, **kwargs)
    return case_transition(actor=cast.alice, case=case, action="dispatch", department=units.urban, now=T0)


# --- allowed ------------------------------------------------------------------------------------

def test_alice_dispatches_a_case_of_her_street_to_a_department(cast, units):
    case = drill_create(cast.bob, now=T0)
    case = case_transition(actor=cast.alice, case=case, action="dispatch", department=units.urban,
                           note="请尽快处理", now=T0)
    stored = fresh(case)
    assert stored.state == "dispatched" and stored.version == 1
    assert stored.lead_department == units.urban
    entry = stored.timeline.get(action="dispatch")
    assert (entry.from_state, entry.to_state, entry.actor, entry.note) == (
        "new", "dispatched", cast.alice, "请尽快处理")


def test_the_handler_of_the_assigned_department_accepts_and_finishes_it(cast, units):
    case = dispatched(cast, units)
    case = case_transition(actor=units.dana, case=fresh(case), action="accept", now=at(2024, 9, 23, 11))
    assert fresh(case).state == "handling"
    case = case_transition(actor=units.dana, case=fresh(case), action="finish", note="已补装井盖",
                           attachments=["photo-1.jpg"], now=at(2024, 9, 24, 15))
    stored = fresh(case)
    assert stored.state == "done" and stored.closed_at == at(2024, 9, 24, 15)
    assert stored.timeline.get(action="finish").attachments == ["photo-1.jpg"]
    assert not stored.timers.filter(state="running").exists()


def test_a_grid_worker_may_finish_a_case_in_his_grid(cast, units):
    case = dispatched(cast, units)
    case_transition(actor=units.dana, case=fresh(case), action="accept", now=T0)
    case_transition(actor=cast.bob, case=fresh(case), action="finish", note="现场已整改", now=T0)
    assert fresh(case).state == "done"


def test_the_district_administrator_may_act_on_any_case_of_the_district(cast, units):
    case = drill_create(cast.bob, now=T0)
    case_transition(actor=cast.admin_a, case=case, action="reject", reason="重复上报", now=T0)
    assert fresh(case).state == "rejected"


def test_the_system_may_perform_a_system_transition(cast, units):
    case = drill_create(cast.bob, now=T0)
    case_transition(actor=None, case=case, action="dispatch", department=units.water, now=T0)
    stored = fresh(case)
    assert stored.state == "dispatched"
    assert stored.timeline.get(action="dispatch").actor_name == "system"


# --- refused by role --------------------------------------------------------------------------

def test_bob_the_grid_worker_may_not_dispatch(cast, units):
    case = drill_create(cast.bob, now=T0)
    with pytest.raises(TransitionRefused) as info:
        case_transition(actor=cast.bob, case=case, action="dispatch", department=units.urban, now=T0)
    assert "dispatch" in str(info.value)
    assert fresh(case).state == "new" and fresh(case).version == 0


def test_alice_the_dispatcher_may_not_accept_in_a_departments_place(cast, units):
    case = dispatched(cast, units)
    with pytest.raises(TransitionRefused):
        case_transition(actor=cast.alice, case=fresh(case), action="accept", now=T0)


def test_the_reporter_sees_her_case_but_may_not_dispatch_it(cast, units):
    case = drill_create(units.rita, reporter=units.rita, now=T0)
    assert list(Case.objects.for_user(units.rita)) == [case]
    with pytest.raises(TransitionRefused):
        case_transition(actor=units.rita, case=case, action="dispatch", department=units.urban, now=T0)


def test_a_resident_who_did_not_report_the_case_does_not_even_see_it(cast, units):
    case = drill_create(cast.bob, now=T0)
    assert not Case.objects.for_user(units.rita).exists()
    with pytest.raises(OutOfScope):
        case_transition(actor=units.rita, case=case, action="dispatch", department=units.urban, now=T0)


# --- refused by scope -------------------------------------------------------------------------

TRANSITIONS = [("dispatch", {"department": "urban"}), ("accept", {}), ("dispute", {"reason": "不归我们"}),
               ("finish", {"note": "done"}), ("reject", {"reason": "重复"})]


@pytest.mark.parametrize(("action", "given"), TRANSITIONS, ids=[t[0] for t in TRANSITIONS])
def test_charlie_of_district_b_gets_out_of_scope_for_every_action_on_a_district_a_case(cast, units, action, given):
    case = drill_create(cast.bob, now=T0)
    if action in ("accept", "dispute"):
        case = dispatched(cast, units)
    if action == "finish":
        case = dispatched(cast, units)
        case_transition(actor=units.dana, case=fresh(case), action="accept", now=T0)
    kwargs = {k: (getattr(units, v) if k == "department" else v) for k, v in given.items()}
    before = fresh(case)
    with pytest.raises(OutOfScope):
        case_transition(actor=cast.charlie, case=fresh(case), action=action, now=T0, **kwargs)
    after = fresh(case)
    assert (after.state, after.version) == (before.state, before.version)


def test_charlie_gets_out_of_scope_for_every_generic_action_on_a_district_a_case(cast, units):
    from civicgrid.cases.models import ApprovalRequest

    mine = drill_create(cast.charlie, point=POINT_B, now=T0)
    case = dispatched(cast, units)
    closed = drill_create(cast.bob, now=T0)
    case_transition(actor=cast.alice, case=closed, action="reject", reason="重复", now=T0)
    request = services.case_request_approval(actor=units.dana, case=fresh(case), kind="extension", reason="缺材料",
                                             amount=2)
    attempts = [
        lambda: services.case_recall(actor=cast.charlie, case=fresh(case), now=T0),
        lambda: services.case_merge(actor=cast.charlie, survivor=fresh(mine), duplicates=[fresh(case)], now=T0),
        lambda: services.case_merge(actor=cast.charlie, survivor=fresh(case), duplicates=[fresh(mine)], now=T0),
        lambda: services.case_supervise(actor=cast.charlie, case=fresh(case), kind="chase"),
        lambda: services.case_escalate(actor=cast.charlie, case=fresh(case), now=T0),
        lambda: services.case_reopen(actor=cast.charlie, case=fresh(closed), reason="没修好", now=T0),
        lambda: services.case_rate(actor=cast.charlie, case=fresh(closed), satisfaction="satisfied"),
        lambda: services.case_request_approval(actor=cast.charlie, case=fresh(case), kind="deferral",
                                               reason="等待"),
        lambda: services.case_decide_approval(actor=cast.charlie, request=request, approve=True, now=T0),
        lambda: services.case_resume(actor=cast.charlie, case=fresh(case), now=T0),
    ]
    for n, attempt in enumerate(attempts):
        with pytest.raises(OutOfScope):
            attempt()
            pytest.fail(f"attempt {n} was not refused")
    assert fresh(case).version == 1 and fresh(mine).version == 0
    assert ApprovalRequest.objects.get(pk=request.pk).state == "pending"


def test_a_handler_of_another_department_does_not_see_the_case(cast, units):
    case = dispatched(cast, units)
    assert not Case.objects.for_user(units.evan).filter(pk=case.pk).exists()
    with pytest.raises(OutOfScope):
        case_transition(actor=units.evan, case=fresh(case), action="accept", now=T0)
    assert fresh(case).state == "dispatched"


def test_a_department_handler_does_not_see_a_case_before_it_is_dispatched_to_the_department(cast, units):
    case = drill_create(cast.bob, now=T0)
    with pytest.raises(OutOfScope):
        case_transition(actor=units.dana, case=case, action="accept", now=T0)


def test_a_co_handling_department_sees_the_case_but_cannot_take_the_lead_assignment(cast, units):
    from civicgrid.cases.models import AssignmentState

    case = drill_create(cast.bob, now=T0)
    case_transition(actor=cast.alice, case=case, action="dispatch", department=units.urban,
                    co_departments=[units.water], now=T0)
    assert Case.objects.for_user(units.evan).filter(pk=case.pk).exists()
    case_transition(actor=units.evan, case=fresh(case), action="accept", now=T0)  # accepts the water share
    shares = {a.department.code: a.state for a in fresh(case).assignments.all()}
    assert shares == {"440301-cg": AssignmentState.PENDING, "440301-sw": AssignmentState.ACCEPTED}


# --- refused by state or input ------------------------------------------------------------------

def test_an_action_not_possible_in_the_cases_state_is_not_allowed(cast, units):
    case = drill_create(cast.bob, now=T0)
    with pytest.raises(TransitionNotAllowed) as info:
        case_transition(actor=cast.bob, case=case, action="finish", note="x", now=T0)
    assert "action" in info.value.message_dict
    assert "new" in info.value.message_dict["action"][0]


def test_an_action_the_type_does_not_have_is_unknown(cast, units):
    case = drill_create(cast.bob, now=T0)
    with pytest.raises(UnknownTransition):
        case_transition(actor=cast.alice, case=case, action="teleport", now=T0)


@pytest.mark.parametrize(("action", "field"), [("dispatch", "department"), ("dispute", "reason"),
                                               ("finish", "note"), ("reject", "reason")])
def test_a_transition_without_its_required_input_is_not_allowed_and_names_the_field(cast, units, action, field):
    case = drill_create(cast.bob, now=T0)
    actor = cast.alice
    if action in ("dispute", "finish"):
        case = dispatched(cast, units)
        case_transition(actor=units.dana, case=fresh(case), action="accept", now=T0)
        actor = units.dana
    before = fresh(case)
    with pytest.raises(TransitionNotAllowed) as info:
        case_transition(actor=actor, case=fresh(case), action=action, note="  " if field != "note" else "",
                        reason="   ", now=T0)
    assert list(info.value.message_dict) == [field]
    after = fresh(case)
    assert (after.state, after.version) == (before.state, before.version)
    assert after.timeline.count() == before.timeline.count()


def test_dispatching_a_case_twice_says_who_dispatched_it_first(cast, units):
    case = dispatched(cast, units)
    with pytest.raises(CaseConflict) as info:
        case_transition(actor=cast.admin_a, case=fresh(case), action="dispatch", department=units.water, now=T0)
    assert "Alice" in str(info.value) and "dispatch" in str(info.value)
    assert (info.value.action, info.value.actor_name) == ("dispatch", "Alice")


# --- timeline and audit -----------------------------------------------------------------------

def test_each_transition_appends_one_timeline_entry_and_one_audit_row(cast, units):
    case = drill_create(cast.bob, now=T0)
    steps = [
        (cast.alice, "dispatch", {"department": units.urban}),
        (units.dana, "accept", {}),
        (units.dana, "finish", {"note": "已处理"}),
    ]
    for actor, action, kwargs in steps:
        timeline_before = TimelineEntry.objects.filter(case=case).count()
        audit_before = AuditEntry.objects.filter(target_type__endswith="case", target_id=str(case.pk)).count()
        case_transition(actor=actor, case=fresh(case), action=action, now=T0, **kwargs)
        assert TimelineEntry.objects.filter(case=case).count() == timeline_before + 1
        assert AuditEntry.objects.filter(target_type__endswith="case", target_id=str(case.pk)).count() == (
            audit_before + 1)
        audit = AuditEntry.objects.filter(target_id=str(case.pk)).order_by("-id").first()
        assert audit.action == f"cases.drill.{action}" and audit.actor == actor
    actions = list(TimelineEntry.objects.filter(case=case).values_list("action", "from_state", "to_state"))
    assert actions == [("create", "", "new"), ("dispatch", "new", "dispatched"), ("accept", "dispatched", "handling"),
                       ("finish", "handling", "done")]


def test_a_refused_transition_leaves_no_trace(cast, units):
    case = drill_create(cast.bob, now=T0)
    n_timeline, n_audit = TimelineEntry.objects.count(), AuditEntry.objects.count()
    with pytest.raises(TransitionRefused):
        case_transition(actor=cast.bob, case=case, action="dispatch", department=units.urban, now=T0)
    assert (TimelineEntry.objects.count(), AuditEntry.objects.count()) == (n_timeline, n_audit)


def test_public_timeline_entries_are_the_ones_the_reporter_may_read(cast, units):
    case = dispatched(cast, units)
    case_transition(actor=units.dana, case=fresh(case), action="accept", now=T0)
    case_transition(actor=units.dana, case=fresh(case), action="finish", note="已处理", now=T0)
    flags = dict(TimelineEntry.objects.filter(case=case).values_list("action", "public"))
    assert flags == {"create": True, "dispatch": True, "accept": False, "finish": True}


def test_the_timeline_is_append_only(cast, units):
    case = dispatched(cast, units)
    entries = TimelineEntry.objects.filter(case=case)
    with pytest.raises(RuntimeError):
        entries.update(note="rewritten")
    with pytest.raises(RuntimeError):
        entries.delete()
    entry = entries.first()
    entry.note = "rewritten"
    with pytest.raises(RuntimeError):
        entry.save()
    assert TimelineEntry.objects.filter(case=case, note="rewritten").count() == 0
    assert entries.count() == 2


def test_a_single_timeline_entry_cannot_be_deleted_either(cast, units):
    case = dispatched(cast, units)
    entry = TimelineEntry.objects.filter(case=case).first()
    with pytest.raises(RuntimeError):
        entry.delete()


def test_a_public_transition_tells_the_reporter(cast, units):
    from civicgrid.notify.models import Notification

    case = drill_create(units.rita, reporter=units.rita, now=T0)
    case_transition(actor=cast.alice, case=case, action="dispatch", department=units.urban, now=T0)
    note = Notification.objects.get(case=case, recipient=units.rita)
    assert note.event == "dispatch" and case.tracking_code in note.subject


def test_a_public_transition_texts_a_reporter_without_an_account_but_never_an_anonymous_one(cast, units):
    from civicgrid.notify.models import Notification

    named = drill_create(cast.alice, reporter_phone="13800138000", now=T0)
    hidden = drill_create(cast.alice, reporter_phone="13800138000", anonymous=True, now=T0)
    for case in (named, hidden):
        case_transition(actor=cast.alice, case=case, action="reject", reason="不属于受理范围", now=T0)
    sms = Notification.objects.filter(channel="sms")
    assert [n.case_id for n in sms] == [named.pk]
    assert sms.get().address == "13800138000"


# --- the registry ---------------------------------------------------------------------------------

def test_a_case_type_naming_an_unknown_state_or_requirement_is_refused_at_import():
    from civicgrid.cases.registry import CaseType, Transition

    with pytest.raises(ValueError, match="unknown requirement"):
        Transition("sign", ("new",), "done", frozenset({"dispatcher"}), requires=("signature",))
    with pytest.raises(ValueError, match="unknown state"):
        CaseType(code="bad", label="bad", states={"new": "new"}, initial="new",
                 transitions={"go": Transition("go", ("new",), "gone", frozenset({"dispatcher"}))})
    with pytest.raises(ValueError, match="initial state"):
        CaseType(code="bad", label="bad", states={"new": "new"}, initial="open", transitions={})


def test_a_second_case_type_with_a_registered_code_is_refused():
    from dataclasses import replace

    from civicgrid.cases import registry
    from civicgrid.cases.testing import DRILL, register_drill

    assert register_drill() is DRILL and registry.get("drill") is DRILL
    with pytest.raises(ValueError, match="registered already"):
        registry.register(replace(DRILL, label="another drill"))
    with pytest.raises(LookupError):
        registry.get("no-such-type")


def test_the_database_itself_refuses_to_change_the_timeline_on_postgresql_and_sqlite(cast, units):
    from django.db import DatabaseError, connection, transaction

    case = dispatched(cast, units)
    for sql in ("UPDATE cases_timelineentry SET note = 'x' WHERE case_id = %s",
                "DELETE FROM cases_timelineentry WHERE case_id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [case.pk])
    assert TimelineEntry.objects.filter(case=case).count() >= 2
