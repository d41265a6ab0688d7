"""Grid electricity: which villages have it, how far a site is from the grid.

The public telecom service fund (2269/QĐ-TTg) funds mobile coverage only for villages that
have grid electricity, and a site far from the grid needs its own solar power and battery.
Two sources say where the grid is, the village's own column first:

- a village column ``has_grid_power`` (yes/no/có/không; blank = unknown);
- a power-line layer (``--power FILE``, lines): a village within ``grid_distance_m`` of a
  line has grid power.

Without either, a village's grid power is unknown (never assumed absent).
"""

from __future__ import annotations

import logging
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_dx.errors import InputError
from geo_dx.spatial import working_crs

logger = logging.getLogger(__name__)

#: Values of a village's ``grid_power``.
GRID_POWER: tuple[str, ...] = ("yes", "no", "unknown")
#: How a site is powered.
SITE_POWER: tuple[str, ...] = ("grid", "solar")


def distance_to_grid_m(
    points: gpd.GeoSeries | gpd.GeoDataFrame,
    power_lines: gpd.GeoDataFrame | gpd.GeoSeries | None,
    *,
    crs: str | None = None,
) -> np.ndarray:
    """
    Distance in metres from each point to the nearest power line (NaN without lines).

    Parameters
    ----------
    points
        Points (or shapes: their representative point is used).
    power_lines
        Power lines (LineString/MultiLineString), any CRS; ``None`` or empty: all NaN.
    crs
        The working CRS (metres); ``None`` estimates the UTM zone from ``points``.

    Examples
    --------
    >>> from shapely.geometry import LineString, Point
    >>> pts = gpd.GeoSeries([Point(500000, 2300000), Point(503000, 2300000)], crs=32648)
    >>> lines = gpd.GeoSeries([LineString([(500000, 2299000), (500000, 2301000)])], crs=32648)
    >>> distance_to_grid_m(pts, lines).tolist()
    [0.0, 3000.0]
    """
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if power_lines is None or len(power_lines) == 0 or len(geoms) == 0:
        return np.full(len(geoms), np.nan)
    lines = power_lines.geometry if isinstance(power_lines, gpd.GeoDataFrame) else power_lines
    if lines.crs is None:
        raise InputError("power lines have no CRS; save the layer with its CRS (EPSG:4326?)")
    work = working_crs(gpd.GeoDataFrame(geometry=geoms), crs)
    pts = geoms.to_crs(work).representative_point().to_numpy()
    line_geoms = lines.to_crs(work).to_numpy()
    line_geoms = line_geoms[~(shapely.is_empty(line_geoms) | pd.isna(line_geoms))]
    if len(line_geoms) == 0:
        return np.full(len(geoms), np.nan)
    tree = shapely.STRtree(line_geoms)
    _, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    return np.asarray(dist, dtype=float)


def village_grid_power(
    villages: gpd.GeoDataFrame,
    power_lines: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    *,
    grid_distance_m: float = 1000.0,
    crs: str | None = None,
) -> pd.Series:
    """
    ``"yes"``, ``"no"`` or ``"unknown"``: whether each village has grid electricity.

    The village's own ``has_grid_power`` value wins; where it is blank, a village within
    ``grid_distance_m`` of a power line has grid power and one farther away has not;
    without lines it stays unknown.

    Examples
    --------
    >>> from shapely.geometry import LineString, Point
    >>> v = gpd.GeoDataFrame({"has_grid_power": [True, pd.NA, pd.NA]},
    ...     geometry=[Point(510000, 2300000), Point(500100, 2300000), Point(520000, 2300000)],
    ...     crs=32648)
    >>> line = gpd.GeoSeries([LineString([(500000, 2299000), (500000, 2301000)])], crs=32648)
    >>> village_grid_power(v, line).tolist()
    ['yes', 'yes', 'no']
    >>> village_grid_power(v).tolist()
    ['yes', 'unknown', 'unknown']
    """
    out = pd.Series("unknown", index=villages.index, dtype=object)
    dist = distance_to_grid_m(villages, power_lines, crs=crs)
    known = ~np.isnan(dist)
    out[known & (dist <= grid_distance_m)] = "yes"
    out[known & (dist > grid_distance_m)] = "no"
    if "has_grid_power" in villages:
        own = villages["has_grid_power"]
        given = own.notna().to_numpy()
        out[given] = np.where(own[given].astype(bool), "yes", "no")
    return out


def site_power(
    distance_m: np.ndarray,
    *,
    max_grid_distance_m: float,
    village_power: np.ndarray | None = None,
) -> np.ndarray:
    """
    ``"grid"`` or ``"solar"`` for each site: how it would be powered.

    A site within ``max_grid_distance_m`` of a power line connects to the grid; a farther
    one gets solar panels and a battery. Without line data (NaN distance) the site takes
    the grid power of the village it stands for (``village_power``: ``"no"`` → solar);
    otherwise grid is assumed.

    Examples
    --------
    >>> site_power(np.array([200.0, 5000.0, np.nan, np.nan]), max_grid_distance_m=2000,
    ...            village_power=np.array(["yes", "yes", "no", "unknown"])).tolist()
    ['grid', 'solar', 'solar', 'grid']
    """
    distance_m = np.asarray(distance_m, dtype=float)
    solar = distance_m > max_grid_distance_m
    if village_power is not None:
        solar |= np.isnan(distance_m) & (np.asarray(village_power) == "no")
    return np.where(solar, "solar", "grid")


def grid_power_summary(power: pd.Series) -> dict[Literal["yes", "no", "unknown"], int]:
    """
    Villages per grid-power answer.

    Examples
    --------
    >>> grid_power_summary(pd.Series(["yes", "no", "no"]))
    {'yes': 1, 'no': 2, 'unknown': 0}
    """
    counts = power.value_counts()
    return {k: int(counts.get(k, 0)) for k in GRID_POWER}  # type: ignore[misc]
