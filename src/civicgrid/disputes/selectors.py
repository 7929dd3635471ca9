"""Reads of the disputes app: the dispute types, the routing offer, the mediators of an
organisation, risk flags, the centre's queue and the screening reports. Scoping is the engine's
(``cases.selectors.cases_visible``) and org.scoping's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from civicgrid.cases.models import Case
from civicgrid.cases.selectors import cases_visible
from civicgrid.disputes.models import (
    DEFAULT_DISPUTE_TYPES,
    DisputeDetail,
    MediationOrganisation,
    Mediator,
    OrganisationKind,
    RiskFlag,
    ScreeningReport,
)
from civicgrid.geo.models import Level, Region
from civicgrid.org.models import Role
from civicgrid.org.scoping import scoped

DISPUTE = "dispute"

# The routing default: the committee of the community, then the street's, then the district's.
ROUTING_LEVELS = (Level.COMMUNITY, Level.STREET, Level.DISTRICT)
_PEOPLES: dict[str, str] = {Level.COMMUNITY: OrganisationKind.PEOPLES_COMMUNITY,
                            Level.STREET: OrganisationKind.PEOPLES_STREET,
                            Level.DISTRICT: OrganisationKind.PEOPLES_DISTRICT}


def dispute_types() -> tuple[tuple[str, Any], ...]:
    """The configured dispute types (code, label): the setting CIVICGRID_DISPUTE_TYPES, else the defaults."""
    configured = getattr(settings, "CIVICGRID_DISPUTE_TYPES", None)
    return tuple((str(c), label) for c, label in configured) if configured else DEFAULT_DISPUTE_TYPES


def dispute_detail(case: Case) -> DisputeDetail | None:
    return DisputeDetail.objects.filter(case=case).select_related("organisation").first()


def organisations_for(case: Case, dispute_type: str | None = None) -> list[MediationOrganisation]:
    """The organisations that may take ``case``, in the routing order: the people's mediation
    committee of its community, then of its street, then of its district; then the other
    organisations (professional, administrative, court-invited) serving its place and type, lowest
    level first. An organisation serves the regions listed (none listed: its seat region) and the
    types listed (none listed: every type)."""
    if dispute_type is None:
        dispute_type = DisputeDetail.objects.filter(case=case).values_list("dispute_type", flat=True).first() or ""
    chain = {lv: getattr(case, f"{lv}_id") for lv in (Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY)}
    ids = [i for i in chain.values() if i]
    if not ids:
        return []
    orgs = (MediationOrganisation.objects.filter(is_active=True)
            .filter(Q(served_regions__in=ids) | Q(served_regions__isnull=True, region__in=ids))
            .distinct().select_related("region"))
    order: dict[str, int] = {lv: i for i, lv in enumerate(ROUTING_LEVELS)}
    out = []
    for org in orgs:
        if org.dispute_types and dispute_type not in org.dispute_types:
            continue
        peoples = org.kind == _PEOPLES.get(org.level)
        rank = (0 if peoples else 1, order.get(org.level, len(order)), org.code)
        out.append((rank, org))
    return [org for _rank, org in sorted(out, key=lambda pair: pair[0])]


def organisation_by_code(code: str) -> MediationOrganisation | None:
    return MediationOrganisation.objects.filter(code=code.strip(), is_active=True).first() if code else None


def is_mediator_of(actor: Any, organisation_id: int, case: Case) -> bool:
    """Whether ``actor`` may act for the organisation: one of its active mediators, or centre staff,
    an administrator or the system (who reach the case through the engine's scoping)."""
    if actor is None:
        return True
    if getattr(actor, "is_superuser", False):
        return True
    from civicgrid.cases.services import actor_roles

    if actor_roles(actor, case).acting & {Role.DISPATCHER, Role.ADMIN}:
        return True
    return Mediator.objects.filter(organisation_id=organisation_id, user=actor, is_active=True).exists()


def organisations_of(user: Any) -> QuerySet[MediationOrganisation]:
    """The organisations ``user`` mediates for."""
    return MediationOrganisation.objects.filter(members__user=user, members__is_active=True, is_active=True)


def organisations_visible(user: Any) -> QuerySet[MediationOrganisation]:
    return scoped(MediationOrganisation.objects.filter(is_active=True), user).select_related("region")


def risk_flags(case: Case, *, current: bool = True) -> list[RiskFlag]:
    qs = RiskFlag.objects.filter(case=case)
    if current:
        qs = qs.filter(cleared_at__isnull=True)
    return list(qs.order_by("raised_at", "id"))


def repeat_place_count(case: Case, *, days: int, radius_deg: float, now: dt.datetime) -> int:
    """Other disputes within ``days`` before ``now`` at the same place: the same address, or within a
    small box around the point (about ``radius_deg`` degrees), in the same grid."""
    others = Case.objects.filter(case_type=DISPUTE, created_at__gte=now - dt.timedelta(days=days),
                                created_at__lte=now).exclude(pk=case.pk)
    place = Q(pk__in=[])
    if case.address:
        place |= Q(address=case.address, community_id=case.community_id)
    if case.lon is not None and case.lat is not None:
        place |= Q(lon__range=(case.lon - radius_deg, case.lon + radius_deg),
                   lat__range=(case.lat - radius_deg, case.lat + radius_deg))
    return others.filter(place).count()


def repeat_party_count(case: Case, *, days: int, now: dt.datetime) -> int:
    """Other disputes within ``days`` before ``now`` with a party sharing an identity number or a phone
    with a party of this one — compared by their keyed hashes (``Party.id_number_hash``,
    ``phone_hash``), never in clear."""
    from civicgrid.cases.models import Party

    kinds = ("applicant", "respondent", "third_party", "representative")
    mine = Party.objects.filter(case=case, kind__in=kinds).values_list("id_number_hash", "phone_hash")
    ids = {i for i, _p in mine if i}
    phones = {p for _i, p in mine if p}
    if not ids and not phones:
        return 0
    same = Q(id_number_hash__in=ids) | Q(phone_hash__in=phones)
    return (Case.objects.filter(case_type=DISPUTE, created_at__gte=now - dt.timedelta(days=days),
                                created_at__lte=now)
            .exclude(pk=case.pk)
            .filter(pk__in=Party.objects.filter(same, kind__in=kinds).values("case_id"))
            .count())


def disputes_visible(user: Any) -> QuerySet[Case]:
    # WIRE(visibility): once types declare restricted visibility, the engine's cases_visible narrows
    # disputes to their mediators, the centre and the grid; nothing to change here.
    return cases_visible(user=user).filter(case_type=DISPUTE)


def dispute_queue(user: Any, *, high_risk: bool | None = None, state: str | None = None,
                  limit: int = 200) -> list[Case]:
    """The centre's dispute queue: the disputes the user sees, open ones first, high risk first."""
    from civicgrid.disputes.casetype import OPEN_STATES

    qs = disputes_visible(user).filter(state__in=OPEN_STATES if state is None else [state])
    if high_risk is not None:
        qs = qs.filter(dispute__high_risk=high_risk)
    return list(qs.select_related("dispute", "dispute__organisation")
                .order_by("-dispute__high_risk", "created_at", "id")[:limit])


def mediator_worklist(user: Any) -> list[Case]:
    """Open disputes routed to the organisations the user mediates for."""
    from civicgrid.disputes.casetype import OPEN_STATES

    return list(disputes_visible(user).filter(state__in=OPEN_STATES, dispute__organisation__in=organisations_of(user))
                .select_related("dispute").order_by("created_at", "id"))


# --- screening (矛盾纠纷排查) --------------------------------------------------------------------


def screening_reports(user: Any, period: str) -> QuerySet[ScreeningReport]:
    return scoped(ScreeningReport.objects.filter(period=period), user).select_related("region", "filed_by")


def grids_not_reported(user: Any, period: str, *, level: str = Level.GRID) -> list[Region]:
    """The regions of ``level`` (grids by default) the user sees that have filed no screening report
    for ``period`` — neither disputes found nor "none found"."""
    reported = ScreeningReport.objects.filter(period=period).values("region_id")
    regions = scoped(Region.objects.filter(level=level, is_active=True), user)
    return list(regions.exclude(pk__in=reported).order_by("code"))


def organisations_for_region(region: Region) -> MediationOrganisation | None:
    """The people's mediation committee seated at ``region`` or its community (a grid's committee)."""
    ids = [i for i in (region.pk, region.community_id) if i]
    return (MediationOrganisation.objects.filter(is_active=True, region__in=ids,
                                                 kind__in=list(_PEOPLES.values())).order_by("code").first())


def screening_regions(user: Any) -> list[Region]:
    """The grids and communities the user may file a screening for."""
    from civicgrid.org.permissions import ACT

    qs = scoped(Region.objects.filter(level__in=(Level.GRID, Level.COMMUNITY), is_active=True), user, ACT)
    return list(qs.order_by("code")[:500])


def dispute_panel(case: Case) -> dict[str, Any]:
    """What the case page shows of a dispute: its detail, the risk reasons holding, and — while no
    organisation has it — the routing offer (the organisations in the default order)."""
    d = dispute_detail(case)
    offer = [] if d is None or d.organisation_id else organisations_for(case, d.dispute_type)
    labels = dict(dispute_types())
    return {"dispute": d, "dispute_type_label": labels.get(d.dispute_type, d.dispute_type) if d else "",
            "dispute_flags": risk_flags(case), "dispute_offer": offer}
