"""Event-specific records (事件): the detail of each event case, and whistle-summons (吹哨报到).

The event itself is a :class:`civicgrid.cases.models.Case` of type ``event`` (state, location,
category, request type, reporter, channel live there); :class:`EventDetail` adds what only events
have. Rows are written only through :mod:`civicgrid.events.services` (and the bulk import path,
:mod:`civicgrid.events.bulk`, which writes the same rows set-based).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models import Assignment, Case, Channel
from civicgrid.geo.models import Region
from civicgrid.org.models import Department


class Routing(models.TextChoices):
    """Where intake sent the event: to the department the dispatch catalogue names, or to the owning
    centre's manual queue (人工派单) because its place or its category is unknown."""

    ROUTED = "routed", _("routed by the dispatch catalogue")
    MANUAL = "manual", _("centre's manual queue")


class LocationSource(models.TextChoices):
    GIVEN = "given", _("given by the reporter")
    PHOTO = "photo", _("from the photo's GPS")
    NONE = "none", _("no location")


class EventDetail(models.Model):
    """What an event case has besides the generic case (事件详情): how it arrived (idempotency key,
    source system and its id), its photos, and where intake routed it and why."""

    case = models.OneToOneField(Case, verbose_name=_("case"), primary_key=True, on_delete=models.CASCADE,
                                related_name="event")
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True, null=True, blank=True,
                                       help_text=_("A retried submission with the same key returns this event."))
    fingerprint = models.CharField(_("submission fingerprint"), max_length=64, blank=True)
    source_system = models.CharField(_("source system"), max_length=64, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    photos = models.JSONField(_("photos"), default=list, blank=True)
    location_source = models.CharField(_("location from"), max_length=8, choices=LocationSource.choices,
                                       default=LocationSource.NONE)
    category_text = models.CharField(_("category as reported"), max_length=100, blank=True)
    routing = models.CharField(_("routing"), max_length=8, choices=Routing.choices, default=Routing.MANUAL,
                               db_index=True)
    routing_reason = models.CharField(_("routing reason"), max_length=300, blank=True)
    suggested_department = models.ForeignKey(Department, verbose_name=_("suggested department"), null=True,
                                             blank=True, on_delete=models.SET_NULL, related_name="+")
    # The reporter's rating secret (评价码), given once with the tracking code; only its keyed hash
    # is kept. Empty: nobody can rate without an account (an imported event).
    rating_secret_hash = models.CharField(_("rating secret (keyed hash)"), max_length=64, blank=True,
                                          editable=False, default="", db_default="")

    class Meta:
        verbose_name = _("event detail")
        verbose_name_plural = _("event details")

    def __str__(self) -> str:
        return f"{self.case_id} {self.routing}"


class WhistleKind(models.TextChoices):
    ROUTINE = "routine", _("routine")  # 日常吹哨
    HARD = "hard", _("hard case")  # 攻坚吹哨
    EMERGENCY = "emergency", _("emergency")  # 应急吹哨


class Whistle(models.Model):
    """A street centre summons departments to an event (街乡吹哨): the kind, the reason, who blew it."""

    case = models.ForeignKey(Case, verbose_name=_("event"), on_delete=models.CASCADE, related_name="whistles")
    street = models.ForeignKey(Region, verbose_name=_("street"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=WhistleKind.choices)
    reason = models.TextField(_("reason"))
    blown_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    blown_at = models.DateTimeField(_("blown at"), db_index=True)

    class Meta:
        verbose_name = _("whistle")
        verbose_name_plural = _("whistles")
        ordering = ["-blown_at", "-id"]
        indexes = [models.Index(fields=["street", "blown_at"], name="events_whistle_street_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class WhistleSummons(models.Model):
    """One department summoned by a whistle (部门报到): its deadlines (engine timers, copied here for
    reporting), when it acknowledged, arrived and responded, and the street's score of it."""

    whistle = models.ForeignKey(Whistle, on_delete=models.CASCADE, related_name="summons")
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT,
                                   related_name="+")
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ack_due_at = models.DateTimeField(_("acknowledge by"))
    arrive_due_at = models.DateTimeField(_("arrive by"))
    respond_due_at = models.DateTimeField(_("respond by"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    response = models.TextField(_("response"), blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    score_note = models.CharField(_("score note"), max_length=300, blank=True)
    scored_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    scored_at = models.DateTimeField(_("scored at"), null=True, blank=True)

    class Meta:
        verbose_name = _("whistle summons")
        verbose_name_plural = _("whistle summonses")
        constraints = [
            models.UniqueConstraint(fields=["whistle", "department"], name="events_one_summons_per_department"),
            models.CheckConstraint(condition=models.Q(score__isnull=True) | models.Q(score__lte=100),
                                   name="events_score_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.whistle_id} → {self.department_id}"


# Open311 never publishes these, whatever the rule says: 12345 calls (the caller did not publish
# them), complaints (投诉) and reports or accusations (举报).
NEVER_PUBLIC_CHANNELS = frozenset({Channel.HOTLINE.value})
NEVER_PUBLIC_REQUEST_TYPES = frozenset({"complaint", "report"})
DEFAULT_PUBLIC_CHANNELS = [Channel.RESIDENT.value, Channel.PATROL.value, Channel.OPEN311.value]
DEFAULT_PUBLIC_CATEGORY_KINDS = ["component", "event"]  # 部件, 事件
DEFAULT_PUBLIC_REQUEST_TYPES = ["enquiry", "help", "suggestion"]


def _default_channels() -> list[str]:
    return list(DEFAULT_PUBLIC_CHANNELS)


def _default_kinds() -> list[str]:
    return list(DEFAULT_PUBLIC_CATEGORY_KINDS)


def _default_request_types() -> list[str]:
    return list(DEFAULT_PUBLIC_REQUEST_TYPES)


class Open311Publication(models.Model):
    """Which events the public Open311 lists show (公开规则), set by a city administrator: one row
    (while there is none, the defaults apply). An event is public when its channel, its category's
    kind and its request type (or its having none) are all marked public here; 12345 calls,
    complaints and reports/accusations never are."""

    channels = models.JSONField(_("public channels"), default=_default_channels, blank=True)
    category_kinds = models.JSONField(_("public category kinds"), default=_default_kinds, blank=True)
    request_types = models.JSONField(_("public request types (codes)"), default=_default_request_types,
                                     blank=True)
    without_request_type = models.BooleanField(_("publish events without a request type"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("Open311 publication rule")
        verbose_name_plural = _("Open311 publication rule")

    def __str__(self) -> str:
        return str(_("Open311 publication rule"))
