"""Rows written together at the end of a service call (成批写入).

A case step writes a handful of rows nobody reads back within the step: its timeline entry, its
audit row, its outbox notifications, a new clock. :func:`batched` opens the service's transaction
and collects such rows with :func:`insert_later`; when the block ends they are inserted together —
on PostgreSQL as **one** statement (a data-modifying ``WITH`` per table), elsewhere as one
multi-row INSERT per table. Rows keep the order they were added in, per table.

Nested ``batched`` blocks share the outermost batch but keep their own savepoint: when an inner
block fails, the rows it added are dropped with its savepoint, as if written and rolled back.
Outside any ``batched`` block :func:`insert_later` simply saves the row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections, models, transaction
from django.db.models.sql import InsertQuery

_current: ContextVar[list[models.Model] | None] = ContextVar("civicgrid_batch", default=None)


@contextmanager
def batched(using: str = "default") -> Iterator[None]:
    """One transaction (or savepoint) whose deferred rows are inserted when it ends."""
    rows = _current.get()
    if rows is not None:  # nested: the outermost block writes; ours only rolls its rows back
        mark = len(rows)
        try:
            with transaction.atomic(using=using):
                yield
        except BaseException:
            del rows[mark:]
            raise
        return
    rows = []
    token = _current.set(rows)
    try:
        with transaction.atomic(using=using):
            yield
            if rows:
                insert_rows(rows, using=using)
    finally:
        _current.reset(token)


def insert_later(obj: models.Model) -> models.Model:
    """Insert ``obj`` when the enclosing :func:`batched` block ends (now, when there is none).

    The row has no primary key until then: defer only rows that nothing in the step reads back."""
    rows = _current.get()
    if rows is None:
        obj.save(force_insert=True)
    else:
        rows.append(obj)
    return obj


def insert_rows(objs: list[models.Model], using: str = "default") -> None:
    """Insert ``objs`` (of one or more models) in as few statements as the database allows."""
    by_model: dict[type[models.Model], list[models.Model]] = {}
    for obj in objs:
        by_model.setdefault(type(obj), []).append(obj)
    connection = connections[using]
    statements = [_insert_sql(model, rows, using) for model, rows in by_model.items()]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(statements) > 1:
            *head, (last_sql, last_params) = statements
            sql = "WITH " + ", ".join(f"w{i} AS ({s})" for i, (s, _p) in enumerate(head)) + " " + last_sql
            params = [p for _s, ps in head for p in ps] + list(last_params)
            cursor.execute(sql, params)
        else:
            for sql, params in statements:
                cursor.execute(sql, params)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using


def _insert_sql(model: type[models.Model], objs: list[models.Model], using: str) -> tuple[str, list]:
    fields = [f for f in model._meta.local_concrete_fields if not f.primary_key or f.has_default()]
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert_later")
    query = InsertQuery(model)
    query.insert_values(fields, objs)
    [(sql, params)] = query.get_compiler(using=using).as_sql()
    return sql, list(params)
