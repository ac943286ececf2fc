import datetime as dt
import json
import math
import warnings

import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats

from geo.cells import (
    cell_parents,
    cells_from_points,
    cells_from_strings,
    cells_in_polygon,
    neighbour_pairs,
)
from geo.hotspots import counts_per_cell, gi_bins, gi_star, hull_area, rates, study_area_cells
from hotspot import analysis
from hotspot.cli import main
from hotspot.errors import UserError
from hotspot.filters import ReportFilter
from tests.conftest import EAST, WEST, canonical_row, write_csv
from tests.stores import new_store_url

CENTRE = h3.api.basic_int.latlng_to_cell(39.785, 116.31, 9)
COLUMNS = ["cell", "count", "gi_z", "gi_p", "gi_q", "gi_bin"]


def disk(radius: int, *, centre: int = CENTRE) -> np.ndarray:
    return np.sort(np.array(h3.api.basic_int.grid_disk(centre, radius), dtype=np.int64))


def gi_star_by_hand(cells: np.ndarray, x: np.ndarray, k: int) -> list[float]:
    """Gi* z with a plain loop over cells, neighbours by h3.grid_distance."""
    n = len(x)
    mean = sum(x) / n
    s = math.sqrt(sum(v * v for v in x) / n - mean * mean)
    out = []
    for a in cells.tolist():
        weights = [1.0 if h3.api.basic_int.grid_distance(a, b) <= k else 0.0 for b in cells]
        w_sum = sum(weights)
        w_sq = sum(w * w for w in weights)
        lag = sum(w * v for w, v in zip(weights, x, strict=True))
        variance = (n * w_sq - w_sum * w_sum) / (n - 1)
        out.append(0.0 if variance == 0 else (lag - mean * w_sum) / (s * math.sqrt(variance)))
    return out


# -- counts -----------------------------------------------------------------------------


def test_counts_per_cell_aligns_to_study_cells_with_zeros_and_ignores_outside():
    study = disk(1)[::-1].copy()  # unsorted on purpose
    lat, lng = h3.api.basic_int.cell_to_latlng(int(study[2]))
    inside = cells_from_points([lng, lng, lng + 1e-6], [lat, lat, lat])
    far = cells_from_points([117.5], [40.5])
    counts = counts_per_cell(np.concatenate([inside, far, [0]]), study, res=9)
    assert counts.tolist() == [0, 0, 3, 0, 0, 0, 0]


def test_counts_per_cell_rejects_study_cells_at_another_resolution():
    with pytest.raises(ValueError, match="resolution 8"):
        counts_per_cell([], disk(1), res=8)


def test_rates_are_zero_where_there_is_no_exposure():
    assert rates([4, 3, 0], [2.0, 0.0, 5.0]).tolist() == [2.0, 0.0, 0.0]


# -- Gi* --------------------------------------------------------------------------------


@pytest.mark.parametrize("radius", [1, 2])
def test_gi_star_matches_a_hand_computation_on_a_small_disk(radius):
    cells = disk(radius)
    x = np.array([5, 1, 0, 2, 3, 0, 1, 4, 0, 0, 2, 6, 1, 0, 0, 3, 1, 0, 2], dtype=float)[
        : len(cells)
    ]
    i, j = neighbour_pairs(cells, k=1, include_self=True)
    got = gi_star(x, i, j)
    expected = gi_star_by_hand(cells, x, 1)
    np.testing.assert_allclose(got["gi_z"], expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got["gi_p"], 2 * stats.norm.sf(np.abs(expected)), rtol=1e-12)
    if radius == 1:
        # The centre's neighbourhood is the whole area: no variance, z stays 0.
        centre = int(np.flatnonzero(cells == CENTRE)[0])
        assert got["gi_z"][centre] == 0.0
        assert got["gi_p"][centre] == 1.0


