"""Tests for geo_dx.maps.write: offline HTML maps, per-commune maps, the index and rebuilding.

The layers are hand-made: three 10 km square communes side by side in UTM 48N, twelve
villages (one named like an XSS payload), three mobile sites and one fibre node.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo_dx.communes import summarise_communes
from geo_dx.errors import InputError
from geo_dx.maps import write as maps
from geo_dx.maps.pages import commune_page_names
from geo_dx.maps.payload import LABELS
from geo_dx.maps.write import commune_file_name
from geo_dx.run.writer import rebuild_maps
from geo_dx.schema import COMPONENTS, GAP_CLASSES, GAP_LABELS

# These tests read the English map (``--lang en``); test_browser_vi.py reads the Vietnamese.
build_map = functools.partial(maps.build_map, language="en")
write_maps = functools.partial(maps.write_maps, language="en")

UTM = "EPSG:32648"
X0, Y0 = 500_000.0, 2_360_000.0
XSS = "<img src=x onerror=alert(1)>"
TITLE = "Test province (synthetic demo)"


def make_outlines() -> gpd.GeoDataFrame:
    """Communes A, B, C: 10 km squares west to east; C's id needs a safe file name."""
    ids = ["A", "B", "C/../1"]
    names = ["Xã Mường Phăng", "Xã Nà Tấu", "Xã <b>Cê</b>"]
    geoms = [shapely.box(X0 + i * 10_000, Y0, X0 + (i + 1) * 10_000, Y0 + 10_000) for i in range(3)]
    return gpd.GeoDataFrame({"commune_id": ids, "commune_name": names}, geometry=geoms, crs=UTM)


def make_communes() -> gpd.GeoDataFrame:
    """The per-commune table of the twelve villages (what maps take)."""
    return summarise_communes(make_villages(), make_outlines())


# (id, name, commune index, gap_class, x offset km, y offset km)
_VILLAGES = [
    ("v01", XSS, 0, "no_fibre_no_mobile", 2, 2),
    ("v02", "Bản Co Mận", 0, "no_fibre_no_mobile", 4, 7),
    ("v03", "Bản Phiêng", 0, "no_mobile", 7, 3),
    ("v04", "Bản Huổi Lếch", 0, "none", 8, 8),
    ("v05", "Bản Nà Nhạn", 1, "no_fibre", 12, 2),
    ("v06", "Bản Pá Khoang", 1, "none", 14, 5),
    ("v07", "Bản Tà Lèng", 1, "none", 16, 8),
    ("v08", "Bản Hua Pe", 1, "no_fibre", 18, 3),
    ("v09", "Bản Xá Nhè", 2, "none", 22, 2),
    ("v10", "Bản Tủa Chùa", 2, "none", 24, 6),
    ("v11", "Bản Sín Chải", 2, "no_mobile", 27, 4),
    ("v12", "Bản Lả", 2, "none", 29, 9),
]
N_VILLAGES = len(_VILLAGES)


def make_villages(*, scored: bool = True) -> gpd.GeoDataFrame:
    """Twelve villages; gap villages get scores whose contributions sum to the score."""
    communes = make_outlines()
    rows = []
    for vid, name, ci, gap, xk, yk in _VILLAGES:
        rows.append({
            "village_id": vid, "village_name": name,
            "commune_id": communes["commune_id"][ci], "commune_name": communes["commune_name"][ci],
            "gap_class": gap, "has_fibre": gap in ("none", "no_mobile"),
            "has_mobile_broadband": gap in ("none", "no_fibre"),
            "nearest_fibre_m": 1000.0 * (xk + 1), "nearest_mobile_m": 750.0 * yk,
            "mobile_technology": "none" if "mobile" in gap else "4g",
            "population": 100.0 * (yk + 1), "ethnic_minority_share": 0.9,
            "geometry": shapely.Point(X0 + xk * 1000, Y0 + yk * 1000),
        })
    frame = gpd.GeoDataFrame(rows, crs=UTM)
    if scored:
        gap = frame["gap_class"] != "none"
        base = pd.Series(np.where(gap, np.arange(len(frame)) * 7.0 + 10.0, np.nan), frame.index)
        for j, comp in enumerate(COMPONENTS):
            frame[f"contrib_{comp}"] = base * (0.3 - 0.05 * j) / 1.0
        frame["score"] = frame[[f"contrib_{c}" for c in COMPONENTS]].sum(axis=1, min_count=1)
        frame["rank"] = frame["score"].rank(ascending=False)
        frame["reason"] = np.where(gap, "Remote <b>and</b> ethnic-minority & no signal", None)
        frame["missing_components"] = np.where(gap, "poverty", "")
    return frame


