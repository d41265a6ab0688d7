"""Measurements that dispute declared coverage: each rule decided at its boundary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo_dx.config import config_from_dict
from geo_dx.disputes import dispute_counts, dispute_summary, weak_measurements
from geo_dx.gaps import find_gaps
from geo_dx.schema import validate_coverage, validate_villages
from tests.conftest import make_coverage, make_villages

#: Rules: at least 3 weak tests, on at least 2 distinct days, within 500 m.
RULES = {"measured": {"dispute_min_tests": 3, "dispute_min_days": 2, "dispute_radius_m": 500.0}}
SITE = ("4g", 0.0, 0.0, 3_000.0)  # declares coverage of the village at (1000, 0)


def run(tests: list[tuple[float, float, str | None]], *, rsrp: float = -120.0,
        config: dict | None = None, village=(1_000.0, 0.0)) -> pd.Series:
    """Gaps for one village, a declared site, and weak tests at (dx, dy) from the village."""
    rows = [SITE] + [("4g", village[0] + dx, village[1] + dy, np.nan) for dx, dy, _ in tests]
    cov = make_coverage(rows, kind=["site"] + ["measurement"] * len(tests),
                        rsrp_dbm=[np.nan] + [rsrp] * len(tests),
                        measured_at=[None] + [day for _, _, day in tests])
    out = find_gaps(validate_villages(make_villages([village])), validate_coverage(cov),
                    config=config_from_dict(config or RULES))
    return out.iloc[0]


def test_n_minus_one_tests_do_not_dispute_n_do():
    two = run([(0, 0, "2025-03-01"), (10, 0, "2025-03-02")])
    three = run([(0, 0, "2025-03-01"), (10, 0, "2025-03-02"), (0, 10, "2025-03-02")])
    assert not two["mobile_disputed"] and two["mobile_confidence"] == "declared"
    assert three["mobile_disputed"] and three["mobile_confidence"] == "disputed"
    assert (three["mobile_dispute_tests"], three["mobile_dispute_days"]) == (3, 2)


def test_d_minus_one_days_do_not_dispute_d_do():
    one_day = run([(0, 0, "2025-03-01T08:00"), (10, 0, "2025-03-01T12:00"),
                   (0, 10, "2025-03-01T23:59")])
    assert not one_day["mobile_disputed"]
    assert (one_day["mobile_dispute_tests"], one_day["mobile_dispute_days"]) == (3, 1)
    two_days = run([(0, 0, "2025-03-01T08:00"), (10, 0, "2025-03-01T12:00"),
                    (0, 10, "2025-03-02T00:00")])
    assert two_days["mobile_disputed"]


def test_undated_tests_count_as_tests_but_add_no_day():
    out = run([(0, 0, "2025-03-01"), (10, 0, None), (0, 10, None)])
    assert (out["mobile_dispute_tests"], out["mobile_dispute_days"]) == (3, 1)
    assert not out["mobile_disputed"]


def test_radius_is_inclusive_at_r_and_excludes_r_plus_epsilon():
    days = ["2025-03-01", "2025-03-02"]
    at_r = run([(0, 0, days[0]), (0, 0, days[1]), (500.0, 0, days[1])])
    beyond = run([(0, 0, days[0]), (0, 0, days[1]), (500.01, 0, days[1])])
    assert at_r["mobile_disputed"] and at_r["mobile_dispute_tests"] == 3
    assert not beyond["mobile_disputed"] and beyond["mobile_dispute_tests"] == 2


def test_disputed_counts_as_gap_by_default_and_can_be_switched_off():
    tests = [(0, 0, "2025-03-01"), (10, 0, "2025-03-02"), (0, 10, "2025-03-03")]
    gap = run(tests)
    assert not gap["has_mobile_broadband"] and gap["has_mobile_broadband_declared"]
    assert gap["gap_class"] == "no_fibre_no_mobile"
    kept = run(tests, config={"measured": {**RULES["measured"],
                                           "disputed_counts_as_gap": False}})
    assert kept["has_mobile_broadband"] and kept["mobile_confidence"] == "disputed"
    assert kept["gap_class"] == "no_fibre"


def test_weak_by_signal_or_speed_at_the_threshold():
    rows = pd.DataFrame({
        "technology": ["4g"] * 5 + ["3g"],
        "kind": ["measurement"] * 6,
        # 4g threshold -110 dBm, 3g -100 dBm; mobile_min_down_kbps 5000
        "rsrp_dbm": [-110.0, -110.01, np.nan, np.nan, -90.0, -100.5],
        "download_kbps": [np.nan, np.nan, 5000.0, 4999.0, 6000.0, np.nan],
    })
    assert weak_measurements(rows).tolist() == [False, True, False, True, False, True]


def test_good_measurements_cover_and_weak_ones_do_not():
    villages = validate_villages(make_villages([(0, 0), (5_000, 0)]))
    cov = make_coverage([("4g", 0, 100, np.nan), ("4g", 5_000, 100, np.nan)],
                        kind=["measurement", "measurement"], rsrp_dbm=[-95.0, -118.0])
    out = find_gaps(villages, validate_coverage(cov))
    assert out["has_mobile_broadband"].tolist() == [True, False]
    assert out["mobile_confidence"].tolist() == ["measured", "none"]


def test_villages_not_declared_covered_are_never_disputed():
    out = run([(0, 0, "2025-03-01"), (10, 0, "2025-03-02"), (0, 10, "2025-03-03")],
              village=(9_000.0, 0.0))  # beyond the site's 3 km
    assert not out["mobile_disputed"] and out["mobile_confidence"] == "none"
    assert out["mobile_dispute_tests"] == 3


def test_dispute_counts_brute_force():
    rng = np.random.default_rng(4)
    villages = rng.uniform(0, 5_000, (30, 2))
    weak = rng.uniform(0, 5_000, (200, 2))
    dates = pd.Series(pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 5, 200),
                                                                     unit="D"))
    got = dispute_counts(villages, weak, dates, radius_m=700.0)
    for i, v in enumerate(villages):
        near = np.hypot(*(weak - v).T) <= 700.0
        assert got["tests"][i] == near.sum()
        assert got["days"][i] == dates[near].nunique()


def test_summary_lists_disputed_villages_with_their_evidence():
    villages = pd.DataFrame({"village_id": ["a", "b", "c"], "village_name": ["A", "B", "C"],
                             "mobile_confidence": ["disputed", "declared", "none"],
                             "mobile_disputed": [True, False, False],
                             "mobile_dispute_tests": [5, 1, 0], "mobile_dispute_days": [3, 1, 0]})
    summary = dispute_summary(villages)
    assert summary["confidence"] == {"measured": 0, "modelled": 0, "declared": 1,
                                     "disputed": 1, "none": 1}
    assert summary["disputed"] == [{"village_id": "a", "village_name": "A", "tests": 5,
                                    "days": 3}]


def test_dispute_rules_are_validated():
    with pytest.raises(ValueError, match="measured.dispute_min_tests = 0 is out of range"):
        config_from_dict({"measured": {"dispute_min_tests": 0}})


def test_map_draws_disputed_villages_as_their_own_class_with_the_evidence():
    from geo_dx.communes import summarise_communes
    from geo_dx.maps.payload import map_payload
    from geo_dx.schema import DISPUTED_LABEL, GAP_CLASSES
    from tests.conftest import make_communes

    tests = [(0, 0, "2025-03-01"), (10, 0, "2025-03-02"), (0, 10, "2025-03-03")]
    rows = [SITE] + [("4g", 1_000 + dx, dy, np.nan) for dx, dy, _ in tests]
    cov = validate_coverage(make_coverage(rows, kind=["site"] + ["measurement"] * 3,
                                          rsrp_dbm=[np.nan, -120.0, -120.0, -120.0],
                                          measured_at=[None] + [d for *_, d in tests]))
    communes = make_communes()
    gaps = find_gaps(validate_villages(make_villages([(1_000, 0), (2_000, 500)])), cov,
                     communes=communes, config=config_from_dict(RULES))
    data = map_payload(gaps, summarise_communes(gaps, communes), cov, title="t", language="en")
    keys = [c["key"] for c in data["gapClasses"]]
    assert keys == [*GAP_CLASSES, "disputed"]
    disputed = data["gapClasses"][-1]
    assert disputed["label"] == DISPUTED_LABEL and disputed["count"] == 1
    v = data["villages"]
    assert v["gap"] == ["disputed", "no_fibre"]
    assert v["gapClass"] == ["no_fibre_no_mobile", "no_fibre"]
    assert v["disputeTests"][0] == 3 and v["disputeDays"][0] == 3
    assert v["confidence"] == ["disputed", "declared"]
    assert "· 2 with a gap ·" in data["subtitle"]  # the disputed village is a gap too
