"""The Vietnamese pages in headless Chromium with the network cut: what a planner reads.

The default language is Vietnamese. These tests open the province map, the index and a
commune dossier written with the defaults and check that the page says ``lang="vi"``, that
the Vietnamese words are there, and that no English text of the interface (every map,
page and plan label, Leaflet's own buttons) is left anywhere in the page's text or in its
``title``/``placeholder``/``aria-label`` attributes. A village behind a ridge shows the
terrain-blocking sentence in its popup and in the dossier; the map on a 400 × 800 phone
keeps its (longer, Vietnamese) controls apart and its popups on the screen.

Uses the driver and helpers of ``test_browser`` (same skip rule).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import test_browser
from test_browser import _open, remote_requests, settle, wait_for
from test_browser import _severe as severe
from test_browser_pages import _CONTROLS, _context, _overlaps, _phone, _popup_box_on_screen
from test_maps import UTM, X0, Y0, make_communes, make_coverage, make_villages

from geo_dx.i18n import CODE_LABELS, translator
from geo_dx.maps.pages import PAGE_LABELS, PLAN_COLUMN_LABELS, commune_page_names
from geo_dx.maps.payload import CONFIDENCE_LABELS, LABELS, TECH_STYLE
from geo_dx.maps.plan_layer import PLAN_MAP_TEXT, plan_layer
from geo_dx.maps.write import write_maps

driver = test_browser.driver  # the same headless Chromium fixture, one per module

VI = translator("vi")
TITLE_VI = "Tỉnh thử nghiệm (số liệu mô phỏng)"
BLOCKED = "Bị núi che: trạm cách 1,6 km; đỉnh chắn cao 1.720 m, cách bản 0,9 km"
#: Leaflet's own English button titles, which the page must replace.
LEAFLET_ENGLISH = ("Zoom in", "Zoom out", "Layers", "Close popup", "Full Screen",
                   "Exit Full Screen")


def _ui_messages() -> set[str]:
    """Every English message of the interface (maps, pages, plan layer, codes shown)."""
    messages = set(LABELS.values()) | set(PAGE_LABELS.values()) | set(PLAN_MAP_TEXT.values())
    messages |= set(CONFIDENCE_LABELS.values()) | set(PLAN_COLUMN_LABELS.values())
    messages |= {style["label"] for style in TECH_STYLE.values()}
    for kind in ("gap_class", "technology", "component", "plan_kind"):
        messages |= set(CODE_LABELS[kind].values())
    return messages


def english_fragments() -> list[str]:
    """The English words of each message translated differently (placeholders cut out)."""
    out = set()
    for message in _ui_messages():
        if VI.gettext(message) == message:
            continue  # the same in both languages, e.g. "{label} ({n})"
        for part in re.split(r"\{[^}]*\}", message):
            part = part.strip(" ,.:;()#/·—–…-")
            if sum(c.isalpha() for c in part) >= 3:
                out.add(part)
    return sorted(out | set(LEAFLET_ENGLISH))


#: Text a reader can see or hear: text nodes outside scripts and styles, and the
#: attributes browsers show (tooltips, placeholders, screen-reader names).
_READABLE = """
    var out = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) {
        var p = walk.currentNode.parentNode;
        if (p && p.nodeName !== 'SCRIPT' && p.nodeName !== 'STYLE') {
            out.push(walk.currentNode.nodeValue);
        }
    }
    document.querySelectorAll('[title], [placeholder], [aria-label], [alt]').forEach(
        function (e) {
            ['title', 'placeholder', 'aria-label', 'alt'].forEach(function (a) {
                if (e.getAttribute(a)) { out.push(e.getAttribute(a)); }
            });
        });
    out.push(document.title);
    return out.join('\\n');
