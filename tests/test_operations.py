"""Concentrated operations: the store tables, the 0003 migration and the before/after effect."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import func, inspect, select, text

from geo.cells import cell_parents, cells_from_points, cells_to_strings
from hotspot import analysis
from hotspot.audit import read_audit
from hotspot.errors import UserError
from hotspot.filters import ReportFilter
from hotspot.operations import (
    EFFECT_COLUMNS,
    OPERATION_COLUMNS,
    delete_operation,
    list_operations,
    operation_effect,
    record_operation,
)
from hotspot.store import schema
from hotspot.store.engine import (
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    migrate,
    open_store,
    schema_differences,
)
from hotspot.store.frames import clear_store, insert_frame, read_meta
from tests.stores import new_store_url

RES = 9
HERE = (116.3051, 39.7851)  # the operation's spot, in the west community
THERE = (116.3150, 39.7850)  # about 850 m east: another res-9 cell
START = dt.date(2026, 10, 1)


def _cell(lng: float, lat: float, res: int = RES) -> str:
    return cells_to_strings(cell_parents(cells_from_points([lng], [lat]), res))[0]


def test_recording_then_listing_an_operation_round_trips(town_engine):
    cells = [_cell(*HERE), _cell(*THERE)]
    operation_id = record_operation(
        town_engine,
        "  兴旺路小广告集中整治 ",
        START,
        cells,
        categories=["ad_posting", "abandoned_vehicle"],
        ended_on=START + dt.timedelta(days=2),
        units="综合执法队、派出所",
        note="夜间联合行动",
        created_at=dt.datetime(2026, 9, 30, 17, 5),
    )

    listed = list_operations(town_engine)
    assert list(listed.columns) == list(OPERATION_COLUMNS)
    row = listed.iloc[0].to_dict()
    assert row == {
        "id": operation_id,
        "name": "兴旺路小广告集中整治",
        "started_on": START,
        "ended_on": dt.date(2026, 10, 3),
        "categories": ("abandoned_vehicle", "ad_posting"),
        "units": "综合执法队、派出所",
        "note": "夜间联合行动",
        "created_at": pd.Timestamp("2026-09-30 17:05"),
        "n_cells": 2,
        "cells": tuple(sorted(cells)),
    }


def test_operations_are_listed_latest_start_first_with_their_own_cells(town_engine):
    early = record_operation(town_engine, "九月行动", dt.date(2026, 9, 1), [_cell(*HERE)])
    late = record_operation(
        town_engine, "十月行动", dt.date(2026, 10, 1), [_cell(*THERE)], note="   "
    )
    listed = list_operations(town_engine)
    assert listed["id"].tolist() == [late, early]
    assert listed["cells"].tolist() == [(_cell(*THERE),), (_cell(*HERE),)]
    assert listed["categories"].tolist() == [(), ()]  # none: all categories
    assert listed["note"].isna().all() and listed["ended_on"].isna().all()


def test_no_operations_give_an_empty_frame_with_the_columns(engine):
    listed = list_operations(engine)
    assert listed.empty and list(listed.columns) == list(OPERATION_COLUMNS)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "  "}, "needs a name"),
        ({"name": "长" * 101}, "at most 100"),
        ({"cells": []}, "at least one cell"),
        ({"cells": [_cell(*HERE), _cell(*THERE, res=10)]}, "one resolution"),
        ({"cells": ["not-a-cell"]}, "not H3 cells"),
        ({"categories": ["flying_saucers"]}, "unknown category 'flying_saucers'"),
        ({"ended_on": START - dt.timedelta(days=1)}, "ends .* before it starts"),
    ],
)
def test_record_operation_refuses_bad_input_and_stores_nothing(town_engine, changes, message):
    arguments = {"name": "行动", "cells": [_cell(*HERE)], **changes}
    name, cells = arguments.pop("name"), arguments.pop("cells")
    with pytest.raises(UserError, match=message):
        record_operation(town_engine, name, START, cells, **arguments)
    assert list_operations(town_engine).empty


def test_deleting_an_operation_removes_it_and_its_cells(town_engine):
    keep = record_operation(town_engine, "留下", START, [_cell(*HERE)])
    gone = record_operation(town_engine, "删除", START, [_cell(*HERE), _cell(*THERE)])
    assert delete_operation(town_engine, gone)
    assert not delete_operation(town_engine, gone)
    assert list_operations(town_engine)["id"].tolist() == [keep]
    with town_engine.connect() as conn:
        cells = conn.execute(select(func.count()).select_from(schema.operation_cell)).scalar()
    assert cells == 1


def test_recording_and_deleting_an_operation_are_in_the_audit_log(town_engine):
    operation_id = record_operation(
        town_engine, "夜查", START, [_cell(*HERE), _cell(*THERE)], actor="zhang"
    )
    assert delete_operation(town_engine, operation_id, actor="li")
    assert not delete_operation(town_engine, operation_id, actor="li")  # nothing to log
    log = read_audit(town_engine).iloc[::-1]  # oldest first
    assert log[["actor", "action", "target"]].values.tolist() == [
        ["zhang", "operation_recorded", f"operation {operation_id}"],
        ["li", "operation_deleted", f"operation {operation_id}"],
    ]
    assert log["detail"].iloc[0] == f"夜查: 2 cells from {START}"


def test_a_refused_operation_leaves_no_audit_entry(town_engine):
    with pytest.raises(UserError):
        record_operation(town_engine, "", START, [_cell(*HERE)], actor="zhang")
    assert read_audit(town_engine).empty


# --- the migration ------------------------------------------------------------------------


def test_a_0002_store_upgrades_to_0003_with_its_data_and_the_declared_schema(tmp_path):
    url = new_store_url(tmp_path, "old")
    engine = make_engine(url)
    migrate(engine, "0002")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO meta (key, value) VALUES ('demo', 'true')"))
    assert "operation" not in inspect(engine).get_table_names()

    engine = open_store(url)
    assert current_revision(engine) == head_revision()
    assert read_meta(engine) == {"demo": "true"}
    assert schema_differences(engine) == []
    operation_id = record_operation(engine, "升级后行动", START, [_cell(*HERE)])
    assert list_operations(engine)["id"].tolist() == [operation_id]


def test_downgrading_0003_drops_only_the_operation_tables(tmp_path):
    engine = make_engine(new_store_url(tmp_path, "m"))
    migrate(engine, "0003")
    before = set(inspect(engine).get_table_names())
    downgrade(engine, "0002")
    assert current_revision(engine) == "0002"
    assert before - set(inspect(engine).get_table_names()) == {"operation", "operation_cell"}


def test_the_operation_tables_compile_for_postgresql():
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateTable

    ddl = [
        str(CreateTable(t).compile(dialect=postgresql.dialect()))
        for t in (schema.operation, schema.operation_cell)
    ]
    assert "cell BIGINT NOT NULL" in ddl[1]
    assert "PRIMARY KEY (operation_id, cell)" in ddl[1]


# --- the effect ---------------------------------------------------------------------------


def _reports(rows: list[tuple[str, tuple[float, float], str]]) -> gpd.GeoDataFrame:
    """Report rows from (category, (lng, lat), time)."""
    lng = np.array([p[0] for _, p, _ in rows])
    lat = np.array([p[1] for _, p, _ in rows])
    return gpd.GeoDataFrame(
        {
            "id": np.arange(1, len(rows) + 1),
            "category": [c for c, _, _ in rows],
            "lng": lng,
            "lat": lat,
            "reported_at": pd.to_datetime([t for _, _, t in rows]),
            "status": "new",
            "cell": cells_from_points(lng, lat),
        },
        geometry=shapely.points(lng, lat),
        crs="EPSG:4326",
    )


def _days(first: str, n: int, step: int = 1) -> list[str]:
    return [f"{(pd.Timestamp(first) + pd.Timedelta(days=step * i)).date()} 10:30" for i in range(n)]


@pytest.fixture
def effect_store(town_engine):
    """Reports around an operation on 2026-10-01 at HERE targeting cars and ad posting.

    Counted (4 weeks either side): cars 12 before, 3 after; ads 4 before, 6 after.
    Not counted: cars elsewhere, parking (not targeted) at HERE, ads 5 weeks before.
    """
    rows = [
        *[("abandoned_vehicle", HERE, t) for t in _days("2026-09-03", 12, 2)],
        *[("abandoned_vehicle", HERE, t) for t in _days("2026-10-01", 3, 9)],
        *[("ad_posting", HERE, t) for t in _days("2026-09-20", 4, 3)],
        *[("ad_posting", HERE, t) for t in _days("2026-10-05", 6, 3)],
        *[("ad_posting", HERE, t) for t in _days("2026-08-26", 2)],  # before the 4 weeks
        *[("abandoned_vehicle", THERE, t) for t in _days("2026-09-10", 20)],  # elsewhere
        *[("illegal_parking", HERE, t) for t in _days("2026-10-02", 8)],  # not targeted
        ("garbage_dumping", THERE, "2026-11-20 09:00"),  # the store's last report
    ]
    with town_engine.begin() as conn:
        insert_frame(conn, schema.report, _reports(rows))
    operation_id = record_operation(
        town_engine,
        "十月集中整治",
        START,
        [_cell(*HERE)],
        categories=["abandoned_vehicle", "ad_posting"],
    )
    return town_engine, operation_id


def test_before_after_numbers_equal_a_hand_count(effect_store):
    engine, operation_id = effect_store
    effect = operation_effect(engine, operation_id, weeks=4)

    total = effect.total
    assert (total.before, total.after) == (16, 9)
    assert (total.days_before, total.days_after) == (28, 28)
    assert total.per_week_before == pytest.approx(4.0)
    assert total.per_week_after == pytest.approx(2.25)
    assert total.change == pytest.approx(-1.75)
    assert effect.data_until == dt.date(2026, 10, 28)

    by = effect.by_category.set_index("category")
    assert list(effect.by_category.columns) == list(EFFECT_COLUMNS)
    assert by.loc["abandoned_vehicle", ["before", "after"]].tolist() == [12, 3]
    assert by.loc["ad_posting", ["before", "after"]].tolist() == [4, 6]
    assert by.loc["abandoned_vehicle", "change"] == pytest.approx((3 - 12) / 4)
    assert by.loc["ad_posting", "change_pct"] == pytest.approx(50.0)
    assert by.loc["abandoned_vehicle", "category_name"] == "废弃车辆"
    assert effect.by_category["category"].tolist() == ["abandoned_vehicle", "ad_posting"]

    weekly = effect.weekly
    assert weekly.groupby("period")["n_reports"].sum().to_dict() == {"after": 9, "before": 16}
    cars = weekly[weekly["category"] == "abandoned_vehicle"]
    assert cars["n_reports"].tolist() == [4, 3, 4, 1, 1, 1, 1, 0]


def test_the_stored_operation_agrees_with_the_analysis_service(effect_store):
    engine, operation_id = effect_store
    mine = operation_effect(engine, operation_id, weeks=4).total
    theirs = analysis.operation_effect(
        engine,
        [_cell(*HERE)],
        START,
        filters=ReportFilter(categories=("abandoned_vehicle", "ad_posting")),
        weeks=4,
        data_until=dt.date(2026, 11, 20),
    )
    assert mine.as_dict() == theirs.as_dict()


def test_a_recent_operation_is_compared_on_the_days_with_data(effect_store):
    engine, _ = effect_store
    operation_id = record_operation(
        engine, "十一月行动", dt.date(2026, 11, 15), [_cell(*THERE)], categories=["garbage_dumping"]
    )
    effect = operation_effect(engine, operation_id, weeks=4)
    assert effect.data_until == dt.date(2026, 11, 20)
    assert (effect.total.after, effect.total.days_after) == (1, 6)


def test_an_operation_after_the_last_report_has_no_effect_yet(effect_store):
    engine, _ = effect_store
    operation_id = record_operation(engine, "明年行动", dt.date(2027, 1, 1), [_cell(*HERE)])
    with pytest.raises(UserError, match="no reports from the operation's start"):
        operation_effect(engine, operation_id)
    with pytest.raises(UserError, match="no operation with id 999"):
        operation_effect(engine, 999)


def test_a_targeted_category_without_reports_is_listed_with_zeros(effect_store):
    engine, _ = effect_store
    operation_id = record_operation(
        engine, "养犬", START, [_cell(*HERE)], categories=["dog_fouling", "ad_posting"]
    )
    by = operation_effect(engine, operation_id).by_category.set_index("category")
    assert set(by.index) == {"dog_fouling", "ad_posting"}
    assert by.loc["dog_fouling", ["before", "after"]].tolist() == [0, 0]


def test_clearing_the_store_for_a_new_town_removes_its_operations(town_engine):
    record_operation(town_engine, "旧镇行动", START, [_cell(*HERE)])
    with town_engine.begin() as conn:
        clear_store(conn)
    assert list_operations(town_engine).empty
    with town_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.operation_cell)).scalar() == 0
