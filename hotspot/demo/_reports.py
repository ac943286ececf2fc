"""The demo town's reports drawn: how many of what, where, when, from whom, and their fate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from hotspot import taxonomy
from hotspot.demo._frames import EVENT_DTYPES, REPORT_DTYPES, frame, geoframe
from hotspot.demo._geography import Geography
from hotspot.demo._hotspots import (
    TRENDS,
    Hotspot,
    place_reports,
    plant_hotspots,
    planted_frame,
    sample_times,
)
from hotspot.demo._params import (
    ALWAYS_OPEN_FLOOR,
    CATEGORY_DEADLINE_DAYS,
    CATEGORY_HOURS,
    CATEGORY_SOURCE_MIX,
    CATEGORY_WEIGHT,
    DEADLINE_DAYS,
    DEFAULT_DEADLINE_DAYS,
    DEFAULT_LAYER_SHARE,
    DEFAULT_SOURCE_MIX,
    DEFAULT_STUCK_PROBABILITY,
    HOTSPOT_PLAN,
    HOUR_PROFILE,
    LAYER_HOURS,
    LAYER_SHARE,
    SEASON,
    SOURCE_HOURS,
    SOURCE_MIX,
    SOURCE_ORDER,
    STUCK_PROBABILITY,
    TREND_SHARE,
)
from hotspot.demo._report_table import report_frame
from hotspot.demo._shapes import footprints
from hotspot.demo._workflow import (
    Draft,
    add_duplicates,
    add_relapses,
    event_frame,
    event_times,
    final_status,
)


@dataclass
class _Categories:
    """The issue categories, in taxonomy order, and the layers they fall in."""

    code: NDArray[np.object_]
    layer_code: NDArray[np.object_]
    layer: NDArray[np.int64]
    footprint: NDArray[np.bool_]
    name_zh: NDArray[np.object_]
    layers: list[str]

    @classmethod
    def load(cls) -> _Categories:
        """The categories of ``data/categories.csv``."""
        categories = taxonomy.load_categories()
        layer_code = categories["layer"].to_numpy(dtype=object)
        layers = list(dict.fromkeys(layer_code.tolist()))
        return cls(
            code=categories.index.to_numpy(dtype=object),
            layer_code=layer_code,
            layer=np.array([layers.index(la) for la in layer_code]),
            footprint=categories["footprint"].to_numpy(dtype=bool),
            name_zh=categories["name_zh"].to_numpy(dtype=object),
            layers=layers,
        )

    def per_category(
        self, by_code: dict[str, Any], by_layer: dict[str, Any], default: Any
    ) -> list[Any]:
        """A value per category: its own, else its layer's, else ``default``."""
        return [
            by_code.get(code, by_layer.get(layer, default))
            for code, layer in zip(self.code, self.layer_code, strict=True)
        ]


def _largest_remainder(total: int, weights: NDArray[np.float64]) -> NDArray[np.int64]:
    """Split ``total`` into integers proportional to ``weights`` (Hamilton's method)."""
    weights = np.asarray(weights, dtype=np.float64)
    if total <= 0 or weights.sum() <= 0:
        return np.zeros(weights.size, dtype=np.int64)
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - counts.sum()
    order = np.lexsort((np.arange(weights.size), -(exact - counts)))
    counts[order[:short]] += 1
    return counts


