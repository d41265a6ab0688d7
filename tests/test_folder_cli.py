"""A run folder at the edges, as `geo-dx run`, `plan` and `map` meet it (issue 23).

For the data-loss cases each test checks every byte of the user's files and the folder's
mode: a foreign summary.json, a plan racing a newer run, the folder's permissions and empty
sub-folders, a command killed between the two renames; and tracebacks that became one line.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import sys
from pathlib import Path

import geopandas as gpd
import pytest

from geo_dx.cli import main
from geo_dx.errors import InputError
from geo_dx.run.folder import check_out_dir, read_run, run_outputs
from tests.test_cli import inputs, run  # noqa: F401  (the fixture of a small run)
from tests.test_folder import _kill_during, tree


def state(folder: Path) -> tuple[dict[str, bytes], int, list[str]]:
    """Every byte of every file, the folder's mode, and its sub-folders."""
    dirs = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_dir())
    return tree(folder), stat.S_IMODE(folder.stat().st_mode), dirs


def finished(inputs, out: Path, change=None) -> Path:  # noqa: F811
    """A finished run in ``out``, its summary.json then edited by hand with ``change``."""
    assert run(inputs, out) == 0
    if change is not None:
        edit_summary(out, change)
    return out


def edit_summary(out: Path, change) -> None:
    """Rewrite ``out/summary.json`` by hand: ``change`` edits the parsed document (or
    returns another one)."""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    changed = change(summary)
    (out / "summary.json").write_text(json.dumps(summary if changed is None else changed),
                                      encoding="utf-8")


