"""A workbench row's one-click buttons are the engine's offers (``rules.case_actions``), not the
declaration alone: a step this person's role may not take, or one asking for a required input, gets
no one-click button (the case page asks for the input); "Chase" only where the engine offers chase;
and drawing the rows this way keeps the queue page's queries bounded, however many rows it has."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civicgrid.cases import registry
from civicgrid.cases.models import Case
from civicgrid.cases.registry import GenericRoles, Input, Transition
from civicgrid.cases.rules import case_actions
from civicgrid.cases.testing import CENTRE, DRILL, HANDLER
from civicgrid.org.models import Role
from civicgrid.web.tests.conftest import POINT_A, client_for, fresh, reported, walk

pytestmark = pytest.mark.django_db

ROWS = dataclasses.replace(
    DRILL, code="rows",
    transitions={
        **DRILL.transitions,
        # a step that asks for a required input (declared as an input, not in ``requires``)
        "triage": Transition("triage", ("new",), "review", CENTRE, label="triage",
                             inputs=(Input("hours", "number", required=True, label="hours"),)),
        # a step only a department's handler may take
        "claim": Transition("claim", ("new",), "handling", HANDLER, label="claim"),
    },
    generic=GenericRoles(chase=frozenset({Role.LEADER})),  # the centre may not chase this type
)


@pytest.fixture
def rows_type():
    registry.register(ROWS)
    yield ROWS
    registry.unregister(ROWS.code)


def new_case(world):
    from civicgrid.cases.services import Location, case_create

    return case_create(actor=world.alice, case_type="rows", title="按钮演练", text="演练",
                       location=Location(lon=POINT_A[0], lat=POINT_A[1]))


def row_of(html: str, case) -> str:
    row = html[html.index(f'id="row-{case.tracking_code}"'):]
    return row[:row.index("</tr>")]


def test_a_row_offers_one_click_only_what_the_engine_offers_without_required_inputs(world, rows_type):
    case = new_case(world)
    offers = {o.name: o for o in case_actions(world.alice, fresh(case))}
    assert "claim" not in offers and any(i.required for i in offers["triage"].inputs)
    row = row_of(client_for(world.alice).get("/centre/", {"queue": "new"}).content.decode(), case)
    assert 'data-step="claim"' not in row  # not this person's to take
    assert 'data-step="triage"' not in row  # asks for the hours: a click alone would always fail
    assert f'href="/cases/{case.tracking_code}/#act-triage"' in row  # the case page asks for them


def test_chase_only_where_the_engine_offers_it(world, units, rows_type):
    case = new_case(world)
    event = walk(reported(), world, units, "handling")
    past = timezone.now() - dt.timedelta(days=1)
    Case.objects.filter(pk__in=[case.pk, event.pk]).update(handling_due_at=past)
    assert "chase" not in {o.name for o in case_actions(world.alice, fresh(case))}
    assert "chase" in {o.name for o in case_actions(world.alice, fresh(event))}
    html = client_for(world.alice).get("/centre/", {"queue": "overdue"}).content.decode()
    assert "/act/chase/" not in row_of(html, case)
    assert f"/cases/{event.tracking_code}/act/chase/" in row_of(html, event)


def test_the_rows_offers_keep_the_queue_pages_queries_bounded(world, units):
    def queries(n: int) -> int:
        for _ in range(n):
            walk(reported(), world, units, "registered")
        c = client_for(world.alice)
        c.get("/centre/", {"queue": "dispatch"})
        with CaptureQueriesContext(connection) as q:
            html = c.get("/centre/", {"queue": "dispatch"}).content.decode()
        assert html.count("data-dispatch=") == Case.objects.filter(state="registered").count()
        return len(q)

    few = queries(2)
    many = queries(18)  # 20 rows
    # 30 while no installed type restricted its cases; the petitions' restricted rule (accusations)
    # makes scoping read each user's personal reach once per request: a constant 4 more; whether a
    # delivery can be recorded (a document and a party) one more, per row group, not per row.
    assert many == few and many <= 35
