"""Unit performance (目标责任考核) on the engine's hand-computed October fixture (cases/tests/
test_metrics.py). Scheme v1: 结案率 30, 按期结案率 30, 返工率 20 (lower is better), 满意率 20;
floors A 90, B 75, C 60, D 40. District A's departments in October 2024:

    urban (城管): 结案率 2/3, 按期 1/3, 返工率 0/2 → 100, 满意率 (1 + 0.9) / 3
        (30 × 66.667 + 30 × 33.333 + 20 × 100 + 20 × 63.333) / 100 = 62.667 → C, rank 2
    water (水务): 结案率 2/2, 按期 2/2, 返工率 1/2 → 50, 满意率 0.9 / 1
        (30 × 100 + 30 × 100 + 20 × 50 + 20 × 90) / 100 = 88 → B, rank 1
"""

from __future__ import annotations

import datetime as dt

import pytest

from civicgrid.assessment.models import PeriodState
from civicgrid.assessment.services import period_advance, period_compute, scheme_version_create, score_adjust
from civicgrid.audit.models import AuditEntry
from civicgrid.cases.errors import CaseConflict, TransitionNotAllowed, TransitionRefused
from civicgrid.cases.tests.test_metrics import october as october  # the hand-computed fixture

pytestmark = pytest.mark.django_db

V1 = [{"metric": "closure", "weight": 30}, {"metric": "on_time", "weight": 30},
      {"metric": "rework", "weight": 20}, {"metric": "satisfaction", "weight": 20}]
FLOORS = {"A": 90, "B": 75, "C": 60, "D": 40}
FIRST, LAST = dt.date(2024, 10, 1), dt.date(2024, 10, 31)


def _compute(actor, scheme, region):
    return period_compute(actor=actor, scheme=scheme, subject_kind="department", region=region,
                          first_day=FIRST, last_day=LAST)


def _table(period):
    return {s.code: (s.final, s.grade, s.rank) for s in period.scores.all()}


def test_a_period_is_computed_and_stored_as_computed_by_hand(october):
    admin = october.cast.admin_a
    scheme = scheme_version_create(actor=admin, code="dept", name="部门考核", indicators=V1, thresholds=FLOORS)
    period = _compute(admin, scheme, october.cast.city.a)
    table = _table(period)
    assert table["440301-sw"] == (pytest.approx(88.0), "B", 1)
    assert table["440301-cg"] == (pytest.approx(62.666667), "C", 2)
    urban = period.scores.get(code="440301-cg")
    assert urban.parts["on_time"]["numerator"] == 1 and urban.parts["on_time"]["denominator"] == 3
    assert urban.parts["rework"]["points"] == pytest.approx(100.0)
    assert urban.parts["satisfaction"]["contribution"] == pytest.approx(20 * 190 / 3 / 100)


def test_recomputing_a_past_period_with_its_own_version_gives_the_same_result(october):
    admin = october.cast.admin_a
    v1 = scheme_version_create(actor=admin, code="dept", name="部门考核", indicators=V1, thresholds=FLOORS)
    first = _table(_compute(admin, v1, october.cast.city.a))
    v2 = scheme_version_create(actor=admin, code="dept", name="部门考核",
                               indicators=[{"metric": "satisfaction", "weight": 1}], thresholds=FLOORS)
    assert (v1.version, v2.version) == (1, 2)
    assert _table(_compute(admin, v1, october.cast.city.a)) == first  # v1 is unchanged by v2
    with_v2 = _table(_compute(admin, v2, october.cast.city.a))
    assert with_v2["440301-sw"] == (pytest.approx(90.0), "A", 1)  # 满意率 0.9 alone