def make_coverage() -> gpd.GeoDataFrame:
    pts = [("4g", 13_000, 5_000, 4000.0, "site"), ("3g", 25_000, 8_000, 5000.0, "site"),
           ("2g", 5_000, 9_000, 8000.0, "site"), ("fibre", 16_000, 8_000, 1500.0, "node")]
    return gpd.GeoDataFrame(
        {"technology": [p[0] for p in pts], "reach_m": [p[3] for p in pts],
         "range_m": np.nan, "kind": [p[4] for p in pts], "operator": "Viettel <script>",
         "source": "declared"},
        geometry=[shapely.Point(X0 + p[1], Y0 + p[2]) for p in pts], crs=UTM,
    )


def render(m) -> str:
    return m.get_root().render()


def payload(page: str) -> dict:
    """The JSON object handed to geoDxMap.build in a rendered page."""
    start = page.index("geoDxMap.build(")
    start = page.index("{", page.index(",", start))
    obj, _ = json.JSONDecoder().raw_decode(page[start:])
    return obj


def rows(columns: dict) -> list[dict]:
    """Named columns as one dict per row, as geo_dx_map.js reads them."""
    n = len(columns["lat"])
    return [{k: ({s: c[s][i] for s in c} if isinstance(c, dict) else c[i])
             for k, c in columns.items()} for i in range(n)]


@pytest.fixture(scope="module")
def page() -> str:
    return render(build_map(make_villages(), make_communes(), make_coverage(), title=TITLE))


def test_no_remote_scripts_or_stylesheets(page):
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", page, re.I)
    assert not re.search(r"url\(\s*[\"']?(https?:)?//", page, re.I)  # CSS images are data URIs
    # The only remote URL the map code uses is the optional OSM tile template.
    assert page.count("tile.openstreetmap.org") == 1
    assert "cdn.jsdelivr" not in page and "code.jquery" not in page


def test_leaflet_and_plugin_are_inlined(page):
    assert "Leaflet 1.9.4" in page  # banner of the vendored leaflet.js
    assert "leaflet.fullscreen" in page and "geoDxMap" in page
    assert "data:image/png;base64," in page and "data:image/svg+xml;base64," in page


def test_input_strings_never_appear_raw(page):
    # The XSS name is embedded only as a JSON string with < and > escaped.
    assert XSS not in page
    assert "<b>Cê</b>" not in page and "Viettel <script>" not in page
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in page


JINJA = ["{{ 7*7 }}", "{% raw %}", "{#", "{{{x}}}", "{%- if 1 %}"]


def test_jinja_syntax_in_names_is_shown_as_typed(tmp_path):
    # folium hands rendered scripts back to Jinja: a name with "{{ 7*7 }}" was shown as 49
    # and one with "{% raw %}" stopped every map being written.
    villages = make_villages()
    villages.loc[villages.index[:len(JINJA)], "village_name"] = JINJA
    outlines = make_outlines()
    outlines.loc[0, "commune_name"] = "Xã {{ 6*7 }} {% raw %}"
    communes = summarise_communes(villages, outlines)
    out = tmp_path / "run"
    paths = write_maps(out, villages, communes, make_coverage(), title="T {{ 8*8 }} {%")
    main = (out / "map.html").read_text(encoding="utf-8")
    names = payload(main)["villages"]["name"]
    assert names[:len(JINJA)] == JINJA
    assert payload(main)["title"] == "T {{ 8*8 }} {%"
    page_a = next(p for p in paths if p.parent.name == "communes" and "-A." in p.name)
    a = payload(page_a.read_text(encoding="utf-8"))
    assert a["title"] == "Xã {{ 6*7 }} {% raw %}"
    assert sorted(a["villages"]["name"][:4]) == sorted(JINJA[:4])  # v01-v04 are in A
    dossier = page_a.read_text(encoding="utf-8")
    assert "<h1>Xã {{ 6*7 }} {% raw %}" in dossier and "<td>{{ 7*7 }}</td>" in dossier
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Xã {{ 6*7 }} {% raw %}</a>" in index


