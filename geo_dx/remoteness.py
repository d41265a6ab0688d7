"""Remoteness: travel time from each village to the nearest service centre.

Over a DEM the travel time is a least-cost path (:mod:`geo_dx.least_cost`) across a
friction surface: walking speed slowed by slope (Tobler's hiking function, isotropic form,
scaled so flat ground walks at ``walking_speed_kmh``), and ``road_speed_kmh`` on cells a
road crosses (``track_speed_kmh`` where the only road is a track: a road whose ``highway``
or ``kind`` column says ``"track"``). Without a DEM it falls back to the straight-line
distance walked at ``straight_line_speed_kmh``, and says so in the ``remoteness_method``
column.

Service centres are, first found: a towns layer; the communes' seats (``seat_lon`` /
``seat_lat`` columns in WGS 84 on the communes layer); the communes' representative points.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS
from scipy.spatial import cKDTree

from geo_dx.config import RemotenessConfig
from geo_dx.dem import DemGrid, read_dem
from geo_dx.errors import ConfigError, GeoDxWarning, InputError
from geo_dx.least_cost import compiled, cumulative_cost
from geo_dx.spatial import village_locations, working_crs

logger = logging.getLogger(__name__)

#: Tobler's exponent: speed falls by ``exp(-3.5 * |slope|)``.
TOBLER_EXPONENT = 3.5
#: Slopes are capped here (45 degrees): steeper ground is climbed by switchbacks, not
#: straight up, so Tobler's speed never falls below ``exp(-3.5) ~ 3 %`` of the flat speed.
MAX_SLOPE = 1.0
#: Margin kept around villages and centres when cropping the DEM for the path search.
CROP_MARGIN_M = 10_000.0
#: Columns :func:`travel_time_h` returns.
TRAVEL_COLUMNS: tuple[str, ...] = (
    "travel_time_h", "elevation_m", "distance_m", "remoteness_method", "centre_kind",
)


def service_centres(
    *, towns: gpd.GeoDataFrame | None = None, communes: gpd.GeoDataFrame | None = None
) -> tuple[gpd.GeoSeries, str]:
    """
    Points people travel to for services, and what kind they are.

    Parameters
    ----------
    towns
        Any layer of towns (points or polygons); used when given and not empty.
    communes
        Communes layer: its ``seat_lon`` / ``seat_lat`` (WGS 84) where present, else each
        commune's representative point.

    Returns
    -------
    (points, kind)
        Centre points in the input CRS, and ``"town"``, ``"commune seat"`` or
        ``"commune centre"`` for sentences; ``(empty, "none")`` when nothing was given.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> towns = gpd.GeoDataFrame(geometry=[Point(103.0, 21.4)], crs=4326)
    >>> service_centres(towns=towns)[1]
    'town'
    """
    if towns is not None and len(towns) and towns.geometry.notna().any():
        geom = towns.geometry[towns.geometry.notna() & ~towns.geometry.is_empty]
        return village_locations(geom), "town"
    if communes is not None and len(communes):
        points = village_locations(communes)
        if {"seat_lon", "seat_lat"} <= set(communes.columns):
            seat = communes[["seat_lon", "seat_lat"]].apply(pd.to_numeric, errors="coerce")
            has = seat.notna().all(axis=1)
            if has.any():
                seats = gpd.GeoSeries(
                    gpd.points_from_xy(seat.loc[has, "seat_lon"], seat.loc[has, "seat_lat"]),
                    index=seat.index[has],
                    crs="EPSG:4326",
                ).to_crs(points.crs)
                points = points.copy()
                points.loc[has] = seats
                return points, "commune seat"
        return points, "commune centre"
    return gpd.GeoSeries([], crs="EPSG:4326"), "none"


def tobler_speed_kmh(slope: np.ndarray, *, flat_speed_kmh: float) -> np.ndarray:
    """
    Walking speed on a slope (rise over run), isotropic Tobler: ``flat * exp(-3.5 |slope|)``.

    ``|slope|`` is capped at :data:`MAX_SLOPE`.

    Examples
    --------
    >>> float(tobler_speed_kmh(np.array(0.0), flat_speed_kmh=4.0))
    4.0
    >>> round(float(tobler_speed_kmh(np.array(0.2), flat_speed_kmh=4.0)), 2)
    1.99
    """
    return flat_speed_kmh * np.exp(-TOBLER_EXPONENT * np.minimum(np.abs(slope), MAX_SLOPE))


def friction_h_per_m(
    dem: DemGrid,
    *,
    roads: gpd.GeoDataFrame | None = None,
    config: RemotenessConfig | None = None,
) -> np.ndarray:
    """
    Hours needed to cross one metre of each DEM cell.

    Walking speed is slowed by the cell's slope (when ``config.use_slope``); cells with no
    elevation are walked as flat; cells a road touches are crossed at ``road_speed_kmh``,
    cells only a track touches (``highway`` or ``kind`` is ``"track"``) at
    ``track_speed_kmh``; walking is never slower than the ground allows.

    Examples
    --------
    >>> dem = DemGrid(np.zeros((2, 2)), Affine(100, 0, 0, 0, -100, 200), CRS.from_epsg(32648))
    >>> round(float(friction_h_per_m(dem)[0, 0]), 9)  # 4 km/h on the flat (float32)
    0.00025
    """
    config = config or RemotenessConfig()
    _check_speeds(config)
    elevation = dem.elevation_m
    if config.use_slope and min(elevation.shape) >= 2:
        dz_dy, dz_dx = np.gradient(elevation, abs(dem.transform.e), abs(dem.transform.a))
        slope = np.nan_to_num(np.hypot(dz_dx, dz_dy), nan=0.0)
    else:
        slope = np.zeros(elevation.shape)
    speed_kmh = tobler_speed_kmh(slope, flat_speed_kmh=config.walking_speed_kmh)
    if roads is not None and len(roads):
        track = is_track(roads)
        on_track = _rasterise_roads(roads[track], dem)
        on_road = _rasterise_roads(roads[~track], dem)
        speed_kmh = np.where(on_track, np.maximum(speed_kmh, config.track_speed_kmh), speed_kmh)
        speed_kmh = np.where(on_road, np.maximum(speed_kmh, config.road_speed_kmh), speed_kmh)
        logger.info("roads cover %d and tracks %d more of %d DEM cells", int(on_road.sum()),
                    int((on_track & ~on_road).sum()), on_road.size)
    return (1.0 / (speed_kmh * 1000.0)).astype(np.float32)


def travel_time_h(
    villages: gpd.GeoDataFrame,
    *,
    dem: DemGrid | str | Path | None = None,
    towns: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    communes: gpd.GeoDataFrame | None = None,
    config: RemotenessConfig | None = None,
    crs: object | None = None,
    max_cell_m: float | None = None,
) -> pd.DataFrame:
    """
    Travel time in hours from each village to its nearest service centre.

    Parameters
    ----------
    villages
        Villages (points or polygons; polygons use their representative point).
    dem
        Elevation grid (or a GeoTIFF path). ``None`` falls back to straight-line distance.
    towns, communes
        Where the service centres come from; see :func:`service_centres`.
    roads
        Road lines; their cells are crossed at ``config.road_speed_kmh``, or at
        ``config.track_speed_kmh`` for tracks (see :func:`is_track`).
    config
        Speeds; ``RemotenessConfig()`` by default.
    crs
        The configured working CRS (``Config.crs``); default: see
        :func:`geo_dx.spatial.working_crs`. A DEM grid's own CRS wins.
    max_cell_m
        Search on the DEM averaged to cells of at most this size (``geo-dx run`` uses
        :data:`geo_dx.dem.OVERLAY_CELL_M` = 100 m: walking times gain nothing from a 30 m
        grid, which has 11x more cells); default: the DEM's own cells. ``elevation_m``
        always comes from the DEM as given.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``villages`` with ``travel_time_h`` (NaN when there is no centre),
        ``elevation_m`` (NaN without a DEM), ``distance_m`` (straight line to the nearest
        centre), ``remoteness_method`` (``"terrain"``, ``"straight_line"`` or ``"none"``)
        and ``centre_kind`` (what the centres were: ``"town"``, ``"commune seat"``,
        ``"commune centre"`` or ``"none"``).

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> v = gpd.GeoDataFrame({"village_id": ["a"]}, geometry=[Point(500_000, 2_400_000)],
    ...                      crs=32648)
    >>> t = gpd.GeoDataFrame(geometry=[Point(504_000, 2_400_000)], crs=32648)
    >>> float(travel_time_h(v, towns=t)["travel_time_h"].iloc[0])  # 4 km at 4 km/h
    1.0
    """
    config = config or RemotenessConfig()
    _check_speeds(config)
    if villages.crs is None:
        raise InputError("villages: the layer has no CRS; set one (e.g. EPSG:4326) before scoring")
    centres, kind = service_centres(towns=towns, communes=communes)
    if isinstance(dem, str | Path):
        dem = read_dem(dem, crs=working_crs(villages, crs))
    if dem is not None and not CRS.from_user_input(dem.crs).is_projected:
        raise InputError(
            f"{dem.path}: the DEM grid is in a geographic CRS ({dem.crs}); travel times need "
            "metres. Read it with geo_dx.dem.read_dem(path), which projects it to UTM."
        )
    metric = dem.crs if dem is not None else working_crs(villages, crs)
    out = pd.DataFrame(
        {
            "travel_time_h": np.nan,
            "elevation_m": np.nan,
            "distance_m": np.nan,
            "remoteness_method": "none",
            "centre_kind": kind,
        },
        index=villages.index,
    )
    if len(villages) == 0:
        return out
    xy = _xy(village_locations(villages).to_crs(metric))
    if dem is not None:
        out["elevation_m"] = dem.sample(xy)
    if len(centres) == 0:
        warnings.warn(
            "remoteness: no service centres (no towns layer, no communes); the remoteness "
            "component is missing for every village. Give --towns or a communes layer.",
            GeoDxWarning,
            stacklevel=2,
        )
        return out
    cxy = _xy(centres.to_crs(metric))
    distance_m, _ = cKDTree(cxy).query(xy)
    out["distance_m"] = distance_m
    straight_h = distance_m / (config.straight_line_speed_kmh * 1000.0)
    if dem is None:
        logger.info("no DEM: remoteness is straight-line distance at %s km/h",
                    config.straight_line_speed_kmh)
        out["travel_time_h"] = straight_h
        out["remoteness_method"] = "straight_line"
        return out
    hours = _terrain_hours(dem, xy, cxy, roads=roads, config=config, max_cell_m=max_cell_m)
    terrain = np.isfinite(hours)
    out["travel_time_h"] = np.where(terrain, hours, straight_h)
    out["remoteness_method"] = np.where(terrain, "terrain", "straight_line")
    if not terrain.all():
        warnings.warn(
            f"remoteness: {int((~terrain).sum())} of {len(terrain)} villages lie outside the "
            f"DEM {dem.path} (or cannot reach a centre on it); their travel time is the "
            "straight-line estimate. Use a DEM that covers every village.",
            GeoDxWarning,
            stacklevel=2,
        )
    return out


def remoteness_summary(travel: pd.DataFrame, villages: pd.Series | None = None) -> dict:
    """
    How remoteness was measured, for the run summary: method, centres, villages by method.

    Parameters
    ----------
    travel
        Output of :func:`travel_time_h`.
    villages
        Boolean mask of the villages to count (e.g. the gap villages); default all.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> v = gpd.GeoDataFrame(geometry=[Point(500_000, 2_400_000)], crs=32648)
    >>> t = gpd.GeoDataFrame(geometry=[Point(504_000, 2_400_000)], crs=32648)
    >>> remoteness_summary(travel_time_h(v, towns=t))["villages_by_method"]
    {'straight_line': 1}
    """
    rows = travel if villages is None else travel[villages.reindex(travel.index, fill_value=False)]
    counts = rows["remoteness_method"].value_counts().to_dict()
    method = "none" if not counts else next(iter(counts)) if len(counts) == 1 else "mixed"
    kinds = travel["centre_kind"].unique()
    summary = {
        "method": method,
        "centres": str(kinds[0]) if len(kinds) == 1 else "unknown",
        "villages_by_method": {str(k): int(v) for k, v in counts.items()},
    }
    if method == "straight_line":
        summary["note"] = ("no DEM: remoteness is the straight-line distance to the nearest "
                           "centre, not a travel time over terrain")
    return summary


def _terrain_hours(
    dem: DemGrid,
    xy: np.ndarray,
    cxy: np.ndarray,
    *,
    roads: gpd.GeoDataFrame | None,
    config: RemotenessConfig,
    max_cell_m: float | None = None,
) -> np.ndarray:
    """Least-cost hours from the nearest centre cell to each point; inf/NaN when unreachable."""
    grid = _crop(dem, np.vstack([xy, cxy]))
    if max_cell_m is not None:
        grid = grid.coarsened(max_cell_m)
    cost = friction_h_per_m(grid, roads=roads, config=config)
    rows, cols = _cells(grid, cxy)
    inside = _inside(grid, rows, cols)
    if not inside.any():
        return np.full(len(xy), np.nan)
    starts = np.unique(np.column_stack([rows[inside], cols[inside]]), axis=0)
    cumulative = cumulative_cost(cost, starts,
                                 sampling=(abs(grid.transform.e), abs(grid.transform.a)))
    logger.info("travel-time search over %d x %d cells (%.0f m) from %d centre cells (%s)",
                *grid.shape, grid.cell_size_m, len(starts),
                "compiled, tiled" if compiled() else "scikit-image")
    vrows, vcols = _cells(grid, xy)
    vin = _inside(grid, vrows, vcols)
    hours = np.full(len(xy), np.nan)
    hours[vin] = cumulative[vrows[vin], vcols[vin]]
    return hours


def _crop(dem: DemGrid, xy: np.ndarray) -> DemGrid:
    """The part of ``dem`` around the points, with a margin, so the search stays small."""
    margin = max(CROP_MARGIN_M, 10 * dem.cell_size_m)
    rows, cols = dem.rowcol(
        np.array([[xy[:, 0].min() - margin, xy[:, 1].max() + margin],
                  [xy[:, 0].max() + margin, xy[:, 1].min() - margin]])
    )
    nrows, ncols = dem.shape
    r0 = int(np.clip(np.floor(rows.min()), 0, nrows))
    r1 = int(np.clip(np.ceil(rows.max()) + 1, 0, nrows))
    c0 = int(np.clip(np.floor(cols.min()), 0, ncols))
    c1 = int(np.clip(np.ceil(cols.max()) + 1, 0, ncols))
    if (r0, r1, c0, c1) == (0, nrows, 0, ncols) or r1 <= r0 or c1 <= c0:
        return dem
    transform = dem.transform @ Affine.translation(c0, r0)
    return DemGrid(dem.elevation_m[r0:r1, c0:c1], transform, dem.crs, dem.path)


def is_track(roads: gpd.GeoDataFrame) -> np.ndarray:
    """
    Which roads are tracks: ``highway`` or ``kind`` is ``"track"`` (any case).

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> line = LineString([(0, 0), (1, 0)])
    >>> roads = gpd.GeoDataFrame({"kind": ["main", "Track", None]}, geometry=[line] * 3)
    >>> is_track(roads).tolist()
    [False, True, False]
    """
    out = np.zeros(len(roads), dtype=bool)
    for column in ("highway", "kind"):
        if column in roads.columns:
            out |= (roads[column].astype("string").str.strip().str.lower() == "track"
                    ).fillna(False).to_numpy(dtype=bool)
    return out


def _rasterise_roads(roads: gpd.GeoDataFrame, dem: DemGrid) -> np.ndarray:
    from rasterio.features import rasterize

    if roads.crs is None:
        raise InputError("roads: the layer has no CRS; set one (e.g. EPSG:4326)")
    geoms = roads.geometry.to_crs(dem.crs)
    shapes = [(g, 1) for g in geoms if g is not None and not g.is_empty]
    if not shapes:
        return np.zeros(dem.shape, dtype=bool)
    burned = rasterize(shapes, out_shape=dem.shape, transform=dem.transform, fill=0,
                       all_touched=True, dtype="uint8")
    return burned.astype(bool)


def _cells(dem: DemGrid, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = dem.rowcol(xy)
    return np.rint(rows).astype(np.int64), np.rint(cols).astype(np.int64)


def _inside(dem: DemGrid, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return (rows >= 0) & (rows < dem.shape[0]) & (cols >= 0) & (cols < dem.shape[1])


def _xy(points: gpd.GeoSeries) -> np.ndarray:
    return np.column_stack([points.x.to_numpy(), points.y.to_numpy()])


def _check_speeds(config: RemotenessConfig) -> None:
    for name in ("walking_speed_kmh", "road_speed_kmh", "track_speed_kmh",
                 "straight_line_speed_kmh"):
        value = getattr(config, name)
        if not value > 0:
            raise ConfigError(f"remoteness.{name} was {value!r}; it must be a speed > 0 km/h")
