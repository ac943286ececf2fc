"""The dashboard in a real headless Chromium, with every outside request blocked.

Starts ``hotspot serve`` (``streamlit run app.py``) on a free port against a prepared store
(with one account per role, see ``tests.app_store.ACCOUNTS``), signs in through the login
form and drives the pages with Playwright. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree

import openpyxl
import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect, sync_playwright

from hotspot.audit import read_audit
from hotspot.plan_export import CLUSTER_SHEET, REPORT_SHEET
from hotspot.store.engine import open_store
from layers.basemaps import AMAP
from layers.clusters import SELECTED_COLOR
from pages._session import TRUST_REMOTE_USER_ENV
from tests.app_store import (
    COMMUNITY_NAMES,
    PASSWORD,
    REPORT_MIX,
    plant_hotspot,
    prepare_store,
    town_reports,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
HEADLINE_ZH = ("僵尸车", "违法建设", "非法小广告")
ZOMBIE_REPORTS = REPORT_MIX["abandoned_vehicle"] + REPORT_MIX["abandoned_bicycle"]
MAP_FRAME = "iframe[title='streamlit_folium.st_folium']"
#: Report markers: circle markers with the white outline layers/reports.py gives them.
MARKERS = "path.leaflet-interactive[stroke='#ffffff']"
#: Tile hosts the map may try when a basemap is configured; blocking them is expected.
TILE_HOSTS = {"tile.openstreetmap.org", *AMAP.hosts}


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} not found (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {message}")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _health(base_url: str) -> str:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=5) as response:
            return response.read().decode()
    except OSError:
        return ""


@contextlib.contextmanager
def _serving(store_url: str, log_path: Path, **environ: str):
    """``hotspot serve`` on a free port against ``store_url``; yields the base URL.

    ``environ`` adds variables to the server's environment.
    """
    _require_chromium()
    env = {k: v for k, v in os.environ.items() if k not in {TRUST_REMOTE_USER_ENV}}
    env.update(HOTSPOT_DATABASE_URL=store_url, **environ)
    port = _free_port()
    command = [sys.executable, "-m", "hotspot.cli", "serve"]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*command, "--server.port", str(port), "--server.headless", "true"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while _health(base_url) != "ok":
                if process.poll() is not None:
                    pytest.fail(f"streamlit exited early:\n{log_path.read_text()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit not healthy in 120 s:\n{log_path.read_text()}")
                time.sleep(0.5)
            yield base_url
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="module")
def town_url(tmp_path_factory) -> str:
    """The store of :func:`server`: the small town with scattered reports and the accounts."""
    return prepare_store(tmp_path_factory.mktemp("browser") / "store.db")


@pytest.fixture(scope="module")
def server(town_url, tmp_path_factory):
    """The dashboard on :func:`town_url`; yields its base URL."""
    with _serving(town_url, tmp_path_factory.mktemp("browser_log") / "streamlit.log") as base:
        yield base


@pytest.fixture(scope="module")
def hot_url(tmp_path_factory) -> str:
    """The store of :func:`hot_server`: the small town plus a planted ad-posting hotspot."""
    url = prepare_store(tmp_path_factory.mktemp("browser_hot") / "store.db")
    plant_hotspot(url)
    return url


@pytest.fixture(scope="module")
def hot_server(hot_url, tmp_path_factory):
    """The dashboard on :func:`hot_url` (a crackdown cluster); yields its base URL."""
    with _serving(hot_url, tmp_path_factory.mktemp("browser_hot_log") / "streamlit.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium (never a downloaded one)."""
    _require_chromium()

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@contextlib.contextmanager
def _local_page(browser, **options):
    """A page in a fresh context that aborts every request leaving this machine.

    ``page.aborted`` lists them; ``options`` go to ``browser.new_context``.
    """
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, locale="zh-CN", **options
    )
    page = context.new_page()
    aborted: list[str] = []

    def only_local(route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            aborted.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page.aborted = aborted
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser):
    """A fresh, signed-out page that aborts every request leaving this machine."""
    with _local_page(browser) as page:
        yield page


