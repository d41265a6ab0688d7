"""The terrain coverage raster: every cell some mobile site sees, by a radial sweep.

For each site a radial sweep runs inside its reach window: rays to the window perimeter
(one per perimeter cell, so rays are at most a cell apart), each sampled every
``sample_step_m`` with a running maximum of the obstruction angle. A cell is covered when
the angle to a receiver above it is at least the horizon read from the two rays either side
of it. This is the criterion of :func:`geo_dx.signal.terrain.line_of_sight` evaluated on ray
samples instead of on the cell's own path, so the two differ only where visibility changes
within about a cell (see :func:`viewshed_union`).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import rasterio

from geo_dx.atomic import atomic_path
from geo_dx.config import TerrainConfig
from geo_dx.dem import DemGrid
from geo_dx.errors import InputError
from geo_dx.forked import fork_map, usable_cores
from geo_dx.schema import EARTH_RADIUS_M
from geo_dx.signal.terrain import per_point, sample_step_m

logger = logging.getLogger(__name__)


def viewshed_union(
    dem: DemGrid,
    sites_xy: np.ndarray,
    antenna_height_m: np.ndarray,
    reach_m: np.ndarray,
    *,
    config: TerrainConfig | None = None,
) -> np.ndarray:
    """
    Cells within reach of some site and in its line of sight (a coverage mask).

    For each site a radial sweep runs inside its reach window: rays to the window
    perimeter (one per perimeter cell, so rays are at most a cell apart), each sampled
    every ``sample_step_m`` with a running maximum of the obstruction angle (terrain +
    clearance, lowered by the earth curvature term ``d² / (2 k R)``). A cell is covered
    when the angle to a receiver ``config.receiver_height_m`` above its centre is at
    least the horizon up to half a step before the cell, interpolated between the two
    rays either side of it. Cells with no elevation within reach count as covered
    (unknown terrain never blocks).

    This is the criterion of :func:`geo_dx.signal.terrain.line_of_sight` (the angle form of
    "terrain + bulge + clearance below the line"), but the obstruction is read from ray
    samples: at most a cell to the side of the cell's own path (rays are at most a cell
    apart at the reach) and at multiples of the step rather than at the path's own
    ``D / (m + 1)`` spacing. Where the terrain's margin to the line is smaller than what a
    one-cell shift changes, the two may answer differently; such a cell always sits where
    visibility changes within one cell (on the edge of either viewshed). That is about
    0.2 % of cells on smooth terrain and up to ~2 % for a low antenna on hilly ground.

    Parameters
    ----------
    dem
        Elevation grid; ``sites_xy`` is in its CRS.
    sites_xy
        Array (n, 2) of site coordinates.
    antenna_height_m, reach_m
        Per-site antenna height above ground (NaN: ``config.antenna_height_m``) and
        reach, arrays (n,) or scalars.
    config
        ``receiver_height_m``, ``k_factor``, ``clearance_m``, ``sample_step_m``.

    Returns
    -------
    numpy.ndarray
        Boolean grid of ``dem.shape``.

    Examples
    --------
    >>> from affine import Affine
    >>> from pyproj import CRS
    >>> flat = DemGrid(np.zeros((21, 21)), Affine(100, 0, 0, 0, -100, 2100),
    ...                CRS.from_epsg(32648))
    >>> mask = viewshed_union(flat, np.array([[1050.0, 1050.0]]), 30.0, 500.0)
    >>> int(mask.sum())  # cells whose centre is within 500 m: 81 (a disc of radius 5 cells)
    81
    """
    config = config or TerrainConfig()
    sites = np.asarray(sites_xy, dtype=float).reshape(-1, 2)
    n = len(sites)
    heights = per_point(antenna_height_m, n, "antenna_height_m", fill=config.antenna_height_m)
    reaches = per_point(reach_m, n, "reach_m")
    if np.any(reaches < 0) or np.any(~np.isfinite(reaches)):
        raise InputError(
            f"viewshed_union: reach_m must be finite and >= 0, got min {np.nanmin(reaches)}; "
            "fill reach_m from the coverage defaults first"
        )
    dem.require_north_up()
    step_m = sample_step_m(dem, config)
    antenna_z_m = dem.sample(sites, clamp=True) + heights
    shared = (dem, sites, antenna_z_m, reaches, step_m, config)
    if n < _PARALLEL_MIN_SITES:
        out = _sweep_sites(shared, np.arange(n))
    else:  # one forked process per core, each over every k-th site; their masks ORed
        cores = usable_cores()
        packed = fork_map(_sweep_sites_packed, shared,
                          [np.arange(k, n, cores) for k in range(cores)], min_jobs=2)
        out = np.zeros(dem.shape, dtype=bool)
        for part in packed:
            out |= np.unpackbits(part, count=out.size).reshape(out.shape).astype(bool)
    logger.info("viewshed_union: %d sites cover %d of %d cells", n, int(out.sum()), out.size)
    return out


#: From this many sites the sweeps are spread over the cores (forked processes).
_PARALLEL_MIN_SITES = 2_000


def _sweep_sites(shared: tuple, which: np.ndarray) -> np.ndarray:
    """The union of the viewsheds of sites ``which`` (``shared``: see viewshed_union)."""
    dem, sites, antenna_z_m, reaches, step_m, config = shared
    out = np.zeros(dem.shape, dtype=bool)
    for i in which:
        _sweep_site(dem, out, sites[i], antenna_z_m[i], reaches[i], step_m=step_m,
                    config=config)
    return out


def _sweep_sites_packed(shared: tuple, which: np.ndarray) -> np.ndarray:
    """:func:`_sweep_sites` as packed bits (an eighth of the bytes to send back)."""
    return np.packbits(_sweep_sites(shared, which), axis=None)


def _sweep_site(
    dem: DemGrid,
    out: np.ndarray,
    site: np.ndarray,
    antenna_z_m: float,
    reach_m: float,
    *,
    step_m: float,
    config: TerrainConfig,
) -> None:
    """OR one site's viewshed into ``out`` (radial sweep over its reach window)."""
    window = _reach_window(dem, site, reach_m)
    if window is None:
        return
    rows, cols = window
    tf = dem.transform
    cx = tf.c + (cols + 0.5) * tf.a
    cy = tf.f + (rows + 0.5) * tf.e
    dx = cx[None, :] - site[0]
    dy = cy[:, None] - site[1]
    dist = np.hypot(dx, dy)
    in_reach = dist <= reach_m
    if not np.isfinite(antenna_z_m):
        out[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] |= in_reach
        return
    two_kr = 2.0 * config.k_factor * EARTH_RADIUS_M

    n_steps = max(int(math.ceil(reach_m / step_m)), 1)
    n_rays = max(int(math.ceil(2.0 * math.pi * reach_m / min(abs(tf.a), abs(tf.e)))), 8)
    theta = np.arange(n_rays) * (2.0 * math.pi / n_rays)
    d = np.arange(1, n_steps + 1) * step_m
    rx = site[0] + np.cos(theta)[:, None] * d[None, :]
    ry = site[1] + np.sin(theta)[:, None] * d[None, :]
    z = dem.sample_xy(rx, ry)
    angle = (z + config.clearance_m - d**2 / two_kr - antenna_z_m) / d
    running = np.maximum.accumulate(np.where(np.isnan(angle), -np.inf, angle), axis=1)
    # horizon[k, l]: highest obstruction angle among the first l samples of ray k
    horizon = np.concatenate([np.full((n_rays, 1), -np.inf), running], axis=1)

    block = dem.elevation_m[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    # interpolate the horizon between the two rays either side of the cell, using the
    # samples up to half a step before the cell (line_of_sight's last interior sample
    # lies between half a step and a step before its target)
    ray = np.arctan2(dy, dx) * (n_rays / (2.0 * math.pi))
    k0 = np.floor(ray).astype(np.int64)
    weight = ray - k0
    k0 %= n_rays
    k1 = (k0 + 1) % n_rays
    used = np.clip(np.floor(dist / step_m - 0.5), 0, n_steps).astype(np.int64)
    h0 = horizon[k0, used]
    h1 = horizon[k1, used]
    with np.errstate(invalid="ignore"):
        cell_horizon = np.where(
            np.isinf(h0) | np.isinf(h1), np.maximum(h0, h1), h0 * (1 - weight) + h1 * weight
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        target = (block + config.receiver_height_m - dist**2 / two_kr - antenna_z_m) / dist
    visible = (target >= cell_horizon) | np.isnan(block) | (dist == 0)
    out[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] |= in_reach & visible


def _reach_window(
    dem: DemGrid, site: np.ndarray, reach_m: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Row and column indices of the grid cells in the bounding box of a site's reach."""
    tf = dem.transform
    nrows, ncols = dem.shape
    col = (site[0] - tf.c) / tf.a
    row = (site[1] - tf.f) / tf.e
    half_c = reach_m / abs(tf.a)
    half_r = reach_m / abs(tf.e)
    c0 = max(int(math.floor(col - half_c)), 0)
    c1 = min(int(math.ceil(col + half_c)), ncols - 1)
    r0 = max(int(math.floor(row - half_r)), 0)
    r1 = min(int(math.ceil(row + half_r)), nrows - 1)
    if c0 > c1 or r0 > r1:
        return None
    return np.arange(r0, r1 + 1), np.arange(c0, c1 + 1)


def write_coverage_raster(path: str | Path, dem: DemGrid, mask: np.ndarray) -> Path:
    """
    Write a coverage mask as a uint8 GeoTIFF on the DEM's grid (1 covered, 0 not).

    Written atomically with DEFLATE compression.

    Examples
    --------
    >>> import tempfile
    >>> from affine import Affine
    >>> from pyproj import CRS
    >>> flat = DemGrid(np.zeros((3, 3)), Affine(100, 0, 0, 0, -100, 300), CRS.from_epsg(32648))
    >>> path = write_coverage_raster(Path(tempfile.mkdtemp()) / "c.tif", flat,
    ...                              np.eye(3, dtype=bool))
    >>> with rasterio.open(path) as src:
    ...     src.read(1).tolist()
    [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    """
    mask = np.asarray(mask)
    if mask.shape != dem.shape:
        raise InputError(
            f"write_coverage_raster: mask shape {mask.shape} differs from the DEM grid "
            f"{dem.shape} ({dem.path}); compute the mask with viewshed_union on the same DEM"
        )
    path = Path(path)
    profile = {
        "driver": "GTiff",
        "height": dem.shape[0],
        "width": dem.shape[1],
        "count": 1,
        "dtype": "uint8",
        "crs": dem.crs.to_wkt(),
        "transform": dem.transform,
        "compress": "deflate",
    }
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(mask.astype(np.uint8), 1)
            dst.update_tags(1, meaning="1 covered, 0 not covered")
    logger.info("wrote coverage raster %s (%d covered cells)", path, int(mask.sum()))
    return path
