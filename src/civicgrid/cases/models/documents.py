"""Documents of a case (案件文书): the templates an administrator keeps, the documents a case holds
(uploaded scans and signed papers, or drawn from a template: a notice, an agreement, a decision, the
printable work order 工单), each kept as numbered versions, and the record of how and when a version
reached a party (送达: legal windows run from delivery).

Files are stored on disk under ``<CIVICGRID_MEDIA_ROOT>/documents/`` (``cases.documents``), named
by their SHA-256, never under a public URL: a version is served only through the case's scoping."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models.case import Case
from civicgrid.privacy.fields import EncryptedTextField


class DocumentKind(models.TextChoices):
    WORK_ORDER = "work_order", _("work order")  # 工单
    NOTICE = "notice", _("notice")  # 通知书/告知书
    AGREEMENT = "agreement", _("agreement")  # 协议书
    DECISION = "decision", _("decision")  # 决定书/答复意见书
    OTHER = "other", _("other file")  # an uploaded scan, a photo of a signed paper


class DocumentTemplate(models.Model):
    """A Word template (.docx, docxtpl's Jinja tags) for one kind of document, for one case type or
    for all (``case_type`` empty). The active template of the most specific match is used; when
    none is active, the one shipped with CivicGrid. Replacing a template makes a new version (the
    old row is kept, inactive, so each generated document names the template it came from)."""

    kind = models.CharField(_("kind"), max_length=16, choices=DocumentKind.choices)
    case_type = models.CharField(_("case type"), max_length=32, blank=True,
                                 help_text=_("Empty: every case type."))
    name = models.CharField(_("name"), max_length=200)
    version = models.PositiveIntegerField(_("version"), default=1)
    active = models.BooleanField(_("active"), default=True)
    path = models.CharField(_("file"), max_length=200)  # under the documents root
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", db_index=False)
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("document template")
        verbose_name_plural = _("document templates")
        ordering = ["kind", "case_type", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "case_type", "version"], name="cases_doctemplate_version_uniq"),
            models.UniqueConstraint(fields=["kind", "case_type"], condition=models.Q(active=True),
                                    name="cases_doctemplate_one_active"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_type or '*'} v{self.version}"


class CaseDocument(models.Model):
    """A document of a case: its kind, its title and how many versions it has (the newest is the
    current one)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=16, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=200)
    current_version = models.PositiveIntegerField(_("current version"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", db_index=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("case document")
        verbose_name_plural = _("case documents")
        ordering = ["case_id", "id"]

    def __str__(self) -> str:
        return f"{self.title} v{self.current_version}"


class DocumentVersion(models.Model):
    """One version of a document: a file as uploaded, or as drawn from a template (which one, which
    version). ``pdf_path`` is its PDF rendering (a generated document has both)."""

    class Source(models.TextChoices):
        UPLOADED = "uploaded", _("uploaded")
        GENERATED = "generated", _("generated from a template")

    document = models.ForeignKey(CaseDocument, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    template = models.ForeignKey(DocumentTemplate, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", db_index=False)
    template_version = models.PositiveIntegerField(null=True, blank=True)
    template_name = models.CharField(max_length=200, blank=True)  # the shipped default has no row
    name = models.CharField(_("file name"), max_length=200)
    path = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    pdf_path = models.CharField(max_length=200, blank=True)
    pdf_size = models.PositiveIntegerField(null=True, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", db_index=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")
        ordering = ["document_id", "number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="cases_docversion_number_uniq")]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"


class DeliveryMethod(models.TextChoices):
    IN_PERSON = "in_person", _("in person")  # 直接送达
    POST = "post", _("by post")  # 邮寄送达
    SMS = "sms", _("by SMS")  # 短信送达
    ONLINE = "online", _("online")  # 电子送达


class Delivery(models.Model):
    """How and when a version of a document reached a party (送达): ``party``, one of the case's
    parties; ``party_name`` its name when it was delivered, kept encrypted (shown masked)."""

    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="deliveries")
    party_name = EncryptedTextField(_("party"), mask="name")
    # the column party_id of a plain number before (migration 0019 changed the state only: no constraint)
    party = models.ForeignKey("cases.Party", verbose_name=_("party"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="deliveries", db_constraint=False,
                              db_index=False)
    method = models.CharField(_("method"), max_length=10, choices=DeliveryMethod.choices)
    delivered_at = models.DateTimeField(_("delivered at"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    proof_name = models.CharField(max_length=200, blank=True)
    proof_path = models.CharField(max_length=200, blank=True)
    proof_content_type = models.CharField(max_length=100, blank=True)
    proof_sha256 = models.CharField(max_length=64, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", db_index=False)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["version_id", "delivered_at", "id"]

    def __str__(self) -> str:
        return f"{self.version_id} {self.method} {self.delivered_at:%Y-%m-%d}"
