"""Writes for the taxonomy: categories, deadline rules, 12345 request types, the dispatch catalogue
(派单目录), the category-tree import and the default catalogue seed.

Every write runs in a transaction that also appends its audit row(s). Who may call these is the
caller's business (the admin checks Django permissions; the CLI runs as the operator).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import ProtectedError, Q
from django.utils.translation import gettext as _

from civicgrid.audit.models import AuditEntry
from civicgrid.audit.services import audit_bulk, audit_entry, audit_record, changed, snapshot
from civicgrid.core.refcache import reference_changed
from civicgrid.geo.models import LEVELS, Region
from civicgrid.org.models import Department
from civicgrid.taxonomy.models import (
    KIND_PREFIX,
    Category,
    CategoryKind,
    DeadlineRule,
    DispatchRule,
    RequestType,
    TimeUnit,
)
from civicgrid.taxonomy.selectors import catalogue_data

NAME_MAX = Category._meta.get_field("name").max_length or 100
CODE_MAX = Category._meta.get_field("code").max_length or 32
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
CODE_HEADER_SUFFIXES = ("编码", "代码", "code")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")

_CATEGORY_FIELDS = ("code", "name", "parent", "depth", "path", "kind", "is_active", "sort")
_RULE_FIELDS = ("category", "condition", "limit", "unit", "closing_condition", "is_default")
_DISPATCH_FIELDS = ("category", "region_level", "region", "department", "department_function", "note",
                    "is_active")
_REQUEST_TYPE_FIELDS = ("code", "name", "answer_directly", "limit", "unit", "is_active", "sort")


def _clean_name(name: str) -> str:
    name = (name or "").replace("\u3000", " ").strip()
    if not name:
        raise ValidationError({"name": _("A name is required.")})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": _("A name is at most %(max)d characters.") % {"max": NAME_MAX}})
    return name


# ---------------------------------------------------------------------------------------------
# codes


class _CodeAllocator:
    """Hands out hierarchical codes: the parent's code (or the kind's letter for a root) plus two
    digits, one more than the highest two-digit child code already taken (01–99)."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = taken
        self.highest: dict[str, int] = {}
        for code in taken:
            if len(code) >= 3 and code[-2:].isdigit():
                prefix = code[:-2]
                self.highest[prefix] = max(self.highest.get(prefix, 0), int(code[-2:]))

    def peek(self, prefix: str) -> str | None:
        n = self.highest.get(prefix, 0) + 1
        while n <= 99 and f"{prefix}{n:02d}" in self.taken:
            n += 1
        return f"{prefix}{n:02d}" if n <= 99 else None

    def take(self, code: str) -> None:
        self.taken.add(code)
        if len(code) >= 3 and code[-2:].isdigit():
            prefix = code[:-2]
            self.highest[prefix] = max(self.highest.get(prefix, 0), int(code[-2:]))


def _code_prefix(parent: Category | None, kind: str) -> str:
    return parent.code if parent is not None else KIND_PREFIX[kind]


def category_code_next(*, parent: Category | None, kind: str) -> str:
    """The next generated code under ``parent`` (or among the roots of ``kind``).

    Scheme: the kind's letter (C 部件, E 事件, R 诉求) for the roots, then two digits per level
    appended to the parent's code: ``R01`` → ``R0101`` → ``R010101``.
    """
    prefix = _code_prefix(parent, kind)
    taken = set(Category.objects.filter(code__regex=rf"^{re.escape(prefix)}[0-9][0-9]$")
                .values_list("code", flat=True))
    code = _CodeAllocator(taken).peek(prefix)
    if code is None:
        raise ValidationError({"code": _("%(prefix)s already has 99 numbered children: give a code.")
                               % {"prefix": prefix}})
    if len(code) > CODE_MAX:
        raise ValidationError({"code": _("The generated code would be longer than %(max)d characters: "
                                         "give a code.") % {"max": CODE_MAX}})
    return code


# ---------------------------------------------------------------------------------------------
# categories


def category_create(*, actor: Any, name: str, parent: Category | None = None, kind: str | None = None,
                    code: str = "", sort: int | None = None, is_active: bool = True) -> Category:
    """Create a category under ``parent`` (a root when None; a root needs its ``kind``).

    A child has its parent's kind. Without ``code`` the next hierarchical code is generated
    (see :func:`category_code_next`); without ``sort`` it goes after its siblings.
    """
    name = _clean_name(name)
    if parent is not None:
        if kind and kind != parent.kind:
            raise ValidationError({"kind": _("A category has the kind of its parent.")})
        kind = parent.kind
    if not kind or kind not in CategoryKind.values:
        raise ValidationError({"kind": _("A top-level category needs a kind.")})
    with transaction.atomic():
        code = (code or "").strip() or category_code_next(parent=parent, kind=kind)
        if sort is None:
            siblings = Category.objects.filter(parent=parent) if parent else Category.objects.filter(
                parent__isnull=True, kind=kind)
            sort = 1 + max(siblings.values_list("sort", flat=True), default=0)
        category = Category(code=code, name=name, parent=parent, kind=kind, sort=sort, is_active=is_active,
                            depth=parent.depth + 1 if parent else 1,
                            path=parent.children_path if parent else "/")
        category.full_clean()
        category.save()
        audit_record(actor=actor, action="taxonomy.category.create", target=category,
                     after=snapshot(category, _CATEGORY_FIELDS))
    return category


