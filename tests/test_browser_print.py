"""Printing the demo province's map and a commune dossier to PDF shows what the screen shows.

Chromium prints with ``Page.printToPDF`` (the engine of Chrome, Edge and Cốc Cốc's "Save as
PDF"); the first page is rasterised with pdfium at 96 dpi (one CSS pixel per pixel) and its
map area is compared with a screenshot of the same map on screen, at the printed size and
view: villages, commune shading, roads, relief (and on the dossier the coverage raster) must
be there in about the same proportions. Before the fix the canvas, drawn again in
``beforeprint``, printed as a white sheet over everything but the labels.

Uses the driver of ``test_browser`` (same skip rule). Waits are for conditions (a frame
drawn, the map ready), never fixed sleeps.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import test_browser
from test_browser import CHROMEDRIVER, CHROMIUM, _open, _requested_urls, _severe
from test_browser_pages import _save_small_png, _shot_paths

from geo_dx.schema import GAP_COLOURS

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="headless browser tests need Chromium and chromedriver "
    "(Debian: apt-get install -y chromium chromium-driver); not found on PATH",
)
pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 is not installed (dev extra)")
driver = test_browser.driver  # the same headless Chromium fixture, one per module

DOCS = Path(__file__).resolve().parents[1] / "docs" / "img"
MM = 96 / 25.4  # CSS pixels per millimetre
#: The page margins of geo_dx_page.css (@page geodx-map: A4 landscape; @page: A4 portrait).
MAP_PAGE = {"margin_mm": 8, "width_mm": 281}
DOSSIER = {"margin_mm": 12, "width_mm": 186}


@pytest.fixture(scope="module")
def demo_run() -> Path:
    import dataclasses

    from geo_dx.run.pipeline import analyse, demo_inputs, write

    out = Path(tempfile.mkdtemp(prefix="geodx-print-")) / "demo"
    # as `geo-dx run --budget 30e9`: with the investment plan
    write(analyse(dataclasses.replace(demo_inputs(), budget=30e9)), out)
    yield out
    shutil.rmtree(out.parent, ignore_errors=True)


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


_VILLAGE_RGB = np.stack([_rgb(c) for c in GAP_COLOURS.values()])


def classify(image: np.ndarray) -> dict[str, int]:
    """
    Pixels of each map layer in an RGB image: village circles (a gap colour), commune
    shading (blue tint), roads (brown), relief (grey shades) and the coverage raster (green
    tint).

    Examples
    --------
    >>> px = np.array([[[213, 94, 0], [200, 212, 232], [187, 118, 70], [150, 150, 152],
    ...                 [179, 226, 213], [255, 255, 255]]], dtype=np.uint8)
    >>> classify(px)
    {'village': 1, 'fill': 1, 'road': 1, 'relief': 1, 'raster': 1}
    """
    rgb = image[..., :3].astype(float)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    near = np.min(np.linalg.norm(rgb[..., None, :] - _VILLAGE_RGB, axis=-1), axis=-1)
    village = near < 45
    spread = rgb.max(axis=-1) - rgb.min(axis=-1)
    mean = rgb.mean(axis=-1)
    rest = ~village
    fill = rest & (b - r > 10) & (b >= g)
    raster = rest & (g - r > 20) & (g > b)
    road = rest & (r - b > 40) & (r - g > 25) & (r - b < 170)
    relief = rest & (spread < 8) & (mean > 100) & (mean < 228)
    return {k: int(v.sum()) for k, v in
            (("village", village), ("fill", fill), ("road", road), ("relief", relief),
             ("raster", raster))}


_FRAME = """
    var done = arguments[arguments.length - 1];
    requestAnimationFrame(function () { requestAnimationFrame(function () { done(true); }); });
"""


_SETTLED = r"""
    var done = arguments[arguments.length - 1], map = window.geoDxMaps[0].map;
    function scaled() {
        return Array.from(document.querySelectorAll('.leaflet-pane canvas')).some(
            function (c) { return /scale\((?!1\))/.test(c.style.transform); });
    }
    (function wait() {
        if (map._animatingZoom || scaled()) { requestAnimationFrame(wait); return; }
        requestAnimationFrame(function () { requestAnimationFrame(function () { done(true); }); });
    })();
