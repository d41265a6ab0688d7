"""A run's outputs: the one writer behind ``geo-dx run``, ``geo-dx plan`` and ``geo-dx map``.

:func:`write_run_folder` writes :class:`RunContent` into a staging folder and swaps it in
(:func:`geo_dx.run.folder.staged_run`): the GeoPackage with its QGIS styles,
``priority.csv``, the coverage rasters, the plan's files, ``priority.xlsx``, the maps (last:
the index links the data files already written) and ``summary.json`` listing them.
``geo-dx plan`` and ``geo-dx map`` rewrite a finished run through the same writer, keeping
the files they do not recompute (:func:`rebuild_maps`, :func:`geo_dx.run.plan_outputs.plan_run`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_dx.errors import InputError
from geo_dx.run.folder import SUMMARY, FinishedRun, RunSummary, read_run, staged_run, write_summary
from geo_dx.run.progress import stage

if TYPE_CHECKING:
    import folium

    from geo_dx.dem import DemGrid
    from geo_dx.maps.context import PlaceContext
    from geo_dx.plan.model import PlanResult

#: Files of a run drawn from its data: rewritten by ``geo-dx map``, kept otherwise.
RASTERS: tuple[str, ...] = ("coverage_mobile.tif", "signal_mobile_dbm.tif")
#: Columns the maps need, by layer (a run folder of an older version may lack some).
MAP_COLUMNS: dict[str, tuple[str, ...]] = {
    "villages": ("village_id", "gap_class", "commune_id"),
    "communes": ("commune_id", "commune_name", "villages", "with_gap", "without_fibre",
                 "without_mobile_broadband", "without_both", "gap_share"),
}


@dataclass(frozen=True)
class RunContent:
    """Everything a run folder shows: layers, summary, plan, terrain rasters, place context."""

    villages: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    coverage: gpd.GeoDataFrame
    summary: RunSummary
    #: Further GeoPackage layers (clusters, towns, roads, the plan's tables).
    layers: Mapping[str, gpd.GeoDataFrame] = field(default_factory=dict)
    plan: PlanResult | None = None
    #: The 100 m terrain overlay the rasters are drawn on.
    overlay: DemGrid | None = None
    coverage_mask: np.ndarray | None = None
    #: With the itm model: predicted signal (dBm) on a coarse grid and its transform.
    signal_raster: tuple[np.ndarray, Any] | None = None
    context: PlaceContext | None = None
    #: A run read back: its plan as a map layer and as items for the dossiers (no PlanResult).
    plan_layer: Callable[[folium.Map], Any] | None = None
    plan_items: pd.DataFrame | None = None


def write_run_folder(
    out: str | Path,
    content: RunContent,
    *,
    inputs: Iterable[str | Path] = (),
    previous: FinishedRun | None = None,
    maps_only: bool = False,
    commune_id: str | None = None,
    command: str = "geo-dx run",
) -> Path:
    """
    Write a run folder atomically (see :mod:`geo_dx.run.folder`).

    Parameters
    ----------
    out
        The run folder (``--out``).
    content
        What to write.
    inputs
        Input files: refused inside ``out``.
    previous
        The finished run this rewrites (``geo-dx plan``, ``geo-dx map``): its rasters are
        kept (and with ``maps_only`` every file but the maps), and the swap is refused if
        another command rewrote the folder in the meantime.
    maps_only
        Rewrite only the maps (``geo-dx map``); ``commune_id``: only that commune's page.
    command
        The command, as said in a refusal.

    Raises
    ------
    InputError
        ``out`` is a file, a mount point, holds an input, is a non-empty folder that is not
        a previous geo_dx run, or changed since ``previous`` was read.
    OutputError
        The disk is full, read-only, or a file is in use; ``out`` is unchanged.
    """
    replaces = previous.stamp if previous is not None else None
    with staged_run(out, inputs=inputs, replaces=replaces, command=command) as staging:
        if previous is not None:
            kept = (previous.outputs - {SUMMARY} if maps_only
                    else previous.outputs & set(RASTERS))
            _keep(previous.folder, staging, kept)
        if not maps_only:
            _write_data(staging, content)
        with stage("maps"):
            _write_maps(staging, content, commune_id=commune_id)
        write_summary(staging, content.summary)
    return Path(out)


def rebuild_maps(run_dir: str | Path, *, commune_id: str | None = None) -> list[Path]:
    """
    Rewrite the maps of a finished run from its outputs, recomputing nothing.

    Reads ``run_dir/villages.gpkg`` (layers ``villages``, ``communes``, ``coverage``, and
    ``roads``, ``towns`` and the plan's tables if present), ``run_dir/summary.json``
    (title, language and the DEM, for the relief) and the run's ``coverage_mobile.tif``.
    The folder is rewritten atomically and ``summary.json`` lists the pages written.

    Parameters
    ----------
    run_dir
        The output folder of ``geo-dx run``.
    commune_id
        Rewrite only this commune's page; an unknown id raises :class:`InputError`.

    Examples
    --------
    >>> rebuild_maps("no/such/run")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    geo_dx.errors.InputError: no/such/run: not found; run `geo-dx run` to write it first
    """
    from geo_dx.maps.write import check_commune_id

    run = read_run(run_dir)
    content = run_content(run)
    if commune_id is not None:
        check_commune_id(content.communes["commune_id"].astype(str), commune_id,
                         f"{run.gpkg}: layer communes")
    write_run_folder(run.folder, content, previous=run, maps_only=True, commune_id=commune_id,
                     command="geo-dx map")
    names = ["map.html", "index.html"] if commune_id is None else []
    pages = sorted((run.folder / "communes").glob("*.html"))
    if commune_id is not None:
        from geo_dx.maps.pages import commune_page_names

        communes = content.communes
        page = commune_page_names(communes["commune_id"].astype(str),
                                  communes["commune_name"])[str(commune_id)]
        pages = [run.folder / "communes" / page]
    return [run.folder / n for n in names[:1]] + pages + [run.folder / n for n in names[1:]]


def run_content(run: FinishedRun) -> RunContent:
    """A finished run's content as read back (its place context from its own layers and DEM)."""
    from geo_dx.maps.context import PlaceContext
    from geo_dx.maps.plan_layer import plan_items_from_tables, plan_layer_from_tables

    layers = run.layers(("villages", "communes", "coverage"),
                        optional=("clusters", "towns", "roads", "power_lines", "plan_sites",
                                  "plan_fibre"))
    for name, columns in MAP_COLUMNS.items():
        missing = [c for c in columns if c not in layers[name]]
        if missing:
            raise InputError(f"{run.gpkg}: layer {name} has no column {missing[0]!r} (written "
                             "by an older geo_dx); re-run `geo-dx run`")
    villages, communes, coverage = (layers.pop(n) for n in ("villages", "communes", "coverage"))
    plan_layer = plan_layer_from_tables(layers, villages, language=run.summary.language)
    # with their geometry: a dossier's map draws its commune's items
    items = plan_items_from_tables(layers)
    for name in ("plan_sites", "plan_fibre"):
        layers.pop(name, None)
    context = PlaceContext.from_layers(dem=run.dem(required=False), roads=layers.get("roads"),
                                       towns=layers.get("towns"))
    return RunContent(villages, communes, coverage, run.summary, layers=layers, context=context,
                      plan_layer=plan_layer, plan_items=items)


def _keep(folder: Path, staging: Path, rel_paths: Iterable[str]) -> None:
    """Put files of the previous run into the staging folder (hard links when possible)."""
    for rel in sorted(rel_paths):
        source, target = folder / rel, staging / rel
        if not source.is_file():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)  # every writer replaces files, never edits them in place
        except OSError:
            shutil.copy2(source, target)


