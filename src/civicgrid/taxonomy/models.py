"""Categories, deadline rules and the dispatch catalogue (分类、处置时限、派单目录) — all data.

Rows are written only through :mod:`civicgrid.taxonomy.services`; reads go through
:mod:`civicgrid.taxonomy.selectors`.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.geo.models import Level, Region
from civicgrid.org.models import Department

CODE_VALIDATOR = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                                _("Use letters, digits, dots, dashes and underscores only."))
FUNCTION_VALIDATOR = RegexValidator(r"^[a-z][a-z0-9_]*$",
                                    _("A department function is a lower-case word such as urban_management."))


# Display names of the department functions the default catalogue names (its "functions"), so a
# routing reason reads 城管部门, not urban_management. A city's own function codes show as written.
FUNCTION_LABELS: dict[str, Any] = {
    "urban_management": _("urban management"),  # 城管
    "housing": _("housing and construction"),  # 住建
    "water": _("water affairs"),  # 水务
    "landscaping": _("landscaping"),  # 园林
    "traffic": _("transport"),  # 交通
    "environment": _("ecology and environment"),  # 生态环境
    "market": _("market regulation"),  # 市场监管
}


def function_label(code: str) -> str:
    """The display name of a department function code, in the active language."""
    label = FUNCTION_LABELS.get(code)
    return str(label) if label is not None else code


class CategoryKind(models.TextChoices):
    """Which catalogue a category belongs to; each kind is its own tree."""

    COMPONENT = "component", _("component (部件)")
    EVENT = "event", _("event (事件)")
    REQUEST = "request", _("citizen request (诉求)")


#: The letter that starts every generated code of a kind (R01, R0101, R010101 …).
KIND_PREFIX: dict[str, str] = {
    CategoryKind.COMPONENT: "C", CategoryKind.EVENT: "E", CategoryKind.REQUEST: "R",
}


class TimeUnit(models.TextChoices):
    """How a time limit is counted (计时单位)."""

    URGENT_HOURS = "urgent_hours", _("urgent hours (round the clock)")
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")
    CALENDAR_DAYS = "calendar_days", _("calendar days")
    NATURAL_MONTHS = "natural_months", _("natural months")
    # 民法典 art. 201, 203: the start day is not counted; a last day on a rest day moves to the next working day
    STATUTORY_DAYS = "statutory_days", _("statutory days")


class Category(models.Model):
    """A node of the category tree (分类): major class (大类), minor class (小类), and below where a
    city has them (GB/T 39666 三级分类 for 12345 requests).

    Each kind (部件, 事件, 诉求) is its own tree: names are unique among siblings, and among the roots
    of one kind. Codes are unique over all kinds; generated codes start with the kind's letter and
    add two digits per level (``C01`` → ``C0101``), so ordering by code lists the tree depth first.

    ``path`` holds the ids of the ancestors, root first, as ``/3/17/`` (``/`` for a root), so
    inherited deadline rules and the dispatch catalogue are resolved with one query, not one per level.
    It is maintained by the services, never edited by hand.
    """

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", verbose_name=_("parent"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    depth = models.PositiveSmallIntegerField(_("depth"), default=1, editable=False)
    path = models.CharField(_("ancestor path"), max_length=255, default="/", editable=False, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=CategoryKind.choices,
                            default=CategoryKind.EVENT)
    is_active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], condition=models.Q(parent__isnull=False),
                                    name="taxonomy_unique_name_in_parent",
                                    violation_error_message=_(
                                        "The parent already has a category of this name.")),
            models.UniqueConstraint(fields=["kind", "name"], condition=models.Q(parent__isnull=True),
                                    name="taxonomy_unique_root_name_in_kind",
                                    violation_error_message=_(
                                        "A top-level category of this kind has this name.")),
            models.CheckConstraint(condition=models.Q(depth__gte=1), name="taxonomy_depth_from_one"),
        ]
        indexes = [models.Index(fields=["kind", "depth"], name="taxonomy_cat_kind_depth_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids of the ancestors, root first (from ``path``; no query)."""
        return [int(p) for p in self.path.strip("/").split("/") if p]

    @property
    def lineage_ids(self) -> list[int]:
        """Ids from this category up to its root, nearest first: the order rules are inherited in."""
        return [self.pk, *reversed(self.ancestor_ids)]

    @property
    def children_path(self) -> str:
        """The ``path`` every child of this category has."""
        return f"{self.path}{self.pk}/"


