"""Benchmark: the tiled least-cost search against scikit-image's MCP_Geometric, same grids.

The grids are the travel-time friction of the synthetic demo province (its 100 m DEM,
Tobler walking speed, roads) tiled into a country of 1, 4, 16 and 64 provinces
(1.4 M to 92 M cells; the 60x national benchmark searches ~107 M cells of 90 m), with
its towns as starts. Prints for each size the seconds of both searches, the ratio
tiled / scikit-image, nanoseconds per cell, how many tile visits the tiled search took and
the largest relative difference between the two answers.

    .venv/bin/python benchmarks/bench_least_cost.py [--tiles 1 4 16] [--tile-cells 256]
"""

from __future__ import annotations

import argparse
import math
import time

import geopandas as gpd
import numpy as np


def country_friction(tiles: int) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """Friction (h/m, float32) of the demo tiled ``tiles`` times, start cells, sampling."""
    import rasterio

    from geo_dx.dem import read_dem
    from geo_dx.demo import demo_paths
    from geo_dx.remoteness import friction_h_per_m

    paths = demo_paths()
    dem = read_dem(paths.dem)
    roads = gpd.read_file(paths.roads) if getattr(paths, "roads", None) else None
    towns = gpd.read_file(paths.towns).to_crs(dem.crs)
    friction = friction_h_per_m(dem, roads=roads)
    rows, cols = dem.rowcol(np.column_stack([towns.geometry.x, towns.geometry.y]))
    rc = np.column_stack([np.rint(rows), np.rint(cols)]).astype(np.int64)
    rc = rc[(rc[:, 0] >= 0) & (rc[:, 0] < friction.shape[0])
            & (rc[:, 1] >= 0) & (rc[:, 1] < friction.shape[1])]
    side = int(math.isqrt(tiles))
    grid = np.tile(friction, (side, math.ceil(tiles / side)))
    starts = np.vstack([rc + [i * friction.shape[0], j * friction.shape[1]]
                        for i in range(side) for j in range(math.ceil(tiles / side))])
    with rasterio.open(paths.dem) as src:
        sampling = (abs(src.res[1]), abs(src.res[0]))
    return np.ascontiguousarray(grid, dtype=np.float32), starts, sampling


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--tile-cells", type=int, default=None)
    args = parser.parse_args()
    from geo_dx.least_cost import TILE_CELLS, cumulative_cost

    tile = args.tile_cells or TILE_CELLS
    cumulative_cost(np.ones((4, 4), np.float32), [(0, 0)], use_compiled=True)  # compile
    print(f"tile {tile} x {tile} cells")
    print("| provinces | cells | scikit-image s | tiled s | tiled / scikit-image "
          "| ns per cell (sk / tiled) | max relative difference |")
    print("|---|---|---|---|---|---|---|")
    for n in args.tiles:
        grid, starts, sampling = country_friction(n)
        t0 = time.perf_counter()
        ref = cumulative_cost(grid, starts, sampling=sampling, use_compiled=False)
        t_ref = time.perf_counter() - t0
        t0 = time.perf_counter()
        mine = cumulative_cost(grid, starts, sampling=sampling, tile_cells=tile,
                               use_compiled=True)
        t_mine = time.perf_counter() - t0
        finite = np.isfinite(ref)
        same_inf = bool(np.array_equal(finite, np.isfinite(mine)))
        diff = float(np.max(np.abs(mine[finite] - ref[finite])
                            / np.maximum(ref[finite], 1e-300))) if finite.any() else 0.0
        flag = "" if same_inf else " (reachable cells differ!)"
        print(f"| {n} | {grid.size / 1e6:.1f} M | {t_ref:.1f} | {t_mine:.1f} "
              f"| {t_mine / t_ref:.2f} | {t_ref / grid.size * 1e9:.0f} / "
              f"{t_mine / grid.size * 1e9:.0f} | {diff:.1e}{flag} |",
              flush=True)
        del grid, ref, mine


if __name__ == "__main__":
    main()
