"""The planner's pages in headless Chromium with the network cut: phone, print, dossier PDF.

Uses the driver and helpers of ``test_browser`` (same skip rule: Debian's chromium and
chromium-driver). A commune with 60 villages with a gap makes the dossier's village table
run over several A4 pages; printing it to PDF through the DevTools protocol must keep every
row whole and on one page.
"""

from __future__ import annotations

import base64
import io
import itertools
import os
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
from test_browser import _open, _severe, settle, wait_for
from test_maps import TITLE, UTM, X0, Y0, make_coverage, make_outlines, make_villages

from geo_dx.communes import summarise_communes
from geo_dx.maps.pages import commune_page_names
from geo_dx.maps.write import PlaceContext, write_maps
from geo_dx.schema import GAP_COLOURS

pypdf = pytest.importorskip("pypdf", reason="pypdf is not installed (dev extra)")

N_LONG = 60  # villages with a gap in the long commune "L"
driver = test_browser.driver  # the same headless Chromium fixture, one per module


def _long_commune() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Commune L (10 km square north of A) with 60 gap villages, each with a long reason."""
    outline = gpd.GeoDataFrame(
        {"commune_id": ["L"], "commune_name": ["Xã Dài Lâu"]},
        geometry=[shapely.box(X0, Y0 + 10_000, X0 + 10_000, Y0 + 20_000)], crs=UTM)
    rng = np.random.default_rng(7)
    rows = []
    for i in range(N_LONG):
        gap = ("no_fibre_no_mobile", "no_mobile", "no_fibre")[i % 3]
        rows.append({
            "village_id": f"L{i:02d}", "village_name": f"Bản Thử {i:02d}",
            "commune_id": "L", "commune_name": "Xã Dài Lâu", "gap_class": gap,
            "has_fibre": gap == "no_mobile", "has_mobile_broadband": gap == "no_fibre",
            "population": 100.0 + i, "score": 90.0 - i * 0.5, "rank": 100 + i,
            # A long reason, so rows wrap over several lines; the token marks its row.
            "reason": f"row-token-{i:02d}; cách thị trấn gần nhất 5,5 giờ; 100 % đồng bào "
                      "dân tộc thiểu số, thôn đặc biệt khó khăn; không có sóng di động, chưa "
                      f"có cáp quang; {100 + i} người",
            "geometry": shapely.Point(X0 + 500 + (i % 8) * 1200,
                                      Y0 + 10_500 + (i // 8) * 1200 + rng.uniform(0, 300)),
        })
    return outline, gpd.GeoDataFrame(rows, crs=UTM)


def _context() -> PlaceContext:
    roads = gpd.GeoDataFrame(
        {"kind": ["main", "local"]},
        geometry=[shapely.LineString([(X0, Y0 + 5_000), (X0 + 30_000, Y0 + 5_000)]),
                  shapely.LineString([(X0 + 5_000, Y0), (X0 + 5_000, Y0 + 20_000)])], crs=UTM)
    towns = gpd.GeoDataFrame(
        {"name": ["Thị trấn Mường Phăng"], "kind": ["commune_seat"]},
        geometry=[shapely.Point(X0 + 5_000, Y0 + 5_000)], crs=UTM)
    return PlaceContext.from_layers(roads=roads, towns=towns)


@pytest.fixture(scope="module")
def pages_dir() -> Path:
    out = Path(tempfile.mkdtemp(prefix="geodx-pages-"))
    outline, long_villages = _long_commune()
    villages = pd.concat([make_villages(), long_villages], ignore_index=True)
    outlines = pd.concat([make_outlines(), outline], ignore_index=True)
    communes = summarise_communes(villages, outlines)
    write_maps(out, villages, communes, make_coverage(), title=TITLE, context=_context())
    yield out
    shutil.rmtree(out, ignore_errors=True)


def _page(out: Path, commune_id: str) -> Path:
    names = commune_page_names(["A", "B", "C/../1", "L"],
                               ["Xã Mường Phăng", "Xã Nà Tấu", "Xã <b>Cê</b>", "Xã Dài Lâu"])
    return out / "communes" / names[commune_id]


def _phone(driver, on: bool) -> None:
    if on:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 400, "height": 800, "deviceScaleFactor": 1, "mobile": True})
    else:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# Every top-level control of the map that is displayed, with its bounding box.
_CONTROLS = """
    var out = [];
    document.querySelectorAll('.leaflet-control-container .leaflet-control').forEach(
        function (e) {
            var r = e.getBoundingClientRect(), cs = getComputedStyle(e);
            if (r.width > 0 && r.height > 0 && cs.display !== 'none' &&
                cs.visibility !== 'hidden') {
                out.push({cls: e.className, left: r.left, top: r.top, right: r.right,
                          bottom: r.bottom});
            }
        });
    return out;
