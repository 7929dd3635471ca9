"""The role × action matrix (see docs/permissions.md, which is generated from and tested against this).

Actions:
- ``view``   read records in the jurisdiction;
- ``act``    work on records: handle, dispatch, verify (cases and their kin);
- ``manage`` change reference data: regions, grids, departments, users, categories;
- ``audit``  read the audit trail.
"""

from __future__ import annotations

from civicgrid.org.models import Role

VIEW = "view"
ACT = "act"
MANAGE = "manage"
AUDIT = "audit"
ACTIONS: tuple[str, ...] = (VIEW, ACT, MANAGE, AUDIT)

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.RESIDENT: frozenset(),  # residents see only what they reported (the owner rule)
    Role.GRID_WORKER: frozenset({VIEW, ACT}),
    Role.DISPATCHER: frozenset({VIEW, ACT}),
    Role.DEPARTMENT_HANDLER: frozenset({VIEW, ACT}),
    Role.MEDIATOR: frozenset({VIEW, ACT}),
    Role.LEADER: frozenset({VIEW}),
    Role.AUDITOR: frozenset({VIEW, AUDIT}),
    Role.ADMIN: frozenset({VIEW, ACT, MANAGE, AUDIT}),
}

ROLE_SCOPE_NOTE: dict[str, str] = {
    Role.RESIDENT: "own reports only",
    Role.GRID_WORKER: "the grid(s) or community of the membership",
    Role.DISPATCHER: "the region of the membership and everything below it (community/street/district/city centre)",
    Role.DEPARTMENT_HANDLER: "records assigned to the department; for records without a department, "
                             "the regions the department serves",
    Role.MEDIATOR: "the region of the membership and below",
    Role.LEADER: "the region of the membership and below, read only",
    Role.AUDITOR: "the region of the membership and below, read only, plus the audit trail",
    Role.ADMIN: "the region of the membership and below, including reference data",
}


# What each role may open in the admin (Django model permissions). Which records it then sees is
# still decided by the scoping queryset; these only open the doors. City-wide reference data (the
# category catalogue) is changed only by administrators whose membership is at the city level.
_READ_REFERENCE = ("geo.view_region", "geo.view_boundaryversion", "org.view_department",
                   "cases.view_case", "cases.view_supervision", "cases.view_notification",
                   "taxonomy.view_category", "taxonomy.view_requesttype", "taxonomy.view_dispatchrule",
                   "taxonomy.view_deadlinerule")
_MANAGE_JURISDICTION = ("geo.change_region", "org.view_user", "org.add_user", "org.change_user",
                        "org.view_membership", "org.add_membership", "org.change_membership",
                        "org.add_department", "org.change_department",
                        "org.view_apitoken", "org.add_apitoken", "org.change_apitoken")
_MANAGE_CATALOGUE = (
    *(f"taxonomy.{verb}_{model}" for model in ("category", "requesttype", "dispatchrule", "deadlinerule")
      for verb in ("add", "change", "delete")),
    # the dispatch model versions (read only in the admin; "change" = activate a version, i.e. roll back)
    "dispatch.view_dispatchmodel", "dispatch.change_dispatchmodel",
)


def role_model_permissions(role: str, region_level: str | None) -> frozenset[str]:
    """The Django permissions a membership brings (``app_label.codename``)."""
    if role == Role.RESIDENT:
        return frozenset()
    perms = set(_READ_REFERENCE)
    if role == Role.ADMIN:
        perms.update(_MANAGE_JURISDICTION)
        perms.add("org.export_personal")  # a person's own records for them (PIPL art. 45): needs the second factor
        if region_level == "city":
            perms.update(_MANAGE_CATALOGUE)
    return frozenset(perms)


def role_allows(role: str, action: str) -> bool:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return action in ROLE_ACTIONS.get(role, frozenset())


def matrix_markdown() -> str:
    """The role × action table as it stands in docs/permissions.md (a test keeps the two equal)."""
    from django.utils import translation

    from civicgrid.org.models import Role as R

    with translation.override("en"):
        return _matrix(R)


def _matrix(R: type) -> str:
    lines = ["| role | " + " | ".join(ACTIONS) + " | reach |", "|---|" + "---|" * len(ACTIONS) + "---|"]
    for role in R:
        marks = " | ".join("✓" if a in ROLE_ACTIONS[role] else "—" for a in ACTIONS)
        lines.append(f"| {role.value} ({role.label}) | {marks} | {ROLE_SCOPE_NOTE[role]} |")  # type: ignore[attr-defined]
    return "\n".join(lines)
