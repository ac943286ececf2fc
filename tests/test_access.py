"""Who sees what (issue 7): every service and export within the user's scope, personal data
masked for every role but admin and enforcement; accounts, logins, sessions, the audit log.

The town: the tiny two-community town of ``conftest`` with one account per role
(``ROLE_USERS``), W01's grid worker 李网格 holding the grid cells of ``WORKER_POINTS``,
reports in three places (``worker``: 李网格's cells; ``w01``: the rest of 西园社区;
``e02``: 东苑社区), a storefront zone and a street on each side, photos and operations.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from PIL import Image
from sqlalchemy import func, select

from geo.cells import (
    GRID_RES,
    cell_parents,
    cells_from_points,
    cells_from_strings,
    cells_in_polygon,
    cells_to_strings,
)
from geo.crs import to_metric
from geo.hotspots import study_area_cells
from hotspot import analysis, audit, auth, cases, hexmap, operations, overview, services
from hotspot.auth import LoginRefused, load_user
from hotspot.cli import main
from hotspot.errors import UserError
from hotspot.filters import EVERYTHING, ReportFilter, Scope
from hotspot.intake.export import export_reports
from hotspot.intake.formats import XLSX_HEADERS
from hotspot.intake.reports import attribute_reports
from hotspot.ledger import ledger_csv, ledger_table, read_community
from hotspot.photos import ENV_PHOTO_DIR, attach_photos, prepare_photos, read_photos
from hotspot.plan_export import REPORT_SHEET, plan_svg, plan_workbook, print_streets
from hotspot.reporting import ReportDraft, ReportRejected, create_report, place_point
from hotspot.store import schema
from hotspot.store.engine import open_store
from hotspot.store.frames import (
    insert_frame,
    read_communities,
    read_grid_cells,
    read_reports,
    read_zones,
)
from hotspot.storefronts import read_last_patrols, read_storefronts, zone_table
from tests.conftest import (
    EAST,
    GRID_WORKER,
    ROLE_PASSWORD,
    ROLE_USERS,
    WEST,
    WORKER_POINTS,
    ZONE,
    canonical_row,
    worker_cells,
    write_csv,
    write_role_users,
    write_small_town,
)
from tests.stores import new_store_url

# --- the town ---------------------------------------------------------------------------

START = pd.Timestamp("2026-05-04 09:00")  # a Monday
SPAN = pd.Timedelta(days=84)
LAST_DAY = (START + SPAN).date()
OPERATION_DAY = dt.date(2026, 6, 15)
A, B = WORKER_POINTS
C = (116.3035, 39.7885)  # W01, in 王网格's cells
D = (116.3150, 39.7850)  # E02
E = (116.3170, 39.7820)  # E02
ZONE_EAST = shapely.box(116.3160, 39.7860, 116.3162, 39.78605)
#: Reports per place: (place, point, how many); a dozen at A and at D make hot spots.
GROUPS = (
    ("worker", A, 12),
    ("worker", B, 2),
    ("w01", C, 3),
    ("w01", tuple(shapely.centroid(ZONE).coords[0]), 1),
    ("e02", D, 12),
    ("e02", E, 2),
    ("e02", tuple(shapely.centroid(ZONE_EAST).coords[0]), 1),
)
#: Every reporter, and their masked form.
REPORTER = ("张三", "13812345678")
REPORTER_MASKED = ("张*", "138****5678")
#: The storefront contacts: zone id -> (name, phone), and masked.
CONTACTS = {1: ("王强", "13800138000"), 2: ("赵六", "13700001111")}
CONTACTS_MASKED = {1: ("王*", "138****8000"), 2: ("赵*", "137****1111")}
STREETS = {
    "西园路": shapely.LineString([(116.301, A[1]), (116.309, A[1])]),  # through 李网格's cell
    "西园北路": shapely.LineString([(116.301, 39.7895), (116.309, 39.7895)]),
    "东苑路": shapely.LineString([(116.311, 39.787), (116.319, 39.787)]),
}

ROLES = ("admin", "leader", "enforcement", "community", "gridworker")
USERNAME = {role: name for name, role in ROLE_USERS.items()}
ALL = frozenset({"worker", "w01", "e02"})
#: The places each role sees.
SEES = {
    "admin": ALL,
    "leader": ALL,
    "enforcement": ALL,
    "community": frozenset({"worker", "w01"}),
    "gridworker": frozenset({"worker"}),
}
#: Roles that see reporter names and phones (and storefront contacts) only masked.
MASKED = frozenset({"leader", "community", "gridworker"})
COMMUNITY_OF = {"worker": "W01", "w01": "W01", "e02": "E02"}


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (10, 200, 30)).save(out, format="PNG")
    return out.getvalue()


def _write_places(engine) -> None:
    """A storefront zone in E02 (zone 1 is W01's), patrols of both, three streets."""
    centre = shapely.centroid(ZONE_EAST)
    zone = gpd.GeoDataFrame(
        {
            "id": [2],
            "shop_name": ["东苑花店"],
            "business_type": ["零售"],
            "address": ["东苑路8号"],
            "licence_status": ["valid"],
            "agreement_signed": [True],
            "agreement_signed_at": [dt.date(2026, 3, 2)],
            "responsible_person": [CONTACTS[2][0]],
            "responsible_phone": [CONTACTS[2][1]],
            "community_id": [2],
            "street_id": [None],
            "area_m2": [to_metric(ZONE_EAST).area],
            "cell": cells_from_points([centre.x], [centre.y]),
        },
        geometry=[ZONE_EAST],
        crs="EPSG:4326",
    )
    streets = gpd.GeoDataFrame(
        {"id": [1, 2, 3], "name": list(STREETS), "kind": ["主干道"] * 3},
        geometry=list(STREETS.values()),
        crs="EPSG:4326",
    )
    patrols = pd.DataFrame(
        {
            "zone_id": [1, 2],
            "patrolled_at": pd.to_datetime(["2026-07-20 10:00", "2026-07-25 10:00"]),
            "inspector": ["周巡", "吴巡"],
            "compliant": [True, True],
        }
    )
    with engine.begin() as conn:
        insert_frame(conn, schema.street, streets)
        insert_frame(conn, schema.storefront_zone, zone)
        insert_frame(conn, schema.patrol, patrols)


def _report_frame(engine) -> gpd.GeoDataFrame:
    """The reports of :data:`GROUPS`, attributed as an import would, spread over 12 weeks."""
    rows = []
    for place, (lng, lat), n in GROUPS:
        for k in range(n):
            rows.append(
                {
                    "id": len(rows) + 1,
                    "external_id": f"{place}-{len(rows) + 1}",
                    "lng": lng + 0.00002 * (k % 3),
                    "lat": lat + 0.00002 * (k % 2),
                    "reported_at": START + SPAN * (k / n) + pd.Timedelta(minutes=len(rows)),
                }
            )
    frame = pd.DataFrame(rows)
    frame["category"] = "abandoned_vehicle"
    frame["status"] = "new"
    frame["source"] = "resident"
    frame["description"] = "废弃车辆长期停放"
    frame["address"] = "兴旺路"
    frame["reporter_name"], frame["reporter_phone"] = REPORTER
    frame["due_at"] = frame["reported_at"] + pd.Timedelta(days=7)
    place = attribute_reports(
        frame["lng"].to_numpy(),
        frame["lat"].to_numpy(),
        grid=read_grid_cells(engine),
        communities=read_communities(engine),
        zones=read_zones(engine),
    )
    for column in ("cell", "community_id", "zone_id"):
        frame[column] = place[column].to_numpy()
    return gpd.GeoDataFrame(
        frame, geometry=shapely.points(frame["lng"], frame["lat"]), crs="EPSG:4326"
    )


def _cell(point: tuple[float, float], res: int) -> str:
    return cells_to_strings(cell_parents(cells_from_points([point[0]], [point[1]]), res))[0]


def write_access_town(engine, photo_dir: Path) -> None:
    """The town of this module (see its docstring) in an empty store."""
    write_small_town(engine)
    write_role_users(engine)
    _write_places(engine)
    reports = _report_frame(engine)
    with engine.begin() as conn:
        insert_frame(conn, schema.report, reports)
        for place in ("worker", "e02"):
            first = int(reports.loc[reports["external_id"].str.startswith(place), "id"].iloc[0])
            attach_photos(conn, first, prepare_photos([("p.png", png())]), directory=photo_dir)
    record = operations.record_operation
    record(engine, "西园整治", OPERATION_DAY, [_cell(A, 9)])
    record(engine, "东苑整治", OPERATION_DAY, [_cell(D, 9)])
    record(engine, "联合整治", OPERATION_DAY, [_cell(A, 9), _cell(D, 9)])
    record(engine, "王网格巡查", OPERATION_DAY, [_cell(C, 11)])


@dataclass(frozen=True)
class Town:
    engine: object
    url: str
    photo_dir: Path
    places: pd.Series  # report id -> place

    def ids(self, places) -> set[int]:
        return set(self.places.index[self.places.isin(places)])

    def scope(self, role: str) -> Scope:
        return load_user(self.engine, USERNAME[role]).scope

    def filters(self, role: str, **fields) -> ReportFilter:
        return ReportFilter(scope=self.scope(role), **fields)


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    folder = tmp_path_factory.mktemp("access")
    url = new_store_url(folder, migrated=True)
    engine = open_store(url)
    write_access_town(engine, folder / "photos")
    reports = read_reports(engine, columns=["id", "external_id", "category"])
    places = reports.set_index("id")["external_id"].str.split("-").str[0]
    yield Town(engine, url, folder / "photos", places)
    engine.dispose()


@pytest.fixture(params=ROLES)
def role(request) -> str:
    return request.param


def visible_places(frame: pd.DataFrame) -> set[str]:
    return set(frame["external_id"].str.split("-").str[0])


def grid_of(role: str) -> set[int]:
    """The grid cells a role's scope covers, derived from the town, not from the scope."""
    if role == "gridworker":
        return set(worker_cells().tolist())
    west = set(cells_in_polygon(WEST, res=GRID_RES).tolist())
    if role == "community":
        return west
    return west | set(cells_in_polygon(EAST, res=GRID_RES).tolist())


def expected_gi(town: Town, role: str) -> pd.DataFrame:
    """Gi* at the grid resolution of the reports a role sees over the cells it sees.

    Built from the town and :func:`hotspot.analysis.hotspot_table_from_reports` alone,
    not from the scope: what a scoped analysis must give. Indexed by cell (int64).
    """
    reports = read_reports(town.engine, columns=["id", "cell", "category"])
    seen = reports[town.places.reindex(reports["id"]).isin(SEES[role]).to_numpy()]
    table = analysis.hotspot_table_from_reports(
        seen["cell"].to_numpy(), study_cells=sorted(grid_of(role)), res=GRID_RES
    )
    return table.set_index(cells_from_strings(table["cell"]))


def test_the_town_is_laid_out_as_the_tests_expect(town):
    reports = read_reports(town.engine)
    place = reports["external_id"].str.split("-").str[0]
    assert (reports["community"] == place.map(COMMUNITY_OF)).all()
    mine = np.isin(cell_parents(reports["cell"].to_numpy(), GRID_RES), worker_cells())
    assert (mine == (place == "worker")).all()
    assert reports.groupby("zone_id")["external_id"].agg(list).to_dict() == {
        1: ["w01-18"],
        2: ["e02-33"],
    }


# --- the scope of each role -------------------------------------------------------------


def test_each_role_gets_the_scope_of_its_part_of_the_town(town):
    assert town.scope("admin") == Scope(personal_data=True)
    assert town.scope("enforcement") == Scope(personal_data=True)
    assert town.scope("leader") == Scope(personal_data=False)
    assert town.scope("community") == Scope(community_id=1, personal_data=False)
    worker = town.scope("gridworker")
    assert (worker.community_id, worker.personal_data) == (1, False)
    assert worker.cells == tuple(worker_cells().tolist())


def test_a_community_account_without_a_community_sees_nothing_rather_than_everything(town):
    orphan = auth.User(username="x", role="community", community_id=None)
    worker = auth.User(username="y", role="gridworker", community_id=1, cells=None)
    for user in (orphan, worker):
        data = services.map_data(town.engine, ReportFilter(scope=user.scope))
        assert data.reports.empty and data.cells.empty and data.zones.empty


# --- what the pages read ----------------------------------------------------------------


def test_map_data_holds_only_the_roles_reports_cells_zones_and_communities(town, role):
    data = services.map_data(town.engine, town.filters(role))
    assert visible_places(data.reports) == SEES[role]
    assert set(data.cells["cell"].tolist()) == grid_of(role)
    communities = {COMMUNITY_OF[p] for p in SEES[role]}
    assert set(data.communities["code"]) == communities
    expected_zones = {"worker": set(), "w01": {1}, "e02": {2}}
    zones = set().union(*(expected_zones[p] for p in SEES[role]))
    assert set(data.zones["id"]) == zones
    names = set(zip(data.reports["reporter_name"], data.reports["reporter_phone"], strict=True))
    assert names == {REPORTER_MASKED if role in MASKED else REPORTER}
    for row in data.zones.itertuples():
        shown = CONTACTS_MASKED if role in MASKED else CONTACTS
        assert (row.responsible_person, row.responsible_phone) == shown[row.id]


def test_community_list_offers_only_the_roles_communities(town, role):
    codes = services.community_list(town.engine, scope=town.scope(role))["code"]
    assert set(codes) == {COMMUNITY_OF[p] for p in SEES[role]}


def test_report_detail_finds_a_report_only_within_the_roles_scope(town, role, monkeypatch):
    monkeypatch.setenv(ENV_PHOTO_DIR, str(town.photo_dir))
    scope = town.scope(role)
    for report_id, place in town.places.items():
        detail = services.report_detail(town.engine, report_id, scope)
        if place not in SEES[role]:
            assert detail is None, (report_id, place)
            continue
        assert detail.report["id"] == report_id
        shown = REPORTER_MASKED if role in MASKED else REPORTER
        assert (detail.report["reporter_name"], detail.report["reporter_phone"]) == shown
    with_photos = read_photos(town.engine)["report_id"].tolist()
    for report_id in with_photos:
        detail = services.report_detail(town.engine, report_id, scope)
        assert (detail is not None and len(detail.photos) == 1) == (
            town.places[report_id] in SEES[role]
        )


def test_a_community_user_asking_for_another_communitys_report_gets_nothing(town):
    east = min(town.ids({"e02"}))
    scope = town.scope("community")
    assert services.report_detail(town.engine, east, scope) is None
    assert read_photos(town.engine, east, scope=scope).empty
    with pytest.raises(UserError, match=f"^no report {east}$"):
        cases.case_state(town.engine, east, scope)
    own = min(town.ids({"w01"}))
    assert cases.case_state(town.engine, own, scope).status == "new"


def test_a_grid_worker_asking_for_a_report_outside_their_cells_gets_nothing(town):
    other = min(town.ids({"w01"}))
    scope = town.scope("gridworker")
    assert services.report_detail(town.engine, other, scope) is None
    with pytest.raises(UserError, match=f"^no report {other}$"):
        cases.case_state(town.engine, other, scope)


def test_photos_are_listed_only_for_reports_in_scope_and_never_without_the_right(town, role):
    scope = town.scope(role)
    listed = read_photos(town.engine, scope=scope)["report_id"].tolist()
    assert {town.places[i] for i in listed} == {"worker", "e02"} & SEES[role]
    hidden = dataclasses.replace(scope, photos=False)
    assert read_photos(town.engine, scope=hidden).empty
    detail = services.report_detail(town.engine, min(town.ids({"worker"})), hidden)
    assert detail is not None and detail.photos == []


def test_kpis_trend_and_ranking_count_only_the_roles_reports(town, role):
    filters = town.filters(role, since=START.date(), until=LAST_DAY)
    expected = len(town.ids(SEES[role]))
    table = overview.kpis(town.engine, filters, today=LAST_DAY).set_index("key")
    assert table.at["reports", "value"] == expected
    assert table.at["open", "value"] == expected
    trend = overview.weekly_trend(town.engine, filters)
    assert trend["count"].sum() == expected
    ranking = overview.community_ranking(town.engine, filters, today=LAST_DAY)
    assert set(ranking["code"]) == {COMMUNITY_OF[p] for p in SEES[role]}
    assert ranking["reports"].sum() == expected
    assert len(overview.overview_reports(town.engine, filters)) == expected


def test_top_hotspot_cells_lie_in_the_roles_cells(town, role):
    top = overview.top_hotspot_cells(town.engine, town.filters(role), n=50)
    assert len(top) > 0
    assert set(top["cell_int"].tolist()) <= grid_of(role)
    assert set(top["community"]) <= {COMMUNITY_OF[p] for p in SEES[role]}
    east_hot = int(cells_from_strings([_cell(D, GRID_RES)])[0])
    assert (east_hot in set(top["cell_int"].tolist())) == ("e02" in SEES[role])
    # Gi* compares the cells the role sees with each other, not with the whole town
    expected = expected_gi(town, role).loc[top["cell_int"], "gi_z"].to_numpy()
    np.testing.assert_allclose(top["z"].to_numpy(), expected)


def test_map_background_is_the_roles_communities_and_grid(town, role):
    communities, cells = overview.map_background(town.engine, scope=town.scope(role))
    assert set(communities["code"]) == {COMMUNITY_OF[p] for p in SEES[role]}
    assert set(cells.tolist()) == grid_of(role)


def test_map_hexes_count_only_the_roles_reports_in_its_cells(town, role):
    hexes = hexmap.map_hexes(town.engine, town.filters(role), resolutions=(9, 10, 11))
    expected = len(town.ids(SEES[role]))
    assert hexes.groupby("res")["count"].sum().to_dict() == {
        9: expected,
        10: expected,
        11: expected,
    }
    grid = grid_of(role)
    at_10 = hexes.loc[hexes["res"] == 10, "cell"].to_numpy()
    at_11 = hexes.loc[hexes["res"] == 11, "cell"].to_numpy()
    assert set(at_10.tolist()) <= grid
    assert set(cell_parents(at_11, GRID_RES).tolist()) <= grid
    expected = expected_gi(town, role).loc[at_10, "gi_z"].to_numpy()
    np.testing.assert_allclose(hexes.loc[hexes["res"] == 10, "gi_z"].to_numpy(), expected)


# --- analysis ----------------------------------------------------------------------------


def test_the_hotspot_study_area_of_a_community_is_its_own_cells(town):
    filters = town.filters("community")
    at_9 = analysis.hotspot_table(town.engine, filters, res=9)
    assert set(cells_from_strings(at_9["cell"]).tolist()) == set(
        study_area_cells(WEST, res=9).tolist()
    )
    at_10 = analysis.hotspot_table(town.engine, filters, res=10)
    assert set(cells_from_strings(at_10["cell"]).tolist()) == grid_of("community")
    at_11 = analysis.hotspot_table(town.engine, filters, res=11)
    cells = cells_from_strings(at_11["cell"])
    assert len(cells) == 7 * len(grid_of("community"))
    assert set(cell_parents(cells, GRID_RES).tolist()) == grid_of("community")
    assert at_10["count"].sum() == at_11["count"].sum() == len(town.ids(SEES["community"]))


def test_the_hotspot_study_area_of_a_grid_worker_is_their_cells(town):
    table = analysis.hotspot_table(town.engine, town.filters("gridworker"), res=10)
    assert set(cells_from_strings(table["cell"]).tolist()) == set(worker_cells().tolist())
    assert table["count"].sum() == len(town.ids({"worker"}))


@pytest.mark.parametrize("role", ["admin", "leader", "enforcement"])
def test_the_hotspot_study_area_of_the_whole_town_roles_is_the_town(town, role):
    table = analysis.hotspot_table(town.engine, town.filters(role), res=9)
    town_cells = study_area_cells(shapely.union_all([WEST, EAST]), res=9)
    assert set(cells_from_strings(table["cell"]).tolist()) == set(town_cells.tolist())


def test_a_given_area_is_cut_to_the_scope(town):
    both = shapely.union_all([WEST, EAST])
    table = analysis.hotspot_table(town.engine, town.filters("community"), res=10, area=both)
    assert set(cells_from_strings(table["cell"]).tolist()) == grid_of("community")
    with pytest.raises(UserError, match="lies in this account's area"):
        analysis.hotspot_table(town.engine, town.filters("community"), res=10, area=EAST)


def test_plan_clusters_hold_only_the_roles_cells_reports_and_shops(town, role):
    plan = analysis.plan_table(town.engine, town.filters(role), res=10)
    cells = set()
    for text in plan["cells"]:
        cells |= set(cells_from_strings(text.split()).tolist())
    assert cells <= grid_of(role)
    communities = set(plan["community"])
    if role == "gridworker":
        assert plan.empty  # two cells: nothing significant among them
    else:
        assert communities == {COMMUNITY_OF[p] for p in SEES[role]}
    shops = " ".join(plan["shops"])
    assert ("东苑花店" in shops) == ("e02" in SEES[role])
    gi = expected_gi(town, role)["gi_z"]
    strengths = [round(gi.loc[cells_from_strings(c.split())].sum(), 2) for c in plan["cells"]]
    assert plan["strength"].tolist() == pytest.approx(strengths)


def test_emerging_hotspots_cover_only_the_roles_cells(town, role):
    table = analysis.emerging_table(town.engine, town.filters(role), res=10)
    assert set(cells_from_strings(table["cell"]).tolist()) == grid_of(role)


# --- operations --------------------------------------------------------------------------

OPERATIONS_SEEN = {
    "admin": {"西园整治", "东苑整治", "联合整治", "王网格巡查"},
    "community": {"西园整治", "联合整治", "王网格巡查"},
    "gridworker": {"西园整治", "联合整治"},
}
OPERATIONS_SEEN["leader"] = OPERATIONS_SEEN["enforcement"] = OPERATIONS_SEEN["admin"]


def _operation_id(engine, name: str) -> int:
    listed = operations.list_operations(engine)
    return int(listed.loc[listed["name"] == name, "id"].iloc[0])


def test_operations_listed_are_those_touching_the_roles_cells(town, role):
    listed = operations.list_operations(town.engine, scope=town.scope(role))
    assert set(listed["name"]) == OPERATIONS_SEEN[role]
    joint = listed.loc[listed["name"] == "联合整治", "cells"].iloc[0]
    expected = {_cell(A, 9)} if SEES[role] != ALL else {_cell(A, 9), _cell(D, 9)}
    assert set(joint) == expected


def test_an_operations_effect_counts_only_the_roles_reports(town):
    engine = town.engine
    joint, west, east = (_operation_id(engine, n) for n in ("联合整治", "西园整治", "东苑整治"))

    def counts(operation_id, scope=EVERYTHING):
        total = operations.operation_effect(engine, operation_id, scope=scope).total
        return total.before, total.after

    assert sum(counts(west)) > 0 and sum(counts(east)) > 0
    leader = town.scope("leader")
    assert counts(joint, leader) == tuple(map(sum, zip(counts(west), counts(east), strict=True)))
    assert counts(joint, town.scope("community")) == counts(west)
    with pytest.raises(UserError, match=f"no operation with id {east}"):
        operations.operation_effect(engine, east, scope=town.scope("community"))


def test_the_analysis_effect_counts_only_the_scopes_reports(town):
    cells = [_cell(A, 9), _cell(D, 9)]
    scoped = analysis.operation_effect(
        town.engine, cells, OPERATION_DAY, data_until=LAST_DAY, scope=town.scope("community")
    )
    west = analysis.operation_effect(town.engine, [_cell(A, 9)], OPERATION_DAY, data_until=LAST_DAY)
    both = analysis.operation_effect(town.engine, cells, OPERATION_DAY, data_until=LAST_DAY)
    assert (scoped.before, scoped.after) == (west.before, west.after)
    assert both.before + both.after > west.before + west.after


def test_a_scoped_user_records_and_removes_operations_only_in_its_area(role_engine):
    community = load_user(role_engine, "w01").scope
    west, east = _cell(A, 9), _cell(D, 9)
    with pytest.raises(UserError, match="must lie in your area"):
        operations.record_operation(
            role_engine, "越界", OPERATION_DAY, [west, east], scope=community
        )
    own = operations.record_operation(role_engine, "西园", OPERATION_DAY, [west], scope=community)
    joint = operations.record_operation(role_engine, "联合", OPERATION_DAY, [west, east])
    assert not operations.delete_operation(role_engine, joint, scope=community)
    assert operations.delete_operation(role_engine, own, scope=community)
    assert operations.list_operations(role_engine)["id"].tolist() == [joint]
    leader = load_user(role_engine, "leader1").scope
    assert operations.delete_operation(role_engine, joint, scope=leader)


# --- the community page: ledger -----------------------------------------------------------


@pytest.mark.parametrize("role", ["community", "gridworker"])
def test_the_ledger_of_a_community_account_is_its_own_without_asking(town, role):
    view = read_community(town.engine, town.filters(role))
    assert view.community["code"].tolist() == ["W01"]
    assert visible_places(view.reports) == SEES[role]
    assert set(view.cells["cell"].tolist()) == grid_of(role)
    with pytest.raises(ValueError, match="no community 'E02'"):
        read_community(town.engine, town.filters(role, community="E02"))


def test_a_leader_reads_any_communitys_ledger(town):
    view = read_community(town.engine, town.filters("leader", community="E02"))
    assert visible_places(view.reports) == {"e02"}


def test_the_ledger_table_and_csv_mask_reporters_once_per_role(town, role):
    reports = read_community(town.engine, town.filters(role, community="W01")).reports
    table = ledger_table(reports)
    shown = REPORTER_MASKED if role in MASKED else REPORTER
    assert set(zip(table["上报人"], table["联系电话"], strict=True)) == {shown}
    text = ledger_csv(table).decode("utf-8-sig")
    assert (REPORTER[1] in text) == (role not in MASKED)
    assert len(pd.read_csv(io.StringIO(text))) == len(town.ids(SEES[role] - {"e02"}))


# --- the storefront page -------------------------------------------------------------------


def test_storefronts_show_only_the_roles_zones_patrols_and_violations(town, role):
    zones_seen = {"worker": set(), "w01": {1}, "e02": {2}}
    expected = set().union(*(zones_seen[p] for p in SEES[role]))
    scope = town.scope(role)
    view = read_storefronts(town.engine, town.filters(role), today=LAST_DAY)
    assert set(view.zones["id"]) == expected
    assert set(view.violations["zone_id"]) == expected
    assert set(view.cells["cell"].tolist()) == grid_of(role)
    assert set(read_last_patrols(town.engine, scope=scope)["zone_id"]) == expected
    table = zone_table(view.zones, lang="en")
    shown = CONTACTS_MASKED if role in MASKED else CONTACTS
    assert list(zip(table["Responsible"], table["Phone"], strict=True)) == [
        shown[i] for i in view.zones["id"]
    ]


# --- the crackdown page: printable plan -----------------------------------------------------


def test_printed_streets_are_those_crossing_the_roles_area(town, role):
    expected = {
        "admin": set(STREETS),
        "community": {"西园路", "西园北路"},
        "gridworker": {"西园路"},
    }
    expected["leader"] = expected["enforcement"] = expected["admin"]
    streets = print_streets(town.engine, scope=town.scope(role))
    assert set(streets["name"]) == expected[role]


def test_plan_workbook_and_map_carry_only_the_roles_clusters_and_reports(town, role):
    filters = town.filters(role)
    plan = analysis.plan_table(town.engine, filters, res=10)
    data = services.map_data(town.engine, filters)
    book = openpyxl.load_workbook(io.BytesIO(plan_workbook(plan, data.reports)))
    rows = list(book[REPORT_SHEET].iter_rows(values_only=True))
    ids = {row[rows[0].index("编号")] for row in rows[1:]}
    assert {town.places[i] for i in ids} <= SEES[role]
    assert ("e02" in {town.places[i] for i in ids}) == ("e02" in SEES[role])
    svg = plan_svg(data.communities, plan, streets=print_streets(town.engine, scope=filters.scope))
    assert "西园社区" in svg
    assert ("东苑社区" in svg) == ("东苑路" in svg) == ("e02" in SEES[role])


# --- exports -------------------------------------------------------------------------------

FORMATS = {
    "csv": "out.csv",
    "xlsx": "out.xlsx",
    "geojson": "out.geojson",
    "gpkg": "out.gpkg",
    "open311": "out.open311.json",
}


def exported(path: Path, fmt: str) -> pd.DataFrame:
    """``external_id``, ``reporter_name``, ``reporter_phone`` of an exported file, as text."""
    columns = ["external_id", "reporter_name", "reporter_phone"]
    if fmt == "csv":
        frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    elif fmt == "xlsx":
        rows = list(openpyxl.load_workbook(path).worksheets[0].iter_rows(values_only=True))
        names = {zh: key for key, zh in XLSX_HEADERS.items()}
        frame = pd.DataFrame(rows[1:], columns=[names.get(h, h) for h in rows[0]], dtype=str)
    elif fmt == "geojson":
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        frame = pd.DataFrame([f["properties"] for f in features], columns=columns)
    elif fmt == "open311":
        requests = json.loads(path.read_text(encoding="utf-8"))
        frame = pd.DataFrame(
            [{**r["extended_attributes"], "external_id": r["service_request_id"]} for r in requests]
        )
    else:
        frame = pd.DataFrame(pyogrio.read_dataframe(path, layer="reports"))
    return frame.reindex(columns=columns).astype(str)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_export_carries_only_the_roles_reports_masked_by_role(town, role, fmt, tmp_path):
    path = tmp_path / FORMATS[fmt]
    count = export_reports(town.engine, path, fmt=fmt, filters=town.filters(role))
    frame = exported(path, fmt)
    assert count == len(frame) == len(town.ids(SEES[role]))
    assert visible_places(frame) == SEES[role]
    pairs = set(zip(frame["reporter_name"], frame["reporter_phone"], strict=True))
    assert pairs == {REPORTER_MASKED if role in MASKED else REPORTER}


def test_a_geopackage_export_holds_only_the_roles_zones_communities_and_cells(town, role, tmp_path):
    path = tmp_path / "out.gpkg"
    export_reports(town.engine, path, filters=town.filters(role))
    zones = pyogrio.read_dataframe(path, layer="storefront_zones")
    zones_seen = {"worker": set(), "w01": {1}, "e02": {2}}
    assert set(zones["id"]) == set().union(*(zones_seen[p] for p in SEES[role]))
    shown = CONTACTS_MASKED if role in MASKED else CONTACTS
    for row in zones.itertuples():
        assert (row.responsible_person, row.responsible_phone) == shown[row.id]
    communities = pyogrio.read_dataframe(path, layer="communities")
    assert set(communities["code"]) == {COMMUNITY_OF[p] for p in SEES[role]}
    cells = pyogrio.read_dataframe(path, layer="grid_cells")
    assert set(cells_from_strings(cells["cell"]).tolist()) == grid_of(role)


def test_export_as_a_community_user_writes_its_reports_masked_and_is_audited(town, tmp_path):
    out = tmp_path / "w01.csv"
    assert main(["export", str(out), "--as-user", "w01", "--db", town.url]) == 0
    frame = exported(out, "csv")
    assert visible_places(frame) == SEES["community"]
    assert set(frame["reporter_phone"]) == {REPORTER_MASKED[1]}
    entry = audit.read_audit(town.engine, actor="w01", actions=("export",)).iloc[0]
    assert (entry["target"], entry["detail"]) == ("w01.csv", f"{len(frame)} reports")


def test_export_as_a_community_user_of_another_community_writes_nothing(town, tmp_path, capsys):
    out = tmp_path / "east.csv"
    args = ["export", str(out), "--community", "E02", "--as-user", "w01", "--db", town.url]
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("exported 0 reports")
    assert len(pd.read_csv(out, encoding="utf-8-sig")) == 0


def test_export_as_an_unknown_or_disabled_user_is_refused(town, tmp_path, capsys):
    out = tmp_path / "x.csv"
    assert main(["export", str(out), "--as-user", "nobody", "--db", town.url]) == 2
    assert "no such enabled account" in capsys.readouterr().err
    assert not out.exists()


def test_case_command_of_a_community_user_on_another_communitys_report_says_no_report(town, capsys):
    east = min(town.ids({"e02"}))
    args = ["case", str(east), "--to", "dispatched", "--as-user", "w01", "--db", town.url]
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == f"hotspot: error: no report {east}"
    assert cases.case_state(town.engine, east).status == "new"


def test_hotspots_command_as_a_community_user_covers_only_its_cells(town, tmp_path):
    out = tmp_path / "hot.csv"
    args = ["hotspots", "--res", "10", "--as-user", "w01", "--out", str(out), "--db", town.url]
    assert main(args) == 0
    cells = cells_from_strings(pd.read_csv(out)["cell"].astype(str))
    assert set(cells.tolist()) == grid_of("community")


def test_emerging_command_as_a_grid_worker_covers_only_its_cells(town, tmp_path):
    out = tmp_path / "emerging.csv"
    db = ["--db", town.url]
    args = ["emerging", "--res", "10", "--freq", "month", "--out", str(out), *db]
    assert main([*args, "--as-user", "grid1"]) == 0
    cells = set(cells_from_strings(pd.read_csv(out)["cell"].astype(str)).tolist())
    assert cells == grid_of("gridworker")
    assert main(args) == 0  # the operator's covers more
    assert cells < set(cells_from_strings(pd.read_csv(out)["cell"].astype(str)).tolist())


# --- reporting a new issue ------------------------------------------------------------------


def test_placing_a_point_tells_when_it_lies_outside_the_users_scope(town):
    placed = place_point(town.engine, *D, scope=town.scope("community"))
    assert not placed.ok and placed.community is None
    assert placed.problems["reason"].tolist() == [
        "outside your community (西园社区): you may report only there"
    ]
    assert place_point(town.engine, *D, scope=town.scope("leader")).community == "E02"
    assert place_point(town.engine, *C, scope=town.scope("community")).ok
    worker = town.scope("gridworker")
    assert place_point(town.engine, *A, scope=worker).ok
    outside = place_point(town.engine, *C, scope=worker)
    assert outside.problems["reason"].str.startswith("outside your grid cells (西园社区)").all()


@pytest.fixture
def reporting_engine(role_engine):
    _write_places(role_engine)
    return role_engine


def test_a_report_outside_the_users_scope_is_refused_and_nothing_is_stored(
    reporting_engine, tmp_path
):
    engine = reporting_engine
    community = load_user(engine, "w01").scope
    draft = ReportDraft(category="abandoned_vehicle", x=D[0], y=D[1])
    with pytest.raises(ReportRejected) as refused:
        create_report(engine, draft, actor="w01", scope=community, photo_dir=tmp_path)
    assert isinstance(refused.value, UserError)
    assert len(str(refused.value).splitlines()) == 1
    assert "outside your community (西园社区)" in str(refused.value)
    worker = load_user(engine, "grid1").scope
    elsewhere = ReportDraft(category="abandoned_vehicle", x=C[0], y=C[1])
    with pytest.raises(ReportRejected, match="outside your grid cells"):
        create_report(engine, elsewhere, actor="grid1", scope=worker, photo_dir=tmp_path)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.report)).scalar() == 0
    mine = ReportDraft(category="abandoned_vehicle", x=A[0], y=A[1])
    created = create_report(engine, mine, actor="grid1", scope=worker, photo_dir=tmp_path)
    assert services.report_detail(engine, created.id, worker) is not None


