"""The demo town's report table: places, addresses, descriptions, reporters, work orders."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo.cells import cells_from_points
from geo.crs import METRIC_CRS, from_metric, from_wgs84, to_metric, wgs84_to_gcj02
from geo.zones import attribute_points, representative_points
from hotspot.demo import _texts
from hotspot.demo._frames import REPORT_DTYPES, geoframe, nullable_ids, seconds_to_datetime
from hotspot.demo._geography import Geography
from hotspot.demo._params import CLOSED_COLUMN, DAY, HOUR, PERIOD_DAYS, SOURCE_ORDER
from hotspot.demo._workflow import Draft


def _addresses(
    mx: NDArray[np.float64], my: NDArray[np.float64], geo: Geography, rng: np.random.Generator
) -> NDArray[np.object_]:
    """The nearest street and a house number on the right side, or a building in a compound."""
    streets = geo.streets
    mpoints = shapely.points(mx, my)
    _, nearest = shapely.STRtree(streets.line).query_nearest(mpoints, all_matches=False)
    street = streets.line[nearest]
    at = shapely.line_locate_point(street, mpoints)
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(street, at + 1.0))
    here = shapely.get_coordinates(shapely.line_interpolate_point(street, at))
    cross = (ahead[:, 0] - here[:, 0]) * (my - here[:, 1]) - (ahead[:, 1] - here[:, 1]) * (
        mx - here[:, 0]
    )
    number = 2 * np.floor(at / 25.0).astype(np.int64) + np.where(cross > 0, 1, 2)
    distance = shapely.distance(street, mpoints)
    street_address = (
        streets.name[nearest] + pd.Series(number).astype(str).to_numpy(dtype=object) + "号"
    )
    # inside a compound, away from the street: its gate's number, then the building
    building = rng.integers(1, 40, mx.size)
    compound_address = (
        street_address + "院" + pd.Series(building).astype(str).to_numpy(dtype=object) + "号楼"
    )
    return np.where(distance > 45.0, compound_address, street_address).astype(object)


def _descriptions(
    draft: Draft,
    address: NDArray[np.object_],
    area: NDArray[np.float64],
    names_zh: NDArray[np.object_],
    layers: list[str],
    rng: np.random.Generator,
) -> NDArray[np.object_]:
    """Descriptions from templates: source prefix, address, category name and an ending."""
    n = draft.t.size
    templates = [
        list(_texts.GENERIC_TEMPLATES) + list(_texts.LAYER_TEMPLATES.get(layer, ()))
        for layer in layers
    ]
    width = max(len(options) for options in templates)
    parts = np.empty((len(layers), width, 3), dtype=object)
    for li, options in enumerate(templates):
        for k in range(width):
            parts[li, k] = options[k % len(options)]
    choice = np.floor(rng.random(n) * np.array([len(o) for o in templates])[draft.layer]).astype(
        int
    )
    chosen = parts[draft.layer, choice]
    prefix = np.array([_texts.SOURCE_PREFIX[s] for s in SOURCE_ORDER], dtype=object)[draft.source]
    description = (
        prefix + chosen[:, 0] + address + chosen[:, 1] + names_zh[draft.category] + chosen[:, 2]
    )
    fp = draft.footprint
    if fp.any():
        size_text = (
            pd.Series(np.round(area[fp]).astype(np.int64)).astype(str).to_numpy(dtype=object)
        )
        description[fp] = description[fp] + "面积约" + size_text + "平方米。"
    return description


def _work_order_numbers(
    reported_at: NDArray[np.datetime64], t: NDArray[np.float64], rng: np.random.Generator
) -> NDArray[np.object_]:
    """12345 work-order numbers: DX + date + 5 digits, increasing within a day."""
    day = pd.Series(reported_at).dt.strftime("%Y%m%d").to_numpy(dtype=object)
    day_index = np.floor(t / DAY).astype(np.int64)
    base = rng.integers(100, 40_000, PERIOD_DAYS)[day_index]
    step = pd.Series(rng.integers(1, 60, day_index.size)).groupby(day_index).cumsum().to_numpy()
    serial = pd.Series(base + step).astype(str).str.zfill(5).to_numpy(dtype=object)
    return "DX" + day + serial


def report_frame(
    draft: Draft,
    *,
    codes: NDArray[np.object_],
    names_zh: NDArray[np.object_],
    layers: list[str],
    geo: Geography,
    start: np.datetime64,
    rng: np.random.Generator,
) -> tuple[gpd.GeoDataFrame, NDArray[np.int64], NDArray[np.int64]]:
    """Table ``report``: the drafts in time order (ids 1..n), placed, addressed and described.

    Parameters
    ----------
    draft : Draft
        In time order, the workflow final.
    codes, names_zh : numpy.ndarray of str
        Code and Chinese name of each category.
    layers : list of str
    geo : Geography
    start : numpy.datetime64
        First second of the demo year.
    rng : numpy.random.Generator

    Returns
    -------
    reports : geopandas.GeoDataFrame
    community : numpy.ndarray of int
        Position of each report's community (-1 for none).
    cell : numpy.ndarray of int64
        H3 cell of each report's representative point.
    """
    n = draft.t.size
    status, times, footprint = draft.status, draft.times, draft.footprint
    source_code = np.array(SOURCE_ORDER, dtype=object)[draft.source]
    geoms_wgs = from_metric(draft.geoms)
    points = representative_points(geoms_wgs)
    lng, lat = shapely.get_x(points), shapely.get_y(points)
    area = np.full(n, np.nan)
    if footprint.any():
        area[footprint] = shapely.area(to_metric(geoms_wgs[footprint]))
    community = attribute_points(points, from_metric(geo.community))
    zone = attribute_points(points, from_metric(geo.zones.polygon))
    cell = cells_from_points(lng, lat)
    hotline = source_code == "hotline"
    gx, gy = wgs84_to_gcj02(lng, lat)

    address = _addresses(*from_wgs84(lng, lat, METRIC_CRS), geo, rng)
    description = _descriptions(draft, address, area, names_zh, layers, rng)

    # reporters: callers are recorded as 某先生/女士, residents by name; patrols have none
    resident = source_code == "resident"
    caller = _texts.callers(n, rng)
    full_name = _texts.random_names(n, rng)
    has_name = rng.random(n)
    phone = _texts.phones(n, rng)
    has_phone = rng.random(n)
    reporter_name = np.where(
        hotline & (has_name < 0.85), caller, np.where(resident & (has_name < 0.9), full_name, None)
    )
    reporter_phone = np.where(
        (hotline & (has_phone < 0.9)) | (resident & (has_phone < 0.8)), phone, None
    )

    reported_at = seconds_to_datetime(start, draft.t)
    external_id = np.full(n, None, dtype=object)
    if hotline.any():
        external_id[hotline] = _work_order_numbers(reported_at[hotline], draft.t[hotline], rng)

    resolved_col = np.where(np.isnan(times[:, 5]), 3, 5)
    resolved_at = np.where(
        np.isin(status, ["resolved", "closed"]), times[np.arange(n), resolved_col], np.nan
    )
    closed_at = np.where(status == "closed", times[:, CLOSED_COLUMN], np.nan)
    demolished = np.full(n, np.nan)
    if footprint.any():
        draw = rng.random(n)
        partial = rng.uniform(0.2, 0.9, n)
        full = footprint & ((status == "resolved") | ((status == "closed") & (draw > 0.08)))
        part = footprint & (
            ((status == "closed") & (draw <= 0.08)) | ((status == "in_progress") & (draw < 0.3))
        )
        demolished[full] = area[full]
        demolished[part] = np.round(area[part] * partial[part], 1)

    reports = geoframe(
        {
            "id": np.arange(1, n + 1),
            "external_id": external_id,
            "category": codes[draft.category],
            "description": description,
            "address": address,
            "area_m2": area,
            "lng": lng,
            "lat": lat,
            "orig_x": np.where(hotline, gx, lng),
            "orig_y": np.where(hotline, gy, lat),
            "orig_crs": np.where(hotline, "gcj02", "wgs84").astype(object),
            "reported_at": reported_at,
            "source": source_code,
            "reporter_name": reporter_name,
            "reporter_phone": reporter_phone,
            "status": status,
            "due_at": seconds_to_datetime(start, draft.t + draft.deadline_h * HOUR),
            "resolved_at": seconds_to_datetime(start, resolved_at),
            "closed_at": seconds_to_datetime(start, closed_at),
            "demolished_m2": demolished,
            "community_id": community + 1,
            "zone_id": nullable_ids(zone + 1),
            "cell": cell,
            "duplicate_of": nullable_ids(draft.duplicate_of + 1),
            "relapse_of": nullable_ids(draft.relapse_of + 1),
        },
        REPORT_DTYPES,
        geoms_wgs,
    )
    return reports, community, cell
