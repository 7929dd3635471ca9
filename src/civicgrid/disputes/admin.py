"""Admin for mediation organisations (reference data) and read-only views of risk flags and
screening reports. Writes of organisations go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from civicgrid.disputes.models import MediationOrganisation, Mediator, RiskFlag, ScreeningReport


class MediatorInline(admin.TabularInline):
    model = Mediator
    extra = 0
    raw_id_fields = ("user",)


@admin.register(MediationOrganisation)
class MediationOrganisationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "level", "region", "is_active")
    list_filter = ("kind", "level", "is_active")
    search_fields = ("code", "name")
    raw_id_fields = ("region",)
    filter_horizontal = ("served_regions",)
    inlines = [MediatorInline]


@admin.register(RiskFlag)
class RiskFlagAdmin(admin.ModelAdmin):
    list_display = ("case", "reason", "detail", "raised_at", "cleared_at")
    list_filter = ("reason",)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(ScreeningReport)
class ScreeningReportAdmin(admin.ModelAdmin):
    list_display = ("region", "period", "none_found", "filed_by", "filed_at")
    list_filter = ("period", "none_found")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
