from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from civicgrid.assessment.models import CallAttempt, SamplingRule
from civicgrid.assessment.services import sampling_rule_set


@admin.register(SamplingRule)
class SamplingRuleAdmin(admin.ModelAdmin):
    list_display = ("department", "share", "max_attempts", "salt", "updated_by", "updated_at")
    fields = ("department", "share", "max_attempts", "salt")
    readonly_fields = ()

    def save_model(self, request: HttpRequest, obj: SamplingRule, form: Any, change: bool) -> None:
        # through the service: audited, one rule per unit
        saved = sampling_rule_set(actor=request.user, department=obj.department, share=obj.share,
                                  max_attempts=obj.max_attempts, salt=obj.salt)
        obj.pk = saved.pk


@admin.register(CallAttempt)
class CallAttemptAdmin(admin.ModelAdmin):
    """The calls made: a record, not edited here (a call is recorded from the call list)."""

    list_display = ("case", "closing", "outcome", "by", "at")
    list_filter = ("outcome",)
    raw_id_fields = ("case", "rating")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
