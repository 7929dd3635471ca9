"""Events in the admin: read-only views of the event details and whistles (changes go through the
services: the API and the CLI), and the Open311 publication rule a city administrator sets."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models import Channel
from civicgrid.events.models import (
    NEVER_PUBLIC_CHANNELS,
    NEVER_PUBLIC_REQUEST_TYPES,
    EventDetail,
    Open311Publication,
    Whistle,
    WhistleSummons,
)
from civicgrid.taxonomy.models import CategoryKind, RequestType


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


class Open311PublicationForm(forms.ModelForm):
    """Ticks instead of JSON: the channels, category kinds and request types Open311 may publish
    (12345 calls, complaints and reports/accusations are not offered: they are never public)."""

    channels = forms.MultipleChoiceField(
        label=_("public channels"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(v, label) for v, label in Channel.choices if v not in NEVER_PUBLIC_CHANNELS])
    category_kinds = forms.MultipleChoiceField(
        label=_("public category kinds"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=CategoryKind.choices)
    request_types = forms.MultipleChoiceField(
        label=_("public request types"), required=False, widget=forms.CheckboxSelectMultiple, choices=())

    class Meta:
        model = Open311Publication
        fields = ("channels", "category_kinds", "request_types", "without_request_type")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["request_types"].choices = [
            (rt.code, rt.name) for rt in RequestType.objects.filter(is_active=True).order_by("sort", "code")
            if rt.code not in NEVER_PUBLIC_REQUEST_TYPES]


@admin.register(Open311Publication)
class Open311PublicationAdmin(admin.ModelAdmin):
    """One rule for the city, changed by a city administrator (a superuser) only."""

    form = Open311PublicationForm
    list_display = ("__str__", "channels", "category_kinds", "request_types", "without_request_type", "updated_at")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request) and not Open311Publication.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)  # deleted: the defaults apply again
