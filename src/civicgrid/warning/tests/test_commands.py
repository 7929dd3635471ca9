"""The commands and the worker: `civicgrid warning tick|baselines`, and the tick beside the sweep in
`civicgrid worker`."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from civicgrid.warning.models import Alert, AlertRule
from civicgrid.warning.services import rule_save
from civicgrid.warning.tests.conftest import COMMUNITY_A, plant


def test_the_tick_and_baselines_commands(cast, roads):
    rule_save(actor=None, code="spike", name="Spike", kind="spike", categories=[roads])
    plant(cast.city, COMMUNITY_A, at_=timezone.now() - dt.timedelta(days=3), n=2, category=roads)
    out = StringIO()
    call_command("warning_baselines", stdout=out)
    assert "warning baselines: 1 rows" in out.getvalue()
    assert AlertRule.objects.get().baselines_built_at is not None
    plant(cast.city, COMMUNITY_A, at_=timezone.now() - dt.timedelta(minutes=1), n=9, category=roads)
    out = StringIO()
    call_command("warning_tick", stdout=out)
    assert "1 alerts raised" in out.getvalue() and Alert.objects.count() == 1
    with pytest.raises(CommandError, match="--now"):
        call_command("warning_tick", "--now", "yesterday", stdout=StringIO())


def test_the_worker_runs_the_tick_beside_the_sweep(cast, roads):
    rule_save(actor=None, code="spike", name="Spike", kind="spike", categories=[roads])
    plant(cast.city, COMMUNITY_A, at_=timezone.now() - dt.timedelta(minutes=1), n=9, category=roads)
    out = StringIO()
    call_command("worker", "--once", stdout=out)
    assert "sweep:" in out.getvalue() and "warning: " in out.getvalue() and "outbox:" in out.getvalue()
    assert Alert.objects.count() == 1


def test_the_admin_saves_a_rule_through_the_service_and_names_a_bad_parameter(db, client):
    from civicgrid.audit.models import AuditEntry
    from civicgrid.org.services import user_create

    root = user_create(actor=None, username="root", password="Correct-Horse-42", display_name="Root")
    root.is_superuser = root.is_staff = True
    root.save()
    client.force_login(root)
    form = {"code": "hot", "name": "Hot", "kind": "hotspot", "level": "community", "params": '{"n": 1}',
            "severity": "normal", "centre_level": "street", "recipients": "dispatcher", "active": "on"}
    r = client.post("/admin/warning/alertrule/add/", form)
    assert r.status_code == 200 and "params.n" in r.content.decode() and not AlertRule.objects.exists()
    r = client.post("/admin/warning/alertrule/add/", {**form, "params": '{"n": 20}'})
    assert r.status_code == 302
    rule = AlertRule.objects.get()
    assert rule.params == {"n": 20, "cell_m": 300.0, "days": 7}
    assert AuditEntry.objects.filter(action="warning.rule_create").exists()


def test_the_nightly_baselines_are_due_once_a_day_even_when_empty(db):
    from civicgrid.warning.services import baselines_due, warning_baselines
    from civicgrid.warning.tests.conftest import at

    rule_save(actor=None, code="spike", name="Spike", kind="spike")
    night, morning = at(2024, 6, 12, 0, 30), at(2024, 6, 12, 2)
    assert not baselines_due(night)  # before 1 a.m.
    assert baselines_due(morning)
    assert warning_baselines(now=morning) == 0  # no cases: no rows, but built
    assert not baselines_due(morning) and not baselines_due(at(2024, 6, 12, 23))
    assert baselines_due(at(2024, 6, 13, 1, 5))
