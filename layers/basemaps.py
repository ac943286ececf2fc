"""Basemaps the map can draw under its vector layers, and which of them are configured."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from geo.crs import normalize_crs

__all__ = [
    "AMAP",
    "BASEMAP_CRS",
    "ENV_DEFAULT",
    "ENV_TIANDITU_KEY",
    "ENV_TILES_CRS",
    "ENV_TILES_URL",
    "NONE",
    "OSM",
    "Basemap",
    "available_basemaps",
    "custom_basemap",
    "default_basemap",
    "get_basemap",
    "intranet_basemap",
    "tianditu_basemap",
]

log = logging.getLogger(__name__)

#: Tianditu (天地图) key; the Tianditu basemap is offered only when it is set.
ENV_TIANDITU_KEY = "HOTSPOT_TIANDITU_KEY"
#: An intranet XYZ tile URL template (``{z}``, ``{x}``, ``{y}``, optional ``{s}``).
ENV_TILES_URL = "HOTSPOT_TILES_URL"
#: The coordinate system of the intranet tiles: ``wgs84`` (default) or ``gcj02``.
ENV_TILES_CRS = "HOTSPOT_TILES_CRS"
#: The basemap a session starts with (a key of :func:`available_basemaps`); ``none`` if unset.
ENV_DEFAULT = "HOTSPOT_TILES"
#: The systems tiles may be drawn in: what the map then shifts every layer into.
BASEMAP_CRS = ("wgs84", "gcj02")


@dataclass(frozen=True)
class Basemap:
    """A tiled basemap: Web Mercator XYZ tiles in WGS84 or GCJ-02 coordinates.

    Attributes
    ----------
    key : str
        Its name in settings and the session (``none``, ``osm``, ``amap``, ...).
    name_zh, name_en : str
        What the sidebar calls it.
    urls : tuple of str
        Tile URL templates, drawn bottom to top (Tianditu: roads, then labels); none
        for the vector-only map.
    attribution : str
        HTML shown in the map's corner.
    crs : {"wgs84", "gcj02"}
        The coordinates the tiles are drawn in; with ``gcj02`` the map shifts every
        layer into GCJ-02 so that it lines up with them.
    subdomains : str
        Letters or digits substituted for ``{s}``.
    max_zoom : int
    """

    key: str
    name_zh: str
    name_en: str
    urls: tuple[str, ...] = ()
    attribution: str = ""
    crs: str = "wgs84"
    subdomains: str = ""
    max_zoom: int = 18

    def __post_init__(self) -> None:
        if self.crs not in BASEMAP_CRS:
            raise ValueError(f"a basemap's crs must be one of {BASEMAP_CRS}, got {self.crs!r}")

    def name(self, lang: str = "zh") -> str:
        """The basemap's name in ``lang`` (``"zh"`` or ``"en"``)."""
        return self.name_en if lang == "en" else self.name_zh

    @property
    def hosts(self) -> frozenset[str]:
        """Every host the browser may ask for tiles (``{s}`` expanded)."""
        hosts = set()
        for url in self.urls:
            host = urlsplit(url).hostname or ""
            if "{s}" in host:
                hosts.update(host.replace("{s}", s) for s in self.subdomains)
            elif host:
                hosts.add(host)
        return frozenset(hosts)


#: The vector-only map: nothing fetched, works offline.
NONE = Basemap("none", "无底图（仅矢量）", "None (vector only)")
OSM = Basemap(
    "osm",
    "OpenStreetMap",
    "OpenStreetMap",
    ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",),
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
    max_zoom=19,
)
#: AMap (高德) road map: GCJ-02 tiles.
AMAP = Basemap(
    "amap",
    "高德地图",
    "AMap (Gaode)",
    (
        "https://webrd0{s}.is.autonavi.com/appmaptile"
        "?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
    ),
    "&copy; 高德地图 AutoNavi",
    crs="gcj02",
    subdomains="1234",
)


