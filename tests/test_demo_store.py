"""The demo town through the store and the command line."""

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import shapely

from hotspot.demo import build_town
from hotspot.store.frames import (
    read_communities,
    read_events,
    read_grid_cells,
    read_meta,
    read_reports,
    read_zones,
)
from hotspot.store.town import write_town
from hotspot.taxonomy import HEADLINE_LAYERS
from tests.stores import new_store_url
from tests.test_cli import run_cli

UNTIL = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def town():
    return build_town(seed=3, n_reports=3000, until=UNTIL)


@pytest.fixture(scope="module")
def town_store(town, tmp_path_factory):
    from hotspot.store.engine import open_store

    engine = open_store(new_store_url(tmp_path_factory.mktemp("demo"), "demo"))
    write_town(engine, town)
    return engine


def _assert_same(stored: pd.DataFrame, built: pd.DataFrame) -> None:
    for column in built.columns:
        got, want = stored[column].reset_index(drop=True), built[column].reset_index(drop=True)
        if column == "geometry":
            assert shapely.equals_exact(got.to_numpy(), want.to_numpy(), 1e-12).all()
            continue
        both_missing = got.isna().to_numpy() & want.isna().to_numpy()
        if pd.api.types.is_float_dtype(want):
            close = np.isclose(got.astype(float), want.astype(float), rtol=0, atol=1e-9)
            assert (close | both_missing).all(), column
        else:
            same = (got.astype(object) == want.astype(object)).to_numpy()
            assert (same | both_missing).all(), column


def test_the_store_keeps_every_field_of_the_demo_town(town, town_store):
    _assert_same(read_communities(town_store), town.communities)
    _assert_same(read_zones(town_store), town.zones)
    _assert_same(read_grid_cells(town_store), town.grid_cells)
    reports = read_reports(town_store)
    _assert_same(reports, town.reports)
    assert len(read_events(town_store)) == len(town.events)
    assert read_meta(town_store)["demo"] == "true"


def test_demo_then_export_gives_every_headline_layer(tmp_path):
    db = new_store_url(tmp_path, "demo")
    done = run_cli("demo", "--reports", "5000", "--until", "2026-11-20", "--db", db)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out.geojson"
    done = run_cli("export", out, "--db", db)
    assert done.returncode == 0, done.stderr
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert "演示数据" in collection["notice"]
    layers = pd.Series([f["properties"]["layer"] for f in collection["features"]])
    assert len(layers) == 5000
    for layer in HEADLINE_LAYERS:
        assert (layers == layer).sum() >= 100, layer
    footprints = [f for f in collection["features"] if f["geometry"]["type"] == "Polygon"]
    assert footprints and all(f["properties"]["area_m2"] > 0 for f in footprints)


def test_demo_with_no_reports_gives_the_bare_town(tmp_path):
    db = new_store_url(tmp_path, "empty")
    done = run_cli("demo", "--reports", "0", "--db", db)
    assert done.returncode == 0, done.stderr
    assert "0 reports" in done.stdout
