"""Gaps: which villages have fibre and mobile broadband, and which have neither.

The gap rule (the contract, also in docs/gap-rule.md): a village's location is its point,
or for a polygon its ``representative_point()``. Mobile broadband is 3g, 4g or 5g
(2g is not broadband); fibre is fibre. A village has a technology class when some
coverage point of that class lies within its reach of the village location, or
inside the village polygon. Reach is the point's ``range_m``, else the configured
default for its technology, capped by the configured maximum. With a DEM and the
terrain model, a mobile *site* must also be in line of sight of the village; with the
itm model its predicted signal must reach the threshold. Which villages a point serves
is decided in one place, :mod:`geo_dx.signal.served`; this module turns it into classes.
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

from geo_dx.communes import assign_communes
from geo_dx.config import Config
from geo_dx.coverage import Evidence, category_codes, points_in_polygons
from geo_dx.dem import DemGrid, dem_for
from geo_dx.disputes import apply_disputes, weak_measurements
from geo_dx.errors import GeoDxWarning
from geo_dx.schema import (
    MOBILE_BROADBAND,
    MOBILE_ORDER,
    SOURCES,
    TECHNOLOGIES,
    conforms,
    validate_coverage,
    validate_villages,
)
from geo_dx.signal.calibration import Calibration
from geo_dx.signal.served import (
    PointColumns,
    antenna_heights,
    itm_hits,
    mobile_model,
    point_coverage,
    with_missing_reach,
)
from geo_dx.spatial import village_locations, working_crs

logger = logging.getLogger(__name__)

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
        :func:`geo_dx.signal.strength.calibrate_signal`.

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
    >>> import geo_dx
    >>> demo = geo_dx.load_demo()
    >>> gaps = find_gaps(demo.villages, demo.coverage, communes=demo.communes,
    ...                  dem=demo.dem_path)
    >>> int((~gaps["has_mobile_broadband"]).sum()), int((~gaps["has_fibre"]).sum())
    (86, 261)
    """
    config = config or Config()
    out = _validated(villages, "villages").copy()
    coverage = _validated(coverage, "coverage")
    if communes is not None:
        out = assign_communes(out, communes, max_distance_m=config.assign_max_distance_m,
                              crs=config.crs)
    grid = dem_for(dem, out, crs=config.crs)
    work_crs = grid.crs if grid is not None else working_crs(out, config.crs)
    model = mobile_model(config, grid)
    cov = with_missing_reach(coverage, config)
    cov = cov.to_crs(work_crs)
    vxy = shapely.get_coordinates(village_locations(out).to_crs(work_crs).to_numpy())
    pxy = shapely.get_coordinates(cov.geometry.to_numpy())
    inside_point, inside_village = points_in_polygons(out.geometry.to_crs(work_crs),
                                                       cov.geometry.to_numpy())
    is_site = (cov["kind"] == "site").to_numpy(dtype=bool)
    antenna = antenna_heights(cov, config)
    # weak or no-service measurements never count as coverage (they may dispute it)
    usable = ~weak_measurements(cov, config=config)
    hits = (itm_hits(grid, cov, pxy, vxy, is_site & usable, antenna, config, calibration)
            if model == "itm" else None)
    points = PointColumns(
        xy=pxy,
        tech=category_codes(cov["technology"], TECHNOLOGIES),
        source=category_codes(cov["source"], SOURCES),
        reach=cov["reach_m"].to_numpy(dtype=float, na_value=np.nan),
        is_site=is_site,
        antenna=antenna,
        usable=usable,
        inside_point=inside_point,
        inside_village=inside_village,
    )
    found = point_coverage(vxy, points, how=model, grid=grid, config=config, itm_hits=hits)
    fibre = _best_source(found.by_group, ("fibre",), evidence, "fibre", out.index)
    mobile = _best_source(found.by_group, MOBILE_BROADBAND, evidence, "mobile", out.index)
    out["has_fibre"] = fibre.notna().to_numpy()
    out["has_mobile_broadband"] = mobile.notna().to_numpy()
    # str whatever the data (an all-None object column would otherwise stay object)
    out["fibre_source"] = pd.array(fibre.to_numpy(), dtype="str")
    out["mobile_source"] = pd.array(mobile.to_numpy(), dtype="str")
    out["mobile_technology"] = _best_technology(found.by_group, out["has_mobile_broadband"])
    # no point at all: missing (empty in the CSV), never inf
    out["nearest_fibre_m"] = _finite(found.nearest_fibre_m)
    out["nearest_mobile_m"] = _finite(found.nearest_mobile_m)
    _warn_missing_evidence(cov["technology"].astype(str).to_numpy(), points.reach, usable,
                           evidence)
    if model in ("terrain", "itm"):
        out["has_mobile_broadband_radius"] = (
            found.radius_mobile | out["has_mobile_broadband"].to_numpy()
        )
    if model == "itm":
        sight = point_coverage(vxy, points, how="terrain", grid=grid, config=config)
        los = _best_source(sight.by_group, MOBILE_BROADBAND, evidence, "mobile", out.index)
        out["has_mobile_broadband_terrain"] = los.notna().to_numpy()
        out = _with_signal_columns(out, cov, hits[2])
    out = apply_disputes(out, vxy, pxy, cov, config=config, model=model)
    out["gap_class"] = gap_class(out["has_fibre"], out["has_mobile_broadband"])
    logger.info(
        "gaps (%s model): %d villages, %d without fibre, %d without mobile broadband",
        model, len(out), (~out["has_fibre"]).sum(), (~out["has_mobile_broadband"]).sum(),
    )
    return out


def _validated(layer: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    """``layer`` as validated by :mod:`geo_dx.schema` (validated here when it was not)."""
    if conforms(layer, kind):
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
    fibre = (tech == "fibre") & usable
    if "fibre" not in classes and not (tech == "fibre").any():
        warnings.warn(
            "no fibre coverage point and no other fibre evidence, so every village is without "
            "fibre; give the fibre nodes with --coverage (technology fibre) if you have them",
            GeoDxWarning, stacklevel=3,
        )
    elif "fibre" not in classes and fibre.any() and (reach[fibre] <= 0).all():
        warnings.warn(
            "every fibre coverage point has a reach of 0 m (range_m = 0?), so every village is "
            "without fibre unless a node lies inside its polygon; leave range_m blank to use "
            "the default reach of fibre",
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
