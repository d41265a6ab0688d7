"""Gaps: which villages have fibre and mobile broadband, and which have neither.

The gap rule (the contract, also in the README): a village's location is its point,
or for a polygon its ``representative_point()``. Mobile broadband is 3g, 4g or 5g
(2g is not broadband); fibre is fibre. A village has a technology class when some
coverage point of that class lies within its reach of the village location, or
inside the village polygon. Reach is the point's ``range_m``, else the configured
default for its technology, capped by the configured maximum. With a DEM and the
terrain model, a mobile *site* must also be in line of sight of the village.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_dx.calibration import Calibration
from geo_dx.communes import assign_communes
from geo_dx.config import Config
from geo_dx.coverage import (
    Evidence,
    covered_within_reach,
    nearest_distance_m,
    with_reach,
)
from geo_dx.dem import DemGrid, read_dem
from geo_dx.disputes import apply_disputes, weak_measurements
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.schema import (
    MOBILE_BROADBAND,
    MOBILE_ORDER,
    SOURCES,
    validate_coverage,
    validate_villages,
    village_locations,
    working_crs,
)

logger = logging.getLogger(__name__)

#: Mobile technologies, best first (2g counts for ``mobile_technology`` only).


def find_gaps(
    villages: gpd.GeoDataFrame,
    coverage: gpd.GeoDataFrame,
    *,
    communes: gpd.GeoDataFrame | None = None,
    config: Config | None = None,
    dem: DemGrid | str | Path | None = None,
    evidence: Sequence[Evidence] = (),
    calibration: Calibration | None = None,
) -> gpd.GeoDataFrame:
    """
    Decide, for every village, whether it has fibre and mobile broadband.

    Parameters
    ----------
    villages
        Validated villages (points or polygons).
    coverage
        Validated coverage points; ``reach_m`` is computed when absent.
    communes
        When given, villages are assigned to communes first (see
        :func:`geo_dx.communes.assign_communes`).
    config
        Ranges, CRS and terrain options; defaults to ``Config()``.
    dem
        Elevation model; with it the default mobile model is line of sight.
    evidence
        Extra per-village evidence (coverage rasters, speed tiles).
    calibration
        Offsets added to predicted signal (``itm`` model), from
        :func:`geo_dx.signal_strength.calibrate_signal`.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``villages`` (same index and CRS) with ``has_fibre``,
        ``has_mobile_broadband``, ``nearest_fibre_m``, ``nearest_mobile_m``,
        ``mobile_technology``, ``fibre_source``, ``mobile_source`` and ``gap_class``;
        with the terrain or itm model also ``has_mobile_broadband_radius``; with the itm
        model ``has_mobile_broadband_terrain`` (line of sight), ``mobile_signal_dbm``,
        ``mobile_margin_db`` and ``mobile_best_site``. Always ``mobile_confidence``,
        ``mobile_disputed`` and the counts behind it (see :mod:`geo_dx.disputes`).

    Examples
    --------
    >>> demo = geo_dx.load_demo()  # doctest: +SKIP
    >>> gaps = find_gaps(demo.villages, demo.coverage, communes=demo.communes)  # doctest: +SKIP
    >>> gaps.gap_class.value_counts()  # doctest: +SKIP
    """
    config = config or Config()
    out = _validated(villages, "villages").copy()
    coverage = _validated(coverage, "coverage")
    if communes is not None:
        out = assign_communes(out, communes, max_distance_m=config.assign_max_distance_m,
                              crs=config.crs)
    grid = _dem_grid(dem, out, config)
    work_crs = grid.crs if grid is not None else working_crs(out, config.crs)
    model = mobile_model(config, grid)
    cov = coverage if "reach_m" in coverage else with_reach(coverage, config=config)
    cov = cov.to_crs(work_crs)
    vxy = shapely.get_coordinates(village_locations(out).to_crs(work_crs).to_numpy())
    pxy = shapely.get_coordinates(cov.geometry.to_numpy())
    inside_point, inside_village = _points_in_polygons(out.geometry.to_crs(work_crs),
                                                       cov.geometry.to_numpy())
    tech = cov["technology"].to_numpy().astype(str)
    source = cov["source"].to_numpy().astype(str)
    reach = cov["reach_m"].to_numpy(dtype=float)
    is_site = (cov["kind"] == "site").to_numpy()
    antenna = _antenna_height(cov, config)
    # weak or no-service measurements never count as coverage (they may dispute it)
    usable = ~weak_measurements(cov, config=config)
    itm_hits = (_itm_hits(grid, cov, pxy, vxy, is_site & usable, antenna, config, calibration)
                if model == "itm" else None)

    def covered(mask: np.ndarray, *, how: str) -> np.ndarray:
        mask = mask & usable
        if not mask.any():
            return np.zeros(len(out), dtype=bool)
        modelled = mask & is_site if how in ("terrain", "itm") else np.zeros_like(mask)
        plain = mask & ~modelled
        hit = covered_within_reach(vxy, pxy[plain], reach[plain])
        if how == "terrain" and modelled.any():
            hit |= _covered_in_sight(vxy, pxy[modelled], reach[modelled], antenna[modelled],
                                     grid, config)
        if how == "itm" and itm_hits is not None:
            site_pos, village_pos, _ = itm_hits
            hit[village_pos[modelled[site_pos]]] = True
        hit[inside_village[mask[inside_point]]] = True
        return hit

    def groups(how: str) -> dict[tuple[str, str], np.ndarray]:
        return {
            (t, s): covered((tech == t) & (source == s), how="radius" if t == "fibre" else how)
            for t in ("fibre", *MOBILE_ORDER)
            for s in SOURCES
        }

    by_group = groups(model)
    fibre = _best_source(by_group, ("fibre",), evidence, "fibre", out.index)
    mobile = _best_source(by_group, MOBILE_BROADBAND, evidence, "mobile", out.index)
    out["has_fibre"] = fibre.notna().to_numpy()
    out["has_mobile_broadband"] = mobile.notna().to_numpy()
    out["fibre_source"] = fibre.to_numpy()
    out["mobile_source"] = mobile.to_numpy()
    out["mobile_technology"] = _best_technology(by_group, out["has_mobile_broadband"])
    # no point at all: missing (empty in the CSV), never inf
    out["nearest_fibre_m"] = _finite(nearest_distance_m(vxy, pxy[tech == "fibre"]))
    out["nearest_mobile_m"] = _finite(nearest_distance_m(vxy, pxy[np.isin(tech,
                                                                          MOBILE_BROADBAND)]))
    _warn_missing_evidence(tech, reach, usable, evidence)
    if model in ("terrain", "itm"):
        mb = np.isin(tech, MOBILE_BROADBAND) & usable
        radius = covered_within_reach(vxy, pxy[mb], reach[mb])
        radius[inside_village[mb[inside_point]]] = True
        out["has_mobile_broadband_radius"] = radius | out["has_mobile_broadband"].to_numpy()
    if model == "itm":
        los = _best_source(groups("terrain"), MOBILE_BROADBAND, evidence, "mobile", out.index)
        out["has_mobile_broadband_terrain"] = los.notna().to_numpy()
        out = _with_signal_columns(out, cov, itm_hits[2])
    out = apply_disputes(out, vxy, pxy, cov, config=config, model=model)
    out["gap_class"] = gap_class(out["has_fibre"], out["has_mobile_broadband"])
    logger.info(
        "gaps (%s model): %d villages, %d without fibre, %d without mobile broadband",
        model, len(out), (~out["has_fibre"]).sum(), (~out["has_mobile_broadband"]).sum(),
    )
    return out


def _validated(layer: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    """``layer`` as validated by :mod:`geo_dx.schema` (validated here when it was not)."""
    if isinstance(layer, gpd.GeoDataFrame) and layer.attrs.get("geo_dx_layer") == kind:
        return layer
    validate = validate_villages if kind == "villages" else validate_coverage
    return validate(layer, source=kind)


def _finite(distance_m: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(distance_m), distance_m, np.nan)


def _warn_missing_evidence(
    tech: np.ndarray, reach: np.ndarray, usable: np.ndarray, evidence: Sequence[Evidence]
) -> None:
    """Say so when no evidence at all could give a village mobile broadband or fibre."""
    classes = {ev.technology_class for ev in evidence}
    mobile = np.isin(tech, MOBILE_BROADBAND) & usable
    if "mobile" not in classes:
        if not mobile.any():
            second = int((tech == "2g").sum())
            only = f" (only 2g: {second})" if second else ""
            warnings.warn(
                f"no 3g/4g/5g coverage point{only} and no other mobile evidence, so every "
                "village is without mobile broadband; give the mobile sites with --coverage "
                "(technology 3g/4g/5g) if you have them",
                GeoDxWarning, stacklevel=3,
            )
        elif (reach[mobile] <= 0).all():
            warnings.warn(
                "every 3g/4g/5g coverage point has a reach of 0 m (range_m = 0?), so every "
                "village is without mobile broadband unless a site lies inside its polygon; "
                "leave range_m blank to use the default reach of each technology",
                GeoDxWarning, stacklevel=3,
            )
    if "fibre" not in classes and not (tech == "fibre").any():
        warnings.warn(
            "no fibre coverage point and no other fibre evidence, so every village is without "
            "fibre; give the fibre nodes with --coverage (technology fibre) if you have them",
            GeoDxWarning, stacklevel=3,
        )


def gap_class(has_fibre: pd.Series, has_mobile: pd.Series) -> pd.Series:
    """
    Combine the two flags into ``none``, ``no_fibre``, ``no_mobile`` or ``no_fibre_no_mobile``.

    Examples
    --------
    >>> gap_class(pd.Series([True, False]), pd.Series([False, False])).tolist()
    ['no_mobile', 'no_fibre_no_mobile']
    """
    fibre = has_fibre.astype(bool).to_numpy()
    mobile = has_mobile.astype(bool).to_numpy()
    labels = np.select(
        [fibre & mobile, ~fibre & mobile, fibre & ~mobile],
        ["none", "no_fibre", "no_mobile"],
        default="no_fibre_no_mobile",
    )
    return pd.Series(labels, index=has_fibre.index, dtype=object)


def _dem_grid(
    dem: DemGrid | str | Path | None, villages: gpd.GeoDataFrame, config: Config
) -> DemGrid | None:
    if dem is None or isinstance(dem, DemGrid):
        return dem
    return read_dem(dem, crs=working_crs(villages, config.crs))


def mobile_model(config: Config, dem: DemGrid | str | Path | None) -> str:
    """
    The mobile coverage model a run uses: ``"terrain"`` (line of sight), ``"itm"``
    (predicted signal) or ``"radius"``.

    ``terrain.model = "auto"`` means terrain when there is a DEM.

    Examples
    --------
    >>> mobile_model(Config(), None)
    'radius'
    """
    model = config.terrain.model
    if model in ("terrain", "itm") and dem is None:
        raise InputError(
            f"terrain.model is {model!r} but no DEM was given; pass --dem FILE.tif "
            "or set terrain.model = 'radius'"
        )
    if model == "auto":
        return "terrain" if dem is not None else "radius"
    return model


def _itm_hits(
    grid: DemGrid,
    cov: gpd.GeoDataFrame,
    pxy: np.ndarray,
    vxy: np.ndarray,
    candidates: np.ndarray,
    antenna: np.ndarray,
    config: Config,
    calibration: Calibration | None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Predicted signal from every mobile site to the villages in its reach.

    Returns the covering pairs (coverage position, village position) and the best
    broadband signal per village.
    """
    from geo_dx.signal_strength import best_per_target, predict_pairs

    tech = cov["technology"].to_numpy().astype(str)
    sites = np.flatnonzero(candidates & np.isin(tech, MOBILE_ORDER))
    eirp = (cov["eirp_dbm"].to_numpy(dtype=float)[sites] if "eirp_dbm" in cov
            else np.full(len(sites), np.nan))
    pairs = predict_pairs(grid, pxy[sites], tech[sites], cov["reach_m"].to_numpy(float)[sites],
                          vxy, antenna_height_m=antenna[sites], eirp_dbm=eirp,
                          terrain=config.terrain, signal=config.signal)
    if calibration is not None and len(pairs):
        operator = (cov["operator"].to_numpy(dtype=object)[sites] if "operator" in cov
                    else np.full(len(sites), ""))
        shift = calibration.offset_for(tech[sites][pairs["site"]],
                                       np.asarray(operator[pairs["site"]], dtype=str))
        pairs = pairs.assign(signal_dbm=pairs["signal_dbm"] + shift,
                             margin_db=pairs["margin_db"] + shift)
    ok = (pairs["margin_db"] >= 0).to_numpy()
    site_pos = sites[pairs["site"].to_numpy()]
    broadband = np.isin(tech[site_pos], MOBILE_BROADBAND)
    best = best_per_target(pairs[broadband], len(vxy))
    best["site"] = np.where(best["site"] >= 0, sites[np.maximum(best["site"], 0)], -1)
    return site_pos[ok], pairs["target"].to_numpy()[ok], best


