"""Benchmark: find_gaps at country scale against a plain indexed reference and a naive baseline.

Synthetic cases in UTM 48N, each with 100,000 village polygons, 1,000,000 measurement
points and 50,000 sites/nodes, villages clustered around 2,000 towns:

- ``square``: square villages (100-400 m half side), measurements scattered around them;
- ``irregular``: irregular villages with 6-40 vertices (Voronoi cells of the village
  centres, clipped to a many-sided disc and pulled in vertex by vertex, so most are
  concave), measurements inside and around the polygons, sites with 1-8 km reach;
- ``communes``: the real commune outlines of Điện Biên and Sơn La (GADM, read from
  ``../shared/data`` when present, else skipped with the reason), repeated to country
  size and cut into villages (Voronoi cells clipped to the real outlines), measurements
  and sites as in ``irregular``.

Three methods answer "has fibre / has mobile broadband" per village:

- ``find_gaps`` (which also computes nearest distances, sources and best technology);
- the plain indexed reference: an STRtree of the points queried with the village polygons
  for "inside", plus an STRtree ``dwithin`` query per reach band for "within reach" (a few
  lines of shapely, exact);
- the naive baseline: buffer every point by its reach, union per class, intersect (on
  the ``square`` case only: it takes minutes).

Each runs in its own process so peaks do not mix (min of ``--repeat`` runs); prints wall
time, peak memory, the ratio find_gaps / reference per case, side by side, and whether
the answers agree.

    .venv/bin/python benchmarks/bench_gaps.py [--scale 0.1] [--repeat 3] [--no-baseline]
        [--cases square,irregular,communes]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

UTM48N = "EPSG:32648"
CASES: tuple[str, ...] = ("square", "irregular", "communes")
#: The real commune outlines (never copied into the repository).
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "admin_boundaries"
OUTLINES = ("gadm41_vnm_l3_dien_bien.geojson", "gadm41_vnm_l3_son_la.geojson")


def missing_outlines() -> str | None:
    """Why the ``communes`` case cannot run here, or None when it can."""
    absent = [name for name in OUTLINES if not (SHARED / name).exists()]
    return f"{SHARED}/{absent[0]} not found (real data is read, never copied)" if absent else None


def make_case(
    scale: float, case: str = "square", seed: int = 1
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Villages (polygons) and coverage points (sites, nodes, measurements)."""
    rng = np.random.default_rng(seed)
    n_villages = int(100_000 * scale)
    n_measure = int(1_000_000 * scale)
    n_sites = int(50_000 * scale)
    # settlements cluster along valleys: draw centres around 2,000 "towns"
    towns = np.c_[rng.uniform(200_000, 800_000, 2000), rng.uniform(950_000, 2_600_000, 2000)]
    if case == "square":
        centre = (towns[rng.integers(0, len(towns), n_villages)]
                  + rng.normal(0, 8000, (n_villages, 2)))
        half = rng.uniform(100, 400, n_villages)
        polygons = shapely.box(centre[:, 0] - half, centre[:, 1] - half,
                               centre[:, 0] + half, centre[:, 1] + half)
        near = (centre[rng.integers(0, n_villages, n_measure)]
                + rng.normal(0, 1500, (n_measure, 2)))
        range_m = np.where(rng.random(n_sites) < 0.5, rng.uniform(500, 6000, n_sites), np.nan)
    else:
        if case == "irregular":
            polygons = _irregular_villages(towns, n_villages, rng)
        else:
            polygons, towns = _commune_villages(n_villages, rng)
        near = _points_in_and_around(polygons, n_measure, rng)
        range_m = rng.uniform(1000, 8000, n_sites)
    villages = gpd.GeoDataFrame(
        {"village_id": np.arange(len(polygons)).astype(str), "village_name": "bản"},
        geometry=polygons, crs=UTM48N,
    )
    site_xy = towns[rng.integers(0, len(towns), n_sites)] + rng.normal(0, 10_000, (n_sites, 2))
    tech = rng.choice(["4g", "3g", "2g", "fibre"], n_sites, p=[0.5, 0.2, 0.1, 0.2])
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


