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


# --- what the notices print (CaseType.document_context) ----------------------------------------

# state (and stage) → (title, body) of the notice drawn now
_NOTICE_TITLES: dict[str, tuple[str, str]] = {
    "registered": ("信访事项受理告知书", "已登记，正在转送有权处理的机关。"),
    "routed": ("信访事项受理告知书", "已转送有权处理的机关办理。"),
    "accepted": ("信访事项受理告知书", "本机关已依法受理，将在60日内办结。"),
    "not_accepted": ("信访事项不予受理告知书", "依照《信访工作条例》，本机关不予受理。"),
    "not_reaccepted": ("信访事项不再受理告知书", "已经复核终结，以同一事实和理由再次提出的，不再受理。"),
    "redirected": ("信访事项告知书", "属于应当通过诉讼、仲裁、行政复议等法定途径解决的事项，请依法向有关机关提出。"),
}
_DECISION_TITLES = {"handling": "信访事项处理意见书", "review": "信访事项复查意见书", "rereview": "信访事项复核意见书"}
_WINDOWS = {
    "handling": "如不服本处理意见，可以自收到本意见书之日起30日内请求原办理机关的上一级机关复查。",
    "review": "如不服本复查意见，可以自收到本意见书之日起30日内向复查机关的上一级机关请求复核。",
    "rereview": "本复核意见为终结意见。",
}
_ANSWERS = {"handling": "reply", "review": "decide_review", "rereview": "decide_rereview"}


def document_names(case: Case) -> dict[str, Any]:
    """What a petition's templates print beyond the engine's names: the notice's title and body for
    the petition's state (an approved extension makes it the extension notice), the written answer of
    the current stage and the request window it opens, the petitioner (the name as given; empty
    for an anonymous accusation) and the unit."""
    from civicgrid.cases.selectors import case_timeline
    from civicgrid.petitions.models import Kind

    detail = PetitionDetail.objects.select_related("office").get(pk=case.pk)
    title, body = _NOTICE_TITLES.get(case.state, ("信访事项告知书", ""))
    extension = case.approval_requests.filter(state="approved", kind="extension").order_by("-id").first()
    if case.state == "accepted" and extension is not None:
        title, body = "信访事项延期办理告知书", f"因情况复杂，经批准延长办理期限{extension.amount:g}日。"
    stage = detail.stage
    steps = {t.action: t for t in case_timeline(case=case)}
    answer = steps.get(_ANSWERS[stage])
    reason_step = next((steps[a] for a in ("not_accept", "lead_to_channel", "not_reaccept", "request_extension")
                        if a in steps), None)
    petitioner = case.parties.filter(kind="petitioner").order_by("id").first()
    kinds = dict(Kind.choices)
    return {
        "notice_title": title if case.state not in ("replied", "reviewed", "review", "rereview", "final")
        else _DECISION_TITLES[stage],
        "notice_body": body,
        "decision_title": _DECISION_TITLES[stage],
        "answer": getattr(answer, "note", "") or "",
        "request_window": _WINDOWS[stage],
        "reason": getattr(reason_step, "note", "") or "",
        "petitioner": (petitioner.name if petitioner is not None else "") or "信访人",
        "petition_kind": str(kinds.get(detail.kind, detail.kind)),
        "petition_form": detail.get_form_display(),
        "received_on": f"{case.created_at:%Y-%m-%d}",
        "unit": case.lead_department.name if case.lead_department is not None else detail.office.name,
    }


def inbox_of(user: Any) -> QuerySet[Case]:
    """The unit's inbox: open petitions led by one of the user's departments, soonest due first."""
    mine = Membership.objects.filter(user=user, is_active=True, role=Role.DEPARTMENT_HANDLER).values("department_id")
    return (petitions_visible(user).filter(lead_department__in=mine, closed_at__isnull=True)
            .order_by("handling_due_at", "created_at", "id"))


OFFICE_FUNCTION = "petitions"  # a department of this function is a petition office (信访局/信访办)


def office_for(*, lon: float, lat: float) -> Department | None:
    """The petition office an online petition about a point goes to: the district's, else the city's
    (None outside every district, or where no office is set up)."""
    from civicgrid.geo.selectors import point_chain

    try:
        ids = point_chain(lon, lat).ids
    except ValueError:
        return None
    for level in ("district", "city"):
        region_id = ids.get(level)
        if region_id is not None:
            office = Department.objects.filter(function=OFFICE_FUNCTION, is_active=True,
                                               region_id=int(region_id)).order_by("code").first()
            if office is not None:
                return office
    return None
