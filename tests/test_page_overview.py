"""The 领导总览 overview page (AppTest) on the small town with reports."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from hotspot import overview
from hotspot.filters import ReportFilter
from hotspot.store import schema
from hotspot.store.engine import open_store
from hotspot.store.frames import insert_frame
from hotspot.taxonomy import LAYER_NAMES
from tests.app_store import (
    COMMUNITY_NAMES,
    REPORT_MIX,
    map_args,
    prepare_store,
    run_page,
    table_with,
    town_reports,
)

PAGE = "pages/overview.py"
N_REPORTS = sum(REPORT_MIX.values())
LABELS_ZH = ["上报数", "未结案", "超期", "结案率", "按期结案率", "反弹率"]
LABELS_EN = ["Reports", "Open", "Overdue", "Closure rate", "On-time closure rate", "Relapse rate"]


@pytest.fixture
def store(tmp_path, monkeypatch) -> str:
    """The small town with its reports of the last 20 days, named by HOTSPOT_DATABASE_URL."""
    url = prepare_store(tmp_path / "store.db")
    monkeypatch.setenv("HOTSPOT_DATABASE_URL", url)
    return url


@pytest.fixture
def two_periods(store) -> str:
    """The store with the same town's reports again 35 to 55 days ago: the previous period."""
    earlier = town_reports(seed=2, today=dt.date.today() - dt.timedelta(days=35))
    earlier["id"] += 1000
    engine = open_store(store)
    with engine.begin() as conn:
        insert_frame(conn, schema.report, earlier)
    engine.dispose()
    return store


def test_overview_shows_six_kpis_with_the_change_from_the_previous_period(store):
    at = run_page(PAGE)
    assert at.header[0].value == "领导总览"
    metrics = {m.label: m for m in at.metric}
    assert list(metrics) == LABELS_ZH
    # every report of the small town lies in the last 20 days; the 30 days before hold none
    assert metrics["上报数"].value == f"{N_REPORTS}"
    assert metrics["上报数"].delta == f"+{N_REPORTS}"
    assert metrics["反弹率"].value == "0.0%"
    assert metrics["结案率"].value.endswith("%")
    open_now = int(metrics["未结案"].value)
    assert 0 < open_now < N_REPORTS
    assert metrics["未结案"].delta == f"+{open_now}"


def test_overview_colours_a_rise_in_open_as_bad_and_no_change_without_arrow(store):
    from streamlit.proto.Metric_pb2 import Metric

    metrics = {m.label: m.proto for m in run_page(PAGE).metric}
    # open rose from an empty previous period; the town has no due dates: overdue stays 0
    assert metrics["未结案"].direction == Metric.MetricDirection.UP
    assert metrics["未结案"].color == Metric.MetricColor.RED
    assert metrics["超期"].delta == "+0"
    assert metrics["超期"].direction == Metric.MetricDirection.NONE
    assert metrics["超期"].color == Metric.MetricColor.GRAY
    assert metrics["上报数"].color == Metric.MetricColor.GRAY
    assert metrics["上报数"].delta_description == "较上一周期"


def test_overview_gives_rate_changes_in_percentage_points(two_periods):
    metrics = {m.label: m for m in run_page(PAGE).metric}
    assert metrics["上报数"].value == f"{N_REPORTS}"
    assert metrics["上报数"].delta == "+0"  # as many reports as in the previous period
    engine = open_store(two_periods)
    today = dt.date.today()
    kpis = overview.kpis(
        engine,
        ReportFilter(layers=tuple(LAYER_NAMES), since=today - dt.timedelta(days=29)),
        today=today,
    ).set_index("key")
    engine.dispose()
    change = kpis.at["closure_rate", "change"]
    assert metrics["结案率"].value == f"{kpis.at['closure_rate', 'value']:.1%}"
    assert metrics["结案率"].delta == f"{change * 100:+.1f} 个百分点"
    assert metrics["结案率"].help == f"上一周期：{kpis.at['closure_rate', 'previous']:.1%}"


def test_overview_lists_top_cells_and_the_community_ranking_of_the_store(store):
    at = run_page(PAGE)
    top = table_with(at, "网格")
    assert 1 <= len(top) <= 10
    assert top["排名"].tolist() == list(range(1, len(top) + 1))
    assert set(top["社区"]) <= set(COMMUNITY_NAMES)
    assert (top["问题数"] > 0).all()
    assert (np.diff(top["Gi* z值"]) <= 0).all()
    engine = open_store(store)
    today = dt.date.today()
    filters = ReportFilter(
        layers=tuple(LAYER_NAMES), since=today - dt.timedelta(days=29)
    )  # the sidebar's default: the last 30 days, every layer
    expected = overview.top_hotspot_cells(engine, filters, today=today)
    engine.dispose()
    assert top["网格"].tolist() == expected["cell"].tolist()

    ranking = table_with(at, "结案率(%)")
    west = int((town_reports()["community_id"] == 1).sum())
    counts = dict(zip(ranking["社区"], ranking["上报数"], strict=True))
    assert counts == {"西园社区": west, "东苑社区": N_REPORTS - west}
    assert ranking["排名"].tolist() == [1, 2] or counts["西园社区"] == counts["东苑社区"]
    assert ranking["结案率(%)"].between(0, 100).all()


def _trend_data(at) -> pd.DataFrame:
    """The data of the page's one chart (streamlit's long format: week, layer, count)."""
    (chart,) = at.get("vega_lite_chart")
    assert '"stack": true' in chart.proto.spec
    (dataset,) = chart.proto.datasets
    frame = pa.ipc.open_stream(dataset.data.data).read_all().to_pandas()
    return frame.set_axis(["week", "layer", "count"], axis=1)


def test_overview_draws_the_hotspot_map_and_the_weekly_trend_by_layer(store):
    at = run_page(PAGE)
    args = map_args(at)
    assert args["returned_objects"] == ["last_object_clicked"]
    assert "网格问题数" in args["script"]
    trend = _trend_data(at)
    assert list(trend["layer"].unique()) == [zh for zh, _ in LAYER_NAMES.values()]
    assert trend["count"].sum() == N_REPORTS
    assert (pd.to_datetime(trend["week"]).dt.day_of_week == 0).all()  # weeks start on Monday
    subheaders = [s.value for s in at.subheader]
    assert subheaders == ["热点地图", "十大热点网格", "各图层每周上报数", "社区排名"]


def test_overview_switches_to_english(store):
    at = run_page(PAGE)
    at.sidebar.segmented_control[0].set_value("en").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.header[0].value == "Overview"
    assert [m.label for m in at.metric] == LABELS_EN
    assert "Nearest street" in table_with(at, "Cell").columns
    assert table_with(at, "Closure rate (%)")["Community"].tolist()[0] in COMMUNITY_NAMES
    metrics = {m.label: m for m in at.metric}
    assert metrics["Reports"].delta == f"+{N_REPORTS}"
    assert metrics["Reports"].proto.delta_description == "vs previous period"
    # no report in the previous period: its closure rate is undefined, so is the change
    assert metrics["Closure rate"].help == "Previous period: —"
    assert not metrics["Closure rate"].delta
    assert "Zombie cars" in set(_trend_data(at)["layer"])


def test_overview_with_no_layer_chosen_asks_for_one(store):
    at = run_page(PAGE)
    at.sidebar.multiselect[0].set_value([]).run()
    assert not at.exception
    assert any("未选择图层" in i.value for i in at.info)
    assert not at.metric
