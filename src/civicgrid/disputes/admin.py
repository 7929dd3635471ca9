"""Admin for mediation organisations (reference data) and read-only views of mediators, risk flags and
screening reports. Nothing is saved by the admin itself: an organisation's save calls
``services.organisation_create`` / ``organisation_update`` (which write the audit row); mediators are
added through ``services.mediator_add``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from civicgrid.disputes.models import MediationOrganisation, Mediator, RiskFlag, ScreeningReport
from civicgrid.disputes.services import organisation_create, organisation_update


def _adopt(target: models.Model, source: models.Model) -> None:
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
    target._state.db = source._state.db


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MediationOrganisation)
class MediationOrganisationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "kind", "level", "region", "is_active")
    list_filter = ("kind", "level", "is_active")
    search_fields = ("code", "name")
    fields = ("code", "name", "kind", "region", "served_regions", "dispute_types", "is_active", "mediator_list")
    raw_id_fields = ("region",)
    filter_horizontal = ("served_regions",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("code", "region", "mediator_list") if obj is not None else ("mediator_list",)

    @admin.display(description=_("mediators"))
    def mediator_list(self, obj: MediationOrganisation) -> str:
        if obj.pk is None:
            return "—"
        members = Mediator.objects.filter(organisation=obj, is_active=True).select_related("user")
        return ", ".join(m.user.display_name or m.user.get_username() for m in members) or "—"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: disputes keep their organisation

    def save_model(self, request: HttpRequest, obj: MediationOrganisation, form: Any, change: bool) -> None:
        data, changed = form.cleaned_data, set(form.changed_data)
        if not change:
            saved = organisation_create(actor=request.user, code=data["code"], name=data["name"], kind=data["kind"],
                                        region=data["region"], served_regions=list(data.get("served_regions") or []),
                                        dispute_types=list(data.get("dispute_types") or []))
            if not data.get("is_active", True):
                saved = organisation_update(actor=request.user, organisation=saved, is_active=False)
        else:
            update = {name: data.get(name) for name in ("name", "kind", "dispute_types", "is_active")
                      if name in changed}
            if "served_regions" in changed:
                update["served_regions"] = list(data["served_regions"])
            saved = organisation_update(actor=request.user,
                                        organisation=MediationOrganisation.objects.get(pk=obj.pk), **update)
        _adopt(obj, saved)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # the served regions were set by the service in save_model


@admin.register(RiskFlag)
class RiskFlagAdmin(ReadOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("case", "reason", "detail", "raised_at", "cleared_at")
    list_filter = ("reason",)


@admin.register(ScreeningReport)
class ScreeningReportAdmin(ReadOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("region", "period", "none_found", "filed_by", "filed_at")
    list_filter = ("period", "none_found")
