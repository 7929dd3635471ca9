"""Dispute records (矛盾纠纷): the detail of each dispute case, mediation organisations and their
mediators, risk flags and screening reports (矛盾纠纷排查).

The dispute itself is a :class:`civicgrid.cases.models.Case` of type ``dispute``; rows here are
written only through :mod:`civicgrid.disputes.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models import Case
from civicgrid.geo.models import Level, Region

# The default dispute types (DOMAIN §7); the setting CIVICGRID_DISPUTE_TYPES replaces the list.
DEFAULT_DISPUTE_TYPES: tuple[tuple[str, object], ...] = (
    ("family", _("marriage and family")),  # 婚姻家庭
    ("neighbour", _("neighbours")),  # 邻里
    ("homestead", _("housing and homestead")),  # 房屋宅基地
    ("land", _("forest and land")),  # 山林土地
    ("labour", _("labour and wages")),  # 劳动/劳资
    ("medical", _("doctor and patient")),  # 医患
    ("property", _("property management")),  # 物业
    ("traffic", _("traffic accident")),  # 交通事故
    ("consumer", _("consumer")),  # 消费
    ("demolition", _("land taking and demolition")),  # 征地拆迁
    ("pollution", _("environmental pollution")),  # 环境污染
    ("contract", _("contract and debt")),  # 合同债务
)


class Source(models.TextChoices):
    """Where the dispute came from (来源)."""

    WALK_IN = "walk_in", _("walk-in")  # 来访
    GRID_WORKER = "grid_worker", _("grid worker on patrol")  # 网格员排查
    EVENT = "event", _("an event turned into a dispute")  # 事件转入
    HOTLINE = "hotline", _("12345 call")
    POLICE = "police", _("police (警调)")
    COURT = "court", _("court before filing (诉调)")
    PROCURATORATE = "procuratorate", _("procuratorate (检调)")
    PETITION = "petition", _("petition office (访调)")
    TRAFFIC_POLICE = "traffic_police", _("traffic police (交调)")


class Scale(models.TextChoices):
    ORDINARY = "ordinary", _("ordinary")  # 一般
    LARGE = "large", _("large")  # 较大
    MAJOR = "major", _("major")  # 重大


class AgreementKind(models.TextChoices):
    WRITTEN = "written", _("written agreement")  # 书面协议 (调解协议书)
    ORAL = "oral", _("oral agreement")  # 口头协议


class Referral(models.TextChoices):
    """Where a dispute is sent when mediation ends without agreement or is refused."""

    ARBITRATION = "arbitration", _("arbitration")  # 仲裁
    ADMINISTRATIVE = "administrative", _("administrative route")  # 行政途径
    COURT = "court", _("court")  # 诉讼
    POLICE = "police", _("police")  # 公安
    PETITION = "petition", _("petition office")  # 信访


class Side(models.TextChoices):
    APPLICANT = "applicant", _("applicant")  # 申请人
    RESPONDENT = "respondent", _("respondent")  # 被申请人


class OrganisationKind(models.TextChoices):
    PEOPLES_COMMUNITY = "peoples_community", _("people's mediation committee of a community or village")
    PEOPLES_STREET = "peoples_street", _("people's mediation committee of a street or town")
    PEOPLES_DISTRICT = "peoples_district", _("people's mediation committee of a district")
    PROFESSIONAL = "professional", _("professional or industry mediation committee")  # 专业性、行业性
    ADMINISTRATIVE = "administrative", _("administrative mediation")  # 行政调解
    COURT_INVITED = "court_invited", _("court-invited mediation")  # 特邀调解


class MediationOrganisation(models.Model):
    """A mediation organisation (调解组织): its seat region and level, the regions and dispute types
    it serves (none listed: its seat region, every type), its mediators."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices)
    region = models.ForeignKey(Region, verbose_name=_("seat region"), on_delete=models.PROTECT, related_name="+")
    served_regions = models.ManyToManyField(Region, verbose_name=_("regions served"), blank=True,
                                            related_name="+")
    dispute_types = models.JSONField(_("dispute types served"), default=list, blank=True,
                                     help_text=_("Codes of the dispute types; empty: every type."))
    mediators = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Mediator", related_name="+",
                                       blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    scope = {"regions": {lv: f"region__{lv}" for lv in Level.values}}

    class Meta:
        verbose_name = _("mediation organisation")
        verbose_name_plural = _("mediation organisations")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Mediator(models.Model):
    """A person who mediates for an organisation (调解员); the user holds Role.MEDIATOR."""

    organisation = models.ForeignKey(MediationOrganisation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    is_chief = models.BooleanField(_("chief mediator"), default=False)  # 主任
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("mediator")
        verbose_name_plural = _("mediators")
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="disputes_one_membership")]

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.user_id}"


