"""The notification outbox (通知发件箱): rows written in the same transaction as the change they
announce, delivered later by the worker through a channel, retried with backoff, never lost."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.privacy.fields import EncryptedTextField


class NotificationState(models.TextChoices):
    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed for good")


class Notification(models.Model):
    """A message to one recipient through one channel (in-app, SMS, e-mail)."""

    channel = models.CharField(_("channel"), max_length=16, default="inapp")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+", db_index=False, db_constraint=False)
    # Or an audience, expanded to people at delivery: the handlers of a department, the dispatchers of a centre.
    audience_department = models.ForeignKey("org.Department", null=True, blank=True, on_delete=models.CASCADE,
                                            related_name="+", db_index=False, db_constraint=False)
    audience_region = models.ForeignKey("geo.Region", null=True, blank=True, on_delete=models.CASCADE,
                                        related_name="+", db_index=False, db_constraint=False)
    address = EncryptedTextField(_("address"), blank=True, mask="phone",
                                 help_text=_("Phone or e-mail for people without an account (encrypted, never "
                                             "shown in full)."))
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="notifications", db_constraint=False)
    event = models.CharField(_("event"), max_length=40)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=NotificationState.choices,
                             default=NotificationState.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        db_table = "cases_notification"  # made by the case engine, which held the outbox before
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # who a notification is for: one of the three, so each index holds only its own rows
            models.Index(fields=["recipient"], name="cases_outbox_recipient_idx",
                         condition=models.Q(recipient__isnull=False)),
            models.Index(fields=["audience_department"], name="cases_outbox_department_idx",
                         condition=models.Q(audience_department__isnull=False)),
            models.Index(fields=["audience_region"], name="cases_outbox_region_idx",
                         condition=models.Q(audience_region__isnull=False)),
            models.Index(fields=["next_attempt_at"], name="cases_outbox_pending_idx",
                         condition=models.Q(state="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.event} → {self.recipient_id or '-'}"


class InboxMessage(models.Model):
    """An in-app message (站内消息) delivered by the in-app channel."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        db_table = "cases_inboxmessage"
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="cases_inbox_user_unread_idx")]

    def __str__(self) -> str:
        return self.subject