def _irregular_villages(towns: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Voronoi cells of clustered centres, clipped to a 8-32-sided disc, pulled in per vertex."""
    centre = towns[rng.integers(0, len(towns), n)] + rng.normal(0, 8000, (n, 2))
    seeds = shapely.points(centre)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), ordered=True))
    discs = np.empty(n, dtype=object)
    quad_segs = rng.integers(2, 9, n)
    radius = rng.uniform(250, 900, n)
    for q in np.unique(quad_segs):  # buffer takes one quad_segs per call
        pick = quad_segs == q
        discs[pick] = shapely.buffer(seeds[pick], radius[pick], quad_segs=int(q))
    clipped = shapely.intersection(cells, discs)
    # a sliver between two close centres keeps its disc: 6 vertices at least
    few = shapely.get_num_coordinates(clipped) < 7
    clipped[few] = discs[few]
    return _pulled_in(clipped, centre, rng)


def _pulled_in(polygons: np.ndarray, centre: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Move each vertex towards the polygon's centre by 0-35 %: star-shaped, mostly concave."""
    coords, owner = shapely.get_coordinates(shapely.get_exterior_ring(polygons), return_index=True)
    factor = rng.uniform(0.65, 1.0, len(coords))
    first = np.r_[True, owner[1:] != owner[:-1]]
    last = np.r_[owner[1:] != owner[:-1], True]
    factor[last] = factor[np.flatnonzero(first)]  # the ring stays closed
    moved = centre[owner] + (coords - centre[owner]) * factor[:, None]
    return shapely.polygons(shapely.linearrings(moved, indices=owner))


def _commune_villages(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The real commune outlines repeated to country size, cut into Voronoi villages."""
    outlines = gpd.GeoSeries(
        np.concatenate([gpd.read_file(SHARED / name).geometry.to_numpy() for name in OUTLINES]),
        crs=4326).to_crs(UTM48N).to_numpy()
    minx, miny, maxx, maxy = shapely.total_bounds(outlines)
    copies = [(dx, dy) for dx in np.arange(200_000 - minx, 800_000 - minx, maxx - minx)
              for dy in np.arange(950_000 - miny, 2_600_000 - miny, maxy - miny)]
    communes = np.concatenate([shapely.transform(outlines, lambda xy, d=d: xy + d)
                               for d in copies])
    # seeds in proportion to area, drawn inside each commune
    area = shapely.area(communes)
    owner = rng.choice(len(communes), n, p=area / area.sum())
    bounds = shapely.bounds(communes)[owner]
    seeds = np.empty((n, 2))
    todo = np.arange(n)
    while len(todo):
        xy = rng.uniform(bounds[todo, :2], bounds[todo, 2:])
        ok = shapely.contains_xy(communes[owner[todo]], xy[:, 0], xy[:, 1])
        seeds[todo[ok]] = xy[ok]
        todo = todo[~ok]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(shapely.points(seeds)),
                                                       ordered=True))
    shapely.prepare(communes)
    villages = cells.copy()
    cut = ~shapely.contains_properly(communes[owner], cells)  # most cells lie inside
    villages[cut] = shapely.intersection(cells[cut], communes[owner[cut]])
    centres = shapely.get_coordinates(shapely.centroid(communes))
    return _largest_part(villages), centres


def _largest_part(geoms: np.ndarray) -> np.ndarray:
    """A polygon per village (a cell cut by a winding outline can fall in pieces)."""
    out = geoms.copy()
    multi = np.flatnonzero(shapely.get_type_id(geoms) != 3)
    for i in multi:
        parts = [p for p in shapely.get_parts(geoms[i]) if p.geom_type == "Polygon"]
        out[i] = max(parts, key=lambda p: p.area) if parts else geoms[i]
    return out


def _points_in_and_around(polygons: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Measurements in random villages: two thirds inside, a third around (box widened by half)."""
    which = rng.integers(0, len(polygons), n)
    b = shapely.bounds(polygons)[which]
    pad = (b[:, 2:] - b[:, :2]) * 0.25
    xy = rng.uniform(b[:, :2] - pad, b[:, 2:] + pad)
    todo = np.flatnonzero(rng.random(n) < 2 / 3)
    while len(todo):
        xy[todo] = rng.uniform(b[todo, :2], b[todo, 2:])
        todo = todo[~shapely.contains_xy(polygons[which[todo]], xy[todo, 0], xy[todo, 1])]
    return xy


def vertex_counts(villages: gpd.GeoDataFrame) -> np.ndarray:
    """Vertices of each village's outline (the closing vertex not counted twice)."""
    return shapely.get_num_coordinates(shapely.get_exterior_ring(villages.geometry.to_numpy())) - 1


def run_geo_dx(scale: float, case: str, queue: mp.Queue) -> None:
    from geo_dx.coverage import with_reach
    from geo_dx.gaps import find_gaps

    villages, coverage = make_case(scale, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coverage = with_reach(coverage)
    start, cpu = time.perf_counter(), time.process_time()
    out = find_gaps(villages, coverage)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    queue.put((seconds, cpu, _peak_mb(), out["has_fibre"].to_numpy(),
               out["has_mobile_broadband"].to_numpy()))


def indexed_reference(
    villages: gpd.GeoDataFrame, coverage: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """has fibre / has mobile broadband with plain shapely STRtree queries (exact)."""
    polygons = villages.geometry.to_numpy()
    location = shapely.point_on_surface(polygons)
    points = coverage.geometry.to_numpy()
    tech = coverage["technology"].to_numpy()
    reach = coverage["reach_m"].to_numpy(dtype=float)
    poly_i, point_i = shapely.STRtree(points).query(polygons, predicate="intersects")
    result = []
    for techs in (["fibre"], ["5g", "4g", "3g"]):
        in_class = np.isin(tech, techs)
        hit = np.zeros(len(polygons), dtype=bool)
        hit[poly_i[in_class[point_i]]] = True
        members = np.flatnonzero(in_class)
        band = np.floor(np.log(np.maximum(reach[members], 1.0)) / np.log(1.25))
        for b in np.unique(band):
            idx = members[band == b]
            v, j = shapely.STRtree(points[idx]).query(
                location, predicate="dwithin", distance=reach[idx].max()
            )
            ok = shapely.distance(location[v], points[idx][j]) <= reach[idx][j]
            hit[v[ok]] = True
        result.append(hit)
    return result[0], result[1]


def run_reference(scale: float, case: str, queue: mp.Queue) -> None:
    from geo_dx.coverage import with_reach

    villages, coverage = make_case(scale, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coverage = with_reach(coverage)
    start, cpu = time.perf_counter(), time.process_time()
    fibre, mobile = indexed_reference(villages, coverage)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    queue.put((seconds, cpu, _peak_mb(), fibre, mobile))


def run_baseline(scale: float, case: str, queue: mp.Queue) -> None:
    """Buffer every point by its reach, union per class, intersect with village locations."""
    from geo_dx.coverage import with_reach

    villages, coverage = make_case(scale, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coverage = with_reach(coverage)
    start, cpu = time.perf_counter(), time.process_time()
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
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    queue.put((seconds, cpu, _peak_mb(), result[0], result[1]))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_process(target, scale: float, case: str):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(scale, case, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def _agreement(name: str, a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]):
    only_a = (a[0] & ~b[0]).sum() + (a[1] & ~b[1]).sum()
    only_b = (~a[0] & b[0]).sum() + (~a[1] & b[1]).sum()
    print(f"  agreement with {name}: fibre {np.mean(a[0] == b[0]):.5%}, "
          f"mobile {np.mean(a[1] == b[1]):.5%} "
          f"(find_gaps covered & {name} not: {only_a}, {name} covered & find_gaps not: "
          f"{only_b})")


def run_case(case: str, scale: float, repeat: int, baseline: bool) -> float:
    """Time one case; print its figures; return find_gaps / reference."""
    villages, coverage = make_case(scale, case)
    vertices = vertex_counts(villages)
    inside = shapely.STRtree(coverage.geometry.to_numpy()).query(villages.geometry.to_numpy(),
                                                                  predicate="intersects")[1]
    print(f"{case}: {len(villages):,} village polygons (vertices min {vertices.min()}, median "
          f"{np.median(vertices):.0f}, max {vertices.max()}), {len(coverage):,} points "
          f"({len(np.unique(inside)):,} inside a village); load {os.getloadavg()[0]:.1f}")
    del villages, coverage
    rows = {}
    # interleave runs so both see the same load
    for _ in range(repeat):
        for name, target in (("find_gaps", run_geo_dx), ("reference", run_reference)):
            t, cpu, peak, fibre, mobile = _in_process(target, scale, case)
            old = rows.get(name, (np.inf, np.inf, 0.0))
            rows[name] = (min(t, old[0]), min(cpu, old[1]), max(peak, old[2]), fibre, mobile)
    if baseline:
        rows["baseline"] = _in_process(run_baseline, scale, case)
    for name, (t, cpu, peak, fibre, mobile) in rows.items():
        print(f"  {name:10s}: {t:8.2f} s (cpu {cpu:6.2f} s)   peak {peak:7.0f} MB   "
              f"no fibre {(~fibre).sum():,}  no mobile {(~mobile).sum():,}")
    ratio = rows["find_gaps"][0] / rows["reference"][0]
    # cpu time counts find_gaps' two query threads twice: a conservative figure, and the
    # steadier one when other jobs share the cores
    print(f"  find_gaps / reference: {ratio:.2f} wall (target <= 0.7), "
          f"{rows['find_gaps'][1] / rows['reference'][1]:.2f} cpu")
    _agreement("reference", rows["find_gaps"][3:], rows["reference"][3:])
    if "baseline" in rows:
        print(f"  speed-up over baseline: {rows['baseline'][0] / rows['find_gaps'][0]:.1f} x")
        # buffers are polygons inscribed in the circle, so the baseline can only miss
        # villages right at the edge of a reach
        _agreement("baseline", rows["find_gaps"][3:], rows["baseline"][3:])
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of the country-scale case (default 1.0)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of find_gaps and the reference; the minimum is shown")
    parser.add_argument("--no-baseline", action="store_true", help="skip the slow baseline")
    parser.add_argument("--cases", default=",".join(CASES),
                        help=f"comma-separated cases among {', '.join(CASES)} (default all)")
    args = parser.parse_args()
    s = args.scale
    print(f"scale {s}: {int(100_000 * s):,} villages, {int(1_000_000 * s):,} measurement "
          f"points, {int(50_000 * s):,} sites/nodes per case (UTM 48N); "
          f"load {os.getloadavg()[0]:.1f}")
    ratios = {}
    for case in args.cases.split(","):
        if case not in CASES:
            parser.error(f"--cases: unknown case {case!r}; allowed: {', '.join(CASES)}")
        why = missing_outlines() if case == "communes" else None
        if why:
            print(f"{case}: skipped: {why}")
            continue
        # the naive baseline takes minutes per case: its speed-up is shown once
        ratios[case] = run_case(case, s, args.repeat, not args.no_baseline and case == "square")
    print("find_gaps / reference, side by side: "
          + ", ".join(f"{case} {ratio:.2f}" for case, ratio in ratios.items())
          + f" (target <= 0.7); load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
