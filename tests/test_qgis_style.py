"""QGIS default styles in villages.gpkg: the layer_styles table QGIS reads."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
from shapely.geometry import Point, box

from geo_dx.maps.plan_layer import ACCESS_COLOUR
from geo_dx.run.qgis_style import write_layer_styles
from geo_dx.schema import GAP_CLASSES, GAP_COLOURS, SHARE_BINS, SHARE_COLOURS


def _gpkg(tmp_path):
    path = tmp_path / "villages.gpkg"
    gpd.GeoDataFrame({"village_id": ["a", "b"], "gap_class": ["no_mobile", "none"]},
                     geometry=[Point(103, 21), Point(103.1, 21)], crs=4326).to_file(
        path, layer="villages", engine="pyogrio")
    gpd.GeoDataFrame({"commune_id": ["c"], "gap_share": [0.5]},
                     geometry=[box(102.9, 20.9, 103.2, 21.1)], crs=4326).to_file(
        path, layer="communes", engine="pyogrio")
    return path


def _styles(path) -> dict[str, tuple]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT f_table_name, f_geometry_column, styleQML, useAsDefault "
                          "FROM layer_styles").fetchall()
    return {r[0]: r[1:] for r in rows}


def _hex(rgba: str) -> str:
    r, g, b, _ = (int(v) for v in rgba.split(","))
    return f"#{r:02X}{g:02X}{b:02X}"


def test_villages_by_gap_class_and_communes_by_gap_share(tmp_path) -> None:
    path = write_layer_styles(_gpkg(tmp_path), language="vi")
    styles = _styles(path)
    assert set(styles) == {"villages", "communes"}
    column, qml, default = styles["villages"]
    assert column == "geom" and default == 1  # the geometry column pyogrio wrote
    renderer = ET.fromstring(qml).find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "gap_class"
    categories = renderer.findall("categories/category")
    assert [c.get("value") for c in categories] == list(GAP_CLASSES)
    assert categories[1].get("label") == "Chưa có băng rộng di động"
    colours = {s.get("name"): _hex(s.find("layer/Option/Option[@name='color']").get("value"))
               for s in renderer.findall("symbols/symbol")}
    assert [colours[c.get("symbol")] for c in categories] == [GAP_COLOURS[k] for k in GAP_CLASSES]
    assert all(s.get("type") == "marker" for s in renderer.findall("symbols/symbol"))

    renderer = ET.fromstring(styles["communes"][1]).find("renderer-v2")
    assert renderer.get("type") == "graduatedSymbol" and renderer.get("attr") == "gap_share"
    ranges = renderer.findall("ranges/range")
    assert [(float(r.get("lower")), float(r.get("upper"))) for r in ranges] == list(
        zip(SHARE_BINS[:-1], SHARE_BINS[1:], strict=True))
    assert ranges[1].get("label") == "20 % – 40 %"
    fills = [_hex(s.find("layer/Option/Option[@name='color']").get("value"))
             for s in renderer.findall("symbols/symbol")]
    assert fills == [c.upper() for c in SHARE_COLOURS]


def test_rewriting_replaces_the_default_and_layers_still_read(tmp_path) -> None:
    path = _gpkg(tmp_path)
    write_layer_styles(path, language="vi")
    write_layer_styles(path, language="en", villages_geometry="Polygon")
    styles = _styles(path)
    assert len(styles) == 2
    assert 'label="No mobile broadband"' in styles["villages"][1]
    assert 'type="fill"' in styles["villages"][1]
    assert gpd.read_file(path, layer="villages")["gap_class"].tolist() == ["no_mobile", "none"]
    assert gpd.read_file(path, layer="communes")["gap_share"].tolist() == [0.5]


def test_plan_sites_style_has_satellite_access_apart_from_the_sites(tmp_path) -> None:
    path = _gpkg(tmp_path)
    gpd.GeoDataFrame({"item_id": ["M1", "S1"], "kind": ["new_site", "satellite_access"],
                      "service": ["4g", "satellite_hotspot"]},
                     geometry=[Point(103, 21), Point(103.1, 21)], crs=4326).to_file(
        path, layer="plan_sites", engine="pyogrio")
    renderer = ET.fromstring(_styles(write_layer_styles(path, language="vi"))["plan_sites"][1]
                             ).find("renderer-v2")
    assert renderer.get("attr") == "kind"
    labels = {c.get("value"): c.get("label") for c in renderer.findall("categories/category")}
    assert labels["satellite_access"] == "Điểm truy nhập Internet qua vệ tinh (Wi-Fi)"
    assert labels["new_site"] == "Xây mới trạm BTS 4G"
    symbols = {s.get("name"): s.find("layer/Option") for s in renderer.findall("symbols/symbol")}

    def option(code: str, name: str) -> str:
        return symbols[code].find(f"Option[@name='{name}']").get("value")

    # its own symbol: the map's yellow disc with a thick ring, not the sites' triangle
    assert _hex(option("satellite_access", "color")) == ACCESS_COLOUR.upper()
    assert option("satellite_access", "name") == "circle" and option("new_site", "name") == \
        "triangle"
    assert _hex(option("new_site", "color")) != ACCESS_COLOUR.upper()
    assert float(option("satellite_access", "outline_width")) > float(
        option("new_site", "outline_width"))
