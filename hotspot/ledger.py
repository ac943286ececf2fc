"""A community's ledger (台账): its reports with grid cell and worker, counts per cell, CSV."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import Engine

from geo.cells import GRID_RES, cell_parents, cells_to_strings
from hotspot.filters import ReportFilter
from hotspot.intake.export import neutralise_formulas
from hotspot.store.frames import read_communities, read_grid_cells, read_reports
from hotspot.taxonomy import OPEN_STATUSES, SOURCES, STATUS_NAMES, load_categories

__all__ = [
    "CELL_COUNT_COLUMNS",
    "LEDGER_COLUMNS",
    "CommunityView",
    "cell_counts",
    "community_ledger",
    "filter_ledger",
    "ledger_csv",
    "ledger_reports",
    "ledger_table",
    "read_community",
]

#: Columns of the ledger as people see it: key -> (Chinese header, English header).
LEDGER_COLUMNS: dict[str, tuple[str, str]] = {
    "id": ("编号", "ID"),
    "external_id": ("工单编号", "Work order"),
    "category": ("问题类别", "Category"),
    "status": ("状态", "Status"),
    "reported_at": ("上报时间", "Reported"),
    "due_at": ("整改期限", "Due"),
    "overdue": ("超期", "Overdue"),
    "grid_cell": ("网格", "Cell"),
    "grid_worker": ("网格员", "Grid worker"),
    "address": ("地址", "Address"),
    "description": ("问题描述", "Description"),
    "source": ("来源", "Source"),
    "reporter_name": ("上报人", "Reporter"),
    "reporter_phone": ("联系电话", "Phone"),
}
#: Columns of :func:`cell_counts`.
CELL_COUNT_COLUMNS: tuple[str, ...] = ("cell", "grid_worker", "reports", "open", "overdue")
_YES_NO = {True: ("是", "yes"), False: ("否", "no")}


@dataclass(frozen=True)
class CommunityView:
    """What the community page shows, read in one go.

    Attributes
    ----------
    community : geopandas.GeoDataFrame
        The community's row (``id``, ``code``, ``name``, polygon).
    cells : pandas.DataFrame
        :func:`cell_counts` of its reports over its grid cells.
    reports : geopandas.GeoDataFrame
        Its reports as :func:`ledger_reports` gives them.
    """

    community: gpd.GeoDataFrame
    cells: pd.DataFrame
    reports: gpd.GeoDataFrame


def ledger_reports(
    reports: gpd.GeoDataFrame, grid_cells: pd.DataFrame, *, now: pd.Timestamp | None = None
) -> gpd.GeoDataFrame:
    """Reports with their grid cell, grid worker, and whether they are open and overdue.

    Parameters
    ----------
    reports : geopandas.GeoDataFrame
        As :func:`hotspot.store.frames.read_reports` returns them.
    grid_cells : pandas.DataFrame
        ``cell`` and ``grid_worker`` of (at least) the grid cells the reports fall in.
    now : pandas.Timestamp, optional
        The moment ``overdue`` is taken at; the current time when omitted.

    Returns
    -------
    geopandas.GeoDataFrame
        ``reports`` plus ``grid_cell`` (int64, the parent at :data:`geo.cells.GRID_RES`),
        ``grid_worker`` (None where the cell has none or is not in the grid),
        ``open`` (status in ``OPEN_STATUSES``) and ``overdue`` (open and ``due_at``
        before ``now``).
    """
    now = pd.Timestamp.now() if now is None else pd.Timestamp(now)
    out = reports.copy()
    out["grid_cell"] = cell_parents(out["cell"].to_numpy(dtype=np.int64), GRID_RES)
    workers = pd.Series(
        grid_cells["grid_worker"].to_numpy(dtype=object),
        index=grid_cells["cell"].to_numpy(dtype=np.int64),
    )
    worker = workers.reindex(out["grid_cell"].to_numpy()).to_numpy(dtype=object)
    out["grid_worker"] = np.where(pd.isna(worker), None, worker)
    out["open"] = out["status"].isin(OPEN_STATUSES).to_numpy(dtype=bool)
    out["overdue"] = out["open"].to_numpy() & (out["due_at"] < now).fillna(False).to_numpy(bool)
    return out


def cell_counts(reports: pd.DataFrame, grid_cells: pd.DataFrame) -> pd.DataFrame:
    """Reports, open and overdue reports per grid cell, empty cells included.

    Parameters
    ----------
    reports : pandas.DataFrame
        As :func:`ledger_reports` gives them.
    grid_cells : pandas.DataFrame
        The community's grid: ``cell`` and ``grid_worker``. A cell holding some of
        ``reports`` but not in the grid (a report on the community's edge, in a cell
        whose centre lies next door) is added, so the counts add up to the reports.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CELL_COUNT_COLUMNS` (``cell`` int64, counts int64), one row per
        cell, most reports first, then most open, then by cell.
    """
    flags = pd.DataFrame(
        {
            "cell": reports["grid_cell"].to_numpy(dtype=np.int64),
            "reports": np.ones(len(reports), dtype=np.int64),
            "open": reports["open"].to_numpy(dtype=np.int64),
            "overdue": reports["overdue"].to_numpy(dtype=np.int64),
        }
    )
    sums = flags.groupby("cell")[["reports", "open", "overdue"]].sum()
    grid = pd.DataFrame(
        {
            "cell": grid_cells["cell"].to_numpy(dtype=np.int64),
            "grid_worker": grid_cells["grid_worker"].to_numpy(dtype=object),
        }
    )
    outside = sums.index.difference(pd.Index(grid["cell"]))
    if len(outside):
        workers = (
            reports.drop_duplicates("grid_cell").set_index("grid_cell")["grid_worker"]
            if len(reports)
            else pd.Series(dtype=object)
        )
        extra = pd.DataFrame(
            {
                "cell": outside.to_numpy(dtype=np.int64),
                "grid_worker": workers.reindex(outside).to_numpy(dtype=object),
            }
        )
        grid = pd.concat([grid, extra], ignore_index=True)
    table = grid.join(sums, on="cell")
    for column in ("reports", "open", "overdue"):
        table[column] = table[column].fillna(0).astype(np.int64)
    workers = table["grid_worker"].to_numpy(dtype=object)
    table["grid_worker"] = pd.Series(
        np.where(pd.isna(workers), None, workers), index=table.index, dtype=object
    )
    table = table.sort_values(
        ["reports", "open", "cell"], ascending=[False, False, True], kind="stable"
    )
    return table[list(CELL_COUNT_COLUMNS)].reset_index(drop=True)


def _find_community(communities: gpd.GeoDataFrame, community: str | None) -> gpd.GeoDataFrame:
    """The row of a community given by code or name; ValueError when there is none.

    Without a name, the only community of ``communities`` (a community user's own).
    """
    if not community and len(communities) == 1:
        return communities.iloc[:1]
    if not community:
        raise ValueError("the ledger is per community: choose one")
    wanted = community.strip()
    row = communities[(communities["code"] == wanted) | (communities["name"] == wanted)]
    if row.empty:
        raise ValueError(f"no community {community!r}")
    return row.iloc[:1]


def read_community(
    engine: Engine, filters: ReportFilter, *, now: pd.Timestamp | None = None
) -> CommunityView:
    """A community's row, its grid cells with counts and its reports, reading reports once.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    filters : ReportFilter
        ``community`` (code or name) is required unless ``filters.scope`` holds one
        community (a community user's, the default then); the other fields select the
        reports. The scope narrows everything: a grid worker sees their own cells.
    now : pandas.Timestamp, optional
        The moment ``overdue`` is taken at; the current time when omitted.

    Returns
    -------
    CommunityView

    Raises
    ------
    ValueError
        When ``filters.community`` is empty or names no community in the scope.
    """
    scope = filters.scope
    community = _find_community(read_communities(engine, scope), filters.community)
    code = str(community["code"].iloc[0])
    grid = read_grid_cells(engine, scope=scope)
    reports = read_reports(engine, dataclasses.replace(filters, community=code))
    reports = ledger_reports(reports, grid, now=now)
    own = grid[grid["community_id"] == int(community["id"].iloc[0])]
    return CommunityView(
        community=community.reset_index(drop=True),
        cells=cell_counts(reports, own),
        reports=reports,
    )


def filter_ledger(
    reports: pd.DataFrame, *, statuses: tuple[str, ...] = (), search: str = ""
) -> pd.DataFrame:
    """The ledger rows with one of ``statuses`` whose address or description has every word.

    Parameters
    ----------
    reports : pandas.DataFrame
        With ``status``, ``address`` and ``description``.
    statuses : tuple of str, default ()
        Status codes to keep; all when empty.
    search : str, default ""
        Words separated by whitespace; a row is kept when each word appears (case
        ignored, taken literally) in its address or its description.

    Returns
    -------
    pandas.DataFrame
        The matching rows of ``reports``, in their order.
    """
    keep = np.ones(len(reports), dtype=bool)
    if statuses:
        keep &= reports["status"].isin(statuses).to_numpy(dtype=bool)
    words = search.split()
    if words:
        text = (
            reports["address"].astype("string").fillna("")
            + "\n"
            + reports["description"].astype("string").fillna("")
        )
        for word in words:
            keep &= text.str.contains(word, case=False, regex=False).to_numpy(dtype=bool)
    return reports[keep]


def community_ledger(
    engine: Engine, filters: ReportFilter, *, search: str = "", now: pd.Timestamp | None = None
) -> gpd.GeoDataFrame:
    """A community's ledger: its reports matching ``filters`` (statuses too) and ``search``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    filters : ReportFilter
        ``community`` as in :func:`read_community`; ``statuses`` keeps those statuses;
        ``scope`` narrows it to the viewer's part and masks as the viewer may see.
    search : str, default ""
        Words to find in the address or description (see :func:`filter_ledger`).
    now : pandas.Timestamp, optional
        The moment ``overdue`` is taken at.

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`ledger_reports` gives them, ordered by id.
    """
    reports = read_community(engine, filters, now=now).reports
    return filter_ledger(reports, search=search)


def ledger_table(reports: pd.DataFrame, *, lang: str = "zh") -> pd.DataFrame:
    """The ledger as people read it: names for codes, headers in ``lang``.

    Reporter names and phones are shown as read: the store masks them when the reports
    are read for a scope that may not see them (:func:`hotspot.store.frames.read_reports`),
    and masking twice would change them (138****5678 -> ****5678).

    Parameters
    ----------
    reports : pandas.DataFrame
        As :func:`ledger_reports` gives them.
    lang : {"zh", "en"}, default "zh"
        Language of the headers, categories, statuses, sources and yes/no.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`LEDGER_COLUMNS`, headed in ``lang``; the cell as its H3
        string; times as datetimes.
    """
    i18n = 1 if lang == "en" else 0
    category_names = load_categories()["name_en" if i18n else "name_zh"]
    status_names = {code: names[i18n] for code, names in STATUS_NAMES.items()}
    source_names = {code: names[i18n] for code, names in SOURCES.items()}
    codes = reports["category"].to_numpy(dtype=object)
    categories = category_names.reindex(codes).to_numpy(dtype=object)
    columns = {
        "id": reports["id"].to_numpy(),
        "external_id": reports["external_id"].to_numpy(dtype=object),
        "category": np.where(pd.isna(categories), codes, categories),
        "status": reports["status"].map(status_names).fillna(reports["status"]).to_numpy(),
        "reported_at": reports["reported_at"].to_numpy(),
        "due_at": reports["due_at"].to_numpy(),
        "overdue": np.where(
            reports["overdue"].to_numpy(dtype=bool), _YES_NO[True][i18n], _YES_NO[False][i18n]
        ),
        "grid_cell": cells_to_strings(reports["grid_cell"].to_numpy(dtype=np.int64)),
        "grid_worker": reports["grid_worker"].to_numpy(dtype=object),
        "address": reports["address"].to_numpy(dtype=object),
        "description": reports["description"].to_numpy(dtype=object),
        "source": reports["source"].map(source_names).fillna(reports["source"]).to_numpy(),
        "reporter_name": reports["reporter_name"].to_numpy(dtype=object),
        "reporter_phone": reports["reporter_phone"].to_numpy(dtype=object),
    }
    return pd.DataFrame({LEDGER_COLUMNS[key][i18n]: values for key, values in columns.items()})


def ledger_csv(table: pd.DataFrame, *, notice: str | None = None) -> bytes:
    """A ledger table as CSV bytes that Excel opens in Chinese: UTF-8 with a BOM.

    Cells a spreadsheet would run as formulas (starting ``=``, ``+``, ``-``, ``@``)
    are neutralised as the report export does; times are written to the minute.

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`ledger_table` gives it, of reports read for the viewer's scope (so
        in scope and masked as the scope requires).
    notice : str, optional
        A data notice (the demo's) added as a last column.

    Returns
    -------
    bytes
    """
    plain = pd.DataFrame(index=table.index)
    for column in table.columns:
        values = table[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            values = values.dt.strftime("%Y-%m-%d %H:%M")
        plain[column] = values.astype(object).where(values.notna(), None)
    plain = neutralise_formulas(plain)
    if notice:
        plain["data_notice"] = notice
    return plain.to_csv(index=False).encode("utf-8-sig")
