"""Two people acting on one case at the same moment: the guarded update lets exactly one win and
tells the other who did what first ("already dispatched by Alice").

The threaded tests need a real PostgreSQL with two connections (SQLite serialises every writer);
`make test` runs them in its PostgreSQL pass. The sequential tests show the same guard on SQLite.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from civicgrid.audit.models import AuditEntry
from civicgrid.cases import services
from civicgrid.cases.errors import CaseConflict
from civicgrid.cases.models import ApprovalRequest, Case, TimelineEntry
from civicgrid.cases.services import (
    case_decide_approval,
    case_request_approval,
    case_transition,
)
from civicgrid.cases.tests.conftest import at, drill_create, fresh

T0 = at(2024, 9, 23, 10)

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two transactions at the same moment need PostgreSQL (SQLite serialises writers); "
           "`make test` runs this in its PostgreSQL pass")


def race(*moves: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run each move in its own thread with its own database connection, released together."""
    barrier = threading.Barrier(len(moves))
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(move: Callable[[], Any]) -> None:
        try:
            prepared = move()  # reads what it needs (its own view of the case) and returns the write
            barrier.wait(timeout=20)
            results.append(prepared())
        except BaseException as exc:  # collected for the assertions
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(m,)) for m in moves]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung (a lock never released?)"
    return results, errors


def dispatch_by(actor: Any, case_id: int, department: Any) -> Callable[[], Callable[[], Case]]:
    def read() -> Callable[[], Case]:
        case = Case.objects.get(pk=case_id)  # both read the case before either writes
        return lambda: case_transition(actor=actor, case=case, action="dispatch", department=department, now=T0)
    return read


# --- on PostgreSQL, two connections -------------------------------------------------------------

@on_postgresql
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("hold", [0.0, 0.0, 0.3], ids=["free-1", "free-2", "winner-holds-the-row"])
def test_two_dispatchers_at_the_same_moment_one_wins_and_the_other_is_told_who(cast, units, monkeypatch, hold):
    if hold:
        # The first to update keeps its transaction open a while, so the other's guarded UPDATE
        # surely waits on the row lock and then finds the version gone.
        original = services.timeline_add

        def slow_timeline_add(**kwargs: Any) -> Any:
            if kwargs.get("action") == "dispatch":
                time.sleep(hold)
            return original(**kwargs)

        monkeypatch.setattr(services, "timeline_add", slow_timeline_add)
    case = drill_create(cast.bob, now=T0)
    results, errors = race(dispatch_by(cast.alice, case.pk, units.urban),
                           dispatch_by(cast.admin_a, case.pk, units.water))
    assert len(results) == 1 and len(errors) == 1, (results, errors)
    conflict = errors[0]
    assert isinstance(conflict, CaseConflict), repr(conflict)
    stored = fresh(case)
    winner = stored.timeline.get(action="dispatch")
    assert winner.actor_name in ("Alice", "Admin A")
    # The loser is told what happened and by whom (in the interface language; the threads run zh-hans).
    assert winner.actor_name in str(conflict) and "dispatch" in str(conflict)
    assert (conflict.action, conflict.actor_name) == ("dispatch", winner.actor_name)
    assert stored.state == "dispatched" and stored.version == 1
    assert stored.assignments.count() == 1 and stored.assignments.get().role == "lead"
    assert stored.lead_department == stored.assignments.get().department
    assert (stored.lead_department == units.urban) == (winner.actor_name == "Alice")
    assert AuditEntry.objects.filter(action="cases.drill.dispatch", target_id=str(case.pk)).count() == 1
    assert stored.timers.filter(kind="sign").count() == 1


