"""The front door: the site root sends each person to their page, our own sign-in page, the
language switch, the demo note, and pages that reach no other host."""

from __future__ import annotations

import re

import pytest

from civicgrid.web.tests.conftest import client_for, reported

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-42"


def test_the_root_sends_each_person_to_the_page_of_their_role(world, units):
    cast = world
    expected = {None: "/report/", cast.alice: "/centre/", cast.bob: "/grid/", units.dana: "/department/",
                units.rita: "/report/", cast.admin_a: "/centre/"}
    for user, url in expected.items():
        response = client_for(user).get("/")
        assert response.status_code == 302 and response["Location"] == url, user


def test_a_person_signs_in_on_our_page_and_lands_on_their_home(world):
    c = client_for()
    page = c.get("/signin/")
    assert page.status_code == 200 and b'name="csrfmiddlewaretoken"' in page.content
    response = c.post("/signin/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/centre/"
    assert c.get("/centre/").status_code == 200


def test_a_wrong_password_is_refused_next_to_the_form(world):
    response = client_for().post("/signin/", {"username": "alice", "password": "wrong-password-1"})
    assert response.status_code == 200
    assert b'id="signin-error"' in response.content
    assert "_auth_user_id" not in client_for().session


def test_signing_out_needs_a_post_and_ends_the_session(world):
    c = client_for(world.alice)
    assert c.get("/signout/").status_code == 405
    assert c.post("/signout/").status_code == 302
    assert c.get("/centre/")["Location"].startswith("/signin/")


def test_a_staff_page_sends_a_visitor_to_sign_in_and_refuses_the_wrong_role(world, units):
    assert client_for().get("/centre/")["Location"] == "/signin/?next=/centre/"
    assert client_for(world.bob).get("/centre/").status_code == 403
    assert client_for(units.dana).get("/grid/").status_code == 403
    assert client_for(world.alice).get("/department/").status_code == 403
    assert client_for(units.rita).get("/dashboard/").status_code == 403


def test_the_demo_note_is_shown_only_in_the_demo(world, settings):
    settings.CIVICGRID_DEMO, settings.CIVICGRID_SIGNIN_HINTS = False, ""
    assert b'id="demo-logins"' not in client_for().get("/signin/").content
    settings.CIVICGRID_DEMO, settings.CIVICGRID_SIGNIN_HINTS = True, "civicgrid.demo.selectors.signin_hints"
    page = client_for().get("/signin/").content.decode()
    assert 'id="demo-logins"' in page and "Demo-2026-pass" in page


def sample_hints():
    from types import SimpleNamespace

    return [SimpleNamespace(username="try_me", role="调度员", where="长乐街道")]


def test_the_signin_page_lists_the_logins_the_setting_names(world, settings):
    settings.CIVICGRID_DEMO = True
    settings.CIVICGRID_SIGNIN_HINTS = f"{__name__}.sample_hints"
    page = client_for().get("/signin/").content.decode()
    assert "<code>try_me</code>" in page and "调度员" in page and "长乐街道" in page


def test_no_page_imports_the_demo():
    import ast
    from pathlib import Path

    web = Path(__file__).resolve().parents[1]
    found = []
    for path in web.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}: {n}" for n in names if n.startswith("civicgrid.demo")]
    assert found == []


def test_pages_speak_chinese_first_and_english_on_request(world):
    case = reported()
    zh = client_for().get(f"/track/{case.tracking_code}/").content.decode()
    assert '<html lang="zh-hans">' in zh and "已上报" in zh
    en = client_for(lang="en").get(f"/track/{case.tracking_code}/").content.decode()
    assert '<html lang="en">' in en and "reported" in en and "已上报" not in en


def test_the_language_switch_sets_english_and_returns_to_the_page(world):
    c = client_for()
    response = c.post("/i18n/setlang/", {"language": "en", "next": "/report/"})
    assert response.status_code == 302 and response["Location"] == "/report/"
    assert '<html lang="en">' in c.get("/report/").content.decode()


EXTERNAL = re.compile(r"""(?:src|href|action|data-tiles)\s*=\s*["'](?:https?:)?//""", re.I)


def test_no_page_references_another_host_when_no_tile_url_is_set(world, units, settings):
    settings.CIVICGRID_MAP_TILE_URL = ""
    cast = world
    case = reported()
    pages = [(None, "/report/"), (None, f"/track/{case.tracking_code}/"), (None, "/signin/"),
             (cast.alice, "/centre/"), (cast.alice, "/centre/map/"), (cast.alice, "/agent/"),
             (cast.alice, f"/cases/{case.tracking_code}/"), (cast.alice, "/dashboard/"), (cast.bob, "/grid/"),
             (units.dana, "/department/")]
    for user, url in pages:
        html = client_for(user).get(url).content.decode()
        assert not EXTERNAL.search(html), url
        assert "http://" not in html and "https://" not in html, url


def test_a_configured_tile_url_reaches_the_map(world, settings):
    settings.CIVICGRID_MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    html = client_for().get("/report/").content.decode()
    assert 'data-tiles="https://tiles.example.org/{z}/{x}/{y}.png"' in html
