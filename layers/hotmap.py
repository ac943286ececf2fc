"""The dashboard's map in one call: cells, communities, zones and report layers on a base map."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from layers import reports as report_module
from layers.base import make_map
from layers.cells import CellLegend, cells_layer, count_by_cell
from layers.communities import communities_layer
from layers.reports import report_layers

__all__ = ["MapOptions", "build_map", "too_many_points"]


@dataclass(frozen=True)
class MapOptions:
    """How the map is drawn; pages build one from the sidebar and the page's own switches.

    Attributes
    ----------
    lang : {"zh", "en"}
        Language of layer names, legends and popups.
    tiles : str or None
        Basemap: None for vector only (works offline), a preset name or a tile URL.
    max_points : int, optional
        Beyond this many reports only the cells are drawn;
        :data:`layers.reports.MAX_POINTS` when None.
    """

    lang: str = "zh"
    tiles: str | None = None
    max_points: int | None = None

    def point_limit(self) -> int:
        """The number of reports beyond which no points are drawn."""
        return report_module.MAX_POINTS if self.max_points is None else self.max_points


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
) -> folium.Map:
    """The issue map: grid cells by report count, community outlines, one layer per map layer.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame
        ``code``, ``name`` and polygons; the map is fitted to them.
    grid_cells : array_like of int64
        The grid's H3 cells (resolution :data:`geo.cells.GRID_RES`).
    reports : geopandas.GeoDataFrame
        As :func:`hotspot.store.frames.read_reports` returns them.
    layers : list of str, optional
        Map layers offered in the layer control; those in ``reports`` when omitted.
    options : MapOptions
    extra : sequence of folium layers
        A page's own layers (clusters, storefront zones), added above the
        reports and offered in the layer control.

    Returns
    -------
    folium.Map
    """
    fmap = make_map(communities.total_bounds, tiles=options.tiles)
    grid_cells = np.asarray(grid_cells, dtype=np.int64)
    counts = count_by_cell(grid_cells, reports["cell"])
    title = _text(options, "网格问题数", "Reports per cell")
    labels = (_text(options, "网格", "Cell"), _text(options, "问题数", "Reports"))
    cells_layer(grid_cells, counts, name=title, aliases=labels).add_to(fmap)
    communities_layer(communities, name=_text(options, "社区边界", "Communities")).add_to(fmap)
    if not too_many_points(reports, options):
        for group in report_layers(reports, layers, lang=options.lang):
            group.add_to(fmap)
    for layer in extra:
        layer.add_to(fmap)
    CellLegend(counts, title=title).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def too_many_points(reports: pd.DataFrame, options: MapOptions = MapOptions()) -> bool:
    """Whether the map leaves the points out and shows cell totals only."""
    return len(reports) > options.point_limit()
