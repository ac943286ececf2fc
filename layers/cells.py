"""The community grid: H3 cells coloured by how many reports fall in each."""

from __future__ import annotations

import html
from collections.abc import Sequence

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template
from numpy.typing import ArrayLike, NDArray

from geo.cells import GRID_RES, cell_boundaries, cell_parents, cells_to_strings
from layers.base import feature_collection

__all__ = [
    "CELL_COLORS",
    "CellLegend",
    "cell_classes",
    "cells_layer",
    "class_colors",
    "count_breaks",
    "count_by_cell",
    "count_legend_rows",
    "legend_html",
]

#: ColorBrewer YlOrRd, light to dark. Written out rather than taken from a branca
#: colormap: streamlit-folium adds d3 from a CDN for any colormap on the map.
CELL_COLORS: tuple[str, ...] = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")
_EMPTY_STYLE = {"color": "#8c8c8c", "weight": 0.5, "opacity": 0.6, "fill": False}


def count_by_cell(
    grid_cells: ArrayLike, report_cells: ArrayLike, *, res: int = GRID_RES
) -> NDArray[np.int64]:
    """Count reports per grid cell.

    Parameters
    ----------
    grid_cells : array_like of int64
        The grid's H3 cells at resolution ``res``.
    report_cells : array_like of int64
        Each report's H3 cell at ``res`` or finer (reports store resolution 12).
    res : int, default 10
        The grid resolution.

    Returns
    -------
    numpy.ndarray of int64
        Reports per cell, aligned with ``grid_cells``; reports outside the grid are not counted.
    """
    grid_cells = np.asarray(grid_cells, dtype=np.int64)
    parents = cell_parents(np.asarray(report_cells, dtype=np.int64), res)
    counts = pd.Series(parents).value_counts()
    return counts.reindex(grid_cells, fill_value=0).to_numpy(dtype=np.int64)


def count_breaks(counts: ArrayLike, *, classes: int = len(CELL_COLORS)) -> NDArray[np.int64]:
    """Lower bounds of the colour classes, in geometric steps from 1 to the largest count.

    Report counts per cell are heavy-tailed (most cells hold one or two reports,
    a hotspot a hundred): equal steps or quantiles would put every hotspot in
    one class, geometric steps (1, 2, 5, 11, 26, 60 for a maximum of 137) keep
    them apart.

    Parameters
    ----------
    counts : array_like of int
    classes : int, default 6
        At most this many classes; fewer when the counts are small.

    Returns
    -------
    numpy.ndarray of int64
        Sorted, distinct lower bounds, the first one 1.
    """
    counts = np.asarray(counts)
    top = int(counts.max()) if counts.size else 0
    # from 1 to top + 1 (exclusive), so that a top of 2 still gets its own class
    steps = np.floor(np.geomspace(1, max(top, 1) + 1, classes + 1)[:-1])
    return np.unique(steps.astype(np.int64))


def cell_classes(counts: ArrayLike, breaks: ArrayLike) -> NDArray[np.int64]:
    """The colour class of each count: -1 for zero, else the index of its lower bound.

    Parameters
    ----------
    counts : array_like of int
    breaks : array_like of int
        Lower bounds from :func:`count_breaks`.

    Returns
    -------
    numpy.ndarray of int64
    """
    return (
        np.searchsorted(np.asarray(breaks), np.asarray(counts), side="right").astype(np.int64) - 1
    )


def class_colors(n_classes: int) -> list[str]:
    """Colours of ``n_classes`` count classes, spread over :data:`CELL_COLORS`.

    Fewer classes than colours take colours across the whole ramp, so that the top
    class is always the darkest.
    """
    if n_classes == 1:
        return [CELL_COLORS[-1]]
    picks = np.linspace(0, len(CELL_COLORS) - 1, n_classes).round().astype(int)
    return [CELL_COLORS[i] for i in picks]


