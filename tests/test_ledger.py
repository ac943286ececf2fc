"""The community ledger (台账): reports of one community, filters, counts per cell, CSV."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.cells import GRID_RES, cell_parents, cells_from_points, cells_to_strings
from hotspot.filters import ReportFilter, Scope
from hotspot.ledger import (
    LEDGER_COLUMNS,
    cell_counts,
    community_ledger,
    filter_ledger,
    ledger_csv,
    ledger_table,
    read_community,
)
from hotspot.store import schema
from hotspot.store.frames import insert_frame, read_grid_cells
from tests.conftest import WEST

NOW = pd.Timestamp("2026-06-15 12:00")


def make_reports(rows: list[dict]) -> gpd.GeoDataFrame:
    """Rows for the report table from dicts with at least lng, lat; defaults for the rest."""
    full = []
    for i, row in enumerate(rows, start=1):
        defaults = {
            "id": i,
            "category": "garbage_dumping",
            "status": "new",
            "reported_at": NOW - pd.Timedelta(days=3),
            "due_at": NOW + pd.Timedelta(days=2),
            "address": f"兴旺路{i}号",
            "description": "发现垃圾乱堆",
            "source": "patrol",
            "community_id": 1 if row["lng"] < 116.31 else 2,
        }
        full.append({**defaults, **row})
    frame = pd.DataFrame(full)
    frame["cell"] = cells_from_points(frame["lng"], frame["lat"])
    return gpd.GeoDataFrame(
        frame, geometry=shapely.points(frame["lng"], frame["lat"]), crs="EPSG:4326"
    )


#: West (W01) reports in three places, one in the east (E02).
ROWS = [
    # two in the same spot: one open and overdue, one closed long past its due time
    {"lng": 116.3021, "lat": 39.7821, "due_at": NOW - pd.Timedelta(days=1)},
    {
        "lng": 116.3021,
        "lat": 39.7821,
        "status": "closed",
        "due_at": NOW - pd.Timedelta(days=9),
        "reporter_name": "张三",
        "reporter_phone": "13812345678",
    },
    {
        "lng": 116.3052,
        "lat": 39.7866,
        "status": "in_progress",
        "address": "幸福里5号楼",
        "description": "楼道堆物堆料 STACKED",
        "reporter_name": "欧阳娜娜",
        "reporter_phone": "010-87654321",
    },
    {"lng": 116.3052, "lat": 39.7866, "status": "dispatched", "due_at": None},
    {
        "lng": 116.3088,
        "lat": 39.7884,
        "status": "resolved",
        "description": '=HYPERLINK("http://x")',
    },
    {"lng": 116.3150, "lat": 39.7850},
]


@pytest.fixture
def ledger_engine(town_engine):
    """The tiny town with a grid worker on some western cells and :data:`ROWS` as reports."""
    grid = read_grid_cells(town_engine)
    west = grid[grid["community_id"] == 1]["cell"].head(3).tolist()
    with town_engine.begin() as conn:
        for i, cell in enumerate(west):
            conn.execute(
                schema.grid_cell.update()
                .where(schema.grid_cell.c.cell == int(cell))
                .values(grid_worker=f"网格员{i}")
            )
        insert_frame(conn, schema.report, make_reports(ROWS))
    return town_engine


def test_read_community_reads_only_the_chosen_communitys_reports(ledger_engine):
    view = read_community(ledger_engine, ReportFilter(community="W01"), now=NOW)
    assert view.reports["id"].tolist() == [1, 2, 3, 4, 5]
    assert view.community["code"].tolist() == ["W01"]
    east = read_community(ledger_engine, ReportFilter(community="东苑社区"), now=NOW)
    assert east.reports["id"].tolist() == [6]


def test_read_community_refuses_a_missing_or_unknown_community(ledger_engine):
    with pytest.raises(ValueError, match="choose"):
        read_community(ledger_engine, ReportFilter())
    with pytest.raises(ValueError, match="no community 'X99'"):
        read_community(ledger_engine, ReportFilter(community="X99"))


def test_overdue_counts_open_reports_past_due_at_only(ledger_engine):
    reports = read_community(ledger_engine, ReportFilter(community="W01"), now=NOW).reports
    flags = reports.set_index("id")[["open", "overdue"]]
    # 1 open and past due; 2 closed past due; 3 open, due later; 4 open, no due date
    assert flags["overdue"].to_dict() == {1: True, 2: False, 3: False, 4: False, 5: False}
    assert flags["open"].to_dict() == {1: True, 2: False, 3: True, 4: True, 5: False}


def test_cell_counts_equal_a_hand_count(ledger_engine):
    view = read_community(ledger_engine, ReportFilter(community="W01"), now=NOW)
    hand: dict[int, list[int]] = {}
    for row in view.reports.itertuples():
        cell = int(cell_parents(np.array([row.cell], dtype=np.int64), GRID_RES)[0])
        counts = hand.setdefault(cell, [0, 0, 0])
        counts[0] += 1
        counts[1] += row.status in ("new", "dispatched", "in_progress")
        counts[2] += row.status in ("new", "dispatched", "in_progress") and row.due_at < NOW
    table = view.cells.set_index("cell")
    busy = table[table["reports"] > 0]
    assert {c: list(v) for c, v in busy[["reports", "open", "overdue"]].iterrows()} == hand
    assert len(hand) == 3
    # the busiest cell first: the two cells holding two reports, then the one with one
    assert view.cells["reports"].head(3).tolist() == [2, 2, 1]


def test_cell_counts_list_every_grid_cell_of_the_community_with_its_worker(ledger_engine):
    view = read_community(ledger_engine, ReportFilter(community="W01"), now=NOW)
    grid = read_grid_cells(ledger_engine)
    west = grid[grid["community_id"] == 1]
    assert sorted(view.cells["cell"]) == sorted(west["cell"])
    assert view.cells["reports"].sum() == 5
    workers = view.cells.set_index("cell")["grid_worker"].dropna()
    assert sorted(workers) == ["网格员0", "网格员1", "网格员2"]


def test_cell_counts_add_a_cell_outside_the_grid_so_the_totals_add_up():
    grid = pd.DataFrame({"cell": [1, 2], "grid_worker": ["甲", None]})
    reports = pd.DataFrame(
        {
            "grid_cell": [2, 2, 9],
            "open": [True, False, True],
            "overdue": [True, False, False],
            "grid_worker": [None, None, "乙"],
        }
    )
    table = cell_counts(reports, grid)
    assert table.to_dict("list") == {
        "cell": [2, 9, 1],
        "grid_worker": [None, "乙", "甲"],
        "reports": [2, 1, 0],
        "open": [1, 1, 0],
        "overdue": [1, 0, 0],
    }


def test_filter_ledger_keeps_the_chosen_statuses(ledger_engine):
    reports = read_community(ledger_engine, ReportFilter(community="W01"), now=NOW).reports
    kept = filter_ledger(reports, statuses=("new", "in_progress"))
    assert kept["id"].tolist() == [1, 3]
    assert filter_ledger(reports)["id"].tolist() == [1, 2, 3, 4, 5]


def test_filter_ledger_search_finds_every_word_in_address_or_description(ledger_engine):
    reports = read_community(ledger_engine, ReportFilter(community="W01"), now=NOW).reports
    assert filter_ledger(reports, search="幸福里")["id"].tolist() == [3]  # address
    assert filter_ledger(reports, search="stacked")["id"].tolist() == [3]  # case ignored
    assert filter_ledger(reports, search=" 幸福里  堆物 ")["id"].tolist() == [3]
    assert filter_ledger(reports, search="幸福里 垃圾").empty  # every word must match
    assert filter_ledger(reports, search="兴旺路")["id"].tolist() == [1, 2, 4, 5]
    # taken literally, not as a regular expression
    assert filter_ledger(reports, search=".*").empty
    assert filter_ledger(reports, search="HYPERLINK(")["id"].tolist() == [5]
    both = filter_ledger(reports, statuses=("closed",), search="兴旺路")
    assert both["id"].tolist() == [2]


def test_community_ledger_applies_the_filter_statuses_and_the_search(ledger_engine):
    filters = ReportFilter(community="W01", statuses=("new", "closed", "in_progress"))
    assert community_ledger(ledger_engine, filters, now=NOW)["id"].tolist() == [1, 2, 3]
    rows = community_ledger(ledger_engine, filters, search="兴旺路", now=NOW)
    assert rows["id"].tolist() == [1, 2]
    period = ReportFilter(community="W01", since=(NOW + pd.Timedelta(days=1)).date())
    assert community_ledger(ledger_engine, period, now=NOW).empty


#: A view that may not see personal data (a leader's): the store masks it on reading.
MASKED = ReportFilter(community="W01", scope=Scope(personal_data=False))


def test_ledger_table_names_statuses_in_chinese_and_shows_reporters_masked_once(ledger_engine):
    reports = read_community(ledger_engine, MASKED, now=NOW).reports
    table = ledger_table(reports)
    assert list(table.columns) == [zh for zh, _ in LEDGER_COLUMNS.values()]
    assert table["状态"].tolist() == ["待派遣", "核查结案", "整改中", "已派遣", "已整改"]
    assert table["超期"].tolist() == ["是", "否", "否", "否", "否"]
    assert table["问题类别"].iloc[0] == "生活垃圾乱堆乱放"
    assert table["来源"].iloc[0] == "网格巡查"
    assert table["上报人"].tolist()[1:3] == ["张*", "欧***"]
    assert table["联系电话"].tolist()[1:3] == ["138****5678", "****4321"]
    cells = cells_to_strings(cell_parents(reports["cell"].to_numpy(), GRID_RES))
    assert table["网格"].tolist() == list(cells)


def test_ledger_table_in_english_and_unmasked_for_allowed_roles(ledger_engine):
    reports = read_community(ledger_engine, ReportFilter(community="W01"), now=NOW).reports
    table = ledger_table(reports, lang="en")
    assert list(table.columns) == [en for _, en in LEDGER_COLUMNS.values()]
    assert table["Status"].iloc[1] == "Closed"
    assert table["Overdue"].iloc[0] == "yes"
    assert table["Phone"].tolist()[1:3] == ["13812345678", "010-87654321"]


def test_ledger_csv_opens_in_excel_masked_with_formulas_neutralised(ledger_engine):
    reports = read_community(ledger_engine, MASKED, now=NOW).reports
    data = ledger_csv(ledger_table(reports), notice="演示数据（虚构）")
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads Chinese correctly
    text = data.decode("utf-8-sig")
    assert "13812345678" not in text and "87654321" not in text
    assert "138****5678" in text and "张*" in text
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert back["问题描述"].iloc[4] == '\'=HYPERLINK("http://x")'
    assert back["上报时间"].iloc[0] == (NOW - pd.Timedelta(days=3)).strftime("%Y-%m-%d %H:%M")
    assert back["整改期限"].iloc[3] == ""
    assert set(back["data_notice"]) == {"演示数据（虚构）"}
    assert len(back) == 5


def test_ledger_of_a_community_without_reports_has_only_empty_cells(town_engine):
    view = read_community(town_engine, ReportFilter(community="W01"), now=NOW)
    assert view.reports.empty
    assert len(view.cells) > 0 and view.cells["reports"].sum() == 0
    table = ledger_table(view.reports)
    assert table.empty and table.columns[0] == "编号"
    assert ledger_csv(table).decode("utf-8-sig").startswith("编号,")


def test_fixture_rows_lie_in_the_community_the_tests_expect():
    inside = [bool(shapely.contains_xy(WEST, r["lng"], r["lat"])) for r in ROWS]
    assert inside == [True] * 5 + [False]
