"""Who sees and handles an alert, its evidence scoped to the reader, its lifecycle, the pages and the
API; two ticks at once raise an alert once (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from civicgrid.notify.models import Notification
from civicgrid.warning.models import Alert, AlertEvent, AlertState
from civicgrid.warning.services import alert_acknowledge, rule_save, warning_tick
from civicgrid.warning.tests.conftest import COMMUNITY_A, COMMUNITY_B, at, plant

NOW = at(2024, 6, 12, 10)  # a Wednesday morning
EDGE_A, EDGE_B = (114.0999, 22.51), (114.1001, 22.51)  # 20 m apart across the district border


@pytest.fixture
def alert(staff):
    """A repeated place in Alice's street: three cases on her side, one across the border (district B)."""
    rule_save(actor=None, code="place", name="Repeated place", kind="place", params={"n": 4, "radius_m": 50})
    plant(staff.city, COMMUNITY_A, at_=NOW - dt.timedelta(hours=3), n=3, point=EDGE_A)
    plant(staff.city, COMMUNITY_B, at_=NOW - dt.timedelta(hours=2), n=1, point=EDGE_B)
    warning_tick(now=NOW)
    return Alert.objects.get()


def _api(client, user, method, path, body=None):
    client.force_login(user)
    if method == "get":
        return client.get(f"/api/v1/warnings{path}")
    return client.post(f"/api/v1/warnings{path}", body or {}, content_type="application/json")


def test_the_alert_goes_to_the_street_centre_with_the_evidence(alert, staff):
    assert alert.area == staff.city.get(COMMUNITY_A) and alert.centre == staff.city.get("440301001")
    assert alert.figure == 4 and len(alert.evidence["case_ids"]) == 4
    note = Notification.objects.get(event="warning", channel="inapp")
    assert note.audience_region_id == alert.centre.pk and "Repeated place" in note.subject