def _login(page, server, username: str = "leader", path: str = "/", password: str = PASSWORD):
    """Open ``path`` (the login form shows instead), sign in as ``username`` through the form.

    Waits until the session cookie is in the browser, so that the next ``goto`` stays
    signed in.
    """
    page.goto(server + path, wait_until="domcontentloaded")
    form = page.get_by_test_id("stForm")
    form.get_by_label("用户名", exact=True).fill(username, timeout=60_000)
    form.get_by_label("密码", exact=True).fill(password)
    form.get_by_role("button", name="登录").click()
    page.get_by_role("button", name="退出登录").wait_for(timeout=30_000)
    page.wait_for_function("document.cookie.includes('hotspot_session=')", timeout=30_000)


def _open_map(page, server, path: str = "/issue-map"):
    """Load a page of the dashboard and wait until Leaflet has drawn its map; return the frame."""
    page.goto(server + path, wait_until="domcontentloaded")
    return _map_drawn(page)


def _map_drawn(page):
    """Wait until Leaflet has drawn the page's map and its report markers; return the frame."""
    page.wait_for_selector(MAP_FRAME, timeout=60_000)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-container").wait_for(timeout=30_000)
    frame.locator(MARKERS).first.wait_for(timeout=30_000)
    return frame


def _audit(
    store_url: str, action: str, actor: str, *, at_least: int = 1, target: str = ".*"
) -> pd.DataFrame:
    """The store's audit entries of ``action`` by ``actor`` on a ``target`` (a regex).

    Waits up to 15 s for ``at_least`` of them: a download reaches the browser before the
    rerun that logs it, and other tests on the same server log entries of their own.
    """
    deadline = time.monotonic() + 15
    while True:
        engine = open_store(store_url)
        try:
            entries = read_audit(engine, actor=actor, actions=(action,))
        finally:
            engine.dispose()
        entries = entries[entries["target"].fillna("").str.fullmatch(target)]
        if len(entries) >= at_least or time.monotonic() > deadline:
            return entries
        time.sleep(0.3)


def _screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_health_endpoint_says_ok(server):
    assert _health(server) == "ok"


def test_map_renders_offline_with_boundaries_cells_markers_and_headline_layers(page, server):
    _login(page, server)
    frame = _open_map(page, server)
    assert frame.locator("svg path").count() > 50  # cells, boundaries and markers
    assert frame.locator(MARKERS).count() == sum(REPORT_MIX.values())
    labels = frame.locator(".community-label").all_inner_texts()
    assert sorted(labels) == sorted(COMMUNITY_NAMES)
    control = frame.locator(".leaflet-control-layers").inner_text()
    positions = [control.index(name) for name in HEADLINE_ZH]
    assert positions == sorted(positions)
    assert page.get_by_text("演示数据（虚构）").is_visible()
    _screenshot(page, "map_page")
    outside = [url for url in page.aborted if urlsplit(url).hostname not in TILE_HOSTS]
    assert outside == []


def test_unchecking_zombie_cars_hides_its_markers(page, server):
    _login(page, server)
    frame = _open_map(page, server)
    before = frame.locator(MARKERS).count()
    frame.locator(".leaflet-control-layers-overlays label", has_text="僵尸车").locator(
        "input"
    ).uncheck()
    frame.locator(MARKERS).nth(before - ZOMBIE_REPORTS).wait_for(state="detached")
    assert frame.locator(MARKERS).count() == before - ZOMBIE_REPORTS
    _screenshot(page, "map_without_zombie_cars")


