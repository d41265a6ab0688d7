"""Benchmark the ITM signal model: the demo province, 100,000 pairs, and itmlogic per pair.

1. The demo province: every mobile site-village pair in reach (the pairs the ``itm``
   model evaluates in ``find_gaps``), profiles from the demo DEM, ITM loss, signal.
2. 100,000 random site-target pairs 0.5-15 km apart on the demo DEM: profile extraction
   and ITM timed separately.
3. Per-pair speed of the compiled ITM against itmlogic (pure Python, the test oracle)
   on the same profiles, measured in the same run, and their largest disagreement
   (itmlogic-compatible mode).

Numba compiles the kernel on first use and caches it; the first call is timed apart.
Run: ``.venv/bin/python benchmarks/bench_signal.py [--pairs 100000] [--oracle 300]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.itm_oracle

from geo_dx.config import config_from_dict  # noqa: E402
from geo_dx.coverage import with_reach  # noqa: E402
from geo_dx.dem import read_dem  # noqa: E402
from geo_dx.demo import demo_paths  # noqa: E402
from geo_dx.io import read_coverage, read_villages  # noqa: E402
from geo_dx.schema import MOBILE_ORDER
from geo_dx.signal.itm import TerrainProfiles, itm_loss_db  # noqa: E402
from geo_dx.signal.strength import pair_profiles, predict_pairs  # noqa: E402
from geo_dx.spatial import village_locations  # noqa: E402

ITM_OPTIONS = {"climate": "continental_subtropical", "surface_refractivity_n": 320.0,
               "time_pct": 50.0, "location_pct": 90.0, "situation_pct": 90.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--oracle", type=int, default=300)
    args = parser.parse_args()
    config = config_from_dict({"terrain": {"model": "itm"}})
    paths = demo_paths()
    villages = read_villages(paths.villages, config=config)
    crs = villages.estimate_utm_crs()
    dem = read_dem(paths.dem, crs=crs)
    cov = with_reach(read_coverage(paths.coverage, config=config), config=config).to_crs(crs)
    sites = cov[(cov["kind"] == "site") & cov["technology"].isin(MOBILE_ORDER)]
    sxy = shapely.get_coordinates(sites.geometry.to_numpy())
    vxy = shapely.get_coordinates(village_locations(villages).to_crs(crs).to_numpy())
    print(f"cores: {os.cpu_count()}; DEM {dem.shape} at {dem.cell_size_m:.0f} m; "
          f"{len(sites)} mobile sites, {len(vxy)} villages")

    t0 = time.perf_counter()
    itm_loss_db(TerrainProfiles.from_list([np.zeros(11)], [5_000.0]), frequency_mhz=1800.0,
                tx_height_m=30.0, rx_height_m=1.5)
    print(f"first ITM call (numba compile or cache load): {time.perf_counter() - t0:.2f} s")

    t0 = time.perf_counter()
    pairs = predict_pairs(dem, sxy, sites["technology"].to_numpy(), sites["reach_m"].to_numpy(),
                          vxy, antenna_height_m=sites["antenna_height_m"].to_numpy(float),
                          terrain=config.terrain, signal=config.signal)
    demo_s = time.perf_counter() - t0
    print(f"1. demo province: {len(pairs):,} site-village pairs in reach -> "
          f"{demo_s:.2f} s ({demo_s / max(len(pairs), 1) * 1e6:.0f} us/pair; target < 10 s)")

    rng = np.random.default_rng(1)
    pick = rng.integers(0, len(sxy), args.pairs)
    dist = rng.uniform(500.0, 15_000.0, args.pairs)
    angle = rng.uniform(0, 2 * np.pi, args.pairs)
    a = sxy[pick]
    b = a + np.column_stack([dist * np.cos(angle), dist * np.sin(angle)])
    t0 = time.perf_counter()
    profiles = pair_profiles(dem, a, b, step_m=dem.cell_size_m)
    extract_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    loss, kwx = itm_loss_db(profiles, frequency_mhz=1800.0, tx_height_m=30.0, rx_height_m=1.5,
                            **ITM_OPTIONS)
    itm_s = time.perf_counter() - t0
    total = extract_s + itm_s
    print(f"2. {args.pairs:,} pairs ({len(profiles.elevation_m):,} profile samples): "
          f"profiles {extract_s:.2f} s + ITM {itm_s:.2f} s = {total:.2f} s "
          f"(target < 60 s); kwx >= 3 on {int(np.sum(kwx >= 3)):,} pairs")

    from tests.itm_oracle import itmlogic_loss_db

    n = min(args.oracle, args.pairs)
    subset = TerrainProfiles(profiles.elevation_m[: profiles.offsets[n]],
                             profiles.offsets[: n + 1], profiles.distance_m[:n])
    t0 = time.perf_counter()
    fast, _ = itm_loss_db(subset, frequency_mhz=1800.0, tx_height_m=30.0, rx_height_m=1.5,
                          system_elevation_m=0.0, itmlogic_compatible=True, **ITM_OPTIONS)
    fast_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    slow = np.array([
        itmlogic_loss_db(profiles.elevation_m[profiles.offsets[i]:profiles.offsets[i + 1]],
                         profiles.distance_m[i], frequency_mhz=1800.0, tx_height_m=30.0,
                         rx_height_m=1.5, klim=2, ens0=320.0, mdvar=3,
                         reliability_pct=(50.0, 90.0, 90.0))
        for i in range(n)
    ])
    slow_s = time.perf_counter() - t0
    per_fast = itm_s / args.pairs * 1e6
    print(f"3. per pair: geo_dx.signal.itm {per_fast:.1f} us (batch of {args.pairs:,}; "
          f"{fast_s / n * 1e6:.0f} us in a batch of {n}), itmlogic {slow_s / n * 1e6:.0f} us "
          f"-> {slow_s / n * 1e6 / per_fast:,.0f}x faster; max |difference| "
          f"{np.max(np.abs(fast - slow)):.4f} dB over {n} profiles")


if __name__ == "__main__":
    main()
