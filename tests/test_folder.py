"""A run folder never loses a user's file and switches atomically (geo_dx.run.folder)."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo_dx.communes import summarise_communes
from geo_dx.errors import InputError, OutputError
from geo_dx.run import folder as atomic
from geo_dx.run.folder import (
    RunSummary,
    check_out_dir,
    clean_stale,
    run_outputs,
    staged_run,
    write_summary,
)
from geo_dx.run.report import build_summary, write_gpkg_layer, write_priority_csv
from tests.conftest import make_communes

ROOT = Path(__file__).resolve().parents[1]


def make_gaps() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"village_id": ["a", "b"], "village_name": ["A", "B"], "commune_id": ["C00", "C11"],
         "has_fibre": [True, False], "has_mobile_broadband": [False, False],
         "gap_class": ["no_mobile", "no_fibre_no_mobile"], "score": [40.0, 90.0],
         "rank": [2, 1]},
        geometry=[shapely.Point(500_500, 2_360_500), shapely.Point(515_000, 2_375_000)],
        crs=32648,
    )


def write(out: Path, *writers, inputs=(), replaces=None) -> Path:
    """A small run folder written the way every geo-dx command writes one."""
    gaps = make_gaps()
    counts = summarise_communes(gaps, make_communes())
    summary = RunSummary(title="t", analysis=build_summary(gaps, counts, title="t"))
    with staged_run(out, inputs=inputs, replaces=replaces) as staging:
        for name, layer in (("villages", gaps), ("communes", counts),
                            ("coverage", gaps[["geometry"]])):
            write_gpkg_layer(layer, staging / "villages.gpkg", name)
        write_priority_csv(staging / "priority.csv", gaps)
        for writer in writers:
            writer(staging)
        write_summary(staging, summary)
    return Path(out)


def tif_writer(staging: Path) -> None:
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    mask = np.ones((30, 30), dtype="uint8")
    with rasterio.open(staging / "coverage_mobile.tif", "w", driver="GTiff", height=30,
                       width=30, count=1, dtype="uint8", crs="EPSG:32648",
                       transform=from_origin(500_000, 2_390_000, 1000, 1000)) as dst:
        dst.write(mask, 1)


def commune_page(staging: Path) -> None:
    (staging / "communes").mkdir()
    (staging / "communes" / "C00.html").write_text("<p>map</p>", encoding="utf-8")


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_summary_lists_every_file_written(tmp_path):
    out = write(tmp_path / "run", commune_page)
    outputs = json.loads((out / "summary.json").read_text(encoding="utf-8"))["outputs"]
    assert outputs == sorted(tree(out))
    assert outputs == ["communes/C00.html", "priority.csv", "summary.json", "villages.gpkg"]
    assert run_outputs(out) == set(outputs)


def test_a_project_folder_with_a_communes_folder_is_refused_and_kept(tmp_path):
    project = tmp_path / "project"
    (project / "communes").mkdir(parents=True)
    (project / "communes" / "communes.gpkg").write_bytes(b"input")
    (project / "communes" / "notes.txt").write_text("mine", encoding="utf-8")
    before = tree(project)
    with pytest.raises(InputError, match="not empty .* not a previous geo_dx run"):
        write(project, commune_page)
    assert tree(project) == before
    assert [p.name for p in tmp_path.iterdir()] == ["project"]


def test_an_input_inside_out_is_refused(tmp_path):
    data = tmp_path / "data"
    write(data)  # a previous run, so only the input rule can refuse
    villages = data / "villages.gpkg"
    before = tree(data)
    with pytest.raises(InputError, match="holds the input .*villages.gpkg"):
        write(data, inputs=[villages])
    with pytest.raises(InputError, match="holds the input"):
        check_out_dir(tmp_path / "data" / ".." / "data", inputs=[str(villages)])
    assert tree(data) == before


def test_an_existing_file_as_out_is_refused(tmp_path):
    target = tmp_path / "villages.gpkg"
    target.write_bytes(b"input")
    with pytest.raises(InputError, match="is an existing file, not a folder"):
        check_out_dir(target)
    with pytest.raises(InputError, match="is an existing file"):
        write(target)
    assert target.read_bytes() == b"input"


def test_a_mount_point_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    out = tmp_path / "usb"
    write(out)
    before = tree(out)
    monkeypatch.setattr(atomic.os.path, "ismount", lambda p: Path(p) == out)
    with pytest.raises(InputError, match="mount point.*give a folder inside it"):
        write(out, tif_writer)
    assert tree(out) == before


def test_a_read_only_parent_is_refused_before_the_analysis(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic.os, "access", lambda path, mode: False)
    with pytest.raises(InputError, match="cannot write in .*read-only"):
        check_out_dir(tmp_path / "run")


def test_rerun_replaces_only_its_own_files_and_keeps_the_users(tmp_path):
    out = write(tmp_path / "run", tif_writer, commune_page)
    (out / "notes.txt").write_text("my notes", encoding="utf-8")
    (out / "communes" / "extra.txt").write_text("mine too", encoding="utf-8")
    write(out)  # second run: no DEM → no raster, no commune pages
    files = tree(out)
    assert "coverage_mobile.tif" not in files  # the stale raster is gone
    assert "communes/C00.html" not in files
    assert files["notes.txt"] == b"my notes"
    assert files["communes/extra.txt"] == b"mine too"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # nothing left beside it


def test_stale_raster_is_not_shown_by_geo_dx_map(tmp_path):
    from geo_dx.run.writer import rebuild_maps

    with_raster = write(tmp_path / "with", tif_writer)
    rebuild_maps(with_raster)
    # folium's image overlay of the raster (the page code also knows L.imageOverlay: relief)
    overlay = re.compile(r"var image_overlay_\w+ = L\.imageOverlay")
    assert overlay.search((with_raster / "map.html").read_text(encoding="utf-8"))
    out = write(tmp_path / "run")
    tif_writer(out)  # a raster this run did not write (e.g. left by an older geo_dx)
    rebuild_maps(out)
    assert not overlay.search((out / "map.html").read_text(encoding="utf-8"))


def test_a_failed_swap_keeps_the_previous_run(tmp_path, monkeypatch):
    out = write(tmp_path / "run", tif_writer)
    before = tree(out)
    real = os.rename

    def refuse_new(src, dst):
        if Path(dst) == out.resolve() and ".geo_dx-staging-" in Path(src).name:
            raise PermissionError(errno.EACCES, "file in use", str(out / "priority.csv"))
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "rename", refuse_new)
    with pytest.raises(OutputError, match="could not write the run .*previous contents are "
                                          "unchanged"):
        write(out)
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_a_file_in_use_when_setting_the_previous_run_aside(tmp_path, monkeypatch):
    out = write(tmp_path / "run", tif_writer)
    before = tree(out)
    real = os.rename

    def busy(src, dst):
        if Path(src) == out.resolve():
            raise OSError(errno.EBUSY, "Device or resource busy", str(src))
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "rename", busy)
    with pytest.raises(OutputError, match="in use"):
        write(out)
    assert tree(out) == before


def test_disk_full_while_writing_leaves_out_unchanged(tmp_path):
    out = write(tmp_path / "run")
    before = tree(out)

    def full(staging):
        (staging / "map.html").write_text("half", encoding="utf-8")
        raise OSError(errno.ENOSPC, "No space left on device", str(staging / "map.html"))

    with pytest.raises(OutputError, match="disk is full"):
        write(out, full)
    assert tree(out) == before
    assert not list(tmp_path.glob(".run.geo_dx-staging-*"))


_KILL_SCRIPT = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from geo_dx.run import folder as atomic
    from tests.test_folder import write
    out, marker, when = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    real = os.rename

    def hang():
        marker.write_text("ready")
        time.sleep(120)

    def rename(src, dst):
        real(src, dst)
        if when == "move" and ".geo_dx-previous-" in Path(dst).name:
            hang()

    def staging_writer(staging):
        if when == "staging":
            (staging / "map.html").write_text("half")
            hang()

    atomic.os.rename = rename
    write(out, staging_writer)
""")


