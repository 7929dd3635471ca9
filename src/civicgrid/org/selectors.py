"""Reads scoped to the user's jurisdiction. Everything out of scope is simply not there (404)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from civicgrid.core.refcache import reference_cached
from civicgrid.geo.models import LEVELS, Region
from civicgrid.org.models import Department, Membership, User
from civicgrid.org.permissions import VIEW
from civicgrid.org.scoping import get_scoped_or_404, scoped


def regions_visible(user: Any, *, level: str | None = None, action: str = VIEW) -> QuerySet[Region]:
    qs = scoped(Region.objects.filter(is_active=True), user, action)
    return qs.filter(level=level) if level else qs


def region_get(user: Any, code: str, action: str = VIEW) -> Region:
    return get_scoped_or_404(Region.objects.all(), user, action, code=code)


def departments_visible(user: Any, action: str = VIEW) -> QuerySet[Department]:
    return scoped(Department.objects.filter(is_active=True), user, action)


def department_get(user: Any, code: str, action: str = VIEW) -> Department:
    return get_scoped_or_404(Department.objects.all(), user, action, code=code)


def user_memberships(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, is_active=True).select_related("region", "department")


@reference_cached(key=lambda department_id: ("service areas", department_id))
def department_service_areas(department_id: int) -> tuple[dict[str, int | None], ...]:
    """The areas a department serves — the regions it names (``service_regions``), or the region it
    belongs to when it names none — each as its id and its chain (``{"id": …, "city": …, "district":
    …, …}``). Reference data: read once per process and dropped when a department or its service areas
    change (``core.refcache``; other processes within ``CIVICGRID_REFERENCE_CACHE_SECONDS``)."""
    columns = ["pk", *(f"{lv}_id" for lv in LEVELS)]
    rows = list(Region.objects.filter(served_by=department_id).values(*columns))
    if not rows:
        rows = list(Region.objects.filter(departments=department_id).values(*columns))
    return tuple({"id": r["pk"], **{lv: r[f"{lv}_id"] for lv in LEVELS}} for r in rows)


def may_read_audit_trail(user: Any) -> bool:
    """The auditor's desk (审计员): an active auditor membership, or a superuser. The trail of reveals,
    exports and personal-data searches spans every jurisdiction (its rows carry no region), so it is
    read whole, by the auditors only; they change nothing."""
    from civicgrid.org.models import Role

    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return bool(user.is_superuser or Membership.objects.filter(user=user, role=Role.AUDITOR, is_active=True).exists())