@given(st.recursive(st.text(alphabet="{}%#<>&\"\\ab\u2028"), lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.text(alphabet="{}%#a", max_size=3), inner, max_size=3))))
@settings(max_examples=150)
def test_script_json_round_trips_without_jinja_or_html_openings(obj):
    from geo_dx.maps.assets import script_json

    text = script_json(obj)
    assert json.loads(text) == obj
    assert not re.search(r"\{[{%#]|<|>|&|\u2028", text)


def test_title_escaped_in_page_title():
    m = build_map(make_villages(), make_communes(), make_coverage(), title="</title><script>x")
    text = render(m)
    assert "<title>&lt;/title&gt;&lt;script&gt;x</title>" in text
    assert payload(text)["title"] == "</title><script>x"


def test_payload_villages_and_classes(page):
    data = payload(page)
    villages = rows(data["villages"])
    assert len(villages) == N_VILLAGES
    assert [c["key"] for c in data["gapClasses"]] == list(GAP_CLASSES)
    assert [c["label"] for c in data["gapClasses"]] == [GAP_LABELS[k] for k in GAP_CLASSES]
    assert [c["count"] for c in data["gapClasses"]] == [2, 2, 2, 6]
    by_id = {r["id"]: r for r in villages}
    assert by_id["v01"]["name"] == XSS and by_id["v01"]["commune"] == "Xã Mường Phăng"
    assert by_id["v01"]["gap"] == "no_fibre_no_mobile"
    assert by_id["v04"]["gap"] == "none"
    assert by_id["v05"]["nearestFibreM"] == 13_000 and by_id["v05"]["tech"] == "4G mobile broadband"
    # v01 at (2 km, 2 km) from the origin: about 21.34 N, 105.02 E; rounded to 5 decimals.
    lat, lon = by_id["v01"]["lat"], by_id["v01"]["lon"]
    assert 21.3 < lat < 21.4 and 105.0 < lon < 105.05
    assert round(lat, 5) == lat and round(lon, 5) == lon
    assert data["hasScore"] is True


def test_contributions_sum_to_score(page):
    for row in rows(payload(page)["villages"]):
        score, contrib = row["score"], row["contrib"]
        assert set(contrib) == set(COMPONENTS)
        if score is None:
            assert set(contrib.values()) == {None} and row["rank"] is None
        else:
            assert sum(contrib.values()) == pytest.approx(score, abs=0.3)


def test_every_label_shown_comes_from_labels(page):
    data = payload(page)
    assert {k: data["labels"][k] for k in LABELS} == dict(LABELS)  # English: the msgids
    assert data["labels"]["component_people"] == "People"
    js = (Path(__file__).resolve().parents[1] / "geo_dx" / "maps" / "static"
          / "geo_dx_map.js").read_text()
    used = set(re.findall(r"\bT\.(\w+)", js))
    assert used and used <= set(LABELS), used - set(LABELS)


def test_layer_control_names_and_counts(page):
    for label, count in (("No fibre, no mobile broadband", 2), ("No mobile broadband", 2),
                         ("No fibre", 2), ("Fibre and mobile broadband", 6)):
        assert f'"{label} ({count})"' in page
    assert '"Mobile sites and reach (3)"' in page and '"Fibre nodes (1)"' in page
    assert '"No basemap (offline)"' in page and '"OpenStreetMap (needs internet)"' in page
    assert '"Top 20 priority labels"' in page


def test_osm_is_not_the_default_basemap(page):
    # The tile layer is defined but not added to the map at load: offline there is no request.
    tile_var = re.search(r"var (tile_layer_\w+) = L\.tileLayer\(", page).group(1)
    assert f"{tile_var}.addTo(" not in page


