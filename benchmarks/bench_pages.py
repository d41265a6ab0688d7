#!/usr/bin/env python3
"""Benchmark the demo's maps and pages with and without place context.

Analyses the embedded synthetic demo once, then writes its maps twice in the same run:

* ``baseline`` — ``write_maps`` without place context (no relief, roads or towns);
* ``context``  — with the relief from the demo DEM, its roads and towns
  (:class:`geo_dx.maps.write.PlaceContext`), as ``geo-dx run`` does.

Prints build times, the size of ``map.html``, of all commune pages and of the relief image,
and the ratios context / baseline.

Run: ``.venv/bin/python benchmarks/bench_pages.py``
"""

from __future__ import annotations

import base64
import shutil
import tempfile
import time
from pathlib import Path

import geopandas as gpd

from geo_dx.maps.write import PlaceContext, write_maps
from geo_dx.run.pipeline import analyse, demo_inputs


def mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def main() -> None:
    inputs = demo_inputs()
    t0 = time.perf_counter()
    result = analyse(inputs)
    print(f"demo analysed in {time.perf_counter() - t0:.1f} s "
          f"({len(result.villages):,} villages, {len(result.communes)} communes)")
    roads, towns = gpd.read_file(inputs.roads), gpd.read_file(inputs.towns)
    t0 = time.perf_counter()
    context = PlaceContext.from_layers(dem=result.overlay, roads=roads, towns=towns)
    t_context = time.perf_counter() - t0
    relief = base64.b64decode(context.relief.png_uri().split(",", 1)[1])
    print(f"place context: {t_context:.2f} s; relief {context.relief.levels.shape[1]} x "
          f"{context.relief.levels.shape[0]} px, PNG {len(relief) / 1e3:.0f} kB")
    out = Path(tempfile.mkdtemp(prefix="geodx-bench-pages-"))
    figures = {}
    try:
        for case, ctx in (("baseline", None), ("context", context)):
            folder = out / case
            t0 = time.perf_counter()
            paths = write_maps(folder, result.villages, result.communes, result.coverage,
                               title=inputs.title, context=ctx)
            elapsed = time.perf_counter() - t0
            main_map = (folder / "map.html").stat().st_size
            pages = sum(p.stat().st_size for p in (folder / "communes").glob("*.html"))
            figures[case] = (elapsed, main_map, pages)
            print(f"{case:9s} write_maps {elapsed:5.1f} s, {len(paths)} files; map.html "
                  f"{mb(main_map)}; commune pages {mb(pages)} "
                  f"({pages / max(1, len(paths) - 2) / 1e3:.0f} kB each)")
        (tb, mb_, pb), (tc, mc, pc) = figures["baseline"], figures["context"]
        print(f"ratio context/baseline: time {tc / tb:.2f}x, map.html {mc / mb_:.2f}x, "
              f"commune pages {pc / pb:.2f}x")
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
