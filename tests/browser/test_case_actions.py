"""A case type with no page of its own (the engine's test type DRILL), acted on in a real browser:
its case page draws the forms the engine offers, the dispatcher dispatches it choosing the unit from
the offer's own list, the unit accepts and finishes it, and the public tracking page shows the steps
its type makes public."""

from __future__ import annotations

import pytest

from civicgrid.events.tests.conftest import POINT_A
from tests.browser.test_web_pages import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_drill_case_is_acted_on_through_its_page(page, live_server, world, units):
    from civicgrid.cases.models import Case
    from civicgrid.cases.services import Location, case_create
    from civicgrid.cases.testing import register_drill

    register_drill()
    case = case_create(actor=world.alice, case_type="drill", title="路灯巡检演练", text="演练",
                       location=Location(lon=POINT_A[0], lat=POINT_A[1]))
    code, base = case.tracking_code, live_server.url

    sign_in(page, base, "alice")
    page.goto(f"{base}/cases/{code}/")
    assert page.locator("#act-dispatch[open]").count() == 1  # the next step opens at once
    page.select_option("#id_department_dispatch", units.urban.code)
    page.fill("#id_note_dispatch", "请处理")
    page.locator("button[data-action=dispatch]").click()
    page.wait_for_selector("#case-state[data-state=dispatched]")
    assert Case.objects.get(pk=case.pk).lead_department == units.urban

    sign_in(page, base, "dana")
    page.goto(f"{base}/cases/{code}/")
    page.locator("button[data-action=accept]").click()
    page.wait_for_selector("#case-state[data-state=handling]")
    page.fill("#id_note_finish", "已完成演练")
    shot(page, "drill-finish")
    page.locator("button[data-action=finish]").click()
    page.wait_for_selector("#case-state[data-state=done]")
    assert page.locator("form.case-action").count() == 0 or "finish" not in page.inner_text("#actions")

    page.context.clear_cookies()
    page.goto(f"{base}/track/{code}/")
    steps = page.inner_text("#public-timeline")
    assert "dispatch" in steps and "finish" in steps and "accept" not in steps
    assert "请处理" not in page.content()
    assert page.console_errors == []
