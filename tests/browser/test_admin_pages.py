"""A person signs in to the admin in a real browser: Chinese first, scoped, no console errors."""

from __future__ import annotations

import pytest

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def test_a_district_admin_signs_in_and_sees_the_admin_in_chinese(page, live_server, cast):
    cast.admin_a.is_staff = True
    cast.admin_a.save()
    sign_in(page, live_server, "admin_a")
    page.wait_for_selector("#site-name")
    assert "CivicGrid" in page.inner_text("#site-name")
    assert "欢迎" in page.inner_text("#user-tools")  # Django's own Chinese: "欢迎，Admin A"
    assert page.console_errors == []


def test_a_wrong_password_is_refused_with_a_chinese_message(page, live_server, cast):
    cast.alice.is_staff = True
    cast.alice.save()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "wrong-password-1")
    page.click("input[type=submit]")
    assert "请输入一个正确的" in page.inner_text(".errornote")
    assert page.console_errors == []


def test_a_district_admin_manages_regions_of_her_district_only(page, live_server, cast):
    cast.admin_a.is_staff = True
    cast.admin_a.save()
    sign_in(page, live_server, "admin_a")
    page.goto(f"{live_server.url}/admin/geo/region/?level__exact=grid")
    rows = page.inner_text("#result_list")
    assert "440301001001001" in rows and "440302001001001" not in rows
    response = page.goto(f"{live_server.url}/admin/geo/region/{cast.city.get('440302001001001').pk}/change/")
    assert response.status == 404
    assert page.console_errors == [] or all("404" in e for e in page.console_errors)
