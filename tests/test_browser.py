"""Open generated maps in headless Chromium with no network and check what a planner sees.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (``make test`` installs them
when missing). When either cannot be found every test that needs the browser is skipped,
with the reason; in CI (``CI`` set) it fails instead, so a broken runner never passes by
skipping. The other browser test files use the ``driver`` fixture and helpers of this one.

Robust under CPU load: the tests never sleep a fixed time; they wait, with a generous
deadline, for a condition in the page (``wait_for``, and ``_open`` which returns once the
page has loaded, built its map, run its pending timers and drawn two frames).

Networking is cut three ways: DevTools network emulation set to offline, a dead proxy for
every host, and a host resolver that resolves nothing. The page is loaded by file:// URL,
like a planner double-clicking it. The screenshot is kept in ``tests/artifacts/map.png``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
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
try:
    from selenium import webdriver
except ImportError:  # pragma: no cover - selenium is a dev dependency
    webdriver = None


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if webdriver is None:
        return "headless browser tests need selenium (pip install -e '.[dev]')"
    if CHROMIUM is None or CHROMEDRIVER is None:
        return ("headless browser tests need Chromium and chromedriver "
                "(Debian: apt-get install -y chromium chromium-driver); not found on PATH")
    return None


def require_browser(missing: str | None = None) -> None:
    """Skip a browser test, with the reason, when the browser is missing; in CI, fail.

    ``CI`` set to anything but ``""``, ``0`` or ``false`` means CI (``.ci/run`` sets
    ``CI=true``): there a missing browser is a broken runner, not a reason to pass.
    """
    missing = missing if missing is not None else browser_missing()
    if missing is None:
        return
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false"):
        pytest.fail(f"{missing} (CI is set: browser tests must run)", pytrace=False)
    pytest.skip(missing)


#: URL schemes that go over the network. The browser's own schemes (chrome://, data:,
#: blob:, file:, about:, devtools://) are never network traffic and never counted.
NETWORK_SCHEMES = ("http", "https", "ws", "wss")

#: Deadline of every wait: generous, since a loaded 2-core machine can be very slow.
WAIT_S = 30.0

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
    require_browser()
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
        drv.set_page_load_timeout(120)
        drv.set_script_timeout(WAIT_S)
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


def wait_for(driver, script: str, *args, what: str, timeout_s: float = WAIT_S):
    """Run ``script`` (JavaScript returning a value) until the value is truthy; return it.

    The explicit wait every browser test uses instead of a fixed sleep: it returns as soon
    as the page is in the state asked for, and fails with ``what`` (and the last value)
    only after ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = driver.execute_script(script, *args)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout_s:.0f} s for {what}; last value {value!r}; "
                                 f"console: {driver.get_log('browser')}")
        time.sleep(0.05)


# Resolves once the page has loaded (images included), its timers queued so far have run
# (the page names Leaflet's buttons in a setTimeout) and two frames have been drawn.
_SETTLE = """
    var done = arguments[arguments.length - 1];
    function frames() {
        requestAnimationFrame(function () { requestAnimationFrame(function () {
            setTimeout(function () { done(true); }, 0); }); });
    }
    if (document.readyState === 'complete') { setTimeout(frames, 0); }
    else { window.addEventListener('load', function () { setTimeout(frames, 0); }); }
"""


def settle(driver) -> None:
    """Wait until the page has loaded, run its pending timers and drawn two frames."""
    driver.execute_async_script(_SETTLE)


def _open(driver, path: Path, *, has_map: bool = True) -> None:
    """Open a page by file:// URL and wait until it is ready (its map built, if it has one)."""
    driver.get_log("browser")  # drop anything from a previous page
    driver.get_log("performance")
    driver.get(path.as_uri())
    if has_map:
        wait_for(driver, _STATE, what=f"the map of {path.name} to initialise")
    settle(driver)


def _requested_urls(driver) -> list[str]:
    """Every URL the page asked for since the last read (any scheme), WebSockets included."""
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
        elif msg.get("method") == "Network.webSocketCreated":
            urls.append(msg["params"]["url"])
    return urls


def network_requests(urls: list[str]) -> list[str]:
    """The URLs that go over the network: http(s) and ws(s), never the browser's own.

    >>> network_requests(["chrome://resources/js/x.js", "data:image/png;base64,AA",
    ...                   "blob:file:///1", "file:///tmp/map.html", "https://cdn.x/l.js",
    ...                   "HTTP://a.b/", "wss://live.x/", "ws://h/", "about:blank"])
    ['https://cdn.x/l.js', 'HTTP://a.b/', 'wss://live.x/', 'ws://h/']
    """
    return [u for u in urls if u.partition(":")[0].lower() in NETWORK_SCHEMES]


