"""Admin screens of the case engine (案件引擎).

* Cases are shown, never changed here: every change goes through the engine's services (its
  transitions, timeline and audit). A non-superuser sees only the cases of their jurisdiction
  (``ScopedAdminMixin``: anything else answers 404), with the reporter's name and phone and the
  parties' values masked (the full values only through the case page's audited reveal).
* Links between cases are shown on both cases' pages, read only.
* Supervision items are a read-only list. (The working calendar's admin is ``civicgrid.workcal.admin``,
  the outbox's ``civicgrid.notify.admin``.)
* Document templates: an administrator uploads a Word file that replaces the template of a kind of
  document (a new version through ``documents.template_replace``; the rows are never edited).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from civicgrid.cases import registry
from civicgrid.cases.documents import template_check, template_replace
from civicgrid.cases.models import (
    Assignment,
    Case,
    CaseLink,
    DocumentKind,
    DocumentTemplate,
    Party,
    Supervision,
    TimelineEntry,
    Timer,
)
from civicgrid.org.admin import ScopedAdminMixin
from civicgrid.org.permissions import VIEW
from civicgrid.org.scoping import is_superuser_active, scoped
from civicgrid.privacy.services import masked_value

WEEKDAYS = "一二三四五六日"


def _adopt(target: models.Model, source: models.Model) -> None:
    """Make the admin's unsaved instance the row a service saved (its log entry and redirect use it)."""
    for f in source._meta.concrete_fields:
        setattr(target, f.attname, getattr(source, f.attname))
    target._state.adding = False
    target._state.db = source._state.db


def _cases_in_scope(user: Any) -> models.QuerySet[Case]:
    return scoped(Case.objects.all(), user, VIEW)


# ---------------------------------------------------------------------------------------------
# cases


class _ReadOnlyInline(admin.TabularInline):
    """Rows of a case shown on its page. Whoever may open the case may read them; nobody edits
    them here (the engine writes them)."""

    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("cases.view_case")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TimelineInline(_ReadOnlyInline):
    model = TimelineEntry
    fields = ("at", "actor_name", "action", "from_state", "to_state", "note", "public")
    ordering = ("at", "id")
    verbose_name_plural = _("timeline")


class AssignmentInline(_ReadOnlyInline):
    model = Assignment
    fields = ("department", "region", "role", "state", "created_at", "accepted_at", "ended_at")
    ordering = ("id",)


class TimerInline(_ReadOnlyInline):
    model = Timer
    fields = ("kind", "unit", "amount", "state", "started_at", "due_at", "extended_by", "overdue_at",
              "stopped_at", "calendar_fallback")
    ordering = ("id",)


class _LinkInline(_ReadOnlyInline):
    """Links of the case. A link whose other case the user may not see is not listed at all (its
    code and title would show it)."""

    model = CaseLink
    ordering = ("created_at", "id")
    other = ""

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        qs = super().get_queryset(request)
        if is_superuser_active(request.user):
            return qs
        return qs.filter(**{f"{self.other}__in": _cases_in_scope(request.user).values("pk")})


class LinkOutInline(_LinkInline):
    """Links made from this case (read from it: led to, transferred to, reviewed by, related to)."""

    fk_name, other = "from_case", "to_case"
    fields = ("kind", "to_case", "note", "created_by", "created_at")
    verbose_name_plural = _("links to other cases")


class LinkInInline(_LinkInline):
    """Links made to this case (read from the other case: it led to this one, …)."""

    fk_name, other = "to_case", "from_case"
    fields = ("from_case", "kind", "note", "created_by", "created_at")
    verbose_name_plural = _("links from other cases")


def _masked_column(field_name: str, label: Any) -> Any:
    """An admin column showing a party's ``field_name`` masked (— when empty)."""

    @admin.display(description=label)
    def column(self: Any, obj: Party) -> str:
        return masked_value(obj, field_name) or "—"

    return column


class PartyInline(_ReadOnlyInline):
    """The case's parties (当事人), masked: the full values only through the case page's audited reveal."""

    model = Party
    fields = ("kind", "name_masked", "id_number_masked", "phone_masked", "address_masked", "created_at")
    ordering = ("id",)
    name_masked = _masked_column("name", _("name"))
    id_number_masked = _masked_column("id_number", _("identity number"))
    phone_masked = _masked_column("phone", _("phone"))
    address_masked = _masked_column("address", _("address"))


def _state_label(obj: Case) -> str:
    try:
        ctype = registry.get(obj.case_type)
    except LookupError:
        return obj.state
    return str(ctype.states.get(obj.state, obj.state))


