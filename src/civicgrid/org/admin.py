"""Admin screens for people and jurisdictions, and the scoped region admin (组织、用户、岗位、区域).

Three rules hold for every screen here (and for any later app that uses :class:`ScopedAdminMixin`):

* a non-superuser sees only what ``civicgrid.org.scoping.scoped(..., "view")`` gives; anything
  else answers 404, exactly like the API;
* changing (or deleting) an object needs the ``manage`` action on it, on top of Django's model
  permission;
* nothing is saved by the admin itself: every save and every action calls a service of
  ``civicgrid.org.services``, which writes the audit row.

Phone and identity numbers are shown masked; the full value is only reached through the
"View full information" page, which asks for a purpose and goes through the audited
``civicgrid.privacy.services.sensitive_value_reveal``.
"""

from __future__ import annotations

import datetime as dt
import re
from contextvars import ContextVar
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civicgrid.geo.admin import RegionAdminBase
from civicgrid.geo.models import Region
from civicgrid.org.models import ApiToken, Department, Membership, Role, TokenScope, User
from civicgrid.org.permissions import MANAGE, VIEW
from civicgrid.org.scoping import OutOfScope, is_superuser_active, memberships_scoped, scoped, users_scoped
from civicgrid.org.services import (
    department_create,
    department_update,
    membership_grant,
    membership_revoke,
    region_rename,
    token_create,
    token_revoke,
    user_access_set,
    user_create,
    user_password_set,
    user_unlock,
    user_update,
)
from civicgrid.privacy.masking import mask_id_number, mask_phone
from civicgrid.privacy.services import can_reveal, masked_value, sensitive_search, sensitive_value_reveal
from civicgrid.privacy.validators import clean_id_number, clean_phone, validate_id_number, validate_phone


def _adopt(target: models.Model, source: models.Model) -> None:
    """Make the admin's unsaved form instance the row a service just saved (same pk and values), so
    the admin's log entry and redirect point at it."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
    target._state.db = source._state.db


class ScopedAdminMixin:
    """Jurisdiction scoping for a ``ModelAdmin`` (list, change page, permissions, choices).

    Override :meth:`scope_queryset` for a model that does not declare ``scope`` itself.
    """

    def scope_queryset(self, queryset: models.QuerySet[Any], user: Any, action: str) -> models.QuerySet[Any]:
        return scoped(queryset, user, action)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        return self.scope_queryset(super().get_queryset(request), request.user, VIEW)  # type: ignore[misc]

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        # Django's admin would redirect to the index with "perhaps it was deleted?"; we answer 404
        # like the rest of the platform, so another district's ids cannot be probed.
        obj = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if obj is None:
            raise OutOfScope(gettext("Not found."))
        return obj

    def in_scope(self, request: HttpRequest, obj: models.Model, action: str) -> bool:
        if is_superuser_active(request.user):
            return True
        cache: dict[tuple[str, Any, str], bool] = request.__dict__.setdefault("_civicgrid_scope_cache", {})
        key = (obj._meta.label, obj.pk, action)
        if key not in cache:
            qs = type(obj)._default_manager.filter(pk=obj.pk)
            cache[key] = self.scope_queryset(qs, request.user, action).exists()
        return cache[key]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)  # type: ignore[misc]
        if allowed and obj is not None and obj.pk is not None:
            return self.in_scope(request, obj, MANAGE)
        return bool(allowed)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)  # type: ignore[misc]
        if allowed and obj is not None and obj.pk is not None:
            return self.in_scope(request, obj, MANAGE)
        return bool(allowed)

    def scoped_choices(self, model: type[models.Model], request: HttpRequest) -> models.QuerySet[Any] | None:
        """What may be picked for a relation: regions, departments and users one manages."""
        if model is Region:
            return scoped(Region.objects.filter(is_active=True), request.user, MANAGE)
        if model is Department:
            return scoped(Department.objects.filter(is_active=True), request.user, MANAGE)
        if model is User:  # a role is given only to someone one manages
            return users_scoped(User.objects.filter(is_active=True), request.user, MANAGE)
        return None

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        choices = self.scoped_choices(db_field.remote_field.model, request)
        if choices is not None and "queryset" not in kwargs:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        choices = self.scoped_choices(db_field.remote_field.model, request)
        if choices is not None and "queryset" not in kwargs:
            kwargs["queryset"] = choices
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# regions (the display lives in geo.admin; scoping and the rename service are org's)


@admin.register(Region)
class RegionAdmin(ScopedAdminMixin, RegionAdminBase):
    """Regions in the user's jurisdiction; a manager may rename one (org.services.region_rename)."""

    def save_model(self, request: HttpRequest, obj: Region, form: Any, change: bool) -> None:
        if change and "name" in form.changed_data:
            current = Region.objects.get(pk=obj.pk)  # the service snapshots the name before the change
            _adopt(obj, region_rename(actor=request.user, region=current, name=form.cleaned_data["name"]))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # nothing else on a region is edited here


