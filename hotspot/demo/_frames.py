"""Column types of the demo town's tables (as hotspot.store.schema has them) and frame builders."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

# tests/test_demo.py pins these columns against the store schema.

STR = "object"
DATETIME = "datetime64[ns]"
COMMUNITY_DTYPES = {"id": "int64", "code": STR, "name": STR, "area_m2": "float64"}
GRID_DTYPES = {"cell": "int64", "community_id": "int64", "grid_worker": STR}
STREET_DTYPES = {"id": "int64", "name": STR, "kind": STR}
ZONE_DTYPES = {
    "id": "int64",
    "shop_name": STR,
    "business_type": STR,
    "address": STR,
    "licence_status": STR,
    "agreement_signed": "bool",
    # a date column: datetime.date objects (None when unsigned), as the store gives them back
    "agreement_signed_at": STR,
    "responsible_person": STR,
    "responsible_phone": STR,
    "community_id": "int64",
    "street_id": "int64",
    "area_m2": "float64",
    "cell": "int64",
}
PATROL_DTYPES = {
    "id": "int64",
    "zone_id": "int64",
    "patrolled_at": DATETIME,
    "inspector": STR,
    "findings": STR,
    "compliant": "bool",
}
REPORT_DTYPES = {
    "id": "int64",
    "external_id": STR,
    "category": STR,
    "description": STR,
    "address": STR,
    "area_m2": "float64",
    "lng": "float64",
    "lat": "float64",
    "orig_x": "float64",
    "orig_y": "float64",
    "orig_crs": STR,
    "reported_at": DATETIME,
    "source": STR,
    "reporter_name": STR,
    "reporter_phone": STR,
    "status": STR,
    "due_at": DATETIME,
    "resolved_at": DATETIME,
    "closed_at": DATETIME,
    "demolished_m2": "float64",
    "community_id": "int64",
    "zone_id": "Int64",
    "cell": "int64",
    "duplicate_of": "Int64",
    "relapse_of": "Int64",
}
EVENT_DTYPES = {
    "id": "int64",
    "report_id": "int64",
    "at": DATETIME,
    "actor": STR,
    "from_status": STR,
    "to_status": STR,
    "note": STR,
}
PLANTED_DTYPES = {
    "name": STR,
    "layer": STR,
    "kind": STR,
    "lng": "float64",
    "lat": "float64",
    "radius_m": "float64",
    "n_reports": "int64",
}


def frame(data: dict[str, Any], dtypes: dict[str, str]) -> pd.DataFrame:
    """A frame with exactly ``dtypes``' columns in order; text columns object with None.

    Parameters
    ----------
    data : dict of str to array_like
        Column values; a column left out is empty.
    dtypes : dict of str to str
        Column names and their pandas dtypes, in table order.

    Returns
    -------
    pandas.DataFrame
    """
    columns = {}
    for name, dtype in dtypes.items():
        values = data.get(name, [])
        if dtype == STR:
            array = np.asarray(values, dtype=object)
            array = np.where(pd.isna(array), None, array) if array.size else array
            columns[name] = pd.Series(array, dtype=object)
        else:
            columns[name] = (
                pd.Series(values).astype(dtype) if len(values) else pd.Series([], dtype=dtype)
            )
    return pd.DataFrame(columns)


def geoframe(data: dict[str, Any], dtypes: dict[str, str], geometry: ArrayLike) -> gpd.GeoDataFrame:
    """Like :func:`frame`, with WGS84 geometries.

    Parameters
    ----------
    data : dict of str to array_like
    dtypes : dict of str to str
    geometry : array_like of shapely geometries
        WGS84, one per row.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    table = frame(data, dtypes)
    return gpd.GeoDataFrame(
        table, geometry=gpd.GeoSeries(np.asarray(geometry, dtype=object), crs="EPSG:4326")
    )


def nullable_ids(ids: ArrayLike) -> pd.arrays.IntegerArray:
    """Positive ids as a nullable Int64 array, missing (NA) where the id is 0 or less.

    Parameters
    ----------
    ids : array_like of int

    Returns
    -------
    pandas.arrays.IntegerArray
    """
    ids = np.asarray(ids, dtype=np.int64)
    out = pd.array(np.where(ids > 0, ids, 0), dtype="Int64")
    out[ids <= 0] = pd.NA
    return out


def seconds_to_datetime(start: np.datetime64, seconds: ArrayLike) -> NDArray[np.datetime64]:
    """Seconds after ``start`` (NaN for none) as datetime64[ns], NaT where NaN.

    Parameters
    ----------
    start : numpy.datetime64
    seconds : array_like of float

    Returns
    -------
    numpy.ndarray of datetime64[ns]
    """
    seconds = np.asarray(seconds, dtype=np.float64)
    out = np.full(seconds.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = ~np.isnan(seconds)
    out[ok] = start + np.round(seconds[ok]).astype(np.int64).astype("timedelta64[s]")
    return out
