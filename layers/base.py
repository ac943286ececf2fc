"""The base map: vector-only by default, Leaflet served by the app, our own inlined map code."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template
from numpy.typing import ArrayLike, NDArray

from hotspot.assets import LEAFLET_CSS_URL, LEAFLET_JS_URL
from layers.basemaps import OSM, Basemap, available_basemaps, custom_basemap

__all__ = [
    "COORD_DECIMALS",
    "DIGITS",
    "TILE_PRESETS",
    "EncodedRings",
    "HotspotMap",
    "JsElement",
    "JsLayer",
    "Tiles",
    "decode_ints",
    "encode_ints",
    "encode_rings",
    "feature_collection",
    "js_json",
    "library_js",
    "make_map",
    "to_wgs84",
]

#: Named basemaps as (URL template, attribution), kept for callers of ``make_map(tiles=...)``;
#: :mod:`layers.basemaps` has them all.
TILE_PRESETS: dict[str, tuple[str, str]] = {OSM.key: (OSM.urls[0], OSM.attribution)}
#: The map code of this project (layers/js/hotmap.js), inlined into every map.
LIBRARY_PATH = Path(__file__).resolve().parent / "js" / "hotmap.js"

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
        # "{" as an entity too: branca renders scripts as Jinja templates, where
        # "{{" from a report would be run on the server.
        return html.escape(value).replace("{", "&#123;")
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


_SCRIPT_UNSAFE = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)
# Branca compiles every rendered script again as a Jinja template: a "{{" or "{%" in
# a report's text would be run on the server. JSON puts "{" before "{", "%" or "#"
# only inside strings, where an escape keeps the same text.
_JINJA_OPENER = re.compile(r"\{(?=[{%#])")


def js_json(value: Any) -> str:
    """``value`` as JSON that is safe inside an HTML ``<script>``.

    Chinese text is kept as it is (a third of the bytes of JSON's unicode escapes);
    ``<``, ``>`` and ``&`` are escaped so that no report text can close the script,
    and a ``{`` that would open a Jinja tag (branca renders scripts as templates).

    Parameters
    ----------
    value : JSON-serializable

    Returns
    -------
    str
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _JINJA_OPENER.sub(r"\\u007b", text.translate(_SCRIPT_UNSAFE))


#: The 64 digits of :func:`encode_ints`: URL-safe base64's, so the text needs no
#: escape in JSON, HTML or a Jinja template.
DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_DIGIT_CODES = np.frombuffer(DIGITS.encode("ascii"), dtype=np.uint8)


def encode_ints(values: ArrayLike) -> str:
    """Signed integers as a compact string of :data:`DIGITS`.

    Each value is zigzagged (0, -1, 1, -2 ... to 0, 1, 2, 3 ...), cut into 5-bit
    groups, low first, and each group written as one digit, plus 32 on all but the
    last group of a value. ``HotMap.decode`` in layers/js/hotmap.js reads it.

    Parameters
    ----------
    values : array_like of int
        Magnitudes below 2**34.

    Returns
    -------
    str
    """
    values = np.asarray(values, dtype=np.int64).ravel()
    if values.size == 0:
        return ""
    zigzag = np.where(values < 0, -2 * values - 1, 2 * values).astype(np.uint64)
    groups = (zigzag[:, None] >> (5 * np.arange(7, dtype=np.uint64))) & np.uint64(31)
    # groups needed: up to the highest non-zero one, at least one
    used = np.maximum(1, 7 - np.argmax(groups[:, ::-1] != 0, axis=1))
    used[zigzag == 0] = 1
    position = np.arange(7)
    more = position[None, :] < (used[:, None] - 1)
    digits = groups.astype(np.int64) + np.where(more, 32, 0)
    keep = position[None, :] < used[:, None]
    return _DIGIT_CODES[digits[keep]].tobytes().decode("ascii")


def decode_ints(text: str) -> NDArray[np.int64]:
    """Read back what :func:`encode_ints` wrote (as ``HotMap.decode`` does in the browser).

    Parameters
    ----------
    text : str

    Returns
    -------
    numpy.ndarray of int64
    """
    if not text:
        return np.zeros(0, dtype=np.int64)
    lookup = np.full(256, -1, dtype=np.int64)
    lookup[_DIGIT_CODES] = np.arange(_DIGIT_CODES.size)
    digits = lookup[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]
    if digits.min() < 0 or digits[-1] >= 32:
        raise ValueError("not a string written by encode_ints")
    last = digits < 32
    value_of = np.concatenate([[0], np.cumsum(last)[:-1]])
    position = np.arange(digits.size) - np.concatenate([[0], np.flatnonzero(last) + 1])[value_of]
    zigzag = np.zeros(int(last.sum()), dtype=np.int64)
    np.add.at(zigzag, value_of, (digits % 32) << (5 * position))
    return np.where(zigzag % 2 == 1, -(zigzag + 1) // 2, zigzag // 2)


class EncodedRings(NamedTuple):
    """Polygon rings in the compact form ``HotMap.rings`` decodes."""

    #: ``[lng, lat]`` of the origin in millionths of a degree.
    origin: list[int]
    #: Per ring its vertex count, then a (dlng, dlat) step per vertex, in 1e-6 degrees.
    text: str
    #: Rings per geometry (exterior first, then holes).
    counts: NDArray[np.int64]


def encode_rings(geometries: ArrayLike, origin: Sequence[int] | None = None) -> EncodedRings:
    """Polygons (or multipolygons) as rings of rounded coordinate steps.

    A hexagon takes about 30 characters instead of some 200 as GeoJSON. Coordinates
    are rounded to :data:`COORD_DECIMALS`; the closing vertex of each ring is left out
    (Leaflet closes rings).

    Parameters
    ----------
    geometries : array_like of shapely.Geometry
        Polygons in WGS84 (lng, lat).
    origin : sequence of int, optional
        ``[lng, lat]`` in millionths of a degree; the south-west corner of the
        coordinates when omitted.

    Returns
    -------
    EncodedRings
    """
    geometries = np.asarray(geometries, dtype=object).ravel()
    polygons, owner = shapely.get_parts(geometries, return_index=True)
    rings, ring_owner = shapely.get_rings(polygons, return_index=True)
    counts = np.bincount(owner[ring_owner], minlength=geometries.size).astype(np.int64)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    sizes = np.bincount(ring_of, minlength=rings.size)
    closing = np.cumsum(sizes) - 1
    keep = np.ones(len(coords), dtype=bool)
    keep[closing[sizes > 0]] = False
    scaled = np.round(coords[keep] * 10**COORD_DECIMALS).astype(np.int64)
    if origin is None:
        origin = scaled.min(axis=0).tolist() if len(scaled) else [0, 0]
    steps = np.diff(scaled - np.asarray(origin, dtype=np.int64), axis=0, prepend=[[0, 0]])
    vertices = np.maximum(sizes - 1, 0)
    stream = np.empty(rings.size + 2 * int(vertices.sum()), dtype=np.int64)
    starts = (np.cumsum(1 + 2 * vertices) - (1 + 2 * vertices)).astype(np.int64)
    is_count = np.zeros(stream.size, dtype=bool)
    is_count[starts] = True
    stream[is_count] = vertices
    stream[~is_count] = steps.ravel()
    return EncodedRings([int(v) for v in origin], encode_ints(stream), counts)


@lru_cache(maxsize=1)
def library_js() -> str:
    """The project's map code (``layers/js/hotmap.js``), inlined into every map."""
    return LIBRARY_PATH.read_text(encoding="utf-8")


class HotspotMap(folium.Map):
    """A folium map that runs the project's map code first and can draw in GCJ-02.

    The code goes into the map's own script, ahead of ``L.map(...)``: streamlit-folium
    runs only the map's script (not scripts in the header), and the GCJ-02 CRS must
    exist before the map is made. ``crs="GCJ02"`` then draws every layer shifted
    into GCJ-02 (see ``HotMap.GCJ02``).
    """

    _folium_template = folium.Map._template
    _template = Template(
        """
        {% macro header(this, kwargs) %}
        {{- this._folium_template.module.header(this, kwargs) -}}
        {% endmacro %}
        {% macro html(this, kwargs) %}
        {{- this._folium_template.module.html(this, kwargs) -}}
        {% endmacro %}
        {% macro script(this, kwargs) %}
        {{ this.library }}
        {{ this._folium_template.module.script(this, kwargs) }}
        HotMap.setup({{ this.get_name() }});
        {% endmacro %}
        """
    )

    @property
    def library(self) -> str:
        """The inlined map code."""
        return library_js()


class JsElement(MacroElement):
    """``var <name> = <expression>;`` in the map's script: an object other elements use.

    Parameters
    ----------
    expression : str
        A JavaScript expression, with data written by :func:`js_json`.
    name : str, default "js_element"
        Prefix of the variable name.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = {{ this.expression }};
        {% endmacro %}
        """
    )

    def __init__(self, expression: str, *, name: str = "js_element") -> None:
        super().__init__()
        self._name = name
        self.expression = expression


class JsLayer(folium.map.Layer):
    """A layer made by a JavaScript expression, listed in the LayerControl as ``name``.

    Parameters
    ----------
    expression : str
        A JavaScript expression giving a Leaflet layer.
    name : str
        Name in the layer control.
    show : bool, default True
        Whether it is on when the map opens.
    kind : str, default "js_layer"
        Prefix of the variable name.
    """

    _template = JsElement._template

    def __init__(
        self, expression: str, *, name: str, show: bool = True, kind: str = "js_layer"
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = kind
        self.expression = expression


class Tiles(MacroElement):
    """A basemap's tile layers (not in the layer control), with a notice when tiles fail.

    Parameters
    ----------
    basemap : Basemap
    notice : str
        Shown once in a corner if a tile cannot be loaded (offline, say).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {%- for url in this.basemap.urls %}
        {%- set tiles = this.get_name() ~ "_" ~ loop.index %}
        var {{ tiles }} = L.tileLayer(
            {{ this.js(url) }}, {{ this.js(this.options_for(loop.index0)) }}
        ).addTo({{ this._parent.get_name() }});
        HotMap.watchTiles({{ this._parent.get_name() }}, {{ tiles }}, {{ this.js(this.notice) }});
        {%- endfor %}
        {% endmacro %}
        """
    )

    def __init__(self, basemap: Basemap, *, notice: str) -> None:
        super().__init__()
        self._name = "tiles"
        self.basemap = basemap
        self.notice = notice
        self.js = js_json

    def options_for(self, index: int) -> dict[str, Any]:
        """Leaflet options of the ``index``-th tile layer (attribution on the first)."""
        options: dict[str, Any] = {"maxZoom": 19, "maxNativeZoom": self.basemap.max_zoom}
        if self.basemap.subdomains:
            options["subdomains"] = self.basemap.subdomains
        if index == 0:
            options["attribution"] = self.basemap.attribution
        return options


def _resolve_tiles(tiles: Basemap | str | None, attribution: str | None) -> Basemap | None:
    if tiles is None or isinstance(tiles, Basemap):
        return tiles if tiles is None or tiles.urls else None
    known = available_basemaps()
    if tiles in known:
        return known[tiles] if known[tiles].urls else None
    return custom_basemap(tiles, attribution)


def make_map(
    bounds: Sequence[float],
    *,
    tiles: Basemap | str | None = None,
    attribution: str | None = None,
    notice: str = "底图加载失败，仅显示矢量图层",
    js_url: str = LEAFLET_JS_URL,
    css_url: str = LEAFLET_CSS_URL,
) -> HotspotMap:
    """A folium map fitted to ``bounds`` that loads nothing from the internet.

    Folium's ``Map`` links Leaflet, jQuery, Bootstrap and Awesome Markers from
    CDNs, and streamlit-folium injects every element's ``default_js`` and
    ``default_css`` into its iframe. Here the map links only Leaflet, from the
    app's own static folder (see :mod:`hotspot.assets`); everything else is the
    project's own code, inlined (no ``folium.Popup``: its template needs jQuery).

    Parameters
    ----------
    bounds : sequence of float
        ``(min_lng, min_lat, max_lng, max_lat)`` in WGS84, as ``total_bounds`` gives.
    tiles : Basemap or str, optional
        A :class:`layers.basemaps.Basemap`, the key of one, or a tile URL template;
        None draws no basemap, so the map works offline with vector layers alone.
        A GCJ-02 basemap (AMap) makes the map draw every layer in GCJ-02.
    attribution : str, optional
        Attribution for a custom tile URL.
    notice : str
        Shown in a corner when tiles fail to load.
    js_url, css_url : str
        Where the browser finds ``leaflet.js`` and ``leaflet.css``.

    Returns
    -------
    HotspotMap
    """
    min_lng, min_lat, max_lng, max_lat = (float(v) for v in bounds)
    basemap = _resolve_tiles(tiles, attribution)
    fmap = HotspotMap(
        location=[(min_lat + max_lat) / 2, (min_lng + max_lng) / 2],
        zoom_start=14,
        tiles=None,
        control_scale=True,
        crs="GCJ02" if basemap is not None and basemap.crs == "gcj02" else "EPSG3857",
        # quarter zoom steps, so that fitting the town fills the map
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    # Instance attributes shadow the CDN lists of the class for this map only.
    fmap.default_js = [("leaflet", js_url)]
    fmap.default_css = [("leaflet_css", css_url)]
    if basemap is not None:
        Tiles(basemap, notice=notice).add_to(fmap)
    fmap.fit_bounds([[min_lat, min_lng], [max_lat, max_lng]])
    return fmap