def test_clicking_a_marker_opens_its_popup_and_lists_its_cell(page, server):
    _login(page, server)
    frame = _open_map(page, server)
    # The first marker not hidden under the layer control or another shape.
    index = frame.locator("body").evaluate(
        """() => [...document.querySelectorAll("path.leaflet-interactive[stroke='#ffffff']")]
            .findIndex(p => { const r = p.getBoundingClientRect();
                return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === p; })"""
    )
    assert index >= 0
    frame.locator(MARKERS).nth(index).click()
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "类别" in popup.inner_text() and "状态" in popup.inner_text()
    # the fragment reruns: the clicked cell's reports appear under the map
    page.get_by_text("所选网格").wait_for(timeout=30_000)
    expect(page.get_by_text(re.compile(r"所选网格 \w+：[1-9]\d* 件问题"))).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(2, timeout=30_000)
    _screenshot(page, "map_clicked_marker")
    assert page.aborted == []


def test_language_switch_relabels_the_page_and_the_layers(page, server):
    _login(page, server)
    _open_map(page, server)
    page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
    page.get_by_role("heading", name="Issue map").wait_for(timeout=30_000)
    # The new map's iframe comes after the old one, which goes a moment later.
    control = page.frame_locator(MAP_FRAME).last.locator(".leaflet-control-layers")
    expect(control).to_contain_text("Zombie cars", timeout=30_000)
    assert page.get_by_text("Demo data (fictional)").is_visible()
    _screenshot(page, "map_page_en")


def test_a_shared_link_opens_its_page_with_its_filters_after_the_login(page, server):
    _login(page, server, path="/issue-map?days=7&layers=zombie_cars")
    _map_drawn(page)
    page.get_by_role("heading", name="问题地图").wait_for(timeout=30_000)
    period = page.get_by_test_id("stSidebar").get_by_role("combobox").first
    expect(period).to_have_value("近7天")
    assert "/issue-map" in page.url and "days=7" in page.url
    frame = page.frame_locator(MAP_FRAME)
    reports = town_reports()
    since = pd.Timestamp(dt.date.today() - dt.timedelta(days=6))
    zombie = reports["category"].isin(["abandoned_vehicle", "abandoned_bicycle"])
    expected = int((zombie & (reports["reported_at"] >= since)).sum())
    assert 0 < expected < ZOMBIE_REPORTS
    expect(frame.locator(MARKERS)).to_have_count(expected)


PAGES = {
    "/": "领导总览",
    "/plan": "集中整治",
    "/grid": "社区网格",
    "/storefront-zones": "门前三包",
    "/issue-map": "问题地图",
    "/report-issue": "问题上报",
}


@pytest.mark.parametrize(("path", "title"), PAGES.items(), ids=PAGES.values())
def test_every_page_renders_its_map_offline_without_errors(page, request, path, title):
    # the crackdown page draws its map only when there is a significant cluster
    server = request.getfixturevalue("hot_server" if path == "/plan" else "server")
    _login(page, server, "admin")  # the only role that opens every page
    page.goto(server + path, wait_until="domcontentloaded")
    page.get_by_role("heading", name=title, exact=True).wait_for(timeout=60_000)
    frame = page.frame_locator(MAP_FRAME).first
    frame.locator(".leaflet-container").wait_for(timeout=30_000)
    frame.locator("svg path").first.wait_for(timeout=30_000)
    page.wait_for_load_state("networkidle")
    assert page.get_by_test_id("stException").count() == 0
    _screenshot(page, f"page_{path.strip('/') or 'overview'}")
    outside = [url for url in page.aborted if urlsplit(url).hostname not in TILE_HOSTS]
    assert outside == []


def test_clicking_a_hexagon_on_the_overview_lists_its_reports(page, server):
    _login(page, server)
    frame = _open_map(page, server, "/")
    hexagons = frame.locator("path.hotmap-hex")
    hexagons.first.wait_for(timeout=30_000)
    page.wait_for_load_state("networkidle")
    # A hexagon whose centre is not under a marker, a label or the layer control.
    index = frame.locator("body").evaluate(
        """() => [...document.querySelectorAll("path.hotmap-hex")]
            .findIndex(p => { const r = p.getBoundingClientRect();
                return r.width > 8 && document.elementFromPoint(
                    r.x + r.width / 2, r.y + r.height / 2) === p; })"""
    )
    assert index >= 0
    listing = page.get_by_text(re.compile(r"所选网格 \w+：[1-9]\d* 件问题"))
    # The component may still be starting when the map is drawn: a click it missed is
    # repeated, as a person would.
    for _attempt in range(3):
        hexagons.nth(index).click()
        try:
            listing.wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            continue
    expect(listing).to_be_visible()
    _screenshot(page, "overview_clicked_hexagon")


