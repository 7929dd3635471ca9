"""Screening reports (矛盾纠纷排查): disputes found or an explicit "none found" (零报告), one per region
and month, and the centre's list of grids that have not reported; the pages and the refusals."""

from __future__ import annotations

import pytest

from civicgrid.cases.errors import TransitionNotAllowed
from civicgrid.disputes.models import ScreeningReport
from civicgrid.disputes.selectors import grids_not_reported
from civicgrid.disputes.services import screening_file
from civicgrid.disputes.tests.conftest import GRID_A, POINT_B, register
from civicgrid.org.scoping import OutOfScope

PERIOD = "2024-09"
DISTRICT_A_GRIDS = [f"44030100{s}001{g:03d}" for s in (1, 2) for g in range(1, 5)]


def missing(user, period=PERIOD):
    return [r.code for r in grids_not_reported(user, period)]


def test_none_found_is_a_report_and_the_grid_leaves_the_missing_list(mediation):
    m = mediation
    grid = m.cast.city.get(GRID_A)
    alice_grids = [c for c in DISTRICT_A_GRIDS if c.startswith("440301001")]
    assert missing(m.cast.alice) == alice_grids
    report = screening_file(actor=m.cast.bob, region=grid, period=PERIOD, none_found=True)
    assert report.none_found and report.organisation == m.community  # the grid's community committee
    assert missing(m.cast.alice) == alice_grids[1:]
    assert missing(m.cast.alice, "2024-10") == alice_grids  # another month: not reported yet
    assert missing(m.cast.charlie)[0].startswith("440302")  # district B's centre sees its own grids


def test_a_report_with_the_disputes_found(mediation):
    m = mediation
    grid = m.cast.city.get(GRID_A)
    case = register(m.cast.bob)
    report = screening_file(actor=m.cast.bob, region=grid, period=PERIOD, disputes=[case])
    assert list(report.disputes.all()) == [case] and not report.none_found


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"none_found": False}, "disputes"),  # neither disputes nor "none found"
    ({"period": "2024-13", "none_found": True}, "period"),
    ({"period": "sept", "none_found": True}, "period"),
])
def test_refusals_name_the_field(mediation, kwargs, field):
    grid = mediation.cast.city.get(GRID_A)
    kwargs.setdefault("period", PERIOD)
    with pytest.raises(TransitionNotAllowed) as exc:
        screening_file(actor=mediation.cast.bob, region=grid, **kwargs)
    assert list(exc.value.message_dict) == [field]
    assert not ScreeningReport.objects.exists()


def test_disputes_and_none_found_together_or_a_foreign_dispute_are_refused(mediation):
    m = mediation
    grid = m.cast.city.get(GRID_A)
    case = register(m.cast.bob)
    with pytest.raises(TransitionNotAllowed) as exc:
        screening_file(actor=m.cast.bob, region=grid, period=PERIOD, none_found=True, disputes=[case])
    assert list(exc.value.message_dict) == ["none_found"]
    elsewhere = register(None, point=POINT_B)
    with pytest.raises(TransitionNotAllowed) as exc:
        screening_file(actor=m.cast.bob, region=grid, period=PERIOD, disputes=[elsewhere])
    assert list(exc.value.message_dict) == ["disputes"]


def test_once_per_region_and_period_and_only_in_the_jurisdiction(mediation):
    m = mediation
    grid = m.cast.city.get(GRID_A)
    screening_file(actor=m.cast.bob, region=grid, period=PERIOD, none_found=True)
    with pytest.raises(TransitionNotAllowed) as exc:
        screening_file(actor=m.cast.bob, region=grid, period=PERIOD, none_found=True)
    assert list(exc.value.message_dict) == ["period"]
    other_grid = m.cast.city.get("440301001001002")  # Bob's community, not his grid
    with pytest.raises(OutOfScope):
        screening_file(actor=m.cast.bob, region=other_grid, period=PERIOD, none_found=True)
    with pytest.raises(OutOfScope):  # an outsider
        screening_file(actor=m.cast.charlie, region=grid, period=PERIOD, none_found=True)
    with pytest.raises(TransitionNotAllowed) as exc:  # a street files no screening of its own
        screening_file(actor=m.cast.alice, region=m.cast.city.get("440301001"), period=PERIOD, none_found=True)
    assert list(exc.value.message_dict) == ["region"]


def test_the_screening_page_files_none_found_and_lists_the_missing_grids(client, mediation):
    m = mediation
    client.force_login(m.cast.bob)
    page = client.get(f"/disputes/screening/?period={PERIOD}")
    assert page.status_code == 200 and GRID_A in page.content.decode()
    r = client.post("/disputes/screening/", {"period": PERIOD, "region": GRID_A, "none_found": "yes"})
    assert r.status_code == 302
    r = client.post("/disputes/screening/", {"period": PERIOD, "region": GRID_A, "none_found": "yes"})  # again
    assert r.status_code == 422 and 'data-field="period"' in r.content.decode()
    client.force_login(m.cast.alice)
    html = client.get(f"/disputes/screening/?period={PERIOD}").content.decode()
    missing_part = html.split('id="missing"')[1].split("</ul>")[0]
    assert GRID_A not in missing_part and "440301001001002" in missing_part
    # a region outside the jurisdiction: 404
    client.force_login(m.cast.charlie)
    r = client.post("/disputes/screening/", {"period": PERIOD, "region": GRID_A, "none_found": "yes"})
    assert r.status_code == 404


def test_the_queue_shows_risk_reasons_and_the_routing_offer(client, mediation):
    m = mediation
    case = register(m.cast.bob, threat_violence=True)
    client.force_login(m.cast.alice)
    html = client.get("/disputes/").content.decode()
    row = html.split(f'id="dispute-{case.tracking_code}"')[1].split("</tr>")[0]
    assert "threat of violence" in row and row.index("M-C") < row.index("M-S") < row.index("M-D")
    client.force_login(m.cast.charlie)
    assert case.tracking_code not in client.get("/disputes/").content.decode()


def test_a_mediator_lands_on_the_dispute_list_and_staff_find_it_in_the_menu(client, mediation):
    m = mediation
    client.force_login(m.mia)
    assert client.get("/")["Location"] == "/disputes/"
    client.force_login(m.cast.alice)
    html = client.get("/disputes/").content.decode()
    assert 'href="/disputes/screening/"' in html
