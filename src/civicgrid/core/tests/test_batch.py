"""Rows inserted together at the end of a service call (core.batch)."""

from __future__ import annotations

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civicgrid.audit.models import AuditEntry
from civicgrid.audit.services import audit_entry
from civicgrid.cases.models import Case
from civicgrid.core.batch import Batch, batched, insert_later, one_statement
from civicgrid.notify.models import Notification

pytestmark = pytest.mark.django_db


def _note(subject: str) -> Notification:
    return Notification(event="test", subject=subject, channel="sms", address="13800138000")


def test_rows_are_written_when_the_block_ends_in_order():
    with batched():
        for i in range(3):
            insert_later(audit_entry(actor=None, action=f"test.{i}"))
        insert_later(_note("hello"))
        assert not AuditEntry.objects.filter(action__startswith="test.").exists()  # not yet
    rows = AuditEntry.objects.filter(action__startswith="test.").order_by("id")
    actions = list(rows.values_list("action", flat=True))
    assert actions == ["test.0", "test.1", "test.2"]
    note = Notification.objects.get(subject="hello")
    assert note.address == "13800138000"  # the encrypted field went through its own preparation
    assert note.created_at is not None  # auto_now_add applied


def test_one_statement_for_several_tables_on_postgresql():
    with CaptureQueriesContext(connection) as queries:
        with batched():
            insert_later(audit_entry(actor=None, action="test.a"))
            insert_later(_note("x"))
            insert_later(_note("y"))
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"]]
    assert len(inserts) == (1 if connection.vendor == "postgresql" else 2)
    assert AuditEntry.objects.filter(action="test.a").count() == 1
    assert Notification.objects.filter(subject__in=["x", "y"]).count() == 2


def test_a_failed_inner_block_drops_its_rows_and_keeps_the_outer_ones():
    with batched():
        insert_later(audit_entry(actor=None, action="test.outer"))
        with pytest.raises(ValueError):
            with batched():
                insert_later(audit_entry(actor=None, action="test.inner"))
                raise ValueError("refused")
    assert AuditEntry.objects.filter(action="test.outer").count() == 1
    assert not AuditEntry.objects.filter(action="test.inner").exists()


def test_a_failed_block_writes_nothing():
    with pytest.raises(ValueError):
        with batched():
            insert_later(audit_entry(actor=None, action="test.lost"))
            raise ValueError("refused")
    assert not AuditEntry.objects.filter(action="test.lost").exists()


def test_outside_a_block_the_row_is_saved_at_once():
    entry = insert_later(audit_entry(actor=None, action="test.now"))
    assert entry.pk is not None
    assert AuditEntry.objects.filter(action="test.now").exists()


# --- a root row and the rows hanging off it ------------------------------------------------------


def _case(code: str, title: str = "井盖缺失") -> Case:
    return Case(case_type="drill", state="new", tracking_code=code, title=title, created_at=timezone.now())


def _tree(code: str, title: str = "井盖缺失", note_subject: str = "新案件") -> tuple[Batch, Case]:
    with batched(savepoint=False, one_statement=True) as batch:
        case = _case(code, title)
        assert batch.root(case, unique="tracking_code")
        insert_later(Notification(case=case, event="created", subject=note_subject, channel="inapp"))
        batch.link_text(audit_entry(actor=None, action="cases.drill.create", target=case), "target_id")
        assert case.pk is None  # not yet written
    return batch, case


