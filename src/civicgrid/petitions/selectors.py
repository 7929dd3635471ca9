"""Reads of petitions: who is the office's staff or the unit's, repeat lookups, the registers."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from civicgrid.cases.models import Case
from civicgrid.cases.selectors import cases_visible, department_serves
from civicgrid.geo.models import LEVELS
from civicgrid.org.models import Department, Membership, Role
from civicgrid.petitions.models import PetitionDetail

PETITION = "petition"


def _memberships(actor: Any) -> QuerySet[Membership]:
    return Membership.objects.filter(user=actor, is_active=True)


def _acts_for(actor: Any, department_id: int | None) -> bool:
    """The system, a superuser, an administrator reaching the case (the engine checked the reach)
    or a handler of ``department_id``."""
    if actor is None or getattr(actor, "is_superuser", False):
        return True
    mine = _memberships(actor)
    if mine.filter(role=Role.ADMIN).exists():
        return True
    return department_id is not None and mine.filter(role=Role.DEPARTMENT_HANDLER,
                                                     department_id=department_id).exists()


def is_office_staff(actor: Any, detail: PetitionDetail) -> bool:
    """Whether ``actor`` works for the petition office that registered the petition."""
    return _acts_for(actor, detail.office_id)


def is_unit_staff(actor: Any, case: Case) -> bool:
    """Whether ``actor`` works for the unit the petition is routed to (its lead unit)."""
    return _acts_for(actor, case.lead_department_id)


def earlier_petitions(*, petitioner_key: str, matter_key: str, exclude: int | None = None) -> QuerySet[Case]:
    """Earlier petitions of the same petitioner on the same matter (keyed hashes), newest first."""
    if not petitioner_key or not matter_key:
        return Case.objects.none()
    qs = Case.objects.filter(case_type=PETITION, petition__petitioner_key=petitioner_key,
                             petition__matter_key=matter_key)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.order_by("-created_at", "-id")


def petitions_visible(user: Any) -> QuerySet[Case]:
    """The petitions ``user`` may see (the engine's scoping and the type's visibility)."""
    return cases_visible(user=user).filter(case_type=PETITION).select_related("petition", "lead_department")


def register_of(user: Any, *, state: str | None = None, kind: str | None = None) -> QuerySet[Case]:
    """The petition office's register (登记簿): the petitions the user sees, newest first."""
    qs = petitions_visible(user)
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(petition__kind=kind)
    return qs.order_by("-created_at", "-id")


def units_for(case: Case, office: Department) -> list[Department]:
    """The units the office may route ``case`` to: active departments serving the case's place whose
    seat is the office's region or below it (the office itself aside)."""
    region = office.region
    qs = Department.objects.filter(is_active=True).exclude(pk=office.pk)
    if region is not None and region.level in LEVELS:
        qs = qs.filter(**{region.level: region.pk}) | qs.filter(region=region)
    return [d for d in qs.order_by("code") if department_serves(case=case, department=d)]


def unit_for(case: Case, office: Department, code: str) -> Department | None:
    code = (code or "").strip()
    return next((d for d in units_for(case, office) if d.code == code), None)


def works_at(user: Any, department: Department) -> bool:
    return user is not None and Membership.objects.filter(user=user, department=department, is_active=True).exists()
