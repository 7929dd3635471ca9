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

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connections, models, transaction
from django.db.models.sql import InsertQuery

_current: ContextVar[list[models.Model] | None] = ContextVar("civicgrid_batch", default=None)


@contextmanager
def batched(using: str = "default", *, savepoint: bool = True) -> Iterator[None]:
    """One transaction (or savepoint) whose deferred rows are inserted when it ends.

    Inside a caller's transaction the block is a savepoint: two more round trips. A hot service
    whose block cannot be refused once it starts (case creation skips a taken tracking code
    instead of failing on it) may pass ``savepoint=False``: any failure in it then spoils the
    caller's transaction, and Django refuses further queries in it until it is rolled back.
    """
    rows = _current.get()
    if rows is not None:  # nested: the outermost block writes; ours only rolls its rows back
        mark = len(rows)
        try:
            with transaction.atomic(using=using, savepoint=savepoint):
                yield
        except BaseException:
            del rows[mark:]
            raise
        return
    rows = []
    token = _current.set(rows)
    try:
        with transaction.atomic(using=using, savepoint=savepoint):
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
        if connection.vendor == "postgresql":
            for group in _packed(statements):
                if len(group) == 1:
                    cursor.execute(*group[0])
                    continue
                *head, (last_sql, last_params) = group
                sql = "WITH " + ", ".join(f"w{i} AS ({s})" for i, (s, _p) in enumerate(head)) + " " + last_sql
                params = [p for _s, ps in head for p in ps] + list(last_params)
                cursor.execute(sql, params)
        else:
            for sql, params in statements:
                cursor.execute(sql, params)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using


# psycopg keeps the parsed form of a statement (and so can prepare it) only up to 50 parameters:
# longer ones are split into ``%s`` pieces again on every call. Tables are packed into statements
# of at most this many parameters (one table with more keeps its own statement).
MAX_STATEMENT_PARAMS = 50


def _packed(statements: list[tuple[str, list]]) -> list[list[tuple[str, list]]]:
    groups: list[list[tuple[str, list]]] = []
    size = 0
    for sql, params in statements:
        if groups and size + len(params) <= MAX_STATEMENT_PARAMS:
            groups[-1].append((sql, params))
            size += len(params)
        else:
            groups.append([(sql, params)])
            size = len(params)
    return groups


def returning_supported(using: str = "default") -> bool:
    return connections[using].features.can_return_columns_from_insert


def insert_one(obj: models.Model, using: str = "default", *, unique: str = "") -> bool:
    """Insert one new row now and set its primary key: ``obj.save(force_insert=True)`` for the hot
    rows of a case step (no signals are sent; none of these models has receivers), through the
    same compiled statement as :func:`insert_rows` plus ``RETURNING`` where the database has it.

    With ``unique`` (a column with a unique constraint, where the database can return the id) a row
    that already holds the value is not an error: nothing is inserted and the answer is False."""
    connection = connections[using]
    model = type(obj)
    auto = model._meta.auto_field
    if auto is not None and not returning_supported(using):
        obj.save(force_insert=True, using=using)
        return True
    sql, params = _insert_sql(model, [obj], using)
    qn = connection.ops.quote_name
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        if auto is None:  # the key is given (a detail row keyed by its case)
            cursor.execute(sql, params)
        else:
            conflict = f" ON CONFLICT ({qn(model._meta.get_field(unique).column)}) DO NOTHING" if unique else ""
            cursor.execute(f"{sql}{conflict} RETURNING {qn(auto.column)}", params)
            row = cursor.fetchone()
            if row is None:
                return False
            setattr(obj, auto.attname, row[0])
    obj._state.adding = False
    obj._state.db = using
    return True


# Per model: the columns an INSERT writes and the statement's head. Django's InsertQuery compiles
# the same thing for every row and value (expressions, placeholders, returning fields): for the few
# plain rows of a case step that costs more than the database takes to write them.
_Column = tuple[str, tuple[type, ...] | None, models.Field]
_plans: dict[tuple[type[models.Model], str], tuple[list[_Column], str, str] | None] = {}
_MISSING = object()

# Fields of Django's own classes whose database value *is* the attribute when it has one of these
# types (their get_db_prep_save converts other types, and None stays None). Anything else — a JSON
# field, an encrypted field, a value of another type, auto_now — goes through get_db_prep_save.
_AS_IS: dict[type[models.Field], tuple[type, ...]] = {
    models.CharField: (str,), models.TextField: (str,), models.BooleanField: (bool,),
    models.IntegerField: (int,), models.BigIntegerField: (int,), models.SmallIntegerField: (int,),
    models.PositiveIntegerField: (int,), models.PositiveSmallIntegerField: (int,),
    models.PositiveBigIntegerField: (int,), models.FloatField: (float,), models.DateTimeField: (dt.datetime,),
}


def _as_is(field: models.Field, vendor: str) -> tuple[type, ...] | None:
    if isinstance(field, models.ForeignKey):
        target = field.target_field
        return None if isinstance(target, models.ForeignKey) else _as_is(target, vendor)
    if isinstance(field, models.AutoField | models.BigAutoField | models.SmallAutoField):
        return (int,)
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return None
    if type(field) is models.DateTimeField and vendor != "postgresql":
        return None  # SQLite keeps times as text in Django's own form (compared as text)
    return _AS_IS.get(type(field))


def _plan(model: type[models.Model], using: str) -> tuple[list[_Column], str, str] | None:
    key = (model, using)
    if key not in _plans:
        connection = connections[using]
        fields = [f for f in model._meta.local_concrete_fields if f is not model._meta.auto_field]
        if any(hasattr(f, "get_placeholder") for f in fields):  # a field with its own SQL: Django's way
            _plans[key] = None
        else:
            qn = connection.ops.quote_name
            head = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES "
            columns = [(f.attname, _as_is(f, connection.vendor), f) for f in fields]
            _plans[key] = (columns, head, "(" + ", ".join(["%s"] * len(fields)) + ")")
    return _plans[key]


def _values(columns: list[_Column], objs: list[models.Model], connection: Any) -> list[Any]:
    params = []
    for obj in objs:
        attrs = obj.__dict__
        for attname, types, f in columns:
            if types is not None:
                v = attrs.get(attname, _MISSING)
                if v is None or (type(v) in types and (types is not _DATETIME or v.tzinfo is not None)):
                    params.append(v)
                    continue
            params.append(f.get_db_prep_save(f.pre_save(obj, True), connection))
    return params


_DATETIME = _AS_IS[models.DateTimeField]


def _insert_sql(model: type[models.Model], objs: list[models.Model], using: str) -> tuple[str, list]:
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert_later")
    plan = _plan(model, using)
    if plan is not None:
        columns, head, row = plan
        params = _values(columns, objs, connections[using])
        if not any(hasattr(v, "resolve_expression") for v in params):
            return head + ", ".join([row] * len(objs)), params
    fields = [f for f in model._meta.local_concrete_fields if f is not model._meta.auto_field]
    query = InsertQuery(model)
    query.insert_values(fields, objs)
    [(sql, params)] = query.get_compiler(using=using).as_sql()
    return sql, list(params)
