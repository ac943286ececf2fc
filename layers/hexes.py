"""H3 hexagons whose resolution follows the zoom, coloured by report count or by Gi* bin."""

from __future__ import annotations

from collections.abc import Sequence

import folium
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template
from numpy.typing import ArrayLike

from geo.cells import GRID_RES, cell_boundaries, cells_to_strings, resolution_for_zoom
from hotspot.hexmap import HEX_RESOLUTIONS
from layers.base import JsElement, encode_rings, js_json
from layers.cells import cell_classes, class_colors, count_breaks, count_legend_rows, legend_html

__all__ = [
    "COLOUR_MODES",
    "GI_BINS",
    "GI_COLORS",
    "GI_LABELS",
    "HEX_STYLE",
    "ZoomSwitch",
    "hex_layer",
    "zoom_ranges",
]

#: How hexagons are coloured: by report count, or by Getis-Ord Gi* confidence bin.
COLOUR_MODES = ("count", "gistar")
#: Gi* bins from hot to cold, the order of the legend.
GI_BINS: tuple[int, ...] = (3, 2, 1, 0, -1, -2, -3)
#: Hot spots in reds, cold spots in blues, not significant light grey (ColorBrewer RdBu).
GI_COLORS: dict[int, str] = {
    3: "#b2182b",
    2: "#d6604d",
    1: "#f4a582",
    0: "#d9d9d9",
    -1: "#92c5de",
    -2: "#4393c3",
    -3: "#2166ac",
}
#: Legend and tooltip text of each bin (Chinese, English).
GI_LABELS: dict[int, tuple[str, str]] = {
    3: ("热点（99%置信）", "Hot spot (99% confidence)"),
    2: ("热点（95%置信）", "Hot spot (95% confidence)"),
    1: ("热点（90%置信）", "Hot spot (90% confidence)"),
    0: ("不显著", "Not significant"),
    -1: ("冷点（90%置信）", "Cold spot (90% confidence)"),
    -2: ("冷点（95%置信）", "Cold spot (95% confidence)"),
    -3: ("冷点（99%置信）", "Cold spot (99% confidence)"),
}
#: Line and fill of the hexagons; light grey (not significant) cells are fainter.
HEX_STYLE = {"weight": 0.5, "opacity": 0.9, "fillOpacity": 0.6}
_GREY_FILL = 0.3
_GRID_STYLE = {"color": "#8c8c8c", "weight": 0.5, "opacity": 0.6, "fill": False}


def _zoom_from(res: int) -> float:
    """The smallest zoom at which :func:`resolution_for_zoom` reaches ``res`` (to 0.001)."""
    low, high = 0.0, 30.0
    if resolution_for_zoom(low) >= res:
        return low
    while high - low > 1e-3:
        middle = (low + high) / 2
        if resolution_for_zoom(middle) >= res:
            high = middle
        else:
            low = middle
    return round(high, 3)


def zoom_ranges(resolutions: Sequence[int]) -> list[tuple[int, float | None, float | None]]:
    """The zoom range in which each resolution is drawn.

    Each resolution is shown from the zoom at which :func:`geo.cells.resolution_for_zoom`
    reaches it to the zoom of the next finer one; the coarsest from zoom 0 and the
    finest without end.

    Parameters
    ----------
    resolutions : sequence of int
        Distinct H3 resolutions.

    Returns
    -------
    list of (res, from, to)
        Sorted coarse to fine; ``from`` inclusive, ``to`` exclusive, None when open.
    """
    ordered = sorted({int(r) for r in resolutions})
    starts: list[float | None] = [None, *(_zoom_from(r) for r in ordered[1:])]
    stops = [*starts[1:], None]
    return list(zip(ordered, starts, stops, strict=True))


def _text(lang: str, pair: tuple[str, str]) -> str:
    return pair[1] if lang == "en" else pair[0]


class ZoomSwitch(MacroElement):
    """Shows in its parent group the layers of the resolution for the current zoom.

    Add it to the group (a ``folium.FeatureGroup`` on the map) after the level layers;
    on every ``zoomend`` ``HotMap.zoomSwitch`` swaps the levels and their legends.

    Parameters
    ----------
    levels : list of dict
        ``{"res", "layers" (JsElement list), "from", "to", "legend" (HTML)}``.
    position : str, default "bottomright"
        Where the legend goes.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        HotMap.zoomSwitch({{ this._parent._parent.get_name() }}, {{ this._parent.get_name() }}, [
        {%- for level in this.levels %}
            {
                res: {{ level.res }},
                from: {{ this.js(level["from"]) }},
                to: {{ this.js(level["to"]) }},
                layers: [
                {%- for layer in level["layers"] %}
                    {{ layer.get_name() }}{{ "," if not loop.last }}
                {%- endfor %}
                ],
                legend: {{ this.js(level["legend"]) }}
            }{{ "," if not loop.last }}
        {%- endfor %}
        ], {position: {{ this.js(this.position) }}});
        {% endmacro %}
        """
    )

    def __init__(self, levels: list[dict], *, position: str = "bottomright") -> None:
        super().__init__()
        self._name = "zoom_switch"
        self.levels = levels
        self.position = position
        self.js = js_json


