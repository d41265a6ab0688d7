"""Benchmark the investment plan at country scale.

Country-like case: 100,000 villages, 5,000 without mobile broadband (in remote clusters),
5,000 without fibre, 20,000 mobile candidates around the gap clusters, a 200 m DEM of
400 × 800 km with ridges (terrain line of sight), a road grid every 20 km and 2,000 fibre
nodes. Times, each measured in this run:

- the fibre tree (:func:`geo_dx.plan.routes.fibre_routes`: road graph, slope-priced off-road
  links, shortest paths and the Steiner tree) for the villages without fibre;
- the candidate coverage (:func:`geo_dx.signal.served.served_matrix`: reach + line of sight
  for every candidate × gap-village pair), sparse; the memory a dense village × candidate
  matrix would need is printed for comparison;
- the whole :func:`geo_dx.plan` (candidates, coverage, fibre tree, the cost of closing
  everything, the two MILP solves started from greedy, outputs; no budget curve), with the
  merged MILP rows, the status, bound and gap, and how far greedy is from the bound;
- the same plan without satellite access (``plan.satellite_access_weight = 0``), the
  reference for what offering every village a satellite hotspot costs in time;
- the peak resident memory of the process.

Run: ``.venv/bin python benchmarks/bench_plan.py [--scale 1.0] [--budget 500e9]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import time

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from pyproj import CRS
from scipy.ndimage import gaussian_filter

from geo_dx.config import Config, PlanConfig
from geo_dx.dem import DemGrid
from geo_dx.plan.candidates import as_coverage_sites, prepare_candidates
from geo_dx.plan.model import plan
from geo_dx.plan.routes import fibre_routes
from geo_dx.signal.served import served_matrix

CRS_UTM = CRS.from_epsg(32648)
X0, Y0 = 200_000.0, 1_000_000.0


def country_dem(width_km: float, height_km: float, cell_m: float = 200.0, seed: int = 3
                ) -> DemGrid:
    """Smoothed noise plus ridges, 200-2,400 m."""
    rng = np.random.default_rng(seed)
    rows, cols = int(height_km * 1000 / cell_m), int(width_km * 1000 / cell_m)
    z = gaussian_filter(rng.normal(0, 1, (rows, cols)).astype(np.float32), 6) * 3000 + 1200
    yy, xx = np.ogrid[0:rows, 0:cols]
    z += (200 * np.sin(xx * cell_m / 7000.0) * np.cos(yy * cell_m / 9000.0)).astype(np.float32)
    transform = Affine(cell_m, 0, X0, 0, -cell_m, Y0 + height_km * 1000)
    return DemGrid(np.clip(z, 0, None).astype(float), transform, CRS_UTM, "<synthetic>")


def country(scale: float, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    width_km, height_km = 400 * np.sqrt(scale), 800 * np.sqrt(scale)
    n_villages, n_gap, n_cand = int(100_000 * scale), int(5_000 * scale), int(20_000 * scale)
    w, h = width_km * 1000, height_km * 1000
    xy = np.column_stack([rng.uniform(X0, X0 + w, n_villages), rng.uniform(Y0, Y0 + h,
                                                                          n_villages)])
    n_clusters = max(n_gap // 10, 1)
    centres = np.column_stack([rng.uniform(X0 + 10_000, X0 + w - 10_000, n_clusters),
                               rng.uniform(Y0 + 10_000, Y0 + h - 10_000, n_clusters)])
    member = rng.integers(0, n_clusters, n_gap)
    xy[:n_gap] = centres[member] + rng.normal(0, 2500, (n_gap, 2))
    mobile_gap = np.zeros(n_villages, dtype=bool)
    mobile_gap[:n_gap] = True
    fibre_gap = np.zeros(n_villages, dtype=bool)
    fibre_gap[rng.choice(n_villages, n_gap, replace=False)] = True
    villages = gpd.GeoDataFrame({
        "village_id": [f"V{i}" for i in range(n_villages)],
        "village_name": [f"Bản {i}" for i in range(n_villages)],
        "population": rng.integers(50, 800, n_villages).astype(float),
        "ethnic_minority_share": rng.uniform(0, 1, n_villages),
        "has_mobile_broadband": ~mobile_gap,
        "has_fibre": ~fibre_gap,
        "score": np.where(mobile_gap | fibre_gap, rng.uniform(10, 95, n_villages), np.nan),
    }, geometry=shapely.points(xy), crs=CRS_UTM)
    cand_centre = rng.integers(0, n_clusters, n_cand)
    cxy = centres[cand_centre] + rng.normal(0, 4000, (n_cand, 2))
    kinds = rng.choice(["new_site", "upgrade", "small_cell"], n_cand, p=[0.7, 0.2, 0.1])
    candidates = gpd.GeoDataFrame({"candidate_id": [f"C{i}" for i in range(n_cand)],
                                   "kind": kinds}, geometry=shapely.points(cxy), crs=CRS_UTM)
    grid_m = 20_000
    roads = [shapely.LineString([(x, Y0), (x, Y0 + h)]) for x in np.arange(X0, X0 + w, grid_m)]
    roads += [shapely.LineString([(X0, y), (X0 + w, y)]) for y in np.arange(Y0, Y0 + h, grid_m)]
    n_fibre = max(int(2000 * scale), 1)
    fibre = gpd.GeoDataFrame({"technology": ["fibre"] * n_fibre},
                             geometry=shapely.points(np.column_stack([
                                 rng.uniform(X0, X0 + w, n_fibre),
                                 rng.uniform(Y0, Y0 + h, n_fibre)])), crs=CRS_UTM)
    return {"villages": villages, "candidates": candidates,
            "roads": gpd.GeoSeries(roads, crs=CRS_UTM), "fibre": fibre,
            "dem": country_dem(width_km, height_km)}


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--budget", type=float, default=500e9)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(relativeCreated)7.0f ms %(name)s: %(message)s")
    t0 = time.perf_counter()
    load = os.getloadavg()[0]
    case = country(args.scale)
    villages = case["villages"]
    gaps = villages[~villages["has_mobile_broadband"]]
    print(f"case: {len(villages):,} villages, {len(gaps):,} without mobile broadband, "
          f"{int((~villages['has_fibre']).sum()):,} without fibre, "
          f"{len(case['candidates']):,} candidates, DEM {case['dem'].shape}, "
          f"{len(case['roads'])} roads, {len(case['fibre']):,} fibre nodes "
          f"(built in {time.perf_counter() - t0:.1f} s)")

    config = Config(plan=PlanConfig(generate="never", time_limit_s=args.time_limit))
    t = time.perf_counter()
    prepared = prepare_candidates(case["candidates"], config=config)
    cover = served_matrix(gaps, as_coverage_sites(prepared), model="terrain", crs=CRS_UTM,
                          dem=case["dem"], config=config)
    t_cover = time.perf_counter() - t
    dense_gb = len(villages) * len(prepared) / 1024**3
    sparse_mb = (cover.data.nbytes + cover.indices.nbytes + cover.indptr.nbytes) / 1024**2
    print(f"candidate coverage: {t_cover:.1f} s, {cover.nnz:,} village-candidate pairs in "
          f"sight; sparse {sparse_mb:.1f} MB vs a dense village × candidate matrix "
          f"{dense_gb:.1f} GB ({dense_gb * 1024 / max(sparse_mb, 1e-9):,.0f}× larger)")

    t = time.perf_counter()
    no_fibre = villages[~villages["has_fibre"]]
    net = fibre_routes(shapely.get_coordinates(no_fibre.geometry.to_numpy()),
                       shapely.get_coordinates(case["fibre"].geometry.to_numpy()),
                       roads=case["roads"].to_numpy(), dem=case["dem"], config=config.plan)
    t_fibre = time.perf_counter() - t
    road_km, all_km = net.segment_road_km.sum(), net.segment_length_km.sum()
    print(f"fibre tree: {t_fibre:.2f} s for {len(no_fibre):,} villages without fibre: "
          f"{int((net.village_segment >= 0).sum()):,} reachable, {net.n_segments:,} segments "
          f"({net.tree}), {all_km:,.0f} km of which {road_km / max(all_km, 1e-9):.0%} along roads")

    t = time.perf_counter()
    result = plan(villages, budget_vnd=args.budget, candidates=case["candidates"],
                  dem=case["dem"], roads=case["roads"], fibre=case["fibre"], config=config,
                  curve=False)
    t_plan = time.perf_counter() - t
    s = result.summary
    print(f"plan (coverage + fibre tree + close-all + MILP x2 + greedy + outputs): "
          f"{t_plan:.1f} s")
    gap = "n/a" if s["gap"] is None else f"{100 * s['gap']:.3g}%"
    rows = s["milp_rows"]
    print(f"  MILP rows: {rows['villages']:,} villages -> {rows['rows']:,} merged rows "
          f"+ {rows['single_item']:,} items carrying the weight of villages only they serve")
    print(f"  MILP   objective {s['objective']:,.1f} ({s['status']}, gap {gap}, bound "
          f"{s['bound'] or float('nan'):,.1f}) in {s['solve_seconds']:.1f} s (both solves)")
    within = s["greedy_within_bound"]
    print(f"  greedy objective {s['greedy_objective']:,.1f} in {s['greedy_seconds']:.1f} s"
          + (f": within {100 * within:.3f}% of the bound" if within is not None else ""))
    print(f"  chosen: {s['items']['sites']} sites, {s['items']['fibre_extensions']} fibre "
          f"extensions, {s['items'].get('satellite_access', 0)} satellite access, "
          f"cost {s['cost_used_vnd'] / 1e9:,.1f} of {args.budget / 1e9:,.0f} bn VND; "
          f"newly served: {s['newly_served']['mobile']['villages']:,} mobile, "
          f"{s['newly_served']['fibre']['villages']:,} fibre villages; closing everything "
          f"costs {s['cost_to_close_all_vnd'] / 1e9:,.1f} bn VND")
    print(f"  unservable: {s['unservable']}")
    # reference, same run: the plan without satellite access (plan.satellite_access_weight = 0)
    t = time.perf_counter()
    bare = plan(villages, budget_vnd=args.budget, candidates=case["candidates"],
                dem=case["dem"], roads=case["roads"], fibre=case["fibre"], curve=False,
                config=Config(plan=PlanConfig(generate="never", time_limit_s=args.time_limit,
                                              satellite_access_weight=0.0)))
    t_bare = time.perf_counter() - t
    b = bare.summary
    print(f"reference without satellite access: plan {t_bare:.1f} s, MILP {b['status']} in "
          f"{b['solve_seconds']:.1f} s; with satellite access / without: plan "
          f"{t_plan / t_bare:.2f}x, MILP {s['solve_seconds'] / max(b['solve_seconds'], 1e-9):.2f}x")
    print(f"total {time.perf_counter() - t0:.1f} s; peak memory {peak_gb():.2f} GB "
          f"(targets: plan within 0.5 % of optimal in <= 120 s on 2 cores, < 4 GB); load "
          f"average {load:.1f} at the start, {os.getloadavg()[0]:.1f} now")


if __name__ == "__main__":
    main()
