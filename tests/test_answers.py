"""No silently wrong answer: misplaced villages, overlapping communes, missing evidence, rasters."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo_dx.communes import assign_communes, check_overlaps
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.evidence import raster_evidence, read_speed_tiles
from geo_dx.gaps import find_gaps
from geo_dx.run.report import priority_table
from geo_dx.schema import validate_communes, validate_coverage, validate_villages
from geo_dx.scoring import score
from geo_dx.spatial import check_crs_covers, utm_crs
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
    assert any("1 pair(s) of communes overlap by more than 5% of the smaller one: C00 and C01 "
               "(80%)" in m for m in messages)


def test_touching_communes_and_slivers_are_not_reported():
    communes = make_communes()
    communes.loc[1, "geometry"] = shapely.box(X0 + 9600, Y0, X0 + 20_000, Y0 + 10_000)  # 4%
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


def test_fibre_nodes_all_with_range_0_are_said_as_for_mobile_sites():
    gaps, messages = run_gaps([("4g", 1000, 1000, 5000.0), ("fibre", 2000, 2000, 0.0),
                               ("fibre", 0, 0, 0.0)])
    assert (~gaps["has_fibre"]).all()
    assert any("every fibre coverage point has a reach of 0 m" in m
               and "every village is without fibre" in m for m in messages), messages


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


# --------------------------------------------------------------------- through the command line

def cli_inputs(tmp_path, coverage_rows, *, villages_xy=None, communes=None, **columns):
    """Communes (3×3 grid), villages as a CSV in lon/lat, coverage as a GeoPackage."""
    paths = {"communes": tmp_path / "communes.gpkg", "villages": tmp_path / "villages.csv",
             "coverage": tmp_path / "sites.gpkg"}
    (communes if communes is not None else make_communes()).to_file(paths["communes"])
    xy = villages_xy or [(1000, 1000), (5000, 5000), (15_000, 15_000), (25_000, 25_000)]
    v = make_villages(xy, population=[100 * (i + 1) for i in range(len(xy))], **columns)
    v = v.to_crs(4326)
    pd.DataFrame(v.drop(columns="geometry")).assign(lon=v.geometry.x, lat=v.geometry.y).to_csv(
        paths["villages"], index=False)
    make_coverage(coverage_rows).to_file(paths["coverage"])
    return paths


def cli_run(paths, out, *extra):
    from geo_dx.cli import main

    return main(["run", "--communes", str(paths["communes"]), "--villages",
                 str(paths["villages"]), "--coverage", str(paths["coverage"]),
                 "--out", str(out), "-q", "--lang", "en", *extra])


def summary_of(out):
    import json

    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("fibre", 1000, 1000, 500.0)], "no 3g/4g/5g coverage point and no other mobile"),
        ([("fibre", 1000, 1000, 500.0), ("2g", 1000, 1000, 9000.0)],
         "no 3g/4g/5g coverage point (only 2g: 1)"),
        ([("fibre", 1000, 1000, 500.0), ("4g", 1000, 1200, 0.0), ("3g", 6000, 5000, 0.0)],
         "every 3g/4g/5g coverage point has a reach of 0 m"),
    ],
)
def test_run_without_mobile_evidence_says_so_in_the_summary(tmp_path, rows, message):
    out = tmp_path / "out"
    assert cli_run(cli_inputs(tmp_path, rows), out) == 0
    summary = summary_of(out)
    assert summary["totals"]["without_mobile_broadband"] == 4
    assert any(message in w for w in summary["warnings"]), summary["warnings"]
    assert summary["totals"]["warnings"] == len(summary["warnings"]) >= 1


def test_run_without_fibre_leaves_nearest_fibre_empty_in_csv_and_workbook(tmp_path):
    import openpyxl

    out = tmp_path / "out"
    assert cli_run(cli_inputs(tmp_path, [("4g", 1000, 1200, 500.0)]), out) == 0
    assert any("no fibre coverage point" in w for w in summary_of(out)["warnings"])
    text = (out / "priority.csv").read_text(encoding="utf-8-sig")
    assert "inf" not in text.lower()
    table = pd.read_csv(out / "priority.csv", encoding="utf-8-sig")
    assert len(table) == 4 and table["nearest_fibre_m"].isna().all()
    layer = gpd.read_file(out / "villages.gpkg", layer="villages")
    assert layer["nearest_fibre_m"].isna().all() and np.isfinite(layer["nearest_mobile_m"]).all()
    assert table["nearest_mobile_m"].notna().all()
    book = openpyxl.load_workbook(out / "priority.xlsx")
    sheet = book["Priority villages"]
    headers = [c.value for c in sheet[1]]
    column = headers.index("Nearest fibre node (m)") + 1
    assert sheet.cell(sheet.max_row, 1).value == "Total"  # the totals row comes last
    cells = [sheet.cell(row, column).value for row in range(2, sheet.max_row)]
    assert len(cells) == 4 and all(c is None for c in cells), cells


def test_run_flags_a_village_with_lon_typed_minus_zero_and_does_not_rank_it(tmp_path):
    paths = cli_inputs(tmp_path, [("4g", 1000, 1200, 500.0), ("fibre", 5000, 5100, 500.0)])
    frame = pd.read_csv(paths["villages"])
    frame.loc[2, "lon"] = -0.0  # typed "-0": 11,000 km from its commune
    frame.to_csv(paths["villages"], index=False)
    out = tmp_path / "out"
    assert cli_run(paths, out) == 0
    table = pd.read_csv(out / "priority.csv", encoding="utf-8-sig")
    assert "V2" not in set(table["village_id"]) and table["rank"].tolist() == [1, 2, 3]
    summary = summary_of(out)
    assert any("outside" in w and "V2" in w for w in summary["warnings"]), summary["warnings"]
    layer = gpd.read_file(out / "villages.gpkg", layer="villages")
    issue = layer.set_index("village_id")["location_issue"]
    assert isinstance(issue["V2"], str) and issue.drop("V2").isna().all()


@pytest.mark.parametrize("with_ids", [False, True])
def test_run_with_many_villages_shifted_far_flags_every_one_and_ranks_none(tmp_path, with_ids):
    # 40% of the villages 200 km east of every commune: never ranked as if they were real
    xy = [(1000 + 2000 * i, 1000 + 2000 * i) for i in range(6)] + [
        (200_000 + 1000 * i, 5000) for i in range(4)]
    ids = {"commune_id": ["C00"] * 5 + ["C11", "C00", "C01", "C02", "C10"]} if with_ids else {}
    paths = cli_inputs(tmp_path, [("4g", 1000, 1200, 500.0), ("fibre", 5000, 5100, 500.0)],
                       villages_xy=xy, **ids)
    out = tmp_path / "out"
    assert cli_run(paths, out) == 0
    table = pd.read_csv(out / "priority.csv", encoding="utf-8-sig")
    assert not {"V6", "V7", "V8", "V9"} & set(table["village_id"]) and len(table) >= 4
    what = ("outside the commune their commune_id names" if with_ids
            else "outside every commune")
    assert any(w.startswith("4 village(s)") and what in w and "V6" in w and "V9" in w
               for w in summary_of(out)["warnings"]), summary_of(out)["warnings"]
    layer = gpd.read_file(out / "villages.gpkg", layer="villages").set_index("village_id")
    assert layer["location_issue"].notna().sum() == 4
    shifted = layer.loc[["V6", "V7", "V8", "V9"]]
    assert shifted["rank"].isna().all() and shifted["score"].isna().all()
    assert shifted["cluster_id"].isna().all()  # no rollout cluster around a wrong location
    assert sorted(layer["rank"].dropna()) == list(range(1, len(table) + 1))


def test_run_reads_the_villages_layer_of_a_multi_layer_geopackage(tmp_path):
    paths = cli_inputs(tmp_path, [("4g", 1000, 1200, 500.0), ("fibre", 5000, 5100, 500.0)])
    bundle = tmp_path / "inputs.gpkg"
    all_villages = make_villages([(1000 + 1000 * i, 1000 + 1000 * i) for i in range(12)])
    all_villages.iloc[:5].to_file(bundle, layer="a_draft")  # the first layer: 5 villages
    all_villages.to_file(bundle, layer="villages")
    paths["villages"] = bundle
    assert cli_run(paths, tmp_path / "out") == 0
    assert summary_of(tmp_path / "out")["totals"]["villages"] == 12
    paths["villages"] = f"{bundle}:a_draft"
    assert cli_run(paths, tmp_path / "draft") == 0
    assert summary_of(tmp_path / "draft")["totals"]["villages"] == 5


def test_run_reports_overlapping_communes(tmp_path):
    communes = make_communes()
    communes.loc[1, "geometry"] = shapely.box(X0 + 2000, Y0, X0 + 20_000, Y0 + 10_000)
    paths = cli_inputs(tmp_path, [("4g", 1000, 1200, 500.0), ("fibre", 5000, 5100, 500.0)],
                       communes=communes)
    out = tmp_path / "out"
    assert cli_run(paths, out) == 0
    assert any("communes overlap" in w and "C00 and C01" in w
               for w in summary_of(out)["warnings"])


def one_line_exit_2(paths, out, capsys, *extra):
    code = cli_run(paths, out, *extra)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("geo-dx: error: ") and "Traceback" not in err[0]
    assert not out.exists()
    return err[0]


def test_bad_speed_tiles_are_one_line_exit_2(tmp_path, capsys):
    paths = cli_inputs(tmp_path, [("4g", 1000, 1200, 500.0), ("fibre", 5000, 5100, 500.0)])
    tiles = tiles_frame()
    frame = pd.DataFrame(tiles.drop(columns="geometry")).assign(tile=tiles.geometry.to_wkt())
    frame.loc[1, "tile"] = "POLYGON ((103 21.3, oops"
    frame.to_csv(tmp_path / "tiles.csv", index=False)
    line = one_line_exit_2(paths, tmp_path / "out", capsys,
                           "--mobile-tiles", str(tmp_path / "tiles.csv"))
    assert "tiles.csv: column 'tile' has 1 value(s) that are not WKT polygons" in line


def test_a_dem_given_as_coverage_raster_without_threshold_is_one_line_exit_2(tmp_path, capsys):
    paths = cli_inputs(tmp_path, [("4g", 1000, 1200, 500.0), ("fibre", 5000, 5100, 500.0)])
    import rasterio
    from rasterio.transform import from_origin

    dem = tmp_path / "dem.tif"
    transform = from_origin(X0 - 1000, Y0 + 31_000, 1000, 1000)
    with rasterio.open(dem, "w", driver="GTiff", width=40, height=40, count=1, dtype="float32",
                       crs=UTM48N, transform=transform) as dst:
        dst.write(np.linspace(300, 2400, 1600, dtype="float32").reshape(40, 40), 1)
    line = one_line_exit_2(paths, tmp_path / "out", capsys, "--coverage-raster", str(dem))
    assert "dem.tif" in line and "look like elevation" in line and "threshold" in line
    line = one_line_exit_2(paths, tmp_path / "out", capsys, "--coverage-raster", str(dem),
                           "--raster-threshold", "nan")
    assert "threshold was nan" in line


def test_half_nan_and_huge_coordinates_are_one_line_exit_2(tmp_path, capsys):
    paths = cli_inputs(tmp_path, [("4g", 1000, 1200, 500.0), ("fibre", 5000, 5100, 500.0)])
    villages = make_villages([(1000, 1000), (5000, 5000)])
    villages.loc[1, "geometry"] = shapely.Point(np.nan, Y0 + 5000)
    villages.to_file(tmp_path / "half.gpkg")
    paths["villages"] = tmp_path / "half.gpkg"
    line = one_line_exit_2(paths, tmp_path / "out", capsys)
    assert "half.gpkg" in line and "NaN or infinite coordinates (row 2)" in line
    villages.loc[1, "geometry"] = shapely.Point(1e308, Y0 + 5000)
    villages.to_file(tmp_path / "huge.gpkg")
    paths["villages"] = tmp_path / "huge.gpkg"
    line = one_line_exit_2(paths, tmp_path / "out", capsys)
    assert "huge.gpkg" in line


def test_a_read_only_out_is_one_line_exit_2_before_the_analysis(tmp_path, capsys, monkeypatch):
    import geo_dx.run.folder
    import geo_dx.run.pipeline

    paths = cli_inputs(tmp_path, [("4g", 1000, 1200, 500.0), ("fibre", 5000, 5100, 500.0)])

    def no_analysis(*args, **kwargs):
        raise AssertionError("the analysis ran before --out was checked")

    monkeypatch.setattr(geo_dx.run.pipeline, "analyse", no_analysis)
    monkeypatch.setattr(geo_dx.run.folder.os, "access", lambda path, mode: False)
    line = one_line_exit_2(paths, tmp_path / "out", capsys)
    assert "read-only" in line


def test_a_read_only_file_system_while_writing_is_one_line_exit_2(tmp_path, capsys, monkeypatch):
    import errno

    import geo_dx.run.report

    paths = cli_inputs(tmp_path, [("4g", 1000, 1200, 500.0), ("fibre", 5000, 5100, 500.0)])

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", "priority.csv")

    monkeypatch.setattr(geo_dx.run.report, "write_priority_csv", read_only)
    line = one_line_exit_2(paths, tmp_path / "out", capsys)
    assert "read-only" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "communes.gpkg", "sites.gpkg", "villages.csv"]


def test_a_cp1258_config_is_one_line_exit_2_and_a_bom_is_fine(tmp_path, capsys):
    paths = cli_inputs(tmp_path, [("4g", 1000, 1200, 500.0), ("fibre", 5000, 5100, 500.0)])
    config = tmp_path / "geo_dx.toml"
    config.write_bytes('[columns.villages]\n"Tên ba\u0309n" = "village_name"\n'.encode("cp1258"))
    line = one_line_exit_2(paths, tmp_path / "out", capsys, "--config", str(config))
    assert "geo_dx.toml" in line and "not UTF-8" in line
    config.write_bytes("\ufeff[scoring]\ntop_n = 2\n".encode())
    assert cli_run(paths, tmp_path / "out", "--config", str(config)) == 0


def test_a_column_mapped_onto_an_existing_column_is_one_line_exit_2(tmp_path, capsys):
    paths = cli_inputs(tmp_path, [("4g", 1000, 1200, 500.0), ("fibre", 5000, 5100, 500.0)])
    frame = pd.read_csv(paths["villages"]).assign(ten=lambda f: f["village_name"])
    frame.to_csv(paths["villages"], index=False)
    config = tmp_path / "geo_dx.toml"
    config.write_text('[columns.villages]\nten = "village_name"\n', encoding="utf-8")
    line = one_line_exit_2(paths, tmp_path / "out", capsys, "--config", str(config))
    assert "villages.csv" in line and "already has a column 'village_name'" in line


def test_two_operators_sites_csv_are_each_checked_through_the_cli(tmp_path, capsys):
    from geo_dx.cli import main

    paths = cli_inputs(tmp_path, [("4g", 1000, 1200, 500.0), ("fibre", 5000, 5100, 500.0)])
    c = make_communes().to_crs(4326).geometry.iloc[0].centroid
    for operator, dx in (("viettel", 0.0), ("vnpt", 5.0)):  # vnpt's file is 500 km off
        (tmp_path / operator).mkdir()
        (tmp_path / operator / "sites.csv").write_text(
            f"technology,lon,lat\n4g,{c.x + dx},{c.y}\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(["run", "--communes", str(paths["communes"]), "--villages",
                 str(paths["villages"]), "--coverage", str(tmp_path / "viettel" / "sites.csv"),
                 str(tmp_path / "vnpt" / "sites.csv"), "--out", str(out), "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "vnpt/sites.csv: 1 of 1 features lie" in err[0], err
    assert not out.exists()


def test_ookla_tiles_as_csv_are_used_through_the_cli(tmp_path):
    paths = cli_inputs(tmp_path, [("fibre", 5000, 5100, 500.0)])
    tiles = tiles_frame().translate(2.0, 0.045)  # tile "a" over V0 (105.0096°E, 21.3511°N)
    tiles = tiles_frame().set_geometry(tiles)
    frame = pd.DataFrame(tiles.drop(columns="geometry")).assign(tile=tiles.geometry.to_wkt())
    frame.to_csv(tmp_path / "tiles.csv", index=False)
    out = tmp_path / "out"
    assert cli_run(paths, out, "--mobile-tiles", str(tmp_path / "tiles.csv")) == 0
    layer = gpd.read_file(out / "villages.gpkg", layer="villages").set_index("village_id")
    # V0 lies in the fast tile "a": measured mobile broadband; the others lie in no tile
    assert layer["has_mobile_broadband"].to_dict() == {"V0": True, "V1": False, "V2": False,
                                                       "V3": False}
    assert layer.loc["V0", "mobile_source"] == "measured"


@pytest.mark.parametrize("role", ["villages", "coverage", "communes"])
def test_an_input_that_is_a_folder_is_one_line_exit_2(tmp_path, capsys, role):
    paths = cli_inputs(tmp_path, [("4g", 1000, 1200, 500.0), ("fibre", 5000, 5100, 500.0)])
    (tmp_path / "folder").mkdir()
    paths[role] = tmp_path / "folder"
    line = one_line_exit_2(paths, tmp_path / "out", capsys)
    assert "folder" in line and "is a folder" in line


# --------------------------------------------------------------------- working CRS

@settings(max_examples=60, deadline=None)
@given(
    bulk=st.lists(st.tuples(st.floats(102.2, 107.8), st.floats(8.5, 23.3)), min_size=3,
                  max_size=20),
    outliers=st.lists(st.tuples(st.floats(-179, 179), st.floats(-80, 80)), max_size=20),
)
def test_a_minority_of_misplaced_points_never_moves_the_utm_zone(bulk, outliers):
    # Vietnam's villages (UTM 48N) and fewer misplaced ones anywhere (a lost sign, a typo)
    outliers = outliers[: len(bulk) // 2 - (len(bulk) % 2 == 0)]  # strictly fewer
    pts = gpd.GeoSeries([shapely.Point(x, y) for x, y in bulk + outliers], crs=4326)
    assert utm_crs(pts).to_epsg() == 32648
    check_crs_covers("EPSG:32648", pts)  # the configured zone stays accepted
    with pytest.raises(InputError, match="EPSG:32648"):
        check_crs_covers("EPSG:32631", pts)
