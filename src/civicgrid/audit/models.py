from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or delete an audit row."""


class AuditQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries are append-only")


class AuditEntry(models.Model):
    """One write made through a service (审计日志): who did what to which record, before and after.

    Append-only: rows are never updated or deleted (the model refuses, and on PostgreSQL a trigger
    refuses too). Sensitive fields appear masked in ``before``/``after``.
    """

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True,
        on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    target_type = models.CharField(_("target type"), max_length=80, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_repr = models.CharField(_("target"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    extra = models.JSONField(_("extra"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True, db_index=True)
    client_ip = models.CharField(_("client address"), max_length=45, blank=True)
    # The client's X-Request-ID when well formed (request_id is always ours).
    correlation_id = models.CharField(_("correlation id"), max_length=64, blank=True, default="", db_default="")
    # Taken with an API token: who minted that token (the actor is the token's account).
    token_minter = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("token minted by"), null=True, blank=True,
        on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
    )
    token_minter_name = models.CharField(_("token minted by (name)"), max_length=150, blank=True, default="",
                                         db_default="")

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name or '-'} {self.action} {self.target_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries are append-only")
