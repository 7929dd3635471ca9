"""The sweep (超时巡检): due-soon and overdue clocks marked once, supervision items, escalation one
level up, problem cases — idempotent, and safe when two workers sweep at once."""

from __future__ import annotations

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from civicgrid.audit.models import AuditEntry
from civicgrid.cases.models import Case, Supervision, TimelineEntry, Timer
from civicgrid.cases.services import case_transition
from civicgrid.cases.sweep import cases_sweep
from civicgrid.cases.tests.conftest import STREET_A, at, drill_create, fresh, sweeps_at_once
from civicgrid.notify.models import InboxMessage, Notification

pytestmark = pytest.mark.django_db

T0 = at(2024, 9, 23, 10)  # a Monday


def handle_clock(case) -> Timer:
    return Timer.objects.get(case=case, kind="handle")


def dispatched(cast, units, now=T0):
    """Dispatched to the urban management department: a handling clock and a sign-off clock run."""
    case = drill_create(cast.bob, now=now)
    return case_transition(actor=cast.alice, case=case, action="dispatch", department=units.urban, now=now)


def accepted(cast, units, now=T0):
    """Dispatched and accepted by Dana: only the handling clock runs."""
    case = dispatched(cast, units, now)
    return case_transition(actor=units.dana, case=fresh(case), action="accept", now=now)


def snapshot() -> dict[str, int]:
    """How many rows the sweep may write, table by table."""
    return {
        "timeline": TimelineEntry.objects.count(),
        "supervision": Supervision.objects.count(),
        "notification": Notification.objects.count(),
        "overdue": Timer.objects.filter(overdue_at__isnull=False).count(),
        "due_soon": Timer.objects.filter(due_soon_at__isnull=False).count(),
        "escalations": sum(Case.objects.values_list("escalation_level", flat=True)),
    }


# --- due soon -----------------------------------------------------------------------------------

def test_a_clock_in_the_last_fifth_of_its_time_is_warned_once_and_the_lead_department_told(cast, units,
                                                                                          calendar_2024):
    case = accepted(cast, units)
    clock = handle_clock(case)
    now = clock.due_at - timedelta(hours=10)  # the span is 6 calendar days: the last fifth is 28.8 h
    before = snapshot()

    report = cases_sweep(now=now)

    clock.refresh_from_db()
    assert clock.due_soon_at == now and clock.overdue_at is None
    assert report.due_soon == 1 and report.overdue == 0
    note = Notification.objects.get(event="due_soon")
    assert note.audience_department == units.urban and note.audience_region is None
    assert case.tracking_code in note.subject and "handle" in note.subject
    assert TimelineEntry.objects.count() == before["timeline"]  # a warning is not a step of the case
    assert cases_sweep(now=now + timedelta(hours=1)).due_soon == 0


def test_a_clock_far_from_its_deadline_is_not_warned(cast, units, calendar_2024):
    case = accepted(cast, units)
    clock = handle_clock(case)
    report = cases_sweep(now=clock.due_at - timedelta(hours=40))
    assert report.due_soon == 0
    assert handle_clock(case).due_soon_at is None


def test_the_warning_window_is_capped_for_long_clocks(cast, units, calendar_2024):
    case = accepted(cast, units)
    clock = handle_clock(case)
    now = clock.due_at - timedelta(hours=10)
    assert cases_sweep(now=now, due_soon_max=timedelta(hours=8)).due_soon == 0
    assert cases_sweep(now=now, due_soon_max=timedelta(hours=12)).due_soon == 1


def test_a_case_without_a_department_warns_its_owning_centre(cast, calendar_2024):
    case = drill_create(cast.bob, now=T0)
    cases_sweep(now=handle_clock(case).due_at - timedelta(hours=1))
    note = Notification.objects.get(event="due_soon")
    assert note.audience_region.code == STREET_A and note.audience_department is None


# --- overdue ------------------------------------------------------------------------------------

def test_an_overdue_clock_is_marked_once_with_a_timeline_entry_a_supervision_item_and_a_notification(
        cast, units, calendar_2024):
    case = dispatched(cast, units)
    now = at(2024, 9, 23, 11, 30)  # the one-working-hour sign-off clock ran out at 11:00
    report = cases_sweep(now=now)

    sign = Timer.objects.get(case=case, kind="sign")
    assert sign.overdue_at == now and handle_clock(case).overdue_at is None
    assert (report.overdue, report.overdue_cases, report.supervisions) == (1, 1, 1)
    entry = TimelineEntry.objects.get(case=case, action="overdue")
    assert (entry.actor, entry.actor_name, entry.at) == (None, "system", now)
    assert entry.from_state == entry.to_state == "dispatched"
    assert entry.data == {"clocks": ["sign"]} and not entry.public
    item = Supervision.objects.get(case=case, kind="overdue")
    assert item.closed_at is None and item.note == "sign"
    note = Notification.objects.get(event="overdue")
    assert note.audience_department == units.urban and note.case_id == case.pk
    assert fresh(case).owner_region.code == STREET_A  # only the handling clock escalates