def cells_layer(
    cells: ArrayLike,
    counts: ArrayLike,
    *,
    name: str = "网格问题数",
    aliases: Sequence[str] = ("网格", "问题数"),
) -> folium.FeatureGroup:
    """Grid cells filled by report count; empty cells drawn as faint outlines.

    Colour classes come from :func:`count_breaks` on ``counts``; pass the same
    counts to :class:`CellLegend` for the matching legend.

    Parameters
    ----------
    cells : array_like of int64
        H3 cells.
    counts : array_like of int
        Reports per cell, aligned with ``cells``.
    name : str, default "网格问题数"
        The layer's name in the layer control.
    aliases : sequence of str, default ("网格", "问题数")
        Tooltip labels for the cell id and the count.

    Returns
    -------
    folium.FeatureGroup
    """
    cells = np.asarray(cells, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    group = folium.FeatureGroup(name=name)
    empty = counts == 0
    if empty.any():
        # One shape for all empty cells, not clickable: most of a town's grid is
        # empty in any week, and a feature per cell would double the page.
        outline = shapely.multipolygons(cell_boundaries(cells[empty]))
        folium.GeoJson(
            feature_collection([outline]),
            name=name,
            style_function=lambda _feature: _EMPTY_STYLE,
            interactive=False,
        ).add_to(group)
    if empty.all():
        return group
    cells, counts = cells[~empty], counts[~empty]
    breaks = count_breaks(counts)
    classes = cell_classes(counts, breaks)
    colors = class_colors(len(breaks))

    def style(feature: dict) -> dict:
        color = colors[classes[feature["id"]]]
        return {
            "color": color,
            "weight": 0.5,
            "opacity": 0.9,
            "fillColor": color,
            "fillOpacity": 0.6,
        }

    folium.GeoJson(
        feature_collection(
            cell_boundaries(cells), {"cell": cells_to_strings(cells), "count": counts}
        ),
        name=name,
        style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=["cell", "count"], aliases=list(aliases)),
    ).add_to(group)
    return group


class CellLegend(MacroElement):
    """A small legend of the cell colour classes in a corner of the map.

    Parameters
    ----------
    counts : array_like of int
        The counts the cells were coloured by.
    title : str, default "网格问题数"
    position : str, default "bottomright"
        A Leaflet control position.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", "cell-legend");
            div.innerHTML = {{ this.html|tojson }};
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self, counts: ArrayLike, *, title: str = "网格问题数", position: str = "bottomright"
    ) -> None:
        super().__init__()
        self._name = "CellLegend"
        self.position = position
        self.html = legend_html(title, count_legend_rows(counts))


def count_legend_rows(counts: ArrayLike) -> list[tuple[str, str]]:
    """Legend rows ``(colour, label)`` of the count classes of ``counts``, low to high.

    Parameters
    ----------
    counts : array_like of int
        The counts the cells were coloured by (zeros are not drawn).

    Returns
    -------
    list of tuple of str
        Labels such as ``"1"``, ``"2–4"``.
    """
    counts = np.asarray(counts)
    counts = counts[counts > 0]
    if counts.size == 0:
        return []
    breaks = count_breaks(counts)
    top = int(counts.max())
    uppers = [*(int(b) - 1 for b in breaks[1:]), top]
    rows = []
    for low, high, color in zip(breaks, uppers, class_colors(len(breaks)), strict=True):
        rows.append((color, f"{low}" if low >= high else f"{low}–{high}"))
    return rows


def legend_html(title: str, rows: Sequence[tuple[str, str]], note: str = "") -> str:
    """A small legend box: a bold title, an optional note, a swatch and label per row.

    Parameters
    ----------
    title : str
    rows : sequence of (colour, label)
        Colours are trusted (``#rrggbb``); labels and texts are escaped.
    note : str, optional
        A line under the title.

    Returns
    -------
    str
        HTML.
    """
    lines = [f"<b>{html.escape(title)}</b>"]
    if note:
        lines.append(f'<div style="color:#666">{html.escape(note)}</div>')
    for color, label in rows:
        lines.append(
            f'<div><i style="display:inline-block;width:12px;height:12px;'
            f'background:{color};margin-right:4px;vertical-align:middle"></i>'
            f"{html.escape(label)}</div>"
        )
    return (
        '<div style="background:rgba(255,255,255,.85);padding:4px 6px;'
        'border-radius:4px;font-size:12px;line-height:16px">' + "".join(lines) + "</div>"
    )
