"""Crackdown clusters on the map: each cluster's outline and its rank, the chosen ones filled."""

from __future__ import annotations

import html
from collections.abc import Collection

import folium
import numpy as np
import pandas as pd

from hotspot.plan_export import cluster_outlines
from layers.base import feature_collection

__all__ = ["CLUSTER_COLOR", "SELECTED_COLOR", "clusters_layer"]

#: Outline of a cluster not chosen for the plan: purple, apart from the hot reds and cold blues.
CLUSTER_COLOR = "#6a51a3"
#: Outline and fill of a chosen cluster.
SELECTED_COLOR = "#3f007d"
_BADGE_STYLE = (
    "display:inline-block;transform:translate(-50%,-50%);min-width:22px;height:22px;"
    "padding:0 4px;box-sizing:border-box;border-radius:11px;border:2px solid {color};"
    "background:{background};color:{text};font:700 13px/18px sans-serif;text-align:center;"
    "white-space:nowrap;box-shadow:0 0 3px rgba(0,0,0,.4)"
)


def clusters_layer(
    plan: pd.DataFrame,
    *,
    selected: Collection[int] = (),
    name: str = "整治点位",
    lang: str = "zh",
) -> folium.FeatureGroup:
    """Every cluster of a plan outlined with its rank; the selected ones filled.

    Parameters
    ----------
    plan : pandas.DataFrame
        Rows of :func:`hotspot.analysis.plan_table` (``cluster``, ``cells``,
        ``n_reports``, ``community_name``, ``top_categories``, ``window``, ``lng``, ``lat``).
    selected : collection of int
        Ranks (``cluster``) of the clusters chosen for the plan.
    name : str, default "整治点位"
        The layer's name in the layer control.
    lang : {"zh", "en"}
        Language of the tooltip labels.

    Returns
    -------
    folium.FeatureGroup
    """
    group = folium.FeatureGroup(name=name)
    if plan.empty:
        return group
    chosen = np.isin(plan["cluster"].to_numpy(dtype=np.int64), np.asarray(list(selected), int))
    labels = (
        ("Cluster", "Community", "Reports", "Top categories", "Suggested window")
        if lang == "en"
        else ("点位", "社区", "问题数", "主要问题", "建议时段")
    )
    fields = ["rank", "community", "n_reports", "top", "window"]
    data = feature_collection(
        cluster_outlines(plan),
        {
            "rank": [f"#{r}" for r in plan["cluster"]],
            "community": plan["community_name"].fillna("").tolist(),
            "n_reports": plan["n_reports"].tolist(),
            "top": plan["top_categories"].fillna("").tolist(),
            "window": plan["window"].fillna("").tolist(),
            "selected": chosen.tolist(),
        },
    )

    def style(feature: dict) -> dict:
        if feature["properties"]["selected"]:
            return {
                "color": SELECTED_COLOR,
                "weight": 5,
                "opacity": 1.0,
                "fillColor": SELECTED_COLOR,
                "fillOpacity": 0.35,
            }
        return {
            "color": CLUSTER_COLOR,
            "weight": 3.5,
            "opacity": 1.0,
            "dashArray": "8 5",
            "fillColor": CLUSTER_COLOR,
            "fillOpacity": 0.08,
        }

    folium.GeoJson(
        data,
        name=name,
        style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=list(labels)),
    ).add_to(group)
    for rank, lng, lat, on in zip(
        plan["cluster"].tolist(),
        plan["lng"].tolist(),
        plan["lat"].tolist(),
        chosen.tolist(),
        strict=True,
    ):
        color = SELECTED_COLOR if on else CLUSTER_COLOR
        badge = _BADGE_STYLE.format(
            color=color,
            background=color if on else "#fff",
            text="#fff" if on else color,
        )
        folium.Marker(
            [round(float(lat), 6), round(float(lng), 6)],
            icon=folium.DivIcon(
                html=f'<div style="{badge}">{html.escape(str(rank))}</div>',
                class_name="cluster-rank",
                icon_size=(0, 0),
            ),
            interactive=False,
        ).add_to(group)
    return group
