"""Benchmark terrain-aware coverage on a demo-sized province.

Times :func:`geo_dx.signal.viewshed.viewshed_union` (radial sweep) for ~300 sites with reach
5-15 km on a ~1,000 x 1,000 DEM at 100 m, against a baseline measured in the same run:
per-cell :func:`~geo_dx.signal.terrain.line_of_sight` to every cell in reach (exact, vectorised
over cells) for a subset of sites, scaled to all sites by cells in reach x mean path
length. Also times line_of_sight over 20,000 site-village pairs.

Run: ``.venv/bin/python benchmarks/bench_terrain.py [--sites 300] [--baseline-sites 4]``.
Uses ``data/terrain/dem.tif`` when it exists, else a synthetic ridged DEM.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
from affine import Affine
from pyproj import CRS
from scipy.ndimage import gaussian_filter

from geo_dx.dem import DemGrid, read_dem
from geo_dx.signal.terrain import line_of_sight, visible_pairs
from geo_dx.signal.viewshed import viewshed_union

logger = logging.getLogger("bench_terrain")
DEM_PATH = Path(__file__).resolve().parents[1] / "data" / "terrain" / "dem.tif"


def synthetic_dem(size: int = 1000, cell_m: float = 100.0, seed: int = 1) -> DemGrid:
    """Ridges (oriented sine waves, 4-12 km apart) plus smoothed noise, 300-2,200 m."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] * cell_m
    z = np.full((size, size), 1000.0)
    for _ in range(5):
        theta = rng.uniform(0, np.pi)
        wavelength = rng.uniform(4000, 12000)
        phase = rng.uniform(0, 2 * np.pi)
        z += rng.uniform(100, 250) * np.sin(
            2 * np.pi * (xx * np.cos(theta) + yy * np.sin(theta)) / wavelength + phase
        )
    z += gaussian_filter(rng.normal(0, 1, (size, size)), 3) * 600
    transform = Affine(cell_m, 0, 300_000, 0, -cell_m, 2_450_000)
    return DemGrid(z, transform, CRS.from_epsg(32648), "<synthetic>")


def cells_in_reach(dem: DemGrid, site: np.ndarray, reach_m: float) -> np.ndarray:
    tf = dem.transform
    rows, cols = np.mgrid[0 : dem.shape[0], 0 : dem.shape[1]]
    x = tf.c + (cols + 0.5) * tf.a
    y = tf.f + (rows + 0.5) * tf.e
    inside = np.hypot(x - site[0], y - site[1]) <= reach_m
    return np.column_stack([x[inside], y[inside]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=300)
    parser.add_argument("--baseline-sites", type=int, default=4)
    parser.add_argument("--pairs", type=int, default=20_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    dem = read_dem(DEM_PATH) if DEM_PATH.exists() else synthetic_dem()
    print(
        f"DEM {dem.path}: {dem.shape[0]} x {dem.shape[1]} cells at {dem.cell_size_m:.0f} m, "
        f"elevation {np.nanmin(dem.elevation_m):.0f}-{np.nanmax(dem.elevation_m):.0f} m"
    )
    rng = np.random.default_rng(7)
    left, top = dem.transform.c, dem.transform.f
    width_m = dem.shape[1] * dem.transform.a
    height_m = dem.shape[0] * -dem.transform.e
    sites = np.column_stack(
        [left + rng.uniform(0, width_m, args.sites), top - rng.uniform(0, height_m, args.sites)]
    )
    heights = np.full(args.sites, 30.0)
    reach = rng.uniform(5000, 15000, args.sites)

    start = time.perf_counter()
    mask = viewshed_union(dem, sites, heights, reach)
    sweep_s = time.perf_counter() - start
    print(
        f"viewshed_union: {args.sites} sites, reach 5-15 km: {sweep_s:.1f} s "
        f"({mask.mean():.1%} of cells covered)"
    )

    # baseline: exact per-cell line of sight, for a few sites, scaled by work (cells x path)
    work = np.pi * reach**2 * (2 / 3 * reach)  # ∝ cells in reach x mean path length
    start = time.perf_counter()
    agree = total = 0
    for i in range(args.baseline_sites):
        cells = cells_in_reach(dem, sites[i], reach[i])
        los = line_of_sight(
            dem, np.repeat(sites[i : i + 1], len(cells), axis=0), heights[i], cells, 1.5
        )
        single = viewshed_union(dem, sites[i : i + 1], heights[i], reach[i])
        tf = dem.transform
        cols = ((cells[:, 0] - tf.c) / tf.a).astype(int)
        rows = ((cells[:, 1] - tf.f) / tf.e).astype(int)
        agree += int((single[rows, cols] == los).sum())
        total += len(cells)
    baseline_subset_s = time.perf_counter() - start
    baseline_s = baseline_subset_s * work.sum() / work[: args.baseline_sites].sum()
    print(
        f"baseline per-cell line_of_sight: {baseline_subset_s:.1f} s for {args.baseline_sites} "
        f"sites, scaled to all {args.sites}: {baseline_s:.0f} s"
    )
    print(
        f"speed-up of the radial sweep: {baseline_s / sweep_s:.1f}x; "
        f"agreement with exact line of sight on {total} cells: {agree / total:.2%}"
    )

    # line_of_sight over site-village pairs
    pick = rng.integers(0, args.sites, args.pairs)
    angle = rng.uniform(0, 2 * np.pi, args.pairs)
    dist = rng.uniform(0, 1, args.pairs) * reach[pick]
    villages = sites[pick] + np.column_stack([np.cos(angle), np.sin(angle)]) * dist[:, None]
    start = time.perf_counter()
    clear = line_of_sight(dem, sites[pick], heights[pick], villages, 1.5)
    pairs_s = time.perf_counter() - start
    print(
        f"line_of_sight: {args.pairs} pairs (0-15 km): {pairs_s:.2f} s ({clear.mean():.1%} clear)"
    )

    # what find_gaps does: all site-village pairs within reach, then line of sight
    n_villages = 3000
    village_xy = np.column_stack(
        [left + rng.uniform(0, width_m, n_villages), top - rng.uniform(0, height_m, n_villages)]
    )
    start = time.perf_counter()
    site_idx, village_idx = visible_pairs(dem, sites, heights, reach, village_xy)
    vp_s = time.perf_counter() - start
    covered = np.unique(village_idx).size
    print(
        f"visible_pairs: {args.sites} sites x {n_villages} villages: {vp_s:.2f} s "
        f"({len(site_idx)} clear pairs, {covered / n_villages:.1%} of villages covered)"
    )


if __name__ == "__main__":
    main()
