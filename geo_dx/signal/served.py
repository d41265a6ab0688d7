"""Which villages a coverage point serves, under every mobile model: the one owner of the rule.

A coverage point (an existing site or fibre node, or a planned one) serves a village when

- the point lies inside the village polygon (any technology, any model); or
- the point is a fibre node, a measurement, or a mobile site under the ``radius`` model,
  and the village location lies within the point's reach (``reach_m``; a village at
  exactly the reach is served); or
- the point is a mobile site under the ``terrain`` model, the village lies within its
  reach and in line of sight over the DEM from the antenna
  (:func:`geo_dx.signal.terrain.visible_pairs`); or
- the point is a mobile site under the ``itm`` model and the predicted signal at the
  village (:func:`geo_dx.signal.strength.predict_pairs`, plus the calibration offset of
  the site's technology and operator) reaches the technology's threshold.

Weak measurements never serve. :func:`geo_dx.find_gaps` decides the gap classes from
:func:`point_coverage` (the same rule, grouped by technology and source, pruned to the
villages whose answer can still change); the investment plan asks :func:`served_matrix`
which villages each candidate site or fibre node would serve. Both read the rule here, so
what a plan claims is what the gaps say once the plan is built.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from geo_dx.config import Config
from geo_dx.coverage import (
    covered_within_reach,
    nearest_distance_m,
    pairs_within_reach,
    points_in_polygons,
    reach_and_nearest,
    with_reach,
)
from geo_dx.dem import DemGrid
from geo_dx.disputes import weak_measurements
from geo_dx.errors import ConfigError, InputError
from geo_dx.schema import MOBILE_BROADBAND, MOBILE_ORDER, SOURCES, TECHNOLOGIES
from geo_dx.signal.calibration import Calibration
from geo_dx.spatial import village_locations

logger = logging.getLogger(__name__)

#: The mobile coverage models (``terrain.model`` may also be ``auto``).
MODELS: tuple[str, ...] = ("radius", "terrain", "itm")


def mobile_model(config: Config, dem: DemGrid | str | Path | None) -> str:
    """
    The mobile coverage model a run uses: ``"terrain"`` (line of sight), ``"itm"``
    (predicted signal) or ``"radius"``.

    ``terrain.model = "auto"`` means terrain when there is a DEM. Any other name is
    refused (a model nobody implements must not quietly fall back to the radius rule).

    Examples
    --------
    >>> mobile_model(Config(), None)
    'radius'
    >>> from geo_dx.config import TerrainConfig
    >>> mobile_model(Config(terrain=TerrainConfig(model="itm")), None)
    Traceback (most recent call last):
    ...
    geo_dx.errors.InputError: terrain.model is 'itm' but no DEM was given; pass --dem ...
    """
    model = config.terrain.model
    if model not in ("auto", *MODELS):
        raise ConfigError(
            f"terrain.model was {model!r}; use one of 'auto', 'radius', 'terrain' or 'itm'"
        )
    if model in ("terrain", "itm") and dem is None:
        raise InputError(
            f"terrain.model is {model!r} but no DEM was given; pass --dem FILE.tif "
            "or set terrain.model = 'radius'"
        )
    if model == "auto":
        return "terrain" if dem is not None else "radius"
    return model


def with_missing_reach(coverage: gpd.GeoDataFrame, config: Config) -> gpd.GeoDataFrame:
    """
    Coverage with ``reach_m`` for every row: given values kept, missing ones computed.

    A ``reach_m`` column with gaps (rows appended to a layer that had one) must not leave
    those rows reaching nowhere: they get :func:`geo_dx.coverage.with_reach`'s value.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame({"technology": ["4g", "4g"], "kind": ["site", "site"],
    ...                         "reach_m": [900.0, None]},
    ...                        geometry=[shapely.Point(0, 0)] * 2, crs=32648)
    >>> with_missing_reach(pts, Config())["reach_m"].tolist()
    [900.0, 4000.0]
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


def antenna_heights(coverage: pd.DataFrame, config: Config) -> np.ndarray:
    """Each point's ``antenna_height_m``, else ``terrain.antenna_height_m``."""
    default = config.terrain.antenna_height_m
    if "antenna_height_m" not in coverage:
        return np.full(len(coverage), default)
    return coverage["antenna_height_m"].astype(float).fillna(default).to_numpy()