def test_review_adjusts_with_a_reason_then_approval_freezes_and_publication_follows(october):
    admin = october.cast.admin_a
    scheme = scheme_version_create(actor=admin, code="dept", name="部门考核", indicators=V1, thresholds=FLOORS)
    period = _compute(admin, scheme, october.cast.city.a)
    urban = period.scores.get(code="440301-cg")
    with pytest.raises(TransitionNotAllowed) as exc:
        score_adjust(actor=admin, score=urban, points=15, reason=" ")
    assert "reason" in exc.value.message_dict
    score_adjust(actor=admin, score=urban, points=15, reason="专项整治加分")
    assert _table(period)["440301-cg"] == (pytest.approx(77.666667), "B", 2)
    assert AuditEntry.objects.filter(action="assessment.adjust", target_id=str(urban.pk)).count() == 1
    # computed again: the adjustment is kept
    assert _table(_compute(admin, scheme, october.cast.city.a))["440301-cg"][0] == pytest.approx(77.666667)
    with pytest.raises(CaseConflict):
        period_advance(actor=admin, period=period, to=PeriodState.PUBLISHED)  # not approved yet
    period = period_advance(actor=admin, period=period, to=PeriodState.APPROVED)
    with pytest.raises(CaseConflict):
        _compute(admin, scheme, october.cast.city.a)
    with pytest.raises(CaseConflict):
        score_adjust(actor=admin, score=urban, points=1, reason="再加一分")
    assert period_advance(actor=admin, period=period, to=PeriodState.PUBLISHED).published_at is not None


def test_only_leaders_and_administrators_assess_and_only_their_regions(october):
    with pytest.raises(TransitionRefused):
        scheme_version_create(actor=october.cast.alice, code="x", name="x", indicators=V1, thresholds=FLOORS)
    admin = october.cast.admin_a
    with pytest.raises(TransitionNotAllowed) as exc:
        scheme_version_create(actor=admin, code="x", name="x", indicators=[{"metric": "speed", "weight": 1}],
                              thresholds={"A": 50, "B": 75, "C": 60, "D": 40})
    assert set(exc.value.message_dict) == {"indicators", "thresholds"}
    scheme = scheme_version_create(actor=admin, code="dept", name="部门考核", indicators=V1, thresholds=FLOORS)
    from django.http import Http404

    with pytest.raises(Http404):  # district B is not admin A's
        _compute(admin, scheme, october.cast.city.b)
    with pytest.raises(TransitionRefused):
        _compute(october.units.dana, scheme, october.cast.city.a)


# --- the ranking page, its drill-down and its export ------------------------------------------------


def _client(user):
    from django.test import Client

    c = Client()
    c.force_login(user)
    return c


def test_the_ranking_page_drills_down_to_the_cases_and_exports_watermarked(october):
    import io
    import re
    from html import unescape

    from openpyxl import load_workbook

    admin = october.cast.admin_a
    scheme = scheme_version_create(actor=admin, code="dept", name="部门考核", indicators=V1, thresholds=FLOORS)
    period = _compute(admin, scheme, october.cast.city.a)
    c = _client(admin)
    assert f'href="/assessment/performance/{period.pk}/"' in c.get("/assessment/performance/").content.decode()
    page = c.get(f"/assessment/performance/{period.pk}/").content.decode()
    row = page[page.index('id="subject-440301-cg"'):]
    row = row[:row.index("</tr>")]
    # urban's 按期结案率 1 / 3: the numerator's link lists C1 alone, the denominator's C1 C2 C3
    links = [unescape(u) for u in re.findall(r'href="(/cases/\?[^"]+)"', row)]
    on_time = [u for u in links if "metric=on_time" in u]
    numerator = c.get(on_time[0]).content.decode()
    cases = october.cases
    assert cases["C1"].tracking_code in numerator and cases["C2"].tracking_code not in numerator
    denominator = c.get(on_time[1]).content.decode()
    assert all(cases[k].tracking_code in denominator for k in ("C1", "C2", "C3"))
    assert cases["C5"].tracking_code not in denominator  # water's
    export = c.get(f"/assessment/performance/{period.pk}/export.xlsx")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    values = [[cell.value for cell in r] for r in sheet.iter_rows()]
    assert "admin_a" in str(values[1][0])  # the watermark line
    first = next(v for v in values if v[1] == "440301-sw")
    assert first[0] == 1 and first[-3] == pytest.approx(88.0) and first[-2] == "B"
    assert AuditEntry.objects.filter(action="privacy.export", target_id=str(period.pk)).count() == 1


