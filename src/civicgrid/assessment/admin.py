from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from civicgrid.assessment.models import AssessmentPeriod, CallAttempt, SamplingRule, Scheme, SubjectScore
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


@admin.register(Scheme)
class SchemeAdmin(admin.ModelAdmin):
    """Scheme versions: created through the service (the API or the shell), read here; a change is a
    new version, so a stored version is never edited."""

    list_display = ("code", "version", "name", "created_by", "created_at")
    readonly_fields = ("code", "version", "name", "indicators", "thresholds", "created_by", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SubjectScoreInline(admin.TabularInline):
    model = SubjectScore
    fields = ("rank", "code", "label", "computed", "adjustment", "final", "grade")
    readonly_fields = fields
    can_delete = False
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AssessmentPeriod)
class AssessmentPeriodAdmin(admin.ModelAdmin):
    list_display = ("scheme", "subject_kind", "region", "first_day", "last_day", "state", "computed_at")
    list_filter = ("state", "subject_kind")
    readonly_fields = ("scheme", "subject_kind", "region", "first_day", "last_day", "state", "computed_at",
                       "approved_by", "published_at")
    inlines = (SubjectScoreInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