# ---------------------------------------------------------------------------------------------
# departments


@admin.register(Department)
class DepartmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Functional departments (职能部门) and the regions each one serves."""

    list_display = ("code", "name", "function", "region", "is_active")
    list_filter = ("is_active", "function", "region__level")
    search_fields = ("code", "name", "function")
    list_select_related = ("region",)
    ordering = ("code",)
    autocomplete_fields = ("region",)
    filter_horizontal = ("service_regions",)
    fieldsets = (
        (None, {"fields": ("code", "name", "function", "region", "is_active")}),
        (_("Service area"), {"fields": ("service_regions",)}),
        (_("Region chain"), {"fields": ("city", "district", "street", "created_at")}),
    )
    readonly_fields = ("city", "district", "street", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Department | None = None) -> tuple[str, ...]:
        ro = tuple(super().get_readonly_fields(request, obj))
        return (*ro, "code") if obj is not None else ro  # the code is the department's identity

    def has_delete_permission(self, request: HttpRequest, obj: Department | None = None) -> bool:
        return False  # cases point at departments: switch one off (active) instead

    def save_model(self, request: HttpRequest, obj: Department, form: Any, change: bool) -> None:
        data, changed_fields = form.cleaned_data, set(form.changed_data)
        actor = request.user
        if not change:
            saved = department_create(actor=actor, code=data["code"], name=data["name"],
                                      region=data["region"], function=data.get("function") or "",
                                      service_regions=list(data.get("service_regions") or []) or None)
            if not data.get("is_active", True):
                saved = department_update(actor=actor, department=saved, is_active=False)
        else:
            saved = Department.objects.get(pk=obj.pk)
            update: dict[str, Any] = {}
            if "name" in changed_fields:
                update["name"] = data["name"]
            if "region" in changed_fields:
                update["region"] = data["region"]
            if "service_regions" in changed_fields:
                update["service_regions"] = list(data["service_regions"])
            if "function" in changed_fields:
                update["function"] = data.get("function") or ""
            if "is_active" in changed_fields:
                update["is_active"] = data.get("is_active")
            if update:
                saved = department_update(actor=actor, department=saved, **update)
        _adopt(obj, saved)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # service_regions were set by the service in save_model


# ---------------------------------------------------------------------------------------------
# memberships


def _membership_errors(role: str | None, region: Region | None, department: Department | None,
                       actor: Any) -> dict[str, str]:
    """The form-side check of a new membership (membership_grant stays the authority)."""
    errors: dict[str, str] = {}
    if not role:
        return errors
    if role == Role.DEPARTMENT_HANDLER and department is None:
        errors["department"] = gettext("A department handler needs a department.")
    if role != Role.DEPARTMENT_HANDLER and department is not None:
        errors["department"] = gettext("Only department handlers belong to a department.")
    if role not in (Role.DEPARTMENT_HANDLER, Role.RESIDENT) and region is None:
        errors["region"] = gettext("This role needs a region.")
    if not is_superuser_active(actor) and region is None and department is None:
        errors["region"] = gettext("Choose a region or department in your jurisdiction.")
    return errors


class MembershipForm(forms.ModelForm):
    actor: Any = None  # set per request by the admin (on the class built for that request)

    class Meta:
        model = Membership
        fields = ("user", "role", "region", "department")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.instance.pk is None:
            errors = _membership_errors(data.get("role"), data.get("region"), data.get("department"),
                                        self.actor)
            for field, message in errors.items():
                self.add_error(field, message)
        return data


class _ActorFormMixin:
    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        form.actor = request.user  # a fresh class per request, so this is not shared
        return form


@admin.register(Membership)
class MembershipAdmin(_ActorFormMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Roles held in regions and departments (岗位): granted and revoked, never edited or deleted."""

    form = MembershipForm
    list_display = ("user", "role", "region", "department", "is_active", "created_at")
    list_filter = ("role", "is_active", "region__level")
    search_fields = ("user__username", "user__display_name", "region__code", "region__name",
                     "department__name")
    list_select_related = ("user", "region", "department")
    autocomplete_fields = ("user", "region", "department")
    actions = ["revoke_memberships"]

    def scope_queryset(self, queryset: models.QuerySet[Any], user: Any, action: str) -> models.QuerySet[Any]:
        return memberships_scoped(queryset, user, action)

    def get_fields(self, request: HttpRequest, obj: Membership | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("user", "role", "region", "department")
        return ("user", "role", "region", "department", "is_active", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Membership | None = None) -> tuple[str, ...]:
        return () if obj is None else ("user", "role", "region", "department", "is_active", "created_at")

    def has_change_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        if obj is not None:
            return False  # change = revoke (an action) or grant anew
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return super().has_change_permission(request, None)

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if change:
            return
        data = form.cleaned_data
        _adopt(obj, membership_grant(actor=request.user, user=data["user"], role=data["role"],
                                     region=data.get("region"), department=data.get("department")))

    @admin.action(description=_("Revoke the selected memberships"), permissions=["revoke"])
    def revoke_memberships(self, request: HttpRequest, queryset: models.QuerySet[Membership]) -> None:
        done = 0
        for membership in self.scope_queryset(queryset.filter(is_active=True), request.user, MANAGE):
            membership_revoke(actor=request.user, membership=membership)
            done += 1
        self.message_user(request, gettext("%(n)d memberships revoked.") % {"n": done}, messages.SUCCESS)


class MembershipInline(admin.TabularInline):
    """A user's memberships on the user page: existing ones read-only, new ones granted by service."""

    model = Membership
    form = MembershipForm
    fields = ("role", "region", "department", "is_active", "created_at")
    readonly_fields = ("is_active", "created_at")
    autocomplete_fields = ("region", "department")
    extra = 0
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Membership]:
        return memberships_scoped(super().get_queryset(request), request.user, VIEW)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.actor = request.user
        return formset

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.remote_field.model is Region:
            kwargs["queryset"] = scoped(Region.objects.filter(is_active=True), request.user, MANAGE)
        elif db_field.remote_field.model is Department:
            kwargs["queryset"] = scoped(Department.objects.filter(is_active=True), request.user, MANAGE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_add_permission(request, obj):
            return False
        return obj is None or is_superuser_active(request.user) or users_scoped(
            User.objects.filter(pk=obj.pk), request.user, MANAGE).exists()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# ---------------------------------------------------------------------------------------------
# users

_SEARCHABLE_NUMBER = re.compile(r"^\+?[0-9Xx]{7,20}$")
# The admin's user during a password change (the form class is shared, the request is not).
_password_actor: ContextVar[Any] = ContextVar("civicgrid_admin_password_actor", default=None)


class UserAddForm(AdminUserCreationForm):
    """Django's admin creation form (its password validators run) plus the first role, so a new
    account lands inside the creator's jurisdiction."""

    actor: Any = None
    role = forms.ChoiceField(label=_("role"), required=False, choices=[("", "---------"), *Role.choices])
    region = forms.ModelChoiceField(label=_("region"), required=False, queryset=Region.objects.none())
    department = forms.ModelChoiceField(label=_("department"), required=False,
                                        queryset=Department.objects.none())

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "display_name")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.actor is not None:
            self.fields["region"].queryset = scoped(Region.objects.filter(is_active=True), self.actor, MANAGE)
            self.fields["department"].queryset = scoped(Department.objects.filter(is_active=True),
                                                        self.actor, MANAGE)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        role = data.get("role")
        if not role and not is_superuser_active(self.actor):
            self.add_error("role", gettext("Give the new account a role in your jurisdiction."))
        for field, message in _membership_errors(role, data.get("region"), data.get("department"),
                                                 self.actor).items():
            self.add_error(field, message)
        return data


