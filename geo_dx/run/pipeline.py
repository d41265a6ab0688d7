"""The whole run: read inputs, find gaps, score, and write every output.

This is what ``geo-dx run`` does; notebooks can call :func:`analyse` and
:func:`write` directly.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from geo_dx._version import __version__
from geo_dx.communes import summarise_communes
from geo_dx.config import Config
from geo_dx.coverage import Evidence, with_reach
from geo_dx.dem import OVERLAY_CELL_M, DemGrid, read_dem
from geo_dx.disputes import dispute_summary
from geo_dx.errors import GeoDxWarning
from geo_dx.evidence import raster_evidence, read_speed_tiles, tile_evidence
from geo_dx.gaps import find_gaps, mobile_model
from geo_dx.i18n import DEFAULT_LANGUAGE, translator
from geo_dx.indicators import indicator_summary
from geo_dx.io import read_communes, read_coverage, read_layer, read_villages
from geo_dx.remoteness import CROP_MARGIN_M, remoteness_summary, travel_time_h
from geo_dx.rollout import rollout_clusters
from geo_dx.run.progress import stage
from geo_dx.run.report import build_summary, write_run
from geo_dx.schema import MOBILE_BROADBAND
from geo_dx.scoring import normalised_weights, score, score_summary
from geo_dx.signal.blocking import terrain_blocking
from geo_dx.signal.calibration import Calibration
from geo_dx.signal.strength import (
    calibrate_signal,
    model_comparison,
    signal_grid,
    write_signal_raster,
)
from geo_dx.signal.viewshed import viewshed_union, write_coverage_raster
from geo_dx.spatial import check_extent, village_locations, working_crs
from geo_dx.zonal import zonal_share

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunInputs:
    """Paths of one run's input files."""

    communes: Path
    villages: Path
    coverage: tuple[Path, ...]
    dem: Path | None = None
    towns: Path | None = None
    roads: Path | None = None
    coverage_raster: Path | None = None
    raster_technology: str = "4g"
    raster_threshold: float | None = None
    mobile_tiles: Path | None = None
    fixed_tiles: Path | None = None
    title: str = "geo_dx connectivity gaps"
    #: The synthetic demo province (said in summary.json whatever the title's language).
    synthetic: bool = False
    #: Investment plan budget (VND, or "mobile=X,fibre=Y"); None: no plan.
    budget: object | None = None
    #: Candidate sites for the plan (else generated).
    candidates: Path | None = None


@dataclass
class RunResult:
    """Everything a run computed, ready to write."""

    villages: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    coverage: gpd.GeoDataFrame
    summary: dict[str, Any]
    dem: DemGrid | None = None
    coverage_mask: np.ndarray | None = None
    #: With the itm model: predicted signal (dBm) on a coarse grid and its transform.
    signal_raster: tuple[np.ndarray, Any] | None = None
    extra_layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    #: The run's input files: never overwritten, refused inside the output folder.
    input_paths: tuple[Path, ...] = ()
    #: The investment plan (:class:`geo_dx.plan.model.PlanResult`) when a budget was given.
    plan: Any = None


def input_paths(inputs: RunInputs) -> tuple[Path, ...]:
    """Every input file of a run (the output folder must hold none of them)."""
    optional = (inputs.dem, inputs.towns, inputs.roads, inputs.coverage_raster,
                inputs.mobile_tiles, inputs.fixed_tiles, inputs.candidates)
    return (inputs.communes, inputs.villages, *inputs.coverage,
            *(p for p in optional if p is not None))


def demo_inputs(*, language: str = DEFAULT_LANGUAGE) -> RunInputs:
    """The embedded synthetic demo province as run inputs, titled in ``language``."""
    from geo_dx.demo import DEMO_TITLE, demo_paths

    paths = demo_paths()
    return RunInputs(
        communes=paths.communes,
        villages=paths.villages,
        coverage=tuple(paths.coverage),
        dem=paths.dem,
        towns=paths.towns,
        roads=paths.roads,
        title=translator(language).gettext(DEMO_TITLE),
        synthetic=True,
    )