"""


def _show_all(driver, width: int, height: int) -> None:
    """The map at the printed size on screen, the legend folded, the whole data in view.

    The map's box is sized rather than the window: a screenshot right after the window
    changed size may show a frame from before.
    """
    driver.execute_async_script("""
        var done = arguments[2], w = arguments[0], h = arguments[1], stable = 0;
        var s = window.geoDxMaps[0], map = s.map, box = map.getContainer();
        var body = document.querySelector('.geodx-legend-body');
        if (body && body.style.display !== 'none') {
            document.querySelector('.geodx-legend-toggle').click(); }
        box.style.width = w + 'px';
        box.style.height = h + 'px';
        var want = L.latLngBounds(s.data.bounds);
        // Fit until three frames in a row show the box's size and the whole data.
        (function wait() {
            var size = map.getSize();
            var ready = size.x === box.clientWidth && size.y === box.clientHeight &&
                map.getBounds().contains(want) && !map._animatingZoom;
            if (!ready) {
                stable = 0;
                map.invalidateSize({animate: false, pan: false});
                map.fitBounds(want, {padding: [10, 10], animate: false});
            } else if (++stable >= 3) {
                s.declutter();
                done(true);
                return;
            }
            requestAnimationFrame(wait);
        })();
    """, width, height)
    # Settled: no zoom animation left (its canvas is scaled, not drawn), then one frame drawn.
    driver.execute_async_script(_SETTLED)


def _map_rect(driver) -> dict:
    return driver.execute_script(
        "var r = document.querySelector('.folium-map').getBoundingClientRect();"
        "return {left: r.left, top: r.top, width: r.width, height: r.height};")


def _crop(image: np.ndarray, rect: dict, dx: float = 0.0, dy: float = 0.0) -> np.ndarray:
    x0, y0 = round(rect["left"] + dx) + 2, round(rect["top"] + dy) + 2
    return image[y0:y0 + int(rect["height"]) - 4, x0:x0 + int(rect["width"]) - 4]


def _print_rect(driver, page: dict) -> dict:
    """Where the map sits on the printed page: laid out with print CSS at the page's width."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": round(page["width_mm"] * MM), "height": 800, "deviceScaleFactor": 1,
        "mobile": False})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        rect = driver.execute_script(
            "window.scrollTo(0, 0);"
            "var r = document.querySelector('.folium-map').getBoundingClientRect();"
            "return {left: r.left, top: r.top, width: r.width, height: r.height};")
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return rect


def _print_first_page(driver) -> tuple[np.ndarray, int, bytes]:
    pdf = base64.b64decode(driver.execute_cdp_cmd("Page.printToPDF", {
        "printBackground": True, "preferCSSPageSize": True})["data"])
    doc = pdfium.PdfDocument(pdf)
    image = np.asarray(doc[0].render(scale=96 / 72).to_pil().convert("RGB"))
    return image, len(doc), pdf


def _screenshot(driver) -> np.ndarray:
    from PIL import Image

    png = driver.get_screenshot_as_png()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _compare(screen: dict[str, int], printed: dict[str, int], layers: tuple[str, ...]) -> None:
    for layer in layers:
        assert screen[layer] > 300, (layer, screen)  # the layer is on the screen
        ratio = printed[layer] / screen[layer]
        assert 0.6 < ratio < 1.6, (layer, screen, printed)


def _print_and_compare(driver, path: Path, page: dict, layers: tuple[str, ...],
                       name: str) -> dict[str, int]:
    _open(driver, path)
    rect = _print_rect(driver, page)
    _show_all(driver, round(rect["width"]), round(rect["height"]))
    shot = _screenshot(driver)
    screen = classify(_crop(shot, _map_rect(driver)))
    image, pages, _ = _print_first_page(driver)
    margin = page["margin_mm"] * MM
    printed = classify(_crop(image, rect, margin, margin))
    from PIL import Image

    Image.fromarray(shot).save(ARTIFACTS / f"{name}-screen.png")
    # The printed page, small (docs/maps.md shows the map's: GEO_DX_DOCS_IMG=1 writes it).
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    for path in _shot_paths(f"printed-{name}.png"):
        assert _save_small_png(buffer.getvalue(), path) < 300_000
    _compare(screen, printed, layers)
    # After printing the map is back on its canvas, drawn as before.
    driver.execute_async_script(_FRAME)
    state = driver.execute_script("""
        var s = window.geoDxMaps[0], svg = 0, canvas = 0;
        s.map.eachLayer(function (l) {
            if (!(l instanceof L.Path)) { return; }
            if (l._renderer instanceof L.SVG) { svg++; } else { canvas++; }
        });
        return {svg: svg, canvas: canvas,
                printing: s.map.getContainer().classList.contains('geodx-printing')};
    """)
    assert state == {"svg": 0, "canvas": state["canvas"], "printing": False}
    assert state["canvas"] > 100
    assert _severe(driver) == []
    assert [u for u in _requested_urls(driver) if re.match(r"(https?|wss?):", u)] == []
    return {"pages": pages, **printed}


ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def test_printed_province_map_shows_villages_communes_roads_and_relief(driver, demo_run):
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        out = _print_and_compare(driver, demo_run / "map.html", MAP_PAGE,
                                 ("village", "fill", "road", "relief"), "map")
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert out["pages"] == 1


