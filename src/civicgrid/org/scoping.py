"""Jurisdiction scoping in one place (辖区范围).

A model opts in by declaring a plain ``scope`` dict (no import of org needed, so geo and the
case types stay free of it):

    scope = {
        "regions": {"district": "district", "street": "street", ...},  # level → field with that region's id
        "departments": ("lead_department",),   # fields holding a Department id (optional)
        "owner": "reporter",                   # field holding the user who owns it (optional)
        "up": "region",                        # field holding a Region id: VIEW also reaches ancestors
        "creator": "created_by",               # field holding the user who keyed it in (optional)
        "audience": "dotted.path.TO_HOOK",     # narrows reach per record (restricted case types)
    }

``audience`` names an object (imported lazily: the engine declares it, org never imports the engine)
with ``active()``, ``narrow(role, q)`` (what a membership of that role reaches of ``q``),
``creator_narrow(user, q, field)`` and ``personal_ids(user, memberships, action)`` (records the user
reaches in person, whatever their memberships: the people assigned to a restricted case and their
supervisors). The case engine's is ``civicgrid.cases.visibility.AUDIENCE``.

Paths with ``__`` follow relations. :func:`scope_q` turns a user's active memberships into one
``Q``; :meth:`ScopedQuerySet.for_user` and :func:`scoped` apply it. Everything a user may not see
is simply absent, so views answer 404 for it, never 403.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import Http404
from django.utils.module_loading import import_string

from civicgrid.geo.models import LEVELS, Region
from civicgrid.org.models import Department, Membership, Role, User
from civicgrid.org.permissions import MANAGE, VIEW, role_allows

M = TypeVar("M", bound=models.Model)


class OutOfScope(Http404):
    """Raised when a record is not (or is no longer) in the user's jurisdiction: shown as 404."""


def _audience(decl: dict[str, Any]) -> Any:
    path = decl.get("audience")
    if not path:
        return None
    hook = import_string(path)
    return hook if hook.active() else None


def _declaration(model: type[models.Model]) -> dict[str, Any]:
    decl = getattr(model, "scope", None)
    if not isinstance(decl, dict):
        raise TypeError(f"{model.__name__} does not declare a jurisdiction scope")
    return decl


def _memberships(user: Any) -> list[Membership]:
    cache = getattr(user, "_civicgrid_memberships", None)
    if cache is None:
        cache = list(
            Membership.objects.filter(user=user, is_active=True)
            .select_related("region", "department")
            .prefetch_related("department__service_regions")
        )
        user._civicgrid_memberships = cache
    return cache


def forget_memberships(user: Any) -> None:
    """Drop the per-request caches (reach and role permissions) after a user's memberships change."""
    for attr in ("_civicgrid_memberships", "_civicgrid_colleagues", "_civicgrid_role_perms", "_perm_cache",
                 "_group_perm_cache"):
        if hasattr(user, attr):
            delattr(user, attr)


def _region_q(decl: dict[str, Any], region: Region, action: str) -> models.Q:
    fields: dict[str, str] = decl.get("regions", {})
    q = models.Q(pk__in=[])
    field = fields.get(region.level)
    if field is None and action == VIEW:
        # The model's chain stops above this region's level: for reading only, match on the deepest
        # ancestor it has (a community dispatcher sees its street's departments). Acting or managing
        # never reaches upwards: a community admin must not manage a street's department or staff.
        for level in reversed(LEVELS[: LEVELS.index(region.level)]):
            if level in fields and getattr(region, f"{level}_id"):
                field = fields[level]
                q = models.Q(**{field: getattr(region, f"{level}_id")})
                break
    elif field is not None:
        q = models.Q(**{field: region.pk})
    up = decl.get("up")
    if up and action == VIEW:
        ancestors = [getattr(region, f"{lv}_id") for lv in LEVELS[: LEVELS.index(region.level)]]
        q |= models.Q(**{f"{up}__in": [a for a in ancestors if a]})
    return q


def _membership_q(decl: dict[str, Any], membership: Membership, action: str) -> models.Q | None:
    """What one membership reaches for ``action`` (None when its role does not allow the action)."""
    if not role_allows(membership.role, action):
        return None
    dept_fields: tuple[str, ...] = tuple(decl.get("departments", ()))
    if membership.role == Role.DEPARTMENT_HANDLER:
        q = models.Q(pk__in=[])
        if dept_fields:
            for f in dept_fields:
                q |= models.Q(**{f: membership.department_id})
        elif action == VIEW and membership.department is not None:
            for region in membership.department.service_regions.all():
                q |= _region_q(decl, region, action)
        return q
    if membership.region is not None:
        return _region_q(decl, membership.region, action)
    return None


# Who keys records in for a centre (the 12345 agents): their centre keeps sight of what they created.
CENTRE_ROLES: tuple[str, ...] = (Role.DISPATCHER, Role.ADMIN)