class RequestType(models.Model):
    """A 12345 request type (诉求类型): 咨询, 求助, 投诉, 举报, 建议, with its default time limit."""

    code = models.CharField(_("code"), max_length=20, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=20)
    answer_directly = models.BooleanField(
        _("can be answered at once"), default=False,
        help_text=_("An enquiry may be answered and closed on the call (直接答复)."))
    limit = models.PositiveIntegerField(_("time limit"))
    unit = models.CharField(_("unit"), max_length=20, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS)
    is_active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("request type")
        verbose_name_plural = _("request types")
        ordering = ["sort", "code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(limit__gt=0), name="taxonomy_reqtype_limit_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class DeadlineRule(models.Model):
    """A filing condition of a category with its handling limit and closing condition
    (立案条件/处置时限/结案条件).

    A category can have several (a missing cover with a hazard: 2 urgent hours; a broken cover: 4
    working hours); one is the default, offered first (the services keep it to one). Rules are
    inherited down the tree: a minor class without rules uses those of its nearest ancestor with some.
    """

    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.CASCADE,
                                 related_name="deadline_rules")
    condition = models.CharField(_("filing condition"), max_length=200)
    limit = models.PositiveIntegerField(_("time limit"))
    unit = models.CharField(_("unit"), max_length=20, choices=TimeUnit.choices)
    closing_condition = models.CharField(_("closing condition"), max_length=200, blank=True)
    is_default = models.BooleanField(_("default for the category"), default=False)

    class Meta:
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")
        ordering = ["category__code", "-is_default", "id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "condition"], name="taxonomy_rule_condition_unique",
                                    violation_error_message=_(
                                        "This category already has this filing condition.")),
            models.CheckConstraint(condition=models.Q(limit__gt=0), name="taxonomy_rule_limit_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.condition} — {self.limit} {self.get_unit_display()}"


class DispatchRule(models.Model):
    """One line of the dispatch catalogue (派单目录/权责清单): category × level (× area) → department.

    Either a fixed ``department``, or a ``department_function`` resolved to the active department
    of that function serving the case's region at ``region_level``. A rule with ``region`` applies
    only inside that area and wins over the general rule of the same category; a category without
    rules uses its nearest ancestor's. One active general line per category, and one active line
    per category and area.
    """

    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.CASCADE,
                                 related_name="dispatch_rules")
    region_level = models.CharField(_("handled at level"), max_length=16, choices=Level.choices)
    region = models.ForeignKey(Region, verbose_name=_("only in area"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(Department, verbose_name=_("department"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="dispatch_rules")
    department_function = models.CharField(_("department function"), max_length=40, blank=True,
                                           validators=[FUNCTION_VALIDATOR],
                                           help_text=_("e.g. urban_management, housing, water, landscaping"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("dispatch rule")
        verbose_name_plural = _("dispatch catalogue")
        ordering = ["category__code", "region_level", "id"]
        constraints = [
            models.CheckConstraint(condition=(models.Q(department__isnull=False)
                                              | ~models.Q(department_function="")),
                                   name="taxonomy_rule_names_a_department",
                                   violation_error_message=_("Name a department or a department function.")),
            models.UniqueConstraint(fields=["category"],
                                    condition=models.Q(region__isnull=True, is_active=True),
                                    name="taxonomy_one_general_rule",
                                    violation_error_message=_("This category already has an active general "
                                                              "line: change that one.")),
            models.UniqueConstraint(fields=["category", "region"],
                                    condition=models.Q(region__isnull=False, is_active=True),
                                    name="taxonomy_one_area_rule",
                                    violation_error_message=_("This category already has an active line "
                                                              "for this area: change that one.")),
        ]

    def __str__(self) -> str:
        target = self.department.name if self.department_id else function_label(self.department_function)
        area = f" ({self.region.name})" if self.region_id else ""
        return f"{self.category.name}{area} @ {self.region_level} → {target}"
