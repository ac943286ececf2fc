"""The 社区网格 page (AppTest): a community's map, cell counts and ledger, reporters masked."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import update

from geo.cells import GRID_RES, cell_parents, cells_to_strings
from hotspot.audit import read_audit
from hotspot.store import schema
from hotspot.store.engine import open_store
from hotspot.store.frames import read_reports
from hotspot.taxonomy import STATUS_NAMES
from tests.app_store import map_args, page_text, prepare_store, run_page

PAGE = "pages/community.py"
#: Reporter phones written into the store; the page must show neither in full.
PHONES = ("13812345678", "010-87654321")
UNMASKED = ("13812345678", "87654321")


@pytest.fixture
def store(tmp_path, monkeypatch) -> str:
    """The small town's store with reporters on every report and the new ones overdue."""
    url = prepare_store(tmp_path / "store.db")
    engine = open_store(url)
    report = schema.report
    with engine.begin() as conn:
        conn.execute(
            update(report)
            .where(report.c.id % 2 == 0)
            .values(reporter_name="张三", reporter_phone=PHONES[0])
        )
        conn.execute(
            update(report)
            .where(report.c.id % 2 == 1)
            .values(reporter_name="欧阳娜娜", reporter_phone=PHONES[1])
        )
        conn.execute(
            update(report).where(report.c.status == "new").values(due_at=report.c.reported_at)
        )
    engine.dispose()
    monkeypatch.setenv("HOTSPOT_DATABASE_URL", url)
    return url


@pytest.fixture
def reports(store) -> pd.DataFrame:
    """Every report of the store, as the services read them."""
    engine = open_store(store)
    frame = read_reports(engine)
    engine.dispose()
    return frame


def _table(at, column: str) -> pd.DataFrame:
    tables = [df.value for df in at.dataframe if column in df.value.columns]
    assert tables, f"no table with a column {column!r}"
    return tables[0]


def _assert_no_unmasked_phone(at) -> None:
    text = page_text(at)
    for phone in UNMASKED:
        assert phone not in text
    assert "138****5678" in text and "****4321" in text


