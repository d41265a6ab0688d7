"""--power FILE on geo-dx run and geo-dx plan; grid power flagged in every output.

The hand case: two villages without mobile broadband, A standing on a power line and B
20 km east of it. A has grid power, B has not; a new site at B is 20 km from the grid
(> plan.max_grid_distance_m = 2 km) so it gets solar power, one at A the grid.
"""

from __future__ import annotations

import json
import sqlite3

import docx
import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely

from geo_dx.cli import main
from geo_dx.io import read_villages
from geo_dx.power import village_grid_power
from tests.conftest import UTM48N, X0, Y0, make_communes, make_coverage, make_villages

A, B = (2000.0, 2000.0), (22_000.0, 2000.0)


@pytest.fixture
def world(tmp_path):
    communes = tmp_path / "communes.gpkg"
    make_communes().to_file(communes)
    villages = tmp_path / "villages.gpkg"
    make_villages([A, B], population=[300, 200]).to_file(villages)
    coverage = tmp_path / "sites.gpkg"  # a 4G site far from both, a fibre node at A
    make_coverage([("4g", 12_000, 25_000, 500.0), ("fibre", 2000, 2100, 500.0)]).to_file(
        coverage)
    power = tmp_path / "power.gpkg"
    line = shapely.LineString([(X0 + 2000, Y0), (X0 + 2000, Y0 + 30_000)])  # through A
    gpd.GeoDataFrame({"voltage_kv": [35]}, geometry=[line], crs=UTM48N).to_file(power)
    return {"communes": communes, "villages": villages, "coverage": coverage, "power": power}


def _run(world, out, *extra):
    return main(["run", "--communes", str(world["communes"]), "--villages",
                 str(world["villages"]), "--coverage", str(world["coverage"]),
                 "--out", str(out), "-q", *extra])


def _summary(out):
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def _site_power(out):
    """The power of the plan's site serving each village (``{village_id: power}``)."""
    plan = pd.read_csv(out / "plan.csv", encoding="utf-8-sig")
    sites = plan[~plan["kind"].isin(["fibre", "satellite_access"])]
    return {v: power for served, power in zip(sites["villages_served"], sites["power"],
                                              strict=True) for v in str(served).split(";")}


