"""Misplaced villages on the maps and pages: never drawn, never in the bounds, listed to fix.

A village with a ``location_issue`` (its point lies far outside its commune: a sign lost,
lon/lat swapped) is left off every map and its bounds; the legend says how many were left
off; its commune's dossier and ``index.html`` list it with the issue and its coordinates.
The layers are the hand-made province of ``tests/test_maps.py`` (three 10 km communes in
UTM 48N, twelve villages); one or two of its villages are moved to the other side of the
world.
"""

from __future__ import annotations

import dataclasses
import re
import warnings

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo_dx.communes import location_issue_text, misplaced_villages, placed
from geo_dx.i18n import translator
from geo_dx.maps import write as maps
from geo_dx.maps.pages import commune_page_names
from geo_dx.maps.payload import map_payload
from geo_dx.run.pipeline import analyse, demo_inputs, write
from geo_dx.run.writer import rebuild_maps
from tests.test_maps import make_communes, make_coverage, make_villages, payload

FAR = "205.0 km outside its commune_id B"
OUTSIDE = "more than 1000 m outside every commune"
NAME_X = "<b>Bản X</b>"


def misplaced_province() -> gpd.GeoDataFrame:
    """The twelve villages; v05 (commune B, no_fibre) typed with its longitude's sign lost,
    and a thirteenth village, ``<b>Bản X</b>``, outside every commune (no commune_id)."""
    villages = make_villages().to_crs(4326)
    villages["location_issue"] = None
    v05 = villages.index[villages["village_id"] == "v05"][0]
    point = villages.geometry[v05]
    villages.loc[v05, "geometry"] = shapely.Point(-point.x, point.y)
    villages.loc[v05, "location_issue"] = FAR
    extra = villages.loc[[v05]].assign(
        village_id="vX", village_name=NAME_X, commune_id=None, commune_name=None,
        location_issue=OUTSIDE, geometry=[shapely.Point(21.25, 13.5)])
    out = gpd.GeoDataFrame(pd.concat([villages, extra], ignore_index=True), crs=4326)
    scored = [c for c in out if c.startswith("contrib_")] + ["score", "rank", "reason"]
    out.loc[out["location_issue"].notna(), scored] = None  # as geo_dx.score leaves them
    return out


