"""Terrain-aware mobile coverage: line of sight between antennas and receivers over a DEM.

A mobile site covers a place when the place is within the site's reach and the straight
line from the antenna (ground + antenna height) to a receiver (ground + receiver height)
clears the terrain. Earth curvature and refraction use an effective earth radius
``k * R`` (``k`` = 4/3, R = 6,371 km): a point ``d1`` from one end and ``d2`` from the other
is raised by ``d1 * d2 / (2 k R)``. On flat ground this gives the radio horizon
``d ≈ 4.12 (√h1 + √h2)`` km for heights in metres.

Terrain that is unknown (off the DEM, or DEM nodata) never blocks a path: where we cannot
see the ground we fall back to the plain radius model rather than invent an obstacle.
The coverage raster (every cell a site sees) is :mod:`geo_dx.signal.viewshed`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from geo_dx.config import TerrainConfig
from geo_dx.dem import DemGrid
from geo_dx.errors import InputError
from geo_dx.schema import EARTH_RADIUS_M

logger = logging.getLogger(__name__)

#: Path samples evaluated per vectorised chunk in :func:`line_of_sight` (bounds memory).
_CHUNK_SAMPLES = 1 << 21


def line_of_sight(
    dem: DemGrid,
    from_xy: np.ndarray,
    from_height_m: np.ndarray | float,
    to_xy: np.ndarray,
    to_height_m: np.ndarray | float,
    *,
    config: TerrainConfig | None = None,
) -> np.ndarray:
    """
    Whether each straight path from an antenna to a receiver clears the terrain.

    The antenna stands ``from_height_m`` above the ground at ``from_xy``, the receiver
    ``to_height_m`` above the ground at ``to_xy``. The DEM is sampled bilinearly at
    evenly spaced interior points no more than ``config.sample_step_m`` apart (default:
    the DEM cell size). A path is blocked when, at any interior point, terrain plus
    earth bulge ``d1 d2 / (2 k R)`` plus ``config.clearance_m`` rises above the line.
    A path that just grazes the terrain (equality) is clear.

    Unknown terrain does not block: interior samples off the DEM or on nodata are
    ignored; an endpoint off the DEM takes the elevation of the nearest edge cell; a
    pair whose endpoint elevation is still unknown is reported clear (radius model).

    Parameters
    ----------
    dem
        Elevation grid; coordinates are in its CRS.
    from_xy, to_xy
        Arrays (n, 2) of x, y in ``dem.crs``.
    from_height_m, to_height_m
        Heights above ground, scalars or arrays (n,); NaN means
        ``config.antenna_height_m`` / ``config.receiver_height_m``.
    config
        ``k_factor``, ``clearance_m`` and ``sample_step_m`` are used.

    Returns
    -------
    numpy.ndarray
        Boolean (n,), True where the path is clear.

    Examples
    --------
    >>> from affine import Affine
    >>> from pyproj import CRS
    >>> flat = DemGrid(np.zeros((50, 50)), Affine(1000, 0, 0, 0, -1000, 50000),
    ...                CRS.from_epsg(32648))
    >>> site = np.array([[1000.0, 25000.0], [1000.0, 25000.0]])
    >>> villages = np.array([[27000.0, 25000.0], [30000.0, 25000.0]])  # 26 km and 29 km
    >>> line_of_sight(flat, site, 30.0, villages, 1.5)  # radio horizon ≈ 27.6 km
    array([ True, False])
    """
    top = highest_obstruction(dem, from_xy, from_height_m, to_xy, to_height_m, config=config)
    return ~(top.excess_m > 0)  # NaN (unknown terrain) is not > 0: clear


class Obstruction(NamedTuple):
    """The highest point of each path above its line of sight (see :func:`highest_obstruction`)."""

    #: How far the point (terrain + earth bulge + clearance) rises above the line; > 0 blocks.
    excess_m: np.ndarray
    #: The point's location in the DEM's CRS.
    x: np.ndarray
    y: np.ndarray
    #: Ground elevation of the DEM at the point.
    elevation_m: np.ndarray
    #: Distance from the receiver end (``to_xy``) of the path.
    distance_to_m: np.ndarray


def highest_obstruction(
    dem: DemGrid,
    from_xy: np.ndarray,
    from_height_m: np.ndarray | float,
    to_xy: np.ndarray,
    to_height_m: np.ndarray | float,
    *,
    config: TerrainConfig | None = None,
) -> Obstruction:
    """
    For each path, the profile point that rises highest above the line of sight.

    The same profile as :func:`line_of_sight` (same samples, earth bulge and clearance),
    so a path is blocked exactly when its ``excess_m`` is above 0. Pairs with no known
    interior sample (too short, unknown endpoint elevation, all samples off the DEM) get
    NaN everywhere.

    Parameters
    ----------
    dem, from_xy, from_height_m, to_xy, to_height_m, config
        As for :func:`line_of_sight`.

    Returns
    -------
    Obstruction
        Arrays (n,): ``excess_m``, ``x``, ``y``, ``elevation_m`` and ``distance_to_m``.

    Examples
    --------
    >>> from affine import Affine
    >>> from pyproj import CRS
    >>> z = np.zeros((1, 60))
    >>> z[0, 30] = 500.0  # a ridge 500 m high, 3 km east of x = 0
    >>> dem = DemGrid(z, Affine(100, 0, -50, 0, -100, 50), CRS.from_epsg(32648))
    >>> top = highest_obstruction(dem, np.array([[1000.0, 0.0]]), 30.0,
    ...                           np.array([[5000.0, 0.0]]), 1.5)
    >>> float(top.x[0]), float(top.elevation_m[0]), float(top.distance_to_m[0])
    (3000.0, 500.0, 2000.0)
    >>> bool(top.excess_m[0] > 0), bool(line_of_sight(dem, np.array([[1000.0, 0.0]]), 30.0,
    ...                                               np.array([[5000.0, 0.0]]), 1.5)[0])
    (True, False)
    """
    config = config or TerrainConfig()
    n = len(np.asarray(from_xy, dtype=float).reshape(-1, 2))
    out = Obstruction(*(np.full(n, np.nan) for _ in Obstruction._fields))
    for idx, profile in _profiles(dem, from_xy, from_height_m, to_xy, to_height_m, config):
        known = ~np.isnan(profile.excess_m).all(axis=1)
        rows = np.flatnonzero(known)
        k = np.nanargmax(profile.excess_m[rows], axis=1)
        t = profile.t[rows, k]
        for field, values in (
            ("excess_m", profile.excess_m[rows, k]),
            ("x", profile.x[rows, k]),
            ("y", profile.y[rows, k]),
            ("elevation_m", profile.terrain_m[rows, k]),
            ("distance_to_m", (1.0 - t) * profile.dist_m[rows]),
        ):
            getattr(out, field)[idx[rows]] = values
    return out


class _Profile(NamedTuple):
    """Sampled paths of one chunk, padded to the longest (padding: NaN excess)."""

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    terrain_m: np.ndarray
    excess_m: np.ndarray
    dist_m: np.ndarray


def _profiles(
    dem: DemGrid,
    from_xy: np.ndarray,
    from_height_m: np.ndarray | float,
    to_xy: np.ndarray,
    to_height_m: np.ndarray | float,
    config: TerrainConfig,
) -> Iterator[tuple[np.ndarray, _Profile]]:
    """Terrain profiles of the pairs with known endpoints, in memory-bounded chunks."""
    a = np.asarray(from_xy, dtype=float).reshape(-1, 2)
    b = np.asarray(to_xy, dtype=float).reshape(-1, 2)
    if len(a) != len(b):
        raise InputError(
            f"line_of_sight: from_xy has {len(a)} points but to_xy has {len(b)}; "
            "give one antenna and one receiver per pair"
        )
    n = len(a)
    ha = per_point(from_height_m, n, "from_height_m", fill=config.antenna_height_m)
    hb = per_point(to_height_m, n, "to_height_m", fill=config.receiver_height_m)
    step_m = sample_step_m(dem, config)
    two_kr = 2.0 * config.k_factor * EARTH_RADIUS_M
    za = dem.sample(a, clamp=True) + ha
    zb = dem.sample(b, clamp=True) + hb
    dist_m = np.hypot(b[:, 0] - a[:, 0], b[:, 1] - a[:, 1])
    interior = np.maximum(np.ceil(dist_m / step_m).astype(np.int64) - 1, 0)

    todo = np.flatnonzero(np.isfinite(za) & np.isfinite(zb) & (interior > 0))
    if len(todo) < n:
        unknown = int(np.count_nonzero(~(np.isfinite(za) & np.isfinite(zb))))
        if unknown:
            logger.info(
                "line_of_sight: %d pairs with unknown endpoint elevation kept clear", unknown
            )
    order = todo[np.argsort(interior[todo], kind="stable")]
    start = 0
    while start < len(order):
        end = _chunk_end(interior[order], start)
        idx = order[start:end]
        yield idx, _profile_chunk(
            dem,
            a[idx],
            b[idx],
            za[idx],
            zb[idx],
            dist_m[idx],
            interior[idx],
            two_kr=two_kr,
            clearance_m=config.clearance_m,
        )
        start = end


def _profile_chunk(
    dem: DemGrid,
    a: np.ndarray,
    b: np.ndarray,
    za: np.ndarray,
    zb: np.ndarray,
    dist_m: np.ndarray,
    interior: np.ndarray,
    *,
    two_kr: float,
    clearance_m: float,
) -> _Profile:
    """Profiles for pairs with similar sample counts, padded to the longest."""
    j = np.arange(1, int(interior.max()) + 1)
    valid = j[None, :] <= interior[:, None]
    t = np.where(valid, j[None, :] / (interior[:, None] + 1.0), 0.5)
    x = a[:, 0, None] + t * (b[:, 0] - a[:, 0])[:, None]
    y = a[:, 1, None] + t * (b[:, 1] - a[:, 1])[:, None]
    terrain = dem.sample_xy(x, y)
    line = za[:, None] + t * (zb - za)[:, None]
    bulge = t * (1.0 - t) * (dist_m**2)[:, None] / two_kr
    excess = np.where(valid, terrain + bulge + clearance_m - line, np.nan)  # NaN: unknown
    return _Profile(t, x, y, terrain, excess, dist_m)


def _chunk_end(sorted_counts: np.ndarray, start: int) -> int:
    """End of a chunk of pairs starting at ``start`` whose padded size fits the budget."""
    total = len(sorted_counts)
    end = min(total, start + max(1, _CHUNK_SAMPLES // max(int(sorted_counts[start]), 1)))
    while end - start > 1 and (end - start) * int(sorted_counts[end - 1]) > _CHUNK_SAMPLES:
        end = start + max(1, _CHUNK_SAMPLES // int(sorted_counts[end - 1]))
    return end


def visible_pairs(
    dem: DemGrid,
    sites_xy: np.ndarray,
    antenna_height_m: np.ndarray | float,
    reach_m: np.ndarray | float,
    targets_xy: np.ndarray,
    *,
    config: TerrainConfig | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """
    Site-target pairs within the site's reach and in line of sight.

    Candidate pairs come from a KD-tree query (each site with its own reach); the
    candidates are then checked with :func:`line_of_sight` for a receiver
    ``config.receiver_height_m`` above each target.

    Parameters
    ----------
    dem
        Elevation grid; coordinates are in its CRS.
    sites_xy
        Array (n, 2) of site coordinates.
    antenna_height_m, reach_m
        Per-site antenna height (NaN: ``config.antenna_height_m``) and reach in metres.
    targets_xy
        Array (m, 2) of receiver locations (village points).
    config
        Terrain options.

    Returns
    -------
    tuple of numpy.ndarray
        ``(site_index, target_index)``: positional indices of the covering pairs.

    Examples
    --------
    >>> from affine import Affine
    >>> from pyproj import CRS
    >>> flat = DemGrid(np.zeros((10, 10)), Affine(100, 0, 0, 0, -100, 1000),
    ...                CRS.from_epsg(32648))
    >>> sites, targets = visible_pairs(flat, np.array([[50.0, 50.0]]), 30.0, 300.0,
    ...                                np.array([[250.0, 50.0], [950.0, 950.0]]))
    >>> sites.tolist(), targets.tolist()
    ([0], [0])
    """
    config = config or TerrainConfig()
    sites = np.asarray(sites_xy, dtype=float).reshape(-1, 2)
    targets = np.asarray(targets_xy, dtype=float).reshape(-1, 2)
    heights = per_point(antenna_height_m, len(sites), "antenna_height_m",
                        fill=config.antenna_height_m)
    site_idx, target_idx = pairs_in_reach(sites, reach_m, targets)
    if len(site_idx) == 0:
        return site_idx, target_idx
    clear = line_of_sight(
        dem,
        sites[site_idx],
        heights[site_idx],
        targets[target_idx],
        config.receiver_height_m,
        config=config,
    )
    logger.info(
        "visible_pairs: %d of %d pairs in reach are in line of sight", int(clear.sum()), len(clear)
    )
    return site_idx[clear], target_idx[clear]


def pairs_in_reach(
    sites_xy: np.ndarray, reach_m: np.ndarray | float, targets_xy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """
    Site-target pairs with the target within the site's reach (a KD-tree query).

    Sites or targets with non-finite coordinates, and sites with a NaN reach, take
    part in no pair.

    Returns
    -------
    tuple of numpy.ndarray
        ``(site_index, target_index)``, grouped by site.

    Examples
    --------
    >>> s, t = pairs_in_reach(np.array([[0.0, 0.0]]), 300.0,
    ...                       np.array([[200.0, 0.0], [400.0, 0.0]]))
    >>> s.tolist(), t.tolist()
    ([0], [0])
    """
    from scipy.spatial import cKDTree

    sites = np.asarray(sites_xy, dtype=float).reshape(-1, 2)
    targets = np.asarray(targets_xy, dtype=float).reshape(-1, 2)
    reaches = per_point(reach_m, len(sites), "reach_m")
    empty = np.zeros(0, dtype=np.int64)
    usable = np.isfinite(reaches) & np.all(np.isfinite(sites), axis=1)
    finite_targets = np.flatnonzero(np.all(np.isfinite(targets), axis=1))
    if not usable.any() or len(finite_targets) == 0:
        return empty, empty
    tree = cKDTree(targets[finite_targets])
    site_ids = np.flatnonzero(usable)
    hits = tree.query_ball_point(sites[site_ids], r=reaches[site_ids])
    counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
    if counts.sum() == 0:
        return empty, empty
    site_idx = np.repeat(site_ids, counts)
    target_idx = finite_targets[np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])]
    return site_idx, target_idx


def sample_step_m(dem: DemGrid, config: TerrainConfig) -> float:
    """Distance between path samples: ``config.sample_step_m``, else the DEM cell size."""
    step = config.sample_step_m if config.sample_step_m is not None else dem.cell_size_m
    if not step > 0:
        raise InputError(f"terrain.sample_step_m was {step!r}; give a positive number of metres")
    return float(step)


def per_point(
    value: np.ndarray | float, n: int, name: str, *, fill: float | None = None
) -> np.ndarray:
    """One float per point from a scalar or an array; NaN replaced by ``fill`` if given."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    arr = arr.reshape(-1)
    if fill is not None:
        arr = np.where(np.isnan(arr), fill, arr)
    if len(arr) != n:
        raise InputError(
            f"{name} has {len(arr)} values for {n} points; give one per point or a scalar"
        )
    return arr