def _creator_q(decl: dict[str, Any], user: Any) -> models.Q | None:
    """VIEW by who keyed a record in: the creator, and the people of the creator's centre (every
    membership at the region where the creator holds a centre role), wherever the record is placed —
    a 12345 call about another street is handled there, and the centre that took it still sees it.
    Reading only: acting stays with the jurisdiction the record lies in."""
    creator = decl.get("creator")
    if not creator:
        return None
    q = models.Q(**{creator: user.pk})
    colleagues = _colleagues(user)
    if colleagues:
        q |= models.Q(**{f"{creator}__in": colleagues})
    return q


def reaches_as_creator(obj: models.Model, user: Any) -> bool:
    """Whether a staff member (any role but resident) reaches ``obj`` through who keyed it in: they
    created it, or a colleague at their centre did (:func:`_creator_q`). A 12345 agent reading back a
    call placed in another street is staff there, not the caller."""
    creator = _declaration(type(obj)).get("creator")
    if not creator or "__" in creator or not _active(user):
        return False
    if not any(m.role != Role.RESIDENT for m in _memberships(user)):
        return False
    made_by = getattr(obj, f"{creator}_id", None)
    return made_by is not None and (made_by == user.pk or made_by in _colleagues(user))


def _colleagues(user: Any) -> list[int]:
    """The centre staff at the regions of ``user``'s memberships: a short list, read once per request,
    so the filter stays one plain IN on the record's own column."""
    cache = getattr(user, "_civicgrid_colleagues", None)
    if cache is None:
        centres = {m.region_id for m in _memberships(user) if m.region_id and role_allows(m.role, VIEW)}
        cache = sorted(set(
            Membership.objects.filter(region_id__in=centres, is_active=True, role__in=CENTRE_ROLES)
            .exclude(user_id=user.pk).values_list("user_id", flat=True))) if centres else []
        user._civicgrid_colleagues = cache
    return cache