"""


def untranslated(text: str) -> list[str]:
    return [f for f in english_fragments()
            if re.search(r"(?<![A-Za-z])" + re.escape(f) + r"(?![A-Za-z])", text)]


def _villages() -> gpd.GeoDataFrame:
    """The twelve test villages with Vietnamese reasons; Bản Phiêng is behind a ridge."""
    villages = make_villages()
    villages["reason"] = np.where(villages["gap_class"] != "none",
                                  "Cách thị trấn gần nhất 5,5 giờ; 90 % đồng bào dân tộc "
                                  "thiểu số; chưa có sóng di động", None)
    blocked = villages["village_id"] == "v03"
    villages["mobile_blocked_by"] = np.where(blocked, "S-4G-1", None)
    villages["blocked_site_distance_m"] = np.where(blocked, 1630.0, np.nan)
    villages["obstacle_elevation_m"] = np.where(blocked, 1720.0, np.nan)
    villages["obstacle_distance_m"] = np.where(blocked, 912.0, np.nan)
    ridge = gpd.GeoSeries([shapely.Point(X0 + 7_000, Y0 + 2_100)], crs=UTM).to_crs(4326)
    villages["obstacle_lon"] = np.where(blocked, ridge.x.iloc[0], np.nan)
    villages["obstacle_lat"] = np.where(blocked, ridge.y.iloc[0], np.nan)
    villages["mobile_confidence"] = "declared"
    return villages


def _plan() -> gpd.GeoDataFrame:
    """Three planned works in commune A: a new site, a fibre extension and satellite
    access."""
    return gpd.GeoDataFrame({
        "rank": [1, 2, 3], "item_id": ["M1", "F1", "S1"],
        "kind": ["new_site", "fibre", "satellite_access"],
        "service": ["4g", "fibre", "satellite_hotspot"], "power": ["grid", "", "solar"],
        "capex_vnd": [1_650_000_000.0, 2_250_000_000.0, 50_000_000.0],
        "opex_vnd_per_year": [0.1e9, 0.02e9, 25_200_000.0],
        "commune_id": ["A", "A", "A"], "cost_vnd": [1_650_000_000.0, 2_250_000_000.0, 5e7],
        "cumulative_cost_vnd": [1_650_000_000.0, 3_900_000_000.0, 3_950_000_000.0],
        "village_names": ["Bản Phiêng", "Bản Co Mận;Bản Phiêng", "Bản Co Mận"],
        "people_served": [400.0, 1_200.0, 800.0], "route_km": [np.nan, 3.25, np.nan],
    }, geometry=[shapely.Point(X0 + 6_000, Y0 + 3_500),
                 shapely.LineString([(X0, Y0 + 9_500), (X0 + 3_000, Y0 + 9_500)]),
                 shapely.Point(X0 + 2_000, Y0 + 8_000)], crs=UTM)


@pytest.fixture(scope="module")
def vi_dir() -> Path:
    out = Path(tempfile.mkdtemp(prefix="geodx-vi-"))
    plan = _plan()
    links = gpd.GeoDataFrame(geometry=[shapely.LineString(
        [(X0 + 6_000, Y0 + 3_500), (X0 + 7_000, Y0 + 3_000)])], crs=UTM)
    (out / "priority.xlsx").write_bytes(b"")  # the index links the data files present
    coverage = make_coverage().assign(site_id=["S-4G-1", "S-3G-1", "S-2G-1", "F-1"])
    write_maps(out, _villages(), make_communes(), coverage, title=TITLE_VI,
               context=_context(), plan_items=pd.DataFrame(plan.drop(columns="geometry")),
               layers=(plan_layer(plan, links),))
    yield out
    shutil.rmtree(out, ignore_errors=True)


def _dossier(out: Path) -> Path:
    names = commune_page_names(["A"], ["Xã Mường Phăng"])
    return out / "communes" / names["A"]


def _popup_text(driver, village_id: str) -> str:
    """Open a village's popup the way the search box does, and return its text."""
    driver.execute_script("""
        var s = window.geoDxMaps[0], id = arguments[0];
        s.show(s.rows.findIndex(function (r) { return r.id === id; }));
    """, village_id)
    wait_for(driver, "return !!document.querySelector('.leaflet-popup-content .geodx-popup');",
             what=f"the popup of {village_id} to open")
    # innerText, not Selenium's .text: a tall popup scrolls, and .text leaves out what is
    # scrolled out of view.
    return driver.execute_script(
        "return document.querySelector('.leaflet-popup-content').innerText;")


def test_the_list_of_english_words_is_real():
    words = english_fragments()
    assert {"Legend", "Search village", "Print / save as PDF", "No fibre", "Zoom in",
            "Villages with a gap, in priority order", "Investment plan"} <= set(words)
    assert untranslated("Legend: Roads and Zoom in") == ["Legend", "Roads", "Zoom in"]
    assert untranslated("Chú giải · Đường giao thông · Phóng to") == []


