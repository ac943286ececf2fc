"""A crackdown plan to take away: a workbook (.xlsx) and a printable map (self-contained SVG)."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Mapping
from xml.sax.saxutils import escape, quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from sqlalchemy import Engine

from geo.cells import cell_boundaries, cell_parents, cell_resolutions, cells_from_strings
from geo.crs import to_metric
from hotspot.analysis import PLAN_COLUMNS, PLAN_HEADERS_ZH
from hotspot.filters import EVERYTHING, Scope
from hotspot.intake.export import neutralise_formulas
from hotspot.store import frames
from hotspot.taxonomy import STATUS_NAMES

__all__ = [
    "CLUSTER_SHEET",
    "NOTE_SHEET",
    "REPORT_COLUMNS",
    "REPORT_HEADERS_ZH",
    "REPORT_SHEET",
    "cluster_cells",
    "cluster_outlines",
    "plan_svg",
    "plan_workbook",
    "print_streets",
    "reports_in_clusters",
]

CLUSTER_SHEET = "集中整治点位"
REPORT_SHEET = "问题清单"
NOTE_SHEET = "说明"
#: Columns of the report sheet, in order: no reporter name, phone or description
#: (residents write their numbers there), only what the teams need to find the place.
REPORT_COLUMNS = (
    "cluster",
    "id",
    "external_id",
    "category_name",
    "status",
    "reported_at",
    "community",
    "address",
    "lng",
    "lat",
)
#: Chinese headers of :data:`REPORT_COLUMNS`.
REPORT_HEADERS_ZH = {
    "cluster": "点位排名",
    "id": "编号",
    "external_id": "工单编号",
    "category_name": "类别",
    "status": "状态",
    "reported_at": "上报时间",
    "community": "社区",
    "address": "地址",
    "lng": "经度",
    "lat": "纬度",
}
_WIDE = {"top_categories": 40, "shops": 50, "hours": 30, "cells": 40, "address": 40}


def cluster_cells(plan: pd.DataFrame) -> list[np.ndarray]:
    """The H3 cells (int64) of each cluster of a plan, aligned with its rows.

    Parameters
    ----------
    plan : pandas.DataFrame
        Rows of :func:`hotspot.analysis.plan_table`; ``cells`` holds H3 strings separated
        by spaces, or a sequence of them.

    Returns
    -------
    list of numpy.ndarray of int64
    """
    return [
        cells_from_strings(cells.split() if isinstance(cells, str) else list(cells))
        for cells in plan["cells"].tolist()
    ]


def cluster_outlines(plan: pd.DataFrame) -> np.ndarray:
    """The outline of each cluster of a plan (the union of its cells), in WGS84.

    Returns
    -------
    numpy.ndarray of shapely.Geometry
        A polygon or multipolygon per row of ``plan``.
    """
    outlines = np.empty(len(plan), dtype=object)
    for i, cells in enumerate(cluster_cells(plan)):
        outlines[i] = shapely.union_all(cell_boundaries(cells))
    return outlines


def reports_in_clusters(reports: pd.DataFrame, plan: pd.DataFrame) -> pd.DataFrame:
    """The reports inside the clusters of ``plan``, with the cluster's rank.

    Parameters
    ----------
    reports : pandas.DataFrame
        As :func:`hotspot.store.frames.read_reports` gives them (``cell`` at resolution
        12); the same filters as the plan, so that the counts agree.
    plan : pandas.DataFrame
        The clusters wanted (rows of :func:`hotspot.analysis.plan_table`).

    Returns
    -------
    pandas.DataFrame
        The reports in some cluster with a ``cluster`` column (the rank), ordered by
        cluster and time; no geometry.
    """
    columns = [c for c in reports.columns if c != "geometry"]
    if plan.empty or reports.empty:
        return pd.DataFrame(reports[columns].iloc[:0]).assign(cluster=pd.Series(dtype=np.int64))
    per_cluster = cluster_cells(plan)
    cells = np.concatenate(per_cluster)
    ranks = np.repeat(plan["cluster"].to_numpy(dtype=np.int64), [c.size for c in per_cluster])
    res = int(cell_resolutions(cells[:1])[0])
    at = pd.Index(cells).get_indexer(cell_parents(reports["cell"].to_numpy(dtype=np.int64), res))
    inside = at >= 0
    out = pd.DataFrame(reports.loc[inside, columns])
    out["cluster"] = ranks[at[inside]]
    return out.sort_values(["cluster", "reported_at", "id"], ignore_index=True)


def _safe_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Text a spreadsheet shows as text: formulas neutralised, control characters gone."""
    frame = frame.astype(object).where(frame.notna(), None)
    text = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, str)).any()]
    if text:
        frame[text] = neutralise_formulas(frame[text])
        for column in text:
            frame[column] = frame[column].map(
                lambda v: ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v
            )
    return frame


