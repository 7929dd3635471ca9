"""Reads about the demo city: is it loaded, how big is it, who can sign in."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from civicgrid.demo.city import CITY_CODE
from civicgrid.geo.models import LEVELS, Region
from civicgrid.org.models import Department, Membership, Role


@dataclass(frozen=True)
class DemoLogin:
    """One row of the demo login table."""

    username: str
    display_name: str
    role: str  # the role's label
    where: str


def demo_city_get() -> Region | None:
    """The demo city 云川市 (code 990100), if it has been loaded."""
    return Region.objects.filter(code=CITY_CODE).first()


def signin_hints() -> list[DemoLogin]:
    """The logins the sign-in page lists in the demo (the setting ``CIVICGRID_SIGNIN_HINTS`` names
    this function when ``CIVICGRID_DEMO`` is on): none before the demo city is loaded."""
    city = demo_city_get()
    return demo_logins(city) if city is not None else []


def demo_logins(city: Region) -> list[DemoLogin]:
    """Every login with a role in the demo city (by region or department), the superusers, and the
    demo resident: the table the demo command prints."""
    memberships = (Membership.objects.filter(is_active=True)
                   .filter(Q(region__city=city) | Q(department__city=city)
                           | Q(role=Role.RESIDENT, user__username="resident"))
                   .select_related("user", "region", "department")
                   .order_by("user__date_joined", "user_id", "id"))
    rows: list[DemoLogin] = []
    for m in memberships:
        place = m.department or m.region
        role = str(Role(m.role).label)
        if m.user.is_superuser:
            role = _("%(role)s, superuser") % {"role": role}
        rows.append(DemoLogin(m.user.get_username(), m.user.display_name, role, place.name if place else ""))
    return rows


def demo_city_counts(city: Region) -> dict[str, int]:
    """Regions per level, departments and demo logins of the demo city."""
    per_level = dict(Region.objects.filter(city=city, is_active=True).values_list("level")
                     .annotate(n=Count("id")).values_list("level", "n"))
    counts = {level: per_level.get(level, 0) for level in LEVELS}
    counts["departments"] = Department.objects.filter(city=city).count()
    counts["users"] = len({row.username for row in demo_logins(city)})
    return counts

