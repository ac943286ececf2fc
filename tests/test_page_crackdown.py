"""The crackdown page (AppTest) and its map layer of clusters."""

from __future__ import annotations

import datetime as dt
import json
import re

import h3
import pandas as pd
import pytest

from layers.base import make_map
from layers.clusters import CLUSTER_COLOR, SELECTED_COLOR, clusters_layer
from tests.app_store import HOT_CELL, URL_RE, map_args, plant_hotspot, prepare_store, run_page

PAGE = "pages/crackdown.py"


@pytest.fixture
def hot_store(tmp_path, monkeypatch) -> str:
    """The small town with a planted hotspot, named by HOTSPOT_DATABASE_URL."""
    url = prepare_store(tmp_path / "store.db")
    plant_hotspot(url)
    monkeypatch.setenv("HOTSPOT_DATABASE_URL", url)
    return url


@pytest.fixture
def cold_store(tmp_path, monkeypatch) -> str:
    """The small town with scattered reports only: no significant cluster."""
    url = prepare_store(tmp_path / "store.db")
    monkeypatch.setenv("HOTSPOT_DATABASE_URL", url)
    return url


def _no_exception(at) -> None:
    assert not at.exception, [e.message for e in at.exception]


def _downloads_enabled(at) -> list[bool]:
    return [not button.proto.disabled for button in at.get("download_button")]


def test_crackdown_page_shows_the_planted_cluster_in_the_table_and_on_the_map(hot_store):
    at = run_page(PAGE)
    assert at.header[0].value == "集中整治"
    table = at.dataframe[0].value
    assert table["排名"].tolist()[0] == 1
    assert table["问题数"].iloc[0] >= 100
    assert table["社区"].iloc[0] == "西园社区"
    assert re.fullmatch(r"周. \d\d:00-\d\d:00", table["建议执法时段"].iloc[0])
    assert len(table["时段分布(0-23时)"].iloc[0]) == 24
    args = map_args(at)
    assert json.dumps("整治点位")[1:-1] in args["script"]  # the layer, JSON-escaped
    assert CLUSTER_COLOR in args["script"] and SELECTED_COLOR not in args["script"]
    assert URL_RE.findall(args["script"] + args["html"]) == []
    assert _downloads_enabled(at) == [False, False]
    assert at.form_submit_button[0].proto.disabled  # nothing chosen yet


def test_choosing_a_cluster_enables_the_downloads_and_highlights_it(hot_store):
    at = run_page(PAGE)
    at.multiselect(key="crackdown_selected").set_value([1]).run()
    _no_exception(at)
    assert _downloads_enabled(at) == [True, True]
    assert SELECTED_COLOR in map_args(at)["script"]
    assert not at.form_submit_button[0].proto.disabled


def test_a_filter_change_clears_the_choice_since_ranks_change(hot_store):
    at = run_page(PAGE)
    at.multiselect(key="crackdown_selected").set_value([1]).run()
    at.sidebar.selectbox(key="f_days").set_value(90).run()
    _no_exception(at)
    assert at.multiselect(key="crackdown_selected").value == []
    assert _downloads_enabled(at) == [False, False]


def test_recording_an_operation_lists_it_with_its_effect(hot_store):
    at = run_page(PAGE)
    assert any("尚未记录整治行动" in i.value for i in at.info)
    at.multiselect(key="crackdown_selected").set_value([1]).run()
    at.text_input(key="op_name").input("兴旺路小广告集中整治")
    at.date_input(key="op_start").set_value(dt.date.today() - dt.timedelta(days=10))
    at.text_input(key="op_units").input("综合执法队、派出所")
    at.form_submit_button[0].click().run()
    _no_exception(at)

    assert any("兴旺路小广告集中整治" in s.value for s in at.success)
    past = at.dataframe[1].value
    assert past["行动名称"].tolist() == ["兴旺路小广告集中整治"]
    assert past["参与单位"].tolist() == ["综合执法队、派出所"]
    assert past["网格单元数"].iloc[0] >= 1
    labels = [m.label for m in at.metric]
    assert labels == ["行动前 每周问题数", "行动后 每周问题数", "变化是否显著"]
    by_category = at.dataframe[-1].value
    assert "张贴小广告" in by_category["类别"].tolist()
    assert by_category["行动前件数"].sum() + by_category["行动后件数"].sum() > 0


def test_an_empty_name_is_refused_and_nothing_recorded(hot_store):
    at = run_page(PAGE)
    at.multiselect(key="crackdown_selected").set_value([1]).run()
    at.form_submit_button[0].click().run()
    _no_exception(at)
    assert any("请填写行动名称" in e.value for e in at.error)
    assert any("尚未记录整治行动" in i.value for i in at.info)


def test_without_a_significant_cluster_the_page_says_so_and_offers_no_download(cold_store):
    at = run_page(PAGE)
    assert any("没有显著的热点点位" in i.value for i in at.info)
    assert _downloads_enabled(at) == [False, False]
    assert at.form_submit_button[0].proto.disabled


def test_crackdown_page_switches_to_english(hot_store):
    at = run_page(PAGE)
    at.multiselect(key="crackdown_selected").set_value([1]).run()
    at.sidebar.segmented_control[0].set_value("en").run()
    _no_exception(at)
    assert at.multiselect(key="crackdown_selected").value == [1]
    assert _downloads_enabled(at) == [True, True]
    assert at.header[0].value == "Crackdown planning"
    table = at.dataframe[0].value
    assert re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d:00-\d\d:00", table.iloc[0, 6])


# --- the layer ----------------------------------------------------------------------------


def _plan() -> pd.DataFrame:
    other = h3.latlng_to_cell(39.7850, 116.3150, 9)
    return pd.DataFrame(
        {
            "cluster": [1, 2],
            "cells": [" ".join([HOT_CELL, h3.grid_ring(HOT_CELL, 1)[0]]), other],
            "n_reports": [40, 12],
            "community_name": ["西园社区", "<b>东苑</b>"],
            "top_categories": ["张贴小广告 30", "废弃车辆 12"],
            "window": ["周五 18:00-20:00", ""],
            "lng": [h3.cell_to_latlng(c)[1] for c in (HOT_CELL, other)],
            "lat": [h3.cell_to_latlng(c)[0] for c in (HOT_CELL, other)],
        }
    )


def test_clusters_layer_outlines_every_cluster_and_fills_the_chosen_one():
    fmap = make_map((116.30, 39.78, 116.32, 39.79))
    clusters_layer(_plan(), selected=[2]).add_to(fmap)
    html = fmap.get_root().render()
    assert html.count('"type": "Feature"') == 2
    assert html.count('"rank": "#1"') == 1 and '"selected": true' in html
    assert SELECTED_COLOR in html and CLUSTER_COLOR in html
    assert html.count("cluster-rank") == 2
    assert "<b>东苑</b>" not in html  # names reach the tooltip as text
    assert URL_RE.findall(html) == []


def test_clusters_layer_of_an_empty_plan_is_an_empty_group():
    layer = clusters_layer(_plan().iloc[:0], name="Crackdown clusters", lang="en")
    assert layer.layer_name == "Crackdown clusters"
    assert not layer._children
