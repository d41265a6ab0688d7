"""Priority score: rank gap villages by a transparent weighted sum a planner can defend.

Five components, each on 0-1 (higher = connect sooner), named as in the config, the CLI
and the output columns:

``severity``
    The configured value of the village's ``gap_class`` (default ``no_fibre_no_mobile``
    1.0, ``no_mobile`` 0.7, ``no_fibre`` 0.5); used as configured, not re-normalised.
``remoteness``
    ``travel_time_h`` to the nearest service centre (:mod:`geo_dx.remoteness`).
``ethnic``
    The village's ``ethnic_minority_share``, else its commune's, plus
    ``especially_difficult_bonus`` for especially difficult villages.
``people``
    ``population``, else ``households x household_size``; ``log1p``-scaled.
``poverty``
    The village's ``poverty_rate``, else its commune's.

Every component but severity is normalised among the gap villages by percentile rank
(default; ties share the mean rank, lowest 0, highest 1) or min-max. A village missing a
component leaves it out: its weight is spread over the components it has, and the name is
listed in ``missing_components``. The score is ``100 x`` the weighted sum; the
``contrib_<component>`` columns add up to it.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_dx.communes import placed
from geo_dx.config import Config
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.i18n import translator
from geo_dx.reasons import reason_sentence
from geo_dx.remoteness import TRAVEL_COLUMNS
from geo_dx.schema import COMPONENTS, GAPS

logger = logging.getLogger(__name__)

#: A village counts as ethnic-minority-majority in the equity audit from this share.
ETHNIC_MAJORITY = 0.5
#: A top-N village is "stable" when it stays in the top N in at least this share of draws.
STABLE_SHARE = 0.9
#: Columns :func:`score` adds, in order.
SCORE_COLUMNS: tuple[str, ...] = (
    "travel_time_h",
    "elevation_m",
    "remoteness_method",
    "ethnic_minority_share_used",
    "population_used",
    *(f"norm_{c}" for c in COMPONENTS),
    *(f"contrib_{c}" for c in COMPONENTS),
    "score",
    "rank",
    "rank_p05",
    "rank_p95",
    "missing_components",
    "in_top_n_share",
    "reason",
)


def score(
    gaps: gpd.GeoDataFrame,
    *,
    travel: pd.DataFrame | None = None,
    communes: pd.DataFrame | None = None,
    config: Config | None = None,
    weights: Mapping[str, float] | None = None,
) -> gpd.GeoDataFrame:
    """
    Score and rank the gap villages; explain every rank.

    Scoring only: travel times come in (``travel``, from
    :func:`geo_dx.remoteness.travel_time_h`); rollout clusters are made afterwards
    (:func:`geo_dx.rollout.rollout_clusters`).

    Parameters
    ----------
    gaps
        Output of :func:`geo_dx.find_gaps` (needs ``gap_class``; uses ``commune_id``,
        ``population``, ``households``, ``ethnic_minority_share``, ``poverty_rate``,
        ``especially_difficult``, ``mobile_technology`` when present).
    travel
        Output of :func:`geo_dx.remoteness.travel_time_h` for these villages; without it
        the remoteness component is missing for every village.
    communes
        Communes with ``commune_id`` and optional ``ethnic_minority_share`` /
        ``poverty_rate`` used when a village has none.
    config
        Weights, severities and robustness settings; ``Config()`` by default.
    weights
        The weights as :func:`normalised_weights` returns them, when the caller has them
        already; default: normalised from ``config``.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``gaps`` plus :data:`SCORE_COLUMNS`. Villages with ``gap_class`` "none"
        keep their travel time but have no score, rank or reason. The ``reason``
        sentence is written in ``config.language`` (:func:`geo_dx.reasons.reason_sentence`).

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> from geo_dx.remoteness import travel_time_h
    >>> gaps = gpd.GeoDataFrame(
    ...     {"village_id": ["a", "b"], "gap_class": ["no_fibre_no_mobile", "no_fibre"],
    ...      "population": [430, 2000], "ethnic_minority_share": [0.96, 0.2]},
    ...     geometry=[Point(103.2, 21.5), Point(103.0, 21.4)], crs=4326)
    >>> towns = gpd.GeoDataFrame(geometry=[Point(103.0, 21.38)], crs=4326)
    >>> scored = score(gaps, travel=travel_time_h(gaps, towns=towns))
    >>> scored["rank"].tolist()
    [1, 2]
    >>> for part in scored["reason"].iloc[0].split("; "):
    ...     print(part)
    Cách trung tâm xã, phường gần nhất 24,6 km (đường chim bay)
    96 % đồng bào dân tộc thiểu số
    không có sóng di động, chưa có cáp quang.
    >>> english = score(gaps, travel=travel_time_h(gaps, towns=towns),
    ...                 config=Config(language="en"))
    >>> english["reason"].iloc[0].split("; ")[0]
    '24.6 km (straight line) from the nearest town'
    >>> scored["missing_components"].iloc[0]
    'poverty'
    """
    config = config or Config()
    if "gap_class" not in gaps.columns:
        raise InputError("villages: no gap_class column; run find_gaps before score")
    weights = dict(weights) if weights is not None else normalised_weights(config.scoring.weights)
    travel = _travel(travel, gaps.index)
    out = gaps.copy()
    for column in ("travel_time_h", "elevation_m", "remoteness_method"):
        out[column] = travel[column]
    # a misplaced village is never scored as if it were real
    is_gap = out["gap_class"].isin(GAPS) & placed(out)
    raw, from_commune = _raw_components(out, communes=communes, config=config)
    out["ethnic_minority_share_used"] = _lookup(out, "ethnic_minority_share", communes)
    out["population_used"] = _population(out, config)
    norm = pd.DataFrame(np.nan, index=out.index, columns=list(COMPONENTS))
    norm.loc[is_gap, "severity"] = raw.loc[is_gap, "severity"]
    for component in COMPONENTS[1:]:
        norm.loc[is_gap, component] = normalise(
            raw.loc[is_gap, component], method=config.scoring.normalisation
        )
    contrib, total = weighted_score(norm[is_gap], weights)
    for component in COMPONENTS:
        out[f"norm_{component}"] = norm[component]
        out[f"contrib_{component}"] = contrib[component].reindex(out.index)
    out["score"] = total.reindex(out.index)
    out["rank"] = _rank(out["score"], out.get("village_id"))
    for column, values in _sensitivity(norm[is_gap], out.loc[is_gap, "rank"], weights,
                                       config=config).items():
        out[column] = values.reindex(out.index)
    missing = norm[is_gap].isna()
    out["missing_components"] = pd.Series(
        [",".join(c for c in COMPONENTS if row[c]) for _, row in missing.iterrows()],
        index=missing.index, dtype=object,
    ).reindex(out.index)
    no_score = is_gap & out["score"].isna()
    if no_score.any():
        warnings.warn(
            f"scoring: {int(no_score.sum())} gap villages have no data for any weighted "
            "component and are left unranked; give them population, ethnic share or a DEM.",
            GeoDxWarning, stacklevel=2,
        )
    tr = translator(config.language)
    facts = _facts(out, raw, from_commune, travel)
    out["reason"] = pd.Series(
        [reason_sentence(row, tr=tr) if gap else None
         for gap, (_, row) in zip(is_gap, facts.iterrows(), strict=True)],
        index=out.index, dtype=object,
    )
    logger.info("scored %d gap villages of %d", int(out["score"].notna().sum()), len(out))
    return out


def _travel(travel: pd.DataFrame | None, index: pd.Index) -> pd.DataFrame:
    """Travel times aligned to the villages; all missing when there are none."""
    if travel is None:
        return pd.DataFrame({"travel_time_h": np.nan, "elevation_m": np.nan,
                             "distance_m": np.nan, "remoteness_method": "none",
                             "centre_kind": "none"}, index=index)
    missing = [c for c in TRAVEL_COLUMNS if c not in travel.columns]
    if missing:
        raise InputError(f"travel: column {missing[0]!r} is missing; pass the output of "
                         "geo_dx.travel_time_h for the same villages")
    if not index.isin(travel.index).all():
        raise InputError("travel: some villages have no row; pass the output of "
                         "geo_dx.travel_time_h for the same villages")
    return travel.reindex(index)


def normalise(values: pd.Series, *, method: str = "percentile") -> pd.Series:
    """
    Scale values to 0-1, ignoring NaN (which stays NaN).

    ``"percentile"``: ``(rank - 1) / (n - 1)`` with tied values sharing their mean rank.
    ``"minmax"``: ``(x - min) / (max - min)``. A constant column becomes 0.5.

    Examples
    --------
    >>> normalise(pd.Series([1.0, 10.0, 1000.0, None])).tolist()
    [0.0, 0.5, 1.0, nan]
    >>> normalise(pd.Series([1.0, 10.0, 1000.0]), method="minmax").round(3).tolist()
    [0.0, 0.009, 1.0]
    """
    if method not in ("percentile", "minmax"):
        raise InputError(f"normalisation was {method!r}; allowed: 'percentile', 'minmax'")
    values = pd.to_numeric(values, errors="coerce").astype(float)
    out = pd.Series(np.nan, index=values.index, dtype=float)
    present = values.dropna()
    if present.empty:
        return out
    low, high = present.min(), present.max()
    if high == low:
        out[present.index] = 0.5
    elif method == "percentile":
        out[present.index] = (present.rank(method="average") - 1) / (len(present) - 1)
    else:
        out[present.index] = (present - low) / (high - low)
    return out


def normalised_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """
    Weights for every component, scaled to sum to 1 (with a warning when they did not).

    Examples
    --------
    >>> normalised_weights({"ethnic": 1, "remoteness": 1})["ethnic"]
    0.5
    """
    unknown = sorted(set(weights) - set(COMPONENTS))
    if unknown:
        raise InputError(f"weights: unknown component {unknown[0]!r}; allowed: "
                         f"{', '.join(COMPONENTS)}")
    full = {c: float(weights.get(c, 0.0)) for c in COMPONENTS}
    if any(w < 0 or not math.isfinite(w) for w in full.values()):
        raise InputError(f"weights: {full} has a negative or non-finite weight; use >= 0")
    total = sum(full.values())
    if total <= 0:
        raise InputError("weights: all weights are 0; give at least one weight > 0")
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        warnings.warn(
            f"scoring weights sum to {total:g}, not 1; they were scaled to sum to 1",
            GeoDxWarning, stacklevel=2,
        )
    return {c: w / total for c, w in full.items()}


def weighted_score(
    norm: pd.DataFrame, weights: Mapping[str, float]
) -> tuple[pd.DataFrame, pd.Series]:
    """
    Contributions and 0-100 score from normalised components.

    A NaN component is left out of that village's score and its weight spread
    proportionally over the components it has; its contribution stays NaN.

    Examples
    --------
    >>> norm = pd.DataFrame({"severity": [1.0], "ethnic": [np.nan], "people": [0.5]})
    >>> contrib, total = weighted_score(norm, {"severity": 0.5, "ethnic": 0.25,
    ...                                        "people": 0.25})
    >>> contrib.round(2).iloc[0].tolist(), round(float(total.iloc[0]), 2)
    ([66.67, nan, 16.67], 83.33)
    """
    w = pd.Series({c: float(weights.get(c, 0.0)) for c in norm.columns})
    available = norm.notna().mul(w, axis=1).sum(axis=1)
    scale = (100.0 / available).where(available > 0)
    contrib = norm.mul(w, axis=1).mul(scale, axis=0)
    total = contrib.sum(axis=1, min_count=1).where(available > 0)
    return contrib, total.clip(0.0, 100.0)


def score_summary(
    scored: pd.DataFrame,
    *,
    config: Config | None = None,
    weights: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """
    What a run's ``summary.json`` says about the ranking: method, weights, robustness, equity.

    Parameters
    ----------
    scored
        Output of :func:`score`.
    config
        The configuration the scores were made with.
    weights
        The weights the scores were made with (as :func:`normalised_weights` returns
        them); default: normalised from ``config``.

    Returns
    -------
    dict
        ``weights`` (as used, summing to 1),
        ``normalisation``, ``gap_villages``, ``ranked``, ``missing_components`` (count per
        component), ``sensitivity`` (draws, ``top_n``, ``top_n_stable``: how many of the
        top N stay in the top N in >= 90 % of draws, from ``in_top_n_share``) and
        ``equity`` (shares of ethnic-minority-majority and especially difficult villages in
        the top N, with the configured weights and with the ethnic weight set to 0, against
        all gap villages).

    Examples
    --------
    >>> import geo_dx
    >>> demo = geo_dx.load_demo()
    >>> gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
    >>> summary = score_summary(score(gaps, communes=demo.communes))
    >>> summary["ranked"] == int((gaps["gap_class"] != "none").sum())
    True
    >>> 0 <= summary["sensitivity"]["top_n_stable"] <= summary["sensitivity"]["top_n"]
    True
    """
    config = config or Config()
    norm_cols = [f"norm_{c}" for c in COMPONENTS]
    missing_cols = [c for c in (*norm_cols, "rank", "in_top_n_share", "gap_class")
                    if c not in scored.columns]
    if missing_cols:
        raise InputError(
            f"score_summary: column {missing_cols[0]!r} missing; pass the output of score()"
        )
    is_gap = scored["gap_class"].isin(GAPS)
    gap = scored[is_gap]
    norm = gap[norm_cols].set_axis(list(COMPONENTS), axis=1).astype(float)
    weights = dict(weights) if weights is not None else normalised_weights(config.scoring.weights)
    top_n = config.scoring.top_n
    ranked = gap["rank"].notna()
    share = pd.to_numeric(gap["in_top_n_share"], errors="coerce")
    stable = None
    if share.notna().any():
        in_top = ranked & (pd.to_numeric(gap["rank"], errors="coerce") <= top_n)
        stable = int((share[in_top] >= STABLE_SHARE).sum())
    return {
        "weights": {c: round(w, 4) for c, w in weights.items()},
        "normalisation": config.scoring.normalisation,
        "gap_villages": int(is_gap.sum()),
        "ranked": int(ranked.sum()),
        "missing_components": {c: int(norm[c].isna().sum()) for c in COMPONENTS},
        "sensitivity": {
            "draws": config.scoring.sensitivity_draws,
            "concentration": config.scoring.sensitivity_concentration,
            "seed": config.scoring.seed,
            "top_n": top_n,
            "top_n_stable": stable,
            "stable_share": STABLE_SHARE,
        },
        "equity": _equity(gap, norm, weights, top_n),
    }


def _raw_components(
    villages: pd.DataFrame, *, communes: pd.DataFrame | None, config: Config
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Component values before normalisation, and which came from the commune."""
    severity_map = dict(config.scoring.severity)
    raw = pd.DataFrame(index=villages.index, columns=list(COMPONENTS), dtype=float)
    raw["severity"] = villages["gap_class"].map(severity_map).astype(float)
    raw["remoteness"] = pd.to_numeric(villages["travel_time_h"], errors="coerce")
    share = _lookup(villages, "ethnic_minority_share", communes)
    bonus = _flag(villages, "especially_difficult") * config.scoring.especially_difficult_bonus
    # no cap: capping at 1 would tie most remote villages and hide the ethnic weight
    raw["ethnic"] = share + bonus
    raw["people"] = np.log1p(_population(villages, config).clip(lower=0))
    raw["poverty"] = _lookup(villages, "poverty_rate", communes)
    from_commune = pd.DataFrame(
        {
            "ethnic": _own(villages, "ethnic_minority_share").isna() & share.notna(),
            "poverty": _own(villages, "poverty_rate").isna() & raw["poverty"].notna(),
        }
    )
    return raw, from_commune


