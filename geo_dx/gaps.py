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
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_dx.communes import assign_communes
from geo_dx.config import Config
from geo_dx.coverage import (
    Evidence,
    category_codes,
    covered_within_reach,
    nearest_distance_m,
    points_in_polygons,
    reach_and_nearest,
    with_reach,
)
from geo_dx.dem import DemGrid, dem_for
from geo_dx.disputes import apply_disputes, weak_measurements
from geo_dx.errors import GeoDxWarning, InputError
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
from geo_dx.spatial import village_locations, working_crs

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
    cov = _with_missing_reach(coverage, config)
    cov = cov.to_crs(work_crs)
    vxy = shapely.get_coordinates(village_locations(out).to_crs(work_crs).to_numpy())
    pxy = shapely.get_coordinates(cov.geometry.to_numpy())
    inside_point, inside_village = points_in_polygons(out.geometry.to_crs(work_crs),
                                                       cov.geometry.to_numpy())
    is_site = (cov["kind"] == "site").to_numpy(dtype=bool)
    antenna = _antenna_height(cov, config)
    # weak or no-service measurements never count as coverage (they may dispute it)
    usable = ~weak_measurements(cov, config=config)
    itm_hits = (_itm_hits(grid, cov, pxy, vxy, is_site & usable, antenna, config, calibration)
                if model == "itm" else None)
    points = _PointColumns(
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
    found = _point_coverage(vxy, points, how=model, grid=grid, config=config,
                            itm_hits=itm_hits)
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
        sight = _point_coverage(vxy, points, how="terrain", grid=grid, config=config)
        los = _best_source(sight.by_group, MOBILE_BROADBAND, evidence, "mobile", out.index)
        out["has_mobile_broadband_terrain"] = los.notna().to_numpy()
        out = _with_signal_columns(out, cov, itm_hits[2])
    out = apply_disputes(out, vxy, pxy, cov, config=config, model=model)
    out["gap_class"] = gap_class(out["has_fibre"], out["has_mobile_broadband"])
    logger.info(
        "gaps (%s model): %d villages, %d without fibre, %d without mobile broadband",
        model, len(out), (~out["has_fibre"]).sum(), (~out["has_mobile_broadband"]).sum(),
    )
    return out


def _with_missing_reach(coverage: gpd.GeoDataFrame, config: Config) -> gpd.GeoDataFrame:
    """Coverage with ``reach_m`` for every row: given values kept, missing ones computed.

    A ``reach_m`` column with gaps (rows appended to a layer that had one) must not leave
    those rows reaching nowhere: they get :func:`geo_dx.coverage.with_reach`'s value.
    """
    if "reach_m" not in coverage:
        return with_reach(coverage, config=config)
    missing = coverage["reach_m"].isna().to_numpy()
    if not missing.any():
        return coverage
    filled = coverage["reach_m"].to_numpy(dtype=float, na_value=np.nan).copy()
    filled[missing] = with_reach(coverage[missing].drop(columns="reach_m"),
                                 config=config)["reach_m"].to_numpy(dtype=float)
    return coverage.assign(reach_m=filled)

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
    from geo_dx.signal.strength import best_per_target, predict_pairs

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
    from geo_dx.signal.terrain import visible_pairs

    _, village = visible_pairs(grid, sxy, antenna_m, reach, vxy, config=config.terrain)
    hit = np.zeros(len(vxy), dtype=bool)
    hit[village] = True
    return hit


#: Sentinel technology code: no technology.
_NONE = 99


@dataclass(frozen=True)
class _PointColumns:
    """Coverage points as plain arrays in the working CRS (codes index TECHNOLOGIES/SOURCES)."""

    xy: np.ndarray
    tech: np.ndarray
    source: np.ndarray
    reach: np.ndarray
    is_site: np.ndarray
    antenna: np.ndarray
    usable: np.ndarray
    inside_point: np.ndarray
    inside_village: np.ndarray


@dataclass(frozen=True)
class _Found:
    by_group: dict[tuple[str, str], np.ndarray]
    nearest_fibre_m: np.ndarray
    nearest_mobile_m: np.ndarray
    radius_mobile: np.ndarray


def _point_coverage(
    vxy: np.ndarray, points: _PointColumns, *, how: str, grid: DemGrid | None,
    config: Config, itm_hits: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> _Found:
    """
    Per (technology, source) group, which villages its points cover; nearest distances.

    Groups are examined strongest source first, best technology first, and each only
    for the villages whose answer it can still change (a village already covered by
    measured 4g needs no look at declared 3g); every answer the caller reads
    (best source per class, best technology) is the same as examining every group
    for every village. Nearest distances use every point of the class (weak
    measurements too); coverage only usable points. ``how`` is the mobile model for
    sites: ``radius``, ``terrain`` (line of sight) or ``itm`` (``itm_hits``: site and
    village positions of the pairs the signal model covers). Villages are queried in
    spatial order (k-d tree queries run ~2x faster on nearby targets).
    """
    n = len(vxy)
    order = _spatial_order(vxy)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    vxy = vxy[order]
    best_fibre = np.full(n, _NONE)   # best source code covering with fibre
    best_mobile = np.full(n, _NONE)  # best source code covering with mobile broadband
    best_tech = np.full(n, _NONE)    # best mobile technology code (incl. 2g)
    nearest = {"fibre": np.full(n, np.inf), "mobile": np.full(n, np.inf)}
    radius_mobile = np.zeros(n, dtype=bool)
    hits: dict[tuple[int, int], np.ndarray] = {}
    broadband = {TECHNOLOGIES.index(t) for t in MOBILE_BROADBAND}

    def cls_of(t_code: int) -> str | None:
        return ("fibre" if TECHNOLOGIES[t_code] == "fibre" else
                "mobile" if t_code in broadband else None)

    for s_code in range(len(SOURCES)):
        for t_code, t in enumerate(TECHNOLOGIES):
            group = (points.tech == t_code) & (points.source == s_code)
            members = group & points.usable
            if cls_of(t_code) is not None and (group & ~points.usable).any():
                weak = group & ~points.usable
                near_weak = nearest_distance_m(vxy, points.xy[weak])
                nearest[cls_of(t_code)] = np.minimum(nearest[cls_of(t_code)], near_weak)
            if not members.any():
                continue
            cls = cls_of(t_code)
            if t == "fibre":
                need = best_fibre > s_code
            else:
                need = best_tech > t_code
                if cls == "mobile":
                    need |= best_mobile > s_code
            los = members & points.is_site if how != "radius" and t != "fibre" else None
            plain = members & ~los if los is not None else members
            hit, near = reach_and_nearest(vxy, points.xy[plain], points.reach[plain], need=need,
                                          nearest=cls is not None)
            if los is not None and los.any():
                sight = np.flatnonzero(need & ~hit)
                if how == "itm" and itm_hits is not None:
                    site_pos, village_pos = itm_hits[0], itm_hits[1]
                    hit[rank[village_pos[los[site_pos]]]] = True
                elif len(sight):
                    hit[sight[_covered_in_sight(vxy[sight], points.xy[los], points.reach[los],
                                                points.antenna[los], grid, config)]] = True
                if cls == "mobile":
                    radius_mobile |= covered_within_reach(vxy, points.xy[los], points.reach[los])
                    near = np.minimum(near, nearest_distance_m(vxy, points.xy[los]))
            if cls is not None:
                nearest[cls] = np.minimum(nearest[cls], near)
            if t == "fibre":
                best_fibre[hit] = np.minimum(best_fibre[hit], s_code)
            else:
                best_tech[hit] = np.minimum(best_tech[hit], t_code)
                if cls == "mobile":
                    best_mobile[hit] = np.minimum(best_mobile[hit], s_code)
                    radius_mobile |= hit
            hits[(t_code, s_code)] = hit
    # points inside village polygons count whatever the pruning above decided: a
    # pruned village already has an answer at least as strong
    ok = points.usable[points.inside_point]
    inside_village = rank[points.inside_village[ok]]
    inside_point = points.inside_point[ok]
    inside_group = points.tech[inside_point].astype(np.int64) * 8 + points.source[inside_point]
    by_group: dict[tuple[str, str], np.ndarray] = {}
    for s_code, s in enumerate(SOURCES):
        for t_code, t in enumerate(TECHNOLOGIES):
            hit = hits.get((t_code, s_code), np.zeros(n, dtype=bool))
            hit[inside_village[inside_group == t_code * 8 + s_code]] = True
            if t_code in broadband:
                radius_mobile |= hit
            by_group[(t, s)] = hit[rank]
    return _Found(by_group, nearest["fibre"][rank], nearest["mobile"][rank], radius_mobile[rank])


def _spatial_order(xy: np.ndarray, cell_m: float = 5000.0) -> np.ndarray:
    """Positions of ``xy`` sorted by row of ``cell_m`` then x: nearby points stay together."""
    if len(xy) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.lexsort((xy[:, 0], np.floor((xy[:, 1] - xy[:, 1].min()) / cell_m)))


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
