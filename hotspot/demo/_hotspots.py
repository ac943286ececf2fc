"""Where and when demo reports happen: planted hotspots, background placement and timing."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo.crs import METRIC_CRS, to_wgs84
from geo.zones import attribute_points
from hotspot.demo._frames import PLANTED_DTYPES, frame
from hotspot.demo._geography import Geography
from hotspot.demo._params import (
    ANCHOR_ZONE_SHARE,
    DAY,
    DEFAULT_KIND_FACTOR,
    DEFAULT_MODE_SHARE,
    DOW_WEIGHT,
    EMERGING_DAYS,
    EMERGING_OPTIONS,
    FADING_GONE_DAYS,
    FADING_OPTIONS,
    HALF_WIDTH,
    HOTSPOT_APART_M,
    HOTSPOT_PLAN,
    HOUR,
    KIND_FACTOR,
    KINDS,
    MODE_SHARE,
    N_EMERGING,
    N_FADING,
    PERIOD_DAYS,
    SOURCE_ORDER,
    ZONE_CATEGORIES,
    ZONE_MODE_SHARE,
)
from hotspot.demo._shapes import along, points_in
from hotspot.demo._texts import HOTSPOT_SUFFIX, LAYER_LABEL

log = logging.getLogger(__name__)

#: Hotspot kinds, in the order of their trend index.
TRENDS = ("persistent", "emerging", "fading")


@dataclass
class Hotspot:
    """A planted hotspot: reports gather around its centre (EPSG:4548)."""

    name: str
    layer: str
    kind: str
    anchor: str
    x: float
    y: float
    radius: float
    weight: float


def _centre(
    anchor: str, radius: float, geo: Geography, rng: np.random.Generator
) -> tuple[float, float, str] | None:
    """One candidate centre for a hotspot at an anchor, and the place's name."""
    if anchor in KINDS:
        options = np.flatnonzero(geo.community_kind == KINDS.index(anchor))
        if options.size == 0:
            options = np.arange(geo.community.size)
        i = int(rng.choice(options))
        core = shapely.buffer(geo.community[i], -radius)
        if core.is_empty or core.area < 1000:
            core = shapely.buffer(geo.community[i], -radius / 3)
        core = shapely.intersection(core, geo.inner)
        if core.is_empty or core.area < 100:
            return None
        x, y = points_in(core, 1, rng)
        return float(x[0]), float(y[0]), str(geo.community_name[i])
    marks = geo.landmarks
    if anchor == "transit":
        preferred = np.isin(marks.stop_kind, [KINDS.index("commercial"), KINDS.index("old")])
        weight = np.where(preferred, 3.0, 1.0)
        i = int(rng.choice(marks.stop_kind.size, p=weight / weight.sum()))
        return float(marks.stop_xy[i, 0]), float(marks.stop_xy[i, 1]), str(marks.stop_name[i])
    if anchor == "market":
        if marks.market_xy.shape[0] == 0:
            return _centre("commercial", radius, geo, rng)
        i = int(rng.integers(0, marks.market_xy.shape[0]))
        x, y = marks.market_xy[i] + rng.normal(0, 10, 2)
        return float(x), float(y), str(marks.market_name[i])
    # "zone": a shop on a commercial street
    zones = geo.zones
    weight = np.where(zones.commercial, 4.0, 0.3) * np.where(
        zones.kind == KINDS.index("commercial"), 2.0, 1.0
    )
    i = int(rng.choice(weight.size, p=weight / weight.sum()))
    street_name = geo.streets.name[zones.street[i]]
    return float(zones.centre[i, 0]), float(zones.centre[i, 1]), str(street_name)


