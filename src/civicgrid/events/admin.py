"""Events in the admin: read-only views of the event details and whistles (changes go through the
services: the API and the CLI)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from civicgrid.events.models import EventDetail, Whistle, WhistleSummons


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(EventDetail)
class EventDetailAdmin(ReadOnly):
    list_display = ("case", "routing", "routing_reason", "suggested_department", "source_system", "location_source")
    list_filter = ("routing", "location_source", "source_system")
    search_fields = ("case__tracking_code", "external_id")
    list_select_related = ("case", "suggested_department")


class SummonsInline(admin.TabularInline):
    model = WhistleSummons
    extra = 0
    can_delete = False
    fields = ("department", "ack_due_at", "acknowledged_at", "arrive_due_at", "arrived_at", "responded_at", "score")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Whistle)
class WhistleAdmin(ReadOnly):
    list_display = ("case", "kind", "street", "blown_at")
    list_filter = ("kind",)
    search_fields = ("case__tracking_code",)
    inlines = [SummonsInline]
