"""Writes of the events app: intake from every channel (上报), the steps of the loop as thin calls of
the case engine, the reporter's rating, and whistle-summons (吹哨报到).

Every function is one transaction; refusals are the engine's (OutOfScope 404, TransitionRefused 403,
TransitionNotAllowed 422, CaseConflict 409) plus :class:`EventInvalid` (422, with field names).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from civicgrid.audit.services import audit_record
from civicgrid.cases.errors import CaseConflict, TransitionNotAllowed, TransitionRefused
from civicgrid.cases.models import AssignmentState, Case, Channel, Priority, Rating, Satisfaction
from civicgrid.cases.services import (
    CODE_ALPHABET,
    Location,
    TransitionContext,
    assignment_open,
    case_create,
    case_rate,
    case_transition,
    notify,
    timeline_add,
)
from civicgrid.cases.timers import timer_start, timers_stop
from civicgrid.core.batch import one_statement
from civicgrid.core.refcache import reference_cached
from civicgrid.events.models import (
    EventDetail,
    LocationSource,
    Routing,
    Whistle,
    WhistleKind,
    WhistleSummons,
)
from civicgrid.events.photos import PhotoInvalid, PhotoUpload, photos_check, photos_store
from civicgrid.events.workflow import EVENT
from civicgrid.geo import crs as crsmod
from civicgrid.geo.models import LEVELS
from civicgrid.geo.selectors import PointChain, point_chain
from civicgrid.org.models import Department, Membership
from civicgrid.org.permissions import ACT
from civicgrid.org.scoping import OutOfScope, roles_reaching
from civicgrid.privacy import crypto
from civicgrid.privacy.crypto import keyed_hash
from civicgrid.privacy.exports import bulk_read_check
from civicgrid.privacy.masking import mask_phone
from civicgrid.privacy.validators import validate_phone
from civicgrid.taxonomy.models import Category, RequestType
from civicgrid.taxonomy.selectors import dispatch_department_for

MAX_TEXT = 4000
_CHANNELS = frozenset(Channel.values)
_PRIORITIES = frozenset(Priority.values)
MAX_KEY = 100
MAX_MEDIA_URL = 500

# Which roles may report through which channel (anyone may report as a resident or an Open311 client).
CHANNEL_ROLES: dict[str, frozenset[str]] = {
    Channel.PATROL: frozenset({"grid_worker", "admin"}),
    Channel.HOTLINE: frozenset({"dispatcher", "admin"}),
    Channel.SENSOR: frozenset({"admin"}),
    Channel.IMPORT: frozenset({"admin"}),
}
# The reporter account is the actor for these channels (a 12345 agent reports for someone else).
SELF_REPORTED = frozenset({Channel.PATROL, Channel.RESIDENT, Channel.OPEN311, Channel.OTHER})


class EventInvalid(ValidationError):
    """The submission has bad fields: ``{"field": "why"}`` (HTTP 422 in the API, one line in the CLI)."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__({k: [v] for k, v in fields.items()})
        self.fields = fields


# ---------------------------------------------------------------------------------------------
# intake: validation


@dataclass
class EventInput:
    """What a report says, as received from any channel (strings are fine: they are checked)."""

    text: str = ""
    title: str = ""
    channel: str = Channel.RESIDENT
    request_type: Any = None  # code or name (咨询) or a RequestType
    category: Any = None  # code or name or a Category
    lon: Any = None
    lat: Any = None
    crs: str = "wgs84"
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    anonymous: bool = False
    priority: str = Priority.NORMAL
    source_system: str = ""
    external_id: str = ""
    media_url: str = ""  # a link to a photo or video kept elsewhere (Open311 media_url); never fetched
    # The reporter confirmed (on the page: "use the photo's location?") that a photo's GPS may place
    # the report. Without it a photo's hidden position is never used, nor kept: a person who sends a
    # photo taken at home has not said "my home is the place".
    use_photo_location: bool = False


@dataclass
class PreparedEvent:
    """A checked report: objects resolved, the point in WGS-84."""

    title: str
    text: str
    channel: str
    request_type: RequestType | None
    category: Category | None
    category_text: str
    lon: float | None
    lat: float | None
    address: str
    reporter_name: str
    reporter_phone: str
    anonymous: bool
    priority: str
    source_system: str
    external_id: str
    location_source: str = LocationSource.NONE
    media_url: str = ""


