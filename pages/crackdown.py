"""集中整治: significant hotspot clusters, the plan to take away, operations and their effect."""

from __future__ import annotations

import datetime as dt

import altair as alt
import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st
from streamlit_folium import st_folium

from hotspot import operations
from hotspot.analysis import PLAN_COLUMNS, plan_table
from hotspot.errors import UserError
from hotspot.filters import ReportFilter, Scope
from hotspot.intake.export import DEMO_NOTICE
from hotspot.plan_export import cluster_cells, plan_svg, plan_workbook, print_streets
from hotspot.taxonomy import LAYER_NAMES, load_categories
from layers.clusters import clusters_layer
from layers.hotmap import build_map
from pages._shared import (
    DATA_TTL,
    audit_export,
    community_options,
    current_filter,
    current_user,
    get_engine,
    is_demo,
    lang,
    load_map_data,
    map_options,
    store_url,
    t,
)

filters = current_filter()
url = store_url()

#: Categories named per cluster in the plan table.
PLAN_TOP = 5
#: Session-state key of the clusters chosen for the plan.
SELECTED_KEY = "crackdown_selected"
#: Session-state key of the (url, filters) the selection was made under.
SELECTED_FOR_KEY = "crackdown_selected_for"
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Categories named in the before/after charts (the most reported); the table lists all.
CHART_CATEGORIES = 8
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@st.cache_data(ttl=DATA_TTL, show_spinner="正在识别显著热点点位…")
def load_plan(url: str, filters: ReportFilter) -> pd.DataFrame:
    """The crackdown clusters for the filters (none when the study area has no cell).

    With a community chosen, the study area is that community, so that its cells are
    compared with each other rather than with the empty rest of the town.
    """
    area = None
    if filters.community:  # compare the community's cells with each other, not with zeros
        communities = load_map_data(url, filters).communities
        area = shapely.union_all(
            communities.geometry[communities["code"] == filters.community].to_numpy()
        )
        if area.is_empty:
            area = None
    try:
        return plan_table(get_engine(url), filters, top=PLAN_TOP, area=area)
    except UserError:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PLAN_COLUMNS})


@st.cache_data(ttl=DATA_TTL, show_spinner=False)
def load_streets(url: str, scope: Scope) -> gpd.GeoDataFrame:
    """Streets for the printable map (in the viewer's scope)."""
    return print_streets(get_engine(url), scope=scope)


@st.cache_data(ttl=DATA_TTL, show_spinner=False)
def load_operations(url: str, scope: Scope) -> pd.DataFrame:
    """Recorded operations in the viewer's scope, the latest first."""
    return operations.list_operations(get_engine(url), scope=scope)


@st.cache_data(ttl=DATA_TTL, show_spinner="正在比较行动前后…")
def load_effect(
    url: str, operation_id: int, weeks: int, scope: Scope
) -> tuple[operations.OperationEffect | None, str]:
    """The before/after effect of an operation (in the viewer's scope), or why there is none."""
    try:
        effect = operations.operation_effect(
            get_engine(url), operation_id, weeks=weeks, scope=scope
        )
    except UserError as exc:
        return None, str(exc)
    return effect, ""


def period_text(filters: ReportFilter) -> str:
    """The filters' period in words, for the plan files."""
    until = filters.until or dt.date.today()
    return f"{filters.since} 至 {until}" if filters.since else f"全部（至 {until}）"


def scope_text(url: str, filters: ReportFilter) -> str:
    """The filters' layers, categories and community in words, for the plan files."""
    parts = []
    if filters.categories:
        names = load_categories()["name_zh"]
        parts.append("、".join(names.get(c, c) for c in filters.categories))
    elif set(filters.layers) != set(LAYER_NAMES):
        parts.append("、".join(LAYER_NAMES[layer][0] for layer in filters.layers))
    if filters.community:
        names = community_options(url, filters.scope)
        parts.append(names.get(filters.community, filters.community))
    return "；".join(parts)