def remote_requests(driver) -> list[str]:
    """What the page fetched from the network since the last read (should be nothing)."""
    return network_requests(_requested_urls(driver))


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
    wait_for(driver, "return !!document.querySelector('.leaflet-popup-content');",
             what="a popup to open after clicking the village marker")


def _popup_name(driver, timeout_s: float = WAIT_S) -> str:
    """Text of the open popup's title once it is visible (the map may still be panning)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = driver.find_elements("css selector", ".leaflet-popup .geodx-popup-name")
        if found and found[0].text:
            return found[0].text
        if time.monotonic() > deadline:
            return found[0].get_attribute("textContent") if found else ""
        time.sleep(0.05)


def test_a_missing_browser_skips_locally_and_fails_in_ci(monkeypatch):
    reason = "headless browser tests need Chromium and chromedriver; not found on PATH"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="need Chromium"):
        require_browser(reason)
    for value in ("true", "1", "yes"):
        monkeypatch.setenv("CI", value)
        with pytest.raises(pytest.fail.Exception, match="need Chromium.*CI is set"):
            require_browser(reason)
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        require_browser(reason)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(sys.modules[__name__], "browser_missing", lambda: None)
    assert require_browser() is None  # nothing missing: the test runs


def test_only_network_schemes_count_as_requests():
    # Chromium asks for its own UI resources (chrome://resources/...) under load: not network.
    urls = ["file:///tmp/map.html", "chrome://resources/js/load_time_data.js",
            "data:image/png;base64,iVBOR", "blob:file:///3f1c", "devtools://devtools/x",
            "about:blank", "https://unpkg.com/leaflet.js", "http://tile.osm.org/1/2/3.png",
            "wss://example.org/live", "ws://127.0.0.1:9/"]
    assert network_requests(urls) == urls[-4:]


def test_main_map_offline(driver, maps_dir):
    _open(driver, maps_dir / "map.html")

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

    # Screenshot of the whole map: not blank, and the worst gap class's colour is drawn
    # (the canvas is drawn on an animation frame: take screenshots until it is there).
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "map.png"
    from PIL import Image

    target = np.array([0xD5, 0x5E, 0x00], dtype=float)  # no fibre, no mobile
    deadline = time.monotonic() + WAIT_S
    while True:
        driver.save_screenshot(str(shot))
        pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
        drawn = (np.abs(pixels - target).max(axis=2) < 40).sum()
        if drawn > 20 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert pixels.std() > 10
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
    assert drawn > 20

    # Nothing went wrong and nothing was fetched from the network.
    assert _severe(driver) == []
    assert driver.execute_script("return window.__errors") == []
    assert remote_requests(driver) == []


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


def test_a_village_shown_as_the_page_opens_stays_in_view(driver, maps_dir):
    """Showing a village (what the search box does) right after the page has loaded.

    The first view used to be animated; a village shown before that zoom animation ended
    was then zoomed out again by it, its popup left off the screen (seen under CPU load).
    """
    driver.get((maps_dir / "map.html").as_uri())
    wait_for(driver, _STATE, what="the map to initialise")
    driver.execute_script("""
        var s = window.geoDxMaps[0];
        s.show(s.rows.findIndex(function (r) { return r.id === 'v01'; }));""")
    settle(driver)
    wait_for(driver, "return !!document.querySelector('.leaflet-popup');", what="the popup")
    view = driver.execute_script("""
        var s = window.geoDxMaps[0], m = s.map, r = s.rows.find(function (r) {
            return r.id === 'v01'; });
        return {zoom: m.getZoom(), inside: m.getBounds().contains([r.lat, r.lon])};""")
    assert view == {"zoom": 14, "inside": True}
    assert _popup_name(driver) == XSS


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
    wait_for(driver, _STATE, what="the commune map opened from the index to load")
    settle(driver)
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
    # Wait until the tile layer is on the map and has finished trying its tiles.
    wait_for(driver, """
        var tiles = [];
        window.geoDxMaps[0].map.eachLayer(function (l) {
            if (l instanceof L.TileLayer) { tiles.push(l); } });
        return tiles.length === 1 && !tiles[0].isLoading();
    """, what="the OpenStreetMap layer to finish (and fail) loading its tiles")
    assert driver.execute_script(
        "var n = 0; window.geoDxMaps[0].map.eachLayer(function (l) {"
        " if (l instanceof L.TileLayer) { n += 1; } }); return n;") == 1
    severe = _severe(driver)
    # Failed tile loads are the only errors allowed here (and the only ones ignored anywhere).
    assert all("tile.openstreetmap.org" in e["message"] for e in severe), severe
    assert driver.execute_script("return window.__errors") == []
    assert driver.execute_script(_COUNT_VILLAGES) == N_VILLAGES - 6
