"""Rows written together at the end of a service call (成批写入), and the engine's rows written otherwise.

A case step writes a handful of rows nobody reads back within the step: its timeline entry, its
audit row, its outbox notifications, a new clock. :func:`batched` opens the service's transaction
and collects such rows with :func:`insert_later`; when the block ends they are inserted together:
one multi-row ``INSERT`` per table, and on PostgreSQL the tables' statements joined into as few
statements as :data:`MAX_STATEMENT_PARAMS` allows (data-modifying ``WITH`` parts; a table with more
parameters than that keeps its own statement). Rows keep the order they were added in, per table.
Values of plain types go to the driver as they are; anything else (JSON, encrypted fields, naive
times, ``auto_now``) goes through the field's own ``get_db_prep_save``, as Django's INSERT would.

Nested ``batched`` blocks share the outermost batch but keep their own savepoint: when an inner
block fails, the rows it added are dropped with its savepoint, as if written and rolled back.
Outside any ``batched`` block :func:`insert_later` simply saves the row.

A block may also defer its **root** row (:meth:`Batch.root`: a new case) when the rows added after it
hang off it (their foreign key to it, or a column that names its id). On PostgreSQL the root and
everything hanging off it then go out as **one** statement — ``WITH r AS (INSERT … RETURNING id)``
and an ``INSERT … SELECT … FROM r`` per table — which needs no transaction of its own
(``batched(one_statement=True)``): a report is one round trip instead of five plus ``BEGIN`` and
``COMMIT``. When the root's unique value is taken nothing at all is written and the block says so
(:attr:`Batch.inserted`). Elsewhere (SQLite, or a row whose value is an SQL expression) the root is
inserted first and the rest after it, in one transaction.

Rows written without a service call use the same column plans: :func:`row_values` gives a bulk
writer (``COPY``) the values an INSERT would send, and :func:`select_list` lets a set-based
``INSERT … SELECT`` (the sweep) write rows built by their table's constructor. The engine's row
constructors make their rows with :func:`new_row` (a model instance without ``Model.__init__``'s
keyword handling, which would cost the bulk import more than building the rows' values).

What is remembered per process: per model, its columns and INSERT head, its relations, its fields'
defaults and whether its columns can be cast (bounded by the number of models); per statement shape (how many rows of
which tables hang off a root), the compiled statement, in an LRU cache of
:data:`TREE_CACHE_SIZE` shapes (:class:`LruCache`), so that a long import or a worker meeting new
shapes does not grow without end.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import connections, models, transaction
from django.db.models.base import ModelState
from django.db.models.sql import InsertQuery


class LruCache(OrderedDict[Hashable, Any]):
    """A dict that keeps at most ``size`` entries, forgetting the least recently used one: the caches
    keyed by a statement's shape (how many rows of which tables) may meet new keys for as long as the
    process lives (a long import, a worker), so they must not grow with it."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get(self, key: Hashable, default: Any = None) -> Any:  # type: ignore[override]
        found = super().get(key, _MISSING)
        if found is _MISSING:
            return default
        self.move_to_end(key)
        return found

    def put(self, key: Hashable, value: Any) -> Any:
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)
        return value


class Batch:
    """What a :func:`batched` block is given: its root row, when it defers one (see the module)."""

    def __init__(self, using: str, rows: list[models.Model], *, outermost: bool) -> None:
        self.using = using
        self.rows = rows  # shared with every block inside the outermost one
        self.outermost = outermost
        self.root_obj: models.Model | None = None
        self.unique = ""
        self.inserted = True

    @property
    def deferred(self) -> bool:
        """Whether the root row waits for the end of the block (else it was inserted at once)."""
        return self.outermost and self.root_obj is not None

    def root(self, obj: models.Model, *, unique: str) -> bool:
        """Insert ``obj`` (its ``unique`` column has a unique constraint; a taken value inserts
        nothing): deferred to the end of the block, with the rows that hang off it, when this is
        the outermost block; at once inside another block, whose caller may need the id now —
        then the answer is False when the value was taken."""
        self.root_obj, self.unique = obj, unique
        if not self.outermost:
            return insert_one(obj, self.using, unique=unique)
        return True

    def link_text(self, obj: models.Model, attname: str) -> models.Model:
        """Defer ``obj`` like :func:`insert_later`, its ``attname`` set to the root's id as text (an
        audit row's ``target_id``)."""
        if self.deferred:
            obj.__dict__[_TEXT_LINK] = attname
        elif self.root_obj is not None:
            setattr(obj, attname, str(self.root_obj.pk))
        else:
            raise ValueError("link_text() needs the block's root first")
        return insert_later(obj)

    def _write(self) -> None:
        if self.deferred:
            self.inserted = _insert_tree(self.root_obj, self.unique, self.rows, self.using)
        elif self.rows:
            insert_rows(self.rows, using=self.using)


