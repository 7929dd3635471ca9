"""Each engine table's rows are built by one constructor (issue 15, "Shape"): timeline entries by
``cases.timeline.timeline_row``, clocks by ``cases.timers.timer_row``, outbox rows by
``notify.outbox.outbox_row``, audit rows by ``audit.services.audit_entry``. The services, the sweep and
the bulk import all go through them; this test reads the source so that a new copy fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from civicgrid.audit.services import audit_entry
from civicgrid.cases.timeline import timeline_row
from civicgrid.cases.timers import timer_row
from civicgrid.notify.outbox import outbox_row

SRC = Path(__file__).resolve().parents[2]  # src/civicgrid

CONSTRUCTORS = {  # model → the one file allowed to call it
    "TimelineEntry": "cases/timeline.py",
    "Timer": "cases/timers.py",
    "Notification": "notify/outbox.py",
    "AuditEntry": "audit/services.py",
    "Party": "cases/parties.py",
}


def _sources() -> list[tuple[str, str]]:
    return [(str(p.relative_to(SRC)), p.read_text(encoding="utf-8")) for p in sorted(SRC.rglob("*.py"))
            if "tests" not in p.parts and "migrations" not in p.parts]


@pytest.mark.parametrize("model", sorted(CONSTRUCTORS))
def test_rows_are_built_only_by_their_constructor(model: str) -> None:
    # TimelineEntry(…) or new_row(TimelineEntry, …); not threading.Timer(…) nor class …(Model)
    built = re.compile(rf"(?<![\w.]){model}\(|new_row\({model}\b")
    created = re.compile(rf"\b{model}\.objects\.(create|get_or_create|update_or_create)\(")
    found = []
    for name, text in _sources():
        for line_no, line in enumerate(text.splitlines(), 1):
            if line.lstrip().startswith("class "):
                continue
            if created.search(line) or (built.search(line) and name != CONSTRUCTORS[model]):
                found.append(f"{name}:{line_no}: {line.strip()}")
    assert found == []


def test_the_sweep_and_the_bulk_import_spell_out_no_columns_of_their_own() -> None:
    sweep = (SRC / "cases/sweep.py").read_text(encoding="utf-8")
    bulk = (SRC / "events/bulk.py").read_text(encoding="utf-8")
    # one INSERT per table in the sweep, in the helper that takes its row from the constructor
    assert sweep.count("INSERT INTO {q.timeline}") == 1 and "timeline_row(" in sweep
    assert sweep.count("INSERT INTO {q.notification}") == 1 and "outbox_row(" in sweep
    for name in ("TIMELINE_COLUMNS", "TIMER_COLUMNS", "AUDIT_COLUMNS"):
        assert name not in bulk and name not in sweep
    assert "timeline_row(" in bulk and "timer_row(" in bulk and "audit_entry(" in bulk


def test_the_constructors_give_the_rows_the_services_write() -> None:
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    entry = timeline_row(case_id=7, actor=None, action="overdue", from_state="handling", at=now)
    assert (entry.case_id, entry.actor_id, entry.actor_name, entry.to_state, entry.data, entry.attachments,
            entry.public, entry.pk) == (7, None, "system", "handling", {}, [], False, None)
    timer = timer_row(case_id=7, kind="handle", amount=5, unit="working_days", started_at=now,
                      due_at=now + dt.timedelta(days=7), calendar_fallback=False)
    assert (timer.state, timer.extended_by, timer.assignment_id, timer.pk) == ("running", 0.0, None, None)
    note = outbox_row(case=None, event="overdue", subject="超" * 300, now=now)
    assert (note.state, note.attempts, note.next_attempt_at, len(note.subject), note.channel) == (
        "pending", 0, now, 200, "inapp")
    audit = audit_entry(actor=None, action="cases.sweep", target_type="cases.sweep", target_repr="x" * 300)
    assert (audit.actor_name, len(audit.target_repr), audit.pk) == ("system", 200, None)