def test_power_lines_flag_villages_in_every_output(world, tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(world, out, "--power", str(world["power"])) == 0
    printed = capsys.readouterr().out
    # the console: one line with the count and those of them without mobile broadband
    line = next(x for x in printed.splitlines() if "Thôn, bản chưa có điện lưới" in x)
    assert " ".join(line.split()) == "Thôn, bản chưa có điện lưới 1 (1 chưa có băng rộng di động)"
    assert "Chưa rõ có điện lưới" not in printed  # every village's answer is known
    summary = _summary(out)
    assert summary["inputs"]["power"] == str(world["power"])
    assert summary["grid_power"] == {"sources": ["power_lines"], "yes": 1, "no": 1, "unknown": 0,
                                     "without_mobile_broadband": {"yes": 1, "no": 1,
                                                                  "unknown": 0}}
    villages = gpd.read_file(out / "villages.gpkg", layer="villages")
    assert dict(zip(villages["village_id"], villages["grid_power"], strict=True)) == {
        "V0": "yes", "V1": "no"}
    priority = pd.read_csv(out / "priority.csv", encoding="utf-8-sig")
    assert dict(zip(priority["village_id"], priority["grid_power"], strict=True)) == {
        "V0": "yes", "V1": "no"}
    sheet = openpyxl.load_workbook(out / "priority.xlsx")["Thôn, bản ưu tiên"]
    rows = list(sheet.values)
    column = rows[0].index("Có điện lưới")
    name = rows[0].index("Thôn, bản")
    by_name = {r[name]: r[column] for r in rows[1:] if r[name] is not None}
    assert by_name == {"Bản 0": "Có", "Bản 1": "Không"}
    page = (out / "map.html").read_text(encoding="utf-8")
    assert '"gridPower": ["Có", "Không"]' in page or '"gridPower":["Có","Không"]' in page
    assert '"grid_power": "Điện lưới"' in page or '"grid_power":"Điện lưới"' in page
    dossier = next((out / "communes").glob("*C00.html")).read_text(encoding="utf-8")
    assert "<dt>Chưa có điện lưới</dt><dd>0</dd>" in dossier  # A, in C00, has the grid
    dossier = next((out / "communes").glob("*C02.html")).read_text(encoding="utf-8")
    assert "<dt>Chưa có điện lưới</dt><dd>1</dd>" in dossier
    assert 'Bản 1<div class="geodx-muted">Chưa có điện lưới</div>' in dossier
    report = "\n".join(p.text for p in docx.Document(out / "de_xuat_dau_tu.docx").paragraphs)
    assert "1 thôn, bản chưa có điện lưới, trong đó 1 thôn, bản chưa có băng rộng" in report
    # the lines themselves: a styled layer for QGIS, and a named source in the assumptions
    lines = gpd.read_file(out / "villages.gpkg", layer="power_lines")
    assert lines["voltage_kv"].tolist() == [35]
    with sqlite3.connect(out / "villages.gpkg") as db:
        styled = dict(db.execute("SELECT f_table_name, description FROM layer_styles"))
    assert styled["power_lines"] == "Đường dây điện"
    sources = [r for r in openpyxl.load_workbook(out / "priority.xlsx")["Giả định"].values
               if "power.gpkg" in r]
    assert len(sources) == 1 and "Đường dây điện" in sources[0]


def test_run_without_grid_information_has_an_unknown_column_shown_nowhere(world, tmp_path,
                                                                          capsys):
    out = tmp_path / "out"
    assert _run(world, out) == 0
    assert "điện lưới" not in capsys.readouterr().out
    summary = _summary(out)
    assert summary["inputs"]["power"] is None
    assert summary["grid_power"]["sources"] == [] and summary["grid_power"]["unknown"] == 2
    villages = gpd.read_file(out / "villages.gpkg", layer="villages")
    assert villages["grid_power"].tolist() == ["unknown", "unknown"]
    header = next(openpyxl.load_workbook(out / "priority.xlsx")["Thôn, bản ưu tiên"].values)
    assert "Có điện lưới" not in header
    page = (out / "map.html").read_text(encoding="utf-8")
    assert '"gridPower": [null, null]' in page or '"gridPower":[null,null]' in page
    dossier = next((out / "communes").glob("*C02.html")).read_text(encoding="utf-8")
    assert "điện lưới" not in dossier
    report = "\n".join(p.text for p in docx.Document(out / "de_xuat_dau_tu.docx").paragraphs)
    assert "điện lưới" not in report


def test_a_far_site_gets_solar_power_and_geo_dx_plan_reuses_the_power_file(world, tmp_path,
                                                                            capsys):
    out = tmp_path / "out"
    assert _run(world, out, "--power", str(world["power"]), "--budget", "30e9") == 0
    assert _site_power(out) == {"V0": "grid", "V1": "solar"}
    # without the power file nobody knows B lacks the grid: its site would be on the grid
    bare = tmp_path / "bare"
    assert _run(world, bare, "--budget", "30e9") == 0
    assert _site_power(bare) == {"V0": "grid", "V1": "grid"}
    # geo-dx plan reads the run's power file from summary.json → inputs
    assert main(["plan", str(out), "--budget", "30e9", "-q"]) == 0
    assert _site_power(out) == {"V0": "grid", "V1": "solar"}
    assert len(gpd.read_file(out / "villages.gpkg", layer="power_lines")) == 1  # kept
    assert _summary(out)["inputs"]["power"] == str(world["power"])
    # the fund's rule: a village without grid power is not planned for mobile
    config = tmp_path / "fund.toml"
    config.write_text("[plan]\nrequire_grid_power = true\n", encoding="utf-8")
    assert main(["plan", str(out), "--budget", "30e9", "--config", str(config), "-q"]) == 0
    assert set(_site_power(out)) == {"V0"}
    plan = pd.read_csv(out / "plan.csv", encoding="utf-8-sig")  # V1: satellite access, solar
    access = plan[plan["kind"] == "satellite_access"]
    assert access[["villages_served", "power"]].values.tolist() == [["V1", "solar"]]
    villages = gpd.read_file(out / "villages.gpkg", layer="villages").set_index("village_id")
    assert villages.loc["V1", "grid_power"] == "no"
    capsys.readouterr()


def _points(path):
    gpd.GeoDataFrame(geometry=[shapely.Point(X0 + 2000, Y0 + 2000)], crs=UTM48N).to_file(path)


def _no_crs(path):
    gpd.GeoDataFrame(geometry=[shapely.LineString([(X0, Y0), (X0 + 10, Y0)])]).to_file(path)


def _empty(path):
    gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=UTM48N)).to_file(path)