@on_postgresql
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dispatch_and_a_rejection_at_the_same_moment_leave_one_of_them(cast, units):
    case = drill_create(cast.bob, now=T0)

    def reject_by_admin() -> Callable[[], Case]:
        mine = Case.objects.get(pk=case.pk)
        return lambda: case_transition(actor=cast.admin_a, case=mine, action="reject", reason="重复上报", now=T0)

    results, errors = race(dispatch_by(cast.alice, case.pk, units.urban), reject_by_admin)
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], CaseConflict), errors
    stored = fresh(case)
    assert stored.state in ("dispatched", "rejected") and stored.version == 1
    moves = list(TimelineEntry.objects.filter(case=case).exclude(action="create").values_list("action", flat=True))
    assert len(moves) == 1 and {"dispatched": "dispatch", "rejected": "reject"}[stored.state] == moves[0]
    assert stored.assignments.count() == (1 if stored.state == "dispatched" else 0)


@on_postgresql
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_decisions_on_one_request_at_the_same_moment_one_counts(cast, units):
    case = drill_create(cast.bob, now=T0)
    case_transition(actor=cast.alice, case=case, action="dispatch", department=units.urban, now=T0)
    request = case_request_approval(actor=units.dana, case=fresh(case), kind="extension", reason="需协调", amount=2)

    def decide(actor: Any, approve: bool) -> Callable[[], Callable[[], ApprovalRequest]]:
        def read() -> Callable[[], ApprovalRequest]:
            mine = ApprovalRequest.objects.get(pk=request.pk)
            return lambda: case_decide_approval(actor=actor, request=mine, approve=approve, now=T0)
        return read

    results, errors = race(decide(cast.alice, True), decide(cast.admin_a, False))
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], CaseConflict), errors
    decided = ApprovalRequest.objects.get(pk=request.pk)
    assert fresh(case).extended == (decided.state == "approved")
    assert TimelineEntry.objects.filter(case=case, action__startswith="extension_").exclude(
        action="extension_request").count() == 1


# --- the same guard, one after the other (any database) ------------------------------------------

@pytest.mark.django_db
def test_a_stale_case_object_read_before_another_actors_transition_raises_a_conflict(cast, units):
    case = drill_create(cast.bob, now=T0)
    alices_view = fresh(case)
    admins_view = fresh(case)
    case_transition(actor=cast.alice, case=alices_view, action="dispatch", department=units.urban, now=T0)
    with pytest.raises(CaseConflict) as info:
        case_transition(actor=cast.admin_a, case=admins_view, action="dispatch", department=units.water, now=T0)
    assert "already dispatch by Alice" in str(info.value)
    assert (info.value.action, info.value.actor_name) == ("dispatch", "Alice")
    stored = fresh(case)
    assert stored.lead_department == units.urban and stored.version == 1
    assert stored.timeline.filter(action="dispatch").count() == 1
    assert stored.assignments.count() == 1
    assert AuditEntry.objects.filter(action="cases.drill.dispatch").count() == 1


@pytest.mark.django_db
def test_a_stale_case_object_cannot_undo_a_transition_by_another_action(cast, units):
    case = drill_create(cast.bob, now=T0)
    stale = fresh(case)
    case_transition(actor=cast.alice, case=case, action="dispatch", department=units.urban, now=T0)
    with pytest.raises(CaseConflict) as info:
        case_transition(actor=cast.admin_a, case=stale, action="reject", reason="重复", now=T0)
    assert "Alice" in str(info.value)
    assert fresh(case).state == "dispatched"
    assert not fresh(case).timeline.filter(action="reject").exists()


@pytest.mark.django_db
def test_a_conflict_rolls_back_everything_the_loser_wrote(cast, units):
    from civicgrid.cases.models import Assignment, Timer
    from civicgrid.notify.models import Notification

    case = drill_create(cast.bob, now=T0)
    stale = fresh(case)
    case_transition(actor=cast.alice, case=case, action="dispatch", department=units.urban, now=T0)
    counts = (Assignment.objects.count(), Timer.objects.count(), Notification.objects.count(),
              TimelineEntry.objects.count(), AuditEntry.objects.count())
    with pytest.raises(CaseConflict):
        case_transition(actor=cast.admin_a, case=stale, action="dispatch", department=units.water, now=T0)
    assert counts == (Assignment.objects.count(), Timer.objects.count(), Notification.objects.count(),
                      TimelineEntry.objects.count(), AuditEntry.objects.count())
