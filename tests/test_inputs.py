"""Inputs real users have: multi-layer files, Excel, Vietnamese locale, NFD text, odd headers."""

from __future__ import annotations

import unicodedata
import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo_dx.columns import find_lon_lat, fold, recognise
from geo_dx.config import config_from_dict
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.io import read_communes, read_coverage, read_layer, read_villages
from geo_dx.schema import validate_communes, validate_villages
from tests.conftest import UTM48N, X0, Y0, make_communes, make_villages


def csv(tmp_path, text, name="villages.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def points(n, x0=103.0):
    return gpd.GeoDataFrame(
        {"village_id": [f"V{i}" for i in range(n)], "village_name": [f"Bản {i}" for i in range(n)]},
        geometry=[shapely.Point(x0 + i * 0.001, 21.4) for i in range(n)], crs=4326)


# --------------------------------------------------------------------- multi-layer files

def test_multi_layer_geopackage_reads_the_villages_layer_not_the_first(tmp_path):
    path = tmp_path / "province.gpkg"
    points(5).to_file(path, layer="towns")  # the first layer
    points(172).to_file(path, layer="villages")
    assert len(read_villages(path)) == 172
    assert len(read_villages(f"{path}:towns")) == 5


def test_ambiguous_layers_are_refused_with_their_list(tmp_path):
    path = tmp_path / "export.gpkg"
    points(5).to_file(path, layer="ban_2024")
    points(7).to_file(path, layer="ban_2025")
    with pytest.raises(InputError, match=r"has 2 layers \(ban_2024, ban_2025\); say which .*"
                                         r"--villages .*export.gpkg:ban_2024"):
        read_villages(path)
    assert len(read_villages(f"{path}:ban_2025")) == 7
    with pytest.raises(InputError, match="has no layer 'ban'; its layers: ban_2024, ban_2025"):
        read_villages(f"{path}:ban")


# --------------------------------------------------------------------- Excel

def workbook(tmp_path, sheets, name="ban.xlsx"):
    """Save ``{sheet name: rows}`` as a workbook (values only, as Excel saves them)."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def village_rows(n, prefix="V"):
    return [["village_id", "village_name", "lon", "lat"],
            *([f"{prefix}{i}", f"Bản {i}", 103.0 + i / 1000, 21.4] for i in range(n))]


def test_xlsx_single_sheet_is_read_whatever_its_name(tmp_path):
    path = workbook(tmp_path, {"Danh sách": [
        ["Mã bản", "Tên bản", "Kinh độ", "Vĩ độ", "Dân số"],
        ["001", "Bản Nà Sáy", 103.01, 21.4, 1250],
        ["002", "Bản Huổi", 103.02, 21.41, None]]})
    villages = read_villages(path)
    assert villages["village_id"].tolist() == ["001", "002"]
    assert villages["village_name"].tolist() == ["Bản Nà Sáy", "Bản Huổi"]
    assert villages["population"].iloc[0] == 1250 and np.isnan(villages["population"].iloc[1])
    assert villages.geometry.iloc[0].equals(shapely.Point(103.01, 21.4))


def test_xlsx_sheet_named_after_the_role_not_the_first(tmp_path):
    # the first sheet holds 5 old rows: reading it silently analysed 5 villages, not 172
    path = workbook(tmp_path, {"cũ": village_rows(5, "OLD"), "Villages": village_rows(172),
                               "Sheet3": []})
    assert len(read_villages(path)) == 172
    assert read_villages(f"{path}:cũ")["village_id"].tolist()[0] == "OLD0"


def test_xlsx_with_several_sheets_and_none_named_is_refused_with_the_list(tmp_path):
    path = workbook(tmp_path, {"Danh sách": village_rows(2), "Khác": village_rows(1, "K")})
    with pytest.raises(InputError) as err:
        read_villages(path)
    message = str(err.value)
    assert "has 2 sheets with data (Danh sách, Khác)" in message
    assert f'--villages "{path}:Danh sách" (FILE:SHEET)' in message
    assert read_villages(f"{path}:Khác")["village_id"].tolist() == ["K0"]
    with pytest.raises(InputError, match="has no sheet 'Sheet9'; its sheets: Danh sách, Khác"):
        read_villages(f"{path}:Sheet9")


def test_xlsx_duplicated_header_is_one_clear_error(tmp_path):
    path = workbook(tmp_path, {"villages": [["village_id", "village_name", "lon", "lat", "lon"],
                                            ["V1", "Bản A", 103.0, 21.4, 103.1]]})
    with pytest.raises(InputError, match=r"sheet 'villages': the header names column 'lon' "
                                         r"twice \(columns C and E\); rename or remove one"):
        read_villages(path)


def test_csv_duplicated_header_is_refused_not_renamed(tmp_path):
    path = csv(tmp_path, "village_id,village_name,lon,lat,lat\nV1,A,103,21.4,21.5\n")
    with pytest.raises(InputError, match=r"names column 'lat' twice \(columns 4 and 5\)"):
        read_villages(path)


def test_xlsx_formulas_saved_without_values_are_refused_naming_the_cells(tmp_path):
    # openpyxl (like any script) writes formulas without their computed values
    rows = village_rows(3)
    for r in range(1, 4):
        rows[r][1] = f'="Bản "&A{r + 1}'
    path = workbook(tmp_path, {"villages": rows})
    with pytest.raises(InputError, match=r"has 3 formula cell\(s\) saved without their values "
                                         r"\(B2, B3, B4; e\.g\. B2 is '=\"Bản \"&A2'\)"):
        read_villages(path)


def test_xlsx_typed_numbers_are_numbers_and_only_text_cells_read_by_locale(tmp_path):
    # a text cell 103,15 (typed by hand with a Vietnamese keyboard) beside number cells
    rows = village_rows(3)
    rows[2][2] = "103,15"
    path = workbook(tmp_path, {"villages": rows})
    villages = read_villages(path)
    assert villages.geometry.x.tolist() == [103.0, 103.15, 103.002]
    # typed numbers with decimals are never taken for thousands
    rows = [["village_id", "village_name", "lon", "lat", "population"],
            ["V1", "Bản A", 103.5, 21.25, "1.250"], ["V2", "Bản B", "103,25", 21.5, "80"]]
    with pytest.warns(GeoDxWarning, match="decimal comma"):
        villages = read_villages(workbook(tmp_path, {"villages": rows}, name="b.xlsx"))
    assert villages["population"].tolist() == [1250.0, 80.0]
    assert villages.geometry.x.tolist() == [103.5, 103.25]


# --------------------------------------------------------------------- Vietnamese locale

def test_vietnamese_excel_csv_reads_numbers_consistently(tmp_path):
    path = csv(tmp_path, "village_id;village_name;lon;lat;population;poverty_rate\n"
                         "1;Bản A;103,01;21,4;1.250;0,35\n"
                         "2;Bản B;103,02;21,41;80;\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        villages = read_villages(path)
    assert villages["population"].tolist()[0] == 1250.0  # not 1.25 people
    assert villages["poverty_rate"].iloc[0] == pytest.approx(0.35)
    assert villages.geometry.iloc[0].equals(shapely.Point(103.01, 21.4))
    locale = [w for w in caught if "decimal comma" in str(w.message)]
    assert len(locale) == 1 and issubclass(locale[0].category, GeoDxWarning)


def test_semicolon_csv_with_only_thousands_is_vietnamese(tmp_path):
    path = csv(tmp_path, "village_id;village_name;lon;lat;population\n"
                         "1;Bản A;103;21;1.250\n")
    with pytest.warns(GeoDxWarning, match="decimal comma"):
        assert read_villages(path)["population"].iloc[0] == 1250.0


def test_plain_csv_keeps_decimal_points(tmp_path):
    path = csv(tmp_path, "village_id,village_name,lon,lat,population,poverty_rate\n"
                         "1,Bản A,103.01,21.4,1250,0.35\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeoDxWarning)
        villages = read_villages(path)
    assert villages["poverty_rate"].iloc[0] == pytest.approx(0.35)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("village_id;village_name;lon;lat;population\n1;A;103,01;21.4;10\n",
         "mix a decimal comma ('103,01' in column 'lon', data row 1) and a decimal point "
         "('21.4' in column 'lat'"),
        ("village_id;village_name;lon;lat;population\n1;A;103.01;21.4;1.250\n",
         "is '1.250' in column 'population' 1250 or 1.250?"),
    ],
)
def test_ambiguous_number_mixtures_are_refused(tmp_path, text, message):
    with pytest.raises(InputError) as err:
        read_villages(csv(tmp_path, text))
    assert message in str(err.value)


# --------------------------------------------------------------------- NFC

def test_nfd_text_is_normalised_to_nfc(tmp_path):
    nfd = unicodedata.normalize("NFD", "Không")
    communes = make_communes()
    communes["commune_id"] = [unicodedata.normalize("NFC", f"Xã Đông {i}") for i in range(9)]
    villages = make_villages([(1000, 1000)], especially_difficult=[nfd],
                             commune_id=[unicodedata.normalize("NFD", "Xã Đông 0")])
    villages = villages.rename(columns={"village_name": unicodedata.normalize("NFD",
                                                                              "village_name")})
    clean = validate_villages(villages)
    assert clean["especially_difficult"].tolist() == [False]
    assert clean["commune_id"].iloc[0] == communes["commune_id"].iloc[0]
    assert "village_name" in clean


def test_nfd_header_matches_an_nfc_config_mapping(tmp_path):
    path = csv(tmp_path, unicodedata.normalize("NFD", "Mã,Tên,lon,lat\n1,Bản Nà,103,21\n"))
    from geo_dx.config import config_from_dict

    config = config_from_dict({"columns": {"villages": {"Mã": "village_id",
                                                         "Tên": "village_name"}}})
    villages = read_villages(path, config=config)
    assert villages["village_name"].tolist() == [unicodedata.normalize("NFC", "Bản Nà")]


# --------------------------------------------------------------------- headers

@pytest.mark.parametrize(
    ("lon", "lat"),
    [("lon", "lat"), ("Lon", "Lat"), ("LONGITUDE", "Latitude"), ("x", "y"), ("X", "Y"),
     ("kinh_do", "vi_do"), ("Kinh độ", "Vĩ độ"), ("kinh do", "vi do")],
)
def test_coordinate_columns_any_case_vietnamese_or_english(tmp_path, lon, lat):
    path = csv(tmp_path, f"village_id,village_name,{lon},{lat}\n1,Bản A,103.5,21.25\n")
    assert read_villages(path).geometry.iloc[0].equals(shapely.Point(103.5, 21.25))


@pytest.mark.parametrize("name", ["ten_ban", "Tên bản", "TEN_BAN", "Village_Name"])
def test_name_columns_are_recognised(tmp_path, name):
    path = csv(tmp_path, f"village_id,{name},lon,lat\n1,Bản A,103.5,21.25\n")
    assert read_villages(path)["village_name"].tolist() == ["Bản A"]


def test_fold_and_recognise():
    assert fold("Vĩ Độ") == "vi_do"
    assert find_lon_lat(["name", "x", "lat"]) == (None, "lat")  # x alone is not a longitude
    assert recognise(["village_name", "Village_Name"], "villages", ["village_name"]) == {}


def test_all_missing_required_columns_are_reported_together(tmp_path):
    path = csv(tmp_path, "name,lon,lat\nBản A,103.5,21.25\n")
    with pytest.raises(InputError, match="required columns 'village_id', 'village_name' are "
                                         "missing"):
        read_villages(path)


def test_did_you_mean_never_offers_a_column_with_another_role(tmp_path):
    path = csv(tmp_path, "village_name,commune_id,lon,lat\nBản A,C1,103.5,21.25\n")
    with pytest.raises(InputError) as err:
        read_villages(path)
    assert "'village_id' is missing" in str(err.value)
    assert "did you mean" not in str(err.value)


# --------------------------------------------------------------------- coverage

def test_opencellid_nb_iot_and_other_radios_are_skipped_and_counted(tmp_path):
    path = csv(tmp_path, "radio,mcc,net,area,cell,unit,lon,lat,range\n"
                         "LTE,452,4,1,1,,103.0,21.4,1200\n"
                         "NBIOT,452,4,1,2,,103.0,21.4,1200\n"
                         "NBIOT,452,4,1,3,,103.0,21.4,1200\n"
                         "GSM,452,4,1,4,,103.1,21.4,\n", name="cells.csv")
    with pytest.warns(GeoDxWarning, match=r"skipped 2 OpenCellID row\(s\) .*NBIOT: 2"):
        cov = read_coverage(path)
    assert cov["technology"].tolist() == ["4g", "2g"]


def test_unknown_technology_stays_an_error(tmp_path):
    path = csv(tmp_path, "technology,lon,lat\nNBIOT,103,21.4\n4g,103,21.4\n", name="sites.csv")
    with pytest.raises(InputError, match="unknown value"):
        read_coverage(path)


def test_same_file_name_in_two_folders_each_gets_the_location_check(tmp_path):
    communes = validate_communes(make_communes())
    near, far = tmp_path / "viettel", tmp_path / "vnpt"
    near.mkdir()
    far.mkdir()
    c = communes.to_crs(4326).geometry.iloc[0].centroid
    csv(near, f"technology,lon,lat\n4g,{c.x},{c.y}\n", name="sites.csv")
    csv(far, f"technology,lon,lat\n4g,{c.x + 5},{c.y}\n", name="sites.csv")
    with pytest.raises(InputError, match=r"vnpt/sites\.csv: 1 of 1 features lie"):
        read_coverage([near / "sites.csv", far / "sites.csv"], within=communes)


def test_infinite_range_is_refused(tmp_path):
    path = csv(tmp_path, "technology,lon,lat,range_m\n4g,103,21.4,inf\n", name="s.csv")
    with pytest.raises(InputError, match="column 'range_m' must be numeric"):
        read_coverage(path)


# --------------------------------------------------------------------- broken geometry

def test_half_nan_point_is_one_clear_error():
    villages = make_villages([(0, 0), (10, 10)])
    villages.loc[1, "geometry"] = shapely.Point(np.nan, Y0)
    with pytest.raises(InputError, match=r"1 villages feature\(s\) have NaN or infinite "
                                         r"coordinates \(row 2\)"):
        validate_villages(villages)


def test_huge_projected_coordinates_are_one_clear_error():
    villages = gpd.GeoDataFrame({"village_id": ["a", "b"], "village_name": ["A", "B"]},
                                geometry=[shapely.Point(X0, Y0), shapely.Point(1e308, Y0)],
                                crs=UTM48N)
    with pytest.raises(InputError, match=r"not on the Earth in their CRS .*\(row 2\)"):
        validate_villages(villages)


def test_a_folder_given_as_an_input_file(tmp_path):
    with pytest.raises(InputError, match="is a folder; give a file"):
        read_communes(tmp_path)
    with pytest.raises(InputError, match="is a folder"):
        read_layer(tmp_path)


def test_a_mapping_onto_an_existing_column_is_one_clear_error(tmp_path):
    path = csv(tmp_path, "ma_ban,ten,village_name,lon,lat\nV1,Bản Nà,x,103,21.4\n")
    with pytest.raises(InputError, match=r"\[columns\.villages\] \"ten\" = \"village_name\".* "
                                         r"already has a column 'village_name'"):
        read_villages(path, config=config_from_dict(
            {"columns": {"villages": {"ma_ban": "village_id", "ten": "village_name"}}}))