# --- accounts ------------------------------------------------------------------------------


def test_password_hashes_are_salted_argon2id():
    first, second = auth.hash_password("同一个密码-123"), auth.hash_password("同一个密码-123")
    assert first != second
    assert first.startswith("$argon2id$") and second.startswith("$argon2id$")
    assert auth.verify_password(first, "同一个密码-123")
    assert auth.verify_password(second, "同一个密码-123")


@pytest.mark.parametrize(
    "stored",
    ["", "not a hash", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$", "$2b$12$" + "x" * 53],
)
def test_a_malformed_hash_never_verifies(stored):
    assert auth.verify_password(stored, "anything-at-all") is False


def test_a_wrong_password_does_not_verify():
    stored = auth.hash_password("right-password")
    assert auth.verify_password(stored, "right-passwore") is False
    assert auth.verify_password(stored, "") is False


T0 = dt.datetime(2026, 9, 1, 8, 0)


@pytest.fixture
def fast_logins(monkeypatch):
    monkeypatch.setattr(auth, "FAILED_LOGIN_DELAY", 0)


def test_a_login_returns_the_user_with_its_scope_and_is_logged(role_engine, fast_logins):
    user = auth.authenticate(role_engine, "w01", ROLE_PASSWORD, now=T0)
    assert (user.username, user.role, user.community_code) == ("w01", "community", "W01")
    assert user.scope.community_id == 1
    entry = audit.read_audit(role_engine, actor="w01", actions=("login",)).iloc[0]
    assert entry["at"] == pd.Timestamp(T0)
    listed = auth.list_users(role_engine).set_index("username")
    assert pd.Timestamp(listed.at["w01", "last_login_at"]) == pd.Timestamp(T0)


def test_a_wrong_password_and_an_unknown_name_are_refused_alike_and_logged(
    role_engine, fast_logins
):
    with pytest.raises(LoginRefused) as wrong:
        auth.authenticate(role_engine, "w01", "not-the-password", now=T0)
    with pytest.raises(LoginRefused) as unknown:
        auth.authenticate(role_engine, "nobody", ROLE_PASSWORD, now=T0)
    assert str(wrong.value) == str(unknown.value) == "wrong username or password"
    failed = audit.read_audit(role_engine, actions=("login_failed",))
    assert set(failed["target"]) == {"w01", "nobody"}
    assert set(failed["detail"]) == {"wrong name or password"}


def test_every_failed_login_is_answered_late(role_engine, monkeypatch):
    monkeypatch.setattr(auth, "FAILED_LOGIN_DELAY", 0.2)
    started = time.monotonic()
    with pytest.raises(LoginRefused):
        auth.authenticate(role_engine, "w01", "not-the-password", now=T0)
    assert time.monotonic() - started >= 0.2


def test_repeated_failures_make_the_account_wait_longer_each_time(role_engine, fast_logins):
    def attempt(password, seconds):
        return auth.authenticate(
            role_engine, "w01", password, now=T0 + dt.timedelta(seconds=seconds)
        )

    for second in range(auth.FREE_ATTEMPTS):  # the free attempts answer at once
        with pytest.raises(LoginRefused) as refused:
            attempt("wrong-password", second)
    assert refused.value.wait == 1.0
    # within the wait even the right password is refused, without being checked
    with pytest.raises(LoginRefused, match="too many failed logins") as throttled:
        attempt(ROLE_PASSWORD, 2.5)
    assert throttled.value.wait == pytest.approx(0.5)
    with pytest.raises(LoginRefused) as refused:
        attempt("wrong-password", 3)
    assert refused.value.wait == 2.0
    with pytest.raises(LoginRefused, match="too many failed logins"):
        attempt(ROLE_PASSWORD, 4.5)
    assert attempt(ROLE_PASSWORD, 5).username == "w01"
    with pytest.raises(LoginRefused) as refused:  # success starts the count again
        attempt("wrong-password", 6)
    assert refused.value.wait == 0.0
    throttled_entries = audit.read_audit(role_engine, actions=("login_failed",))
    assert (throttled_entries["detail"] == "throttled").sum() == 2


def test_a_disabled_account_cannot_log_in_and_loses_its_sessions(role_engine, fast_logins):
    user = auth.authenticate(role_engine, "grid1", ROLE_PASSWORD, now=T0)
    token = auth.open_session(role_engine, user, now=T0)
    assert auth.session_user(role_engine, token, now=T0).username == "grid1"
    assert main(["users", "disable", "grid1", "--db", str(role_engine.url)]) == 0
    assert auth.session_user(role_engine, token, now=T0) is None
    assert load_user(role_engine, "grid1") is None
    with pytest.raises(LoginRefused, match="wrong username or password"):
        auth.authenticate(role_engine, "grid1", ROLE_PASSWORD, now=T0)
    failed = audit.read_audit(role_engine, actions=("login_failed",)).iloc[0]
    assert failed["detail"] == "disabled"


def test_a_session_ends_after_the_idle_time_and_use_keeps_it_alive(role_engine):
    user = load_user(role_engine, "leader1")
    token = auth.open_session(role_engine, user, now=T0)
    idle = dt.timedelta(minutes=30)
    at = T0 + dt.timedelta(minutes=25)
    assert auth.session_user(role_engine, token, now=at, idle=idle).username == "leader1"
    at += dt.timedelta(minutes=25)  # 50 minutes after the login, 25 after the last use
    assert auth.session_user(role_engine, token, now=at, idle=idle) is not None
    at += dt.timedelta(minutes=31)
    assert auth.session_user(role_engine, token, now=at, idle=idle) is None
    # an idle session is gone, not merely refused at that time
    assert auth.session_user(role_engine, token, now=T0, idle=idle) is None
    other = auth.open_session(role_engine, user, now=T0)
    auth.close_session(role_engine, other)
    assert auth.session_user(role_engine, other, now=T0, idle=idle) is None
    assert auth.session_user(role_engine, "made-up-token", now=T0, idle=idle) is None


def test_the_idle_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("HOTSPOT_SESSION_IDLE_MINUTES", "5")
    assert auth.idle_limit() == dt.timedelta(minutes=5)
    monkeypatch.setenv("HOTSPOT_SESSION_IDLE_MINUTES", "soon")
    assert auth.idle_limit() == dt.timedelta(minutes=auth.DEFAULT_IDLE_MINUTES)


def _password_file(tmp_path: Path, password: str) -> str:
    path = tmp_path / f"pw-{abs(hash(password))}.txt"
    path.write_text(password + "\n", encoding="utf-8")
    return str(path)


def test_users_commands_add_list_disable_and_set_passwords_read_from_a_file(
    town_engine, tmp_path, capsys, fast_logins
):
    db = ["--db", str(town_engine.url.render_as_string(hide_password=False))]
    first = _password_file(tmp_path, "first-password-1")
    assert main(["users", "list", *db]) == 0
    assert "no accounts" in capsys.readouterr().out
    assert main(["users", "add", "boss", "--role", "admin", "--password-file", first, *db]) == 0
    add = ["users", "add", "xiyuan", "--role", "community", "--community", "西园社区"]
    assert main([*add, "--password-file", first, *db]) == 0
    assert "account xiyuan added: community of W01" in capsys.readouterr().out
    assert main(["users", "list", *db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["boss\tadmin\tenabled", "xiyuan\tcommunity W01\tenabled"]
    assert auth.authenticate(town_engine, "xiyuan", "first-password-1", now=T0).role == "community"

    second = _password_file(tmp_path, "second-password-2")
    assert main(["users", "set-password", "xiyuan", "--password-file", second, *db]) == 0
    with pytest.raises(LoginRefused):
        auth.authenticate(town_engine, "xiyuan", "first-password-1", now=T0)
    assert auth.authenticate(town_engine, "xiyuan", "second-password-2", now=T0)
    assert main(["users", "disable", "xiyuan", *db]) == 0
    assert main(["users", "list", *db]) == 0
    assert "xiyuan\tcommunity W01\tdisabled" in capsys.readouterr().out.splitlines()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "admin"], "use --password-file"),
        (["--role", "community"], "--community is required"),
        (["--role", "leader", "--community", "W01"], "--community does not apply"),
        (["--role", "gridworker", "--community", "W01"], "--name"),
        (["--role", "gridworker", "--community", "W01", "--name", "无名"], "no grid cell"),
        (["--role", "community", "--community", "Z99"], "no such community"),
        (["--role", "chief"], "invalid choice"),
    ],
)
def test_users_add_refuses_mistakes_with_one_line_and_adds_nothing(
    town_engine, tmp_path, capsys, args, message
):
    db = ["--db", str(town_engine.url.render_as_string(hide_password=False))]
    needs_file = "--password" not in args and args != ["--role", "admin"]
    file = ["--password-file", _password_file(tmp_path, "good-password-1")] if needs_file else []
    assert main(["users", "add", "someone", *args, *file, *db]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert auth.count_users(town_engine) == 0


def test_a_password_given_on_the_command_line_is_refused_without_echoing_it(town_engine, capsys):
    db = ["--db", str(town_engine.url.render_as_string(hide_password=False))]
    args = ["users", "add", "boss", "--role", "admin", "--password", "s3cret-Passw0rd", *db]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert auth.count_users(town_engine) == 0
    assert "s3cret-Passw0rd" not in err


def test_a_short_password_from_a_file_is_refused(town_engine, tmp_path, capsys):
    db = ["--db", str(town_engine.url.render_as_string(hide_password=False))]
    short = _password_file(tmp_path, "short")
    assert main(["users", "add", "boss", "--role", "admin", "--password-file", short, *db]) == 2
    assert "at least 8 characters" in capsys.readouterr().err
    assert auth.count_users(town_engine) == 0


# --- the audit log ---------------------------------------------------------------------------


def test_the_audit_log_records_logins_status_changes_exports_imports_and_accounts(
    role_engine, tmp_path, fast_logins
):
    engine = role_engine
    db = ["--db", engine.url.render_as_string(hide_password=False)]
    auth.authenticate(engine, "w01", ROLE_PASSWORD, now=T0)
    with pytest.raises(LoginRefused):
        auth.authenticate(engine, "w01", "wrong-password", now=T0)
    source = write_csv(tmp_path / "orders.csv", [canonical_row(i) for i in range(3)])
    # A bulk load into SQLite must not meet this process's open connections (see
    # hotspot.reporting.import_in_child): close them first.
    engine.dispose()
    assert main(["import", str(source), *db]) == 0
    report_id = int(read_reports(engine, columns=["id", "category"])["id"].min())
    assert main(["case", str(report_id), "--to", "dispatched", "--as-user", "w01", *db]) == 0
    assert main(["export", str(tmp_path / "out.csv"), "--as-user", "leader1", *db]) == 0
    password = _password_file(tmp_path, "another-password")
    assert main(["users", "add", "boss", "--role", "admin", "--password-file", password, *db]) == 0
    assert main(["users", "set-password", "boss", "--password-file", password, *db]) == 0
    assert main(["users", "disable", "boss", *db]) == 0

    log = audit.read_audit(engine)
    entries = set(zip(log["actor"], log["action"], log["target"], strict=True))
    assert {
        ("w01", "login", "w01"),
        ("w01", "login_failed", "w01"),
        ("cli", "import", "orders.csv"),
        ("w01", "status_change", f"report {report_id}"),
        ("leader1", "export", "out.csv"),
        ("cli", "user_added", "boss"),
        ("cli", "password_set", "boss"),
        ("cli", "user_disabled", "boss"),
    } <= entries
    change = log[log["action"] == "status_change"].iloc[0]
    assert change["detail"] == "new -> dispatched"
    assert log.loc[log["action"] == "import", "detail"].iloc[0].startswith("3 imported")
    assert set(log.loc[log["action"] == "user_added", "target"]) >= set(ROLE_USERS)
    # newest first
    assert log["at"].is_monotonic_decreasing


def test_the_audit_log_filters_by_actor_action_and_day(role_engine):
    audit.record(role_engine, "w01", "export", "a.csv", at=dt.datetime(2026, 1, 1, 9))
    audit.record(role_engine, "w01", "login", "w01", at=dt.datetime(2026, 1, 3, 9))
    audit.record(role_engine, "leader1", "export", "b.csv", at=dt.datetime(2026, 1, 3, 10))
    only = audit.read_audit(role_engine, actor="w01", actions=("export",))
    assert only["target"].tolist() == ["a.csv"]
    recent = audit.read_audit(role_engine, actions=("export", "login"), since=dt.date(2026, 1, 2))
    assert recent["target"].tolist() == ["b.csv", "w01"]
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(role_engine, "w01", "peek")


def test_a_grid_workers_account_follows_the_grid(role_engine):
    """A grid worker's cells are read at login: reassigning a cell moves it out of scope."""
    before = load_user(role_engine, "grid1").scope.cells
    assert before == tuple(worker_cells().tolist())
    grid = schema.grid_cell
    moved = int(before[0])
    with role_engine.begin() as conn:
        conn.execute(
            grid.update().where(grid.c.cell == moved).values(grid_worker=GRID_WORKER + "2")
        )
    assert load_user(role_engine, "grid1").scope.cells == before[1:]


def test_communities_follow_a_scope_of_cells_and_none_for_no_cells(town_engine):
    grid = read_grid_cells(town_engine)
    west_id = int(grid["community_id"].min())
    west_cells = tuple(int(c) for c in grid.loc[grid["community_id"] == west_id, "cell"][:2])
    assert read_communities(town_engine, Scope(cells=())).empty
    owners = read_communities(town_engine, Scope(cells=west_cells))
    assert owners["id"].tolist() == [west_id]
    assert len(read_communities(town_engine)) == 2