class Lookups:
    """Categories and request types by code and name, read once (an import checks many rows). One
    instance is shared by the threads of a process (:func:`shared_lookups`): each table is read into
    a dict of its own and published whole."""

    def __init__(self) -> None:
        self._cats: dict[str, Category | None] | None = None
        self._types: dict[str, RequestType] | None = None

    def category(self, value: str) -> Category | None:
        if self._cats is None:
            cats: dict[str, Category | None] = {}
            names: dict[str, list[Category]] = {}
            for c in Category.objects.filter(is_active=True):
                cats[c.code.casefold()] = c
                names.setdefault(c.name, []).append(c)
            for name, found in names.items():  # a name counts only where it is unambiguous
                cats.setdefault(name, found[0] if len(found) == 1 else None)
            self._cats = cats
        return self._cats.get(value.casefold()) or self._cats.get(value)

    def request_type(self, value: str) -> RequestType | None:
        if self._types is None:
            # filled aside and then published: the shared instance serves several threads at once
            # (a thread must never see it half-filled and refuse 求助 as unknown)
            types: dict[str, RequestType] = {}
            for rt in RequestType.objects.filter(is_active=True):
                types[rt.code.casefold()] = rt
                types[rt.name] = rt
            self._types = types
        return self._types.get(value.casefold()) or self._types.get(value)


@reference_cached(key=lambda: "lookups")
def shared_lookups() -> Lookups:
    """One :class:`Lookups` per process for single reports, renewed when reference data changes."""
    return Lookups()


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError
    return float(value)


def _suggest_category(title: str, text: str) -> Category | None:
    """Smart dispatch at intake: the setting ``CIVICGRID_EVENT_CATEGORY_SUGGESTER`` names a callable
    ``f(title=, text=)`` returning a Category, a category code or None (by default
    ``civicgrid.dispatch.selectors.category_for_intake``: a category only when the trained model is
    sure enough). Used only when the report names no category."""
    path = getattr(settings, "CIVICGRID_EVENT_CATEGORY_SUGGESTER", "")
    if not path:
        return None
    suggest: Callable[..., Any] = import_string(path)
    found = suggest(title=title, text=text)
    if isinstance(found, str):
        return Category.objects.filter(code=found, is_active=True).first()
    return found if isinstance(found, Category) else None


def event_validate(data: EventInput, *, lookups: Lookups | None = None) -> PreparedEvent:
    """Check a report; every bad field is named in one :class:`EventInvalid`."""
    lookups = lookups or shared_lookups()
    errors: dict[str, str] = {}
    text = (data.text or "").strip()
    title = " ".join((data.title or "").split())
    if not text and not title:
        errors["text"] = _("Describe the problem.")
    elif len(text) > MAX_TEXT:
        errors["text"] = _("The description is longer than %(n)d characters.") % {"n": MAX_TEXT}
    if not title:
        title = " ".join(text.split())[:40]
    if data.channel not in _CHANNELS:
        errors["channel"] = _("Unknown channel %(c)s.") % {"c": data.channel}
    if data.priority not in _PRIORITIES:
        errors["priority"] = _("Priority is normal or urgent.")
    request_type = None
    if isinstance(data.request_type, RequestType):
        request_type = data.request_type
    elif data.request_type not in (None, ""):
        request_type = lookups.request_type(str(data.request_type).strip())
        if request_type is None:
            errors["request_type"] = _("Unknown request type %(v)s (咨询, 求助, 投诉, 举报 or 建议).") % {
                "v": data.request_type}
    category, category_text = None, ""
    if isinstance(data.category, Category):
        category = data.category
    elif data.category not in (None, ""):
        category_text = str(data.category).strip()[:100]
        category = lookups.category(category_text)  # unknown: kept as text, the centre decides
    lon = lat = None
    try:
        lon, lat = _number(data.lon), _number(data.lat)
    except (TypeError, ValueError):
        errors["location"] = _("Longitude and latitude must be numbers.")
    if "location" not in errors and (lon is None) != (lat is None):
        errors["location"] = _("Give both longitude and latitude, or neither.")
    elif lon is not None and lat is not None:
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            errors["location"] = _("Longitude must be within ±180 and latitude within ±90.")
        elif data.crs not in ("wgs84", "gcj02"):
            errors["crs"] = _("The coordinate system is wgs84 or gcj02.")
        elif data.crs == "gcj02":
            lon, lat = crsmod.gcj02_to_wgs84(lon, lat)
    media_url = (data.media_url or "").strip()
    if media_url:
        try:
            if len(media_url) > MAX_MEDIA_URL:
                raise ValidationError("too long")
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            errors["media_url"] = _("Give an http(s) address of at most %(n)d characters.") % {"n": MAX_MEDIA_URL}
    phone = (data.reporter_phone or "").strip()
    if phone and not data.anonymous:
        try:
            validate_phone(phone)
        except ValidationError as exc:
            errors["reporter_phone"] = "; ".join(exc.messages)
    if errors:
        raise EventInvalid(errors)
    if category is None and not category_text:
        category = _suggest_category(title, text)
    return PreparedEvent(
        title=title[:200], text=text, channel=data.channel, request_type=request_type, category=category,
        category_text=category_text, lon=lon, lat=lat, address=(data.address or "").strip()[:200],
        reporter_name="" if data.anonymous else (data.reporter_name or "").strip()[:50],
        reporter_phone="" if data.anonymous else phone, anonymous=bool(data.anonymous), priority=data.priority,
        source_system=(data.source_system or "").strip()[:64], external_id=(data.external_id or "").strip()[:100],
        location_source=LocationSource.GIVEN if lon is not None else LocationSource.NONE, media_url=media_url,
    )


