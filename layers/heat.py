"""A heat map of the reports, drawn by the project's own canvas code (``HotMap.heat``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from layers.base import COORD_DECIMALS, JsLayer, encode_ints, js_json

__all__ = ["HEAT_RADIUS", "heat_data", "heat_layer"]

#: Radius of each report's blurred spot, in screen pixels.
HEAT_RADIUS = 22


def heat_data(reports: pd.DataFrame) -> dict:
    """Every report's point in the compact form ``HotMap.heat`` reads.

    Parameters
    ----------
    reports : pandas.DataFrame
        With ``lng`` and ``lat`` in WGS84; rows without both are left out.

    Returns
    -------
    dict
        ``origin`` ([lng, lat] in 1e-6 degrees) and ``x``, ``y``: offsets from it,
        each as steps from the previous point in :func:`layers.base.encode_ints` text.
    """
    lng = reports["lng"].to_numpy(dtype=np.float64)
    lat = reports["lat"].to_numpy(dtype=np.float64)
    keep = np.isfinite(lng) & np.isfinite(lat)
    scale = 10**COORD_DECIMALS
    x = np.round(lng[keep] * scale).astype(np.int64)
    y = np.round(lat[keep] * scale).astype(np.int64)
    order = np.lexsort((x, y // 1000))  # rows of about 100 m: small steps
    x, y = x[order], y[order]
    origin = [int(x.min()), int(y.min())] if x.size else [0, 0]
    return {
        "origin": origin,
        "x": encode_ints(np.diff(x - origin[0], prepend=0)),
        "y": encode_ints(np.diff(y - origin[1], prepend=0)),
    }


def heat_layer(
    reports: pd.DataFrame,
    *,
    name: str = "热力图",
    radius: int = HEAT_RADIUS,
    show: bool = True,
) -> JsLayer:
    """The reports as a heat map: a toggleable overlay that takes no clicks.

    Each report adds a blurred spot to a canvas; the summed intensity is coloured
    from blue (few) to dark red (many), scaled so that the densest part of the view
    is red whether it holds ten reports or a thousand.

    Parameters
    ----------
    reports : pandas.DataFrame
        With ``lng`` and ``lat`` in WGS84.
    name : str, default "热力图"
        The entry in the layer control.
    radius : int, default 22
        Spot radius in pixels.
    show : bool, default True
        Whether it is on when the map opens.

    Returns
    -------
    JsLayer
        Draws a ``canvas.hotmap-heat``.
    """
    options = {"radius": int(radius)}
    return JsLayer(
        f"HotMap.heat({js_json(heat_data(reports))}, {js_json(options)})",
        name=name,
        show=show,
        kind="heat_layer",
    )
