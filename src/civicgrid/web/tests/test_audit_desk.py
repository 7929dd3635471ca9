"""The auditor's desk: the personal-data trail, filterable, with the alerts; read only; auditors only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from civicgrid.audit.models import AuditEntry
from civicgrid.org.models import Role, User
from civicgrid.org.services import membership_grant, user_create, user_update
from civicgrid.privacy.services import sensitive_search, sensitive_value_reveal
from civicgrid.web.tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(cast, settings):
    settings.CIVICGRID_BULK_READ_THRESHOLD = 3
    ada = user_create(actor=None, username="ada", password=None, display_name="Ada")
    membership_grant(actor=None, user=ada, role=Role.AUDITOR, region=cast.city.a)
    for u in (cast.alice, cast.charlie):
        u.user_permissions.add(Permission.objects.get(codename="reveal_user"))
    alice, charlie = User.objects.get(pk=cast.alice.pk), User.objects.get(pk=cast.charlie.pk)
    user_update(actor=None, user=cast.bob, phone="13800138000")
    sensitive_value_reveal(user=alice, instance=cast.bob, field_name="phone", purpose="call back about the bin")
    sensitive_value_reveal(user=charlie, instance=cast.admin_a, field_name="phone", purpose="check the duty roster")
    sensitive_search(user=alice, queryset=User.objects.all(), value="13800138000", fields=["phone"])
    for _ in range(3):
        sensitive_value_reveal(user=alice, instance=cast.bob, field_name="phone", purpose="bulk reading now")
    return ada


def _rows(response) -> list[str]:
    html = response.content.decode()
    return [chunk.split("</tr>")[0] for chunk in html.split('class="trail-row"')[1:]]


def test_the_auditor_sees_every_read_with_its_purpose_and_the_alert(trail, cast):
    response = client_for(trail).get("/audit/")
    assert response.status_code == 200
    rows = _rows(response)
    assert len(rows) == 7  # 5 reveals by alice and charlie, 1 search, 1 alert
    html = response.content.decode()
    assert "call back about the bin" in html and "check the duty roster" in html
    assert "13800138000" not in html and "138****8000" in html  # the search's value, masked
    assert 'class="alert-row"' in html and html.count('class="alert-row"') == 1


def test_the_filters_by_person_record_purpose_kind_and_period(trail, cast):
    c = client_for(trail)
    assert len(_rows(c.get("/audit/", {"actor": "charlie"}))) == 1
    assert len(_rows(c.get("/audit/", {"target": f"org.user:{cast.bob.pk}", "kind": "reveal"}))) == 4
    assert len(_rows(c.get("/audit/", {"purpose": "DUTY roster"}))) == 1
    assert len(_rows(c.get("/audit/", {"kind": "search"}))) == 1
    today = timezone.localdate()
    assert len(_rows(c.get("/audit/", {"start": today.isoformat(), "end": today.isoformat()}))) == 7
    past = today - dt.timedelta(days=10)
    empty = c.get("/audit/", {"start": past.isoformat(), "end": (past + dt.timedelta(days=1)).isoformat()})
    assert _rows(empty) == [] and b'id="no-alerts"' in empty.content
    bad = c.get("/audit/", {"start": "2026-13-01", "kind": "gossip"})
    assert bad.status_code == 400 and b'data-field="start"' in bad.content and b'data-field="kind"' in bad.content


def test_the_desk_is_read_only_and_for_auditors_only(trail, cast):
    before = AuditEntry.objects.count()
    c = client_for(trail)
    assert c.post("/audit/", {"actor": "alice"}).status_code == 405
    assert c.put("/audit/").status_code == 405 and c.delete("/audit/").status_code == 405
    assert AuditEntry.objects.count() == before  # reading the desk writes nothing
    assert c.get("/audit/").status_code == 200 and AuditEntry.objects.count() == before
    for outsider in (cast.alice, cast.admin_a, cast.bob):
        assert client_for(outsider).get("/audit/").status_code == 404
    assert client_for().get("/audit/")["Location"].startswith("/signin/")


def test_the_api_gives_the_same_trail_read_only(trail, cast):
    c = client_for(trail)
    rows = c.get("/api/v1/audit/personal-data", {"actor": "charlie"}).json()
    assert len(rows) == 1 and rows[0]["purpose"] == "check the duty roster" and rows[0]["field"] == "phone"
    assert rows[0]["target_id"] == str(cast.admin_a.pk)
    search = c.get("/api/v1/audit/personal-data", {"kind": "search"}).json()[0]
    assert "hashes" not in (search["detail"] or {}) and search["records"] == 1
    bad = c.get("/api/v1/audit/personal-data", {"end": "yesterday"})
    assert bad.status_code == 422 and "end" in bad.json()["error"]["fields"]
    assert c.post("/api/v1/audit/personal-data", {}).status_code in (404, 405)
    assert client_for(cast.alice).get("/api/v1/audit/personal-data").status_code == 404


def test_the_12345_caller_look_up_is_on_the_desk_masked_and_counts_as_a_bulk_read(world, settings):
    from civicgrid.web.tests.conftest import reported

    settings.CIVICGRID_BULK_READ_THRESHOLD = 1
    ada = user_create(actor=None, username="ada", password=None, display_name="Ada")
    membership_grant(actor=None, user=ada, role=Role.AUDITOR, region=world.city.a)
    reported(phone="13900001111")
    reported(phone="13900001111")
    assert client_for(world.alice).get("/agent/caller/", {"phone": "13900001111"}).status_code == 405  # POST only
    client_for(world.alice).post("/agent/caller/", {"phone": "13900001111"}, HTTP_HX_REQUEST="true")
    page = client_for(ada).get("/audit/", {"kind": "search", "actor": "alice"})
    rows = _rows(page)
    assert len(rows) == 1 and "events.caller_lookup" in rows[0] and "139****1111" in rows[0]
    assert "13900001111" not in page.content.decode()
    assert AuditEntry.objects.filter(action="privacy.alert.bulk_read", target_id=str(world.alice.pk)).count() == 1
