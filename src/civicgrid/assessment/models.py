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