def test_community_page_shows_the_first_communitys_ledger_and_cells(store, reports):
    at = run_page(PAGE)
    assert at.header[0].value == "社区网格"
    picker = at.selectbox(key="grid_community")
    assert picker.value == "E02"  # the first community by code
    east = reports[reports["community"] == "E02"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["问题数"] == str(len(east))
    assert metrics["未结案"] == str(east["status"].isin(["new", "dispatched", "in_progress"]).sum())
    assert metrics["超期"] == str((east["status"] == "new").sum())
    ledger = _table(at, "状态")
    assert sorted(ledger["编号"]) == sorted(east["id"])
    assert set(ledger["状态"]) <= {zh for zh, _ in STATUS_NAMES.values()}
    assert set(ledger["上报人"]) == {"张*", "欧***"}
    cells = _table(at, "网格员")
    assert cells["问题数"].sum() == len(east)
    hand = pd.Series(cells_to_strings(cell_parents(east["cell"], GRID_RES))).value_counts()
    counted = cells.set_index("网格")["问题数"]
    assert counted[counted > 0].sort_index().to_dict() == hand.sort_index().to_dict()


def test_community_page_shows_no_unmasked_phone_anywhere(store):
    at = run_page(PAGE)
    _assert_no_unmasked_phone(at)


def test_community_page_map_is_fitted_to_the_chosen_community(store):
    at = run_page(PAGE)
    script = map_args(at)["script"]
    assert json.dumps("东苑社区")[1:-1] in script
    assert json.dumps("西园社区")[1:-1] not in script
    assert "[[39.78, 116.31], [39.79, 116.32]]" in script  # E02's box


def test_community_page_follows_the_sidebar_community(store, reports):
    at = run_page(PAGE)
    at.selectbox(key="f_community").set_value("W01").run()
    assert not at.exception
    assert not [s for s in at.selectbox if s.key == "grid_community"]
    assert "西园社区" in [s.value for s in at.subheader]
    west = reports[reports["community"] == "W01"]
    assert sorted(_table(at, "状态")["编号"]) == sorted(west["id"])
    _assert_no_unmasked_phone(at)


def test_community_page_ledger_filters_by_status_and_search(store, reports):
    at = run_page(PAGE)
    east = reports[reports["community"] == "E02"]
    at.multiselect(key="ledger_statuses").set_value(["new", "closed"]).run()
    assert not at.exception
    ledger = _table(at, "状态")
    assert sorted(ledger["编号"]) == sorted(east[east["status"].isin(["new", "closed"])]["id"])
    assert set(ledger["状态"]) <= {"待派遣", "核查结案"}
    at.multiselect(key="ledger_statuses").set_value([]).run()
    target = east.iloc[0]
    at.text_input(key="ledger_search").input(target["address"]).run()
    found = _table(at, "状态")
    expected = east[east["address"].str.contains(target["address"], regex=False)]
    assert sorted(found["编号"]) == sorted(expected["id"]) and len(found) >= 1


def test_community_page_click_on_a_cell_lists_its_reports(store, reports, monkeypatch):
    east = reports[reports["community"] == "E02"]
    target = east.iloc[0]
    clicked = {"last_object_clicked": {"lng": float(target["lng"]), "lat": float(target["lat"])}}
    seen = {}

    def fake_st_folium(fmap, **kwargs):
        seen.update(kwargs)
        return clicked

    monkeypatch.setattr("streamlit_folium.st_folium", fake_st_folium)
    at = run_page(PAGE)
    assert seen["returned_objects"] == ["last_object_clicked"]
    cell = cell_parents(np.array([target["cell"]]), GRID_RES)[0]
    name = cells_to_strings([cell])[0]
    assert any(f"网格 {name}" in m.value for m in at.markdown)
    listed = _table(at, "编号")  # report_table: the first table with an id column
    in_cell = east[cell_parents(east["cell"], GRID_RES) == cell]
    assert sorted(listed["编号"]) == sorted(in_cell["id"])
    # one of the listed reports opened: its fields, the reporter masked
    picker = at.selectbox(key="grid_report")
    assert sorted(picker.options) == sorted(str(i) for i in in_cell["id"])
    picker.set_value(int(target["id"])).run()
    assert not at.exception
    assert any(m.value == f"**问题 {target['id']}**" for m in at.markdown)
    fields = _table(at, "项目").set_index("项目")["内容"]
    assert fields["地址"] == target["address"]
    assert fields["联系电话"] in {"138****5678", "****4321"}


def test_community_page_downloads_a_masked_ledger_csv_with_bom(store, reports, monkeypatch):
    downloads = []
    real = st.download_button

    def spy(label, data=None, *args, **kwargs):
        downloads.append((kwargs.get("file_name"), data))
        return real(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", spy)
    run_page(PAGE)
    (name, data), *_ = downloads
    assert name.startswith("ledger_E02_") and name.endswith(".csv")
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    for phone in UNMASKED:
        assert phone not in text
    table = pd.read_csv(io.StringIO(text), dtype=str)
    assert len(table) == (reports["community"] == "E02").sum()
    assert set(table["联系电话"]) == {"138****5678", "****4321"}
    assert set(table["data_notice"]) == {"演示数据（虚构） demo data (synthetic)"}


def test_community_page_switches_to_english(store):
    at = run_page(PAGE)
    at.sidebar.segmented_control[0].set_value("en").run()
    assert not at.exception
    assert at.header[0].value == "Community grid"
    ledger = _table(at, "Status")
    assert set(ledger["Status"]) <= {en for _, en in STATUS_NAMES.values()}
    _assert_no_unmasked_phone(at)


def test_community_page_ledger_download_is_logged_as_an_export(store):
    at = run_page(PAGE)
    at.download_button[0].click().run()
    assert not at.exception
    engine = open_store(store)
    exports = read_audit(engine, actions=("export",))
    engine.dispose()
    assert exports["actor"].tolist() == ["leader"]
    assert exports["target"].str.fullmatch(r"ledger_E02_\d{8}\.csv").all()
    assert exports["detail"].iloc[0].startswith("ledger E02: ")