_current: ContextVar[list[models.Model] | None] = ContextVar("civicgrid_batch", default=None)
_TEXT_LINK = "_batch_root_id_as_text"  # on a deferred row: its column that gets the root's id as text


def one_statement(using: str = "default") -> bool:
    """Whether a ``batched(one_statement=True)`` block here writes its rows as one statement outside
    any transaction (PostgreSQL, not inside another block nor a transaction): its caller need not
    open one either. Inside a caller's transaction the caller keeps its savepoint, so that a failed
    statement (a unique key taken meanwhile) leaves the transaction usable."""
    connection = connections[using]
    return connection.vendor == "postgresql" and _current.get() is None and not connection.in_atomic_block


@contextmanager
def batched(using: str = "default", *, savepoint: bool = True, one_statement: bool = False) -> Iterator[Batch]:
    """One transaction (or savepoint) whose deferred rows are inserted when it ends.

    Inside a caller's transaction the block is a savepoint: two more round trips. A hot service
    whose block cannot be refused once it starts (case creation skips a taken tracking code
    instead of failing on it) may pass ``savepoint=False``: any failure in it then spoils the
    caller's transaction, and Django refuses further queries in it until it is rolled back.

    ``one_statement=True`` promises that the block writes nothing but its deferred rows (a root and
    the rows hanging off it): on PostgreSQL, as the outermost block, it then opens no transaction
    at all — the one statement it ends with is atomic by itself.
    """
    rows = _current.get()
    if rows is not None:  # nested: the outermost block writes; ours only rolls its rows back
        mark = len(rows)
        try:
            with transaction.atomic(using=using, savepoint=savepoint):
                yield Batch(using, rows, outermost=False)
        except BaseException:
            del rows[mark:]
            raise
        return
    rows = []
    batch = Batch(using, rows, outermost=True)
    token = _current.set(rows)
    try:
        if one_statement and connections[using].vendor == "postgresql":
            yield batch
            if batch.deferred:  # one statement: atomic by itself
                with transaction.mark_for_rollback_on_error(using):
                    batch._write()
            else:  # no root after all: the rows may take several statements
                with transaction.atomic(using=using, savepoint=savepoint):
                    batch._write()
        else:
            with transaction.atomic(using=using, savepoint=savepoint):
                yield batch
                batch._write()
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


def _insert_tree(root: models.Model, unique: str, rows: list[models.Model], using: str) -> bool:
    """Insert ``root`` unless its ``unique`` value is taken, and with it ``rows`` — whose foreign keys
    to ``root`` (and columns marked by :meth:`Batch.link_text`) get its new id. False, with nothing
    written, when the value was taken."""
    connection = connections[using]
    links = [_links_to(obj, root) for obj in rows]
    if connection.vendor == "postgresql":
        tree = _tree_sql(root, unique, rows, links, using)
        if tree is not None:
            (sql, numbered), params = tree
            if connection.queries_logged:  # Django logs a statement by filling in its %s placeholders
                cursor = connection.cursor()
            else:
                cursor, sql = _raw_cursor(connection), numbered
            with cursor:
                cursor.execute(sql, params)
                found = cursor.fetchone()
            if found is None:
                return False
            _set_ids(root, found[0], rows, links, using)
            return True
    # elsewhere (or a row with an SQL expression): the root first, then the rest, in one transaction
    with transaction.atomic(using=using, savepoint=False):
        if not insert_one(root, using, unique=unique):
            return False
        _set_ids(root, root.pk, rows, links, using, written=False)
        if rows:
            insert_rows(rows, using=using)
    return True