def _write_sheet(sheet, frame: pd.DataFrame, headers: dict[str, str]) -> None:
    sheet.append([headers.get(c, c) for c in frame.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in frame.itertuples(index=False):
        sheet.append(list(row))
    for i, column in enumerate(frame.columns):
        letter = sheet.cell(row=1, column=i + 1).column_letter
        sheet.column_dimensions[letter].width = _WIDE.get(column, 14)
        if column == "reported_at":
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i + 1, max_col=i + 1):
                cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.freeze_panes = "A2"


def plan_workbook(
    plan: pd.DataFrame,
    reports: pd.DataFrame,
    *,
    period: str = "",
    scope: str = "",
    notice: str | None = None,
    community_names: Mapping[str, str] | None = None,
    created: dt.datetime | None = None,
) -> bytes:
    """The plan as an Excel workbook: the clusters, their reports and a note.

    Every text cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``,
    ``@``...) is prefixed with ``'`` (see :mod:`hotspot.intake.export`); reporter
    names and phones are never written.

    Parameters
    ----------
    plan : pandas.DataFrame
        The chosen clusters (rows of :func:`hotspot.analysis.plan_table`).
    reports : pandas.DataFrame
        The reports, as :func:`hotspot.store.frames.read_reports` gives them; those in
        the clusters are listed.
    period : str, optional
        The period the plan covers, in words.
    scope : str, optional
        The layers or categories it covers, in words.
    notice : str, optional
        A data notice (such as the demo-data warning), written on every sheet.
    community_names : mapping of str to str, optional
        Community code to name, to list reports by community name rather than code.
    created : datetime.datetime, optional
        When the plan was made; now by default.

    Returns
    -------
    bytes
        The ``.xlsx`` file.
    """
    created = created or dt.datetime.now().replace(microsecond=0)
    book = Workbook()
    clusters = plan[list(PLAN_COLUMNS)].copy()
    inside = reports_in_clusters(reports, plan)
    listed = pd.DataFrame({c: inside[c] for c in REPORT_COLUMNS if c in inside.columns})
    listed["status"] = listed["status"].map(lambda s: STATUS_NAMES.get(s, (s, s))[0])
    listed["reported_at"] = pd.to_datetime(listed["reported_at"]).dt.to_pydatetime()
    if community_names and "community" in listed.columns:
        listed["community"] = listed["community"].map(lambda c: community_names.get(c, c))
    headers = dict(PLAN_HEADERS_ZH)
    if notice:
        clusters["data_notice"] = notice
        listed["data_notice"] = notice
        headers["data_notice"] = "数据说明"

    sheet = book.active
    sheet.title = CLUSTER_SHEET
    _write_sheet(sheet, _safe_text(clusters), headers)
    _write_sheet(
        book.create_sheet(REPORT_SHEET), _safe_text(listed), {**headers, **REPORT_HEADERS_ZH}
    )
    note = pd.DataFrame(
        {
            "item": [
                "标题",
                "统计时段",
                "范围",
                "点位数",
                "问题数",
                "生成时间",
                "方法",
                "数据说明",
            ],
            "value": [
                "集中整治计划",
                period,
                scope or "全部",
                len(clusters),
                len(listed),
                created.strftime("%Y-%m-%d %H:%M"),
                "点位为 Getis-Ord Gi* 95% 置信度以上热点网格的连片；"
                "建议时段为问题最多的星期与连续两小时。",
                notice or "",
            ],
        }
    )
    _write_sheet(book.create_sheet(NOTE_SHEET), _safe_text(note), {"item": "项目", "value": "内容"})
    book[NOTE_SHEET].column_dimensions["B"].width = 60
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def print_streets(engine: Engine, *, scope: Scope = EVERYTHING) -> gpd.GeoDataFrame:
    """The streets to draw on a printed map: ``name``, ``kind`` and lines, in WGS84.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    scope : Scope, optional
        Whose view: only the streets that cross the scope's part of the town (its
        communities, or a grid worker's cells).

    Returns
    -------
    geopandas.GeoDataFrame
    """
    streets = frames.read_streets(engine)[["name", "kind", "geometry"]]
    if scope.whole_town:
        return streets
    if scope.cells is not None:
        cells = frames.read_grid_cells(engine, scope=scope)["cell"].to_numpy(dtype=np.int64)
        area = shapely.union_all(cell_boundaries(cells)) if cells.size else None
    else:
        area = shapely.union_all(np.asarray(frames.read_communities(engine, scope).geometry))
    if area is None or area.is_empty:
        return streets.iloc[:0]
    crossing = shapely.intersects(np.asarray(streets.geometry, dtype=object), area)
    return streets[crossing]


# --- the printable map ------------------------------------------------------------------

#: Page: A4 landscape, 4 drawing units a millimetre.
_PAGE_W, _PAGE_H, _UNITS_PER_MM = 1188, 840, 4
_FRAME = (32.0, 104.0, 844.0, 800.0)  # map frame: left, top, right, bottom
_LEGEND_X = 870.0
_FONT = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',SimHei,sans-serif"
#: One fill per cluster, cycling (ColorBrewer Set1, without yellow).
_FILLS = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#999999")
_MAIN_STREETS = {"主干道", "次干道"}
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: object) -> str:
    """Text for an SVG element: control characters dropped, markup escaped."""
    return escape(_XML_BAD.sub("", "" if value is None else str(value)))


