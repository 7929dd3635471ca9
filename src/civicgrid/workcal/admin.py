"""Admin screens of the working calendar (工作日历).

The calendar is kept by superusers and administrators of the city; every save goes through
``civicgrid.workcal.services`` (audited; entering a year recomputes, through the case engine's
receiver, the clocks that assumed Monday–Friday). The calendar list warns when this year or next
year has no data.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civicgrid.org.models import User
from civicgrid.workcal.holidays import covered_years
from civicgrid.workcal.models import CalendarYear, WorkingDay
from civicgrid.workcal.selectors import calendar_missing_message, calendar_year_days, calendar_years_missing
from civicgrid.workcal.services import (
    NAME_MAX,
    CalendarDataError,
    calendar_day_set,
    calendar_may_edit,
    calendar_year_from_package,
    calendar_year_import_bytes,
)

WEEKDAYS = "一二三四五六日"


def _actor(request: HttpRequest) -> User:
    """The signed-in user of an admin request (the admin lets no anonymous visitor this far)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def _adopt(target: models.Model, source: models.Model) -> None:
    """Make the admin's unsaved instance the row a service saved (its log entry and redirect use it)."""
    for f in source._meta.concrete_fields:
        setattr(target, f.attname, getattr(source, f.attname))
    target._state.adding = False
    target._state.db = source._state.db




def _editor(request: HttpRequest) -> bool:
    if not getattr(request.user, "is_staff", False):
        return False
    cached = request.__dict__.get("_civicgrid_calendar_editor")
    if cached is None:
        cached = request.__dict__["_civicgrid_calendar_editor"] = calendar_may_edit(request.user)
    return bool(cached)


