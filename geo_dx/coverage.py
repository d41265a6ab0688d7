"""Coverage evidence: which villages a set of coverage points (or other evidence) reaches."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo_dx.config import Config
from geo_dx.errors import GeoDxWarning


@dataclass(frozen=True)
class Evidence:
    """
    Per-village coverage evidence that is not a coverage point (a raster, speed tiles).

    Attributes
    ----------
    technology_class
        ``"fibre"`` or ``"mobile"`` (mobile broadband).
    covered
        Boolean Series aligned to the villages' index: True where this evidence says covered.
    source
        ``"measured"``, ``"modelled"`` or ``"declared"``.
    label
        Short human name for summaries, e.g. ``"ookla mobile tiles"``.
    """

    technology_class: str
    covered: pd.Series
    source: str
    label: str


def with_reach(coverage: gpd.GeoDataFrame, *, config: Config | None = None) -> gpd.GeoDataFrame:
    """
    Add ``reach_m``: each point's ``range_m``, else its technology's default, capped.

    Rows of kind ``measurement`` without a range reach ``measurement_range_m``. Rows
    whose range exceeds the technology's ``max_range_m`` (OpenCellID ranges can be
    hundreds of km) are capped, with one warning that counts them.

    Examples
    --------
    >>> import shapely
    >>> pts = gpd.GeoDataFrame({"technology": ["4g", "4g"], "kind": ["site", "site"],
    ...                         "range_m": [np.nan, 900_000.0]},
    ...                        geometry=[shapely.Point(0, 0)] * 2, crs=4326)
    >>> with_reach(pts).reach_m.tolist()
    [4000.0, 15000.0]
    """
    config = config or Config()
    cov = config.coverage
    out = coverage.copy()
    tech = out["technology"]
    default = map_values(tech, cov.default_range_m)
    if "kind" in out:
        default = np.where((out["kind"] == "measurement").to_numpy(dtype=bool),
                           cov.measurement_range_m, default)
    range_m = (out["range_m"].to_numpy(dtype=float, na_value=np.nan) if "range_m" in out
               else np.full(len(out), np.nan))
    reach = np.where(np.isnan(range_m), default, range_m)
    cap = map_values(tech, cov.max_range_m)
    capped = reach > cap
    if capped.any():
        per_tech = ", ".join(f"{t}: {n}" for t, n in tech[capped].value_counts().items())
        warnings.warn(
            f"capped the reach of {capped.sum()} coverage point(s) at the configured "
            f"coverage.max_range_m ({per_tech})",
            GeoDxWarning,
            stacklevel=2,
        )
    out["reach_m"] = np.where(capped, cap, reach)
    return out


def map_values(values: pd.Series, mapping: Mapping[str, float]) -> np.ndarray:
    """
    ``values.map(mapping)`` as a float array (NaN where unmapped), fast on long columns.

    Factorises once, so a million rows with a handful of distinct values map in
    milliseconds.

    Examples
    --------
    >>> map_values(pd.Series(["4g", "fibre", "4g", None]), {"4g": 4000.0}).tolist()
    [4000.0, nan, 4000.0, nan]
    """
    codes, uniques = pd.factorize(values)
    lookup = np.array([float(mapping.get(u, np.nan)) for u in uniques] + [np.nan])
    return lookup[codes]


def category_codes(values: pd.Series, categories: Sequence[str]) -> np.ndarray:
    """
    Position of each value in ``categories`` (int8), -1 where absent or missing.

    Examples
    --------
    >>> category_codes(pd.Series(["3g", "fibre", "x"]), ("fibre", "3g")).tolist()
    [1, 0, -1]
    """
    codes, uniques = pd.factorize(values)
    where = {c: i for i, c in enumerate(categories)}
    lookup = np.array([where.get(u, -1) for u in uniques] + [-1], dtype=np.int8)
    return lookup[codes]


def covered_within_reach(
    target_xy: np.ndarray, point_xy: np.ndarray, reach_m: np.ndarray
) -> np.ndarray:
    """
    For each target, whether some point lies within that point's own reach of it.

    Exact and vectorised: points are grouped by reach (exactly when there are few
    distinct reaches, else in geometric bands whose borderline targets are checked
    pair by pair), and each group answers with one k-d tree nearest-neighbour query.

    Parameters
    ----------
    target_xy
        (n, 2) target coordinates in metres.
    point_xy
        (m, 2) point coordinates in metres.
    reach_m
        (m,) reach of each point; a target at exactly the reach is covered.

    Examples
    --------
    >>> covered_within_reach(np.array([[0.0, 0.0], [50.0, 0.0]]),
    ...                      np.array([[0.0, 10.0]]), np.array([20.0])).tolist()
    [True, False]
    """
    covered, _ = reach_and_nearest(target_xy, point_xy, reach_m, nearest=False)
    return covered


def reach_and_nearest(
    target_xy: np.ndarray,
    point_xy: np.ndarray,
    reach_m: np.ndarray,
    *,
    need: np.ndarray | None = None,
    nearest: bool = True,
    workers: int = 2,
) -> tuple[np.ndarray, np.ndarray | None]:
    """
    Which targets some point reaches, and (optionally) each target's nearest point distance.

    One k-d tree over all the points answers the nearest distance of every target;
    a target nearer than the smallest reach is covered, one farther than the largest
    is not, and only those in between are checked band by band (as in
    :func:`covered_within_reach`). Queries run on ``workers`` threads.

    Parameters
    ----------
    target_xy, point_xy, reach_m
        As in :func:`covered_within_reach`.
    need
        Boolean mask of targets whose coverage is wanted (default all); the others
        come back False. Nearest distances are always for every target.
    nearest
        Whether to compute nearest distances (else the second result is None).
    workers
        Threads for the k-d tree queries.

    Returns
    -------
    covered : numpy.ndarray
        (n,) bool.
    nearest_m : numpy.ndarray or None
        (n,) distance to the nearest point (inf without points).

    Examples
    --------
    >>> hit, d = reach_and_nearest(np.array([[0.0, 0.0], [50.0, 0.0]]),
    ...                            np.array([[0.0, 10.0]]), np.array([20.0]))
    >>> hit.tolist(), d.round(1).tolist()
    ([True, False], [10.0, 51.0])
    """
    n = len(target_xy)
    todo = np.ones(n, dtype=bool) if need is None else np.asarray(need, dtype=bool).copy()
    covered = np.zeros(n, dtype=bool)
    if len(point_xy) == 0 or n == 0:
        return covered, (np.full(n, np.inf) if nearest else None)
    reach_m = np.asarray(reach_m, dtype=float)
    lo, hi = float(reach_m.min()), float(reach_m.max())
    tree = _tree(point_xy)
    nearest_m = None
    if nearest:
        nearest_m, _ = tree.query(target_xy, k=1, workers=workers)
        covered = todo & (nearest_m <= _loose(lo))
        todo &= ~covered & (nearest_m <= _loose(hi))
        if lo == hi:
            return covered, nearest_m
    pending = np.flatnonzero(todo)
    if len(pending) == 0:
        return covered, nearest_m
    # the few nearest points within the largest reach usually settle a target; only
    # targets with more candidates than that go through the reach bands
    k = min(_K_NEAREST, len(point_xy))
    dist, idx = tree.query(target_xy[pending], k=k, distance_upper_bound=_loose(hi),
                           workers=workers)
    dist, idx = dist.reshape(len(pending), k), idx.reshape(len(pending), k)
    reach_pad = np.append(reach_m, -np.inf)  # idx == len(points) marks "no neighbour"
    ok = (dist <= reach_pad[idx] * (1 + REACH_EPS) + REACH_EPS).any(axis=1)
    covered[pending[ok]] = True
    if k < len(point_xy):
        unresolved = pending[~ok & np.isfinite(dist[:, -1])]
        if len(unresolved):
            rest = np.zeros(n, dtype=bool)
            rest[unresolved] = True
            _cover_by_bands(covered, rest, target_xy, point_xy, reach_m, workers)
    return covered, nearest_m


def pairs_within_reach(
    target_xy: np.ndarray, point_xy: np.ndarray, reach_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """
    Every (point, target) pair with the target within the point's own reach.

    The same tolerance as :func:`reach_and_nearest` (a target at exactly the reach is
    within it); points with a non-finite reach or position reach nothing.

    Examples
    --------
    >>> p, t = pairs_within_reach(np.array([[0.0, 0.0], [50.0, 0.0]]),
    ...                           np.array([[0.0, 10.0], [50.0, 0.0]]), np.array([20.0, 0.0]))
    >>> p.tolist(), t.tolist()
    ([0, 1], [0, 1])
    """
    empty = np.zeros(0, dtype=np.int64)
    reach_m = np.asarray(reach_m, dtype=float).reshape(-1)
    point_xy = np.asarray(point_xy, dtype=float).reshape(-1, 2)
    ok = np.flatnonzero(np.isfinite(reach_m) & np.isfinite(point_xy).all(axis=1))
    if len(ok) == 0 or len(target_xy) == 0:
        return empty, empty
    hits = _tree(np.asarray(target_xy, dtype=float)).query_ball_point(
        point_xy[ok], r=_loose(reach_m[ok]))
    counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
    if counts.sum() == 0:
        return empty, empty
    point_idx = np.repeat(ok, counts)
    target_idx = np.concatenate([np.asarray(h, dtype=np.int64) for h in hits if len(h)])
    return point_idx, target_idx


def nearest_distance_m(target_xy: np.ndarray, point_xy: np.ndarray) -> np.ndarray:
    """Distance from each target to the nearest point (inf when there are no points)."""
    if len(point_xy) == 0:
        return np.full(len(target_xy), np.inf)
    dist, _ = _tree(point_xy).query(target_xy, k=1, workers=2)
    return dist


def _tree(point_xy: np.ndarray) -> cKDTree:
    # unbalanced, uncompacted trees build 2-3x faster and query as fast on clustered points
    return cKDTree(point_xy, balanced_tree=False, compact_nodes=False)


def _loose(reach: float | np.ndarray) -> float | np.ndarray:
    return reach * (1 + REACH_EPS) + REACH_EPS


def _cover_by_bands(
    covered: np.ndarray,
    todo: np.ndarray,
    target_xy: np.ndarray,
    point_xy: np.ndarray,
    reach_m: np.ndarray,
    workers: int,
) -> None:
    """Set ``covered`` for targets in ``todo`` reached by some point (in place)."""
    for lo, hi, members in _reach_bands(reach_m):
        pending = np.flatnonzero(todo & ~covered)
        if len(pending) == 0:
            break
        tree = _tree(point_xy[members])
        dist, _ = tree.query(target_xy[pending], k=1, distance_upper_bound=_loose(hi),
                             workers=workers)
        covered[pending[dist <= _loose(lo)]] = True
        borderline = pending[(dist > _loose(lo)) & np.isfinite(dist)]
        if len(borderline):
            covered[borderline] = _check_pairs(
                tree, target_xy[borderline], point_xy[members], reach_m[members], hi
            )


#: Relative and absolute tolerance of "within reach" (a point at exactly its reach covers).
REACH_EPS = 1e-9
_K_NEAREST = 8
_MAX_EXACT_GROUPS = 48
_BAND_RATIO = 1.25


def _reach_bands(reach_m: np.ndarray) -> list[tuple[float, float, np.ndarray]]:
    """Group point indices by reach: (lowest reach, highest reach, indices), largest first."""
    values = np.unique(reach_m)
    if len(values) <= _MAX_EXACT_GROUPS:
        return [(v, v, np.flatnonzero(reach_m == v)) for v in values[::-1]]
    positive = np.maximum(reach_m, 1.0)
    band = np.floor(np.log(positive) / np.log(_BAND_RATIO)).astype(np.int64)
    out = []
    for b in np.unique(band)[::-1]:
        members = np.flatnonzero(band == b)
        out.append((float(reach_m[members].min()), float(reach_m[members].max()), members))
    return out


def _check_pairs(
    tree: cKDTree, targets: np.ndarray, points: np.ndarray, reach: np.ndarray, hi: float
) -> np.ndarray:
    """Exact check for targets whose nearest point sits between a band's reaches."""
    lists = tree.query_ball_point(targets, r=_loose(hi))
    lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    flat = np.fromiter((j for x in lists for j in x), dtype=np.int64, count=int(lengths.sum()))
    owner = np.repeat(np.arange(len(targets)), lengths)
    d = np.hypot(*(targets[owner] - points[flat]).T)
    ok = d <= reach[flat] * (1 + REACH_EPS) + REACH_EPS
    result = np.zeros(len(targets), dtype=bool)
    result[owner[ok]] = True
    return result


