"""Issue 16: the dispatch model never learns from a restricted type's cases (it answers everyone's
suggestions), and the duplicate index and search never propose one — not even to someone who may
read it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from civicgrid.cases.models import Case
from civicgrid.cases.tests.restricted import (
    SECRET,
    sealed_case,
    sealed_fixture,  # noqa: F401 - the fixture
)
from civicgrid.dispatch import selectors
from civicgrid.dispatch.tests.conftest import POINT_A, case_new

pytestmark = pytest.mark.django_db

REPORT = ("幸福路井盖缺失", "幸福路与建设大道交叉口东侧的井盖不见了，晚上很危险，已经有电动车掉进去，请尽快处理。")


def test_training_data_leaves_restricted_cases_out(sealed, tree):
    plain = case_new("井盖缺失", "路口井盖不见了", category=tree.road_cover, closed=True)
    secret = sealed_case("accusation", SECRET, title="举报井盖款被挪用")
    Case.objects.filter(pk=secret.pk).update(closed_at=timezone.now(), state="done", category=tree.road_cover)
    from civicgrid.dispatch.models import Correction as Corr

    Corr.objects.create(case=sealed.accusation, chosen=tree.school, by=None)
    data = selectors.training_data()
    text = " ".join([*data.titles, *data.bodies, *data.background])
    assert "井盖缺失" in data.titles and plain.pk
    assert "举报" not in text and "红包" not in text and "挪用" not in text
    assert data.corrections == 0  # a correction of a restricted case does not teach the model either


@pytest.mark.parametrize("lsh_from", [10_000, 1], ids=["exact", "lsh"])
def test_duplicate_search_and_index_never_propose_a_restricted_case(sealed, settings, lsh_from):
    settings.CIVICGRID_DISPATCH_LSH_FROM = lsh_from
    same = sealed_case("accusation", REPORT[1], title=REPORT[0])
    plain = case_new(*REPORT, point=POINT_A)
    for user in (None, sealed.cast.admin_a):  # the platform itself, and someone who may read it
        found = selectors.duplicate_candidates(text=REPORT[1], title=REPORT[0], lon=POINT_A[0], lat=POINT_A[1],
                                               user=user)
        assert [c.case_id for c in found] == [plain.pk]
        assert same.pk not in {c.case_id for c in found}