def test_commune_choropleth_shares(page):
    feats = {f["properties"]["id"]: f["properties"] for f in payload(page)["communes"]["features"]}
    assert feats["A"]["share"] == 0.75 and feats["A"]["withGap"] == 3
    assert feats["A"]["withoutBoth"] == 2
    assert feats["B"]["share"] == 0.5 and feats["B"]["withoutFibre"] == 2
    assert feats["C/../1"]["share"] == 0.25 and feats["C/../1"]["withoutMobile"] == 1


def test_degrades_without_scoring_columns():
    text = render(build_map(make_villages(scored=False), make_communes(), make_coverage(),
                            title=TITLE))
    data = payload(text)
    assert data["hasScore"] is False
    assert all(r["score"] is None and set(r["contrib"].values()) == {None}
               for r in rows(data["villages"]))
    assert "Top 20 priority labels" not in text


def test_empty_coverage_and_communes():
    villages = make_villages()
    empty = gpd.GeoDataFrame({"commune_id": [], "geometry": []}, crs=UTM)
    text = render(build_map(villages, empty, make_coverage().iloc[:0], title=TITLE))
    data = payload(text)
    assert len(data["villages"]["id"]) == N_VILLAGES and data["sites"]["tech"] == []
    assert not re.search(r"Mobile sites and reach \(\d", text)
    assert data["communes"]["features"] == []


def test_polygon_villages_use_a_point_inside():
    villages = make_villages()
    villages["geometry"] = villages.buffer(300)
    data = payload(render(build_map(villages, make_communes(), make_coverage(), title=TITLE)))
    pts = gpd.GeoSeries.from_xy(data["villages"]["lon"], data["villages"]["lat"], crs=4326)
    assert pts.to_crs(UTM).within(villages.geometry, align=False).all()


def test_unknown_gap_class_is_an_input_error():
    villages = make_villages()
    villages.loc[0, "gap_class"] = "nope"
    with pytest.raises(InputError, match="gap_class has 'nope'; allowed"):
        build_map(villages, make_communes(), make_coverage(), title=TITLE)


def test_missing_gap_class_is_an_input_error():
    with pytest.raises(InputError, match="column 'gap_class' is missing"):
        build_map(make_villages().drop(columns="gap_class"), make_communes(), make_coverage(),
                  title=TITLE)


def test_communes_must_be_the_summary_table():
    with pytest.raises(InputError, match="column 'villages' is missing.*summarise_communes"):
        build_map(make_villages(), make_outlines(), make_coverage(), title=TITLE)


def test_commune_order_is_the_summary_order(page):
    feats = payload(page)["communes"]["features"]
    assert [f["properties"]["id"] for f in feats] == make_communes()["commune_id"].tolist()


def test_commune_file_names_are_safe_and_distinct():
    assert commune_file_name("A") == "A.html"
    for bad in ("C/../1", "..", "", "con", "a b", "Xã"):
        name = commune_file_name(bad)
        assert re.fullmatch(r"[A-Za-z0-9_-]+\.html", name), name
    assert commune_file_name("a/b") != commune_file_name("a_b")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=30), min_size=2, max_size=6, unique=True))
def test_commune_file_names_property(ids):
    names = [commune_file_name(i) for i in ids]
    assert len(set(names)) == len(names)
    for name in names:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,89}\.html", name)


