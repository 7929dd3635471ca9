"""Clocks on a case (计时器): several run at once, each with its unit and due time."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models.case import Assignment, Case
from civicgrid.taxonomy.models import TimeUnit


class TimerState(models.TextChoices):
    RUNNING = "running", _("running")
    PAUSED = "paused", _("paused")  # 缓办/挂起: the clock stands still
    STOPPED = "stopped", _("stopped")  # the work it measured is done


class Timer(models.Model):
    """One clock (时限): sign within 1 h, return a mis-dispatch within 2 working days, handle within
    5 working days, reply to the reporter… ``due_at`` is indexed for the sweep; ``overdue_at`` and
    ``due_soon_at`` are set once, by a conditional update, so several workers never double-fire."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timers", db_index=False)
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="timers", db_index=False)
    kind = models.CharField(_("kind"), max_length=24)
    unit = models.CharField(_("unit"), max_length=20, choices=TimeUnit.choices)
    amount = models.FloatField(_("limit"))
    state = models.CharField(_("state"), max_length=10, choices=TimerState.choices, default=TimerState.RUNNING)
    started_at = models.DateTimeField(_("started at"))
    due_at = models.DateTimeField(_("due at"))
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    remaining = models.FloatField(_("remaining when paused"), null=True, blank=True)
    extended_by = models.FloatField(_("extended by"), default=0)
    due_soon_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("overdue since"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    calendar_fallback = models.BooleanField(
        _("computed without calendar data"), default=False,
        help_text=_("The due time crossed a year with no working-day data (Monday–Friday was assumed)."))

    class Meta:
        verbose_name = _("timer")
        verbose_name_plural = _("timers")
        indexes = [
            models.Index(fields=["due_at"], name="cases_timer_due_running_idx",
                         condition=models.Q(state="running", overdue_at__isnull=True)),
            models.Index(fields=["case", "kind"], name="cases_timer_case_kind_idx"),
            models.Index(fields=["assignment"], name="cases_timer_assignment_idx",
                         condition=models.Q(assignment__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} due {self.due_at:%Y-%m-%d %H:%M}"
