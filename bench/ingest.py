"""Benchmark: importing report CSVs into the store, against the naive row-by-row way.

Prints one row per size: seconds per stage (read: CSV parse; lookup: store context and known ids;
check+load: parse, convert, validate, index and attribute each chunk while the previous one is
written in the background; relapses: read the store's candidates and match relapses and
duplicates, while the loader rebuilds the indexes in the background; index+commit: what is left
of the rebuild, the flags written, commit), total, rows/s, peak RSS of a fresh process, and the
ratio to the naive way (per-row h3 calls, per-row point-in-polygon for community and storefront
zone, row-by-row inserts) measured in the same run on a sample of the same file and scaled
linearly to the full size.

Usage: python bench/ingest.py [--sizes 10000 100000 1000000] [--naive-sample 20000] [--db URL]

With ``--db postgresql+psycopg://…/TEMPLATE`` every store is a fresh PostgreSQL database
created from the template database TEMPLATE (one with the postgis extension) and dropped
afterwards; without it, a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from _child import run_in_child

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hotspot.demo import build_town  # noqa: E402
from hotspot.store.engine import copy_database, drop_database, open_store  # noqa: E402
from hotspot.store.town import write_town  # noqa: E402
from hotspot.taxonomy import load_categories  # noqa: E402

SEED = 11
UNTIL = dt.date(2026, 11, 20)


def make_town_store(url: str):
    """A store holding the demo town without reports (the service area and zones)."""
    engine = open_store(url)
    write_town(engine, build_town(seed=SEED, n_reports=0, until=UNTIL))
    return engine


def make_csv(path: Path, n: int, boundary: shapely.Geometry) -> None:
    """Write ``n`` canonical report rows at random points inside ``boundary``."""
    rng = np.random.default_rng(n)
    minx, miny, maxx, maxy = boundary.bounds
    shapely.prepare(boundary)
    lng = np.empty(0)
    lat = np.empty(0)
    while lng.size < n:
        x = rng.uniform(minx, maxx, 2 * n)
        y = rng.uniform(miny, maxy, 2 * n)
        inside = shapely.contains_xy(boundary, x, y)
        lng, lat = np.concatenate([lng, x[inside]]), np.concatenate([lat, y[inside]])
    codes = load_categories().index.to_numpy()
    start = np.datetime64("2025-11-21T00:00:00")
    seconds = rng.integers(0, 364 * 86_400, n)
    frame = pd.DataFrame(
        {
            "id": np.char.add("DX", np.arange(n).astype(str)),
            "category": codes[rng.integers(0, codes.size, n)],
            "lng": np.round(lng[:n], 6),
            "lat": np.round(lat[:n], 6),
            "reported_at": np.datetime_as_string(start + seconds.astype("timedelta64[s]")),
            "description": "小区内发现问题，请尽快处理",
            "source": rng.choice(["12345热线", "网格巡查", "执法检查"], n),
            "status": rng.choice(["待派遣", "已派遣", "整改中", "核查结案"], n),
            "address": np.char.add("兴旺路", rng.integers(1, 400, n).astype(str)),
        }
    )
    frame.to_csv(path, index=False)


def run_fast(url: str, path: Path) -> dict:
    """Import with the product's importer in this process; stage timings and peak RSS."""
    from hotspot.intake.importer import import_reports

    engine = open_store(url)
    started = time.perf_counter()
    result = import_reports(engine, path)
    total = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "total": total,
        "imported": result.imported,
        "peak_mib": peak_kib / 1024,
        **result.timings,
    }


