"""Priority score on hand-built gap villages: contributions, missing data, reasons, robustness."""

from __future__ import annotations

import dataclasses
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from geo_dx.config import Config, ScoringConfig, with_weights
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.remoteness import remoteness_summary, travel_time_h
from geo_dx.rollout import rollout_clusters
from geo_dx.schema import COMPONENTS
from geo_dx.scoring import (
    SCORE_COLUMNS,
    normalise,
    normalised_weights,
    score,
    score_summary,
    weighted_score,
)

UTM = 32648
TOWN = Point(500_000, 2_400_000)


def _gaps(**columns) -> gpd.GeoDataFrame:
    """Five villages due east of the town, 2, 4, 6, 8, 10 km away (0.5 h per 2 km walk)."""
    n = 5
    data = {
        "village_id": [f"v{i}" for i in range(n)],
        "village_name": [f"Bản {i}" for i in range(n)],
        "commune_id": ["c1", "c1", "c2", "c2", "c2"],
        "gap_class": ["no_fibre_no_mobile", "no_mobile", "no_fibre", "no_fibre_no_mobile",
                      "no_fibre"],
        "mobile_technology": ["none", "2g", "4g", "2g", "3g"],
        "population": [430.0, 120.0, 2000.0, 800.0, 60.0],
        "ethnic_minority_share": [0.96, 0.5, 0.1, 0.7, 0.3],
        "poverty_rate": [0.45, 0.2, 0.05, 0.3, 0.6],
        "especially_difficult": [True, False, False, False, False],
    }
    data.update(columns)
    geometry = [Point(TOWN.x + 2000 * (i + 1), TOWN.y) for i in range(n)]
    return gpd.GeoDataFrame(data, geometry=geometry, crs=UTM)


def _towns() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["Town"]}, geometry=[TOWN], crs=UTM)


def _config(language: str = "en", **scoring) -> Config:
    return Config(language=language,
                  scoring=dataclasses.replace(ScoringConfig(), **{"sensitivity_draws": 50,
                                                                  **scoring}))


def _score(gaps: gpd.GeoDataFrame, config: Config | None = None, **kwargs) -> gpd.GeoDataFrame:
    return score(gaps, config=config or _config(), travel=travel_time_h(gaps, towns=_towns()),
                 **kwargs)


def _contrib(scored: pd.DataFrame) -> pd.DataFrame:
    return scored[[f"contrib_{c}" for c in COMPONENTS]]


def test_normalise_percentile_and_minmax_by_hand() -> None:
    values = pd.Series([5.0, 1.0, 3.0, 3.0, np.nan])
    # ranks 4, 1, 2.5, 2.5 of 4 -> (r - 1) / 3
    assert normalise(values).tolist()[:4] == pytest.approx([1.0, 0.0, 0.5, 0.5])
    assert np.isnan(normalise(values).iloc[4])
    assert normalise(values, method="minmax").tolist()[:4] == pytest.approx([1.0, 0.0, 0.5, 0.5])
    assert normalise(pd.Series([2.0, 2.0])).tolist() == [0.5, 0.5]
    with pytest.raises(InputError, match="normalisation was 'zscore'"):
        normalise(values, method="zscore")


def test_contributions_add_up_to_score_by_hand() -> None:
    scored = _score(_gaps())
    np.testing.assert_allclose(_contrib(scored).sum(axis=1), scored["score"])
    # village v4: 10 km straight line (no DEM) -> the most remote of five -> norm 1.0
    v4 = scored.set_index("village_id").loc["v4"]
    assert v4["travel_time_h"] == pytest.approx(10 / 4)
    assert v4["norm_remoteness"] == pytest.approx(1.0)
    assert v4["norm_severity"] == pytest.approx(0.5)  # no_fibre, used as configured
    assert v4["contrib_remoteness"] == pytest.approx(30.0)
    assert v4["contrib_severity"] == pytest.approx(10.0)
    # v0: ethnic 0.96 + 0.2 bonus -> highest -> 1.0; people log1p(430): rank 3 of 5 -> 0.5
    v0 = scored.set_index("village_id").loc["v0"]
    assert v0["norm_ethnic"] == pytest.approx(1.0)
    assert v0["norm_people"] == pytest.approx(0.5)
    assert v0["score"] == pytest.approx(
        100 * (0.2 * 1 + 0.3 * 0 + 0.3 * 1 + 0.15 * 0.5 + 0.05 * 0.75)
    )
    assert scored["score"].between(0, 100).all()


