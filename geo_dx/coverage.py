"""Coverage evidence: which villages a set of coverage points (or other evidence) reaches."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
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
    default = tech.map(cov.default_range_m).astype(float)
    if "kind" in out:
        default = default.where(out["kind"] != "measurement", cov.measurement_range_m)
    range_m = out["range_m"].astype(float) if "range_m" in out else default * np.nan
    reach = range_m.fillna(default)
    cap = tech.map(cov.max_range_m).astype(float)
    capped = reach > cap
    if capped.any():
        per_tech = ", ".join(f"{t}: {n}" for t, n in tech[capped].value_counts().items())
        warnings.warn(
            f"capped the reach of {capped.sum()} coverage point(s) at the configured "
            f"coverage.max_range_m ({per_tech})",
            GeoDxWarning,
            stacklevel=2,
        )
    out["reach_m"] = reach.clip(upper=cap)
    return out


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
    covered = np.zeros(len(target_xy), dtype=bool)
    if len(point_xy) == 0 or len(target_xy) == 0:
        return covered
    reach_m = np.asarray(reach_m, dtype=float)
    for lo, hi, members in _reach_bands(reach_m):
        todo = np.flatnonzero(~covered)
        if len(todo) == 0:
            break
        tree = cKDTree(point_xy[members])
        dist, _ = tree.query(target_xy[todo], k=1, distance_upper_bound=hi * (1 + _EPS) + _EPS)
        covered[todo[dist <= lo * (1 + _EPS) + _EPS]] = True
        borderline = todo[(dist > lo * (1 + _EPS) + _EPS) & np.isfinite(dist)]
        if len(borderline):
            covered[borderline] = _check_pairs(
                tree, target_xy[borderline], point_xy[members], reach_m[members], hi
            )
    return covered


def nearest_distance_m(target_xy: np.ndarray, point_xy: np.ndarray) -> np.ndarray:
    """Distance from each target to the nearest point (inf when there are no points)."""
    if len(point_xy) == 0:
        return np.full(len(target_xy), np.inf)
    dist, _ = cKDTree(point_xy).query(target_xy, k=1)
    return dist


_EPS = 1e-9
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
    lists = tree.query_ball_point(targets, r=hi * (1 + _EPS) + _EPS)
    lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    flat = np.fromiter((j for x in lists for j in x), dtype=np.int64, count=int(lengths.sum()))
    owner = np.repeat(np.arange(len(targets)), lengths)
    d = np.hypot(*(targets[owner] - points[flat]).T)
    ok = d <= reach[flat] * (1 + _EPS) + _EPS
    result = np.zeros(len(targets), dtype=bool)
    result[owner[ok]] = True
    return result
