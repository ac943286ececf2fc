"""The demo town's land in EPSG:4548 (outline, communities, kinds, grid) and its Geography."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geo.cells import GRID_RES, cell_parents, cells_in_polygon
from geo.crs import METRIC_CRS, from_wgs84, to_metric
from hotspot.demo import _texts
from hotspot.demo._frames import COMMUNITY_DTYPES, GRID_DTYPES, frame, geoframe
from hotspot.demo._params import DISTRICT_MARGIN_M, KINDS, TOWN_CENTRE
from hotspot.demo._shapes import largest_polygon, points_in
from hotspot.demo._streets import Landmarks, Streets
from hotspot.demo._zones import Zones


@dataclass
class Geography:
    """The town in EPSG:4548 with what reports need to be placed and described.

    Attributes
    ----------
    town : shapely.Polygon
        The town.
    inner : shapely.Polygon
        The town less a margin: where hotspot centres and background reports go.
    point_area : shapely.Polygon
        The town less a metre: where point reports go.
    community : numpy.ndarray of shapely.Polygon
        The communities, in table order.
    community_kind : numpy.ndarray of int
        Each community's kind, an index into :data:`KINDS`.
    community_name : numpy.ndarray of str
    community_worker : numpy.ndarray of str
        The first grid worker of each community.
    cell_worker : pandas.Series
        Grid worker by grid cell.
    streets : Streets
    landmarks : Landmarks
    zones : Zones
    """

    town: shapely.Polygon
    inner: shapely.Polygon
    point_area: shapely.Polygon
    community: NDArray[np.object_]
    community_kind: NDArray[np.int64]
    community_name: NDArray[np.object_]
    community_worker: NDArray[np.object_]
    cell_worker: pd.Series
    streets: Streets
    landmarks: Landmarks
    zones: Zones


def town_polygon(district_m: shapely.Geometry, rng: np.random.Generator) -> shapely.Polygon:
    """A blob of 28–32 km² around the model town, cut to stay inside the district.

    Parameters
    ----------
    district_m : shapely.Polygon or shapely.MultiPolygon
        The district in EPSG:4548.
    rng : numpy.random.Generator

    Returns
    -------
    shapely.Polygon
    """
    inner = shapely.buffer(district_m, -DISTRICT_MARGIN_M)
    cx, cy = from_wgs84(TOWN_CENTRE[0], TOWN_CENTRE[1], METRIC_CRS)
    cx, cy = float(cx) + rng.normal(0, 150), float(cy) + rng.normal(0, 150)
    theta = np.linspace(0, 2 * np.pi, 36, endpoint=False)
    wobble = np.ones_like(theta)
    for harmonic, amplitude in ((2, 0.07), (3, 0.05), (5, 0.025)):
        wobble += amplitude * np.sin(harmonic * theta + rng.uniform(0, 2 * np.pi))
    ux, uy = 1.15 * np.cos(theta) * wobble, 0.87 * np.sin(theta) * wobble
    target = rng.uniform(28.5e6, 31.5e6)

    def clipped(scale: float) -> shapely.Polygon:
        blob = shapely.Polygon(np.column_stack([cx + scale * ux, cy + scale * uy]))
        return largest_polygon(shapely.intersection(blob, inner))

    low, high = 500.0, 10_000.0
    for _ in range(40):
        middle = (low + high) / 2
        if clipped(middle).area < target:
            low = middle
        else:
            high = middle
    return clipped(high)


def _community_polygons(town: shapely.Polygon, rng: np.random.Generator) -> NDArray[np.object_]:
    """A Voronoi partition of the town from well-spaced seeded points."""
    n = int(rng.integers(22, 29))
    spacing = 0.8 * np.sqrt(town.area / n)
    seeds: list[tuple[float, float]] = []
    rounds = 0
    while len(seeds) < n:
        x, y = points_in(town, 64, rng)
        for px, py in zip(x.tolist(), y.tolist(), strict=True):
            if len(seeds) < n and all(
                (px - sx) ** 2 + (py - sy) ** 2 >= spacing**2 for sx, sy in seeds
            ):
                seeds.append((px, py))
        rounds += 1
        if rounds % 10 == 0:
            spacing *= 0.95  # relax rather than loop forever on an awkward shape
    regions = shapely.get_parts(
        shapely.voronoi_polygons(
            shapely.multipoints(np.array(seeds)), extend_to=shapely.buffer(town, 5000), ordered=True
        )
    )
    cells = shapely.intersection(regions, town)
    # A concave town edge can split a Voronoi cell: give stray pieces to the neighbour
    # that shares most of their border, so that the partition stays exact.
    cells = np.array([shapely.make_valid(c) for c in cells], dtype=object)
    for i in range(cells.size):
        parts = shapely.get_parts(cells[i])
        parts = parts[shapely.get_type_id(parts) == 3]
        if parts.size <= 1:
            cells[i] = parts[0] if parts.size else cells[i]
            continue
        keep = int(np.argmax(shapely.area(parts)))
        cells[i] = parts[keep]
        for j, piece in enumerate(parts):
            if j == keep:
                continue
            shared = shapely.length(shapely.intersection(shapely.boundary(piece), cells))
            shared[i] = -1
            k = int(np.argmax(shared))
            cells[k] = largest_polygon(shapely.union(cells[k], piece))
    return cells


def _community_kinds(
    town: shapely.Polygon, polygons: NDArray[np.object_], rng: np.random.Generator
) -> NDArray[np.int64]:
    """Fringe villages on the outer edge (south and sides), markets near the centre, old north."""
    n = polygons.size
    centroids = shapely.get_coordinates(shapely.centroid(polygons))
    tx, ty = town.centroid.x, town.centroid.y
    scale = np.sqrt(town.area / np.pi)
    u, v = (centroids[:, 0] - tx) / scale, (centroids[:, 1] - ty) / scale
    edge = shapely.length(shapely.intersection(shapely.boundary(polygons), town.exterior)) > 150
    kind = np.full(n, -1, dtype=np.int64)
    n_fringe = max(3, round(0.22 * n))
    fringe_score = v - 0.4 * np.abs(u) + rng.normal(0, 0.25, n) - 10.0 * edge
    kind[np.argsort(fringe_score, kind="stable")[:n_fringe]] = KINDS.index("fringe")
    free = np.flatnonzero(kind < 0)
    n_commercial = int(rng.integers(3, 5))
    centre_distance = np.hypot(u[free], v[free] - 0.15) + rng.normal(0, 0.1, free.size)
    kind[free[np.argsort(centre_distance, kind="stable")[:n_commercial]]] = KINDS.index(
        "commercial"
    )
    free = np.flatnonzero(kind < 0)
    n_old = round(0.45 * free.size)
    north = v[free] + rng.normal(0, 0.3, free.size)
    kind[free[np.argsort(-north, kind="stable")[:n_old]]] = KINDS.index("old")
    kind[kind < 0] = KINDS.index("new")
    return kind


def communities(
    town: shapely.Polygon, rng: np.random.Generator
) -> tuple[NDArray[np.object_], NDArray[np.int64], NDArray[np.object_]]:
    """The communities partitioning the town, north to south then west to east.

    Parameters
    ----------
    town : shapely.Polygon
        In EPSG:4548.
    rng : numpy.random.Generator

    Returns
    -------
    tuple of numpy.ndarray
        Polygons (EPSG:4548), kinds (indexes into :data:`KINDS`) and names.
    """
    polygons = _community_polygons(town, rng)
    kind = _community_kinds(town, polygons, rng)
    centre = shapely.get_coordinates(shapely.centroid(polygons))
    band = np.floor((town.bounds[3] - centre[:, 1]) / 1500.0)
    order = np.lexsort((centre[:, 0], band))
    polygons, kind = polygons[order], kind[order]
    stems = rng.choice(len(_texts.COMMUNITY_STEMS), size=polygons.size, replace=False)
    name = np.array([_texts.COMMUNITY_STEMS[s] + "社区" for s in stems], dtype=object)
    return polygons, kind, name


def community_frame(
    polygons_wgs: NDArray[np.object_], name: NDArray[np.object_]
) -> gpd.GeoDataFrame:
    """Table ``community``: ids from 1, codes SQ01..., names and areas.

    Parameters
    ----------
    polygons_wgs : numpy.ndarray of shapely.Polygon
        WGS84, in table order.
    name : numpy.ndarray of str

    Returns
    -------
    geopandas.GeoDataFrame
    """
    n = polygons_wgs.size
    return geoframe(
        {
            "id": np.arange(1, n + 1),
            "code": [f"SQ{i:02d}" for i in range(1, n + 1)],
            "name": name,
            "area_m2": shapely.area(to_metric(polygons_wgs)),
        },
        COMMUNITY_DTYPES,
        polygons_wgs,
    )


def grid(
    communities_wgs: NDArray[np.object_], rng: np.random.Generator
) -> tuple[pd.DataFrame, NDArray[np.object_]]:
    """Grid cells of every community, a handful per grid worker.

    Parameters
    ----------
    communities_wgs : numpy.ndarray of shapely.Polygon
        WGS84, in table order.
    rng : numpy.random.Generator

    Returns
    -------
    grid_cells : pandas.DataFrame
        Table ``grid_cell``, in cell order.
    community_worker : numpy.ndarray of str
        The first worker of each community.
    """
    cells, owner = [], []
    for i, polygon in enumerate(communities_wgs):
        found = cells_in_polygon(polygon, res=GRID_RES)
        cells.append(found)
        owner.append(np.full(found.size, i))
    cell = np.concatenate(cells)
    community = np.concatenate(owner)
    first = ~pd.Series(cell).duplicated().to_numpy()  # a centre on a shared edge: first wins
    cell, community = cell[first], community[first]
    order = np.lexsort((cell, community))
    cell, community = cell[order], community[order]
    # one worker per 4–8 consecutive cells (H3 order keeps them close together)
    rank = pd.Series(community).groupby(community).cumcount().to_numpy()
    per_worker = rng.integers(4, 9, communities_wgs.size)
    team = rank // per_worker[community]
    team_key = pd.factorize(pd.Series(community).astype(str) + ":" + pd.Series(team).astype(str))[0]
    worker_names = _texts.unique_names(int(team_key.max()) + 1 if team_key.size else 0, rng)
    worker = worker_names[team_key]
    community_worker = np.empty(communities_wgs.size, dtype=object)
    community_worker[:] = None
    for i in range(communities_wgs.size):
        mine = worker[community == i]
        community_worker[i] = mine[0] if mine.size else worker_names[0]
    by_cell = np.argsort(cell, kind="stable")  # the table's key order
    table = frame(
        {
            "cell": cell[by_cell],
            "community_id": community[by_cell] + 1,
            "grid_worker": worker[by_cell],
        },
        GRID_DTYPES,
    )
    return table, community_worker


def workers(
    cell: NDArray[np.int64],
    community: NDArray[np.int64],
    cell_worker: pd.Series,
    community_worker: NDArray[np.object_],
) -> NDArray[np.object_]:
    """The grid worker of each point's grid cell, else the first one of its community.

    Parameters
    ----------
    cell : numpy.ndarray of int64
        H3 cells of the points, at any resolution finer than the grid.
    community : numpy.ndarray of int
        Position of each point's community (-1 for none).
    cell_worker : pandas.Series
        Grid worker by grid cell.
    community_worker : numpy.ndarray of str
        The first worker of each community.

    Returns
    -------
    numpy.ndarray of str
    """
    mapped = pd.Series(cell_parents(cell, GRID_RES)).map(cell_worker).to_numpy(dtype=object)
    fallback = community_worker[np.maximum(community, 0)]
    return np.where(pd.isna(mapped), fallback, mapped).astype(object)
