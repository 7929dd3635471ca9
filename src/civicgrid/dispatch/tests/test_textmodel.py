"""The text model on its own (no database): learns a separable fixture, beats the majority class,
goes down the tree only where the data supports it, and stores as arrays that load safely."""

from __future__ import annotations

import io
import pickle
from collections import Counter

import numpy as np
import pytest

from civicgrid.dispatch.tests.conftest import messages
from civicgrid.dispatch.textmodel import TextModel, cross_validate, normalise


def test_normalisation_folds_codes_digits_and_space():
    assert normalise(" A3区 幸福路12号\n\t A00012 ") == "A区幸福路0号A"


def test_a_model_learns_the_fixture_and_answers_unseen_messages():
    titles, bodies, labels = messages(24)
    model = TextModel.fit(titles, bodies, labels)
    unseen = ["五一广场路面破损坑洼", "晚上工地施工噪音太吵", "学校乱收费家长有意见"]
    got = [p.path[0] for p in model.predict(unseen, ["", "", ""])]
    assert got == ["道路", "噪音", "教育"]


def test_cross_validation_beats_the_majority_class_on_a_separable_fixture():
    titles, bodies, labels = messages(20)
    # Unbalanced on purpose: a model that always answers the largest class scores its share only.
    titles, bodies, labels = titles[:52], bodies[:52], labels[:52]
    majority = max(Counter(lab[0] for lab in labels).values()) / len(labels)
    ev = cross_validate(titles, bodies, labels, folds=4)
    assert ev.accuracy > majority + 0.2
    assert ev.macro_f1 >= 0.9
    assert sum(map(sum, ev.confusion)) == len(labels)
    assert set(ev.precision) == {"道路", "噪音", "教育"} and ev.docs_per_second > 0


def test_a_constant_model_would_fail_the_majority_check():
    """The check above is honest: a model answering the majority class stays at its share."""
    from civicgrid.dispatch.textmodel import score

    _titles, _bodies, labels = messages(20)
    truth = [lab[0] for lab in labels[:52]]
    majority = Counter(truth).most_common(1)[0][0]
    s = score(truth, [majority] * len(truth))
    assert s["accuracy"] <= max(Counter(truth).values()) / len(truth) + 1e-9
    assert s["macro_f1"] < 0.5


def test_the_tree_is_learnt_below_a_class_only_where_there_is_enough_data():
    titles, bodies, labels = messages(36)
    deep = [(lab[0], "井盖" if "井盖" in t + b else "路面") if lab[0] == "道路" else lab
            for t, b, lab in zip(titles, bodies, labels, strict=True)]
    shallow = TextModel.fit(titles, bodies, deep)  # 井盖 has only 9 examples: not enough (< 20)
    assert list(shallow.nodes) == [()]
    assert shallow.predict(["幸福路路面坑洼"], [""])[0].path == ["道路"]
    model = TextModel.fit(titles, bodies, deep, min_per_class=5)
    assert ("道路",) in model.nodes
    p = model.predict(["解放西路马路井盖缺失"], ["井盖缺失路面破损"])[0]
    assert p.path == ["道路", "井盖"]
    assert p.confidences[1] <= p.confidences[0]


def test_a_stored_model_loads_to_the_same_answers_and_refuses_anything_else():
    titles, bodies, labels = messages(12)
    model = TextModel.fit(titles, bodies, labels)
    again = TextModel.from_bytes(model.to_bytes())
    a = model.predict(titles[:5], bodies[:5])
    b = again.predict(titles[:5], bodies[:5])
    assert [x.path for x in a] == [x.path for x in b]
    assert np.allclose([x.step_confidence for x in a], [x.step_confidence for x in b])
    with pytest.raises(ValueError, match="not a dispatch model"):
        TextModel.from_bytes(pickle.dumps({"evil": object}))
    buf = io.BytesIO()
    np.savez(buf, header=np.array([object()], dtype=object))  # an object array would need pickle
    with pytest.raises(ValueError):
        TextModel.from_bytes(buf.getvalue())


def test_training_needs_two_categories():
    with pytest.raises(ValueError, match="two different categories"):
        TextModel.fit(["a", "b"], ["", ""], [("x",), ("x",)])
