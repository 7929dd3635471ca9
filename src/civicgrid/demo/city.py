"""The demo city 云川市: a pure, seeded builder of its districts, streets and communities.

云川市 does not exist. Its codes start with 99, a prefix no province uses (real province codes run
from 11 to 82), so demo data can never collide with, or be mistaken for, a real division:

- city ``990100``; districts ``9901NN`` (6 digits, same first four as the city, as the import expects);
- streets: district code + 3 digits; communities: street code + 3 digits (the 12-digit form);
- grids: community code + 3 digits, given by the import service when the communities are cut.

Nothing here touches the database: :func:`demo_city_plan` turns a seed into names, codes and shapes,
and the same seed always gives the same plan (byte for byte, see :meth:`DemoCityPlan.digest`).

How the shapes are made: the city is a slightly skewed quadrilateral around lon 118.78, lat 32.05
whose outline is pulled in here and there so it does not look like a box. The quadrilateral is cut
into districts, each district into streets and each street into communities, always by straight cuts
between opposite sides at jittered positions. Every piece is then a convex quadrilateral, neighbours
share their edges exactly (no sibling overlaps, no gaps), and the cuts are slanted so the map looks
drawn by hand rather than ruled. Each piece is finally clipped to the city outline.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry

from civicgrid.geo.crs import meters_per_degree

__all__ = [
    "CENTRE",
    "CITY_CODE",
    "CITY_NAME",
    "GRIDS_PER_COMMUNITY",
    "DemoCityPlan",
    "DemoRegion",
    "demo_city_plan",
]

CITY_CODE = "990100"
CITY_NAME = "云川市"
CENTRE = (118.78, 32.05)  # lon, lat (WGS-84): a plausible place for a city in east China
GRIDS_PER_COMMUNITY = 8  # a community is sized to hold about this many grids of the target area
PRECISION = 1e-7  # degrees (about 1 cm): the outline's points are snapped to this grid

LIMITS = {"districts": 20, "streets_per_district": 30, "communities_per_street": 30}

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]  # south-west, south-east, north-east, north-west

# District names by the side of the city they lie on, so 东湖区 is in the east and 西山区 in the west.
_DISTRICT_NAMES = {
    "east": ("东湖区", "东江区", "东岭区"),
    "west": ("西山区", "西林区", "西溪区"),
    "south": ("南城区", "南浦区", "南岸区"),
    "north": ("北塘区", "北岭区", "北湖区"),
    "centre": ("鼓楼区", "中山区", "云中区"),
}
_DISTRICT_SPARE = ("临江区", "白鹭区", "翠屏区", "金川区", "玉泉区", "凤鸣区", "青云区", "长宁区")

_STREET_STEMS = (
    "桂花", "梧桐", "银杏", "长乐", "和平", "新华", "文昌", "龙潭", "凤凰", "望江", "柳营", "松涛", "清溪",
    "石桥", "湖滨", "玉带", "锦绣", "青石", "朝阳", "丰乐", "兴隆", "安康", "迎春", "白云", "枫林", "翠竹",
    "海棠", "紫荆", "荷花", "茶亭", "明月", "双塔", "古楼", "仙鹤", "太平", "永宁", "通济", "大观", "西华",
    "东坡",
)
_COMMUNITY_STEMS = (
    "春晓", "秋实", "花园", "南苑", "北苑", "东苑", "西苑", "金桥", "银河", "水岸", "阳光", "幸福", "丽景",
    "锦江", "翠湖", "碧水", "绿洲", "书香", "雅居", "映月", "观澜", "星河", "彩虹", "晨曦", "康乐", "怡园",
    "芳草", "杏林", "柳岸", "桃源", "梅苑", "竹园", "兰亭", "菊香", "紫薇", "玉兰", "香樟", "朗润", "滨江",
    "东门", "西门", "南门", "北门", "府前", "学府", "文汇", "博雅", "汇景", "嘉园", "华府", "锦苑", "百合",
    "樱花", "红枫", "青园", "瑞景", "铁路新村", "工人新村", "机械新村", "纺织新村", "电厂", "粮库", "体育",
    "科技园", "景秀", "馨园", "恒安", "裕丰", "新城", "旧城", "老街", "江湾", "渡口", "码头", "沙洲", "柳巷",
    "杨柳", "荷塘", "莲花", "凤栖",
)


@dataclass(frozen=True)
class DemoRegion:
    """One planned district, street or community of the demo city."""

    level: str
    code: str
    name: str
    parent: str  # the parent's code
    geom: BaseGeometry


@dataclass
class DemoCityPlan:
    """Names, codes and shapes of the demo city, ready to feed the import service level by level."""

    seed: int
    code: str
    name: str
    outline: BaseGeometry
    regions: list[DemoRegion] = field(default_factory=list)
    _codes: set[str] = field(default_factory=set, repr=False)

    def add(self, level: str, code: str, name: str, parent: str, geom: BaseGeometry) -> None:
        """Plan one region; a piece the outline cut away entirely (only possible in very fine
        splits along the edge) is left out, together with everything below it."""
        if geom.is_empty or (level != "district" and parent not in self._codes):
            return
        self.regions.append(DemoRegion(level, code, name, parent, geom))
        self._codes.add(code)

    def at(self, level: str) -> list[DemoRegion]:
        return [r for r in self.regions if r.level == level]

    def features(self, level: str) -> dict[str, Any]:
        """A GeoJSON FeatureCollection of one level, with ``code`` and ``parent`` properties."""
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": mapping(r.geom),
             "properties": {"name": r.name, "code": r.code, "parent": r.parent}}
            for r in self.at(level)
        ]}

    def digest(self) -> str:
        """A fingerprint of every code, name, parent and shape (WKB), for determinism checks."""
        h = hashlib.sha256()
        for r in [DemoRegion("city", self.code, self.name, "", self.outline), *self.regions]:
            h.update(f"{r.level}|{r.code}|{r.name}|{r.parent}|".encode())
            h.update(shapely.to_wkb(r.geom))
        return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# geometry helpers (pure)


def _lerp(a: Point, b: Point, t: float) -> Point:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _fractions(n: int, rng: random.Random, jitter: float = 0.22) -> list[float]:
    """``n + 1`` cut positions from 0 to 1: even steps, the inner ones moved by up to ±jitter of a step."""
    step = 1.0 / n
    inner = [(i + rng.uniform(-jitter, jitter)) * step for i in range(1, n)]
    return [0.0, *inner, 1.0]


def _rows(quad: Quad, n: int, rng: random.Random) -> list[Quad]:
    """Cut a quad into ``n`` bands from south to north (cuts join the west and east sides)."""
    sw, se, ne, nw = quad
    west, east = _fractions(n, rng), _fractions(n, rng)
    return [(_lerp(sw, nw, west[i]), _lerp(se, ne, east[i]),
             _lerp(se, ne, east[i + 1]), _lerp(sw, nw, west[i + 1])) for i in range(n)]


def _columns(quad: Quad, n: int, rng: random.Random) -> list[Quad]:
    """Cut a quad into ``n`` bands from west to east (cuts join the south and north sides)."""
    sw, se, ne, nw = quad
    south, north = _fractions(n, rng), _fractions(n, rng)
    return [(_lerp(sw, se, south[i]), _lerp(sw, se, south[i + 1]),
             _lerp(nw, ne, north[i + 1]), _lerp(nw, ne, north[i])) for i in range(n)]


def _extent(quad: Quad, mx: float, my: float) -> tuple[float, float]:
    """Rough east-west and north-south size of a quad in metres."""
    sw, se, ne, nw = ((x * mx, y * my) for x, y in quad)
    return (math.dist(sw, se) + math.dist(nw, ne)) / 2, (math.dist(sw, nw) + math.dist(se, ne)) / 2


def _split(quad: Quad, k: int, rng: random.Random, mx: float, my: float) -> list[Quad]:
    """Cut a convex quad into ``k`` convex quads: first into bands across its longer side, then each
    band into cells. Band sizes differ by at most one cell and their order is shuffled by the seed.

    Every cut is a straight segment between two opposite sides, so each piece is the quad clipped
    by half-planes (hence convex), and the pieces tile the quad exactly.
    """
    if k == 1:
        return [quad]
    bands = max(1, min(k, round(math.sqrt(k))))
    sizes = [k // bands + (1 if i < k % bands else 0) for i in range(bands)]
    rng.shuffle(sizes)
    width, height = _extent(quad, mx, my)
    if width >= height:  # wide: west-to-east columns, each cut into cells from south to north
        return [cell for band, size in zip(_columns(quad, bands, rng), sizes, strict=True)
                for cell in _rows(band, size, rng)]
    return [cell for band, size in zip(_rows(quad, bands, rng), sizes, strict=True)
            for cell in _columns(band, size, rng)]


def _clip(quad: Quad, outline: BaseGeometry) -> BaseGeometry:
    """The quad clipped to the city outline, polygons only.

    Not snapped to a precision grid: where a cut ends on a neighbour's side (a T-junction), its end
    lies exactly on that side only in full precision; rounding it would open slivers of overlap."""
    piece = shapely.intersection(Polygon([*quad, quad[0]]), outline)
    parts = [p for p in getattr(piece, "geoms", [piece]) if isinstance(p, Polygon) and p.area > 0]
    if not parts:
        return Polygon()
    return shapely.normalize(parts[0] if len(parts) == 1 else MultiPolygon(parts))


def _city_quad(rng: random.Random, area_m2: float, mx: float, my: float) -> Quad:
    """A quadrilateral of about ``area_m2`` around :data:`CENTRE`, a little wider than tall, with
    each corner moved by up to 8 % of the size so it is not a rectangle."""
    height = math.sqrt(area_m2 / 1.25)
    width = 1.25 * height
    w, h = width / mx, height / my
    cx, cy = CENTRE

    def corner(sx: int, sy: int) -> Point:
        x = cx + sx * w / 2 + rng.uniform(-0.08, 0.08) * w
        return (x, cy + sy * h / 2 + rng.uniform(-0.08, 0.08) * h)

    return (corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, 1))


def _outline(quad: Quad, rng: random.Random, per_side: int = 9) -> BaseGeometry:
    """The city's outline: points along the quad's sides, each pulled towards the centre by up to
    7 %. The points keep their angular order around the centre, so the polygon stays simple."""
    centre = (sum(p[0] for p in quad) / 4, sum(p[1] for p in quad) / 4)
    points: list[Point] = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        for j in range(per_side):
            t = (j + (rng.uniform(-0.3, 0.3) if j else 0.0)) / per_side
            points.append(_lerp(_lerp(a, b, t), centre, rng.uniform(0.0, 0.07)))
    return shapely.normalize(shapely.set_precision(Polygon([*points, points[0]]), PRECISION))


# ---------------------------------------------------------------------------------------------
# names (pure)


def _side(geom: BaseGeometry, outline: BaseGeometry) -> str:
    """Which side of the city a district lies on: east, west, south, north, or the centre."""
    c, o = geom.centroid, outline.centroid
    minx, miny, maxx, maxy = outline.bounds
    dx, dy = (c.x - o.x) / (maxx - minx), (c.y - o.y) / (maxy - miny)
    if math.hypot(dx, dy) < 0.12:
        return "centre"
    if abs(dx) >= abs(dy):
        return "east" if dx > 0 else "west"
    return "north" if dy > 0 else "south"


def _district_names(geoms: list[BaseGeometry], outline: BaseGeometry) -> list[str]:
    used: set[str] = set()
    names = []
    spare = list(_DISTRICT_SPARE)
    for n, geom in enumerate(geoms, start=1):
        name = next((x for x in _DISTRICT_NAMES[_side(geom, outline)] if x not in used), None)
        if name is None:
            name = spare.pop(0) if spare else f"第{n}区"
        used.add(name)
        names.append(name)
    return names


# ---------------------------------------------------------------------------------------------
# the plan


def demo_city_plan(*, seed: int = 2026, districts: int = 3, streets_per_district: int = 3,
                   communities_per_street: int = 3, grid_target_m2: float = 250_000) -> DemoCityPlan:
    """The demo city for ``seed``: the same arguments always give the same plan. Pure."""
    for arg, value in (("districts", districts), ("streets_per_district", streets_per_district),
                       ("communities_per_street", communities_per_street)):
        if not 1 <= value <= LIMITS[arg]:
            raise ValueError(f"{arg} must be between 1 and {LIMITS[arg]} (got {value})")
    if not (math.isfinite(grid_target_m2) and 10_000 <= grid_target_m2 <= 10_000_000):
        raise ValueError(f"grid_target_m2 must be between 10,000 and 10,000,000 m² (got {grid_target_m2:g})")

    rng = random.Random(seed)
    mx, my = meters_per_degree(CENTRE[1])
    n_communities = districts * streets_per_district * communities_per_street
    # Clipping to the outline loses a few per cent of the quad; ask for a little more area.
    city_quad = _city_quad(rng, n_communities * GRIDS_PER_COMMUNITY * grid_target_m2 / 0.95, mx, my)
    outline = _outline(city_quad, rng)
    plan = DemoCityPlan(seed=seed, code=CITY_CODE, name=CITY_NAME, outline=outline)

    street_stems = list(_STREET_STEMS)
    community_stems = [s for s in _COMMUNITY_STEMS if s not in street_stems]
    rng.shuffle(street_stems)
    rng.shuffle(community_stems)

    district_quads = _split(city_quad, districts, rng, mx, my)
    district_geoms = [_clip(q, outline) for q in district_quads]
    district_names = _district_names(district_geoms, outline)
    n_street = n_community = 0
    districts_planned = zip(district_quads, district_geoms, district_names, strict=True)
    for d, (dquad, dgeom, dname) in enumerate(districts_planned, start=1):
        dcode = f"{CITY_CODE[:4]}{d:02d}"
        plan.add("district", dcode, dname, CITY_CODE, dgeom)
        for s, squad in enumerate(_split(dquad, streets_per_district, rng, mx, my), start=1):
            n_street += 1
            sstem = street_stems[n_street - 1] if n_street <= len(street_stems) else f"{dname[:-1]}第{s}"
            scode = f"{dcode}{s:03d}"
            plan.add("street", scode, f"{sstem}街道", dcode, _clip(squad, outline))
            for c, cquad in enumerate(_split(squad, communities_per_street, rng, mx, my), start=1):
                n_community += 1
                cname = (f"{community_stems[n_community - 1]}社区" if n_community <= len(community_stems)
                         else f"{sstem}第{c}社区")
                plan.add("community", f"{scode}{c:03d}", cname, scode, _clip(cquad, outline))
    return plan
