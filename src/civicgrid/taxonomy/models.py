"""Categories, deadline rules and the dispatch catalogue (分类、处置时限、派单目录) — all data."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.geo.models import Level, Region
from civicgrid.org.models import Department


class CategoryKind(models.TextChoices):
    COMPONENT = "component", _("component (部件)")
    EVENT = "event", _("event (事件)")
    REQUEST = "request", _("citizen request (诉求)")


class TimeUnit(models.TextChoices):
    """How a time limit is counted (计时单位)."""

    URGENT_HOURS = "urgent_hours", _("urgent hours (round the clock)")
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")
    CALENDAR_DAYS = "calendar_days", _("calendar days")
    NATURAL_MONTHS = "natural_months", _("natural months")


class Category(models.Model):
    """A node of the category tree (分类): major class, minor class, and below where a city has them.

    Codes are hierarchical; a 数字城管 minor class has a 4-digit code (major 2 + minor 2).
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", verbose_name=_("parent"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    depth = models.PositiveSmallIntegerField(_("depth"), default=1)
    kind = models.CharField(_("kind"), max_length=16, choices=CategoryKind.choices, default=CategoryKind.EVENT)
    is_active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="taxonomy_unique_name_in_parent")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class RequestType(models.Model):
    """A 12345 request type (诉求类型): 咨询, 求助, 投诉, 举报, 建议, with its default time limit."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=20)
    answer_directly = models.BooleanField(_("can be answered at once"), default=False,
                                          help_text=_("An enquiry may be answered and closed on the call (直接答复)."))
    limit = models.PositiveIntegerField(_("time limit"))
    unit = models.CharField(_("unit"), max_length=20, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("request type")
        verbose_name_plural = _("request types")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name


class DeadlineRule(models.Model):
    """A filing condition of a category with its handling limit and closing condition (立案条件/处置时限/结案条件).

    A category can have several (a missing cover with a hazard: 2 urgent hours; a broken cover: 4
    working hours). Rules are inherited down the tree: a minor class without rules uses its parent's.
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

    def __str__(self) -> str:
        return f"{self.category.name}: {self.condition} — {self.limit} {self.get_unit_display()}"


class DispatchRule(models.Model):
    """One line of the dispatch catalogue (派单目录/权责清单): category × level (× area) → department.

    Either a fixed ``department``, or a ``department_function`` resolved to the department of that
    function serving the case's region at ``region_level``. A rule with ``region`` applies only
    inside that area and wins over the general rule.
    """

    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.CASCADE,
                                 related_name="dispatch_rules")
    region_level = models.CharField(_("handled at level"), max_length=16, choices=Level.choices)
    region = models.ForeignKey(Region, verbose_name=_("only in area"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(Department, verbose_name=_("department"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="dispatch_rules")
    department_function = models.CharField(_("department function"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("dispatch rule")
        verbose_name_plural = _("dispatch catalogue")
        ordering = ["category__code", "region_level"]
        constraints = [
            models.CheckConstraint(condition=models.Q(department__isnull=False) | ~models.Q(department_function=""),
                                   name="taxonomy_rule_names_a_department"),
        ]

    def __str__(self) -> str:
        target = self.department.name if self.department else self.department_function
        return f"{self.category.name} @ {self.region_level} → {target}"
