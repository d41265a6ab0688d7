"""Why no mobile: the site a village would see but for the terrain, and the ridge in between.

A village without mobile broadband under the terrain model may still have mobile sites
within reach: their signal is blocked by terrain. For such a village this module names
the nearest blocked site in reach, its distance, and the obstacle: the point of the
path profile that rises highest above the line of sight (the same profile
:func:`geo_dx.signal.terrain.line_of_sight` uses), with its location, ground elevation and
distance from the village. A planner can then check the ridge on a map instead of
distrusting a bare "nearest mobile 1.6 km".
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo_dx.config import Config
from geo_dx.dem import DemGrid
from geo_dx.i18n import Translator
from geo_dx.reasons import blocked_sentence
from geo_dx.schema import MOBILE_BROADBAND
from geo_dx.signal.terrain import highest_obstruction
from geo_dx.spatial import village_locations

__all__ = ["BLOCKING_COLUMNS", "blocked_sentences", "terrain_blocking"]

logger = logging.getLogger(__name__)

#: Columns :func:`terrain_blocking` returns (all empty for villages not blocked by terrain).
BLOCKING_COLUMNS: tuple[str, ...] = (
    "mobile_blocked_by",
    "blocked_site_distance_m",
    "obstacle_elevation_m",
    "obstacle_distance_m",
    "obstacle_lon",
    "obstacle_lat",
)


def terrain_blocking(
    villages: gpd.GeoDataFrame,
    coverage: gpd.GeoDataFrame,
    dem: DemGrid,
    *,
    config: Config | None = None,
) -> pd.DataFrame:
    """
    For each village without mobile broadband, the nearest site in reach that terrain blocks.

    Parameters
    ----------
    villages
        Output of :func:`geo_dx.find_gaps` (``has_mobile_broadband``), any CRS.
    coverage
        Coverage points with ``reach_m`` (:func:`geo_dx.coverage.with_reach`); mobile
        broadband rows of kind ``site`` are the candidates. Their ``site_id`` names the
        blocking site (else ``"<technology> site <row>"``).
    dem
        The elevation grid the gaps were found on.
    config
        Antenna and receiver heights, earth curvature, clearance, sample step.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``villages.index`` with :data:`BLOCKING_COLUMNS`: the blocking site,
        its distance (m), the obstacle's ground elevation (m), its distance from the
        village (m) and its longitude/latitude. Empty (None/NaN) where the village has
        mobile broadband or no site in reach is blocked by terrain.

    Examples
    --------
    >>> from geo_dx import find_gaps, load_demo, read_dem
    >>> from geo_dx.coverage import with_reach
    >>> demo = load_demo()
    >>> dem = read_dem(demo.dem_path)
    >>> gaps = find_gaps(demo.villages, demo.coverage, communes=demo.communes, dem=dem)
    >>> blocked = terrain_blocking(gaps, with_reach(demo.coverage), dem)
    >>> hit = blocked["mobile_blocked_by"].notna()
    >>> bool(gaps.loc[hit, "has_mobile_broadband"].any())  # only villages without it
    False
    >>> blocked[hit].iloc[0].to_dict()  # the nearest blocked site and the ridge in the way
    {'mobile_blocked_by': 'SYNS0634', 'blocked_site_distance_m': 1624.0, \
'obstacle_elevation_m': 1446.0, 'obstacle_distance_m': 860.0, 'obstacle_lon': 102.91775, \
'obstacle_lat': 21.389583}
    """
    config = config or Config()
    out = pd.DataFrame({c: np.nan for c in BLOCKING_COLUMNS}, index=villages.index)
    out["mobile_blocked_by"] = pd.Series(None, index=villages.index, dtype=object)
    without = ~villages["has_mobile_broadband"].astype(bool).to_numpy()
    is_site = coverage["technology"].isin(MOBILE_BROADBAND) & (coverage["kind"] == "site")
    sites = coverage[is_site.to_numpy() & coverage["reach_m"].notna().to_numpy()]
    if not without.any() or sites.empty:
        return out
    vpos = np.flatnonzero(without)
    vxy = shapely.get_coordinates(
        village_locations(villages.iloc[vpos]).to_crs(dem.crs).to_numpy())
    sxy = shapely.get_coordinates(sites.geometry.to_crs(dem.crs).to_numpy())
    site_idx, village_idx, dist_m = _pairs_in_reach(sxy, sites["reach_m"].to_numpy(float), vxy)
    if len(site_idx) == 0:
        return out
    antenna = (sites["antenna_height_m"].to_numpy(dtype=float) if "antenna_height_m" in sites
               else np.full(len(sites), np.nan))
    top = highest_obstruction(dem, sxy[site_idx], antenna[site_idx], vxy[village_idx],
                              config.terrain.receiver_height_m, config=config.terrain)
    blocked = top.excess_m > 0
    # nearest blocked site per village: sort by village, then distance, keep the first
    keep = np.flatnonzero(blocked)
    keep = keep[np.lexsort((dist_m[keep], village_idx[keep]))]
    first = keep[np.r_[True, village_idx[keep][1:] != village_idx[keep][:-1]]] if len(keep) \
        else keep
    rows = villages.index[vpos[village_idx[first]]]
    lon, lat = Transformer.from_crs(dem.crs, 4326, always_xy=True).transform(
        top.x[first], top.y[first])
    names = _site_names(sites)
    out.loc[rows, "mobile_blocked_by"] = names[site_idx[first]]
    out.loc[rows, "blocked_site_distance_m"] = np.round(dist_m[first], 0)
    out.loc[rows, "obstacle_elevation_m"] = np.round(top.elevation_m[first], 0)
    out.loc[rows, "obstacle_distance_m"] = np.round(top.distance_to_m[first], 0)
    out.loc[rows, "obstacle_lon"] = np.round(lon, 6)
    out.loc[rows, "obstacle_lat"] = np.round(lat, 6)
    logger.info("terrain blocking: %d of %d villages without mobile broadband have a site in "
                "reach behind terrain", len(first), int(without.sum()))
    return out


def blocked_sentences(villages: pd.DataFrame, tr: Translator) -> pd.Series:
    """
    The popup sentence of each village blocked by terrain (None for the others).

    Examples
    --------
    >>> from geo_dx.i18n import translator
    >>> frame = pd.DataFrame({"blocked_site_distance_m": [1630.0, np.nan],
    ...                       "obstacle_elevation_m": [1720.0, np.nan],
    ...                       "obstacle_distance_m": [912.0, np.nan]})
    >>> blocked_sentences(frame, translator("vi")).tolist()
    ['Bị núi che: trạm cách 1,6 km; đỉnh chắn cao 1.720 m, cách bản 0,9 km', None]
    """
    if not {"blocked_site_distance_m", "obstacle_elevation_m", "obstacle_distance_m"} <= set(
        villages.columns
    ):
        return pd.Series(None, index=villages.index, dtype=object)
    return pd.Series(
        [blocked_sentence(s, e, d, tr) for s, e, d in zip(
            villages["blocked_site_distance_m"], villages["obstacle_elevation_m"],
            villages["obstacle_distance_m"], strict=True)],
        index=villages.index, dtype=object,
    )


def _pairs_in_reach(
    sxy: np.ndarray, reach_m: np.ndarray, vxy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(site, village, distance) for every village within a site's reach (KD-tree)."""
    from scipy.spatial import cKDTree

    tree = cKDTree(vxy)
    hits = tree.query_ball_point(sxy, r=reach_m)
    counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
    if counts.sum() == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    site_idx = np.repeat(np.arange(len(sxy)), counts)
    village_idx = np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])
    dist_m = np.hypot(*(vxy[village_idx] - sxy[site_idx]).T)
    return site_idx, village_idx, dist_m


def _site_names(sites: pd.DataFrame) -> np.ndarray:
    # without a site_id: technology and row, readable in any language ("4G #12")
    fallback = [f"{str(t).upper()} #{label}" for t, label in zip(sites["technology"],
                                                                  sites.index, strict=True)]
    if "site_id" not in sites:
        return np.asarray(fallback, dtype=object)
    ids = sites["site_id"].to_numpy(dtype=object)
    return np.asarray([f if i is None or pd.isna(i) or str(i) == "" else str(i)
                       for i, f in zip(ids, fallback, strict=True)], dtype=object)