def run_naive(url: str, path: Path, limit: int) -> dict:
    """The naive way: csv.DictReader, per-row h3, per-row point-in-polygon, per-row INSERT.

    The same work as the importer (community and storefront zone of every point, its
    cell, its row), done one row at a time with plain loops.
    """
    import csv

    import h3
    from sqlalchemy import insert, select

    from hotspot.store import schema
    from hotspot.store.frames import read_communities, read_zones

    engine = open_store(url)
    communities = read_communities(engine)
    polygons = list(zip(communities["id"], communities.geometry, strict=True))
    zones = read_zones(engine)
    zone_polygons = list(zip(zones["id"], zones.geometry, strict=True))
    catalogue = load_categories()
    started = time.perf_counter()
    with path.open(encoding="utf-8") as handle, engine.begin() as conn:
        next_id = (
            conn.execute(select(schema.report.c.id).order_by(schema.report.c.id.desc())).scalar()
            or 0
        ) + 1
        for i, row in enumerate(csv.DictReader(handle)):
            if i >= limit:
                break
            lng, lat = float(row["lng"]), float(row["lat"])
            point = shapely.Point(lng, lat)
            community_id = next((cid for cid, poly in polygons if poly.contains(point)), None)
            zone_id = next((zid for zid, poly in zone_polygons if poly.contains(point)), None)
            cell = h3.str_to_int(h3.latlng_to_cell(lat, lng, 12))
            conn.execute(
                insert(schema.report).values(
                    id=next_id + i,
                    external_id=row["id"],
                    category=row["category"] if row["category"] in catalogue.index else "other",
                    description=row["description"],
                    address=row["address"],
                    geom=shapely.to_wkb(point),
                    lng=lng,
                    lat=lat,
                    reported_at=dt.datetime.fromisoformat(row["reported_at"]),
                    status="new",
                    community_id=community_id,
                    zone_id=zone_id,
                    cell=cell if cell < 2**63 else cell - 2**64,
                )
            )
    return {"naive_seconds": time.perf_counter() - started, "naive_rows": min(limit, i + 1)}


def _child(args: argparse.Namespace) -> None:
    url, path = args.child_url, Path(args.child_file)
    out = run_naive(url, path, args.naive_sample) if args.naive else run_fast(url, path)
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--naive-sample", type=int, default=5_000)
    parser.add_argument("--child-url")
    parser.add_argument("--child-file")
    parser.add_argument("--naive", action="store_true")
    parser.add_argument(
        "--db",
        help="a PostgreSQL template database's URL: each store is a copy of it "
        "(default: a temporary SQLite file per store)",
    )
    args = parser.parse_args()
    if args.child_url:
        _child(args)
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        boundary = build_town(seed=SEED, n_reports=0, until=UNTIL).boundary
        for n in args.sizes:
            path = Path(tmp) / f"reports_{n}.csv"
            make_csv(path, n, boundary)
            urls = []
            try:
                for kind in ("fast", "naive"):
                    if args.db:
                        url = copy_database(args.db, f"hotspot_bench_ingest_{kind}_{n}")
                    else:
                        url = f"sqlite:///{Path(tmp) / f'{kind}_{n}.db'}"
                    urls.append(url)
                    make_town_store(url).dispose()
                fast = run_in_child(__file__, "--child-url", urls[0], "--child-file", str(path))
                naive = run_in_child(
                    __file__,
                    "--child-url",
                    urls[1],
                    "--child-file",
                    str(path),
                    "--naive",
                    "--naive-sample",
                    str(min(n, args.naive_sample)),
                )
            finally:
                if args.db:
                    for url in urls:
                        drop_database(url)
            naive_total = naive["naive_seconds"] * n / naive["naive_rows"]
            rows.append(
                {
                    "rows": n,
                    **{
                        k: round(v, 2)
                        for k, v in fast.items()
                        if k not in ("imported", "peak_mib", "total")
                    },
                    "total_s": round(fast["total"], 2),
                    "rows_per_s": int(n / fast["total"]),
                    "peak_MiB": int(fast["peak_mib"]),
                    "naive_s": round(naive_total, 1),
                    "x_faster": round(naive_total / fast["total"], 1),
                }
            )
            print(pd.DataFrame(rows).to_string(index=False), flush=True)
            print()


if __name__ == "__main__":
    main()
