"""问题上报: place a report by map click or coordinates, with photos; and bulk upload."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from hotspot import auth
from hotspot.errors import UserError
from hotspot.filters import ReportFilter, Scope
from hotspot.intake.export import neutralise_formulas
from hotspot.intake.importer import ImportResult, import_reports
from hotspot.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, PHOTO_TYPES, PhotoRejected, sanitise_name
from hotspot.reporting import (
    INPUT_CRS,
    Placement,
    ReportDraft,
    ReportRejected,
    create_report,
    import_in_child,
    place_point,
)
from hotspot.taxonomy import LAYER_NAMES, SOURCES, load_categories
from layers.hotmap import build_map
from pages._shared import (
    DATA_TTL,
    community_options,
    current_filter,
    current_scope,
    current_user,
    get_engine,
    lang,
    load_map_data,
    map_options,
    record_action,
    store_url,
    t,
)

#: File types the bulk upload offers (the importer decides what it can read).
BULK_TYPES = ["csv", "txt", "xlsx", "xlsm", "geojson", "json", "gpkg"]
CRS_NAMES: dict[str, tuple[str, str]] = {
    "wgs84": ("WGS84（GPS、天地图）", "WGS84 (GPS, Tianditu)"),
    "gcj02": ("GCJ-02（高德、腾讯）", "GCJ-02 (AMap, Tencent)"),
    "bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
    "cgcs2000": ("CGCS2000", "CGCS2000"),
}
FIELD_NAMES: dict[str, tuple[str, str]] = {
    "id": ("编号", "ID"),
    "category": ("问题类别", "Category"),
    "lng": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    "reported_at": ("发现时间", "Reported at"),
    "description": ("问题描述", "Description"),
    "source": ("来源", "Source"),
    "status": ("状态", "Status"),
    "address": ("地址", "Address"),
    "reporter_name": ("上报人", "Reporter"),
    "reporter_phone": ("联系电话", "Phone"),
    "due_at": ("整改期限", "Due"),
    "resolved_at": ("整改时间", "Resolved at"),
    "closed_at": ("结案时间", "Closed at"),
    "geometry": ("几何", "Geometry"),
}
#: The import's and the photo check's reasons (English) in Chinese.
REASONS_ZH: list[tuple[re.Pattern, str]] = [
    (re.compile(p), zh)
    for p, zh in (
        (r"^missing$", "缺失"),
        (r"^not a number$", "不是数字"),
        (r"^outside -180\.\.180$", "超出 -180～180"),
        (r"^outside -90\.\.90$", "超出 -90～90"),
        (
            r"^lng and lat look swapped \(lng (.+), lat (.+)\)$",
            r"经纬度疑似颠倒（经度 \1，纬度 \2）",
        ),
        (r"^cannot convert from (.+)$", r"无法从 \1 转换"),
        (r"^outside the service area by (.+) m$", r"超出服务范围 \1 米"),
        (r"^not a date$", "不是有效日期"),
        (r"^in the future$", "晚于当前时间"),
        (r"^unknown category; did you mean (.+)\?$", r"未知类别，是否为 \1？"),
        (r"^unknown category$", "未知类别"),
        (r"^unknown status$", "未知状态"),
        (r"^unknown source$", "未知来源"),
        (r"^longer than (\d+) characters$", r"超过 \1 个字符"),
        (r"^repeats the id of row (\d+)$", r"与第 \1 行编号重复"),
        (r"^empty file$", "空文件"),
        (r"^larger than (\d+) MB \((.+)\)$", r"超过 \1 MB（\2）"),
        (r"^not an image$", "不是图片"),
        (r"^not a JPEG, PNG or WebP image \((.+)\)$", r"不是 JPEG、PNG 或 WebP 图片（\1）"),
        (r"^too many pixels(.*)$", r"像素过多\1"),
        (r"^damaged image(.*)$", r"图片已损坏\1"),
        (r"^more than (\d+) photos$", r"超过 \1 张照片"),
    )
]

# Session-state keys of the one-report form.
MAP_KEY = "report_map"
CLICK_KEY = "report_click_seen"
CRS_KEY = "report_crs"
X_KEY = "report_x"
Y_KEY = "report_y"
LAYER_KEY = "report_layer"
CATEGORY_KEY = "report_category"
DATE_KEY = "report_date"
TIME_KEY = "report_time"
SOURCE_KEY = "report_source"
TEXT_KEYS = {
    "description": "report_description",
    "address": "report_address",
    "reporter_name": "report_reporter_name",
    "reporter_phone": "report_reporter_phone",
}
NONCE_KEY = "report_nonce"
RESULT_KEY = "report_result"
# Session-state keys of the bulk upload.
BULK_NONCE_KEY = "bulk_nonce"
BULK_CRS_KEY = "bulk_crs"
BULK_SKIP_KEY = "bulk_skip"
PREVIEW_KEY = "bulk_preview"
BULK_RESULT_KEY = "bulk_result"


def field_name(field: str) -> str:
    """A report field as people call it."""
    zh, en = FIELD_NAMES.get(field, (field, field))
    return t(zh, en)


def reason_text(reason: str) -> str:
    """A rejection reason in the UI language (the services give English)."""
    if lang() == "en":
        return reason
    for pattern, zh in REASONS_ZH:
        if pattern.match(reason):
            return pattern.sub(zh, reason)
    return reason


def problem_table(problems: pd.DataFrame) -> pd.DataFrame:
    """Rejections (``row`` optional, ``field``, ``value``, ``reason``) as a table for people."""
    table = {}
    if "row" in problems.columns:
        table[t("行号", "Row")] = problems["row"].to_numpy()
    table[t("字段", "Field")] = [field_name(str(f)) for f in problems["field"]]
    table[t("值", "Value")] = problems["value"].astype("string").fillna("").to_numpy()
    table[t("原因", "Reason")] = [reason_text(str(r)) for r in problems["reason"]]
    return pd.DataFrame(table)


@st.cache_data(ttl=DATA_TTL, show_spinner=False)
def locate(url: str, x: float, y: float, crs: str, scope: Scope) -> Placement:
    """Where typed or clicked coordinates fall for this viewer (cached: the form reruns often)."""
    return place_point(get_engine(url), x, y, crs, scope=scope)


def data_changed() -> None:
    """Forget every cached read, so that every page shows the new reports at once.

    The report-derived caches live in the pages (overview KPIs, community ledger,
    crackdown plans); the engine and the map assets (cache_resource) are kept.
    """
    st.cache_data.clear()


# --- one report -------------------------------------------------------------------------


def apply_click() -> None:
    """A new click on the map becomes the typed coordinates (WGS84), once per click."""
    clicked = (st.session_state.get(MAP_KEY) or {}).get("last_clicked")
    if not clicked or clicked == st.session_state.get(CLICK_KEY):
        return
    st.session_state[CLICK_KEY] = clicked
    st.session_state[CRS_KEY] = "wgs84"
    st.session_state[X_KEY] = round(float(clicked["lng"]), 6)
    st.session_state[Y_KEY] = round(float(clicked["lat"]), 6)


def chosen_point() -> Placement | None:
    """The placement of the coordinates in the form, if both are given."""
    x, y = st.session_state.get(X_KEY), st.session_state.get(Y_KEY)
    if x is None or y is None:
        return None
    crs = st.session_state.get(CRS_KEY, "wgs84")
    return locate(store_url(), float(x), float(y), crs, current_scope())


def point_marker(placement: Placement | None) -> folium.FeatureGroup:
    """The chosen point as a ringed marker (no images: nothing loads from the internet)."""
    group = folium.FeatureGroup(name=t("上报位置", "Report location"))
    if placement is not None and pd.notna(placement.lng) and pd.notna(placement.lat):
        folium.CircleMarker(
            location=[placement.lat, placement.lng],
            radius=9,
            color="#000000",
            weight=3,
            fill=True,
            fill_color="#ffeb3b",
            fill_opacity=0.95,
            tooltip=t("上报位置", "Report location"),
        ).add_to(group)
    return group


def show_placement(placement: Placement | None) -> None:
    """Say where the point falls, or why it cannot be used."""
    if placement is None:
        st.caption(t("点击地图或输入坐标以确定位置。", "Click the map or type coordinates."))
    elif placement.ok:
        where = placement.community_name or t("服务范围内", "inside the service area")
        st.success(
            t(
                f"位置：{where}（WGS84 {placement.lng:.6f}, {placement.lat:.6f}）",
                f"Location: {where} (WGS84 {placement.lng:.6f}, {placement.lat:.6f})",
            ),
            icon=":material/location_on:",
        )
    else:
        for problem in placement.problems.itertuples():
            st.warning(
                f"{field_name(problem.field)}{t('：', ': ')}{reason_text(problem.reason)}",
                icon=":material/wrong_location:",
            )


def category_picker() -> None:
    """The category, chosen within its map layer (layers in the map's order)."""
    i18n = 1 if lang() == "en" else 0
    categories = load_categories()
    layers = [layer for layer in LAYER_NAMES if (categories["layer"] == layer).any()]
    st.session_state.setdefault(LAYER_KEY, layers[0])
    layer = st.selectbox(
        t("图层", "Layer"),
        layers,
        format_func=lambda code: LAYER_NAMES[code][i18n],
        key=LAYER_KEY,
    )
    in_layer = list(categories.index[categories["layer"] == layer])
    if st.session_state.get(CATEGORY_KEY) not in in_layer:
        st.session_state[CATEGORY_KEY] = in_layer[0]
    names = categories["name_en" if i18n else "name_zh"]
    st.selectbox(
        t("问题类别", "Category"),
        in_layer,
        format_func=lambda code: str(names[code]),
        key=CATEGORY_KEY,
    )


def submit_report(url: str) -> None:
    """Store the report of the form (a button callback: it runs before the page is drawn)."""
    state = st.session_state
    now = dt.datetime.now()
    reported_at = dt.datetime.combine(
        state.get(DATE_KEY) or now.date(), state.get(TIME_KEY) or now.time()
    )
    draft = ReportDraft(
        category=state[CATEGORY_KEY],
        x=state.get(X_KEY),
        y=state.get(Y_KEY),
        crs=state.get(CRS_KEY, "wgs84"),
        reported_at=reported_at,
        source=state.get(SOURCE_KEY) or "",
        **{field: state.get(key) or "" for field, key in TEXT_KEYS.items()},
    )
    uploads = state.get(f"report_photos_{state.get(NONCE_KEY, 0)}") or []
    photos = [(upload.name, upload.getvalue()) for upload in uploads]
    note = "问题上报页面录入" + (f"，附照片 {len(photos)} 张" if photos else "")
    user = current_user()
    try:
        created = create_report(
            get_engine(url),
            draft,
            actor=user.username,
            photos=photos,
            note=note,
            scope=user.scope,
        )
    except ReportRejected as exc:
        state[RESULT_KEY] = ("rejected", exc.problems)
    except PhotoRejected as exc:
        state[RESULT_KEY] = ("photos", exc.reasons)
    except UserError as exc:
        state[RESULT_KEY] = ("error", str(exc))
    else:
        record_action("report_created", f"report {created.id}", note)
        state[RESULT_KEY] = ("created", created)
        for key in TEXT_KEYS.values():
            state[key] = ""
        state[X_KEY] = state[Y_KEY] = None
        for key in (DATE_KEY, TIME_KEY):  # the next report defaults to now again
            state.pop(key, None)
        state[NONCE_KEY] = state.get(NONCE_KEY, 0) + 1  # a fresh, empty photo picker
        data_changed()


def show_result(url: str) -> None:
    """The outcome of the last submit: the new report's id, or every reason it was refused."""
    outcome = st.session_state.get(RESULT_KEY)
    if outcome is None:
        return
    kind, detail = outcome
    if kind == "created":
        names = community_options(url, current_scope())
        community = names.get(detail.community, detail.community)
        st.success(
            t(
                f"已上报，问题编号 {detail.id}"
                + (f"（{community}）" if community else "")
                + f"，附照片 {detail.photos} 张。",
                f"Reported: issue no. {detail.id}"
                + (f" ({community})" if community else "")
                + f", {detail.photos} photo(s).",
            ),
            icon=":material/check_circle:",
        )
        if detail.duplicate_of is not None:
            st.info(
                t(
                    f"疑似重复：与 24 小时内附近的未结问题 {detail.duplicate_of} 相同。",
                    f"Possible duplicate of open issue {detail.duplicate_of} nearby.",
                )
            )
        if detail.relapse_of is not None:
            st.info(
                t(
                    f"反弹：附近的问题 {detail.relapse_of} 结案不久又出现。",
                    f"Relapse: issue {detail.relapse_of} nearby was closed recently.",
                )
            )
    elif kind == "rejected":
        st.error(t("未上报：请修正以下问题。", "Not reported: please fix these."))
        st.dataframe(problem_table(detail), hide_index=True)
    elif kind == "photos":
        colon = t("：", ": ")
        lines = "\n".join(f"- {name}{colon}{reason_text(reason)}" for name, reason in detail)
        st.error(
            t("未上报：以下照片不符合要求。", "Not reported: these photos are refused.")
            + "\n"
            + lines
        )
    else:
        st.error(detail)


def report_form(url: str) -> None:
    """Where (map click or coordinates), what, who and photos; then the submit button."""
    i18n = 1 if lang() == "en" else 0
    st.session_state.setdefault(CRS_KEY, "wgs84")
    st.selectbox(
        t("坐标系", "Coordinate system"),
        list(INPUT_CRS),
        format_func=lambda code: CRS_NAMES[code][i18n],
        key=CRS_KEY,
        help=t(
            "点击地图得到的是 WGS84 坐标；从高德、百度地图取得的坐标请选对应坐标系。",
            "A map click gives WGS84; pick AMap's or Baidu's system for their coordinates.",
        ),
    )
    left, right = st.columns(2)
    left.number_input(t("经度", "Longitude"), value=None, format="%.6f", step=1e-6, key=X_KEY)
    right.number_input(t("纬度", "Latitude"), value=None, format="%.6f", step=1e-6, key=Y_KEY)
    show_placement(chosen_point())
    category_picker()
    st.text_area(t("问题描述", "Description"), key=TEXT_KEYS["description"], max_chars=4000)
    st.text_input(t("地址", "Address"), key=TEXT_KEYS["address"], max_chars=200)
    when, at = st.columns(2)
    when.date_input(
        t("发现日期", "Date found"), value="today", max_value=dt.date.today(), key=DATE_KEY
    )
    at.time_input(t("发现时间", "Time found"), value="now", step=60, key=TIME_KEY)
    st.session_state.setdefault(SOURCE_KEY, "patrol")
    st.selectbox(
        t("来源", "Source"),
        list(SOURCES),
        format_func=lambda code: SOURCES[code][i18n],
        key=SOURCE_KEY,
    )
    name, phone = st.columns(2)
    name.text_input(t("上报人（选填）", "Reporter (optional)"), key=TEXT_KEYS["reporter_name"])
    phone.text_input(t("联系电话（选填）", "Phone (optional)"), key=TEXT_KEYS["reporter_phone"])
    st.caption(
        t(
            "上报人和电话仅授权人员可见完整信息，其他页面显示为脱敏形式。",
            "Reporter name and phone are shown masked except to authorised roles.",
        )
    )
    limit = MAX_PHOTO_BYTES // (1024 * 1024)
    uploads = st.file_uploader(
        t("照片（选填）", "Photos (optional)"),
        type=list(PHOTO_TYPES),
        accept_multiple_files=True,
        key=f"report_photos_{st.session_state.get(NONCE_KEY, 0)}",
        help=t(
            f"JPEG、PNG 或 WebP 图片，最多 {MAX_PHOTOS} 张，每张不超过 {limit} MB；"
            "保存时去除拍摄位置等元数据。",
            f"JPEG, PNG or WebP images, at most {MAX_PHOTOS}, each at most {limit} MB; "
            "stored without location and other metadata.",
        ),
    )
    too_many = len(uploads or []) > MAX_PHOTOS
    if too_many:
        st.warning(
            t(f"照片最多 {MAX_PHOTOS} 张。", f"At most {MAX_PHOTOS} photos."),
            icon=":material/photo_library:",
        )
    st.button(
        t("提交上报", "Submit report"),
        type="primary",
        key="report_submit",
        on_click=submit_report,
        args=(url,),
        disabled=too_many,
    )
    show_result(url)


def report_map(url: str, filters: ReportFilter, placement: Placement | None) -> None:
    """The reports of the sidebar's filters; a click places the report (marked in yellow)."""
    data = load_map_data(url, filters)
    layers = list(filters.layers)
    fmap = build_map(
        data.communities, data.cells["cell"], data.reports, layers, options=map_options()
    )
    st_folium(
        fmap,
        key=MAP_KEY,
        height=640,
        use_container_width=True,
        returned_objects=["last_clicked"],
        feature_group_to_add=point_marker(placement),
    )
    st.caption(t("点击地图选择问题位置。", "Click the map to place the report."))


# --- bulk upload ------------------------------------------------------------------------


def dry_run(url: str, name: str, data: bytes, crs: str) -> dict:
    """Check an uploaded file as the import would, writing nothing; keep none of it."""
    with tempfile.TemporaryDirectory(prefix="hotspot-upload-") as folder:
        path = Path(folder) / sanitise_name(name)
        path.write_bytes(data)
        try:
            result = import_reports(get_engine(url), path, crs=crs, dry_run=True, skip_invalid=True)
        except UserError as exc:
            return {"error": str(exc)}
        rejects = pd.DataFrame(columns=["row", "field", "value", "reason"])
        if result.rejects_file is not None:
            rejects = pd.read_csv(
                result.rejects_file, dtype=str, keep_default_na=False, encoding="utf-8-sig"
            )
            rows = pd.to_numeric(rejects["row"], errors="coerce")
            if rows.notna().all():
                rejects["row"] = rows.astype("int64")
    return {"result": result, "rejects": rejects}


def import_upload(url: str, upload_key: str) -> None:
    """Import the uploaded file (a button callback), then forget the file and the preview."""
    state = st.session_state
    upload = state.get(upload_key)
    if upload is None or not auth.may_import(current_user()):
        return
    with tempfile.TemporaryDirectory(prefix="hotspot-upload-") as folder:
        path = Path(folder) / sanitise_name(upload.name)
        path.write_bytes(upload.getvalue())
        try:
            result = import_in_child(
                url,
                path,
                crs=state.get(BULK_CRS_KEY, "wgs84"),
                skip_invalid=bool(state.get(BULK_SKIP_KEY)),
            )
        except UserError as exc:
            state[BULK_RESULT_KEY] = ("error", str(exc))
            return
    record_action(
        "import",
        sanitise_name(upload.name),
        f"{result.imported} imported, {result.rejected} rejected, {result.duplicates} duplicates",
    )
    state[BULK_RESULT_KEY] = ("imported", result)
    state.pop(PREVIEW_KEY, None)
    state[BULK_NONCE_KEY] = state.get(BULK_NONCE_KEY, 0) + 1
    data_changed()


def counts(result: ImportResult) -> None:
    """The dry run's or the import's numbers in a row of metrics."""
    columns = st.columns(5)
    columns[0].metric(t("数据行", "Rows"), f"{result.total:,}")
    columns[1].metric(t("可导入", "Valid"), f"{result.valid:,}")
    columns[2].metric(t("拒绝", "Rejected"), f"{result.rejected:,}")
    columns[3].metric(t("已导入过", "Already imported"), f"{result.already_imported:,}")
    columns[4].metric(t("疑似重复", "Duplicates"), f"{result.duplicates:,}")


def bulk_upload(url: str) -> None:
    """Upload a file, see its rejected rows and counts, then import it (or its good rows)."""
    st.caption(
        t(
            "支持 CSV、XLSX（如 12345 工单导出，中文表头自动识别）、GeoJSON、Open311 JSON "
            "和 GeoPackage。先检查，确认后再导入；上传的文件不会保留。",
            "CSV, XLSX (such as 12345 work-order exports; Chinese headers are recognised), "
            "GeoJSON, Open311 JSON and GeoPackage. The file is checked first and imported "
            "only when you confirm; it is not kept.",
        )
    )
    i18n = 1 if lang() == "en" else 0
    upload_key = f"bulk_file_{st.session_state.get(BULK_NONCE_KEY, 0)}"
    upload = st.file_uploader(t("上传文件", "Upload a file"), type=BULK_TYPES, key=upload_key)
    st.session_state.setdefault(BULK_CRS_KEY, "wgs84")
    crs = st.selectbox(
        t("文件坐标系", "Coordinate system of the file"),
        list(INPUT_CRS),
        format_func=lambda code: CRS_NAMES[code][i18n],
        key=BULK_CRS_KEY,
    )
    skip = st.checkbox(
        t("跳过无效行，导入其余行", "Skip invalid rows and import the rest"), key=BULK_SKIP_KEY
    )
    done = st.session_state.get(BULK_RESULT_KEY)
    if done is not None and upload is None:
        kind, detail = done
        if kind == "imported":
            st.success(
                t(
                    f"已导入 {detail.imported:,} 件，拒绝 {detail.rejected:,} 行，"
                    f"疑似重复 {detail.duplicates:,} 件。",
                    f"Imported {detail.imported:,}, rejected {detail.rejected:,}, "
                    f"duplicates {detail.duplicates:,}.",
                ),
                icon=":material/check_circle:",
            )
        else:
            st.error(detail)
    if upload is None:
        return
    st.session_state.pop(BULK_RESULT_KEY, None)
    key = (upload.file_id, crs)
    preview = st.session_state.get(PREVIEW_KEY)
    if preview is None or preview["key"] != key:
        with st.spinner(t("正在检查文件…", "Checking the file…")):
            preview = {"key": key, **dry_run(url, upload.name, upload.getvalue(), crs)}
        st.session_state[PREVIEW_KEY] = preview
    if "error" in preview:
        st.error(preview["error"])
        return
    result, rejects = preview["result"], preview["rejects"]
    st.subheader(t("检查结果（尚未导入）", "Check (nothing imported yet)"))
    counts(result)
    if len(rejects):
        st.markdown(
            t(
                f"**{result.rejected:,}** 行被拒绝（共 {len(rejects):,} 个问题）：",
                f"**{result.rejected:,}** rows rejected ({len(rejects):,} problems):",
            )
        )
        st.dataframe(problem_table(rejects), hide_index=True)
        st.download_button(
            t("下载被拒绝的行（CSV）", "Download the rejected rows (CSV)"),
            data=neutralise_formulas(rejects).to_csv(index=False).encode("utf-8-sig"),
            file_name=f"{sanitise_name(upload.name)}.rejects.csv",
            mime="text/csv",
            on_click="ignore",
        )
    blocked = result.valid == 0 or (result.rejected > 0 and not skip)
    if result.rejected and not skip:
        st.info(
            t(
                "文件中有无效行：修正后重新上传，或勾选“跳过无效行”只导入有效行。",
                "The file has invalid rows: fix and upload it again, or tick "
                "“Skip invalid rows” to import the valid ones only.",
            )
        )
    elif result.valid == 0:
        st.info(t("没有可导入的新行。", "No new rows to import."))
    st.button(
        t(f"导入 {result.valid:,} 件", f"Import {result.valid:,} reports"),
        type="primary",
        key="bulk_import",
        disabled=blocked,
        on_click=import_upload,
        args=(url, upload_key),
    )


# --- the page ---------------------------------------------------------------------------


def one_report(url: str, filters: ReportFilter) -> None:
    """The map and the form of one report."""
    apply_click()
    map_column, form_column = st.columns([3, 2])
    with form_column:
        report_form(url)
    with map_column:
        report_map(url, filters, chosen_point())


filters = current_filter()
st.header(t("问题上报", "Report an issue"))
url = store_url()
if auth.may_import(current_user()):  # a file may hold reports anywhere in the town
    one, bulk = st.tabs([t("单件上报", "One report"), t("批量导入", "Bulk upload")])
    with one:
        one_report(url, filters)
    with bulk:
        bulk_upload(url)
else:
    one_report(url, filters)
