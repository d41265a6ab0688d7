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
import pandas as pd
import shapely

from geo_dx.communes import summarise_communes
from geo_dx.config import Config
from geo_dx.coverage import Evidence, with_reach
from geo_dx.dem import OVERLAY_CELL_M, DemGrid, read_dem
from geo_dx.disputes import dispute_summary
from geo_dx.errors import GeoDxWarning
from geo_dx.evidence import raster_evidence, read_speed_tiles, tile_evidence
from geo_dx.field_survey import is_survey_export, read_survey_coverage
from geo_dx.gaps import find_gaps
from geo_dx.i18n import DEFAULT_LANGUAGE, translator
from geo_dx.indicators import indicator_summary
from geo_dx.io import read_communes, read_coverage, read_layer, read_villages
from geo_dx.plan.model import PlanResult
from geo_dx.power import grid_power_summary, read_power_lines, village_grid_power
from geo_dx.remoteness import CROP_MARGIN_M, remoteness_summary, travel_time_h
from geo_dx.rollout import rollout_clusters
from geo_dx.run.folder import RunSummary
from geo_dx.run.plan_outputs import gap_rule_settings
from geo_dx.run.progress import stage
from geo_dx.run.report import build_summary
from geo_dx.schema import MOBILE_BROADBAND
from geo_dx.scoring import normalised_weights, score, score_summary
from geo_dx.signal.blocking import terrain_blocking
from geo_dx.signal.calibration import Calibration
from geo_dx.signal.served import mobile_model
from geo_dx.signal.strength import calibrate_signal, model_comparison, signal_grid
from geo_dx.signal.viewshed import viewshed_union
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
    #: Power lines: which villages have grid power, grid or solar for new sites.
    power: Path | None = None
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
    summary: RunSummary
    #: The 100 m terrain overlay the coverage rasters are drawn on (None without a DEM).
    overlay: DemGrid | None = None
    coverage_mask: np.ndarray | None = None
    #: With the itm model: predicted signal (dBm) on a coarse grid and its transform.
    signal_raster: tuple[np.ndarray, Any] | None = None
    extra_layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    #: The run's input files: never overwritten, refused inside the output folder.
    input_paths: tuple[Path, ...] = ()
    #: The investment plan when a budget was given.
    plan: PlanResult | None = None


