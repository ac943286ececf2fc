"""Hotspot tables for the pages and the command line: reports in, one row per cell out.

The study area holds every cell of the analysis resolution whose centre falls inside
the service area (the union of the communities) or an area the caller gives, so cells
without reports count as zeros: Gi* compares each neighbourhood with the whole area.

The default analysis resolution is 9 (hexagons of about 0.105 km², edges of about
174 m): a 30 km² town then has some 290 cells, enough for Gi* and its FDR to work
with, and one cell is about the size of a planted or real hotspot (a market, a
street corner, 100-200 m across). With ``k=1`` a neighbourhood is 7 cells, about
0.74 km². Finer resolutions give sparse counts (mostly zeros) on a year of reports.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import operator
from pathlib import Path

import h3
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike
from sqlalchemy import Engine

from geo.before_after import BeforeAfter, before_after
from geo.cells import (
    GRID_RES,
    STORED_RES,
    as_cells,
    cell_parents,
    cell_resolutions,
    cells_from_strings,
    cells_to_strings,
    child_ranges,
    neighbour_pairs,
)
from geo.hotspots import GI_COLUMNS, counts_per_cell, gi_star, hull_area, study_area_cells
from hotspot import taxonomy
from hotspot.errors import UserError
from hotspot.filters import EVERYTHING, ReportFilter, Scope
from hotspot.store import frames, schema

__all__ = [
    "DEFAULT_K",
    "DEFAULT_RES",
    "EMERGING_COLUMNS",
    "EMERGING_FREQS",
    "HOTSPOT_COLUMNS",
    "MAX_RES",
    "MIN_RES",
    "PLAN_COLUMNS",
    "PLAN_HEADERS_ZH",
    "cells_of_grid",
    "emerging_table",
    "filter_report_frame",
    "hotspot_table",
    "hotspot_table_from_file",
    "hotspot_table_from_reports",
    "hull_study_cells",
    "plan_table",
    "read_area",
    "read_report_file",
    "scope_study_cells",
    "service_area",
]

#: Default analysis resolution (see the module docstring).
DEFAULT_RES = 9
#: Default k-ring of the Gi* neighbourhood: the six touching hexagons and the cell.
DEFAULT_K = 1
#: Coarsest analysis resolution (res 5 cells are about 250 km², larger than a town).
MIN_RES = 5
#: Finest analysis resolution: the resolution reports are stored at.
MAX_RES = STORED_RES
#: Columns of a hotspot table, in order (the ``hotspot hotspots`` contract).
HOTSPOT_COLUMNS = ("cell", "count", *GI_COLUMNS)


def _check_options(res: int, k: int) -> tuple[int, int]:
    try:
        res, k = operator.index(res), operator.index(k)
    except TypeError:
        raise UserError(f"--res and --k must be whole numbers, got {res!r} and {k!r}") from None
    if not MIN_RES <= res <= MAX_RES:
        raise UserError(f"--res must be {MIN_RES}..{MAX_RES}, got {res}")
    if k < 1:
        raise UserError(f"--k must be 1 or more, got {k}")
    return res, k


def hotspot_table_from_reports(
    cells: ArrayLike,
    *,
    study_cells: ArrayLike,
    res: int = DEFAULT_RES,
    k: int = DEFAULT_K,
) -> pd.DataFrame:
    """Counts and Gi* per study cell, from the cells of the reports.

    Parameters
    ----------
    cells : array_like of int64
        The H3 cell of each report (resolution 12, as stored and as imported).
    study_cells : array_like of int64
        Distinct cells at ``res``: the study area.
    res : int, default 9
        Analysis resolution.
    k : int, default 1
        Grid distance of the neighbourhood (self included).

    Returns
    -------
    pandas.DataFrame
        One row per study cell, sorted by cell: ``cell`` (H3 string), ``count`` and the
        :func:`geo.hotspots.gi_star` columns.

    Raises
    ------
    UserError
        A resolution outside 5..12 or ``k`` below 1.
    """
    res, k = _check_options(res, k)
    study = np.unique(np.asarray(study_cells, dtype=np.int64))
    counts = counts_per_cell(cells, study, res=res)
    i, j = neighbour_pairs(study, k=k, include_self=True)
    gi = gi_star(counts, i, j)
    table = pd.DataFrame({"cell": cells_to_strings(study), "count": counts})
    return pd.concat([table, gi], axis=1)[list(HOTSPOT_COLUMNS)]


def service_area(engine: Engine, *, scope: Scope = EVERYTHING) -> shapely.Geometry:
    """The union of the store's communities (those of ``scope``): the default study area.

    Raises
    ------
    UserError
        The store (or the scope) has no communities.
    """
    communities = frames.read_communities(engine, scope)
    if communities.empty:
        raise UserError("the store has no communities to make a study area; give an area")
    return shapely.union_all(communities.geometry.to_numpy())


def cells_of_grid(grid_cells: ArrayLike, res: int) -> np.ndarray:
    """The cells at ``res`` that make up an area given by its grid cells.

    Finer than the grid, a grid cell's descendants (as reports are bucketed: by index,
    so every report of the area falls in one of them). Coarser, the cells whose centre
    lies in the area, as a study area is polyfilled: a cell's centre is the centre of
    its centre child, so the cell counts when that child at the grid resolution does.

    Parameters
    ----------
    grid_cells : array_like of int64
        Cells at :data:`geo.cells.GRID_RES` (a community's grid, a grid worker's cells).
    res : int
        The resolution wanted.

    Returns
    -------
    numpy.ndarray of int64
        Sorted, distinct.
    """
    grid = np.unique(np.asarray(grid_cells, dtype=np.int64))
    if grid.size == 0 or res == GRID_RES:
        return grid
    if res > GRID_RES:
        # A few thousand children at most (a community's grid at resolution 12).
        children = itertools.chain.from_iterable(
            h3.api.basic_int.cell_to_children(cell, res) for cell in grid.tolist()
        )
        return np.unique(np.fromiter(children, dtype=np.int64))
    parents = np.unique(cell_parents(grid, res))
    centre_children, _ = child_ranges(parents, GRID_RES)
    return parents[np.isin(centre_children, grid)]


def scope_study_cells(engine: Engine, scope: Scope, res: int) -> np.ndarray | None:
    """The cells at ``res`` of a scope's part of the town; None for the whole town.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    scope : Scope
        A community's scope covers its grid cells, a grid worker's their own cells.
    res : int
        Analysis resolution.

    Returns
    -------
    numpy.ndarray of int64 or None
        See :func:`cells_of_grid`; None when ``scope`` covers the whole town.
    """
    if scope.whole_town:
        return None
    grid = frames.read_grid_cells(engine, scope=scope)["cell"].to_numpy(dtype=np.int64)
    return cells_of_grid(grid, res)


def _analysis_cells(
    engine: Engine, scope: Scope, res: int, area: shapely.Geometry | None
) -> np.ndarray:
    """The study cells of an analysis: ``area`` (or the service area) within ``scope``.

    A scoped user's hotspots are found among the scope's own cells, so that neither
    the answer nor the comparison reaches past what the user may see.
    """
    own = scope_study_cells(engine, scope, res)
    if own is None:
        return _study_cells(area if area is not None else service_area(engine), res)
    if area is not None:
        own = np.intersect1d(own, _area_cells(area, res))
    if own.size == 0:
        raise UserError(
            f"no cell of the study area at resolution {res} lies in this account's area; "
            "try a finer --res"
        )
    return own


def hotspot_table(
    engine: Engine,
    filters: ReportFilter | None = None,
    *,
    res: int = DEFAULT_RES,
    k: int = DEFAULT_K,
    area: shapely.Geometry | None = None,
) -> pd.DataFrame:
    """Counts and Gi* per cell of the service area for the reports matching ``filters``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    filters : ReportFilter, optional
        The reports; ``filters.scope`` also narrows the study area to the scope's cells
        (:func:`scope_study_cells`).
    res : int, default 9
        Analysis resolution.
    k : int, default 1
        Grid distance of the neighbourhood.
    area : shapely geometry, optional
        Study area in WGS84; the union of the communities when omitted.

    Returns
    -------
    pandas.DataFrame
        See :func:`hotspot_table_from_reports`; with no matching reports every count is
        0 and every bin 0.

    Raises
    ------
    UserError
        Bad ``res`` or ``k``, or no study area (no communities in the store, or no cell
        of the area in the scope).
    """
    res, k = _check_options(res, k)
    filters = filters or ReportFilter()
    study = _analysis_cells(engine, filters.scope, res, area)
    reports = frames.read_reports(engine, filters)
    return hotspot_table_from_reports(
        reports["cell"].to_numpy(dtype=np.int64), study_cells=study, res=res, k=k
    )


def _area_cells(area: shapely.Geometry, res: int) -> np.ndarray:
    try:
        return study_area_cells(area, res=res)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _study_cells(area: shapely.Geometry, res: int) -> np.ndarray:
    study = _area_cells(area, res)
    if study.size == 0:
        raise UserError(
            f"the study area holds no cell centre at resolution {res}; try a finer --res"
        )
    return study


def hull_study_cells(lng: ArrayLike, lat: ArrayLike, cells: ArrayLike, *, res: int) -> np.ndarray:
    """Study cells for reports given without an area: their convex hull, plus their cells.

    Cells whose centres fall inside the hull, and the cells of the reports themselves:
    a report near the hull's edge can sit in a cell whose centre is just outside.

    Parameters
    ----------
    lng, lat : array_like
        WGS84 points of the reports.
    cells : array_like of int64
        Their cells at resolution 12.
    res : int
        Analysis resolution.

    Returns
    -------
    numpy.ndarray of int64
        Sorted, distinct.
    """
    from geo.cells import cell_parents

    res, _ = _check_options(res, 1)
    cells = np.asarray(cells, dtype=np.int64)
    own = cell_parents(cells[cells != 0], res)
    return np.union1d(study_area_cells(hull_area(lng, lat), res=res), own)


def filter_report_frame(reports: pd.DataFrame, filters: ReportFilter | None) -> pd.DataFrame:
    """Apply a :class:`ReportFilter` to validated reports read from a file.

    Parameters
    ----------
    reports : pandas.DataFrame
        With ``category``, ``reported_at`` and ``status`` (as validated on import).
    filters : ReportFilter or None

    Returns
    -------
    pandas.DataFrame
        The matching rows.

    Raises
    ------
    UserError
        A community filter: a file has no communities without the store.
    """
    if filters is None:
        return reports
    if filters.community:
        raise UserError("--community needs the store's communities; it cannot filter --input")
    keep = np.ones(len(reports), dtype=bool)
    if filters.categories:
        keep &= reports["category"].isin(filters.categories).to_numpy()
    if filters.layers:
        layers = taxonomy.layer_of(reports["category"].to_numpy(dtype=object))
        keep &= np.isin(layers, list(filters.layers))
    stamps = pd.to_datetime(reports["reported_at"])
    if filters.since:
        keep &= (stamps >= pd.Timestamp(filters.since)).to_numpy()
    if filters.until:
        keep &= (stamps < pd.Timestamp(filters.until) + pd.Timedelta(days=1)).to_numpy()
    if filters.statuses:
        keep &= reports["status"].isin(filters.statuses).to_numpy()
    return reports[keep]


def read_area(path: Path) -> shapely.Geometry:
    """Read a study area from a GeoJSON file: a geometry, a Feature or a FeatureCollection.

    Parameters
    ----------
    path : pathlib.Path
        WGS84 (lng, lat), as GeoJSON requires; polygons or multipolygons.

    Returns
    -------
    shapely.Geometry
        The union of the polygons.

    Raises
    ------
    UserError
        The file is missing, not JSON, not GeoJSON, or holds no polygon.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path.name}: not a GeoJSON file ({exc})") from None
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "FeatureCollection":
        geometries = [f.get("geometry") for f in data.get("features") or [] if isinstance(f, dict)]
    elif kind == "Feature":
        geometries = [data.get("geometry")]
    elif isinstance(kind, str):
        geometries = [data]
    else:
        raise UserError(f"{path.name}: not GeoJSON (no geometry, Feature or FeatureCollection)")
    try:
        shapes = [shapely.geometry.shape(g) for g in geometries if g]
    except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException) as exc:
        raise UserError(f"{path.name}: a geometry cannot be read ({exc})") from None
    polygons = [s for s in shapes if s.geom_type in ("Polygon", "MultiPolygon") and not s.is_empty]
    if not polygons:
        raise UserError(f"{path.name}: no polygon in the file; the study area must be a polygon")
    area = shapely.union_all([shapely.make_valid(p) for p in polygons])
    lng_min, lat_min, lng_max, lat_max = area.bounds
    if not (-180 <= lng_min <= lng_max <= 180 and -90 <= lat_min <= lat_max <= 90):
        raise UserError(f"{path.name}: coordinates are not WGS84 degrees (bounds {area.bounds})")
    return area


