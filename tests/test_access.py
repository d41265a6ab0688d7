"""Tests for geo_dx.plan.access: satellite access as an item the plan buys.

A satellite hotspot is offered to every village without mobile broadband (and to those
without fibre that no route reaches), worth ``plan.satellite_access_weight`` × the
village's weight, counted once with 4G, never as 4G.
"""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from geo_dx.config import Config, PlanConfig, PlanCostsConfig
from geo_dx.plan.access import access_villages, with_access
from geo_dx.plan.model import InvestmentPlan, plan
from geo_dx.plan.optimise import Budget, Problem, Solution, solve_greedy, solve_milp
from geo_dx.schema import validate_candidates
from tests.conftest import UTM48N, X0, Y0, make_villages

GB = 1e9
SITE_ONLY = PlanCostsConfig(microwave_link_vnd=0.0, satellite_backhaul_vnd=0.0,
                            satellite_backhaul_vnd_per_month=0.0, grid_connection_vnd=0.0,
                            solar_power_vnd=0.0)
SAT = PlanCostsConfig().satellite_access_vnd  # 0.05 bn


def _world():
    """V0 and V1 without mobile broadband, a 1 bn site reaching each (C0, C1); V2 without
    mobile broadband and no site in reach; V3 has 4G but no fibre and no fibre node
    anywhere (no route); V4 is served."""
    villages = make_villages([(0, 0), (10_000, 0), (40_000, 0), (60_000, 0), (80_000, 0)],
                             score=[90.0, 80.0, 70.0, 60.0, 50.0])
    villages = villages.assign(has_mobile_broadband=[False, False, False, True, True],
                               has_fibre=[True, True, True, False, True])
    cands = validate_candidates(gpd.GeoDataFrame(
        {"candidate_id": ["C0", "C1"], "kind": "new_site", "cost_vnd": 1 * GB,
         "range_m": 1_000.0},
        geometry=[shapely.Point(X0 + 300, Y0), shapely.Point(X0 + 10_300, Y0)], crs=UTM48N))
    return villages, cands


def _config(**plan_options) -> Config:
    return Config(plan=PlanConfig(**{"costs": SITE_ONLY, "generate": "never",
                                     "weight": "priority", **plan_options}))


def _kinds(result) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for kind, served in zip(result.items["kind"], result.items["villages_served"], strict=True):
        out.setdefault(kind, []).extend(str(served).split(";"))
    return {k: sorted(v) for k, v in out.items()}


def test_a_budget_above_everything_gives_every_gap_village_an_item():
    villages, cands = _world()
    result = plan(villages, budget_vnd=100 * GB, candidates=cands, config=_config(),
                  curve=True)
    # sites where a site reaches; satellite access where nothing else does (V2 no site,
    # V3 no fibre route); never both for one village
    assert _kinds(result) == {"new_site": ["V0", "V1"], "satellite_access": ["V2", "V3"]}
    v = result.villages.set_index("village_id")
    gap = ~v["has_mobile_broadband"] | ~v["has_fibre"]
    assert (v.loc[gap, "plan_item"] != "").all() and (v.loc[~gap, "plan_item"] == "").all()
    s = result.summary
    assert s["cost_used_vnd"] == pytest.approx(2 * GB + 2 * SAT)
    assert s["cost_satellite_access_vnd"] == pytest.approx(2 * SAT)
    assert s["cost_mobile_vnd"] == pytest.approx(2 * GB)
    # service levels apart: satellite access is not 4G
    assert s["newly_served"]["mobile"]["villages"] == 2
    assert s["newly_served"]["satellite_access"]["villages"] == 2
    assert s["items"] == {"sites": 2, "fibre_extensions": 0, "satellite_access": 2}
    # V2 still lacks 4G and V3 fibre: left at full service, nothing more to buy
    assert s["left"] == {"villages": 2, "mobile": 1, "fibre": 1, "with_satellite_access": 2,
                         "cost_to_close_vnd": 0.0}
    assert s["cost_to_close_all_vnd"] == pytest.approx(2 * GB + 2 * SAT)
    last = result.curve.iloc[-1]
    assert (last["mobile_villages"], last["satellite_villages"]) == (2, 2)
    sat = result.items[result.items["kind"] == "satellite_access"].iloc[0]
    assert sat["service"] == "satellite_hotspot" and sat["item_id"].startswith("S")
    assert sat["capex_vnd"] == SAT and sat["opex_vnd_per_year"] == pytest.approx(2.1e6 * 12)