def test_rank_is_by_score_and_favours_remote_ethnic_villages() -> None:
    scored = _score(_gaps()).set_index("village_id")
    assert sorted(scored["rank"].tolist()) == [1, 2, 3, 4, 5]
    assert scored["rank"].tolist() == scored["score"].rank(ascending=False).astype(int).tolist()
    # the remote, mostly ethnic-minority village without any service beats the big
    # Kinh-majority village near town that only lacks fibre
    assert scored.loc["v3", "rank"] < scored.loc["v2", "rank"]
    # by hand: v3 78.75, v0 61.25, v4 52.5, v1 41.5, v2 40
    assert scored.sort_values("rank").index.tolist() == ["v3", "v0", "v4", "v1", "v2"]
    assert scored.loc["v3", "score"] == pytest.approx(78.75)


def test_missing_components_are_reported_and_weight_spread() -> None:
    gaps = _gaps(poverty_rate=[np.nan, 0.2, 0.05, 0.3, 0.6],
                 population=[np.nan, 120.0, 2000.0, 800.0, 60.0])
    scored = _score(gaps).set_index("village_id")
    v0 = scored.loc["v0"]
    assert v0["missing_components"] == "people,poverty"
    assert np.isnan(v0["contrib_people"]) and np.isnan(v0["contrib_poverty"])
    assert np.isnan(v0["norm_people"])
    # remaining weights 0.2, 0.3, 0.3 scaled to sum to 1
    assert v0["contrib_severity"] == pytest.approx(100 * 0.2 / 0.8 * 1.0)
    assert v0["score"] == pytest.approx(_contrib(scored).loc["v0"].sum())
    assert scored.loc["v1", "missing_components"] == ""


def test_zero_data_is_a_value_not_missing() -> None:
    scored = _score(_gaps(poverty_rate=[0.0, 0.2, 0.05, 0.3, 0.6])).set_index("village_id")
    assert scored.loc["v0", "missing_components"] == ""
    assert scored.loc["v0", "norm_poverty"] == 0.0


def test_commune_values_fill_missing_village_values() -> None:
    communes = pd.DataFrame({"commune_id": ["c1", "c2"], "ethnic_minority_share": [0.9, 0.2],
                             "poverty_rate": [0.5, 0.1]})
    gaps = _gaps(ethnic_minority_share=[np.nan, 0.5, 0.1, 0.7, 0.3],
                 poverty_rate=[np.nan, 0.2, 0.05, 0.3, 0.6])
    scored = _score(gaps, communes=communes).set_index("village_id")
    assert scored.loc["v0", "ethnic_minority_share_used"] == pytest.approx(0.9)
    assert scored.loc["v0", "missing_components"] == ""
    assert "90% ethnic minority (commune figure), especially difficult village" in \
        scored.loc["v0", "reason"]
    without = _score(gaps).set_index("village_id")
    # the especially-difficult bonus alone is not an ethnic share: reported missing
    assert without.loc["v0", "missing_components"] == "ethnic,poverty"


def test_households_stand_in_for_population() -> None:
    gaps = _gaps(population=[np.nan, 120.0, 2000.0, 800.0, 60.0], households=[100, 0, 0, 0, 0])
    scored = _score(gaps, _config(weights={"people": 1.0})).set_index("village_id")
    assert scored.loc["v0", "population_used"] == pytest.approx(450.0)
    assert scored.loc["v0", "reason"] == "~450 people (100 households)"


def test_weights_not_summing_to_one_are_normalised_with_warning() -> None:
    with pytest.warns(GeoDxWarning, match="sum to 2, not 1"):
        assert normalised_weights({"ethnic": 1.0, "remoteness": 1.0})["ethnic"] == 0.5
    config = with_weights(_config(), "ethnic=0.6,remoteness=0.6,severity=0.4,people=0.3,"
                          "poverty=0.1")
    with pytest.warns(GeoDxWarning, match="sum to 2"):
        doubled = _score(_gaps(), config)
    np.testing.assert_allclose(doubled["score"], _score(_gaps())["score"])
    with pytest.raises(InputError, match="negative"):
        normalised_weights({"ethnic": -1.0, "people": 2.0})