@admin.register(Case)
class CaseAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Cases (案件) of the user's jurisdiction, read only: changes go through the case engine."""

    list_display = ("tracking_code", "case_type", "state_display", "title", "district", "street",
                    "lead_department", "handling_due_at", "created_at")
    list_display_links = ("tracking_code", "title")
    list_filter = ("case_type", "state", "priority", "channel", "extended", "deferred",
                   ("district", admin.RelatedOnlyFieldListFilter),
                   ("lead_department", admin.RelatedOnlyFieldListFilter))
    search_fields = ("=tracking_code", "title")
    list_select_related = ("district", "street", "lead_department")
    date_hierarchy = "created_at"
    show_full_result_count = False
    list_per_page = 50
    inlines = [PartyInline, AssignmentInline, TimerInline, LinkOutInline, LinkInInline, TimelineInline]
    fieldsets = (
        (None, {"fields": ("tracking_code", "case_type", "state_display", "title", "text", "channel", "priority",
                           "category", "request_type")}),
        (_("Location"), {"fields": ("address", "lon", "lat", "city", "district", "street", "community", "grid",
                                    "boundary_version", "owner_region")}),
        (_("Reporter"), {"fields": ("reporter", "reporter_name_masked", "reporter_phone_masked", "anonymous")}),
        (_("Handling"), {"fields": ("lead_department", "handling_due_at", "extended", "deferred", "reopen_count",
                                    "transfer_count", "escalation_level", "merged_into")}),
        (_("Dates"), {"fields": ("created_by", "created_at", "updated_at", "closed_at", "closing")}),
    )
    readonly_fields = ("state_display", "reporter_name_masked", "reporter_phone_masked", "created_at", "updated_at",
                       "closing")

    @admin.display(description=_("state"), ordering="state")
    def state_display(self, obj: Case) -> str:
        return _state_label(obj)

    @admin.display(description=_("reporter name"))
    def reporter_name_masked(self, obj: Case) -> str:
        return masked_value(obj, "reporter_name") or "—"

    @admin.display(description=_("reporter phone"))
    def reporter_phone_masked(self, obj: Case) -> str:
        return masked_value(obj, "reporter_phone") or "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# ---------------------------------------------------------------------------------------------
# supervision (a read-only list)


class _ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Supervision)
class SupervisionAdmin(_ReadOnlyAdmin):
    """Supervision items (督办/催办, problem cases) on the cases of the user's jurisdiction."""

    list_display = ("case", "kind", "note", "opened_by", "opened_at", "closed_at")
    list_filter = ("kind", ("closed_at", admin.EmptyFieldListFilter))
    search_fields = ("case__tracking_code", "note")
    list_select_related = ("case", "opened_by")
    date_hierarchy = "opened_at"
    fields = ("case", "kind", "note", "opened_by", "opened_at", "closed_at")
    readonly_fields = ("opened_at",)

    def scope_queryset(self, queryset: models.QuerySet[Any], user: Any, action: str) -> models.QuerySet[Any]:
        if is_superuser_active(user):
            return queryset
        return queryset.filter(case__in=_cases_in_scope(user).values("pk"))


# ---------------------------------------------------------------------------------------------
# document templates (an administrator replaces them; each replacement is a new version)


class DocumentTemplateForm(forms.ModelForm):
    """Upload a Word template (.docx with docxtpl's tags) for a kind of document; it becomes the
    active one for the case type (or every type), the previous one kept as an older version."""

    file = forms.FileField(label=_("Word template (.docx)"),
                           help_text=_("Tags such as {{ tracking_code }}, {{ title }}, {% for s in steps %}: "
                                       "see docs/case-types.md, Documents."))

    class Meta:
        model = DocumentTemplate
        fields = ("kind", "case_type")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "kind" not in self.fields:  # a template's page: read only
            return
        self.fields["kind"] = forms.ChoiceField(
            label=_("kind"), choices=[(k, label) for k, label in DocumentKind.choices if k != DocumentKind.OTHER])
        self.fields["case_type"] = forms.ChoiceField(
            label=_("case type"), required=False,
            choices=[("", _("every case type")), *((t.code, t.label) for t in registry.all_types())])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is not None:
            content = upload.read()
            try:
                template_check(content)
            except ValidationError as exc:
                raise forms.ValidationError({"file": [m for ms in exc.message_dict.values() for m in ms]}) from None
            data["content"] = content
        return data


@admin.register(DocumentTemplate)
class DocumentTemplateAdmin(admin.ModelAdmin):
    """Document templates (文书模板): the Word files documents are generated from. Adding one makes it
    the active template of its kind (and case type) through ``documents.template_replace`` (audited);
    the rows are read-only: a replacement is a new version, never an edit."""

    form = DocumentTemplateForm
    list_display = ("kind", "case_type", "version", "active", "name", "size", "uploaded_by", "uploaded_at")
    list_filter = ("kind", "case_type", "active")
    ordering = ("kind", "case_type", "-version")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return ("kind", "case_type", "name", "version", "active", "sha256", "size", "uploaded_by", "uploaded_at")
        return ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return self.get_readonly_fields(request, obj)
        return ("kind", "case_type", "file")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # generated documents name their template: it is kept

    def save_model(self, request: HttpRequest, obj: DocumentTemplate, form: Any, change: bool) -> None:
        data = form.cleaned_data
        _adopt(obj, template_replace(actor=request.user, kind=data["kind"], case_type=data.get("case_type") or "",
                                     content=data["content"], name=data["file"].name))
