"""The case (案件): one row for every kind of case, with its assignments, timeline and ratings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.geo.models import Region
from civicgrid.org.models import Department
from civicgrid.org.scoping import ScopedQuerySet
from civicgrid.privacy.fields import EncryptedTextField, KeyedHashField
from civicgrid.taxonomy.models import Category, RequestType


class Priority(models.TextChoices):
    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")


class Channel(models.TextChoices):
    """Where a case came in (来源渠道)."""

    PATROL = "patrol", _("grid worker patrol")
    RESIDENT = "resident", _("resident report")
    HOTLINE = "hotline", _("12345 hotline")
    OPEN311 = "open311", _("Open311 client")
    SENSOR = "sensor", _("sensor or video alert")
    IMPORT = "import", _("bulk import")
    OTHER = "other", _("other")


class Case(models.Model):
    """A case (案件): something that must be handled by someone by a deadline, with a record of
    every step. Every case type (event, dispute, petition, assessment) is a row here plus a
    one-to-one detail table of its own; the engine knows no type in particular.

    ``city``…``grid`` copy the region chain at assignment time and ``boundary_version`` the
    boundary generation it was placed under, so history stays true when the map changes.
    ``version`` guards every state change (a conditional UPDATE that must touch one row).
    """

    case_type = models.CharField(_("case type"), max_length=32)
    state = models.CharField(_("state"), max_length=32)
    version = models.PositiveIntegerField(default=0)
    tracking_code = models.CharField(_("tracking code"), max_length=20)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("description"), blank=True)
    # A case of a restricted type keeps its free text here, encrypted at rest, and ``text`` empty;
    # read either through ``description`` (cases.visibility).
    sealed_text = EncryptedTextField(_("description (encrypted)"), blank=True, default="", db_default="")
    # Who sees the case: "" — the jurisdiction; else the key of its type's restricted rule
    # (registry.Visibility; set at creation, so reads join nothing).
    audience = models.CharField(_("audience"), max_length=40, blank=True, default="", db_default="")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.OTHER)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    request_type = models.ForeignKey(RequestType, verbose_name=_("request type"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+", db_index=False)

    lon = models.FloatField(_("longitude (WGS-84)"), null=True, blank=True)
    lat = models.FloatField(_("latitude (WGS-84)"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    boundary_version = models.PositiveIntegerField(_("boundary version"), null=True, blank=True)
    city = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             db_index=False)
    district = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 db_index=False)
    street = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               db_index=False)
    community = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The unit that owns the case now (首接负责制: the first receiver until formally transferred).
    # Not indexed: the sweep moves it (提级) on thousands of cases at once, and without an index on it
    # (and room left on each page, see migration 0007) PostgreSQL rewrites those rows in place (HOT).
    # A centre's queue is read through the region chain indexes (street, district) it lies in.
    owner_region = models.ForeignKey(Region, verbose_name=_("owning centre"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+", db_index=False)
    lead_department = models.ForeignKey(Department, verbose_name=_("lead department"), null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reporter account"), null=True,
                                 blank=True, on_delete=models.SET_NULL, related_name="reported_cases", db_index=False)
    reporter_name = EncryptedTextField(_("reporter name"), blank=True, mask="name")
    reporter_phone = EncryptedTextField(_("reporter phone"), blank=True, hash_field="reporter_phone_hash",
                                        mask="phone")
    reporter_phone_hash = KeyedHashField(_("reporter phone (keyed hash)"), db_index=False)
    anonymous = models.BooleanField(_("anonymous"), default=False)

    merged_into = models.ForeignKey("self", verbose_name=_("merged into"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="merged_cases", db_index=False)
    reopen_count = models.PositiveSmallIntegerField(_("reopenings"), default=0)
    transfer_count = models.PositiveSmallIntegerField(_("transfers"), default=0)
    escalation_level = models.PositiveSmallIntegerField(_("escalations"), default=0)
    extended = models.BooleanField(_("extended"), default=False)
    deferred = models.BooleanField(_("deferred"), default=False)
    handling_due_at = models.DateTimeField(_("handling due"), null=True, blank=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", db_index=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # How many times the case has been closed (办结次数): a reopening and a new close make closing 2.
    # Ratings and follow-ups are counted once per closing (see Rating).
    closing = models.PositiveSmallIntegerField(_("closing"), default=0, db_default=0)  # raw inserts too

    objects = ScopedQuerySet.as_manager()
    scope = {
        "regions": {"city": "city", "district": "district", "street": "street", "community": "community",
                    "grid": "grid"},
        "departments": ("lead_department", "assignments__department"),
        "owner": "reporter",
        # who keyed the case in (a 12345 agent) and their centre keep sight of it wherever it is placed
        "creator": "created_by",
        # restricted case types (registry.Visibility): narrows every membership's reach and adds the
        # people assigned and their supervisors
        "audience": "civicgrid.cases.visibility.AUDIENCE",
    }

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        permissions = [("reveal_case", _("Can reveal a reporter's name and phone"))]
        # Every index is paid for by every write (intake, each transition, the sweep's escalations),
        # so the table keeps few: the composites serve their leading column too, lookups by phone,
        # reporter account and merge survivor are partial (only rows that have one), and the city,
        # request type and creator are not indexed (one city; rare admin deletions scan).
        constraints = [models.UniqueConstraint(fields=["tracking_code"], name="cases_tracking_code_uniq")]
        indexes = [
            models.Index(fields=["district", "closed_at"], name="cases_district_closed_idx"),
            models.Index(fields=["street", "state"], name="cases_street_state_idx"),
            models.Index(fields=["case_type", "state"], name="cases_type_state_idx"),
            models.Index(fields=["closed_at"], name="cases_closed_idx", condition=models.Q(closed_at__isnull=False)),
            models.Index(fields=["reporter_phone_hash"], name="cases_reporter_phone_idx",
                         condition=~models.Q(reporter_phone_hash="")),
            models.Index(fields=["reporter"], name="cases_reporter_idx", condition=models.Q(reporter__isnull=False)),
            models.Index(fields=["merged_into"], name="cases_merged_into_idx",
                         condition=models.Q(merged_into__isnull=False)),
            # open cases by place: duplicate candidates near a new report (重复诉求)
            models.Index(fields=["lat", "lon"], name="cases_open_place_idx",
                         condition=models.Q(closed_at__isnull=True, merged_into__isnull=True, lat__isnull=False)),
            # problem cases (问题工单) for the sweep: open, reopened or transferred three times or more
            models.Index(fields=["id"], name="cases_problem_idx",
                         condition=models.Q(closed_at__isnull=True, merged_into__isnull=True)
                         & (models.Q(reopen_count__gte=3) | models.Q(transfer_count__gte=3))),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_code} {self.title}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def description(self) -> str:
        """The case's free text, wherever it is kept (encrypted for a restricted type)."""
        return self.sealed_text or self.text

    @property
    def is_restricted(self) -> bool:
        return bool(self.audience)


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("lead unit")  # 主办
    CO = "co", _("co-handling unit")  # 协办


