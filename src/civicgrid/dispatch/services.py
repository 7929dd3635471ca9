"""Writes of smart dispatch (智能派单): training and storing model versions, activating one (roll
back), recording dispatchers' corrections, and the scheduled retrain. Each write is one transaction
with its audit row."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from civicgrid.audit.services import audit_record
from civicgrid.cases.models import Case
from civicgrid.dispatch import selectors
from civicgrid.dispatch.models import Correction, DispatchModel
from civicgrid.dispatch.textmodel import TextModel, score
from civicgrid.org.permissions import ACT
from civicgrid.org.scoping import ensure_in_scope
from civicgrid.taxonomy.models import Category

MAX_MODEL_BYTES = 200 * 1024 * 1024
VERSION_ATTEMPTS = 5
logger = logging.getLogger(__name__)


def model_store(*, actor: Any, model: TextModel, source: str, metrics: dict[str, Any] | None = None,
                activate: bool = True) -> DispatchModel:
    """Store a trained model as the next version (and make it the active one unless told not to)."""
    data = model.to_bytes()
    if len(data) > MAX_MODEL_BYTES:
        raise ValueError(_("The model is too large to store (%(mb).0f MB).") % {"mb": len(data) / 2**20})
    sha = hashlib.sha256(data).hexdigest()
    by = actor if getattr(actor, "is_authenticated", False) else None
    # Versions are the highest one plus one. Two trainings finishing at once may pick the same number
    # (or both activate): the unique constraints refuse the second, which then retries with the next
    # number — an aggregate cannot be locked, so the constraint is the lock.
    for attempt in range(VERSION_ATTEMPTS):
        try:
            with transaction.atomic():
                last = DispatchModel.objects.aggregate(v=Max("version"))["v"] or 0
                row = DispatchModel.objects.create(
                    version=last + 1, trained_by=by, source=source[:300],
                    documents=int(model.meta.get("documents", 0)), metrics={**model.meta, **(metrics or {})},
                    sha256=sha, size=len(data), blob=data)
                audit_record(actor=actor, action="dispatch.model_train", target=row,
                             after={"version": row.version, "source": row.source, "documents": row.documents,
                                    "sha256": row.sha256, "size": row.size})
                if activate:
                    _activate(actor, row)
            return row
        except IntegrityError:
            logger.info("dispatch: version %s was taken by another training (attempt %d)", last + 1, attempt + 1)
    raise ValueError(_("Other trainings kept storing models at the same moment; try again."))


def _activate(actor: Any, row: DispatchModel) -> None:
    previous = DispatchModel.objects.filter(is_active=True).exclude(pk=row.pk).values_list("version", flat=True)
    before = list(previous)
    DispatchModel.objects.filter(is_active=True).exclude(pk=row.pk).update(is_active=False)
    DispatchModel.objects.filter(pk=row.pk).update(is_active=True)
    row.is_active = True
    audit_record(actor=actor, action="dispatch.model_activate", target=row,
                 before={"active": before[0] if before else None}, after={"active": row.version})


def model_activate(*, actor: Any, version: int) -> DispatchModel:
    """Make ``version`` the active model (roll back or forward). Its checksum is verified first."""
    for _attempt in range(VERSION_ATTEMPTS):
        try:
            with transaction.atomic():
                row = DispatchModel.objects.select_for_update().filter(version=version).first()
                if row is None:
                    raise ValueError(_("There is no dispatch model version %(v)s.") % {"v": version})
                selectors.model_load(row)  # refuse a damaged model before it serves anyone
                if not row.is_active:
                    _activate(actor, row)
            break
        except IntegrityError:  # another activation at the same moment holds "the one active": again
            continue
    else:
        raise ValueError(_("Other activations kept happening at the same moment; try again."))
    selectors.active_model_invalidate()
    return row


def model_train(*, actor: Any, titles: Sequence[str], bodies: Sequence[str], labels: Sequence[Sequence[str]],
                source: str, background: Sequence[str] = (), metrics: dict[str, Any] | None = None,
                activate: bool = True) -> DispatchModel:
    """Train a model on labelled messages (label paths, top level first) and store it."""
    model = TextModel.fit(titles, bodies, labels, background=background)
    return model_store(actor=actor, model=model, source=source, metrics=metrics, activate=activate)


HOLDOUT_SHARE = 0.2
HOLDOUT_MIN_DOCUMENTS = 30
HOLDOUT_MIN_PER_CLASS = 5


def _holdout_evaluation(data: selectors.TrainingData) -> dict[str, Any] | None:
    """Top-level figures of a model trained on 80 % of the history and scored on the other 20 %
    (stratified, fixed seed); None when the history is too small to hold a fifth out."""
    from collections import Counter

    from sklearn.model_selection import train_test_split

    top = [label[0] for label in data.labels]
    if len(top) < HOLDOUT_MIN_DOCUMENTS or min(Counter(top).values()) < HOLDOUT_MIN_PER_CLASS:
        return None
    tr, te = train_test_split(list(range(len(top))), test_size=HOLDOUT_SHARE, stratify=top, random_state=0)
    model = TextModel.fit([data.titles[i] for i in tr], [data.bodies[i] for i in tr],
                          [data.labels[i] for i in tr], background=data.background)
    predicted = model.predict_top([data.titles[i] for i in te], [data.bodies[i] for i in te])
    figures = score([top[i] for i in te], predicted)
    return {**figures, "method": "hold-out", "documents": len(te), "folds": 0}


def model_train_from_cases(*, actor: Any, activate: bool = True) -> DispatchModel:
    """Train on the platform's own history: closed cases with their final category plus corrections.
    A stratified fifth of it is held out first to record the model's macro-F1 and accuracy (when the
    history has at least 30 documents and 5 of each top-level category)."""
    data = selectors.training_data()
    if len({label[0] for label in data.labels}) < 2:
        raise ValueError(_("Training needs closed cases of at least two categories; there are %(n)d usable "
                           "cases.") % {"n": len(data.labels)})
    metrics: dict[str, Any] = {"corrections": data.corrections}
    evaluation = _holdout_evaluation(data)
    if evaluation is not None:
        metrics["evaluation"] = evaluation
    return model_train(actor=actor, titles=data.titles, bodies=data.bodies, labels=data.labels,
                       background=data.background, activate=activate,
                       source=_("cases: %(n)d closed or corrected, %(c)d corrections")
                       % {"n": len(data.labels), "c": data.corrections},
                       metrics=metrics)


def retrain_if_due(*, actor: Any = None, min_new: int | None = None) -> DispatchModel | None:
    """The scheduled retrain (for the worker or cron): train from the cases when enough has changed
    since the newest model (``CIVICGRID_DISPATCH_RETRAIN_MIN_NEW``); None when not due. When someone
    rolled back (the active version is not the newest), the new model is stored but not activated:
    a person chose the older one, and a schedule must not overrule them."""
    if not selectors.retrain_due(min_new=min_new):
        return None
    keep_rollback = selectors.rolled_back()
    row = model_train_from_cases(actor=actor, activate=not keep_rollback)
    if keep_rollback:
        logger.warning("dispatch: model v%s stored but not activated: an older version is active (rolled "
                       "back); activate it with `civicgrid dispatch activate %s`", row.version, row.version)
    return row


def correction_record(*, actor: Any, case: Case, chosen: Category, suggested: Category | None = None,
                      model_version: int | None = None) -> Correction:
    """Record that a dispatcher chose ``chosen`` where ``suggested`` was proposed (派单纠错). The case
    must be in the actor's jurisdiction (re-checked inside the transaction)."""
    if not chosen.is_active:
        raise ValueError(_("The category %(c)s is not active.") % {"c": chosen})
    with transaction.atomic():
        ensure_in_scope(case, actor, ACT)
        row = Correction.objects.create(case=case, chosen=chosen, suggested=suggested,
                                        model_version=model_version,
                                        by=actor if getattr(actor, "is_authenticated", False) else None)
        audit_record(actor=actor, action="dispatch.correction", target=case,
                     before={"suggested": suggested.code if suggested else None},
                     after={"chosen": chosen.code, "model_version": model_version})
    return row
