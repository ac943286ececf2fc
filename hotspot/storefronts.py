"""门前三包 compliance: each storefront zone's agreement, latest patrol and violations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from hotspot.filters import EVERYTHING, ReportFilter, Scope
from hotspot.store import frames, schema
from hotspot.store.frames import read_communities, read_grid_cells, read_zones

__all__ = [
    "COMPLIANCE_CLASSES",
    "LICENCE_NAMES",
    "PATROL_DAYS",
    "VIOLATION_COLUMNS",
    "ZONE_TABLE_COLUMNS",
    "StorefrontView",
    "class_counts",
    "rank_zones",
    "read_last_patrols",
    "read_storefronts",
    "read_violations",
    "violation_reports",
    "worst_zones",
    "zone_compliance",
    "zone_table",
]

#: A zone must be patrolled at least this often (每月至少巡查 1 次, seed 000 附件1 item 8):
#: the last patrol at most this many days before the day the state is taken.
PATROL_DAYS = 31

#: Compliance classes by number of lapses (no agreement, no recent patrol, violations):
#: code -> (Chinese, English), from best to worst.
COMPLIANCE_CLASSES: dict[str, tuple[str, str]] = {
    "compliant": ("达标", "Compliant"),
    "one_lapse": ("一项未达标", "One lapse"),
    "failing": ("两项及以上未达标", "Two or more lapses"),
}

#: Licence status (营业执照) code -> (Chinese, English).
LICENCE_NAMES: dict[str, tuple[str, str]] = {
    "valid": ("有效", "valid"),
    "expired": ("过期", "expired"),
    "none": ("无照", "none"),
}
#: Columns of :func:`zone_table`: key -> (Chinese header, English header).
ZONE_TABLE_COLUMNS: dict[str, tuple[str, str]] = {
    "shop_name": ("商户", "Shop"),
    "business_type": ("业态", "Type"),
    "address": ("地址", "Address"),
    "community": ("社区", "Community"),
    "responsible_person": ("责任人", "Responsible"),
    "responsible_phone": ("联系电话", "Phone"),
    "licence_status": ("营业执照", "Licence"),
    "agreement_signed": ("责任书", "Agreement"),
    "last_patrol": ("最近巡查", "Last patrol"),
    "days_since_patrol": ("距今天数", "Days since patrol"),
    "violations": ("期内违规", "Violations"),
    "compliance": ("评定", "Rating"),
    "reasons": ("问题", "Lapses"),
}
_SIGNED_NAMES = {True: ("已签订", "signed"), False: ("未签订", "not signed")}


@dataclass(frozen=True)
class StorefrontView:
    """What the storefront page shows, read in one go.

    Attributes
    ----------
    communities : geopandas.GeoDataFrame
        The community chosen by the filters, or all of them.
    cells : pandas.DataFrame
        Their grid cells (``cell``, ``community_id``, ``grid_worker``).
    zones : geopandas.GeoDataFrame
        :func:`zone_compliance` of their zones.
    violations : geopandas.GeoDataFrame
        The reports counted as violations (see :func:`violation_reports`).
    """

    communities: gpd.GeoDataFrame
    cells: pd.DataFrame
    zones: gpd.GeoDataFrame
    violations: gpd.GeoDataFrame


def read_last_patrols(
    engine: Engine, *, until: dt.date | None = None, scope: Scope = EVERYTHING
) -> pd.DataFrame:
    """The latest patrol of each zone (in ``scope``) up to the end of ``until``.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    until : datetime.date, optional
        Patrols after this day are left out; none are when omitted.
    scope : Scope, optional
        Whose view: only the patrols of the scope's zones.

    Returns
    -------
    pandas.DataFrame
        ``zone_id`` (int64) and ``last_patrol`` (``datetime64``), one row per
        zone patrolled at least once.
    """
    table, zone = schema.patrol, schema.storefront_zone
    statement = select(table.c.zone_id, func.max(table.c.patrolled_at).label("last_patrol"))
    if not scope.whole_town:
        statement = statement.select_from(table.join(zone, table.c.zone_id == zone.c.id))
        statement = statement.where(
            *frames.scope_conditions(scope, zone.c.community_id, zone.c.cell)
        )
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time())
        statement = statement.where(table.c.patrolled_at < end)
    statement = statement.group_by(table.c.zone_id)
    with engine.connect() as conn:
        rows = conn.execute(statement).fetchall()
    frame = pd.DataFrame(rows, columns=["zone_id", "last_patrol"])
    frame["zone_id"] = frame["zone_id"].astype(np.int64)
    # SQLite's max() returns the stored text, not a datetime
    frame["last_patrol"] = pd.to_datetime(frame["last_patrol"]).astype("datetime64[us]")
    return frame


def violation_reports(reports: pd.DataFrame) -> pd.DataFrame:
    """The reports that count against a zone: inside one, not rejected, not a duplicate.

    Parameters
    ----------
    reports : pandas.DataFrame
        With ``zone_id``, ``status`` and ``duplicate_of``, as
        :func:`hotspot.store.frames.read_reports` returns them.

    Returns
    -------
    pandas.DataFrame
        The rows with ``zone_id`` set, status other than ``rejected`` (不予立案) and
        no ``duplicate_of``.
    """
    keep = (
        reports["zone_id"].notna().to_numpy(dtype=bool)
        & (reports["status"] != "rejected").to_numpy(dtype=bool)
        & reports["duplicate_of"].isna().to_numpy(dtype=bool)
    )
    return reports[keep]


#: Report columns :func:`read_violations` reads: what the map and the counts use.
VIOLATION_COLUMNS = (
    "id",
    "category",
    "status",
    "address",
    "lng",
    "lat",
    "cell",
    "reported_at",
    "zone_id",
    "duplicate_of",
)


def read_violations(engine: Engine, filters: ReportFilter) -> gpd.GeoDataFrame:
    """The violations among the reports matching ``filters``, read in SQL (a fast read).

    The same rows as :func:`violation_reports` of
    :func:`hotspot.store.frames.read_reports`, but only those are read, and only
    :data:`VIOLATION_COLUMNS`: a year of the demo town holds some 17,000 reports,
    2,500 of them in a zone.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    filters : ReportFilter

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`VIOLATION_COLUMNS` plus ``community`` (code), ``category_name`` and
        ``layer``, ordered by id; geometry (point or footprint) in EPSG:4326.
    """
    report = schema.report
    violations = [
        report.c.zone_id.is_not(None),
        report.c.status != "rejected",
        report.c.duplicate_of.is_(None),
    ]
    columns = [*VIOLATION_COLUMNS, "geom"]
    return frames.read_reports(engine, filters, columns=columns, where=violations)


def _reasons(
    signed: np.ndarray,
    never: np.ndarray,
    late: np.ndarray,
    days: np.ndarray,
    violations: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The lapses of each zone in words, Chinese and English, separated by semicolons."""
    day_text = pd.Series(np.nan_to_num(days, nan=0.0).astype(np.int64)).astype(str).to_numpy()
    count_text = pd.Series(violations).astype(str).to_numpy()
    bad = violations > 0
    zh = (
        np.where(~signed, "未签订门前三包责任书；", "").astype(object)
        + np.where(never, "从未巡查；", "").astype(object)
        + np.where(late, day_text.astype(object) + "天未巡查；", "")
        + np.where(bad, "期内违规" + count_text.astype(object) + "起；", "")
    )
    en = (
        np.where(~signed, "no agreement signed; ", "").astype(object)
        + np.where(never, "never patrolled; ", "").astype(object)
        + np.where(late, "not patrolled for " + day_text.astype(object) + " days; ", "")
        + np.where(bad, count_text.astype(object) + " violation(s) in the period; ", "")
    )
    zh = pd.Series(zh, dtype=object).str.removesuffix("；").to_numpy(dtype=object)
    en = pd.Series(en, dtype=object).str.removesuffix("; ").to_numpy(dtype=object)
    return zh, en