def test_vietnamese_map_has_no_english_interface_text(driver, vi_dir):
    _open(driver, vi_dir / "map.html")
    assert driver.execute_script("return document.documentElement.lang") == "vi"
    assert driver.find_element("css selector", ".geodx-title-main").text == TITLE_VI
    sub = driver.find_element("css selector", ".geodx-title-sub").text
    assert re.fullmatch(r"12 thôn, bản · 6 chưa có cáp quang hoặc băng rộng di động · "
                        r"3 xã, phường · lập ngày "
                        r"\d\d/\d\d/20\d\d", sub), sub
    legend = driver.find_element("css selector", ".geodx-legend").text
    assert legend.startswith("Chú giải")
    for words in ("Chưa có cáp quang, chưa có băng rộng di động (2)",
                  "Vòng tròn càng lớn, điểm ưu tiên càng cao", "Vùng phủ sóng",
                  "Xã, phường: tỷ lệ thôn, bản thiếu dịch vụ",
                  "Trạm 4G và vùng phủ",
                  "81–100 %"):
        assert words in legend, words
    box = driver.find_element("css selector", ".geodx-search-input")
    assert box.get_attribute("placeholder") == "Tìm thôn, bản…"
    box.send_keys("khong co ban nay")
    assert driver.find_element("css selector", ".geodx-search-none").text == \
        "Không tìm thấy thôn, bản"
    box.clear()
    layers = driver.find_element("css selector", ".leaflet-control-layers").get_attribute(
        "textContent")
    for words in ("Không có bản đồ nền (ngoại tuyến)", "Tên xã, phường",
                  "Đường giao thông", "Chưa có cáp quang (2)", "Trạm BTS và vùng phủ sóng (3)",
                  "Kế hoạch đầu tư (3 hạng mục)"):
        assert words in layers, words
    assert driver.find_element("css selector", ".geodx-print-button").get_attribute(
        "title") == "In / lưu PDF"
    # The scale bar is metric only: one line, in m or km.
    scale = driver.find_elements("css selector", ".leaflet-control-scale-line")
    assert len(scale) == 1 and re.fullmatch(r"\d+ k?m", scale[0].text), [s.text for s in scale]

    # A scored village's popup, a plan site's popup and a commune tooltip, all in Vietnamese.
    text = _popup_text(driver, "v02")
    for words in ("Xã, phường", "Dịch vụ còn thiếu", "Khoảng cách đến điểm cáp quang gần nhất",
                  "5,0 km",
                  "Dân số", "800", "90 %", "Thứ tự ưu tiên", "Điểm ưu tiên",
                  "Chưa chấm điểm (thiếu số liệu): Tỷ lệ hộ nghèo",
                  "Nguồn số liệu sóng di động", "vùng phủ do doanh nghiệp kê khai"):
        assert words in text, (words, text)
    readable = driver.execute_script(_READABLE)
    plan = driver.execute_script("""
        var out = [];
        window.geoDxMaps[0].map.eachLayer(function (l) {
            if (l.getPopup && l.getPopup() && l.options && l.options.geoDxPlanItem !== undefined) {
                l.openPopup(); out.push(l.getPopup().getElement().textContent);
            }
        });
        return out;
    """)
    assert len(plan) == 2 and "Xây mới trạm BTS 4G" in plan[0], plan
    assert "Chi phí: 1,65 tỷ đồng" in plan[0] and "Số dân: 400" in plan[0], plan
    assert plan[1].startswith("S1 · Điểm truy nhập Internet qua vệ tinh (Wi-Fi)"), plan
    assert "Nguồn điện: Điện mặt trời và ắc quy" in plan[1], plan
    readable += "\n" + "\n".join(plan)
    assert untranslated(readable) == []
    assert severe(driver) == []
    assert driver.execute_script("return window.__errors") == []
    assert remote_requests(driver) == []  # http(s)/ws(s) only: chrome:// is the browser's own


def test_popup_of_a_village_behind_a_ridge_says_why(driver, vi_dir):
    _open(driver, vi_dir / "map.html")
    text = _popup_text(driver, "v03")
    assert BLOCKED in text
    # the site behind the ridge: its technology, operator and where it lies (east)
    assert ("Trạm BTS bị địa hình che chắn\tS-4G-1 (4G, Viettel <script>), ở phía đông"
            in text)
    # The ridge top is marked on the map while the popup is open, and only then.
    marks = driver.find_elements("css selector", ".geodx-obstacle")
    assert len(marks) == 1
    assert marks[0].get_attribute("title") == VI.gettext(LABELS["legend_obstacle"])
    ridge = gpd.GeoSeries([shapely.Point(X0 + 7_000, Y0 + 2_100)], crs=UTM).to_crs(4326)
    # Within ~100 m (the village is 900 m away), once the view has stopped panning to the
    # popup: wait for the mark to sit there, then check it.
    where_js = """
        var s = window.geoDxMaps[0], r = arguments[0].getBoundingClientRect();
        var p = s.map.containerPointToLatLng([r.left + r.width / 2, r.top + r.height / 2]);
        return [p.lat, p.lng];"""
    near = where_js.replace("return [p.lat, p.lng];", """
        return Math.abs(p.lat - arguments[1]) < 1e-3 && Math.abs(p.lng - arguments[2]) < 1e-3;
    """)
    try:
        wait_for(driver, near, marks[0], ridge.y.iloc[0], ridge.x.iloc[0],
                 what="the ridge mark to settle", timeout_s=10)
    except AssertionError:
        pass  # the assertion below says where it is
    where = driver.execute_script(where_js, marks[0])
    assert abs(where[0] - ridge.y.iloc[0]) < 1e-3 and abs(where[1] - ridge.x.iloc[0]) < 1e-3
    blocked = driver.find_element("css selector", ".geodx-popup-blocked")
    assert blocked.get_attribute("textContent") == BLOCKED  # (the popup may scroll)
    # The others have no such sentence, and no ridge is marked for them.
    assert "Bị núi che" not in _popup_text(driver, "v02")
    assert driver.find_elements("css selector", ".geodx-obstacle") == []
    assert severe(driver) == []


