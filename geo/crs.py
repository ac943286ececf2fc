"""Vectorized conversions between WGS84, GCJ-02, BD-09, CGCS2000 and any EPSG code."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer

__all__ = [
    "METRIC_CRS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_metric",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "looks_swapped",
    "normalize_crs",
    "outside_china",
    "to_metric",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

# Conventions shared by every conversion here:
# - inputs broadcast against each other; arrays come out with the broadcast shape, so
#   scalars (Python floats or 0-d arrays) come out as 0-d arrays (``float(x)`` works);
# - a row with NaN or inf in either coordinate comes out as NaN in both;
# - GCJ-02 applies no offset outside the box of ``outside_china``, as the published
#   algorithm does; BD-09 is applied everywhere, as the published ``gcj02tobd09`` does
#   (it has no box), so WGS84 -> BD-09 outside China is the bare BD-09 shift (~0.0065°).

_Pair = tuple[NDArray[np.float64], NDArray[np.float64]]

#: CGCS2000 / 3-degree Gauss-Kruger CM 117E: metric, and the CRS Beijing surveys use.
METRIC_CRS = "EPSG:4548"

# Krasovsky 1940 ellipsoid, as the published GCJ-02 algorithm uses.
_A = 6378245.0
_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0
# The inverses stop when the forward image is this close to the input (degrees, ~1e-5 m).
_TOLERANCE_DEG = 1e-10
_MAX_ITERATIONS = 30

#: Names accepted for the special Chinese systems; anything else goes to pyproj.
_ALIASES = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "epsg:4326": "wgs84",
    "4326": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "amap": "gcj02",
    "tencent": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "baidu": "bd09",
    "cgcs2000": "EPSG:4490",
}


def _as_arrays(lng: ArrayLike, lat: ArrayLike) -> _Pair:
    # Broadcast so a scalar pairs with an array; copies so no caller's array is written.
    lng, lat = np.broadcast_arrays(
        np.asarray(lng, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return lng.copy(), lat.copy()


def outside_china(lng: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Flag points outside the rough mainland box where GCJ-02 applies no offset.

    The box (72.004–137.8347°E, 0.8293–55.8271°N) is the one most ports of the
    published algorithm use (eviltransform, gcoord); NaN is not flagged.

    Parameters
    ----------
    lng, lat : array_like
        Longitudes and latitudes in degrees.

    Returns
    -------
    numpy.ndarray of bool
    """
    return _outside_box(*_as_arrays(lng, lat))