def placed_only(villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return villages[villages["location_issue"].isna()]


# ------------------------------------------------------------------------------ the rule

def test_placed_is_the_villages_without_a_location_issue():
    villages = misplaced_province()
    assert villages.loc[~placed(villages), "village_id"].tolist() == ["v05", "vX"]
    assert placed(villages.drop(columns="location_issue")).all()
    assert placed(pd.DataFrame({"location_issue": ["", " ", None]})).all()


def test_misplaced_villages_gives_the_coordinates_as_typed_and_mutates_nothing():
    villages = misplaced_province()
    before = villages.copy()
    table = misplaced_villages(villages)
    pd.testing.assert_frame_equal(villages, before)
    assert table["village_id"].tolist() == ["v05", "vX"]
    assert table["location_issue"].tolist() == [FAR, OUTSIDE]
    assert table.loc[1, ["lon", "lat"]].tolist() == [21.25, 13.5]
    v05 = villages.geometry[villages["village_id"] == "v05"].iloc[0]
    assert table.loc[0, "lon"] == round(v05.x, 6) < -100  # the lost sign, as typed
    # in a projected CRS the coordinates are still longitude/latitude
    utm = misplaced_villages(make_villages().assign(location_issue=FAR).head(1))
    assert 105.0 < utm.loc[0, "lon"] < 105.1 and 21.3 < utm.loc[0, "lat"] < 21.4


def test_location_issue_text_translates_the_fixed_messages_and_keeps_others():
    vi, en = translator("vi"), translator("en")
    assert location_issue_text(FAR, vi) == "nằm ngoài xã B ghi ở cột commune_id, cách 205,0 km"
    assert location_issue_text("1,205.5 km outside its commune_id C/1", en) == (
        "1,205.5 km outside its commune_id C/1")
    assert location_issue_text(OUTSIDE, vi) == "nằm ngoài mọi xã, cách xã gần nhất hơn 1.000 m"
    assert location_issue_text(OUTSIDE, en) == "more than 1,000 m outside every commune"
    assert location_issue_text("typed by hand", vi) == "typed by hand"
    assert location_issue_text(None, vi) is None


# ------------------------------------------------------------------------------- the maps

def test_a_misplaced_village_is_not_drawn_nor_in_the_bounds_and_the_legend_counts_it():
    villages = misplaced_province()
    data = map_payload(villages, make_communes(), make_coverage(), title="T", language="en")
    oracle = map_payload(placed_only(villages), make_communes(), make_coverage(), title="T",
                         language="en")
    assert "v05" not in data["villages"]["id"] and len(data["villages"]["id"]) == 11
    assert data["bounds"] == oracle["bounds"]
    (south, west), (north, east) = data["bounds"]
    assert 104.99 < west < east < 105.3 and 21.3 < south < north < 21.5  # the province only
    counts = {c["key"]: c["count"] for c in data["gapClasses"]}
    assert counts == {"no_fibre_no_mobile": 2, "no_mobile": 2, "no_fibre": 1, "none": 6}
    assert data["subtitle"].startswith("11 villages · 5 with a gap · 3 communes")
    assert data["unplaced"] == 2
    assert data["unplacedNote"] == "2 villages not shown: their location needs checking"
    assert oracle["unplaced"] == 0 and oracle["unplacedNote"] is None


def test_the_legend_line_in_vietnamese_and_in_english_singular():
    one = misplaced_province().iloc[:12]  # v05 only
    vi = map_payload(one, make_communes(), make_coverage(), title="T", language="vi")
    en = map_payload(one, make_communes(), make_coverage(), title="T", language="en")
    assert vi["unplaced"] == en["unplaced"] == 1
    assert vi["unplacedNote"] == "1 thôn, bản chưa hiện trên bản đồ: tọa độ cần kiểm tra"
    assert en["unplacedNote"] == "1 village not shown: its location needs checking"


def test_every_village_misplaced_leaves_the_communes_as_the_bounds():
    villages = misplaced_province()
    villages["location_issue"] = FAR
    data = map_payload(villages, make_communes(), make_coverage(), title="T", language="en")
    communes = make_communes().to_crs(4326).total_bounds
    assert data["villages"]["id"] == [] and data["unplaced"] == 13
    assert data["bounds"] == [[round(communes[1], 5), round(communes[0], 5)],
                              [round(communes[3], 5), round(communes[2], 5)]]


# ------------------------------------------------------------------------------ the pages

@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """write_maps of the province with v05 and vX misplaced, in English and in Vietnamese."""
    out = tmp_path_factory.mktemp("misplaced")
    for language in ("en", "vi"):
        maps.write_maps(out / language, misplaced_province(), make_communes(), make_coverage(),
                        title="Test province", language=language)
    files = commune_page_names(["A", "B", "C/../1"],
                               ["Xã Mường Phăng", "Xã Nà Tấu", "Xã <b>Cê</b>"])
    return out, files


def read(path) -> str:
    return path.read_text(encoding="utf-8")


def section(page: str) -> str:
    """The misplaced villages section of a page."""
    match = re.search(r'<section class="geodx-misplaced".*?</section>', page, re.S)
    assert match, "no misplaced villages section"
    return match.group(0)


def test_the_province_map_leaves_them_off(written):
    out, _ = written
    data = payload(read(out / "en" / "map.html"))
    assert sorted(data["villages"]["id"]) == sorted(
        v for v in make_villages()["village_id"] if v != "v05")
    (south, west), (north, east) = data["bounds"]
    assert 104.99 < west < east < 105.3 and 21.3 < south < north < 21.5
    assert data["unplacedNote"] == "2 villages not shown: their location needs checking"


def test_the_dossier_of_their_commune_lists_them_and_not_among_its_gap_villages(written):
    out, files = written
    page = read(out / "en" / "communes" / files["B"])
    data = payload(page)
    assert sorted(data["villages"]["id"]) == ["v06", "v07", "v08"]
    assert data["unplacedNote"] == "1 village not shown: its location needs checking"
    listed = section(page)
    assert "Villages whose location needs checking (1)" in listed
    assert re.search(r"<td>v05</td><td>Bản Nà Nhạn</td><td>205\.0 km outside its commune_id "
                     r'B</td><td class="num">-105\.\d+</td><td class="num">21\.\d+</td>', listed)
    assert 'data-village-id="vX"' not in page and "Bản X" not in page  # in no commune
    outside = page.replace(listed, "")
    assert "Bản Nà Nhạn" not in outside and 'data-village-id="v05"' not in outside
    assert 'data-village-id="v08"' in outside  # the commune's other gap village stays listed
    assert "geodx-misplaced" not in read(out / "en" / "communes" / files["A"])


def test_the_index_lists_every_misplaced_village_escaped(written):
    out, files = written
    listed = section(read(out / "en" / "index.html"))
    assert "Villages whose location needs checking (2)" in listed
    assert "&lt;b&gt;Bản X&lt;/b&gt;" in listed and "<b>Bản X</b>" not in listed
    assert f'<a href="communes/{files["B"]}">Xã Nà Tấu</a>' in listed
    assert re.search(r"<td>vX</td><td>&lt;b&gt;Bản X&lt;/b&gt;</td><td></td><td>more than "
                     r'1,000 m outside every commune</td><td class="num">21\.25</td>'
                     r'<td class="num">13\.5</td>', listed)


def test_the_pages_speak_vietnamese(written):
    out, files = written
    index = section(read(out / "vi" / "index.html"))
    assert "Thôn, bản cần kiểm tra tọa độ (2)" in index
    assert "nằm ngoài mọi xã, cách xã gần nhất hơn 1.000 m" in index
    assert "Không hiện trên bản đồ và không được xếp thứ tự ưu tiên" in index
    assert "<th>Vấn đề</th>" in index and "Kinh độ" in index and "Vĩ độ" in index
    dossier = read(out / "vi" / "communes" / files["B"])
    assert "nằm ngoài xã B ghi ở cột commune_id, cách 205,0 km" in section(dossier)
    assert payload(dossier)["unplacedNote"] == (
        "1 thôn, bản chưa hiện trên bản đồ: tọa độ cần kiểm tra")


def test_the_overview_and_its_area_maps_leave_them_off_too(tmp_path, monkeypatch):
    monkeypatch.setattr(maps, "OVERVIEW_ABOVE_VILLAGES", 5)  # the 13 villages are "large"
    communes = make_communes().assign(province=["North", "North", "South"])
    maps.write_maps(tmp_path, misplaced_province(), communes, make_coverage(), title="T",
                    language="en")
    overview = payload(read(tmp_path / "map.html"))
    assert overview["unplaced"] == 2 and sum(c["count"] for c in overview["gapClasses"]) == 11
    areas = {p.name: payload(read(p)) for p in sorted((tmp_path / "areas").glob("*.html"))}
    assert len(areas) == 2
    seen = [v for data in areas.values() for v in data["villages"]["id"]]
    assert sorted(seen) == sorted(v for v in make_villages()["village_id"] if v != "v05")
    north = next(data for name, data in areas.items() if name.startswith("north"))
    assert north["unplaced"] == 1  # v05 of commune B; vX has no commune, hence no area
    (south, west), (top, east) = north["bounds"]
    assert 104.99 < west < east < 105.3 and 21.3 < south < top < 21.5


# ----------------------------------------------------------------------- the real pipeline

def test_a_demo_village_with_its_longitude_sign_lost_stays_off_the_province_map(tmp_path):
    inputs = demo_inputs(language="en")
    villages = gpd.read_file(inputs.villages).to_crs(4326)
    wrong = villages.index[7]
    point = villages.geometry[wrong]
    villages.loc[wrong, "geometry"] = shapely.Point(-point.x, point.y)  # a sign lost
    villages.to_file(tmp_path / "villages.gpkg")
    inputs = dataclasses.replace(inputs, villages=tmp_path / "villages.gpkg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = write(analyse(inputs), tmp_path / "run")
    vid = str(villages.loc[wrong, "village_id"])
    west, south, east, north = gpd.read_file(inputs.communes).to_crs(4326).total_bounds
    for rebuilt in (False, True):
        if rebuilt:  # `geo-dx map` reads location_issue back from villages.gpkg
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rebuild_maps(out)
        data = payload(read(out / "map.html"))
        assert vid not in data["villages"]["id"]
        assert len(data["villages"]["id"]) == len(villages) - 1
        (s, w), (n, e) = data["bounds"]
        assert west - 0.01 <= w < e <= east + 0.01 and south - 0.01 <= s < n <= north + 0.01
        assert data["unplaced"] == 1
        index = section(read(out / "index.html"))
        lon = re.escape(str(-point.x)[:8])
        assert re.search(rf'<td>{vid}</td>.*?<td class="num">{lon}', index), rebuilt
