"""geo.cells: H3 indexing, parents by bit arithmetic, outlines, zoom and neighbours."""

from __future__ import annotations

import h3
import numpy as np
import pytest
import scipy.sparse
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import cells as gc

H3 = h3.api.basic_int
BEIJING = (116.404, 39.915)
PENTAGONS_12 = [H3.cell_to_center_child(p, 12) for p in H3.get_pentagons(0)]


def random_points(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # Uniform on the sphere, so every base cell and face turns up.
    return rng.uniform(-180, 180, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))


# --- indexing ---------------------------------------------------------------------------


def test_cells_from_points_matches_h3_cell_by_cell():
    lng, lat = random_points(500)
    expected = [H3.latlng_to_cell(y, x, 12) for x, y in zip(lng, lat, strict=True)]
    np.testing.assert_array_equal(gc.cells_from_points(lng, lat), expected)
    assert gc.cells_from_points(lng, lat).dtype == np.int64


def test_cells_from_points_gives_0_for_nan_or_inf_rows():
    out = gc.cells_from_points([116.4, np.nan, 116.4, np.inf], [39.9, 39.9, np.nan, 39.9])
    assert out[0] == H3.latlng_to_cell(39.9, 116.4, 12)
    np.testing.assert_array_equal(out[1:], [0, 0, 0])


def test_cells_from_points_accepts_empty_and_scalar_input():
    assert gc.cells_from_points([], []).shape == (0,)
    assert gc.cells_from_points(*BEIJING).shape == ()
    assert gc.cells_from_points(*BEIJING, res=9) == H3.latlng_to_cell(BEIJING[1], BEIJING[0], 9)


def test_cells_from_points_rejects_resolution_out_of_range():
    with pytest.raises(ValueError, match="16"):
        gc.cells_from_points([116.4], [39.9], res=16)


# --- parents ----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(-90, 90),
    lng=st.floats(-180, 180),
    res=st.integers(0, 15),
)
def test_cell_parents_equal_h3_at_every_coarser_resolution(lat, lng, res):
    cell = H3.latlng_to_cell(lat, lng, res)
    for parent_res in range(res + 1):
        assert gc.cell_parents([cell], parent_res)[0] == H3.cell_to_parent(cell, parent_res)


def test_cell_parents_of_10000_cells_equal_h3_in_bulk():
    lng, lat = random_points(10_000)
    cells = np.concatenate([gc.cells_from_points(lng, lat), PENTAGONS_12])
    assert (gc.cell_resolutions(cells) == 12).all()
    for res in range(13):
        expected = [H3.cell_to_parent(c, res) for c in cells.tolist()]
        np.testing.assert_array_equal(gc.cell_parents(cells, res), expected)


def test_cell_parents_of_a_coarser_cell_raises():
    cell = H3.latlng_to_cell(BEIJING[1], BEIJING[0], 9)
    with pytest.raises(ValueError, match="coarser"):
        gc.cell_parents([cell], 10)
    with pytest.raises(ValueError, match=r"0\.\.15"):
        gc.cell_parents([cell], -1)


def test_cell_parents_keeps_the_no_cell_zero():
    cell = gc.cells_from_points(*BEIJING)
    np.testing.assert_array_equal(
        gc.cell_parents([cell, 0], 10), [H3.cell_to_parent(int(cell), 10), 0]
    )
    assert gc.cell_parents(np.array([], dtype=np.int64), 5).shape == (0,)


def test_cell_resolutions_reads_the_resolution_field():
    cells = [H3.latlng_to_cell(39.9, 116.4, res) for res in range(16)]
    np.testing.assert_array_equal(gc.cell_resolutions(cells), np.arange(16))


# --- strings, centres, outlines ---------------------------------------------------------


def test_cells_to_strings_and_back_round_trip_as_h3_strings():
    lng, lat = random_points(1_000)
    cells = gc.cells_from_points(lng, lat)
    strings = gc.cells_to_strings(cells)
    assert strings.tolist() == [H3.int_to_str(c) for c in cells.tolist()]
    np.testing.assert_array_equal(gc.cells_from_strings(strings), cells)
    assert gc.cells_from_strings([]).shape == (0,)


def test_cell_centers_match_h3():
    cell = H3.latlng_to_cell(BEIJING[1], BEIJING[0], 12)
    lng, lat = gc.cell_centers([cell])
    assert (lat[0], lng[0]) == H3.cell_to_latlng(cell)


def test_cell_boundaries_contain_their_centres_including_pentagons():
    lng, lat = random_points(300)
    cells = np.concatenate([gc.cells_from_points(lng, lat, res=9), PENTAGONS_12])
    polygons = gc.cell_boundaries(cells)
    centre_lng, centre_lat = gc.cell_centers(cells)
    # Cells across the antimeridian are left unsplit (documented); none is in China.
    spans = np.array([np.ptp(shapely.get_coordinates(p)[:, 0]) for p in polygons])
    normal = spans < 180
    assert normal.sum() > 290
    assert shapely.contains_xy(polygons[normal], centre_lng[normal], centre_lat[normal]).all()
    assert shapely.is_valid(polygons[normal]).all()


def test_cell_boundaries_mix_pentagons_and_hexagons():
    hexagon = int(gc.cells_from_points(*BEIJING))
    polygons = gc.cell_boundaries([PENTAGONS_12[0], hexagon])
    assert [len(p.exterior.coords) for p in polygons] == [6, 7]  # rings are closed
    assert gc.cell_boundaries([]).shape == (0,)


# --- zoom -------------------------------------------------------------------------------


