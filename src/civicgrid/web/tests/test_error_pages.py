"""The 403, 404, CSRF-failure and 500 pages are the site's own, in Chinese, in its layout — not
Django's bare English pages — and the 500 page needs no database."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import include, path
from django.utils import translation
from django.views.defaults import server_error

from civicgrid.web.tests.conftest import client_for


@pytest.mark.django_db
def test_a_page_outside_my_role_says_so_in_chinese_in_the_site_layout(world):
    response = client_for(world.bob).get("/agent/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "没有权限" in html and 'id="error-403"' in html and 'class="top"' in html
    assert "403 Forbidden" not in html


@pytest.mark.django_db
def test_an_unknown_page_or_case_says_not_found_in_chinese(world):
    for address in ("/no-such-page/", "/cases/E000000000/"):
        response = client_for(world.alice).get(address)
        html = response.content.decode()
        assert response.status_code == 404, address
        assert "页面不存在" in html and 'id="error-404"' in html and 'class="top"' in html
        assert "Not Found" not in html


@pytest.mark.django_db
def test_a_form_sent_without_its_csrf_token_gets_a_chinese_page_saying_what_to_do(world):
    c = Client(enforce_csrf_checks=True)
    response = c.post("/signin/", {"username": "alice", "password": "x"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "表单已失效" in html and "刷新页面" in html and 'class="top"' in html
    assert "CSRF verification failed" not in html


def _broken(request):
    raise RuntimeError("a bug")


# this module is the URLconf of the test below: the site's, plus a page that fails
urlpatterns = [path("broken/", _broken), path("", include("civicgrid.urls"))]


@pytest.mark.django_db
def test_a_server_error_shows_the_chinese_page(settings):
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/broken/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "服务器出错" in html and 'id="error-500"' in html
    assert "Server Error (500)" not in html


def test_the_server_error_page_needs_no_database():
    # no django_db mark: any query made while rendering would fail the test
    with translation.override("zh-hans"):
        response = server_error(RequestFactory().get("/centre/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "服务器出错" in html and 'id="error-500"' in html and 'class="top"' in html