def _with_signal_columns(out: gpd.GeoDataFrame, cov: gpd.GeoDataFrame,
                         best: pd.DataFrame) -> gpd.GeoDataFrame:
    """``mobile_signal_dbm``, ``mobile_margin_db`` and ``mobile_best_site`` (the site's
    ``site_id``, else its row label in the coverage layer)."""
    ids = (cov["site_id"] if "site_id" in cov else pd.Series(cov.index, index=cov.index))
    ids = ids.astype(object).to_numpy()
    site = best["site"].to_numpy()
    out["mobile_signal_dbm"] = best["signal_dbm"].round(1).to_numpy()
    out["mobile_margin_db"] = best["margin_db"].round(1).to_numpy()
    out["mobile_best_site"] = np.where(site >= 0, ids[np.maximum(site, 0)], None)
    return out


def _antenna_height(cov: gpd.GeoDataFrame, config: Config) -> np.ndarray:
    default = config.terrain.antenna_height_m
    if "antenna_height_m" not in cov:
        return np.full(len(cov), default)
    return cov["antenna_height_m"].astype(float).fillna(default).to_numpy()


def _covered_in_sight(
    vxy: np.ndarray,
    sxy: np.ndarray,
    reach: np.ndarray,
    antenna_m: np.ndarray,
    grid: DemGrid,
    config: Config,
) -> np.ndarray:
    """Villages within reach of a site AND in its line of sight over the DEM."""
    from geo_dx.terrain import visible_pairs

    _, village = visible_pairs(grid, sxy, antenna_m, reach, vxy, config=config.terrain)
    hit = np.zeros(len(vxy), dtype=bool)
    hit[village] = True
    return hit