def test_satellite_access_comes_first_when_money_is_short_and_the_site_later():
    """1.2 bn: the best is C0 (90) + satellite access for V1, V2 and V3 (0.3 × 210 = 63;
    1.15 bn), better than C1 + three (80 + 0.3 × 220 = 146). The next year's 1 bn adds C1,
    which then adds only the 4G share (0.7 × 80) for V1, which keeps its satellite access."""
    villages, cands = _world()
    model = InvestmentPlan.from_gaps(villages, candidates=cands, config=_config())
    one = model.solve(1.2 * GB)
    assert _kinds(one) == {"new_site": ["V0"], "satellite_access": ["V1", "V2", "V3"]}
    assert one.summary["objective"] == pytest.approx(90 + 0.3 * (80 + 70 + 60))
    years = model.schedule({2026: 1.2 * GB, 2027: 1.0 * GB})
    by_year = years.items.groupby("year")["item_id"].apply(
        lambda s: sorted(x[0] for x in s)).to_dict()
    assert by_year == {2026: ["M", "S", "S", "S"], 2027: ["M"]}
    v = years.villages.set_index("village_id")
    assert v.loc["V1", "plan_year"] == 2026  # its satellite access came first
    assert sorted(v.loc["V1", "plan_item"].split(";"))[0].startswith("M")
    assert years.summary["schedule"][0]["villages_by_technology"]["satellite_access"] == 3


def test_weight_zero_leaves_satellite_access_out_and_the_answer_says_it():
    villages, cands = _world()
    result = plan(villages, budget_vnd=100 * GB, candidates=cands, curve=False,
                  config=_config(satellite_access_weight=0.0))
    assert _kinds(result) == {"new_site": ["V0", "V1"]}
    answer = result.villages.set_index("village_id")["plan_answer"]
    assert "vệ tinh" in answer["V2"] and "vệ tinh" in answer["V3"]


def test_access_villages_are_the_mobile_gaps_and_the_fibre_gaps_no_route_reaches():
    fibre_cover = sparse.csr_matrix(np.array([[1], [0]], dtype=bool))
    offered = access_villages(5, mobile_rows=np.array([0, 1]),
                              disputed=np.array([False, True]),
                              no_grid=np.array([False, False, False, True, False]),
                              fibre_rows=np.array([2, 4]), fibre_cover=fibre_cover)
    # 0: no mobile; 1 disputed (measure first); 3 no grid power; 4 no route; 2 has a route
    assert offered.tolist() == [0, 3, 4]


@st.composite
def problems(draw):
    n_v = draw(st.integers(1, 5))
    n_c = draw(st.integers(0, 3))
    cover = np.array([[draw(st.booleans()) for _ in range(n_c)] for _ in range(n_v)],
                     dtype=bool).reshape(n_v, n_c)
    weight = np.array([draw(st.floats(0.5, 10.0)) for _ in range(n_v)])
    cost = np.array([draw(st.sampled_from([0.5, 1.0, 2.0])) for _ in range(n_c)])
    alpha = draw(st.sampled_from([0.3, 0.5, 1.0]))
    budget = draw(st.sampled_from([0.0, 0.2, 1.0, 2.5, 10.0]))
    return cover, weight, cost, alpha, budget


def _value(cover, weight, alpha, site, access):
    """What a choice is worth, village by village: 4G its weight, else satellite α of it."""
    has_4g = cover[:, site].any(axis=1) if site.any() else np.zeros(len(weight), bool)
    return float(np.where(has_4g, weight, np.where(access, alpha * weight, 0.0)).sum())


