"""Crackdown plans: clusters of hot cells, their profiles, before/after, `hotspot plan`."""

from __future__ import annotations

import datetime as dt

import h3
import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from geo.before_after import before_after
from geo.plan import CLUSTER_COLUMNS, cluster_profile, crackdown_clusters, suggested_window
from tests.stores import new_store_url

RES = 9
CENTRE_A = h3.latlng_to_cell(39.780, 116.300, RES)
CENTRE_B = h3.latlng_to_cell(39.800, 116.330, RES)
LONE = h3.latlng_to_cell(39.760, 116.330, RES)


def _int(cell: str) -> int:
    return h3.str_to_int(cell)


def _grid() -> pd.DataFrame:
    """Two blobs of hot cells far apart, a lone 90% cell, and background around them.

    Blob A: 7 cells at bin 2, z 2.5 (strength 17.5). Blob B: 3 cells at bin 3, z 8
    (strength 24): smaller but stronger, so it ranks first.
    """
    blob_a = h3.grid_disk(CENTRE_A, 1)
    blob_b = [CENTRE_B, *h3.grid_ring(CENTRE_B, 1)[:2]]
    rows = [(c, 2, 2.5) for c in blob_a] + [(c, 3, 8.0) for c in blob_b] + [(LONE, 1, 1.8)]
    taken = {c for c, _, _ in rows}
    background = {
        c for centre in (CENTRE_A, CENTRE_B, LONE) for c in h3.grid_disk(centre, 3)
    } - taken
    rows += [(c, 0, 0.1) for c in sorted(background)]
    frame = pd.DataFrame(rows, columns=["cell", "gi_bin", "gi_z"])
    frame["cell"] = [_int(c) for c in frame["cell"]]
    return frame.sample(frac=1.0, random_state=1, ignore_index=True)


def test_two_blobs_make_two_clusters_ranked_by_strength_without_the_lone_90pct_cell():
    grid = _grid()
    clusters = crackdown_clusters(grid["cell"], grid["gi_bin"], grid["gi_z"])

    assert list(clusters.columns) == CLUSTER_COLUMNS
    assert clusters["cluster"].tolist() == [1, 2]
    assert clusters["n_cells"].tolist() == [3, 7]
    assert clusters["strength"].tolist() == pytest.approx([24.0, 17.5])
    assert CENTRE_B in clusters.loc[0, "cells"]
    assert set(clusters.loc[1, "cells"]) == set(h3.grid_disk(CENTRE_A, 1))
    assert all(LONE not in cells for cells in clusters["cells"])
    # The centroid of the 7-cell disk is its centre cell's centre; areas add up.
    lat, lng = h3.cell_to_latlng(CENTRE_A)
    assert clusters.loc[1, ["lng", "lat"]].tolist() == pytest.approx([lng, lat], abs=1e-5)
    area = sum(h3.cell_area(c, unit="m^2") for c in h3.grid_disk(CENTRE_A, 1))
    assert clusters.loc[1, "area_m2"] == pytest.approx(area)


def test_min_bin_1_lets_the_lone_cell_form_its_own_cluster():
    grid = _grid()
    clusters = crackdown_clusters(grid["cell"], grid["gi_bin"], grid["gi_z"], min_bin=1)
    assert len(clusters) == 3
    assert clusters.iloc[-1]["cells"] == (LONE,)


def test_no_hot_cells_give_an_empty_frame_with_the_columns():
    clusters = crackdown_clusters([_int(CENTRE_A)], [-2], [-2.5])
    assert clusters.empty
    assert list(clusters.columns) == CLUSTER_COLUMNS


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="differ in length"):
        crackdown_clusters([_int(CENTRE_A)], [2, 2], [2.5])


def _reports_in(cells: list[str], times: list[pd.Timestamp], rng, **columns) -> pd.DataFrame:
    """Reports at random stored-resolution (12) children of ``cells``."""
    children = [_int(c) for cell in cells for c in h3.cell_to_children(cell, 12)]
    frame = pd.DataFrame(
        {"cell": rng.choice(children, size=len(times)), "reported_at": pd.to_datetime(times)}
    )
    for name, value in columns.items():
        frame[name] = value
    return frame