def test_evidence_is_scoped_to_whoever_reads_it(client, alert, staff):
    r = _api(client, staff.alice, "get", f"/{alert.pk}")
    assert r.status_code == 200
    body = r.json()
    assert len(body["cases"]) == 3 and body["cases_hidden"] == 1  # the district-B case is counted, not named
    r = _api(client, staff.admin_a, "get", f"/{alert.pk}")
    assert len(r.json()["cases"]) == 3  # district A's administrator: district B's case is out of reach too
    page = client.get(f"/warnings/{alert.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-case="') == 3 and 'id="hidden-cases"' in html
    assert "<svg" in html and html.count("<rect ") == len(alert.evidence["series"])  # the chart, inline
    assert "<script" not in html.split('id="alert-chart"')[1].split("</section>")[0]


@pytest.mark.parametrize("who", ["bob", "charlie"])
def test_outsiders_and_a_grid_worker_get_404(client, alert, staff, who):
    user = getattr(staff, who)
    assert _api(client, user, "get", f"/{alert.pk}").status_code == 404
    assert _api(client, user, "post", f"/{alert.pk}/actions/acknowledge").status_code == 404
    assert _api(client, user, "get", "").json()["items"] == []
    assert client.get(f"/warnings/{alert.pk}/").status_code == 404
    assert client.post(f"/warnings/{alert.pk}/act/acknowledge/").status_code == 404
    assert Alert.objects.get().state == AlertState.OPEN


def test_an_auditor_reads_but_may_not_act(client, alert, staff):
    assert _api(client, staff.aud, "get", f"/{alert.pk}").status_code == 200
    r = _api(client, staff.aud, "post", f"/{alert.pk}/actions/acknowledge")
    assert r.status_code == 403
    assert client.post(f"/warnings/{alert.pk}/act/acknowledge/").status_code == 403
    assert 'id="alert-actions"' not in client.get(f"/warnings/{alert.pk}/").content.decode()
    assert Alert.objects.get().state == AlertState.OPEN


def test_the_lifecycle_acknowledge_investigate_close(client, alert, staff):
    r = _api(client, staff.alice, "post", f"/{alert.pk}/actions/acknowledge", {"note": "seen"})
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    r = _api(client, staff.lea, "post", f"/{alert.pk}/actions/investigate")  # the street's leader
    assert r.status_code == 200 and r.json()["state"] == "investigating"
    r = _api(client, staff.alice, "post", f"/{alert.pk}/actions/close", {"outcome": "maybe"})
    assert r.status_code == 422 and "outcome" in r.json()["error"]["fields"]
    r = _api(client, staff.alice, "post", f"/{alert.pk}/actions/close", {"outcome": "acted_on"})
    assert r.status_code == 200 and r.json()["state"] == "closed" and r.json()["outcome"] == "acted_on"
    assert [e["action"] for e in r.json()["events"]] == ["raised", "acknowledge", "investigate", "close"]
    assert r.json()["events"][1]["actor"] == "alice" and r.json()["events"][1]["note"] == "seen"
    r = _api(client, staff.alice, "post", f"/{alert.pk}/actions/acknowledge")
    assert r.status_code == 409  # closed: nothing more to acknowledge
    assert _api(client, staff.alice, "post", f"/{alert.pk}/actions/dance").status_code == 404


def test_escalation_hands_the_alert_to_the_centre_above(client, alert, staff):
    r = _api(client, staff.alice, "post", f"/{alert.pk}/actions/escalate", {"note": "too big for us"})
    assert r.status_code == 200 and r.json()["state"] == "escalated"
    assert r.json()["centre"]["code"] == "440301" and r.json()["escalation_level"] == 1
    assert Notification.objects.filter(event="warning", audience_region=staff.city.a, channel="sms").exists()
    # the street still sees it, but the district now handles it
    assert _api(client, staff.alice, "get", f"/{alert.pk}").status_code == 200
    assert _api(client, staff.alice, "post", f"/{alert.pk}/actions/acknowledge").status_code == 403
    r = _api(client, staff.admin_a, "post", f"/{alert.pk}/actions/acknowledge")
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"


def test_escalating_above_the_city_names_the_field(alert, staff):
    from django.core.exceptions import ValidationError

    from civicgrid.warning.services import alert_escalate

    Alert.objects.filter(pk=alert.pk).update(centre=staff.city.city)
    with pytest.raises(ValidationError) as exc:
        alert_escalate(actor=None, alert=Alert.objects.get(pk=alert.pk))
    assert "centre" in exc.value.message_dict


def test_the_queue_page_the_form_errors_and_the_dashboard_counts(client, alert, staff):
    client.force_login(staff.alice)
    page = client.get("/warnings/")
    assert page.status_code == 200 and f'data-alert="{alert.pk}"' in page.content.decode()
    r = client.post(f"/warnings/{alert.pk}/act/close/", {"outcome": ""})
    assert r.status_code == 400 and "errorlist" in r.content.decode()
    r = client.post(f"/warnings/{alert.pk}/act/acknowledge/", {"note": "on it"})
    assert r.status_code == 302 and Alert.objects.get().state == AlertState.ACKNOWLEDGED
    dash = client.get("/dashboard/").content.decode()
    assert 'id="alert-counts"' in dash and '<b data-state="acknowledged">1</b>' in dash
    assert 'data-nav="warnings"' in dash  # "Alerts" in the menu
    client.force_login(staff.bob)
    assert client.get("/warnings/").status_code == 403
    dash = client.get("/dashboard/").content.decode()
    assert 'id="alert-counts"' not in dash and 'data-nav="warnings"' not in dash


def test_the_list_filters_by_state_and_names_a_bad_state(client, alert, staff):
    assert [a["id"] for a in _api(client, staff.alice, "get", "?state=live").json()["items"]] == [alert.pk]
    assert _api(client, staff.alice, "get", "?state=closed").json()["items"] == []
    r = _api(client, staff.alice, "get", "?state=nonsense")
    assert r.status_code == 422 and "state" in r.json()["error"]["fields"]


def test_a_wrong_role_may_not_act_through_the_service(alert, staff):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        alert_acknowledge(actor=staff.aud, alert=alert)
    assert AlertEvent.objects.filter(alert=alert).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_raise_an_alert_once(cast, roads):
    if connection.vendor != "postgresql":
        pytest.skip("two ticks at once need PostgreSQL (SQLite serialises writers)")
    rule_save(actor=None, code="spike", name="Spike", kind="spike", categories=[roads])
    plant(cast.city, COMMUNITY_A, at_=NOW - dt.timedelta(hours=1), n=12, category=roads)
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def tick() -> None:
        try:
            barrier.wait(timeout=10)
            reports.append(warning_tick(now=NOW))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sum(len(r.raised) for r in reports) == 1
    assert Alert.objects.count() == 1
    assert AlertEvent.objects.filter(action="raised").count() == 1
    assert Notification.objects.filter(event="warning").count() == 2  # in-app and SMS, once


def test_a_rule_for_leaders_notifies_the_centre_leaders_by_name(staff, roads):
    rule_save(actor=None, code="spike", name="Spike", kind="spike", categories=[roads], recipients="leader")
    plant(staff.city, COMMUNITY_A, at_=NOW - dt.timedelta(hours=1), n=9, category=roads)
    warning_tick(now=NOW)
    notes = Notification.objects.filter(event="warning")
    assert {(n.recipient_id, n.channel) for n in notes} == {(staff.lea.pk, "inapp"), (staff.lea.pk, "sms")}
