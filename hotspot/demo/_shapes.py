"""Metric shape helpers of the demo town: random points, offsets, footprints and moved copies."""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray


def largest_polygon(geometry: shapely.Geometry) -> shapely.Polygon:
    """The largest polygon of a geometry, without holes (empty if it has none).

    Parameters
    ----------
    geometry : shapely.Geometry

    Returns
    -------
    shapely.Polygon
    """
    parts = shapely.get_parts(geometry)
    parts = parts[shapely.get_type_id(parts) == 3]
    if parts.size == 0:
        return shapely.Polygon()
    return shapely.Polygon(parts[np.argmax(shapely.area(parts))].exterior)


def points_in(
    polygon: shapely.Polygon, count: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Uniform random points inside a metric polygon (rejection from its bounding box).

    Parameters
    ----------
    polygon : shapely.Polygon
        Not empty.
    count : int
    rng : numpy.random.Generator

    Returns
    -------
    tuple of numpy.ndarray
        x and y of ``count`` points.
    """
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    xs, ys = [], []
    have = 0
    fill = max(polygon.area / ((maxx - minx) * (maxy - miny)), 0.05)
    while have < count:
        batch = int((count - have) / fill * 1.2) + 16
        x = rng.uniform(minx, maxx, batch)
        y = rng.uniform(miny, maxy, batch)
        inside = shapely.contains_xy(polygon, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
        have += int(inside.sum())
    return np.concatenate(xs)[:count], np.concatenate(ys)[:count]


def along(
    lines: NDArray[np.object_],
    distance: NDArray[np.float64],
    side: NDArray[np.float64],
    offset: float | NDArray[np.float64],
) -> NDArray[np.float64]:
    """Points ``offset`` to one side of lines at ``distance`` along them.

    Parameters
    ----------
    lines : numpy.ndarray of shapely.LineString
    distance : numpy.ndarray of float
        Metres along each line.
    side : numpy.ndarray of float
        +1 for the left, -1 for the right.
    offset : float or numpy.ndarray of float
        Metres from the line.

    Returns
    -------
    numpy.ndarray of float, shape (n, 2)
    """
    a = shapely.get_coordinates(shapely.line_interpolate_point(lines, distance))
    b = shapely.get_coordinates(shapely.line_interpolate_point(lines, distance + 1.0))
    c = shapely.get_coordinates(
        shapely.line_interpolate_point(lines, np.maximum(distance - 1.0, 0))
    )
    d = b - c
    d /= np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    normal = np.column_stack([-d[:, 1], d[:, 0]]) * side[:, None]
    return a + normal * np.asarray(offset, dtype=np.float64).reshape(-1, 1)


def offsets(
    count: int, distance: float, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Random displacements of up to ``distance`` metres in any direction.

    Parameters
    ----------
    count : int
    distance : float
    rng : numpy.random.Generator

    Returns
    -------
    tuple of numpy.ndarray
        dx and dy.
    """
    r = rng.uniform(0.5, distance, count)
    a = rng.uniform(0, 2 * np.pi, count)
    return r * np.cos(a), r * np.sin(a)


def footprints(
    x: NDArray[np.float64], y: NDArray[np.float64], angle: float, rng: np.random.Generator
) -> NDArray[np.object_]:
    """Rectangles and L-shapes of 8–400 m² (log-normal) centred on the points, in metres.

    Parameters
    ----------
    x, y : numpy.ndarray of float
        Centres.
    angle : float
        Radians: the street grid's rotation, which buildings follow.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray of shapely.Polygon
    """
    n = x.size
    area = np.clip(np.exp(rng.normal(np.log(45.0), 0.9, n)), 8.0, 400.0)
    aspect = rng.uniform(1.0, 2.5, n)
    l_shape = rng.random(n) < 0.3
    a, b = rng.uniform(0.4, 0.7, n), rng.uniform(0.3, 0.6, n)
    fill = np.where(l_shape, a + b * (1 - a), 1.0)
    width = np.sqrt(area / fill / aspect)
    length = width * aspect
    # L: (0,0) (l,0) (l,a*w) (b*l,a*w) (b*l,w) (0,w); a rectangle repeats its corners
    ux = np.stack(
        [np.zeros(n), length, length, b * length, b * length, np.zeros(n), np.zeros(n)], 1
    )
    uy = np.stack([np.zeros(n), np.zeros(n), a * width, a * width, width, width, np.zeros(n)], 1)
    rect_x = np.stack(
        [np.zeros(n), length, length, length, np.zeros(n), np.zeros(n), np.zeros(n)], 1
    )
    rect_y = np.stack([np.zeros(n), np.zeros(n), width, width, width, width, np.zeros(n)], 1)
    ux = np.where(l_shape[:, None], ux, rect_x) - length[:, None] / 2
    uy = np.where(l_shape[:, None], uy, rect_y) - width[:, None] / 2
    theta = angle + rng.choice([0.0, np.pi / 2], n) + rng.normal(0, 0.05, n)
    c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
    px = x[:, None] + ux * c - uy * s
    py = y[:, None] + ux * s + uy * c
    # rectangles repeat two corners: drop them so that every ring is clean
    return shapely.remove_repeated_points(shapely.polygons(np.stack([px, py], axis=2)))


def moved_copies(
    geometries: NDArray[np.object_],
    dx: NDArray[np.float64],
    dy: NDArray[np.float64],
    *,
    point_area: shapely.Polygon,
    footprint_area: shapely.Polygon,
) -> NDArray[np.object_]:
    """Copies moved by their own (dx, dy); a copy that would leave its area stays put.

    Parameters
    ----------
    geometries : numpy.ndarray of shapely geometries
        Points and footprints, in metres.
    dx, dy : numpy.ndarray of float
    point_area, footprint_area : shapely.Polygon
        Where moved points and moved footprints must stay.

    Returns
    -------
    numpy.ndarray of shapely geometries
    """
    coords, index = shapely.get_coordinates(geometries, return_index=True)
    coords = coords + np.column_stack([np.asarray(dx)[index], np.asarray(dy)[index]])
    moved = shapely.set_coordinates(geometries.copy(), coords)
    is_point = shapely.get_type_id(moved) == 0
    inside = np.where(
        is_point, shapely.within(moved, point_area), shapely.within(moved, footprint_area)
    )
    moved[~inside] = geometries[~inside]
    return moved
