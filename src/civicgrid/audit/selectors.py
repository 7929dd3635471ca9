from __future__ import annotations

from django.db import models

from civicgrid.audit.models import AuditEntry


def audit_for_target(target: models.Model) -> models.QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk))


def audit_by_action(action: str) -> models.QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(action=action)