def test_a_root_and_its_rows_are_written_together_and_linked():
    with CaptureQueriesContext(connection) as queries:
        batch, case = _tree("TREE000001")
    assert batch.inserted and case.pk is not None
    assert Case.objects.get(pk=case.pk).tracking_code == "TREE000001"
    note = Notification.objects.get(subject="新案件")
    assert note.case_id == case.pk
    audit = AuditEntry.objects.get(action="cases.drill.create")
    assert audit.target_id == str(case.pk) and audit.target_repr == "TREE000001 井盖缺失"
    writes = [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"]]
    assert len(writes) == (1 if connection.vendor == "postgresql" else 3)  # case, then the other two tables


def test_a_taken_unique_value_writes_nothing_and_the_callers_transaction_goes_on():
    _tree("TREE000002")
    batch, case = _tree("TREE000002", title="另一件", note_subject="第二次")
    assert not batch.inserted and case.pk is None
    assert Case.objects.filter(tracking_code="TREE000002").count() == 1
    assert not Notification.objects.filter(subject="第二次").exists()
    assert AuditEntry.objects.filter(action="cases.drill.create").count() == 1
    assert Case.objects.count() == 1  # the test's own transaction still answers


def test_a_too_long_text_in_a_linked_row_is_refused_not_cut():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps text of any length whatever the column says")
    with pytest.raises(DataError):
        with transaction.atomic():
            _tree("TREE000003", note_subject="长" * 201)  # the subject column holds 200
    assert not Case.objects.filter(tracking_code="TREE000003").exists()


def test_inside_another_block_the_root_is_written_at_once():
    with batched():
        with batched(savepoint=False, one_statement=True) as inner:
            case = _case("TREE000004")
            assert inner.root(case, unique="tracking_code")
            assert case.pk is not None  # the outer step may need its id now
            inner.link_text(audit_entry(actor=None, action="cases.drill.inner", target=case), "target_id")
    assert AuditEntry.objects.get(action="cases.drill.inner").target_id == str(case.pk)


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_tree_opens_no_transaction_of_its_own():
    if connection.vendor != "postgresql":
        pytest.skip("one statement without a transaction is PostgreSQL's path (SQLite: one transaction)")
    assert one_statement()
    batch, case = _tree("TREE000005")
    assert batch.inserted
    # committed by the statement itself: another connection sees the case at once
    import psycopg

    settings = connection.settings_dict
    with psycopg.connect(host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432,
                         user=settings["USER"], password=settings["PASSWORD"] or None,
                         dbname=settings["NAME"]) as other:
        found = other.execute("SELECT count(*) FROM cases_notification WHERE case_id = %s", [case.pk]).fetchone()
    assert found == (1,)


@pytest.mark.django_db(transaction=True)
def test_the_numbered_statement_is_what_runs_when_django_logs_nothing():
    if connection.vendor != "postgresql":
        pytest.skip("the $n statement is PostgreSQL's")
    assert not connection.queries_logged  # so the RawCursor path runs, not the logged %s one
    for n in range(7):  # past psycopg's fifth run: prepared
        batch, case = _tree(f"TREE1000{n:02d}", note_subject=f"第{n}次")
        assert batch.inserted and Notification.objects.get(subject=f"第{n}次").case_id == case.pk
    assert AuditEntry.objects.get(target_id=str(case.pk)).target_repr.startswith("TREE100006")


def test_a_root_is_needed_before_a_text_link():
    with pytest.raises(ValueError, match="root"):
        with batched(savepoint=False, one_statement=True) as batch:
            batch.link_text(audit_entry(actor=None, action="cases.drill.create"), "target_id")


def test_the_shape_caches_are_bounded():
    """A long import meets new statement shapes for as long as it runs: the caches keep at most
    their size, forgetting the least recently used shape."""
    from civicgrid.core import batch as b

    cache = b.LruCache(3)
    for key in "abc":
        cache.put(key, key.upper())
    assert cache.get("a") == "A"  # used: now the newest
    cache.put("d", "D")
    assert list(cache) == ["c", "a", "d"] and cache.get("b") is None
    assert isinstance(b._trees, b.LruCache) and b._trees.size == b.TREE_CACHE_SIZE
    assert isinstance(b._kept_columns, b.LruCache)
    for i in range(b.TREE_CACHE_SIZE + 50):
        b._trees.put(("test shape", i), ("", ""))
    assert len(b._trees) == b.TREE_CACHE_SIZE
