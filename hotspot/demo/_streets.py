"""The demo town's street network in EPSG:4548, with bus stops and markets along it."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo.zones import attribute_points
from hotspot.demo import _texts
from hotspot.demo._frames import STREET_DTYPES, geoframe
from hotspot.demo._params import HALF_WIDTH, KINDS
from hotspot.demo._shapes import along


@dataclass
class Streets:
    """Street pieces in EPSG:4548; a named road cut by the town edge gives several.

    Attributes
    ----------
    line : numpy.ndarray of shapely.LineString
    name : numpy.ndarray of str
    kind : numpy.ndarray of int
        Index into :data:`~hotspot.demo._texts.STREET_KINDS` (0 the widest).
    commercial : numpy.ndarray of bool
        The shopping streets, through commercial communities.
    angle : float
        Rotation of the street grid (radians).
    """

    line: NDArray[np.object_]
    name: NDArray[np.object_]
    kind: NDArray[np.int64]
    commercial: NDArray[np.bool_]
    angle: float


@dataclass
class Landmarks:
    """Bus stops and markets in EPSG:4548: where ads and garbage gather.

    Attributes
    ----------
    stop_xy : numpy.ndarray of float, shape (n, 2)
    stop_name : numpy.ndarray of str
    stop_kind : numpy.ndarray of int
        Kind of the community each stop is in.
    market_xy : numpy.ndarray of float, shape (m, 2)
    market_name : numpy.ndarray of str
    """

    stop_xy: NDArray[np.float64]
    stop_name: NDArray[np.object_]
    stop_kind: NDArray[np.int64]
    market_xy: NDArray[np.float64]
    market_name: NDArray[np.object_]


def _grid_of_roads(
    town: shapely.Polygon, rng: np.random.Generator
) -> tuple[NDArray[np.object_], NDArray[np.object_], NDArray[np.int64], float]:
    """A slightly irregular, slightly rotated grid of roads clipped to the town."""
    angle = float(rng.uniform(-0.12, 0.12))
    cos, sin = np.cos(angle), np.sin(angle)
    ox, oy = town.centroid.x, town.centroid.y
    coords = shapely.get_coordinates(town) - (ox, oy)
    # the town in the grid's own frame (u along east-west roads, v along north-south ones)
    gu, gv = coords[:, 0] * cos + coords[:, 1] * sin, -coords[:, 0] * sin + coords[:, 1] * cos
    spacing = float(rng.uniform(330, 380))
    lines, kinds, axes = [], [], []
    for axis, (across, lengthwise) in enumerate(((gv, gu), (gu, gv))):
        phase = int(rng.integers(0, 4))
        positions = np.arange(across.min() + rng.uniform(0.3, 0.7) * spacing, across.max(), spacing)
        for k, position in enumerate(positions):
            level = (k + phase) % 4
            kind = 0 if level == 0 else 1 if level == 2 else 2
            t = np.arange(lengthwise.min() - 200, lengthwise.max() + 200, 150.0)
            offset = (
                position + rng.normal(0, 20) + np.clip(np.cumsum(rng.normal(0, 6, t.size)), -35, 35)
            )
            if kind == 2:  # branch roads stop short
                first, last = rng.uniform(0, 0.3), rng.uniform(0.7, 1.0)
                keep = (t >= t[0] + first * (t[-1] - t[0])) & (t <= t[0] + last * (t[-1] - t[0]))
                t, offset = t[keep], offset[keep]
            if t.size < 2:
                continue
            pu, pv = (t, offset) if axis == 0 else (offset, t)
            x = ox + pu * cos - pv * sin
            y = oy + pu * sin + pv * cos
            lines.append(shapely.LineString(np.column_stack([x, y])))
            kinds.append(kind)
            axes.append(axis)
    stems = rng.choice(len(_texts.STREET_STEMS), size=len(lines), replace=False)
    suffix = rng.integers(0, len(_texts.BRANCH_SUFFIXES), len(lines))
    pieces, piece_names, piece_kinds = [], [], []
    for line, kind, axis, stem, extra in zip(lines, kinds, axes, stems, suffix, strict=True):
        if kind == 0:
            name = _texts.STREET_STEMS[stem] + ("路" if axis == 0 else "大街")
        elif kind == 1:
            name = _texts.STREET_STEMS[stem] + ("路" if axis == 0 else "街")
        else:
            name = _texts.STREET_STEMS[stem] + _texts.BRANCH_SUFFIXES[extra]
        for part in shapely.get_parts(shapely.intersection(line, town)):
            if shapely.get_type_id(part) == 1 and part.length >= 150:
                pieces.append(part)
                piece_names.append(name)
                piece_kinds.append(kind)
    return (
        np.array(pieces, dtype=object),
        np.array(piece_names, dtype=object),
        np.array(piece_kinds, dtype=np.int64),
        angle,
    )


def lay_streets(
    town: shapely.Polygon,
    communities: NDArray[np.object_],
    community_kind: NDArray[np.int64],
    rng: np.random.Generator,
) -> Streets:
    """The street network; the shopping streets run through commercial communities.

    Parameters
    ----------
    town : shapely.Polygon
    communities : numpy.ndarray of shapely.Polygon
    community_kind : numpy.ndarray of int
    rng : numpy.random.Generator

    Returns
    -------
    Streets
    """
    line, name, kind, angle = _grid_of_roads(town, rng)
    commercial_area = shapely.union_all(communities[community_kind == KINDS.index("commercial")])
    inside = shapely.length(shapely.intersection(line, commercial_area))
    inside[kind == 0] *= 0.6
    commercial = np.zeros(line.size, dtype=bool)
    top = np.argsort(-inside, kind="stable")[:6]
    commercial[top[inside[top] > 200]] = True
    return Streets(line=line, name=name, kind=kind, commercial=commercial, angle=angle)


def street_frame(streets: Streets, lines_wgs: NDArray[np.object_]) -> gpd.GeoDataFrame:
    """Table ``street``: ids from 1, names and kinds.

    Parameters
    ----------
    streets : Streets
    lines_wgs : numpy.ndarray of shapely.LineString
        The streets in WGS84.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    return geoframe(
        {
            "id": np.arange(1, streets.line.size + 1),
            "name": streets.name,
            "kind": np.array(_texts.STREET_KINDS, dtype=object)[streets.kind],
        },
        STREET_DTYPES,
        lines_wgs,
    )


