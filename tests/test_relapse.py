"""Relapses (反弹) and duplicates: the matching rules, and their flags at import."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.relapse import find_duplicates, find_relapses
from hotspot.cli import main
from hotspot.demo import build_town
from hotspot.intake.importer import import_reports
from hotspot.store.frames import count_flags, read_reports, read_reports_since
from tests.conftest import canonical_row, write_csv

LNG, LAT = 116.305, 39.785
METRES_PER_DEGREE = math.radians(1.0) * 6_371_008.8
T0 = pd.Timestamp("2026-06-01 09:00")


def east(metres: float) -> float:
    """The longitude ``metres`` east of the test point."""
    return LNG + metres / (METRES_PER_DEGREE * math.cos(math.radians(LAT)))


def reports(*rows: dict) -> pd.DataFrame:
    """Report rows with defaults: one category, at the test point, open, ids from 1."""
    frame = pd.DataFrame(
        [
            {
                "id": i + 1,
                "category": "litter",
                "lng": LNG,
                "lat": LAT,
                "reported_at": T0,
                "status": "new",
                "resolved_at": pd.NaT,
                "closed_at": pd.NaT,
                **row,
            }
            for i, row in enumerate(rows)
        ]
    )
    for column in ("reported_at", "resolved_at", "closed_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    return frame


def closed(**changes) -> dict:
    """An earlier report closed at T0."""
    return {
        "id": 100,
        "reported_at": T0 - pd.Timedelta(days=5),
        "status": "closed",
        "resolved_at": T0 - pd.Timedelta(days=1),
        "closed_at": T0,
        **changes,
    }


@pytest.mark.parametrize(
    ("metres", "days", "category", "was_closed", "expected"),
    [
        (25, 59, "litter", True, 100),
        (35, 59, "litter", True, -1),
        (25, 61, "litter", True, -1),
        (25, 59, "graffiti", True, -1),
        (25, 59, "litter", False, -1),
        (0, -1, "litter", True, -1),  # reported before the earlier one was closed
    ],
)
def test_relapse_needs_same_category_near_and_soon_after_closing(
    metres, days, category, was_closed, expected
):
    earlier = reports(closed() if was_closed else closed(status="in_progress", closed_at=None))
    new = reports(
        {
            "id": 1,
            "category": category,
            "lng": east(metres),
            "reported_at": T0 + pd.Timedelta(days=days),
        }
    )
    assert find_relapses(new, earlier).tolist() == [expected]


@pytest.mark.parametrize(
    ("metres", "hours", "status", "expected"),
    [
        (15, 23, "in_progress", 100),
        (15, 23, "new", 100),
        (15, 23, "closed", -1),
        (25, 23, "new", -1),
        (15, 25, "new", -1),
    ],
)
def test_duplicate_needs_an_open_report_near_and_within_a_day(metres, hours, status, expected):
    done = {"resolved_at": T0, "closed_at": T0} if status == "closed" else {}
    earlier = reports({"id": 100, "reported_at": T0, "status": status, **done})
    later = T0 + pd.Timedelta(hours=hours) if status != "closed" else T0 + pd.Timedelta(hours=1)
    new = reports({"id": 1, "lng": east(metres), "reported_at": later})
    assert find_duplicates(new, earlier).tolist() == [expected]


def test_a_report_is_no_duplicate_of_one_resolved_before_it_came():
    earlier = reports(
        {"id": 100, "status": "in_progress", "resolved_at": T0 + pd.Timedelta(hours=2)}
    )
    at = [T0 + pd.Timedelta(hours=1), T0 + pd.Timedelta(hours=3)]
    new = reports({"id": 1, "reported_at": at[0]}, {"id": 2, "reported_at": at[1]})
    assert find_duplicates(new, earlier).tolist() == [100, -1]


def test_the_most_recently_closed_and_the_earliest_open_report_are_chosen():
    earlier = reports(
        closed(id=10, closed_at=T0 - pd.Timedelta(days=20)),
        closed(id=11, closed_at=T0 - pd.Timedelta(days=2)),
        closed(id=12, closed_at=T0 - pd.Timedelta(days=9)),
        {"id": 20, "reported_at": T0 - pd.Timedelta(hours=3)},
        {"id": 21, "reported_at": T0 - pd.Timedelta(hours=9)},
        {"id": 22, "reported_at": T0 - pd.Timedelta(hours=1)},
    )
    new = reports({"id": 1, "lng": east(5)})
    assert find_relapses(new, earlier).tolist() == [11]
    assert find_duplicates(new, earlier).tolist() == [21]


def test_a_report_matches_neither_itself_nor_a_later_one():
    same = reports(
        {"id": 1, "status": "closed", "closed_at": T0 + pd.Timedelta(days=1)},
        {"id": 2, "reported_at": T0 + pd.Timedelta(days=3)},
    )
    assert find_relapses(same, same).tolist() == [-1, 1]
    assert find_duplicates(same, same).tolist() == [-1, -1]


def brute_force_relapses(new: pd.DataFrame, earlier: pd.DataFrame, distance_m, window_days):
    out = []
    for _, n in new.iterrows():
        best = None
        for _, e in earlier.iterrows():
            if e["category"] != n["category"] or pd.isna(e["closed_at"]) or e["id"] == n["id"]:
                continue
            gap = n["reported_at"] - e["closed_at"]
            if not pd.Timedelta(0) < gap <= pd.Timedelta(days=window_days):
                continue
            k = math.cos(math.radians((n["lat"] + e["lat"]) / 2))
            dx = math.radians(n["lng"] - e["lng"]) * k * 6_371_008.8
            dy = math.radians(n["lat"] - e["lat"]) * 6_371_008.8
            if dx * dx + dy * dy > distance_m**2:
                continue
            key = (e["closed_at"], e["id"])
            if best is None or key > best[0]:
                best = (key, e["id"])
        out.append(-1 if best is None else best[1])
    return out


@st.composite
def report_sets(draw):
    n = draw(st.integers(1, 25))
    rows = []
    for i in range(n):
        metres_e, metres_n = draw(st.tuples(st.integers(0, 80), st.integers(0, 80)))
        reported = T0 + pd.Timedelta(hours=draw(st.integers(0, 24 * 150)))
        is_closed = draw(st.booleans())
        rows.append(
            {
                "id": i + 1,
                "category": draw(st.sampled_from(["litter", "graffiti"])),
                "lng": east(metres_e),
                "lat": LAT + metres_n / METRES_PER_DEGREE,
                "reported_at": reported,
                "status": "closed" if is_closed else "new",
                "closed_at": (
                    reported + pd.Timedelta(hours=draw(st.integers(1, 24 * 40)))
                    if is_closed
                    else pd.NaT
                ),
            }
        )
    return reports(*rows)


@settings(max_examples=60, deadline=None)
@given(report_sets(), st.sampled_from([10.0, 30.0, 50.0]), st.sampled_from([7.0, 30.0, 60.0]))
def test_find_relapses_agrees_with_a_double_loop(frame, distance_m, window_days):
    got = find_relapses(frame, frame, distance_m=distance_m, window_days=window_days)
    assert got.tolist() == brute_force_relapses(frame, frame, distance_m, window_days)


@pytest.fixture(scope="module")
def demo_reports():
    return build_town(seed=3, n_reports=3000, until=dt.date(2026, 11, 20)).reports


def test_the_demo_towns_planted_relapses_are_recovered(demo_reports):
    planted = demo_reports["relapse_of"]
    has = planted.notna().to_numpy()
    assert has.sum() > 50
    found = find_relapses(demo_reports, demo_reports)
    # Every planted relapse matches some closed report; it is its planted parent unless
    # another report of its kind nearby was closed more recently.
    assert (found[has] >= 0).all()
    assert (found[has] == planted[has].to_numpy(dtype=np.int64)).mean() >= 0.95


def test_the_demo_towns_planted_duplicates_of_open_reports_are_recovered(demo_reports):
    planted = demo_reports["duplicate_of"]
    has = planted.notna().to_numpy()
    parents = demo_reports.set_index("id").loc[planted[has].astype(int), "status"].to_numpy()
    # the store keeps no rejection time: a rejected parent is never counted as open
    of_kept = parents != "rejected"
    found = find_duplicates(demo_reports, demo_reports)[has]
    assert (found[of_kept] == planted[has].to_numpy(dtype=np.int64)[of_kept]).mean() >= 0.95


def test_import_flags_a_relapse_of_a_stored_report_and_the_cli_counts_it(
    town_engine, tmp_path, capsys
):
    first = canonical_row(
        1,
        reported_at="2026-09-01 08:00:00",
        status="closed",
        resolved_at="2026-09-02 08:00:00",
        closed_at="2026-09-03 08:00:00",
    )
    import_reports(town_engine, write_csv(tmp_path / "first.csv", [first]))
    lat = float(first["lat"]) + 10 / METRES_PER_DEGREE
    rows = [
        canonical_row(2, category="street_litter"),
        canonical_row(3, lng=first["lng"], lat=f"{lat:.7f}", reported_at="2026-10-01 08:00:00"),
    ]
    db = town_engine.url.render_as_string(hide_password=False)
    assert main(["import", str(write_csv(tmp_path / "second.csv", rows)), "--db", db]) == 0
    assert "duplicates 0, relapses 1" in capsys.readouterr().out
    stored = read_reports(town_engine).set_index("external_id")
    assert stored.loc["12345-00003", "relapse_of"] == stored.loc["12345-00001", "id"]
    assert pd.isna(stored.loc["12345-00002", "relapse_of"])
    assert count_flags(town_engine) == {"relapses": 1, "duplicates": 0}


def test_import_flags_matches_within_the_file_in_any_row_order(town_engine, tmp_path):
    here = {"lng": "116.305000", "lat": "39.785000"}
    rows = [
        # a relapse of row 3, which was reported and closed before it
        canonical_row(1, **here, reported_at="2026-10-20 08:00:00"),
        canonical_row(2, **here, reported_at="2026-10-20 10:00:00"),  # duplicates row 1
        canonical_row(
            3,
            **here,
            reported_at="2026-10-01 08:00:00",
            status="closed",
            closed_at="2026-10-05 08:00:00",
        ),
    ]
    result = import_reports(town_engine, write_csv(tmp_path / "in.csv", rows))
    assert (result.relapses, result.duplicates) == (2, 1)
    stored = read_reports(town_engine).set_index("external_id")
    ids = stored["id"]
    assert stored.loc["12345-00001", "relapse_of"] == ids["12345-00003"]
    assert stored.loc["12345-00002", "duplicate_of"] == ids["12345-00001"]
    assert count_flags(town_engine) == {"relapses": 2, "duplicates": 1}


def test_dry_run_counts_the_flags_without_writing(town_engine, tmp_path):
    here = {"lng": "116.305000", "lat": "39.785000"}
    rows = [canonical_row(1, **here), canonical_row(2, **here)]
    rows[1]["reported_at"] = rows[0]["reported_at"].replace("08:", "09:")
    result = import_reports(town_engine, write_csv(tmp_path / "in.csv", rows), dry_run=True)
    assert (result.duplicates, result.imported) == (1, 0)


def test_read_reports_since_reads_only_recent_reports_of_the_categories(town_engine, tmp_path):
    rows = [
        canonical_row(1, reported_at="2026-08-01 08:00:00"),
        canonical_row(
            2, reported_at="2026-07-01 08:00:00", status="closed", closed_at="2026-09-05 08:00:00"
        ),
        canonical_row(3, reported_at="2026-09-10 08:00:00"),
        canonical_row(4, reported_at="2026-09-10 08:00:00", category="street_litter"),
    ]
    import_reports(town_engine, write_csv(tmp_path / "in.csv", rows))
    got = read_reports_since(town_engine, dt.datetime(2026, 9, 1), ["abandoned_vehicle"])
    assert got["id"].tolist() == [2, 3]
    assert got["closed_at"].dtype == "datetime64[ns]"
    assert list(got.columns) == [
        "id",
        "category",
        "lng",
        "lat",
        "reported_at",
        "status",
        "resolved_at",
        "closed_at",
    ]