def _raw_cursor(connection: Any) -> Any:
    """A Django cursor (errors translated) over a psycopg ``RawCursor``: the statement is sent with
    its own ``$n`` placeholders. psycopg converts ``%s``
    placeholders on every call for a statement of over 50 parameters (it caches the conversion only
    below that), and a tree has about a hundred."""
    from psycopg import RawCursor

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    return connection._prepare_cursor(RawCursor(connection.connection))


def _links_to(obj: models.Model, root: models.Model) -> tuple[str, ...]:
    """The attnames of ``obj``'s foreign keys that point at ``root`` (the object itself, unsaved)."""
    cache = obj._state.fields_cache
    return tuple(f.attname for f in _relations(type(obj)) if cache.get(f.name) is root and f.target_field.primary_key)


# The caches below keyed by a model (or a model and a database alias) are bounded by the number of
# models; those keyed by a shape are LRU caches (see LruCache).
_relation_fields: dict[type[models.Model], tuple[models.Field, ...]] = {}


def _relations(model: type[models.Model]) -> tuple[models.Field, ...]:
    found = _relation_fields.get(model)
    if found is None:
        found = _relation_fields[model] = tuple(f for f in model._meta.concrete_fields
                                                if f.is_relation and (f.many_to_one or f.one_to_one))
    return found


def _text_link(obj: models.Model) -> str:
    """The column of ``obj`` that :meth:`Batch.link_text` marked to get the root's id as text, or ""."""
    return obj.__dict__.get(_TEXT_LINK, "")


def _set_ids(root: models.Model, pk: int, rows: list[models.Model], links: list[tuple[str, ...]], using: str,
             *, written: bool = True) -> None:
    """Give the rows the root's new id; ``written``: the tree statement wrote them all (else
    :func:`insert_one` and :func:`insert_rows` mark what they write)."""
    if written:
        setattr(root, root._meta.auto_field.attname, pk)
        root._state.adding, root._state.db = False, using
    for obj, attnames in zip(rows, links, strict=True):
        for attname in attnames:
            setattr(obj, attname, pk)
        if text := _text_link(obj):
            setattr(obj, text, str(pk))
        if written:
            obj._state.adding, obj._state.db = False, using


# The statement of a tree, by its shape: the models in order, each with its rows' linked columns.
TREE_CACHE_SIZE = 256  # distinct statement shapes kept (a service writes a handful)
_trees = LruCache(TREE_CACHE_SIZE)  # shape → the statement with %s placeholders, and with $1, $2, …


def _tree_sql(root: models.Model, unique: str, rows: list[models.Model], links: list[tuple[str, ...]],
              using: str) -> tuple[tuple[str, str], list[Any]] | None:
    """``WITH r AS (INSERT root … ON CONFLICT (unique) DO NOTHING RETURNING id), wN AS (INSERT INTO
    t (…) SELECT …, r.id, … FROM r [UNION ALL …]) SELECT id FROM r``: every row is written only when
    the root is (each one selects from ``r``), its links to the root read ``r.id``, and each of its
    parameters is cast to its column's type (a SELECT list does not take the column's type as
    VALUES does). None when a row needs Django's own compiler (an expression, a field with its own
    placeholder)."""
    connection = connections[using]
    root_model = type(root)
    root._prepare_related_fields_for_save(operation_name="insert")
    root_plan = _plan(root_model, using)
    if root_plan is None:
        return None
    groups: dict[type[models.Model], list[int]] = {}
    for i, obj in enumerate(rows):
        groups.setdefault(type(obj), []).append(i)
    params = _values(root_plan[0], [root], connection)
    shape: list[Any] = [using, root_model, unique]
    for model, idx in groups.items():
        plan = _plan(model, using)
        if plan is None or not _castable(model, plan[0], connection):
            return None
        for i in idx:
            obj = rows[i]
            text = _text_link(obj)
            _prepare_except(obj, links[i])
            shape.append((model, links[i], text))
            values = _values(plan[0], [obj], connection)
            params.extend([values[k] for k in _kept(model, plan[0], links[i], text)])
        shape.append(None)  # the end of a table's rows
    if any(hasattr(v, "resolve_expression") for v in params):
        return None
    key = tuple(shape)
    sql = _trees.get(key)
    if sql is None:
        sql = _trees.put(key, _tree_statement(root_model, unique, groups, rows, links, using))
    return sql, params


