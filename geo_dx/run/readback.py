"""A finished run's layers loaded for compare-list, survey, import-survey and diff.

:func:`read_run` reads the run folder through :func:`geo_dx.run.folder.read_run` (its one
owner) and loads the ``villages``, ``communes`` and ``coverage`` layers;
:func:`write_together` writes several files so that either all of them are replaced or
none is.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from geo_dx.errors import OutputError
from geo_dx.run.folder import read_run as read_finished_run
from geo_dx.run.summary import RunSummary

__all__ = ["LoadedRun", "read_run", "write_together"]


@dataclass(frozen=True)
class LoadedRun:
    """A run folder's villages (with gaps, scores, evidence), communes, coverage, summary."""

    folder: Path
    villages: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    coverage: gpd.GeoDataFrame | None
    summary: RunSummary

    @property
    def language(self) -> str:
        return self.summary.language


def read_run(run_dir: str | Path) -> LoadedRun:
    """
    A finished run folder (:func:`geo_dx.run.folder.read_run`) with its layers loaded.

    Examples
    --------
    >>> import tempfile
    >>> read_run(tempfile.mkdtemp())  # an empty folder is no run
    Traceback (most recent call last):
    geo_dx.errors.InputError: .../villages.gpkg: not found; re-run `geo-dx run` ...
    """
    run = read_finished_run(run_dir)
    layers = run.layers(["villages", "communes"], optional=["coverage"])
    villages = layers["villages"]
    villages["village_id"] = villages["village_id"].astype(str)
    return LoadedRun(folder=run.folder, villages=villages, communes=layers["communes"],
                     coverage=layers.get("coverage"), summary=run.summary)


def write_together(files: Mapping[Path, Callable[[Path], object]]) -> list[Path]:
    """
    Write every file through its writer (given a temporary path), then swap them all in.

    Nothing is replaced unless every writer succeeded.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> def fail(path):
    ...     raise OSError("disk full")
    >>> write_together({folder / "a.txt": lambda p: p.write_text("a"), folder / "b.txt": fail})
    Traceback (most recent call last):
    ...
    geo_dx.errors.OutputError: cannot write b.txt in ...: disk full; nothing was written
    >>> sorted(p.name for p in folder.iterdir())
    []
    """
    staged: list[tuple[Path, Path]] = []
    with ExitStack() as stack:
        for path, writer in files.items():
            tmp = stack.enter_context(_staged(path))
            try:
                writer(tmp)
            except OSError as err:
                raise OutputError(f"cannot write {path.name} in {path.parent}: {err}; nothing "
                                  "was written") from err
            staged.append((tmp, path))
        for tmp, path in staged:
            os.replace(tmp, path)
    return [path for _, path in staged]


@contextmanager
def _staged(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix), removed unless moved into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}",
                                dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    try:
        yield tmp
    finally:
        if tmp.exists():
            tmp.unlink()
