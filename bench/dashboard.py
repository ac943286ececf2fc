"""Benchmark: the dashboard's pages rendered server-side, against the naive folium map.

Builds a store (the 20,000-report demo town, and for the overview also a store with
1,000,000 reports imported into the same town) and renders each page in a fresh process
with Streamlit's AppTest, after a warm-up visit that imports the modules and opens the
store as a running server has: ``first_s`` is the page's first run (its data read cold),
``rerender_s`` the run after the sidebar period changes from 30 to 90 days,
``map_MB`` the HTML sent for the page's map (script, HTML and header of the st_folium
component), ``peak_MiB`` the process's peak RSS. For the map the naive way is measured
in the same process on the same reports: a ``folium.CircleMarker`` per report and a
``folium.Polygon`` per grid cell, rendered to HTML (``naive_s``, ``naive_MB``).

Usage: python bench/dashboard.py [--sizes 20000 1000000] [--db URL]

With ``--db postgresql+psycopg://…/TEMPLATE`` each size's store is a fresh PostgreSQL
database created from the template database TEMPLATE (one with the postgis extension) and
dropped afterwards; without it, a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from _child import run_in_child

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hotspot.store.engine import copy_database, drop_database  # noqa: E402

#: Page file -> name in the table; the overview is also run on the big store.
PAGES = {
    "pages/overview.py": "overview",
    "pages/crackdown.py": "crackdown",
    "pages/community.py": "community",
    "pages/storefronts.py": "storefronts",
    "pages/map.py": "issue map",
}
BIG_STORE_PAGES = ("pages/overview.py",)


def build_store(url: str, n: int) -> None:
    """The demo town with ``n`` reports: the demo itself for 20,000, else an import."""
    from hotspot.services import ensure_store

    if n == 20_000:
        ensure_store(url)
        return
    from ingest import SEED, UNTIL, make_csv  # bench/ is on the path

    from hotspot.demo import build_town
    from hotspot.intake.importer import import_reports
    from hotspot.store.engine import open_store
    from hotspot.store.town import write_town

    town = build_town(seed=SEED, n_reports=0, until=UNTIL)
    engine = open_store(url)
    write_town(engine, town)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reports.csv"
        make_csv(path, n, town.boundary)
        import_reports(engine, path)
    engine.dispose()


def _map_bytes(at) -> int:
    """Bytes of the st_folium component's script, HTML and header on the page (0 if none)."""
    elements = list(at.main.get("component_instance"))
    elements += [el for block in at.main for el in getattr(block, "children", {}).values()]
    for element in elements:
        proto = getattr(element, "proto", None)
        if proto is not None and "st_folium" in getattr(proto, "component_name", ""):
            args = json.loads(proto.json_args)
            return sum(len(args.get(k, "").encode()) for k in ("script", "html", "header"))
    return 0


def render_page(url: str, page: str) -> dict:
    """Render ``page`` in this process: first run, rerun after a period change, map size."""
    import os

    os.environ["HOTSPOT_DATABASE_URL"] = url
    from streamlit.testing.v1 import AppTest

    # As on a running server: modules imported and the store opened by an earlier
    # visit (here one that asked for the last 7 days, so the page's own data is cold).
    warm = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    warm.query_params["days"] = "7"
    warm.run()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    started = time.perf_counter()
    at.run()
    if page != "pages/overview.py":
        started = time.perf_counter()
        at.switch_page(page).run()
    first = time.perf_counter() - started
    errors = [e.message for e in at.exception]
    html_bytes = _map_bytes(at)
    started = time.perf_counter()
    at.sidebar.selectbox(key="f_days").set_value(90).run()
    rerender = time.perf_counter() - started
    errors += [e.message for e in at.exception]
    return {
        "first_s": first,
        "rerender_s": rerender,
        "map_MB": html_bytes / 1e6,
        "peak_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "errors": errors,
    }


def naive_map(url: str) -> dict:
    """The textbook folium map of the same 30 days: a marker per report, a polygon per cell."""
    import datetime as dt

    import folium

    from geo.cells import cell_boundaries
    from hotspot.filters import ReportFilter
    from hotspot.store.engine import open_store
    from hotspot.store.frames import read_grid_cells, read_reports

    engine = open_store(url)
    since = dt.date.today() - dt.timedelta(days=29)
    started = time.perf_counter()
    reports = read_reports(engine, ReportFilter(since=since))
    cells = read_grid_cells(engine)
    fmap = folium.Map(location=[reports["lat"].mean(), reports["lng"].mean()], zoom_start=14)
    for boundary in cell_boundaries(cells["cell"].to_numpy()):
        folium.Polygon([(y, x) for x, y in boundary.exterior.coords], weight=1).add_to(fmap)
    for row in reports.itertuples():
        folium.CircleMarker(
            [row.lat, row.lng], radius=4, popup=f"{row.category_name} {row.address}"
        ).add_to(fmap)
    html = fmap.get_root().render()
    return {"naive_s": time.perf_counter() - started, "naive_MB": len(html.encode()) / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 1_000_000])
    parser.add_argument(
        "--db",
        help="a PostgreSQL template database's URL: each size's store is a copy of it "
        "(default: a temporary SQLite file per size)",
    )
    parser.add_argument("--child-url")
    parser.add_argument("--child-page")
    parser.add_argument("--naive", action="store_true")
    args = parser.parse_args()
    if args.child_url:
        out = (
            naive_map(args.child_url)
            if args.naive
            else render_page(args.child_url, args.child_page)
        )
        print(json.dumps(out))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            if args.db:
                url = copy_database(args.db, f"hotspot_bench_dashboard_{n}")
            else:
                url = f"sqlite:///{Path(tmp) / f'store_{n}.db'}"
            try:
                started = time.perf_counter()
                build_store(url, n)
                print(f"store with {n:,} reports built in {time.perf_counter() - started:.0f} s")
                pages = list(PAGES) if n <= 20_000 else list(BIG_STORE_PAGES)
                for page in pages:
                    out = run_in_child(__file__, "--child-url", url, "--child-page", page)
                    row = {
                        "reports": n,
                        "page": PAGES[page],
                        "first_s": round(out["first_s"], 2),
                        "rerender_s": round(out["rerender_s"], 2),
                        "map_MB": round(out["map_MB"], 2),
                        "peak_MiB": int(out["peak_MiB"]),
                    }
                    if page == "pages/map.py":
                        naive = run_in_child(__file__, "--child-url", url, "--naive")
                        row["naive_s"] = round(naive["naive_s"], 2)
                        row["naive_MB"] = round(naive["naive_MB"], 2)
                        row["x_faster"] = round(naive["naive_s"] / out["first_s"], 1)
                    if out["errors"]:
                        row["errors"] = "; ".join(out["errors"])[:80]
                    rows.append(row)
                    print(pd.DataFrame(rows).to_string(index=False, na_rep=""), flush=True)
                    print()
            finally:
                if args.db:
                    drop_database(url)


if __name__ == "__main__":
    main()
