"""Reports as circle markers, one toggleable layer per map layer; footprints as polygons."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import folium
import geopandas as gpd
import numpy as np
import shapely

from hotspot.taxonomy import HEADLINE_LAYERS, LAYER_NAMES, STATUS_NAMES, load_categories
from layers.base import feature_collection, to_wgs84

__all__ = [
    "LAYER_COLORS",
    "MAX_POINTS",
    "POPUP_LABELS",
    "ordered_layers",
    "report_layers",
]

#: Beyond this many reports the page draws cells only: every marker is an SVG
#: element and a few hundred bytes of HTML, and the browser slows down.
MAX_POINTS = 5_000

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
_FIELDS = ["id", "category", "status", "date", "address"]


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


def _properties(
    reports: gpd.GeoDataFrame,
    status_names: Mapping[str, str],
    category_names: Mapping[str, str] | None,
) -> dict[str, list]:
    if category_names is None:
        categories = reports["category_name"].fillna(reports["category"])
    else:
        categories = reports["category"].map(lambda code: category_names.get(code, code))
    return {
        "id": reports["id"].tolist(),
        "category": categories.tolist(),
        "status": reports["status"].map(lambda s: status_names.get(s, s)).tolist(),
        "date": reports["reported_at"].dt.strftime("%Y-%m-%d %H:%M").tolist(),
        "address": reports["address"].tolist() if "address" in reports else [None] * len(reports),
        "dim": reports["status"].isin(_DIM_STATUSES).tolist(),
    }


def _layer_group(
    reports: gpd.GeoDataFrame,
    *,
    name: str,
    color: str,
    status_names: Mapping[str, str],
    category_names: Mapping[str, str] | None,
    popup_labels: Sequence[str],
) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=name)
    if reports.empty:
        return group

    def style(feature: dict) -> dict:
        opacity = 0.35 if feature["properties"]["dim"] else 0.85
        return {"color": "#ffffff", "weight": 1, "fillColor": color, "fillOpacity": opacity}

    points = shapely.points(reports["lng"].to_numpy(), reports["lat"].to_numpy())
    folium.GeoJson(
        feature_collection(
            points, _properties(reports, status_names, category_names), ids=reports["id"]
        ),
        name=name,
        marker=folium.CircleMarker(radius=5, fill=True),
        style_function=style,
        popup=folium.GeoJsonPopup(fields=_FIELDS, aliases=list(popup_labels), localize=False),
    ).add_to(group)

    # Footprints (illegal construction, enclosed green space) also show their outline.
    areal = reports[np.isin(shapely.get_type_id(reports.geometry.array), (3, 6))]
    if not areal.empty:
        folium.GeoJson(
            feature_collection(
                areal.geometry, _properties(areal, status_names, category_names), ids=areal["id"]
            ),
            name=name,
            style_function=lambda _feature: {
                "color": color,
                "weight": 2,
                "fillColor": color,
                "fillOpacity": 0.3,
            },
            popup=folium.GeoJsonPopup(fields=_FIELDS, aliases=list(popup_labels), localize=False),
        ).add_to(group)
    return group


def report_layers(
    reports: gpd.GeoDataFrame,
    layers: Iterable[str] | None = None,
    *,
    lang: str = "zh",
    category_names: Mapping[str, str] | None = None,
    keep_empty: Iterable[str] = HEADLINE_LAYERS,
) -> list[folium.FeatureGroup]:
    """One FeatureGroup per map layer, the headline layers first, for the layer control.

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

    Returns
    -------
    list of folium.FeatureGroup
        Named after the layers, in :func:`ordered_layers` order.
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
        groups.append(
            _layer_group(
                reports[reports["layer"] == layer],
                name=LAYER_NAMES.get(layer, (layer, layer))[language],
                color=LAYER_COLORS.get(layer, _OTHER_COLOR),
                status_names=status_names,
                category_names=category_names,
                popup_labels=POPUP_LABELS["en" if language else "zh"],
            )
        )
    return groups