class AssignmentState(models.TextChoices):
    PENDING = "pending", _("waiting to be accepted")
    ACCEPTED = "accepted", _("accepted")
    DISPUTED = "disputed", _("dispatch disputed")  # 退单/派单异议
    RECALLED = "recalled", _("recalled")  # 撤回
    TRANSFERRED = "transferred", _("transferred")
    DONE = "done", _("done")


class Assignment(models.Model):
    """A unit's share of a case (派单): the lead unit or a co-handling unit, with its own state.
    Transfers, returns and escalations end one assignment and open another; nothing is rewritten."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(Department, verbose_name=_("department"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="assignments")
    region = models.ForeignKey(Region, verbose_name=_("centre"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", help_text=_("A centre (street, district…) handling it itself."))
    person = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="case_assignments",
                               help_text=_(
                                   "A person owning the work: a mediator, a leader (包案), a petition handler."))
    role = models.CharField(_("role"), max_length=8, choices=AssignmentRole.choices, default=AssignmentRole.LEAD)
    state = models.CharField(_("state"), max_length=16, choices=AssignmentState.choices,
                             default=AssignmentState.PENDING)
    note = models.CharField(_("note"), max_length=500, blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(_("assigned at"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["case_id", "id"]
        indexes = [models.Index(fields=["department", "state"], name="cases_assign_dept_state_idx"),
                   models.Index(fields=["person", "state"], name="cases_assign_person_state_idx",
                                condition=models.Q(person__isnull=False))]
        constraints = [
            models.CheckConstraint(condition=models.Q(department__isnull=False) | models.Q(region__isnull=False)
                                   | models.Q(person__isnull=False),
                                   name="cases_assignment_has_a_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.department or self.region or self.person} ({self.role}, {self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in (AssignmentState.PENDING, AssignmentState.ACCEPTED, AssignmentState.DISPUTED)


class TimelineQuerySet(models.QuerySet["TimelineEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise RuntimeError("the timeline is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise RuntimeError("the timeline is append-only")


class TimelineEntry(models.Model):
    """One step in a case's history (办理记录): who did what, from which state to which, with a note.
    Append-only. ``public`` entries are shown to the reporter (without staff names)."""

    # The engine's logs (timeline, supervision items, the outbox) keep no database-level foreign keys:
    # only the engine writes them, with the ids of rows it has just read, cases are never deleted,
    # and checking each of the sweep's hundreds of thousands of rows at commit doubled its cost.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timeline", db_index=False,
                             db_constraint=False)
    at = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", db_index=False, db_constraint=False)
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=40)
    from_state = models.CharField(_("from"), max_length=32, blank=True)
    to_state = models.CharField(_("to"), max_length=32, blank=True)
    note = models.TextField(_("note"), blank=True)
    # The note of a restricted case's step, encrypted at rest (``note`` stays empty in the table and is
    # filled from this one when the row is read: every reader keeps reading ``note``).
    sealed_note = EncryptedTextField(_("note (encrypted)"), blank=True, default="", db_default="")
    data = models.JSONField(_("details"), default=dict, blank=True)
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    public = models.BooleanField(_("shown to the reporter"), default=False)

    objects = TimelineQuerySet.as_manager()

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline")
        ordering = ["case_id", "at", "id"]
        indexes = [
            models.Index(fields=["case", "at"], name="cases_timeline_case_at_idx"),
            models.Index(fields=["actor"], name="cases_timeline_actor_idx", condition=models.Q(actor__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.from_state}→{self.to_state}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("the timeline is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("the timeline is append-only")

    @classmethod
    def from_db(cls, *args: Any, **kwargs: Any) -> TimelineEntry:
        entry = super().from_db(*args, **kwargs)
        sealed = entry.__dict__.get("sealed_note")
        if sealed:
            entry.note = sealed
        return entry

    @property
    def moved(self) -> bool:
        """The step changed the case's state (the report itself and a rating do not)."""
        return bool(self.from_state) and self.from_state != self.to_state