def _outside_box(lng: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    return (lng < 72.004) | (lng > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj02_offset(lng: NDArray[np.float64], lat: NDArray[np.float64]) -> _Pair:
    x = lng - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlng += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlng += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlng = (dlng * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    inside = ~_outside_box(lng, lat)
    return np.where(inside, dlng, 0.0), np.where(inside, dlat, 0.0)


def _wgs84_to_gcj02(lng: NDArray[np.float64], lat: NDArray[np.float64]) -> _Pair:
    dlng, dlat = _gcj02_offset(lng, lat)
    return lng + dlng, lat + dlat


def _gcj02_to_bd09(lng: NDArray[np.float64], lat: NDArray[np.float64]) -> _Pair:
    z = np.sqrt(lng * lng + lat * lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lng) + 0.000003 * np.cos(lng * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(
    forward: Callable[[NDArray[np.float64], NDArray[np.float64]], _Pair],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
) -> _Pair:
    # Fixed-point iteration g <- g - (forward(g) - target): both offsets change by at
    # most a few parts in a thousand per degree, so each step gains two or more digits,
    # where the one-step inverse stops at centimetre-to-metre error. NaN rows never
    # satisfy the comparison below, so they cannot keep the loop going.
    gx, gy = x.copy(), y.copy()
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(gx, gy)
        ex, ey = fx - x, fy - y
        gx -= ex
        gy -= ey
        if not np.any((np.abs(ex) > _TOLERANCE_DEG) | (np.abs(ey) > _TOLERANCE_DEG)):
            break
    return gx, gy


def _convert(
    kernel: Callable[[NDArray[np.float64], NDArray[np.float64]], _Pair],
    lng: ArrayLike,
    lat: ArrayLike,
) -> _Pair:
    lng, lat = _as_arrays(lng, lat)
    # A half-missing point must not come out looking like a real one, so a row with NaN
    # or inf in either coordinate becomes NaN in both before any maths (NaN propagates
    # through every kernel; inf would also raise "invalid value" warnings in sin).
    bad = ~(np.isfinite(lng) & np.isfinite(lat))
    lng[bad] = np.nan
    lat[bad] = np.nan
    out_lng, out_lat = kernel(lng, lat)
    return np.asarray(out_lng, dtype=np.float64), np.asarray(out_lat, dtype=np.float64)


def wgs84_to_gcj02(lng: ArrayLike, lat: ArrayLike) -> _Pair:
    """Shift WGS84 coordinates into GCJ-02 (AMap, Tencent); outside China unchanged.

    Parameters
    ----------
    lng, lat : array_like
        WGS84 longitudes and latitudes in degrees; broadcast against each other.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitudes and latitudes, in the broadcast shape (0-d for scalars);
        NaN where either input is NaN or infinite.
    """
    return _convert(_wgs84_to_gcj02, lng, lat)


def gcj02_to_wgs84(lng: ArrayLike, lat: ArrayLike) -> _Pair:
    """Invert GCJ-02 exactly (iteratively) back to WGS84.

    Parameters
    ----------
    lng, lat : array_like
        GCJ-02 longitudes and latitudes in degrees; broadcast against each other.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitudes and latitudes whose GCJ-02 image is within 1e-10° (about
        0.01 mm) of the input; shape and NaN handling as :func:`wgs84_to_gcj02`.
    """
    return _convert(lambda x, y: _invert(_wgs84_to_gcj02, x, y), lng, lat)


def gcj02_to_bd09(lng: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert GCJ-02 coordinates to Baidu's BD-09.

    As in the published algorithm there is no China box: the shift applies everywhere.

    Parameters
    ----------
    lng, lat : array_like
        GCJ-02 longitudes and latitudes in degrees; broadcast against each other.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 longitudes and latitudes; shape and NaN handling as :func:`wgs84_to_gcj02`.
    """
    return _convert(_gcj02_to_bd09, lng, lat)


def bd09_to_gcj02(lng: ArrayLike, lat: ArrayLike) -> _Pair:
    """Invert BD-09 exactly (iteratively) back to GCJ-02.

    Parameters
    ----------
    lng, lat : array_like
        BD-09 longitudes and latitudes in degrees; broadcast against each other.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitudes and latitudes whose BD-09 image is within 1e-10° of the
        input; shape and NaN handling as :func:`wgs84_to_gcj02`.
    """
    return _convert(lambda x, y: _invert(_gcj02_to_bd09, x, y), lng, lat)


def wgs84_to_bd09(lng: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert WGS84 coordinates to BD-09 (through GCJ-02).

    Outside China GCJ-02 passes the point through and only the BD-09 shift applies.

    Parameters
    ----------
    lng, lat : array_like
        WGS84 longitudes and latitudes in degrees; broadcast against each other.

    Returns
    -------
    tuple of numpy.ndarray
        BD-09 longitudes and latitudes; shape and NaN handling as :func:`wgs84_to_gcj02`.
    """
    return _convert(lambda x, y: _gcj02_to_bd09(*_wgs84_to_gcj02(x, y)), lng, lat)


def bd09_to_wgs84(lng: ArrayLike, lat: ArrayLike) -> _Pair:
    """Convert BD-09 coordinates to WGS84 (exact inverses of both steps).

    Parameters
    ----------
    lng, lat : array_like
        BD-09 longitudes and latitudes in degrees; broadcast against each other.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitudes and latitudes; shape and NaN handling as :func:`wgs84_to_gcj02`.
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))


def normalize_crs(crs: str | int) -> str:
    """Name a coordinate system canonically: ``wgs84``, ``gcj02``, ``bd09`` or ``EPSG:n``.

    Parameters
    ----------
    crs : str or int
        A name such as ``gcj02``, ``AMap``, ``Baidu``, ``cgcs2000``, ``EPSG:4548`` or
        ``4548`` (case and surrounding blanks ignored).

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If the name is unknown, pyproj does not know the code, or the code is not a
        horizontal (geographic or projected) system.
    """
    key = str(crs).strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    code = key.removeprefix("epsg:")
    if not code.isdigit():
        raise ValueError(
            f"unknown coordinate system {crs!r}: use wgs84, gcj02, bd09, cgcs2000 or EPSG:nnnn"
        )
    try:
        system = CRS.from_epsg(int(code))
    except Exception as exc:  # pyproj raises its own CRSError
        raise ValueError(f"unknown coordinate system {crs!r}: {exc}") from None
    if not (system.is_geographic or system.is_projected) or len(system.axis_info) != 2:
        raise ValueError(
            f"coordinate system {crs!r} ({system.name}) is not a 2-D geographic or projected one"
        )
    return "wgs84" if int(code) == 4326 else f"EPSG:{int(code)}"


@lru_cache(maxsize=32)
def _transformer(source: str, target: str) -> Transformer:
    # pyproj Transformers are thread-safe since 3.1, so one per pair is shared.
    return Transformer.from_crs(source, target, always_xy=True)


def _pyproj_kernel(
    source: str, target: str
) -> Callable[[NDArray[np.float64], NDArray[np.float64]], _Pair]:
    transformer = _transformer(source, target)
    return lambda x, y: transformer.transform(x, y)


def to_wgs84(x: ArrayLike, y: ArrayLike, crs: str | int) -> _Pair:
    """Convert coordinates in any supported system to WGS84 longitude and latitude.

    Parameters
    ----------
    x, y : array_like
        Eastings/longitudes and northings/latitudes; broadcast against each other.
    crs : str or int
        Source system, anything :func:`normalize_crs` accepts.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitudes and latitudes; shape and NaN handling as
        :func:`wgs84_to_gcj02`; pyproj marks points it cannot transform with inf.
    """
    name = normalize_crs(crs)
    if name == "wgs84":
        return _convert(lambda a, b: (a, b), x, y)
    if name == "gcj02":
        return gcj02_to_wgs84(x, y)
    if name == "bd09":
        return bd09_to_wgs84(x, y)
    return _convert(_pyproj_kernel(name, "EPSG:4326"), x, y)


def from_wgs84(lng: ArrayLike, lat: ArrayLike, crs: str | int) -> _Pair:
    """Convert WGS84 longitude and latitude to any supported system.

    Parameters
    ----------
    lng, lat : array_like
        WGS84 longitudes and latitudes; broadcast against each other.
    crs : str or int
        Target system, anything :func:`normalize_crs` accepts.

    Returns
    -------
    tuple of numpy.ndarray
        Coordinates in the target system; shape and NaN handling as
        :func:`wgs84_to_gcj02`; pyproj marks points it cannot transform with inf.
    """
    name = normalize_crs(crs)
    if name == "wgs84":
        return _convert(lambda a, b: (a, b), lng, lat)
    if name == "gcj02":
        return wgs84_to_gcj02(lng, lat)
    if name == "bd09":
        return wgs84_to_bd09(lng, lat)
    return _convert(_pyproj_kernel("EPSG:4326", name), lng, lat)


def looks_swapped(lng: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Flag coordinates that only make sense for China with longitude and latitude exchanged.

    Parameters
    ----------
    lng, lat : array_like
        Values as given in the longitude and latitude fields.

    Returns
    -------
    numpy.ndarray of bool
        True where (lat, lng) falls inside China's box but (lng, lat) does not;
        False where either value is NaN.
    """
    lng, lat = _as_arrays(lng, lat)
    finite = np.isfinite(lng) & np.isfinite(lat)
    return finite & _outside_box(lng, lat) & ~_outside_box(lat, lng)


def _transform_geometries(
    geometries: ArrayLike | shapely.Geometry, source: str, target: str
) -> NDArray[np.object_] | shapely.Geometry:
    transformer = _transformer(source, target)
    return shapely.transform(
        geometries, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def to_metric(geometries: ArrayLike | shapely.Geometry) -> NDArray[np.object_] | shapely.Geometry:
    """Project WGS84 geometries into the metric CRS (EPSG:4548) to measure metres and m².

    Parameters
    ----------
    geometries : shapely geometry or array_like of them
        WGS84 (lng, lat).

    Returns
    -------
    shapely geometry or numpy.ndarray of them
        In EPSG:4548, same shape as the input.
    """
    return _transform_geometries(geometries, "EPSG:4326", METRIC_CRS)


def from_metric(geometries: ArrayLike | shapely.Geometry) -> NDArray[np.object_] | shapely.Geometry:
    """Bring geometries from the metric CRS (EPSG:4548) back to WGS84.

    Parameters
    ----------
    geometries : shapely geometry or array_like of them
        EPSG:4548 coordinates.

    Returns
    -------
    shapely geometry or numpy.ndarray of them
        WGS84 (lng, lat), same shape as the input.
    """
    return _transform_geometries(geometries, METRIC_CRS, "EPSG:4326")