class UserEditForm(UserChangeForm):
    """The change form without the encrypted fields: their current values never reach the page.
    A new phone or identity number may be typed in; empty keeps the stored one."""

    new_phone = forms.CharField(label=_("new phone"), required=False, validators=[validate_phone],
                                help_text=_("Leave empty to keep the current phone."),
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))
    new_id_number = forms.CharField(label=_("new identity number"), required=False,
                                    validators=[validate_id_number],
                                    help_text=_("Leave empty to keep the current identity number."),
                                    widget=forms.TextInput(attrs={"autocomplete": "off"}))

    class Meta(UserChangeForm.Meta):
        model = User
        exclude = ("phone", "id_number", "phone_hash", "id_number_hash")
        fields = None

    def clean_new_phone(self) -> str:
        return clean_phone(self.cleaned_data.get("new_phone", ""))

    def clean_new_id_number(self) -> str:
        return clean_id_number(self.cleaned_data.get("new_id_number", ""))


class ServicePasswordChangeForm(AdminPasswordChangeForm):
    """Django's admin password form whose save goes through ``user_password_set`` (audited)."""

    def save(self, commit: bool = True) -> Any:
        password = self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        return user_password_set(actor=_password_actor.get(), user=self.user, password=password)


class RevealForm(forms.Form):
    field = forms.ChoiceField(label=_("field"),
                              choices=[("phone", _("phone")), ("id_number", _("identity number"))])
    purpose = forms.CharField(label=_("purpose"), widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                              help_text=_("Why you need the full value. It is recorded in the audit trail."))