def test_the_ranking_is_for_staff_of_the_region_and_unpublished_only_for_assessors(october):
    admin = october.cast.admin_a
    scheme = scheme_version_create(actor=admin, code="dept", name="部门考核", indicators=V1, thresholds=FLOORS)
    period = _compute(admin, scheme, october.cast.city.a)
    url = f"/assessment/performance/{period.pk}/"
    assert _client(october.units.rita).get(url).status_code == 403  # a resident
    assert _client(october.cast.charlie).get(url).status_code == 404  # district B's dispatcher
    assert _client(october.cast.charlie).get(url + "export.xlsx").status_code == 404
    period_advance(actor=admin, period=period, to=PeriodState.APPROVED)
    assert _client(october.cast.charlie).get(url).status_code == 404  # published or not: not his region


def test_the_api_computes_adjusts_approves_and_refuses_outsiders(october):
    admin = _client(october.cast.admin_a)
    made = admin.post("/api/v1/assessment/schemes", {"code": "dept", "name": "部门考核", "indicators": V1,
                                                     "thresholds": FLOORS}, content_type="application/json")
    assert made.status_code == 201 and made.json()["version"] == 1
    bad = admin.post("/api/v1/assessment/schemes", {"code": "dept", "indicators": [], "thresholds": FLOORS},
                     content_type="application/json")
    assert bad.status_code == 422 and "indicators" in bad.content.decode()
    body = {"scheme": made.json()["id"], "subject_kind": "department", "region": "440301",
            "first_day": "2024-10-01", "last_day": "2024-10-31"}
    period = admin.post("/api/v1/assessment/periods", body, content_type="application/json")
    assert period.status_code == 201
    scores = {s["code"]: s for s in period.json()["scores"]}
    assert scores["440301-sw"]["final"] == pytest.approx(88.0) and scores["440301-sw"]["rank"] == 1
    url = f"/api/v1/assessment/periods/{period.json()['id']}"
    no_reason = admin.post(f"{url}/scores/{scores['440301-cg']['id']}/adjustments", {"points": 5, "reason": ""},
                           content_type="application/json")
    assert no_reason.status_code == 422 and "reason" in no_reason.content.decode()
    dispatcher = _client(october.cast.alice)
    assert dispatcher.post("/api/v1/assessment/periods", body,
                           content_type="application/json").status_code == 403  # a wrong role
    assert _client(october.cast.charlie).get(url).status_code == 404  # another district
    assert admin.post(f"{url}/state", {"state": "approved"}, content_type="application/json").json()["state"] \
        == "approved"
    assert admin.post(f"{url}/state", {"state": "approved"}, content_type="application/json").status_code == 409
    assert admin.post("/api/v1/assessment/periods", {**body, "region": "440302"},
                      content_type="application/json").status_code == 404


def test_the_ranking_chart_is_echarts_served_locally_with_the_table_s_numbers(october):
    import json
    import re

    from django.contrib.staticfiles import finders

    found = finders.find("echarts/echarts.min.js")
    if not found:
        pytest.skip("ECharts is not installed (make charts: npm ci from package-lock.json)")
    assert "node_modules" in found  # from the npm install, not a CDN
    admin = october.cast.admin_a
    scheme = scheme_version_create(actor=admin, code="dept", name="部门考核", indicators=V1, thresholds=FLOORS)
    period = _compute(admin, scheme, october.cast.city.a)
    page = _client(admin).get(f"/assessment/performance/{period.pk}/").content.decode()
    assert re.search(r'<script src="/static/echarts/echarts\.min\.js">', page)
    assert "cdn" not in page.lower() and "//" not in re.findall(r'<script src="([^"]+)"', page)[-1]
    data = json.loads(re.search(r'<script id="ranking-data" type="application/json">(.*?)</script>', page).group(1))
    assert [(d["label"], round(d["final"], 2), d["grade"]) for d in data] == [("甲区水务局", 88.0, "B"),
                                                                           ("甲区城管局", 62.67, "C")]