def itm_pairs(
    grid: DemGrid,
    coverage: pd.DataFrame,
    points_xy: np.ndarray,
    villages_xy: np.ndarray,
    sites: np.ndarray,
    antenna_m: np.ndarray,
    config: Config,
    calibration: Calibration | None,
) -> pd.DataFrame:
    """
    Calibrated predicted signal from the mobile sites at positions ``sites`` to the
    villages within their reach.

    Returns :func:`geo_dx.signal.strength.predict_pairs`' frame with ``site`` as a
    position in ``coverage`` (not in ``sites``), the calibration offset of each site's
    technology and operator added to ``signal_dbm`` and ``margin_db``. A village is
    served by a pair with ``margin_db >= 0``.
    """
    from geo_dx.signal.strength import predict_pairs

    tech = coverage["technology"].to_numpy().astype(str)
    sites = np.asarray(sites, dtype=np.int64)
    eirp = (coverage["eirp_dbm"].to_numpy(dtype=float)[sites] if "eirp_dbm" in coverage
            else np.full(len(sites), np.nan))
    pairs = predict_pairs(grid, points_xy[sites], tech[sites],
                          coverage["reach_m"].to_numpy(float)[sites], villages_xy,
                          antenna_height_m=antenna_m[sites], eirp_dbm=eirp,
                          terrain=config.terrain, signal=config.signal)
    if calibration is not None and len(pairs):
        operator = (coverage["operator"].to_numpy(dtype=object)[sites] if "operator" in coverage
                    else np.full(len(sites), ""))
        shift = calibration.offset_for(tech[sites][pairs["site"]],
                                       np.asarray(operator[pairs["site"]], dtype=str))
        pairs = pairs.assign(signal_dbm=pairs["signal_dbm"] + shift,
                             margin_db=pairs["margin_db"] + shift)
    return pairs.assign(site=sites[pairs["site"].to_numpy()])


