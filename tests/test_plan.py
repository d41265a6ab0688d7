"""The investment plan: choice within a budget, pins, fibre routes, consistency with find_gaps."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from geo_dx.config import Config, PlanConfig, PlanCostsConfig, config_from_dict
from geo_dx.errors import ConfigError, InputError
from geo_dx.gaps import find_gaps
from geo_dx.plan.candidates import as_coverage_sites, prepare_candidates
from geo_dx.plan.model import plan
from geo_dx.plan.optimise import Budget, Problem, solve_greedy, solve_milp
from geo_dx.plan.routes import fibre_routes
from geo_dx.schema import validate_candidates
from tests.conftest import UTM48N, X0, Y0, make_coverage, make_villages

GB = 1e9


def _gaps(xy, *, score, fibre=True, **columns):
    v = make_villages(xy, score=score, **columns)
    v["has_mobile_broadband"] = False
    v["has_fibre"] = fibre
    return v


def _candidates(rows):
    ids, xs, ys = zip(*rows, strict=True)
    return validate_candidates(gpd.GeoDataFrame(
        {"candidate_id": list(ids), "kind": ["new_site"] * len(ids)},
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in zip(xs, ys, strict=True)],
        crs=UTM48N))


#: Unit costs of the site alone: backhaul and power cost nothing here, so the hand-computed
#: costs below are the site's own (tests/test_technology.py covers backhaul and power).
SITE_ONLY = PlanCostsConfig(microwave_link_vnd=0.0, satellite_backhaul_vnd=0.0,
                            satellite_backhaul_vnd_per_month=0.0, grid_connection_vnd=0.0,
                            solar_power_vnd=0.0)


def _config(**plan):
    """Sites and fibre only: satellite access (tested in test_access.py) is left out."""
    return Config(plan=PlanConfig(**{"costs": SITE_ONLY, "satellite_access_weight": 0.0,
                                     **plan}))


# ----------------------------------------------------------------- choosing within a budget

def test_higher_priority_wins_though_it_serves_fewer():
    # A (at x=0) reaches village 0 (score 90); B (at x=20 km) reaches villages 1 and 2
    # (score 30 each, 60 together). A budget for one new site (2.5 bn) buys A.
    gaps = _gaps([(0, 0), (20_000, 0), (21_000, 0)], score=[90.0, 30.0, 30.0])
    cands = _candidates([("A", 500, 0), ("B", 20_500, 0)])
    result = plan(gaps, budget_vnd=2.5 * GB, candidates=cands, config=_config(), curve=False)
    assert result.items["candidate_id"].tolist() == ["A"]
    assert result.items["villages_served"].tolist() == ["V0"]
    assert result.summary["objective"] == pytest.approx(90.0)
    assert result.villages["plan_item"].tolist() == ["M1", "", ""]
    # by count instead, B serves more and wins
    by_count = plan(gaps, budget_vnd=2.5 * GB, candidates=cands,
                    config=_config(weight="count"), curve=False)
    assert by_count.items["candidate_id"].tolist() == ["B"]


@pytest.mark.parametrize(("weight", "winner", "objective"), [
    ("priority", "A", 90.0),            # A: one village of score 90
    ("population", "B", 400.0),         # B: two villages of 200 people
    ("ethnic_population", "C", 350.0),  # C: 350 people, all ethnic minority
    ("count", "D", 3.0),                # D: three small villages
])
def test_each_weight_option_chooses_its_own_winner(weight, winner, objective):
    xy = [(0, 0), (20_000, 0), (21_000, 0), (40_000, 0), (60_000, 0), (60_500, 0), (61_000, 0)]
    gaps = _gaps(xy, score=[90.0, 20.0, 20.0, 10.0, 5.0, 5.0, 5.0],
                 population=[100, 200, 200, 350, 10, 10, 10],
                 ethnic_minority_share=[1.0, 0.1, 0.1, 1.0, 0.0, 0.0, 0.0])
    cands = _candidates([("A", 500, 0), ("B", 20_500, 0), ("C", 40_500, 0), ("D", 60_500, 0)])
    result = plan(gaps, budget_vnd=2.5 * GB, candidates=cands, config=_config(weight=weight),
                  curve=False)
    assert result.items["candidate_id"].tolist() == [winner]
    assert result.summary["objective"] == pytest.approx(objective)
    assert result.summary["greedy_objective"] == pytest.approx(objective)


def test_misplaced_villages_are_not_planned_for():
    # B reaches villages 1 and 2 (count 2) but village 2's location is in doubt: by count,
    # A's single village ties B's one real village; A comes first. No candidate is
    # generated at a misplaced village, and it is neither a mobile nor a fibre gap to close.
    gaps = _gaps([(0, 0), (20_000, 0), (21_000, 0)], score=[None, None, None], fibre=False,
                 location_issue=[None, None, "more than 1000 m outside every commune"])
    cands = _candidates([("A", 500, 0), ("B", 20_500, 0)])
    result = plan(gaps, budget_vnd=2.5 * GB, candidates=cands,
                  config=_config(weight="count"), curve=False)
    sites = result.items[result.items["kind"] != "fibre_extension"]
    assert "V2" not in ";".join(result.items["villages_served"])
    assert result.summary["mobile_gap_villages"] == 2 and result.summary["fibre_gap_villages"] == 2
    assert sites["villages_served"].tolist() in (["V0"], ["V1"])
    assert result.villages["plan_item"].iloc[2] == ""
    generated = plan(gaps, budget_vnd=2.5 * GB, config=_config(weight="count"), curve=False)
    assert "gen-village-V2" not in set(generated.candidates["candidate_id"])
    assert {"gen-village-V0", "gen-village-V1"} <= set(generated.candidates["candidate_id"])


def test_pinned_candidate_is_always_chosen():
    gaps = _gaps([(0, 0), (20_000, 0), (21_000, 0)], score=[90.0, 30.0, 30.0])
    cands = _candidates([("A", 500, 0), ("B", 20_500, 0)])
    result = plan(gaps, budget_vnd=2.5 * GB, candidates=cands, config=_config(must=("B",)),
                  curve=False)
    assert result.items["candidate_id"].tolist() == ["B"]
    excluded = plan(gaps, budget_vnd=5 * GB, candidates=cands, config=_config(exclude=("A",)),
                    curve=False)
    assert excluded.items["candidate_id"].tolist() == ["B"]
    with pytest.raises(InputError, match="pinned candidates cost"):
        plan(gaps, budget_vnd=1 * GB, candidates=cands, config=_config(must=("B",)),
             curve=False)
    with pytest.raises(InputError, match="plan.must: unknown candidate"):
        plan(gaps, budget_vnd=5 * GB, candidates=cands, config=_config(must=("Z",)),
             curve=False)


def test_candidate_cost_overrides_the_default_and_unservable_villages_are_listed():
    gaps = _gaps([(0, 0), (20_000, 0), (60_000, 0)], score=[90.0, 60.0, 99.0])
    cands = _candidates([("A", 500, 0), ("B", 20_500, 0)])
    cands["cost_vnd"] = [3 * GB, 1 * GB]  # A now costs more than the budget
    result = plan(gaps, budget_vnd=2.5 * GB, candidates=cands, config=_config(), curve=False)
    assert result.items["candidate_id"].tolist() == ["B"]
    assert result.items["cost_vnd"].tolist() == [1 * GB]
    # the village 60 km away is served by no candidate: listed, never dropped
    assert result.unservable["village_id"].tolist() == ["V2"]
    assert result.unservable["need"].tolist() == ["mobile"]
    assert result.summary["unservable"] == {"mobile": 1, "fibre": 0}


def test_budget_curve_rises_to_closing_every_closable_gap():
    gaps = _gaps([(0, 0), (20_000, 0), (21_000, 0), (60_000, 0)],
                 score=[90.0, 30.0, 30.0, 50.0], population=[100, 200, 300, 400])
    cands = _candidates([("A", 500, 0), ("B", 20_500, 0)])
    result = plan(gaps, budget_vnd=2.5 * GB, candidates=cands,
                  config=_config(curve_steps=2))
    curve = result.curve
    assert curve["budget_vnd"].tolist() == [0.0, 2.5 * GB, 5 * GB]
    assert curve["villages"].tolist() == [0, 1, 3]  # V3 cannot be served at any price
    assert curve["people"].tolist() == [0.0, 100.0, 600.0]
    assert result.summary["cost_to_close_all_vnd"] == 5 * GB


def test_separate_budgets_for_mobile_and_fibre():
    # V0 needs mobile only, V1 fibre only; a fibre node 2 km from V1 (no roads)
    gaps = _gaps([(0, 0), (30_000, 0)], score=[50.0, 80.0], fibre=[True, False])
    gaps["has_mobile_broadband"] = [False, True]
    cov = make_coverage([("fibre", 32_000, 0, math.nan)])
    cov["kind"] = "node"
    cands = _candidates([("A", 500, 0)])
    fibre_cost = 2.0 * 1.3 * 0.15 * GB + 0.1 * GB
    both = plan(gaps, budget_vnd={"mobile": 2.5 * GB, "fibre": 0.6 * GB}, candidates=cands,
                coverage=cov, config=_config(), curve=False)
    assert sorted(both.items["kind"]) == ["fibre", "new_site"]
    assert both.items.set_index("kind").loc["fibre", "cost_vnd"] == pytest.approx(fibre_cost)
    assert both.items.set_index("kind").loc["fibre", "route_km"] == pytest.approx(2.6)
    assert "straight lines" in both.summary["fibre_routes"]
    mobile_only = plan(gaps, budget_vnd="mobile=2.5e9,fibre=0.4e9", candidates=cands,
                       coverage=cov, config=_config(), curve=False)
    assert mobile_only.items["kind"].tolist() == ["new_site"]
    shared = plan(gaps, budget_vnd=2.5 * GB, candidates=cands, coverage=cov,
                  config=_config(), curve=False)  # 80 for 0.49 bn beats 50 for 2.5 bn
    assert shared.items["kind"].tolist() == ["fibre"]


# ----------------------------------------------------------------------------- fibre routes

def _road_tree():
    # a 10 km trunk east from the fibre node at (0, 0), then two 5 km branches
    roads = np.array([
        shapely.LineString([(0, 0), (10_000, 0)]),
        shapely.LineString([(10_000, 0), (15_000, 0)]),
        shapely.LineString([(10_000, 0), (10_000, 5_000)]),
    ])
    villages = np.array([[15_000.0, 1_000.0], [10_000.0, 6_000.0]])  # 1 km off each branch end
    return roads, villages


def test_fibre_route_along_roads_has_the_hand_computed_length_and_cost():
    roads, villages = _road_tree()
    net = fibre_routes(villages, np.array([[0.0, 0.0]]), roads=roads)
    # 15 km of road at 0.15 bn/km + 1 km off-road at 0.4 bn/km + 0.1 bn drop
    assert net.village_route_km.tolist() == pytest.approx([16.0, 16.0])
    assert net.village_route_cost_vnd.tolist() == pytest.approx([2.75 * GB, 2.75 * GB])
    # trunk (10 km, 1.5 bn) + two branches (5 km road + 1 km off-road + drop: 1.25 bn each)
    assert sorted(net.segment_cost_vnd.tolist()) == pytest.approx([1.25 * GB, 1.25 * GB,
                                                                   1.5 * GB])
    assert sorted(net.segment_offroad_km.tolist()) == pytest.approx([0.0, 1.0, 1.0])
    trunk = int(np.argmax(net.segment_length_km == 10.0))
    assert net.segment_parent[net.village_segment].tolist() == [trunk, trunk]


def test_shared_trunk_is_paid_once():
    roads, vxy = _road_tree()
    gaps = gpd.GeoDataFrame(
        {"village_id": ["V0", "V1"], "village_name": ["a", "b"], "score": [50.0, 40.0],
         "has_mobile_broadband": True, "has_fibre": False},
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in vxy], crs=UTM48N)
    fibre = gpd.GeoDataFrame({"technology": ["fibre"]}, geometry=[shapely.Point(X0, Y0)],
                             crs=UTM48N)
    road_layer = gpd.GeoSeries([shapely.affinity.translate(r, X0, Y0) for r in roads],
                               crs=UTM48N)
    both = plan(gaps, budget_vnd=4.0 * GB, fibre=fibre, roads=road_layer, config=_config(),
                curve=False)
    assert both.items["kind"].tolist() == ["fibre"]
    assert both.items["cost_vnd"].iloc[0] == pytest.approx(4.0 * GB)  # not 2 × 2.75
    assert both.items["route_km"].iloc[0] == pytest.approx(22.0)
    assert both.items["villages_served"].iloc[0] == "V0;V1"
    assert both.summary["cost_to_close_all_vnd"] == pytest.approx(4.0 * GB)
    one = plan(gaps, budget_vnd=3.9 * GB, fibre=fibre, roads=road_layer, config=_config(),
               curve=False)
    assert one.items["villages_served"].tolist() == ["V0"]
    assert one.items["cost_vnd"].iloc[0] == pytest.approx(2.75 * GB)
    # too far for the configured maximum: listed as needing another technology
    far = plan(gaps, budget_vnd=4.0 * GB, fibre=fibre, roads=road_layer,
               config=_config(max_fibre_route_km=15.0), curve=False)
    assert far.items.empty
    assert far.unservable["need"].tolist() == ["fibre", "fibre"]
    assert "max_fibre_route_km" in far.unservable["reason"].iloc[0]


def test_no_straight_shortcut_from_a_fibre_node_to_a_village():
    # the node is 1 km from the village but 3 km from the road, the village 4 km from
    # the road: fibre goes down to the road and up again (7 km off-road, both links
    # within the 5 km limit), never 1 km straight across the hills
    roads = np.array([shapely.LineString([(0, 0), (50_000, 0)])])
    net = fibre_routes(np.array([[0.0, 4_000.0]]), np.array([[0.0, 3_000.0]]), roads=roads)
    assert net.village_route_km.tolist() == pytest.approx([7.0])
    assert net.segment_offroad_km.tolist() == pytest.approx([7.0])
    assert net.village_route_cost_vnd.tolist() == pytest.approx([7 * 0.4 * GB + 0.1 * GB])


# --------------------------------------------------------------- exact answer = brute force

@st.composite
def problems(draw):
    n_m = draw(st.integers(0, 6))
    n_c = draw(st.integers(0, 5))
    n_f = draw(st.integers(0, 5))
    n_s = draw(st.integers(0, 5))

    def booleans(rows, cols):
        return np.array(draw(st.lists(st.booleans(), min_size=rows * cols,
                                      max_size=rows * cols)), dtype=bool).reshape(rows, cols)

    parent = np.array([draw(st.integers(-1, s - 1)) for s in range(n_s)], dtype=np.int64)
    problem = Problem(
        mobile_weight=np.array(draw(st.lists(st.integers(1, 20), min_size=n_m, max_size=n_m)),
                               dtype=float),
        cover=sparse.csr_matrix(booleans(n_m, n_c)),
        site_cost=np.array(draw(st.lists(st.integers(0, 10), min_size=n_c, max_size=n_c)),
                           dtype=float),
        must=np.array(draw(st.lists(st.booleans(), min_size=n_c, max_size=n_c)), dtype=bool)
        & (np.arange(n_c) == 0),
        fibre_weight=np.array(draw(st.lists(st.sampled_from([0, 1, 3, 7]), min_size=n_f,
                                            max_size=n_f)), dtype=float),
        fibre_cover=sparse.csr_matrix(booleans(n_f, n_s)),
        segment_cost=np.array(draw(st.lists(st.integers(1, 10), min_size=n_s, max_size=n_s)),
                              dtype=float),
        segment_parent=parent,
    )
    if draw(st.booleans()):
        budget = Budget(total_vnd=float(draw(st.integers(0, 30))))
    else:
        budget = Budget(mobile_vnd=float(draw(st.integers(0, 20))),
                        fibre_vnd=float(draw(st.integers(0, 20))))
    return problem, budget


def _brute_force(problem: Problem, budget: Budget) -> tuple[float, float]:
    """The best weight, and the least cost of a choice with that weight."""
    best, cheapest = -1.0, math.inf
    n_c, n_s = problem.n_sites, problem.n_segments
    for site in itertools.product([False, True], repeat=n_c):
        site = np.array(site, dtype=bool)
        if (problem.must & ~site).any():
            continue
        for seg in itertools.product([False, True], repeat=n_s):
            seg = np.array(seg, dtype=bool)
            if any(seg[s] and problem.segment_parent[s] >= 0
                   and not seg[problem.segment_parent[s]] for s in range(n_s)):
                continue
            mobile, fibre = problem.cost(site, seg)
            ok = (mobile + fibre <= budget.total if budget.shared
                  else mobile <= budget.mobile_vnd and fibre <= budget.fibre_vnd)
            if not ok:
                continue
            value = problem.objective(site, seg)
            if value > best + 1e-9:
                best, cheapest = value, mobile + fibre
            elif value > best - 1e-9:
                cheapest = min(cheapest, mobile + fibre)
    return best, cheapest


@settings(max_examples=60, deadline=None)
@given(problems())
def test_milp_equals_brute_force_and_greedy_is_feasible(case):
    problem, budget = case
    pinned = float(problem.site_cost[problem.must].sum())
    limit = budget.total if budget.shared else budget.mobile_vnd
    if pinned > limit:
        with pytest.raises(InputError, match="pinned"):
            solve_milp(problem, budget)
        return
    exact = solve_milp(problem, budget, time_limit_s=10)
    best, cheapest = _brute_force(problem, budget)
    assert exact.objective == pytest.approx(best)
    # among the choices with the best weight, the cheapest: no money spent on nothing
    assert sum(problem.cost(exact.site, exact.segment)) == pytest.approx(cheapest)
    greedy = solve_greedy(problem, budget)
    assert greedy.objective <= exact.objective + 1e-9
    for sol in (exact, greedy):
        assert (sol.site[problem.must]).all()
        mobile, fibre = problem.cost(sol.site, sol.segment)
        if budget.shared:
            assert mobile + fibre <= budget.total + 1e-6
        else:
            assert mobile <= budget.mobile_vnd + 1e-6 and fibre <= budget.fibre_vnd + 1e-6


# -------------------------------------------------------------- the plan agrees with find_gaps

@pytest.fixture(scope="module")
def demo_gaps():
    import geo_dx
    from geo_dx.dem import read_dem

    demo = geo_dx.load_demo()
    crs = demo.villages.estimate_utm_crs()
    dem = read_dem(demo.dem_path, crs=crs)
    gaps = find_gaps(demo.villages, demo.coverage, communes=demo.communes, dem=dem)
    return demo, dem, gaps


def test_find_gaps_with_the_chosen_sites_reports_exactly_the_planned_villages(demo_gaps):
    demo, dem, gaps = demo_gaps
    result = plan(gaps, budget_vnd=20 * GB, coverage=demo.coverage, dem=dem, roads=demo.roads,
                  config=_config(weight="count"), curve=False)
    sites = result.candidates[result.candidates["chosen"]]
    assert len(sites) >= 3
    mobile_items = result.items[result.items["kind"] != "fibre"]
    promised = {v for s in mobile_items["villages_served"] for v in s.split(";") if v}
    assert len(promised) == result.summary["newly_served"]["mobile"]["villages"] > 0
    added = as_coverage_sites(sites).to_crs(demo.coverage.crs)
    after = find_gaps(demo.villages, pd.concat([demo.coverage, added], ignore_index=True),
                      communes=demo.communes, dem=dem)
    newly = set(after.loc[after["has_mobile_broadband"] & ~gaps["has_mobile_broadband"],
                          "village_id"])
    assert newly == promised
    assert result.summary["mobile_gap_villages"] == int((~gaps["has_mobile_broadband"]).sum())


def test_every_candidate_serves_what_find_gaps_says(demo_gaps):
    # column by column, for a sample of all candidates (peaks, villages, upgrades)
    demo, dem, gaps = demo_gaps
    result = plan(gaps, budget_vnd=1 * GB, coverage=demo.coverage, dem=dem, roads=None,
                  config=_config(weight="count"), curve=False)
    cands = result.candidates
    rng = np.random.default_rng(1)
    sample = rng.choice(len(cands), size=12, replace=False)
    csc = result.served.tocsc()
    for j in sample:
        added = as_coverage_sites(cands.iloc[[j]]).to_crs(demo.coverage.crs)
        after = find_gaps(demo.villages, pd.concat([demo.coverage, added], ignore_index=True),
                          dem=dem)
        newly = set(after.loc[after["has_mobile_broadband"] & ~gaps["has_mobile_broadband"],
                              "village_id"])
        rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        assert newly == set(result.served_village_ids[rows]), cands.iloc[j]["candidate_id"]


@st.composite
def radius_worlds(draw):
    """Villages (points or small squares), 2G/4G sites and candidates in a 12 km square."""
    coord = st.integers(0, 12).map(lambda k: k * 1_000.0)
    n_v = draw(st.integers(1, 8))
    vxy = [(draw(coord), draw(coord)) for _ in range(n_v)]
    squares = draw(st.lists(st.booleans(), min_size=n_v, max_size=n_v))
    sites = [(draw(st.sampled_from(["2g", "4g"])), draw(coord), draw(coord),
              draw(st.sampled_from([1_000.0, 2_500.0, math.nan])))
             for _ in range(draw(st.integers(0, 3)))]
    cands = [(f"K{i}", draw(coord), draw(coord), draw(st.sampled_from(["new_site",
                                                                        "small_cell"])),
              draw(st.sampled_from([math.nan, 1_000.0, 3_000.0])))
             for i in range(draw(st.integers(1, 5)))]
    return vxy, squares, sites, cands


@settings(max_examples=40, deadline=None)
@given(radius_worlds())
def test_find_gaps_agrees_with_the_plan_under_the_radius_model(world):
    from geo_dx.schema import validate_coverage, validate_villages

    vxy, squares, sites, cands = world
    geoms = [shapely.box(X0 + x - 200, Y0 + y - 200, X0 + x + 200, Y0 + y + 200) if sq
             else shapely.Point(X0 + x, Y0 + y) for (x, y), sq in zip(vxy, squares, strict=True)]
    villages = validate_villages(gpd.GeoDataFrame(
        {"village_id": [f"V{i}" for i in range(len(vxy))],
         "village_name": [f"Bản {i}" for i in range(len(vxy))], "score": 50.0},
        geometry=geoms, crs=UTM48N))
    rows = [*sites, ("fibre", 0.0, 0.0, math.nan)]
    coverage = validate_coverage(make_coverage(rows))
    gaps = find_gaps(villages, coverage)
    ids, xs, ys, kinds, ranges = zip(*cands, strict=True)
    candidates = validate_candidates(gpd.GeoDataFrame(
        {"candidate_id": list(ids), "kind": list(kinds), "range_m": list(ranges)},
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in zip(xs, ys, strict=True)],
        crs=UTM48N))
    result = plan(gaps, budget_vnd=100 * GB, candidates=candidates, coverage=coverage,
                  config=_config(weight="count", generate="never"), curve=False)
    chosen = result.candidates[result.candidates["chosen"]]
    promised = {v for s in result.items.loc[result.items["kind"] != "fibre", "villages_served"]
                for v in s.split(";") if v}
    added = as_coverage_sites(chosen).to_crs(coverage.crs)
    after = find_gaps(villages, pd.concat([coverage, added], ignore_index=True))
    newly = set(after.loc[after["has_mobile_broadband"] & ~gaps["has_mobile_broadband"],
                          "village_id"])
    assert newly == promised
    # with money for everything, every village some candidate serves is served
    unservable = set(result.unservable.loc[result.unservable["need"] == "mobile", "village_id"])
    assert unservable == set(gaps.loc[~gaps["has_mobile_broadband"], "village_id"]) - promised


def test_terrain_gaps_without_the_dem_are_refused(demo_gaps):
    demo, _, gaps = demo_gaps
    with pytest.raises(InputError, match="pass the same DEM"):
        plan(gaps, budget_vnd=1 * GB, coverage=demo.coverage, curve=False)


# ------------------------------------------------------------------------------ bad input

@pytest.mark.parametrize("value", [-1, "abc", float("nan"), "mobile=1e9", "wifi=1,fibre=2"])
def test_bad_budget_is_refused(value):
    with pytest.raises(InputError, match="budget"):
        Budget.parse(value)


def test_unknown_kind_and_missing_geometry_are_refused():
    gdf = gpd.GeoDataFrame({"candidate_id": ["A"], "kind": ["tower"]},
                           geometry=[shapely.Point(103, 21)], crs=4326)
    with pytest.raises(InputError, match="'kind' has value 'tower'.*new_site, upgrade"):
        validate_candidates(gdf, source="c.gpkg")
    with pytest.raises(InputError, match="c.csv: the candidates have no geometry"):
        validate_candidates(pd.DataFrame({"candidate_id": ["A"]}), source="c.csv")
    with pytest.raises(InputError, match="no geometry"):
        validate_candidates(gpd.GeoDataFrame({"candidate_id": ["A"]},
                                             geometry=[None], crs=4326), source="c.gpkg")


def test_plan_config_is_validated():
    cfg = config_from_dict({"plan": {"weight": "population", "must": ["A"],
                                     "costs": {"new_site_vnd": 3e9}}})
    assert cfg.plan.must == ("A",) and cfg.plan.costs.new_site_vnd == 3e9
    with pytest.raises(ConfigError, match="plan.weight"):
        config_from_dict({"plan": {"weight": "votes"}})
    with pytest.raises(ConfigError, match="new_site_vnd"):
        config_from_dict({"plan": {"costs": {"new_site_vnd": -1}}})
    with pytest.raises(ConfigError, match="unknown key"):
        config_from_dict({"plan": {"costs": {"tower_vnd": 1}}})


def test_prepare_candidates_fills_reach_height_and_cost():
    cands = validate_candidates(gpd.GeoDataFrame(
        {"candidate_id": ["A", "B", "C"], "kind": ["new_site", "small_cell", "upgrade"],
         "range_m": [None, None, 90_000], "cost_vnd": [None, 7.0, None]},
        geometry=[shapely.Point(103, 21)] * 3, crs=4326))
    with pytest.warns(UserWarning, match="capped the reach of 1"):
        out = prepare_candidates(cands)
    assert out["reach_m"].tolist() == [4000.0, 1000.0, 15000.0]  # 4G default, small, 4G cap
    assert out["antenna_height_m"].tolist() == [30.0, 12.0, 30.0]
    assert out["cost_vnd"].tolist() == [2.5e9, 7.0, 0.5e9]


def _console_plan(status: str) -> dict:
    """A finished plan's summary as format_plan reads it, with a given solver status."""
    return {"budget_vnd": 1e9, "cost_used_vnd": 0.0, "mobile_gap_villages": 3,
            "fibre_gap_villages": 4, "objective": 0.0, "status": status, "gap": None,
            "greedy_objective": 0.0, "unservable": {"mobile": 0, "fibre": 0},
            "cost_to_close_all_vnd": None,
            "newly_served": {k: {"villages": 0, "people": 0, "ethnic_minority_people": 0}
                             for k in ("mobile", "fibre")}}


def test_every_solver_status_reads_in_the_run_language():
    import highspy

    from geo_dx.i18n import translator
    from geo_dx.run.plan_outputs import PLAN_STATUS_TEXT, format_plan

    highs = highspy.Highs()
    statuses = {str(highs.modelStatusToString(getattr(highspy.HighsModelStatus, name))).lower()
                for name in dir(highspy.HighsModelStatus) if name.startswith("k")}
    assert len(statuses) > 15 and statuses <= set(PLAN_STATUS_TEXT)
    vi = translator("vi")
    for message in PLAN_STATUS_TEXT.values():
        assert vi.gettext(message) != message
    assert "không khả thi: không có phương án" in format_plan(_console_plan("infeasible"))
    english = format_plan(_console_plan("infeasible"), language="en")
    assert "(infeasible: no choice satisfies the budget" in english
    assert "Best plan found (some new status)" in format_plan(_console_plan("some new status"),
                                                              language="en")
