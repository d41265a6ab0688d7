"""A plan you can defend: what it claims is what find_gaps finds once it is built, nothing is
bought that serves nobody, every item names what to build with whom, every open gap has an
answer."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from geo_dx.config import Config, PlanConfig, PlanCostsConfig, TerrainConfig
from geo_dx.gaps import find_gaps
from geo_dx.plan.candidates import as_coverage_sites
from geo_dx.plan.curve import budget_curve, close_all_cost
from geo_dx.plan.model import InvestmentPlan, plan
from geo_dx.plan.optimise import Budget, Problem, solve_greedy
from geo_dx.schema import validate_candidates, validate_coverage, validate_villages
from geo_dx.signal.calibration import Calibration
from geo_dx.spatial import village_locations
from tests.conftest import UTM48N, X0, Y0, make_coverage, make_villages
from tests.test_served import DEM

GB = 1e9
#: Unit costs of the site alone (backhaul and power free: tests/test_technology.py prices
#: them), so that the hand-computed costs here are the sites' own.
SITE_ONLY = PlanCostsConfig(microwave_link_vnd=0.0, satellite_backhaul_vnd=0.0,
                            satellite_backhaul_vnd_per_month=0.0, grid_connection_vnd=0.0,
                            solar_power_vnd=0.0)
MODELS = {
    "radius": (TerrainConfig(model="radius"), None),
    "terrain": (TerrainConfig(model="terrain"), None),
    "itm": (TerrainConfig(model="itm"), None),
    "itm calibrated": (TerrainConfig(model="itm", calibrate=True),
                       Calibration({("4g", ""): -20.0, ("4g", "VNPT"): -5.0})),
}


@st.composite
def worlds(draw):
    """Villages, existing sites and fibre nodes, candidates and a budget in a 12 km square."""
    coord = st.integers(0, 12).map(lambda k: k * 1_000.0)
    n_v = draw(st.integers(1, 8))
    villages = [(draw(coord), draw(coord)) for _ in range(n_v)]
    existing = [(draw(st.sampled_from(["2g", "4g", "fibre"])), draw(coord), draw(coord),
                 draw(st.sampled_from([1_000.0, math.nan])))
                for _ in range(draw(st.integers(1, 3)))]
    cands = [(draw(coord), draw(coord), draw(st.sampled_from(["new_site", "small_cell"])),
              draw(st.sampled_from([math.nan, 2_000.0])),
              draw(st.sampled_from([None, "VNPT"])))
             for _ in range(draw(st.integers(1, 4)))]
    budget = draw(st.sampled_from([1.0, 3.0, 100.0])) * GB
    return villages, existing, cands, budget


def _built_coverage(result, coverage):
    """The chosen sites as 4G sites, and a fibre node at each village a route reaches."""
    sites = as_coverage_sites(result.candidates[result.candidates["chosen"]])
    ends = {v for s in result.items["route_ends"] for v in str(s).split(";") if v}
    reached = result.villages[result.villages["village_id"].isin(ends)]
    nodes = gpd.GeoDataFrame({"technology": "fibre", "kind": "node", "source": "declared"},
                             index=range(len(reached)),
                             geometry=village_locations(reached).to_numpy(), crs=reached.crs)
    return pd.concat([coverage, sites.to_crs(coverage.crs), nodes.to_crs(coverage.crs)],
                     ignore_index=True)


def _claimed(result, kind: str) -> set[str]:
    """Villages the plan says items of ``kind`` serve: ``"mobile"`` (every site kind),
    ``"fibre"`` or ``"satellite_access"``."""
    kinds = result.items["kind"].replace({k: "mobile" for k in ("new_site", "upgrade",
                                                                 "small_cell")})
    items = result.items[kinds == kind]
    return {v for s in items["villages_served"] for v in str(s).split(";") if v}


@pytest.mark.parametrize("name", list(MODELS))
@settings(max_examples=25, deadline=None)
@given(world=worlds())
def test_what_the_plan_claims_is_what_find_gaps_finds_once_built(name, world):
    terrain, calibration = MODELS[name]
    config = Config(terrain=terrain, plan=PlanConfig(costs=SITE_ONLY, weight="count",
                                                     generate="never",
                                                     curve_steps=1))
    vxy, existing, cands, budget = world
    villages = validate_villages(make_villages(vxy))
    coverage = validate_coverage(make_coverage(existing))
    candidates = validate_candidates(gpd.GeoDataFrame(
        {"candidate_id": [f"K{i}" for i in range(len(cands))],
         "kind": [c[2] for c in cands], "range_m": [c[3] for c in cands],
         "operator": [c[4] for c in cands]},
        geometry=[shapely.Point(X0 + c[0], Y0 + c[1]) for c in cands], crs=UTM48N))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gaps = find_gaps(villages, coverage, config=config, dem=DEM, calibration=calibration)
        result = plan(gaps, budget_vnd=budget, candidates=candidates, coverage=coverage,
                      dem=DEM, config=config, calibration=calibration, curve=False)
        after = find_gaps(villages, _built_coverage(result, coverage), config=config, dem=DEM,
                          calibration=calibration)
    ids = gaps["village_id"]
    newly_mobile = set(ids[after["has_mobile_broadband"] & ~gaps["has_mobile_broadband"]])
    newly_fibre = set(ids[after["has_fibre"] & ~gaps["has_fibre"]])
    # both directions, mobile and fibre; satellite access is no 4G and no fibre
    assert _claimed(result, "mobile") == newly_mobile
    assert _claimed(result, "fibre") == newly_fibre
    assert result.summary["cost_used_vnd"] <= budget + 1e-3
    satellite = _claimed(result, "satellite_access")  # a hotspot: never 4G once built
    assert not satellite & newly_mobile
    marked = set(ids[result.villages["plan_item"] != ""])
    assert marked == newly_mobile | newly_fibre | satellite


def test_fibre_is_credited_with_the_neighbours_its_new_node_reaches():
    # V1 is 1 km from V0: a node laid at V0 (fibre reach 1.5 km) serves both, as find_gaps says
    villages = validate_villages(make_villages([(0, 0), (1_000, 0), (9_000, 0)]))
    coverage = validate_coverage(make_coverage([("fibre", -2_000, 0, math.nan),
                                                ("4g", 0, 0, math.nan)]))
    gaps = find_gaps(villages, coverage)
    config = Config(plan=PlanConfig(costs=SITE_ONLY, weight="count", generate="never"))
    result = plan(gaps, budget_vnd=0.6 * GB, coverage=coverage, config=config, curve=False)
    fibre = result.items[result.items["kind"] == "fibre"]
    assert fibre["route_ends"].tolist() == ["V0"]
    assert fibre["villages_served"].tolist() == ["V0;V1"]
    # V2, 9 km off any road or node, no route reaches: satellite access instead
    assert result.items.loc[result.items["kind"] != "fibre", "villages_served"].tolist() == \
        ["V2"]


def test_a_slack_budget_buys_exactly_the_cheapest_way_to_close_everything():
    # A serves V0, B serves V1, C serves both but costs more than A + B; D serves V0 only
    villages = validate_villages(make_villages([(0, 0), (6_000, 0), (40_000, 0)],
                                               score=[50.0, 40.0, 30.0]))
    gaps = villages.assign(has_mobile_broadband=False, has_fibre=True)
    cands = validate_candidates(gpd.GeoDataFrame(
        {"candidate_id": ["A", "B", "C", "D"], "kind": "new_site",
         "cost_vnd": [1 * GB, 1 * GB, 2.5 * GB, 1.5 * GB],
         "range_m": [1_000.0, 1_000.0, 4_000.0, 1_000.0]},
        geometry=[shapely.Point(X0, Y0), shapely.Point(X0 + 6_000, Y0),
                  shapely.Point(X0 + 3_000, Y0), shapely.Point(X0 + 200, Y0)], crs=UTM48N))
    config = Config(plan=PlanConfig(costs=SITE_ONLY, generate="never", curve_steps=2))
    result = plan(gaps, budget_vnd=1_000 * GB, candidates=cands, config=config)
    sites = result.items[result.items["kind"] == "new_site"]
    assert sorted(sites["candidate_id"]) == ["A", "B"]  # not C, never D on top
    # nothing proposed reaches V2: it gets satellite access (0.05 bn), the only other item
    access = result.items[result.items["kind"] == "satellite_access"]
    assert access["villages_served"].tolist() == ["V2"] and len(result.items) == 3
    sat = config.plan.costs.satellite_access_vnd
    assert result.summary["cost_used_vnd"] == pytest.approx(2 * GB + sat)
    assert result.summary["cost_satellite_access_vnd"] == pytest.approx(sat)
    assert result.summary["cost_to_close_all_vnd"] == pytest.approx(2 * GB + sat)
    assert result.curve["cost_used_vnd"].iloc[-1] == pytest.approx(2 * GB + sat)
    assert result.curve["satellite_villages"].iloc[-1] == 1
    assert result.curve["mobile_villages"].iloc[-1] == 2
    # the village no candidate reaches says so, in Vietnamese by default
    answer = result.villages.set_index("village_id")["plan_answer"]
    assert answer["V2"].startswith("không có trạm đề xuất nào tới được")
    assert answer["V0"] == answer["V1"] == ""


def test_an_open_gap_says_the_cheapest_option_and_that_it_is_beyond_the_budget():
    villages = validate_villages(make_villages([(0, 0), (20_000, 0)], score=[90.0, 30.0]))
    gaps = villages.assign(has_mobile_broadband=False, has_fibre=True)
    cands = validate_candidates(gpd.GeoDataFrame(
        {"candidate_id": ["A", "B"], "kind": ["new_site", "upgrade"]},
        geometry=[shapely.Point(X0 + 500, Y0), shapely.Point(X0 + 20_500, Y0)], crs=UTM48N))
    config = Config(plan=PlanConfig(costs=SITE_ONLY, generate="never"))
    result = plan(gaps, budget_vnd=2.6 * GB, candidates=cands, config=config, curve=False)
    answers = result.villages.set_index("village_id")
    assert answers.loc["V0", "plan_item"] == "M1" and answers.loc["V0", "plan_answer"] == ""
    # 2.6 - 2.5 = 0.1 bn left, the upgrade costs 0.5 bn
    assert answers.loc["V1", "plan_answer"] == "cần nâng cấp trạm BTS 0,5 tỷ đồng; ngoài ngân sách"
    english = plan(gaps, budget_vnd=2.6 * GB, candidates=cands, curve=False,
                   config=Config(language="en", plan=PlanConfig(costs=SITE_ONLY, generate="never")))
    assert (english.villages.set_index("village_id").loc["V1", "plan_answer"]
            == "needs a site upgrade, 0.5 bn VND; beyond the budget")


def test_upgrade_items_name_the_input_site_and_its_operator_not_a_row_number():
    villages = validate_villages(make_villages([(0, 0), (30_000, 0)], score=[80.0, 70.0]))
    rows = make_coverage([("4g", 30_000, 0, math.nan), ("2g", 500, 0, math.nan),
                          ("fibre", 0, 0, math.nan)],
                         site_id=["SYNS0001", "SYNS0666", None],
                         operator=["Viettel", "VNPT", "VNPT"])
    gaps = find_gaps(villages, validate_coverage(rows))
    for order in ([0, 1, 2], [2, 1, 0]):  # the same ids whatever the row order
        coverage = validate_coverage(rows.iloc[order].reset_index(drop=True))
        result = plan(gaps, budget_vnd=1 * GB, coverage=coverage,
                      config=Config(plan=PlanConfig(costs=SITE_ONLY, weight="count")), curve=False)
        item = result.items.set_index("item_id").loc["M1"]
        assert item["candidate_id"] == "gen-upgrade-SYNS0666"
        assert (item["site_ref"], item["operator"], item["service"]) == ("SYNS0666", "VNPT",
                                                                            "4g")
        assert item["antenna_height_m"] == 30.0


def test_an_item_that_serves_nobody_is_never_bought():
    # B serves only V0, which A serves too: with money for everything B is never bought
    villages = validate_villages(make_villages([(0, 0), (3_000, 0)], score=[50.0, 40.0]))
    gaps = villages.assign(has_mobile_broadband=False, has_fibre=True)
    cands = validate_candidates(gpd.GeoDataFrame(
        {"candidate_id": ["A", "B"], "kind": "new_site", "range_m": [4_000.0, 500.0]},
        geometry=[shapely.Point(X0 + 1_000, Y0), shapely.Point(X0, Y0)], crs=UTM48N))
    model = InvestmentPlan.from_gaps(gaps, candidates=cands,
                                     config=Config(plan=PlanConfig(costs=SITE_ONLY,
                                                                   generate="never")))
    for budget in (2.5, 5.0, 100.0):
        assert model.solve(budget * GB).items["candidate_id"].tolist() == ["A"]


@st.composite
def problems(draw):
    n_m, n_c = draw(st.integers(1, 6)), draw(st.integers(1, 5))
    cover = np.array(draw(st.lists(st.booleans(), min_size=n_m * n_c, max_size=n_m * n_c)),
                     dtype=bool).reshape(n_m, n_c)
    return Problem(np.array(draw(st.lists(st.integers(1, 9), min_size=n_m, max_size=n_m)),
                            dtype=float), sparse.csr_matrix(cover),
                   np.array(draw(st.lists(st.integers(1, 9), min_size=n_c, max_size=n_c)),
                            dtype=float), np.zeros(n_c, dtype=bool), np.zeros(0),
                   sparse.csr_matrix((0, 0), dtype=bool), np.zeros(0),
                   np.zeros(0, dtype=np.int64))


@settings(max_examples=30, deadline=None)
@given(problems())
def test_every_curve_step_is_at_least_greedy_and_says_whether_it_is_proven(problem):
    _, *close_all = close_all_cost(problem)
    curve = budget_curve(problem, Budget(total_vnd=0.0), steps=3,
                         mobile_rows=np.arange(len(problem.mobile_weight)),
                         fibre_rows=np.zeros(0, dtype=np.int64),
                         people=np.ones(len(problem.mobile_weight)),
                         em_people=np.zeros(len(problem.mobile_weight)),
                         close_all=(close_all[0], close_all[1]))
    for row in curve.itertuples():
        greedy = solve_greedy(problem, Budget(total_vnd=row.budget_vnd))
        assert row.greedy_objective == pytest.approx(greedy.objective)
        assert row.objective >= row.greedy_objective - 1e-9
        assert row.proven == (row.status == "optimal")
        assert row.cost_used_vnd <= row.budget_vnd + 1e-9
    # the last step closes everything that can be closed, at the cheapest cost
    servable = np.asarray(problem.cover.sum(axis=1)).ravel() > 0
    assert curve["mobile_villages"].iloc[-1] == int(servable.sum())
    assert curve["cost_used_vnd"].iloc[-1] == pytest.approx(sum(close_all))