def _active(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def scope_q(model: type[models.Model], user: Any, action: str = VIEW) -> models.Q | None:
    """The filter that keeps what ``user`` may do ``action`` on; None means no restriction."""
    if not _active(user):
        return models.Q(pk__in=[])
    if user.is_superuser:
        return None
    decl = _declaration(model)
    audience = _audience(decl)
    q = models.Q(pk__in=[])
    owner = decl.get("owner")
    if owner and action == VIEW:
        q |= models.Q(**{owner: user.pk})
    if action == VIEW:
        creator_q = _creator_q(decl, user)
        if creator_q is not None:
            q |= creator_q if audience is None else audience.creator_narrow(user, creator_q, decl["creator"])
    for membership in _memberships(user):
        mq = _membership_q(decl, membership, action)
        if mq is not None:
            q |= mq if audience is None else audience.narrow(membership.role, mq)
    if audience is not None:
        personal = audience.personal_ids(user, _memberships(user), action)
        if personal:
            q |= models.Q(pk__in=personal)
    return q


def roles_reaching(obj: models.Model, user: Any, action: str) -> set[str]:
    """The roles of ``user`` whose memberships reach ``obj`` for ``action`` (plus ``"owner"`` when the
    user owns it). The case engine asks this to decide who may perform a transition."""
    if not _active(user):
        return set()
    model = type(obj)
    decl = _declaration(model)
    roles: set[str] = set()
    owner = decl.get("owner")
    if owner and "__" not in owner and getattr(obj, f"{owner}_id", None) == user.pk:
        roles.add("owner")
    audience = _audience(decl)
    by_role: dict[str, models.Q] = {}
    for membership in _memberships(user):
        mq = _membership_q(decl, membership, action)
        if mq is not None:
            if audience is not None:
                mq = audience.narrow(membership.role, mq)
            by_role[membership.role] = by_role.get(membership.role, models.Q(pk__in=[])) | mq
    if audience is not None and obj.pk in audience.personal_ids(user, _memberships(user), action):
        # reached in person (assigned, or supervising the assignee): with each role that allows the action
        roles.update(m.role for m in _memberships(user) if role_allows(m.role, action))
    for role, q in by_role.items():
        if role in roles:
            continue
        held = _holds(obj, q)
        if held is None:  # a path through another table (a case's assignments): ask the database
            held = model._default_manager.filter(q, pk=obj.pk).exists()
        if held:
            roles.add(role)
    return roles


def reaches(obj: models.Model, user: Any, action: str = VIEW) -> bool:
    """Whether ``user`` may ``action`` the loaded ``obj`` — the same answer as
    ``scoped(model.objects.filter(pk=obj.pk), user, action).exists()``, decided from the object's own
    columns and the user's memberships without a query when the filter allows it (a department, a
    region); otherwise the database is asked."""
    q = scope_q(type(obj), user, action)
    if q is None:
        return True
    held = _holds(obj, q)
    if held is None:
        held = scoped(type(obj)._default_manager.filter(pk=obj.pk), user, action).exists()
    return held


def _holds(obj: models.Model, q: models.Q) -> bool | None:
    """Whether the loaded ``obj`` matches ``q`` when ``q`` only compares the object's own columns
    (``street=5``, ``region__in=[…]``); None when it needs the database."""
    results = []
    for child in q.children:
        if isinstance(child, models.Q):
            r = _holds(obj, child)
        else:
            r = _lookup_holds(obj, *child)
        if r is None:
            return None
        results.append(r)
    value = all(results) if q.connector == models.Q.AND else any(results)
    return not value if q.negated else value


def _lookup_holds(obj: models.Model, key: str, wanted: Any) -> bool | None:
    name, _sep, lookup = key.partition("__")
    if lookup not in ("", "exact", "in"):
        return None
    try:
        field = obj._meta.pk if name == "pk" else obj._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not getattr(field, "concrete", False) or field.many_to_many:
        return None
    actual = getattr(obj, field.attname)

    def key_of(value: Any) -> Any:
        return value.pk if isinstance(value, models.Model) else value

    if lookup == "in":
        return actual in {key_of(w) for w in wanted}
    return actual == key_of(wanted)


def scoped(queryset: models.QuerySet[M], user: Any, action: str = VIEW) -> models.QuerySet[M]:
    q = scope_q(queryset.model, user, action)
    if q is None:
        return queryset
    decl = _declaration(queryset.model)
    paths = [p for p in (*decl.get("regions", {}).values(), *decl.get("departments", ())) if "__" in p]
    if paths and _uses(q, paths):
        # A multi-valued relation (a case's assignments) would repeat rows: filter by a subquery of
        # keys instead — only when this user's filter really goes through one (department handlers).
        return queryset.filter(pk__in=queryset.model._default_manager.filter(q).values("pk"))
    return queryset.filter(q)


def _uses(q: models.Q, paths: list[str]) -> bool:
    for child in q.children:
        if isinstance(child, models.Q):
            if _uses(child, paths):
                return True
        elif any(child[0] == p or child[0].startswith(p + "__") for p in paths):
            return True
    return False


class ScopedQuerySet(models.QuerySet[M]):
    """A queryset any model with a ``scope`` declaration can use as its manager."""

    def for_user(self, user: Any, action: str = VIEW) -> ScopedQuerySet[M]:
        return scoped(self, user, action)  # type: ignore[return-value]


def get_scoped_or_404(queryset: models.QuerySet[M], user: Any, action: str = VIEW, **lookup: Any) -> M:
    """Fetch one record the user may ``action``; anything else (absent or out of scope) is a 404."""
    try:
        return scoped(queryset, user, action).get(**lookup)
    except queryset.model.DoesNotExist:
        raise OutOfScope(f"No {queryset.model._meta.verbose_name} matches the given query.") from None


def ensure_in_scope(obj: models.Model, user: Any, action: str) -> None:
    """Re-check a record after a write, inside the same transaction: nobody moves a record out of
    their own jurisdiction (the transaction rolls back when this raises).

    ``user=None`` is the system itself (a command, an import, the demo loader) and is not checked;
    an anonymous web user is not None and is refused like anyone out of scope."""
    if user is None:
        return
    model = type(obj)
    if not scoped(model._default_manager.filter(pk=obj.pk), user, action).exists():
        raise OutOfScope(f"{model._meta.verbose_name} is outside your jurisdiction")


# ---------------------------------------------------------------------------------------------
# people: users and memberships are reached through the regions and departments they work in


def is_superuser_active(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def memberships_scoped(queryset: models.QuerySet[Membership], user: Any,
                       action: str) -> models.QuerySet[Membership]:
    """Memberships held in a region or department the user may ``action``."""
    if is_superuser_active(user):
        return queryset
    regions = scoped(Region.objects.all(), user, action).values("pk")
    departments = scoped(Department.objects.all(), user, action).values("pk")
    return queryset.filter(models.Q(region__in=regions) | models.Q(department__in=departments))


def users_scoped(queryset: models.QuerySet[User], user: Any, action: str) -> models.QuerySet[User]:
    """Users the given user may ``action``.

    Someone whose every active membership is in the user's reach for ``action`` and who is not a
    superuser — so a district administrator neither sees nor manages a city-level account, or one
    that also works in another district (docs/permissions.md) —, and, for view, the user themself.
    """
    if is_superuser_active(user):
        return queryset
    reach = action
    if action == VIEW and scoped(Region.objects.all(), user, MANAGE).exists():
        # An administrator's view of accounts is their jurisdiction (what they manage), not the
        # wider view of regions that includes the city above them.
        reach = MANAGE
    active = Membership.objects.filter(is_active=True)
    inside = memberships_scoped(active, user, reach).values("user_id")
    outside = active.exclude(pk__in=memberships_scoped(active, user, reach).values("pk")).values("user_id")
    others = queryset.filter(pk__in=inside, is_superuser=False).exclude(pk__in=outside)
    if action == VIEW:
        return queryset.filter(models.Q(pk__in=others.values("pk")) | models.Q(pk=getattr(user, "pk", None)))
    return others
