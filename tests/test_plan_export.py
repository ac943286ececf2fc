"""The crackdown plan to take away: the workbook (.xlsx) and the printable map (SVG)."""

from __future__ import annotations

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET

import geopandas as gpd
import h3
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from geo.cells import cell_parents, cells_from_points, cells_from_strings
from hotspot.analysis import PLAN_COLUMNS, PLAN_HEADERS_ZH
from hotspot.plan_export import (
    CLUSTER_SHEET,
    NOTE_SHEET,
    REPORT_SHEET,
    _nice_length,
    cluster_outlines,
    plan_svg,
    plan_workbook,
    reports_in_clusters,
)
from tests.conftest import EAST, WEST

SVG = "{http://www.w3.org/2000/svg}"
HERE = h3.latlng_to_cell(39.7851, 116.3051, 9)
THERE = h3.latlng_to_cell(39.7850, 116.3150, 9)
NEXT = h3.grid_ring(HERE, 1)[0]
PHONE = "13912345678"
FORMULA = '=HYPERLINK("http://evil.example/x","点我")'


def _plan() -> pd.DataFrame:
    """Two clusters: #1 HERE and a neighbour (3 reports), #2 THERE (1 report)."""
    rows = []
    for rank, cells, n, community in (
        (1, [HERE, NEXT], 3, "西园社区"),
        (2, [THERE], 1, "东苑社区"),
    ):
        lat, lng = h3.cell_to_latlng(cells[0])
        rows.append(
            {
                "cluster": rank,
                "n_cells": len(cells),
                "strength": 9.5 - rank,
                "lng": lng,
                "lat": lat,
                "area_m2": 105_000 * len(cells),
                "n_reports": n,
                "community": "W01" if rank == 1 else "E02",
                "community_name": community,
                "top_categories": "张贴小广告 2; 废弃车辆 1",
                "n_shops": 1,
                "shops": "=老王烧烤(#1) 2" if rank == 1 else "",
                "window": "周五 18:00-20:00",
                "window_weekday": 4,
                "window_hour": 18,
                "hours": ",".join(["0"] * 18 + [str(n)] + ["0"] * 5),
                "weekdays": ",".join(["0"] * 4 + [str(n)] + ["0"] * 2),
                "cells": " ".join(sorted(cells)),
            }
        )
    return pd.DataFrame(rows, columns=list(PLAN_COLUMNS))


def _point_in(cell: str) -> tuple[float, float]:
    lat, lng = h3.cell_to_latlng(cell)
    return lng, lat


def _reports() -> gpd.GeoDataFrame:
    """Reports as read_reports gives them: 3 in cluster 1, 1 in cluster 2, 1 outside both."""
    far = h3.latlng_to_cell(39.7815, 116.3012, 9)
    spots = [HERE, HERE, NEXT, THERE, far]
    lng, lat = np.array([_point_in(c) for c in spots]).T
    return gpd.GeoDataFrame(
        {
            "id": [11, 12, 13, 14, 15],
            "external_id": ["DX001", "DX002", "-DX003", "DX004", "DX005"],
            "category": ["ad_posting", "ad_posting", "abandoned_vehicle", "ad_posting", "graffiti"],
            "category_name": ["张贴小广告", "张贴小广告", "废弃车辆", "张贴小广告", "乱涂乱画"],
            "status": ["new", "closed", "in_progress", "new", "new"],
            "reported_at": pd.to_datetime(
                [
                    "2026-10-02 18:30",
                    "2026-10-09 19:10",
                    "2026-10-16 18:05",
                    "2026-10-23 18:45",
                    "2026-10-24 09:00",
                ]
            ),
            "community": ["W01", "W01", "W01", "E02", "W01"],
            "address": [FORMULA, "兴旺路2号", "+兴旺路3号", "东苑路\x014号", "远处"],
            "reporter_name": ["张三", "李四", "王五", "赵六", "钱七"],
            "reporter_phone": [PHONE] * 5,
            "description": [f"请联系 {PHONE}"] * 5,
            "lng": lng,
            "lat": lat,
            "cell": cells_from_points(lng, lat),
        },
        geometry=shapely.points(lng, lat),
        crs="EPSG:4326",
    )


def _communities(names=("西园社区", "东苑社区")) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["W01", "E02"], "name": list(names)}, geometry=[WEST, EAST], crs="EPSG:4326"
    )