def test_reports_planted_on_friday_evenings_give_that_window():
    rng = np.random.default_rng(5)
    cluster = h3.grid_disk(CENTRE_A, 1)
    fridays = pd.date_range("2026-05-01", periods=10, freq="7D")  # 2026-05-01 is a Friday
    planted = [f + pd.Timedelta(hours=18, minutes=int(m)) for f in fridays for m in (5, 40, 70)]
    noise = list(pd.Timestamp("2026-05-01") + pd.to_timedelta(rng.uniform(0, 70, 40), unit="D"))
    reports = pd.concat(
        [
            _reports_in(cluster, planted, rng, category_name="店外经营", community="C01"),
            _reports_in(cluster, noise, rng, category_name="小广告", community=["C02", "C03"] * 20),
            # Far away and many: outside the cluster, so ignored.
            _reports_in(
                [CENTRE_B],
                [pd.Timestamp("2026-05-04 09:00")] * 50,
                rng,
                category_name="僵尸车",
                community="C09",
            ),
        ],
        ignore_index=True,
    )
    profile = cluster_profile(cluster, reports)

    assert profile.n_reports == 70
    assert profile.window == "周五 18:00-20:00"
    assert (profile.window_weekday, profile.window_hour) == (4, 18)
    assert profile.window_reports >= 30
    assert profile.community == "C01"
    assert profile.categories.to_dict() == {"小广告": 40, "店外经营": 30}
    assert profile.hours.sum() == profile.weekdays.sum() == 70
    assert profile.hours[18] + profile.hours[19] >= 30
    assert profile.weekdays[4] >= 30


def test_shops_inside_a_cluster_are_listed_with_their_report_counts():
    rng = np.random.default_rng(2)
    cluster = h3.grid_disk(CENTRE_A, 1)
    inside = [_int(c) for c in h3.cell_to_children(CENTRE_A, 12)[:2]]
    outside = _int(h3.cell_to_children(CENTRE_B, 12)[0])
    zones = pd.DataFrame(
        {
            "id": [11, 12, 13],
            "shop_name": ["老王烧烤", "便民超市", "远方饭店"],
            "cell": [inside[0], inside[1], outside],
        }
    )
    stamp = [pd.Timestamp("2026-06-05 10:00")]
    reports = pd.concat(
        [
            _reports_in([CENTRE_A], stamp * 5, rng, zone_id=11),
            _reports_in([CENTRE_A], stamp * 2, rng, zone_id=12),
            _reports_in([CENTRE_A], stamp * 3, rng, zone_id=pd.NA),
            _reports_in([CENTRE_B], stamp * 9, rng, zone_id=13),
        ],
        ignore_index=True,
    )
    profile = cluster_profile(cluster, reports, zones=zones)

    assert profile.zones["zone_id"].tolist() == [11, 12]
    assert profile.zones["shop_name"].tolist() == ["老王烧烤", "便民超市"]
    assert profile.zones["n_reports"].tolist() == [5, 2]


def test_window_ties_go_to_the_earliest_and_no_reports_give_none():
    times = pd.to_datetime(["2026-06-03 07:10", "2026-06-01 21:30"])  # Wed 07h, Mon 21h
    assert suggested_window(times) == (0, 20, 1)
    profile = cluster_profile([CENTRE_A], pd.DataFrame({"cell": [], "reported_at": []}))
    assert profile.n_reports == 0
    assert profile.window == ""
    assert profile.community is None


