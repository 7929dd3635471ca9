"""Admin for the category tree, deadline rules, 12345 request types and the dispatch catalogue.

Every save, delete and action goes through :mod:`civicgrid.taxonomy.services`, so each change
writes its audit row; the admin only collects the input.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from civicgrid.taxonomy import services
from civicgrid.taxonomy.models import Category, DeadlineRule, DispatchRule, RequestType
from civicgrid.taxonomy.selectors import department_functions

_CATEGORY_EDITABLE = ("name", "code", "sort", "is_active", "parent")
_RULE_EDITABLE = ("condition", "limit", "unit", "closing_condition", "is_default")
_REQUEST_TYPE_EDITABLE = ("code", "name", "limit", "unit", "answer_directly", "sort", "is_active")


def _changes(form: forms.ModelForm, editable: tuple[str, ...]) -> dict[str, Any]:
    return {f: form.cleaned_data[f] for f in form.changed_data if f in editable}


def _adopt(target: Any, source: Any) -> None:
    """Make the admin's instance the one the service saved (the admin goes on using it)."""
    target.__dict__.update({k: v for k, v in source.__dict__.items() if k != "_prefetched_objects_cache"})


def _report_error(admin_obj: admin.ModelAdmin, request: HttpRequest, exc: ValidationError) -> None:
    admin_obj.message_user(request, "; ".join(exc.messages), level=messages.ERROR)


class DeadlineRuleInline(admin.TabularInline):
    model = DeadlineRule
    extra = 0
    fields = ("condition", "limit", "unit", "closing_condition", "is_default")
    verbose_name = _("deadline rule")
    verbose_name_plural = _("deadline rules (inherited by sub-categories that have none)")


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ("kind", "parent", "code", "name", "sort", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].required = False
        self.fields["code"].help_text = _("Leave empty to number it after its siblings "
                                          "(e.g. R0101 under R01).")
        self.fields["sort"].required = False
        if self.instance.pk:
            self.fields["kind"].disabled = True  # a tree's kind never changes

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        parent = data.get("parent")
        if parent is not None and data.get("kind") and parent.kind != data["kind"]:
            self.add_error("kind", _("A category has the kind of its parent."))
        me = self.instance
        if parent is not None and me.pk and (parent.pk == me.pk or parent.path.startswith(me.children_path)):
            self.add_error("parent", _("A category cannot move below itself."))
        return data


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = ("code", "tree_name", "parent", "kind", "depth", "is_active")
    list_display_links = ("code", "tree_name")
    list_filter = ("kind", "depth", "is_active")
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    readonly_fields = ("depth",)
    ordering = ("code",)
    list_per_page = 200
    inlines = [DeadlineRuleInline]
    actions = ["deactivate"]

    @admin.display(description=_("name"), ordering="name")
    def tree_name(self, obj: Category) -> str:
        return format_html('<span style="padding-left:{}em">{}</span>', 1.5 * (obj.depth - 1), obj.name)

    def save_model(self, request: HttpRequest, obj: Category, form: forms.ModelForm, change: bool) -> None:
        if change:
            changes = _changes(form, _CATEGORY_EDITABLE)
            if changes.get("sort", 0) is None:
                del changes["sort"]  # an emptied order keeps the old one
            saved = services.category_update(actor=request.user, category=Category.objects.get(pk=obj.pk),
                                             **changes)
        else:
            data = form.cleaned_data
            saved = services.category_create(actor=request.user, name=data["name"], parent=data.get("parent"),
                                             kind=data.get("kind"), code=data.get("code") or "",
                                             sort=data.get("sort"), is_active=data.get("is_active", True))
        _adopt(obj, saved)

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        if formset.model is not DeadlineRule:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)  # fills new_objects, changed_objects and deleted_objects
        for rule in formset.deleted_objects:
            services.deadline_rule_delete(actor=request.user, rule=rule)
        for rule, changed_fields in formset.changed_objects:
            changes = {f: getattr(rule, f) for f in changed_fields if f in _RULE_EDITABLE}
            services.deadline_rule_update(actor=request.user, rule=DeadlineRule.objects.get(pk=rule.pk),
                                          **changes)
        for rule in formset.new_objects:
            saved = services.deadline_rule_create(actor=request.user, category=form.instance,
                                                  condition=rule.condition, limit=rule.limit, unit=rule.unit,
                                                  closing_condition=rule.closing_condition,
                                                  is_default=rule.is_default)
            _adopt(rule, saved)

    def delete_model(self, request: HttpRequest, obj: Category) -> None:
        try:
            services.category_delete(actor=request.user, category=obj)
        except ValidationError as exc:
            _report_error(self, request, exc)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        for obj in queryset.order_by("-depth"):
            self.delete_model(request, obj)

    @admin.action(description=_("Deactivate the selected categories and everything below them"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Category]) -> None:
        n = sum(services.category_deactivate(actor=request.user, category=c)
                for c in queryset.order_by("depth"))
        self.message_user(request, _("%(n)d categories deactivated.") % {"n": n}, level=messages.SUCCESS)