def _own(villages: pd.DataFrame, column: str) -> pd.Series:
    if column not in villages.columns:
        return pd.Series(np.nan, index=villages.index, dtype=float)
    return pd.to_numeric(villages[column], errors="coerce").astype(float)


def _lookup(villages: pd.DataFrame, column: str, communes: pd.DataFrame | None) -> pd.Series:
    """The village's own 0-1 value, else its commune's."""
    values = _own(villages, column)
    if (
        communes is not None
        and column in communes.columns
        and "commune_id" in communes.columns
        and "commune_id" in villages.columns
    ):
        by_commune = pd.to_numeric(
            communes.drop_duplicates("commune_id").set_index("commune_id")[column],
            errors="coerce",
        )
        values = values.fillna(villages["commune_id"].map(by_commune).astype(float))
    bad = values[(values < 0) | (values > 1)]
    if not bad.empty:
        raise InputError(
            f"villages/communes: {column} must be a share between 0 and 1, got {bad.iloc[0]!r} "
            f"(row {bad.index[0]!r}); divide percentages by 100"
        )
    return values


def _population(villages: pd.DataFrame, config: Config) -> pd.Series:
    people = _own(villages, "population")
    return people.fillna(_own(villages, "households") * config.scoring.household_size)


def _flag(villages: pd.DataFrame, column: str) -> pd.Series:
    if column not in villages.columns:
        return pd.Series(0.0, index=villages.index)
    return villages[column].map(lambda v: 1.0 if v is True or v == 1 else 0.0).astype(float)