def read_report_file(path: Path, filters: ReportFilter | None = None) -> pd.DataFrame:
    """Read and validate a canonical report file as ``hotspot import`` does, without a store.

    Parameters
    ----------
    path : pathlib.Path
        A report CSV or XLSX (the canonical columns, WGS84).
    filters : ReportFilter, optional
        Applied to the valid rows (no community filter: that needs the store).

    Returns
    -------
    pandas.DataFrame
        The validated reports (``cell`` at resolution 12, ``lng``, ``lat``, ...).

    Raises
    ------
    UserError
        The file cannot be read, or has bad rows (the first is named, as on import).
    """
    from hotspot.intake.importer import read_report_table
    from hotspot.intake.reports import map_columns, validate_reports

    path = Path(path)
    raw = read_report_table(path)
    if raw.empty:
        raise UserError(f"{path.name}: no data rows under the header")
    checked = validate_reports(raw, mapping=map_columns(raw))
    if checked.rejected_rows:
        first = checked.rejects.iloc[0]
        raise UserError(
            f"{path.name}: {checked.rejected_rows} of {checked.total} rows rejected "
            f"(first: row {first['row']}, {first['field']}: {first['reason']})"
        )
    return filter_report_frame(checked.reports, filters)


def hotspot_table_from_file(
    path: Path,
    filters: ReportFilter | None = None,
    *,
    res: int = DEFAULT_RES,
    k: int = DEFAULT_K,
    area: shapely.Geometry | None = None,
) -> pd.DataFrame:
    """Counts and Gi* per cell for the reports of a file, without a store.

    Parameters
    ----------
    path : pathlib.Path
        A canonical report CSV or XLSX (see :func:`read_report_file`).
    filters : ReportFilter, optional
    res : int, default 9
    k : int, default 1
    area : shapely geometry, optional
        Study area in WGS84; when omitted, the reports' convex hull (see
        :func:`hull_study_cells`).

    Returns
    -------
    pandas.DataFrame
        See :func:`hotspot_table_from_reports`.

    Raises
    ------
    UserError
        Bad options, an unreadable file, bad rows, no reports after filtering, or no
        report inside ``area``.
    """
    res, k = _check_options(res, k)
    reports = read_report_file(path, filters)
    if reports.empty:
        raise UserError(f"{Path(path).name}: no reports match the filters")
    cells = reports["cell"].to_numpy(dtype=np.int64)
    if area is None:
        study = hull_study_cells(reports["lng"], reports["lat"], cells, res=res)
    else:
        study = _study_cells(area, res)
    table = hotspot_table_from_reports(cells, study_cells=study, res=res, k=k)
    if table["count"].sum() == 0:
        raise UserError(f"none of the {len(reports)} reports falls inside the study area")
    return table


