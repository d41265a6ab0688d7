"""Misplaced villages in headless Chromium: the legend says how many, the view stays home.

Uses the driver and helpers of ``test_browser`` (same skip rule). The province is the one
of ``test_misplaced``: v05 typed with its longitude's sign lost (the other side of the
world) and ``<b>Bản X</b>`` outside every commune.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import test_browser
from test_browser import _open, _severe
from test_maps import make_communes, make_coverage
from test_misplaced import misplaced_province

from geo_dx.maps.pages import commune_page_names
from geo_dx.maps.write import write_maps

driver = test_browser.driver  # the same headless Chromium fixture, one per module


@pytest.fixture(scope="module")
def run_dir() -> Path:
    out = Path(tempfile.mkdtemp(prefix="geodx-misplaced-"))
    for language in ("en", "vi"):
        write_maps(out / language, misplaced_province(), make_communes(), make_coverage(),
                   title="Test province", language=language)
    yield out
    shutil.rmtree(out, ignore_errors=True)


_VIEW = """
    var s = window.geoDxMaps[0], b = s.map.getBounds();
    return {west: b.getWest(), east: b.getEast(), south: b.getSouth(), north: b.getNorth(),
            markers: s.rows.length};
"""


@pytest.mark.parametrize(("language", "note"), [
    ("en", "2 villages not shown: their location needs checking"),
    ("vi", "2 thôn, bản chưa hiện trên bản đồ: tọa độ cần kiểm tra"),
])
def test_the_legend_counts_them_and_the_view_stays_on_the_province(driver, run_dir, language,
                                                                   note):
    _open(driver, run_dir / language / "map.html")
    line = driver.find_element("css selector", ".geodx-legend .geodx-legend-unplaced")
    assert line.text == note
    view = driver.execute_script(_VIEW)
    assert view["markers"] == 11
    # the province is 105.0-105.3 E, 21.34-21.43 N; with v05 drawn it would span -105..105
    assert 104.5 < view["west"] < view["east"] < 105.8, view
    assert 21.0 < view["south"] < view["north"] < 21.8, view
    assert _severe(driver) == []


def test_the_dossier_shows_its_misplaced_village_below_the_map(driver, run_dir):
    page = commune_page_names(["B"], ["Xã Nà Tấu"])["B"]
    _open(driver, run_dir / "en" / "communes" / page)
    listed = driver.find_element("css selector", ".geodx-misplaced")
    assert listed.is_displayed()
    rows = listed.find_elements("css selector", ".geodx-misplaced-row")
    assert [r.get_attribute("data-village-id") for r in rows] == ["v05"]
    assert "205.0 km outside its commune_id B" in rows[0].text
    legend = driver.find_element("css selector", ".geodx-legend-unplaced")  # maybe folded
    assert legend.get_attribute("textContent") == (
        "1 village not shown: its location needs checking")
    assert _severe(driver) == []