def _rank(scores: pd.Series, village_id: pd.Series | None) -> pd.Series:
    """1 = highest score; ties broken by village_id so the order is reproducible."""
    present = scores.dropna()
    key = village_id.reindex(present.index).astype(str) if village_id is not None else \
        pd.Series(present.index.astype(str), index=present.index)
    order = pd.DataFrame({"score": present, "key": key}).sort_values(
        ["score", "key"], ascending=[False, True]
    )
    ranks = pd.Series(pd.NA, index=scores.index, dtype="Int64")
    ranks.loc[order.index] = np.arange(1, len(order) + 1)
    return ranks


def _draw_ranks(
    norm: pd.DataFrame, base_rank: pd.Series, weights: Mapping[str, float], *, config: Config
) -> np.ndarray | None:
    """Ranks (villages x draws) under Dirichlet-perturbed weights around the configured ones."""
    draws = config.scoring.sensitivity_draws
    if draws <= 0 or norm.empty:
        return None
    positive = [c for c in COMPONENTS if weights[c] > 0]
    alpha = np.array([weights[c] for c in positive]) * config.scoring.sensitivity_concentration
    rng = np.random.default_rng(config.scoring.seed)
    w = rng.dirichlet(alpha, size=draws)  # draws x k
    values = norm[positive].to_numpy(dtype=float)
    available = ~np.isnan(values)
    scores = np.nan_to_num(values) @ w.T / np.where(available @ w.T > 0, available @ w.T, np.nan)
    scores = np.nan_to_num(scores, nan=-1.0)
    # order by base rank first so ties keep the configured order (stable sort)
    by_base = np.argsort(base_rank.to_numpy(dtype=float), kind="stable")
    order = np.argsort(-scores[by_base], axis=0, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, len(norm) + 1)[:, None], axis=0)
    out = np.empty_like(ranks)
    out[by_base] = ranks
    return out