class _CalendarPermissions:
    """Superusers and administrators of the city keep the calendar (Django's model permissions
    also open it, read-only unless the user may edit)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _editor(request) or super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _editor(request) or super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _editor(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _editor(request)


class CalendarYearForm(forms.ModelForm):
    """Enter or replace a year: from a CSV file (date,working,name) or from chinese-calendar."""

    actor: User | None = None
    file = forms.FileField(label=_("CSV file"), required=False,
                           help_text=_("One line per day: date,working,name — working is 1/上班 or 0/休息 "
                                       "(UTF-8 or GBK). Holidays on weekdays and make-up working days matter; "
                                       "other lines are ignored."))
    from_package = forms.BooleanField(label=_("from chinese-calendar"), required=False)

    class Meta:
        model = CalendarYear
        fields = ("year",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        covered = covered_years()
        self.fields["from_package"].help_text = gettext(
            "Use the installed chinese-calendar package (it covers %(first)d–%(last)d).") % {
            "first": covered.start, "last": covered.stop - 1}

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        year = data.get("year") or getattr(self.instance, "year", None)
        upload, from_package = data.get("file"), data.get("from_package")
        if upload and from_package:
            raise ValidationError(gettext("Choose a file or chinese-calendar, not both."))
        if self.instance.pk is None and not upload and not from_package:
            raise ValidationError(gettext("Give the year's CSV file, or take it from chinese-calendar."))
        if from_package and year and year not in covered_years():
            self.add_error("from_package", gettext("The installed chinese-calendar has no data for %(year)d.")
                           % {"year": year})
        if upload and year:
            raw = upload.read()
            try:
                report = calendar_year_import_bytes(actor=self.actor, raw=raw, source=f"file {upload.name}"[:60],
                                                    year=year, commit=False)
            except CalendarDataError as exc:
                self.add_error("file", str(exc))
            else:
                if report.rejected:
                    self.add_error("file", [str(r) for r in report.rejected[:20]])
                data["_raw"], data["_source"] = raw, report.source
        return data


@admin.register(CalendarYear)
class CalendarYearAdmin(_CalendarPermissions, admin.ModelAdmin):
    """Years of the working calendar (工作日历): entered from a file or chinese-calendar."""

    form = CalendarYearForm
    list_display = ("year", "source", "holidays", "make_up_days", "updated_at")
    ordering = ("-year",)
    actions = ["reload_from_package"]

    def get_fields(self, request: HttpRequest, obj: CalendarYear | None = None) -> Any:
        if obj is None:
            return ("year", "file", "from_package")
        if self.has_change_permission(request, obj):
            return ("year", "source", "updated_at", "days", "file", "from_package")
        return ("year", "source", "updated_at", "days")

    def get_readonly_fields(self, request: HttpRequest, obj: CalendarYear | None = None) -> Any:
        return () if obj is None else ("year", "source", "updated_at", "days")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form: Any = super().get_form(request, obj, change=change, **kwargs)
        form.actor = _actor(request)
        return form

    @admin.display(description=_("holidays on weekdays"))
    def holidays(self, obj: CalendarYear) -> int:
        return calendar_year_days(year=obj.year).filter(is_working=False).count()

    @admin.display(description=_("make-up working days"))
    def make_up_days(self, obj: CalendarYear) -> int:
        return calendar_year_days(year=obj.year).filter(is_working=True).count()

    @admin.display(description=_("days"))
    def days(self, obj: CalendarYear) -> str:
        rows = [(d.day.isoformat(), f"周{WEEKDAYS[d.day.weekday()]}", "上班" if d.is_working else "休息", d.name)
                for d in calendar_year_days(year=obj.year)]
        if not rows:
            return gettext("No exception: every Monday–Friday is a working day.")
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html("<table><tbody>{}</tbody></table>", body)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.method == "GET":
            for year in calendar_years_missing():
                self.message_user(request, calendar_missing_message(year), messages.WARNING)
        return super().changelist_view(request, extra_context)

    def save_model(self, request: HttpRequest, obj: CalendarYear, form: Any, change: bool) -> None:
        data = form.cleaned_data
        year = obj.year
        if data.get("from_package"):
            result = calendar_year_from_package(actor=_actor(request), year=year)
            recomputed = result.timers_recomputed
        elif data.get("_raw") is not None:
            report = calendar_year_import_bytes(actor=_actor(request), raw=data["_raw"], source=data["_source"],
                                                year=year, commit=True)
            recomputed = report.timers_recomputed
        else:
            return  # nothing new was given on the change page
        _adopt(obj, CalendarYear.objects.get(year=year))
        self.message_user(request, gettext("%(year)d entered; %(n)d open clocks recomputed.")
                          % {"year": year, "n": recomputed}, messages.SUCCESS)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a year without data makes deadlines ignore its holidays: replace it instead

    @admin.action(description=_("Reload the selected years from chinese-calendar"), permissions=["change"])
    def reload_from_package(self, request: HttpRequest, queryset: models.QuerySet[CalendarYear]) -> None:
        covered = covered_years()
        for row in queryset:
            if row.year not in covered:
                self.message_user(request, gettext("chinese-calendar has no data for %(year)d: skipped.")
                                  % {"year": row.year}, messages.WARNING)
                continue
            result = calendar_year_from_package(actor=_actor(request), year=row.year)
            self.message_user(request, gettext("%(year)d reloaded; %(n)d open clocks recomputed.")
                              % {"year": row.year, "n": result.timers_recomputed}, messages.SUCCESS)


class WorkingDayForm(forms.ModelForm):
    class Meta:
        model = WorkingDay
        fields = ("day", "is_working", "name")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        day = data.get("day") or self.instance.day
        if day is None:
            return data
        if not CalendarYear.objects.filter(year=day.year).exists():
            self.add_error("day", gettext("The working calendar has no data for %(year)d: enter the whole year "
                                          "first.") % {"year": day.year})
        elif bool(data.get("is_working")) == (day.weekday() < 5):
            self.add_error("is_working", gettext(
                "%(day)s is a %(kind)s anyway: enter only holidays on weekdays and make-up working days on "
                "weekends.") % {"day": day.isoformat(),
                                "kind": gettext("working day") if day.weekday() < 5 else gettext("weekend day")})
        if len(data.get("name") or "") > NAME_MAX:
            self.add_error("name", gettext("At most %(n)d characters.") % {"n": NAME_MAX})
        return data


@admin.register(WorkingDay)
class WorkingDayAdmin(_CalendarPermissions, admin.ModelAdmin):
    """Single days of the working calendar: a holiday on a weekday or a make-up working day (调休)."""

    form = WorkingDayForm
    list_display = ("day", "weekday", "is_working", "name")
    list_filter = ("is_working",)
    search_fields = ("name",)
    date_hierarchy = "day"
    ordering = ("-day",)

    @admin.display(description=_("weekday"))
    def weekday(self, obj: WorkingDay) -> str:
        return f"周{WEEKDAYS[obj.day.weekday()]}"

    def get_readonly_fields(self, request: HttpRequest, obj: WorkingDay | None = None) -> Any:
        return ("day",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _editor(request)

    def save_model(self, request: HttpRequest, obj: WorkingDay, form: Any, change: bool) -> None:
        saved = calendar_day_set(actor=_actor(request), day=obj.day, working=obj.is_working, name=obj.name)
        if saved is None:  # the form refuses ordinary days, so this is a race with another editor
            raise PermissionDenied(gettext("The day was not stored."))
        _adopt(obj, saved)

    def delete_model(self, request: HttpRequest, obj: WorkingDay) -> None:
        calendar_day_set(actor=_actor(request), day=obj.day, working=None)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet[WorkingDay]) -> None:
        for day in queryset:
            calendar_day_set(actor=_actor(request), day=day.day, working=None)