# ---------------------------------------------------------------------------------------------
# intake: routing


@dataclass(frozen=True)
class Route:
    routing: str
    reason: str
    department: Department | None = None


def event_route(*, category: Category | None, chain: dict[str, int | None], category_text: str = "") -> Route:
    """Where an event goes (DOMAIN §3): location → grid → region chain, then category × region →
    department through the dispatch catalogue. Unknown location or category → the manual queue of
    the centre that owns it, never lost."""
    if category is None:
        why = (_("manual queue: unknown category %(c)s") % {"c": category_text} if category_text
               else _("manual queue: no category"))
        return Route(Routing.MANUAL, why)
    if not chain.get("community") and not chain.get("grid"):
        return Route(Routing.MANUAL, _("manual queue: unknown location"))
    answer = dispatch_department_for(category=category, chain=chain)
    if answer.department is None:
        return Route(Routing.MANUAL, (_("manual queue: %(why)s") % {"why": answer.reason})[:300])
    return Route(Routing.ROUTED, answer.reason[:300], answer.department)


def _placed(prepared: PreparedEvent) -> PointChain | None:
    if prepared.lon is None or prepared.lat is None:
        return None
    return point_chain(prepared.lon, prepared.lat)


# ---------------------------------------------------------------------------------------------
# intake: the service


@dataclass
class ReportResult:
    case: Case
    created: bool  # False: a retry with the same idempotency key returned the existing event
    detail: EventDetail = field(repr=False, default=None)  # type: ignore[assignment]
    photo_gps: tuple[float, float] | None = None
    # The reporter's rating secret, in the answer that created the event only (a retry cannot give
    # it again: only its hash is kept).
    rating_secret: str = field(repr=False, default="")


RATING_SECRET_LENGTH = 8  # 40 bits: guessing online is hopeless under the public rate limit


def rating_secret_new() -> str:
    """A rating secret (评价码) to read out or type: 8 characters in two groups, no look-alikes."""
    raw = "".join([CODE_ALPHABET[b & 31] for b in secrets.token_bytes(RATING_SECRET_LENGTH)])
    return f"{raw[:4]}-{raw[4:]}"


def rating_secret_hash(secret: str) -> str:
    """The keyed hash kept for a secret; typing it with or without the dash, in any case, is the same."""
    return keyed_hash(f"rating{secret or ''}")


def rating_secret_matches(stored_hash: str, secret: str) -> bool:
    if not stored_hash or not (secret or "").strip() or not secret.isascii():  # (a secret is ASCII: a lone
        return False  # surrogate or a NUL typed instead is simply wrong, never an error)
    return hmac.compare_digest(stored_hash, rating_secret_hash(secret))


def _roles_of(actor: Any) -> set[str]:
    if actor is None:
        return {"system"}
    if getattr(actor, "is_superuser", False):
        return {"admin"}
    return set(Membership.objects.filter(user=actor, is_active=True).values_list("role", flat=True))


def _check_channel(actor: Any, channel: str) -> None:
    needed = CHANNEL_ROLES.get(channel)
    if needed is None or actor is None:
        return
    if not (_roles_of(actor) & needed):
        raise EventInvalid({"channel": _("You may not report through the %(c)s channel.")
                            % {"c": Channel(channel).label}})


def _intake_centre(actor: Any) -> Any:
    """The centre a 12345 agent takes calls for: the region of their call-taking membership (the
    widest, when they hold several); None for the system and for superusers (the city's queue)."""
    if actor is None or getattr(actor, "is_superuser", False):
        return None
    regions = [m.region for m in Membership.objects.filter(
        user=actor, is_active=True, role__in=CHANNEL_ROLES[Channel.HOTLINE], region__isnull=False,
    ).select_related("region")]
    return min(regions, key=lambda r: (LEVELS.index(r.level), r.pk), default=None)


