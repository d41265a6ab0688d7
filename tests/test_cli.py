"""The geo-dx command: a small run end to end, and bad input → one line, exit 2, nothing written."""

from __future__ import annotations

import errno
import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from geo_dx.cli import main
from tests.conftest import make_communes, make_coverage, make_villages


@pytest.fixture
def inputs(tmp_path):
    communes = tmp_path / "communes.gpkg"
    make_communes().to_file(communes)
    villages = tmp_path / "villages.csv"
    v = make_villages(
        [(1000, 1000), (5000, 5000), (15_000, 15_000), (25_000, 25_000)],
        population=[100, 200, 300, 400],
        ethnic_minority_share=[0.2, 0.9, 0.5, 1.0],
    ).to_crs(4326)
    v["village_name"] = ["=HYPERLINK(\"http://x\")", "Bản Nà", "Bản Hua",
                         "<img src=x onerror=alert(1)>"]
    pd.DataFrame(v.drop(columns="geometry")).assign(lon=v.geometry.x, lat=v.geometry.y).to_csv(
        villages, index=False)
    coverage = tmp_path / "sites.gpkg"
    make_coverage([("4g", 1000, 1200, 500.0), ("fibre", 5000, 5100, 500.0)]).to_file(coverage)
    return {"communes": communes, "villages": villages, "coverage": coverage}


def run(inputs, out, *extra):
    return main(["run", "--communes", str(inputs["communes"]), "--villages",
                 str(inputs["villages"]), "--coverage", str(inputs["coverage"]),
                 "--out", str(out), "-q", *extra])