def _sensitivity(
    norm: pd.DataFrame, rank: pd.Series, weights: Mapping[str, float], *, config: Config
) -> dict[str, pd.Series]:
    """From one set of draws: rank_p05, rank_p95 and in_top_n_share of the ranked villages."""
    ranked = rank.notna()
    ranks = _draw_ranks(norm[ranked], rank[ranked], weights, config=config)
    out = {c: pd.Series(np.nan, index=norm.index) for c in ("rank_p05", "rank_p95")}
    out["in_top_n_share"] = pd.Series(np.nan, index=norm.index)
    if ranks is not None:
        out["rank_p05"][ranked] = np.percentile(ranks, 5, axis=1, method="lower")
        out["rank_p95"][ranked] = np.percentile(ranks, 95, axis=1, method="higher")
        out["in_top_n_share"][ranked] = (ranks <= config.scoring.top_n).mean(axis=1)
    out["rank_p05"] = out["rank_p05"].astype("Int64")
    out["rank_p95"] = out["rank_p95"].astype("Int64")
    return out


def _equity(
    gap: pd.DataFrame, norm: pd.DataFrame, weights: Mapping[str, float], top_n: int
) -> dict[str, Any]:
    majority = _own(gap, "ethnic_minority_share_used") >= ETHNIC_MAJORITY
    difficult = _flag(gap, "especially_difficult").astype(bool)

    def top(ranks: pd.Series) -> pd.Series:
        return ranks.notna() & (ranks <= top_n)

    def shares(mask: pd.Series) -> dict[str, Any]:
        n = int(mask.sum())
        return {
            "villages": n,
            "ethnic_minority_majority_share": round(float(majority[mask].mean()), 3) if n else None,
            "especially_difficult_share": round(float(difficult[mask].mean()), 3) if n else None,
        }

    result: dict[str, Any] = {
        "top_n": top_n,
        "ethnic_majority_threshold": ETHNIC_MAJORITY,
        "all_gap_villages": shares(pd.Series(True, index=gap.index)),
        "configured_weights": shares(top(pd.to_numeric(gap["rank"], errors="coerce"))),
    }
    no_ethnic = {**weights, "ethnic": 0.0}
    if sum(no_ethnic.values()) > 0:
        _, total = weighted_score(norm, no_ethnic)
        result["ethnic_weight_zero"] = shares(
            top(pd.to_numeric(_rank(total, gap.get("village_id")), errors="coerce"))
        )
    else:
        result["ethnic_weight_zero"] = None
    return result


def _facts(
    out: pd.DataFrame, raw: pd.DataFrame, from_commune: pd.DataFrame, travel: pd.DataFrame
) -> pd.DataFrame:
    """The plain values a reason sentence quotes, one row per village."""
    return pd.DataFrame(
        {
            "gap_class": out["gap_class"],
            "technology": out["mobile_technology"].astype(str)
            if "mobile_technology" in out.columns else "none",
            "method": out["remoteness_method"],
            "hours": out["travel_time_h"],
            "distance_m": travel["distance_m"],
            "centre_kind": travel["centre_kind"],
            "share": out["ethnic_minority_share_used"],
            "share_from_commune": from_commune["ethnic"],
            "difficult": _flag(out, "especially_difficult").astype(bool),
            "people": out["population_used"],
            "households": _own(out, "households").where(_own(out, "population").isna()),
            "poverty": raw["poverty"],
            "poverty_from_commune": from_commune["poverty"],
            **{f"contrib_{c}": out[f"contrib_{c}"] for c in COMPONENTS},
        },
        index=out.index,
    )
