"""Reads of smart dispatch (智能派单): the suggestion for a text, duplicate candidates, model versions,
and the training data the platform's own history gives.

The stable entry points for intake (the ``events`` app calls them; ``dispatch`` never imports it):

- :func:`suggest` ``(text, *, title="", region=None) -> Suggestion``
- :func:`duplicate_candidates` ``(*, text, title="", lon=None, lat=None, at=None, exclude=(), …)
  -> list[DuplicateCandidate]`` and :func:`duplicate_candidates_for_case` ``(case, *, user) -> …``
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases.models import Case
from civicgrid.cases.selectors import cases_unrestricted
from civicgrid.core.refcache import reference_generation
from civicgrid.dispatch.models import Correction, DispatchModel
from civicgrid.dispatch.similarity import DuplicateIndex, distance_m, jaccard, shingles
from civicgrid.dispatch.textmodel import MIN_KNOWN_NGRAMS, TextModel
from civicgrid.geo.models import LEVELS, Region
from civicgrid.org.models import Department
from civicgrid.org.permissions import VIEW
from civicgrid.org.scoping import scoped
from civicgrid.taxonomy.models import Category
from civicgrid.taxonomy.selectors import dispatch_department_for

# Without a place on both sides, only the text speaks: ask for more of it.
TEXT_ONLY_MIN_SIMILARITY = 0.5
logger = logging.getLogger(__name__)
BACKGROUND_LIMIT = 20_000  # unlabelled case texts used to fit the IDF and LSA space


class ModelIntegrityError(ValueError):
    """The stored model does not match its checksum or cannot be read: refuse it."""


# ---------------------------------------------------------------------------------------------
# the active model, cached per process


@dataclass
class _Loaded:
    version: int
    sha256: str
    model: TextModel
    categories: dict[tuple[str, ...], Category | None] = field(default_factory=dict)
    categories_stamp: tuple[Any, ...] = ()
    categories_at: float = 0.0
    categories_generation: int = -1  # core.refcache's, when the stamp was last read
    categories_checked: float = 0.0


_lock = threading.Lock()
_loaded: _Loaded | None = None


def model_load(row: DispatchModel) -> TextModel:
    """Read a stored model after checking its SHA-256 (arrays and JSON only: nothing is executed)."""
    data = bytes(row.blob)
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise ModelIntegrityError(_("Dispatch model v%(v)d does not match its checksum: retrain or activate "
                                    "another version.") % {"v": row.version})
    try:
        return TextModel.from_bytes(data)
    except ValueError as exc:
        raise ModelIntegrityError(f"v{row.version}: {exc}") from None


def active_model() -> _Loaded | None:
    """The active model (one small query to see whether it changed; loaded once per version)."""
    global _loaded
    head = DispatchModel.objects.filter(is_active=True).values_list("version", "sha256").first()
    if head is None:
        return None
    current = _loaded
    if current is not None and (current.version, current.sha256) == head:
        return current
    with _lock:
        row = DispatchModel.objects.get(version=head[0])
        _loaded = _Loaded(row.version, row.sha256, model_load(row))
        return _loaded


def active_model_invalidate() -> None:
    global _loaded
    _loaded = None


# The label → category look-ups are cached with the loaded model, keyed by a cheap stamp of the
# category table (how many, how many active, the newest id: creations, deletions and deactivations
# by any process) and the reference generation (core.refcache: every category saved or deleted in
# this process, and the taxonomy services' bulk changes); a rename in another process is seen
# within CATEGORY_CACHE_SECONDS. The table is read at most every CATEGORY_CHECK_SECONDS (a query
# per suggestion costs more than the prediction); changes made in this process are seen at once.
CATEGORY_CACHE_SECONDS = 60.0
CATEGORY_CHECK_SECONDS = 1.0


def _categories_fresh(loaded: _Loaded) -> None:
    now = time.monotonic()
    generation = reference_generation()
    if generation == loaded.categories_generation and now - loaded.categories_checked < CATEGORY_CHECK_SECONDS:
        return
    loaded.categories_generation, loaded.categories_checked = generation, now
    stamp = (generation, *Category.objects.aggregate(
        n=Count("pk"), active=Count("pk", filter=Q(is_active=True)), last=Max("pk")).values())
    if stamp != loaded.categories_stamp or now - loaded.categories_at > CATEGORY_CACHE_SECONDS:
        loaded.categories = {}
        loaded.categories_stamp, loaded.categories_at = stamp, now


def models_list() -> QuerySet[DispatchModel]:
    return DispatchModel.objects.defer("blob").select_related("trained_by").order_by("-version")


# ---------------------------------------------------------------------------------------------
# suggestions


@dataclass
class LevelSuggestion:
    """One level of the suggested path: the label the model learnt, the category it names (None when
    the tree no longer has it) and the confidence of the path down to this level."""

    label: str
    category: Category | None
    confidence: float


@dataclass
class Suggestion:
    """What dispatch proposes for a text (派单建议). ``auto`` is true only when the category and the
    department are both known and the confidence reaches ``CIVICGRID_DISPATCH_MIN_CONFIDENCE``;
    otherwise the case goes to a person (the centre's manual queue) with ``reason`` saying why."""

    category: Category | None
    confidence: float
    levels: list[LevelSuggestion]
    department: Department | None
    department_confidence: float
    department_reason: str
    auto: bool
    reason: str
    model_version: int | None
    alternatives: list[tuple[str, float]] = field(default_factory=list)  # top-level labels, best first


def _resolve(loaded: _Loaded, path: tuple[str, ...]) -> Category | None:
    """The category a label path names: each step by code, else by name under the step above."""
    if path in loaded.categories:
        return loaded.categories[path]
    parent = _resolve(loaded, path[:-1]) if len(path) > 1 else None
    if len(path) > 1 and parent is None:
        found = None
    else:
        label = path[-1]
        qs = Category.objects.filter(is_active=True)
        found = qs.filter(code=label).first()
        if found is None:
            named = qs.filter(name=label)
            named = named.filter(parent=parent) if parent is not None else named.filter(parent__isnull=True)
            found = named.order_by("kind", "code").first()
    loaded.categories[path] = found
    return found


def _chain(region: Region | str | None) -> dict[str, int | None]:
    if region is None:
        return {}
    if isinstance(region, str):
        found = Region.objects.filter(code=region).first()
        if found is None:
            raise ValueError(_("Unknown region code %(code)s.") % {"code": region})
        region = found
    return {lv: getattr(region, f"{lv}_id") for lv in LEVELS}


def suggest(text: str, *, title: str = "", region: Region | str | None = None,
            min_confidence: float | None = None) -> Suggestion:
    """Suggest the category (as deep in the tree as the model learnt and is sure of) and the
    responsible department for a new case's text (``title`` = its subject, when it has one) placed in
    ``region`` (a Region or its code; None when unknown). Never raises for a missing model: the
    answer then goes to a person."""
    threshold = settings.CIVICGRID_DISPATCH_MIN_CONFIDENCE if min_confidence is None else min_confidence
    chain = _chain(region)
    loaded = active_model()
    if loaded is None:
        return Suggestion(None, 0.0, [], None, 0.0, "", False, _("No dispatch model is trained yet."), None)
    known = int(loaded.model.featuriser.known_ngrams([title or ""], [text or ""])[0])
    if known < MIN_KNOWN_NGRAMS:
        # Too little the model has seen (你好, 123, 今天天气很好): its confidence would only measure the
        # length normalisation of a near-empty text, so none is claimed.
        return Suggestion(None, 0.0, [], None, 0.0, "", False,
                          _("Too little text the model knows: a person decides."), loaded.version)
    pred = loaded.model.predict([title or ""], [text or ""])[0]
    _categories_fresh(loaded)
    confidences = pred.confidences
    levels = [LevelSuggestion(label, _resolve(loaded, tuple(pred.path[:i + 1])), confidences[i])
              for i, label in enumerate(pred.path)]
    # The deepest level the model is sure enough of; the top level when it is sure of none.
    depth = 0
    for i, c in enumerate(confidences):
        if c >= threshold:
            depth = i
    chosen = levels[depth]
    # A label the tree no longer has (a category renamed or retired since training): fall back to the
    # deepest level above it that still names a category, as a suggestion for a person.
    missing = chosen.label if chosen.category is None else ""
    while chosen.category is None and depth > 0:
        depth -= 1
        chosen = levels[depth]
    category, confidence = chosen.category, chosen.confidence
    department, dept_conf, dept_reason = None, 0.0, ""
    if category is not None:
        answer = dispatch_department_for(category=category, chain=chain)
        department, dept_reason = answer.department, answer.reason
        if department is not None:
            dept_conf = confidence
            if depth == 0:  # other top-level classes handled by the same department add up
                for label, p in pred.top[1:4]:
                    other = _resolve(loaded, (label,))
                    if p < 0.02 or other is None:
                        continue
                    if dispatch_department_for(category=other, chain=chain).department == department:
                        dept_conf += p
            dept_conf = min(1.0, dept_conf)
    if category is None:
        reason = _("The suggested class %(label)s is not in the category tree.") % {"label": chosen.label}
    elif missing:
        reason = _("The suggested class %(label)s is not in the category tree; %(parent)s is suggested above "
                   "it: a person decides.") % {"label": missing, "parent": category.code}
    elif confidence < threshold:
        reason = _("Confidence %(c).2f is below %(t).2f: a person decides.") % {"c": confidence, "t": threshold}
    elif department is None:
        reason = _("No department found: %(why)s") % {"why": dept_reason}
    else:
        reason = ""
    auto = not reason
    return Suggestion(category, confidence, levels, department, dept_conf, dept_reason, auto, reason,
                      loaded.version, pred.top)


# ---------------------------------------------------------------------------------------------
# training data from the platform's own history


@dataclass
class TrainingData:
    titles: list[str]
    bodies: list[str]
    labels: list[tuple[str, ...]]  # category codes, top level first
    background: list[str]
    corrections: int


def _category_paths() -> dict[int, tuple[str, ...]]:
    rows = {pk: (code, path) for pk, code, path in Category.objects.values_list("pk", "code", "path")}
    out = {}
    for pk, (code, path) in rows.items():
        ancestors = [int(p) for p in path.strip("/").split("/") if p]
        out[pk] = (*(rows[a][0] for a in ancestors if a in rows), code)
    return out


def training_data() -> TrainingData:
    """Closed cases with their final category, with dispatchers' corrections taking precedence (the
    latest per case; a corrected case counts even while open), and recent case texts as background."""
    paths = _category_paths()
    chosen: dict[int, int] = {}
    for case_id, category_id in (Correction.objects.filter(case__in=cases_unrestricted().values("pk"))
                                 .order_by("at", "id").values_list("case_id", "chosen_id")):
        chosen[case_id] = category_id
    # restricted cases (registry.Visibility) never reach the model: it answers everyone's suggestions
    closed = cases_unrestricted().filter(closed_at__isnull=False, merged_into__isnull=True, category__isnull=False)
    rows = {pk: (title, text, cat) for pk, title, text, cat in
            closed.values_list("pk", "title", "text", "category_id").iterator()}
    missing = [pk for pk in chosen if pk not in rows]
    for pk, title, text in cases_unrestricted().filter(pk__in=missing).values_list("pk", "title", "text"):
        rows[pk] = (title, text, None)
    data = TrainingData([], [], [], [], corrections=len(chosen))
    for pk, (title, text, cat) in sorted(rows.items()):
        category_id = chosen.get(pk, cat)
        if category_id is None or category_id not in paths:
            continue
        data.titles.append(title)
        data.bodies.append(text)
        data.labels.append(paths[category_id])
    data.background = [f"{t}。{x}" for t, x in cases_unrestricted().order_by("-id")
                       .values_list("title", "text")[:BACKGROUND_LIMIT]]
    return data


def retrain_due(*, min_new: int | None = None) -> bool:
    """Whether enough has happened since the newest stored model was trained (active or not: a
    rolled-back version does not make old cases new again): at least ``min_new`` (never fewer than
    one) cases closed with a category or corrections since then; no model yet: any usable history."""
    min_new = settings.CIVICGRID_DISPATCH_RETRAIN_MIN_NEW if min_new is None else min_new
    newest = DispatchModel.objects.order_by("-version").values_list("created_at", flat=True).first()
    closed = cases_unrestricted().filter(closed_at__isnull=False, merged_into__isnull=True, category__isnull=False)
    corrections = Correction.objects.all()
    if newest is not None:
        closed = closed.filter(closed_at__gt=newest)
        corrections = corrections.filter(at__gt=newest)
    return closed.count() + corrections.count() >= max(1, min_new)


def rolled_back() -> bool:
    """Whether a model is active and it is not the newest version (someone rolled back)."""
    active = DispatchModel.objects.filter(is_active=True).values_list("version", flat=True).first()
    newest = DispatchModel.objects.order_by("-version").values_list("version", flat=True).first()
    return active is not None and active != newest


# ---------------------------------------------------------------------------------------------
# duplicates (重复诉求)


@dataclass
class DuplicateCandidate:
    """An open case that is probably the same problem, with the evidence: how far apart in metres
    (None when one of them has no place), in hours, and how similar the texts are (0–1)."""

    case_id: int
    tracking_code: str
    title: str
    distance_m: float | None
    hours_apart: float
    similarity: float

    @property
    def reason(self) -> str:
        parts = [_("text similarity %(s).2f") % {"s": self.similarity},
                 _("%(h).1f hours apart") % {"h": self.hours_apart}]
        if self.distance_m is not None:
            parts.insert(0, _("%(m).0f m away") % {"m": self.distance_m})
        return ", ".join(parts)


_index_lock = threading.Lock()
_index: DuplicateIndex | None = None


def duplicate_index_invalidate() -> None:
    global _index
    _index = None


def _open_cases() -> QuerySet[Case]:
    """Open cases the duplicate index and search compare: never a restricted type's (registry.Visibility)."""
    return cases_unrestricted().filter(closed_at__isnull=True, merged_into__isnull=True)


def _duplicate_index() -> DuplicateIndex:
    """The process's LSH index of open cases, topped up with cases created since it was built.
    Entries that closed since are harmless: every hit is re-read and re-checked in the database."""
    global _index
    with _index_lock:
        if _index is None:
            _index = DuplicateIndex()
        rows = (_open_cases().filter(pk__gt=_index.max_key).order_by("pk")
                .values_list("pk", "title", "text", "created_at", "lon", "lat"))
        for pk, title, text, created, lon, lat in rows.iterator():
            _index.add(pk, f"{title}。{text}", created.timestamp(), lon, lat)
        return _index


def duplicate_candidates(*, text: str, title: str = "", lon: float | None = None, lat: float | None = None,
                         at: dt.datetime | None = None, exclude: Iterable[int] = (), case_type: str | None = None,
                         radius_m: float | None = None, window_hours: float | None = None,
                         min_similarity: float | None = None, limit: int = 10,
                         user: Any) -> list[DuplicateCandidate]:
    """Open cases that probably report the same problem as a new report: created within
    ``window_hours`` of ``at``, within ``radius_m`` of (``lon``, ``lat``) when both have a place, and
    with character-shingle Jaccard similarity of at least ``min_similarity`` (at least
    ``TEXT_ONLY_MIN_SIMILARITY`` when a place is missing on either side). Best first.

    The open cases in the window (and near the place) are compared exactly; when there are more than
    ``CIVICGRID_DISPATCH_LSH_FROM`` of them, a MinHash/LSH index proposes the candidates first.

    ``user`` must be given: only cases that user may view (their jurisdiction, their own reports;
    :mod:`civicgrid.org.scoping`) are candidates, since every candidate carries its code, title and
    distance in metres. ``user=None`` is the platform itself (intake and commands), which sees all
    open cases; a page or endpoint passes its signed-in user, never None.
    """
    radius_m = settings.CIVICGRID_DISPATCH_DUPLICATE_RADIUS_M if radius_m is None else radius_m
    window_hours = settings.CIVICGRID_DISPATCH_DUPLICATE_WINDOW_HOURS if window_hours is None else window_hours
    min_sim = settings.CIVICGRID_DISPATCH_DUPLICATE_MIN_SIMILARITY if min_similarity is None else min_similarity
    at = at or timezone.now()
    full = f"{title}。{text}" if title else text
    window = dt.timedelta(hours=window_hours)
    qs = _open_cases().exclude(pk__in=list(exclude))
    if user is not None:
        qs = scoped(qs, user, VIEW)
    if case_type:
        qs = qs.filter(case_type=case_type)
    has_point = lon is not None and lat is not None
    if has_point:
        assert lon is not None and lat is not None
        dlat = radius_m / 111_320.0
        dlon = radius_m / (111_320.0 * max(0.01, math.cos(math.radians(lat))))
        # Cases near the place, read through the open-place index; the time window is checked below
        # (given both, SQLite's planner scans the window instead, a tenth of all open cases). Cases
        # without a place are found by text alone, when the new report has no place either.
        qs = qs.filter(lat__range=(lat - dlat, lat + dlat), lon__range=(lon - dlon, lon + dlon))
    else:
        qs = qs.filter(created_at__gte=at - window, created_at__lte=at + window)
    many = settings.CIVICGRID_DISPATCH_LSH_FROM
    if len(qs.values_list("pk", flat=True)[:many + 1]) > many:
        hits = _duplicate_index().search(full, at=at.timestamp(), lon=lon, lat=lat, radius_m=radius_m,
                                         window_hours=window_hours, min_similarity=min_sim * 0.6,
                                         limit=limit * 5)
        qs = qs.filter(pk__in=[h.key for h in hits])
    mine = shingles(full)
    found: list[DuplicateCandidate] = []
    for pk, code, c_title, c_text, created, c_lon, c_lat in qs.values_list(
            "pk", "tracking_code", "title", "text", "created_at", "lon", "lat").iterator():
        if abs(created - at) > window:
            continue
        dist = None
        if has_point and c_lon is not None and c_lat is not None:
            assert lon is not None and lat is not None
            dist = distance_m(lon, lat, c_lon, c_lat)
            if dist > radius_m:
                continue
        sim = jaccard(mine, shingles(f"{c_title}。{c_text}" if c_title else c_text))
        if sim < (min_sim if dist is not None else max(min_sim, TEXT_ONLY_MIN_SIMILARITY)):
            continue
        hours = abs((created - at).total_seconds()) / 3600.0
        found.append(DuplicateCandidate(pk, code, c_title, dist, hours, sim))
    found.sort(key=lambda c: (-c.similarity, c.distance_m if c.distance_m is not None else 1e12))
    return found[:limit]


def duplicate_candidates_for_case(case: Case, *, user: Any, **options: Any) -> list[DuplicateCandidate]:
    """Duplicate candidates of an existing case (itself excluded, and cases already merged into it)
    that ``user`` may view (``user=None``: the platform, as in :func:`duplicate_candidates`)."""
    return duplicate_candidates(text=case.description, title=case.title, lon=case.lon, lat=case.lat,
                                at=case.created_at, exclude=[case.pk], user=user, **options)


def category_for_intake(*, title: str = "", text: str = "") -> Category | None:
    """The category intake may file a report under when the reporter named none: the suggestion's,
    only when the model is sure enough (``CIVICGRID_DISPATCH_MIN_CONFIDENCE``); otherwise None and
    the report waits in the centre's queue for a person. The events app calls this through its
    ``CIVICGRID_EVENT_CATEGORY_SUGGESTER`` setting (the default)."""
    try:
        found = suggest(text, title=title)
    except ModelIntegrityError:  # a damaged model must not stop intake: the report waits for a person
        logger.exception("dispatch: the active model cannot be used; intake files without a category")
        return None
    if found.category is None or found.confidence < settings.CIVICGRID_DISPATCH_MIN_CONFIDENCE:
        return None
    return found.category