def test_vietnamese_map_on_a_phone(driver, vi_dir):
    _phone(driver, True)
    try:
        _open(driver, vi_dir / "map.html")
        rects = driver.execute_script(_CONTROLS)
        assert len(rects) >= 7 and _overlaps(rects) == []
        for r in rects:
            assert r["left"] >= 0 and r["top"] >= 0 and r["right"] <= 400 and r["bottom"] <= 800
        assert not driver.find_element("css selector", ".geodx-legend-body").is_displayed()
        driver.execute_script("""
            var s = window.geoDxMaps[0];
            s.show(s.rows.findIndex(function (r) { return r.id === 'v03'; }));
        """)
        box = _popup_box_on_screen(driver)
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= 400 and box[3] <= 800, box
        assert BLOCKED in driver.find_element("css selector", ".leaflet-popup-content"
                                              ).get_attribute("textContent")
        # No button is drawn over the open popup's text.
        popup = {"cls": "popup", "left": box[0], "top": box[1], "right": box[2],
                 "bottom": box[3]}
        assert _overlaps([popup, *driver.execute_script(_CONTROLS)]) == []
        driver.execute_script("window.geoDxMaps[0].map.closePopup();")
        wait_for(driver, "return !document.querySelector('.leaflet-popup');",
                 what="the popup to close")
        settle(driver)
        # The open legend fits on the screen and covers no other control (the scale bar).
        driver.find_element("css selector", ".geodx-legend-toggle").click()
        legend = driver.execute_script(
            "var r = document.querySelector('.geodx-legend').getBoundingClientRect();"
            "return [r.left, r.top, r.right, r.bottom];")
        assert legend[0] >= 0 and legend[1] >= 0 and legend[2] <= 400 and legend[3] <= 800
        assert _overlaps(driver.execute_script(_CONTROLS)) == []
        assert severe(driver) == []
    finally:
        _phone(driver, False)


def test_vietnamese_index_page(driver, vi_dir):
    driver.get((vi_dir / "index.html").as_uri())
    assert driver.execute_script("return document.documentElement.lang") == "vi"
    text = driver.find_element("tag name", "body").text
    for words in ("Mở bản đồ toàn tỉnh", "Tài liệu cho cuộc họp", "Bảng tính Excel (priority.xlsx)",
                  "6 thôn, bản cần ưu tiên kết nối trước",
                  "Tỷ lệ chưa có cáp quang hoặc băng rộng di động", "75 %",
                  "Chưa có cả hai"):
        assert words in text, words
    assert re.search(r"Lập ngày \d\d/\d\d/20\d\d\.", text)
    links = [a.get_attribute("href") for a in driver.find_elements(
        "css selector", ".geodx-communes tbody a")]
    assert links[0].endswith("/communes/xa-muong-phang-A.html")
    assert untranslated(driver.execute_script(_READABLE)) == []
    assert severe(driver) == []


def test_vietnamese_dossier_page(driver, vi_dir):
    _open(driver, _dossier(vi_dir))
    assert driver.execute_script("return document.documentElement.lang") == "vi"
    text = driver.find_element("tag name", "body").text
    for words in ("Danh sách xã, phường", "Bản đồ toàn tỉnh", "In / lưu PDF",
                  "Số thôn, bản", "3 (75 %)",
                  "Thôn, bản chưa có cáp quang hoặc băng rộng di động, theo thứ tự ưu tiên",
                  "TT là thứ tự ưu tiên của thôn, bản trong toàn tỉnh.",
                  "Thôn, bản đã có cáp quang và băng rộng di động (1)",
                  "Hạng mục đầu tư đề xuất", "Xây mới trạm BTS 4G", "Kéo cáp quang",
                  "1.650.000.000", "Bản Co Mận, Bản Phiêng"):
        assert words in text, words
    blocked = driver.find_elements("css selector", ".geodx-village-row .geodx-blocked")
    assert [b.text for b in blocked] == [BLOCKED]
    row = blocked[0].find_element("xpath", "ancestor::tr")
    assert row.get_attribute("data-village-id") == "v03"
    assert untranslated(driver.execute_script(_READABLE)) == []
    assert severe(driver) == []
