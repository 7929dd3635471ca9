"""Fixtures for smart dispatch: a small separable message set with known answers (three problems
with their own words), a two-level category tree with a dispatch catalogue, and helpers that put
cases in the small city."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import translation

PLACES = ["幸福路", "建设大道", "人民北路", "滨江花园", "东风小区", "解放西路", "金桥社区", "望城坡", "红星村"]
ROAD = ["{p}路面坑洼破损严重，车辆经过颠簸", "{p}人行道地砖松动破损，行人容易摔倒",
        "{p}道路塌陷出现大坑，请尽快修补路面", "{p}马路井盖缺失路面破损，存在安全隐患"]
NOISE = ["{p}工地夜间施工噪音扰民，影响居民休息", "{p}附近酒吧音响噪音太大，深夜吵闹",
         "{p}广场舞音响声音太大，噪音扰民", "{p}楼下商铺夜间噪音扰民，无法入睡"]
SCHOOL = ["{p}小学乱收费，家长负担重", "孩子在{p}学校入学难，学位不够", "{p}中学老师补课收费，请教育局调查",
          "{p}幼儿园学费上涨太快，家长反映强烈"]
CLASSES = {"道路": ROAD, "噪音": NOISE, "教育": SCHOOL}


def messages(per_class: int = 24, offset: int = 0) -> tuple[list[str], list[str], list[tuple[str, ...]]]:
    """``per_class`` messages of each class: subject, details, label path."""
    titles, bodies, labels = [], [], []
    for label, templates in CLASSES.items():
        combos = list(itertools.product(templates, PLACES))[offset:offset + per_class]
        for template, place in combos:
            text = template.format(p=place)
            titles.append(text[:12])
            bodies.append(f"您好，{text}。希望有关部门尽快处理，谢谢。")
            labels.append((label,))
    return titles, bodies, labels


@pytest.fixture(autouse=True)
def dispatch_caches() -> Iterator[None]:
    """Process caches must not outlive the test database; messages read as their English msgids."""
    from civicgrid.cases.testing import register_drill
    from civicgrid.dispatch.selectors import active_model_invalidate, duplicate_index_invalidate
    from civicgrid.geo.selectors import lookup_index_invalidate

    register_drill()
    for clear in (active_model_invalidate, duplicate_index_invalidate, lookup_index_invalidate):
        clear()
    with translation.override("en"):
        yield
    for clear in (active_model_invalidate, duplicate_index_invalidate, lookup_index_invalidate):
        clear()


@dataclass
class Tree:
    road: Any
    noise: Any
    school: Any
    road_surface: Any  # 道路 › 路面
    road_cover: Any  # 道路 › 井盖
    roads_dept: Any  # district A's roads department (fixed line for 道路)
    env_dept: Any  # district A's environment department (by function, for 噪音)


@pytest.fixture
def tree(cast: Any) -> Tree:
    from civicgrid.org.services import department_create
    from civicgrid.taxonomy.services import category_create, dispatch_rule_set

    road = category_create(actor=None, name="道路", kind="event", code="E01")
    noise = category_create(actor=None, name="噪音", kind="event", code="E02")
    school = category_create(actor=None, name="教育", kind="event", code="E03")
    surface = category_create(actor=None, name="路面", parent=road, code="E0101")
    cover = category_create(actor=None, name="井盖", parent=road, code="E0102")
    a = cast.city.a
    roads = department_create(actor=None, code="A-ROADS", name="甲区住建局", region=a, function="roads")
    env = department_create(actor=None, code="A-ENV", name="甲区环保局", region=a, function="environment",
                            service_regions=[a])
    dispatch_rule_set(actor=None, category=road, region_level="district", department=roads)
    dispatch_rule_set(actor=None, category=noise, region_level="district", department_function="environment")
    return Tree(road, noise, school, surface, cover, roads, env)


POINT_A = (114.02, 22.51)  # inside grid 440301001001001 (Alice's street)
POINT_FAR = (114.12, 22.51)  # district B, about 10 km east


def case_new(title: str, text: str = "", *, point: tuple[float, float] | None = POINT_A, at: Any = None,
             category: Any = None, closed: bool = False) -> Any:
    """A drill case placed at ``point``; ``closed`` marks it closed with its final category (as the
    engine's close step would), for training data."""
    from django.utils import timezone

    from civicgrid.cases.models import Case
    from civicgrid.cases.services import Location, case_create

    loc = Location(lon=point[0], lat=point[1]) if point else None
    case = case_create(actor=None, case_type="drill", title=title, text=text, location=loc, category=category,
                       now=at)
    if closed:
        Case.objects.filter(pk=case.pk).update(closed_at=timezone.now(), state="closed", category=category)
        case.refresh_from_db()
    return case