def input_paths(inputs: RunInputs) -> tuple[Path, ...]:
    """Every input file of a run (the output folder must hold none of them)."""
    optional = (inputs.dem, inputs.towns, inputs.roads, inputs.power, inputs.coverage_raster,
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
    Read and validate the inputs, find gaps, score gap villages, plan, summarise.

    The steps, each once and in the order data flows: read (inputs, DEM, evidence) →
    decide (gaps, the terrain coverage overlay) → prioritise (travel times, scores,
    rollout clusters, the per-commune table) → plan (with a budget) → the run summary.
    Warnings raised on the way (repaired geometries, capped ranges, unassigned villages)
    are logged and listed in the summary.

    With ``partitions`` the gap decisions run over that many spatial partitions on a dask
    cluster (:func:`geo_dx.partition.partitioned_gaps`, the ``[scale]`` extra; same
    result), a local one unless ``scheduler_address`` is given.
    """
    config = config or Config()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GeoDxWarning)
        read = _read(inputs, config)
        decided = _decide(read, config, partitions=partitions,
                          scheduler_address=scheduler_address)
        if inputs.budget is None:
            read = dataclasses.replace(read, dem=None)  # nothing later needs the native DEM
        ranked = _prioritise(read, decided, config)
        planned = _plan(inputs, read, decided, ranked, config) if inputs.budget else None
    messages = [str(w.message) for w in caught if issubclass(w.category, GeoDxWarning)]
    for message in messages:
        logger.warning("%s", message)
    villages = planned.villages if planned is not None else ranked.villages
    summary = _summary(inputs, read, decided, ranked, config, messages)
    layers = {"clusters": ranked.clusters}
    # Towns and roads go into the GeoPackage too, so `geo-dx map` can redraw them; the power
    # lines (near the communes), so QGIS shows them beside the villages without grid power.
    layers.update({name: layer for name, layer in (("towns", read.towns), ("roads", read.roads),
                                                   ("power_lines", read.power_lines))
                   if layer is not None and not layer.empty})
    if planned is not None:
        summary = summary.with_plan(planned.summary, candidates=inputs.candidates)
    return RunResult(villages, ranked.communes, decided.coverage, summary=summary,
                     overlay=decided.overlay, coverage_mask=decided.mask,
                     signal_raster=decided.signal_raster, extra_layers=layers,
                     input_paths=input_paths(inputs), plan=planned)


@dataclass(frozen=True)
class _Read:
    """The run's inputs, read and validated, in the working CRS where it matters."""

    communes: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    coverage: gpd.GeoDataFrame
    evidence: list[Evidence]
    work_crs: Any
    #: The DEM at its native resolution (None without one, or once nothing needs it).
    dem: DemGrid | None
    towns: gpd.GeoDataFrame | None
    roads: gpd.GeoDataFrame | None
    power_lines: gpd.GeoDataFrame | None = None


@dataclass(frozen=True)
class _Decided:
    """The gap decisions and the terrain coverage overlay."""

    gaps: gpd.GeoDataFrame
    coverage: gpd.GeoDataFrame
    model: str
    calibration: Calibration | None
    overlay: DemGrid | None
    mask: np.ndarray | None
    signal_raster: tuple[np.ndarray, Any] | None
    #: Elevation at each village from the native DEM (None without a DEM).
    elevation_m: np.ndarray | None


@dataclass(frozen=True)
class _Ranked:
    """Villages with travel times, scores and clusters; the per-commune table."""

    villages: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    clusters: gpd.GeoDataFrame
    travel: pd.DataFrame
    weights: dict[str, float]


def _read(inputs: RunInputs, config: Config) -> _Read:
    """Step 1: the input layers, the DEM cropped to the study area, the evidence."""
    with stage("read inputs"):
        communes, villages, coverage = _read_inputs(inputs, config)
    work_crs = working_crs(villages, config.crs)
    with stage("read DEM"):
        dem = (read_dem(inputs.dem, crs=work_crs,
                        bounds=_study_bounds(communes, coverage, work_crs),
                        margin_m=CROP_MARGIN_M) if inputs.dem else None)
    power_lines = (read_power_lines(inputs.power, within=communes,
                                    within_source=f"the communes in {inputs.communes}")
                   if inputs.power else None)
    return _Read(communes, villages, with_reach(coverage, config=config),
                 _evidence(inputs, villages, config), work_crs, dem,
                 read_layer(inputs.towns) if inputs.towns else None,
                 read_layer(inputs.roads) if inputs.roads else None, power_lines)


def _decide(read: _Read, config: Config, *, partitions: int | None,
            scheduler_address: str | None) -> _Decided:
    """Step 2: which villages lack fibre or mobile broadband, and the coverage overlay."""
    dem, coverage = read.dem, read.coverage
    model = mobile_model(config, dem)
    calibration = calibrate_signal(coverage, dem, config=config) if model == "itm" else None
    applied = calibration if config.terrain.calibrate else None
    with stage("gaps"):
        if partitions and not read.evidence:
            from geo_dx.partition import partitioned_gaps

            gaps = partitioned_gaps(read.villages, coverage, communes=read.communes,
                                    config=config, dem=dem, calibration=applied,
                                    partitions=partitions, scheduler_address=scheduler_address)
        else:
            if partitions:
                logger.warning("coverage rasters and speed tiles are decided in one process; "
                               "--partitions ignored")
            gaps = find_gaps(read.villages, coverage, communes=read.communes, config=config,
                             dem=dem, evidence=read.evidence, calibration=applied)
        if dem is not None and model == "terrain":
            gaps = gaps.join(terrain_blocking(gaps, coverage, dem, config=config))
    mask = signal_raster = None
    overlay = dem.coarsened(OVERLAY_CELL_M) if dem is not None else None
    if overlay is not None:
        # line of sight above used the native DEM; the overlay needs no finer than ~100 m
        with stage("coverage raster"):
            if model == "itm":
                signal_dbm, signal_tf, mask = signal_grid(overlay, coverage, config=config,
                                                          calibration=applied)
                signal_raster = (signal_dbm, signal_tf)
            else:
                mask = _mobile_coverage_mask(coverage, overlay, config)
            gaps = _with_area_share(gaps, overlay, mask)
    return _Decided(gaps, coverage, model, calibration, overlay, mask, signal_raster,
                    _elevation(gaps, dem))


def _prioritise(read: _Read, decided: _Decided, config: Config) -> _Ranked:
    """Step 3: travel times (on the 100 m overlay, whether or not a plan follows), scores,
    rollout clusters and the per-commune table."""
    with stage("travel time"):
        travel = travel_time_h(decided.gaps, dem=decided.overlay, towns=read.towns,
                               roads=read.roads, communes=read.communes,
                               config=config.remoteness, crs=read.work_crs,
                               max_cell_m=OVERLAY_CELL_M)
        if decided.elevation_m is not None:
            travel["elevation_m"] = decided.elevation_m
    weights = normalised_weights(config.scoring.weights)
    with stage("scoring"):
        scored = score(decided.gaps, travel=travel, communes=read.communes, config=config,
                       weights=weights)
        cluster_id, clusters = rollout_clusters(scored,
                                                radius_m=config.scoring.cluster_radius_m,
                                                crs=config.crs)
        # every output says which villages lack grid power (the fund's rule)
        scored = scored.assign(cluster_id=cluster_id, grid_power=village_grid_power(
            scored, read.power_lines, grid_distance_m=config.plan.grid_village_distance_m,
            crs=config.crs))
        per_commune = summarise_communes(scored, read.communes)
    return _Ranked(scored, per_commune, clusters, travel, weights)


def _plan(inputs: RunInputs, read: _Read, decided: _Decided, ranked: _Ranked,
          config: Config) -> PlanResult:
    """Step 4: the investment plan for ``inputs.budget`` (see :func:`geo_dx.plan.model.plan`)."""
    from geo_dx.plan.candidates import read_candidates
    from geo_dx.plan.model import plan

    candidates = (read_candidates(inputs.candidates, within=read.communes,
                                  within_source=f"the communes in {inputs.communes}")
                  if inputs.candidates else None)
    return plan(ranked.villages, budget_vnd=inputs.budget, candidates=candidates,
                coverage=decided.coverage, dem=read.dem, roads=read.roads,
                communes=read.communes, config=config, power_lines=read.power_lines,
                calibration=decided.calibration if config.terrain.calibrate else None)


def _summary(inputs: RunInputs, read: _Read, decided: _Decided, ranked: _Ranked,
             config: Config, messages: list[str]) -> RunSummary:
    """The run summary: what the run was, and the gap analysis section."""
    is_gap = ranked.villages["gap_class"] != "none"
    analysis = build_summary(
        ranked.villages, ranked.communes, title=inputs.title, warnings=messages,
        mobile_model=decided.model,
        scoring={"remoteness": remoteness_summary(ranked.travel, is_gap),
                 **score_summary(ranked.villages, config=config, weights=ranked.weights)},
        evidence=[{"label": ev.label, "class": ev.technology_class, "source": ev.source,
                   "villages_covered": int(ev.covered.sum())} for ev in read.evidence],
        extra={**_signal_sections(ranked.villages, decided.model, decided.calibration, config),
               "indicators": indicator_summary(ranked.villages, config.targets),
               "grid_power": _grid_power_section(ranked.villages, read.power_lines),
               "gap_rule": gap_rule_settings(config, model=decided.model, calibration=(
                   decided.calibration if config.terrain.calibrate else None))})
    return RunSummary(
        title=inputs.title, analysis=analysis, language=config.language,
        synthetic=inputs.synthetic or "synthetic" in inputs.title.lower(),
        crs=str(read.work_crs),
        inputs={"communes": str(inputs.communes), "villages": str(inputs.villages),
                "coverage": [str(p) for p in inputs.coverage],
                "dem": str(inputs.dem) if inputs.dem else None,
                "roads": str(inputs.roads) if inputs.roads else None,
                "power": str(inputs.power) if inputs.power else None,
                "towns": str(inputs.towns) if inputs.towns else None})


def _grid_power_section(villages: gpd.GeoDataFrame,
                        power_lines: gpd.GeoDataFrame | None) -> dict[str, Any]:
    """``summary.json`` → ``grid_power``: villages per answer (yes/no/unknown), those
    without mobile broadband apart, and where the answers come from."""
    power = villages["grid_power"]
    own = "has_grid_power" in villages and bool(villages["has_grid_power"].notna().any())
    return {"sources": [name for name, used in (("has_grid_power", own),
                                                ("power_lines", power_lines is not None))
                        if used],
            **grid_power_summary(power),
            "without_mobile_broadband": grid_power_summary(
                power[~villages["has_mobile_broadband"].astype(bool)])}


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



def _read_inputs(
    inputs: RunInputs, config: Config
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Communes, villages and coverage, validated, each file checked against the communes."""
    communes = read_communes(inputs.communes, config=config)
    villages = read_villages(inputs.villages, config=config)
    check_extent(villages, communes, source=str(inputs.villages),
                 reference_source=f"the communes in {inputs.communes}")
    # each file checked on its own (two operators' sites.csv in different folders too)
    surveys = [p for p in inputs.coverage if is_survey_export(p)]
    layers = [read_survey_coverage(p) for p in surveys]  # ODK Central / Kobo exports as is
    for path, layer in zip(surveys, layers, strict=True):
        check_extent(layer, communes, source=str(path),
                     reference_source=f"the communes in {inputs.communes}")
    others = [p for p in inputs.coverage if p not in surveys]
    if others:
        layers.insert(0, read_coverage(others, config=config, within=communes,
                                       within_source=f"the communes in {inputs.communes}"))
    crs = layers[0].crs
    coverage = gpd.GeoDataFrame(pd.concat([layer.to_crs(crs) for layer in layers],
                                          ignore_index=True), geometry="geometry", crs=crs)
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
    """Write every output of a run into ``out_dir`` atomically (see :mod:`geo_dx.run.writer`)."""
    from geo_dx.maps.context import PlaceContext
    from geo_dx.run.writer import RunContent, write_run_folder

    with stage("write"):
        context = PlaceContext.from_layers(dem=result.overlay,
                                           roads=result.extra_layers.get("roads"),
                                           towns=result.extra_layers.get("towns"))
        content = RunContent(result.villages, result.communes, result.coverage, result.summary,
                             layers=result.extra_layers, plan=result.plan,
                             overlay=result.overlay, coverage_mask=result.coverage_mask,
                             signal_raster=result.signal_raster, context=context)
        return write_run_folder(out_dir, content, inputs=result.input_paths)
