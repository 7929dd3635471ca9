"""Regions and grids as GeoJSON for the maps: a region with its children, or every region of a level
inside it (a street's grids), scoped like everything else."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def codes(body):
    assert body["type"] == "FeatureCollection"
    return sorted(f["properties"]["code"] for f in body["features"])


def test_a_street_and_its_grids_as_geojson(client, cast):
    client.force_login(cast.alice)
    street = client.get("/api/v1/regions/440301001/geojson").json()
    assert codes(street) == ["440301001", "440301001001"]
    grids = client.get("/api/v1/regions/440301001/geojson", {"level": "grid"}).json()
    assert codes(grids) == [f"440301001001{n:03d}" for n in range(1, 5)]
    assert all(f["geometry"]["type"] == "Polygon" for f in grids["features"])
    bad = client.get("/api/v1/regions/440301001/geojson", {"level": "district"})
    assert bad.status_code == 422 and "level" in bad.json()["error"]["fields"]


def test_charlie_gets_no_shapes_of_district_a(client, cast):
    client.force_login(cast.charlie)
    assert client.get("/api/v1/regions/440301001/geojson", {"level": "grid"}).status_code == 404
    assert codes(client.get("/api/v1/regions/440302001/geojson", {"level": "grid"}).json())[0] == "440302001001001"
