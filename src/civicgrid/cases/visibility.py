"""Who sees a case of a restricted type (案件可见范围): the scoping hook of ``Case.scope["audience"]``.

A type declares its rule (``registry.Visibility``); the case stores the key of the rule that applies
to it (``Case.audience``, "" for the jurisdiction). :mod:`civicgrid.org.scoping` asks this module,
once per membership and once per user, so every reader that goes through ``scope_q`` / ``scoped`` /
``roles_reaching`` (lists, search, the case page and API, exports, metrics and their drill-downs,
duplicate suggestions, the map) applies the same rule:

* a membership reaches a restricted case only when its role is one the rule names (and its
  jurisdiction reaches the case, as for any case);
* a person reaches it *personally* while they hold an open person assignment of it, or supervise
  someone who does (a member holding one of the rule's ``supervisors`` roles in a region where the
  assignee works — a region membership or their department's region — or above it). A personal
  reach counts with every role of the person's that allows the action;
* the reporter's own account keeps its public view of its own report, and the person who keyed it
  in keeps sight of it; their centre colleagues do not.

While no registered type restricts anything, every function here adds nothing (events' reads are
the same queries as before).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q

from civicgrid.cases import registry
from civicgrid.geo.models import LEVELS
from civicgrid.org.models import Membership
from civicgrid.org.permissions import role_allows

# Counts on the dashboards that include restricted cases: a number from 1 to SMALL_COUNT - 1 is shown
# as "<5" (and a rate over such a denominator is not shown), so a small count cannot single anyone out.
SMALL_COUNT = 5

_OPEN = ("pending", "accepted", "disputed")


def unrestricted_q() -> Q:
    """Cases seen by their jurisdiction (what public doors, the dispatch model and the duplicate
    index may read)."""
    return Q(audience="")


def restricted_q() -> Q:
    return ~Q(audience="")


class Audience:
    """The hook :mod:`civicgrid.org.scoping` calls for a model whose scope declares ``audience``."""

    def active(self) -> bool:
        return bool(registry.restricted_audiences())

    def narrow(self, role: str, q: Q) -> Q:
        """What a membership of ``role`` reaching ``q`` reaches: the unrestricted cases, and the
        restricted ones whose rule names the role."""
        audiences = registry.restricted_audiences()
        if not audiences:
            return q
        allowed = Q(audience="")
        for (code, key), ctype in audiences.items():
            if role in ctype.visibility.audiences()[key]:
                allowed |= Q(case_type=code, audience=key)
        return q & allowed

    def creator_narrow(self, user: Any, q: Q, creator_field: str) -> Q:
        """The creator keeps sight of a restricted case they keyed in; their colleagues do not."""
        if not registry.restricted_audiences():
            return q
        return (q & Q(audience="")) | Q(**{creator_field: user.pk})

    def personal_ids(self, user: Any, memberships: Sequence[Membership], action: str) -> list[int]:
        """The restricted cases ``user`` reaches in person: assigned to them (an open person
        assignment) or to someone they supervise. Empty when none of their roles allows ``action``."""
        audiences = registry.restricted_audiences()
        if not audiences:
            return []
        from civicgrid.cases.models import Assignment

        held = [m for m in memberships if role_allows(m.role, action)]
        if not held:
            return []
        restricted = Q(pk__in=[])
        for code, key in audiences:
            restricted |= Q(case__case_type=code, case__audience=key)
        people = Q(person=user)
        supervised = Q(pk__in=[])
        for m in held:
            if m.region is None:
                continue
            level = m.region.level
            if level not in LEVELS:
                continue
            types = [c for (c, _k), t in audiences.items() if m.role in t.visibility.supervisors]
            if not types:
                continue
            under = Membership.objects.filter(is_active=True).filter(
                Q(**{f"region__{level}": m.region_id}) | Q(**{f"department__region__{level}": m.region_id}))
            supervised |= Q(person__in=under.values("user_id"), case__case_type__in=sorted(set(types)))
        rows = (Assignment.objects.filter(restricted, state__in=_OPEN, person__isnull=False)
                .filter(people | supervised).values_list("case_id", flat=True).distinct())
        return sorted(set(rows))


AUDIENCE = Audience()


def suppress(value: float | int | None) -> str | None:
    """A count as a dashboard shows it when it may include restricted cases: "<5" for 1…4."""
    if value is None:
        return None
    if 0 < value < SMALL_COUNT:
        return f"<{SMALL_COUNT}"
    return None
