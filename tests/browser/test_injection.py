"""Markup planted in every name a person can type — regions, departments, categories, case titles,
people's display names — is shown as text on every map, popup, label, chart and list: nothing in it
runs. The names are planted straight into the database (the validators would refuse most of them),
so this proves the pages, not the validators."""

from __future__ import annotations

import pytest

from tests.browser.test_web_pages import shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def planted(tag: str) -> str:
    """A name that runs script wherever it is read as HTML, in text or in an attribute (short
    enough for every name's column: PostgreSQL refuses what is too long)."""
    return f"\"'><img src=x onerror=\"(window.__xss=window.__xss||[]).push('{tag}')\">{tag}"


def planted_short(tag: str) -> str:
    """For a 50-character display name: a dialog, which the page's dialog handler records."""
    return f"\"'><img src=x onerror=alert('{tag}')>{tag}"


def plant_everywhere(world, units) -> list:
    from civicgrid.cases.models import Case
    from civicgrid.core.refcache import reference_changed
    from civicgrid.geo.models import Region
    from civicgrid.org.models import Department, User
    from civicgrid.taxonomy.models import Category
    from civicgrid.web.tests.conftest import reported, walk

    dispatched = walk(reported(), world, units, "dispatched")
    waiting = reported()  # in the centre's queue
    for r in Region.objects.all():
        Region.objects.filter(pk=r.pk).update(name=planted(f"region-{r.pk}"))
    Department.objects.update(name=planted("dept"))
    for c in Category.objects.all():
        Category.objects.filter(pk=c.pk).update(name=planted(f"cat-{c.pk}"))
    for u in User.objects.all():
        User.objects.filter(pk=u.pk).update(display_name=planted_short(f"u{u.pk}"))
    Case.objects.filter(pk=dispatched.pk).update(title=planted("title-dispatched"))
    Case.objects.filter(pk=waiting.pk).update(title=planted("title-waiting"))
    reference_changed()
    return [dispatched, waiting]


def open_every_popup(page, map_id: str) -> int:
    """Open the popup of every shape and marker on a map (as clicking each one would)."""
    page.wait_for_function(f"document.getElementById('{map_id}') && document.getElementById('{map_id}').leafletMap")
    return page.evaluate("""(id) => {
        const map = document.getElementById(id).leafletMap; let n = 0;
        map.eachLayer(l => { if (l.getPopup && l.getPopup()) { l.openPopup(); n++; } });
        return n; }""", map_id)


def click_middle(page, map_id: str) -> None:
    box = page.locator(f"#{map_id}").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def ran(page) -> list:
    return page.evaluate("window.__xss || []")


def test_markup_in_every_typed_name_runs_nowhere_on_maps_popups_charts_or_lists(page, live_server, world, units):
    dispatched, waiting = plant_everywhere(world, units)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    base = live_server.url
    seen = {}

    def visit(url: str, map_id: str | None = None) -> None:
        response = page.goto(base + url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        if map_id:
            seen[url] = open_every_popup(page, map_id)
            click_middle(page, map_id)  # a real click on a grid, too
            page.wait_for_timeout(200)
        shot(page, "xss-" + (url.strip("/").replace("/", "-") or "home"))
        assert ran(page) == [], url

    visit("/report/", "report-map")  # street and community names as labels on the resident's map
    visit(f"/track/{waiting.tracking_code}/")
    sign_in(page, base, "alice")
    for url in ("/centre/", "/centre/?queue=dispatch", "/dashboard/", "/cases/", f"/cases/{dispatched.tracking_code}/",
                f"/cases/{waiting.tracking_code}/"):
        visit(url)
    visit("/centre/map/", "centre-map")
    assert seen["/centre/map/"] >= 1  # the grid with open cases has its popup
    assert "region-" in page.inner_text(".leaflet-popup-content")  # the name is there, as text
    sign_in(page, base, "bob")
    visit("/grid/", "grid-map")
    assert seen["/grid/"] >= 2  # Bob's grid and the case marker in it
    visit("/grid/tasks/")
    visit("/grid/patrol/", "report-map")
    sign_in(page, base, "dana")
    visit("/department/")
    assert dialogs == []
