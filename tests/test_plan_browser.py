"""The plan layer in headless Chromium with no network: drawn, popups as text, no errors.

Skipped (failed in CI) with the reason of ``tests/test_browser.py`` when Chromium or
chromedriver is absent.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from test_browser import _open, _severe, driver, remote_requests  # noqa: F401

from geo_dx.communes import summarise_communes
from geo_dx.config import Config, PlanConfig
from geo_dx.maps.write import write_maps
from geo_dx.plan.model import plan
from geo_dx.run.plan_outputs import plan_map_kwargs
from geo_dx.schema import validate_candidates
from tests.conftest import UTM48N, X0, Y0, make_communes, make_villages

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def plan_dir() -> Path:
    # the fourth village is out of every candidate's reach: satellite access
    villages = make_villages([(1000, 1000), (5000, 5000), (2000, 1500), (8500, 1000)],
                             score=[80.0, 40.0, 60.0, 70.0], population=[100, 200, 300, 150])
    villages["village_name"] = [XSS, "Bản Nà", "Bản Hua", "Bản Xa"]
    villages["commune_id"] = "C00"
    villages["has_mobile_broadband"] = False
    villages["has_fibre"] = [False, True, True, True]
    villages["gap_class"] = ["no_fibre_no_mobile", "no_mobile", "no_mobile", "no_mobile"]
    cands = validate_candidates(gpd.GeoDataFrame(
        {"candidate_id": ["A", "B"]},
        geometry=[shapely.Point(X0 + 1500, Y0 + 1200), shapely.Point(X0 + 5200, Y0 + 5000)],
        crs=UTM48N))
    fibre = gpd.GeoDataFrame({"technology": ["fibre"]},
                             geometry=[shapely.Point(X0 + 5000, Y0 + 5000)], crs=UTM48N)
    result = plan(villages, budget_vnd=10e9, candidates=cands, fibre=fibre,
                  config=Config(plan=PlanConfig()), curve=False)
    assert sorted(result.items["kind"]) == ["fibre", "new_site", "new_site",
                                            "satellite_access"]
    communes = summarise_communes(result.villages, make_communes())
    out = Path(tempfile.mkdtemp(prefix="geodx-plan-browser-"))
    write_maps(out, result.villages, communes, fibre.assign(reach_m=1500.0),
               title="Plan test", **plan_map_kwargs(result))
    yield out
    shutil.rmtree(out, ignore_errors=True)


def test_plan_layer_draws_offline_with_text_popups(driver, plan_dir):  # noqa: F811
    _open(driver, plan_dir / "map.html")
    popups = driver.execute_script("""
        var out = [], map = window.geoDxMaps[0].map;
        map.eachLayer(function (l) {
            if (l.getPopup && l.getPopup() && l.options && l.options.geoDxPlanItem !== undefined) {
                l.openPopup(); out.push(l.getPopup().getElement().textContent);
            }
        });
        return out;
    """)
    assert len(popups) == 3  # two sites and a satellite access point
    assert any(XSS in text for text in popups)  # the name shown as text
    access = [t for t in popups if t.startswith("S1")]
    assert len(access) == 1 and "Điểm Wi-Fi qua vệ tinh (không phải 4G)" in access[0]
    assert "Bản Xa" in access[0]
    # drawn as a dish, not a site square; no line to its own village; its legend row
    assert driver.execute_script(
        "return document.querySelectorAll('.geodx-plan-access').length") == 1
    assert driver.execute_script(
        "return document.querySelectorAll('.geodx-plan-site').length") == 2
    lines = driver.execute_script("""
        var n = 0;
        window.geoDxMaps[0].map.eachLayer(function (l) {
            if (l.options && l.options.dashArray === "4 4" && l.getLatLngs) { n += 1; }
        });
        return n;
    """)
    assert lines == 3  # M1 and M2 to the villages they serve, none from S1
    legend = driver.execute_script("""
        return Array.from(document.querySelectorAll('.geodx-legend-part .geodx-legend-row'))
            .map(function (r) { return [r.firstChild.className, r.textContent]; });
    """)
    assert ["geodx-sym geodx-sym-plan-access",
            "Điểm truy nhập Internet qua vệ tinh (Wi-Fi)"] in legend
    assert driver.execute_script("return document.querySelectorAll('img[src=x]').length") == 0
    assert driver.execute_script("return window.__alerts") == []
    layers = driver.find_element("css selector", ".leaflet-control-layers").get_attribute(
        "textContent")
    assert "Kế hoạch đầu tư (4 hạng mục)" in layers  # Vietnamese by default
    assert _severe(driver) == []
    assert driver.execute_script("return window.__errors") == []
    assert remote_requests(driver) == []
