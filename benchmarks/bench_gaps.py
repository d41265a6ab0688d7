"""Benchmark: find_gaps at country scale against a naive buffer-union-intersect baseline.

Synthetic case in UTM 48N: 100,000 village polygons, 1,000,000 measurement points and
50,000 sites/nodes. Prints wall time and peak memory of each method (each runs in its own
process so peaks do not mix), their ratio, and whether the two agree.

    .venv/bin/python benchmarks/bench_gaps.py [--scale 0.1]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time
import warnings

import geopandas as gpd
import numpy as np
import shapely

UTM48N = "EPSG:32648"


def make_case(scale: float, seed: int = 1) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Villages (polygons) and coverage points (sites, nodes, measurements)."""
    rng = np.random.default_rng(seed)
    n_villages = int(100_000 * scale)
    n_measure = int(1_000_000 * scale)
    n_sites = int(50_000 * scale)
    # settlements cluster along valleys: draw centres around 2,000 "towns"
    towns = np.c_[rng.uniform(200_000, 800_000, 2000), rng.uniform(950_000, 2_600_000, 2000)]
    centre = towns[rng.integers(0, len(towns), n_villages)] + rng.normal(0, 8000, (n_villages, 2))
    half = rng.uniform(100, 400, n_villages)
    villages = gpd.GeoDataFrame(
        {"village_id": np.arange(n_villages).astype(str), "village_name": "bản"},
        geometry=shapely.box(centre[:, 0] - half, centre[:, 1] - half,
                             centre[:, 0] + half, centre[:, 1] + half),
        crs=UTM48N,
    )
    near = centre[rng.integers(0, n_villages, n_measure)] + rng.normal(0, 1500, (n_measure, 2))
    site_xy = towns[rng.integers(0, len(towns), n_sites)] + rng.normal(0, 10_000, (n_sites, 2))
    tech = rng.choice(["4g", "3g", "2g", "fibre"], n_sites, p=[0.5, 0.2, 0.1, 0.2])
    range_m = np.where(rng.random(n_sites) < 0.5, rng.uniform(500, 6000, n_sites), np.nan)
    xy = np.r_[near, site_xy]
    coverage = gpd.GeoDataFrame(
        {
            "technology": np.r_[rng.choice(["4g", "3g"], n_measure, p=[0.8, 0.2]), tech],
            "kind": np.r_[np.full(n_measure, "measurement"), np.full(n_sites, "site")],
            "source": np.r_[np.full(n_measure, "measured"), np.full(n_sites, "declared")],
            "range_m": np.r_[np.full(n_measure, np.nan), range_m],
        },
        geometry=shapely.points(xy),
        crs=UTM48N,
    )
    return villages, coverage


def run_geo_dx(scale: float, queue: mp.Queue) -> None:
    from geo_dx.coverage import with_reach
    from geo_dx.gaps import find_gaps

    villages, coverage = make_case(scale)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coverage = with_reach(coverage)
    start = time.perf_counter()
    out = find_gaps(villages, coverage)
    seconds = time.perf_counter() - start
    queue.put((seconds, _peak_mb(), out["has_fibre"].to_numpy(),
               out["has_mobile_broadband"].to_numpy()))


def run_baseline(scale: float, queue: mp.Queue) -> None:
    """Buffer every point by its reach, union per class, intersect with village locations."""
    from geo_dx.coverage import with_reach

    villages, coverage = make_case(scale)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coverage = with_reach(coverage)
    start = time.perf_counter()
    location = villages.geometry.representative_point()
    result = []
    for techs in (["fibre"], ["5g", "4g", "3g"]):
        pts = coverage[coverage["technology"].isin(techs)]
        area = shapely.union_all(shapely.buffer(pts.geometry.to_numpy(), pts["reach_m"].to_numpy(),
                                                quad_segs=16))
        shapely.prepare(area)
        hit = shapely.intersects(area, location.to_numpy())
        inside = gpd.sjoin(gpd.GeoDataFrame(geometry=pts.geometry), villages[["geometry"]],
                           predicate="within")
        hit[villages.index.get_indexer(inside["index_right"].unique())] = True
        result.append(hit)
    seconds = time.perf_counter() - start
    queue.put((seconds, _peak_mb(), result[0], result[1]))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_process(target, scale: float):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(scale, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the country-scale case (default 1.0)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the slow baseline")
    args = parser.parse_args()
    s = args.scale
    print(f"case: {int(100_000 * s):,} village polygons, {int(1_000_000 * s):,} measurement "
          f"points, {int(50_000 * s):,} sites/nodes (UTM 48N)")
    t, peak, fibre, mobile = _in_process(run_geo_dx, s)
    print(f"find_gaps : {t:8.2f} s   peak {peak:7.0f} MB   "
          f"no fibre {(~fibre).sum():,}  no mobile {(~mobile).sum():,}")
    if args.no_baseline:
        return
    tb, peak_b, fibre_b, mobile_b = _in_process(run_baseline, s)
    print(f"baseline  : {tb:8.2f} s   peak {peak_b:7.0f} MB   "
          f"no fibre {(~fibre_b).sum():,}  no mobile {(~mobile_b).sum():,}")
    print(f"speed-up  : {tb / t:8.1f} x")
    # buffers are polygons inscribed in the circle, so the baseline can only miss
    # villages right at the edge of a reach; count disagreements either way
    only_ours = (fibre & ~fibre_b).sum() + (mobile & ~mobile_b).sum()
    only_baseline = (~fibre & fibre_b).sum() + (~mobile & mobile_b).sum()
    print(f"agreement : fibre {np.mean(fibre == fibre_b):.5%}, "
          f"mobile {np.mean(mobile == mobile_b):.5%} "
          f"(geo_dx covered & baseline not: {only_ours}, baseline covered & geo_dx not: "
          f"{only_baseline})")


if __name__ == "__main__":
    main()
