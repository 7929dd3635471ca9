"""The dispatch catalogue's answers are cached per process and dropped when the catalogue changes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from civicgrid.org.services import department_create
from civicgrid.taxonomy.selectors import deadline_rules_for, dispatch_department_for
from civicgrid.taxonomy.services import category_create, dispatch_rule_set

pytestmark = pytest.mark.django_db


def test_a_repeated_question_asks_the_database_once_and_a_change_is_seen_at_once(cast):
    a = cast.city.a
    cat = category_create(actor=None, name="井盖", kind="event", code="E09")
    first = department_create(actor=None, code="A-ROADS", name="甲区住建局", region=a, function="roads")
    rule = dispatch_rule_set(actor=None, category=cat, region_level="district", department=first)
    chain = {"city": cast.city.city, "district": a}
    assert dispatch_department_for(category=cat, chain=chain).department == first
    with CaptureQueriesContext(connection) as queries:
        assert dispatch_department_for(category=cat, chain=chain).department == first
        deadline_rules_for(cat)
        deadline_rules_for(cat)
    assert len(queries) == 1  # the catalogue answer came from the cache; the rules were read once
    second = department_create(actor=None, code="A-ROADS2", name="甲区市政局", region=a, function="roads")
    dispatch_rule_set(actor=None, category=cat, region_level="district", department=second, rule=rule)
    assert dispatch_department_for(category=cat, chain=chain).department == second


def test_no_caching_when_turned_off(cast, settings):
    settings.CIVICGRID_REFERENCE_CACHE_SECONDS = 0
    cat = category_create(actor=None, name="井盖", kind="event", code="E09")
    with CaptureQueriesContext(connection) as queries:
        deadline_rules_for(cat)
        deadline_rules_for(cat)
    assert len(queries) == 2