#: Columns of a crackdown plan (the ``hotspot plan`` file), one row per cluster, in order.
PLAN_COLUMNS = (
    "cluster",
    "n_cells",
    "strength",
    "lng",
    "lat",
    "area_m2",
    "n_reports",
    "community",
    "community_name",
    "top_categories",
    "n_shops",
    "shops",
    "window",
    "window_weekday",
    "window_hour",
    "hours",
    "weekdays",
    "cells",
)
#: Chinese headers of :data:`PLAN_COLUMNS`, for spreadsheets.
PLAN_HEADERS_ZH = {
    "cluster": "排名",
    "n_cells": "网格单元数",
    "strength": "强度(Σz)",
    "lng": "中心经度",
    "lat": "中心纬度",
    "area_m2": "面积(平方米)",
    "n_reports": "问题数",
    "community": "社区编码",
    "community_name": "社区",
    "top_categories": "主要问题(件数)",
    "n_shops": "门前三包商户数",
    "shops": "涉及商户(问题数)",
    "window": "建议执法时段",
    "window_weekday": "建议星期(0=周一)",
    "window_hour": "建议起始时",
    "hours": "各时段问题数(0-23时)",
    "weekdays": "各星期问题数(周一至周日)",
    "cells": "H3单元",
}
#: Shops with reports listed per cluster in a plan (the most reported first).
PLAN_SHOPS = 10


