"""Admin screen of the notification outbox (通知发件箱): a read-only list of what was queued, to
whom, and whether it went out. A non-superuser sees the notifications addressed to them, about a
case they may see, or to an audience (department, region) they act for."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from civicgrid.geo.models import Region
from civicgrid.notify.models import Notification
from civicgrid.org.admin import ScopedAdminMixin
from civicgrid.org.models import Department
from civicgrid.org.permissions import ACT, VIEW
from civicgrid.org.scoping import is_superuser_active, scoped
from civicgrid.privacy.masking import mask


def _subjects_in_scope(user: Any) -> models.QuerySet[Any]:
    """The cases the user may see. The outbox knows its subject's model only through the foreign
    key (it imports no engine): that model's own scope declaration decides."""
    subject = Notification._meta.get_field("case").related_model
    assert isinstance(subject, type) and issubclass(subject, models.Model)
    return scoped(subject._default_manager.all(), user, VIEW)


@admin.register(Notification)
class NotificationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The notification outbox (通知发件箱): what was queued, to whom, and whether it went out."""

    list_display = ("created_at", "event", "channel", "recipient", "audience_department", "audience_region",
                    "case", "state", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("state", "channel", "event")
    search_fields = ("subject", "case__tracking_code")
    list_select_related = ("recipient", "audience_department", "audience_region", "case")
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ("channel", "event", "subject", "body", "recipient", "address_masked", "audience_department",
              "audience_region", "case", "state", "attempts", "next_attempt_at", "last_error", "created_at",
              "sent_at")
    readonly_fields = ("address_masked", "created_at")

    @admin.display(description=_("address"))
    def address_masked(self, obj: Notification) -> str:
        if not obj.address:
            return "—"
        return mask(obj.address, "phone" if "@" not in obj.address else "generic")

    def scope_queryset(self, queryset: models.QuerySet[Any], user: Any, action: str) -> models.QuerySet[Any]:
        if is_superuser_active(user):
            return queryset
        return queryset.filter(models.Q(recipient_id=getattr(user, "pk", None))
                               | models.Q(case__in=_subjects_in_scope(user).values("pk"))
                               | models.Q(audience_region__in=scoped(Region.objects.all(), user, ACT).values("pk"))
                               | models.Q(audience_department__in=scoped(Department.objects.all(), user, ACT)
                                          .values("pk")))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