def test_printed_dossier_shows_relief_and_the_coverage_raster(driver, demo_run):
    index = (demo_run / "index.html").read_text(encoding="utf-8")
    first = re.search(r'<a href="(communes/[\w-]+\.html)">', index).group(1)
    try:
        out = _print_and_compare(driver, demo_run / first, DOSSIER,
                                 ("village", "fill", "road", "relief", "raster"), "dossier")
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert out["pages"] >= 1


# --- The legend explains every symbol; the ridge marker beside its popup --------------------

#: The legend symbol (CSS class geodx-sym-<kind> or a legend swatch) of each layer a map has.
_LAYER_SYMBOLS = {
    "relief": ".geodx-sym-relief", "roads": ".geodx-sym-road-main",
    "towns": ".geodx-sym-centre", "communeLabels": ".geodx-sym-name",
    "communes": ".geodx-legend-communes", "top": ".geodx-rank-legend",
    "mobile": ".geodx-swatch-ring", "fibre": ".geodx-swatch-dot",
}


def test_legend_lists_the_symbol_of_every_layer(driver, demo_run):
    _open(driver, demo_run / "map.html")
    legend = driver.find_element("css selector", ".geodx-legend-body")
    groups = driver.execute_script("return Object.keys(window.geoDxMaps[0].groups);")
    for key in groups:
        if key in _LAYER_SYMBOLS:
            assert legend.find_elements("css selector", _LAYER_SYMBOLS[key]), key
    text = legend.get_attribute("textContent")
    for words in ("Đường chính", "Đường địa phương", "Trung tâm xã, phường", "Tên xã, phường",
                  "Địa hình (bóng đồi núi)", "Đỉnh núi che sóng", "Vùng phủ sóng di động theo "
                  "địa hình", "Kế hoạch đầu tư", "Trạm BTS xây mới hoặc nâng cấp", "Kéo cáp quang",
                  "Thôn, bản được trạm mới phục vụ"):
        assert words in text, words
    # Plan sites are squares, the 4G site a ring: told apart in the legend and on the map.
    shapes = driver.execute_script("""
        function radius(css) {
            var e = document.querySelector(css);
            return e ? getComputedStyle(e).borderTopLeftRadius : null; }
        return {plan: radius('.geodx-sym-plan-site'), site4g: radius('.geodx-swatch-ring'),
                onMap: radius('.geodx-plan-site'),
                labels: Array.from(document.querySelectorAll('.geodx-plan-label')).map(
                    function (e) { return e.textContent; })};
    """)
    assert shapes["plan"] == "0px" and shapes["onMap"] == "0px" and shapes["site4g"] == "50%"
    items = {"M" + str(i) for i in range(1, 4)}  # every item keeps its id on the map
    assert items <= set(shapes["labels"])
    assert _severe(driver) == []


def test_the_ridge_marker_is_beside_its_open_popup_for_every_blocked_village(driver, demo_run):
    _open(driver, demo_run / "map.html")
    found = driver.execute_script("""
        var s = window.geoDxMaps[0], out = [], box = s.map.getContainer().getBoundingClientRect();
        s.rows.forEach(function (r, i) {
            if (!r.blocked || r.obstacleLat === null) { return; }
            s.show(i);
            var mark = document.querySelector('.geodx-obstacle');
            var pop = document.querySelector('.leaflet-popup-content-wrapper');
            var m = mark.getBoundingClientRect(), p = pop.getBoundingClientRect();
            var covered = m.left < p.right && p.left < m.right && m.top < p.bottom &&
                p.top < m.bottom;
            var shown = m.left >= box.left && m.right <= box.right && m.top >= box.top &&
                m.bottom <= box.bottom;
            out.push({id: r.id, covered: covered, shown: shown, site: r.blockedBy,
                      mark: [m.left, m.top], popup: [p.left, p.top, p.right, p.bottom],
                      zoom: s.map.getZoom()});
        });
        return out;
    """)
    assert len(found) == 75  # the demo's villages behind a ridge
    assert [f for f in found if f["covered"] or not f["shown"]] == []
    # Each names its blocking site's technology and operator, and where it lies.
    directions = ("bắc", "nam", "đông", "tây")
    for f in found:
        assert re.fullmatch(r"SYNS\d{4} \([2-5]G, [^)]+\), ở phía .+", f["site"]), f
        assert any(d in f["site"].rsplit("phía", 1)[1] for d in directions), f
    assert _severe(driver) == []


