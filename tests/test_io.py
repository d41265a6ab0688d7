"""Reading files and every bad-input case: one clear message naming file, column and fix."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo_dx.config import config_from_dict
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.io import read_communes, read_coverage, read_villages
from geo_dx.schema import validate_communes
from geo_dx.spatial import check_extent
from tests.conftest import make_communes


def write_csv(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_villages_with_blank_commune_ids_and_bom(tmp_path):
    path = tmp_path / "villages.csv"
    path.write_text(
        "village_id,village_name,commune_id,lon,lat,especially_difficult,population\n"
        "001,Bản Nà Sáy,C1,103.01,21.40,có,120\n"
        "002,Bản Huổi,  ,103.02,21.41,,\n",
        encoding="utf-8-sig",
    )
    villages = read_villages(path)
    assert villages["village_id"].tolist() == ["001", "002"]  # leading zeros kept
    assert villages["commune_id"].isna().tolist() == [False, True]  # blank = missing
    assert villages["especially_difficult"].tolist() == [True, False]
    assert np.isnan(villages["population"].iloc[1])
    assert villages.crs.to_epsg() == 4326
    assert villages.geometry.iloc[0].equals(shapely.Point(103.01, 21.40))


def test_opencellid_export_loads_as_is(tmp_path):
    path = write_csv(
        tmp_path, "cell_towers_452.csv",
        "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n"
        "LTE,452,4,10,1,,103.0,21.4,1200,5,1,0,0,0\n"
        "GSM,452,4,10,2,,103.1,21.4,,5,1,0,0,0\n"
        "UMTS,452,4,10,3,,103.2,21.4,800000,5,1,0,0,0\n",
    )
    cov = read_coverage(path)
    assert cov["technology"].tolist() == ["4g", "2g", "3g"]
    assert cov["range_m"].tolist()[0] == 1200.0 and np.isnan(cov["range_m"].iloc[1])
    assert cov["kind"].tolist() == ["site"] * 3 and cov["source"].tolist() == ["declared"] * 3


def test_column_mapping_from_config(tmp_path):
    gdf = make_communes().rename(columns={"commune_id": "GID_3", "commune_name": "NAME_3"})
    path = tmp_path / "gadm.gpkg"
    gdf.to_file(path)
    config = config_from_dict({"columns": {"communes": {"GID_3": "commune_id",
                                                        "NAME_3": "commune_name"}}})
    assert read_communes(path, config=config)["commune_id"].tolist()[:2] == ["C00", "C01"]


def test_missing_column_names_file_column_and_fix(tmp_path):
    path = write_csv(tmp_path, "v.csv", "vilage_id,village_name,lon,lat\n1,a,103,21\n")
    with pytest.raises(InputError, match=r"v\.csv: required column 'village_id' is missing.*"
                       r"did you mean 'vilage_id' for 'village_id'\?.*\[columns\.villages\]"):
        read_villages(path)


def test_no_crs(tmp_path):
    path = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="crs"):
        make_communes().set_crs(None, allow_override=True).to_file(path)
    with pytest.raises(InputError, match=r"nocrs\.gpkg: the communes layer has no CRS; set one"):
        read_communes(path)


def test_swapped_lon_lat_out_of_range(tmp_path):
    path = write_csv(tmp_path, "v.csv", "village_id,village_name,lon,lat\n1,a,21.4,103.0\n")
    with pytest.raises(InputError,
                       match=r"v\.csv: 1 feature\(s\) have coordinates outside.*swapped"):
        read_villages(path)


def test_swapped_far_outside_the_communes_extent():
    communes = make_communes().to_crs(4326)
    # swapping lon/lat of points inside the communes leaves them valid but far away
    inside = communes.geometry.representative_point()
    swapped = gpd.GeoDataFrame(geometry=gpd.points_from_xy(inside.y, inside.x), crs=4326)
    with pytest.raises(InputError, match=r"villages\.csv: 9 of 9 features lie more than 50 km "
                       r"outside.*look swapped"):
        check_extent(swapped, communes, source="villages.csv", reference_source="the communes")
    check_extent(gpd.GeoDataFrame(geometry=inside, crs=4326), communes, source="ok",
                 reference_source="c")


def test_non_numeric_coordinates_name_the_row(tmp_path):
    path = write_csv(tmp_path, "v.csv",
                     "village_id,village_name,lon,lat\n1,a,103,21\n2,b,103.1,21°24'\n")
    with pytest.raises(InputError, match=r"v\.csv: column 'lat' must be a number.*\"21°24'\"|"
                       r"v\.csv: column 'lat' must be a number.*data row 2 \(line 3\)"):
        read_villages(path)


def test_duplicate_ids_are_named(tmp_path):
    path = write_csv(tmp_path, "v.csv",
                     "village_id,village_name,lon,lat\nB1,a,103,21\nB2,b,103,21\nB1,c,103,21\n")
    with pytest.raises(InputError, match=r"v\.csv: column 'village_id' has duplicate ids 'B1' "
                       r"\(2 rows\)"):
        read_villages(path)


def test_empty_layer_and_empty_file(tmp_path):
    empty = write_csv(tmp_path, "empty.csv", "")
    with pytest.raises(InputError, match=r"empty\.csv: the file is empty"):
        read_villages(empty)
    header = write_csv(tmp_path, "header.csv", "village_id,village_name,lon,lat\n")
    with pytest.raises(InputError, match=r"header\.csv: the villages layer is empty"):
        read_villages(header)


def test_unreadable_and_missing_file(tmp_path):
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"this is not a geopackage")
    with pytest.raises(InputError, match=r"junk\.gpkg: cannot read this file"):
        read_communes(junk)
    with pytest.raises(InputError, match=r"nope\.gpkg: file not found"):
        read_communes(tmp_path / "nope.gpkg")


def test_unknown_technology_lists_allowed(tmp_path):
    path = write_csv(tmp_path, "c.csv", "technology,lon,lat\n4g,103,21\nwimax,103,21\n")
    with pytest.raises(InputError, match=r"c\.csv: column 'technology' has unknown value\(s\) "
                       r"\['wimax'\] at row 2; allowed.*fibre.*lte"):
        read_coverage(path)


def test_out_of_range_share_suggests_percent(tmp_path):
    path = write_csv(tmp_path, "v.csv",
                     "village_id,village_name,lon,lat,ethnic_minority_share\n1,a,103,21,96\n")
    with pytest.raises(InputError, match=r"'ethnic_minority_share' has value 96 at row 1; "
                       r"allowed 0..1; it looks like a percentage"):
        read_villages(path)


def test_invalid_polygon_is_repaired_and_warned():
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    gdf = gpd.GeoDataFrame({"commune_id": ["A"], "commune_name": ["a"]}, geometry=[bowtie],
                           crs=32648)
    with pytest.warns(GeoDxWarning, match="repaired 1 invalid communes geometry"):
        out = validate_communes(gdf)
    assert out.geometry.is_valid.all()
    assert out.geometry.iloc[0].geom_type in ("Polygon", "MultiPolygon")
    assert out.geometry.iloc[0].area == pytest.approx(0.5)
    assert not gdf.geometry.is_valid.iloc[0]  # input untouched


def test_wrong_geometry_type():
    gdf = gpd.GeoDataFrame({"commune_id": ["A"], "commune_name": ["a"]},
                           geometry=[shapely.Point(0, 0)], crs=32648)
    with pytest.raises(InputError, match=r"communes geometry must be Polygon/MultiPolygon, got "
                       r"\['Point'\]"):
        validate_communes(gdf)