def test_write_maps(tmp_path):
    out = tmp_path / "run"
    paths = write_maps(out, make_villages(), make_communes(), make_coverage(), title=TITLE)
    names = [p.relative_to(out).as_posix() for p in paths]
    assert names[0] == "map.html" and names[-1] == "index.html"
    files = commune_page_names(["A", "B", "C/../1"],
                               ["Xã Mường Phăng", "Xã Nà Tấu", "Xã <b>Cê</b>"])
    assert files == {"A": "xa-muong-phang-A.html", "B": "xa-na-tau-B.html",
                     "C/../1": f"xa-b-ce-b-{commune_file_name('C/../1')}"}
    assert sorted(names[1:-1]) == sorted(f"communes/{f}" for f in files.values())
    for p in paths:
        assert p.exists()
    # One commune's map holds only its villages and coverage that reaches it.
    a = payload((out / "communes" / files["A"]).read_text(encoding="utf-8"))
    assert sorted(a["villages"]["id"]) == ["v01", "v02", "v03", "v04"]
    assert [f["properties"]["id"] for f in a["communes"]["features"]] == ["A"]
    # 2g at x=5 km (in A), 4g at 13 km reaching 4 km (A ends at 10 km); 3g at 25 km does not.
    assert sorted(a["sites"]["tech"]) == ["2g", "4g"]
    assert "Xã Mường Phăng" in a["title"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert (index.index(f'<a href="communes/{files["A"]}">Xã Mường Phăng</a></td><td>A</td>')
            < index.index(f'<a href="communes/{files["B"]}">Xã Nà Tấu</a></td><td>B</td>'))
    assert "Xã &lt;b&gt;Cê&lt;/b&gt;" in index and "<b>Cê</b>" not in index
    assert f'href="communes/{files["C/../1"]}"' in index
    assert "<script" not in index


def test_dossier_pages_list_their_plan_items_and_communes_without_villages_get_none(tmp_path):
    outlines = pd.concat([make_outlines(), gpd.GeoDataFrame(
        {"commune_id": ["E"], "commune_name": ["Xã Trống"]},
        geometry=[shapely.box(X0, Y0 - 10_000, X0 + 10_000, Y0)], crs=UTM)], ignore_index=True)
    communes = summarise_communes(make_villages(), outlines)
    plan = pd.DataFrame({"rank": [1, 2], "item_id": ["M1", "F1"], "kind": ["4g", "fibre"],
                         "cost_vnd": [1_500_000_000.0, 2e8], "villages_served": ["v01;v05", "v05"],
                         "village_names": ["<b>x</b>;Bản Nà Nhạn", "Bản Nà Nhạn"],
                         "people_served": [300.0, 200.0]})
    paths = write_maps(tmp_path, make_villages(), communes, make_coverage(), title=TITLE,
                       plan_items=plan)
    names = {p.name for p in paths}
    assert "xa-trong-E.html" not in names  # no villages, no page
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Xã Trống <span" in index and "communes/xa-trong-E.html" not in index
    a = (tmp_path / "communes" / "xa-muong-phang-A.html").read_text(encoding="utf-8")
    b = (tmp_path / "communes" / "xa-na-tau-B.html").read_text(encoding="utf-8")
    c = (tmp_path / "communes" / next(n for n in names if n.startswith("xa-b-ce"))).read_text(
        encoding="utf-8")
    assert 'id="geodx-plan"' in a and "<td>M1</td>" in a and "<td>F1</td>" not in a
    assert "<td>1,500,000,000</td>" in a and "&lt;b&gt;x&lt;/b&gt;" in a
    assert "<td>M1</td>" in b and "<td>F1</td>" in b
    assert 'id="geodx-plan"' not in c
    # Asked for by id, a commune without villages gets its page.
    assert [p.name for p in write_maps(tmp_path, make_villages(), communes, make_coverage(),
                                       title=TITLE, commune_id="E")] == ["xa-trong-E.html"]


def test_write_maps_removes_stale_commune_maps(tmp_path):
    (tmp_path / "communes").mkdir()
    (tmp_path / "communes" / "OLD.html").write_text("stale")
    write_maps(tmp_path, make_villages(), make_communes(), make_coverage(), title=TITLE)
    assert not (tmp_path / "communes" / "OLD.html").exists()


@pytest.fixture
def run_dir(tmp_path) -> Path:
    gpkg = tmp_path / "villages.gpkg"
    make_villages().to_file(gpkg, layer="villages")
    make_communes().to_file(gpkg, layer="communes")
    make_coverage().to_file(gpkg, layer="coverage")
    (tmp_path / "summary.json").write_text(json.dumps({"title": "From the run",
                                                        "language": "en",
                                                        "generator": "geo_dx 0.1.0"}))
    return tmp_path


def test_rebuild_maps_all(run_dir):
    paths = rebuild_maps(run_dir)
    assert len(paths) == 5 and (run_dir / "index.html").exists()
    assert payload((run_dir / "map.html").read_text(encoding="utf-8"))["title"] == "From the run"


def test_rebuild_maps_one_commune(run_dir):
    paths = rebuild_maps(run_dir, commune_id="B")
    assert paths == [run_dir / "communes" / "xa-na-tau-B.html"]
    assert not (run_dir / "map.html").exists()
    ids = payload(paths[0].read_text(encoding="utf-8"))["villages"]["id"]
    assert sorted(ids) == ["v05", "v06", "v07", "v08"]


def test_rebuild_maps_unknown_commune_lists_valid_ids(run_dir):
    with pytest.raises(InputError, match=r"'nope' not found.*valid ids include: A, B, C/\.\./1"):
        rebuild_maps(run_dir, commune_id="nope")


def test_rebuild_maps_without_run_outputs(tmp_path):
    with pytest.raises(InputError, match="villages.gpkg: not found"):
        rebuild_maps(tmp_path)


def make_raster(path: Path, *, covered_west: bool = True) -> Path:
    """A 0/1 GeoTIFF over communes A-C at 100 m: the western half covered."""
    import rasterio
    from rasterio.transform import from_origin

    data = np.zeros((100, 300), dtype=np.uint8)
    if covered_west:
        data[:, :150] = 1
    with rasterio.open(path, "w", driver="GTiff", width=300, height=100, count=1, dtype="uint8",
                       crs=UTM, transform=from_origin(X0, Y0 + 10_000, 100, 100)) as dst:
        dst.write(data, 1)
    return path


def test_coverage_raster_overlay(tmp_path):
    tif = make_raster(tmp_path / "coverage_mobile.tif")
    text = render(build_map(make_villages(), make_communes(), make_coverage(), title=TITLE,
                            coverage_raster=tif))
    assert '"Terrain mobile coverage"' in text
    uri = re.search(r"L\.imageOverlay\(\s*\"(data:image/png;base64,[A-Za-z0-9+/=]+)\"", text)
    assert uri is not None
    bounds = re.search(r'L\.imageOverlay\(\s*"[^"]*",\s*(\[\[[^\]]+\],\s*\[[^\]]+\]\])', text)
    (s, w), (n, e) = json.loads(bounds.group(1))
    assert 21.3 < s < n < 21.5 and 105.0 <= w < e < 105.35
    # The PNG: western half (covered) opaque in the coverage colour, eastern half transparent.
    import base64
    import io

    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.group(1).split(",")[1])))
                     .convert("RGBA"))
    height, width, _ = img.shape
    assert 80 <= height <= 120 and 270 <= width <= 330  # ~100 m pixels kept, not resampled up
    assert (img[:, : width * 2 // 5, 3] == 255).all() and (img[:, width * 3 // 5 :, 3] == 0).all()
    assert tuple(img[height // 2, 5, :3]) == (0, 158, 115)


def test_coverage_raster_clipped_per_commune(tmp_path):
    tif = make_raster(tmp_path / "coverage_mobile.tif")
    write_maps(tmp_path / "out", make_villages(), make_communes(), make_coverage(),
               title=TITLE, coverage_raster=tif)
    full = (tmp_path / "out" / "map.html").read_text(encoding="utf-8")
    one = (tmp_path / "out" / "communes" / "xa-muong-phang-A.html").read_text(encoding="utf-8")
    east = lambda text: json.loads(  # noqa: E731
        re.search(r'L\.imageOverlay\(\s*"[^"]*",\s*(\[\[[^\]]+\],\s*\[[^\]]+\]\])', text).group(1)
    )[1][1]
    assert east(one) < east(full)


def test_missing_raster_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="coverage raster not found"):
        build_map(make_villages(), make_communes(), make_coverage(), title=TITLE,
                  coverage_raster=tmp_path / "nope.tif")


def test_inputs_not_mutated():
    villages, communes, coverage = make_villages(), make_communes(), make_coverage()
    before = [f.copy() for f in (villages, communes, coverage)]
    build_map(villages, communes, coverage, title=TITLE)
    for a, b in zip(before, (villages, communes, coverage), strict=True):
        pd.testing.assert_frame_equal(a, b)