def test_a_second_sweep_changes_nothing(cast, units, calendar_2024):
    for _ in range(3):
        dispatched(cast, units)
    drill_create(cast.bob, now=T0)
    now = at(2024, 10, 9, 12)
    first = cases_sweep(now=now)
    assert first.overdue == 7  # three sign-off clocks and four handling clocks
    after_first = snapshot()

    second = cases_sweep(now=now)
    third = cases_sweep(now=now + timedelta(hours=2))

    assert snapshot() == after_first
    assert (second.overdue, second.due_soon, second.problems, second.escalated) == (0, 0, 0, 0)
    assert not third.changed


def test_an_open_overdue_supervision_item_is_not_opened_twice(cast, units, calendar_2024):
    case = dispatched(cast, units)
    Supervision.objects.create(case=case, kind="overdue", note="by hand")
    cases_sweep(now=at(2024, 10, 9, 12))
    assert Supervision.objects.filter(case=case, kind="overdue").count() == 1
    assert TimelineEntry.objects.filter(case=case, action="overdue").count() == 1


def test_a_paused_or_stopped_clock_is_never_overdue(cast, units, calendar_2024):
    case = dispatched(cast, units)
    Timer.objects.filter(case=case, kind="handle").update(state="paused")
    Timer.objects.filter(case=case, kind="sign").update(state="stopped")
    report = cases_sweep(now=at(2024, 12, 1, 12))
    assert report.overdue == 0 and not Supervision.objects.exists()


def test_small_batches_still_do_all_the_work(cast, units, calendar_2024):
    cases = [dispatched(cast, units) for _ in range(4)]
    report = cases_sweep(now=at(2024, 10, 9, 12), batch_size=1)
    assert report.overdue == 8 and report.batches >= 8
    assert Supervision.objects.filter(kind="overdue").count() == 4
    assert all(fresh(c).escalation_level == 1 for c in cases)


# --- escalation -----------------------------------------------------------------------------------

def test_an_overdue_handling_clock_moves_the_case_up_to_the_district_centre(cast, units, calendar_2024):
    case = dispatched(cast, units)
    version = fresh(case).version
    report = cases_sweep(now=handle_clock(case).due_at + timedelta(minutes=1))

    stored = fresh(case)
    assert report.escalated == 1
    assert stored.owner_region == cast.city.a and stored.escalation_level == 1
    assert stored.version == version + 1  # a dispatcher holding the old case is told it changed
    entry = TimelineEntry.objects.get(case=case, action="escalate")
    assert entry.data == {"from": STREET_A, "to": "440301", "rule": "overdue"}
    # one message: the handling unit is told it is overdue, the district centre that it owns it now
    note = Notification.objects.get(event="overdue")
    assert note.audience_region == cast.city.a and note.audience_department == units.urban
    assert case.tracking_code in note.subject and "甲区" in note.subject


def test_running_over_again_after_an_extension_escalates_once_more_but_never_above_the_city(cast, units,
                                                                                        calendar_2024):
    case = dispatched(cast, units)
    clock = handle_clock(case)
    cases_sweep(now=clock.due_at + timedelta(minutes=1))
    for days in (10, 20):  # extended, and overdue again
        Timer.objects.filter(pk=clock.pk).update(due_at=clock.due_at + timedelta(days=days), overdue_at=None)
        cases_sweep(now=clock.due_at + timedelta(days=days, minutes=1))
    stored = fresh(case)
    assert stored.owner_region == cast.city.city and stored.escalation_level == 2
    assert TimelineEntry.objects.filter(case=case, action="overdue").count() == 3
    assert TimelineEntry.objects.filter(case=case, action="escalate").count() == 2


# --- problem cases ------------------------------------------------------------------------------

def test_a_case_reopened_three_times_becomes_a_problem_case_once(cast, units, calendar_2024):
    case = dispatched(cast, units)
    Case.objects.filter(pk=case.pk).update(reopen_count=3)
    now = at(2024, 9, 24, 9)
    report = cases_sweep(now=now)
    assert report.problems == 1
    item = Supervision.objects.get(case=case, kind="problem")
    assert "reopened 3 times" in item.note
    assert TimelineEntry.objects.filter(case=case, action="problem").count() == 1
    note = Notification.objects.get(event="problem")
    assert note.audience_region == cast.city.a  # the centre above the owning street
    assert cases_sweep(now=now).problems == 0


def test_a_case_transferred_three_times_becomes_a_problem_case(cast, units, calendar_2024):
    case = dispatched(cast, units)
    Case.objects.filter(pk=case.pk).update(transfer_count=3)
    assert cases_sweep(now=at(2024, 9, 24, 9)).problems == 1


