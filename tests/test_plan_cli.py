"""geo-dx run --budget and geo-dx plan RUN_DIR: outputs, and bad input → one line, exit 2."""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pyogrio
import pytest

from geo_dx.cli import main
from tests.test_cli import inputs, run  # noqa: F401  (the fixture of a small run)


def _one_error_line(capsys, message):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("geo-dx: error: "), err
    assert message in err[0] and "Traceback" not in err[0]


def _shows(page: str, text: str) -> bool:
    """Text on a map page, as written or JSON-escaped inside a script."""
    return text in page or json.dumps(text)[1:-1] in page


def test_run_with_a_budget_writes_the_plan(inputs, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "out"
    assert run(inputs, out, "--budget", "20e9") == 0
    # Vietnamese by default: the console block, the chart and the map layer
    printed = capsys.readouterr().out
    assert "Kế hoạch đầu tư: ngân sách 20,0 tỷ đồng" in printed
    assert "3/3 thôn, bản" in printed and "Investment plan" not in printed
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    p = summary["plan"]
    assert p["budget_vnd"] == 20e9 and p["mobile_gap_villages"] == 3
    # everything closable is closed with 20 bn: all 3 mobile and all 3 fibre gaps
    assert p["newly_served"]["mobile"]["villages"] == 3
    assert p["newly_served"]["fibre"]["villages"] == 3
    assert "straight lines" in p["fibre_routes"]
    assert len(p["curve"]) == 11 and p["curve"][-1]["villages"] == 4
    raw = (out / "plan.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(out / "plan.csv", encoding="utf-8-sig")
    # the columns the issue asks for, in order, plus how each item was made and its weight
    # what, where, with whom; the technology and antenna height to rebuild a site with
    assert table.columns.tolist() == [
        "rank", "item_id", "kind", "technology", "service", "candidate_id", "name",
        "generated_by", "site_ref", "start_node_id", "operator", "antenna_height_m", "lon",
        "lat", "elevation_m", "location_commune", "road_distance_m", "year", "power",
        "capex_vnd", "opex_vnd_per_year", "npv_cost_vnd", "cost_vnd", "cumulative_cost_vnd",
        "villages_served", "village_names", "people_served", "ethnic_minority_people_served",
        "communes", "route_km", "route_road_km",
        "route_offroad_km", "route_ends", "weight_served"]
    sites = table[table["kind"] != "fibre"]
    assert (sites["service"] == "4g").all() and sites["antenna_height_m"].notna().all()
    assert set(sites["technology"]) <= {"upgrade", "macro_fibre_backhaul",
                                        "macro_microwave_backhaul", "macro_satellite_backhaul",
                                        "small_cell_fibre_backhaul",
                                        "small_cell_microwave_backhaul",
                                        "small_cell_satellite_backhaul"}
    # the budget pays capex (cost_vnd is written to the đồng)
    assert (table["capex_vnd"] - table["cost_vnd"]).abs().max() < 1
    assert table["year"].isna().all()  # one budget: no schedule
    assert set(table["kind"]) <= {"new_site", "upgrade", "small_cell", "fibre"}
    for col in ("route_km", "route_road_km", "route_offroad_km"):
        assert table[col].notna().tolist() == (table["kind"] == "fibre").tolist()
    fibre = table[table["kind"] == "fibre"]
    assert (fibre["route_road_km"] + fibre["route_offroad_km"]).tolist() == pytest.approx(
        fibre["route_km"].tolist(), abs=0.002)
    import openpyxl

    plan_sheet = openpyxl.load_workbook(out / "priority.xlsx")["Kế hoạch"]
    header = [c.value for c in plan_sheet[1]]
    assert header[header.index("Tuyến cáp quang (km)"):][:3] == [
        "Tuyến cáp quang (km)", "Trong đó theo đường giao thông (km)",
        "Trong đó ngoài đường giao thông (km)"]
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    assert table["cumulative_cost_vnd"].iloc[-1] == pytest.approx(p["cost_used_vnd"], abs=1)
    assert any(str(n).startswith("'=HYPERLINK") for n in table["village_names"])
    layers = dict(pyogrio.list_layers(out / "villages.gpkg"))
    assert layers["plan_sites"] == "Point" and layers["plan_fibre"] in ("MultiLineString",
                                                                         "LineString")
    assert (out / "budget_curve.png").read_bytes()[:4] == b"\x89PNG"
    page = (out / "map.html").read_text(encoding="utf-8")
    assert _shows(page, "Kế hoạch đầu tư (") and "<img src=x onerror" not in page
    assert not _shows(page, "Investment plan (")
    # offline: the plan layer adds no remote script or stylesheet
    assert not re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//', page)
    # rebuilding the maps keeps the plan layer
    (out / "map.html").unlink()
    assert main(["map", str(out), "-q"]) == 0
    assert _shows((out / "map.html").read_text(encoding="utf-8"), "Kế hoạch đầu tư (")


def test_plan_text_follows_the_run_language(inputs, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "out"
    assert run(inputs, out, "--lang", "en") == 0
    capsys.readouterr()
    assert main(["plan", str(out), "--budget", "20e9", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "Investment plan: budget 20.0 bn VND, cost used" in printed
    assert "3 of 3 villages" in printed and "Kế hoạch" not in printed
    page = (out / "map.html").read_text(encoding="utf-8")
    assert _shows(page, "Investment plan (") and not _shows(page, "Kế hoạch đầu tư")
    (out / "map.html").unlink()
    assert main(["map", str(out), "-q"]) == 0
    assert "Investment plan (" in (out / "map.html").read_text(encoding="utf-8")


def test_plan_on_a_finished_run_recomputes_nothing_and_keeps_outputs(inputs, tmp_path,  # noqa: F811
                                                                    capsys):
    out = tmp_path / "out"
    assert run(inputs, out) == 0
    priority = (out / "priority.csv").read_bytes()
    assert not (out / "plan.csv").exists()
    assert main(["plan", str(out), "--budget", "3e9", "-q"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["plan"]["budget_vnd"] == 3e9
    assert summary["plan"]["cost_used_vnd"] <= 3e9
    # the priority list is what it was, plus the plan's answer for each village
    after = pd.read_csv(out / "priority.csv", encoding="utf-8-sig")
    before = pd.read_csv(io.BytesIO(priority), encoding="utf-8-sig")
    pd.testing.assert_frame_equal(after.drop(columns=["plan_item", "plan_answer"]), before)
    assert after["plan_answer"].fillna("").ne("").any()
    assert "clusters" in dict(pyogrio.list_layers(out / "villages.gpkg"))
    planned = pd.read_csv(out / "plan.csv", encoding="utf-8-sig")
    import geopandas as gpd

    villages = gpd.read_file(out / "villages.gpkg", layer="villages")
    marked = set(villages.loc[villages["plan_item"].fillna("") != "", "village_id"])
    listed = {v for s in planned["villages_served"] for v in str(s).split(";")}
    assert marked == listed and marked


@pytest.mark.parametrize("budget", ["-5", "abc", "nan", "mobile=1e9"])
def test_bad_budget_exits_2_and_writes_nothing(inputs, tmp_path, capsys, budget):  # noqa: F811
    out = tmp_path / "out"
    assert run(inputs, out, f"--budget={budget}") == 2
    _one_error_line(capsys, "budget")
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("candidate_id,kind\nA,new_site\n", "column 'lon' is missing"),
        ("candidate_id,kind,lon,lat\nA,tower,103,21\n", "column 'kind' has value 'tower'"),
        ("kind,lon,lat\nnew_site,103,21\n", "required column 'candidate_id' is missing"),
        ("candidate_id,cost_vnd,lon,lat\nA,cheap,103,21\n", "column 'cost_vnd' must be numeric"),
    ],
)
def test_bad_candidates_exit_2(inputs, tmp_path, capsys, text, message):  # noqa: F811
    cands = tmp_path / "cands.csv"
    cands.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert run(inputs, out, "--budget", "1e9", "--candidates", str(cands)) == 2
    _one_error_line(capsys, message)
    assert not out.exists()


def test_plan_errors_exit_2(inputs, tmp_path, capsys):  # noqa: F811
    assert main(["plan", str(tmp_path / "nothing"), "--budget", "1e9"]) == 2
    _one_error_line(capsys, "not found; run `geo-dx run`")
    out = tmp_path / "out"
    assert run(inputs, out) == 0
    capsys.readouterr()
    assert main(["plan", str(out)]) == 2
    _one_error_line(capsys, "give --budget")
    assert main(["plan", str(out), "--budget", "1e9", "--must", "nope"]) == 2
    _one_error_line(capsys, "plan.must: unknown candidate id(s) ['nope']")
    assert not (out / "plan.csv").exists()


def test_plan_refuses_a_candidates_file_inside_the_run_folder(inputs, tmp_path,  # noqa: F811
                                                               capsys):
    out = tmp_path / "out"
    assert run(inputs, out) == 0
    cands = out / "cands.csv"
    cands.write_text("candidate_id,lon,lat\nA,105.1,21.4\n", encoding="utf-8")  # in the province
    capsys.readouterr()
    assert main(["plan", str(out), "--budget", "1e9", "--candidates", str(cands)]) == 2
    _one_error_line(capsys, "holds the input")
    assert cands.exists() and not (out / "plan.csv").exists()


def test_replanning_rewrites_every_output_that_shows_the_plan(inputs, tmp_path,  # noqa: F811
                                                              capsys):
    out = tmp_path / "out"
    assert run(inputs, out, "--budget", "20e9") == 0
    assert main(["plan", str(out), "--budget", "3e9", "-q"]) == 0
    planned = pd.read_csv(out / "plan.csv", encoding="utf-8-sig")
    assert planned["cumulative_cost_vnd"].iloc[-1] <= 3e9
    # the workbook's plan sheet is the new plan, not the 20 bn one the run wrote
    sheets = pd.read_excel(out / "priority.xlsx", sheet_name=None, header=None)
    plan_sheet = next(s for s in sheets.values() if "M1" in set(s[1].astype(str))
                      or "F1" in set(s[1].astype(str)))
    # (then a totals row; costs in million VND)
    assert plan_sheet[1].iloc[1:-1].astype(str).tolist() == planned["item_id"].tolist()
    cost = next(c for c in plan_sheet if plan_sheet[c].iloc[0] == "Chi phí (triệu đồng)")
    assert plan_sheet[cost].iloc[1:-1].astype(float).tolist() == pytest.approx(
        (planned["cost_vnd"].astype(float) / 1e6).tolist())
    assert plan_sheet[cost].iloc[-1] == pytest.approx(planned["cost_vnd"].sum() / 1e6)
    layers = dict(pyogrio.list_layers(out / "villages.gpkg"))
    assert {"villages", "communes", "coverage", "plan_sites", "plan_fibre"} <= set(layers)


@pytest.mark.parametrize(("lang", "sheet", "item", "cost"),
                         [("vi", "Kế hoạch", "Hạng mục", "Chi phí (triệu đồng)"),
                          ("en", "Plan", "Item", "Cost (million VND)")])
def test_plan_on_a_finished_run_rewrites_workbook_and_pages_in_its_language(
        inputs, tmp_path, capsys, lang, sheet, item, cost):  # noqa: F811
    import openpyxl

    out = tmp_path / "out"
    assert run(inputs, out, "--lang", lang) == 0
    assert sheet not in openpyxl.load_workbook(out / "priority.xlsx").sheetnames
    assert main(["plan", str(out), "--budget", "20e9", "-q"]) == 0
    book = openpyxl.load_workbook(out / "priority.xlsx")
    assert sheet in book.sheetnames
    header = [c.value for c in book[sheet][1]]
    assert item in header and cost in header
    costs = [row[header.index(cost)].value for row in book[sheet].iter_rows(min_row=2)][:-1]
    assert costs and all(isinstance(v, int | float) and v > 0 for v in costs)
    for page in ("index.html", "map.html"):
        assert f'<html lang="{lang}">' in (out / page).read_text(encoding="utf-8"), page
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="priority.xlsx"' in index and 'href="priority.csv"' in index


def test_candidates_300_km_outside_the_province_are_refused(inputs, tmp_path,  # noqa: F811
                                                            capsys):
    from tests.conftest import make_communes

    centre = make_communes().to_crs(4326).union_all().centroid
    cands = tmp_path / "cands.csv"
    # a spreadsheet column shifted by one row's worth: 3 degrees of longitude east
    cands.write_text("candidate_id,lon,lat\n"
                     f"A,{centre.x + 3:.5f},{centre.y:.5f}\n"
                     f"B,{centre.x + 3.01:.5f},{centre.y:.5f}\n", encoding="utf-8")
    out = tmp_path / "out"
    assert run(inputs, out, "--budget", "1e9", "--candidates", str(cands)) == 2
    _one_error_line(capsys, "cands.csv: 2 of 2 features lie more than 50 km outside the "
                            "communes in")
    assert not out.exists()
    assert run(inputs, out) == 0
    capsys.readouterr()
    assert main(["plan", str(out), "--budget", "1e9", "--candidates", str(cands)]) == 2
    _one_error_line(capsys, "cands.csv: 2 of 2 features lie more than 50 km outside the "
                            "communes of the run in")
    assert not (out / "plan.csv").exists()


def test_plan_on_an_itm_run_without_config_plans_with_itm(inputs, tmp_path, capsys):  # noqa: F811
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    from tests.conftest import X0, Y0

    dem = tmp_path / "dem.tif"
    z = np.zeros((320, 320), dtype="float32")
    z[:, 150:170] = 400.0  # a ridge between the villages
    with rasterio.open(dem, "w", driver="GTiff", width=320, height=320, count=1,
                       dtype="float32", crs="EPSG:32648",
                       transform=from_origin(X0 - 1000, Y0 + 31_000, 100, 100)) as dst:
        dst.write(z, 1)
    config = tmp_path / "itm.toml"
    config.write_text('[terrain]\nmodel = "itm"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert run(inputs, out, "--dem", str(dem), "--config", str(config)) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["mobile_model"] == "itm" and summary["gap_rule"]["terrain"]["model"] == "itm"
    capsys.readouterr()
    # no --config: the run's own model and settings, and the console says which model
    assert main(["plan", str(out), "--budget", "20e9"]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["plan"]["coverage_model"] == "itm"
    assert summary["plan"]["settings_from"] == "run"
    assert "itm" in printed
    # a configuration that says otherwise is refused: the gaps were found with itm
    other = tmp_path / "terrain.toml"
    other.write_text('[terrain]\nmodel = "terrain"\n', encoding="utf-8")
    assert main(["plan", str(out), "--budget", "20e9", "--config", str(other), "-q"]) == 2
    _one_error_line(capsys, "found with the itm model")
