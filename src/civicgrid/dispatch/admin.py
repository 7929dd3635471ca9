"""Admin for smart dispatch: model versions and corrections are read only here; activating a version
(roll back) goes through :func:`civicgrid.dispatch.services.model_activate`, which writes the audit row."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from civicgrid.dispatch import services
from civicgrid.dispatch.models import Correction, DispatchModel


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(DispatchModel)
class DispatchModelAdmin(_ReadOnly):
    list_display = ("version", "is_active", "created_at", "documents", "size", "trained_by", "source")
    exclude = ("blob",)
    actions = ["activate"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DispatchModel]:
        return super().get_queryset(request).defer("blob")

    def has_activate_permission(self, request: HttpRequest) -> bool:
        """Activating is the one change of a version (city administrators, superusers)."""
        return request.user.has_perm("dispatch.change_dispatchmodel")

    @admin.action(description=_("Activate the selected version (roll back)"), permissions=["activate"])
    def activate(self, request: HttpRequest, queryset: QuerySet[DispatchModel]) -> None:
        rows = list(queryset[:2])
        if len(rows) != 1:
            self.message_user(request, _("Select exactly one version."), level=messages.ERROR)
            return
        try:
            services.model_activate(actor=request.user, version=rows[0].version)
        except ValueError as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return
        self.message_user(request, _("Version %(v)d is active.") % {"v": rows[0].version})


@admin.register(Correction)
class CorrectionAdmin(_ReadOnly):
    list_display = ("at", "case", "suggested", "chosen", "model_version", "by")
    list_select_related = ("case", "suggested", "chosen", "by")