@st.cache_data(ttl=DATA_TTL, show_spinner="正在生成计划文件…")
def plan_files(url: str, filters: ReportFilter, ranks: tuple[int, ...]) -> tuple[bytes, str]:
    """The plan workbook and the printable map of the chosen clusters."""
    plan = load_plan(url, filters)
    chosen = plan[plan["cluster"].isin(ranks)]
    data = load_map_data(url, filters)
    notice = DEMO_NOTICE if is_demo(url) else None
    period = period_text(filters)
    workbook = plan_workbook(
        chosen,
        data.reports,
        period=period,
        scope=scope_text(url, filters),
        notice=notice,
        community_names=community_options(url, filters.scope),
    )
    svg = plan_svg(
        data.communities,
        chosen,
        streets=load_streets(url, filters.scope),
        period=period,
        notice=notice,
    )
    return workbook, svg


def window_text(plan: pd.DataFrame) -> list[str]:
    """The suggested windows in the UI language."""
    if lang() != "en":
        return plan["window"].fillna("").tolist()
    return [
        f"{WEEKDAYS_EN[int(d)]} {int(h):02d}:00-{int(h) + 2:02d}:00" if int(d) >= 0 else ""
        for d, h in zip(plan["window_weekday"], plan["window_hour"], strict=True)
    ]


