"""The dashboard's map in one call: hexagons, communities, report layers and more on a base map."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from hotspot.hexmap import HEX_RESOLUTIONS, hex_levels, service_area_of
from layers import reports as report_module
from layers.base import make_map, to_wgs84
from layers.basemaps import Basemap, get_basemap
from layers.communities import communities_layer
from layers.heat import heat_layer
from layers.hexes import COLOUR_MODES, hex_layer
from layers.reports import CLUSTER_ABOVE, INDIVIDUAL_ZOOM, report_layers

__all__ = ["MapOptions", "build_map", "too_many_points"]


@dataclass(frozen=True)
class MapOptions:
    """How the map is drawn; pages build one from the sidebar and the page's own switches.

    Attributes
    ----------
    lang : {"zh", "en"}
        Language of layer names, legends and popups.
    basemap : str or Basemap or None
        A key of :func:`layers.basemaps.available_basemaps` (``none``, ``osm``,
        ``amap``, ``tianditu``, ``intranet``) or a :class:`~layers.basemaps.Basemap`;
        None or ``none`` for vector only (works offline). With AMap (GCJ-02) every
        layer is drawn shifted into GCJ-02.
    max_points : int, optional
        Beyond this many reports only the hexagons are drawn;
        :data:`layers.reports.MAX_POINTS` when None.
    colour_by : {"count", "gistar"}
        Hexagons coloured by report count or by Gi* hot/cold-spot bin.
    heat : bool
        Add a heat map overlay.
    cluster_above : int
        A report layer with more reports than this in view shows count bubbles.
    individual_zoom : float
        From this zoom on every report is a marker.
    resolutions : tuple of int
        H3 resolutions of the hexagons, each drawn in its own zoom range.
    """

    lang: str = "zh"
    basemap: str | Basemap | None = None
    max_points: int | None = None
    colour_by: str = "count"
    heat: bool = False
    cluster_above: int = CLUSTER_ABOVE
    individual_zoom: float = INDIVIDUAL_ZOOM
    resolutions: tuple[int, ...] = HEX_RESOLUTIONS

    def __post_init__(self) -> None:
        if self.colour_by not in COLOUR_MODES:
            raise ValueError(f"colour_by must be one of {COLOUR_MODES}, got {self.colour_by!r}")

    def point_limit(self) -> int:
        """The number of reports beyond which no points are drawn."""
        return report_module.MAX_POINTS if self.max_points is None else self.max_points

    def tiles(self) -> Basemap | None:
        """The basemap to draw, None for vector only."""
        if isinstance(self.basemap, Basemap):
            return self.basemap if self.basemap.urls else None
        basemap = get_basemap(self.basemap)
        return basemap if basemap.urls else None


def _text(options: MapOptions, zh: str, en: str) -> str:
    return en if options.lang == "en" else zh


def build_map(
    communities: gpd.GeoDataFrame,
    grid_cells: ArrayLike,
    reports: gpd.GeoDataFrame,
    layers: list[str] | None = None,
    *,
    options: MapOptions = MapOptions(),
    extra: Sequence[folium.map.Layer] = (),
    hexes: pd.DataFrame | None = None,
) -> folium.Map:
    """The issue map: hexagons by zoom, community outlines, one layer per map layer.

    The layer control lists the hexagons (网格问题数), the communities (社区边界),
    the report layers (headline layers first), then ``extra`` and the heat map.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame
        ``code``, ``name`` and polygons; the map is fitted to them.
    grid_cells : array_like of int64
        The grid's H3 cells (resolution :data:`geo.cells.GRID_RES`), outlined when empty.
    reports : geopandas.GeoDataFrame
        As :func:`hotspot.store.frames.read_reports` returns them.
    layers : list of str, optional
        Map layers offered in the layer control; those in ``reports`` when omitted.
    options : MapOptions
    extra : sequence of folium layers
        A page's own layers (clusters, storefront zones), added above the
        reports and offered in the layer control.
    hexes : pandas.DataFrame, optional
        Precomputed :func:`hotspot.hexmap.hex_levels` of ``reports`` (a page may
        cache it); computed over the union of ``communities`` when omitted.

    Returns
    -------
    folium.Map
    """
    communities = to_wgs84(communities)
    fmap = make_map(
        communities.total_bounds,
        tiles=options.tiles(),
        notice=_text(
            options, "底图加载失败，仅显示矢量图层", "Basemap unavailable: vector layers only"
        ),
    )
    if hexes is None:
        hexes = hex_levels(
            reports["cell"], service_area_of(communities), resolutions=options.resolutions
        )
    if options.colour_by == "gistar":
        title = _text(options, "网格热点（Gi*）", "Hot spots (Gi*)")
    else:
        title = _text(options, "网格问题数", "Reports per cell")
    hex_layer(
        hexes,
        np.asarray(grid_cells, dtype=np.int64),
        colour_by=options.colour_by,
        lang=options.lang,
        name=title,
        resolutions=options.resolutions,
    ).add_to(fmap)
    communities_layer(communities, name=_text(options, "社区边界", "Communities")).add_to(fmap)
    points = not too_many_points(reports, options)
    if points:
        for group in report_layers(
            reports,
            layers,
            lang=options.lang,
            cluster_above=options.cluster_above,
            individual_zoom=options.individual_zoom,
        ):
            group.add_to(fmap)
    for layer in extra:
        layer.add_to(fmap)
    if options.heat and points:
        heat_layer(reports, name=_text(options, "热力图", "Heat map")).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def too_many_points(reports: pd.DataFrame, options: MapOptions = MapOptions()) -> bool:
    """Whether the map leaves the points (and the heat map) out and shows cells only."""
    return len(reports) > options.point_limit()
