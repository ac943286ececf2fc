import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from hotspot.filters import ReportFilter
from hotspot.intake.importer import import_reports
from hotspot.overview import community_ranking, kpis, weekly_trend
from hotspot.store.frames import read_communities, read_reports
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