def test_choosing_a_cluster_fills_it_and_both_plan_downloads_work(
    page, hot_server, hot_url, tmp_path
):
    _login(page, hot_server, "leader", "/plan")
    frame = page.frame_locator(MAP_FRAME).first
    frame.locator(".cluster-rank").first.wait_for(state="attached", timeout=60_000)
    filled = f"path[fill='{SELECTED_COLOR}']"
    assert frame.locator(filled).count() == 0
    downloads = page.get_by_test_id("stDownloadButton").locator("button")
    expect(downloads.first).to_be_disabled()

    page.get_by_test_id("stMultiSelect").filter(has_text="选择整治点位").click()
    page.get_by_role("option", name=re.compile(r"^#1 ")).click()
    page.keyboard.press("Escape")
    expect(downloads.first).to_be_enabled(timeout=30_000)
    expect(page.frame_locator(MAP_FRAME).last.locator(filled).first).to_be_visible(timeout=30_000)
    _screenshot(page, "crackdown_cluster_chosen")

    with page.expect_download() as excel:
        downloads.nth(0).click()
    assert excel.value.suggested_filename.endswith(".xlsx")
    saved = tmp_path / excel.value.suggested_filename
    excel.value.save_as(saved)
    workbook = openpyxl.load_workbook(saved)
    assert workbook.sheetnames[:2] == [CLUSTER_SHEET, REPORT_SHEET]
    listed = list(workbook[REPORT_SHEET].iter_rows(min_row=2, values_only=True))
    assert len(listed) > 0
    assert "13912345678" not in repr(listed)  # the planted reports' phone never leaves

    with page.expect_download() as svg:
        downloads.nth(1).click()
    assert svg.value.suggested_filename.endswith(".svg")
    root = ElementTree.parse(svg.value.path()).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = Path(svg.value.path()).read_text(encoding="utf-8")
    assert "集中整治" in text and "<script" not in text
    assert not re.search(r"href=[\"']https?:", text)
    exports = _audit(hot_url, "export", "leader", at_least=2, target=r".*\.(xlsx|svg)")
    assert sorted(Path(name).suffix for name in exports["target"]) == [".svg", ".xlsx"]
    assert set(exports["detail"]) == {"clusters 1"}
    assert page.aborted == []


def test_the_community_ledger_downloads_as_a_masked_csv_excel_can_read(page, hot_server, hot_url):
    # W01 holds the planted reports, whose reporter phone is 13912345678
    _login(page, hot_server, "leader", "/grid?community=W01")
    button = page.get_by_test_id("stDownloadButton").filter(has_text="下载台账").locator("button")
    button.wait_for(timeout=60_000)
    with page.expect_download() as download:
        button.click()
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese text
    text = raw.decode("utf-8-sig")
    assert "139****5678" in text and "13912345678" not in text
    assert len(pd.read_csv(download.value.path(), encoding="utf-8-sig")) >= 200
    exports = _audit(hot_url, "export", "leader", target=r"ledger_W01_\d{8}\.csv")
    assert len(exports) == 1
    assert page.aborted == []