def plan_table(
    engine: Engine,
    filters: ReportFilter | None = None,
    *,
    res: int = DEFAULT_RES,
    k: int = DEFAULT_K,
    area: shapely.Geometry | None = None,
    min_bin: int = 2,
    top: int = 3,
) -> pd.DataFrame:
    """A crackdown plan: one row per cluster of significant hot cells, strongest first.

    Clusters are the connected groups of cells hot at 95% or more (Gi* bin 2 and up; see
    :func:`geo.plan.crackdown_clusters`), ranked by the sum of their z-scores. Each row
    says where (centroid, area, cells, the community with most reports), what (the top
    categories), who (the storefront zones inside with reports, as ``shop(#zone id)
    count``) and when (the busiest weekday and two-hour window, and the hour-of-day and
    weekday profiles as comma-separated counts) for the reports matching ``filters``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    filters : ReportFilter, optional
        The reports; ``filters.scope`` narrows the study area (as in
        :func:`hotspot_table`), the shops and the community names to the scope.
    res : int, default 9
        Analysis resolution.
    k : int, default 1
        Grid distance of the Gi* neighbourhood.
    area : shapely geometry, optional
        Study area in WGS84; the union of the communities when omitted.
    min_bin : int, default 2
        Lowest Gi* bin counted as hot.
    top : int, default 3
        Categories listed per cluster.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`PLAN_COLUMNS`, plain numbers and strings; no rows when no
        cell is significantly hot.

    Raises
    ------
    UserError
        As :func:`hotspot_table`.
    """
    from geo.plan import cluster_profile, crackdown_clusters

    res, k = _check_options(res, k)
    hot = hotspot_table(engine, filters, res=res, k=k, area=area)
    clusters = crackdown_clusters(hot["cell"], hot["gi_bin"], hot["gi_z"], min_bin=min_bin)
    if clusters.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PLAN_COLUMNS})

    # Only the reports in some cluster matter: profile those, without their geometries.
    reports = frames.read_reports(engine, filters)
    in_any = cells_from_strings(np.concatenate([np.asarray(c) for c in clusters["cells"]]))
    keep = np.isin(cell_parents(reports["cell"].to_numpy(dtype=np.int64), res), in_any)
    columns = ["cell", "reported_at", "category_name", "community", "zone_id"]
    reports = pd.DataFrame(reports.loc[keep, columns])
    scope = (filters or ReportFilter()).scope
    zones = pd.DataFrame(frames.read_zones(engine, scope)[["id", "shop_name", "cell"]])
    names = frames.read_communities(engine, scope).set_index("code")["name"]

    rows = []
    for cluster in clusters.itertuples(index=False):
        profile = cluster_profile(cluster.cells, reports, zones=zones)
        shops = profile.zones[profile.zones["n_reports"] > 0].head(PLAN_SHOPS)
        rows.append(
            {
                "cluster": cluster.cluster,
                "n_cells": cluster.n_cells,
                "strength": round(cluster.strength, 2),
                "lng": round(cluster.lng, 6),
                "lat": round(cluster.lat, 6),
                "area_m2": round(cluster.area_m2),
                "n_reports": profile.n_reports,
                "community": profile.community,
                "community_name": names.get(profile.community),
                "top_categories": "; ".join(
                    f"{name} {n}" for name, n in profile.categories.head(top).items()
                ),
                "n_shops": len(profile.zones),
                "shops": "; ".join(
                    f"{shop}(#{zone}) {n}"
                    for zone, shop, n in shops[["zone_id", "shop_name", "n_reports"]].itertuples(
                        index=False
                    )
                ),
                "window": profile.window,
                "window_weekday": profile.window_weekday,
                "window_hour": profile.window_hour,
                "hours": ",".join(map(str, profile.hours.tolist())),
                "weekdays": ",".join(map(str, profile.weekdays.tolist())),
                "cells": " ".join(cluster.cells),
            }
        )
    return pd.DataFrame(rows, columns=list(PLAN_COLUMNS))