def idempotency_scope(actor: Any, source_system: str = "", token: Any = None, fp: str = "") -> str:
    """Keys are scoped by who sends them: a source system, an API token, a user account; an
    anonymous client has no identity to scope by, so its key counts only together with what it
    reports (``fp``, the report's fingerprint): the same key and the same report are a retry, the
    same key with another report is another report (docs/api.md, "Idempotency")."""
    if source_system:
        return f"sys:{source_system}"
    if token is not None:
        return f"token:{token.pk}"
    if getattr(actor, "is_authenticated", False):
        return f"user:{actor.pk}"
    return f"anon:{fp[:32]}"


def fingerprint(prepared: PreparedEvent, photo_hashes: Sequence[str] = ()) -> str:
    """A keyed digest of what was reported: a retry must say the same thing as the first try."""
    body = json.dumps([prepared.title, prepared.text, prepared.channel,
                       prepared.request_type.code if prepared.request_type else None,
                       prepared.category.code if prepared.category else prepared.category_text,
                       prepared.lon, prepared.lat, prepared.address, prepared.reporter_name,
                       prepared.reporter_phone, prepared.anonymous, prepared.priority, list(photo_hashes)]
                      + ([prepared.media_url] if prepared.media_url else []),  # absent: as before links existed
                      ensure_ascii=False, separators=(",", ":"))
    return hmac.new(settings.SECRET_KEY.encode(), body.encode(), hashlib.sha256).hexdigest()


@functools.cache
def _existing_sql() -> str:
    qn, meta = connection.ops.quote_name, EventDetail._meta
    return (f"SELECT {qn(meta.get_field('case').column)}, {qn(meta.get_field('fingerprint').column)} "
            f"FROM {qn(meta.db_table)} WHERE {qn(meta.get_field('idempotency_key').column)} = %s LIMIT 1")


def _existing(key: str, fp: str) -> Case | None:
    # Asked on every keyed report and almost always answered "none": a plain look-up of the key's
    # index; the case is read only for a retry.
    with connection.cursor() as cursor:
        cursor.execute(_existing_sql(), [key])
        found = cursor.fetchone()
    if found is None:
        return None
    case_id, fingerprint = found
    if fingerprint and fp and fingerprint != fp:
        raise EventInvalid({"idempotency_key": _("This key was used for a different report.")})
    return Case.objects.select_related("event").get(pk=case_id)