def itm_hits(
    grid: DemGrid,
    coverage: gpd.GeoDataFrame,
    points_xy: np.ndarray,
    villages_xy: np.ndarray,
    candidates: np.ndarray,
    antenna_m: np.ndarray,
    config: Config,
    calibration: Calibration | None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """
    Predicted signal from every mobile site (``candidates``: a mask of usable sites) to
    the villages in its reach.

    Returns the serving pairs (coverage position, village position) and the best
    broadband signal per village (``site``: a coverage position, -1 for none).
    """
    from geo_dx.signal.strength import best_per_target

    tech = coverage["technology"].to_numpy().astype(str)
    sites = np.flatnonzero(candidates & np.isin(tech, MOBILE_ORDER))
    pairs = itm_pairs(grid, coverage, points_xy, villages_xy, sites, antenna_m, config,
                      calibration)
    ok = (pairs["margin_db"] >= 0).to_numpy()
    site_pos = pairs["site"].to_numpy()
    broadband = np.isin(tech[site_pos], MOBILE_BROADBAND)
    best = best_per_target(pairs[broadband], len(villages_xy))
    return site_pos[ok], pairs["target"].to_numpy()[ok], best


def covered_in_sight(
    villages_xy: np.ndarray,
    sites_xy: np.ndarray,
    reach_m: np.ndarray,
    antenna_m: np.ndarray,
    grid: DemGrid,
    config: Config,
) -> np.ndarray:
    """Villages within reach of a site AND in its line of sight over the DEM."""
    from geo_dx.signal.terrain import visible_pairs

    _, village = visible_pairs(grid, sites_xy, antenna_m, reach_m, villages_xy,
                               config=config.terrain)
    hit = np.zeros(len(villages_xy), dtype=bool)
    hit[village] = True
    return hit


def served_matrix(
    villages: gpd.GeoDataFrame | gpd.GeoSeries,
    points: gpd.GeoDataFrame,
    *,
    model: str,
    crs: object,
    dem: DemGrid | None = None,
    config: Config | None = None,
    calibration: Calibration | None = None,
) -> sparse.csr_matrix:
    """
    Which villages each coverage point serves: a sparse boolean villages × points matrix.

    Parameters
    ----------
    villages
        Villages (points or polygons); rows of the matrix, in order.
    points
        Coverage points as :func:`geo_dx.find_gaps` reads them (``technology``,
        ``kind``; optional ``range_m``/``reach_m``, ``antenna_height_m``, ``operator``,
        ``eirp_dbm``, measurement columns); columns of the matrix, in order.
    model
        ``"radius"``, ``"terrain"`` or ``"itm"`` (:func:`mobile_model`).
    crs
        The metric CRS ``find_gaps`` worked in (the DEM's, or the villages' UTM zone).
    dem
        The elevation grid (required by the terrain and itm models).
    config
        Reach, terrain and signal options.
    calibration
        Offsets added to the predicted signal (itm model), as ``find_gaps`` applied them.

    Examples
    --------
    >>> v = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0), shapely.Point(50_000, 0)],
    ...                      crs=32648)
    >>> site = gpd.GeoDataFrame({"technology": ["4g"], "kind": ["site"]},
    ...                         geometry=[shapely.Point(1000, 0)], crs=32648)
    >>> served_matrix(v, site, model="radius", crs=32648).toarray().ravel().tolist()
    [True, False]
    >>> served_matrix(v, site, model="banana", crs=32648)
    Traceback (most recent call last):
    ...
    geo_dx.errors.ConfigError: served_matrix: model was 'banana'; use 'radius', 'terrain' or 'itm'
    """
    config = config or Config()
    if model not in MODELS:
        raise ConfigError(f"served_matrix: model was {model!r}; use 'radius', 'terrain' or 'itm'")
    if model != "radius" and dem is None:
        raise InputError(f"the {model} coverage model needs a DEM; pass dem=")
    n_v, n_p = len(villages), len(points)
    if n_v == 0 or n_p == 0:
        return sparse.csr_matrix((n_v, n_p), dtype=bool)
    cov = with_missing_reach(points, config)
    geoms = villages.geometry if isinstance(villages, gpd.GeoDataFrame) else villages
    vxy = shapely.get_coordinates(village_locations(gpd.GeoDataFrame(geometry=geoms))
                                  .to_crs(crs).to_numpy())
    pgeom = cov.geometry.to_crs(crs).to_numpy()
    pxy = shapely.get_coordinates(pgeom)
    reach = cov["reach_m"].to_numpy(dtype=float, na_value=np.nan)
    tech = cov["technology"].to_numpy().astype(str)
    usable = ~weak_measurements(cov, config=config)
    mobile_site = usable & (cov["kind"] == "site").to_numpy(dtype=bool) & (tech != "fibre")
    by_model = mobile_site if model != "radius" else np.zeros(n_p, dtype=bool)
    plain = np.flatnonzero(usable & ~by_model)
    p_idx, v_idx = pairs_within_reach(vxy, pxy[plain], reach[plain])
    found = [(plain[p_idx], v_idx)]
    sites = np.flatnonzero(by_model)
    if len(sites) and model == "terrain":
        from geo_dx.signal.terrain import visible_pairs

        s_idx, t_idx = visible_pairs(dem, pxy[sites], antenna_heights(cov, config)[sites],
                                     reach[sites], vxy, config=config.terrain)
        found.append((sites[s_idx], t_idx))
    elif len(sites) and model == "itm":
        pairs = itm_pairs(dem, cov, pxy, vxy, sites[np.isin(tech[sites], MOBILE_ORDER)],
                          antenna_heights(cov, config), config, calibration)
        ok = (pairs["margin_db"] >= 0).to_numpy()
        found.append((pairs["site"].to_numpy()[ok], pairs["target"].to_numpy()[ok]))
    inside_p, inside_v = points_in_polygons(geoms.to_crs(crs), pgeom)
    keep = usable[inside_p]
    found.append((inside_p[keep], inside_v[keep]))
    cols = np.concatenate([f[0] for f in found]).astype(np.int64)
    rows = np.concatenate([f[1] for f in found]).astype(np.int64)
    matrix = sparse.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)), shape=(n_v, n_p))
    matrix.data[:] = True
    logger.info("served (%s model): %d villages × %d points, %d pairs", model, n_v, n_p,
                matrix.nnz)
    return matrix


#: Sentinel technology code: no technology.
_NONE = 99


@dataclass(frozen=True)
class PointColumns:
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
class Found:
    """What :func:`point_coverage` found: per (technology, source) group, the villages it
    covers; nearest distances; mobile broadband by the radius rule alone."""

    by_group: dict[tuple[str, str], np.ndarray]
    nearest_fibre_m: np.ndarray
    nearest_mobile_m: np.ndarray
    radius_mobile: np.ndarray


def point_coverage(
    vxy: np.ndarray, points: PointColumns, *, how: str, grid: DemGrid | None,
    config: Config, itm_hits: tuple[np.ndarray, np.ndarray, pd.DataFrame] | None = None,
) -> Found:
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
                    hit[sight[covered_in_sight(vxy[sight], points.xy[los], points.reach[los],
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
    return Found(by_group, nearest["fibre"][rank], nearest["mobile"][rank], radius_mobile[rank])


def _spatial_order(xy: np.ndarray, cell_m: float = 5000.0) -> np.ndarray:
    """Positions of ``xy`` sorted by row of ``cell_m`` then x: nearby points stay together."""
    if len(xy) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.lexsort((xy[:, 0], np.floor((xy[:, 1] - xy[:, 1].min()) / cell_m)))
