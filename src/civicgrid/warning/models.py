"""Early warning (一网统防): alert rules over the case stream, their alerts with evidence, the history
of each alert, and the baselines the spike rule compares a day's count with (rebuilt nightly).

An alert describes a place or a problem (an area, a grid cell, a department's pile of deadlines),
never a person. Its ``scope`` is its area's chain of regions: the centre of the area and those above
see it (org.scoping)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.geo.models import Region
from civicgrid.org.models import Department, Role
from civicgrid.org.scoping import ScopedQuerySet
from civicgrid.taxonomy.models import Category


class RuleKind(models.TextChoices):
    SPIKE = "spike", _("category spike in an area")
    PLACE = "place", _("repeated place")
    HOTSPOT = "hotspot", _("space-time hotspot")
    DEADLINES = "deadlines", _("bulk deadlines")
    WHISTLE = "whistle", _("late whistle answers")


class Severity(models.TextChoices):
    NORMAL = "normal", _("normal")
    SEVERE = "severe", _("severe")


class AlertState(models.TextChoices):
    OPEN = "open", _("open")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    INVESTIGATING = "investigating", _("investigating")
    CLOSED = "closed", _("closed")
    ESCALATED = "escalated", _("escalated")


class Outcome(models.TextChoices):
    ACTED_ON = "acted_on", _("acted on")
    FALSE_ALARM = "false_alarm", _("false alarm")


#: States in which an alert still waits for somebody.
LIVE_STATES = (AlertState.OPEN, AlertState.ACKNOWLEDGED, AlertState.INVESTIGATING, AlertState.ESCALATED)


class AlertRule(models.Model):
    """One rule (configuration): its kind, its scope (the region level of its areas and, optionally,
    its categories), its parameters (validated per kind, see ``rules.PARAMS``), severity and the role
    at the responsible centre that receives its alerts."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=RuleKind.choices)
    level = models.CharField(_("area level"), max_length=16, default="community",
                             help_text=_("The region level of the areas the rule counts in (community by default)."))
    categories = models.ManyToManyField(Category, verbose_name=_("categories"), blank=True, related_name="+",
                                        help_text=_("None: every category."))
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, default=Severity.NORMAL)
    centre_level = models.CharField(_("responsible centre level"), max_length=16, default="street")
    recipients = models.CharField(_("recipients (role at the centre)"), max_length=24, choices=Role.choices,
                                  default=Role.DISPATCHER)
    ack_minutes = models.PositiveIntegerField(
        _("acknowledge within (minutes)"), null=True, blank=True,
        help_text=_("Empty: one working hour, or 15 minutes round the clock when severe."))
    active = models.BooleanField(_("active"), default=True)
    # incremental ticks: the last case seen (id and creation time)
    watermark_id = models.BigIntegerField(default=0, editable=False)
    watermark_at = models.DateTimeField(null=True, blank=True, editable=False)
    baselines_built_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_kind_display()})"


class Baseline(models.Model):
    """A spike rule's expectation for one area × category × day type (working day, rest day), from its
    trailing window: the mean per day, and the count from which a day alarms."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="baselines")
    area = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                 db_constraint=False)
    daytype = models.PositiveSmallIntegerField(_("day type"))  # 0 working day, 1 rest day (weekend, holiday)
    mean = models.FloatField(_("mean per day"))
    variance = models.FloatField(_("variance"), default=0.0)
    threshold = models.PositiveIntegerField(_("alarm at"))
    days = models.PositiveSmallIntegerField(_("days observed"))
    built_at = models.DateTimeField(_("built at"))

    class Meta:
        verbose_name = _("baseline")
        verbose_name_plural = _("baselines")
        constraints = [models.UniqueConstraint(fields=["rule", "area", "category", "daytype"],
                                               name="warning_baseline_uniq")]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.area_id}/{self.category_id}/{self.daytype}: {self.mean:.2f}"


class Alert(models.Model):
    """One alert: what rule, where (the area and its chain), which window, the figure against the
    expectation, the evidence (case ids, series), and where it is in its handling."""

    rule = models.ForeignKey(AlertRule, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(_("kind"), max_length=16, choices=RuleKind.choices)
    area = models.ForeignKey(Region, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    # what in the area: a category id, a grid cell, a department id ("" when the area is the thing)
    key = models.CharField(_("key"), max_length=64, blank=True, default="")
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    department = models.ForeignKey(Department, verbose_name=_("department"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    centre = models.ForeignKey(Region, verbose_name=_("responsible centre"), on_delete=models.PROTECT,
                               related_name="+")
    city = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    street = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    window_start = models.DateTimeField(_("window from"))
    window_end = models.DateTimeField(_("window to"))
    figure = models.FloatField(_("figure"))
    expected = models.FloatField(_("expected"), null=True, blank=True)
    threshold = models.FloatField(_("threshold"), null=True, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, default=Severity.NORMAL)
    state = models.CharField(_("state"), max_length=16, choices=AlertState.choices, default=AlertState.OPEN)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True, default="")
    ack_due_at = models.DateTimeField(_("acknowledge by"))
    escalation_level = models.PositiveSmallIntegerField(_("escalations"), default=0)
    created_at = models.DateTimeField(_("raised at"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    ack_overdue_at = models.DateTimeField(_("acknowledgement overdue since"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=0)

    objects = ScopedQuerySet.as_manager()
    scope = {"regions": {"city": "city", "district": "district", "street": "street", "community": "community"}}

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at", "-id"]
        constraints = [
            # never raised twice for the same thing: one alert per rule × area × thing × window
            models.UniqueConstraint(fields=["rule", "area", "key", "window_start"], name="warning_alert_once"),
        ]
        indexes = [models.Index(fields=["centre", "state"], name="warning_alert_centre_state_idx"),
                   models.Index(fields=["state", "ack_due_at"], name="warning_alert_ack_due_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.rule.code} {self.area.name}"

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES


class AlertEvent(models.Model):
    """The history of an alert: who did what when (raised, acknowledged, investigating, closed,
    escalated, overdue)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=24)
    from_state = models.CharField(_("from"), max_length=16, blank=True)
    to_state = models.CharField(_("to"), max_length=16, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("alert event")
        verbose_name_plural = _("alert events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.action} {self.at:%Y-%m-%d %H:%M}"
