"""Parties to a case (当事人): the people a case is about or brought by — the reporter of an event, the
applicant and respondent of a dispute, a petitioner, a third party, a representative. Their name,
identity number, phone and address are personal data: encrypted at rest, masked on screen, found
only by the exact keyed hash (name, identity number, phone) and shown in full only through the
engine's audited reveal (``cases.services.party_reveal``), as the case type declares who may.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models.case import Case
from civicgrid.cases.registry import PARTY_KINDS
from civicgrid.privacy.fields import EncryptedTextField, KeyedHashField

# The fields whose full value the reveal may show, and the keyed-hash-searchable ones.
PARTY_SENSITIVE_FIELDS = ("name", "id_number", "phone", "address")
PARTY_SEARCH_FIELDS = ("name", "id_number", "phone")


class Party(models.Model):
    """One party of a case; written only by ``cases.services`` (intake writes the reporter with the
    case, in the same statement on PostgreSQL; see ``cases.parties.party_row``)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    kind = models.CharField(_("kind"), max_length=16, choices=list(PARTY_KINDS.items()))
    name = EncryptedTextField(_("name"), blank=True, hash_field="name_hash", mask="name")
    name_hash = KeyedHashField(_("name (keyed hash)"), db_index=False)
    id_number = EncryptedTextField(_("identity number"), blank=True, hash_field="id_number_hash",
                                   mask="id_number")
    id_number_hash = KeyedHashField(_("identity number (keyed hash)"), db_index=False)
    phone = EncryptedTextField(_("phone"), blank=True, hash_field="phone_hash", mask="phone")
    phone_hash = KeyedHashField(_("phone (keyed hash)"), db_index=False)
    address = EncryptedTextField(_("address"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", db_index=False, db_constraint=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["case_id", "id"]
        # the look-ups are partial indexes: an event's reporter often gives no name or phone
        indexes = [
            models.Index(fields=["name_hash"], name="cases_party_name_idx", condition=~models.Q(name_hash="")),
            models.Index(fields=["id_number_hash"], name="cases_party_id_number_idx",
                         condition=~models.Q(id_number_hash="")),
            models.Index(fields=["phone_hash"], name="cases_party_phone_idx", condition=~models.Q(phone_hash="")),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} #{self.pk}"