def test_run_writes_every_output(inputs, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(inputs, out) == 0
    assert {p.name for p in out.iterdir()} >= {"villages.gpkg", "priority.csv", "summary.json",
                                               "map.html", "index.html", "communes"}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["totals"] == {"villages": 4, "without_fibre": 3, "without_mobile_broadband": 3,
                                 "without_both": 2, "unassigned": 0, "warnings": 0}
    raw = (out / "priority.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    table = pd.read_csv(out / "priority.csv", encoding="utf-8-sig")
    assert len(table) == 4 and table["rank"].tolist() == [1, 2, 3, 4]
    assert "'=HYPERLINK(\"http://x\")" in set(table["village_name"])
    assert "villages" in capsys.readouterr().out


def test_console_speaks_vietnamese_unless_told_english(inputs, tmp_path, capsys):
    assert run(inputs, tmp_path / "vi") == 0
    printed = capsys.readouterr().out
    assert "Vùng lõm viễn thông: villages" in printed
    assert "chưa có băng rộng di động (3G/4G)" in printed and "without" not in printed
    summary = json.loads((tmp_path / "vi" / "summary.json").read_text(encoding="utf-8"))
    assert summary["language"] == "vi"
    assert summary["totals"]["without_both"] == 2  # machine-readable keys stay English
    with sqlite3.connect(tmp_path / "vi" / "villages.gpkg") as db:  # QGIS default styles
        styled = dict(db.execute("SELECT f_table_name, description FROM layer_styles"))
    assert styled["villages"] == "Thôn, bản theo dịch vụ còn thiếu"
    assert styled["communes"] == "Tỷ lệ thôn, bản chưa có cáp quang hoặc băng rộng di động"
    assert run(inputs, tmp_path / "en", "--lang", "en") == 0
    printed = capsys.readouterr().out
    assert "without mobile broadband" in printed and "Chưa có" not in printed
    reasons = pd.read_csv(tmp_path / "en" / "priority.csv", encoding="utf-8-sig")["reason"]
    assert reasons.str.contains("people").any()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p["villages"].write_text("village,lon,lat\n1,103,21\n"), "village_id"),
        (lambda p: p["villages"].write_text(""), "the file is empty"),
        (lambda p: p["villages"].write_text("village_id,village_name,lon,lat\n1,a,21.4,103.1\n"),
         "swapped"),
        (lambda p: p["villages"].write_text("village_id,village_name,lon,lat\n1,a,x,21\n"),
         "data row 1"),
        (lambda p: p["villages"].write_text("village_id,village_name,lon,lat\n1,a,103,21\n"
                                            "1,b,103,21\n"), "duplicate ids '1'"),
        (lambda p: p["coverage"].write_bytes(b"garbage"), "cannot read this file"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(inputs, tmp_path, capsys, mutate,
                                                            message):
    out = tmp_path / "out"
    out.mkdir()
    previous = '{"generator": "geo_dx 0.1.0", "outputs": ["summary.json"]}'  # a previous run
    (out / "summary.json").write_text(previous)
    mutate(inputs)
    assert run(inputs, out) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("geo-dx: error: ")
    assert message in err[0] and "Traceback" not in err[0]
    assert [p.name for p in out.iterdir()] == ["summary.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*inputs_names(inputs), "out"])


def inputs_names(inputs):
    return [Path(p).name for p in inputs.values()]


def test_out_problems_are_one_line_before_the_analysis(inputs, tmp_path, capsys, monkeypatch):
    import geo_dx.run.pipeline

    def no_analysis(*args, **kwargs):
        raise AssertionError("the analysis ran before --out was checked")

    monkeypatch.setattr(geo_dx.run.pipeline, "analyse", no_analysis)
    project = tmp_path  # the inputs' own folder
    before = {p.name: p.read_bytes() for p in project.iterdir() if p.is_file()}
    assert run(inputs, project) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds the input" in err[0]
    assert run(inputs, inputs["villages"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is an existing file, not a folder" in err[0]
    (tmp_path / "proj" / "communes").mkdir(parents=True)
    (tmp_path / "proj" / "communes" / "notes.txt").write_text("mine")
    assert run(inputs, tmp_path / "proj") == 2
    assert "not a previous geo_dx run" in capsys.readouterr().err
    assert (tmp_path / "proj" / "communes" / "notes.txt").read_text() == "mine"
    assert {p.name: p.read_bytes() for p in project.iterdir() if p.is_file()} == before


def test_disk_full_is_one_line_exit_2(inputs, tmp_path, capsys, monkeypatch):
    import geo_dx.run.report

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "priority.csv")

    monkeypatch.setattr(geo_dx.run.report, "write_priority_csv", full)
    out = tmp_path / "out"
    assert run(inputs, out) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "disk is full" in err[0]
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(inputs_names(inputs))


def test_partial_inputs_and_bad_weights(inputs, tmp_path, capsys):
    assert main(["run", "--villages", str(inputs["villages"])]) == 2
    assert "give --communes, --villages and --coverage together" in capsys.readouterr().err
    assert run(inputs, tmp_path / "o", "--weights", "ethnic=-1") == 2
    assert "negative" in capsys.readouterr().err
    assert run(inputs, tmp_path / "o", "--weights", "speed=1") == 2
    assert "unknown component 'speed'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('crs = "EPSG:4326"', "is geographic (degrees)"),
        ('crs = "UTM 48N"', "is not a CRS pyproj understands"),
        ('crs = "EPSG:32631"', 'use crs = "EPSG:32648"'),
        ("[scoring]\nseed = -1", "scoring.seed = -1 is negative"),
        ("[scoring]\nsensitivity_draws = 1e8", "scoring.sensitivity_draws = 100000000"),
        ('\ufeffcrs = "EPSG:1"', "is not a CRS"),  # a BOM is fine, the value is not
    ],
)
def test_bad_config_is_one_line_exit_2(inputs, tmp_path, capsys, config, message):
    path = tmp_path / "geo_dx.toml"
    path.write_text(config, encoding="utf-8")
    out = tmp_path / "out"
    assert run(inputs, out, "--config", str(path)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not out.exists()


def test_config_or_input_that_is_a_folder(inputs, tmp_path, capsys):
    assert run(inputs, tmp_path / "out", "--config", str(tmp_path)) == 2
    assert "is a folder" in capsys.readouterr().err


def test_unknown_language_is_one_line_listing_the_languages(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", "--lang", "fr", "--out", str(tmp_path / "out")])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "invalid choice: 'fr' (choose from 'vi', 'en')" in err[0]
    assert not (tmp_path / "out").exists()


def test_negative_budget_is_read_as_a_number_and_refused(tmp_path, capsys):
    # argparse took "-5e9" for an option ("expected one argument")
    assert main(["plan", str(tmp_path / "run"), "--budget", "-5e9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["geo-dx: error: budget: '-5e9' must be a finite amount of VND >= 0; "
                   "e.g. 30e9"]
