"""Follow-up calls (回访): how the centre samples closed cases for a call, and each call attempt.

The engine keeps the ratings (``cases.Rating``: the reporter's own, the valid staff follow-up, failed
attempts) and its three rates read them; this app owns who is called (the sampling rules) and what
happened on each call (``CallAttempt``, linked to the engine's rating row it produced)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SamplingRule(models.Model):
    """Which share of a unit's closed cases is called back (回访抽样). ``department`` empty: the
    default for every unit without a rule of its own. No rule at all: every case is called.

    The draw is deterministic (a hash of the salt, the case and its closing), so the call list
    computed again is the same list; a new salt draws a new sample."""

    department = models.OneToOneField("org.Department", null=True, blank=True, on_delete=models.CASCADE,
                                      related_name="+", verbose_name=_("department"))
    share = models.DecimalField(_("share called"), max_digits=4, decimal_places=3, default=Decimal("1"),
                                validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
                                help_text=_("1 calls every closed case; 0.2 one in five."))
    max_attempts = models.PositiveSmallIntegerField(_("attempts before giving up"), default=3,
                                                    validators=[MinValueValidator(1), MaxValueValidator(20)])
    salt = models.CharField(_("sample salt"), max_length=32, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("follow-up sampling rule")
        verbose_name_plural = _("follow-up sampling rules")
        constraints = [
            models.UniqueConstraint(fields=["department"], name="assessment_one_rule_per_unit"),
            models.CheckConstraint(condition=models.Q(share__gte=0, share__lte=1), name="assessment_share_0_1"),
        ]

    def __str__(self) -> str:
        return f"{self.department_id or '*'} {self.share}"


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("reached")
    UNREACHABLE = "unreachable", _("unreachable")
    REFUSED = "refused", _("refused")


class CallAttempt(models.Model):
    """One call to the reporter about one closing of a case. A reached call is the closing's valid
    follow-up (at most one: the engine's constraint on its rating, and this one); unreachable and
    refused calls are attempts, as many as were made."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+", db_index=False)
    closing = models.PositiveSmallIntegerField(_("closing"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=CallOutcome.choices)
    rating = models.OneToOneField("cases.Rating", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("rating recorded"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    at = models.DateTimeField(_("called at"), default=timezone.now)

    class Meta:
        verbose_name = _("follow-up call")
        verbose_name_plural = _("follow-up calls")
        indexes = [models.Index(fields=["case", "closing"], name="assessment_call_case_idx")]
        constraints = [
            models.UniqueConstraint(fields=["case", "closing"], condition=models.Q(outcome="reached"),
                                    name="assessment_one_reached_call_per_closing"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.closing} {self.outcome}"


# --- unit performance (目标责任考核) -------------------------------------------------------------------


class SubjectKind(models.TextChoices):
    DEPARTMENT = "department", _("departments")
    STREET = "street", _("streets")
    COMMUNITY = "community", _("communities")


class Scheme(models.Model):
    """One version of a unit performance scheme (考核方案): indicators drawn from the engine's
    metrics with their weights, and the A–E grade floors. A version is never changed once a period
    was computed with it: a change is a new version (``scheme_version_create``), so a past period
    computed again with its own version gives the same result."""

    code = models.SlugField(_("code"), max_length=40)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=200)
    # [{"metric": "closure", "weight": 30}, ...]: metric names of cases.selectors.METRICS
    indicators = models.JSONField(_("indicators"))
    # {"A": 90, "B": 75, "C": 60, "D": 40}: a score at or above a floor takes its grade, E below
    thresholds = models.JSONField(_("grade floors"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("performance scheme")
        verbose_name_plural = _("performance schemes")
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="assessment_scheme_version")]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class PeriodState(models.TextChoices):
    COMPUTED = "computed", _("computed")
    APPROVED = "approved", _("approved")
    PUBLISHED = "published", _("published")


class AssessmentPeriod(models.Model):
    """One computed period of a scheme version for one kind of subject within a region."""

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="periods")
    subject_kind = models.CharField(_("subjects"), max_length=12, choices=SubjectKind.choices)
    region = models.ForeignKey("geo.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    state = models.CharField(_("state"), max_length=10, choices=PeriodState.choices, default=PeriodState.COMPUTED)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("assessment period")
        verbose_name_plural = _("assessment periods")
        constraints = [models.UniqueConstraint(fields=["scheme", "subject_kind", "region", "first_day", "last_day"],
                                               name="assessment_one_period")]

    def __str__(self) -> str:
        return f"{self.scheme} {self.subject_kind} {self.first_day}–{self.last_day}"


class SubjectScore(models.Model):
    """One subject's stored result: each indicator's numerator, denominator, value, points and
    contribution (``parts``), the computed score, the adjustments' sum, the final score and grade."""

    period = models.ForeignKey(AssessmentPeriod, on_delete=models.CASCADE, related_name="scores")
    subject_id = models.BigIntegerField(_("subject"))
    code = models.CharField(_("code"), max_length=40, blank=True)
    label = models.CharField(_("name"), max_length=200)
    parts = models.JSONField(_("indicators"))
    computed = models.FloatField(_("computed score"), null=True, blank=True)
    adjustment = models.FloatField(_("adjustments"), default=0)
    final = models.FloatField(_("final score"), null=True, blank=True)
    grade = models.CharField(_("grade"), max_length=1, blank=True)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)

    class Meta:
        verbose_name = _("subject score")
        verbose_name_plural = _("subject scores")
        constraints = [models.UniqueConstraint(fields=["period", "subject_id"], name="assessment_one_score")]

    def __str__(self) -> str:
        return f"{self.label} {self.final}"


class Adjustment(models.Model):
    """A bonus (加分) or penalty (扣分) entered at review, with its reason (audited)."""

    score = models.ForeignKey(SubjectScore, on_delete=models.CASCADE, related_name="adjustments")
    points = models.FloatField(_("points"))
    reason = models.CharField(_("reason"), max_length=500)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    at = models.DateTimeField(_("entered at"), default=timezone.now)

    class Meta:
        verbose_name = _("adjustment")
        verbose_name_plural = _("adjustments")

    def __str__(self) -> str:
        return f"{self.points:+g} {self.reason}"