class Supervision(models.Model):
    """A supervision item (督办/催办) on a case: opened by the sweep when a clock runs over, or by a
    supervisor; closed when the case moves on."""

    class Kind(models.TextChoices):
        OVERDUE = "overdue", _("overdue")
        CHASE = "chase", _("chase")
        SUPERVISE = "supervise", _("supervise")
        PROBLEM = "problem", _("problem case")  # 问题工单: repeated reopening or transfer

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supervisions", db_constraint=False)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", db_index=False, db_constraint=False)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("supervision item")
        verbose_name_plural = _("supervision items")
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], condition=models.Q(closed_at__isnull=True),
                                    name="cases_one_open_supervision_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    BASIC = "basic", _("basically satisfied")
    UNSATISFIED = "unsatisfied", _("unsatisfied")


class RatingSource(models.TextChoices):
    """Who gave a rating: the reporter themself (自评), a staff follow-up call that reached them (有效回访),
    or a call attempt that did not (unreachable, refused: 回访尝试)."""

    RESIDENT = "resident", _("the reporter's own rating")
    FOLLOW_UP = "follow_up", _("staff follow-up")
    ATTEMPT = "attempt", _("follow-up call attempt")


class Rating(models.Model):
    """The follow-up (回访) and the reporter's rating: was the person contacted, is it resolved, how
    satisfied. ``valid`` follow-ups are the denominator of the three rates (三率).

    Each closing of a case (``closing``, the case's count at the time) takes one rating from the
    reporter and one valid staff follow-up — a unique constraint, so neither can be multiplied by
    repeating or racing the request; call attempts (``attempt``) are kept apart and not limited."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="ratings", db_index=False)
    closing = models.PositiveSmallIntegerField(_("closing"), default=1, db_default=1)
    source = models.CharField(_("source"), max_length=10, choices=RatingSource.choices,
                              default=RatingSource.FOLLOW_UP, db_default=RatingSource.FOLLOW_UP.value)
    valid = models.BooleanField(_("valid follow-up"), default=True)
    contacted = models.BooleanField(_("contacted"), default=True)
    resolved = models.BooleanField(_("resolved"), default=False)
    satisfaction = models.CharField(_("satisfaction"), max_length=16, choices=Satisfaction.choices)
    comment = models.TextField(_("comment"), blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    at = models.DateTimeField(_("rated at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        # The three rates read every follow-up of a set of cases: answer them from the index alone.
        indexes = [models.Index(fields=["case", "valid", "at", "contacted", "resolved", "satisfaction"],
                                name="cases_rating_followup_idx")]
        constraints = [
            models.UniqueConstraint(fields=["case", "closing", "source"], name="cases_one_rating_per_closing",
                                    condition=~models.Q(source="attempt")),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.satisfaction}"


class ApprovalRequest(models.Model):
    """A request that needs a decision (审批): an extension of the handling time (延期) or a
    deferral that pauses the clocks (缓办/挂起)."""

    class Kind(models.TextChoices):
        EXTENSION = "extension", _("extension")
        DEFERRAL = "deferral", _("deferral")

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="approval_requests")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = models.FloatField(_("extra time"), null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    reason = models.TextField(_("reason"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], condition=models.Q(state="pending"),
                                    name="cases_one_pending_request_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.state}"