def _times(before: int, after: int, operation: dt.date, weeks: int = 4) -> np.ndarray:
    rng = np.random.default_rng(before * 1000 + after)
    day = np.datetime64(operation, "D")
    span = 7 * weeks
    return np.concatenate(
        [
            day - rng.integers(1, span + 1, before).astype("timedelta64[D]"),
            day + rng.integers(0, span, after).astype("timedelta64[D]"),
            # Outside both periods: ignored.
            day - np.array([span + 3, span + 40], dtype="timedelta64[D]"),
            day + np.array([span, span + 10], dtype="timedelta64[D]"),
        ]
    ).astype("datetime64[ns]") + np.timedelta64(9, "h")


@pytest.mark.parametrize(
    ("before", "after", "significant"), [(40, 10, True), (20, 18, False), (10, 30, True)]
)
def test_before_after_matches_the_exact_binomial_test(before, after, significant):
    operation = dt.date(2026, 6, 1)
    result = before_after(_times(before, after, operation), operation_date=operation, weeks=4)

    assert (result.before, result.after) == (before, after)
    assert result.per_week_before == pytest.approx(before / 4)
    assert result.change == pytest.approx((after - before) / 4)
    assert result.change_pct == pytest.approx(100 * (after - before) / before)
    assert result.p_value == pytest.approx(binomtest(after, before + after, 0.5).pvalue)
    assert result.significant is significant
    assert result.weekly["n_reports"].sum() == before + after
    assert result.weekly["period"].tolist() == ["before"] * 4 + ["after"] * 4


def test_a_short_after_period_is_weighted_by_its_exposure():
    operation = dt.date(2026, 6, 1)
    # One week after at the old weekly rate is no change, though 10 < 40.
    times = np.concatenate(
        [
            np.repeat(np.datetime64(operation) - np.timedelta64(3, "D"), 40),
            np.repeat(np.datetime64(operation) + np.timedelta64(2, "D"), 10),
        ]
    ).astype("datetime64[ns]")
    result = before_after(
        times, operation_date=operation, weeks=4, data_until=operation + dt.timedelta(days=6)
    )
    assert (result.before, result.after, result.days_after) == (40, 10, 7)
    assert result.p_value == pytest.approx(binomtest(10, 50, 7 / 35).pvalue)
    assert not result.significant
    assert result.weekly["period"].tolist() == ["before"] * 4 + ["after"]


# --- hotspot plan on the demo town -------------------------------------------------------


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    """The demo town (seed 3, 6,000 reports) in a SQLite store; every shop name is a formula."""
    from hotspot.demo import build_town
    from hotspot.store.engine import open_store
    from hotspot.store.town import write_town

    town = build_town(seed=3, n_reports=6000, until=dt.date(2026, 11, 20))
    # A shop named like a formula must reach the spreadsheet as text.
    town.zones["shop_name"] = "=" + town.zones["shop_name"]
    url = new_store_url(tmp_path_factory.mktemp("plan"))
    write_town(open_store(url), town)
    return url, town.planted


def _distance_to_persistent_m(plan: pd.DataFrame, planted: pd.DataFrame) -> np.ndarray:
    """Each cluster's distance to the nearest planted persistent hotspot, in metres."""
    from geo.crs import METRIC_CRS, from_wgs84

    persistent = planted[planted["kind"] == "persistent"]
    px, py = from_wgs84(persistent["lng"], persistent["lat"], METRIC_CRS)
    cx, cy = from_wgs84(plan["lng"], plan["lat"], METRIC_CRS)
    return np.hypot(cx[:, None] - px[None, :], cy[:, None] - py[None, :]).min(axis=1)