def _points_in_polygons(
    villages: gpd.GeoSeries, points: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (point position, village position) where a point lies in a village polygon."""
    is_polygon = (villages.geom_type != "Point").to_numpy()
    if not is_polygon.any() or len(points) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    positions = np.flatnonzero(is_polygon)
    tree = shapely.STRtree(villages.to_numpy()[positions])
    point_pos, poly_pos = tree.query(points, predicate="intersects")
    return point_pos, positions[poly_pos]


def _best_source(
    by_group: dict[tuple[str, str], np.ndarray],
    technologies: Sequence[str],
    evidence: Sequence[Evidence],
    technology_class: str,
    index: pd.Index,
) -> pd.Series:
    """The strongest evidence source covering each village, or None."""
    best = pd.Series(None, index=index, dtype=object)
    for source in SOURCES:
        hit = np.zeros(len(index), dtype=bool)
        for t in technologies:
            hit |= by_group[(t, source)]
        for ev in evidence:
            if ev.technology_class == technology_class and ev.source == source:
                hit |= ev.covered.reindex(index, fill_value=False).to_numpy(dtype=bool)
        best = best.where(best.notna() | ~hit, source)
    return best


def _best_technology(
    by_group: dict[tuple[str, str], np.ndarray], has_mobile: pd.Series
) -> np.ndarray:
    """Best covering mobile technology; 'unknown' when only non-point evidence covers."""
    result = np.full(len(has_mobile), "none", dtype=object)
    for t in MOBILE_ORDER[::-1]:
        hit = np.zeros(len(has_mobile), dtype=bool)
        for s in SOURCES:
            hit |= by_group[(t, s)]
        result[hit] = t
    broadband = has_mobile.to_numpy(dtype=bool)
    result[broadband & ~np.isin(result, MOBILE_BROADBAND)] = "unknown"
    return result