@settings(max_examples=60, deadline=None)
@given(problems())
def test_the_milp_with_satellite_access_is_the_brute_force_optimum(case):
    cover, weight, cost, alpha, budget = case
    n_v, n_c = cover.shape
    base = Problem(weight, sparse.csr_matrix(cover), cost, np.zeros(n_c, bool), np.zeros(0),
                   sparse.csr_matrix((0, 0), dtype=bool), np.zeros(0),
                   np.zeros(0, dtype=np.int64))
    config = Config(plan=PlanConfig(satellite_access_weight=alpha,
                                    costs=PlanCostsConfig(satellite_access_vnd=0.1)))
    problem, access = with_access(base, np.arange(n_v), weight, np.arange(n_v), config=config)
    sol = solve_milp(problem, Budget(total_vnd=budget), start=solve_greedy(
        problem, Budget(total_vnd=budget)))
    site, sat = sol.site[:n_c], sol.site[n_c:]
    best = -math.inf
    for bits in itertools.product([False, True], repeat=n_c + n_v):
        chosen = np.array(bits, dtype=bool)
        if cost @ chosen[:n_c] + 0.1 * chosen[n_c:].sum() > budget + 1e-9:
            continue
        best = max(best, _value(cover, weight, alpha, chosen[:n_c], chosen[n_c:]))
    # the problem's objective is the village-by-village value, and it is the best one
    assert sol.objective == pytest.approx(_value(cover, weight, alpha, site, sat))
    assert sol.objective == pytest.approx(best)
    # a village counts once: never satellite access where a chosen site brings 4G
    has_4g = cover[:, site].any(axis=1) if site.any() else np.zeros(n_v, bool)
    assert not (sat & has_4g).any()
    assert cost @ site + 0.1 * sat.sum() <= budget + 1e-9
    assert access.chosen(sol.site).tolist() == np.flatnonzero(sat).tolist()


def test_with_access_as_good_as_4g_the_cheapest_best_plan_buys_no_site():
    """α = 1: satellite access is worth 4G, so five hotspots (0.5) beat a site and the
    hotspots (1.0) at the same weight; the cost-minimising solve must find it (HiGHS's
    presolve once handed back the start's site here)."""
    cover = np.array([[0, 0], [0, 0], [0, 0], [0, 1], [1, 1]], dtype=bool)
    base = Problem(np.ones(5), sparse.csr_matrix(cover), np.array([0.5, 0.5]),
                   np.zeros(2, bool), np.zeros(0), sparse.csr_matrix((0, 0), dtype=bool),
                   np.zeros(0), np.zeros(0, dtype=np.int64))
    config = Config(plan=PlanConfig(satellite_access_weight=1.0,
                                    costs=PlanCostsConfig(satellite_access_vnd=0.1)))
    problem, _ = with_access(base, np.arange(5), np.ones(5), np.arange(5), config=config)
    budget = Budget(total_vnd=2.5)
    start = Solution(np.r_[True, False, np.ones(5, bool)], np.zeros(0, bool), 5.0, 5.0,
                     "greedy", 0.0, "greedy")  # a site too many
    sol = solve_milp(problem, budget, start=start)
    assert sol.objective == pytest.approx(5.0)
    assert sol.site.tolist() == [False, False, True, True, True, True, True]
    assert sum(problem.cost(sol.site, sol.segment)) == pytest.approx(0.5)


def test_closing_everything_buys_the_smallest_cover():
    """Six villages, five 1-VND sites: sites 0, 3 and 4 (or 1) serve all, not all five."""
    from geo_dx.plan.curve import close_all_cost

    cover = np.zeros((6, 5), dtype=bool)
    for village, sites in enumerate([{3, 4}, {2, 3}, {1, 4}, {0}, {0}, {3, 4}]):
        cover[village, list(sites)] = True
    problem = Problem(np.ones(6), sparse.csr_matrix(cover), np.ones(5), np.zeros(5, bool),
                      np.zeros(0), sparse.csr_matrix((0, 0), dtype=bool), np.zeros(0),
                      np.zeros(0, dtype=np.int64))
    assert close_all_cost(problem)[1:] == (3.0, 0.0)
