"""The analyst notebooks run top to bottom from a clean kernel and are committed without outputs.

Each notebook is executed with nbclient in a fresh ``python3`` kernel whose working
directory is ``notebooks/`` (as when opened in Jupyter); any cell error fails the test.
Files the notebooks write go to a temporary folder (``GEO_DX_NOTEBOOK_OUT``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = ("01_find_gaps.ipynb", "02_priorities.ipynb", "03_your_data.ipynb")


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS_DIR / name, as_version=4)


def _execute(name: str, out_dir: Path) -> nbformat.NotebookNode:
    nb = _read(name)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEO_DX_NOTEBOOK_OUT", str(out_dir))  # the kernel inherits the environment
        client.execute()  # raises CellExecutionError on the first failing cell
    return nb


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Execute each notebook once per test run: name -> (executed notebook, output folder)."""
    cache: dict[str, tuple[nbformat.NotebookNode, Path]] = {}

    def run(name: str) -> tuple[nbformat.NotebookNode, Path]:
        if name not in cache:
            out = tmp_path_factory.mktemp(name.split(".")[0])
            cache[name] = (_execute(name, out), out)
        return cache[name]

    return run


def test_every_notebook_is_listed():
    assert sorted(p.name for p in NOTEBOOKS_DIR.glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_has_no_outputs(name):
    nb = _read(name)
    nbformat.validate(nb)
    dirty = [
        i for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{name}: code cells {dirty} have outputs or an execution count; clear them before "
        f"committing (jupyter nbconvert --clear-output --inplace notebooks/{name})"
    )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name, executed):
    nb, _ = executed(name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]


def test_notebook_01_writes_the_csv_gpkg_and_map(executed):
    """01 is the planner's hand-over: check its files, not just that it ran."""
    import geopandas as gpd
    import pandas as pd

    _, out_dir = executed("01_find_gaps.ipynb")
    out = out_dir / "01_find_gaps"
    table = pd.read_csv(out / "priority.csv", encoding="utf-8-sig")
    assert (out / "priority.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    assert (table["gap_class"] != "none").all()
    villages = gpd.read_file(out / "gaps.gpkg", layer="villages")
    communes = gpd.read_file(out / "gaps.gpkg", layer="communes")
    assert (villages["gap_class"] != "none").sum() == len(table)
    assert communes["villages"].sum() == len(villages) - villages["commune_id"].isna().sum()
    assert (out / "map.html").stat().st_size > 10_000