def category_update(*, actor: Any, category: Category, **fields: Any) -> Category:
    """Change ``name``, ``code``, ``sort``, ``is_active`` or ``parent`` of a category.

    Moving a category (a new ``parent``) moves its subtree: depths and ancestor paths below are
    rewritten in the same transaction. Codes below are not renumbered. A category cannot move
    into its own subtree or into another kind's tree.
    """
    allowed = {"name", "code", "sort", "is_active", "parent"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({k: _("This field cannot be changed here.") for k in sorted(unknown)})
    with transaction.atomic():
        category = Category.objects.select_for_update().get(pk=category.pk)
        before = snapshot(category, _CATEGORY_FIELDS)
        old_children_path = category.children_path
        moved = False
        if "name" in fields:
            category.name = _clean_name(fields["name"])
        if "code" in fields:
            category.code = (fields["code"] or "").strip()
        if "sort" in fields:
            category.sort = fields["sort"]
        if "is_active" in fields:
            category.is_active = bool(fields["is_active"])
        if "parent" in fields and (fields["parent"].pk if fields["parent"] else None) != category.parent_id:
            parent: Category | None = fields["parent"]
            if parent is not None:
                parent = Category.objects.get(pk=parent.pk)
                if parent.pk == category.pk or parent.children_path.startswith(old_children_path):
                    raise ValidationError({"parent": _("A category cannot move below itself.")})
                if parent.kind != category.kind:
                    raise ValidationError({"parent": _("A category cannot move into another kind's tree.")})
            category.parent = parent
            category.depth = parent.depth + 1 if parent else 1
            category.path = parent.children_path if parent else "/"
            moved = True
        category.full_clean()
        category.save()
        if moved:
            _rewrite_subtree(old_children_path, category)
        after = snapshot(category, _CATEGORY_FIELDS)
        audit_record(actor=actor, action="taxonomy.category.update", target=category, before=before,
                     after=changed(before, after))
    return category


def _rewrite_subtree(old_children_path: str, category: Category) -> None:
    """After a move, give every descendant its new ancestor path and depth."""
    descendants = list(Category.objects.filter(path__startswith=old_children_path))
    new_prefix = category.children_path
    for d in descendants:
        d.path = new_prefix + d.path[len(old_children_path):]
        d.depth = len(d.ancestor_ids) + 1
    Category.objects.bulk_update(descendants, ["path", "depth"], batch_size=500)


def category_deactivate(*, actor: Any, category: Category) -> int:
    """Deactivate (停用) a category and everything below it; returns how many were deactivated.

    Inactive categories are not offered at intake but stay on the cases that use them.
    """
    with transaction.atomic():
        subtree = Q(pk=category.pk) | Q(path__startswith=category.children_path)
        nodes = list(Category.objects.select_for_update().filter(subtree, is_active=True))
        if not nodes:
            return 0
        Category.objects.filter(pk__in=[n.pk for n in nodes]).update(is_active=False)
        audit_record(actor=actor, action="taxonomy.category.deactivate", target=category,
                     before={"is_active": True}, after={"is_active": False},
                     extra={"categories": [n.code for n in nodes]})
    category.is_active = False
    reference_changed()  # a bulk update sends no signal: the cached look-ups forget the subtree
    return len(nodes)


def _delete_audited(*, actor: Any, obj: models.Model, fields: tuple[str, ...], action: str) -> None:
    """Delete one catalogue row and audit it with its last state; a row still referenced elsewhere
    is refused with a message saying to deactivate it instead. Call inside a transaction."""
    before = snapshot(obj, fields)
    target_type, target_id, target_repr = obj._meta.label_lower, obj.pk, str(obj)
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError:
        raise ValidationError(_("%(name)s is in use: deactivate it instead.") % {"name": target_repr}) from None
    audit_record(actor=actor, action=action, target_type=target_type, target_id=target_id,
                 target_repr=target_repr, before=before)


def category_delete(*, actor: Any, category: Category) -> None:
    """Delete a category that has no children and is used nowhere; otherwise deactivate it."""
    with transaction.atomic():
        if Category.objects.filter(parent=category).exists():
            raise ValidationError(_("%(category)s has sub-categories: deactivate it instead.")
                                  % {"category": category})
        _delete_audited(actor=actor, obj=category, fields=_CATEGORY_FIELDS, action="taxonomy.category.delete")


# ---------------------------------------------------------------------------------------------
# deadline rules


def _check_limit(limit: Any, unit: str) -> None:
    if not isinstance(limit, int) or limit <= 0:
        raise ValidationError({"limit": _("A time limit is a whole number above zero.")})
    if unit not in TimeUnit.values:
        raise ValidationError({"unit": _("Unknown time unit %(unit)s.") % {"unit": unit}})


def _clear_other_defaults(rule: DeadlineRule, actor: Any) -> None:
    others = DeadlineRule.objects.filter(category_id=rule.category_id, is_default=True).exclude(pk=rule.pk)
    for other in others:
        other.is_default = False
        other.save(update_fields=["is_default"])
        audit_record(actor=actor, action="taxonomy.deadline_rule.update", target=other,
                     before={"is_default": True}, after={"is_default": False})


def deadline_rule_create(*, actor: Any, category: Category, condition: str, limit: int, unit: str,
                         closing_condition: str = "", is_default: bool = False) -> DeadlineRule:
    """Add a filing condition with its time limit to a category; a new default replaces the old one."""
    _check_limit(limit, unit)
    rule = DeadlineRule(category=category, condition=(condition or "").strip(), limit=limit, unit=unit,
                        closing_condition=(closing_condition or "").strip(), is_default=is_default)
    rule.full_clean()
    with transaction.atomic():
        if not DeadlineRule.objects.filter(category=category).exists():
            rule.is_default = True  # the only rule of a category is its default
        rule.save()
        if rule.is_default:
            _clear_other_defaults(rule, actor)
        audit_record(actor=actor, action="taxonomy.deadline_rule.create", target=rule,
                     after=snapshot(rule, _RULE_FIELDS))
    return rule


def deadline_rule_update(*, actor: Any, rule: DeadlineRule, **fields: Any) -> DeadlineRule:
    """Change ``condition``, ``limit``, ``unit``, ``closing_condition`` or ``is_default`` of a rule."""
    allowed = {"condition", "limit", "unit", "closing_condition", "is_default"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({k: _("This field cannot be changed here.") for k in sorted(unknown)})
    with transaction.atomic():
        rule = DeadlineRule.objects.select_for_update().get(pk=rule.pk)
        before = snapshot(rule, _RULE_FIELDS)
        for k, v in fields.items():
            setattr(rule, k, v.strip() if isinstance(v, str) and k != "unit" else v)
        _check_limit(rule.limit, rule.unit)
        rule.full_clean()
        rule.save()
        if rule.is_default:
            _clear_other_defaults(rule, actor)
        after = snapshot(rule, _RULE_FIELDS)
        audit_record(actor=actor, action="taxonomy.deadline_rule.update", target=rule, before=before,
                     after=changed(before, after))
    return rule


def deadline_rule_delete(*, actor: Any, rule: DeadlineRule) -> None:
    with transaction.atomic():
        _delete_audited(actor=actor, obj=rule, fields=_RULE_FIELDS, action="taxonomy.deadline_rule.delete")


# ---------------------------------------------------------------------------------------------
# 12345 request types


def request_type_create(*, actor: Any, code: str, name: str, limit: int, unit: str = TimeUnit.WORKING_DAYS,
                        answer_directly: bool = False, sort: int = 0, is_active: bool = True) -> RequestType:
    """Add a 12345 request type (诉求类型) with its default time limit."""
    _check_limit(limit, unit)
    rt = RequestType(code=(code or "").strip(), name=(name or "").strip(), limit=limit, unit=unit,
                     answer_directly=answer_directly, sort=sort, is_active=is_active)
    rt.full_clean()
    with transaction.atomic():
        rt.save()
        audit_record(actor=actor, action="taxonomy.request_type.create", target=rt,
                     after=snapshot(rt, _REQUEST_TYPE_FIELDS))
    return rt


def request_type_update(*, actor: Any, request_type: RequestType, **fields: Any) -> RequestType:
    """Change a request type; ``is_active=False`` deactivates (停用) it."""
    allowed = {"code", "name", "limit", "unit", "answer_directly", "sort", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({k: _("This field cannot be changed here.") for k in sorted(unknown)})
    with transaction.atomic():
        rt = RequestType.objects.select_for_update().get(pk=request_type.pk)
        before = snapshot(rt, _REQUEST_TYPE_FIELDS)
        for k, v in fields.items():
            setattr(rt, k, v.strip() if isinstance(v, str) and k in ("code", "name") else v)
        _check_limit(rt.limit, rt.unit)
        rt.full_clean()
        rt.save()
        after = snapshot(rt, _REQUEST_TYPE_FIELDS)
        audit_record(actor=actor, action="taxonomy.request_type.update", target=rt, before=before,
                     after=changed(before, after))
    return rt


def request_type_delete(*, actor: Any, request_type: RequestType) -> None:
    with transaction.atomic():
        _delete_audited(actor=actor, obj=request_type, fields=_REQUEST_TYPE_FIELDS,
                        action="taxonomy.request_type.delete")


# ---------------------------------------------------------------------------------------------
# the dispatch catalogue (派单目录)


def dispatch_rule_set(*, actor: Any, category: Category, region_level: str, region: Region | None = None,
                      department: Department | None = None, department_function: str = "", note: str = "",
                      is_active: bool = True, rule: DispatchRule | None = None) -> DispatchRule:
    """Add or change a line of the dispatch catalogue: ``category`` (× ``region``) → a department.

    Name either a fixed ``department`` or a ``department_function`` (resolved at dispatch time to
    the department of that function serving the case's region at ``region_level``). Without
    ``rule``, the active line of the same category and area (``region`` None = the general line)
    is changed if there is one, else a line is added; with ``rule``, that line is changed.
    """
    department_function = (department_function or "").strip()
    if region_level not in LEVELS:
        raise ValidationError({"region_level": _("Unknown level %(level)s.") % {"level": region_level}})
    if (department is None) == (not department_function):
        raise ValidationError({"department": _("Name either a department or a department function.")})
    with transaction.atomic():
        if rule is not None:
            rule = DispatchRule.objects.select_for_update().get(pk=rule.pk)
        else:
            rule = (DispatchRule.objects.select_for_update()
                    .filter(category=category, region=region, is_active=True).first())
        created = rule is None
        if rule is None:
            rule = DispatchRule()
        before = None if created else snapshot(rule, _DISPATCH_FIELDS)
        rule.category, rule.region_level, rule.region = category, region_level, region
        rule.department, rule.department_function = department, department_function
        rule.note, rule.is_active = (note or "").strip(), is_active
        rule.full_clean()
        rule.save()
        after = snapshot(rule, _DISPATCH_FIELDS)
        if created:
            audit_record(actor=actor, action="taxonomy.dispatch_rule.create", target=rule, after=after)
        else:
            audit_record(actor=actor, action="taxonomy.dispatch_rule.update", target=rule, before=before,
                         after=changed(before, after))
    return rule


def dispatch_rule_deactivate(*, actor: Any, rule: DispatchRule) -> DispatchRule:
    """Deactivate (停用) a catalogue line: dispatch falls back to the general line or the parent class."""
    with transaction.atomic():
        rule = DispatchRule.objects.select_for_update().get(pk=rule.pk)
        if rule.is_active:
            rule.is_active = False
            rule.save(update_fields=["is_active"])
            audit_record(actor=actor, action="taxonomy.dispatch_rule.deactivate", target=rule,
                         before={"is_active": True}, after={"is_active": False})
    return rule


def dispatch_rule_delete(*, actor: Any, rule: DispatchRule) -> None:
    with transaction.atomic():
        _delete_audited(actor=actor, obj=rule, fields=_DISPATCH_FIELDS, action="taxonomy.dispatch_rule.delete")


# ---------------------------------------------------------------------------------------------
# importing a category tree from a table (CSV, or .xlsx when openpyxl is installed)


class CategoryImportError(ValueError):
    """The file as a whole cannot be imported (unreadable, unknown encoding, no usable header)."""


@dataclass
class RowRejection:
    line: int  # 1-based line of the file; the header is line 1
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class LevelCount:
    created: int = 0  # categories this import creates (creates, when dry)
    existing: int = 0  # categories the file names that were already there


@dataclass
class PlannedCategory:
    key: tuple[str, ...]  # names from the root down
    code: str
    line: int
    sort: int
    category: Category | None = None  # set once written

    @property
    def name(self) -> str:
        return self.key[-1]

    @property
    def depth(self) -> int:
        return len(self.key)


@dataclass
class CategoryImportReport:
    """What an import did (or, dry, would do): counts per level and every rejected row."""

    source: str
    kind: str
    encoding: str = ""
    levels: list[str] = field(default_factory=list)
    rows: int = 0  # data rows read, blank lines excluded
    blank: int = 0
    duplicates: int = 0  # rows naming a category an earlier row already named ("already present")
    rejected: list[RowRejection] = field(default_factory=list)
    counts: dict[int, LevelCount] = field(default_factory=dict)
    planned: list[PlannedCategory] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.rejected

    @property
    def created(self) -> int:
        return sum(c.created for c in self.counts.values())

    @property
    def existing(self) -> int:
        return sum(c.existing for c in self.counts.values())


@dataclass
class _Table:
    rows: list[tuple[int, list[str]]]  # (line, cells), header first
    encoding: str


def _decode(raw: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise CategoryImportError(_("Unknown encoding %(enc)s.") % {"enc": encoding}) from None
        try:
            return raw.decode(encoding).lstrip("\ufeff"), encoding
        except UnicodeDecodeError as exc:
            raise CategoryImportError(_("The file cannot be read as %(enc)s (bad byte at offset %(at)d).")
                                      % {"enc": encoding, "at": exc.start}) from None
    boms = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    for bom, enc in boms:
        if raw.startswith(bom):
            try:
                return raw.decode(enc).lstrip("\ufeff"), enc
            except UnicodeDecodeError:
                raise CategoryImportError(_("The file starts like %(enc)s but is not valid %(enc)s.")
                                          % {"enc": enc}) from None
    if b"\x00" in raw[:4096]:
        raise CategoryImportError(_("This does not look like a CSV text file."))
    # UTF-8 is strict enough that Chinese GBK text almost never passes as UTF-8 by accident.
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise CategoryImportError(_("The file is neither UTF-8 nor GBK/GB18030: name its encoding."))


def _read_csv(raw: bytes, encoding: str | None) -> _Table:
    text, used = _decode(raw, encoding)
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    last = 0
    try:
        for cells in reader:
            rows.append((last + 1, cells))
            last = reader.line_num
    except csv.Error as exc:
        raise CategoryImportError(_("Line %(line)d is not valid CSV: %(error)s")
                                  % {"line": last + 1, "error": exc}) from None
    return _Table(rows=rows, encoding=used)


def _excel_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(path: Path) -> _Table:
    try:
        import openpyxl  # optional: only when someone imports an Excel file
    except ImportError:
        raise CategoryImportError(_("Reading Excel files needs the openpyxl package, which is not installed: "
                                    "save the sheet as CSV (UTF-8) or install openpyxl.")) from None
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise CategoryImportError(_("%(file)s cannot be read as an Excel workbook: %(error)s")
                                  % {"file": path.name, "error": exc}) from None
    try:
        sheet = workbook.worksheets[0]
        rows = [(i, [_excel_cell(v) for v in values]) for i, values in
                enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()
    return _Table(rows=rows, encoding="xlsx")


def _read_table(path: Path, encoding: str | None) -> _Table:
    if not path.is_file():
        raise CategoryImportError(_("No such file: %(path)s") % {"path": path})
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return _read_xlsx(path)
    if suffix == ".xls":
        raise CategoryImportError(_("Old .xls workbooks are not supported: save the sheet as .xlsx or CSV."))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CategoryImportError(_("Cannot read %(path)s: %(error)s")
                                  % {"path": path, "error": exc}) from None
    return _read_csv(raw, encoding)


def _clean_cell(value: str) -> str:
    return (value or "").replace("\u3000", " ").strip()


def _is_code_header(name: str) -> bool:
    folded = name.casefold()
    return any(folded.endswith(s.casefold()) for s in CODE_HEADER_SUFFIXES)


MAX_LEVELS = 5  # 大类/中类/小类 and two more at most: a wider table is not a category tree


def _columns(header: list[str], levels: Sequence[str] | None) -> tuple[list[int], list[int]]:
    """Indexes of the level columns and of their code columns (empty when the file has no codes)."""
    names = [_clean_cell(h) for h in header]
    code_cols = [i for i, h in enumerate(names) if h and _is_code_header(h)]
    if levels:
        level_cols = []
        for wanted in levels:
            if wanted not in names:
                raise CategoryImportError(_("Column %(col)s is not in the header (%(header)s).")
                                          % {"col": wanted, "header": ", ".join(n for n in names if n)})
            level_cols.append(names.index(wanted))
    else:
        level_cols = [i for i, h in enumerate(names) if h and i not in code_cols]
        if len(level_cols) > MAX_LEVELS:
            raise CategoryImportError(
                _("The header has %(n)d columns (%(header)s): a category tree has one column per level, at most "
                  "%(max)d. Is this the right file? Name the level columns with --levels.")
                % {"n": len(level_cols), "header": ", ".join(names[i] for i in level_cols[:8]), "max": MAX_LEVELS})
    if not level_cols:
        raise CategoryImportError(_("The header names no level column (e.g. 一级分类,二级分类,三级分类)."))
    if code_cols and len(code_cols) != len(level_cols):
        raise CategoryImportError(_("The header has %(codes)d code columns for %(levels)d levels: give one "
                                    "code column per level or none.")
                                  % {"codes": len(code_cols), "levels": len(level_cols)})
    return level_cols, code_cols


def _existing_tree(kind: str) -> tuple[dict[tuple[str, ...], Category], dict[tuple[str, ...], int]]:
    """The categories of ``kind`` keyed by their names from the root, and each parent's highest sort."""
    by_id = {c.pk: c for c in Category.objects.filter(kind=kind)}
    keys: dict[int, tuple[str, ...]] = {}

    def key_of(c: Category) -> tuple[str, ...]:
        if c.pk not in keys:
            parent = by_id.get(c.parent_id) if c.parent_id else None
            keys[c.pk] = (key_of(parent) if parent else ()) + (c.name,)
        return keys[c.pk]

    nodes = {key_of(c): c for c in by_id.values()}
    top_sort: dict[tuple[str, ...], int] = {}
    for key, c in nodes.items():
        top_sort[key[:-1]] = max(top_sort.get(key[:-1], 0), c.sort)
    return nodes, top_sort


def _plan(table: _Table, *, source: str, kind: str, levels: Sequence[str] | None) -> CategoryImportReport:
    report = CategoryImportReport(source=source, kind=kind, encoding=table.encoding)
    if not table.rows:
        raise CategoryImportError(_("The file is empty."))
    header = table.rows[0][1]
    level_cols, code_cols = _columns(header, levels)
    report.levels = [_clean_cell(header[i]) for i in level_cols]
    report.counts = {d: LevelCount() for d in range(1, len(level_cols) + 1)}
    headed = {i for i, h in enumerate(header) if _clean_cell(h)}

    existing, top_sort = _existing_tree(kind)
    all_codes = dict(Category.objects.values_list("code", "name"))
    allocator = _CodeAllocator(set(all_codes))
    # Reserve every code the file gives so generated codes never take one a later row needs.
    for _line, cells in table.rows[1:]:
        for i in code_cols:
            code = _clean_cell(cells[i]) if i < len(cells) else ""
            if code:
                allocator.taken.add(code)
    planned: dict[tuple[str, ...], PlannedCategory] = {}
    planned_codes: dict[str, tuple[str, ...]] = {}
    named: set[tuple[str, ...]] = set()  # keys named by accepted rows
    existing_seen: set[int] = set()
    inactive_seen: set[str] = set()
    root_prefix = KIND_PREFIX[kind]

    def reject(line: int, reason: str) -> None:
        report.rejected.append(RowRejection(line=line, reason=reason))

    for line, raw_cells in table.rows[1:]:
        cells = [_clean_cell(c) for c in raw_cells]
        if not any(cells):
            report.blank += 1
            continue
        report.rows += 1
        stray = [i for i, c in enumerate(cells) if c and i not in headed]
        if stray:
            reject(line, _("column %(col)d has a value but no header") % {"col": stray[0] + 1})
            continue
        names = [cells[i] if i < len(cells) else "" for i in level_cols]
        codes = [cells[i] if i < len(cells) else "" for i in code_cols] or [""] * len(names)
        filled = [i for i, n in enumerate(names) if n]
        if not filled:
            reject(line, _("codes without any name"))
            continue
        last = filled[-1]
        gap = next((i for i in range(last) if not names[i]), None)
        if gap is not None:
            reject(line, _("%(empty)s (level %(n)d) is empty but %(filled)s (level %(m)d) is filled")
                   % {"empty": report.levels[gap], "n": gap + 1,
                      "filled": report.levels[last], "m": last + 1})
            continue
        too_long = next((i for i in range(last + 1) if len(names[i]) > NAME_MAX), None)
        if too_long is not None:
            reject(line, _("the name at level %(n)d is %(len)d characters long (at most %(max)d)")
                   % {"n": too_long + 1, "len": len(names[too_long]), "max": NAME_MAX})
            continue
        orphan = next((i for i in range(last + 1, len(codes)) if codes[i]), None)
        if orphan is not None:
            reject(line, _("a code at level %(n)d without a name") % {"n": orphan + 1})
            continue
        bad_code = next((c for c in codes[: last + 1]
                         if c and (len(c) > CODE_MAX or not CODE_RE.match(c))), None)
        if bad_code is not None:
            reject(line, _("%(code)s is not a valid code (letters, digits, . _ -; at most %(max)d "
                           "characters)") % {"code": bad_code, "max": CODE_MAX})
            continue

        # Walk the path: what exists, what this row would add (committed to the plan only if all is well).
        new: list[PlannedCategory] = []
        row_codes: dict[str, tuple[str, ...]] = {}
        problem = ""
        parent_code = root_prefix
        for d in range(1, last + 2):
            key = tuple(names[:d])
            given = codes[d - 1]
            node_code = None
            if key in existing:
                node_code = existing[key].code
            elif key in planned:
                node_code = planned[key].code
            if node_code is not None:
                if given and given != node_code:
                    problem = _("%(name)s already has code %(old)s, the file says %(new)s") % {
                        "name": "/".join(key), "old": node_code, "new": given}
                    break
                parent_code = node_code
                continue
            if given:
                owner = planned_codes.get(given) or row_codes.get(given)
                if owner is not None or given in all_codes:
                    problem = _("code %(code)s is already used by %(other)s") % {
                        "code": given, "other": "/".join(owner) if owner else all_codes[given]}
                    break
                code = given
            else:
                generated = allocator.peek(parent_code)
                if generated is None:
                    problem = _("%(parent)s already has 99 numbered children: give codes in the file") % {
                        "parent": parent_code}
                    break
                if len(generated) > CODE_MAX:
                    problem = _("a generated code under %(parent)s would be longer than %(max)d characters: "
                                "give codes in the file") % {"parent": parent_code, "max": CODE_MAX}
                    break
                code = generated
            row_codes[code] = key
            new.append(PlannedCategory(key=key, code=code, line=line, sort=0))
            parent_code = code
        if problem:
            reject(line, problem)  # nothing of this row entered the plan (codes were only peeked at)
            continue

        leaf = tuple(names[: last + 1])
        if leaf in named:
            report.duplicates += 1
        for d in range(1, last + 2):
            key = tuple(names[:d])
            if key in existing and existing[key].pk not in existing_seen:
                existing_seen.add(existing[key].pk)
                report.counts[d].existing += 1
                if not existing[key].is_active:
                    inactive_seen.add(existing[key].code)
            named.add(key)
        for p in new:
            p.sort = top_sort[p.key[:-1]] = top_sort.get(p.key[:-1], 0) + 1
            allocator.take(p.code)
            planned[p.key] = p
            planned_codes[p.code] = p.key
            report.counts[p.depth].created += 1
            report.planned.append(p)
    if inactive_seen:
        report.notes.append(_("%(n)d matched categories are inactive and stay inactive: %(codes)s")
                            % {"n": len(inactive_seen), "codes": ", ".join(sorted(inactive_seen)[:20])})
    return report


def _apply(report: CategoryImportReport, *, actor: Any) -> None:
    existing, _top = _existing_tree(report.kind)
    objects: dict[tuple[str, ...], Category] = dict(existing)
    audits: list[AuditEntry] = []
    by_depth: dict[int, list[PlannedCategory]] = {}
    for p in report.planned:
        by_depth.setdefault(p.depth, []).append(p)
    for depth in sorted(by_depth):
        batch: list[Category] = []
        for p in by_depth[depth]:
            parent = objects[p.key[:-1]] if depth > 1 else None
            batch.append(Category(code=p.code, name=p.name, parent=parent, kind=report.kind, sort=p.sort,
                                  depth=depth, path=parent.children_path if parent else "/"))
        if connection.features.can_return_rows_from_bulk_insert:
            Category.objects.bulk_create(batch, batch_size=500)
        else:  # children need their parent's id
            for c in batch:
                c.save()
        for p, c in zip(by_depth[depth], batch, strict=True):
            p.category = c
            objects[p.key] = c
            audits.append(audit_entry(actor=actor, action="taxonomy.category.create", target=c,
                                      after=snapshot(c, _CATEGORY_FIELDS),
                                      extra={"import": report.source, "line": p.line}))
    audit_bulk(audits)
    audit_record(actor=actor, action="taxonomy.category.import", target_type="taxonomy.category",
                 target_repr=report.source[:200],
                 extra={"kind": report.kind, "encoding": report.encoding, "levels": report.levels,
                        "created": {d: c.created for d, c in report.counts.items()},
                        "existing": {d: c.existing for d, c in report.counts.items()},
                        "duplicates": report.duplicates, "rejected": len(report.rejected)})
    report.committed = True


def categories_import_csv(*, path: str | Path, actor: Any, commit: bool = False, encoding: str | None = None,
                          levels: Sequence[str] | None = None, kind: str = CategoryKind.REQUEST
                          ) -> CategoryImportReport:
    """Import a category tree from a table whose columns are the levels (dry run unless ``commit``).

    The file: a CSV (UTF-8 with or without BOM, or GBK/GB18030 — detected, or name it with
    ``encoding``; comma, tab or semicolon separated) or, when openpyxl is installed, an .xlsx
    workbook (first sheet). Line 1 is the header. ``levels`` names the level columns top down
    (default: every column with a header that is not a code column). A column whose header ends
    with 编码, 代码 or code holds codes; give one per level or none. Each row is a path from the
    root: ``城乡建设,安全生产,事故处理``; a shorter row (``城乡建设,安全生产,``) names an inner node.

    Matching: a category is the same when it has the same parent and name (roots: same kind and
    name), so importing again creates nothing twice. A row naming a category an earlier row named
    counts as "already present" (``duplicates``), not as an error.

    Codes: taken from the file when given, else generated — the kind's letter (C 部件, E 事件,
    R 诉求) for the roots, then two digits per level appended to the parent's code, one above the
    highest number in use: ``R01``, ``R0101``, ``R010101`` (at most 99 children per parent).

    Rejected rows (reported with their 1-based line number and reason, header = line 1): an empty
    cell before a filled one, a name over 100 characters, a value in a column without header, an
    invalid code or one used by another category, a code differing from the existing node's.
    The other rows are imported. A dry run reads the database and writes nothing; ``commit=True``
    writes the whole plan and its audit rows in one transaction.
    """
    path = Path(path)
    if kind not in CategoryKind.values:
        raise CategoryImportError(_("Unknown kind %(kind)s (one of %(kinds)s).")
                                  % {"kind": kind, "kinds": ", ".join(CategoryKind.values)})
    table = _read_table(path, encoding)
    if not commit:
        return _plan(table, source=path.name, kind=kind, levels=levels)
    with transaction.atomic():
        # Plan inside the transaction so the plan written is the plan checked.
        report = _plan(table, source=path.name, kind=kind, levels=levels)
        _apply(report, actor=actor)
    return report


# ---------------------------------------------------------------------------------------------
# the default catalogue


@dataclass
class SeedReport:
    """What :func:`catalogue_seed` created and what was already there, per kind of record."""

    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, what: str, created: bool) -> None:
        bucket = self.created if created else self.existing
        bucket[what] = bucket.get(what, 0) + 1
        (self.existing if created else self.created).setdefault(what, 0)


def catalogue_seed(*, actor: Any = None) -> SeedReport:
    """Seed the default catalogue: 数字城管 部件 and 事件 classes with their filing conditions and
    time limits, the dispatch line of each class (naming department functions), and the five 12345
    request types. Idempotent: it adds what is missing (matched by code; rules by category and
    condition; a dispatch line only where a category has no general line, active or not) and
    never overwrites what a city has changed.
    """
    data = catalogue_data()
    report = SeedReport()
    rule_sets: dict[str, list[dict[str, Any]]] = data["rule_sets"]
    with transaction.atomic():
        by_code = {c.code: c for c in Category.objects.all()}
        rules_present = set(DeadlineRule.objects.values_list("category_id", "condition"))
        general_lines = set(DispatchRule.objects.filter(region__isnull=True)
                            .values_list("category_id", flat=True))

        def seed_node(spec: dict[str, Any], parent: Category | None, kind: str) -> None:
            category = by_code.get(spec["code"])
            if category is None:
                category = category_create(actor=actor, name=spec["name"], parent=parent, kind=kind,
                                           code=spec["code"])
                by_code[category.code] = category
                report.add("categories", True)
            else:
                report.add("categories", False)
                if category.kind != kind or category.parent_id != (parent.pk if parent else None):
                    report.notes.append(_("%(code)s exists elsewhere in the tree; left as it is")
                                        % {"code": spec["code"]})
            rule_set = spec.get("deadlines")
            for rule in rule_sets[rule_set] if rule_set else []:
                if (category.pk, rule["condition"]) in rules_present:
                    report.add("deadline rules", False)
                    continue
                deadline_rule_create(actor=actor, category=category, condition=rule["condition"],
                                     limit=rule["limit"], unit=rule["unit"],
                                     closing_condition=rule.get("closing", ""),
                                     is_default=rule.get("default", False))
                rules_present.add((category.pk, rule["condition"]))
                report.add("deadline rules", True)
            line = spec.get("dispatch")
            if line:
                if category.pk in general_lines:
                    report.add("dispatch rules", False)
                else:
                    dispatch_rule_set(actor=actor, category=category, region_level=line["level"],
                                      department_function=line["function"])
                    general_lines.add(category.pk)
                    report.add("dispatch rules", True)
            for child in spec.get("children", []):
                seed_node(child, category, kind)

        for major in data["categories"]:
            seed_node(major, None, major["kind"])

        present_types = set(RequestType.objects.values_list("code", flat=True))
        for spec in data["request_types"]:
            if spec["code"] in present_types:
                report.add("request types", False)
                continue
            request_type_create(actor=actor, code=spec["code"], name=spec["name"], limit=spec["limit"],
                                unit=spec["unit"], answer_directly=spec.get("answer_directly", False),
                                sort=spec.get("sort", 0))
            report.add("request types", True)
    return report
