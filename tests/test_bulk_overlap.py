"""A large import matches relapses and duplicates while the loader rebuilds the indexes.

On PostgreSQL a large load goes through a temporary table and is moved in, its indexes
and keys rebuilt, in the loader's background thread while the importer matches; the
store's candidates are read before that (the rebuild locks readers out until the commit).
``REBUILD_MIN_ROWS`` is lowered so that a small file takes that path.
"""

from __future__ import annotations

import pandas as pd
import pytest
import shapely
from sqlalchemy import inspect

from geo.wkb import points_to_wkb
from hotspot.intake.importer import import_reports
from hotspot.store.bulk import BulkLoader, _ewkb_text
from hotspot.store.engine import open_store
from hotspot.store.frames import read_reports
from tests.conftest import canonical_row, write_csv

HERE = {"lng": "116.305000", "lat": "39.785000"}


def _import_failing_on_waits(engine, path):
    """Import ``path`` through an engine whose connections give up waiting for a lock.

    On PostgreSQL a read of the table made while the loader's own transaction locks it
    would wait for that transaction, which waits for the read: the test fails instead.
    """
    url = engine.url
    if url.get_backend_name() == "postgresql":
        url = url.update_query_dict({"options": "-c lock_timeout=20s"})
    importing = open_store(url.render_as_string(hide_password=False))
    try:
        return import_reports(importing, path)
    finally:
        importing.dispose()


@pytest.mark.parametrize("rebuild", [False, True], ids=["indexes-kept", "indexes-rebuilt"])
def test_a_large_import_flags_relapses_of_stored_and_own_reports(
    town_engine, tmp_path, rebuild, monkeypatch
):
    parent = canonical_row(
        1, **HERE, reported_at="2026-09-01 08:00:00", status="closed", closed_at="2026-09-03 08:00"
    )
    import_reports(town_engine, write_csv(tmp_path / "first.csv", [parent]))
    indexes = {ix["name"] for ix in inspect(town_engine).get_indexes("report")}
    monkeypatch.setattr(BulkLoader, "REBUILD_MIN_ROWS", 1 if rebuild else 10**9)
    rows = [
        canonical_row(2, **HERE, reported_at="2026-10-01 08:00:00"),  # relapses the stored one
        canonical_row(3, **HERE, reported_at="2026-10-01 09:00:00"),  # ... and duplicates row 2
        canonical_row(4, category="street_litter"),
        # filler: more rows than the store holds (the loader may rebuild)
        *(canonical_row(i, category="street_litter") for i in range(10, 30)),
    ]
    result = _import_failing_on_waits(town_engine, write_csv(tmp_path / "second.csv", rows))
    assert (result.imported, result.relapses, result.duplicates) == (len(rows), 2, 1)
    stored = read_reports(town_engine).set_index("external_id")
    ids = stored["id"]
    assert stored.loc["12345-00002", "relapse_of"] == ids["12345-00001"]
    assert stored.loc["12345-00003", "relapse_of"] == ids["12345-00001"]
    assert stored.loc["12345-00003", "duplicate_of"] == ids["12345-00002"]
    assert stored["relapse_of"].notna().sum() == 2 and stored["duplicate_of"].notna().sum() == 1
    town_engine.dispose()
    assert {ix["name"] for ix in inspect(town_engine).get_indexes("report")} == indexes


def test_geometry_text_for_copy_is_each_value_in_hex_after_the_srid():
    polygon = shapely.to_wkb(shapely.box(116.30, 39.78, 116.31, 39.79))
    values = pd.Series([*points_to_wkb([116.3, 116.4, 116.5], [39.7, 39.8, 39.9]), None, polygon])
    for part in (values, values.iloc[1:], values.iloc[3:4]):
        expected = [None if v is None else "SRID=4326;" + v.hex() for v in part]
        assert _ewkb_text(part).to_pylist() == expected
    assert _ewkb_text(pd.Series([], dtype=object)).to_pylist() == []