def analyse(inputs: RunInputs, *, config: Config | None = None, partitions: int | None = None,
            scheduler_address: str | None = None) -> RunResult:
    """
    Read and validate the inputs, find gaps, score gap villages, summarise.

    The steps, each once and in the order data flows: read → gaps (and the terrain
    coverage mask) → travel times → scores → rollout clusters → per-commune table → the
    run summary. Warnings raised on the way (repaired geometries, capped ranges,
    unassigned villages) are logged and listed in the summary.

    With ``partitions`` the gap decisions run over that many spatial partitions on a dask
    cluster (:func:`geo_dx.partition.partitioned_gaps`, the ``[scale]`` extra; same
    result), a local one unless ``scheduler_address`` is given.
    """
    config = config or Config()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GeoDxWarning)
        result, fields = _analyse(inputs, config, partitions=partitions,
                                  scheduler_address=scheduler_address)
    messages = [str(w.message) for w in caught if issubclass(w.category, GeoDxWarning)]
    for message in messages:
        logger.warning("%s", message)
    summary = build_summary(result.villages, result.communes, title=inputs.title,
                            warnings=messages, **fields)
    return dataclasses.replace(result, summary=summary)


def _analyse(inputs: RunInputs, config: Config, *, partitions: int | None = None,
             scheduler_address: str | None = None) -> tuple[RunResult, dict[str, Any]]:
    """The run's layers, and the summary's fields (the summary is built by the caller)."""
    with stage("read inputs"):
        communes, villages, coverage = _read_inputs(inputs, config)
    work_crs = working_crs(villages, config.crs)
    with stage("read DEM"):
        dem = (read_dem(inputs.dem, crs=work_crs,
                        bounds=_study_bounds(communes, coverage, work_crs),
                        margin_m=CROP_MARGIN_M) if inputs.dem else None)
    coverage = with_reach(coverage, config=config)
    evidence = _evidence(inputs, villages, config)
    model = mobile_model(config, dem)
    calibration = calibrate_signal(coverage, dem, config=config) if model == "itm" else None
    with stage("gaps"):
        applied = calibration if config.terrain.calibrate else None
        if partitions and not evidence:
            from geo_dx.partition import partitioned_gaps

            gaps = partitioned_gaps(villages, coverage, communes=communes, config=config,
                                    dem=dem, calibration=applied, partitions=partitions,
                                    scheduler_address=scheduler_address)
        else:
            if partitions:
                logger.warning("coverage rasters and speed tiles are decided in one process; "
                               "--partitions ignored")
            gaps = find_gaps(villages, coverage, communes=communes, config=config, dem=dem,
                             evidence=evidence, calibration=applied)
        if dem is not None and model == "terrain":
            gaps = gaps.join(terrain_blocking(gaps, coverage, dem, config=config))
    mask = None
    signal_raster = None
    overlay = dem.coarsened(OVERLAY_CELL_M) if dem is not None else None
    if overlay is not None:
        # line of sight above used the native DEM; the overlay needs no finer than ~100 m
        with stage("coverage raster"):
            if model == "itm":
                signal_dbm, signal_tf, mask = signal_grid(
                    overlay, coverage, config=config,
                    calibration=calibration if config.terrain.calibrate else None)
                signal_raster = (signal_dbm, signal_tf)
            else:
                mask = _mobile_coverage_mask(coverage, overlay, config)
            gaps = _with_area_share(gaps, overlay, mask)
    towns = read_layer(inputs.towns) if inputs.towns else None
    roads = read_layer(inputs.roads) if inputs.roads else None
    with stage("travel time"):
        fine_elevation = _elevation(gaps, dem)
        if inputs.budget is None and overlay is not None:
            # nothing after this needs the native DEM: free it (4 bytes a cell, ~4 GB for a
            # national 30 m DEM) before the travel-time search allocates its own arrays
            dem = overlay
        travel = travel_time_h(gaps, dem=dem, towns=towns, roads=roads, communes=communes,
                               config=config.remoteness, crs=work_crs,
                               max_cell_m=OVERLAY_CELL_M)
        if fine_elevation is not None:
            travel["elevation_m"] = fine_elevation
    weights = normalised_weights(config.scoring.weights)
    with stage("scoring"):
        scored = score(gaps, travel=travel, communes=communes, config=config, weights=weights)
        cluster_id, clusters = rollout_clusters(scored,
                                                radius_m=config.scoring.cluster_radius_m)
        scored = scored.assign(cluster_id=cluster_id)
        per_commune = summarise_communes(scored, communes)
    is_gap = scored["gap_class"] != "none"
    fields: dict[str, Any] = {
        "mobile_model": model,
        "synthetic": inputs.synthetic or "synthetic" in inputs.title.lower(),
        "language": config.language,
        "generator": f"geo_dx {__version__}",
        "crs": str(work_crs),
        "inputs": {
            "communes": str(inputs.communes),
            "villages": str(inputs.villages),
            "coverage": [str(p) for p in inputs.coverage],
            "dem": str(inputs.dem) if inputs.dem else None,
            "roads": str(inputs.roads) if inputs.roads else None,
        },
        "scoring": {"remoteness": remoteness_summary(travel, is_gap),
                    **score_summary(scored, config=config, weights=weights)},
        "evidence": [
            {"label": ev.label, "class": ev.technology_class, "source": ev.source,
             "villages_covered": int(ev.covered.sum())}
            for ev in evidence
        ],
        "extra": {**_signal_sections(scored, model, calibration, config),
                  "indicators": indicator_summary(scored, config.targets)},
    }
    layers = {"clusters": clusters}
    # Towns and roads go into the GeoPackage too, so `geo-dx map` can redraw them.
    layers.update({name: layer for name, layer in (("towns", towns), ("roads", roads))
                   if layer is not None and not layer.empty})
    planned = None
    if inputs.budget is not None:
        from geo_dx.run.plan_outputs import plan_layers

        planned = _plan(inputs, scored, coverage, dem, roads, config)
        scored = planned.villages
        fields["inputs"]["candidates"] = str(inputs.candidates) if inputs.candidates else None
        fields["extra"] = {**fields["extra"], "plan": planned.summary}
        layers.update(plan_layers(planned))
    result = RunResult(scored, per_commune, coverage, summary={}, dem=overlay,
                       coverage_mask=mask, signal_raster=signal_raster,
                       extra_layers=layers, input_paths=input_paths(inputs), plan=planned)
    return result, fields