def test_a_report_placed_by_typed_coordinates_shows_on_the_map_at_once(page, hot_server, hot_url):
    # hot_server: the scattered town's zombie-car layer has ZOMBIE_REPORTS markers
    _login(page, hot_server, "enforcement", "/report-issue")
    main = page.get_by_test_id("stMain")
    main.get_by_label("经度").fill("116.310200")
    main.get_by_label("纬度").fill("39.786100")
    main.get_by_label("纬度").press("Enter")
    expect(page.get_by_text(re.compile("位置：西园社区"))).to_be_visible(timeout=30_000)
    main.get_by_test_id("stSelectbox").filter(has_text="图层").click()
    page.get_by_role("option", name="僵尸车", exact=True).click()
    main.get_by_label("问题描述").fill("小区门口一辆废弃轿车")
    main.get_by_role("button", name="提交上报").click()
    done = page.get_by_text(re.compile(r"已上报，问题编号 \d+"))
    expect(done).to_be_visible(timeout=30_000)
    _screenshot(page, "report_submitted")
    report_id = re.search(r"问题编号 (\d+)", done.inner_text()).group(1)
    created = _audit(hot_url, "report_created", "enforcement")
    assert f"report {report_id}" in created["target"].tolist()

    frame = _open_map(page, hot_server, "/issue-map?layers=zombie_cars")
    expect(frame.locator(MARKERS)).to_have_count(ZOMBIE_REPORTS + 1, timeout=30_000)
    assert page.aborted == []


# --- accounts: the login, a community's view, the audit log, single sign-on -----------

#: The grid worker's pages in the sidebar, in ROLE_PAGES order.
GRIDWORKER_PAGES = ["社区网格", "问题地图", "问题上报", "门前三包"]


def _nav_titles(page) -> list[str]:
    """The page titles in the sidebar's navigation (each link's last line: after its icon)."""
    links = page.get_by_test_id("stSidebarNavLink").all_inner_texts()
    return [text.strip().splitlines()[-1] for text in links]


def _login_form(page):
    return page.get_by_test_id("stForm").filter(has=page.get_by_label("密码", exact=True))


def test_login_flow_wrong_password_then_the_roles_pages_reload_and_logout(page, server, town_url):
    page.goto(server + "/", wait_until="domcontentloaded")
    form = _login_form(page)
    form.wait_for(timeout=60_000)
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    assert _nav_titles(page) == []  # nothing to navigate to before the login
    form.get_by_label("用户名", exact=True).fill("gridworker")
    form.get_by_label("密码", exact=True).fill("not-the-password")
    form.get_by_role("button", name="登录").click()
    error = page.get_by_test_id("stAlertContentError").locator("p")
    expect(error).to_have_text("用户名或密码错误", timeout=30_000)
    assert "\n" not in error.inner_text()
    assert page.get_by_role("button", name="退出登录").count() == 0
    _screenshot(page, "login_refused")

    form.get_by_label("密码", exact=True).fill(PASSWORD)
    form.get_by_role("button", name="登录").click()
    # "/" is the grid worker's start page, the community grid (there is no overview for it)
    page.get_by_role("heading", name="社区网格", exact=True).wait_for(timeout=60_000)
    expect(page.get_by_test_id("stSidebarNavLink")).to_have_count(len(GRIDWORKER_PAGES))
    assert _nav_titles(page) == GRIDWORKER_PAGES
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("王网格")
    expect(sidebar).to_contain_text("网格员 · 西园社区")
    assert page.get_by_text("Page not found").count() == 0
    page.wait_for_function("document.cookie.includes('hotspot_session=')", timeout=30_000)
    _screenshot(page, "login_gridworker")

    page.reload(wait_until="domcontentloaded")
    page.get_by_role("heading", name="社区网格", exact=True).wait_for(timeout=60_000)
    assert _login_form(page).count() == 0
    # a link to a page the role may not open: "page not found", and the start page
    page.goto(server + "/plan", wait_until="domcontentloaded")
    page.get_by_role("heading", name="社区网格", exact=True).wait_for(timeout=60_000)
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Page not found", timeout=30_000)
    assert page.get_by_role("heading", name="集中整治").count() == 0
    _screenshot(page, "login_page_not_allowed")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    page.get_by_role("button", name="退出登录").click()
    _login_form(page).wait_for(timeout=30_000)
    page.wait_for_function("!document.cookie.includes('hotspot_session=')", timeout=30_000)
    page.reload(wait_until="domcontentloaded")
    _login_form(page).wait_for(timeout=60_000)
    assert page.get_by_role("button", name="退出登录").count() == 0
    logged = {
        action: _audit(town_url, action, "gridworker")
        for action in ("login_failed", "login", "logout")
    }
    assert {action: len(entries) >= 1 for action, entries in logged.items()} == dict.fromkeys(
        logged, True
    )
    assert page.aborted == []


