"""The metrics endpoint: the rates of the case engine for a period and a jurisdiction, each number
linked to the cases behind it, scoped like everything else."""

from __future__ import annotations

import pytest

from civicgrid.api.tests.conftest import POINT_B, report
from civicgrid.api.tests.test_cases_api import closed_event

pytestmark = pytest.mark.django_db

SEPTEMBER = {"start": "2024-09-01", "end": "2024-09-30"}


def rates(body):
    return {r["metric"]: r for r in body["rates"]}


def test_the_metrics_count_my_cases_and_link_to_the_cases_behind_each_number(client, world, units):
    closed = closed_event(world, units)
    open_one = report(None, text="另一个井盖").case
    report(None, text="乙区的事", lon=POINT_B[0], lat=POINT_B[1])  # Charlie's district: not Alice's
    client.force_login(world.alice)
    body = client.get("/api/v1/metrics", SEPTEMBER).json()
    registration = rates(body)["registration"]
    assert (registration["numerator"], registration["denominator"]) == (1, 2)  # open_one is still reported
    closure = rates(body)["closure"]
    assert (closure["numerator"], closure["denominator"], closure["value"]) == (1, 2, 0.5)
    assert closure["label"] and body["score"]["weights"]
    behind = client.get(closure["cases"]).json()
    assert [c["id"] for c in behind["items"]] == [closed.pk]
    below = client.get(closure["denominator_cases"]).json()
    assert sorted(c["id"] for c in below["items"]) == sorted([closed.pk, open_one.pk])

    client.force_login(world.charlie)
    theirs = rates(client.get("/api/v1/metrics", SEPTEMBER).json())["registration"]
    assert (theirs["numerator"], theirs["denominator"]) == (0, 1)  # received, not yet registered
    assert client.get("/api/v1/metrics", {**SEPTEMBER, "region": "440301"}).status_code == 404


def test_the_metrics_table_has_a_row_per_street_and_department(client, world, units):
    closed_event(world, units)
    client.force_login(world.admin_a)
    streets = client.get("/api/v1/metrics/table", {**SEPTEMBER, "by": "street"}).json()
    assert [row["code"] for row in streets] == ["440301001"]
    link = rates(streets[0])["closure"]["cases"]
    assert "region=440301001" in link and len(client.get(link).json()["items"]) == 1
    departments = client.get("/api/v1/metrics/table", {**SEPTEMBER, "by": "department"}).json()
    assert [row["code"] for row in departments] == ["440301-sw"]


def test_bad_metric_requests_are_named(client, world):
    client.force_login(world.alice)
    assert client.get("/api/v1/metrics/speed/cases").status_code == 404
    bad = client.get("/api/v1/metrics", {"start": "2024-10-01", "end": "2024-09-01"})
    assert bad.status_code == 422 and "end" in bad.json()["error"]["fields"]
    bad = client.get("/api/v1/metrics/closure/cases", {"part": "half"})
    assert bad.status_code == 422 and "part" in bad.json()["error"]["fields"]
    client.logout()
    assert client.get("/api/v1/metrics").status_code == 401