def _attr(value: object) -> str:
    return quoteattr(_XML_BAD.sub("", str(value)))


def _nice_length(metres: float) -> float:
    """The longest of 1, 2, 2.5 or 5 times a power of ten that is at most ``metres``."""
    power = 10 ** math.floor(math.log10(metres))
    return max(f * power for f in (1, 2, 2.5, 5) if f * power <= metres)


class _Projector:
    """Metric coordinates (EPSG:4548) to drawing units inside the map frame."""

    def __init__(self, bounds: tuple[float, float, float, float]) -> None:
        left, top, right, bottom = _FRAME
        x0, y0, x1, y1 = bounds
        self.scale = min((right - left) / (x1 - x0), (bottom - top) / (y1 - y0))
        self.dx = left + ((right - left) - (x1 - x0) * self.scale) / 2 - x0 * self.scale
        self.dy = top + ((bottom - top) - (y1 - y0) * self.scale) / 2 + y1 * self.scale

    def xy(self, coords: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [coords[:, 0] * self.scale + self.dx, self.dy - coords[:, 1] * self.scale]
        )

    def path(self, geometry: shapely.Geometry) -> str:
        """SVG path data of a polygon, line or a collection of them."""
        parts = []
        for part in shapely.get_parts(geometry):
            if part.geom_type == "Polygon":
                rings = [part.exterior, *part.interiors]
                closed = True
            elif part.geom_type == "LineString":
                rings, closed = [part], False
            else:
                continue
            for ring in rings:
                xy = self.xy(shapely.get_coordinates(ring))
                points = " L".join(f"{x:.1f},{y:.1f}" for x, y in xy)
                parts.append(f"M{points}{' Z' if closed else ''}")
        return " ".join(parts)


def _extent(selected: np.ndarray, communities: np.ndarray) -> tuple[float, float, float, float]:
    """Map extent in metres: the chosen clusters with room around them, else the town."""
    shapes = selected if selected.size else communities
    if shapes.size == 0:
        raise ValueError("nothing to draw: no cluster and no community")
    x0, y0, x1, y1 = shapely.total_bounds(shapes)
    pad = max(400.0, 0.25 * max(x1 - x0, y1 - y0))
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    if communities.size:  # no need to show beyond the town
        tx0, ty0, tx1, ty1 = shapely.total_bounds(communities)
        x0, y0, x1, y1 = (
            max(x0, tx0 - 200),
            max(y0, ty0 - 200),
            min(x1, tx1 + 200),
            min(y1, ty1 + 200),
        )
    return x0, y0, x1, y1


