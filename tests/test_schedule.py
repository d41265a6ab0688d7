"""Tests for geo_dx.plan.schedule and the plan's technology answers: years, grid power,
an answer for every gap village."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from geo_dx.config import Config, PlanConfig, PlanCostsConfig
from geo_dx.errors import InputError
from geo_dx.plan.model import InvestmentPlan, plan
from geo_dx.plan.optimise import Budget, Problem, solve_greedy, solve_milp
from geo_dx.plan.schedule import schedule, yearly_budgets
from geo_dx.schema import validate_candidates
from tests.conftest import UTM48N, X0, Y0, make_villages

GB = 1e9
SITE_ONLY = PlanCostsConfig(microwave_link_vnd=0.0, satellite_backhaul_vnd=0.0,
                            satellite_backhaul_vnd_per_month=0.0, grid_connection_vnd=0.0,
                            solar_power_vnd=0.0)


def _world(n: int = 4, **columns):
    """``n`` gap villages 10 km apart, each with its own 1 bn candidate 300 m away."""
    villages = make_villages([(10_000 * i, 0) for i in range(n)],
                             score=[90.0 - 10 * i for i in range(n)], **columns)
    villages = villages.assign(has_mobile_broadband=False, has_fibre=True)
    cands = validate_candidates(gpd.GeoDataFrame(
        {"candidate_id": [f"C{i}" for i in range(n)], "kind": "new_site",
         "cost_vnd": 1 * GB, "range_m": 1_000.0},
        geometry=[shapely.Point(X0 + 10_000 * i + 300, Y0) for i in range(n)], crs=UTM48N))
    return villages, cands


def _milp(problem: Problem, budget: Budget):
    greedy = solve_greedy(problem, budget)
    milp = solve_milp(problem, budget, time_limit_s=30, start=greedy)
    return milp if milp.objective >= greedy.objective - 1e-9 else greedy


def test_two_years_nested_and_the_first_year_is_the_optimal_first_year_plan():
    villages, cands = _world(4)
    config = Config(plan=PlanConfig(costs=SITE_ONLY, generate="never", weight="priority",
                                    satellite_access_weight=0.0))  # sites only here
    model = InvestmentPlan.from_gaps(villages, candidates=cands, config=config)
    result = model.schedule({2026: 1.5 * GB, 2027: 1.5 * GB})
    by_year = result.items.groupby("year")["candidate_id"].apply(sorted).to_dict()
    # 2026: 1.5 bn buys one site (the best village, C0); 0.5 bn rolls on; 2027: 2 bn, two more
    assert by_year == {2026: ["C0"], 2027: ["C1", "C2"]}
    assert sorted(model.solve(1.5 * GB).items["candidate_id"]) == by_year[2026]
    spent = result.summary["schedule"]
    assert [s["spent_vnd"] for s in spent] == [1 * GB, 2 * GB]
    assert [s["carried_vnd"] for s in spent] == [0.5 * GB, 0.0]
    assert [s["villages_by_technology"] for s in spent] == [
        {"macro_satellite_backhaul": 1}, {"macro_satellite_backhaul": 2}]
    years = result.villages.set_index("village_id")["plan_year"]
    assert years.loc[["V0", "V1", "V2"]].tolist() == [2026, 2027, 2027]
    assert years.isna()["V3"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0.1, 5.0), min_size=4, max_size=4),
       st.lists(st.floats(0.0, 6.0), min_size=1, max_size=3),
       st.integers(0, 2**31 - 1))
def test_the_schedule_is_nested_and_each_prefix_is_within_its_cumulative_budget(
        cost, budgets, seed):
    rng = np.random.default_rng(seed)
    cover = sparse.csr_matrix(rng.random((6, 4)) < 0.5)
    problem = Problem(rng.uniform(1, 10, 6), cover, np.asarray(cost), np.zeros(4, bool),
                      np.zeros(0), sparse.csr_matrix((0, 0), dtype=bool), np.zeros(0),
                      np.zeros(0, dtype=np.int64))
    money = {2026 + i: b for i, b in enumerate(budgets)}
    plan_years = schedule(problem, money, solve=_milp)
    total = 0.0
    for year, amount in money.items():
        total += amount
        built = (plan_years.site_year > 0) & (plan_years.site_year <= year)
        assert problem.site_cost[built].sum() <= total + 1e-9
    first = min(money)
    alone = _milp(problem, Budget(total_vnd=money[first]))
    assert problem.objective(plan_years.site_year == first, np.zeros(0, bool)) == \
        pytest.approx(alone.objective)


def test_yearly_budgets_are_read_from_the_cli_form_and_refused_when_mixed():
    assert yearly_budgets("2026=1e9,2027=2e9") == {2026: 1e9, 2027: 2e9}
    assert yearly_budgets({"2028": 5e9}) == {2028: 5e9}
    assert yearly_budgets(30e9) is None
    with pytest.raises(InputError, match="mixes years"):
        yearly_budgets("2026=1e9,mobile=2e9")
    with pytest.raises(InputError, match="2026"):
        yearly_budgets("2026=-1")


def test_require_grid_power_drops_exactly_the_unpowered_villages_and_says_so():
    villages, cands = _world(4, has_grid_power=[True, False, None, False])
    base = PlanConfig(costs=SITE_ONLY, generate="never")
    free = plan(villages, budget_vnd=10 * GB, candidates=cands, curve=False,
                config=Config(plan=base))
    strict = plan(villages, budget_vnd=10 * GB, candidates=cands, curve=False,
                  config=Config(plan=PlanConfig(**{**base.__dict__, "require_grid_power": True})))
    assert sorted(free.items["candidate_id"]) == ["C0", "C1", "C2", "C3"]
    sites = strict.items[strict.items["kind"] != "satellite_access"]
    assert sorted(sites["candidate_id"]) == ["C0", "C2"]  # unknown power stays in
    # the unpowered villages get satellite access on solar power, not a site
    access = strict.items[strict.items["kind"] == "satellite_access"]
    assert sorted(access["villages_served"]) == ["V1", "V3"]
    assert set(access["power"]) == {"solar"} and set(access["service"]) == {"satellite_hotspot"}
    assert strict.summary["newly_served"]["mobile"]["villages"] == 2
    assert strict.summary["grid_power"] == {"yes": 1, "no": 2, "unknown": 1}
    answer = strict.villages.set_index("village_id")["plan_answer"]
    assert answer["V1"].startswith("chưa có điện lưới") and answer["V3"].startswith("chưa có")
    assert answer["V0"] == "" and answer["V2"] == ""


def test_every_gap_village_gets_an_item_or_an_answer_at_any_budget():
    """Village V3 has no candidate in reach: it is answered with satellite access, and
    bought it once the budget allows."""
    villages, cands = _world(4)
    cands = cands[cands["candidate_id"] != "C3"]
    for budget in (0.0, 1 * GB, 100 * GB):
        result = plan(villages, budget_vnd=budget, candidates=cands, curve=False,
                      config=Config(plan=PlanConfig(costs=SITE_ONLY, generate="never")))
        v = result.villages.set_index("village_id")
        answered = (v["plan_item"] != "") | (v["plan_answer"] != "")
        assert answered.all(), v.loc[~answered, ["plan_item", "plan_answer"]]
        if budget == 0:
            assert "vệ tinh" in v.loc["V3", "plan_answer"]
        else:  # 0.05 bn buys it
            assert v.loc["V3", "plan_item"].startswith("S")
    # above everything: every gap village has an item, V3 satellite access
    assert (v["plan_item"] != "").all()
    assert v.loc["V3", "plan_item"].startswith("S")
    assert result.summary["left"]["cost_to_close_vnd"] == 0.0


def test_plan_csv_says_technology_service_power_and_costs_over_the_years():
    villages, cands = _world(2, has_grid_power=[False, True])
    config = Config(plan=PlanConfig(generate="never", horizon_years=2, discount_rate=0.1))
    result = plan(villages, budget_vnd=100 * GB, candidates=cands, curve=False, config=config)
    items = result.items.set_index("candidate_id")
    assert items.loc["C0", "power"] == "solar" and items.loc["C1", "power"] == "grid"
    assert set(items["service"]) == {"4g"}
    assert set(items["technology"]) == {"macro_satellite_backhaul"}
    c = config.plan.costs
    opex = c.site_opex_vnd_per_year + 12 * c.satellite_backhaul_vnd_per_month + \
        c.solar_opex_vnd_per_year
    assert items.loc["C0", "opex_vnd_per_year"] == pytest.approx(opex)
    assert items.loc["C0", "npv_cost_vnd"] == pytest.approx(
        items.loc["C0", "capex_vnd"] + opex / 1.1 + opex / 1.21)
    assert items.loc["C0", "cost_vnd"] == items.loc["C0", "capex_vnd"]  # budget on capex


def test_the_budget_curve_marks_each_year_with_what_the_schedule_serves_by_then():
    villages, cands = _world(4)
    config = Config(plan=PlanConfig(costs=SITE_ONLY, generate="never", curve_steps=2))
    result = plan(villages, budget_vnd="2026=1.5e9,2027=1.5e9", candidates=cands,
                  config=config)
    curve = result.curve
    marks = curve[curve["year"].notna()].set_index("year")
    assert marks.index.tolist() == [2026, 2027]
    assert marks["budget_vnd"].tolist() == [1.5 * GB, 3 * GB]  # the money given so far
    assert marks["status"].tolist() == ["schedule", "schedule"]
    # re-counted from the items and their years, both ways
    items = result.items
    for year, mark in marks.iterrows():
        built = items[items["year"] <= year]
        sites = built[built["kind"] == "new_site"]
        access = built[built["kind"] == "satellite_access"]
        four_g = {v for s in sites["villages_served"] for v in s.split(";")}
        only_sat = {v for s in access["villages_served"] for v in s.split(";")} - four_g
        assert mark["mobile_villages"] == len(four_g)
        assert mark["satellite_villages"] == len(only_sat)
        assert mark["cost_used_vnd"] == pytest.approx(built["cost_vnd"].sum())
    # the regular steps are still there, in budget order, with no year
    assert curve["year"].isna().sum() == 3
    assert curve["budget_vnd"].is_monotonic_increasing
    assert [c["year"] for c in result.summary["curve"] if c["year"] is not None] == [2026, 2027]


def test_each_year_lists_the_fibre_laid_that_year_and_what_it_serves():
    """A fibre tree grown over several years is one item per year; the villages each
    year's items serve are what the schedule newly serves that year."""
    import geo_dx

    demo = geo_dx.load_demo()
    gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
    scored = geo_dx.score(gaps, communes=demo.communes)
    result = plan(scored, budget_vnd="2026=4e9,2027=4e9,2028=4e9", coverage=demo.coverage,
                  roads=demo.roads, curve=False)
    items = result.items
    assert not items.duplicated(["item_id"]).any()
    assert items["year"].is_monotonic_increasing  # ranked in the order of building
    before = {"fibre_villages": 0, "mobile_villages": 0}
    for entry in result.summary["schedule"]:
        built = items[items["year"] == entry["year"]]
        for kind, key in (("fibre", "fibre_villages"), ("upgrade", "mobile_villages")):
            credited = {v for s in built.loc[built["technology"] == kind, "villages_served"]
                        for v in s.split(";") if v}
            assert len(credited) == entry["so_far"][key] - before[key], (entry["year"], kind)
        before = entry["so_far"]


