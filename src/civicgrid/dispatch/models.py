"""Smart dispatch (智能派单): trained suggestion models and dispatchers' corrections.

Rows are written only through :mod:`civicgrid.dispatch.services`; reads go through
:mod:`civicgrid.dispatch.selectors`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models import Case
from civicgrid.taxonomy.models import Category


class DispatchModel(models.Model):
    """A trained category model (派单模型), one version: what it was trained on, how well it did, and
    the model itself. Exactly one version is active at a time; activating an older one rolls back.

    ``blob`` holds numpy arrays and a JSON header (``numpy.savez``, read with ``allow_pickle=False``),
    never a pickle; ``sha256`` is checked before every load, so a damaged row is refused, not used.
    """

    version = models.PositiveIntegerField(_("version"), unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    trained_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("trained by"), null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(_("training source"), max_length=300)
    documents = models.PositiveIntegerField(_("training documents"), default=0)
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    blob = models.BinaryField(_("model"))

    class Meta:
        verbose_name = _("dispatch model")
        verbose_name_plural = _("dispatch models")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True),
                                    name="dispatch_one_active_model"),
        ]

    def __str__(self) -> str:
        return f"v{self.version}{' *' if self.is_active else ''}"


class Correction(models.Model):
    """A dispatcher's correction of a suggestion (派单纠错): the case, what was suggested and the
    category chosen instead. Corrections are training data: the next model learns the chosen category
    for that case's text."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="+")
    suggested = models.ForeignKey(Category, verbose_name=_("suggested category"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    chosen = models.ForeignKey(Category, verbose_name=_("chosen category"), on_delete=models.PROTECT,
                               related_name="+")
    model_version = models.PositiveIntegerField(_("model version"), null=True, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("dispatch correction")
        verbose_name_plural = _("dispatch corrections")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.suggested_id} → {self.chosen_id}"