def test_a_community_user_sees_only_its_own_community(page, server):
    reports = town_reports()
    west = reports[reports["community_id"] == 1]
    east = reports[reports["community_id"] == 2]
    assert 0 < len(west) < len(reports)
    _login(page, server, "community", "/issue-map")
    frame = _map_drawn(page)
    expect(frame.locator(MARKERS)).to_have_count(len(west), timeout=30_000)
    assert frame.locator(".community-label").all_inner_texts() == ["西园社区"]
    sidebar = page.get_by_test_id("stSidebar")
    picker = sidebar.get_by_test_id("stSelectbox").filter(has=page.get_by_text("社区", exact=True))
    expect(picker.get_by_role("combobox")).to_have_value("西园社区")
    page.wait_for_load_state("networkidle")
    options = page.get_by_role("option")
    for _attempt in range(3):  # a rerun that lands meanwhile closes the list: open it again
        picker.click()
        try:
            options.first.wait_for(timeout=5_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    expect(options).to_have_text(["西园社区"])
    page.keyboard.press("Escape")
    _screenshot(page, "community_user_map")

    # a report of the other community is not found by its number; one of its own is
    page.goto(server + "/grid", wait_until="domcontentloaded")
    lookup = page.get_by_label("按编号查看问题")
    lookup.wait_for(timeout=60_000)
    lookup.fill(str(int(east["id"].iloc[0])))
    lookup.press("Enter")
    expect(page.get_by_text(f"没有编号为 {int(east['id'].iloc[0])} 的问题")).to_be_visible(
        timeout=30_000
    )
    lookup.fill(str(int(west["id"].iloc[0])))
    lookup.press("Enter")
    detail = page.get_by_text(f"问题 {int(west['id'].iloc[0])}", exact=True)
    expect(detail).to_be_visible(timeout=30_000)
    detail.scroll_into_view_if_needed()
    _screenshot(page, "community_user_report_detail")
    assert page.aborted == []


def test_the_audit_log_page_lists_logins_and_accounts_for_admins(page, server):
    _login(page, server, "admin", "/audit")
    page.get_by_role("heading", name="操作日志", exact=True).wait_for(timeout=60_000)
    tables = page.get_by_test_id("stDataFrame")
    expect(tables).to_have_count(2, timeout=30_000)
    _screenshot(page, "audit_log")
    # the grid (a canvas) is read through its CSV: the accounts, without password hashes
    assert "argon2" not in page.content()
    assert page.aborted == []


@pytest.fixture(scope="module")
def sso_server(town_url, tmp_path_factory):
    """The dashboard on :func:`town_url` trusting the reverse proxy's X-Remote-User header."""
    log = tmp_path_factory.mktemp("browser_sso") / "streamlit.log"
    with _serving(town_url, log, **{TRUST_REMOTE_USER_ENV: "1"}) as base_url:
        yield base_url


def test_x_remote_user_signs_in_only_when_the_server_trusts_it(browser, server, sso_server):
    header = {"X-Remote-User": "leader"}
    with _local_page(browser, extra_http_headers=header) as trusted:
        trusted.goto(sso_server + "/", wait_until="domcontentloaded")
        trusted.get_by_role("heading", name="领导总览", exact=True).wait_for(timeout=60_000)
        assert _login_form(trusted).count() == 0
        expect(trusted.get_by_text("已由单点登录认证")).to_be_visible()
        assert trusted.get_by_role("button", name="退出登录").count() == 0
        _screenshot(trusted, "remote_user_signed_in")
    with _local_page(browser, extra_http_headers=header) as untrusted:
        untrusted.goto(server + "/", wait_until="domcontentloaded")
        _login_form(untrusted).wait_for(timeout=60_000)
        assert untrusted.get_by_role("heading", name="领导总览").count() == 0