def test_resolution_for_zoom_is_monotone_and_clamped():
    resolutions = [gc.resolution_for_zoom(z) for z in np.arange(-2.0, 25.0, 0.05)]
    assert resolutions == sorted(resolutions)
    assert resolutions[0] == gc.MIN_DRAW_RES == 6
    assert resolutions[-1] == gc.MAX_DRAW_RES == 12
    assert gc.resolution_for_zoom(float("inf")) == 12
    assert gc.resolution_for_zoom(-float("inf")) == 6


@pytest.mark.parametrize(
    ("zoom", "res"),
    [(3, 6), (9, 6), (10, 7), (11, 7), (12, 8), (13, 9), (14, 9), (15, 10), (16, 11), (17, 12)],
)
def test_resolution_for_zoom_follows_the_documented_table(zoom, res):
    assert gc.resolution_for_zoom(zoom) == res


@pytest.mark.parametrize("zoom", range(9, 19))
def test_resolution_for_zoom_draws_hexagons_20_to_60_px_across(zoom):
    res = gc.resolution_for_zoom(zoom)
    metres_per_px = 156_543.03 * np.cos(np.radians(32.0)) / 2**zoom
    across_px = 2 * h3.average_hexagon_edge_length(res, unit="m") / metres_per_px
    assert 20 <= across_px <= 60


def test_resolution_for_zoom_rejects_nan():
    with pytest.raises(ValueError, match="NaN"):
        gc.resolution_for_zoom(float("nan"))


# --- neighbours -------------------------------------------------------------------------


def cluster(seed: int, centre: int | None = None) -> np.ndarray:
    """A ragged patch of res-10 cells: a disk of radius 6 with 40% of cells dropped."""
    if centre is None:
        centre = H3.latlng_to_cell(BEIJING[1], BEIJING[0], 10)
    disk = np.array(H3.grid_disk(centre, 6), dtype=np.int64)
    rng = np.random.default_rng(seed)
    return rng.permutation(disk[rng.random(disk.size) < 0.6])


def expected_pairs(cells: np.ndarray, k: int, include_self: bool) -> set[tuple[int, int]]:
    where = {c: n for n, c in enumerate(cells.tolist())}
    pairs = set()
    for i, cell in enumerate(cells.tolist()):
        for other in H3.grid_disk(cell, k):
            if other in where and (include_self or other != cell):
                pairs.add((i, where[other]))
    return pairs


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_neighbour_pairs_agree_with_h3_grid_disk(seed, k, include_self):
    cells = cluster(seed)
    i, j = gc.neighbour_pairs(cells, k=k, include_self=include_self)
    assert i.dtype == j.dtype == np.int64
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == expected_pairs(cells, k, include_self)
    assert len(i) == len(expected_pairs(cells, k, include_self))  # no pair twice


def test_neighbour_pairs_include_self_only_when_asked():
    cells = cluster(4)
    i, j = gc.neighbour_pairs(cells)
    assert (np.sort(i[i == j]) == np.arange(cells.size)).all()
    i, j = gc.neighbour_pairs(cells, include_self=False)
    assert not (i == j).any()


def test_neighbour_pairs_are_symmetric_and_build_a_weights_matrix():
    cells = cluster(5)
    i, j = gc.neighbour_pairs(cells, k=2)
    weights = scipy.sparse.coo_array((np.ones(i.size), (i, j)), shape=(cells.size,) * 2).tocsr()
    assert (weights != weights.T).nnz == 0
    assert weights.max() == 1  # no duplicate pairs summed into a 2
    assert (weights.diagonal() == 1).all()


def test_neighbour_pairs_around_a_pentagon():
    pentagon = H3.cell_to_center_child(H3.get_pentagons(0)[0], 10)
    cells = np.array(H3.grid_disk(pentagon, 2), dtype=np.int64)
    i, j = gc.neighbour_pairs(cells, k=1, include_self=False)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == expected_pairs(cells, 1, False)
    assert (i == np.flatnonzero(cells == pentagon)[0]).sum() == 5


def test_neighbour_pairs_edge_cases():
    cells = cluster(6)
    i, j = gc.neighbour_pairs(cells, k=0)
    np.testing.assert_array_equal(i, np.arange(cells.size))
    np.testing.assert_array_equal(j, np.arange(cells.size))
    assert gc.neighbour_pairs(cells, k=0, include_self=False)[0].size == 0
    assert gc.neighbour_pairs([])[0].size == 0
    lonely = gc.neighbour_pairs(cells[:1], include_self=False)
    assert lonely[0].size == 0


def test_neighbour_pairs_reject_duplicates_and_negative_k():
    cells = cluster(7)
    with pytest.raises(ValueError, match="distinct"):
        gc.neighbour_pairs(np.concatenate([cells, cells[:1]]))
    with pytest.raises(ValueError, match="k must"):
        gc.neighbour_pairs(cells, k=-1)


# --- polygons ---------------------------------------------------------------------------


def test_cells_in_polygon_picks_cells_by_centre_sorted():
    box = shapely.box(116.300, 39.780, 116.320, 39.790)
    cells = gc.cells_in_polygon(box, res=10)
    assert (np.diff(cells) > 0).all()
    lng, lat = gc.cell_centers(cells)
    assert shapely.contains_xy(box, lng, lat).all()
    # A neighbour ring around the picked set holds no cell whose centre is inside.
    around = {n for c in cells.tolist() for n in H3.grid_disk(c, 1)} - set(cells.tolist())
    around_lng, around_lat = gc.cell_centers(list(around))
    assert not shapely.contains_xy(box, around_lng, around_lat).any()
