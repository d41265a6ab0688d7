"""Benchmark: gap decisions in one process against dask partitions on a local cluster.

Uses the synthetic country of ``bench_country.py`` (its cached inputs; ``--scale 10`` is
16,500 villages, ~167,000 measurements, a 30 m DEM, line of sight). Times ``find_gaps`` in
this process and ``geo_dx.partition.partitioned_gaps`` with ``--partitions`` partitions on a
local cluster of ``--workers`` processes (started before timing; its start-up is printed
apart), checks the two tables are identical and prints the speed-up.

    .venv/bin/python benchmarks/bench_partition.py [--scale 10] [--workers 2]
        [--partitions 2 8] [--data /tmp/geo_dx_country]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, nargs="+", default=[2, 8])
    parser.add_argument("--data", type=Path, default=Path("/tmp/geo_dx_country"))
    args = parser.parse_args()

    from bench_country import UTM48N, make_country
    from distributed import Client, LocalCluster

    from geo_dx.config import config_from_dict
    from geo_dx.coverage import with_reach
    from geo_dx.dem import read_dem
    from geo_dx.gaps import find_gaps
    from geo_dx.io import read_communes, read_coverage, read_villages
    from geo_dx.partition import partitioned_gaps

    paths = make_country(args.scale, args.data / f"x{args.scale}")
    config = config_from_dict({"crs": UTM48N})
    communes = read_communes(paths["communes"], config=config)
    villages = read_villages(paths["villages"], config=config)
    coverage = read_coverage(
        [Path(paths[k]) for k in sorted(paths) if k.startswith("coverage")]
        + [Path(paths["measurements"])], config=config)
    coverage = with_reach(coverage, config=config)
    bounds = communes.total_bounds
    dem = read_dem(paths["dem"], crs=UTM48N, bounds=tuple(bounds), margin_m=20_000)
    print(f"{args.scale}x: {len(villages):,} villages, {len(coverage):,} coverage points, "
          f"DEM {dem.shape[0]:,} x {dem.shape[1]:,} cells at {dem.cell_size_m:.0f} m; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)

    t0 = time.perf_counter()
    single = find_gaps(villages, coverage, communes=communes, config=config, dem=dem)
    t_single = time.perf_counter() - t0
    print(f"one process          : {t_single:6.1f} s", flush=True)

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    print(f"cluster start-up     : {time.perf_counter() - t0:6.1f} s ({args.workers} workers)")
    try:
        for n in args.partitions:
            t0 = time.perf_counter()
            parted = partitioned_gaps(villages, coverage, communes=communes, config=config,
                                      dem=dem, partitions=n,
                                      scheduler_address=cluster.scheduler_address)
            t = time.perf_counter() - t0
            same = True
            try:
                pd.testing.assert_frame_equal(parted.drop(columns="geometry"),
                                              single.drop(columns="geometry"),
                                              check_exact=True)
            except AssertionError:
                same = False
            print(f"{n:2d} partitions        : {t:6.1f} s  speed-up {t_single / t:4.2f}x  "
                  f"identical: {same}; load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