def test_gi_star_agrees_with_esda_g_local_star_binary():
    pytest.importorskip("esda")
    from esda.getisord import G_Local
    from libpysal.weights import W

    rng = np.random.default_rng(5)
    cells = disk(10)  # 331 cells
    x = rng.poisson(3.0, size=len(cells)).astype(float)
    for k in (1, 2):
        i, j = neighbour_pairs(cells, k=k, include_self=True)
        neighbours = {a: [] for a in range(len(cells))}
        for a, b in zip(i.tolist(), j.tolist(), strict=True):
            neighbours[a].append(b)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # libpysal/numba chatter, not ours
            w = W(neighbours)
            # esda keeps a non-zero diagonal as the self weight of Gi*.
            assert (w.sparse.diagonal() == 1).all()
            reference = G_Local(x, w, transform="B", star=True, permutations=0)
        got = gi_star(x, i, j)
        np.testing.assert_allclose(got["gi_z"], reference.Zs, rtol=0, atol=1e-9)
        np.testing.assert_allclose(got["gi_p"], 2 * reference.p_norm, rtol=1e-9, atol=1e-12)


def test_gi_star_recovers_planted_hotspots_with_few_false_positives():
    rng = np.random.default_rng(11)
    cells = disk(15)  # 721 cells
    position = {c: n for n, c in enumerate(cells.tolist())}
    centres = [h3.api.basic_int.grid_ring(CENTRE, 8)[m] for m in (0, 8, 16, 24, 32)]
    centres.append(CENTRE)
    planted = np.zeros(len(cells), dtype=bool)
    near = np.zeros(len(cells), dtype=bool)
    for c in centres:
        planted[[position[a] for a in h3.api.basic_int.grid_disk(c, 1)]] = True
        near[[position[a] for a in h3.api.basic_int.grid_disk(c, 2)]] = True
    x = rng.poisson(np.where(planted, 9.0, 2.0))
    i, j = neighbour_pairs(cells, k=1, include_self=True)
    hot = gi_star(x, i, j)["gi_bin"].to_numpy() >= 2
    assert hot[planted].mean() >= 0.9
    # Gi* spills over one ring around a cluster by construction (their neighbourhoods
    # hold planted cells); false positives are hot cells beyond that.
    background = ~near
    assert hot[background].mean() <= 0.05


def test_fdr_q_is_at_least_p_and_monotone_in_p():
    rng = np.random.default_rng(2)
    cells = disk(8)
    i, j = neighbour_pairs(cells, k=1, include_self=True)
    x = rng.poisson(np.linspace(0.5, 6.0, len(cells)))
    table = gi_star(x, i, j)
    assert (table["gi_q"] >= table["gi_p"] - 1e-15).all()
    assert (table["gi_q"] <= 1.0).all()
    by_p = table.sort_values("gi_p", kind="stable")
    assert by_p["gi_q"].is_monotonic_increasing
    assert (table["gi_bin"] != 0).any()


def test_fdr_q_is_benjamini_hochberg_over_all_cells():
    rng = np.random.default_rng(4)
    cells = disk(8)
    i, j = neighbour_pairs(cells, k=1, include_self=True)
    table = gi_star(rng.poisson(np.linspace(0.5, 6.0, len(cells))), i, j)
    p = table["gi_p"].tolist()
    n = len(p)
    order = sorted(range(n), key=lambda a: p[a])
    expected = [0.0] * n
    running = 1.0
    for rank in range(n, 0, -1):  # step-up: q_(r) = min over r' >= r of p_(r') n / r'
        a = order[rank - 1]
        running = min(running, p[a] * n / rank)
        expected[a] = running
    np.testing.assert_allclose(table["gi_q"], expected, rtol=1e-12)
    assert (table["gi_q"] > table["gi_p"]).any()


def test_bins_follow_the_fdr_thresholds_and_the_sign_of_z():
    z = [3.0, -3.0, 2.0, -1.0, 1.5, 0.5, 4.0, 4.0, 4.0]
    q = [0.005, 0.005, 0.03, 0.07, 0.2, 0.0099, 0.01, 0.05, 0.10]
    assert gi_bins(z, q).tolist() == [3, -3, 2, -1, 0, 3, 2, 1, 0]


@pytest.mark.parametrize("value", [0.0, 0.1, 7.0])
def test_constant_input_gives_bin_0_without_warnings(value):
    cells = disk(2)
    i, j = neighbour_pairs(cells, k=1, include_self=True)
    table = gi_star(np.full(len(cells), value), i, j)
    assert (table["gi_z"] == 0).all()
    assert (table["gi_p"] == 1).all()
    assert (table["gi_bin"] == 0).all()