def test_reason_lists_top_contributions_in_plain_words() -> None:
    scored = _score(_gaps()).set_index("village_id")
    # v0: ethnic 30 > severity 20 > people 7.5 > poverty 3.75 > remoteness 0 (nearest)
    assert scored.loc["v0", "reason"] == (
        "96% ethnic minority, especially difficult village; no mobile signal and no fibre; "
        "430 people; poverty 45%"
    )
    # v4: remoteness 30 > severity 10 > ethnic 7.5 > poverty 5; people 0 (smallest) left out
    assert scored.loc["v4", "reason"] == (
        "10.0 km (straight line) from the nearest town; no fibre (3G available); "
        "30% ethnic minority; poverty 60%"
    )
    assert "no mobile broadband (2G only)" in scored.loc["v1", "reason"]
    assert "2G only and no fibre" in scored.loc["v3", "reason"]


def test_villages_without_gap_keep_travel_time_but_get_no_score() -> None:
    gaps = _gaps(gap_class=["none", "no_mobile", "no_fibre", "no_fibre_no_mobile", "no_fibre"])
    before = gaps.copy()
    scored = _score(gaps).set_index("village_id")
    assert np.isnan(scored.loc["v0", "score"]) and pd.isna(scored.loc["v0", "rank"])
    assert scored.loc["v0", "reason"] is None and pd.isna(scored.loc["v0", "rank_p05"])
    assert scored.loc["v0", "travel_time_h"] == pytest.approx(0.5)
    assert sorted(scored["rank"].dropna().tolist()) == [1, 2, 3, 4]
    # percentile among gap villages only: v1 (4 km) is now the nearest gap village
    assert scored.loc["v1", "norm_remoteness"] == 0.0
    pd.testing.assert_frame_equal(gaps, before)


def test_rank_interval_and_clusters() -> None:
    scored = _score(_gaps())
    assert (scored["rank_p05"] <= scored["rank_p95"]).all()
    assert scored["rank_p05"].between(1, 5).all() and scored["rank_p95"].between(1, 5).all()
    assert "cluster_id" not in scored  # score only scores; clusters come after
    # 2 km apart in a row: one chain cluster with a 2.5 km radius
    assert rollout_clusters(scored, radius_m=2500.0)[0].tolist() == [1] * 5
    apart = rollout_clusters(scored, radius_m=1500.0)[0]
    assert sorted(apart.tolist()) == [1, 2, 3, 4, 5]
    # cluster 1 holds the top-ranked village
    assert apart[scored["rank"] == 1].iloc[0] == 1


def test_score_without_travel_times_misses_remoteness() -> None:
    scored = score(_gaps(), config=_config())
    gap = scored["gap_class"] != "none"
    assert scored.loc[gap, "missing_components"].str.contains("remoteness").all()
    assert scored["travel_time_h"].isna().all()


def test_in_top_n_share_counts_draws_in_the_top() -> None:
    pinned = _score(_gaps(), _config(sensitivity_concentration=1e6, top_n=2))
    # draws pinned to the configured weights: the top 2 always stay, the rest never enter
    assert pinned["in_top_n_share"].tolist() == [
        1.0 if r <= 2 else 0.0 for r in pinned["rank"].tolist()]


def test_missing_gap_class_is_an_input_error() -> None:
    with pytest.raises(InputError, match="run find_gaps"):
        score(_gaps().drop(columns="gap_class"))


def test_share_out_of_range_names_the_column() -> None:
    with pytest.raises(InputError, match="ethnic_minority_share must be a share between 0 and 1"):
        _score(_gaps(ethnic_minority_share=[96.0, 50.0, 10.0, 70.0, 30.0]))


def test_summary_reports_method_stability_and_equity() -> None:
    config = _config(top_n=2)
    scored = _score(_gaps(), config)
    summary = score_summary(scored, config=config)
    remoteness = remoteness_summary(travel_time_h(_gaps(), towns=_towns()))
    assert remoteness["method"] == "straight_line" and remoteness["centres"] == "town"
    assert "no DEM" in remoteness["note"]
    assert sum(summary["weights"].values()) == pytest.approx(1.0)
    assert summary["ranked"] == 5
    assert 0 <= summary["sensitivity"]["top_n_stable"] <= 2
    equity = summary["equity"]
    top2 = scored.nsmallest(2, "rank")
    assert equity["configured_weights"]["ethnic_minority_majority_share"] == pytest.approx(
        (top2["ethnic_minority_share"] >= 0.5).mean()
    )
    assert equity["all_gap_villages"]["especially_difficult_share"] == pytest.approx(0.2)
    # without the ethnic weight the ethnic-minority share of the top can only fall or stay
    assert equity["ethnic_weight_zero"]["ethnic_minority_majority_share"] <= \
        equity["configured_weights"]["ethnic_minority_majority_share"]