def zone_compliance(
    zones: gpd.GeoDataFrame,
    last_patrols: pd.DataFrame,
    violations: pd.DataFrame,
    *,
    as_of: dt.date,
) -> gpd.GeoDataFrame:
    """Each zone's compliance: agreement signed, patrolled within 31 days, no violations.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame
        As :func:`hotspot.store.frames.read_zones` returns them.
    last_patrols : pandas.DataFrame
        ``zone_id`` and ``last_patrol``, as :func:`read_last_patrols` returns them.
    violations : pandas.DataFrame
        The violation reports (``zone_id``), as :func:`violation_reports` returns them.
    as_of : datetime.date
        The day the patrol state is taken on: a zone is patrolled recently when its
        last patrol was at most :data:`PATROL_DAYS` days before (30 or 31 days ago
        passes, 32 does not; by calendar day).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per zone, in the order of ``zones``, with the zone's columns plus
        ``last_patrol`` (NaT when never), ``days_since_patrol`` (float, NaN when
        never), ``patrolled_recently`` (bool), ``violations`` (int64), ``lapses``
        (0 to 3: no agreement, no recent patrol, any violation), ``compliance``
        (a key of :data:`COMPLIANCE_CLASSES`: 0 lapses compliant, 1 one_lapse, 2 or
        more failing) and ``reasons_zh`` / ``reasons_en`` (the lapses in words;
        empty when compliant).
    """
    out = zones.copy()
    ids = out["id"].to_numpy(dtype=np.int64)
    last = pd.Series(
        last_patrols["last_patrol"].to_numpy(), index=last_patrols["zone_id"].to_numpy(np.int64)
    )
    out["last_patrol"] = pd.to_datetime(last.reindex(ids).to_numpy())
    patrol_day = out["last_patrol"].dt.normalize()
    days = ((pd.Timestamp(as_of) - patrol_day) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    never = np.isnan(days)
    recent = ~never & (days <= PATROL_DAYS)
    counts = pd.Series(violations["zone_id"].to_numpy(dtype=np.int64)).value_counts()
    violation_counts = counts.reindex(ids, fill_value=0).to_numpy(dtype=np.int64)
    signed = out["agreement_signed"].fillna(False).to_numpy(dtype=bool)
    lapses = (~signed).astype(np.int64) + (~recent).astype(np.int64) + (violation_counts > 0)
    out["days_since_patrol"] = days
    out["patrolled_recently"] = recent
    out["violations"] = violation_counts
    out["lapses"] = lapses.astype(np.int64)
    classes = np.array(list(COMPLIANCE_CLASSES), dtype=object)
    out["compliance"] = classes[np.minimum(lapses, 2)]
    out["reasons_zh"], out["reasons_en"] = _reasons(
        signed, never, ~never & ~recent, days, violation_counts
    )
    return out


def read_storefronts(
    engine: Engine, filters: ReportFilter, *, today: dt.date | None = None
) -> StorefrontView:
    """The zones of the filtered community (or all) with their compliance, reading once.

    Parameters
    ----------
    engine : sqlalchemy.Engine
    filters : ReportFilter
        ``community`` narrows the zones; the period, layers and categories select
        the reports counted as violations; ``scope`` narrows all of it to the viewer's
        part (and masks the responsible persons unless the viewer may see them).
    today : datetime.date, optional
        The patrol state is taken on ``filters.until`` but not after ``today``
        (the current date when omitted).

    Returns
    -------
    StorefrontView
        Zones in id order with the columns of :func:`zone_compliance` and
        ``community`` (the code).
    """
    today = today or dt.date.today()
    as_of = min(filters.until or today, today)
    scope = filters.scope
    communities = read_communities(engine, scope)
    if filters.community:
        wanted = filters.community.strip()
        communities = communities[
            (communities["code"] == wanted) | (communities["name"] == wanted)
        ].reset_index(drop=True)
    ids = communities["id"].to_numpy(dtype=np.int64)
    cells = read_grid_cells(engine, scope=scope)
    cells = cells[cells["community_id"].isin(ids)].reset_index(drop=True)
    zones = read_zones(engine, scope)
    if filters.community:
        zones = zones[zones["community_id"].isin(ids)]
    zones = zones.reset_index(drop=True)
    codes = pd.Series(communities["code"].to_numpy(), index=ids)
    zones["community"] = codes.reindex(zones["community_id"].to_numpy()).to_numpy(dtype=object)
    violations = read_violations(engine, filters)
    violations = violations[violations["zone_id"].isin(zones["id"]).to_numpy(dtype=bool)]
    compliance = zone_compliance(
        zones, read_last_patrols(engine, until=as_of, scope=scope), violations, as_of=as_of
    )
    return StorefrontView(communities, cells, compliance, violations)


def class_counts(zones: pd.DataFrame) -> pd.Series:
    """Zones per compliance class, every class present, in :data:`COMPLIANCE_CLASSES` order."""
    counts = zones["compliance"].value_counts().reindex(list(COMPLIANCE_CLASSES), fill_value=0)
    return counts.astype(np.int64)


def rank_zones(zones: pd.DataFrame) -> pd.DataFrame:
    """Zones worst first: most violations, then longest since a patrol (never first).

    Parameters
    ----------
    zones : pandas.DataFrame
        As :func:`zone_compliance` returns them.

    Returns
    -------
    pandas.DataFrame
        The rows of ``zones``, reordered; ties broken by more lapses, then by id.
    """
    order = pd.DataFrame(
        {
            "violations": zones["violations"].to_numpy(),
            "days": np.nan_to_num(zones["days_since_patrol"].to_numpy(float), nan=np.inf),
            "lapses": zones["lapses"].to_numpy(),
            "id": zones["id"].to_numpy(),
        }
    ).sort_values(
        ["violations", "days", "lapses", "id"], ascending=[False, False, False, True], kind="stable"
    )
    return zones.iloc[order.index.to_numpy()]


def worst_zones(zones: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` worst shops, as :func:`rank_zones` orders them, among those with a lapse.

    Parameters
    ----------
    zones : pandas.DataFrame
        As :func:`zone_compliance` returns them.
    n : int, default 10

    Returns
    -------
    pandas.DataFrame
        At most ``n`` zones with at least one lapse, worst first.
    """
    ranked = rank_zones(zones)
    return ranked[ranked["lapses"].to_numpy() > 0].head(n)


def zone_table(
    zones: pd.DataFrame,
    *,
    lang: str = "zh",
    community_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Zones as people read them: headers and words in ``lang``.

    The responsible person and phone are shown as read: the store masks them when the
    zones are read for a scope that may not see them
    (:func:`hotspot.store.frames.read_zones`); masking twice would change them.

    Parameters
    ----------
    zones : pandas.DataFrame
        As :func:`zone_compliance` (with ``community``) returns them.
    lang : {"zh", "en"}, default "zh"
    community_names : mapping of str to str, optional
        Community code -> name; codes are shown when omitted.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`ZONE_TABLE_COLUMNS`, headed in ``lang``, rows in the
        order of ``zones``; days since patrol as a nullable integer.
    """
    i18n = 1 if lang == "en" else 0
    community = zones["community"]
    if community_names is not None:
        community = community.map(dict(community_names)).fillna(community)
    signed = zones["agreement_signed"].fillna(False).to_numpy(dtype=bool)
    licence = {code: names[i18n] for code, names in LICENCE_NAMES.items()}
    classes = {code: names[i18n] for code, names in COMPLIANCE_CLASSES.items()}
    columns = {
        "shop_name": zones["shop_name"].to_numpy(dtype=object),
        "business_type": zones["business_type"].to_numpy(dtype=object),
        "address": zones["address"].to_numpy(dtype=object),
        "community": community.to_numpy(dtype=object),
        "responsible_person": zones["responsible_person"].to_numpy(dtype=object),
        "responsible_phone": zones["responsible_phone"].to_numpy(dtype=object),
        "licence_status": zones["licence_status"]
        .map(licence)
        .fillna(zones["licence_status"])
        .to_numpy(dtype=object),
        "agreement_signed": np.where(signed, _SIGNED_NAMES[True][i18n], _SIGNED_NAMES[False][i18n]),
        "last_patrol": zones["last_patrol"].to_numpy(),
        "days_since_patrol": pd.array(zones["days_since_patrol"].round(), dtype="Int64"),
        "violations": zones["violations"].to_numpy(dtype=np.int64),
        "compliance": zones["compliance"].map(classes).to_numpy(dtype=object),
        "reasons": zones["reasons_en" if i18n else "reasons_zh"].to_numpy(dtype=object),
    }
    return pd.DataFrame({ZONE_TABLE_COLUMNS[key][i18n]: values for key, values in columns.items()})