def test_gi_star_rejects_missing_values_and_pairs_outside():
    with pytest.raises(ValueError, match="finite"):
        gi_star([1.0, np.nan], [0, 1], [0, 1])
    with pytest.raises(ValueError, match="outside"):
        gi_star([1.0, 2.0], [0, 2], [0, 1])


# -- study areas ------------------------------------------------------------------------


def test_study_area_cells_polyfill_by_centre_and_hull_of_points():
    assert study_area_cells(WEST, res=9).tolist() == cells_in_polygon(WEST, res=9).tolist()
    assert study_area_cells(shapely.Point(116.3, 39.78), res=9).size == 0
    hull = hull_area([116.30, 116.32, 116.31, np.nan], [39.78, 39.78, 39.79, 0.0])
    assert hull.geom_type == "Polygon"
    assert hull.area == pytest.approx(0.02 * 0.01 / 2)


def test_hull_study_cells_keep_the_cells_of_reports_on_the_edge():
    lng = np.array([116.300, 116.320, 116.310, 116.305])
    lat = np.array([39.780, 39.780, 39.790, 39.782])
    cells = cells_from_points(lng, lat)
    study = analysis.hull_study_cells(lng, lat, cells, res=9)
    assert np.isin(cell_parents(cells, 9), study).all()
    table = analysis.hotspot_table_from_reports(cells, study_cells=study, res=9, k=1)
    assert table["count"].sum() == 4


@pytest.mark.parametrize(("res", "k"), [(4, 1), (13, 1), (9, 0)])
def test_bad_res_or_k_is_a_user_error(res, k):
    with pytest.raises(UserError):
        analysis.hotspot_table_from_reports([], study_cells=disk(1), res=res, k=k)


# -- the service on the store -----------------------------------------------------------


def test_hotspot_table_has_one_row_per_service_area_cell(town_engine, tmp_path):
    source = write_csv(tmp_path / "in.csv", [canonical_row(i) for i in range(40)])
    assert main(["import", str(source), "--db", str(town_engine.url)]) == 0
    table = analysis.hotspot_table(town_engine, ReportFilter(), res=10)
    study = cells_in_polygon(shapely.union_all([WEST, EAST]), res=10)
    assert list(table.columns) == COLUMNS
    assert sorted(cells_from_strings(table["cell"]).tolist()) == sorted(study.tolist())
    assert table["count"].sum() == 40


# -- the command line -------------------------------------------------------------------


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hotspot: error: ")
    assert "Traceback" not in err
    return lines[0]


def write_area(path, geometry) -> str:
    feature = {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(geometry)}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return str(path)


