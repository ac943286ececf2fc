"""The base map: vector-only by default, Leaflet served by the app, optional basemap tiles."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike

from hotspot.assets import LEAFLET_CSS_URL, LEAFLET_JS_URL

__all__ = ["COORD_DECIMALS", "TILE_PRESETS", "feature_collection", "make_map", "to_wgs84"]

#: Named basemaps: URL template and attribution. Anything else passed as
#: ``tiles`` is taken as a URL template (an intranet tile server, say).
TILE_PRESETS: dict[str, tuple[str, str]] = {
    "osm": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
    ),
}

#: Six decimals of a degree are about 0.1 m: finer digits only make the page heavier.
COORD_DECIMALS = 6


def to_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject ``frame`` to WGS84 (EPSG:4326) for Leaflet.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame

    Returns
    -------
    geopandas.GeoDataFrame
        ``frame`` itself when already in EPSG:4326, else a reprojected copy.

    Raises
    ------
    ValueError
        If ``frame`` has no CRS: guessing would draw it in the wrong place.
    """
    if frame.crs is None:
        raise ValueError("cannot draw a GeoDataFrame without a CRS: set one first")
    if frame.crs.to_epsg() == 4326:
        return frame
    return frame.to_crs(4326)


def _plain(value: Any) -> Any:
    # JSON wants plain Python values; strings are escaped because folium's popups
    # and tooltips put property values into innerHTML, and report texts come
    # from residents and 12345 exports.
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def feature_collection(
    geometries: ArrayLike,
    properties: Mapping[str, Sequence[Any]] | None = None,
    *,
    ids: Sequence[int | str] | None = None,
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection with coordinates rounded and text HTML-escaped.

    Parameters
    ----------
    geometries : array_like of shapely.Geometry
        Geometries in WGS84 (lng, lat).
    properties : mapping of str to sequence, optional
        Property columns, each aligned with ``geometries``.
    ids : sequence of int or str, optional
        Feature ids (folium styles features by id); positions when omitted.

    Returns
    -------
    dict
        A GeoJSON FeatureCollection.
    """
    geometries = np.asarray(geometries, dtype=object)
    rounded = shapely.transform(geometries, lambda xy: np.round(xy, COORD_DECIMALS))
    columns = {name: list(values) for name, values in (properties or {}).items()}
    ids = list(range(len(geometries))) if ids is None else list(ids)
    features = []
    for i, geometry in enumerate(rounded):
        features.append(
            {
                "type": "Feature",
                "id": _plain(ids[i]),
                "geometry": shapely.geometry.mapping(geometry),
                "properties": {name: _plain(values[i]) for name, values in columns.items()},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def make_map(
    bounds: Sequence[float],
    *,
    tiles: str | None = None,
    attribution: str | None = None,
    js_url: str = LEAFLET_JS_URL,
    css_url: str = LEAFLET_CSS_URL,
) -> folium.Map:
    """A folium map fitted to ``bounds`` that loads nothing from the internet.

    Folium's ``Map`` links Leaflet, jQuery, Bootstrap and Awesome Markers from
    CDNs, and streamlit-folium injects every element's ``default_js`` and
    ``default_css`` into its iframe. Here the map links only Leaflet, from the
    app's own static folder (see :mod:`hotspot.assets`); the layers use nothing
    else (no ``folium.Popup``: its template needs jQuery).

    Parameters
    ----------
    bounds : sequence of float
        ``(min_lng, min_lat, max_lng, max_lat)`` in WGS84, as ``total_bounds`` gives.
    tiles : str, optional
        A name from :data:`TILE_PRESETS` or a tile URL template; None draws no
        basemap, so the map works offline with vector layers alone.
    attribution : str, optional
        Attribution for a custom tile URL.
    js_url, css_url : str
        Where the browser finds ``leaflet.js`` and ``leaflet.css``.

    Returns
    -------
    folium.Map
    """
    min_lng, min_lat, max_lng, max_lat = (float(v) for v in bounds)
    fmap = folium.Map(
        location=[(min_lat + max_lat) / 2, (min_lng + max_lng) / 2],
        zoom_start=14,
        tiles=None,
        control_scale=True,
        # quarter zoom steps, so that fitting the town fills the map
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    # Instance attributes shadow the CDN lists of the class for this map only.
    fmap.default_js = [("leaflet", js_url)]
    fmap.default_css = [("leaflet_css", css_url)]
    if tiles:
        url, default_attribution = TILE_PRESETS.get(tiles, (tiles, None))
        folium.TileLayer(
            tiles=url,
            attr=attribution or default_attribution or tiles,
            name="底图 Basemap",
            max_zoom=19,
            control=False,
        ).add_to(fmap)
    fmap.fit_bounds([[min_lat, min_lng], [max_lat, max_lng]])
    return fmap