_castable_models: dict[tuple[type[models.Model], str], bool] = {}


def _castable(model: type[models.Model], columns: list[_Column], connection: Any) -> bool:
    key = (model, connection.alias)
    found = _castable_models.get(key)
    if found is None:
        found = _castable_models[key] = all(_cast_type(f, connection) for _a, _t, f in columns)
    return found


_kept_columns = LruCache(1024)  # (model, links, text link) → positions


def _kept(model: type[models.Model], columns: list[_Column], links: tuple[str, ...], text: str) -> list[int]:
    """The positions of the columns a row sends as parameters (its links to the root are read from it)."""
    key = (model, links, text)
    found = _kept_columns.get(key)
    if found is None:
        found = _kept_columns.put(key, [k for k, (attname, _t, _f) in enumerate(columns)
                                        if attname not in links and attname != text])
    return found


def _prepare_except(obj: models.Model, linked: tuple[str, ...]) -> None:
    """Django's check of a row's related objects before it is saved (a related object saved since it
    was assigned gives its id; an unsaved one is refused), but for those linked to the root: it gets
    its id in the same statement."""
    cache = obj._state.fields_cache
    for f in _relations(type(obj)):
        related = cache.get(f.name)
        if related is not None and f.attname not in linked and getattr(obj, f.attname) is None:
            if related.pk is None:
                raise ValueError(f"save() prohibited to prevent data loss due to unsaved related object "
                                 f"'{f.name}'.")
            setattr(obj, f.attname, related.pk)


_LENGTH = re.compile(r"^(varchar|char|character varying|character|bit varying|bit)\(\d+\)")


def _cast_type(field: models.Field, connection: Any) -> str | None:
    """The type a parameter is cast to in a SELECT list: the column's, without a length (a cast to
    ``varchar(n)`` or ``char(n)`` would cut a longer text silently, where the INSERT refuses it).
    None when the field has no database type Django can name."""
    cast = field.cast_db_type(connection)
    return _LENGTH.sub(r"\1", cast) if cast else None


def _tree_statement(root_model: type[models.Model], unique: str, groups: dict[type[models.Model], list[int]],
                    rows: list[models.Model], links: list[tuple[str, ...]], using: str) -> tuple[str, str]:
    connection = connections[using]
    qn = connection.ops.quote_name
    _columns, head, row = _plan(root_model, using)  # type: ignore[misc]
    pk = qn(root_model._meta.auto_field.column)
    parts = [f"r AS ({head}{row} ON CONFLICT ({qn(root_model._meta.get_field(unique).column)}) DO NOTHING "
             f"RETURNING {pk})"]
    for n, (model, idx) in enumerate(groups.items()):
        cols, _head, _row = _plan(model, using)  # type: ignore[misc]
        selects = []
        for i in idx:
            text = _text_link(rows[i])
            items = [f"r.{pk}" if attname in links[i] else f"r.{pk}::text" if attname == text
                     else f"%s::{_cast_type(f, connection)}" for attname, _t, f in cols]
            selects.append(f"SELECT {', '.join(items)} FROM r")
        names = ", ".join(qn(f.column) for _a, _t, f in cols)
        parts.append(f"w{n} AS (INSERT INTO {qn(model._meta.db_table)} ({names}) {' UNION ALL '.join(selects)})")
    sql = "WITH " + ", ".join(parts) + f" SELECT {pk} FROM r"
    numbers = iter(range(1, sql.count("%s") + 1))  # the only "%" in it: names are quoted identifiers
    return sql, re.sub("%s", lambda _m: f"${next(numbers)}", sql)


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
    rows of a case step, through the same compiled statement as :func:`insert_rows` plus
    ``RETURNING`` (no signals are sent; none of these models has receivers). Where the database
    cannot return the id this is ``obj.save(force_insert=True)`` itself.

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


