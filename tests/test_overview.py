import dataclasses
import datetime as dt
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import delete

from geo.cells import GRID_RES, cell_centers, cell_parents, cell_resolutions, cells_from_points
from hotspot.analysis import hotspot_table
from hotspot.filters import ReportFilter
from hotspot.intake.importer import import_reports
from hotspot.overview import (
    OVERVIEW_COLUMNS,
    TOP_CELL_COLUMNS,
    community_ranking,
    community_ranking_from_reports,
    kpi_periods,
    kpis,
    kpis_from_reports,
    map_background,
    overview_reports,
    top_hotspot_cells,
    weekly_trend,
    weekly_trend_from_reports,
)
from hotspot.store import schema
from hotspot.store.frames import insert_frame, read_communities, read_reports
from tests.conftest import canonical_row, write_csv

# Current period: Monday 2026-10-05 to Sunday 2026-10-18; previous: 2026-09-21 to 10-04.
PERIOD = ReportFilter(since=dt.date(2026, 10, 5), until=dt.date(2026, 10, 18))
TODAY = dt.date(2026, 10, 20)
RELAPSE_SPOT = {"lng": "116.315000", "lat": "39.785000"}


def _row(i, lng, lat, reported, **changes):
    return canonical_row(
        i, lng=f"{lng:.6f}", lat=f"{lat:.6f}", reported_at=f"{reported} 08:00:00", **changes
    )


@pytest.fixture
def overview_engine(town_engine, tmp_path):
    rows = [
        # previous period
        _row(
            101,
            115.0,
            0.0,
            "2026-09-22",
            status="closed",
            due_at="2026-09-30 00:00:00",
            closed_at="2026-09-25 08:00:00",
        ),
        _row(102, 116.302, 39.789, "2026-09-28", due_at="2026-10-01 00:00:00"),
        # current period, community W01
        _row(1, 116.302, 39.781, "2026-10-05", due_at="2026-10-10 00:00:00"),
        _row(2, 116.304, 39.782, "2026-10-06", status="in_progress", due_at="2026-10-30 00:00:00"),
        _row(
            3,
            116.306,
            39.783,
            "2026-10-07",
            status="closed",
            due_at="2026-10-12 00:00:00",
            closed_at="2026-10-10 08:00:00",
        ),
        _row(
            4,
            116.308,
            39.784,
            "2026-10-08",
            status="closed",
            due_at="2026-10-09 00:00:00",
            closed_at="2026-10-11 08:00:00",
        ),
        # current period, community E02
        _row(5, 116.312, 39.781, "2026-10-09", status="rejected"),
        # closed only after the period ended: still open at its end
        _row(
            6,
            116.318,
            39.788,
            "2026-10-12",
            status="closed",
            due_at="2026-10-25 00:00:00",
            closed_at="2026-10-19 08:00:00",
        ),
        # a relapse (反弹) of report 101
        canonical_row(7, **RELAPSE_SPOT, reported_at="2026-10-14 08:00:00"),
    ]
    rows[0].update(RELAPSE_SPOT)
    result = import_reports(town_engine, write_csv(tmp_path / "in.csv", rows))
    assert (result.imported, result.relapses, result.duplicates) == (9, 1, 0)
    return town_engine


def test_kpis_count_the_period_and_the_previous_one(overview_engine):
    got = kpis(overview_engine, PERIOD, today=TODAY).set_index("key")
    assert got.index.tolist() == [
        "reports",
        "open",
        "overdue",
        "closure_rate",
        "on_time_rate",
        "relapse_rate",
    ]
    assert got.loc["closure_rate", "name_zh"] == "结案率"
    assert got.loc["on_time_rate", "name_zh"] == "按期结案率"
    expected_value = [7, 4, 1, 2 / 6, 1 / 2, 1 / 7]
    expected_previous = [2, 1, 1, 1 / 2, 1.0, 0.0]
    np.testing.assert_allclose(got["value"], expected_value)
    np.testing.assert_allclose(got["previous"], expected_previous)
    np.testing.assert_allclose(
        got["change"], np.subtract(expected_value, expected_previous), atol=1e-12
    )


def test_kpis_default_period_ends_today(overview_engine):
    got = kpis(overview_engine, ReportFilter(), today=dt.date(2026, 10, 18)).set_index("key")
    # the 28 days 09-21..10-18 hold all nine reports; the 28 days before, none
    assert got.loc["reports", "value"] == 9
    assert got.loc["reports", "previous"] == 0


def test_kpis_of_an_empty_period_are_nan_rates_without_warnings(overview_engine):
    empty = ReportFilter(since=dt.date(2027, 3, 1), until=dt.date(2027, 3, 7))
    got = kpis(overview_engine, empty, today=TODAY).set_index("key")
    assert got.loc[["reports", "open", "overdue"], ["value", "previous"]].eq(0).all().all()
    rates = ["closure_rate", "on_time_rate", "relapse_rate"]
    assert got.loc[rates, ["value", "previous", "change"]].isna().all().all()