def test_a_fibre_route_grown_over_two_years_is_two_items_each_with_its_villages():
    # a fibre node at x = -2 km; V0 at 0 and V1 at 10 km, on one road (no other gap)
    gaps = gpd.GeoDataFrame(
        {"village_id": ["V0", "V1"], "village_name": ["a", "b"], "score": [50.0, 40.0],
         "has_mobile_broadband": True, "has_fibre": False},
        geometry=[shapely.Point(X0, Y0), shapely.Point(X0 + 10_000, Y0)], crs=UTM48N)
    fibre = gpd.GeoDataFrame({"technology": ["fibre"]},
                             geometry=[shapely.Point(X0 - 2_000, Y0)], crs=UTM48N)
    road = gpd.GeoSeries([shapely.LineString([(X0 - 2_000, Y0), (X0 + 12_000, Y0)])],
                         crs=UTM48N)
    config = Config(plan=PlanConfig(costs=SITE_ONLY, generate="never"))
    # 2 km to V0 (0.3 bn + 0.1 drop) in 2026; 10 km on to V1 (1.5 + 0.1) in 2027
    result = plan(gaps, budget_vnd="2026=0.5e9,2027=1.6e9", fibre=fibre, roads=road,
                  config=config, curve=False)
    items = result.items[result.items["kind"] == "fibre"]
    assert items[["year", "villages_served"]].values.tolist() == [[2026, "V0"], [2027, "V1"]]
    assert items["cost_vnd"].tolist() == pytest.approx([0.4 * GB, 1.6 * GB])
    assert items["route_km"].tolist() == pytest.approx([2.0, 10.0])
    assert set(items["start_node_id"]) == {items["start_node_id"].iloc[0]}  # one tree
