#!/usr/bin/env python3
"""Benchmark geo_dx.maps.write: file sizes and build times, demo-sized and 20,000 villages.

Cases (synthetic, seeded):

* ``demo``  — ~1,700 villages in 45 communes, 300 mobile sites, 80 fibre nodes;
  ``write_maps`` (main map, 45 commune maps, index) is timed too.
* ``20k``   — 20,000 villages in 450 communes, 3,000 mobile sites, 800 fibre nodes;
  only the main map (the per-commune maps scale with commune count, not village count).

Baseline, in the same run: the same demo villages drawn the plain folium way (one
``folium.CircleMarker`` with a ``folium.Popup`` per village, folium's default CDN assets),
which is what geo_dx's compact embedded data replaces.

With ``--browser`` (needs chromium + chromedriver) each main map is also opened offline in
headless Chromium: time until the map is ready, and the time for a zoom step to redraw.

Run: ``.venv/bin/python benchmarks/bench_maps.py [--browser]``
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_dx.communes import summarise_communes
from geo_dx.config import COMPONENTS
from geo_dx.maps.write import build_map, write_maps

UTM = "EPSG:32648"
X0, Y0 = 380_000.0, 2_330_000.0
GAPS = np.array(["none", "no_fibre", "no_mobile", "no_fibre_no_mobile"])


def make_case(n_villages: int, n_communes: int, n_mobile: int, n_fibre: int, *, seed: int = 7):
    """Communes on a grid with wiggly (many-vertex) outlines; villages scattered inside."""
    rng = np.random.default_rng(seed)
    cols = int(np.ceil(np.sqrt(n_communes * 1.6)))
    rows_ = int(np.ceil(n_communes / cols))
    size = 12_000.0
    geoms, ids, names = [], [], []
    for k in range(n_communes):
        r, c = divmod(k, cols)
        box = shapely.box(X0 + c * size, Y0 + r * size, X0 + (c + 1) * size, Y0 + (r + 1) * size)
        ring = np.asarray(box.exterior.segmentize(50).coords)  # ~1,000 vertices like real outlines
        ring = ring + rng.normal(0, 8, ring.shape)
        ring[-1] = ring[0]
        geoms.append(shapely.Polygon(ring).buffer(0))
        ids.append(f"C{k:04d}")
        names.append(f"Xã Số {k} Mường")
    communes = gpd.GeoDataFrame({"commune_id": ids, "commune_name": names}, geometry=geoms,
                                crs=UTM)
    width, height = cols * size, rows_ * size
    ci = rng.integers(0, n_communes, n_villages)
    r, c = np.divmod(ci, cols)
    x = X0 + c * size + rng.uniform(200, size - 200, n_villages)
    y = Y0 + r * size + rng.uniform(200, size - 200, n_villages)
    gap = GAPS[rng.choice(4, n_villages, p=[0.45, 0.25, 0.1, 0.2])]
    villages = gpd.GeoDataFrame({
        "village_id": [f"V{i:06d}" for i in range(n_villages)],
        "village_name": [f"Bản Nậm Pồ {i}" for i in range(n_villages)],
        "commune_id": np.array(ids)[ci], "commune_name": np.array(names)[ci],
        "gap_class": gap,
        "has_fibre": np.isin(gap, ["none", "no_mobile"]),
        "has_mobile_broadband": np.isin(gap, ["none", "no_fibre"]),
        "nearest_fibre_m": rng.uniform(100, 30_000, n_villages),
        "nearest_mobile_m": rng.uniform(100, 20_000, n_villages),
        "mobile_technology": rng.choice(["4g", "3g", "2g", "none"], n_villages),
        "population": rng.integers(50, 1500, n_villages).astype(float),
        "ethnic_minority_share": rng.uniform(0, 1, n_villages),
    }, geometry=gpd.points_from_xy(x, y), crs=UTM)
    has_gap = gap != "none"
    score = np.where(has_gap, rng.uniform(5, 95, n_villages), np.nan)
    shares = rng.dirichlet(np.ones(5), n_villages)
    for j, comp in enumerate(COMPONENTS):
        villages[f"contrib_{comp}"] = score * shares[:, j]
    villages["score"] = score
    villages["rank"] = pd.Series(score).rank(ascending=False).to_numpy()
    villages["rank_p05"] = np.maximum(1, villages["rank"] - 3)
    villages["rank_p95"] = villages["rank"] + 5
    villages["reason"] = np.where(
        has_gap, "No mobile broadband within 8.4 km; 6.2 h walk to the district centre; "
        "92% ethnic minority; 640 people.", None)
    villages["missing_components"] = ""
    n_sites = n_mobile + n_fibre
    tech = np.array(["4g"] * (n_mobile * 6 // 10) + ["3g"] * (n_mobile * 3 // 10)
                    + ["2g"] * (n_mobile - n_mobile * 6 // 10 - n_mobile * 3 // 10)
                    + ["fibre"] * n_fibre)
    coverage = gpd.GeoDataFrame({
        "technology": tech, "reach_m": np.where(tech == "fibre", 1500.0, 4000.0),
        "operator": rng.choice(["Viettel", "VNPT", "MobiFone"], n_sites), "kind": "site",
        "source": "declared",
    }, geometry=gpd.points_from_xy(X0 + rng.uniform(0, width, n_sites),
                                   Y0 + rng.uniform(0, height, n_sites)), crs=UTM)
    return villages, summarise_communes(villages, communes), coverage


def folium_baseline(villages: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> folium.Map:
    """The plain folium way: one CircleMarker + Popup per village, GeoJson communes."""
    v = villages.to_crs(4326)
    m = folium.Map(location=[v.geometry.y.mean(), v.geometry.x.mean()], zoom_start=9)
    folium.GeoJson(communes.to_crs(4326)[["commune_id", "commune_name", "geometry"]]).add_to(m)
    for row in v.itertuples():
        html = (f"<b>{row.village_name}</b><br>{row.commune_name}<br>{row.gap_class}<br>"
                f"score {row.score:.1f}<br>{row.reason}")
        folium.CircleMarker([row.geometry.y, row.geometry.x], radius=5,
                            popup=folium.Popup(html, max_width=300)).add_to(m)
    return m


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def mb(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.2f} MB"


def browser_timings(path: Path) -> tuple[float, float] | None:
    """Seconds to a ready map and for one zoom step to redraw, in offline headless Chromium."""
    chromium, driver_bin = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_bin:
        print("  (browser timings skipped: chromium/chromedriver not found)")
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp()
    opts = Options()
    opts.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,850",
                 f"--user-data-dir={profile}", "--proxy-server=http://127.0.0.1:9"):
        opts.add_argument(flag)
    drv = webdriver.Chrome(service=Service(driver_bin), options=opts)
    try:
        t0 = time.perf_counter()
        drv.get(path.as_uri())
        while not drv.execute_script("return (window.geoDxMaps || []).length"):
            time.sleep(0.02)
        ready = time.perf_counter() - t0
        drv.set_script_timeout(60)
        zoom = drv.execute_async_script("""
            var done = arguments[arguments.length - 1], map = geoDxMaps[0].map;
            var t0 = performance.now();
            map.setZoom(map.getZoom() + 1, {animate: false});
            requestAnimationFrame(function () { requestAnimationFrame(function () {
                done((performance.now() - t0) / 1000); }); });
        """)
        return ready, zoom
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="geo_dx map sizes and build times")
    parser.add_argument("--browser", action="store_true", help="also time the maps in Chromium")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="geodx-bench-maps-"))
    try:
        cases = {"demo": (1_700, 45, 300, 80), "20k": (20_000, 450, 3_000, 800)}
        results = {}
        for name, spec in cases.items():
            villages, communes, coverage = make_case(*spec)
            m, t_build = timed(build_map, villages, communes, coverage,
                               title=f"Benchmark {name} (synthetic)")
            html, t_render = timed(lambda m=m: m.get_root().render())
            path = out / f"{name}.html"
            path.write_text(html, encoding="utf-8")
            size = path.stat().st_size
            results[name] = (size, t_build + t_render)
            print(f"{name}: {spec[0]:,} villages, {spec[1]} communes, {spec[2] + spec[3]:,} "
                  f"coverage points -> map.html {mb(size)}, build {t_build:.2f} s "
                  f"+ render {t_render:.2f} s")
            if name == "demo":
                paths, t_all = timed(write_maps, out / "demo_run", villages, communes, coverage,
                                     title="Benchmark demo (synthetic)")
                total = sum(p.stat().st_size for p in paths)
                per = [p.stat().st_size for p in paths if p.parent.name == "communes"]
                print(f"  write_maps: {len(paths)} files, {mb(total)} in all "
                      f"(commune maps {mb(min(per))}-{mb(max(per))} each), {t_all:.2f} s")
                base, t_base = timed(folium_baseline, villages, communes)
                base_html, t_base_r = timed(lambda b=base: b.get_root().render())
                base_size = len(base_html.encode("utf-8"))
                t_ours, t_theirs = t_build + t_render, t_base + t_base_r
                print(f"  baseline (plain folium, CDN assets, per-village popups): "
                      f"{mb(base_size)}, {t_theirs:.2f} s; geo_dx/baseline size "
                      f"{size / base_size:.2f}x, time {t_ours / t_theirs:.2f}x")
            if args.browser:
                timing = browser_timings(path)
                if timing:
                    print(f"  chromium offline: ready in {timing[0]:.2f} s, "
                          f"zoom step redraw {timing[1] * 1000:.0f} ms")
        ratio = results["20k"][0] / results["demo"][0]
        print(f"20k/demo: size {ratio:.2f}x for {20_000 / 1_700:.1f}x villages")
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
