import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.cells import GRID_RES, cell_parents, cells_from_points, cells_in_polygon, lookup_cells
from geo.wkb import points_to_wkb
from geo.zones import (
    attribute_points,
    communities_of_points,
    distance_outside,
    representative_points,
    zones_of_points,
)
from hotspot.demo import build_town
from tests.conftest import EAST, WEST


@pytest.fixture(scope="module")
def town():
    import datetime as dt

    return build_town(seed=5, n_reports=0, until=dt.date(2026, 11, 20))


def _owners(town, lng, lat):
    cells = cells_from_points(lng, lat)
    return communities_of_points(
        lng,
        lat,
        cells,
        grid_cells=town.grid_cells["cell"],
        grid_owners=town.grid_cells["community_id"],
        communities=town.communities.geometry.to_numpy(),
        community_ids=town.communities["id"],
    )


def test_every_point_inside_the_town_gets_exactly_one_community_its_cells_owner(town):
    rng = np.random.default_rng(0)
    minx, miny, maxx, maxy = town.boundary.bounds
    lng = rng.uniform(minx, maxx, 50_000)
    lat = rng.uniform(miny, maxy, 50_000)
    inside = shapely.contains_xy(town.boundary, lng, lat)
    owners = _owners(town, lng[inside], lat[inside])
    assert (owners > 0).all()
    assert set(np.unique(owners)) <= set(town.communities["id"])
    # a community's reports are exactly those in its grid cells
    parents = cell_parents(cells_from_points(lng[inside], lat[inside]), GRID_RES)
    by_cell = lookup_cells(parents, town.grid_cells["cell"], town.grid_cells["community_id"])
    owned = by_cell >= 0
    assert (owners[owned] == by_cell[owned]).all()
    assert owned.mean() > 0.97  # the rest sit in edge cells whose centre is outside


def test_points_in_unowned_edge_cells_fall_back_to_their_polygon(town):
    owners = communities_of_points(
        [116.3050],
        [39.7850],
        cells_from_points([116.3050], [39.7850]),
        grid_cells=np.array([], dtype=np.int64),
        grid_owners=np.array([], dtype=np.int64),
        communities=np.array([WEST, EAST]),
        community_ids=[7, 8],
    )
    assert owners.tolist() == [7]


def test_points_outside_every_community_get_none():
    owners = communities_of_points(
        [117.0],
        [40.5],
        cells_from_points([117.0], [40.5]),
        grid_cells=cells_in_polygon(WEST, res=GRID_RES),
        grid_owners=np.ones(len(cells_in_polygon(WEST, res=GRID_RES)), dtype=np.int64),
        communities=np.array([WEST]),
        community_ids=[1],
    )
    assert owners.tolist() == [-1]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_zone_attribution_equals_the_brute_force_search(seed):
    rng = np.random.default_rng(seed)
    corners = rng.uniform([116.30, 39.78], [116.32, 39.79], (40, 2))
    sizes = rng.uniform(5e-5, 2e-4, (40, 2))
    zones = shapely.box(
        corners[:, 0], corners[:, 1], corners[:, 0] + sizes[:, 0], corners[:, 1] + sizes[:, 1]
    )
    lng = np.concatenate([rng.uniform(116.30, 116.32, 3000), corners[:, 0] + sizes[:, 0] / 2])
    lat = np.concatenate([rng.uniform(39.78, 39.79, 3000), corners[:, 1] + sizes[:, 1] / 2])
    ids = np.arange(101, 141)
    got = zones_of_points(lng, lat, zones=zones, zone_ids=ids)
    inside = shapely.contains_xy(zones[:, None], lng[None, :], lat[None, :]) | shapely.touches(
        zones[:, None], shapely.points(lng, lat)[None, :]
    )
    brute = np.where(inside.any(axis=0), ids[np.argmax(inside, axis=0)], -1)
    assert (got == brute).all()
    assert (got[-40:] > 0).all()


def test_zone_attribution_handles_nan_and_no_zones():
    assert zones_of_points([np.nan], [39.78], zones=[WEST], zone_ids=[1]).tolist() == [-1]
    assert zones_of_points([116.305], [39.785], zones=[], zone_ids=[]).tolist() == [-1]


def test_distance_outside_is_zero_inside_and_metres_outside():
    d = distance_outside([116.305, 116.3300], [39.785, 39.785], shapely.union_all([WEST, EAST]))
    assert d[0] == 0
    # 0.01 degrees of longitude at 39.785N is about 855 m
    assert 840 < d[1] < 870


def test_overlapping_polygons_give_the_lowest_position():
    big = shapely.box(0, 0, 10, 10)
    small = shapely.box(2, 2, 3, 3)
    assert attribute_points([shapely.Point(2.5, 2.5)], [small, big]).tolist() == [0]
    assert attribute_points([shapely.Point(2.5, 2.5)], [big, small]).tolist() == [0]
    assert attribute_points([shapely.Point(20, 20)], [big, small]).tolist() == [-1]


def test_a_footprint_is_indexed_by_a_point_inside_it():
    ring = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(1, 1), (9, 1), (9, 9), (1, 9)]])
    points = representative_points([ring, shapely.Point(3, 3)])
    assert ring.contains(points[0])
    assert points[1].equals(shapely.Point(3, 3))


@given(st.lists(st.tuples(st.floats(-180, 180), st.floats(-90, 90)), min_size=1, max_size=50))
def test_points_to_wkb_is_byte_for_byte_shapelys(xy):
    x, y = np.array(xy).T
    ours = points_to_wkb(x, y)
    theirs = shapely.to_wkb(shapely.points(x, y))
    assert list(ours) == list(theirs)


def test_lookup_cells_finds_known_and_flags_unknown_cells():
    keys = np.array([30, 10, 20], dtype=np.int64)
    values = np.array([3, 1, 2])
    got = lookup_cells([20, 25, 10, 40, 5], keys, values)
    assert got.tolist() == [2, -1, 1, -1, -1]
    assert lookup_cells([1], np.array([], dtype=np.int64), np.array([])).tolist() == [-1]


def test_import_rejects_points_outside_the_service_area_with_their_distance(town_engine, tmp_path):
    from hotspot.intake.importer import RejectedFile, import_reports
    from tests.conftest import canonical_row, write_csv

    path = write_csv(tmp_path / "in.csv", [canonical_row(1, lng="116.3300")])
    with pytest.raises(RejectedFile, match=r"outside the service area by 8\d\d m"):
        import_reports(town_engine, path)
    rejects = pd.read_csv(tmp_path / "in.csv.rejects.csv")
    assert rejects.loc[0, "field"] == "lng"
