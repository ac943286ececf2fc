"""Status changes with a version check (hotspot.cases, ``hotspot case``) on SQLite and PostgreSQL.

Each test runs on both stores: a SQLite file, and a fresh database copied from the
PostGIS template that ``HOTSPOT_TEST_POSTGRES_URL`` names (skipped without it, except
under CI, where a missing server fails the test).
"""

from __future__ import annotations

import datetime as dt
import threading

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import select

from geo.cells import cells_from_points
from hotspot import cases
from hotspot.auth import add_user
from hotspot.cli import main
from hotspot.errors import UserError
from hotspot.filters import EVERYTHING
from hotspot.store import schema
from hotspot.store.engine import make_engine, open_store
from hotspot.store.frames import insert_frame, read_events
from tests.conftest import write_small_town
from tests.stores import new_store_url

NOW = dt.datetime(2026, 11, 20, 9, 30)


def write_reports(engine, n: int = 3) -> None:
    """``n`` new reports (ids 1..n) in the tiny town's west community."""
    lng = 116.301 + 0.001 * np.arange(n)
    lat = np.full(n, 39.782)
    reports = gpd.GeoDataFrame(
        {
            "id": np.arange(1, n + 1),
            "category": "abandoned_vehicle",
            "lng": lng,
            "lat": lat,
            "reported_at": pd.Timestamp("2026-11-01 08:00"),
            "due_at": pd.Timestamp("2026-11-08 08:00"),
            "source": "patrol",
            "status": "new",
            "community_id": 1,
            "cell": cells_from_points(lng, lat),
        },
        geometry=shapely.points(lng, lat),
        crs="EPSG:4326",
    )
    with engine.begin() as conn:
        insert_frame(conn, schema.report, reports)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A store holding the tiny town and three new reports, on each kind of store."""
    url = new_store_url(tmp_path, kind=request.param)
    engine = open_store(url)
    write_small_town(engine)
    write_reports(engine)
    engine.dispose()
    return url


@pytest.fixture
def store(store_url):
    engine = open_store(store_url)
    yield engine
    engine.dispose()


def stored(engine, report_id: int) -> dict:
    report = schema.report
    statement = select(
        report.c.status, report.c.version, report.c.resolved_at, report.c.closed_at
    ).where(report.c.id == report_id)
    with engine.connect() as conn:
        return dict(conn.execute(statement).one()._mapping)


def test_of_two_sessions_that_read_version_1_the_second_is_told_to_reload(store_url):
    first, second = make_engine(store_url), make_engine(store_url)
    try:
        assert cases.case_state(first, 1).version == 1
        assert cases.case_state(second, 1).version == 1
        won = cases.change_status(first, 1, "dispatched", expected_version=1, actor="王", now=NOW)
        assert won.version == 2
        with pytest.raises(cases.StaleReport) as stale:
            cases.change_status(second, 1, "rejected", expected_version=1, actor="李", now=NOW)
        assert str(stale.value) == (
            "report 1 was changed by someone else (now version 2, status 已派遣); "
            "reload and try again"
        )
        assert isinstance(stale.value, UserError)
        assert stored(first, 1)["status"] == "dispatched"
        events = read_events(first, report_id=1)
        assert events[["actor", "from_status", "to_status"]].values.tolist() == [
            ["王", "new", "dispatched"]
        ]
    finally:
        first.dispose()
        second.dispose()


def test_two_changes_racing_past_the_read_never_both_win(store_url, monkeypatch):
    # Both threads read version 1 before either updates: the UPDATE's own version
    # check must stop the second (on SQLite it waits for the first's write lock).
    read_state = cases.case_state
    both_read = threading.Barrier(2, timeout=30)
    readers = set()

    def read_then_meet(engine, report_id, scope=EVERYTHING):
        state = read_state(engine, report_id, scope)
        if threading.get_ident() not in readers:
            readers.add(threading.get_ident())
            both_read.wait()
        return state

    monkeypatch.setattr(cases, "case_state", read_then_meet)
    outcomes: dict[str, object] = {}

    def attempt(target: str, actor: str) -> None:
        engine = make_engine(store_url)
        try:
            outcomes[actor] = cases.change_status(
                engine, 2, target, expected_version=1, actor=actor, now=NOW
            )
        except Exception as exc:  # recorded and checked below
            outcomes[actor] = exc
        finally:
            engine.dispose()

    threads = [
        threading.Thread(target=attempt, args=("dispatched", "王")),
        threading.Thread(target=attempt, args=("rejected", "李")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    monkeypatch.undo()
    winners = [a for a, o in outcomes.items() if isinstance(o, cases.StatusChange)]
    losers = [a for a, o in outcomes.items() if isinstance(o, cases.StaleReport)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    engine = open_store(store_url)
    try:
        winner = outcomes[winners[0]]
        assert stored(engine, 2) | {"resolved_at": None, "closed_at": None} == {
            "status": winner.to_status,
            "version": 2,
            "resolved_at": None,
            "closed_at": None,
        }
        events = read_events(engine, report_id=2)
        assert events["actor"].tolist() == winners
        assert "now version 2" in str(outcomes[losers[0]])
    finally:
        engine.dispose()


def test_resolving_and_closing_stamp_their_times_and_rework_clears_resolved(store):
    path = ["dispatched", "in_progress", "resolved", "in_progress", "resolved", "closed"]
    for version, target in enumerate(path, start=1):
        at = NOW + dt.timedelta(hours=version)
        change = cases.change_status(
            store, 3, target, expected_version=version, actor="网格员", now=at
        )
        assert change.version == version + 1
        row = stored(store, 3)
        assert row["status"] == target
        if target == "in_progress":
            assert row["resolved_at"] is None
        if target == "resolved":
            assert row["resolved_at"] == at
    row = stored(store, 3)
    assert row["version"] == 7
    assert row["resolved_at"] == NOW + dt.timedelta(hours=5)
    assert row["closed_at"] == NOW + dt.timedelta(hours=6)
    events = read_events(store, report_id=3)
    assert events["from_status"].tolist() == ["new", *path[:-1]]
    assert events["to_status"].tolist() == path
    assert pd.to_datetime(events["at"]).tolist() == [
        NOW + dt.timedelta(hours=h) for h in range(1, 7)
    ]


def test_a_change_the_workflow_forbids_is_refused_and_changes_nothing(store):
    with pytest.raises(UserError, match=r"report 1: cannot move a report from 待派遣") as refused:
        cases.change_status(store, 1, "closed", expected_version=1, actor="王")
    assert not isinstance(refused.value, cases.StaleReport)
    assert stored(store, 1)["version"] == 1
    assert read_events(store, report_id=1).empty


def test_a_stale_version_is_refused_before_the_workflow_check(store):
    cases.change_status(store, 1, "dispatched", expected_version=1, actor="王")
    with pytest.raises(cases.StaleReport, match="now version 2, status 已派遣"):
        cases.change_status(store, 1, "closed", expected_version=1, actor="李")


def test_an_unknown_report_or_a_missing_actor_is_a_users_mistake(store):
    with pytest.raises(UserError, match="no report 99"):
        cases.change_status(store, 99, "dispatched", expected_version=1, actor="王")
    with pytest.raises(UserError, match="needs the name"):
        cases.change_status(store, 1, "dispatched", expected_version=1, actor="  ")
    assert stored(store, 1)["version"] == 1


def test_case_command_moves_a_report_and_logs_who_and_why(store_url, capsys):
    engine = open_store(store_url)
    try:
        add_user(engine, "王队", "enforcement", "password-1")
    finally:
        engine.dispose()
    as_wang = ["--as-user", "王队", "--note", "派给环卫"]
    assert main(["case", "1", "--to", "已派遣", *as_wang, "--db", store_url]) == 0
    assert capsys.readouterr().out.strip() == "report 1: 待派遣 -> 已派遣 (version 2)"
    assert main(["case", "1", "--to", "in_progress", "--db", store_url]) == 0
    assert capsys.readouterr().out.strip() == "report 1: 已派遣 -> 整改中 (version 3)"
    engine = open_store(store_url)
    try:
        events = read_events(engine, report_id=1)
    finally:
        engine.dispose()
    assert events[["actor", "to_status"]].values.tolist() == [
        ["王队", "dispatched"],
        ["cli", "in_progress"],
    ]
    assert events["note"].iloc[0] == "派给环卫"
    assert pd.isna(events["note"].iloc[1])


def test_case_command_refuses_a_forbidden_or_unknown_status_with_exit_2(store_url, capsys):
    assert main(["case", "1", "--to", "closed", "--db", store_url]) == 2
    assert "cannot move a report from 待派遣 (new) to 核查结案 (closed)" in capsys.readouterr().err
    assert main(["case", "1", "--to", "finished", "--db", store_url]) == 2
    assert "unknown status 'finished'" in capsys.readouterr().err
    assert main(["case", "42", "--to", "dispatched", "--db", store_url]) == 2
    assert "no report 42" in capsys.readouterr().err
