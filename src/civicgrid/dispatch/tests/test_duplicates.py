"""Duplicate candidates at intake: a near-identical report nearby and recent is found, with the
reason; a distant, an old or an unrelated one is not — by exact comparison and through the LSH index."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from civicgrid.cases.services import case_merge
from civicgrid.dispatch import selectors
from civicgrid.dispatch.similarity import DuplicateIndex, jaccard, shingles
from civicgrid.dispatch.tests.conftest import POINT_A, POINT_FAR, case_new

REPORT = ("幸福路井盖缺失", "幸福路与建设大道交叉口东侧的井盖不见了，晚上很危险，已经有电动车掉进去，请尽快处理。")
SAME = ("幸福路井盖丢失", "幸福路与建设大道交叉口东侧井盖不见了，晚上非常危险，有电动车掉进去了，请尽快处理！")
OTHER = ("学校乱收费", "东风小学以资料费名义向每个学生收取三百元，家长负担很重，请教育局调查。")


def test_shingle_similarity_is_high_for_rewordings_and_low_for_other_problems():
    a, b, c = (shingles(t + "。" + x) for t, x in (REPORT, SAME, OTHER))
    assert jaccard(a, b) >= 0.45
    assert jaccard(a, c) < 0.05
    assert jaccard(a, a) == 1.0


@pytest.fixture
def open_cases(cast):
    near = case_new(*SAME, point=(POINT_A[0] + 0.0003, POINT_A[1]))  # about 30 m east
    far = case_new(*SAME, point=POINT_FAR)  # 10 km away
    other = case_new(*OTHER, point=POINT_A)
    return near, far, other


@pytest.mark.parametrize("lsh_from", [10_000, 1], ids=["exact", "lsh"])
def test_a_near_identical_report_nearby_is_a_candidate_and_the_others_are_not(open_cases, settings, lsh_from):
    settings.CIVICGRID_DISPATCH_LSH_FROM = lsh_from
    near, _far, _other = open_cases
    found = selectors.duplicate_candidates(text=REPORT[1], title=REPORT[0], lon=POINT_A[0], lat=POINT_A[1], user=None)
    assert [c.case_id for c in found] == [near.pk]
    c = found[0]
    assert 20 < c.distance_m < 45 and c.hours_apart < 1 and c.similarity >= 0.45
    assert "m away" in c.reason and "hours apart" in c.reason and "text similarity" in c.reason


def test_without_a_place_only_very_similar_text_counts(open_cases):
    near, far, _other = open_cases
    found = selectors.duplicate_candidates(text=REPORT[1], title=REPORT[0], user=None)
    assert {c.case_id for c in found} == {near.pk, far.pk}
    assert all(c.distance_m is None for c in found)


def test_reports_outside_the_time_window_or_closed_are_not_candidates(cast, settings):
    settings.CIVICGRID_DISPATCH_DUPLICATE_WINDOW_HOURS = 24
    old = case_new(*SAME, at=timezone.now() - dt.timedelta(days=3))
    assert selectors.duplicate_candidates(text=REPORT[1], title=REPORT[0], lon=POINT_A[0], lat=POINT_A[1],
                                          user=None) == []
    assert old.pk


def test_candidates_of_a_case_leave_out_the_case_itself_and_merged_ones(open_cases, cast):
    near, _far, _other = open_cases
    new = case_new(*REPORT)
    assert [c.case_id for c in selectors.duplicate_candidates_for_case(new, user=None)] == [near.pk]
    case_merge(actor=cast.alice, survivor=new, duplicates=[near], note="same manhole")
    assert selectors.duplicate_candidates_for_case(new, user=None) == []


def test_the_lsh_index_finds_a_rewording_among_many_unrelated_texts():
    index = DuplicateIndex()
    for i in range(2000):
        index.add(i, f"第{i}号消息：{OTHER[1]}{i * 7919 % 1000}", at=0.0)
    index.add(99_999, SAME[0] + "。" + SAME[1], at=3600.0, lon=114.0, lat=22.5)
    hits = index.search(REPORT[0] + "。" + REPORT[1], at=0.0, lon=114.0003, lat=22.5, radius_m=300,
                        window_hours=72, min_similarity=0.3)
    assert [h.key for h in hits] == [99_999]
    assert hits[0].hours_apart == 1.0 and hits[0].distance_m < 45
