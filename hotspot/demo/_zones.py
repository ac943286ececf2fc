"""Storefront zones (门前三包) of the demo town: shop frontages, their shops, and patrols."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo.cells import cells_from_points
from geo.crs import from_metric, to_metric
from geo.zones import attribute_points, representative_points
from hotspot.demo import _texts
from hotspot.demo._frames import PATROL_DTYPES, ZONE_DTYPES, frame, geoframe, seconds_to_datetime
from hotspot.demo._params import DAY, HALF_WIDTH, HOUR, KINDS, LICENCE_STATUSES, PERIOD_DAYS
from hotspot.demo._streets import Streets

log = logging.getLogger(__name__)


@dataclass
class Zones:
    """Storefront zones in EPSG:4548: each the rectangle ``a + u * e1 + v * e2``, 0 ≤ u, v ≤ 1.

    Attributes
    ----------
    polygon : numpy.ndarray of shapely.Polygon
    a, e1, e2 : numpy.ndarray of float, shape (n, 2)
        Corner on the street side, frontage and depth vectors.
    centre : numpy.ndarray of float, shape (n, 2)
    street : numpy.ndarray of int
        Position of the street each zone fronts.
    community : numpy.ndarray of int
        Position of the community (by the zone's representative point in WGS84).
    kind : numpy.ndarray of int
        Kind of that community.
    commercial : numpy.ndarray of bool
        Whether the zone fronts a shopping street.
    cell : numpy.ndarray of int64
        H3 cell of the representative point.
    licence : numpy.ndarray of int
        Index into :data:`LICENCE_STATUSES`.
    signed : numpy.ndarray of bool
        Whether the shop signed its 门前三包 agreement.
    weight : numpy.ndarray of float
        How much more often than others each zone sees problems.
    """

    polygon: NDArray[np.object_]
    a: NDArray[np.float64]
    e1: NDArray[np.float64]
    e2: NDArray[np.float64]
    centre: NDArray[np.float64]
    street: NDArray[np.int64]
    community: NDArray[np.int64]
    kind: NDArray[np.int64]
    commercial: NDArray[np.bool_]
    cell: NDArray[np.int64]
    licence: NDArray[np.int64]
    signed: NDArray[np.bool_]
    weight: NDArray[np.float64]


def _slots(
    town: shapely.Polygon,
    streets: Streets,
    communities: NDArray[np.object_],
    community_kind: NDArray[np.int64],
    rng: np.random.Generator,
) -> dict[str, NDArray]:
    """Shop frontages along the streets: candidate slots on both sides, some taken by shops."""
    line, street_kind = streets.line, streets.kind
    idx, side, start, end = [], [], [], []
    for i, piece in enumerate(line):
        length = piece.length
        for s in (1.0, -1.0):
            m = int(length / 7) + 4
            frontage = rng.uniform(6, 20, m)
            gap = np.where(rng.random(m) < 0.12, rng.uniform(6, 40, m), rng.uniform(0.6, 2.5, m))
            first = 20.0 + np.concatenate([[0.0], np.cumsum(frontage + gap)[:-1]])
            last = first + frontage
            ok = last < length - 20.0
            idx.append(np.full(ok.sum(), i))
            side.append(np.full(ok.sum(), s))
            start.append(first[ok])
            end.append(last[ok])
    idx, side = np.concatenate(idx), np.concatenate(side)
    start, end = np.concatenate(start), np.concatenate(end)
    n = idx.size
    near = HALF_WIDTH[street_kind[idx]] + rng.uniform(0.5, 2.0, n)
    depth = rng.uniform(4.0, 10.0, n)
    a = shapely.get_coordinates(shapely.line_interpolate_point(line[idx], start))
    b = shapely.get_coordinates(shapely.line_interpolate_point(line[idx], end))
    d = b - a
    d /= np.hypot(d[:, 0], d[:, 1])[:, None]
    normal = np.column_stack([-d[:, 1], d[:, 0]]) * side[:, None]
    p0 = a + normal * near[:, None]
    p1 = b + normal * near[:, None]
    e2 = normal * depth[:, None]
    ring = np.stack([p0, p1, p1 + e2, p0 + e2, p0], axis=1)
    polygons = shapely.polygons(ring)

    # Drop slots on another road's carriageway (at junctions), outside the town, or overlapping.
    keep = shapely.within(polygons, town)
    surfaces = shapely.buffer(line, HALF_WIDTH[street_kind], cap_style="flat")
    hit, road = shapely.STRtree(surfaces).query(polygons, predicate="intersects")
    keep[hit[road != idx[hit]]] = False
    tree = shapely.STRtree(polygons)
    left, right = tree.query(polygons, predicate="intersects")
    clash = left < right
    keep[right[clash]] = False
    centre = shapely.get_coordinates(shapely.centroid(polygons))
    home = attribute_points(shapely.points(centre), communities)
    keep &= home >= 0
    kind = community_kind[np.maximum(home, 0)]

    # Shops cluster on commercial streets and in commercial and old communities.
    weight = np.array([1.0, 1.6, 0.7])[street_kind[idx]]
    weight *= np.array([2.0, 0.6, 1.5, 5.0])[kind]
    weight *= np.where(streets.commercial[idx], 3.0, 1.0)
    weight[~keep] = 0.0
    target = min(int(rng.integers(1350, 1451)), int(keep.sum()))
    log.debug("zones: %d slots, %d usable, %d taken", n, keep.sum(), target)
    sel = np.sort(rng.choice(n, size=target, replace=False, p=weight / weight.sum()))
    return {
        "polygon": polygons[sel],
        "street": idx[sel],
        "side": side[sel],
        "start": start[sel],
        "a": p0[sel],
        "e1": (p1 - p0)[sel],
        "e2": e2[sel],
    }


def _shop_names(count: int, rng: np.random.Generator) -> tuple[NDArray[np.int64], NDArray]:
    """Business types (positions in ``BUSINESS_TYPES``) and shop names of ``count`` shops."""
    types = list(_texts.BUSINESS_TYPES)
    type_p = np.array([_texts.BUSINESS_TYPES[b][0] for b in types])
    business = rng.choice(len(types), size=count, p=type_p / type_p.sum())
    suffixes = [_texts.BUSINESS_TYPES[b][1] for b in types]
    width = max(len(options) for options in suffixes)
    suffix_table = np.array([[o[k % len(o)] for k in range(width)] for o in suffixes], dtype=object)
    n_suffixes = np.array([len(options) for options in suffixes])
    suffix_pick = np.floor(rng.random(count) * n_suffixes[business]).astype(np.int64)
    suffix = suffix_table[business, suffix_pick]
    prefix = np.array(_texts.SHOP_PREFIXES, dtype=object)[
        rng.integers(0, len(_texts.SHOP_PREFIXES), count)
    ]
    return business, prefix + suffix


def _house_numbers(
    street_name: NDArray[np.object_],
    side: NDArray[np.float64],
    start: NDArray[np.float64],
    rng: np.random.Generator,
) -> NDArray[np.int64]:
    """House numbers: odd on one side, even on the other, increasing along the street."""
    count = street_name.size
    sort = np.lexsort((start, side, street_name))
    skip = rng.integers(1, 3, count)
    group = pd.Series(street_name[sort] + np.where(side[sort] > 0, "+", "-"))
    number = np.empty(count, dtype=np.int64)
    number[sort] = 2 * pd.Series(skip[sort]).groupby(
        group.to_numpy()
    ).cumsum().to_numpy() - np.where(side[sort] > 0, 1, 0)
    return number


def storefronts(
    town: shapely.Polygon,
    streets: Streets,
    communities: NDArray[np.object_],
    community_kind: NDArray[np.int64],
    until: dt.date,
    rng: np.random.Generator,
) -> tuple[Zones, gpd.GeoDataFrame]:
    """The storefront zones along the streets and the shops that hold them.

    Parameters
    ----------
    town : shapely.Polygon
    streets : Streets
    communities : numpy.ndarray of shapely.Polygon
        In EPSG:4548, in table order.
    community_kind : numpy.ndarray of int
    until : datetime.date
        Last day of the demo year: agreements are signed before it.
    rng : numpy.random.Generator

    Returns
    -------
    zones : Zones
    frame : geopandas.GeoDataFrame
        Table ``storefront_zone`` and its geometry.
    """
    z = _slots(town, streets, communities, community_kind, rng)
    nz = z["polygon"].size
    zones_wgs = from_metric(z["polygon"])
    points = representative_points(zones_wgs)
    cell = cells_from_points(shapely.get_x(points), shapely.get_y(points))
    # the community by the same point as the cell (a zone may straddle a community edge)
    community = attribute_points(points, from_metric(communities))
    kind = community_kind[community]
    business, shop_name = _shop_names(nz, rng)
    street_name = streets.name[z["street"]]
    number = _house_numbers(street_name, z["side"], z["start"], rng)
    licence = rng.choice(3, size=nz, p=[0.82, 0.11, 0.07])
    signed = rng.random(nz) < 0.88
    signed_day = rng.integers(
        0, (np.datetime64(until, "D") - np.datetime64("2022-03-01")).astype(int) - 30, nz
    )
    signed_dates = (np.datetime64("2022-03-01") + signed_day.astype("timedelta64[D]")).astype(
        object
    )
    table = geoframe(
        {
            "id": np.arange(1, nz + 1),
            "shop_name": shop_name,
            "business_type": np.array(list(_texts.BUSINESS_TYPES), dtype=object)[business],
            "address": street_name + pd.Series(number).astype(str).to_numpy(dtype=object) + "号",
            "licence_status": np.array(LICENCE_STATUSES, dtype=object)[licence],
            "agreement_signed": signed,
            "agreement_signed_at": np.where(signed, signed_dates, None),
            "responsible_person": _texts.random_names(nz, rng),
            "responsible_phone": _texts.phones(nz, rng),
            "community_id": community + 1,
            "street_id": z["street"] + 1,
            "area_m2": shapely.area(to_metric(zones_wgs)),
            "cell": cell,
        },
        ZONE_DTYPES,
        zones_wgs,
    )
    weight = np.array([1.0, 2.0, 3.0])[licence] * np.where(signed, 1.0, 1.5)
    weight *= np.where(kind == KINDS.index("commercial"), 2.0, 1.0)
    zones = Zones(
        polygon=z["polygon"],
        a=z["a"],
        e1=z["e1"],
        e2=z["e2"],
        centre=shapely.get_coordinates(shapely.centroid(z["polygon"])),
        street=z["street"],
        community=community,
        kind=kind,
        commercial=streets.commercial[z["street"]],
        cell=cell,
        licence=licence,
        signed=signed,
        weight=weight,
    )
    return zones, table


def patrols(
    zones: Zones,
    inspector: NDArray[np.object_],
    start: np.datetime64,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Monthly-ish patrols of every zone, with missed months and zones neglected lately.

    Parameters
    ----------
    zones : Zones
    inspector : numpy.ndarray of str
        The grid worker who patrols each zone.
    start : numpy.datetime64
        First second of the demo year.
    rng : numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        Table ``patrol``, in time order.
    """
    n = zones.polygon.size
    steps = 16
    interval = rng.uniform(22, 36, (n, steps)) + (rng.random((n, steps)) < 0.12) * rng.uniform(
        20, 40, (n, steps)
    )
    interval[:, 0] = rng.uniform(0, 30, n)
    day = np.cumsum(interval, axis=1)
    end = np.full(n, float(PERIOD_DAYS))
    neglected = rng.random(n) < 0.1
    end[neglected] -= rng.uniform(35, 100, neglected.sum())
    hour = rng.choice([8, 9, 9, 10, 10, 11, 14, 14, 15, 15, 16], size=(n, steps))
    minute = rng.integers(0, 60, (n, steps))
    whole = np.floor(day)
    # weekends are moved to the Friday before
    weekday = (
        (start + whole.astype("timedelta64[D]")).astype("datetime64[D]").view("int64") - 4
    ) % 7
    whole = whole - np.where(weekday >= 5, weekday - 4, 0)
    seconds = whole * DAY + hour * HOUR + minute * 60.0
    valid = (whole < end[:, None]) & (whole >= 0)
    risk = (
        0.05
        + np.array([0.0, 0.2, 0.3])[zones.licence]
        + 0.12 * ~zones.signed
        + 0.1 * (zones.kind == KINDS.index("commercial"))
        + rng.beta(1, 6, n)
    )
    noncompliant = rng.random((n, steps)) < risk[:, None]
    findings_ok = np.array(_texts.COMPLIANT_FINDINGS, dtype=object)[
        rng.integers(0, len(_texts.COMPLIANT_FINDINGS), (n, steps))
    ]
    findings_bad = np.array(_texts.NONCOMPLIANT_FINDINGS, dtype=object)[
        rng.integers(0, len(_texts.NONCOMPLIANT_FINDINGS), (n, steps))
    ]
    row, col = np.nonzero(valid)
    at = seconds[row, col]
    order = np.lexsort((row, at))
    row, col, at = row[order], col[order], at[order]
    bad = noncompliant[row, col]
    return frame(
        {
            "id": np.arange(1, row.size + 1),
            "zone_id": row + 1,
            "patrolled_at": seconds_to_datetime(start, at),
            "inspector": inspector[row],
            "findings": np.where(bad, findings_bad[row, col], findings_ok[row, col]),
            "compliant": ~bad,
        },
        PATROL_DTYPES,
    )
