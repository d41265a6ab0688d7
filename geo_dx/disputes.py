"""Measurements that dispute declared coverage, and how sure each village's answer is.

A measurement point (coverage row of kind ``measurement`` with a mobile technology)
records *weak or no service* when its ``rsrp_dbm`` is below the technology's
``signal.threshold_dbm`` or its ``download_kbps`` is below
``measured.mobile_min_down_kbps``. Weak measurements never count as coverage.

A village that declared (or modelled) coverage says has mobile broadband is
``disputed`` when, within ``measured.dispute_radius_m`` of its location, there are at
least ``measured.dispute_min_tests`` weak measurements taken on at least
``measured.dispute_min_days`` distinct days (``measured_at``; tests without a date
count as tests but add no day). Disputed villages count as gaps unless
``measured.disputed_counts_as_gap`` is false.

``mobile_confidence`` says what the mobile answer rests on: ``measured`` (a good
measurement covers the village), ``modelled`` (a modelled coverage source, or with
the ``itm`` model the predicted signal of declared sites),
``declared`` (an operator's declared sites or map), ``disputed`` (declared or modelled
coverage contradicted by enough measurements) or ``none`` (no evidence of service).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo_dx.config import Config
from geo_dx.schema import MOBILE_BROADBAND

logger = logging.getLogger(__name__)

#: Values of ``mobile_confidence``, strongest first.
CONFIDENCE_CLASSES: tuple[str, ...] = ("measured", "modelled", "declared", "disputed", "none")


def weak_measurements(coverage: pd.DataFrame, *, config: Config | None = None) -> np.ndarray:
    """
    Mobile measurement rows that record weak or no service (see the module docstring).

    Examples
    --------
    >>> rows = pd.DataFrame({"technology": ["4g", "4g", "4g", "fibre"],
    ...                      "kind": ["measurement", "measurement", "site", "measurement"],
    ...                      "rsrp_dbm": [-115.0, -90.0, -130.0, -130.0],
    ...                      "download_kbps": [np.nan, 800.0, np.nan, np.nan]})
    >>> weak_measurements(rows).tolist()
    [True, True, False, False]
    """
    config = config or Config()
    n = len(coverage)
    candidate = ((coverage["kind"] == "measurement")
                 & coverage["technology"].isin(MOBILE_BROADBAND)).to_numpy()
    weak = np.zeros(n, dtype=bool)
    if "rsrp_dbm" in coverage:
        threshold = coverage["technology"].map(dict(config.signal.threshold_dbm)).to_numpy(float)
        weak |= (coverage["rsrp_dbm"].to_numpy(float) < threshold)
    if "download_kbps" in coverage:
        weak |= coverage["download_kbps"].to_numpy(float) < config.measured.mobile_min_down_kbps
    return candidate & weak


def dispute_counts(
    villages_xy: np.ndarray,
    weak_xy: np.ndarray,
    weak_measured_at: pd.Series | np.ndarray | None,
    *,
    radius_m: float,
) -> pd.DataFrame:
    """
    Weak tests and their distinct days within ``radius_m`` of each village (inclusive).

    Returns a frame (one row per village position) with ``tests`` and ``days``.

    Examples
    --------
    >>> dates = pd.to_datetime(["2025-01-01", "2025-01-01T18:00", "2025-01-02"], format="ISO8601")
    >>> dispute_counts(np.array([[0.0, 0.0]]), np.array([[0.0, 10.0], [5.0, 0.0],
    ...                [0.0, 30.0]]), dates, radius_m=20.0).iloc[0].tolist()
    [2, 1]
    """
    n = len(villages_xy)
    tests = np.zeros(n, dtype=np.int64)
    days = np.zeros(n, dtype=np.int64)
    if len(weak_xy) and n:
        dates = (pd.Series(pd.to_datetime(np.asarray(weak_measured_at))).dt.normalize()
                 if weak_measured_at is not None else pd.Series(pd.NaT, index=range(len(weak_xy))))
        hits = cKDTree(weak_xy).query_ball_point(villages_xy, r=radius_m)
        for i, near in enumerate(hits):
            if near:
                tests[i] = len(near)
                days[i] = dates.iloc[near].dropna().nunique()
    return pd.DataFrame({"tests": tests, "days": days})


def apply_disputes(
    gaps: gpd.GeoDataFrame,
    villages_xy: np.ndarray,
    coverage_xy: np.ndarray,
    coverage: pd.DataFrame,
    *,
    config: Config | None = None,
    model: str = "radius",
) -> gpd.GeoDataFrame:
    """
    Add ``mobile_disputed``, ``mobile_dispute_tests``, ``mobile_dispute_days`` and
    ``mobile_confidence``; with ``disputed_counts_as_gap`` a disputed village loses its
    mobile broadband (``has_mobile_broadband_declared`` keeps the answer before).
    With ``model="itm"`` coverage from declared sites is predicted signal: ``modelled``.

    ``gaps`` needs ``has_mobile_broadband`` and ``mobile_source``; ``villages_xy`` and
    ``coverage_xy`` are in one metric CRS, aligned with ``gaps`` and ``coverage``.
    """
    config = config or Config()
    measured = config.measured
    out = gaps.copy()
    weak = weak_measurements(coverage, config=config)
    dates = coverage["measured_at"].to_numpy()[weak] if "measured_at" in coverage else None
    counts = dispute_counts(villages_xy, coverage_xy[weak], dates,
                            radius_m=measured.dispute_radius_m)
    source = out["mobile_source"].to_numpy(dtype=object)
    has_mobile = out["has_mobile_broadband"].to_numpy(dtype=bool)
    claimed = has_mobile & np.isin(source, ("declared", "modelled"))
    disputed = claimed & _enough(counts["tests"].to_numpy(), counts["days"].to_numpy(), config)
    out["mobile_disputed"] = disputed
    out["mobile_dispute_tests"] = counts["tests"].to_numpy()
    out["mobile_dispute_days"] = counts["days"].to_numpy()
    confidence = np.where(has_mobile, source, "none").astype(object)
    confidence[pd.isna(confidence)] = "declared"
    if model == "itm":
        confidence[confidence == "declared"] = "modelled"
    confidence[disputed] = "disputed"
    out["mobile_confidence"] = confidence
    out["has_mobile_broadband_declared"] = has_mobile
    if measured.disputed_counts_as_gap:
        out["has_mobile_broadband"] = has_mobile & ~disputed
    logger.info("disputes: %d villages declared covered are disputed by measurements",
                int(disputed.sum()))
    return out


def _enough(tests: np.ndarray, days: np.ndarray, config: Config) -> np.ndarray:
    measured = config.measured
    return (tests >= measured.dispute_min_tests) & (days >= measured.dispute_min_days)


def contested(villages: pd.DataFrame, *, config: Config | None = None) -> np.ndarray:
    """
    Villages where declared or modelled mobile coverage counts as a gap (a new declared
    site would be disputed there too): enough weak measurements around them and
    ``measured.disputed_counts_as_gap``. Needs ``apply_disputes``' counts (else none).

    Examples
    --------
    >>> v = pd.DataFrame({"mobile_dispute_tests": [4, 4], "mobile_dispute_days": [2, 1]})
    >>> contested(v).tolist()
    [True, False]
    """
    config = config or Config()
    if (not config.measured.disputed_counts_as_gap or "mobile_dispute_tests" not in villages
            or "mobile_dispute_days" not in villages):
        return np.zeros(len(villages), dtype=bool)
    return _enough(villages["mobile_dispute_tests"].fillna(0).to_numpy(),
                   villages["mobile_dispute_days"].fillna(0).to_numpy(), config)


def dispute_summary(villages: pd.DataFrame, *, limit: int = 50) -> dict[str, object]:
    """
    Confidence counts and the disputed villages (with their evidence) for ``summary.json``.

    Examples
    --------
    >>> v = pd.DataFrame({"village_id": ["a", "b"], "village_name": ["A", "B"],
    ...                   "mobile_confidence": ["disputed", "declared"],
    ...                   "mobile_disputed": [True, False], "mobile_dispute_tests": [4, 0],
    ...                   "mobile_dispute_days": [2, 0]})
    >>> dispute_summary(v)["disputed"]
    [{'village_id': 'a', 'village_name': 'A', 'tests': 4, 'days': 2}]
    """
    if "mobile_confidence" not in villages:
        return {}
    counts = villages["mobile_confidence"].value_counts()
    disputed = villages[villages["mobile_disputed"].astype(bool)]
    rows = [
        {"village_id": str(r.village_id), "village_name": str(r.village_name),
         "tests": int(r.mobile_dispute_tests), "days": int(r.mobile_dispute_days)}
        for r in disputed.head(limit).itertuples()
    ]
    return {
        "confidence": {c: int(counts.get(c, 0)) for c in CONFIDENCE_CLASSES},
        "disputed_count": len(disputed),
        "disputed": rows,
    }
