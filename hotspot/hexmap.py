"""Report counts and Gi* per H3 cell at each resolution the map's hexagons switch between."""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike
from sqlalchemy import Engine

from geo.cells import cell_parents, neighbour_pairs
from geo.hotspots import counts_per_cell, gi_star, study_area_cells
from hotspot.analysis import DEFAULT_K, cells_of_grid
from hotspot.filters import ReportFilter
from hotspot.store import frames

__all__ = ["HEX_COLUMNS", "HEX_RESOLUTIONS", "hex_levels", "map_hexes", "service_area_of"]

#: Resolutions the map draws, coarse to fine (zoom ≤ 12 to ≥ 15.5, see
#: :func:`geo.cells.resolution_for_zoom`); 10 is the community grid.
HEX_RESOLUTIONS: tuple[int, ...] = (8, 9, 10, 11)
#: Columns of :func:`hex_levels`.
HEX_COLUMNS = ("res", "cell", "count", "gi_z", "gi_bin")


def service_area_of(communities: pd.DataFrame | None) -> shapely.Geometry | None:
    """The union of community polygons (WGS84), or None when there are none."""
    if communities is None or len(communities) == 0:
        return None
    return shapely.union_all(np.asarray(communities.geometry, dtype=object))


def hex_levels(
    report_cells: ArrayLike,
    area: shapely.Geometry | None = None,
    *,
    resolutions: Sequence[int] = HEX_RESOLUTIONS,
    k: int = DEFAULT_K,
    grid: ArrayLike | None = None,
) -> pd.DataFrame:
    """Counts and Gi* per cell at each resolution, for the cells worth drawing.

    At each resolution the study area is every cell whose centre falls inside
    ``area`` (or every cell of ``grid``) plus every cell holding a report, zero-count
    cells included, so Gi* compares each neighbourhood with the whole town (as
    :mod:`hotspot.analysis`).

    Parameters
    ----------
    report_cells : array_like of int64
        The H3 cell of each report (resolution 12 as stored; 0, no location, is ignored).
    area : shapely geometry, optional
        The study area in WGS84, such as the union of the communities; without it
        the cells holding reports are the whole study area.
    resolutions : sequence of int, default (8, 9, 10, 11)
    k : int, default 1
        Gi* neighbourhood: grid distance, the cell itself included.
    grid : array_like of int64, optional
        The study area as grid cells (:data:`geo.cells.GRID_RES`), instead of
        ``area``: a scoped user's cells (see :func:`hotspot.analysis.cells_of_grid`).

    Returns
    -------
    pandas.DataFrame
        ``res``, ``cell`` (int64), ``count``, ``gi_z``, ``gi_bin`` (-3..3), for the
        cells with reports or a significant Gi* (cold spots hold no reports);
        sorted by resolution then cell.
    """
    cells = np.asarray(report_cells, dtype=np.int64).ravel()
    cells = cells[cells != 0]
    k = operator.index(k)
    parts = []
    for res in resolutions:
        res = operator.index(res)
        own = np.unique(cell_parents(cells, res))
        if grid is not None:
            study = np.union1d(cells_of_grid(grid, res), own)
        elif area is not None:
            study = np.union1d(study_area_cells(area, res=res), own)
        else:
            study = own
        counts = counts_per_cell(cells, study, res=res)
        i, j = neighbour_pairs(study, k=k, include_self=True)
        gi = gi_star(counts, i, j)
        keep = (counts > 0) | (gi["gi_bin"].to_numpy() != 0)
        parts.append(
            pd.DataFrame(
                {
                    "res": np.full(int(keep.sum()), res, dtype=np.int64),
                    "cell": study[keep],
                    "count": counts[keep],
                    "gi_z": gi["gi_z"].to_numpy()[keep],
                    "gi_bin": gi["gi_bin"].to_numpy()[keep].astype(np.int64),
                }
            )
        )
    if not parts:
        return pd.DataFrame({name: pd.Series(dtype="int64") for name in HEX_COLUMNS})
    return pd.concat(parts, ignore_index=True)[list(HEX_COLUMNS)]


def map_hexes(
    engine: Engine,
    filters: ReportFilter | None = None,
    *,
    resolutions: Sequence[int] = HEX_RESOLUTIONS,
    k: int = DEFAULT_K,
) -> pd.DataFrame:
    """:func:`hex_levels` of the reports ``filters`` selects, over the store's communities.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    filters : ReportFilter, optional
        The reports; for a scoped user (``filters.scope``) the study area is the
        scope's grid cells rather than the town.
    resolutions : sequence of int, default (8, 9, 10, 11)
    k : int, default 1

    Returns
    -------
    pandas.DataFrame
        See :func:`hex_levels`.
    """
    scope = (filters or ReportFilter()).scope
    grid = None
    if not scope.whole_town:
        grid = frames.read_grid_cells(engine, scope=scope)["cell"].to_numpy(dtype=np.int64)
    area = service_area_of(frames.read_communities(engine, scope))
    reports = frames.read_reports(engine, filters)
    return hex_levels(reports["cell"], area, resolutions=resolutions, k=k, grid=grid)
