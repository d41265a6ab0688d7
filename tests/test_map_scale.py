"""Maps at national scale: shared assets, commune pages in parallel, overview and areas."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from test_maps import TITLE, make_communes, make_coverage, make_villages, payload

import geo_dx.forked as forked
import geo_dx.maps.write as maps
from geo_dx.maps.assets import asset
from geo_dx.maps.overview import areas_nav_html, drill_down_areas
from geo_dx.maps.write import build_map, write_maps


def _normalised(text: str) -> str:
    """A page without folium's random element names (``map_<32 hex>``) and today's date."""
    return re.sub(r"_[0-9a-f]{32}", "_X", text)


def _same_pages(one, other) -> int:
    """How many pages two folders hold, after checking they hold the same (ids aside)."""
    first, second = sorted(one.glob("*.html")), sorted(other.glob("*.html"))
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert _normalised(a.read_text(encoding="utf-8")) == _normalised(
            b.read_text(encoding="utf-8"))
    return len(first)


def _spy_on_pools(monkeypatch) -> list[str]:
    """Two usable cores, and the start method of every process pool fork_map opens."""
    contexts: list[str] = []
    real_pool = forked.multiprocessing.get_context

    def spy(method):
        contexts.append(method)
        return real_pool(method)

    monkeypatch.setattr(forked.multiprocessing, "get_context", spy)
    monkeypatch.setattr(forked, "usable_cores", lambda: 2)
    return contexts


def test_commune_pages_share_one_copy_of_the_page_code(tmp_path):
    out = tmp_path / "run"
    paths = write_maps(out, make_villages(), make_communes(), make_coverage(), title=TITLE)
    js = (out / "assets" / "geo_dx.js").read_text(encoding="utf-8")
    css = (out / "assets" / "geo_dx.css").read_text(encoding="utf-8")
    assert "Leaflet 1.9.4" in js and "geoDxMap" in js and "leaflet.fullscreen" in js
    assert asset("geo_dx_page.css").decode("utf-8") in css and "data:image/png;base64," in css
    assert paths[0].name == "map.html"
    main = paths[0].read_text(encoding="utf-8")  # one self-contained file
    assert "Leaflet 1.9.4" in main and "assets/geo_dx.js" not in main
    for p in paths[1:-1]:  # the commune pages
        page = p.read_text(encoding="utf-8")
        prefix = "../"
        assert f'<script src="{prefix}assets/geo_dx.js"></script>' in page
        assert f'<link rel="stylesheet" href="{prefix}assets/geo_dx.css">' in page
        assert "Leaflet 1.9.4" not in page and "L.Icon.Default" not in page
        assert not re.search(r"(src|href)=\"(https?:)?//", page)
        assert len(page.encode()) < len(js.encode())  # the 12 villages weigh less than Leaflet


def test_a_single_map_still_inlines_everything():
    page = build_map(make_villages(), make_communes(), make_coverage(),
                     title=TITLE).get_root().render()
    assert "Leaflet 1.9.4" in page and "assets/geo_dx.js" not in page


def test_commune_pages_in_parallel_equal_those_written_in_turn(tmp_path, monkeypatch):
    villages, communes, coverage = make_villages(), make_communes(), make_coverage()
    write_maps(tmp_path / "serial", villages, communes, coverage, title=TITLE)
    monkeypatch.setattr(maps, "_PARALLEL_MIN_PAGES", 2)
    contexts = _spy_on_pools(monkeypatch)
    paths = write_maps(tmp_path / "parallel", villages, communes, coverage, title=TITLE)
    assert contexts == ["fork"]  # the pool really ran
    assert paths[0].name == "map.html" and paths[-1].name == "index.html"
    assert _same_pages(tmp_path / "serial" / "communes", tmp_path / "parallel" / "communes") == 3


def test_large_run_gets_an_overview_and_one_map_per_area(tmp_path, monkeypatch):
    monkeypatch.setattr(maps, "OVERVIEW_ABOVE_VILLAGES", 5)  # the 12 villages are "large"
    villages = make_villages()
    communes = make_communes().assign(province=["North", "North", "South <i>"])
    out = tmp_path / "run"
    paths = write_maps(out, villages, communes, make_coverage(), title=TITLE)
    overview = (out / "map.html").read_text(encoding="utf-8")
    data = payload(overview)
    assert data["villages"]["id"] == [] and data["sites"]["tech"] == []
    # communes shaded by gap share, counts still those of every village
    assert len(data["communes"]["features"]) == 3
    assert sum(c["count"] for c in data["gapClasses"]) == len(villages)
    areas = sorted((out / "areas").glob("*.html"))
    assert len(areas) == 2 and set(areas) <= set(paths)
    seen = []
    for area in areas:
        assert f'href="areas/{area.name}"' in overview
        page = area.read_text(encoding="utf-8")
        assert '<script src="../assets/geo_dx.js"></script>' in page
        seen += payload(page)["villages"]["id"]
    assert sorted(seen) == sorted(villages["village_id"])  # each village on exactly one area
    assert "South &lt;i&gt;" in overview and "South <i>" not in overview
    # a smaller run afterwards removes the area maps
    monkeypatch.setattr(maps, "OVERVIEW_ABOVE_VILLAGES", 20_000)
    write_maps(out, villages, communes, make_coverage(), title=TITLE)
    assert not list((out / "areas").glob("*.html"))
    assert payload((out / "map.html").read_text(encoding="utf-8"))["villages"]["id"]


def test_area_maps_in_parallel_equal_those_written_in_turn(tmp_path, monkeypatch):
    monkeypatch.setattr(maps, "OVERVIEW_ABOVE_VILLAGES", 5)
    villages = make_villages()
    communes = make_communes().assign(province=["North", "North", "South"])
    write_maps(tmp_path / "serial", villages, communes, make_coverage(), title=TITLE)
    monkeypatch.setattr(maps, "_PARALLEL_MIN_AREAS", 2)
    contexts = _spy_on_pools(monkeypatch)
    write_maps(tmp_path / "parallel", villages, communes, make_coverage(), title=TITLE)
    assert contexts == ["fork"]  # the area maps' pool really ran (pages stay in turn)
    assert _same_pages(tmp_path / "serial" / "areas", tmp_path / "parallel" / "areas") == 2


def test_overview_draws_no_village_or_site_markers(monkeypatch):
    m = build_map(make_villages(), make_communes(), make_coverage(), title=TITLE, overview=True)
    data = payload(m.get_root().render())
    assert data["villages"]["id"] == [] and data["sites"]["lat"] == []


def test_areas_by_bisection_hand_checked():
    table = gpd.GeoDataFrame(
        {"commune_id": list("abcdef"), "villages": [4, 4, 4, 4, 1, 1]},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(6)])
    # 18 villages > 8: cut after the commune where half (9) is reached: abc (12) | def (6);
    # abc > 8: half 6 is reached at b: ab (8) | c (4)
    assert drill_down_areas(table, max_villages=8) == {
        "Area 1": ["a", "b"], "Area 2": ["c"], "Area 3": ["d", "e", "f"]}
    assert drill_down_areas(table, max_villages=100) == {"Area 1": list("abcdef")}


@settings(max_examples=40)
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, 100), st.integers(0, 50)),
                min_size=1, max_size=40), st.integers(1, 120))
def test_areas_partition_the_communes_within_the_limit(rows, limit):
    table = gpd.GeoDataFrame(
        {"commune_id": [f"c{i}" for i in range(len(rows))],
         "villages": [r[2] for r in rows]},
        geometry=[shapely.box(x, y, x + 0.5, y + 0.5) for x, y, _ in rows])
    areas = drill_down_areas(table, max_villages=limit)
    members = [c for ids in areas.values() for c in ids]
    assert sorted(members) == sorted(table["commune_id"])  # each commune in one area
    size = dict(zip(table["commune_id"], table["villages"], strict=True))
    for ids in areas.values():
        assert len(ids) == 1 or sum(size[c] for c in ids) <= limit


def test_areas_by_province_keep_the_table_order():
    table = pd.DataFrame({"commune_id": ["a", "b", "c"], "villages": [1, 2, 3],
                          "province": ["Y", "X", "Y"], "geometry": None})
    assert drill_down_areas(table) == {"Y": ["a", "c"], "X": ["b"]}


def test_area_list_escapes_names():
    nav = areas_nav_html([("<b>x</b>", 'a"b.html', 10, np.int64(3))], language="en")
    assert "&lt;b&gt;x&lt;/b&gt;" in nav and 'href="a&quot;b.html"' in nav
    assert "(10 villages, 3 with a gap)" in nav


def test_area_maps_label_their_own_best_ranked_villages(tmp_path, monkeypatch):
    # ranks are national: an area map labels its own 20 best, numbered by their rank
    monkeypatch.setattr(maps, "OVERVIEW_ABOVE_VILLAGES", 5)
    villages = make_villages()
    communes = make_communes().assign(province=["North", "North", "South"])
    write_maps(tmp_path / "run", villages, communes, make_coverage(), title=TITLE)
    overview = payload((tmp_path / "run" / "map.html").read_text(encoding="utf-8"))
    assert overview["topRank"] == 20  # ranks 1-20, as on a province map
    for area in (tmp_path / "run" / "areas").glob("*.html"):
        data = payload(area.read_text(encoding="utf-8"))
        ranks = sorted(r for r in data["villages"]["rank"] if r is not None)
        assert ranks and data["topRank"] == ranks[-1]  # fewer than 20: every ranked one
    north = villages[villages["commune_id"].isin(["A", "B"])]
    data = payload(build_map(north, make_communes().iloc[:2], make_coverage(), title=TITLE,
                             top_n=2, top_of_map=True).get_root().render())
    assert data["topRank"] == sorted(north["rank"].dropna())[1]
    assert data["topRank"] > 2  # the best two of this map are not the country's 1 and 2
