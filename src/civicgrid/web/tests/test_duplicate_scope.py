"""Issue 13.6: duplicate suggestions list only cases the reader may see. The report form's
suggestions (/report/suggest/) and the merge list on a case page searched every open case of the
city, so anyone signed in could read other jurisdictions' codes, titles and distances in metres
(a location oracle). Now both search within the reader's jurisdiction, as the API always did; a
resident sees nobody else's reports."""

from __future__ import annotations

import pytest

from civicgrid.web.tests.conftest import client_for, reported, walk

pytestmark = pytest.mark.django_db

TEXT = "小区门口垃圾箱破损，垃圾散落一地"
NEAR_BORDER_A = (114.0999, 22.51)  # district A, 20 m from district B
NEAR_BORDER_B = (114.1001, 22.51)


def suggest(user, point):
    response = client_for(user).get("/report/suggest/", {"text": TEXT, "lon": point[0], "lat": point[1]})
    assert response.status_code == 200
    return response.content.decode()


def test_report_suggestions_show_only_cases_in_the_readers_jurisdiction(world):
    theirs = reported(point=NEAR_BORDER_A, text=TEXT)
    assert theirs.tracking_code in suggest(world.alice, NEAR_BORDER_A)  # her own district: still suggested
    html = suggest(world.charlie, NEAR_BORDER_B)
    assert theirs.tracking_code not in html and theirs.title not in html


def test_a_resident_gets_no_other_peoples_reports_as_suggestions(world, units):
    theirs = reported(point=NEAR_BORDER_A, text=TEXT)
    html = suggest(units.rita, NEAR_BORDER_A)
    assert theirs.tracking_code not in html and theirs.title not in html


def test_the_merge_list_on_a_case_page_shows_only_cases_in_the_readers_jurisdiction(world, units):
    a_case = walk(reported(point=NEAR_BORDER_A, text=TEXT), world, units, "registered")
    b_case = reported(point=NEAR_BORDER_B, text=TEXT)
    from civicgrid.events import services as ev

    ev.event_register(actor=world.charlie, case=b_case)
    page = client_for(world.charlie).get(f"/cases/{b_case.tracking_code}/").content.decode()
    assert 'name="duplicates"' in page  # the merge form is there …
    assert a_case.tracking_code not in page  # … without district A's case next door
    mine = reported(point=NEAR_BORDER_B, text=TEXT)  # a duplicate in his own district is offered
    page = client_for(world.charlie).get(f"/cases/{b_case.tracking_code}/").content.decode()
    assert mine.tracking_code in page
