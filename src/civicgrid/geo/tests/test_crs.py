"""WGS-84 <-> GCJ-02 conversion (pure, no database)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, shape

from civicgrid.geo import crs

# Repo root = src/civicgrid/geo/tests/../../../..; the shared data sits beside the repo.
GEO_DATA = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "geo"

# Shenzhen Civic Center (市民中心), approximately, in WGS-84.
SZ_WGS = (114.0579, 22.5431)
# Computed once with this module and checked for plausibility: the GCJ-02 shift in
# Shenzhen is ~+0.0051 deg lon (~530 m east) and ~-0.0027 deg lat (~300 m south), which
# matches the offset between the DataV GCJ-02 and the WGS-84 district boundaries in
# ../shared/data/geo (see test_matches_independent_wgs84_boundaries).
SZ_GCJ = (114.06301399856547, 22.54038281422246)


def test_known_point_forward():
    lon, lat = crs.wgs84_to_gcj02(*SZ_WGS)
    assert lon == pytest.approx(SZ_GCJ[0], abs=1e-12)
    assert lat == pytest.approx(SZ_GCJ[1], abs=1e-12)
    # Direction and size of the shift in Shenzhen: east and south, a few hundred metres.
    assert 0.0045 < lon - SZ_WGS[0] < 0.0055
    assert -0.0032 < lat - SZ_WGS[1] < -0.0022


def test_known_point_inverse_is_exact():
    lon, lat = crs.gcj02_to_wgs84(*SZ_GCJ)
    assert abs(lon - SZ_WGS[0]) < 1e-9
    assert abs(lat - SZ_WGS[1]) < 1e-9


def test_round_trips_random_points_in_china():
    rng = np.random.default_rng(42)
    lons = rng.uniform(73.0, 135.0, 20000)
    lats = rng.uniform(18.0, 53.0, 20000)
    glon, glat = crs.wgs84_to_gcj02_array(lons, lats)
    assert np.all(np.hypot(glon - lons, glat - lats) > 1e-4)  # it really moved them
    wlon, wlat = crs.gcj02_to_wgs84_array(glon, glat)
    assert np.max(np.abs(wlon - lons)) < 1e-7
    assert np.max(np.abs(wlat - lats)) < 1e-7
    # Forward of the inverse also lands back on the GCJ input.
    g2lon, g2lat = crs.wgs84_to_gcj02_array(wlon, wlat)
    assert np.max(np.abs(g2lon - glon)) < 1e-9
    assert np.max(np.abs(g2lat - glat)) < 1e-9


def test_scalar_and_array_agree():
    lons = np.array([113.9, 114.2, 114.5])
    lats = np.array([22.5, 22.6, 22.7])
    glon, glat = crs.wgs84_to_gcj02_array(lons, lats)
    for i in range(3):
        assert crs.wgs84_to_gcj02(lons[i], lats[i]) == (glon[i], glat[i])
        assert crs.gcj02_to_wgs84(glon[i], glat[i]) == pytest.approx((lons[i], lats[i]), abs=1e-9)


def test_outside_china_unchanged():
    for lon, lat in [(2.3522, 48.8566), (-74.006, 40.7128), (151.2093, -33.8688), (139.9, 35.7), (0.0, 0.0)]:
        assert crs.wgs84_to_gcj02(lon, lat) == (lon, lat)
        assert crs.gcj02_to_wgs84(lon, lat) == (lon, lat)
    lons = np.array([2.3522, 114.0, -74.0])
    lats = np.array([48.8566, 22.5, 40.7])
    glon, glat = crs.wgs84_to_gcj02_array(lons, lats)
    assert glon[0] == lons[0] and glat[0] == lats[0]
    assert glon[2] == lons[2] and glat[2] == lats[2]
    assert glon[1] != lons[1]


def test_array_shapes_and_inputs_untouched():
    lons = np.array([[114.0, 114.1], [114.2, 114.3]])
    lats = np.full((2, 2), 22.6)
    before = lons.copy()
    glon, glat = crs.wgs84_to_gcj02_array(lons, lats)
    assert glon.shape == (2, 2) and glat.shape == (2, 2)
    wlon, wlat = crs.gcj02_to_wgs84_array(glon, glat)
    np.testing.assert_allclose(wlon, lons, atol=1e-9)
    np.testing.assert_allclose(wlat, lats, atol=1e-9)
    np.testing.assert_array_equal(lons, before)


def test_geometry_round_trip():
    poly = Polygon(
        [(114.0, 22.5), (114.1, 22.5), (114.1, 22.6), (114.0, 22.6)],
        [[(114.04, 22.54), (114.06, 22.54), (114.05, 22.56)]],
    )
    gcj = crs.geometry_wgs84_to_gcj02(poly)
    assert gcj.geom_type == "Polygon" and len(gcj.interiors) == 1
    assert gcj.bounds[0] == pytest.approx(poly.bounds[0] + 0.0051, abs=3e-4)
    back = crs.geometry_gcj02_to_wgs84(gcj)
    assert np.max(np.abs(shapely.get_coordinates(back) - shapely.get_coordinates(poly))) < 1e-9
    arr = crs.geometry_gcj02_to_wgs84(np.array([gcj, gcj], dtype=object))
    assert len(arr) == 2


def test_meters_per_degree():
    mx, my = crs.meters_per_degree(0.0)
    assert mx == pytest.approx(111319.49, abs=0.01)
    assert my == pytest.approx(110574.28, abs=0.01)
    mx, my = crs.meters_per_degree(22.5)
    assert mx == pytest.approx(102_900, rel=2e-3)
    assert my == pytest.approx(110_740, rel=1e-3)
    mx, _ = crs.meters_per_degree(60.0)
    assert mx == pytest.approx(111_412.84 * math.cos(math.radians(60)), rel=3e-3)


@pytest.mark.skipif(not GEO_DATA.is_dir(), reason=f"shared geo data not found at {GEO_DATA}")
def test_matches_independent_wgs84_boundaries():
    """Our inverse on DataV's GCJ-02 罗湖区 matches an independently converted WGS-84 copy."""
    with open(GEO_DATA / "440300_full.json", encoding="utf-8") as f:
        gcj = {ft["properties"]["adcode"]: shape(ft["geometry"]) for ft in json.load(f)["features"]}
    with open(GEO_DATA / "440300_wgs84.utf8.json", encoding="utf-8") as f:
        wgs = {ft["properties"]["adcode"]: shape(ft["geometry"]) for ft in json.load(f)["features"]}
    ours = crs.geometry_gcj02_to_wgs84(gcj[440303])
    ref = wgs[440303]
    iou = ours.intersection(ref).area / ours.union(ref).area
    raw_iou = gcj[440303].intersection(ref).area / gcj[440303].union(ref).area
    assert iou > 0.999
    assert raw_iou < 0.9  # without conversion they really differ
