"""The engine's target check decides in memory what the scoped queries decide (the units an action
may name): the same answer for every user, unit and place, and a change of a department's service
areas or of its state is seen by the next check in the same process."""

from __future__ import annotations

from typing import Any

import pytest

from civicgrid.cases.selectors import (
    department_serves,
    department_targets,
    departments_serving,
    region_meets,
    region_targets,
)
from civicgrid.cases.services import targets_check
from civicgrid.cases.tests.conftest import POINT_B, drill_create
from civicgrid.geo.models import Region
from civicgrid.org.models import Department
from civicgrid.org.permissions import MANAGE, VIEW
from civicgrid.org.scoping import OutOfScope, reaches, scoped

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(cast: Any, units: Any, calendar_2024: None) -> list[Any]:
    from civicgrid.org.services import department_create

    # a department of district A that serves one street of district B only
    department_create(actor=None, code="440301-far", name="甲区远郊办", region=cast.city.a,
                      service_regions=[cast.city.get("440302001")])
    return [drill_create(None), drill_create(None, point=POINT_B), drill_create(None, point=None)]


def test_reaches_answers_what_the_scoped_query_answers(cast: Any, units: Any, places: list[Any]) -> None:
    users = [cast.alice, cast.bob, cast.charlie, cast.admin_a, units.dana, units.evan, units.rita]
    for user in users:
        for action in (VIEW, MANAGE):
            for obj in [*Department.objects.all(), *Region.objects.all()]:
                expected = scoped(type(obj).objects.filter(pk=obj.pk), user, action).exists()
                assert reaches(obj, user, action) is expected, (user.username, action, obj)


def test_serving_and_meeting_answer_what_the_queries_answer(places: list[Any]) -> None:
    for case in places:
        serving = set(departments_serving(case=case, departments=Department.objects.all()).values_list("pk",
                                                                                                      flat=True))
        assert {d.pk for d in Department.objects.all() if department_serves(case=case, department=d)} == serving
        meeting = set(region_targets(actor=None, case=case).values_list("pk", flat=True))
        assert {r.pk for r in Region.objects.filter(is_active=True) if region_meets(case=case, region=r)} == meeting


def test_the_check_accepts_exactly_the_offered_targets(cast: Any, units: Any, places: list[Any]) -> None:
    for actor in (None, cast.alice, cast.charlie, units.dana):
        for case in places:
            offered = set(department_targets(actor=actor, case=case).values_list("pk", flat=True))
            for dept in Department.objects.all():
                if dept.pk in offered:
                    targets_check(actor=actor, case=case, departments=[dept])
                else:
                    with pytest.raises(OutOfScope):
                        targets_check(actor=actor, case=case, departments=[dept])


def test_a_change_of_service_areas_or_state_is_seen_by_the_next_check(cast: Any, units: Any,
                                                                      places: list[Any]) -> None:
    from civicgrid.org.services import department_update

    case_b = places[1]
    water = Department.objects.get(pk=units.water.pk)
    with pytest.raises(OutOfScope):  # district A's water bureau does not serve district B
        targets_check(actor=None, case=case_b, departments=[water])
    department_update(actor=None, department=water, service_regions=[cast.city.a, cast.city.get("440302001")])
    targets_check(actor=None, case=case_b, departments=[water])
    department_update(actor=None, department=water, service_regions=[cast.city.a])
    with pytest.raises(OutOfScope):
        targets_check(actor=None, case=case_b, departments=[water])
    department_update(actor=None, department=water, is_active=False)
    with pytest.raises(OutOfScope):
        targets_check(actor=None, case=places[0], departments=[water])