def test_plan_csv_on_the_demo_town_finds_a_planted_persistent_hotspot(demo_store, tmp_path, capsys):
    from hotspot.analysis import PLAN_COLUMNS
    from hotspot.cli import main

    url, planted = demo_store
    out = tmp_path / "plan.csv"
    assert main(["plan", "--db", url, "--out", str(out)]) == 0
    assert "crackdown clusters" in capsys.readouterr().out

    assert out.read_bytes().startswith("\ufeff".encode())
    plan = pd.read_csv(out, encoding="utf-8-sig", dtype={"community": str})
    assert list(plan.columns[: len(PLAN_COLUMNS)]) == list(PLAN_COLUMNS)
    assert len(plan) >= 1
    assert plan["cluster"].tolist() == list(range(1, len(plan) + 1))
    assert plan["strength"].is_monotonic_decreasing
    assert _distance_to_persistent_m(plan, planted).min() < 300
    first = plan.iloc[0]
    assert first["n_reports"] > 0
    assert first["window"].startswith("周") and first["window"].endswith(":00")
    assert sum(map(int, first["hours"].split(","))) == first["n_reports"]
    assert sum(map(int, first["weekdays"].split(","))) == first["n_reports"]
    assert len(first["cells"].split()) == first["n_cells"]
    shops = plan["shops"].dropna()
    assert len(shops) and shops.str.startswith("'=").all()


def test_plan_xlsx_has_chinese_headers_and_no_formulas(demo_store, tmp_path):
    import openpyxl

    from hotspot.cli import main

    url, planted = demo_store
    out = tmp_path / "plan.xlsx"
    assert main(["plan", "--db", url, "--layer", "ad_posting", "--out", str(out)]) == 0

    sheet = openpyxl.load_workbook(out).active
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["排名", "网格单元数", "强度(Σz)"]
    assert "建议执法时段" in headers and "涉及商户(问题数)" in headers
    rows = list(sheet.iter_rows(min_row=2))
    assert rows
    assert all(cell.data_type != "f" for row in rows for cell in row)
    plan = pd.DataFrame([[c.value for c in row] for row in rows], columns=headers)
    plan = plan.rename(columns={"中心经度": "lng", "中心纬度": "lat"})
    assert _distance_to_persistent_m(plan, planted).min() < 300


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "plan.txt"], "plan.txt: a plan is written as .csv or .xlsx"),
        (["--out", "plan.csv", "--res", "20"], "--res must be 5..12"),
        (["--out", "missing/plan.csv"], "no such directory"),
        (["--out", "plan.csv", "--layer", "nope"], "unknown layer 'nope'"),
    ],
)
def test_plan_mistakes_exit_2_with_one_line(demo_store, tmp_path, capsys, extra, message):
    from hotspot.cli import main

    url, _ = demo_store
    extra = [str(tmp_path / a) if a.startswith(("plan", "missing")) else a for a in extra]
    assert main(["plan", "--db", url, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hotspot: error: ") and message in err[0]


def test_operation_effect_counts_only_reports_in_the_operation_cells(town_engine, tmp_path):
    import datetime as dt

    from geo.cells import GRID_RES, cell_parents, cells_from_points, cells_to_strings
    from hotspot.analysis import operation_effect
    from hotspot.intake.importer import import_reports
    from tests.conftest import canonical_row, write_csv

    here = (116.3051, 39.7851)
    rows = []
    for i in range(40):  # 40 reports in the 4 weeks before 2026-10-01 at the operation cell
        day = dt.datetime(2026, 9, 3) + dt.timedelta(hours=16 * i)
        rows.append(canonical_row(i, lng=str(here[0]), lat=str(here[1]), reported_at=str(day)))
    for i in range(40, 45):  # 5 after it
        day = dt.datetime(2026, 10, 2) + dt.timedelta(days=5 * (i - 40))
        rows.append(canonical_row(i, lng=str(here[0]), lat=str(here[1]), reported_at=str(day)))
    for i in range(45, 85):  # elsewhere, after: must not count
        rows.append(canonical_row(i, lng="116.3150", lat="39.7850", reported_at="2026-10-05 09:00"))
    import_reports(town_engine, write_csv(tmp_path / "ops.csv", rows))
    cell = cell_parents(cells_from_points([here[0]], [here[1]]), GRID_RES)
    effect = operation_effect(
        town_engine, cells_to_strings(cell), dt.date(2026, 10, 1), data_until=dt.date(2026, 10, 28)
    )
    assert (effect.before, effect.after) == (40, 5)
    assert effect.significant and effect.p_value < 0.001