def test_weekly_trend_zero_fills_weeks_and_layers(overview_engine):
    filters = ReportFilter(since=dt.date(2026, 9, 2), until=dt.date(2026, 10, 18))
    got = weekly_trend(overview_engine, filters)
    assert list(got.columns) == ["week", "layer", "count"]
    layer = read_reports(overview_engine)["layer"].iloc[0]
    mine = got[got["layer"] == layer].set_index("week")["count"]
    weeks = pd.date_range("2026-08-31", "2026-10-12", freq="7D")
    assert mine.index.tolist() == weeks.tolist()
    assert mine.tolist() == [0, 0, 0, 1, 1, 5, 2]
    others = got[got["layer"] != layer]
    assert len(others) > 0
    assert (others["count"] == 0).all()
    assert got["count"].sum() == 9


def test_weekly_trend_of_the_filtered_layers_only(overview_engine):
    filters = dataclasses.replace(PERIOD, layers=("garbage",))
    got = weekly_trend(overview_engine, filters)
    assert got["layer"].unique().tolist() == ["garbage"]
    assert got["count"].tolist() == [0, 0]


def test_community_ranking_orders_by_reports_with_density(overview_engine):
    got = community_ranking(overview_engine, PERIOD, today=TODAY)
    assert got["code"].tolist() == ["W01", "E02"]
    assert got["rank"].tolist() == [1, 2]
    assert got["reports"].tolist() == [4, 3]
    assert got["open"].tolist() == [2, 2]
    assert got["overdue"].tolist() == [1, 0]
    np.testing.assert_allclose(got["closure_rate"], [2 / 4, 0 / 2])
    areas = read_communities(overview_engine).set_index("code")["area_m2"]
    np.testing.assert_allclose(
        got["reports_per_km2"], [4 / (areas["W01"] / 1e6), 3 / (areas["E02"] / 1e6)]
    )


def test_community_ranking_without_reports_ties_and_gives_nan_rates(overview_engine):
    empty = ReportFilter(since=dt.date(2027, 3, 1), until=dt.date(2027, 3, 7))
    got = community_ranking(overview_engine, empty, today=TODAY)
    assert got["code"].tolist() == ["E02", "W01"]
    assert got["rank"].tolist() == [1, 1]
    assert got["reports"].tolist() == [0, 0]
    assert got["closure_rate"].isna().all()
    assert not math.isnan(got["reports_per_km2"].iloc[0])


# --- top hotspot cells, and the services fed with reports already read ----------------

CLUSTER = (116.3152, 39.7880)  # in 东苑社区 (E02), 17 m from 民富街, 280 m from 兴旺路
CLUSTER_PERIOD = ReportFilter(since=dt.date(2026, 10, 1), until=dt.date(2026, 10, 28))


def _streets() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [1, 2], "name": ["兴旺路", "民富街"], "kind": ["主干道", "支路"]},
        geometry=[
            shapely.LineString([(116.300, 39.7855), (116.320, 39.7855)]),
            shapely.LineString([(116.315, 39.780), (116.315, 39.790)]),
        ],
        crs="EPSG:4326",
    )


@pytest.fixture
def cluster_engine(town_engine, tmp_path):
    """The tiny town with two streets, 25 reports at one spot and 40 scattered ones."""
    with town_engine.begin() as conn:
        insert_frame(conn, schema.street, _streets())
    rng = np.random.default_rng(5)
    rows = [
        _row(i, CLUSTER[0], CLUSTER[1], f"2026-10-{1 + i:02d}")  # a day apart: no duplicates
        for i in range(25)
    ]
    lng, lat = rng.uniform(116.3005, 116.3195, 40), rng.uniform(39.7805, 39.7895, 40)
    rows += [_row(100 + i, lng[i], lat[i], f"2026-10-{1 + i % 28:02d}") for i in range(40)]
    result = import_reports(town_engine, write_csv(tmp_path / "cluster.csv", rows))
    assert result.imported == 65
    return town_engine


def _cluster_cell() -> int:
    return int(cell_parents(cells_from_points([CLUSTER[0]], [CLUSTER[1]]), GRID_RES)[0])


def test_top_hotspot_cell_is_the_planted_cluster_with_its_community_and_street(cluster_engine):
    top = top_hotspot_cells(cluster_engine, CLUSTER_PERIOD)
    assert list(top.columns) == list(TOP_CELL_COLUMNS)
    first = top.iloc[0]
    assert first["cell_int"] == _cluster_cell()
    assert first["cell"] == format(_cluster_cell(), "x")
    assert first["reports"] >= 25
    assert first["bin"] == 3
    assert (first["community"], first["community_name"]) == ("E02", "东苑社区")
    assert first["street"] == "民富街"
    assert 0 <= first["street_m"] < 100
    lng, lat = cell_centers([_cluster_cell()])
    assert (first["lng"], first["lat"]) == (lng[0], lat[0])