def _signal_sections(villages: gpd.GeoDataFrame, model: str, calibration: Calibration | None,
                     config: Config) -> dict[str, Any]:
    """Summary sections of the signal model: models side by side, calibration, disputes."""
    sections: dict[str, Any] = {}
    if model in ("terrain", "itm"):
        sections["mobile_models"] = model_comparison(villages, model=model)
    if calibration is not None:
        sections["signal_calibration"] = {**calibration.report,
                                          "applied": config.terrain.calibrate}
    disputes = dispute_summary(villages)
    if disputes:
        sections["disputes"] = disputes
    return sections



def _plan(inputs: RunInputs, scored: gpd.GeoDataFrame, coverage: gpd.GeoDataFrame,
          dem: DemGrid | None, roads: gpd.GeoDataFrame | None, config: Config) -> Any:
    """The investment plan for ``inputs.budget`` (see :func:`geo_dx.plan.model.plan`)."""
    from geo_dx.plan.candidates import read_candidates
    from geo_dx.plan.model import plan

    candidates = (read_candidates(inputs.candidates) if inputs.candidates
                  else None)
    return plan(scored, budget_vnd=inputs.budget, candidates=candidates, coverage=coverage,
                dem=dem, roads=roads, config=config)


def _read_inputs(
    inputs: RunInputs, config: Config
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Communes, villages and coverage, validated, each file checked against the communes."""
    communes = read_communes(inputs.communes, config=config)
    villages = read_villages(inputs.villages, config=config)
    check_extent(villages, communes, source=str(inputs.villages),
                 reference_source=f"the communes in {inputs.communes}")
    # each file checked on its own (two operators' sites.csv in different folders too)
    coverage = read_coverage(inputs.coverage, config=config, within=communes,
                             within_source=f"the communes in {inputs.communes}")
    return communes, villages, coverage


def _evidence(inputs: RunInputs, villages: gpd.GeoDataFrame, config: Config) -> list[Evidence]:
    """Coverage rasters and speed tiles given on the command line, as per-village evidence."""
    found = []
    if inputs.coverage_raster:
        found.append(raster_evidence(villages, inputs.coverage_raster,
                                     technology=inputs.raster_technology,
                                     threshold=inputs.raster_threshold))
    for path, kind in ((inputs.mobile_tiles, "mobile"), (inputs.fixed_tiles, "fixed")):
        if path:
            found.append(tile_evidence(villages, read_speed_tiles(path), kind=kind,
                                       config=config.measured))
    return found


def _elevation(villages: gpd.GeoDataFrame, dem: DemGrid | None) -> np.ndarray | None:
    """Elevation at each village location from the DEM as given (None without a DEM)."""
    if dem is None:
        return None
    xy = shapely.get_coordinates(village_locations(villages).to_crs(dem.crs).to_numpy())
    return dem.sample(xy)


def _study_bounds(
    communes: gpd.GeoDataFrame, coverage: gpd.GeoDataFrame, crs: object
) -> tuple[float, float, float, float]:
    """Bounds (in ``crs``) of everything the run looks at: communes and coverage points."""
    a = communes.to_crs(crs).total_bounds
    b = coverage.to_crs(crs).total_bounds if len(coverage) else a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _mobile_coverage_mask(coverage: gpd.GeoDataFrame, dem: DemGrid, config: Config) -> np.ndarray:
    """Union of every mobile broadband site's line-of-sight area within its reach."""
    sites = coverage[coverage["technology"].isin(MOBILE_BROADBAND) & (coverage["kind"] == "site")]
    sites = sites.to_crs(dem.crs)
    heights = (sites["antenna_height_m"].to_numpy(dtype=float) if "antenna_height_m" in sites
               else np.full(len(sites), np.nan))
    return viewshed_union(dem, shapely.get_coordinates(sites.geometry.to_numpy()), heights,
                          sites["reach_m"].to_numpy(dtype=float), config=config.terrain)


def _with_area_share(gaps: gpd.GeoDataFrame, dem: DemGrid, mask: np.ndarray) -> gpd.GeoDataFrame:
    polygons = gaps.geom_type != "Point"
    if not polygons.any():
        return gaps
    out = gaps.copy()
    out["mobile_area_share"] = zonal_share(gaps.geometry[polygons].to_crs(dem.crs),
                                           dem.transform, dem.shape,
                                           lambda window: mask[window.toslices()])
    return out


def map_points(coverage: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """
    The coverage points drawn on the maps: sites and nodes, not measurement points.

    Measurements already decided each village's evidence (``mobile_source``); a national
    run has ~1 million of them, which would make ``map.html`` ~85 MB of points nobody can
    read at that zoom. They stay in ``villages.gpkg`` (layer ``coverage``).
    """
    if "kind" not in coverage:
        return coverage
    return coverage[(coverage["kind"] != "measurement").to_numpy()]


def write(result: RunResult, out_dir: str | Path) -> Path:
    """Write every output of a run into ``out_dir`` atomically (see :func:`report.write_run`)."""
    from geo_dx.maps.write import PlaceContext, write_maps
    from geo_dx.run.plan_outputs import plan_map_kwargs, plan_table, write_plan_files
    from geo_dx.run.workbook import write_workbook

    language = result.summary.get("language", DEFAULT_LANGUAGE)

    def raster(staging: Path) -> None:
        if result.coverage_mask is not None and result.dem is not None:
            with stage("write raster"):
                write_coverage_raster(staging / "coverage_mobile.tif", result.dem,
                                      result.coverage_mask)
        if result.signal_raster is not None and result.dem is not None:
            write_signal_raster(staging / "signal_mobile_dbm.tif", *result.signal_raster,
                                result.dem.crs)

    def maps(staging: Path) -> None:
        tif = staging / "coverage_mobile.tif"
        with stage("maps"):
            context = PlaceContext.from_layers(dem=result.dem,
                                               roads=result.extra_layers.get("roads"),
                                               towns=result.extra_layers.get("towns"))
            write_maps(staging, result.villages, result.communes, map_points(result.coverage),
                       title=result.summary["title"],
                       coverage_raster=tif if tif.exists() else None,
                       context=context, **plan_map_kwargs(result.plan, language=language),
                       plan_items=result.plan.items if result.plan is not None else None,
                       language=language)

    def plan_files(staging: Path) -> None:
        if result.plan is not None:
            write_plan_files(staging, result.plan, language=language)

    def workbook(staging: Path) -> None:
        write_workbook(staging / "priority.xlsx", result.villages, result.communes,
                       plan=plan_table(result.plan) if result.plan is not None else None,
                       summary=result.summary, language=language,
                       title=result.summary["title"])

    def proposal(staging: Path) -> None:
        from geo_dx.run.proposal import PROPOSAL, write_proposal

        planned = result.plan is not None
        write_proposal(staging / PROPOSAL, summary=result.summary, villages=result.villages,
                       communes=result.communes,
                       plan=plan_table(result.plan) if planned else None,
                       plan_items=result.plan.items if planned else None, language=language)

    with stage("write"):
        return write_run(
            out_dir,
            villages=result.villages,
            communes=result.communes,
            coverage=result.coverage,
            summary=result.summary,
            extra_layers=result.extra_layers,
            # maps last: the index links the data files already written
            extra_writers=(raster, plan_files, workbook, proposal, maps),
            inputs=result.input_paths,
        )
