"""Loading the demo city 云川市 through the production services, and the demo staff group.

Everything is written by the same services a real city uses (the GeoJSON import, department and
user creation, membership grants, the category catalogue seed), so the demo exercises real code
paths and leaves a real audit trail. The whole load is one transaction: it happens completely or
not at all, and a second run finds the city and does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.audit.services import audit_record
from civicgrid.demo.city import CITY_CODE, DemoCityPlan, demo_city_plan
from civicgrid.demo.selectors import demo_city_counts, demo_city_get
from civicgrid.geo.models import Level, Region
from civicgrid.geo.services import city_create, regions_import, subdivision_features
from civicgrid.org.models import Department, Role, User
from civicgrid.org.services import department_create, membership_grant, user_create
from civicgrid.taxonomy.services import catalogue_seed

__all__ = [
    "DEMO_PASSWORD",
    "DEPARTMENT_FUNCTIONS",
    "DemoLoadError",
    "DemoUser",
    "demo_city_load",
    "demo_users_plan",
]

# One password for every demo login; it passes the strong-password rules (length, 4 classes).
DEMO_PASSWORD = "Demo-2026-pass"
# Functional departments (职能部门) every district and the city have: function → name suffix.
DEPARTMENT_FUNCTIONS: tuple[tuple[str, str], ...] = (
    ("urban_management", "城管执法局"),
    ("housing", "住房和城乡建设局"),
    ("water", "水务局"),
    ("landscaping", "园林绿化局"),
    ("traffic", "交通运输局"),
    ("environment", "生态环境局"),
    ("market", "市场监督管理局"),
)
FIRST_GRID_WORKERS = 3  # grid1 … grid3 patrol the first grids of the city

Progress = Callable[[str], None]


class DemoLoadError(RuntimeError):
    """The demo could not be loaded (a level was rejected by the import, a permission is missing…)."""


@dataclass(frozen=True)
class DemoUser:
    """One demo login: who, with which role, where."""

    username: str
    display_name: str
    role: str
    region: Region | None = None
    department: Department | None = None
    is_superuser: bool = False

    @property
    def is_staff(self) -> bool:
        return self.role != Role.RESIDENT


# ---------------------------------------------------------------------------------------------
# the load


def demo_users_plan(city: Region) -> list[DemoUser]:
    """The demo logins for a loaded demo city: memorable usernames, one role each."""
    regions = Region.objects.filter(city=city, is_active=True).order_by("code")
    districts = list(regions.filter(level=Level.DISTRICT))
    first_streets = [regions.filter(level=Level.STREET, parent=d).first() for d in districts]
    first_grids = list(regions.filter(level=Level.GRID)[:FIRST_GRID_WORKERS])
    chengguan = {d.code: d for d in Department.objects.filter(
        code__in=[_department_code(d, "urban_management") for d in districts])}

    users = [
        DemoUser("admin", "系统管理员", Role.ADMIN, region=city, is_superuser=True),
        DemoUser("city_dispatcher", "市综治中心调度员", Role.DISPATCHER, region=city),
        DemoUser("leader", "市领导", Role.LEADER, region=city),
        DemoUser("auditor", "审计员", Role.AUDITOR, region=city),
    ]
    for i, district in enumerate(districts, start=1):
        users.append(DemoUser(f"d{i}_dispatcher", f"{district.name}调度员", Role.DISPATCHER, region=district))
    if districts:
        users.append(DemoUser("d1_admin", f"{districts[0].name}管理员", Role.ADMIN, region=districts[0]))
    for i, street in enumerate(first_streets, start=1):
        if street is not None:
            users.append(DemoUser(f"s{i}_dispatcher", f"{street.name}调度员", Role.DISPATCHER, region=street))
    if first_streets and first_streets[0] is not None:
        users.append(DemoUser("mediator", f"{first_streets[0].name}人民调解员", Role.MEDIATOR,
                              region=first_streets[0]))
    for i, grid in enumerate(first_grids, start=1):
        users.append(DemoUser(f"grid{i}", f"{grid.name}网格员", Role.GRID_WORKER, region=grid))
    for i, district in enumerate(districts, start=1):
        dept = chengguan.get(_department_code(district, "urban_management"))
        if dept is not None:
            users.append(DemoUser(f"d{i}_chengguan", f"{dept.name}办事员", Role.DEPARTMENT_HANDLER,
                                  department=dept))
    users.append(DemoUser("resident", "演示居民", Role.RESIDENT))
    return users


def _import_level(plan_fc: dict[str, Any], *, level: str, actor: Any, source: str, codes: bool = True) -> int:
    options: dict[str, Any] = {"code_field": "code"} if codes else {}
    report = regions_import(plan_fc, level=level, actor=actor, commit=True, source=source,
                            parent_field="parent", **options)
    if not report.ok or report.count("create") != len(plan_fc["features"]):
        first = report.rejected[0] if report.rejected else None
        detail = f": #{first.index} {first.name}: {first.reason}" if first else ""
        raise DemoLoadError(f"the {level} import created {report.count('create')} of "
                            f"{len(plan_fc['features'])} regions ({len(report.rejected)} rejected{detail})")
    return report.count("create")


def _department_code(region: Region, function: str) -> str:
    return f"{region.code}-{function}"


def _department_create(*, actor: Any, name: str, function: str, region: Region) -> Department:
    return department_create(actor=actor, code=_department_code(region, function), name=name, region=region,
                             function=function, service_regions=[region])


def _load(plan: DemoCityPlan, *, actor: Any, grid_target_m2: float, say: Progress) -> None:
    source = f"demo city seed {plan.seed}"
    say(_("City %(name)s (%(code)s)") % {"name": plan.name, "code": plan.code})
    city = city_create(code=plan.code, name=plan.name, actor=actor, geometry=plan.outline)

    for level, label in ((Level.DISTRICT, _("districts")), (Level.STREET, _("streets")),
                         (Level.COMMUNITY, _("communities"))):
        n = _import_level(plan.features(level), level=level, actor=actor, source=source)
        say(_("%(n)d %(label)s imported") % {"n": n, "label": label})

    communities = Region.objects.filter(level=Level.COMMUNITY, city=city).order_by("code")
    grids = subdivision_features(communities, target_m2=grid_target_m2, child_level=Level.GRID)
    n = _import_level(grids, level=Level.GRID, actor=actor, codes=False,
                      source=f"{source}, grids of {grid_target_m2:g} m²")
    say(_("%(n)d grids cut from the communities") % {"n": n})

    n = 0
    for region in [city, *Region.objects.filter(level=Level.DISTRICT, parent=city).order_by("code")]:
        for function, suffix in DEPARTMENT_FUNCTIONS:
            _department_create(actor=actor, name=f"{region.name}{suffix}", function=function, region=region)
            n += 1
    say(_("%(n)d departments") % {"n": n})

    catalogue_seed(actor=actor)
    say(_("Category catalogue seeded"))

    created = 0
    for planned in demo_users_plan(city):
        if User.objects.filter(username=planned.username).exists():
            say(_("User %(username)s already exists: left as it is") % {"username": planned.username})
            continue
        user = user_create(actor=actor, username=planned.username, password=DEMO_PASSWORD,
                           display_name=planned.display_name, is_staff=planned.is_staff,
                           is_superuser=planned.is_superuser)
        membership_grant(actor=actor, user=user, role=planned.role, region=planned.region,
                         department=planned.department)
        created += 1
    # What each login may open in the admin follows from its role (org.permissions); no groups needed.
    say(_("%(n)d demo users") % {"n": created})


def demo_city_load(*, seed: int = 2026, districts: int = 3, streets_per_district: int = 3,
                   communities_per_street: int = 3, grid_target_m2: float = 250_000,
                   progress: Progress | None = None, actor: Any = None) -> dict[str, int]:
    """Build the demo city 云川市 (code 990100) with its districts, streets, communities, a few
    hundred grids, departments, the category catalogue and one login per role.

    Deterministic (the same arguments give the same codes, names and shapes) and idempotent: when
    the demo city exists already nothing is written. Returns the demo's counts, with ``created``
    1 when this call loaded it and 0 when it was there already.
    """
    say: Progress = progress or (lambda message: None)
    plan = demo_city_plan(seed=seed, districts=districts, streets_per_district=streets_per_district,
                          communities_per_street=communities_per_street, grid_target_m2=grid_target_m2)
    existing = demo_city_get()
    if existing is not None:
        say(_("The demo city %(name)s (%(code)s) is already loaded: nothing to do.")
            % {"name": existing.name, "code": existing.code})
        return {**demo_city_counts(existing), "created": 0}
    say(_("Building the demo city %(name)s from seed %(seed)d") % {"name": plan.name, "seed": seed})
    with transaction.atomic():
        _load(plan, actor=actor, grid_target_m2=grid_target_m2, say=say)
        city = Region.objects.get(code=CITY_CODE)
        counts = demo_city_counts(city)
        arguments = {"seed": seed, "districts": districts, "streets_per_district": streets_per_district,
                     "communities_per_street": communities_per_street, "grid_target_m2": grid_target_m2}
        audit_record(actor=actor, action="demo.city.load", target=city, extra={**arguments, **counts})
    return {**counts, "created": 1}
