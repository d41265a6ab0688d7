"""Open generated maps in headless Chromium with no network and check what a planner sees.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (``make test`` installs them
when missing); every test here is skipped, with the reason, when either cannot be found.

Networking is cut three ways: DevTools network emulation set to offline, a dead proxy for
every host, and a host resolver that resolves nothing. The page is loaded by file:// URL,
like a planner double-clicking it. The screenshot is kept in ``tests/artifacts/map.png``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from test_maps import (
    N_VILLAGES,
    TITLE,
    XSS,
    make_communes,
    make_coverage,
    make_villages,
)

from geo_dx.maps.write import write_maps
from geo_dx.schema import GAP_LABELS

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def _find(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _find("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMEDRIVER = _find("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="headless browser tests need Chromium and chromedriver "
    "(Debian: apt-get install -y chromium chromium-driver); not found on PATH",
)

# JavaScript helpers run in the page.
_STATE = "return window.geoDxMaps && window.geoDxMaps.length ? window.geoDxMaps.length : 0;"
_COUNT_VILLAGES = """
    var map = window.geoDxMaps[0].map, n = 0;
    map.eachLayer(function (l) {
        if (l.options && l.options.geoDxVillage !== undefined) { n += 1; }
    });
    return n;
"""


@pytest.fixture(scope="module")
def maps_dir() -> Path:
    out = Path(tempfile.mkdtemp(prefix="geodx-browser-"))
    write_maps(out, make_villages(), make_communes(), make_coverage(), title=TITLE,
               language="en")  # the English map (--lang en); test_browser_vi reads Vietnamese
    yield out
    shutil.rmtree(out, ignore_errors=True)


@pytest.fixture(scope="module")
def driver():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="geodx-chromium-")
    opts = Options()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--window-size=1200,850", f"--user-data-dir={profile}",
                 "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                 "--host-resolver-rules=MAP * ~NOTFOUND"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    try:
        drv.execute_cdp_cmd("Network.enable", {})
        drv.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        # Record alerts instead of showing them, and uncaught errors, from the first script on.
        drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
            window.__alerts = []; window.__errors = [];
            window.alert = function (m) { window.__alerts.push(String(m)); };
            window.addEventListener('error', function (e) {
                window.__errors.push(String(e.message));
            });
        """})
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _open(driver, path: Path) -> None:
    driver.get_log("browser")  # drop anything from a previous page
    driver.get_log("performance")
    driver.get(path.as_uri())
    deadline = time.monotonic() + 20
    while not driver.execute_script(_STATE):
        if time.monotonic() > deadline:
            raise AssertionError(f"map did not initialise; console: {driver.get_log('browser')}")
        time.sleep(0.1)


