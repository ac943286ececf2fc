"""门前三包 storefront zones coloured by compliance, with Chinese tooltips and a legend."""

from __future__ import annotations

import html
from collections.abc import Mapping

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from hotspot.storefronts import COMPLIANCE_CLASSES
from layers.base import feature_collection, to_wgs84

__all__ = ["COMPLIANCE_COLORS", "TOOLTIP_LABELS", "ZoneLegend", "zones_layer"]

#: Colour of each compliance class: green compliant, amber one lapse, red two or more.
COMPLIANCE_COLORS: dict[str, str] = {
    "compliant": "#1a9850",
    "one_lapse": "#f39c12",
    "failing": "#d73027",
}

#: Tooltip labels per language for shop, type, agreement, last patrol, violations,
#: compliance and its reasons.
TOOLTIP_LABELS: dict[str, tuple[str, ...]] = {
    "zh": ("商户", "业态", "责任书", "最近巡查", "期内违规", "评定", "问题"),
    "en": ("Shop", "Type", "Agreement", "Last patrol", "Violations", "Rating", "Lapses"),
}
_FIELDS = ["shop", "type", "agreement", "patrol", "violations", "rating", "reasons"]
_WORDS = {
    "zh": {"signed": "已签订", "unsigned": "未签订", "never": "从未巡查"},
    "en": {"signed": "signed", "unsigned": "not signed", "never": "never"},
}


def _properties(zones: gpd.GeoDataFrame, lang: str) -> dict[str, list]:
    words = _WORDS["en" if lang == "en" else "zh"]
    i18n = 1 if lang == "en" else 0
    signed = zones["agreement_signed"].fillna(False).to_numpy(dtype=bool)
    patrol = zones["last_patrol"].dt.strftime("%Y-%m-%d").astype(object)
    patrol = patrol.where(zones["last_patrol"].notna(), words["never"])
    names = {code: names[i18n] for code, names in COMPLIANCE_CLASSES.items()}
    return {
        "shop": zones["shop_name"].tolist(),
        "type": zones["business_type"]
        .astype(object)
        .where(zones["business_type"].notna(), "")
        .tolist(),
        "agreement": np.where(signed, words["signed"], words["unsigned"]).tolist(),
        "patrol": patrol.tolist(),
        "violations": zones["violations"].astype(np.int64).tolist(),
        "rating": zones["compliance"].map(names).tolist(),
        "reasons": zones["reasons_en" if i18n else "reasons_zh"].tolist(),
        "compliance": zones["compliance"].tolist(),
    }


def zones_layer(
    zones: gpd.GeoDataFrame,
    *,
    lang: str = "zh",
    name: str | None = None,
    colors: Mapping[str, str] = COMPLIANCE_COLORS,
) -> folium.FeatureGroup:
    """Storefront zones filled by compliance class, with a tooltip per zone.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        As :func:`hotspot.storefronts.zone_compliance` returns them: ``id``,
        ``shop_name``, ``business_type``, ``agreement_signed``, ``last_patrol``,
        ``violations``, ``compliance``, ``reasons_zh``, ``reasons_en`` and polygons.
    lang : {"zh", "en"}, default "zh"
        Language of the layer name and the tooltips.
    name : str, optional
        The layer's name in the layer control; 门前三包责任区 (Storefront zones) by default.
    colors : mapping of str to str
        Colour of each compliance class.

    Returns
    -------
    folium.FeatureGroup
    """
    name = name or ("Storefront zones" if lang == "en" else "门前三包责任区")
    group = folium.FeatureGroup(name=name)
    if zones.empty:
        return group
    zones = to_wgs84(zones)

    def style(feature: dict) -> dict:
        color = colors.get(feature["properties"]["compliance"], "#636363")
        return {"color": color, "weight": 3, "opacity": 0.9, "fillColor": color, "fillOpacity": 0.6}

    folium.GeoJson(
        feature_collection(zones.geometry, _properties(zones, lang), ids=zones["id"]),
        name=name,
        style_function=style,
        tooltip=folium.GeoJsonTooltip(
            fields=_FIELDS, aliases=list(TOOLTIP_LABELS["en" if lang == "en" else "zh"])
        ),
    ).add_to(group)
    return group


class ZoneLegend(MacroElement):
    """A legend of the compliance colours, with the number of zones in each class.

    Parameters
    ----------
    counts : pandas.Series, optional
        Zones per class (index: class codes); shown beside the names when given.
    lang : {"zh", "en"}, default "zh"
    position : str, default "bottomleft"
        A Leaflet control position.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", "zone-legend");
            div.innerHTML = {{ this.html|tojson }};
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self, counts: pd.Series | None = None, *, lang: str = "zh", position: str = "bottomleft"
    ) -> None:
        super().__init__()
        self._name = "ZoneLegend"
        i18n = 1 if lang == "en" else 0
        title = "Storefront zones" if i18n else "门前三包"
        rows = []
        for code, names in COMPLIANCE_CLASSES.items():
            label = names[i18n]
            if counts is not None:
                label += f" ({int(counts.get(code, 0))})"
            rows.append(
                f'<div><i style="display:inline-block;width:12px;height:12px;'
                f"background:{COMPLIANCE_COLORS[code]};margin-right:4px;"
                f'vertical-align:middle"></i>{html.escape(label)}</div>'
            )
        self.position = position
        self.html = (
            '<div style="background:rgba(255,255,255,.85);padding:4px 6px;'
            'border-radius:4px;font-size:12px;line-height:16px">'
            f"<b>{html.escape(title)}</b>{''.join(rows)}</div>"
        )
