"""Links between cases (案件关联): typed and two-way, one row per link.

A link is stored once, read from ``from_case`` by its ``kind`` and from ``to_case`` by the kind's
reverse (``LINK_KINDS``): an event that *led to* a dispute is, from the dispute, the case it was
*opened from*. A "related to" link reads the same both ways and is stored with the lower id first,
so the pair's unique constraint holds whichever case it was made from.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models.case import Case


class LinkKind(models.TextChoices):
    """The kind of a link, as ``from_case`` reads it (the reverse is in ``LINK_KINDS``)."""

    LED_TO = "led_to", _("led to")  # an event turned into a dispute: the event led to the dispute
    TRANSFERRED_TO = "transferred_to", _("transferred to")  # a dispute handed to the petition office
    REVIEWED_BY = "reviewed_by", _("reviewed by")  # a petition decision and its review (复查/复核)
    RELATED_TO = "related_to", _("related to")


# kind → (relation read from from_case, relation read from to_case), with their labels
LINK_KINDS: dict[str, tuple[str, str]] = {
    LinkKind.LED_TO: ("led_to", "opened_from"),
    LinkKind.TRANSFERRED_TO: ("transferred_to", "transferred_from"),
    LinkKind.REVIEWED_BY: ("reviewed_by", "review_of"),
    LinkKind.RELATED_TO: ("related_to", "related_to"),
}
RELATION_LABELS = {
    "led_to": _("led to"),
    "opened_from": _("opened from"),
    "transferred_to": _("transferred to"),
    "transferred_from": _("transferred from"),
    "reviewed_by": _("reviewed by"),
    "review_of": _("review of"),
    "related_to": _("related to"),
}


class CaseLink(models.Model):
    """A typed link between two cases, written by the engine (``services.case_link``) with a
    timeline entry on each case, in the transaction of the action that made it. Never changed or
    deleted: a merged case keeps its links, and its survivor shows them (``selectors.case_links``)."""

    from_case = models.ForeignKey(Case, verbose_name=_("from case"), on_delete=models.CASCADE,
                                  related_name="links_out")
    to_case = models.ForeignKey(Case, verbose_name=_("to case"), on_delete=models.CASCADE,
                                related_name="links_in")
    kind = models.CharField(_("kind"), max_length=16, choices=LinkKind.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", db_index=False)
    created_at = models.DateTimeField(_("linked at"), default=timezone.now)

    class Meta:
        verbose_name = _("case link")
        verbose_name_plural = _("case links")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["from_case", "to_case", "kind"], name="cases_link_once_per_kind"),
            models.CheckConstraint(condition=~models.Q(from_case=models.F("to_case")), name="cases_link_not_self"),
            models.CheckConstraint(condition=models.Q(kind__in=LinkKind.values), name="cases_link_kind_known"),
        ]
        # from_case is served by the unique constraint's index; to_case needs its own
        indexes = [models.Index(fields=["to_case"], name="cases_link_to_idx")]

    def __str__(self) -> str:
        return f"{self.from_case_id} {self.kind} {self.to_case_id}"