def _far(path):  # 300 km south: the wrong CRS or another province
    gpd.GeoDataFrame(geometry=[shapely.LineString([(X0, Y0 - 300_000), (X0 + 1, Y0 - 3e5)])],
                     crs=UTM48N).to_file(path)


def _broken(path):
    gpd.GeoDataFrame(geometry=[shapely.LineString([(X0, Y0), (float("nan"), Y0)])],
                     crs=UTM48N).to_file(path)


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
@pytest.mark.parametrize(("write", "message"), [
    (_points, "power lines geometry must be LineString/MultiLineString, got ['Point']"),
    (_no_crs, "the power lines layer has no CRS"),
    (_empty, "the power lines layer is empty"),
    (lambda p: p.write_bytes(b""), "the file is empty (0 bytes)"),
    (_far, "none of its 1 power lines comes within 50 km of the communes"),
    (_broken, "power lines feature(s) have NaN or infinite coordinates"),
])
@pytest.mark.parametrize("command", ["run", "plan"])
def test_bad_power_file_exits_2_naming_it_and_writes_nothing(world, tmp_path, capsys, write,
                                                            message, command):
    out = tmp_path / "out"
    bad = tmp_path / "bad_power.gpkg"
    if command == "plan":  # a finished run whose power file broke since
        assert _run(world, out, "--power", str(world["power"])) == 0
        write(world["power"])
        bad = world["power"]
        before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
        code = main(["plan", str(out), "--budget", "30e9", "-q"])
    else:
        out.mkdir()
        write(bad)
        before = {}
        code = _run(world, out, "--power", str(bad))
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("geo-dx: error: ") and "Traceback" not in err[0]
    assert str(bad) in err[0] and message in err[0], err[0]
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_has_grid_power_blank_is_unknown_never_no(tmp_path):
    villages = make_villages([A, B, (5000, 5000), (6000, 6000)],
                             has_grid_power=["Có", None, "không", "chưa rõ"])
    read = read_villages(villages)
    assert read["has_grid_power"].tolist() == [True, pd.NA, False, pd.NA]
    assert village_grid_power(read).tolist() == ["yes", "unknown", "no", "unknown"]
    # survey_villages.csv and a run's villages.gpkg call it grid_power (yes/no/unknown)
    again = read_villages(villages.drop(columns="has_grid_power").assign(
        grid_power=["yes", "unknown", "no", None]))
    assert village_grid_power(again).tolist() == ["yes", "unknown", "no", "unknown"]
    with pytest.raises(ValueError, match="'has_grid_power' must be true/false, got 'maybe'"):
        read_villages(villages.assign(has_grid_power=["maybe", None, None, None]))


def test_the_villages_own_column_wins_over_the_power_lines(world, tmp_path, capsys):
    v = make_villages([A, B], has_grid_power=["không", None])
    v.to_file(world["villages"])
    out = tmp_path / "out"
    assert _run(world, out, "--power", str(world["power"])) == 0
    villages = gpd.read_file(out / "villages.gpkg", layer="villages")
    assert villages["grid_power"].tolist() == ["no", "no"]  # A said no; B is 20 km away
    assert _summary(out)["grid_power"]["sources"] == ["has_grid_power", "power_lines"]
    with sqlite3.connect(out / "villages.gpkg") as db:
        assert db.execute("SELECT count(*) FROM villages").fetchone() == (2,)
    capsys.readouterr()