def tianditu_basemap(key: str) -> Basemap:
    """Tianditu (天地图) vector map with its labels, Web Mercator in CGCS2000 (≈ WGS84).

    Parameters
    ----------
    key : str
        The Tianditu browser key (``tk``).

    Returns
    -------
    Basemap
    """
    template = (
        "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
    )
    return Basemap(
        "tianditu",
        "天地图",
        "Tianditu",
        (template.format(layer="vec", key=key), template.format(layer="cva", key=key)),
        "&copy; 天地图",
        subdomains="01234567",
    )


def intranet_basemap(url: str, crs: str = "wgs84") -> Basemap:
    """Tiles from an intranet XYZ server.

    Parameters
    ----------
    url : str
        URL template with ``{z}``, ``{x}``, ``{y}`` (``{s}`` is not expanded).
    crs : str, default "wgs84"
        ``wgs84`` or ``gcj02`` (or an alias :func:`geo.crs.normalize_crs` knows;
        ``cgcs2000`` is drawn as WGS84).

    Returns
    -------
    Basemap

    Raises
    ------
    ValueError
        If ``crs`` is neither WGS84 nor GCJ-02.
    """
    name = normalize_crs(crs)
    if name == "EPSG:4490":  # CGCS2000 differs from WGS84 by centimetres
        name = "wgs84"
    if name not in BASEMAP_CRS:
        raise ValueError(f"intranet tiles must be in wgs84 or gcj02, got {crs!r}")
    return Basemap("intranet", "内网底图", "Intranet tiles", (url,), "内网底图", crs=name)


def custom_basemap(url: str, attribution: str | None = None) -> Basemap:
    """A WGS84 basemap from any tile URL template."""
    return Basemap("custom", "自定义底图", "Custom tiles", (url,), attribution or url)


def available_basemaps(env: Mapping[str, str] | None = None) -> dict[str, Basemap]:
    """The basemaps this installation offers, in the order the sidebar lists them.

    None (vector only), OpenStreetMap and AMap always; Tianditu when
    ``HOTSPOT_TIANDITU_KEY`` is set; the intranet tiles when ``HOTSPOT_TILES_URL``
    is (in ``HOTSPOT_TILES_CRS``, WGS84 by default; a bad CRS is logged and the
    tiles not offered). A URL in ``HOTSPOT_TILES`` counts as the intranet URL.

    Parameters
    ----------
    env : mapping, optional
        The environment; ``os.environ`` when omitted.

    Returns
    -------
    dict of str to Basemap
    """
    env = os.environ if env is None else env
    basemaps = {b.key: b for b in (NONE, OSM, AMAP)}
    if key := env.get(ENV_TIANDITU_KEY, "").strip():
        basemaps["tianditu"] = tianditu_basemap(key)
    url = env.get(ENV_TILES_URL, "").strip()
    legacy = env.get(ENV_DEFAULT, "").strip()
    if not url and "://" in legacy:
        url = legacy
    if url:
        try:
            basemaps["intranet"] = intranet_basemap(url, env.get(ENV_TILES_CRS, "") or "wgs84")
        except ValueError as error:
            log.warning("%s: %s; the intranet tiles are not offered", ENV_TILES_CRS, error)
    return basemaps


def default_basemap(env: Mapping[str, str] | None = None) -> str:
    """The key of the basemap a session starts with: ``HOTSPOT_TILES`` if offered, else none."""
    env = os.environ if env is None else env
    wanted = env.get(ENV_DEFAULT, "").strip()
    if "://" in wanted:
        wanted = "intranet"
    return wanted if wanted in available_basemaps(env) else NONE.key


def get_basemap(key: str | None, env: Mapping[str, str] | None = None) -> Basemap:
    """The basemap named ``key`` (None: the vector-only map).

    Raises
    ------
    ValueError
        If ``key`` is not offered here (Tianditu without a key, say).
    """
    if not key:
        return NONE
    basemaps = available_basemaps(env)
    if key not in basemaps:
        raise ValueError(f"basemap {key!r} is not available here; choose from {list(basemaps)}")
    return basemaps[key]