def plan_svg(
    communities: gpd.GeoDataFrame,
    plan: pd.DataFrame,
    *,
    streets: gpd.GeoDataFrame | None = None,
    title: str = "集中整治点位图",
    period: str = "",
    created: dt.date | None = None,
    notice: str | None = None,
) -> str:
    """A printable map of the chosen clusters: one A4 landscape page as a standalone SVG.

    Community outlines and names, streets (names of the main ones), the clusters' cells
    filled and numbered by rank, a legend of the clusters (community, reports, top
    categories, suggested window), the title with the period and date, a north arrow
    and a scale bar. Nothing is linked or scripted: the file opens and prints in any
    browser without a network.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame
        ``name`` and polygons in WGS84.
    plan : pandas.DataFrame
        The chosen clusters (rows of :func:`hotspot.analysis.plan_table`).
    streets : geopandas.GeoDataFrame, optional
        ``name``, ``kind`` and lines in WGS84 (:func:`print_streets`).
    title : str, default "集中整治点位图"
    period : str, optional
        The period of the reports, in words.
    created : datetime.date, optional
        The date printed on the map; today by default.
    notice : str, optional
        A data notice printed under the map (such as the demo-data warning).

    Returns
    -------
    str
        The SVG document. Each cluster is a ``<g class="cluster" data-rank="N">``.
    """
    created = created or dt.date.today()
    community_shapes = to_metric(np.asarray(communities.geometry, dtype=object))
    cells = cluster_cells(plan)
    cell_shapes = [to_metric(cell_boundaries(c)) for c in cells]
    outlines = np.array(
        [shapely.union_all(s) for s in cell_shapes] if cell_shapes else [], dtype=object
    )
    projector = _Projector(_extent(outlines, community_shapes))
    left, top, right, bottom = _FRAME

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_PAGE_W // _UNITS_PER_MM}mm" '
        f'height="{_PAGE_H // _UNITS_PER_MM}mm" viewBox="0 0 {_PAGE_W} {_PAGE_H}" '
        f"font-family={_attr(_FONT)}>",
        f"<title>{_text(title)}</title>",
        "<style>@page{size:A4 landscape;margin:0}"
        ".street{fill:none;stroke:#b8b8b8;stroke-linecap:round}"
        ".community{fill:none;stroke:#1f4e79;stroke-width:2;stroke-dasharray:10 4}"
        ".cell{stroke:#fff;stroke-width:0.8}"
        ".outline{fill:none;stroke:#222;stroke-width:2.5}"
        "text{fill:#222}</style>",
        f'<rect width="{_PAGE_W}" height="{_PAGE_H}" fill="#fff"/>',
        f'<defs><clipPath id="frame"><rect x="{left}" y="{top}" width="{right - left}" '
        f'height="{bottom - top}"/></clipPath></defs>',
        # title block
        f'<text x="{left}" y="46" font-size="30" font-weight="700">{_text(title)}</text>',
        f'<text x="{left}" y="80" font-size="16">'
        f"{_text('统计时段：' + period if period else '')}"
        f"{'　' if period else ''}{_text('制图日期：' + created.isoformat())}"
        f"{_text('　点位 ' + str(len(plan)) + ' 处')}</text>",
        '<g clip-path="url(#frame)">',
    ]
    if streets is not None and len(streets):
        street_shapes = to_metric(np.asarray(streets.geometry, dtype=object))
        for kind, shape in zip(streets["kind"].tolist(), street_shapes, strict=True):
            width = 4 if kind in _MAIN_STREETS else 2
            out.append(f'<path class="street" stroke-width="{width}" d="{projector.path(shape)}"/>')
    for shape in community_shapes:
        out.append(f'<path class="community" d="{projector.path(shape)}"/>')
    for name, shape in zip(communities["name"].tolist(), community_shapes, strict=True):
        x, y = projector.xy(shapely.get_coordinates(shapely.point_on_surface(shape)))[0]
        out.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="15" text-anchor="middle" '
            f'fill="#1f4e79" opacity="0.8">{_text(name)}</text>'
        )
    if streets is not None and len(streets):
        for name, kind, shape in zip(
            streets["name"].tolist(), streets["kind"].tolist(), street_shapes, strict=True
        ):
            if kind not in _MAIN_STREETS or shape.is_empty:
                continue
            x, y = projector.xy(
                shapely.get_coordinates(shapely.line_interpolate_point(shape, 0.5, normalized=True))
            )[0]
            out.append(
                f'<text x="{x:.1f}" y="{y:.1f}" font-size="12" text-anchor="middle" '
                f'fill="#666" stroke="#fff" stroke-width="3" paint-order="stroke">{_text(name)}'
                "</text>"
            )
    for i, (rank, shapes, outline) in enumerate(
        zip(plan["cluster"].tolist(), cell_shapes, outlines, strict=True)
    ):
        fill = _FILLS[i % len(_FILLS)]
        x, y = projector.xy(shapely.get_coordinates(shapely.point_on_surface(outline)))[0]
        out.append(f'<g class="cluster" id="cluster-{int(rank)}" data-rank="{int(rank)}">')
        out.extend(
            f'<path class="cell" fill="{fill}" fill-opacity="0.55" d="{projector.path(s)}"/>'
            for s in shapes
        )
        out.append(f'<path class="outline" d="{projector.path(outline)}"/>')
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="15" fill="#fff" stroke="{fill}" '
            'stroke-width="3"/>'
            f'<text x="{x:.1f}" y="{y + 6:.1f}" font-size="17" font-weight="700" '
            f'text-anchor="middle">{int(rank)}</text></g>'
        )
    out.append("</g>")
    out.append(
        f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
        'fill="none" stroke="#222" stroke-width="1.5"/>'
    )
    out += _north_arrow(right - 40, top + 20)
    out += _scale_bar(projector.scale, left + 16, bottom - 20)
    out += _legend(plan)
    if notice:
        out.append(
            f'<text x="{left}" y="{bottom + 26}" font-size="14" fill="#c00000">'
            f"{_text(notice)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _north_arrow(x: float, y: float) -> list[str]:
    return [
        f'<g class="north-arrow" transform="translate({x:.1f},{y:.1f})">',
        '<rect x="-20" y="-8" width="40" height="66" fill="#fff" fill-opacity="0.85"/>',
        '<path d="M0,0 L12,40 L0,32 Z" fill="#222"/>',
        '<path d="M0,0 L-12,40 L0,32 Z" fill="#fff" stroke="#222" stroke-width="1.5"/>',
        '<text x="0" y="56" font-size="14" font-weight="700" text-anchor="middle">北 N</text>',
        "</g>",
    ]


def _scale_bar(units_per_metre: float, x: float, y: float) -> list[str]:
    left, _, right, _ = _FRAME
    metres = _nice_length((right - left) / 4 / units_per_metre)
    width = metres * units_per_metre
    # a drawing unit is 1/_UNITS_PER_MM mm on paper
    ratio = round(_UNITS_PER_MM * 1000 / units_per_metre / 100) * 100

    def label(m: float) -> str:
        return f"{m / 1000:g} 千米" if metres >= 1000 else f"{m:g} 米"

    parts = [
        f'<g class="scale-bar" transform="translate({x:.1f},{y:.1f})">',
        f'<rect x="-8" y="-30" width="{width + 70:.1f}" height="44" fill="#fff" '
        'fill-opacity="0.85"/>',
    ]
    for i in range(4):
        fill = "#222" if i % 2 == 0 else "#fff"
        parts.append(
            f'<rect x="{i * width / 4:.1f}" y="0" width="{width / 4:.1f}" height="7" '
            f'fill="{fill}" stroke="#222" stroke-width="1"/>'
        )
    for at in (0, 0.5, 1):
        parts.append(
            f'<text x="{at * width:.1f}" y="-6" font-size="12" text-anchor="middle">'
            f"{_text(label(at * metres) if at else '0')}</text>"
        )
    parts.append(
        f'<text x="{width + 10:.1f}" y="8" font-size="11">1:{ratio:,}（A4 原大打印）</text>'
    )
    parts.append("</g>")
    return parts


def _legend(plan: pd.DataFrame) -> list[str]:
    _, top, _, bottom = _FRAME
    parts = [
        f'<text x="{_LEGEND_X}" y="{top + 4}" font-size="18" font-weight="700">整治点位</text>'
    ]
    y = top + 34
    for i, row in enumerate(plan.itertuples(index=False)):
        if y > bottom - 60:
            parts.append(
                f'<text x="{_LEGEND_X}" y="{y}" font-size="13">'
                f"…… 其余 {len(plan) - i} 处见计划表</text>"
            )
            break
        fill = _FILLS[i % len(_FILLS)]
        community = row.community_name if isinstance(row.community_name, str) else ""
        lines = [
            f"{community}　{row.n_reports} 件",
            f"时段：{row.window or '—'}",
            *_wrap(f"问题：{row.top_categories or '—'}", 22)[:3],
        ]
        parts.append(
            f'<circle cx="{_LEGEND_X + 12}" cy="{y - 5}" r="12" fill="#fff" stroke="{fill}" '
            f'stroke-width="3"/><text x="{_LEGEND_X + 12}" y="{y}" font-size="14" '
            f'font-weight="700" text-anchor="middle">{int(row.cluster)}</text>'
        )
        for j, line in enumerate(lines):
            weight = ' font-weight="700"' if j == 0 else ""
            parts.append(
                f'<text x="{_LEGEND_X + 32}" y="{y + j * 18}" font-size="13"{weight}>'
                f"{_text(line)}</text>"
            )
        y += 18 * len(lines) + 16
    return parts


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters, broken after a "; " where possible."""
    lines: list[str] = []
    line = ""
    for piece in text.split("; "):
        candidate = f"{line}; {piece}" if line else piece
        if len(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line + ";")
        while len(piece) > width:
            lines.append(piece[:width])
            piece = piece[width:]
        line = piece
    return [*lines, line] if line or not lines else lines
