"""On real citizen messages (../shared/data/teddy2020, read in place): the 495 labelled messages are
classified far above the majority class, and the 4,326 voted messages contain the known hot issue."""

from __future__ import annotations

from collections import Counter

from civicgrid.core.testing import shared_file
from civicgrid.dispatch.similarity import clusters
from civicgrid.dispatch.tables import read_messages
from civicgrid.dispatch.textmodel import cross_validate


def test_the_495_labelled_messages_are_classified_well_in_cross_validation():
    m = read_messages(shared_file("teddy2020/csv/示例数据_附件2.csv"), text_cols=["留言主题", "留言详情"],
                      label_cols=["一级分类"])
    assert len(m.rows) == 495 and len({lab[0] for lab in m.labels}) == 7
    ev = cross_validate(m.titles, m.bodies, m.labels, folds=5)
    majority = max(Counter(lab[0] for lab in m.labels).values()) / len(m.labels)
    assert majority < 0.25
    assert ev.macro_f1 >= 0.75 and ev.accuracy >= 0.75  # the benchmark, with pretraining, reports more


def test_the_voted_messages_contain_the_parking_space_hot_issue():
    m = read_messages(shared_file("teddy2020/csv/附件3.csv"), text_cols=["留言主题"], number_cols=["点赞数", "反对数"])
    assert len(m.rows) == 4326
    found = clusters(m.titles, threshold=0.4)
    biggest = found[0]
    assert len(biggest) >= 8
    assert all("伊景园" in m.titles[i] for i in biggest)
