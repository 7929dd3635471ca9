"""The case list says what it shows: the map's counts open the open cases of the grid (whatever
their age), the active filters stand above the list, a tracking code is found at any age, and a word
search says which period it searched and how to widen it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from civicgrid.cases.models import Case
from civicgrid.web.tests.conftest import POINT_B, client_for, fresh, reported

pytestmark = pytest.mark.django_db


def _aged(case, days: int):
    Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - dt.timedelta(days=days))
    return fresh(case)


def _list_part(html: str) -> str:
    return html[html.index('id="case-list"'):]


def test_a_count_on_the_centre_map_opens_the_open_cases_of_that_grid(world):
    old = _aged(reported(text="井盖缺失很久了"), 400)  # still open, reported more than a year ago
    mine = reported()
    html = client_for(world.alice).get("/centre/map/").content.decode()
    table = html[html.index('id="grid-loads"'):]
    link = table[table.index('href="') + 6:table.index('">', table.index('href="'))].replace("&amp;", "&")
    assert "start=2000-01-01" not in link and "open=1" in link
    page = client_for(world.alice).get(link).content.decode()
    assert "时段最长三年" not in page
    listed = _list_part(page)
    assert old.tracking_code in listed and mine.tracking_code in listed


def test_the_filtered_list_names_the_grid_it_shows(world):
    case = reported()
    page = client_for(world.alice).get("/cases/", {"region": case.grid.code, "open": "1"}).content.decode()
    shown = page[page.index('id="active-filters"'):page.index("</p>", page.index('id="active-filters"'))]
    assert "网格：" in shown and case.grid.name in shown
    assert "正在办理的案件，不限上报时间" in shown


def test_the_list_shows_its_period_and_state_above_the_rows(world):
    reported()
    page = client_for(world.alice).get("/cases/", {"start": "2026-11-01", "end": "2026-11-30",
                                                   "state": "reported"}).content.decode()
    shown = page[page.index('id="active-filters"'):page.index("</p>", page.index('id="active-filters"'))]
    assert "上报时间：<b>2026-11-01 至 2026-11-30</b>" in shown and "状态：<b>已上报</b>" in shown


def test_a_tracking_code_finds_its_case_at_any_age(world):
    old = _aged(reported(), 2 * 365)
    page = client_for(world.alice).get("/cases/", {"q": old.tracking_code.lower()}).content.decode()
    assert old.tracking_code in _list_part(page)
    assert "按跟踪码查找不限时间" in page[page.index('id="active-filters"'):]


def test_a_tracking_code_outside_my_jurisdiction_is_not_found(world):
    theirs = _aged(reported(point=POINT_B), 100)
    page = client_for(world.alice).get("/cases/", {"q": theirs.tracking_code}).content.decode()
    assert theirs.tracking_code not in _list_part(page)


def test_a_word_search_says_which_period_it_searched_and_how_to_widen_it(world):
    old = _aged(reported(text="路灯不亮已经很久"), 200)
    c = client_for(world.alice)
    page = c.get("/cases/", {"q": "路灯"}).content.decode()
    assert old.tracking_code not in _list_part(page)
    today = timezone.localdate()
    said = page[page.index('id="search-period"'):]
    assert f"已在 {today - dt.timedelta(days=29):%Y-%m-%d} 至 {today:%Y-%m-%d} 上报的案件标题中搜索" in said
    wider = said[said.index('href="?') + 7:said.index('"', said.index('href="?') + 7)].replace("&amp;", "&")
    assert old.tracking_code in _list_part(c.get("/cases/?" + wider).content.decode())