def test_cli_hotspots_from_the_store_writes_the_contract(town_engine, tmp_path, capsys):
    db = str(town_engine.url)
    source = write_csv(tmp_path / "in.csv", [canonical_row(i) for i in range(30)])
    assert main(["import", str(source), "--db", db]) == 0
    out = tmp_path / "hot.csv"
    assert main(["hotspots", "--db", db, "--res", "10", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == COLUMNS
    study = cells_in_polygon(shapely.union_all([WEST, EAST]), res=10)
    assert len(table) == len(study) == table["cell"].nunique()
    assert table["count"].sum() == 30
    assert table["gi_bin"].between(-3, 3).all()


def test_cli_hotspots_from_an_input_file_and_an_area(tmp_path, capsys):
    source = write_csv(tmp_path / "in.csv", [canonical_row(i) for i in range(50)])
    area = write_area(tmp_path / "west.geojson", WEST)
    out = tmp_path / "hot.csv"
    assert (
        main(["hotspots", "--input", str(source), "--area", area, "--res", "10", "--out", str(out)])
        == 0
    )
    table = pd.read_csv(out)
    assert list(table.columns) == COLUMNS
    assert (
        sorted(cells_from_strings(table["cell"]).tolist())
        == cells_in_polygon(WEST, res=10).tolist()
    )


def test_cli_hotspots_from_an_input_file_uses_the_hull_without_an_area(tmp_path, capsys):
    rows = [canonical_row(i) for i in range(50)]
    source = write_csv(tmp_path / "in.csv", rows)
    out = tmp_path / "hot.csv"
    assert main(["hotspots", "--input", str(source), "--out", str(out)]) == 0
    table = pd.read_csv(out)
    lng = np.array([float(r["lng"]) for r in rows])
    lat = np.array([float(r["lat"]) for r in rows])
    expected = analysis.hull_study_cells(lng, lat, cells_from_points(lng, lat), res=9)
    assert sorted(cells_from_strings(table["cell"]).tolist()) == expected.tolist()
    assert table["count"].sum() == 50


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not a GeoJSON file"),
        ('{"type": "Point", "coordinates": [116.3, 39.78]}', "no polygon"),
        ('{"type": "Feature", "geometry": {"type": "Polygon"}}', "cannot be read"),
        ("[1, 2]", "not GeoJSON"),
    ],
)
def test_cli_hotspots_bad_area_file_exits_2_with_one_line(tmp_path, capsys, content, reason):
    source = write_csv(tmp_path / "in.csv", [canonical_row(i) for i in range(5)])
    area = tmp_path / "area.geojson"
    area.write_text(content)
    args = [
        "hotspots",
        "--input",
        str(source),
        "--area",
        str(area),
        "--out",
        str(tmp_path / "o.csv"),
    ]
    assert main(args) == 2
    assert reason in one_line_error(capsys)


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (["--res", "3"], "--res must be 5..12"),
        (["--k", "0"], "--k must be 1 or more"),
        (["--since", "2027-01-01"], "no reports match"),
        (["--community", "W01"], "--community needs the store"),
        (["--out", "/no-such-dir-for-hotspots/o.csv"], "no such directory"),
    ],
)
def test_cli_hotspots_user_mistakes_exit_2_with_one_line(tmp_path, capsys, extra, reason):
    source = write_csv(tmp_path / "in.csv", [canonical_row(i) for i in range(5)])
    args = ["hotspots", "--input", str(source), "--out", str(tmp_path / "o.csv"), *extra]
    assert main(args) == 2
    assert reason in one_line_error(capsys)


def test_cli_hotspots_bad_rows_in_the_input_exit_2_with_one_line(tmp_path, capsys):
    source = write_csv(
        tmp_path / "in.csv", [canonical_row(1), canonical_row(2, lat="北纬三十九度")]
    )
    assert main(["hotspots", "--input", str(source), "--out", str(tmp_path / "o.csv")]) == 2
    assert "row 3, lat: not a number" in one_line_error(capsys)


def test_cli_hotspots_with_no_reports_in_the_store_exits_2(town_engine, tmp_path, capsys):
    args = ["hotspots", "--db", str(town_engine.url), "--out", str(tmp_path / "o.csv")]
    assert main(args) == 2
    assert "no reports" in one_line_error(capsys)


# -- the demo town ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    from hotspot.demo import build_town
    from hotspot.store.engine import open_store
    from hotspot.store.town import write_town

    town = build_town(seed=3, n_reports=3000, until=dt.date(2026, 11, 20))
    engine = open_store(new_store_url(tmp_path_factory.mktemp("demo"), "demo"))
    write_town(engine, town)
    return town, engine


def test_planted_persistent_hotspots_of_the_demo_come_out_hot(demo_store):
    town, engine = demo_store
    persistent = town.planted[town.planted["kind"] == "persistent"]
    found, misses = 0, []
    for layer, planted in persistent.groupby("layer"):
        table = analysis.hotspot_table(engine, ReportFilter(layers=(layer,)))
        bins = dict(zip(cells_from_strings(table["cell"]).tolist(), table["gi_bin"], strict=True))
        for row in planted.itertuples():
            centre = int(cell_parents(cells_from_points([row.lng], [row.lat]), 9)[0])
            # The planted centre's cell or a touching one (a hotspot 100-250 m across
            # can straddle a cell edge).
            best = max(bins.get(c, 0) for c in h3.api.basic_int.grid_disk(centre, 1))
            if best >= 2:
                found += 1
            else:
                misses.append(row.name)
    # 3,000 reports are a quarter of a year: the weakest hotspot (26 reports in a layer
    # with four more) can fall short of 95% after FDR; all but one must come out.
    assert found >= len(persistent) - 1, misses
