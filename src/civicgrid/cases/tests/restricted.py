"""A restricted test world shared by the reader tests of every app (issue 16, "Visibility per type and
per kind"): the SEALED drill registered for the test only, and the people around one accusation in
district A.

* Peter, a mediator of Alice's street, holds an open person assignment of the accusation;
* Lena, a leader of Alice's street, supervises him; Leo leads district B's street (no supervisor of his);
* Admin A (the cast's district administrator) holds the role the type names;
* Alice (dispatcher of the same street), Bob (grid worker there) and Dana (handler of the department the
  accusation is dispatched to) are inside the jurisdiction but not in the set; Charlie is an outsider;
* Rita reported it from her account.

The suggestion is seen by dispatchers too; the notice by its whole jurisdiction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

SECRET = "举报：某社区主任收受红包五千元"
SUGGESTION_TEXT = "建议：在菜市场门口增设自行车停放点"
NOTICE_TEXT = "通知：周六停水检修"
POINT_A = (114.02, 22.51)


@dataclass
class Sealed:
    accusation: Any
    suggestion: Any
    notice: Any
    peter: Any  # assignee (mediator, street A)
    lena: Any  # supervisor (leader, street A)
    leo: Any  # leader, district B's street: not a supervisor of Peter
    dana: Any  # handler of the department the accusation is dispatched to
    rita: Any  # the reporter
    urban: Any
    cast: Any


def sealed_case(kind: str, text: str, *, reporter: Any = None, title: str = "", **kwargs: Any) -> Any:
    from civicgrid.cases.services import Location, case_create

    return case_create(actor=None, case_type="sealed", title=title or f"{kind} case", text=text,
                       location=Location(lon=POINT_A[0], lat=POINT_A[1]), detail={"kind": kind},
                       reporter=reporter, **kwargs)


def build(cast: Any) -> Sealed:
    from civicgrid.cases.models import Assignment, Case
    from civicgrid.org.models import Role
    from civicgrid.org.services import department_create, membership_grant, user_create

    pw = "Correct-Horse-42"
    city = cast.city
    street_a, street_b = city.get("440301001"), city.get("440302001")
    peter = user_create(actor=None, username="peter", password=pw, display_name="Peter")
    lena = user_create(actor=None, username="lena", password=pw, display_name="Lena")
    leo = user_create(actor=None, username="leo", password=pw, display_name="Leo")
    dana = user_create(actor=None, username="dana_s", password=pw, display_name="Dana")
    rita = user_create(actor=None, username="rita_s", password=pw, display_name="Rita")
    urban = department_create(actor=None, code="440301-cgs", name="甲区城管局（信访）", region=city.a,
                              function="urban_management")
    membership_grant(actor=None, user=peter, role=Role.MEDIATOR, region=street_a)
    membership_grant(actor=None, user=lena, role=Role.LEADER, region=street_a)
    membership_grant(actor=None, user=leo, role=Role.LEADER, region=street_b)
    membership_grant(actor=None, user=dana, role=Role.DEPARTMENT_HANDLER, department=urban)
    membership_grant(actor=None, user=rita, role=Role.RESIDENT)
    accusation = sealed_case("accusation", SECRET, reporter=rita, title="举报某主任")
    suggestion = sealed_case("suggestion", SUGGESTION_TEXT, title="停车建议")
    notice = sealed_case("notice", NOTICE_TEXT, title="停水通知")
    for case in (accusation, suggestion):
        # dispatched to Dana's department: its membership alone does not open a restricted case
        Assignment.objects.create(case=case, department=urban, state="accepted")
        Case.objects.filter(pk=case.pk).update(lead_department=urban)
    Assignment.objects.create(case=accusation, person=peter, role="co", state="accepted")
    return Sealed(accusation=Case.objects.get(pk=accusation.pk), suggestion=Case.objects.get(pk=suggestion.pk),
                  notice=Case.objects.get(pk=notice.pk), peter=peter, lena=lena, leo=leo, dana=dana, rita=rita,
                  urban=urban, cast=cast)


@pytest.fixture(name="sealed")
def sealed_fixture(cast: Any) -> Iterator[Sealed]:
    """The restricted world (import ``sealed_fixture`` into a test module; tests ask for ``sealed``)."""
    from civicgrid.cases import registry
    from civicgrid.cases.testing import SEALED, register_drill, register_sealed
    from civicgrid.dispatch.selectors import duplicate_index_invalidate

    register_drill()
    register_sealed()
    duplicate_index_invalidate()
    try:
        yield build(cast)
    finally:
        registry.unregister(SEALED.code)
        duplicate_index_invalidate()