def _what(
    n: int, cats: _Categories, hotspots: list[Hotspot], rng: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Category and hotspot (-1 for the background) of every report, layer after layer."""
    share = np.array([LAYER_SHARE.get(la, DEFAULT_LAYER_SHARE) for la in cats.layers])
    layer_n = _largest_remainder(n, share)
    cat_weight = np.array([CATEGORY_WEIGHT.get(c, 1.0) for c in cats.code]) * np.exp(
        rng.normal(0, 0.25, cats.code.size)
    )
    category_parts, component_parts = [], []
    for li, layer in enumerate(cats.layers):
        count = int(layer_n[li])
        mine = [h for h, spot in enumerate(hotspots) if spot.layer == layer]
        quota = np.zeros(len(hotspots), dtype=np.int64)
        trend_spots = [h for h in mine if hotspots[h].kind != "persistent"]
        per_trend = min(round(TREND_SHARE * n), int(0.15 * count))
        quota[trend_spots] = per_trend
        persistent = [h for h in mine if hotspots[h].kind == "persistent"]
        if persistent:
            share_p = HOTSPOT_PLAN[layer][3]
            weights = np.array([hotspots[h].weight for h in persistent])
            quota[persistent] = _largest_remainder(round(share_p * count), weights)
        labels = np.concatenate(
            [np.repeat(np.arange(len(hotspots)), quota), np.full(max(count - quota.sum(), 0), -1)]
        )[:count]
        component_parts.append(rng.permutation(labels))
        members = np.flatnonzero(cats.layer == li)
        p = cat_weight[members] / cat_weight[members].sum()
        chosen = rng.choice(members, size=count, p=p)
        missing = np.setdiff1d(members, chosen)
        if count >= members.size and missing.size:
            # every category shows up: recast a few reports of the commonest ones
            counts = np.bincount(chosen, minlength=cats.code.size)
            donors = np.flatnonzero(np.isin(chosen, np.argsort(-counts, kind="stable")[:3]))
            chosen[rng.choice(donors, size=missing.size, replace=False)] = missing
        category_parts.append(chosen)
    return np.concatenate(category_parts), np.concatenate(component_parts)


def _when(
    category: NDArray[np.int64],
    component: NDArray[np.int64],
    source: NDArray[np.int64],
    cats: _Categories,
    hotspots: list[Hotspot],
    start: np.datetime64,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Report times: the hotspot's trend, the source's week and day, the category's season."""
    trend_of = np.array([TRENDS.index(h.kind) for h in hotspots] + [0])
    trend = trend_of[component]  # -1 (background) picks the trailing 0
    season = np.ones((cats.code.size, 12))
    for c, code in enumerate(cats.code):
        if code in SEASON:
            season[c] = np.maximum(np.array(SEASON[code], dtype=np.float64), 0.01)
    profiles = list(HOUR_PROFILE)
    profile_of_cat = np.array(
        [profiles.index(p) for p in cats.per_category(CATEGORY_HOURS, LAYER_HOURS, "day")]
    )
    # 12345 and the app take reports around the clock: their own rhythm only damps the night
    source_hours = {
        s: np.maximum(w, ALWAYS_OPEN_FLOOR) if s in ("hotline", "resident") else w
        for s, w in SOURCE_HOURS.items()
    }
    hour_weight = np.array(
        [[HOUR_PROFILE[p] * source_hours[s] for s in SOURCE_ORDER] for p in profiles]
    ).reshape(len(profiles) * len(SOURCE_ORDER), 24)
    hour_weight[hour_weight.sum(axis=1) == 0] = 1.0
    hour_cdf = np.cumsum(hour_weight, axis=1) / hour_weight.sum(axis=1, keepdims=True)
    hour_row = profile_of_cat[category] * len(SOURCE_ORDER) + source
    return sample_times(trend, source, category, hour_row, season, hour_cdf, start, rng)


def build_reports(
    n: int, geo: Geography, start: np.datetime64, rng: np.random.Generator
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """The reports of the demo year, their events and the planted hotspots' ground truth.

    Parameters
    ----------
    n : int
        How many reports; 0 or less for none (the hotspots are still planted).
    geo : Geography
    start : numpy.datetime64
        First second of the demo year.
    rng : numpy.random.Generator

    Returns
    -------
    reports : geopandas.GeoDataFrame
    events : pandas.DataFrame
    planted : pandas.DataFrame
    """
    cats = _Categories.load()
    hotspots = plant_hotspots(cats.layers, geo, rng)
    if n <= 0:
        empty = geoframe({}, REPORT_DTYPES, np.empty(0, dtype=object))
        return empty, frame({}, EVENT_DTYPES), planted_frame(hotspots, np.zeros(0))

    category, component = _what(n, cats, hotspots, rng)
    layer = cats.layer[category]
    footprint = cats.footprint[category]

    mix = np.array(cats.per_category(CATEGORY_SOURCE_MIX, SOURCE_MIX, DEFAULT_SOURCE_MIX))
    mix_cdf = np.cumsum(mix / mix.sum(axis=1, keepdims=True), axis=1)
    source = (rng.random(n)[:, None] > mix_cdf[category]).sum(axis=1)
    source = np.minimum(source, len(SOURCE_ORDER) - 1)

    x, y = place_reports(
        category, component, layer, cats.layers, footprint, cats.code, hotspots, geo, rng
    )
    t = _when(category, component, source, cats, hotspots, start, rng)
    geoms = shapely.points(x, y)
    if footprint.any():
        geoms[footprint] = footprints(x[footprint], y[footprint], geo.streets.angle, rng)

    deadline_days = np.array(
        cats.per_category(CATEGORY_DEADLINE_DAYS, DEADLINE_DAYS, DEFAULT_DEADLINE_DAYS)
    )
    deadline_h = deadline_days[category] * 24.0
    stuck_p = np.array(
        [STUCK_PROBABILITY.get(la, DEFAULT_STUCK_PROBABILITY) for la in cats.layers]
    )[layer]
    times, rejected = event_times(t, deadline_h, source, stuck_p, rng)
    _, status = final_status(times, rejected)
    draft = Draft(
        category=category,
        component=component,
        layer=layer,
        footprint=footprint,
        source=source,
        t=t,
        geoms=geoms,
        deadline_h=deadline_h,
        stuck_p=stuck_p,
        times=times,
        rejected=rejected,
        status=status,
        relapse_of=np.full(n, -1),
        duplicate_of=np.full(n, -1),
    )
    used = add_relapses(draft, geo, rng)
    add_duplicates(draft, used, geo, rng)
    draft.times, draft.status = final_status(draft.times, draft.rejected)
    draft = draft.in_time_order()

    reports, community, cell = report_frame(
        draft,
        codes=cats.code,
        names_zh=cats.name_zh,
        layers=cats.layers,
        geo=geo,
        start=start,
        rng=rng,
    )
    events = event_frame(
        draft, community=community, cell=cell, layers=cats.layers, geo=geo, start=start, rng=rng
    )
    counts = np.bincount(component[component >= 0], minlength=len(hotspots))
    return reports, events, planted_frame(hotspots, counts)
