"""Benchmark: the whole run (analyse + write) on a synthetic country, stage by stage.

The country is the synthetic demo province tiled into a grid of provinces (1x, 10x,
60x the demo), plus measurement points around the mobile sites (~16,700 per province,
so ~1,000,000 at 60x) and a DEM over the whole extent given at 30 m (the demo's 100 m
DEM tiled and resampled). At 60x that is 99,000 villages, 2,700 communes, ~86,600
sites and fibre nodes, ~1,000,000 measurements and a 30 m DEM of ~960 million cells.

Each scale runs in its own process (``geo-dx run``'s ``analyse`` + ``write`` with
``crs = "EPSG:32648"``); the table gives each stage's wall time and the process's
peak memory at the end of the stage, and each stage's growth exponent
``log(t_big / t_small) / log(villages_big / villages_small)`` (1 = linear).

    .venv/bin/python benchmarks/bench_country.py [--scales 1 10 60] [--repeat 2]
        [--data /tmp/geo_dx_country] [--keep]

Generated inputs are cached under ``--data`` (the 60x DEM is ~1 GB compressed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

UTM48N = "EPSG:32648"
LAYOUT = {1: (1, 1), 2: (2, 1), 10: (5, 2), 60: (6, 10)}
MEASUREMENTS_PER_PROVINCE = 16_700
DEM_CELL_M = 30.0


def layout(scale: int) -> tuple[int, int]:
    """(columns, rows) of provinces for a scale."""
    if scale in LAYOUT:
        return LAYOUT[scale]
    cols = max(1, int(math.sqrt(scale)))
    return cols, math.ceil(scale / cols)


def make_country(scale: int, folder: Path) -> dict[str, str]:
    """Write the tiled country's input files into ``folder`` (cached); return their paths."""
    import geopandas as gpd
    import pandas as pd
    import rasterio

    from geo_dx.demo import demo_paths

    done = folder / "done.json"
    if done.exists():
        return json.loads(done.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    demo = demo_paths()
    with rasterio.open(demo.dem) as src:
        dem100 = src.read(1)
        left, top = src.bounds.left, src.bounds.top
        width_m = src.bounds.right - src.bounds.left
        height_m = src.bounds.top - src.bounds.bottom
        nodata = src.nodata
    cols, rows = layout(scale)
    offsets = [(c * width_m, -r * height_m) for r in range(rows) for c in range(cols)][:scale]

    def tiled(path: Path, ids: tuple[str, ...]) -> gpd.GeoDataFrame:
        base = gpd.read_file(path).to_crs(UTM48N)
        parts = []
        for i, (dx, dy) in enumerate(offsets):
            part = base.copy()
            part.geometry = base.geometry.translate(dx, dy)
            for column in ids:
                if column in part:
                    part[column] = np.where(part[column].isna(), None,
                                            f"P{i:02d}-" + part[column].astype(str))
            parts.append(part)
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=UTM48N)

    paths: dict[str, str] = {}
    for name, src_path, ids in (
        ("communes", demo.communes, ("commune_id",)),
        ("villages", demo.villages, ("village_id", "commune_id")),
        ("towns", demo.towns, ("commune_id",)),
        ("roads", demo.roads, ("road_id",)),
    ):
        layer = tiled(src_path, ids)
        if name == "communes":
            layer["province"] = [f"Tỉnh {i // 45:02d}" for i in range(len(layer))]
        paths[name] = str(folder / f"{name}.gpkg")
        layer.to_file(paths[name], engine="pyogrio")
    coverage = []
    for i, src_path in enumerate(demo.coverage):
        layer = tiled(src_path, ("site_id", "node_id"))
        paths[f"coverage{i}"] = str(folder / f"coverage{i}.gpkg")
        layer.to_file(paths[f"coverage{i}"], engine="pyogrio")
        coverage.append(layer)
    sites = tiled(next(p for p in demo.coverage if "mobile" in p.name), ())
    paths["measurements"] = str(folder / "measurements.parquet")
    _measurements(sites, scale).to_parquet(paths["measurements"])
    paths["dem"] = str(folder / "dem_30m.tif")
    _write_dem(paths["dem"], dem100, nodata, left, top, cols, rows, offsets)
    done.write_text(json.dumps(paths))
    return paths


