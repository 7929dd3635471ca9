"""The auditor's desk in a real browser (issue 19): the auditor sees the reveals with their purpose and
the bulk-read alert, narrows by person and purpose, and finds no way to change anything."""

from __future__ import annotations

import pytest

from tests.browser.test_web_pages import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_auditor_filters_the_trail_and_sees_the_alert(page, live_server, world, settings):
    from django.contrib.auth.models import Permission

    from civicgrid.org.models import Role, User
    from civicgrid.org.services import membership_grant, user_create, user_update
    from civicgrid.privacy.services import sensitive_value_reveal
    from conftest import PASSWORD

    settings.CIVICGRID_BULK_READ_THRESHOLD = 2
    ada = user_create(actor=None, username="ada", password=PASSWORD, display_name="Ada")
    membership_grant(actor=None, user=ada, role=Role.AUDITOR, region=world.city.a)
    for u in (world.alice, world.charlie):
        u.user_permissions.add(Permission.objects.get(codename="reveal_user"))
    alice, charlie = User.objects.get(pk=world.alice.pk), User.objects.get(pk=world.charlie.pk)
    user_update(actor=None, user=world.bob, phone="13800138000")
    for purpose in ("call back about the bin", "confirm the address", "ask for a photo"):
        sensitive_value_reveal(user=alice, instance=world.bob, field_name="phone", purpose=purpose)
    sensitive_value_reveal(user=charlie, instance=world.bob, field_name="phone", purpose="check the duty roster")

    sign_in(page, live_server.url, "ada")
    page.goto(f"{live_server.url}/audit/")
    assert page.locator("#audit-trail .trail-row").count() == 5  # 4 reveals and the alert
    assert page.locator("#alerts .alert-row").count() == 1 and "alice" in page.inner_text("#alerts")
    assert "13800138000" not in page.content()
    assert page.locator("nav >> text=审计台").count() + page.locator("a[href='/audit/']").count() >= 1
    page.fill("input[name=actor]", "charlie")
    page.click("#audit-filter button")
    page.wait_for_url("**/audit/?*actor=charlie*")
    assert page.locator("#audit-trail .trail-row").count() == 1
    assert "check the duty roster" in page.inner_text("#audit-trail")
    page.fill("input[name=actor]", "")
    page.fill("input[name=purpose]", "photo")
    page.click("#audit-filter button")
    page.wait_for_url("**/audit/?*purpose=photo*")
    assert page.locator("#audit-trail .trail-row").count() == 1
    # nothing to change here: the filter is a GET form, the rows have no buttons or inputs
    assert page.get_attribute("#audit-filter", "method") == "get"
    assert page.locator("#audit-trail button, #audit-trail input, #alerts button, #alerts input").count() == 0
    shot(page, "audit-desk")
    assert page.console_errors == []