def test_village_names_from_zoom_12_and_always_on_a_dossier(driver, demo_run):
    _open(driver, demo_run / "map.html")
    visible = """
        window.geoDxMaps[0].declutter();
        return Array.from(document.querySelectorAll('.geodx-village-label')).filter(
            function (e) { return getComputedStyle(e).visibility !== 'hidden'; }).length;"""
    assert driver.execute_script(visible) == 0  # the province as first opened
    driver.execute_async_script(_SETTLED)
    zoom = driver.execute_async_script("""
        var done = arguments[0], s = window.geoDxMaps[0];
        var r = s.rows.find(function (r) { return r.rank === 1; });
        (function go() {  // until the view holds (nothing else moves the map meanwhile)
            s.map.setView([r.lat, r.lon], 12.5, {animate: false});
            requestAnimationFrame(function () {
                if (s.map.getZoom() === 12.5) { done(12.5); } else { go(); }
            });
        })();""")
    assert zoom == 12.5
    assert driver.execute_script(visible) > 3
    index = (demo_run / "index.html").read_text(encoding="utf-8")
    first = re.search(r'<a href="(communes/[\w-]+\.html)">', index).group(1)
    _open(driver, demo_run / first)
    assert driver.execute_script("return window.geoDxMaps[0].map.getZoom()") < 12
    assert driver.execute_script(visible) > 3


# --- The national overview: Vietnamese, full window, labels that fit ----------------------

_SHOWN_LABELS = """
    window.geoDxMaps[0].declutter();
    return Array.from(document.querySelectorAll(
        '.geodx-area-label, .geodx-commune-label, .geodx-town-label')).filter(function (e) {
            return getComputedStyle(e).visibility !== 'hidden'; }).map(function (e) {
            var r = e.getBoundingClientRect();
            return {cls: e.className.split(' ').filter(function (c) {
                        return c.indexOf('geodx-') === 0; })[0],
                    left: r.left, top: r.top, right: r.right, bottom: r.bottom}; });
"""


def _zoom_to(driver, zoom: float) -> None:
    driver.execute_async_script("""
        var done = arguments[1], s = window.geoDxMaps[0], z = arguments[0];
        (function go() {
            s.map.setView(s.map.getCenter(), z, {animate: false});
            requestAnimationFrame(function () {
                if (s.map.getZoom() === z) { done(true); } else { go(); } });
        })();""", zoom)


def test_overview_is_vietnamese_full_window_and_its_labels_fit(driver, tmp_path, monkeypatch):
    from test_browser_pages import _overlaps
    from test_browser_vi import _READABLE, untranslated
    from test_maps import TITLE, make_communes, make_coverage, make_villages

    import geo_dx.maps.write as maps

    monkeypatch.setattr(maps, "OVERVIEW_ABOVE_VILLAGES", 5)  # the 12 villages are "large"
    communes = make_communes().assign(province=["Tỉnh Bắc", "Tỉnh Bắc", "Tỉnh Nam"])
    maps.write_maps(tmp_path, make_villages(), communes, make_coverage(), title=TITLE)
    _open(driver, tmp_path / "map.html")
    assert untranslated(driver.execute_script(_READABLE)) == []
    text = driver.find_element("css selector", ".geodx-areas").text
    assert "Bản đồ theo vùng" in text and "(8 thôn, bản, 5 còn thiếu hụt)" in text
    # The map fills the window (the list of areas floats over it).
    size = driver.execute_script(
        "var r = document.querySelector('.folium-map').getBoundingClientRect();"
        "return [r.width, r.height, innerWidth, innerHeight];")
    assert size[0] >= size[2] - 1 and size[1] >= size[3] - 1
    # National zoom: area names (with counts), no commune names; zoomed in: the reverse.
    _zoom_to(driver, 6)
    shown = driver.execute_script(_SHOWN_LABELS)
    kinds = {s["cls"] for s in shown}
    assert kinds == {"geodx-area-label"} and _overlaps(shown) == []
    _zoom_to(driver, 11)
    shown = driver.execute_script(_SHOWN_LABELS)
    assert {s["cls"] for s in shown} == {"geodx-commune-label"} and len(shown) == 3
    assert _overlaps(shown) == []
    assert _severe(driver) == []