def points_in_polygons(
    villages: gpd.GeoSeries, points: np.ndarray, *, workers: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """
    Pairs (point position, village position) where a point lies in a village polygon.

    A tree of the points is queried with the polygons' boxes (one query per polygon,
    not per point), and each candidate pair is tested exactly (boundary included).
    The polygons are shared among ``workers`` threads (shapely releases the GIL).

    Examples
    --------
    >>> villages = gpd.GeoSeries([shapely.box(0, 0, 10, 10), shapely.Point(5, 5),
    ...                           shapely.box(20, 0, 30, 10)])
    >>> points = shapely.points([[5, 5], [10, 3], [15, 5], [25, 5]])
    >>> sorted(zip(*[p.tolist() for p in points_in_polygons(villages, points)]))
    [(0, 0), (1, 0), (3, 2)]
    """
    geoms = villages.to_numpy()
    positions = np.flatnonzero(shapely.get_type_id(geoms) > 0)  # not points, not missing
    if len(positions) == 0 or len(points) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    tree = shapely.STRtree(points)
    # every point's coordinates read once, in order, then picked: reading the geometries
    # in the pairs' scattered order is several times slower on large layers
    xy = shapely.get_coordinates(points)
    if len(xy) != len(points):  # empty or multi-part points: read them pair by pair
        xy = None

    def inside(chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        polygons = geoms[chunk]
        poly_pos, point_pos = tree.query(polygons)
        pair_xy = xy[point_pos] if xy is not None else shapely.get_coordinates(
            points[point_pos])
        ok = shapely.intersects_xy(polygons[poly_pos], pair_xy[:, 0], pair_xy[:, 1])
        return point_pos[ok], chunk[poly_pos[ok]]

    chunks = np.array_split(positions, max(1, min(workers, len(positions) // 1000)))
    if len(chunks) == 1:
        return inside(chunks[0])
    with ThreadPoolExecutor(len(chunks)) as pool:
        found = list(pool.map(inside, chunks))
    return (np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found]))