def event_report(
    *,
    actor: Any,
    data: EventInput,
    photos: Sequence[PhotoUpload] = (),
    idempotency_key: str = "",
    token: Any = None,
    now: dt.datetime | None = None,
    lookups: Lookups | None = None,
) -> ReportResult:
    """Take in one report from any channel (上报): check it, clean and store its photos (EXIF
    stripped; a photo's GPS becomes the location only when the reporter confirmed it,
    ``use_photo_location``, and none is given), place it in its grid and
    region chain, route it, and create the event in state ``reported`` for the owning centre.

    With an ``idempotency_key`` a retried submission returns the first event (``created=False``);
    the same key with a different report is refused — except from an anonymous client, whose keys
    share no namespace with anyone's: there it is another report. ``token``: the API token the
    report came with (its keys are its own)."""
    now = now or timezone.now()
    idempotency_key = (idempotency_key or "").strip()
    if len(idempotency_key) > MAX_KEY:
        raise EventInvalid({"idempotency_key": _("At most %(n)d characters.") % {"n": MAX_KEY}})
    prepared = event_validate(data, lookups=lookups)
    _check_channel(actor, prepared.channel)
    try:
        cleaned = photos_check(list(photos))
    except PhotoInvalid as exc:
        raise EventInvalid({"photos": str(exc)}) from None
    fp = fingerprint(prepared, [m["sha256"] for _d, m in cleaned])
    key = (f"{idempotency_scope(actor, prepared.source_system, token, fp)}:{idempotency_key}"
           if idempotency_key else None)
    if key and cleaned:
        # A retry must not store its photos again: look the key up first. Without photos the write
        # itself meets a taken key (its unique index) and the first event is read then — a retry is
        # rare, and every first try saves the look-up.
        found = _existing(key, fp)
        if found is not None:
            return ReportResult(found, False, found.event)
    photo_gps = next((tuple(m["gps"]) for _d, m in cleaned if m.get("gps")), None)
    if data.use_photo_location and photo_gps is not None:
        if prepared.lon is None:
            prepared.lon, prepared.lat = photo_gps
            prepared.location_source = LocationSource.PHOTO
        elif abs(prepared.lon - photo_gps[0]) < 1e-5 and abs(prepared.lat - photo_gps[1]) < 1e-5:
            prepared.location_source = LocationSource.PHOTO  # the page placed the pin where the photo was
    if prepared.location_source != LocationSource.PHOTO:
        cleaned = [(d, {**m, "gps": None}) for d, m in cleaned]  # not confirmed: not kept either
    placed = _placed(prepared)
    # A 12345 call with no place of its own (an enquiry, an address not yet found on the map) belongs
    # to the centre of the agent who took it: placed in that centre's region, it is the centre's to
    # answer, route and follow — never parked in the city's queue out of the agent's sight.
    centre = _intake_centre(actor) if placed is None and prepared.channel == Channel.HOTLINE else None
    route = event_route(category=prepared.category, chain=placed.ids if placed else {},
                        category_text=prepared.category_text)
    stored = photos_store(cleaned)
    if prepared.media_url:  # kept with the photos as a link: {"url": …}
        stored.append({"url": prepared.media_url})
    # A system's report (an import, a sensor) has nobody to give a secret to: rated by account only.
    secret = "" if prepared.source_system else rating_secret_new()
    detail = {"idempotency_key": key, "fingerprint": fp, "source_system": prepared.source_system,
              "external_id": prepared.external_id, "photos": stored, "location_source": prepared.location_source,
              "category_text": prepared.category_text, "routing": route.routing,
              "routing_reason": route.reason, "suggested_department": route.department,
              "rating_secret_hash": rating_secret_hash(secret) if secret else ""}
    reporter = actor if prepared.channel in SELF_REPORTED else None
    receipt: Callable[[Case], tuple[str, str]] | None = None
    if secret and reporter is None and prepared.reporter_phone and not prepared.anonymous:
        # A reporter without an account hears of the secret by SMS, with the tracking code (an
        # account holder rates signed in). Written with the case: no statement more.
        def receipt(case: Case) -> tuple[str, str]:
            return (_("Your report %(code)s is received") % {"code": case.tracking_code},
                    _("Tracking code %(code)s, rating secret %(secret)s: keep both to follow your report and "
                      "to rate its result.") % {"code": case.tracking_code, "secret": secret})
    try:
        # On PostgreSQL the case and all its rows are one statement, atomic without a transaction
        with nullcontext() if one_statement() else transaction.atomic():
            case = case_create(
                actor=actor, case_type=EVENT, title=prepared.title, text=prepared.text, channel=prepared.channel,
                location=(Location(lon=prepared.lon, lat=prepared.lat, placed=placed) if placed
                          else Location(region=centre) if centre else None),
                category=prepared.category, request_type=prepared.request_type, priority=prepared.priority,
                reporter=reporter,
                reporter_name=prepared.reporter_name, reporter_phone=prepared.reporter_phone,
                anonymous=prepared.anonymous, address=prepared.address, detail=detail, receipt=receipt, now=now,
            )
    except IntegrityError:
        found = _existing(key, fp) if key else None
        if found is None:
            raise
        return ReportResult(found, False, found.event)
    return ReportResult(case, True, case.event, photo_gps, rating_secret=secret)


def caller_lookup_record(*, actor: Any, phone: str, found: int) -> None:
    """Audit a 12345 agent's look-up of a caller's earlier cases by phone number (a search of
    personal data). The row names the number only masked and by its keyed hash, which an auditor can
    match against a number they hash themselves; never the number itself."""
    normal = crypto.normalise(phone, "phone")
    with transaction.atomic():
        audit_record(actor=actor, action="events.caller_lookup", target_type="cases.case",
                     target_repr=mask_phone(normal),
                     extra={"phone": mask_phone(normal), "phone_hash": crypto.keyed_hash(phone, "phone"),
                            "found": found})
    bulk_read_check(actor)  # the cases found count as personal records read (privacy.exports)


# ---------------------------------------------------------------------------------------------
# the loop: thin, named calls of the engine


def _event(case: Case) -> Case:
    if case.case_type != EVENT:
        raise TransitionNotAllowed({"case": _("This is not an event.")})
    return case


def event_register(*, actor: Any, case: Case, note: str = "", now: dt.datetime | None = None) -> Case:
    return case_transition(actor=actor, case=_event(case), action="register", note=note, now=now)


def event_reject(*, actor: Any, case: Case, reason: str, now: dt.datetime | None = None) -> Case:
    return case_transition(actor=actor, case=_event(case), action="reject", reason=reason, now=now)


def event_answer(*, actor: Any, case: Case, answer: str, now: dt.datetime | None = None) -> Case:
    """Answer an enquiry (咨询) at once and close it (直接答复)."""
    return case_transition(actor=actor, case=_event(case), action="answer", note=answer, now=now)