def plant_hotspots(layers: list[str], geo: Geography, rng: np.random.Generator) -> list[Hotspot]:
    """Persistent hotspots per layer, then a few emerging and fading ones, kept apart.

    Parameters
    ----------
    layers : list of str
        The map layers, in category order.
    geo : Geography
    rng : numpy.random.Generator

    Returns
    -------
    list of Hotspot
    """
    plan: list[tuple[str, str, str, tuple[float, float]]] = []
    for layer in layers:
        if layer not in HOTSPOT_PLAN:
            continue
        (low, high), anchors, radii, _ = HOTSPOT_PLAN[layer]
        count = int(rng.integers(low, high + 1))
        for k in range(count):
            plan.append((layer, "persistent", anchors[k % len(anchors)], radii))
    for kind, options, count in (
        ("emerging", EMERGING_OPTIONS, N_EMERGING),
        ("fading", FADING_OPTIONS, N_FADING),
    ):
        usable = [o for o in options if o[0] in layers]
        for j in rng.choice(len(usable), size=min(count, len(usable)), replace=False):
            layer, anchor = usable[int(j)]
            radii = HOTSPOT_PLAN.get(layer, ((0, 0), (), (100.0, 160.0), 0.0))[2]
            plan.append((layer, kind, anchor, radii))

    hotspots: list[Hotspot] = []
    used_names: dict[str, int] = {}
    for layer, kind, anchor, (r_low, r_high) in plan:
        radius = float(np.round(rng.uniform(r_low, r_high), -1))
        # An emerging or fading hotspot must stand alone, or a neighbour of its layer would
        # blur its trend: when its own kind of place is taken, it may move to another kind.
        anchors = (anchor,) if kind == "persistent" else (anchor, *KINDS)
        same = [(h.x, h.y) for h in hotspots if h.layer == layer]
        best, best_gap, best_anchor = None, -1.0, anchor
        for attempt in range(60 * len(anchors)):
            current = anchors[attempt // 60]
            found = _centre(current, radius, geo, rng)
            if found is None or not shapely.contains_xy(geo.inner, found[0], found[1]):
                continue
            gap = min((np.hypot(hx - found[0], hy - found[1]) for hx, hy in same), default=np.inf)
            if gap > best_gap:
                best, best_gap, best_anchor = found, gap, current
            if gap >= HOTSPOT_APART_M:
                break
        if best is None:
            log.warning("no place found for a %s %s hotspot", kind, layer)
            continue
        x, y, place = best
        label = place + LAYER_LABEL.get(layer, layer)
        used_names[label] = used_names.get(label, 0) + 1
        if used_names[label] > 1:
            label += f"（{used_names[label]}）"
        weight = float(rng.uniform(0.6, 1.4))
        hotspots.append(
            Hotspot(label + HOTSPOT_SUFFIX[kind], layer, kind, best_anchor, x, y, radius, weight)
        )
    return hotspots


def planted_frame(hotspots: list[Hotspot], counts: NDArray[np.int64]) -> pd.DataFrame:
    """Ground truth of the planted hotspots, in WGS84.

    Parameters
    ----------
    hotspots : list of Hotspot
    counts : numpy.ndarray of int
        Reports of each hotspot; zeros when it does not match ``hotspots``.

    Returns
    -------
    pandas.DataFrame
    """
    xy = np.array([(h.x, h.y) for h in hotspots]).reshape(-1, 2)
    lng, lat = to_wgs84(xy[:, 0], xy[:, 1], METRIC_CRS)
    counts = np.asarray(counts, dtype=np.int64)
    return frame(
        {
            "name": [h.name for h in hotspots],
            "layer": [h.layer for h in hotspots],
            "kind": [h.kind for h in hotspots],
            "lng": lng,
            "lat": lat,
            "radius_m": [h.radius for h in hotspots],
            "n_reports": counts if counts.size == len(hotspots) else np.zeros(len(hotspots)),
        },
        PLANTED_DTYPES,
    )


def place_reports(
    category: NDArray[np.int64],
    component: NDArray[np.int64],
    layer_idx: NDArray[np.int64],
    layers: list[str],
    footprint: NDArray[np.bool_],
    codes: NDArray[np.object_],
    hotspots: list[Hotspot],
    geo: Geography,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coordinates (EPSG:4548) for every report: around hotspots, in communities, streets, zones.

    Parameters
    ----------
    category, component, layer_idx : numpy.ndarray of int
        Per report: category position, hotspot position (-1 for background), layer position.
    layers : list of str
    footprint : numpy.ndarray of bool
        Per report: whether it is a footprint (never placed in a zone).
    codes : numpy.ndarray of str
        Category codes.
    hotspots : list of Hotspot
    geo : Geography
    rng : numpy.random.Generator

    Returns
    -------
    tuple of numpy.ndarray
        x and y.
    """
    n = category.size
    x, y = np.zeros(n), np.zeros(n)
    streets, zones = geo.streets, geo.zones

    # pools of candidate places, drawn once
    area_x, area_y = points_in(geo.inner, 40_000, rng)
    area_kind = geo.community_kind[
        np.maximum(attribute_points(shapely.points(area_x, area_y), geo.community), 0)
    ]
    lengths = shapely.length(streets.line)
    pick = rng.choice(streets.line.size, size=30_000, p=lengths / lengths.sum())
    at = rng.uniform(0, 1, pick.size) * lengths[pick]
    offset = rng.uniform(0, 1, pick.size) * (HALF_WIDTH[streets.kind[pick]] + 12.0)
    sxy = along(streets.line[pick], at, rng.choice([-1.0, 1.0], pick.size), offset)
    inside = shapely.contains_xy(geo.point_area, sxy[:, 0], sxy[:, 1])
    sxy = sxy[inside]
    street_pool_kind = geo.community_kind[
        np.maximum(attribute_points(shapely.points(sxy), geo.community), 0)
    ]

    def zone_points(zone: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        u, v = rng.uniform(0.1, 0.9, zone.size), rng.uniform(0.1, 0.9, zone.size)
        p = zones.a[zone] + u[:, None] * zones.e1[zone] + v[:, None] * zones.e2[zone]
        return p[:, 0], p[:, 1]

    # hotspot reports: Gaussian around the centre, some inside nearby shops' zones
    for h, spot in enumerate(hotspots):
        idx = np.flatnonzero(component == h)
        if idx.size == 0:
            continue
        sigma = spot.radius / 2
        px = spot.x + np.clip(rng.normal(0, sigma, idx.size), -1.5 * spot.radius, 1.5 * spot.radius)
        py = spot.y + np.clip(rng.normal(0, sigma, idx.size), -1.5 * spot.radius, 1.5 * spot.radius)
        for _ in range(30):
            bad = ~shapely.contains_xy(geo.inner, px, py)
            if not bad.any():
                break
            px[bad] = spot.x + rng.normal(0, sigma, bad.sum())
            py[bad] = spot.y + rng.normal(0, sigma, bad.sum())
        bad = ~shapely.contains_xy(geo.inner, px, py)
        px[bad], py[bad] = spot.x, spot.y
        near = np.flatnonzero(
            np.hypot(zones.centre[:, 0] - spot.x, zones.centre[:, 1] - spot.y) < 0.8 * spot.radius
        )
        share = ANCHOR_ZONE_SHARE.get(spot.anchor, 0.0)
        in_zone = (rng.random(idx.size) < share) & ~footprint[idx] & (near.size > 0)
        if in_zone.any():
            zx, zy = zone_points(rng.choice(near, size=in_zone.sum()))
            px[in_zone], py[in_zone] = zx, zy
        x[idx], y[idx] = px, py

    # background reports: by mode, weighted by how the layer favours each community kind
    background = np.flatnonzero(component < 0)
    zone_cat = np.isin(codes[category[background]], list(ZONE_CATEGORIES))
    shares = np.array([MODE_SHARE.get(la, DEFAULT_MODE_SHARE) for la in layers])[
        layer_idx[background]
    ]
    shares[zone_cat] = ZONE_MODE_SHARE
    shares[footprint[background]] = (1.0, 0.0, 0.0)
    mode = (rng.random(background.size)[:, None] > np.cumsum(shares, axis=1)).sum(axis=1)
    mode = np.minimum(mode, 2)
    for li, layer in enumerate(layers):
        factor = np.array(KIND_FACTOR.get(layer, DEFAULT_KIND_FACTOR))
        for m in range(3):
            idx = background[(layer_idx[background] == li) & (mode == m)]
            if idx.size == 0:
                continue
            if m == 0:
                w = factor[area_kind]
                k = rng.choice(area_x.size, size=idx.size, p=w / w.sum())
                px = area_x[k] + rng.normal(0, 10, idx.size)
                py = area_y[k] + rng.normal(0, 10, idx.size)
                bad = ~shapely.contains_xy(geo.inner, px, py)
                px[bad], py[bad] = area_x[k][bad], area_y[k][bad]
            elif m == 1:
                w = factor[street_pool_kind]
                k = rng.choice(sxy.shape[0], size=idx.size, p=w / w.sum())
                px, py = sxy[k, 0], sxy[k, 1]
            else:
                w = zones.weight * factor[zones.kind]
                px, py = zone_points(rng.choice(w.size, size=idx.size, p=w / w.sum()))
            x[idx], y[idx] = px, py
    return x, y


def _day_weights(kind: str) -> NDArray[np.float64]:
    """Relative weight of each day of the demo year for a hotspot kind's reports."""
    d = np.arange(PERIOD_DAYS, dtype=np.float64)
    if kind == "emerging":
        first = PERIOD_DAYS - EMERGING_DAYS
        return np.where(d >= first, d - first + 3.0, 0.0)
    if kind == "fading":
        gone = PERIOD_DAYS - FADING_GONE_DAYS
        return np.clip((gone - d) / (gone - 120.0), 0.0, 1.0)
    return np.ones_like(d)


def sample_times(
    trend: NDArray[np.int64],
    source: NDArray[np.int64],
    category: NDArray[np.int64],
    hour_row: NDArray[np.int64],
    season: NDArray[np.float64],
    hour_cdf: NDArray[np.float64],
    start: np.datetime64,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Seconds after ``start``: day by trend, weekday by source, month by category, hour by profile.

    Days are drawn from the trend and kept with the weekday and month weights (rejection).

    Parameters
    ----------
    trend : numpy.ndarray of int
        Per report: index into :data:`TRENDS`.
    source : numpy.ndarray of int
        Per report: index into ``SOURCE_ORDER``.
    category : numpy.ndarray of int
        Per report: category position.
    hour_row : numpy.ndarray of int
        Per report: row of ``hour_cdf``.
    season : numpy.ndarray of float, shape (categories, 12)
        Month weights of each category.
    hour_cdf : numpy.ndarray of float, shape (rows, 24)
        Cumulative hour-of-day distributions.
    start : numpy.datetime64
        First second of the demo year.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray of float
    """
    n = trend.size
    days = start + np.arange(PERIOD_DAYS).astype("timedelta64[D]")
    weekday = (days.astype("datetime64[D]").view("int64") - 4) % 7
    month = days.astype("datetime64[M]").view("int64") % 12
    dow = np.array([DOW_WEIGHT[s] for s in SOURCE_ORDER])
    cdfs = np.array([np.cumsum(_day_weights(k)) for k in TRENDS])
    cdfs /= cdfs[:, -1:]
    day = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    for _ in range(200):
        if todo.size == 0:
            break
        u = rng.random(todo.size)
        proposal = np.zeros(todo.size, dtype=np.int64)
        for t in range(len(TRENDS)):
            mine = trend[todo] == t
            proposal[mine] = np.searchsorted(cdfs[t], u[mine], side="right")
        proposal = np.minimum(proposal, PERIOD_DAYS - 1)
        accept = dow[source[todo], weekday[proposal]] * season[category[todo], month[proposal]]
        ok = rng.random(todo.size) < accept
        day[todo[ok]] = proposal[ok]
        day[todo[~ok]] = proposal[~ok]  # kept if the loop runs out
        todo = todo[~ok]
    hour = np.zeros(n, dtype=np.int64)
    u = rng.random(n)
    for row in np.unique(hour_row):
        mine = hour_row == row
        hour[mine] = np.searchsorted(hour_cdf[row], u[mine], side="right")
    hour = np.minimum(hour, 23)
    return day * DAY + hour * HOUR + rng.integers(0, 3600, n)
