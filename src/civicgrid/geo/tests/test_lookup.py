"""Point → grid lookup through the service: inside, edge, vertex, hole, outside, GCJ-02, versions."""

from __future__ import annotations

import numpy as np
import pytest

from civicgrid.geo.crs import wgs84_to_gcj02
from civicgrid.geo.selectors import lookup_index_invalidate, point_locate, points_locate_grid_codes
from civicgrid.geo.services import regions_import
from conftest import collection, feature, square

pytestmark = pytest.mark.django_db

# small_city grids: district A spans lon 114.0–114.1; street 440301001 lat 22.5–22.55 with four grids
# 440301001001001 (114.00–114.05, 22.500–22.525), …002 (114.05–114.10, 22.500–22.525),
# …003 (114.00–114.05, 22.525–22.55), …004 (114.05–114.10, 22.525–22.55).


@pytest.fixture(autouse=True)
def fresh_index():
    lookup_index_invalidate()
    yield
    lookup_index_invalidate()


def test_a_point_inside_a_grid_answers_that_grid_and_its_chain(small_city):
    loc = point_locate(114.02, 22.51)
    assert loc.method == "grid" and loc.grid.code == "440301001001001"
    assert (loc.community.code, loc.street.code, loc.district.code, loc.city.code) == (
        "440301001001", "440301001", "440301", "440300")
    assert loc.boundary_version is not None


def test_a_point_on_a_shared_edge_goes_to_the_grid_with_the_lowest_code(small_city):
    assert point_locate(114.05, 22.51).grid.code == "440301001001001"  # edge between 001 and 002
    assert point_locate(114.07, 22.525).grid.code == "440301001001002"  # edge between 002 and 004


def test_a_point_on_a_vertex_shared_by_four_grids_goes_to_the_lowest_code(small_city):
    assert point_locate(114.05, 22.525).grid.code == "440301001001001"


def test_a_point_on_the_border_between_two_districts_goes_to_the_lowest_code(small_city):
    assert point_locate(114.1, 22.51).grid.code == "440301001001002"


def test_a_point_on_the_outer_boundary_is_covered(small_city):
    assert point_locate(114.0, 22.5).grid.code == "440301001001001"


def test_a_point_in_a_hole_falls_back_to_the_community_that_covers_it(small_city):
    # Redraw grid 001 with a hole; no grid fills the hole, its community still covers it.
    ring = [[114.0, 22.5], [114.05, 22.5], [114.05, 22.525], [114.0, 22.525], [114.0, 22.5]]
    hole = [[114.02, 22.51], [114.03, 22.51], [114.03, 22.515], [114.02, 22.515], [114.02, 22.51]]
    regions_import(collection(feature("有洞网格", {"type": "Polygon", "coordinates": [ring, hole]},
                                      code="440301001001001", parent="440301001001")),
                   level="grid", code_field="code", parent_field="parent", actor=None, commit=True)
    lookup_index_invalidate()
    loc = point_locate(114.025, 22.5125)
    assert loc.method == "nearest_community" and loc.grid is None
    assert loc.community.code == "440301001001" and loc.distance_m == 0.0
    assert point_locate(114.02, 22.5125).grid.code == "440301001001001"  # on the hole's edge: covered


def test_a_point_just_outside_every_grid_goes_to_the_nearest_community_within_the_limit(small_city):
    loc = point_locate(113.999, 22.51, max_meters=500)  # ~100 m west of the city
    assert loc.method == "nearest_community" and loc.community.code == "440301001001"
    assert 80 < loc.distance_m < 120


def test_a_point_far_outside_is_unassigned(small_city):
    loc = point_locate(113.9, 22.51, max_meters=500)
    assert loc.method == "unassigned" and loc.grid is None and loc.community is None


def test_gcj02_input_is_converted_before_the_lookup(small_city):
    # A WGS-84 point 200 m west of the edge between grids 001 and 002; GCJ-02 shifts it ~530 m east,
    # so only a lookup that converts it back finds grid 001.
    glon, glat = wgs84_to_gcj02(114.048, 22.51)
    assert glon > 114.05
    assert point_locate(glon, glat, crs="gcj02").grid.code == "440301001001001"
    assert point_locate(glon, glat).grid.code == "440301001001002"  # read as WGS-84 it is across the edge


def test_out_of_range_coordinates_are_refused(small_city):
    with pytest.raises(ValueError, match="longitude"):
        point_locate(200.0, 22.5)


def test_the_batch_lookup_agrees_with_the_single_lookup(small_city):
    rng = np.random.default_rng(7)
    lons = rng.uniform(113.99, 114.21, 500)
    lats = rng.uniform(22.49, 22.61, 500)
    batch = points_locate_grid_codes(lons, lats)
    single = [(lambda loc: loc.grid.code if loc.grid else None)(point_locate(x, y, max_meters=0))
              for x, y in zip(lons, lats, strict=True)]
    assert batch == single


def test_the_index_follows_a_new_boundary_version(small_city):
    assert point_locate(114.02, 22.51).grid.code == "440301001001001"
    # Move the west grid's edge: after the import the same point belongs to a redrawn neighbour.
    regions_import(collection(
        feature("网格1", square(114.0, 22.5, 114.01, 22.525), code="440301001001001", parent="440301001001"),
        feature("网格2", square(114.01, 22.5, 114.1, 22.525), code="440301001001002", parent="440301001001")),
        level="grid", code_field="code", parent_field="parent", actor=None, commit=True)
    lookup_index_invalidate()  # the commit hook does this; tests run inside a transaction
    loc = point_locate(114.02, 22.51)
    assert loc.grid.code == "440301001001002"


def test_a_renamed_grid_is_answered_by_its_new_name_once_the_import_commits(small_city,
                                                                          django_capture_on_commit_callbacks):
    # The look-up keeps a grid and its chain in the process's reference cache: a region saved by the
    # import drops it, so the next look-up reads the new name.
    assert point_locate(114.02, 22.51).grid.code == "440301001001001"
    old_name = point_locate(114.02, 22.51).grid.name
    with django_capture_on_commit_callbacks(execute=True):
        regions_import(collection(feature("改名网格", square(114.0, 22.5, 114.05, 22.525),
                                          code="440301001001001", parent="440301001001")),
                       level="grid", code_field="code", parent_field="parent", actor=None, commit=True)
    loc = point_locate(114.02, 22.51)
    assert old_name != "改名网格" and loc.grid.name == "改名网格"