def _requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def _severe(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _open_popup_by_click(driver, village_index: int) -> None:
    """Centre the map on a village at high zoom and click it where it is drawn."""
    from selenium.webdriver.common.action_chains import ActionChains

    point = driver.execute_script("""
        var s = window.geoDxMaps[0], r = s.rows[arguments[0]];
        s.map.closePopup();
        s.map.setView([r.lat, r.lon], 16, {animate: false});
        var p = s.map.latLngToContainerPoint([r.lat, r.lon]), size = s.map.getSize();
        return [p.x - size.x / 2, p.y - size.y / 2];
    """, village_index)
    container = driver.find_element("css selector", ".folium-map")
    ActionChains(driver).move_to_element_with_offset(
        container, int(round(point[0])), int(round(point[1]))).click().perform()
    deadline = time.monotonic() + 5
    while not driver.find_elements("css selector", ".leaflet-popup-content"):
        if time.monotonic() > deadline:
            raise AssertionError("no popup opened after clicking the village marker")
        time.sleep(0.05)


def _popup_name(driver, timeout_s: float = 5.0) -> str:
    """Text of the open popup's title once it is visible (the map may still be panning)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = driver.find_elements("css selector", ".leaflet-popup .geodx-popup-name")
        if found and found[0].text:
            return found[0].text
        if time.monotonic() > deadline:
            return found[0].get_attribute("textContent") if found else ""
        time.sleep(0.05)


def test_main_map_offline(driver, maps_dir):
    _open(driver, maps_dir / "map.html")
    time.sleep(0.5)

    # Every village with a gap is a Leaflet layer on the map; the 6 fully covered villages
    # start hidden on the province map (one click in the layer control shows them).
    assert driver.execute_script(_COUNT_VILLAGES) == N_VILLAGES - 6
    # Title, legend, layer control, search, scale bar and fullscreen button are there.
    assert driver.find_element("css selector", ".geodx-title-main").text == TITLE
    legend = driver.find_element("css selector", ".geodx-legend").text
    for label in GAP_LABELS.values():
        assert label in legend
    for css in (".leaflet-control-layers", ".geodx-search-input", ".leaflet-control-scale",
                ".leaflet-control-zoom-fullscreen"):
        assert driver.find_elements("css selector", css), css
    assert len(driver.find_elements("css selector", ".geodx-rank")) >= 6  # 6 gap villages ranked

    # Screenshot of the whole map: not blank, and the worst gap class's colour is drawn.
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "map.png"
    driver.save_screenshot(str(shot))
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert pixels.std() > 10
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
    target = np.array([0xD5, 0x5E, 0x00], dtype=float)  # no fibre, no mobile
    assert (np.abs(pixels - target).max(axis=2) < 40).sum() > 20

    # Nothing went wrong and nothing was fetched from the network.
    assert _severe(driver) == []
    assert driver.execute_script("return window.__errors") == []
    remote = [u for u in _requested_urls(driver) if not u.startswith(("file:", "data:"))]
    assert remote == []


def test_popup_shows_escaped_name(driver, maps_dir):
    _open(driver, maps_dir / "map.html")
    index = driver.execute_script(
        "return window.geoDxMaps[0].rows.findIndex(function (r) { return r.id === 'v01'; });")
    _open_popup_by_click(driver, index)
    popup = driver.find_element("css selector", ".leaflet-popup-content")
    assert _popup_name(driver) == XSS
    text = popup.text
    assert "Xã Mường Phăng" in text and "No fibre, no mobile broadband" in text
    assert "Score" in text and "Remote <b>and</b> ethnic-minority & no signal" in text
    assert len(popup.find_elements("css selector", ".geodx-bar-row")) == 5
    # The name is text: no element was injected and no handler ran.
    assert popup.find_elements("css selector", "img, b, script") == []
    assert driver.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert driver.execute_script("return window.__alerts") == []
    assert _severe(driver) == []


def test_search_finds_village_without_diacritics(driver, maps_dir):
    _open(driver, maps_dir / "map.html")
    box = driver.find_element("css selector", ".geodx-search-input")
    box.send_keys("ban phieng")
    hits = driver.find_elements("css selector", ".geodx-search-hit")
    assert [h.text for h in hits] == ["Bản Phiêng — Xã Mường Phăng"]
    hits[0].click()
    assert _popup_name(driver) == "Bản Phiêng"
    assert _severe(driver) == []


def test_layer_toggle_hides_a_gap_class(driver, maps_dir):
    from selenium.webdriver.common.action_chains import ActionChains

    _open(driver, maps_dir / "map.html")
    control = driver.find_element("css selector", ".leaflet-control-layers")
    ActionChains(driver).move_to_element(control).perform()  # expands the control
    label = next(el for el in driver.find_elements("css selector",
                                                    ".leaflet-control-layers-overlays label")
                 if el.text.strip() == "Fibre and mobile broadband (6)")
    label.click()
    assert driver.execute_script(_COUNT_VILLAGES) == N_VILLAGES
    label.click()
    assert driver.execute_script(_COUNT_VILLAGES) == N_VILLAGES - 6


def test_commune_map_and_index_offline(driver, maps_dir):
    _open(driver, maps_dir / "communes" / "xa-muong-phang-A.html")
    assert driver.execute_script(_COUNT_VILLAGES) == 4
    assert _severe(driver) == []
    driver.get((maps_dir / "index.html").as_uri())
    links = driver.find_elements("css selector", ".geodx-communes tbody a")
    assert [a.text for a in links][:2] == ["Xã Mường Phăng", "Xã Nà Tấu"]
    links[0].click()
    deadline = time.monotonic() + 10
    while not driver.execute_script(_STATE):
        assert time.monotonic() < deadline, "commune map from the index did not load"
        time.sleep(0.1)
    assert driver.execute_script(_COUNT_VILLAGES) == 4
    assert _severe(driver) == []


def test_osm_basemap_offline_fails_only_on_tiles(driver, maps_dir):
    """Choosing the online basemap with no network: tiles fail, the map keeps working."""
    _open(driver, maps_dir / "map.html")
    driver.execute_script("""
        var map = window.geoDxMaps[0].map;
        map.eachLayer(function (l) { if (l instanceof L.TileLayer) { map.removeLayer(l); } });
        var labels = document.querySelectorAll('.leaflet-control-layers-base label');
        for (var i = 0; i < labels.length; i++) {
            if (labels[i].textContent.indexOf('OpenStreetMap') !== -1) {
                labels[i].querySelector('input').click();
            }
        }
    """)
    time.sleep(1.5)
    assert driver.execute_script(
        "var n = 0; window.geoDxMaps[0].map.eachLayer(function (l) {"
        " if (l instanceof L.TileLayer) { n += 1; } }); return n;") == 1
    severe = _severe(driver)
    # Failed tile loads are the only errors allowed here (and the only ones ignored anywhere).
    assert all("tile.openstreetmap.org" in e["message"] for e in severe), severe
    assert driver.execute_script("return window.__errors") == []
    assert driver.execute_script(_COUNT_VILLAGES) == N_VILLAGES - 6
