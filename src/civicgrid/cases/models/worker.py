"""The worker's heartbeat: the process that runs the engine's sweep and the notification delivery."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """One row per running ``civicgrid worker`` process: when it last showed it was alive, and when
    its sweep and its delivery loop last finished a round. The health endpoint and the metrics read
    them; a row is a row in the shared database, so app servers on other hosts see it too."""

    name = models.CharField(_("worker"), max_length=120, unique=True)  # host:pid
    started_at = models.DateTimeField(_("started at"))
    beat_at = models.DateTimeField(_("last heartbeat"))
    swept_at = models.DateTimeField(_("last sweep finished"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("last delivery round finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.name