def plan_display(plan: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The clusters as a table for people, with the time profiles as small bar charts."""
    hours, weekdays = t("时段分布(0-23时)", "By hour"), t("星期分布(一至日)", "By weekday")
    table = pd.DataFrame(
        {
            t("排名", "Rank"): plan["cluster"].astype(int),
            t("社区", "Community"): plan["community_name"],
            t("问题数", "Reports"): plan["n_reports"].astype(int),
            t("主要问题(件数)", "Top categories"): plan["top_categories"],
            t("门前三包商户", "Shops"): plan["n_shops"].astype(int),
            t("涉及商户(问题数)", "Shops with reports"): plan["shops"],
            t("建议执法时段", "Suggested window"): window_text(plan),
            hours: [[int(v) for v in s.split(",")] for s in plan["hours"]],
            weekdays: [[int(v) for v in s.split(",")] for s in plan["weekdays"]],
            t("网格单元数", "Cells"): plan["n_cells"].astype(int),
            t("面积(公顷)", "Area (ha)"): (plan["area_m2"].astype(float) / 10_000).round(1),
            t("强度(Σz)", "Strength (Σz)"): plan["strength"].astype(float),
        }
    )
    config = {
        hours: st.column_config.BarChartColumn(hours, y_min=0, width="medium"),
        weekdays: st.column_config.BarChartColumn(weekdays, y_min=0, width="small"),
    }
    return table, config


def default_categories(filters: ReportFilter) -> list[str]:
    """The categories an operation targets unless changed: those the sidebar narrowed to."""
    if filters.categories:
        return list(filters.categories)
    if set(filters.layers) == set(LAYER_NAMES):
        return []
    catalogue = load_categories()
    return catalogue.index[catalogue["layer"].isin(filters.layers)].tolist()


# --- the clusters ---------------------------------------------------------------------

st.header(t("集中整治", "Crackdown planning"))
st.caption(
    t(
        "整治点位是显著热点（Getis-Ord Gi*，95% 置信度以上，网格约 0.1 平方千米）连成的片区，"
        "按强度排名；建议时段是问题最多的星期与连续两小时。",
        "Clusters are connected significant hot cells (Getis-Ord Gi*, 95% confidence and up, "
        "cells of about 0.1 km²), ranked by strength; the suggested window is the weekday and "
        "two hours with the most reports.",
    )
)
data = load_map_data(url, filters)
plan = load_plan(url, filters)
ranks = plan["cluster"].astype(int).tolist()
# Ranks are per filter: another period or layer ranks other clusters, so start afresh.
if st.session_state.get(SELECTED_FOR_KEY) != (url, filters):
    st.session_state[SELECTED_FOR_KEY] = (url, filters)
    st.session_state[SELECTED_KEY] = []
st.session_state[SELECTED_KEY] = [r for r in st.session_state.get(SELECTED_KEY, []) if r in ranks]

if plan.empty:
    st.info(
        t(
            "当前时段和类别下没有显著的热点点位。可延长时间范围或选择更多图层。",
            "No significant hotspot cluster for these filters. Try a longer period or more layers.",
        )
    )
else:
    names = dict(zip(ranks, plan["community_name"].fillna("").tolist(), strict=True))
    counts = dict(zip(ranks, plan["n_reports"].astype(int).tolist(), strict=True))
    selected = st.multiselect(
        t("选择整治点位", "Choose clusters for the plan"),
        ranks,
        format_func=lambda r: t(
            f"#{r} {names[r]}（{counts[r]} 件）", f"#{r} {names[r]} ({counts[r]} reports)"
        ),
        key=SELECTED_KEY,
        placeholder=t("在表中查看后选择点位", "Pick clusters from the table"),
    )
    layer = clusters_layer(
        plan, selected=selected, name=t("整治点位", "Crackdown clusters"), lang=lang()
    )
    fmap = build_map(
        data.communities,
        data.cells["cell"],
        data.reports,
        list(filters.layers),
        # No report points (nor heat map): the clusters are the subject here.
        options=map_options(max_points=0),
        extra=[layer],
    )
    st_folium(fmap, key="crackdown_map", height=560, use_container_width=True, returned_objects=[])
    st.caption(
        t(
            "紫色轮廓为整治点位，数字为排名，选中的点位填充显示；网格可在侧栏改按热点（Gi*）着色。"
            "问题点位见「问题地图」页。",
            "Purple outlines are the clusters with their rank, chosen ones filled; the sidebar "
            "colours the cells by Gi* hotspots. The reports themselves are on the Issue map page.",
        )
    )
    table, config = plan_display(plan)
    st.dataframe(table, hide_index=True, column_config=config)

selected = st.session_state.get(SELECTED_KEY, [])
chosen = plan[plan["cluster"].isin(selected)]

# --- the plan to take away ------------------------------------------------------------

today = dt.date.today().isoformat()
if selected:
    workbook, svg = plan_files(url, filters, tuple(sorted(selected)))
else:
    workbook, svg = b"", ""
plan_name = t(f"集中整治计划_{today}.xlsx", f"crackdown-plan_{today}.xlsx")
map_name = t(f"集中整治点位图_{today}.svg", f"crackdown-map_{today}.svg")
clusters_text = "clusters " + ",".join(str(rank) for rank in sorted(selected))
left, right = st.columns(2)
left.download_button(
    t("下载整治计划（Excel）", "Download the plan (Excel)"),
    data=workbook,
    file_name=plan_name,
    mime=XLSX_MIME,
    disabled=not selected,
    on_click=audit_export,
    args=(plan_name, clusters_text),
    key="download_plan",
    icon=":material/table_view:",
)
right.download_button(
    t("下载点位图（可打印 SVG）", "Download the map (printable SVG)"),
    data=svg,
    file_name=map_name,
    mime="image/svg+xml",
    disabled=not selected,
    on_click=audit_export,
    args=(map_name, clusters_text),
    key="download_map",
    icon=":material/map:",
)
if not selected and not plan.empty:
    st.caption(t("选择点位后可下载计划和点位图。", "Choose clusters to download the plan and map."))

# --- recording an operation -----------------------------------------------------------

st.subheader(t("记录整治行动", "Record an operation"))
catalogue = load_categories()
name_column = "name_en" if lang() == "en" else "name_zh"
with st.form("record_operation", clear_on_submit=True):
    op_name = st.text_input(
        t("行动名称", "Name"),
        max_chars=100,
        placeholder=t("如：明德社区乱停车集中整治", "e.g. Parking crackdown, Mingde"),
        key="op_name",
    )
    first, last = st.columns(2)
    op_start = first.date_input(t("开始日期", "First day"), value=dt.date.today(), key="op_start")
    op_end = last.date_input(t("结束日期（可选）", "Last day (optional)"), value=None, key="op_end")
    op_categories = st.multiselect(
        t("整治问题类别（不选为全部）", "Categories targeted (none: all)"),
        catalogue.index.tolist(),
        default=default_categories(filters),
        format_func=lambda code: str(catalogue.at[code, name_column]),
        key="op_categories",
        placeholder=t("全部类别", "All categories"),
    )
    op_units = st.text_input(
        t("参与单位", "Units"),
        max_chars=200,
        placeholder=t("如：综合执法队、派出所、市场监管所", "e.g. enforcement team, police"),
        key="op_units",
    )
    op_note = st.text_area(t("备注", "Note"), key="op_note")
    submitted = st.form_submit_button(
        t(f"记录行动（{len(selected)} 个点位）", f"Record ({len(selected)} clusters)"),
        type="primary",
        disabled=not selected,
    )
if not selected:
    st.caption(t("先在上方选择行动覆盖的点位。", "Choose the clusters the operation covers first."))
if submitted and selected:
    if not op_name.strip():
        st.error(t("请填写行动名称。", "Give the operation a name."))
    else:
        cells = sorted({c for cells in cluster_cells(chosen) for c in cells.tolist()})
        try:
            operations.record_operation(
                get_engine(url),
                op_name,
                op_start,
                cells,
                categories=op_categories,
                ended_on=op_end,
                units=op_units,
                note=op_note,
                scope=filters.scope,
                actor=current_user().username,
            )
        except UserError as exc:
            st.error(str(exc))
        else:
            load_operations.clear()
            st.success(
                t(
                    f"已记录行动「{op_name.strip()}」（{len(cells)} 个网格单元）。",
                    f"Recorded “{op_name.strip()}” ({len(cells)} cells).",
                )
            )

# --- past operations and their effect -------------------------------------------------

st.subheader(t("以往行动效果", "Past operations"))
past = load_operations(url, filters.scope)
if past.empty:
    st.info(t("尚未记录整治行动。", "No operation recorded yet."))
    st.stop()


def category_names(codes: tuple[str, ...]) -> str:
    """Category codes as names in the UI language; all when none."""
    if not codes:
        return t("全部", "All")
    return "、".join(str(catalogue[name_column].get(c, c)) for c in codes)


st.dataframe(
    pd.DataFrame(
        {
            t("行动名称", "Name"): past["name"],
            t("开始日期", "First day"): past["started_on"].map(str),
            t("结束日期", "Last day"): past["ended_on"].map(lambda d: "" if d is None else str(d)),
            t("网格单元数", "Cells"): past["n_cells"].astype(int),
            t("整治类别", "Categories"): [category_names(c) for c in past["categories"]],
            t("参与单位", "Units"): past["units"].fillna(""),
            t("备注", "Note"): past["note"].fillna(""),
        }
    ),
    hide_index=True,
)


@st.fragment
def effect_view(url: str, past: pd.DataFrame, scope: Scope) -> None:
    """Pick a past operation and see its before/after; reruns only this part of the page."""
    labels = {
        i: f"{n}（{d}）"
        for i, n, d in zip(past["id"], past["name"], past["started_on"], strict=True)
    }
    pick, span = st.columns([3, 2])
    operation_id = pick.selectbox(
        t("查看行动效果", "Show the effect of"),
        past["id"].tolist(),
        format_func=labels.__getitem__,
        key="op_effect",
    )
    weeks = span.radio(
        t("前后对比周数", "Weeks before and after"), [2, 4, 8, 12], index=1, horizontal=True
    )
    effect, why = load_effect(url, int(operation_id), int(weeks), scope)
    if effect is None:
        st.info(t(f"暂无法比较：{why}", f"Nothing to compare yet: {why}"))
        return

    total = effect.total
    before_col, after_col, test_col = st.columns(3)
    before_col.metric(
        t("行动前 每周问题数", "Before: reports a week"),
        f"{total.per_week_before:.1f}",
        help=t(
            f"{total.before} 件 / {total.days_before} 天",
            f"{total.before} in {total.days_before} days",
        ),
    )
    change = f"{total.change:+.1f}" + (
        f" ({total.change_pct:+.0f}%)" if pd.notna(total.change_pct) else ""
    )
    after_col.metric(
        t("行动后 每周问题数", "After: reports a week"),
        f"{total.per_week_after:.1f}",
        delta=change,
        delta_color="inverse",
        help=t(
            f"{total.after} 件 / {total.days_after} 天（数据截至 {effect.data_until}）",
            f"{total.after} in {total.days_after} days (data until {effect.data_until})",
        ),
    )
    test_col.metric(
        t("变化是否显著", "Significant change"),
        t("显著", "Yes") if total.significant else t("不显著", "No"),
        help=t(
            f"泊松率精确检验 p = {total.p_value:.3g}（p < 0.05 为显著）",
            f"Exact Poisson rate test p = {total.p_value:.3g} (significant below 0.05)",
        ),
    )
    if total.days_after < 7 * weeks:
        st.caption(
            t(
                f"行动后目前只有 {total.days_after} 天的数据，结果会随新数据变化。",
                f"Only {total.days_after} days of data after the operation so far; "
                "the result will change as reports come in.",
            )
        )

    weekly = effect.weekly.copy()
    if not weekly.empty:
        weekly["week"] = pd.to_datetime(weekly["week"])
        weekly["end"] = weekly["week"] + pd.to_timedelta(weekly["days"].astype(int), unit="D")
        weekly["label"] = (
            weekly["category_name"]
            if lang() != "en"
            else catalogue["name_en"]
            .reindex(weekly["category"])
            .fillna(weekly["category"])
            .to_numpy()
        )
        # The most reported categories by name, the rest together: a legend of 30 is noise.
        totals = weekly.groupby("label")["n_reports"].sum().sort_values(ascending=False)
        if len(totals) > CHART_CATEGORIES:
            top = set(totals.index[: CHART_CATEGORIES - 1])
            weekly["label"] = weekly["label"].where(weekly["label"].isin(top), t("其他", "Other"))
            weekly = weekly.groupby(["week", "end", "label"], as_index=False)["n_reports"].sum()
        bars = (
            alt.Chart(weekly)
            .mark_bar(stroke="white", strokeWidth=1)
            .encode(
                x=alt.X("week:T", title=None, axis=alt.Axis(format="%m-%d")),
                x2="end:T",
                y=alt.Y("sum(n_reports):Q", title=t("每周问题数", "Reports a week")),
                color=alt.Color("label:N", title=t("类别", "Category")),
                tooltip=[
                    alt.Tooltip("week:T", title=t("周起始", "Week of"), format="%Y-%m-%d"),
                    alt.Tooltip("label:N", title=t("类别", "Category")),
                    alt.Tooltip("n_reports:Q", title=t("件数", "Reports")),
                ],
            )
        )
        start = pd.DataFrame({"day": [pd.Timestamp(effect.operation["started_on"])]})
        rule = (
            alt.Chart(start)
            .mark_rule(color="#c00000", strokeDash=[6, 4], size=2)
            .encode(x="day:T", tooltip=[alt.Tooltip("day:T", title=t("行动开始", "Start"))])
        )
        st.altair_chart(bars + rule, width="stretch")
        st.caption(t("红色虚线为行动开始日。", "The red dashed line is the operation's first day."))

    by_category = effect.by_category
    if not by_category.empty:
        category_labels = (
            by_category["category_name"]
            if lang() != "en"
            else catalogue["name_en"]
            .reindex(by_category["category"])
            .fillna(by_category["category"])
        ).to_numpy()
        before_label, after_label = t("行动前", "Before"), t("行动后", "After")
        busiest = (by_category["before"] + by_category["after"]).nlargest(CHART_CATEGORIES).index
        st.bar_chart(
            pd.DataFrame(
                {
                    t("类别", "Category"): category_labels,
                    before_label: by_category["per_week_before"].round(2),
                    after_label: by_category["per_week_after"].round(2),
                }
            ).loc[busiest.sort_values()],
            x=t("类别", "Category"),
            y=[before_label, after_label],
            y_label=t("每周问题数", "Reports a week"),
            horizontal=True,
            stack=False,
            color=["#9e9e9e", "#c00000"],
        )
        st.dataframe(
            pd.DataFrame(
                {
                    t("类别", "Category"): category_labels,
                    t("行动前件数", "Before"): by_category["before"].astype(int),
                    t("行动后件数", "After"): by_category["after"].astype(int),
                    t("行动前每周", "Before a week"): by_category["per_week_before"].round(2),
                    t("行动后每周", "After a week"): by_category["per_week_after"].round(2),
                    t("变化(件/周)", "Change a week"): by_category["change"].round(2),
                    t("变化率(%)", "Change (%)"): by_category["change_pct"].round(0),
                    t("p 值", "p"): by_category["p_value"].round(3),
                    t("显著", "Significant"): by_category["significant"],
                }
            ),
            hide_index=True,
        )


effect_view(url, past, filters.scope)
