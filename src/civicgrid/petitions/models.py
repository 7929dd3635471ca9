"""Petition records (信访, DOMAIN §8): the detail of each petition case.

The petition itself is a :class:`civicgrid.cases.models.Case` of type ``petition``; its petitioner
is a party of kind ``petitioner`` (``cases.Party``, encrypted, with keyed hashes); rows here are
written only through :mod:`civicgrid.petitions.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models import Case
from civicgrid.org.models import Department


class Kind(models.TextChoices):
    """What the petition is (信访事项的性质); each kind has its own path."""

    SUGGESTION = "suggestion", _("suggestion or opinion")  # 建议意见
    ACCUSATION = "accusation", _("report or accusation")  # 检举控告
    CLAIM = "claim", _("claim or request")  # 申诉求决


class Form(models.TextChoices):
    """How it came in (信访形式)."""

    LETTER = "letter", _("letter")  # 来信 (a scan is uploaded)
    VISIT = "visit", _("visit")  # 来访
    PHONE = "phone", _("phone")  # 来电
    ONLINE = "online", _("online")  # 网上信访


class Channel(models.TextChoices):
    """The legal procedure a matter is led to (诉访分离)."""

    LITIGATION = "litigation", _("litigation")  # 诉讼
    ARBITRATION = "arbitration", _("arbitration")  # 仲裁
    ADMINISTRATIVE_REVIEW = "administrative_review", _("administrative review")  # 行政复议


class Stage(models.TextChoices):
    HANDLING = "handling", _("handling")  # 办理
    REVIEW = "review", _("review")  # 复查
    REREVIEW = "rereview", _("re-review")  # 复核


MAX_REPRESENTATIVES = 5  # 多人走访: at most five representatives (信访工作条例 art. 18)


class PetitionDetail(models.Model):
    """What a petition has besides the generic case (信访详情). Personal values live on its
    ``petitioner`` parties; here only their keyed hashes (for repeat detection)."""

    case = models.OneToOneField(Case, verbose_name=_("case"), primary_key=True, on_delete=models.CASCADE,
                                related_name="petition")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, db_index=True)
    form = models.CharField(_("form"), max_length=8, choices=Form.choices, default=Form.VISIT)
    office = models.ForeignKey(Department, verbose_name=_("petition office"), on_delete=models.PROTECT,
                               related_name="petitions_received")
    group_size = models.PositiveIntegerField(_("people in the visit"), default=1)
    notice_owed = models.BooleanField(_("written notices owed"), default=True)  # name and address known
    accused_department = models.ForeignKey(Department, verbose_name=_("accused unit"), null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="petitions_accusing")
    accused_person = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("accused person"), null=True,
                                       blank=True, on_delete=models.PROTECT, related_name="+")
    petitioner_key = models.CharField(_("petitioner (keyed hash)"), max_length=64, blank=True, db_index=True)
    matter_key = models.CharField(_("matter (keyed hash)"), max_length=64, blank=True, db_index=True)
    repeat = models.BooleanField(_("repeat petition"), default=False, db_index=True)  # 重复信访
    skip_level = models.BooleanField(_("skips a level"), default=False, db_index=True)  # 越级
    not_reaccepted = models.BooleanField(_("answered: not accepted again"), default=False)  # 不再受理
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices, default=Stage.HANDLING)
    channel = models.CharField(_("led to"), max_length=24, choices=Channel.choices, blank=True)
    hearing_at = models.DateTimeField(_("hearing started"), null=True, blank=True)

    class Meta:
        verbose_name = _("petition detail")
        verbose_name_plural = _("petition details")
        indexes = [models.Index(fields=["petitioner_key", "matter_key"], name="petition_repeat_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"