def event_dispatch(
    *,
    actor: Any,
    case: Case,
    department: Department | None = None,
    co_departments: Sequence[Department] = (),
    region: Any = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> Case:
    """Dispatch to a lead unit and co-handling units (主办/协办); without a department, the one the
    dispatch catalogue suggested at intake."""
    _event(case)
    if department is None and region is None:
        department = EventDetail.objects.filter(case=case).values_list("suggested_department", flat=True).first()
        department = Department.objects.filter(pk=department).first() if department else None
        if department is None:
            raise EventInvalid({"department": _("No department was suggested for this event: name one.")})
    return case_transition(actor=actor, case=case, action="dispatch", department=department,
                           co_departments=list(co_departments), region=region, note=note, now=now)


def event_accept(*, actor: Any, case: Case, now: dt.datetime | None = None) -> Case:
    return case_transition(actor=actor, case=_event(case), action="accept", now=now)


def event_dispute(*, actor: Any, case: Case, reason: str, now: dt.datetime | None = None) -> Case:
    return case_transition(actor=actor, case=_event(case), action="dispute", reason=reason, now=now)


def photos_stored(photos: Sequence[PhotoUpload]) -> list[dict[str, Any]]:
    """Check and store an action's photos: the attachments of its timeline entry (422 at photos)."""
    return _photos(photos)


def _photos(photos: Sequence[PhotoUpload]) -> list[dict[str, Any]]:
    try:
        return photos_store(photos_check(list(photos)))
    except PhotoInvalid as exc:
        raise EventInvalid({"photos": str(exc)}) from None


def event_report_back(*, actor: Any, case: Case, note: str, photos: Sequence[PhotoUpload],
                      now: dt.datetime | None = None) -> Case:
    """The unit reports its work done, with photos (处置反馈)."""
    return case_transition(actor=actor, case=_event(case), action="report_back", note=note,
                           uploads={"photos": photos}, now=now)  # stored once the step is allowed


def event_verify(*, actor: Any, case: Case, passed: bool, note: str, photos: Sequence[PhotoUpload] = (),
                 now: dt.datetime | None = None) -> Case:
    """The grid worker's on-site check (核查): passed closes the event, failed sends it back (返工)."""
    if passed:
        return case_transition(actor=actor, case=_event(case), action="verify", note=note,
                               uploads={"photos": photos}, now=now)
    return case_transition(actor=actor, case=_event(case), action="verify_fail", reason=note,
                           uploads={"photos": photos}, now=now)


def event_reply(*, actor: Any, case: Case, reply: str, now: dt.datetime | None = None) -> Case:
    """Tell the reporter how it was solved (答复)."""
    return case_transition(actor=actor, case=_event(case), action="reply", note=reply, now=now)


def event_rate(*, actor: Any, case: Case, satisfaction: str, comment: str = "", contacted: bool = True,
               resolved: bool | None = None, valid: bool = True, now: dt.datetime | None = None) -> Rating:
    """The follow-up rating (回访评价): the reporter's once per closing, a staff follow-up once per
    closing (409 for a second: ``case_rate``); an "unsatisfied" staff follow-up reopens the event
    (返工), the reporter's own "unsatisfied" puts it on the centre's call list for a verifying
    call (回访核实); a rating stops the follow-up clock (the type's ``rating_stops``)."""
    _event(case)
    if resolved is None:
        resolved = satisfaction != Satisfaction.UNSATISFIED
    return case_rate(actor=actor, case=case, satisfaction=satisfaction, comment=comment, contacted=contacted,
                     resolved=resolved, valid=valid, now=now)


class RatingRefused(TransitionRefused):
    """The public rating without the reporter's rating secret (or account): HTTP 403, saying no more
    about the event than its public page does."""


def event_rate_public(*, tracking_code: str, satisfaction: str, secret: str = "", actor: Any = None,
                      comment: str = "", now: dt.datetime | None = None) -> Rating:
    """The reporter rates once the centre has answered them (answered or replied): with the rating
    secret given with the tracking code, or signed in to the account they reported from. The
    tracking code alone (which Open311 may publish) is never enough: 403."""
    case = (Case.objects.select_related("event")
            .filter(case_type=EVENT, tracking_code=(tracking_code or "").strip().upper()).first())
    if case is None:
        raise OutOfScope(_("No event has this tracking code."))
    own = (getattr(actor, "is_authenticated", False) and case.reporter_id is not None
           and actor.pk == case.reporter_id)
    if not own:
        detail = getattr(case, "event", None)
        if not rating_secret_matches(detail.rating_secret_hash if detail else "", secret):
            raise RatingRefused(_("Only the reporter may rate: give the rating secret you received with the "
                                  "tracking code, or sign in to the account you reported from."))
    if case.state not in ("answered", "replied"):
        raise TransitionNotAllowed({"action": _("You can rate once you have received the reply.")})
    return event_rate(actor=actor if own else None, case=case, satisfaction=satisfaction, comment=comment[:1000],
                      now=now)


# ---------------------------------------------------------------------------------------------
# whistle-summons (吹哨报到, DOMAIN §5)

# Default deadlines per kind: acknowledge (签收), arrive or make contact (到场/联系), respond (报告).
WHISTLE_LIMITS: dict[str, dict[str, tuple[float, str]]] = {
    WhistleKind.ROUTINE: {"ack": (1, "working_hours"), "arrive": (24, "urgent_hours"), "respond": (5, "working_days")},
    WhistleKind.HARD: {"ack": (1, "working_hours"), "arrive": (24, "urgent_hours"), "respond": (3, "working_days")},
    WhistleKind.EMERGENCY: {"ack": (0.25, "urgent_hours"), "arrive": (0.5, "urgent_hours"),
                            "respond": (1, "working_days")},
}


def whistle_limits(kind: str) -> dict[str, tuple[float, str]]:
    """The deadlines of a whistle kind, with the setting ``CIVICGRID_WHISTLE_LIMITS`` (same shape) applied."""
    limits = {k: dict(v) for k, v in WHISTLE_LIMITS.items()}
    for k, over in (getattr(settings, "CIVICGRID_WHISTLE_LIMITS", None) or {}).items():
        limits.setdefault(k, {}).update({step: (float(a), str(u)) for step, (a, u) in over.items()})
    return limits[kind]


def _timer_kinds(summons_id: int) -> dict[str, str]:
    return {"ack": f"wh_ack:{summons_id}", "arrive": f"wh_arr:{summons_id}", "respond": f"wh_rep:{summons_id}"}


def whistle_effect(ctx: TransitionContext) -> None:
    """The ``whistle`` transition's effect: the whistle, one summons per department with its clocks,
    and a co-handling assignment for each department that has no open one (so it sees the event)."""
    kind = ctx.data.get("kind")
    if kind not in WhistleKind.values:
        raise TransitionNotAllowed({"kind": _("Choose routine, hard case or emergency.")})
    departments = list(dict.fromkeys(ctx.co_departments))
    if not departments:
        raise TransitionNotAllowed({"departments": _("Name the departments to summon.")})
    case = ctx.case
    whistle = Whistle.objects.create(case=case, street_id=case.street_id, kind=kind, reason=ctx.reason,
                                     blown_by=ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None,
                                     blown_at=ctx.now)
    limits = whistle_limits(kind)
    open_states = (AssignmentState.PENDING, AssignmentState.ACCEPTED, AssignmentState.DISPUTED)
    for dept in departments:
        assignment = case.assignments.filter(department=dept, state__in=open_states).order_by("id").first()
        if assignment is None:
            assignment = assignment_open(ctx, department=dept, role="co", note=ctx.reason[:500])
        summons = WhistleSummons.objects.create(whistle=whistle, department=dept, assignment=assignment,
                                                ack_due_at=ctx.now, arrive_due_at=ctx.now, respond_due_at=ctx.now)
        due = {}
        for step, timer_kind in _timer_kinds(summons.pk).items():
            amount, unit = limits[step]
            due[step] = timer_start(case=case, kind=timer_kind, amount=amount, unit=unit, now=ctx.now,
                                    assignment=assignment, replace=False).due_at
        summons.ack_due_at, summons.arrive_due_at, summons.respond_due_at = due["ack"], due["arrive"], due["respond"]
        summons.save(update_fields=["ack_due_at", "arrive_due_at", "respond_due_at"])
        notify(case=case, event="whistle",
               subject=_("Whistle (%(kind)s) on %(code)s: report by %(due)s")
               % {"kind": WhistleKind(kind).label, "code": case.tracking_code,
                  "due": timezone.localtime(due["ack"]).strftime("%Y-%m-%d %H:%M")},
               body=ctx.reason, department=dept)
    ctx.timeline_data.update({"whistle": whistle.pk, "kind": kind, "departments": [d.code for d in departments]})


def whistle_blow(*, actor: Any, case: Case, kind: str, reason: str, departments: Sequence[Department],
                 now: dt.datetime | None = None) -> Whistle:
    """A street centre summons departments to an event (吹哨): routine, hard case or emergency."""
    if kind not in WhistleKind.values:
        raise EventInvalid({"kind": _("Choose routine, hard case or emergency.")})
    if not departments:
        raise EventInvalid({"departments": _("Name the departments to summon.")})
    case_transition(actor=actor, case=_event(case), action="whistle", reason=reason,
                    co_departments=list(departments), data={"kind": kind}, now=now)
    whistle = Whistle.objects.filter(case=case).order_by("-id").first()
    assert whistle is not None
    return whistle


def _summons_check(actor: Any, summons: WhistleSummons, *, scorer: bool = False) -> Case:
    case = summons.whistle.case
    if actor is None:
        return case
    reach = roles_reaching(case, actor, ACT)
    if getattr(actor, "is_superuser", False) or "admin" in reach:
        return case
    if scorer:
        if "dispatcher" in reach:
            return case
    elif Membership.objects.filter(user=actor, is_active=True, role="department_handler",
                                   department_id=summons.department_id).exists():
        return case
    if not reach and not roles_reaching(case, actor, "view"):
        raise OutOfScope(_("No case matches the given query."))
    raise TransitionRefused(_("Only the street centre may score a summons.") if scorer
                            else _("Only the summoned department may answer this summons."))


def _summons_step(*, actor: Any, summons: WhistleSummons, step: str, stamp: str, note: str,
                  now: dt.datetime, stops: Sequence[str], extra: dict[str, Any] | None = None) -> WhistleSummons:
    with transaction.atomic():
        case = _summons_check(actor, summons)
        if summons.whistle.case.closed_at is not None and step != "respond":
            raise TransitionNotAllowed({"action": _("The event is closed.")})
        changes = {stamp: now, **(extra or {})}
        n = WhistleSummons.objects.filter(pk=summons.pk, **{f"{stamp}__isnull": True}).update(**changes)
        if n != 1:
            raise CaseConflict(_("This summons has been answered that way already."))
        for k, v in changes.items():
            setattr(summons, k, v)
        kinds = _timer_kinds(summons.pk)
        timers_stop(case=case, kinds=[kinds[s] for s in stops], now=now)
        due = {"ack": summons.ack_due_at, "arrive": summons.arrive_due_at, "respond": summons.respond_due_at}[step]
        data = {"department": summons.department.code, "whistle": summons.whistle_id, "on_time": now <= due}
        timeline_add(case=case, actor=actor, action=f"whistle_{step}", from_state=case.state, note=note,
                     data=data, at=now)
        audit_record(actor=actor, action=f"events.whistle.{step}", target=summons, after={stamp: now, **data})
    return summons


def whistle_acknowledge(*, actor: Any, summons: WhistleSummons, note: str = "",
                        now: dt.datetime | None = None) -> WhistleSummons:
    """The department signs for the summons (签收)."""
    return _summons_step(actor=actor, summons=summons, step="ack", stamp="acknowledged_at", note=note,
                         now=now or timezone.now(), stops=("ack",))


def whistle_arrive(*, actor: Any, summons: WhistleSummons, note: str = "",
                   now: dt.datetime | None = None) -> WhistleSummons:
    """The department is on site or has made contact (报到); arriving also acknowledges."""
    now = now or timezone.now()
    extra = {} if summons.acknowledged_at else {"acknowledged_at": now}
    return _summons_step(actor=actor, summons=summons, step="arrive", stamp="arrived_at", note=note, now=now,
                         stops=("ack", "arrive"), extra=extra)


def whistle_respond(*, actor: Any, summons: WhistleSummons, response: str,
                    now: dt.datetime | None = None) -> WhistleSummons:
    """The department reports what it did (反馈); its clocks stop."""
    if not (response or "").strip():
        raise EventInvalid({"response": _("Say what the department did.")})
    now = now or timezone.now()
    extra: dict[str, Any] = {"response": response.strip()}
    if not summons.acknowledged_at:
        extra["acknowledged_at"] = now
    return _summons_step(actor=actor, summons=summons, step="respond", stamp="responded_at", note=response,
                         now=now, stops=("ack", "arrive", "respond"), extra=extra)


def whistle_score(*, actor: Any, summons: WhistleSummons, score: int, note: str = "",
                  now: dt.datetime | None = None) -> WhistleSummons:
    """The street scores the department's response (0–100); the score feeds its assessment."""
    now = now or timezone.now()
    if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 100:
        raise EventInvalid({"score": _("A score is a whole number from 0 to 100.")})
    with transaction.atomic():
        case = _summons_check(actor, summons, scorer=True)
        if summons.responded_at is None:
            raise TransitionNotAllowed({"score": _("Score the department once it has responded.")})
        n = WhistleSummons.objects.filter(pk=summons.pk, score__isnull=True).update(
            score=score, score_note=note[:300], scored_at=now,
            scored_by=actor if getattr(actor, "is_authenticated", False) else None)
        if n != 1:
            raise CaseConflict(_("This summons has been scored already."))
        summons.refresh_from_db()
        data = {"department": summons.department.code, "whistle": summons.whistle_id, "score": score}
        timeline_add(case=case, actor=actor, action="whistle_score", from_state=case.state, note=note, data=data,
                     at=now)
        audit_record(actor=actor, action="events.whistle.score", target=summons, after=data)
    return summons