def _write_data(staging: Path, content: RunContent) -> None:
    """The data files: GeoPackage, priority.csv, rasters, the plan's files, the workbook and
    the draft proposal document."""
    from geo_dx.run.plan_outputs import plan_table, plan_tables, write_plan_files
    from geo_dx.run.proposal import PROPOSAL, write_proposal
    from geo_dx.run.qgis_style import write_layer_styles
    from geo_dx.run.report import write_gpkg_layer, write_priority_csv
    from geo_dx.run.workbook import write_workbook

    language, title = content.summary.language, content.summary.title
    gpkg = staging / "villages.gpkg"
    layers = {"villages": content.villages, "communes": content.communes,
              "coverage": content.coverage, **content.layers}
    if content.plan is not None:
        layers.update(plan_tables(content.plan))
    for name, layer in layers.items():
        write_gpkg_layer(layer, gpkg, name)
    write_layer_styles(gpkg, language=language,
                       villages_geometry=str(content.villages.geom_type.mode().iloc[0])
                       if len(content.villages) else "Point")
    write_priority_csv(staging / "priority.csv", content.villages)
    if content.overlay is not None:
        from geo_dx.signal.strength import write_signal_raster
        from geo_dx.signal.viewshed import write_coverage_raster

        if content.coverage_mask is not None:
            with stage("write raster"):
                write_coverage_raster(staging / RASTERS[0], content.overlay,
                                      content.coverage_mask)
        if content.signal_raster is not None:
            write_signal_raster(staging / RASTERS[1], *content.signal_raster,
                                content.overlay.crs)
    if content.plan is not None:
        write_plan_files(staging, content.plan, language=language)
    table = plan_table(content.plan) if content.plan is not None else None
    write_workbook(staging / "priority.xlsx", content.villages, content.communes,
                   plan=table, summary=content.summary, language=language, title=title)
    write_proposal(staging / PROPOSAL, summary=content.summary, villages=content.villages,
                   communes=content.communes, plan=table,
                   plan_items=content.plan.items if content.plan is not None else None,
                   language=language)


def _write_maps(staging: Path, content: RunContent, *, commune_id: str | None) -> list[Path]:
    from geo_dx.maps.write import write_maps
    from geo_dx.run.pipeline import map_points
    from geo_dx.run.plan_outputs import plan_map_kwargs

    tif = staging / RASTERS[0]
    plan = content.plan
    if content.plan_layer is not None:
        layers: dict[str, Any] = {"layers": (content.plan_layer,)}
    else:
        layers = plan_map_kwargs(plan, language=content.summary.language)
    return write_maps(staging, content.villages, content.communes, map_points(content.coverage),
                      title=content.summary.title, commune_id=commune_id,
                      coverage_raster=tif if tif.exists() else None, context=content.context,
                      plan_items=plan.items if plan is not None else content.plan_items,
                      language=content.summary.language, crs=content.summary.crs, **layers)
