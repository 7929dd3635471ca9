"""The working calendar (工作日历) as data: updated each winter when the State Council publishes
next year's holidays and make-up working days (调休)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarYear(models.Model):
    """A year the calendar has data for. Days of a year without a row fall back to Monday–Friday
    (and the admin and the logs say so)."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(_("source"), max_length=60, default="chinese-calendar")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "cases_calendaryear"  # made by the case engine, which held the calendar before
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class WorkingDay(models.Model):
    """A day that differs from Monday–Friday: a holiday on a weekday, or a make-up working day
    (调休上班) on a weekend. Ordinary days need no row."""

    day = models.DateField(_("day"), unique=True)
    is_working = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=40, blank=True)

    class Meta:
        db_table = "cases_workingday"
        verbose_name = _("working-calendar day")
        verbose_name_plural = _("working-calendar days")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {'上班' if self.is_working else '休息'} {self.name}".strip()