def test_a_closed_problem_item_is_reopened_only_when_the_case_changes_again(cast, units, calendar_2024):
    case = dispatched(cast, units)
    Case.objects.filter(pk=case.pk).update(transfer_count=3, updated_at=at(2024, 9, 24, 8))
    cases_sweep(now=at(2024, 9, 24, 9))
    Supervision.objects.filter(case=case, kind="problem").update(closed_at=at(2024, 9, 24, 10))
    assert cases_sweep(now=at(2024, 9, 24, 11)).problems == 0
    Case.objects.filter(pk=case.pk).update(transfer_count=4, updated_at=at(2024, 9, 24, 12))
    assert cases_sweep(now=at(2024, 9, 24, 13)).problems == 1
    assert Supervision.objects.filter(case=case, kind="problem").count() == 2


def test_a_closed_case_is_no_problem_case_for_the_sweep(cast, units, calendar_2024):
    case = dispatched(cast, units)
    Case.objects.filter(pk=case.pk).update(reopen_count=5, closed_at=at(2024, 9, 24, 8))
    assert cases_sweep(now=at(2024, 9, 24, 9)).problems == 0


# --- audit and command --------------------------------------------------------------------------

def test_a_sweep_that_changed_something_writes_one_audit_row_with_its_counts(cast, units, calendar_2024):
    for _ in range(2):
        dispatched(cast, units)
    before = AuditEntry.objects.filter(action="cases.sweep").count()
    cases_sweep(now=at(2024, 10, 9, 12))
    rows = AuditEntry.objects.filter(action="cases.sweep")
    assert rows.count() == before + 1
    assert rows.first().after["overdue"] == 4 and rows.first().after["escalated"] == 2
    cases_sweep(now=at(2024, 10, 9, 12))  # nothing to do: the worker's idle sweeps leave no trace
    assert rows.count() == before + 1
    cases_sweep(now=at(2024, 10, 9, 12), audit_empty=True)
    assert rows.count() == before + 2


def test_the_sweep_command_prints_its_report_and_is_audited(cast, units, calendar_2024):
    dispatched(cast, units)
    out = StringIO()
    call_command("cases_sweep", "--now", "2024-10-09T12:00", stdout=out)
    assert "overdue 2 (cases 1)" in out.getvalue() and "escalated 1" in out.getvalue()
    assert AuditEntry.objects.filter(action="cases.sweep").count() == 1
    out = StringIO()
    call_command("cases_sweep", "--now", "2024-10-09T12:00", stdout=out)
    assert "overdue 0" in out.getvalue()
    assert AuditEntry.objects.filter(action="cases.sweep").count() == 2


def test_the_worker_runs_the_sweep_and_the_outbox_once(cast, units, calendar_2024):
    case = dispatched(cast, units)  # its clocks ran out long ago (2024)
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert handle_clock(case).overdue_at is not None
    assert fresh(case).owner_region == cast.city.a
    assert InboxMessage.objects.filter(user=units.dana, case=case).count() >= 2  # assigned, overdue
    assert InboxMessage.objects.filter(user=cast.alice, case=case).exists()  # "new case" to her street
    assert not Notification.objects.filter(state="pending").exists()
    assert "sweep:" in out.getvalue() and "outbox:" in out.getvalue()


# --- two workers at once (PostgreSQL) -----------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_mark_every_clock_once_and_write_no_duplicates(cast):
    if connection.vendor != "postgresql":
        pytest.skip("two sweeps at once need PostgreSQL (SQLite serialises writers); `make test` runs this")
    cases = [drill_create(cast.bob, now=T0, title=f"案件{n}") for n in range(40)]
    now = at(2024, 11, 1, 12)
    reports = sweeps_at_once(now, batch_size=3)
    assert sum(r.overdue for r in reports) == len(cases)
    assert sum(r.escalated for r in reports) == len(cases)
    for case in cases:
        assert TimelineEntry.objects.filter(case=case, action="overdue").count() == 1
        assert TimelineEntry.objects.filter(case=case, action="escalate").count() == 1
        assert Supervision.objects.filter(case=case, kind="overdue").count() == 1
        assert fresh(case).escalation_level == 1
    assert Notification.objects.filter(event="overdue").count() == len(cases)


def test_the_worker_stops_gracefully_on_sigterm(cast, units, calendar_2024):
    import os
    import signal

    dispatched(cast, units)
    before = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.5, os.kill, args=(os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        call_command("worker", "--interval", "0.05", stdout=StringIO())  # returns once the signal arrives
    finally:
        timer.cancel()
    assert Timer.objects.filter(overdue_at__isnull=False).exists()
    assert signal.getsignal(signal.SIGTERM) == before  # the worker's handler is gone again
