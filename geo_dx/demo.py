"""The embedded synthetic demo province: generated from a fixed seed, never real data.

:func:`generate_demo` builds a mountain province of about 9,500 km² near 21.4°N 103.0°E (in
the spirit of Điện Biên and Sơn La): a DEM with ridges and river valleys, ~45 communes,
~1,650 villages mostly in valleys (the remotest 2.5 % without grid power:
``has_grid_power``), towns, roads, mobile sites and fibre nodes. Operators then "build"
sites and nodes in order of population and road access until the project's own analysis
(:func:`geo_dx.find_gaps`, with the demo DEM) reports the published Điện Biên figures: 86
villages without mobile broadband and 261 without fibre. The calibration calls the real
analysis, so the figures agree by construction and re-running the generator re-calibrates
against whatever the analysis does then.

Every layer is labelled as synthetic (:data:`DEMO_TITLE`, province
``"Synthetic province"``); names are invented in a Vietnamese style.

Examples
--------
>>> demo = load_demo()
>>> demo.title
'Synthetic demo province (not real data)'
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import Point

from geo_dx import _demo_world as _w
from geo_dx._demo_world import DEMO_CRS, DEMO_PROVINCE
from geo_dx._version import __version__
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.i18n import N_

__all__ = [
    "DEMO_CRS", "DEMO_PROVINCE", "DEMO_SEED", "DEMO_TITLE", "TARGET_WITHOUT_FIBRE",
    "TARGET_WITHOUT_MOBILE", "Demo", "DemoPaths", "demo_paths", "generate_demo", "load_demo",
    "paths_in",
]

logger = logging.getLogger(__name__)

#: Title used by maps and summaries whenever the demo is shown.
DEMO_TITLE = N_("Synthetic demo province (not real data)")
#: Seed of the committed demo data.
DEMO_SEED = 20250701
#: The committed demo data of a repository checkout (absent in a wheel install).
_REPO_DATA = Path(__file__).resolve().parents[1] / "data"
#: Written beside a demo generated with ``out_dir``: its files and their hashes.
_MARKER = ".geo_dx-demo.json"
#: Published Điện Biên figures the demo is calibrated to.
TARGET_WITHOUT_MOBILE = 86
TARGET_WITHOUT_FIBRE = 261

_OPERATORS = ("Viettel", "VNPT", "MobiFone")
_FILES = {
    "communes": "boundaries/communes.gpkg",
    "villages": "boundaries/villages.gpkg",
    "mobile": "coverage/mobile_sites.gpkg",
    "fibre": "coverage/fibre_nodes.gpkg",
    "dem": "terrain/dem.tif",
    "towns": "terrain/towns.gpkg",
    "roads": "terrain/roads.gpkg",
}
# Invented name parts in the style of Thái, H'Mông and Khơ Mú place names.
@dataclass(frozen=True)
class DemoPaths:
    """Files of a generated demo."""

    communes: Path
    villages: Path
    coverage: tuple[Path, ...]
    dem: Path
    towns: Path
    roads: Path

    def all(self) -> tuple[Path, ...]:
        """Every file, in a fixed order."""
        return (self.communes, self.villages, *self.coverage, self.dem, self.towns, self.roads)


@dataclass(frozen=True)
class Demo:
    """The demo layers, read and validated like any user input."""

    communes: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    coverage: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    dem_path: Path
    title: str = DEMO_TITLE


def paths_in(directory: str | Path) -> DemoPaths:
    """The demo file layout under ``directory`` (files may not exist yet)."""
    d = Path(directory)
    return DemoPaths(
        communes=d / _FILES["communes"],
        villages=d / _FILES["villages"],
        coverage=(d / _FILES["mobile"], d / _FILES["fibre"]),
        dem=d / _FILES["dem"],
        towns=d / _FILES["towns"],
        roads=d / _FILES["roads"],
    )


def demo_paths() -> DemoPaths:
    """
    Files of the demo: the repository's ``data/`` when complete, else a cache.

    The cache is ``$GEO_DX_CACHE`` or ``~/.cache/geo_dx/demo-<version>``; it is
    generated on first use, so an install from a wheel still has the demo.

    Examples
    --------
    >>> demo_paths().villages.name
    'villages.gpkg'
    """
    repo = paths_in(_REPO_DATA)
    if all(p.is_file() for p in repo.all()):
        return repo
    cache = _cache_dir()
    paths = paths_in(cache)
    if not all(p.is_file() for p in paths.all()):
        logger.info("generating the synthetic demo into %s (first use)", cache)
        generate_demo(cache)
    return paths


def load_demo() -> Demo:
    """
    Read the demo layers through geo_dx's own readers.

    Examples
    --------
    >>> demo = load_demo()
    >>> demo.title
    'Synthetic demo province (not real data)'
    """
    from geo_dx.io import read_communes, read_coverage, read_villages

    paths = demo_paths()
    return Demo(
        communes=read_communes(paths.communes),
        villages=read_villages(paths.villages),
        coverage=read_coverage(list(paths.coverage)),
        towns=gpd.read_file(paths.towns),
        roads=gpd.read_file(paths.roads),
        dem_path=paths.dem,
    )


def generate_demo(
    out_dir: str | Path | None = None, *, seed: int = DEMO_SEED, size: float = 1.0
) -> DemoPaths:
    """
    Generate the synthetic demo province and write its files atomically.

    Parameters
    ----------
    out_dir
        Directory to write into; default the repository's ``data/``.
    seed
        Random seed; the same seed gives the same layers.
    size
        Scale of the province: 1.0 is ~9,500 km², ~45 communes and ~1,650 villages;
        smaller values shrink area, counts and calibration targets in proportion
        (handy for tests).

    Returns
    -------
    DemoPaths

    Examples
    --------
    >>> import tempfile
    >>> paths = generate_demo(Path(tempfile.mkdtemp()) / "demo", size=0.02)
    >>> all(p.is_file() for p in paths.all())
    True
    """
    if not 0.02 <= size <= 4.0:
        raise ValueError(f"`size` was {size!r} but must be between 0.02 and 4.0")
    out = Path(out_dir) if out_dir is not None else _REPO_DATA
    if out_dir is not None:  # the repository's own data/ is always the demo's
        check_demo_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        _build(tmp, np.random.default_rng(seed), size)
        if out_dir is not None:
            _write_marker(tmp)
        if not out.exists():
            os.chmod(tmp, 0o777 & ~_umask())
            os.replace(tmp, out)
        else:
            for rel in (*_FILES.values(), *([_MARKER] if out_dir is not None else [])):
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp / rel, out / rel)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return paths_in(out)


def check_demo_folder(out: str | Path) -> None:
    """
    Refuse to generate the demo into ``out`` when that would overwrite a file of the user's.

    ``out`` may be new, hold none of the demo's file names, or hold a demo generated there
    before whose files are unchanged (``.geo_dx-demo.json`` records them); anything else
    is refused with one line naming the file (:class:`~geo_dx.errors.InputError`).

    Examples
    --------
    >>> import tempfile
    >>> check_demo_folder(tempfile.mkdtemp())  # an empty folder: fine
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is an existing file, not a folder; give a new folder")
    present = [rel for rel in _FILES.values() if (out / rel).exists()]
    if not present:
        return
    try:
        recorded = json.loads((out / _MARKER).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        recorded = None
    for rel in present:
        if not isinstance(recorded, dict) or recorded.get(rel) != _sha256(out / rel):
            why = ("is not a previous demo" if not isinstance(recorded, dict)
                   else "changed since geo_dx generated it")
            raise InputError(f"--out {out}: holds {rel} and {why}; the demo would overwrite "
                             "it, so give a new or empty folder, e.g. --out demo_data")


def _write_marker(folder: Path) -> None:
    """Record the demo's files (with their hashes) so a later --regenerate knows them."""
    files = {rel: _sha256(folder / rel) for rel in _FILES.values()}
    (folder / _MARKER).write_text(json.dumps({"generator": f"geo_dx {__version__}",
                                              "files": files}, indent=2), encoding="utf-8")


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _cache_dir() -> Path:
    env = os.environ.get("GEO_DX_CACHE")
    if env:
        return Path(env)
    from importlib.metadata import PackageNotFoundError, version

    try:
        ver = version("geo_dx")
    except PackageNotFoundError:
        ver = "dev"
    return Path.home() / ".cache" / "geo_dx" / f"demo-{ver}"


def _build(tmp: Path, rng: np.random.Generator, size: float) -> None:
    world = _w.build_world(rng, size)
    seats = _w.place_seats(world)
    communes = _w.make_communes(world, seats)
    villages = _w.place_villages(world, communes)
    towns = _w.make_towns(seats, communes)
    roads = _w.make_roads(world, seats, villages)
    villages = _w.village_attributes(world, villages, towns, roads)
    communes = _w.commune_attributes(communes, villages)
    villages = _w.blank_some_communes(world, villages)
    _write_dem(world, tmp / _FILES["dem"])
    mobile, fibre = _coverage(world, villages, communes, towns, roads, tmp / _FILES["dem"])
    villages = _w.grid_power(villages)  # after the calibration, which it does not change
    # Access tracks come last: the villages' remoteness and the operators' sites and nodes
    # were placed from the main and local roads, and the tracks use no random numbers, so
    # every other layer is the same with or without them.
    roads = _w.join_roads(pd.concat([roads, _w.make_tracks(world, villages, roads)],
                                    ignore_index=True))
    layers = {
        "communes": communes, "villages": villages.drop(columns=["_remote", "_road_m"]),
        "mobile": mobile, "fibre": fibre,
        "towns": towns, "roads": roads,
    }
    for key, frame in layers.items():
        path = tmp / _FILES[key]
        path.parent.mkdir(parents=True, exist_ok=True)
        out = frame.to_crs("EPSG:4326")
        out.to_file(path, layer=path.stem, driver="GPKG", engine="pyogrio")


def _write_dem(world: _w.World, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.rint(world.elevation_m).astype(np.int16)
    profile = {
        "driver": "GTiff", "height": data.shape[0], "width": data.shape[1], "count": 1,
        "dtype": "int16", "crs": DEMO_CRS, "transform": world.transform, "nodata": -32768,
        "compress": "deflate", "predictor": 2, "zlevel": 9, "tiled": True,
        "blockxsize": 256, "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(TITLE=DEMO_TITLE, UNITS="metres")


# -------------------------------------------------------------------- coverage


class _GapCounter:
    """Runs the project's analysis on the demo layers the way a default run does
    (:func:`geo_dx.run.pipeline.analyse`): validated layers, ``with_reach``, the DEM read
    once in the villages' UTM zone, :func:`geo_dx.find_gaps` with communes and DEM."""

    def __init__(self, villages: gpd.GeoDataFrame, communes: gpd.GeoDataFrame,
                 dem_path: Path) -> None:
        from geo_dx.dem import read_dem
        from geo_dx.schema import validate_communes, validate_villages
        from geo_dx.spatial import working_crs

        public = [c for c in villages.columns if not c.startswith("_")]
        self.villages = validate_villages(villages[public].to_crs("EPSG:4326"))
        self.communes = validate_communes(communes.to_crs("EPSG:4326"))
        self.dem = read_dem(dem_path, crs=working_crs(self.villages))
        self.calls = 0

    def uncovered(self, coverage: gpd.GeoDataFrame, column: str) -> np.ndarray:
        """Boolean array aligned to the villages: True where ``column`` is False."""
        from geo_dx.coverage import with_reach
        from geo_dx.gaps import find_gaps
        from geo_dx.schema import validate_coverage

        self.calls += 1
        public = [c for c in coverage.columns if not c.startswith("_")]
        cov = with_reach(validate_coverage(coverage[public].to_crs("EPSG:4326")))
        with warnings.catch_warnings():  # one technology at a time: "no fibre point" is by design
            warnings.simplefilter("ignore", GeoDxWarning)
            result = find_gaps(self.villages, cov, communes=self.communes, dem=self.dem)
        has = result.set_index("village_id")[column].reindex(self.villages["village_id"])
        return ~has.fillna(False).to_numpy(dtype=bool)


def _calibrate(candidates: gpd.GeoDataFrame, uncovered: Callable[[gpd.GeoDataFrame], np.ndarray],
               target: int, *, label: str) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Shortest prefix of the ordered candidates leaving ``target`` villages uncovered.

    The uncovered count can only fall as candidates are added, so a bisection finds
    the prefix; when one candidate jumps past the target, a few later candidates are
    tried in its place to land on it exactly.
    """
    cache: dict[int, np.ndarray] = {}

    def at(k: int) -> np.ndarray:
        if k not in cache:
            cache[k] = uncovered(candidates.iloc[:k])
        return cache[k]

    n = len(candidates)
    lo, hi = 0, n
    if at(hi).sum() > target:
        logger.warning("%s: every candidate built still leaves %d > %d uncovered",
                       label, at(hi).sum(), target)
        return candidates, at(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if at(mid).sum() <= target:
            hi = mid
        else:
            lo = mid
    best, best_mask = candidates.iloc[:hi], at(hi)
    if best_mask.sum() != target and lo > 0:
        for j in range(hi, min(n, hi + 8)):
            trial = pd.concat([candidates.iloc[:lo], candidates.iloc[[j]]])
            mask = uncovered(trial)
            if abs(mask.sum() - target) < abs(best_mask.sum() - target):
                best, best_mask = trial, mask
            if mask.sum() == target:
                break
    logger.info("%s: %d built, %d villages uncovered (target %d)", label, len(best),
                best_mask.sum(), target)
    return best, best_mask


def _points(rows: list[dict], crs: str = DEMO_CRS) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows)
    geom = gpd.points_from_xy(frame.pop("x"), frame.pop("y"))
    return gpd.GeoDataFrame(frame, geometry=geom, crs=crs)


def _site(rng: np.random.Generator, x: float, y: float, *, tech: str | None = None,
          operator: str | None = None, range_m: float | None = None) -> dict:
    tech = tech or str(rng.choice(["4g", "3g"], p=[0.85, 0.15]))
    if range_m is None and rng.random() < 0.4:
        range_m = float(np.round(rng.uniform(2500, 7000), -2))
    return {
        "x": x, "y": y, "technology": tech,
        "operator": operator or str(rng.choice(_OPERATORS, p=[0.55, 0.25, 0.2])),
        "kind": "site", "source": "declared",
        "antenna_height_m": float(rng.integers(20, 46)), "range_m": range_m,
    }


def _coverage(world: _w.World, villages: gpd.GeoDataFrame, communes: gpd.GeoDataFrame,
              towns: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, dem_path: Path
              ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    rng = world.rng
    counter = _GapCounter(villages, communes, dem_path)
    vxy = np.c_[villages.geometry.x, villages.geometry.y]
    priority = villages["population"].to_numpy() * (1.3 - villages["_remote"].to_numpy())
    by_priority = np.argsort(-priority, kind="stable")

    # Mobile: towns, then road-side sites by population reached, then sites on hills
    # above the villages the first two leave uncovered, best-placed villages first.
    # Other operators share some town sites (same mast, so same height and reach).
    rows = []
    for i, t in enumerate(towns.itertuples()):
        mast = _site(rng, t.geometry.x, t.geometry.y, tech="4g", operator="Viettel",
                     range_m=np.nan)
        rows.append(mast)
        for op in ("VNPT", "MobiFone"):
            if i == 0 or rng.random() < 0.5:
                rows.append({**mast, "operator": op})
    road_pts = np.vstack([
        np.array(shapely.get_coordinates(shapely.line_interpolate_point(
            g, np.arange(1000, max(g.length, 1001), 2500))))
        for g in roads.geometry
    ])
    road_pts = road_pts[shapely.contains_xy(world.outline, road_pts[:, 0], road_pts[:, 1])]
    tree = cKDTree(vxy)
    pop = villages["population"].to_numpy()
    score = np.array([pop[h].sum() for h in tree.query_ball_point(road_pts, r=3500)])
    chosen = [np.array([r["x"], r["y"]]) for r in rows]
    for i in np.argsort(-score, kind="stable"):
        if score[i] <= 0:
            break
        if min(np.hypot(*(np.array(chosen) - road_pts[i]).T)) >= 3000:
            chosen.append(road_pts[i])
            rows.append(_site(rng, *_w.hilltop(world, *road_pts[i], 400)))
    stage_a = _points(rows)
    left = counter.uncovered(stage_a, "has_mobile_broadband")
    built: list[np.ndarray] = []
    for i in by_priority:
        if left[i] and all(np.hypot(*(b - vxy[i])) > 1500 for b in built):
            built.append(vxy[i])
            rows.append(_site(rng, *_w.hilltop(world, *vxy[i])))
    target_mobile = round(TARGET_WITHOUT_MOBILE * world.size)
    mobile, no_mobile = _calibrate(
        _points(rows), lambda c: counter.uncovered(c, "has_mobile_broadband"), target_mobile,
        label="mobile sites",
    )
    # Old 2g-only sites near some of the villages still without broadband.
    extra = [_site(rng, *_w.hilltop(world, *vxy[i], 1500), tech="2g", range_m=np.nan)
             for i in np.flatnonzero(no_mobile)[::3]]
    mobile = pd.concat([mobile, _points(extra)], ignore_index=True) if extra else mobile

    # Fibre: towns, then a node on the road nearest each village (or at the village when
    # no road passes within 1.2 km), best-placed villages first.
    nodes = [{"x": t.geometry.x, "y": t.geometry.y, "operator": "VNPT"}
             for t in towns.itertuples()]
    road_union = shapely.union_all(roads.geometry.values)
    road_m = villages["_road_m"].to_numpy()
    order = sorted(by_priority, key=lambda i: road_m[i] > 1200)
    placed = np.array([[n["x"], n["y"]] for n in nodes])
    for i in order:
        if np.hypot(*(placed - vxy[i]).T).min() <= 1400:
            continue
        if road_m[i] <= 1200:
            x, y = shapely.shortest_line(Point(vxy[i]), road_union).coords[1]
        else:
            x, y = vxy[i]
        nodes.append({"x": x, "y": y,
                      "operator": str(rng.choice(_OPERATORS, p=[0.4, 0.5, 0.1]))})
        placed = np.vstack([placed, [x, y]])
    fibre_cands = _points(nodes).assign(technology="fibre", kind="node", source="declared",
                                        range_m=np.nan)
    target_fibre = round(TARGET_WITHOUT_FIBRE * world.size)
    fibre, _ = _calibrate(fibre_cands, lambda c: counter.uncovered(c, "has_fibre"),
                          target_fibre, label="fibre nodes")

    mobile = mobile.reset_index(drop=True)
    mobile.insert(0, "site_id", [f"SYNS{i + 1:04d}" for i in range(len(mobile))])
    fibre = fibre.reset_index(drop=True)
    fibre.insert(0, "node_id", [f"SYNF{i + 1:04d}" for i in range(len(fibre))])
    both = pd.concat([mobile, fibre], ignore_index=True)
    final_m = counter.uncovered(both, "has_mobile_broadband").sum()
    final_f = counter.uncovered(both, "has_fibre").sum()
    logger.info("demo calibrated: %d without mobile broadband, %d without fibre (%d analysis "
                "runs)", final_m, final_f, counter.calls)
    return mobile, fibre
