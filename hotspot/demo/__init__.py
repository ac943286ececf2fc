"""A synthetic demo town in north Daxing with communities, streets, storefront zones and reports."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import from_metric, gcj02_to_wgs84, to_metric
from hotspot.demo._geography import (
    Geography,
    communities,
    community_frame,
    grid,
    town_polygon,
    workers,
)
from hotspot.demo._params import (
    COMMUNITY_KINDS,
    INNER_MARGIN_M,
    KINDS,
    PERIOD_DAYS,
    TOWN_AREA_RANGE_M2,
)
from hotspot.demo._reports import build_reports
from hotspot.demo._streets import find_landmarks, lay_streets, street_frame
from hotspot.demo._texts import ATTRIBUTION, NOTICE, TOWN_NAME
from hotspot.demo._zones import patrols, storefronts

__all__ = [
    "ATTRIBUTION",
    "COMMUNITY_KINDS",
    "DISTRICT_FILE",
    "NOTICE",
    "DemoTown",
    "build_town",
    "load_district",
]

log = logging.getLogger(__name__)

#: The Daxing district boundary (GCJ-02), shipped in the repository's data/ folder.
DISTRICT_FILE: Path = Path(__file__).resolve().parents[2] / "data" / "daxing_110115_gcj02.geojson"


@dataclass
class DemoTown:
    """A synthetic town in WGS84, shaped like the store's tables.

    Attributes
    ----------
    boundary : shapely.Polygon
        The town (WGS84).
    communities : geopandas.GeoDataFrame
        Table ``community``: id, code, name, area_m2, geometry.
    grid_cells : pandas.DataFrame
        Table ``grid_cell``: cell (H3 int64 at the grid resolution), community_id, grid_worker.
    streets : geopandas.GeoDataFrame
        Table ``street``: id, name, kind, geometry (LineString).
    zones : geopandas.GeoDataFrame
        Table ``storefront_zone`` and its geometry.
    patrols : pandas.DataFrame
        Table ``patrol``.
    reports : geopandas.GeoDataFrame
        Table ``report`` (all but ``version``) and its geometry.
    events : pandas.DataFrame
        Table ``report_event``: one row per status change, in order.
    planted : pandas.DataFrame
        Ground truth of the planted hotspots: name, layer, kind ('persistent', 'emerging',
        'fading'), lng, lat, radius_m, n_reports.
    meta : dict of str to str
        demo, demo_seed, demo_until, town_name, attribution, notice and more.
    """

    boundary: shapely.Polygon
    communities: gpd.GeoDataFrame
    grid_cells: pd.DataFrame
    streets: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    patrols: pd.DataFrame
    reports: gpd.GeoDataFrame
    events: pd.DataFrame
    planted: pd.DataFrame
    meta: dict[str, str]


def load_district(path: Path | None = None) -> shapely.MultiPolygon:
    """Read the Daxing district boundary and convert it from GCJ-02 to WGS84.

    Parameters
    ----------
    path : pathlib.Path, optional
        A GeoJSON geometry, Feature or FeatureCollection in GCJ-02; defaults to
        :data:`DISTRICT_FILE`.

    Returns
    -------
    shapely.MultiPolygon or shapely.Polygon
        The district in WGS84, every vertex converted with the exact GCJ-02 inverse.

    Raises
    ------
    FileNotFoundError
        If the boundary file is missing.
    """
    path = DISTRICT_FILE if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"the Daxing district boundary {path} is missing: the demo town is cut from it "
            "(expected data/daxing_110115_gcj02.geojson in the repository)"
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("type") == "FeatureCollection":
        geometry = shapely.union_all(
            [shapely.geometry.shape(f["geometry"]) for f in data["features"]]
        )
    elif data.get("type") == "Feature":
        geometry = shapely.geometry.shape(data["geometry"])
    else:
        geometry = shapely.geometry.shape(data)
    return shapely.transform(
        geometry, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1]))
    )


def build_town(*, seed: int = 7, n_reports: int = 20_000, until: dt.date | None = None) -> DemoTown:
    """Build the synthetic demo town: the same seed and ``until`` give identical data.

    Parameters
    ----------
    seed : int, default 7
        Seed of the one random generator everything is drawn from.
    n_reports : int, default 20000
        Reports over the 12 months up to and including ``until``; 0 gives the town alone.
    until : datetime.date, optional
        Last day of the reports; today when omitted.

    Returns
    -------
    DemoTown

    Raises
    ------
    FileNotFoundError
        If the district boundary file is missing.
    """
    until = dt.date.today() if until is None else until
    if isinstance(until, dt.datetime):
        until = until.date()
    rng = np.random.default_rng(seed)
    start = np.datetime64(until, "D") - np.timedelta64(PERIOD_DAYS - 1, "D")
    start = start.astype("datetime64[s]")

    # Every step draws from ``rng`` in turn: reordering them changes the whole town.
    town = town_polygon(to_metric(load_district()), rng)
    boundary = from_metric(town)
    area = shapely.area(to_metric(boundary))
    if not TOWN_AREA_RANGE_M2[0] <= area <= TOWN_AREA_RANGE_M2[1]:
        raise AssertionError(f"demo town area {area / 1e6:.1f} km² is outside 25–35 km²")
    log.info("demo town: %.1f km²", area / 1e6)
    inner = shapely.buffer(town, -INNER_MARGIN_M)

    polygons, kind, community_name = communities(town, rng)
    communities_wgs = from_metric(polygons)
    community_table = community_frame(communities_wgs, community_name)
    grid_cells, community_worker = grid(communities_wgs, rng)
    cell_worker = pd.Series(
        grid_cells["grid_worker"].to_numpy(), index=grid_cells["cell"].to_numpy()
    )

    streets = lay_streets(town, polygons, kind, rng)
    street_table = street_frame(streets, from_metric(streets.line))
    landmarks = find_landmarks(inner, streets, polygons, kind, rng)

    zones, zone_table = storefronts(town, streets, polygons, kind, until, rng)
    inspector = workers(zones.cell, zones.community, cell_worker, community_worker)
    patrol_table = patrols(zones, inspector, start, rng)

    geo = Geography(
        town=town,
        inner=inner,
        point_area=shapely.buffer(town, -1.0),
        community=polygons,
        community_kind=kind,
        community_name=community_name,
        community_worker=community_worker,
        cell_worker=cell_worker,
        streets=streets,
        landmarks=landmarks,
        zones=zones,
    )
    reports, events, planted = build_reports(int(n_reports), geo, start, rng)
    log.info(
        "demo town: %d communities, %d streets, %d zones, %d patrols, %d reports, %d events",
        len(community_table),
        len(street_table),
        len(zone_table),
        len(patrol_table),
        len(reports),
        len(events),
    )
    meta = {
        "demo": "true",
        "demo_seed": str(seed),
        "demo_until": until.isoformat(),
        "town_name": TOWN_NAME,
        "district": "北京市大兴区 (110115)",
        "attribution": ATTRIBUTION,
        "notice": NOTICE,
        "community_kinds": json.dumps(
            {f"SQ{i + 1:02d}": COMMUNITY_KINDS[KINDS[k]] for i, k in enumerate(kind)},
            ensure_ascii=False,
        ),
    }
    return DemoTown(
        boundary=boundary,
        communities=community_table,
        grid_cells=grid_cells,
        streets=street_table,
        zones=zone_table,
        patrols=patrol_table,
        reports=reports,
        events=events,
        planted=planted,
        meta=meta,
    )