def _book(plan=None, reports=None, **kwargs) -> openpyxl.Workbook:
    data = plan_workbook(
        _plan() if plan is None else plan, _reports() if reports is None else reports, **kwargs
    )
    return openpyxl.load_workbook(io.BytesIO(data))


def _values(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


# --- which reports --------------------------------------------------------------------------


def test_reports_in_clusters_carry_the_rank_of_the_cluster_they_fall_in():
    inside = reports_in_clusters(_reports(), _plan())
    assert inside["id"].tolist() == [11, 12, 13, 14]
    assert inside["cluster"].tolist() == [1, 1, 1, 2]
    assert "geometry" not in inside.columns
    only_second = reports_in_clusters(_reports(), _plan().iloc[[1]])
    assert only_second["id"].tolist() == [14]


def test_cluster_outlines_cover_their_cells():
    outlines = cluster_outlines(_plan())
    assert outlines[0].contains(shapely.Point(_point_in(HERE)))
    assert outlines[0].contains(shapely.Point(_point_in(NEXT)))
    assert not outlines[1].contains(shapely.Point(_point_in(HERE)))
    assert cell_parents(cells_from_strings([HERE]), 9)[0] == cells_from_strings([HERE])[0]


# --- the workbook -------------------------------------------------------------------------


def test_workbook_holds_the_chosen_clusters_under_chinese_headers():
    book = _book(plan=_plan().iloc[[1]], notice="演示数据（虚构）")
    assert book.sheetnames == [CLUSTER_SHEET, REPORT_SHEET, NOTE_SHEET]
    rows = _values(book[CLUSTER_SHEET])
    assert rows[0] == [PLAN_HEADERS_ZH[c] for c in PLAN_COLUMNS] + ["数据说明"]
    assert len(rows) == 2
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["排名"] == 2 and record["社区"] == "东苑社区"
    assert record["建议执法时段"] == "周五 18:00-20:00"
    assert record["数据说明"] == "演示数据（虚构）"


def test_workbook_lists_each_clusters_reports_without_reporters():
    book = _book(period="2026-09-27 至 2026-10-26")
    rows = _values(book[REPORT_SHEET])
    assert rows[0] == [
        "点位排名",
        "编号",
        "工单编号",
        "类别",
        "状态",
        "上报时间",
        "社区",
        "地址",
        "经度",
        "纬度",
    ]
    listed = pd.DataFrame(rows[1:], columns=rows[0])
    assert listed["编号"].tolist() == [11, 12, 13, 14]
    assert listed["点位排名"].tolist() == [1, 1, 1, 2]
    assert listed["状态"].tolist() == ["待派遣", "核查结案", "整改中", "待派遣"]
    assert listed["上报时间"].iloc[0] == dt.datetime(2026, 10, 2, 18, 30)
    text = repr([_values(book[name]) for name in book.sheetnames])
    for private in (PHONE, "张三", "李四", "请联系"):
        assert private not in text
    notes = dict(_values(book[NOTE_SHEET])[1:])
    assert notes["统计时段"] == "2026-09-27 至 2026-10-26"
    assert notes["点位数"] == 2 and notes["问题数"] == 4


def test_workbook_has_no_formula_cells_and_neutralises_formula_text():
    book = _book()
    cells = [cell for name in book.sheetnames for row in book[name].iter_rows() for cell in row]
    assert cells and all(cell.data_type != "f" for cell in cells)
    listed = pd.DataFrame(_values(book[REPORT_SHEET])[1:], columns=_values(book[REPORT_SHEET])[0])
    assert listed["地址"].tolist() == ["'" + FORMULA, "兴旺路2号", "'+兴旺路3号", "东苑路4号"]
    assert listed["工单编号"].tolist()[2] == "'-DX003"
    clusters = dict(zip(*_values(book[CLUSTER_SHEET])[:2], strict=True))
    assert clusters["涉及商户(问题数)"] == "'=老王烧烤(#1) 2"
    # numbers stay numbers (a -1 hour is not text to neutralise)
    assert isinstance(clusters["建议起始时"], int)


def test_workbook_of_no_cluster_has_headers_only():
    book = _book(plan=_plan().iloc[:0])
    assert len(_values(book[CLUSTER_SHEET])) == 1
    assert len(_values(book[REPORT_SHEET])) == 1


# --- the printable map ----------------------------------------------------------------------


def _svg(plan=None, **kwargs) -> tuple[str, ET.Element]:
    kwargs.setdefault("period", "2026-09-27 至 2026-10-26")
    kwargs.setdefault("created", dt.date(2026, 10, 27))
    text = plan_svg(_communities(), _plan() if plan is None else plan, **kwargs)
    return text, ET.fromstring(text.encode("utf-8"))


def _clusters(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "cluster"]


def test_svg_has_one_numbered_group_per_chosen_cluster():
    _, root = _svg(plan=_plan())
    groups = _clusters(root)
    assert [g.get("data-rank") for g in groups] == ["1", "2"]
    for group in groups:
        numbers = [t.text for t in group.iter(f"{SVG}text")]
        assert numbers == [group.get("data-rank")]
        # every cell of the cluster filled, plus its outline
        cells = [p for p in group.iter(f"{SVG}path") if p.get("class") == "cell"]
        assert len(cells) == (2 if group.get("data-rank") == "1" else 1)
    _, root = _svg(plan=_plan().iloc[[1]])
    assert [g.get("data-rank") for g in _clusters(root)] == ["2"]


def test_svg_is_self_contained_with_no_links_or_scripts():
    text, root = _svg(streets=None, notice="演示数据（虚构）")
    without_namespace = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert re.search(r"https?:", without_namespace) is None
    tags = {el.tag.removeprefix(SVG) for el in root.iter()}
    assert not tags & {"script", "image", "foreignObject", "a", "use"}
    for el in root.iter():
        assert not any(name.endswith("href") for name in el.attrib)
    assert "@import" not in text and "url(http" not in text


def test_svg_shows_title_period_date_north_arrow_scale_bar_and_communities():
    _, root = _svg(notice="演示数据（虚构）")
    words = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "集中整治点位图" in words
    assert "统计时段：2026-09-27 至 2026-10-26" in words
    assert "制图日期：2026-10-27" in words
    assert "西园社区" in words and "东苑社区" in words
    assert "演示数据（虚构）" in words
    groups = {g.get("class") for g in root.iter(f"{SVG}g")}
    assert {"north-arrow", "scale-bar"} <= groups
    assert sum(p.get("class") == "community" for p in root.iter(f"{SVG}path")) == 2
    assert root.get("width") == "297mm" and root.get("height") == "210mm"


def test_svg_draws_streets_with_the_names_of_main_ones():
    streets = gpd.GeoDataFrame(
        {"name": ["兴旺路", "小胡同"], "kind": ["主干道", "支路"]},
        geometry=[
            shapely.LineString([(116.300, 39.7850), (116.320, 39.7850)]),
            shapely.LineString([(116.305, 39.780), (116.305, 39.790)]),
        ],
        crs="EPSG:4326",
    )
    _, root = _svg(streets=streets)
    assert sum(p.get("class") == "street" for p in root.iter(f"{SVG}path")) == 2
    words = [t.text for t in root.iter(f"{SVG}text")]
    assert "兴旺路" in words and "小胡同" not in words


def test_svg_escapes_names_and_drops_control_characters():
    plan = _plan()
    plan.loc[0, "community_name"] = "<script>alert(1)</script>&"
    plan.loc[0, "top_categories"] = "小广告\x07 3"
    text = plan_svg(_communities(("西园<b>", "东苑&")), plan, created=dt.date(2026, 10, 27))
    root = ET.fromstring(text.encode("utf-8"))
    words = [t.text for t in root.iter(f"{SVG}text")]
    assert "西园<b>" in words and "东苑&" in words
    assert not any(el.tag.endswith("script") for el in root.iter())
    assert "\x07" not in text


def test_svg_scale_bar_uses_a_round_length():
    assert [_nice_length(m) for m in (730, 2100, 260, 99)] == [500, 2000, 250, 50]
    _, root = _svg()
    bar = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "scale-bar")
    labels = [t.text for t in bar.iter(f"{SVG}text")]
    assert labels[0] == "0" and re.fullmatch(r"[\d.]+ (米|千米)", labels[2])
    assert re.fullmatch(r"1:[\d,]+（A4 原大打印）", labels[3])


@pytest.mark.parametrize("chosen", [[], [0, 1]])
def test_svg_without_or_with_clusters_parses(chosen):
    _, root = _svg(plan=_plan().iloc[chosen])
    assert len(_clusters(root)) == len(chosen)
