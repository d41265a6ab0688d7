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
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_dx.errors import InputError
from geo_dx.io import read_layer
from geo_dx.schema import validate_power_lines
from geo_dx.spatial import working_crs

logger = logging.getLogger(__name__)

#: Values of a village's ``grid_power``.
GRID_POWER: tuple[str, ...] = ("yes", "no", "unknown")
#: How a site is powered.
SITE_POWER: tuple[str, ...] = ("grid", "solar")
#: Power lines farther than this outside the study area are left out when read.
POWER_LINE_MARGIN_M = 50_000.0


def read_power_lines(
    path: str | Path,
    *,
    within: gpd.GeoDataFrame | None = None,
    within_source: str = "the communes",
) -> gpd.GeoDataFrame:
    """
    Read and validate a power-line layer (``--power FILE``): lines with a CRS.

    ``path`` may name a layer as ``FILE:LAYER``; without it a multi-layer file is read by
    its layer ``power_lines``/``power``/``duong_day_dien``. With ``within`` (the communes)
    only lines within :data:`POWER_LINE_MARGIN_M` of them are kept, so a national file
    works for one province; a file with no line near them (the wrong CRS, another
    province) is refused, since every village would read "no grid power".

    Examples
    --------
    >>> import tempfile
    >>> from shapely.geometry import LineString
    >>> folder = Path(tempfile.mkdtemp())
    >>> gpd.GeoDataFrame(geometry=[LineString([(103.0, 21.4), (103.1, 21.4)])],
    ...                  crs=4326).to_file(folder / "power.gpkg")
    >>> read_power_lines(folder / "power.gpkg").geom_type.tolist()
    ['LineString']
    """
    lines = validate_power_lines(read_layer(path, role="power"), source=str(path))
    if within is None or within.empty:
        return lines
    minx, miny, maxx, maxy = within.to_crs(4326).total_bounds
    pad = POWER_LINE_MARGIN_M / 111_000.0
    area = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    near = lines.geometry.to_crs(4326).intersects(area).to_numpy()
    if not near.any():
        raise InputError(
            f"{path}: none of its {len(lines)} power lines comes within "
            f"{POWER_LINE_MARGIN_M / 1000:.0f} km of {within_source} (lon {minx:.2f}..{maxx:.2f},"
            f" lat {miny:.2f}..{maxy:.2f}); check the layer's CRS and that the file covers "
            "this province"
        )
    if not near.all():
        logger.info("%s: %d of %d power lines are near the study area", path,
                    int(near.sum()), len(lines))
    return lines[near]


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


def grid_power_known(power: pd.Series) -> bool:
    """
    Whether any village's grid power is known: outputs people read show it only then.

    Examples
    --------
    >>> grid_power_known(pd.Series(["unknown", "no"])), grid_power_known(pd.Series(["unknown"]))
    (True, False)
    """
    return bool(power.isin(("yes", "no")).any())


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