def _level_spec(rows: pd.DataFrame, *, colour_by: str, lang: str) -> tuple[dict, list]:
    cells = rows["cell"].to_numpy(dtype=np.int64)
    counts = rows["count"].to_numpy(dtype=np.int64)
    encoded = encode_rings(cell_boundaries(cells))
    spec = {
        "origin": encoded.origin,
        "cells": encoded.text,
        "ids": cells_to_strings(cells).tolist(),
        "counts": counts.tolist(),
        "labels": {
            "cell": _text(lang, ("网格", "Cell")),
            "count": _text(lang, ("问题数", "Reports")),
        },
    }
    if colour_by == "gistar":
        bins = rows["gi_bin"].to_numpy(dtype=np.int64)
        spec["k"] = (GI_BINS[0] - bins).tolist()  # position in GI_BINS (3 down to -3)
        spec["palette"] = [GI_COLORS[b] for b in GI_BINS]
        spec["alpha"] = [_GREY_FILL if b == 0 else HEX_STYLE["fillOpacity"] for b in GI_BINS]
        spec["z"] = np.round(rows["gi_z"].to_numpy(dtype=np.float64), 2).tolist()
        spec["labels"]["bins"] = [_text(lang, GI_LABELS[b]) for b in GI_BINS]
        rows_legend = [(GI_COLORS[b], _text(lang, GI_LABELS[b])) for b in GI_BINS]
    else:
        breaks = count_breaks(counts)
        spec["k"] = cell_classes(counts, breaks).tolist()
        spec["palette"] = class_colors(len(breaks))
        rows_legend = count_legend_rows(counts)
    return spec, rows_legend


def hex_layer(
    hexes: pd.DataFrame,
    grid_cells: ArrayLike = (),
    *,
    colour_by: str = "count",
    lang: str = "zh",
    name: str = "网格问题数",
    resolutions: Sequence[int] = HEX_RESOLUTIONS,
    grid_res: int = GRID_RES,
) -> folium.FeatureGroup:
    """One layer-control entry holding a hexagon layer per resolution and the zoom switch.

    Parameters
    ----------
    hexes : pandas.DataFrame
        As :func:`hotspot.hexmap.hex_levels` returns: ``res``, ``cell``, ``count``,
        ``gi_z``, ``gi_bin``.
    grid_cells : array_like of int64, optional
        The community grid (resolution ``grid_res``): outlined from that resolution's
        zoom on (under the filled cells, so empty cells show as outlines), as one
        path that takes no clicks.
    colour_by : {"count", "gistar"}, default "count"
        Count classes (YlOrRd) with cells without reports left out, or Gi* bins (hot
        reds, cold blues, not significant light grey) with cells neither holding
        reports nor significant left out.
    lang : {"zh", "en"}, default "zh"
    name : str, default "网格问题数"
        The entry in the layer control.
    resolutions : sequence of int, default (8, 9, 10, 11)
        The resolutions drawn, each in its zoom range (see :func:`zoom_ranges`).
    grid_res : int, default 10

    Returns
    -------
    folium.FeatureGroup
        Its paths have the classes ``hotmap-hex hotmap-hex-r<res>`` (cells) and
        ``hotmap-grid`` (the empty grid outline).

    Raises
    ------
    ValueError
        If ``colour_by`` is not one of :data:`COLOUR_MODES`.
    """
    if colour_by not in COLOUR_MODES:
        raise ValueError(f"colour_by must be one of {COLOUR_MODES}, got {colour_by!r}")
    group = folium.FeatureGroup(name=name)
    grid_cells = np.unique(np.asarray(grid_cells, dtype=np.int64))
    shown = hexes if colour_by == "gistar" else hexes[hexes["count"] > 0]
    if colour_by == "gistar":
        title = _text(lang, ("热点分析（Gi*）", "Hot spots (Gi*)"))
    else:
        title = _text(lang, ("网格问题数", "Reports per cell"))
    outline = None
    levels = []
    for res, start, stop in zoom_ranges(resolutions):
        rows = shown[shown["res"] == res].sort_values("cell")
        spec, legend_rows = _level_spec(rows, colour_by=colour_by, lang=lang)
        spec["res"] = res
        level = JsElement(
            f"HotMap.hexes({js_json(spec)}, {js_json(HEX_STYLE)})", name=f"hex_r{res}"
        )
        level.add_to(group)
        if res == grid_res and grid_cells.size:
            # every grid cell outlined (under the filled ones), so that the grid a
            # click selects a cell of shows at finer resolutions too
            encoded = encode_rings(cell_boundaries(grid_cells))
            spec_outline = {"origin": encoded.origin, "cells": encoded.text}
            outline = JsElement(
                f"HotMap.outline({js_json(spec_outline)}, {js_json(_GRID_STYLE)})",
                name="hex_grid",
            )
            outline.add_to(group)
        layers = [level] if outline is None or res < grid_res else [outline, level]
        note = _text(lang, (f"H3 {res}级，随缩放切换", f"H3 resolution {res}, follows the zoom"))
        levels.append(
            {
                "res": res,
                "from": start,
                "to": stop,
                "layers": layers,
                "legend": legend_html(title, legend_rows, note),
            }
        )
    ZoomSwitch(levels).add_to(group)
    return group