def test_sensitivity_is_seeded() -> None:
    a = _score(_gaps())
    b = _score(_gaps())
    assert a["rank_p95"].tolist() == b["rank_p95"].tolist()


def test_sensitivity_draws_without_perturbation_keep_the_rank() -> None:
    # a huge concentration pins the Dirichlet draws to the configured weights
    scored = _score(_gaps(), _config(sensitivity_concentration=1e6))
    assert scored["rank_p05"].tolist() == scored["rank"].tolist()
    assert scored["rank_p95"].tolist() == scored["rank"].tolist()


# --- property tests ---------------------------------------------------------------------

shares = st.lists(st.floats(0, 1), min_size=5, max_size=5)
distances_km = st.lists(st.floats(0.1, 20), min_size=5, max_size=5)


def _score_from(ethnic: list[float], remoteness_km: list[float], method: str) -> pd.Series:
    """Score five villages whose straight-line distance to the town is ``remoteness_km``."""
    gaps = _gaps(ethnic_minority_share=ethnic)
    gaps = gaps.set_geometry(
        [Point(TOWN.x, TOWN.y + 1000 * km) for km in remoteness_km], crs=UTM
    )
    config = _config(normalisation=method, sensitivity_draws=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeoDxWarning)
        return score(gaps, config=config, travel=travel_time_h(gaps, towns=_towns()))["score"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ethnic=shares, km=distances_km, who=st.integers(0, 4), raise_by=st.floats(0, 1),
       method=st.sampled_from(["percentile", "minmax"]))
def test_raising_ethnic_share_never_lowers_the_score(ethnic, km, who, raise_by, method) -> None:
    before = _score_from(ethnic, km, method)
    higher = list(ethnic)
    higher[who] = min(1.0, ethnic[who] + raise_by)
    after = _score_from(higher, km, method)
    assert after.iloc[who] >= before.iloc[who] - 1e-9


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ethnic=shares, km=distances_km, who=st.integers(0, 4), raise_by=st.floats(0, 20),
       method=st.sampled_from(["percentile", "minmax"]))
def test_raising_remoteness_never_lowers_the_score(ethnic, km, who, raise_by, method) -> None:
    before = _score_from(ethnic, km, method)
    further = list(km)
    further[who] = km[who] + raise_by
    after = _score_from(ethnic, further, method)
    assert after.iloc[who] >= before.iloc[who] - 1e-9


@settings(max_examples=200, deadline=None)
@given(
    norm=st.lists(
        st.lists(st.one_of(st.none(), st.floats(0, 1)), min_size=5, max_size=5),
        min_size=1, max_size=8,
    ),
    weights=st.lists(st.one_of(st.just(0.0), st.floats(0.001, 10)), min_size=5, max_size=5)
    .filter(lambda w: sum(w) > 0),
)
def test_contributions_sum_to_a_score_in_range(norm, weights) -> None:
    frame = pd.DataFrame(norm, columns=list(COMPONENTS), dtype=float)
    w = dict(zip(COMPONENTS, weights, strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeoDxWarning)
        contrib, total = weighted_score(frame, normalised_weights(w))
    scored = total.notna()
    np.testing.assert_allclose(contrib[scored].sum(axis=1), total[scored], atol=1e-9)
    assert total[scored].between(0, 100 + 1e-9).all()
    # a village is unscored only when every weighted component is missing
    weighted = [c for c in COMPONENTS if w[c] > 0]
    assert (~scored == frame[weighted].isna().all(axis=1)).all()


def test_score_adds_exactly_the_documented_columns() -> None:
    gaps = _gaps()
    scored = _score(gaps)
    added = [c for c in scored.columns if c not in gaps.columns]
    assert sorted(added) == sorted(SCORE_COLUMNS) and len(added) == len(SCORE_COLUMNS)
