"""Emerging hot spots: slices, the Mann-Kendall test, the pattern rules, the demo town."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats

from geo.cells import cells_from_points, cells_to_strings, neighbour_pairs
from geo.emerging import PATTERNS, classify, emerging_hotspots, mann_kendall, time_slices
from geo.hotspots import study_area_cells
from tests.stores import new_store_url

N = 20  # slices of the planted classifier cases: "at least 90%" is 18 of them


# --- time slices ------------------------------------------------------------------------


def test_weeks_start_on_monday_and_cover_start_to_end():
    times = np.array(
        ["2026-11-15T23:59", "2026-11-16T00:00", "2026-11-22T23:59", "2026-11-23", "NaT"],
        dtype="datetime64[m]",
    )
    index, edges = time_slices(times, freq="week")
    assert index.tolist() == [0, 1, 1, 2, -1]
    assert edges.astype(str).tolist() == ["2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]
    assert all(dt.date.fromisoformat(e).weekday() == 0 for e in edges.astype(str))


def test_days_and_months_and_bounds():
    times = np.array(["2026-01-31T10:00", "2026-02-01", "2026-03-15"], dtype="datetime64[s]")
    index, edges = time_slices(times, freq="month")
    assert index.tolist() == [0, 1, 2]
    assert edges.astype(str).tolist() == ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]

    index, edges = time_slices(times, freq="day", start="2026-02-01", end=dt.date(2026, 2, 3))
    assert index.tolist() == [-1, 0, -1]
    assert edges.size == 4  # three days, the end day included


def test_slices_reject_bad_freq_and_reversed_bounds():
    times = np.array(["2026-01-01"], dtype="datetime64[D]")
    with pytest.raises(ValueError, match="freq"):
        time_slices(times, freq="year")
    with pytest.raises(ValueError, match="before start"):
        time_slices(times, start="2026-02-01", end="2026-01-01")


def test_no_times_give_no_slices():
    index, edges = time_slices(np.array(["NaT"], dtype="datetime64[ns]"))
    assert index.tolist() == [-1]
    assert edges.size == 0


# --- Mann-Kendall -----------------------------------------------------------------------


@pytest.mark.parametrize("ties", [False, True], ids=["continuous", "with-ties"])
def test_mann_kendall_matches_scipy_kendalltau_b(ties):
    # Our tau is tau-b against time and the p the normal approximation with the tie
    # correction and no continuity correction: scipy's asymptotic method.
    rng = np.random.default_rng(5)
    series = rng.integers(0, 4, (40, 30)) if ties else rng.normal(size=(40, 30))
    series = series + np.linspace(0, 1.5, 30) * rng.normal(size=(40, 1))
    if ties:
        series = np.round(series)
    tau, p = mann_kendall(series)
    time = np.arange(series.shape[1])
    for row, t, q in zip(series, tau, p, strict=True):
        expected = stats.kendalltau(time, row, method="asymptotic")
        assert t == pytest.approx(expected.statistic, abs=1e-12)
        assert q == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-15)


def test_mann_kendall_on_monotone_series():
    n = 12
    rising = np.arange(n, dtype=float) ** 2
    tau, p = mann_kendall(np.vstack([rising, -rising]))
    assert tau.tolist() == [1.0, -1.0]
    # S = ±n(n-1)/2, Var S = n(n-1)(2n+5)/18
    z = (n * (n - 1) / 2) / np.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    assert p == pytest.approx([2 * stats.norm.sf(z)] * 2, rel=1e-12)
    assert p[0] < 1e-4


def test_mann_kendall_constant_and_short_series_without_warnings():
    # pytest turns warnings into errors: a constant row must not divide by zero
    tau, p = mann_kendall([[2.0] * 8, [0.0] * 8, [0, 1, 0, 1, 0, 1, 0, 1]])
    assert tau[:2].tolist() == [0.0, 0.0]
    assert p[:2].tolist() == [1.0, 1.0]
    assert 0 < p[2] <= 1
    tau, p = mann_kendall(np.ones((3, 1)))
    assert tau.tolist() == [0.0] * 3
    assert p.tolist() == [1.0] * 3
    tau, p = mann_kendall(np.zeros((0, 10)))
    assert tau.shape == p.shape == (0,)


def test_mann_kendall_rejects_nan_and_1d():
    with pytest.raises(ValueError, match="NaN"):
        mann_kendall([[1.0, np.nan, 2.0]])
    with pytest.raises(ValueError, match="2-D"):
        mann_kendall([1.0, 2.0, 3.0])


# --- the pattern rules ------------------------------------------------------------------


def _series(hot=(), cold=()):
    """z and significance of one cell over N slices: hot at ``hot``, cold at ``cold``."""
    z = np.full(N, 0.3)
    sig = np.zeros(N, dtype=bool)
    z[list(hot)], sig[list(hot)] = 2.5, True
    z[list(cold)], sig[list(cold)] = -2.5, True
    return z, sig


ALL = range(N)
FINAL = N - 1
# name: (hot slices, cold slices, tau, tau_p)
HOT_CASES = {
    "new": ([FINAL], [], 0.2, 0.3),
    "new, cold before": ([FINAL], [3, 4], 0.4, 0.05),
    "consecutive": ([FINAL - 2, FINAL - 1, FINAL], [], 0.4, 0.02),
    "intensifying": (ALL, [], 0.5, 0.01),
    "diminishing": (ALL, [], -0.5, 0.01),
    "persistent": (ALL, [], 0.05, 0.8),
    "persistent at exactly 90%": ([*range(2, N)], [], 0.1, 0.6),
    "persistent, trend not significant": (ALL, [], 0.35, 0.12),
    "sporadic": ([2, 5, 9, FINAL], [], 0.1, 0.5),
    "sporadic, just below 90%": ([0, *range(4, N)], [], 0.1, 0.6),
    "consecutive, a long run below 90%": ([*range(3, N)], [], 0.6, 0.001),
    "sporadic, run after a gap": ([4, FINAL - 1, FINAL], [], 0.3, 0.2),
    "oscillating": ([3, FINAL], [7], 0.0, 0.9),
    "historical": ([*range(0, N - 1)], [], -0.1, 0.6),
    "historical at exactly 90% of earlier": ([*range(1, N - 1)], [], -0.1, 0.6),
    "none: hot long ago": ([*range(0, 10)], [], -0.5, 0.001),
    "none: never significant": ([], [], 0.0, 1.0),
}
EXPECTED = {
    "new": "new",
    "new, cold before": "new",
    "consecutive": "consecutive",
    "intensifying": "intensifying",
    "diminishing": "diminishing",
    "persistent": "persistent",
    "persistent at exactly 90%": "persistent",
    "persistent, trend not significant": "persistent",
    "sporadic": "sporadic",
    "sporadic, just below 90%": "sporadic",
    "consecutive, a long run below 90%": "consecutive",
    "sporadic, run after a gap": "sporadic",
    "oscillating": "oscillating",
    "historical": "historical",
    "historical at exactly 90% of earlier": "historical",
    "none: hot long ago": None,
    "none: never significant": None,
}


@pytest.mark.parametrize("side", ["hot", "cold"])
@pytest.mark.parametrize("case", list(HOT_CASES))
def test_each_pattern_on_a_planted_series(case, side):
    hot, cold, tau, tau_p = HOT_CASES[case]
    z, sig = _series(hot, cold)
    if side == "cold":  # the mirror: z below zero, the trend reversed
        z, tau = -z, -tau
    pattern = classify(z[None, :], sig[None, :], [tau], [tau_p])
    name = EXPECTED[case]
    assert pattern.tolist() == [f"{name} {side} spot" if name else "no pattern"]


def test_classify_many_cells_at_once_matches_one_by_one():
    rows = [(*_series(h, c), t, q) for h, c, t, q in HOT_CASES.values()]
    z = np.vstack([r[0] for r in rows])
    sig = np.vstack([r[1] for r in rows])
    tau = np.array([r[2] for r in rows])
    tau_p = np.array([r[3] for r in rows])
    together = classify(z, sig, tau, tau_p)
    alone = [
        classify(z[i : i + 1], sig[i : i + 1], tau[i : i + 1], tau_p[i : i + 1])[0]
        for i in range(len(rows))
    ]
    assert together.tolist() == alone
    assert set(together) <= set(PATTERNS)


def test_a_long_run_is_not_consecutive_but_persistent():
    # hot in the final 19 of 20 slices and never before: 95% of the slices is persistent
    z, sig = _series(range(1, N))
    assert classify(z[None], sig[None], [0.0], [1.0]).tolist() == ["persistent hot spot"]


def test_final_slice_decides_the_side():
    # hot for 19 slices then cold in the final one: a new cold spot, not historical hot
    z, sig = _series(range(0, N - 1), [FINAL])
    assert classify(z[None], sig[None], [-0.3], [0.2]).tolist() == ["new cold spot"]


def test_significance_is_the_callers_not_the_sign_of_z():
    z = np.full((1, N), 3.0)  # large z everywhere, but nothing passed the caller's FDR
    assert classify(z, np.zeros_like(z, dtype=bool), [0.0], [1.0]).tolist() == ["no pattern"]


def test_trend_level_is_an_option():
    z, sig = _series(ALL)
    assert classify(z[None], sig[None], [0.4], [0.07]).tolist() == ["intensifying hot spot"]
    assert classify(z[None], sig[None], [0.4], [0.07], alpha=0.05).tolist() == [
        "persistent hot spot"
    ]


def test_classify_checks_shapes():
    with pytest.raises(ValueError, match="one shape"):
        classify(np.zeros((2, 5)), np.zeros((2, 4), dtype=bool), [0, 0], [1, 1])
    with pytest.raises(ValueError, match="tau"):
        classify(np.zeros((2, 5)), np.zeros((2, 5), dtype=bool), [0], [1])


# --- the whole analysis -----------------------------------------------------------------


def _disk_study(lng: float, lat: float, *, res: int, radius_deg: float = 0.015):
    # inside the square the background reports cover: an empty margin would make the
    # whole covered middle look hot
    return study_area_cells(shapely.Point(lng, lat).buffer(radius_deg), res=res)


def test_emerging_hotspots_finds_a_planted_new_cluster():
    rng = np.random.default_rng(2)
    res, weeks = 9, 12
    study = _disk_study(116.33, 39.73, res=res)
    # background: reports all over the area every week
    n = 3000
    lng = 116.33 + rng.uniform(-0.02, 0.02, n)
    lat = 39.73 + rng.uniform(-0.02, 0.02, n)
    when = np.datetime64("2026-08-03") + rng.integers(0, 7 * weeks, n).astype("timedelta64[D]")
    # a cluster that appears in the last two weeks only
    m = 120
    lng = np.r_[lng, 116.33 + rng.normal(0, 0.0005, m)]
    lat = np.r_[lat, 39.73 + rng.normal(0, 0.0005, m)]
    late = np.datetime64("2026-08-03") + 7 * (weeks - 2) + rng.integers(0, 14, m)
    when = np.r_[when, late.astype("datetime64[D]")]
    cells = cells_from_points(lng, lat, res=12)

    out = emerging_hotspots(cells, when, study_cells=study, res=res, k=1, freq="week")

    assert list(out.columns) == ["cell", "pattern", "tau", "tau_p", "slices_hot", "slices"]
    assert out["cell"].tolist() == cells_to_strings(study).tolist()
    assert (out["slices"] == weeks).all()
    centre = cells_to_strings(cells_from_points([116.33], [39.73], res=res))[0]
    row = out.set_index("cell").loc[centre]
    assert row["pattern"] == "consecutive hot spot"
    assert row["slices_hot"] == 2
    assert row["tau"] > 0
    # the ring around it is hot in the same two weeks; cells far away are not hot at all
    i, j = neighbour_pairs(study, k=2)
    near = np.zeros(study.size, dtype=bool)
    near[j[i == int(np.flatnonzero(out["cell"] == centre)[0])]] = True
    assert not out.loc[~near, "pattern"].str.contains("hot").any()


def test_emerging_hotspots_checks_alignment():
    study = _disk_study(116.33, 39.73, res=8)
    with pytest.raises(ValueError, match="differ in length"):
        emerging_hotspots(
            np.zeros(3, dtype=np.int64),
            np.array(["2026-01-01"] * 2, dtype="datetime64[D]"),
            study_cells=study,
            res=8,
        )


GROWING = {"new hot spot", "consecutive hot spot", "intensifying hot spot"}


@pytest.fixture(scope="module")
def demo_town():
    from hotspot.demo import build_town

    return build_town(seed=3, n_reports=6000, until=dt.date(2026, 11, 20))


def test_demo_town_emerging_and_fading_hotspots(demo_town):
    # Monthly slices at res 9 (cells of about 0.1 km², a planted hotspot's size): weekly
    # counts of one layer are a few reports a cell, too noisy for a run of hot weeks.
    from hotspot import taxonomy

    town, res = demo_town, 9
    reports = town.reports
    layers = taxonomy.layer_of(reports["category"].to_numpy(dtype=object))
    study = study_area_cells(shapely.union_all(town.communities.geometry.to_numpy()), res=res)
    planted = town.planted[town.planted["kind"].isin(["emerging", "fading"])]
    assert set(planted["kind"]) == {"emerging", "fading"}
    for spot in planted.itertuples():
        mine = layers == spot.layer
        out = emerging_hotspots(
            reports["cell"].to_numpy()[mine],
            reports["reported_at"].to_numpy()[mine],
            study_cells=study,
            res=res,
            k=1,
            freq="month",
        )
        centre = cells_to_strings(cells_from_points([spot.lng], [spot.lat], res=res))[0]
        row = out.set_index("cell").loc[centre]
        assert row["slices"] == 13  # Nov 2025 .. Nov 2026, both partial
        if spot.kind == "emerging":
            assert row["pattern"] in GROWING, spot.name
            assert row["tau"] > 0, spot.name
        else:
            # A fading hotspot is hot early and gone by the end: fewer than 90% of the
            # slices hot, so ArcGIS's rules give it no historical pattern (a report or two
            # in the short final month can even make it sporadic); its trend shows.
            assert row["tau"] < 0, spot.name
            assert row["tau_p"] < 0.05, spot.name
            assert row["pattern"] not in GROWING, spot.name


def test_demo_town_table_has_every_pattern_name_valid(demo_town):
    town, res = demo_town, 8
    study = study_area_cells(shapely.union_all(town.communities.geometry.to_numpy()), res=res)
    out = emerging_hotspots(
        town.reports["cell"].to_numpy(),
        pd.to_datetime(town.reports["reported_at"]).to_numpy(),
        study_cells=study,
        res=res,
        k=1,
    )
    assert len(out) == study.size
    assert set(out["pattern"]) <= set(PATTERNS)
    assert out["tau"].between(-1, 1).all()
    assert out["tau_p"].between(0, 1).all()
    assert (out["slices_hot"] <= out["slices"]).all()


# --- the command line -------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, demo_town):
    from hotspot.store.engine import open_store
    from hotspot.store.town import write_town

    url = new_store_url(tmp_path_factory.mktemp("emerging"), "demo")
    write_town(open_store(url), demo_town)
    return url


def test_cli_emerging_writes_the_contract_columns(demo_db, tmp_path, capsys):
    from hotspot.cli import main

    out = tmp_path / "emerging.csv"
    status = main(
        ["emerging", "--db", demo_db, "--freq", "month", "--layer", "garbage", "--out", str(out)]
    )
    assert status == 0, capsys.readouterr().err
    table = pd.read_csv(out)
    assert list(table.columns) == ["cell", "pattern", "tau", "tau_p", "slices_hot", "slices"]
    assert (table["slices"] == 13).all()
    assert "consecutive hot spot" in set(table["pattern"])
    assert "13 months" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--freq", "year"], "invalid choice"),
        (["--res", "3"], "--res"),
        (["--since", "2026-11-19"], "two slices"),
        (["--since", "2027-01-01"], "no reports"),
    ],
)
def test_cli_emerging_bad_input_is_one_line_and_status_2(demo_db, tmp_path, capsys, args, reason):
    from hotspot.cli import main

    status = main(["emerging", "--db", demo_db, "--out", str(tmp_path / "e.csv"), *args])
    err = capsys.readouterr().err
    assert status == 2
    assert reason in err
    assert err.count("\n") == 1