def row_values(objs: list[models.Model], using: str = "default") -> tuple[list[str], list[tuple[Any, ...]]]:
    """The columns an INSERT of ``objs`` (rows of one model, as its table's constructor built them)
    writes, and each row's values in the form the database takes them: what :func:`insert_rows`
    would send, for a caller that writes them otherwise (``COPY``). Foreign keys are read from their
    ``…_id`` attributes (no related object is checked)."""
    model = type(objs[0])
    connection = connections[using]
    plan = _plan(model, using)
    if plan is None:
        fields = [f for f in model._meta.local_concrete_fields if f is not model._meta.auto_field]
        return [str(f.column) for f in fields], [tuple(f.get_db_prep_save(f.pre_save(obj, True), connection)
                                                       for f in fields) for obj in objs]
    columns = plan[0]
    n = len(columns)
    flat = _values(columns, objs, connection)
    return [str(f.column) for _a, _t, f in columns], [tuple(flat[i:i + n]) for i in range(0, len(flat), n)]


def select_list(obj: models.Model, exprs: dict[str, str], params: dict[str, Any], prefix: str,
                using: str = "default") -> tuple[str, str]:
    """``(columns, select list)`` of an ``INSERT INTO <table> (columns) SELECT <select list> FROM …``
    that writes rows like ``obj`` (a row built by its table's constructor) set-based: each column
    whose attname is in ``exprs`` takes that SQL expression (the case id from the query, a text built
    in SQL), every other column ``obj``'s own value, as a named parameter ``%(<prefix><column>)s``
    added to ``params`` (cast to the column's type on PostgreSQL, where a SELECT list does not take
    the type of the column it fills)."""
    model = type(obj)
    connection = connections[using]
    qn = connection.ops.quote_name
    fields = [f for f in model._meta.local_concrete_fields if f is not model._meta.auto_field]
    unknown = set(exprs) - {f.attname for f in fields}
    if unknown:
        raise ValueError(f"{model._meta.label} has no column {', '.join(sorted(unknown))}")
    items = []
    for f in fields:
        if f.attname in exprs:
            items.append(exprs[f.attname])
            continue
        key = f"{prefix}{f.column}"
        params[key] = f.get_db_prep_save(f.pre_save(obj, True), connection)
        cast = _cast_type(f, connection) if connection.vendor == "postgresql" else None
        items.append(f"%({key})s::{cast}" if cast else f"%({key})s")
    return ", ".join(qn(str(f.column)) for f in fields), ", ".join(items)


_defaults: dict[type[models.Model], list[tuple[str, Any]]] = {}  # per model: (attname, default factory)
M = TypeVar("M", bound=models.Model)


def new_row(model: type[M], attrs: dict[str, Any]) -> M:
    """An unsaved ``model`` row with ``attrs`` (by attname: ``case_id``, not ``case``) and every other
    concrete field at its default: what ``model(**attrs)`` gives, made without ``Model.__init__``,
    whose keyword handling costs about ten times a dict update (the bulk import builds millions of
    rows). No ``pre_init``/``post_init`` signal is sent: the engine's row models have no receivers.
    Set related objects afterwards through their descriptors when the caller has them."""
    plan = _defaults.get(model)
    if plan is None:
        plan = _defaults[model] = [(f.attname, f._get_default)  # type: ignore[attr-defined]
                                   for f in model._meta.concrete_fields]
    obj = model.__new__(model)
    obj._state = ModelState()
    values = obj.__dict__
    for attname, default in plan:
        if attname not in attrs:
            values[attname] = default()
    values.update(attrs)
    return obj