@admin.register(RequestType)
class RequestTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "limit", "unit", "answer_directly", "is_active", "sort")
    list_filter = ("is_active", "answer_directly")
    search_fields = ("code", "name")
    fields = ("code", "name", "limit", "unit", "answer_directly", "sort", "is_active")
    actions = ["deactivate"]

    def save_model(self, request: HttpRequest, obj: RequestType, form: forms.ModelForm, change: bool) -> None:
        if change:
            saved = services.request_type_update(actor=request.user,
                                                 request_type=RequestType.objects.get(pk=obj.pk),
                                                 **_changes(form, _REQUEST_TYPE_EDITABLE))
        else:
            data = form.cleaned_data
            saved = services.request_type_create(actor=request.user, code=data["code"], name=data["name"],
                                                 limit=data["limit"], unit=data["unit"],
                                                 answer_directly=data["answer_directly"],
                                                 sort=data["sort"] or 0, is_active=data["is_active"])
        _adopt(obj, saved)

    def delete_model(self, request: HttpRequest, obj: RequestType) -> None:
        try:
            services.request_type_delete(actor=request.user, request_type=obj)
        except ValidationError as exc:
            _report_error(self, request, exc)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RequestType]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    @admin.action(description=_("Deactivate the selected request types"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[RequestType]) -> None:
        for rt in queryset.filter(is_active=True):
            services.request_type_update(actor=request.user, request_type=rt, is_active=False)
        self.message_user(request, _("Deactivated."), level=messages.SUCCESS)


class DispatchRuleForm(forms.ModelForm):
    class Meta:
        model = DispatchRule
        fields = ("category", "region", "region_level", "department", "department_function", "note",
                  "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        known = ", ".join(f"{k} ({v})" for k, v in department_functions().items())
        self.fields["department_function"].help_text = _(
            "Resolved to the department of this function serving the case's region at the level above. "
            "Known functions: %(known)s") % {"known": known}
        self.fields["region"].help_text = _("Leave empty for the general line; an area line wins inside "
                                            "its area.")


@admin.register(DispatchRule)
class DispatchRuleAdmin(admin.ModelAdmin):
    form = DispatchRuleForm
    list_display = ("category", "region", "region_level", "department", "department_function", "is_active")
    list_filter = ("region_level", "is_active", "department_function", "category__kind")
    search_fields = ("category__code", "category__name", "department__name", "department_function",
                     "region__name", "region__code")
    list_select_related = ("category", "region", "department")
    autocomplete_fields = ("category",)
    raw_id_fields = ("region", "department")
    ordering = ("category__code", "region_level")
    actions = ["deactivate"]

    def save_model(self, request: HttpRequest, obj: DispatchRule, form: forms.ModelForm,
                   change: bool) -> None:
        data = form.cleaned_data
        saved = services.dispatch_rule_set(
            actor=request.user, category=data["category"], region_level=data["region_level"],
            region=data.get("region"), department=data.get("department"),
            department_function=data.get("department_function") or "", note=data.get("note") or "",
            is_active=data.get("is_active", True),
            rule=DispatchRule.objects.get(pk=obj.pk) if change else None)
        _adopt(obj, saved)

    def delete_model(self, request: HttpRequest, obj: DispatchRule) -> None:
        services.dispatch_rule_delete(actor=request.user, rule=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[DispatchRule]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    @admin.action(description=_("Deactivate the selected catalogue lines"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[DispatchRule]) -> None:
        for rule in queryset.filter(is_active=True):
            services.dispatch_rule_deactivate(actor=request.user, rule=rule)
        self.message_user(request, _("Deactivated."), level=messages.SUCCESS)