def _kill_during(tmp_path: Path, out: Path, when: str) -> None:
    marker = tmp_path / f"{when}.ready"
    script = _KILL_SCRIPT.format(root=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", script, str(out), str(marker), when],
                            cwd=ROOT)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "the writer exited before reaching the kill point"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def test_sigkill_during_staging_leaves_out_intact_and_is_cleaned(tmp_path):
    out = write(tmp_path / "run", tif_writer)
    before = tree(out)
    _kill_during(tmp_path, out, "staging")
    assert tree(out) == before
    assert len(list(tmp_path.glob(".run.geo_dx-staging-*"))) == 1  # left behind by the kill
    write(out)
    assert not list(tmp_path.glob(".run.geo_dx-staging-*"))  # cleaned by the next run
    assert "coverage_mobile.tif" not in tree(out)


def test_sigkill_during_the_swap_keeps_the_previous_run(tmp_path):
    out = write(tmp_path / "run", tif_writer)
    before = tree(out)
    _kill_during(tmp_path, out, "move")
    assert not out.exists()  # killed between the two renames
    staging = list(tmp_path.glob(".run.geo_dx-staging-*"))
    assert len(staging) == 1 and len(list(tmp_path.glob(".run.geo_dx-previous-*"))) == 1
    assert clean_stale(out) == staging
    assert tree(out) == before  # the previous run is back
    assert not list(tmp_path.glob(".run.geo_dx-*-*"))


def test_staged_run_refuses_a_folder_that_became_foreign(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(InputError, match="no longer empty"), staged_run(out) as staging:
        (staging / "summary.json").write_text('{"outputs": ["summary.json"]}')
        out.mkdir()
        (out / "thesis.docx").write_bytes(b"precious")
    assert (out / "thesis.docx").read_bytes() == b"precious"


def test_the_run_is_staged_beside_out_on_the_same_file_system(tmp_path):
    seen = []

    def where(staging):
        seen.append((staging.parent, staging.name, os.stat(staging).st_dev))

    out = tmp_path / "run"
    write(out, where)
    parent, name, device = seen[0]
    assert parent == tmp_path and name.startswith(".run.geo_dx-staging-")
    assert device == os.stat(tmp_path).st_dev  # one rename, never a copy across devices
    assert not list(tmp_path.glob(".run.geo_dx-*"))