def test_top_hotspot_cells_are_the_highest_gi_z_of_the_hotspot_table(cluster_engine):
    top = top_hotspot_cells(cluster_engine, CLUSTER_PERIOD, n=3)
    assert top["rank"].tolist() == [1, 2, 3]
    table = hotspot_table(cluster_engine, CLUSTER_PERIOD, res=GRID_RES)
    # equal z (a neighbourhood holding the same reports): the cell with more reports first
    best = table[table["count"] > 0].sort_values(["gi_z", "count"], ascending=False).head(3)
    np.testing.assert_allclose(top["z"], best["gi_z"])
    assert top["reports"].tolist() == best["count"].tolist()
    assert (top["z"].diff().dropna() <= 0).all()


def test_top_hotspot_cells_without_a_grid_take_the_reports_community(cluster_engine):
    with cluster_engine.begin() as conn:
        conn.execute(delete(schema.grid_cell))
    first = top_hotspot_cells(cluster_engine, CLUSTER_PERIOD).iloc[0]
    assert first["cell_int"] == _cluster_cell()
    assert (first["community"], first["community_name"]) == ("E02", "东苑社区")


def test_top_hotspot_cells_leave_out_reports_after_today(cluster_engine):
    open_end = ReportFilter(since=CLUSTER_PERIOD.since)
    tenth = dt.date(2026, 10, 10)
    reports = overview_reports(cluster_engine, open_end)
    for given in (None, reports):
        top = top_hotspot_cells(cluster_engine, open_end, today=tenth, reports=given)
        # the cluster's reports of 10-01..10-10 only
        assert top.set_index("cell_int").at[_cluster_cell(), "reports"] == 10
    everything = top_hotspot_cells(cluster_engine, open_end, reports=reports)
    assert everything.set_index("cell_int").at[_cluster_cell(), "reports"] == 25


def test_top_hotspot_cells_of_no_reports_are_empty(cluster_engine):
    empty = ReportFilter(since=dt.date(2027, 3, 1), until=dt.date(2027, 3, 7))
    top = top_hotspot_cells(cluster_engine, empty)
    assert top.empty and list(top.columns) == list(TOP_CELL_COLUMNS)


def test_overview_reports_read_the_same_values_as_read_reports(overview_engine):
    full = read_reports(overview_engine, PERIOD)
    lean = overview_reports(overview_engine, PERIOD, geometry=True)
    assert set(OVERVIEW_COLUMNS) < set(lean.columns)
    for column in lean.columns.drop("geometry"):
        pd.testing.assert_series_equal(lean[column], full[column], check_dtype=True)
    assert lean.geometry.geom_equals(full.geometry).all()
    assert "geometry" not in overview_reports(overview_engine, PERIOD).columns
    capped = overview_reports(overview_engine, PERIOD, geometry=True, max_geometries=len(full) - 1)
    assert "geometry" not in capped.columns and len(capped) == len(full)


def test_kpis_from_reports_agree_with_the_counts_of_the_database(overview_engine):
    everything = read_reports(overview_engine)
    by_store = kpis(overview_engine, PERIOD, today=TODAY)
    by_frame = kpis_from_reports(everything, everything, PERIOD, today=TODAY)
    pd.testing.assert_frame_equal(by_frame, by_store)
    current, _ = kpi_periods(PERIOD, today=TODAY)
    given = kpis(
        overview_engine, PERIOD, today=TODAY, reports=read_reports(overview_engine, current)
    )
    pd.testing.assert_frame_equal(given, by_store)


def test_kpi_periods_are_the_period_and_the_same_length_before_it():
    current, previous = kpi_periods(PERIOD, today=TODAY)
    assert (current.since, current.until) == (dt.date(2026, 10, 5), dt.date(2026, 10, 18))
    assert (previous.since, previous.until) == (dt.date(2026, 9, 21), dt.date(2026, 10, 4))
    current, _ = kpi_periods(ReportFilter(), today=TODAY)
    assert (current.since, current.until) == (dt.date(2026, 9, 23), TODAY)


def test_trend_and_ranking_from_reports_already_read_match_the_store(overview_engine):
    reports = overview_reports(overview_engine, PERIOD)
    pd.testing.assert_frame_equal(
        weekly_trend(overview_engine, PERIOD, reports=reports),
        weekly_trend(overview_engine, PERIOD),
    )
    by_store = community_ranking(overview_engine, PERIOD, today=TODAY)
    given = community_ranking(overview_engine, PERIOD, today=TODAY, reports=reports)
    pd.testing.assert_frame_equal(given, by_store)
    direct = community_ranking_from_reports(
        reports, read_communities(overview_engine), PERIOD, today=TODAY
    )
    pd.testing.assert_frame_equal(direct, by_store)
    assert weekly_trend_from_reports(reports, PERIOD)["count"].sum() == 7


def test_map_background_is_the_communities_and_their_grid(town_engine):
    communities, cells = map_background(town_engine)
    assert communities["code"].tolist() == ["E02", "W01"]
    assert cells.dtype == np.int64 and (np.diff(cells) > 0).all()
    assert set(cell_resolutions(cells)) == {GRID_RES}
