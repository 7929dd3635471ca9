"""Early warning in the admin: rules are configured here (saved through ``services.rule_save``, which
checks the parameters per kind); alerts, their history and the baselines are read only (alerts are
handled on their page, /warnings/<id>/, through the services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from civicgrid.warning import rules, services
from civicgrid.warning.models import Alert, AlertEvent, AlertRule, Baseline


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AlertRuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = ("code", "name", "kind", "level", "categories", "params", "severity", "centre_level",
                  "recipients", "ack_minutes", "active")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            data["params"] = rules.params_clean(data.get("kind", ""), data.get("params"))
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                field = "kind" if name == "kind" else "params"
                self.add_error(field, [f"{name}: {m}" if field == "params" else m for m in messages])
        for name in ("level", "centre_level"):
            try:
                rules.level_clean(data.get(name, ""), name=name)
            except ValidationError as exc:
                self.add_error(name, exc.message_dict[name])
        return data


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    form = AlertRuleForm
    list_display = ("code", "name", "kind", "level", "severity", "centre_level", "recipients", "active")
    list_filter = ("kind", "severity", "active")
    filter_horizontal = ("categories",)

    def save_model(self, request: HttpRequest, obj: AlertRule, form: Any, change: bool) -> None:
        """Saved through the service (its checks, its audit row), categories included."""
        d = form.cleaned_data
        rule = services.rule_save(actor=request.user, code=d["code"], name=d["name"], kind=d["kind"],
                                  params=d.get("params"), level=d["level"], categories=list(d["categories"]),
                                  severity=d["severity"], centre_level=d["centre_level"],
                                  recipients=d["recipients"], ack_minutes=d.get("ack_minutes"), active=d["active"])
        obj.pk = rule.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # the categories were saved by the service


@admin.register(Alert)
class AlertAdmin(_ReadOnly):
    list_display = ("id", "rule", "area", "centre", "state", "figure", "expected", "created_at", "ack_due_at")
    list_filter = ("state", "kind", "severity")

    def get_queryset(self, request: HttpRequest) -> Any:
        from civicgrid.warning.selectors import alerts_visible

        return alerts_visible(user=request.user)


@admin.register(AlertEvent)
class AlertEventAdmin(_ReadOnly):
    list_display = ("alert", "at", "actor_name", "action", "from_state", "to_state")


@admin.register(Baseline)
class BaselineAdmin(_ReadOnly):
    list_display = ("rule", "area", "category", "daytype", "mean", "threshold", "days", "built_at")
    list_filter = ("rule",)
