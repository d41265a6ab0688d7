"""A finished run read back (for compare-list, survey, import-survey, diff), outputs added to it.

:func:`read_run` reads what ``geo-dx run`` wrote: the ``villages``, ``communes`` and
``coverage`` layers of ``villages.gpkg`` and ``summary.json``. :func:`write_together`
writes several files so that either all of them are replaced or none is.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio

from geo_dx.errors import InputError, OutputError
from geo_dx.i18n import DEFAULT_LANGUAGE

__all__ = ["FinishedRun", "read_run", "write_together"]


@dataclass(frozen=True)
class FinishedRun:
    """A run folder's villages (with gaps, scores, evidence), communes, coverage, summary."""

    folder: Path
    villages: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    coverage: gpd.GeoDataFrame | None
    summary: Mapping[str, Any]

    @property
    def language(self) -> str:
        return str(self.summary.get("language") or DEFAULT_LANGUAGE)


def read_run(run_dir: str | Path) -> FinishedRun:
    """
    Read a finished run folder; a missing or broken one is one :class:`InputError` line.

    Examples
    --------
    >>> read_run("no/such/run")
    Traceback (most recent call last):
    ...
    geo_dx.errors.InputError: no/such/run: no finished run here (villages.gpkg, ...
    """
    folder = Path(run_dir)
    gpkg, summary_path = folder / "villages.gpkg", folder / "summary.json"
    if not gpkg.is_file() or not summary_path.is_file():
        raise InputError(f"{folder}: no finished run here (villages.gpkg, summary.json); run "
                         f"`geo-dx run --out {folder}` first")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        names = {str(n) for n in pyogrio.list_layers(gpkg)[:, 0]}
        missing = {"villages", "communes"} - names
        if missing:
            raise InputError(f"{gpkg}: layer(s) {sorted(missing)} missing; re-run `geo-dx run`")
        villages = gpd.read_file(gpkg, layer="villages")
        communes = gpd.read_file(gpkg, layer="communes")
        coverage = gpd.read_file(gpkg, layer="coverage") if "coverage" in names else None
    except (OSError, ValueError, pyogrio.errors.DataSourceError) as err:
        if isinstance(err, InputError):
            raise
        raise InputError(f"{folder}: cannot read the run ({err}); re-run `geo-dx run`") from err
    villages["village_id"] = villages["village_id"].astype(str)
    return FinishedRun(folder=folder, villages=villages, communes=communes, coverage=coverage,
                       summary=summary)


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