def one_error_line(capsys, *fragments: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("geo-dx: error: "), err
    assert "Traceback" not in err[0]
    for fragment in fragments:
        assert fragment in err[0], err[0]
    return err[0]


# --- 1. a foreign summary.json is never taken for a geo_dx run ---------------------------

def test_another_tools_summary_json_makes_the_folder_foreign(inputs, tmp_path,  # noqa: F811
                                                              capsys):
    out = tmp_path / "results"
    out.mkdir()
    (out / "summary.json").write_text(json.dumps(
        {"tool": "my-pipeline", "outputs": ["summary.json", "results.csv"]}), encoding="utf-8")
    (out / "results.csv").write_text("id,value\n1,42\n", encoding="utf-8")
    before = state(out)
    assert run(inputs, out) == 2
    one_error_line(capsys, "not a previous geo_dx run")
    assert state(out) == before


def test_a_summary_listing_a_file_geo_dx_never_writes_is_not_a_run(inputs, tmp_path,  # noqa: F811
                                                                    capsys):
    # edited by hand, or by another tool
    out = finished(inputs, tmp_path / "out", lambda s: s["outputs"].append("notes.txt"))
    (out / "notes.txt").write_text("ghi chú của tôi", encoding="utf-8")
    before = state(out)
    capsys.readouterr()
    assert main(["plan", str(out), "--budget", "1e9", "-q"]) == 2
    one_error_line(capsys, "lists files geo_dx never writes", "re-run `geo-dx run`")
    assert run(inputs, out) == 2
    one_error_line(capsys, "not a previous geo_dx run")
    assert state(out) == before


def test_an_old_run_without_outputs_keeps_a_users_commune_note(inputs, tmp_path,  # noqa: F811
                                                                capsys):
    # as geo_dx wrote it before both existed
    out = finished(inputs, tmp_path / "out",
                   lambda s: {k: v for k, v in s.items() if k not in ("outputs", "run_id")})
    note = "<html><body><p>Ghi chú: họp xã ngày 3/12</p></body></html>".encode()
    (out / "communes" / "ghi_chu.html").write_bytes(note)
    old_pages = {p.name for p in (out / "communes").glob("*.html")} - {"ghi_chu.html"}
    assert run_outputs(out) >= {f"communes/{p}" for p in old_pages}
    assert run(inputs, out) == 0
    assert (out / "communes" / "ghi_chu.html").read_bytes() == note
    assert "communes/ghi_chu.html" not in json.loads(
        (out / "summary.json").read_text(encoding="utf-8"))["outputs"]


# --- 3. geo-dx plan racing a newer geo-dx run ---------------------------------------------

def test_a_plan_that_read_an_older_run_is_refused_not_swapped_in(inputs, tmp_path,  # noqa: F811
                                                                 capsys, monkeypatch):
    model = sys.modules["geo_dx.plan.model"]

    out = tmp_path / "out"
    assert run(inputs, out) == 0
    real = model.plan
    newer: dict[str, object] = {}

    def plan_while_a_run_finishes(*args, **kwargs):
        result = real(*args, **kwargs)
        assert run(inputs, out, "--title", "Newer run") == 0  # swaps while the plan solves
        newer.update(state=state(out))
        return result

    monkeypatch.setattr(model, "plan", plan_while_a_run_finishes)
    capsys.readouterr()
    assert main(["plan", str(out), "--budget", "20e9", "-q"]) == 2
    one_error_line(capsys, "another geo-dx command rewrote this run", "geo-dx plan")
    assert state(out) == newer["state"]  # the newer run, not the plan on the older one
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["title"] == "Newer run"
    assert not list(tmp_path.glob(".out.geo_dx-*"))


# --- 4. the folder's mode and a user's empty sub-folder ------------------------------------

def test_a_run_keeps_the_folders_mode_and_empty_sub_folders(inputs, tmp_path):  # noqa: F811
    out = tmp_path / "shared"
    assert run(inputs, out) == 0
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask  # a new folder: as mkdir makes it
    os.chmod(out, 0o775)  # shared with colleagues
    (out / "bao_cao").mkdir()
    os.chmod(out / "bao_cao", 0o770)
    (out / "bao_cao" / "2026").mkdir()
    assert run(inputs, out) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o775
    assert (out / "bao_cao" / "2026").is_dir()
    assert stat.S_IMODE((out / "bao_cao").stat().st_mode) == 0o770
    assert main(["plan", str(out), "--budget", "1e9", "-q"]) == 0
    assert main(["map", str(out), "-q"]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o775 and (out / "bao_cao" / "2026").is_dir()


# --- 5. killed between the two renames: every command restores the folder first ------------

@pytest.mark.parametrize("command", [["map"], ["plan", "--budget", "1e9"]])
def test_map_and_plan_restore_a_run_left_aside_by_a_kill(inputs, tmp_path,  # noqa: F811
                                                         command):
    out = tmp_path / "run"
    assert run(inputs, out) == 0
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    os.chmod(out, 0o750)
    before = state(out)
    _kill_during(tmp_path, out, "move")
    assert not out.exists()  # killed between the two renames
    assert main([command[0], str(out), *command[1:], "-q"]) == 0
    files, mode, _ = state(out)
    assert files["notes.txt"] == b"mine" and mode == 0o750
    assert set(before[0]) - {"summary.json"} <= set(files)
    assert not list(tmp_path.glob(".run.geo_dx-*"))


# --- 10. tracebacks that are one line now --------------------------------------------------

def test_a_symlink_loop_as_an_input_is_no_traceback(inputs, tmp_path, capsys):  # noqa: F811
    loop = tmp_path / "loop.gpkg"
    loop.symlink_to(loop)
    assert check_out_dir(tmp_path / "out", inputs=[loop]) == (tmp_path / "out").resolve()
    bad = {**inputs, "villages": loop}
    assert run(bad, tmp_path / "out") == 2
    one_error_line(capsys, "loop.gpkg")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("document", "fragment"), [
    ([1, 2], "not a geo_dx run summary (a JSON list"),
    ({"inputs": ["a.gpkg"]}, "'inputs' is a JSON list, not an object"),
])
def test_plan_on_a_broken_summary_is_one_line(inputs, tmp_path, capsys, document,  # noqa: F811
                                              fragment):
    out = finished(inputs, tmp_path / "out",
                   lambda s: {**s, **document} if isinstance(document, dict) else document)
    before = state(out)
    capsys.readouterr()
    assert main(["plan", str(out), "--budget", "1e9", "-q"]) == 2
    one_error_line(capsys, fragment, "re-run `geo-dx run`")
    assert state(out) == before


def test_plan_on_a_summary_without_a_title_uses_the_folder_name(inputs, tmp_path,  # noqa: F811
                                                                 capsys):
    out = finished(inputs, tmp_path / "Điện Biên", lambda s: s.pop("title") and None)
    assert main(["plan", str(out), "--budget", "1e9", "-q"]) == 0
    assert read_run(out).summary.title == "Điện Biên"


def test_read_villages_takes_a_frame_or_says_so(tmp_path):
    from geo_dx.io import read_villages
    from tests.conftest import make_villages

    frame = make_villages([(1000, 1000), (5000, 5000)])
    read = read_villages(frame)
    assert read["village_id"].tolist() == frame["village_id"].tolist()
    assert read.crs == frame.crs
    with pytest.raises(InputError, match="a file path or a GeoDataFrame"):
        read_villages(42)


# --- smaller -------------------------------------------------------------------------------

def test_a_commune_page_written_by_geo_dx_map_is_listed(inputs, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    assert run(inputs, out) == 0
    page = next(iter(sorted((out / "communes").glob("*.html"))))
    page.unlink()
    commune = gpd.read_file(out / "villages.gpkg", layer="communes")["commune_id"]
    listed = json.loads((out / "summary.json").read_text(encoding="utf-8"))["outputs"]
    assert f"communes/{page.name}" in listed  # listed by the run, gone now
    written = None
    for cid in commune.astype(str):
        assert main(["map", str(out), "--commune", cid, "-q"]) == 0
        outputs = run_outputs(out)
        assert outputs == {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
        if page.exists():
            written = cid
            break
    assert written is not None and f"communes/{page.name}" in run_outputs(out)


def test_a_long_out_name_is_refused_before_the_analysis(inputs, tmp_path, capsys,  # noqa: F811
                                                        monkeypatch):
    import geo_dx.run.pipeline as pipeline

    monkeypatch.setattr(pipeline, "analyse", lambda *a, **k: pytest.fail("analysed"))
    out = tmp_path / ("r" * 230)
    assert run(inputs, out) == 2
    line = one_error_line(capsys, "230 bytes", "give a name of at most")
    limit = int(line.rsplit("at most ", 1)[1].split()[0])
    assert 100 < limit < 230
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".r", "r"))]
    monkeypatch.undo()
    assert run(inputs, tmp_path / ("r" * limit)) == 0  # the longest name said to work does


def test_an_old_version_run_folder_says_rerun_geo_dx_run(inputs, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "out"
    assert run(inputs, out) == 0
    with sqlite3.connect(out / "villages.gpkg") as db:  # as an older geo_dx wrote it
        db.execute("ALTER TABLE communes DROP COLUMN with_gap")
    capsys.readouterr()
    assert main(["map", str(out), "-q"]) == 2
    line = one_error_line(capsys, "re-run `geo-dx run`", "with_gap")
    assert "summarise_communes" not in line