def _measurements(sites, scale: int):
    """Drive-test-like points scattered around mobile broadband sites (measured 4g/3g)."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(13)
    broadband = sites[sites["technology"].isin(["4g", "3g", "5g", "LTE", "lte"])]
    n = MEASUREMENTS_PER_PROVINCE * scale
    at = broadband.geometry.to_numpy()[rng.integers(0, len(broadband), n)]
    xy = shapely.get_coordinates(at) + rng.normal(0, 1500, (n, 2))
    return gpd.GeoDataFrame(
        {"technology": rng.choice(["4g", "3g"], n, p=[0.8, 0.2]),
         "kind": "measurement", "source": "measured"},
        geometry=shapely.points(xy), crs=UTM48N,
    )


def _write_dem(path, dem100, nodata, left, top, cols, rows, offsets) -> None:
    """Tile the 100 m demo DEM over the layout and write it resampled to 30 m, strip by strip."""
    import rasterio
    from affine import Affine
    from rasterio.warp import Resampling, reproject

    h, w = dem100.shape
    mosaic = np.full((rows * h, cols * w), -32768, dtype=np.int16)
    for dx, dy in offsets:
        c, r = round(dx / (w * 100)), round(-dy / (h * 100))
        tile = np.where(dem100 == nodata, -32768, dem100) if nodata is not None else dem100
        mosaic[r * h:(r + 1) * h, c * w:(c + 1) * w] = tile
    src_transform = Affine(100, 0, left, 0, -100, top)
    width = int(cols * w * 100 // DEM_CELL_M)
    height = int(rows * h * 100 // DEM_CELL_M)
    dst_transform = Affine(DEM_CELL_M, 0, left, 0, -DEM_CELL_M, top)
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1,
               "dtype": "int16", "crs": UTM48N, "transform": dst_transform,
               "nodata": -32768, "tiled": True, "blockxsize": 512, "blockysize": 512,
               "compress": "deflate", "predictor": 2, "zlevel": 1, "BIGTIFF": "YES"}
    strip = 2048
    with rasterio.open(path, "w", **profile) as dst:
        for r0 in range(0, height, strip):
            n = min(strip, height - r0)
            out = np.full((n, width), -32768, dtype=np.int16)
            reproject(mosaic, out, src_transform=src_transform, src_crs=UTM48N,
                      dst_transform=dst_transform @ Affine.translation(0, r0), dst_crs=UTM48N,
                      resampling=Resampling.bilinear, src_nodata=-32768, dst_nodata=-32768)
            dst.write(out, 1, window=rasterio.windows.Window(0, r0, width, n))


def worker(paths: dict[str, str], out_dir: str) -> None:
    """One run in this process; prints a JSON line of stage records."""
    from geo_dx.config import config_from_dict
    from geo_dx.run.pipeline import RunInputs, analyse, write
    from geo_dx.run.progress import recording

    inputs = RunInputs(
        communes=Path(paths["communes"]),
        villages=Path(paths["villages"]),
        coverage=tuple(Path(paths[k]) for k in sorted(paths) if k.startswith("coverage"))
        + (Path(paths["measurements"]),),
        dem=Path(paths["dem"]),
        towns=Path(paths["towns"]),
        roads=Path(paths["roads"]),
        title="Synthetic country (benchmark)",
    )
    config = config_from_dict({"crs": UTM48N})
    start = time.perf_counter()
    with recording() as log:
        result = analyse(inputs, config=config)
        write(result, out_dir)
    total = time.perf_counter() - start
    out = Path(out_dir)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(json.dumps({
        "records": [[r.name, r.seconds, r.peak_mb] for r in log.records],
        "total_s": total,
        "villages": len(result.villages),
        "communes": len(result.communes),
        "coverage": len(result.coverage),
        "output_mb": size / 1e6,
        "map_mb": (out / "map.html").stat().st_size / 1e6 if (out / "map.html").exists() else 0,
        "without_fibre": int((~result.villages["has_fibre"]).sum()),
        "without_mobile": int((~result.villages["has_mobile_broadband"]).sum()),
    }))


STAGES = ("read inputs", "read DEM", "gaps", "coverage raster", "travel time", "scoring",
          "write raster", "maps", "write (tables, rest)")


def _stage_table(run: dict) -> dict[str, tuple[float, float]]:
    seconds: dict[str, float] = {}
    peak: dict[str, float] = {}
    for name, s, p in run["records"]:
        seconds[name] = seconds.get(name, 0.0) + s
        peak[name] = max(peak.get(name, 0.0), p)
    inner = seconds.get("maps", 0.0) + seconds.get("write raster", 0.0)
    seconds["write (tables, rest)"] = seconds.pop("write", 0.0) - inner
    peak["write (tables, rest)"] = peak.pop("write", 0.0)
    analysed = sum(seconds.get(k, 0.0) for k in STAGES)
    seconds["other"] = max(run["total_s"] - analysed, 0.0)
    return {k: (seconds.get(k, 0.0), peak.get(k, 0.0)) for k in (*STAGES, "other")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 60])
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs per scale below 60x (min shown); 60x runs once")
    parser.add_argument("--data", type=Path, default=Path("/tmp/geo_dx_country"))
    parser.add_argument("--keep", action="store_true", help="keep the output folders")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker[0]), args.worker[1])
        return
    runs = {}
    for scale in args.scales:
        t0 = time.perf_counter()
        paths = make_country(scale, args.data / f"x{scale}")
        print(f"{scale}x: inputs ready in {time.perf_counter() - t0:.0f} s "
              f"({args.data / f'x{scale}'})", flush=True)
        best = None
        for _ in range(args.repeat if scale < 60 else 1):
            out = args.data / f"out{scale}"
            shutil.rmtree(out, ignore_errors=True)
            load = os.getloadavg()[0]
            proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(paths),
                                   str(out)], capture_output=True, text=True)
            if proc.returncode:
                sys.exit(f"{scale}x failed:\n{proc.stderr[-3000:]}")
            run = json.loads(proc.stdout.strip().splitlines()[-1])
            run["load"] = load
            print(f"  {scale}x: {run['total_s']:.0f} s, peak "
                  f"{max(r[2] for r in run['records']) / 1024:.1f} GB, load {load:.1f}",
                  flush=True)
            if best is None or run["total_s"] < best["total_s"]:
                best = run
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
        runs[scale] = best
    _print(runs)


def _print(runs: dict[int, dict]) -> None:
    scales = sorted(runs)
    tables = {s: _stage_table(runs[s]) for s in scales}
    print()
    print("| | " + " | ".join(f"{s}x" for s in scales) + " |")
    print("|---|" + "---|" * len(scales))
    for key, label in (("villages", "villages"), ("communes", "communes"),
                       ("coverage", "coverage points")):
        print(f"| {label} | " + " | ".join(f"{runs[s][key]:,}" for s in scales) + " |")
    print()
    head = " | ".join(f"{s}x s | {s}x peak GB" for s in scales)
    print(f"| stage | {head} | exponent |")
    print("|---|" + "---|---|" * len(scales) + "---|")
    lo, hi = scales[0], scales[-1]
    ratio = runs[hi]["villages"] / runs[lo]["villages"]
    for stage in (*STAGES, "other"):
        cells = " | ".join(f"{tables[s][stage][0]:.1f} | {tables[s][stage][1] / 1024:.2f}"
                           for s in scales)
        a, b = tables[lo][stage][0], tables[hi][stage][0]
        exponent = (f"{math.log(b / a) / math.log(ratio):.2f}"
                    if a > 0.05 and b > 0 and ratio > 1 else "-")
        print(f"| {stage} | {cells} | {exponent} |")
    totals = " | ".join(
        f"**{runs[s]['total_s']:.0f}** | **{max(r[2] for r in runs[s]['records']) / 1024:.1f}**"
        for s in scales)
    a, b = runs[lo]["total_s"], runs[hi]["total_s"]
    exponent = f"{math.log(b / a) / math.log(ratio):.2f}" if ratio > 1 else "-"
    print(f"| **total** | {totals} | {exponent} |")
    print()
    for s in scales:
        r = runs[s]
        print(f"{s}x: output {r['output_mb']:.0f} MB (map.html {r['map_mb']:.1f} MB); "
              f"{r['without_fibre']:,} without fibre, {r['without_mobile']:,} without mobile "
              f"broadband; load at start {r['load']:.1f}")


if __name__ == "__main__":
    main()