def find_landmarks(
    inner: shapely.Polygon,
    streets: Streets,
    communities: NDArray[np.object_],
    community_kind: NDArray[np.int64],
    rng: np.random.Generator,
) -> Landmarks:
    """Bus stops along main roads and a few markets beside secondary ones.

    Parameters
    ----------
    inner : shapely.Polygon
        Where landmarks may be.
    streets : Streets
    communities : numpy.ndarray of shapely.Polygon
    community_kind : numpy.ndarray of int
    rng : numpy.random.Generator

    Returns
    -------
    Landmarks
    """
    line, street_name, street_kind = streets.line, streets.name, streets.kind
    major = np.flatnonzero(street_kind <= 1)
    idx, dist = [], []
    for i in major:
        length = line[i].length
        at = np.arange(120.0, length - 120.0, 450.0)
        at = at + rng.uniform(-60, 60, at.size)
        idx.append(np.full(at.size, i))
        dist.append(at)
    idx = np.concatenate(idx)
    dist = np.concatenate(dist)
    side = rng.choice([-1.0, 1.0], idx.size)
    xy = along(line[idx], dist, side, HALF_WIDTH[street_kind[idx]] + 3.0)
    ok = shapely.contains_xy(inner, xy[:, 0], xy[:, 1])
    idx, xy = idx[ok], xy[ok]
    count = pd.Series(street_name[idx]).groupby(street_name[idx]).cumcount().to_numpy()
    directions = np.array(["", "东", "西", "南", "北", "中"] + [""] * 50, dtype=object)
    stop_name = street_name[idx] + directions[count] + "公交站"
    stop_kind = community_kind[attribute_points(shapely.points(xy), communities)]

    # Markets: beside secondary roads and lanes, in commercial or old communities, far apart.
    minor = np.flatnonzero(street_kind >= 1)
    lengths = np.array([line[i].length for i in minor])
    pick = rng.choice(minor, size=400, p=lengths / lengths.sum())
    at = rng.uniform(0.15, 0.85, pick.size) * np.array([line[i].length for i in pick])
    mxy = along(line[pick], at, rng.choice([-1.0, 1.0], pick.size), 45.0)
    home = attribute_points(shapely.points(mxy), communities)
    good = (home >= 0) & shapely.contains_xy(shapely.buffer(inner, -100), mxy[:, 0], mxy[:, 1])
    good &= np.isin(
        community_kind[np.maximum(home, 0)], [KINDS.index("commercial"), KINDS.index("old")]
    )
    markets: list[NDArray[np.float64]] = []
    for point in mxy[good]:
        if len(markets) == 3:
            break
        if all(np.hypot(*(point - m)) > 900 for m in markets):
            markets.append(point)
    market_xy = np.array(markets).reshape(-1, 2)
    stems = rng.choice(len(_texts.COMMUNITY_STEMS), market_xy.shape[0], replace=False)
    suffix = rng.integers(0, len(_texts.MARKET_SUFFIXES), market_xy.shape[0])
    market_name = np.array(
        [
            _texts.COMMUNITY_STEMS[s] + _texts.MARKET_SUFFIXES[f]
            for s, f in zip(stems, suffix, strict=True)
        ],
        dtype=object,
    )
    return Landmarks(xy, stop_name, stop_kind, market_xy, market_name)