class NumberSearchForm(forms.Form):
    number = forms.CharField(label=_("phone or identity number"), max_length=40,
                             widget=forms.TextInput(attrs={"autocomplete": "off", "size": 24}),
                             help_text=_("The whole number: found by exact match only. Every search is recorded "
                                         "in the audit trail."))

    def clean_number(self) -> str:
        number = "".join(self.cleaned_data["number"].split()).replace("-", "")
        if not _SEARCHABLE_NUMBER.match(number):
            raise ValidationError(_("Enter a whole phone number or identity number."))
        return number


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    """Accounts (用户) with masked personal data, their memberships, sign-in cool-downs and audited reveal."""

    form = UserEditForm
    add_form = UserAddForm
    change_password_form = ServicePasswordChangeForm
    inlines = [MembershipInline]
    list_display = ("username", "display_name", "phone_masked", "id_number_masked", "is_staff", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active", "memberships__role")
    search_fields = ("username", "display_name", "email")
    search_help_text = _("Username, name or e-mail. Phone and identity numbers: “Search by phone or identity number”.")
    ordering = ("username",)
    actions = ["unlock_users", "deactivate_users", "export_person_records"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("display_name", "email", "phone_masked", "new_phone",
                                         "id_number_masked", "new_id_number")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups",
                                       "user_permissions")}),
        (_("Sign-in"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",),
                "fields": ("username", "display_name", "usable_password", "password1", "password2")}),
        (_("First role"), {"classes": ("wide",), "fields": ("role", "region", "department")}),
    )
    readonly_fields = ("phone_masked", "id_number_masked", "last_login", "date_joined")

    def scope_queryset(self, queryset: models.QuerySet[Any], user: Any, action: str) -> models.QuerySet[Any]:
        return users_scoped(queryset, user, action)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> tuple[str, ...]:
        ro = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and not is_superuser_active(request.user):
            ro += ("is_superuser", "groups", "user_permissions")  # access rights: superusers only
        return ro

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user
        return form

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return super().get_inline_instances(request, obj) if obj is not None else []

    # --- display -----------------------------------------------------------------------------

    @admin.display(description=_("phone"))
    def phone_masked(self, obj: User) -> str:
        return masked_value(obj, "phone") or "—"

    @admin.display(description=_("identity number"))
    def id_number_masked(self, obj: User) -> str:
        return masked_value(obj, "id_number") or "—"

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # The "View full information" button (templates/admin/org/user/change_form.html).
        extra_context = {**(extra_context or {}), "can_reveal_sensitive": can_reveal(request.user, User)}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_search_results(self, request: HttpRequest, queryset: models.QuerySet[Any],
                           search_term: str) -> tuple[models.QuerySet[Any], bool]:
        # Phone and identity numbers are not searched here: a GET puts them in the address, hence in
        # access logs and browser history, and the look-up would go unaudited. The number search
        # (a POST, audited) does it.
        term = "".join(search_term.split()).replace("-", "")
        if _SEARCHABLE_NUMBER.match(term):
            messages.warning(request, gettext("Phone and identity numbers are searched with “Search by phone or "
                                              "identity number” (the number stays out of addresses and logs)."))
        return super().get_search_results(request, queryset, search_term)

    # --- saving through services ---------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        data, changed_fields = form.cleaned_data, set(form.changed_data)
        if not change:
            password = data.get("password1") if data.get("set_usable_password", True) else None
            saved = user_create(actor=request.user, username=data["username"], password=password or None,
                                display_name=data.get("display_name", ""))
            if data.get("role"):
                membership_grant(actor=request.user, user=saved, role=data["role"], region=data.get("region"),
                                 department=data.get("department"))
            _adopt(obj, saved)
            return
        current = User.objects.get(pk=obj.pk)
        editable = ("display_name", "email", "is_active", "is_staff")
        update = {f: data[f] for f in editable if f in changed_fields}
        if data.get("new_phone"):
            update["phone"] = data["new_phone"]
        if data.get("new_id_number"):
            update["id_number"] = data["new_id_number"]
        if update:
            current = user_update(actor=request.user, user=current, **update)
        _adopt(obj, current)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change and is_superuser_active(request.user):
            data, changed_fields = form.cleaned_data, set(form.changed_data)
            access: dict[str, Any] = {}
            if "is_superuser" in changed_fields:
                access["is_superuser"] = data["is_superuser"]
            if "groups" in changed_fields:
                access["groups"] = list(data["groups"])
            if "user_permissions" in changed_fields:
                access["user_permissions"] = list(data["user_permissions"])
            if access:
                user_access_set(actor=request.user, user=User.objects.get(pk=form.instance.pk), **access)
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # The admin's change message reads these three lists (normally filled by formset.save()).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if formset.model is not Membership:
            return
        for inline_form in formset.extra_forms:
            if not inline_form.has_changed() or not inline_form.cleaned_data:
                continue
            data = inline_form.cleaned_data
            formset.new_objects.append(membership_grant(
                actor=request.user, user=form.instance, role=data["role"], region=data.get("region"),
                department=data.get("department")))

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        token = _password_actor.set(request.user)  # read by ServicePasswordChangeForm.save
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _password_actor.reset(token)

    # --- the audited reveal ----------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        return [
            path("number-search/", self.admin_site.admin_view(self.number_search_view),
                 name="org_user_number_search"),
            path("<path:object_id>/reveal/", self.admin_site.admin_view(self.reveal_view),
                 name="org_user_reveal"),
            *super().get_urls(),
        ]

    def number_search_view(self, request: HttpRequest) -> HttpResponse:
        """Search by phone or identity number: sent in a POST body (never in the address), exact
        match through the keyed hashes, within the admin's jurisdiction, one audit row per look-up
        (privacy.search: the value masked and hashed, never plain)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        form = NumberSearchForm(request.POST if request.method == "POST" else None)
        results: list[User] | None = None
        searched = ""
        if request.method == "POST" and form.is_valid():
            number = form.cleaned_data["number"]
            results = sensitive_search(user=request.user, queryset=self.get_queryset(request).order_by("username"),
                                       value=number, fields=("phone", "id_number"))
            searched = (mask_id_number(number) if len(number) in (15, 18) else mask_phone(number))
            form = NumberSearchForm()  # the full number is not sent back
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Search by phone or identity number"),
            "opts": self.opts,
            "form": form,
            "results": [(u, masked_value(u, "phone") or "—", masked_value(u, "id_number") or "—")
                        for u in results] if results is not None else None,
            "searched": searched,
        }
        response = TemplateResponse(request, "admin/org/user/number_search.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def reveal_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """查看完整信息: the full phone or identity number, for a stated purpose, audited."""
        obj = self.get_object(request, unquote(object_id))
        if not self.has_view_or_change_permission(request, obj) or not can_reveal(request.user, User):
            raise PermissionDenied
        value: str | None = None
        form = RevealForm(request.POST or None, initial={"field": request.GET.get("field", "phone")})
        if request.method == "POST" and form.is_valid():
            try:
                value = sensitive_value_reveal(user=request.user, instance=obj,
                                               field_name=form.cleaned_data["field"],
                                               purpose=form.cleaned_data["purpose"])
            except ValidationError as exc:
                form.add_error(None, exc)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("View full information"),
            "subtitle": str(obj),
            "opts": self.opts,
            "original": obj,
            "form": form,
            "value": value,
            "field_label": dict(form.fields["field"].choices).get(form["field"].value(), ""),
        }
        response = TemplateResponse(request, "admin/org/user/reveal.html", context)
        response["Cache-Control"] = "no-store"
        return response

    # --- actions -------------------------------------------------------------------------------

    @admin.action(description=_("Lift the sign-in cool-downs of the selected accounts"), permissions=["change"])
    def unlock_users(self, request: HttpRequest, queryset: models.QuerySet[User]) -> None:
        done = 0
        for user in self.scope_queryset(queryset, request.user, MANAGE):
            user_unlock(actor=request.user, user=user)
            done += 1
        self.message_user(request, gettext("Sign-in cool-downs lifted for %(n)d accounts.") % {"n": done},
                          messages.SUCCESS)

    @admin.action(description=_("Deactivate the selected accounts"), permissions=["change"])
    def deactivate_users(self, request: HttpRequest, queryset: models.QuerySet[User]) -> None:
        done = 0
        for user in self.scope_queryset(queryset.filter(is_active=True), request.user, MANAGE):
            if user.pk == request.user.pk:
                continue  # nobody locks themself out by accident
            user_update(actor=request.user, user=user, is_active=False)
            done += 1
        self.message_user(request, gettext("%(n)d accounts deactivated.") % {"n": done}, messages.SUCCESS)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # accounts are deactivated, never deleted: the audit trail names them

    def has_export_personal_permission(self, request: HttpRequest) -> bool:
        from civicgrid.privacy.exports import can_export_personal

        return can_export_personal(request.user)

    @admin.action(description=_("Export the person's records (PIPL art. 45)"), permissions=["export_personal"])
    def export_person_records(self, request: HttpRequest, queryset: models.QuerySet[User]) -> HttpResponse | None:
        """Every record that holds the selected person's phone or identity number, as JSON for them:
        found through the keyed hashes (audited searches), exported watermarked and audited."""
        import json

        from civicgrid.privacy.rights import PersonRecords, person_export, person_find

        people = list(self.scope_queryset(queryset, request.user, MANAGE)[:2])
        if len(people) != 1:
            self.message_user(request, gettext("Select one account in your jurisdiction."), messages.ERROR)
            return None
        person = people[0]
        found: dict[str, list[Any]] = {User._meta.label: [person]}
        for kind in ("phone", "id_number"):
            value = getattr(person, kind)
            if value:
                for label, objs in person_find(actor=request.user, kind=kind, value=value).found.items():
                    known = {o.pk for o in found.setdefault(label, [])}
                    found[label] += [o for o in objs if o.pk not in known]
        data, _mark = person_export(actor=request.user, records=PersonRecords(kind="account", found=found))
        response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="person-{person.pk}.json"'
        response["Cache-Control"] = "no-store"
        return response


# ---------------------------------------------------------------------------------------------
# API tokens: made and revoked through the services; the secret is shown once


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(label=_("scopes"), choices=TokenScope.choices,
                                       widget=forms.CheckboxSelectMultiple)
    days = forms.IntegerField(label=_("valid for (days)"), required=False, min_value=1,
                              help_text=_("Leave empty for a token that does not expire."))

    class Meta:
        model = ApiToken
        fields = ["user", "name"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    list_display = ["name", "prefix", "user", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        users = users_scoped(User.objects.all(), request.user, MANAGE)
        return super().get_queryset(request).filter(user__in=users.values("pk")).select_related("user")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "user":
            kwargs["queryset"] = users_scoped(User.objects.filter(is_active=True), request.user, MANAGE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)  # list and actions only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the record stays

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        days = form.cleaned_data.get("days")
        expires = timezone.now() + dt.timedelta(days=days) if days else None
        token, text = token_create(actor=request.user, user=form.cleaned_data["user"],
                                   name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"],
                                   expires_at=expires)
        _adopt(obj, token)
        messages.warning(request, format_html(_("Copy the token now, it is shown only once: {}"),
                                              format_html("<code>{}</code>", text)))

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> None:
        for token in queryset:
            token_revoke(actor=request.user, token=token)
        self.message_user(request, _("%(n)d tokens revoked.") % {"n": queryset.count()})
