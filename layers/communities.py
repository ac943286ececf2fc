"""Community (社区) boundaries with their names."""

from __future__ import annotations

import html

import folium
import geopandas as gpd

from layers.base import feature_collection, to_wgs84

__all__ = ["communities_layer"]

_BOUNDARY_STYLE = {"color": "#1f4e79", "weight": 2, "fill": False}
_LABEL_STYLE = (
    "font-size: 13px; font-weight: 600; color: #1f4e79; white-space: nowrap;"
    " text-shadow: 0 0 3px #fff, 0 0 3px #fff; transform: translate(-50%, -50%);"
)


def communities_layer(
    communities: gpd.GeoDataFrame,
    *,
    name: str = "社区边界",
    labels: bool = True,
) -> folium.FeatureGroup:
    """Community outlines with the names written on the map.

    The outlines are not interactive: a click goes through to the cells and
    reports underneath instead of re-running the page for a community.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame
        Columns ``code``, ``name`` and polygon geometry (any CRS; drawn in WGS84).
    name : str, default "社区边界"
        The layer's name in the layer control.
    labels : bool, default True
        Write each community's name at a point inside it.

    Returns
    -------
    folium.FeatureGroup
    """
    communities = to_wgs84(communities)
    group = folium.FeatureGroup(name=name)
    if communities.empty:
        return group
    data = feature_collection(
        communities.geometry,
        {"name": communities["name"], "code": communities["code"]},
        ids=communities["code"],
    )
    folium.GeoJson(
        data,
        name=name,
        style_function=lambda _feature: _BOUNDARY_STYLE,
        interactive=False,
    ).add_to(group)
    if labels:
        points = communities.geometry.representative_point()
        for label, point in zip(communities["name"], points, strict=True):
            folium.Marker(
                [round(point.y, 6), round(point.x, 6)],
                icon=folium.DivIcon(
                    html=f'<div style="{_LABEL_STYLE}">{html.escape(str(label))}</div>',
                    class_name="community-label",
                    icon_size=(0, 0),
                ),
                interactive=False,
            ).add_to(group)
    return group
