"""Reports as points, one toggleable layer per map layer: count bubbles zoomed out, markers in.

Each layer is a ``HotMap.Points`` (layers/js/hotmap.js) fed with compact columns:
coordinates in millionths of a degree from an origin, category and status as
indexes into small tables, the time in minutes, the address as text. Footprints
(illegal construction) are drawn as polygons besides their marker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hotspot.taxonomy import HEADLINE_LAYERS, LAYER_NAMES, STATUS_NAMES, load_categories
from layers.base import COORD_DECIMALS, JsLayer, encode_ints, encode_rings, js_json, to_wgs84

__all__ = [
    "CLUSTER_ABOVE",
    "INDIVIDUAL_ZOOM",
    "LAYER_COLORS",
    "MAX_POINTS",
    "POPUP_LABELS",
    "ordered_layers",
    "point_columns",
    "report_layers",
]

#: Beyond this many reports the page draws cells only; about 45 bytes of HTML a
#: report, so the 20,000 reports of a year of the demo town still fit in 2 MB.
MAX_POINTS = 20_000
#: A layer with more reports than this in view draws count bubbles instead of markers.
CLUSTER_ABOVE = 100
#: From this zoom on every report is a marker (about 1 m a pixel).
INDIVIDUAL_ZOOM = 17

#: Marker colour per map layer (ColorBrewer Paired, headline layers the strongest).
LAYER_COLORS: dict[str, str] = {
    "zombie_cars": "#6a3d9a",
    "illegal_construction": "#e31a1c",
    "ad_posting": "#1f78b4",
    "garbage": "#33a02c",
    "street_order": "#ff7f00",
    "parking": "#b15928",
    "fire_safety": "#fb9a99",
    "greenery": "#b2df8a",
    "facilities": "#a6cee3",
    "dogs": "#cab2d6",
    "construction_site": "#fdbf6f",
}
_OTHER_COLOR = "#636363"
#: Done or dismissed reports are drawn paler than open ones.
_DIM_STATUSES = frozenset({"resolved", "closed", "rejected"})

#: Popup labels for the fields id, category, status, date, address.
POPUP_LABELS: dict[str, tuple[str, ...]] = {
    "zh": ("编号", "类别", "状态", "日期", "地址"),
    "en": ("ID", "Category", "Status", "Date", "Address"),
}


def ordered_layers(layers: Iterable[str]) -> list[str]:
    """Distinct layers in display order: the headline layers first, then the others.

    Parameters
    ----------
    layers : iterable of str
        Layer codes (categories.csv ``layer``).

    Returns
    -------
    list of str
        Known layers in the order of :data:`hotspot.taxonomy.LAYER_NAMES`, then unknown ones sorted.
    """
    wanted = set(layers)
    known = [layer for layer in LAYER_NAMES if layer in wanted]
    return known + sorted(wanted - set(known))


def _minutes(stamps: pd.Series) -> np.ndarray:
    stamps = pd.to_datetime(stamps)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    values = stamps.to_numpy(dtype="datetime64[m]").astype(np.int64)
    return np.where(stamps.isna().to_numpy(), 0, values)


def point_columns(
    reports: gpd.GeoDataFrame,
    *,
    status_names: Mapping[str, str],
    category_names: Mapping[str, str] | None = None,
    popup_labels: Iterable[str] = POPUP_LABELS["zh"],
) -> dict:
    """The compact columns ``HotMap.Points`` and ``HotMap.heat`` read, for one layer.

    Parameters
    ----------
    reports : geopandas.GeoDataFrame
        In WGS84, with ``id``, ``category``, ``category_name``, ``status``,
        ``reported_at``, ``address``, ``lng``, ``lat``.
    status_names : mapping of str to str
        Status code to the name shown.
    category_names : mapping of str to str, optional
        Category code to the name shown; ``category_name`` when omitted.
    popup_labels : iterable of str
        Labels of id, category, status, date and address in the popup.

    Returns
    -------
    dict
        Reports in the order of their cells. ``origin`` ([lng, lat] in 1e-6
        degrees); ``x``, ``y`` (offsets from it) and ``id`` as steps from the
        previous report, ``c`` (index into ``categories``), ``s`` (into ``statuses``,
        ``dim`` marks the paler ones) and ``t`` (minutes from ``t0``, minutes since
        1970), all five as :func:`layers.base.encode_ints` strings; ``a`` (address,
        as given: the browser writes it as text), ``labels`` and ``fp`` (footprints:
        ``index`` of the report, ``count`` of rings, ``rings`` as
        :func:`layers.base.encode_rings` text).
    """
    if "cell" in reports:
        # neighbours next to each other: small coordinate steps, short strings
        reports = reports.iloc[np.argsort(reports["cell"].to_numpy(), kind="stable")]
    scale = 10**COORD_DECIMALS
    x = np.round(reports["lng"].to_numpy(dtype=np.float64) * scale).astype(np.int64)
    y = np.round(reports["lat"].to_numpy(dtype=np.float64) * scale).astype(np.int64)
    origin = [int(x.min()), int(y.min())] if len(x) else [0, 0]
    if category_names is None:
        names = reports["category_name"].fillna(reports["category"]).astype(str)
    else:
        names = reports["category"].map(lambda code: category_names.get(code, code)).astype(str)
    categories, c = np.unique(names.to_numpy(dtype=object), return_inverse=True)
    codes, s = np.unique(reports["status"].astype(str).to_numpy(dtype=object), return_inverse=True)
    minutes = _minutes(reports["reported_at"])
    t0 = int(minutes.min()) if len(minutes) else 0
    if "address" in reports:
        addresses = reports["address"].astype(object).where(reports["address"].notna(), None)
    else:
        addresses = pd.Series([None] * len(reports), dtype=object)
    ids = reports["id"].to_numpy(dtype=np.int64)
    columns = {
        "origin": origin,
        "x": encode_ints(np.diff(x - origin[0], prepend=0)),
        "y": encode_ints(np.diff(y - origin[1], prepend=0)),
        "id": encode_ints(np.diff(ids, prepend=0)),
        "c": encode_ints(c),
        "categories": categories.tolist(),
        "s": encode_ints(s),
        "statuses": [status_names.get(code, code) for code in codes.tolist()],
        "dim": [code in _DIM_STATUSES for code in codes.tolist()],
        "t0": t0,
        "t": encode_ints(minutes - t0),
        "a": addresses.tolist(),
        "labels": list(popup_labels),
    }
    # Footprints (illegal construction, enclosed green space) also show their outline.
    areal = np.flatnonzero(np.isin(shapely.get_type_id(reports.geometry.array), (3, 6)))
    if areal.size:
        encoded = encode_rings(reports.geometry.array[areal], origin)
        columns["fp"] = {
            "index": areal.tolist(),
            "count": encoded.counts.tolist(),
            "rings": encoded.text,
        }
    return columns


def report_layers(
    reports: gpd.GeoDataFrame,
    layers: Iterable[str] | None = None,
    *,
    lang: str = "zh",
    category_names: Mapping[str, str] | None = None,
    keep_empty: Iterable[str] = HEADLINE_LAYERS,
    cluster_above: int = CLUSTER_ABOVE,
    individual_zoom: float = INDIVIDUAL_ZOOM,
) -> list[JsLayer]:
    """One layer per map layer, the headline layers first, for the layer control.

    In the browser a layer draws circle markers (``path.hotmap-point``, white outline,
    a popup with id, category, status, date and address) when it holds at most
    ``cluster_above`` reports, or has at most that many in view, or the zoom is
    ``individual_zoom`` or more; else a count bubble (``div.hotmap-bubble``, a click
    zooms in) per 60-px grid square, a report alone in its square still a marker.
    Footprints are polygons (``path.hotmap-footprint``).

    Parameters
    ----------
    reports : geopandas.GeoDataFrame
        As :func:`hotspot.store.frames.read_reports` returns: ``id``, ``category``,
        ``category_name``, ``layer``, ``status``, ``reported_at``, ``address``,
        ``lng``, ``lat`` and the geometry (a point or a footprint polygon).
    layers : iterable of str, optional
        The layers to draw; those present in ``reports`` when omitted. A layer
        with no reports gets no group, unless it is in ``keep_empty``.
    lang : {"zh", "en"}, default "zh"
        Language of the layer names and the popups.
    category_names : mapping of str to str, optional
        Category code to display name; when omitted, ``category_name`` (Chinese)
        or the English name from the category table.
    keep_empty : iterable of str, default the headline layers
        Layers that get a (possibly empty) group anyway, so that the layer
        control always offers the headline layers.
    cluster_above : int, default 100
    individual_zoom : float, default 17

    Returns
    -------
    list of JsLayer
        Named after the layers (``layer_name``), in :func:`ordered_layers` order.
    """
    reports = to_wgs84(reports)
    language = 1 if lang == "en" else 0
    status_names = {code: names[language] for code, names in STATUS_NAMES.items()}
    if category_names is None and language:
        category_names = load_categories()["name_en"].to_dict()
    present = set(reports["layer"].dropna())
    wanted = present if layers is None else set(layers)
    wanted &= present | set(keep_empty)
    groups = []
    for layer in ordered_layers(wanted):
        columns = point_columns(
            reports[reports["layer"] == layer],
            status_names=status_names,
            category_names=category_names,
            popup_labels=POPUP_LABELS["en" if language else "zh"],
        )
        options = {
            "color": LAYER_COLORS.get(layer, _OTHER_COLOR),
            "clusterAbove": int(cluster_above),
            "individualZoom": float(individual_zoom),
        }
        groups.append(
            JsLayer(
                f"HotMap.points({js_json(columns)}, {js_json(options)})",
                name=LAYER_NAMES.get(layer, (layer, layer))[language],
                kind="report_layer",
            )
        )
    return groups