#: Columns of an emerging hotspot table (the ``hotspot emerging`` contract), in order.
EMERGING_COLUMNS = ("cell", "pattern", "tau", "tau_p", "slices_hot", "slices")
#: Slice lengths of an emerging hotspot analysis.
EMERGING_FREQS = ("week", "day", "month")


def emerging_table(
    source: Engine | Path,
    filters: ReportFilter | None = None,
    *,
    res: int = DEFAULT_RES,
    k: int = DEFAULT_K,
    freq: str = "week",
    area: shapely.Geometry | None = None,
) -> pd.DataFrame:
    """Emerging hotspot pattern of every study cell (see :mod:`geo.emerging`).

    The slices run from ``filters.since`` (or the first report day) to ``filters.until``
    (or the last report day); calendar weeks from Monday, so the first and last may be
    partial.

    Parameters
    ----------
    source : sqlalchemy.Engine or pathlib.Path
        The store, or a canonical report file read as :func:`read_report_file` does.
    filters : ReportFilter, optional
        The reports; for the store ``filters.scope`` also narrows the study area to
        the scope's cells (as in :func:`hotspot_table`).
    res : int, default 9
        Analysis resolution.
    k : int, default 1
        Grid distance of the Gi* neighbourhood.
    freq : {"week", "day", "month"}, default "week"
        Slice length.
    area : shapely geometry, optional
        Study area in WGS84; when omitted, the union of the communities for the store
        and the reports' convex hull for a file (:func:`hull_study_cells`).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`EMERGING_COLUMNS`, one row per study cell, sorted by cell.

    Raises
    ------
    UserError
        Bad options, an unreadable file, no study area, no report inside it, or fewer
        than two slices.
    """
    from geo.emerging import emerging_hotspots, time_slices

    res, k = _check_options(res, k)
    if freq not in EMERGING_FREQS:
        raise UserError(f"--freq must be one of {', '.join(EMERGING_FREQS)}, got {freq!r}")
    if isinstance(source, Engine):
        study = _analysis_cells(source, (filters or ReportFilter()).scope, res, area)
        reports = frames.read_reports(source, filters)
    else:
        reports = read_report_file(source, filters)
        if reports.empty:
            raise UserError(f"{Path(source).name}: no reports match the filters")
        if area is None:
            study = hull_study_cells(reports["lng"], reports["lat"], reports["cell"], res=res)
        else:
            study = _study_cells(area, res)
    cells = reports["cell"].to_numpy(dtype=np.int64)
    if counts_per_cell(cells, study, res=res).sum() == 0:
        raise UserError("no reports match the filters inside the study area")
    stamps = pd.to_datetime(reports["reported_at"])
    if stamps.dt.tz is not None:  # slices are cut at local midnight
        stamps = stamps.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    times = stamps.to_numpy(dtype="datetime64[ns]")
    start = filters.since if filters else None
    end = filters.until if filters else None
    try:
        _, edges = time_slices(times, freq=freq, start=start, end=end)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if edges.size < 3:
        raise UserError(f"the reports span one {freq}; a trend needs at least two slices")
    table = emerging_hotspots(
        cells, times, study_cells=np.unique(study), res=res, k=k, freq=freq, start=start, end=end
    )
    return table[list(EMERGING_COLUMNS)]