"""


# The open popup's box, once it is on the screen and has stopped moving (Leaflet pans the
# map to show a popup, with an animation), else its last box.
_POPUP_BOX = """
    var p = document.querySelector('.leaflet-popup');
    if (!p) { return null; }
    var r = p.getBoundingClientRect(), box = [r.left, r.top, r.right, r.bottom];
    var last = window.__geodxPopupBox;
    window.__geodxPopupBox = box;
    var still = last && last.every(function (v, i) { return Math.abs(v - box[i]) < 0.5; });
    var inside = box[0] >= 0 && box[1] >= 0 && box[2] <= innerWidth && box[3] <= innerHeight;
    return still && inside ? box : null;
"""


def _popup_box_on_screen(driver) -> list[float]:
    """Wait until the open popup is still and on the screen; return its box."""
    driver.execute_script("window.__geodxPopupBox = null;")
    try:
        return wait_for(driver, _POPUP_BOX, what="the popup to settle on the screen",
                        timeout_s=10)
    except AssertionError:
        return driver.execute_script(
            "var r = document.querySelector('.leaflet-popup').getBoundingClientRect();"
            "return [r.left, r.top, r.right, r.bottom];")


def _overlaps(rects: list[dict]) -> list[tuple[str, str]]:
    return [(a["cls"], b["cls"]) for a, b in itertools.combinations(rects, 2)
            if a["left"] < b["right"] and b["left"] < a["right"]
            and a["top"] < b["bottom"] and b["top"] < a["bottom"]]


def test_phone_controls_do_not_overlap_and_popups_fit(driver, pages_dir):
    _phone(driver, True)
    try:
        _open(driver, pages_dir / "map.html")
        width, height = driver.execute_script("return [innerWidth, innerHeight]")
        assert (width, height) == (400, 800)
        rects = driver.execute_script(_CONTROLS)
        kinds = " ".join(r["cls"] for r in rects)
        for css in ("leaflet-control-zoom", "geodx-search", "geodx-title", "geodx-legend",
                    "leaflet-control-layers", "geodx-print", "leaflet-control-scale"):
            assert css in kinds, css
        assert _overlaps(rects) == []
        for r in rects:
            assert r["left"] >= 0 and r["top"] >= 0 and r["right"] <= 400 and r["bottom"] <= 800
        # The legend starts folded on a phone.
        assert not driver.find_element("css selector", ".geodx-legend-body").is_displayed()
        # A popup (the one with the longest content) fits on the screen.
        driver.execute_script("""
            var s = window.geoDxMaps[0], i = s.rows.findIndex(function (r) {
                return r.id === 'v01'; });
            s.show(i);
        """)
        box = _popup_box_on_screen(driver)
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= 400 and box[3] <= 800, box
        assert _severe(driver) == []
    finally:
        _phone(driver, False)


def test_print_hides_controls_and_keeps_the_legend_off_the_map(driver, pages_dir):
    _open(driver, pages_dir / "map.html")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        wait_for(driver, "return matchMedia('print').matches;", what="the print media")
        settle(driver)
        shown = driver.execute_script(_CONTROLS)
        kinds = " ".join(r["cls"] for r in shown)
        for css in ("leaflet-control-zoom", "geodx-search", "leaflet-control-layers",
                    "geodx-print", "leaflet-control-zoom-fullscreen"):
            assert css not in kinds, css
        legend = next(r for r in shown if "geodx-legend" in r["cls"])
        m = driver.execute_script(
            "var r = document.querySelector('.folium-map').getBoundingClientRect();"
            "return {top: r.top, bottom: r.bottom};")
        assert legend["top"] >= m["bottom"] - 1  # below the map, not on it
        assert driver.find_element("css selector", ".geodx-legend-body").is_displayed()
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def _pdf_pages(driver) -> list[str]:
    pdf = driver.execute_cdp_cmd("Page.printToPDF", {
        "printBackground": True, "preferCSSPageSize": True})
    data = base64.b64decode(pdf["data"])
    reader = pypdf.PdfReader(io.BytesIO(data))
    return [page.extract_text() or "" for page in reader.pages]


def test_dossier_prints_the_whole_village_table_without_cutting_rows(driver, pages_dir):
    path = _page(pages_dir, "L")
    _open(driver, path)
    rows = driver.find_elements("css selector", ".geodx-village-row")
    assert len(rows) == N_LONG
    pages = _pdf_pages(driver)
    assert 2 <= len(pages) <= 6, len(pages)
    # The header, totals and map open the first page.
    assert "Xã Dài Lâu" in pages[0] and "L00" not in pages[0]
    text = "\n".join(pages)
    for i in range(N_LONG):
        name, token = f"Bản Thử {i:02d}", f"row-token-{i:02d}"
        holding = [p for p, page in enumerate(pages) if token in page]
        # Every row is printed once, and its name and the start and end of its reason
        # sit on the same page: the row was not cut between pages.
        assert len(holding) == 1, (token, holding)
        page = pages[holding[0]]
        assert re.search(re.escape(name), page), (name, holding)
        assert f"{100 + i} người" in page.replace("\n", " ").replace("\xa0", " "), (i, holding)
        assert text.count(token) == 1
    # Rows run in priority order across the pages.
    order = [text.index(f"row-token-{i:02d}") for i in range(N_LONG)]
    assert order == sorted(order)


def test_dossier_links_back_and_lists_villages(driver, pages_dir):
    _open(driver, _page(pages_dir, "A"))
    nav = [a.get_attribute("href") for a in driver.find_elements("css selector",
                                                                  ".geodx-doc-nav a")]
    assert nav[0].endswith("/index.html") and nav[1].endswith("/map.html")
    rows = driver.find_elements("css selector", ".geodx-village-row")
    assert [r.get_attribute("data-village-id") for r in rows] == ["v03", "v02", "v01"]
    assert "Bản Huổi Lếch" in driver.find_element("css selector",
                                                   ".geodx-dossier-covered").text
    assert _severe(driver) == []


# --- The demo province, as `geo-dx run` writes it: the README's screenshots ---------------

# The screenshots go to tests/artifacts/; with GEO_DX_DOCS_IMG=1 also to docs/img/, the
# README's and the guides' pictures (so a test run never changes committed files).
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "img"


def _shot_paths(name: str) -> list[Path]:
    paths = [ARTIFACTS / name]
    if os.environ.get("GEO_DX_DOCS_IMG", "").strip() not in ("", "0"):
        paths.append(DOCS / name)
    return paths


@pytest.fixture(scope="module")
def demo_run() -> Path:
    from geo_dx.run.pipeline import analyse, demo_inputs, write

    out = Path(tempfile.mkdtemp(prefix="geodx-demo-pages-")) / "demo"
    write(analyse(demo_inputs()), out)
    yield out
    shutil.rmtree(out.parent, ignore_errors=True)


def _save_small_png(png: bytes, path: Path, *, colours: int = 256) -> int:
    """Keep a screenshot small: an adaptive palette of ``colours`` colours.

    Octree, not median cut: median cut merged the few pixels of the legend's green swatch
    (villages with both services) into a blue, so the picture showed a wrong colour.
    """
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colours, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        path, optimize=True)
    return path.stat().st_size


def test_demo_map_and_dossier_screenshots(driver, demo_run):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1000, "height": 720, "deviceScaleFactor": 1, "mobile": False})
    try:
        _open(driver, demo_run / "map.html")
        assert _severe(driver) == []
        # Relief, roads, towns and commune names are drawn; labels do not pile up.
        state = driver.execute_script("""
            var s = window.geoDxMaps[0], n = {relief: 0, roads: 0, towns: 0};
            ['relief', 'roads', 'towns'].forEach(function (k) {
                if (s.groups[k]) { n[k] = s.groups[k].getLayers().length; }
            });
            n.labels = document.querySelectorAll('.geodx-commune-label').length;
            return n;
        """)
        assert state["relief"] == 1 and state["roads"] > 500 and state["towns"] > 40
        # The relief is scaled smoothly, not in blocks like the 0/1 coverage raster.
        assert driver.execute_script(
            "return getComputedStyle(document.querySelector('img.geodx-relief-image'))"
            ".imageRendering;") == "auto"
        assert state["labels"] == 45
        # Place the labels now rather than wait for the page's timer.
        driver.execute_script("window.geoDxMaps[0].declutter();")
        settle(driver)
        shown = driver.execute_script("""
            return Array.from(document.querySelectorAll(
                '.geodx-commune-label, .geodx-town-label, .geodx-rank:not(.geodx-rank-legend)'
                )).filter(function (e) {
                    return getComputedStyle(e).visibility !== 'hidden'; }).map(function (e) {
                    var r = e.getBoundingClientRect();
                    return {cls: e.textContent, left: r.left, top: r.top, right: r.right,
                            bottom: r.bottom}; });
        """)
        assert len(shown) > 20 and _overlaps(shown) == []
        png = driver.get_screenshot_as_png()
        for path in _shot_paths("map.png"):
            assert _save_small_png(png, path) < 250_000
        # The small picture keeps every gap class's colour (the legend's swatches at least).
        from PIL import Image

        pixels = np.asarray(Image.open(ARTIFACTS / "map.png").convert("RGB"), dtype=int)
        for gap, colour in GAP_COLOURS.items():
            rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
            assert (np.abs(pixels - rgb).max(axis=2) <= 6).sum() >= 20, (gap, colour)
        # The dossier of the commune with the province's first village.
        index = (demo_run / "index.html").read_text(encoding="utf-8")
        first = re.search(r'<a href="(communes/[\w-]+\.html)">', index).group(1)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 800, "height": 1100, "deviceScaleFactor": 1, "mobile": False})
        _open(driver, demo_run / first)
        assert _severe(driver) == []
        png = driver.get_screenshot_as_png()
        for path in _shot_paths("dossier.png"):
            assert _save_small_png(png, path) < 250_000
        # The popup of the province's first village (the Vietnamese guide's picture), with
        # the legend folded so it does not cover the popup.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 760, "height": 620, "deviceScaleFactor": 1, "mobile": False})
        _open(driver, demo_run / "map.html")
        driver.find_element("css selector", ".geodx-legend-toggle").click()
        driver.execute_script("""
            var s = window.geoDxMaps[0];
            s.show(s.rows.findIndex(function (r) { return r.rank === 1; }));""")
        box = _popup_box_on_screen(driver)
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= 760 and box[3] <= 620, box
        driver.execute_script("window.geoDxMaps[0].declutter();")
        settle(driver)
        assert "Thứ 1 (" in driver.find_element("css selector", ".leaflet-popup-content").text
        png = driver.get_screenshot_as_png()
        for path in _shot_paths("popup.png"):
            assert _save_small_png(png, path) < 100_000
    finally:
        _phone(driver, False)