class DisputeDetail(models.Model):
    """What a dispute has besides the generic case (纠纷详情)."""

    case = models.OneToOneField(Case, verbose_name=_("case"), primary_key=True, on_delete=models.CASCADE,
                                related_name="dispute")
    dispute_type = models.CharField(_("dispute type"), max_length=30, db_index=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.WALK_IN)
    source_reference = models.CharField(_("sender's reference"), max_length=100, blank=True)
    scale = models.CharField(_("scale"), max_length=10, choices=Scale.choices, default=Scale.ORDINARY)
    people_involved = models.PositiveIntegerField(_("people involved"), default=2)
    amount = models.DecimalField(_("amount at stake"), max_digits=14, decimal_places=2, null=True, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    applicant_claim = models.TextField(_("applicant's claim"), blank=True)
    respondent_claim = models.TextField(_("respondent's claim"), blank=True)
    units_involved = models.CharField(_("units involved"), max_length=300, blank=True)
    threat_violence = models.BooleanField(_("threat of violence"), default=False)
    threat_petition = models.BooleanField(_("threat of a group petition"), default=False)
    high_risk = models.BooleanField(_("high risk"), default=False, db_index=True)
    organisation = models.ForeignKey(MediationOrganisation, verbose_name=_("mediation organisation"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="disputes")
    refused_side = models.CharField(_("refused by"), max_length=12, choices=Side.choices, blank=True)
    refused_at = models.DateTimeField(_("refused at"), null=True, blank=True)
    referral = models.CharField(_("referred to"), max_length=16, choices=Referral.choices, blank=True)
    agreement_kind = models.CharField(_("agreement"), max_length=8, choices=AgreementKind.choices, blank=True)
    # [{"term": ..., "performer": ..., "due": "YYYY-MM-DD"}]
    agreement_terms = models.JSONField(_("agreement terms"), default=list, blank=True)
    agreed_at = models.DateTimeField(_("agreed at"), null=True, blank=True)
    performance = models.CharField(_("performance"), max_length=10, blank=True)  # yes / partly / no
    performance_note = models.TextField(_("performance result"), blank=True)
    # judicial confirmation (司法确认) of a written agreement: the parties' joint application to a court
    confirmation_court = models.CharField(_("court applied to"), max_length=100, blank=True)
    confirmation_applied_at = models.DateTimeField(_("confirmation applied for at"), null=True, blank=True)
    confirmation_outcome = models.CharField(_("confirmation outcome"), max_length=10,
                                            choices=[("confirmed", _("confirmed")), ("refused", _("refused"))],
                                            blank=True)
    confirmation_decided_at = models.DateTimeField(_("confirmation decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("dispute detail")
        verbose_name_plural = _("dispute details")

    def __str__(self) -> str:
        return f"{self.case_id} {self.dispute_type}"


class RiskFlag(models.Model):
    """One reason a dispute is high risk (风险预警). One row per (case, reason): the centre is warned
    once per reason, whatever changes later; ``cleared_at`` when the reason no longer holds."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=30)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    raised_at = models.DateTimeField(_("raised at"))
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)

    class Meta:
        verbose_name = _("risk flag")
        verbose_name_plural = _("risk flags")
        ordering = ["case_id", "raised_at", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "reason"], name="disputes_one_flag_per_reason")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.reason}"


class ScreeningReport(models.Model):
    """A grid's or committee's screening for a period (矛盾纠纷排查): the disputes found, or an explicit
    "none found" (零报告). One per region and period (a month, YYYY-MM)."""

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(MediationOrganisation, verbose_name=_("mediation organisation"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(_("period"), max_length=7, db_index=True)
    none_found = models.BooleanField(_("none found"), default=False)
    disputes = models.ManyToManyField(Case, verbose_name=_("disputes found"), blank=True, related_name="+")
    note = models.TextField(_("note"), blank=True)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    filed_at = models.DateTimeField(_("filed at"))

    scope = {"regions": {lv: f"region__{lv}" for lv in Level.values}}

    class Meta:
        verbose_name = _("screening report")
        verbose_name_plural = _("screening reports")
        ordering = ["-period", "region_id"]
        constraints = [models.UniqueConstraint(fields=["region", "period"], name="disputes_one_report_per_period")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.period}"