def operation_effect(
    engine: Engine,
    cells: ArrayLike,
    operation_date: dt.date,
    *,
    filters: ReportFilter | None = None,
    weeks: int = 4,
    data_until: dt.date | None = None,
    scope: Scope = EVERYTHING,
) -> BeforeAfter:
    """Reports per week in an operation's cells before and after its date, and the test.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    cells : array_like of str or int64
        The operation's H3 cells, at any one resolution from 5 to 12.
    operation_date : datetime.date
        The first day of the operation (集中执法行动).
    filters : ReportFilter, optional
        Categories or layers the operation targeted.
    weeks : int, default 4
    data_until : datetime.date, optional
        Last day with data, when the after period is not over yet.
    scope : Scope, optional
        Whose view: only the reports in it are counted. The scope of ``filters``
        applies as well (both narrow, neither widens).

    Returns
    -------
    geo.before_after.BeforeAfter
    """
    ints = as_cells(cells)
    if ints.size == 0:
        raise UserError("an operation needs at least one cell")
    res = int(cell_resolutions(ints[:1])[0])
    report = schema.report
    in_scope = frames.scope_conditions(scope, report.c.community_id, report.c.cell)
    columns = ["cell", "category", "reported_at"]
    reports = frames.read_reports(engine, filters, columns=columns, where=in_scope)
    inside = np.isin(cell_parents(reports["cell"].to_numpy(), res), ints)
    return before_after(
        reports.loc[inside, "reported_at"].to_numpy(),
        operation_date=operation_date,
        weeks=weeks,
        data_until=data_until,
    )
