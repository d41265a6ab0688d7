"""No silently wrong answer: misplaced villages, overlapping communes, missing evidence, rasters."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_dx.communes import assign_communes, check_overlaps
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.evidence import raster_evidence, read_speed_tiles
from geo_dx.gaps import find_gaps
from geo_dx.report import priority_table
from geo_dx.schema import validate_communes, validate_coverage, validate_villages
from geo_dx.scoring import score
from tests.conftest import NAN, UTM48N, X0, Y0, make_communes, make_coverage, make_villages
from tests.test_evidence import tiles_frame, villages_at, write_raster


def recorded(func, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    return result, [str(w.message) for w in caught if issubclass(w.category, GeoDxWarning)]


# --------------------------------------------------------------------- misplaced villages

def test_a_village_far_from_the_commune_its_id_names_is_flagged_and_not_ranked():
    communes = validate_communes(make_communes())
    villages = validate_villages(make_villages(
        [(1000, 1000), (5000, 5000), (215_000, 5000)],  # the last one 200 km east of C00
        commune_id=["C00", "C00", "C00"], population=[100, 200, 300],
    ))
    cov = make_coverage([("4g", 25_000, 25_000, 10.0)])
    gaps, messages = recorded(find_gaps, villages, validate_coverage(cov), communes=communes)
    assert gaps["location_issue"].iloc[:2].isna().all()
    assert gaps["location_issue"].iloc[2] == "205.0 km outside its commune_id C00"
    assert any("1 village(s) lie more than 1000 m outside the commune their commune_id names: "
               "V2 (205.0 km outside its commune_id C00)" in m for m in messages)
    scored = score(gaps)
    assert sorted(scored["rank"].dropna()) == [1, 2]
    assert np.isnan(scored["score"].iloc[2]) and pd.isna(scored["rank"].iloc[2])
    assert "V2" not in set(priority_table(scored)["village_id"])


def test_a_village_outside_every_commune_is_named_and_not_ranked():
    communes = validate_communes(make_communes())
    villages = validate_villages(make_villages([(1000, 1000), (-50_000, 1000)]))
    out, messages = recorded(assign_communes, villages, communes)
    assert out["commune_id"].tolist()[0] == "C00" and pd.isna(out["commune_id"].iloc[1])
    assert out["location_issue"].iloc[1] == "more than 1000 m outside every commune"
    assert any(m.startswith("1 village(s) lie more than 1000 m outside every commune; kept "
                            "them unassigned: V1;") for m in messages)


def test_a_village_inside_its_commune_or_within_the_distance_is_fine():
    communes = validate_communes(make_communes())
    villages = validate_villages(make_villages([(1000, 1000), (10_500, 1000)],
                                               commune_id=["C00", "C00"]))  # 500 m outside
    out, messages = recorded(assign_communes, villages, communes)
    assert out["location_issue"].isna().all() and not messages


# --------------------------------------------------------------------- overlapping communes

def test_overlapping_communes_are_reported():
    communes = make_communes()
    communes.loc[1, "geometry"] = shapely.box(X0 + 2000, Y0, X0 + 20_000, Y0 + 10_000)
    table, messages = recorded(check_overlaps, validate_communes(communes))
    assert table[["commune_a", "commune_b"]].values.tolist() == [["C00", "C01"]]
    assert table["share_of_smaller"].iloc[0] == pytest.approx(0.8)
    assert any("1 pair(s) of communes overlap by more than 1% of the smaller one: C00 and C01 "
               "(80%)" in m for m in messages)


def test_touching_communes_and_slivers_are_not_reported():
    communes = make_communes()
    communes.loc[1, "geometry"] = shapely.box(X0 + 9990, Y0, X0 + 20_000, Y0 + 10_000)  # 0.1%
    table, messages = recorded(check_overlaps, validate_communes(communes))
    assert table.empty and not messages
    assert check_overlaps(validate_communes(make_communes())).empty


# --------------------------------------------------------------------- missing evidence

def run_gaps(rows):
    villages = validate_villages(make_villages([(1000, 1000), (5000, 5000)]))
    return recorded(find_gaps, villages, validate_coverage(make_coverage(rows)))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("fibre", 1000, 1000, 500.0)], "no 3g/4g/5g coverage point"),
        ([("fibre", 1000, 1000, 500.0), ("2g", 1000, 1000, 5000.0)],
         "no 3g/4g/5g coverage point (only 2g: 1)"),
        ([("fibre", 1000, 1000, 500.0), ("4g", 2000, 2000, 0.0), ("4g", 0, 0, 0.0)],
         "every 3g/4g/5g coverage point has a reach of 0 m"),
    ],
)
def test_no_mobile_evidence_is_said(rows, message):
    gaps, messages = run_gaps(rows)
    assert (~gaps["has_mobile_broadband"]).all()
    assert any(message in m and "every village is without mobile broadband" in m
               for m in messages), messages


def test_no_fibre_evidence_is_said_and_distance_is_empty_not_inf():
    gaps, messages = run_gaps([("4g", 1000, 1000, 5000.0)])
    assert any("no fibre coverage point" in m for m in messages)
    assert gaps["nearest_fibre_m"].isna().all()
    table = priority_table(gaps.assign(score=[1.0, 2.0]))
    text = table.to_csv(index=False)
    assert "inf" not in text


def test_with_evidence_there_is_no_such_warning():
    _, messages = run_gaps([("4g", 1000, 1000, 5000.0), ("fibre", 1000, 1000, 500.0)])
    assert not [m for m in messages if "coverage point" in m]


# --------------------------------------------------------------------- python API inputs

def test_find_gaps_normalises_unvalidated_coverage():
    villages = make_villages([(1000, 1000), (50_000, 50_000)])
    raw = gpd.GeoDataFrame({"technology": ["LTE", "FTTH"], "range_m": [3000.0, 500.0]},
                           geometry=[shapely.Point(X0 + 1000, Y0 + 1200)] * 2, crs=UTM48N)
    gaps = find_gaps(villages, raw)
    assert gaps["has_mobile_broadband"].tolist() == [True, False]
    assert gaps["has_fibre"].tolist() == [True, False]
    assert raw["technology"].tolist() == ["LTE", "FTTH"]  # input untouched


@pytest.mark.parametrize(
    ("villages", "message"),
    [
        (make_villages([(0, 0)]).iloc[:0], "the villages layer is empty"),
        (make_villages([(0, 0)]).set_crs(None, allow_override=True), "has no CRS"),
    ],
)
def test_find_gaps_refuses_empty_or_crs_less_villages(villages, message):
    cov = make_coverage([("4g", 0, 0, NAN)])
    with pytest.raises(InputError, match=message):
        find_gaps(villages, cov)


# --------------------------------------------------------------------- rasters and tiles

def test_a_raster_without_threshold_must_be_a_mask(tmp_path):
    villages = villages_at({"a": (1, 1), "b": (5, 5)})
    dem = write_raster(tmp_path / "dem.tif", np.linspace(300, 2400, 100, dtype="float32")
                       .reshape(10, 10))
    with pytest.raises(InputError, match=r"dem\.tif: values 300\.\.2400 \(100 distinct\) look "
                                         r"like elevation .*give threshold"):
        raster_evidence(villages, dem, technology="4g")
    mask = np.zeros((10, 10), dtype="uint8")
    mask[1, 1] = 1
    ok = raster_evidence(villages, write_raster(tmp_path / "mask.tif", mask), technology="4g")
    assert ok.covered.tolist() == [True, False]
    also = raster_evidence(villages, write_raster(tmp_path / "m255.tif", mask * 255),
                           technology="4g")
    assert also.covered.tolist() == [True, False]


def test_a_nan_threshold_is_refused(tmp_path):
    villages = villages_at({"a": (1, 1)})
    tif = write_raster(tmp_path / "s.tif", np.full((10, 10), -90.0, dtype="float32"))
    with pytest.raises(InputError, match="threshold was nan; give a number"):
        raster_evidence(villages, tif, technology="4g", threshold=float("nan"))


def test_ookla_tiles_as_csv_load_and_bad_wkt_is_named(tmp_path):
    tiles = tiles_frame()
    frame = pd.DataFrame(tiles.drop(columns="geometry")).assign(tile=tiles.geometry.to_wkt())
    frame.to_csv(tmp_path / "tiles.csv", index=False)
    read = read_speed_tiles(tmp_path / "tiles.csv")
    assert len(read) == 4 and read.crs.to_epsg() == 4326
    assert read.geometry.iloc[0].equals(tiles.geometry.iloc[0])
    frame.loc[2, "tile"] = "POLYGON ((103 21.3, oops"
    frame.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(InputError, match=r"bad\.csv: column 'tile' has 1 value\(s\) that are not "
                                         r"WKT polygons, e\.g\. .* at data row 3"):
        read_speed_tiles(tmp_path / "bad.csv")
    frame.drop(columns="tile").to_csv(tmp_path / "plain.csv", index=False)
    with pytest.raises(InputError, match="no WKT 'tile' column"):
        read_speed_tiles(tmp_path / "plain.csv")
