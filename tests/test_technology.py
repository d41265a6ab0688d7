"""Tests for geo_dx.plan.technology and geo_dx.power: backhaul, power and costs over years."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from hypothesis import given
from hypothesis import strategies as st
from pyproj import CRS
from shapely.geometry import LineString, Point

from geo_dx.config import Config, config_from_dict
from geo_dx.dem import DemGrid
from geo_dx.errors import ConfigError
from geo_dx.plan.technology import (
    Relays,
    annuity_factor,
    npv_cost_vnd,
    satellite_access_cost,
    site_options,
    with_technology,
)
from geo_dx.power import distance_to_grid_m, site_power, village_grid_power

UTM48 = CRS.from_epsg(32648)


def _ridge_dem() -> DemGrid:
    """A flat 40 x 40 km plain at 0 m with a 600 m high north-south ridge at x = 20 km."""
    z = np.zeros((40, 40))
    z[:, 20] = 600.0
    return DemGrid(z, Affine(1000, 0, 0, 0, -1000, 40000), UTM48)


def _new_site(n: int = 1) -> pd.DataFrame:
    return pd.DataFrame({"kind": ["new_site"] * n, "antenna_height_m": [30.0] * n,
                         "cost_vnd": [2.5e9] * n})


NO_RELAYS = Relays(np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0))


def test_npv_by_hand_one_item():
    """2.5 bn now, 0.2 bn a year for 3 years at 10 %: 2.5 + 0.2/1.1 + 0.2/1.21 + 0.2/1.331."""
    cfg = config_from_dict({"plan": {"horizon_years": 3, "discount_rate": 0.1}})
    expected = 2.5e9 + 0.2e9 / 1.1 + 0.2e9 / 1.21 + 0.2e9 / 1.331
    assert float(npv_cost_vnd(2.5e9, 0.2e9, config=cfg)) == pytest.approx(expected, rel=1e-12)
    assert annuity_factor(3, 0.0) == 3.0


@given(st.integers(1, 40), st.floats(0.0, 0.5))
def test_annuity_factor_is_the_sum_of_discounted_years(years, rate):
    direct = sum((1 + rate) ** -t for t in range(1, years + 1))
    assert annuity_factor(years, rate) == pytest.approx(direct, rel=1e-9)


def test_a_site_20_km_from_the_grid_gets_solar_power_and_its_cost():
    cfg = Config()
    costs = cfg.plan.costs
    out = site_options(_new_site(2), xy=np.array([[0.0, 0.0], [100.0, 0.0]]), relays=NO_RELAYS,
                       dem=None, grid_distance_m=np.array([20_000.0, 500.0]), config=cfg)
    assert out["power"].tolist() == ["solar", "grid"]
    sat = costs.satellite_backhaul_vnd
    assert out["capex_vnd"].tolist() == [2.5e9 + sat + costs.solar_power_vnd,
                                         2.5e9 + sat + costs.grid_connection_vnd]
    opex_solar = (costs.site_opex_vnd_per_year + costs.satellite_backhaul_vnd_per_month * 12
                  + costs.solar_opex_vnd_per_year)
    assert out["opex_vnd_per_year"].iloc[0] == pytest.approx(opex_solar)


def test_a_village_20_km_from_a_power_line_has_no_grid_power():
    line = gpd.GeoSeries([LineString([(500000, 2290000), (500000, 2310000)])], crs=32648)
    villages = gpd.GeoDataFrame({"village_id": ["near", "far"]},
                                geometry=[Point(500500, 2300000), Point(520000, 2300000)],
                                crs=32648)
    assert distance_to_grid_m(villages, line).tolist() == [500.0, 20000.0]
    assert village_grid_power(villages, line).tolist() == ["yes", "no"]
    # the village's own answer wins over the line layer
    own = villages.assign(has_grid_power=[False, pd.NA])
    assert village_grid_power(own, line).tolist() == ["no", "no"]
    # without lines and without its own answer, unknown: never assumed absent
    assert village_grid_power(villages).tolist() == ["unknown", "unknown"]
    # a site with unknown line distance follows its village
    assert site_power(np.array([np.nan]), max_grid_distance_m=2000,
                      village_power=np.array(["no"])).tolist() == ["solar"]


def test_behind_a_ridge_microwave_where_a_hop_is_in_sight_satellite_where_not():
    """Two new sites west of the ridge; an existing mast stands west (in sight of the first)
    and another east of the ridge (the only one within the second site's hop)."""
    dem = _ridge_dem()
    masts = np.array([[5000.0, 20000.0], [30000.0, 5000.0]])
    relays = Relays(np.zeros((0, 2)), masts, np.array([30.0, 30.0]))
    cfg = config_from_dict({"plan": {"microwave_max_hop_km": 15.0}})
    xy = np.array([[10000.0, 20000.0],   # 5 km from the west mast, same side: in sight
                   [18000.0, 5000.0]])   # 12 km from the east mast, ridge between; west > 15 km
    out = site_options(_new_site(2), xy=xy, relays=relays, dem=dem,
                       grid_distance_m=np.array([0.0, 0.0]), config=cfg)
    assert out["technology"].tolist() == ["macro_microwave_backhaul",
                                          "macro_satellite_backhaul"]
    assert out["backhaul"].tolist() == ["microwave", "satellite"]
    # without the ridge both hops are clear
    flat = DemGrid(np.zeros((40, 40)), dem.transform, UTM48)
    out_flat = site_options(_new_site(2), xy=xy, relays=relays, dem=flat,
                            grid_distance_m=np.array([0.0, 0.0]), config=cfg)
    assert out_flat["backhaul"].tolist() == ["microwave", "microwave"]


def test_fibre_backhaul_when_a_node_is_near_and_cheapest():
    relays = Relays(np.array([[0.0, 2000.0]]), np.zeros((0, 2)), np.zeros(0))
    cfg = Config()
    out = site_options(_new_site(2), xy=np.array([[0.0, 0.0], [0.0, 50_000.0]]), relays=relays,
                       dem=None, grid_distance_m=np.array([0.0, 0.0]), config=cfg)
    assert out["backhaul"].tolist() == ["fibre", "satellite"]
    assert out["backhaul_km"].iloc[0] == pytest.approx(2.0 * cfg.plan.detour_factor)
    assert np.isnan(out["backhaul_km"].iloc[1])


@given(st.lists(st.floats(0, 60_000), min_size=1, max_size=8),
       st.floats(0.0, 0.3), st.integers(1, 30))
def test_the_chosen_backhaul_is_never_dearer_than_satellite(dists, rate, years):
    """Satellite is always possible, so the kept option never costs more over the horizon."""
    cfg = config_from_dict({"plan": {"discount_rate": rate, "horizon_years": years}})
    n = len(dists)
    xy = np.column_stack([np.asarray(dists), np.zeros(n)])
    relays = Relays(np.zeros((1, 2)), np.zeros((1, 2)), np.array([30.0]))
    out = site_options(_new_site(n), xy=xy, relays=relays, dem=None,
                       grid_distance_m=np.zeros(n), config=cfg)
    c = cfg.plan.costs
    satellite_only = npv_cost_vnd(
        2.5e9 + c.satellite_backhaul_vnd + c.grid_connection_vnd,
        c.site_opex_vnd_per_year + 12 * c.satellite_backhaul_vnd_per_month
        + c.grid_power_opex_vnd_per_year, config=cfg)
    assert (out["npv_cost_vnd"].to_numpy() <= satellite_only * (1 + 1e-12)).all()
    assert (out["npv_cost_vnd"] == npv_cost_vnd(out["capex_vnd"], out["opex_vnd_per_year"],
                                                config=cfg)).all()


def test_an_upgrade_uses_the_existing_backhaul_and_power():
    cands = pd.DataFrame({"kind": ["upgrade"], "antenna_height_m": [30.0], "cost_vnd": [0.5e9]})
    out = site_options(cands, xy=np.zeros((1, 2)), relays=NO_RELAYS, dem=None,
                       grid_distance_m=np.array([50_000.0]), config=Config())
    assert out[["technology", "backhaul", "power"]].values.tolist() == [
        ["upgrade", "existing", "existing"]]
    assert out["capex_vnd"].iloc[0] == 0.5e9


def test_satellite_access_costs_its_terminal_and_fee():
    cfg = config_from_dict({"plan": {"horizon_years": 1, "discount_rate": 0.0}})
    capex, opex, npv = satellite_access_cost(cfg)
    assert (capex, opex, npv) == (50e6, 12 * 2.1e6, 50e6 + 12 * 2.1e6)


@pytest.mark.parametrize(("plan", "key"), [
    ({"budget_basis": "opex"}, "plan.budget_basis"),
    ({"yearly_budgets": {"next": 1e9}}, "plan.yearly_budgets"),
    ({"discount_rate": 1.5}, "plan.discount_rate"),
    ({"costs": {"solar_power_vnd": -1}}, "plan.costs.solar_power_vnd"),
])
def test_bad_plan_settings_name_the_key(plan, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        config_from_dict({"plan": plan})


def test_with_technology_costs_by_the_budget_basis_and_finds_backhaul_in_the_coverage():
    """A new site 3 km from an existing 2G mast (flat, in sight) takes microwave; the budget
    pays capex by default and the net present cost with plan.budget_basis = "npv"."""
    cands = gpd.GeoDataFrame({"kind": ["new_site"], "antenna_height_m": [30.0],
                              "cost_vnd": [2.5e9]},
                             geometry=[Point(500000, 2300000)], crs=32648)
    coverage = gpd.GeoDataFrame({"kind": ["site"], "technology": ["2g"],
                                 "antenna_height_m": [25.0]},
                                geometry=[Point(503000, 2300000)], crs=32648)
    villages = gpd.GeoDataFrame({"village_id": ["v"]}, geometry=[Point(500100, 2300000)],
                                crs=32648)
    flat = DemGrid(np.zeros((40, 40)), Affine(1000, 0, 480000, 0, -1000, 2320000), UTM48)
    capex_cfg, npv_cfg = Config(), config_from_dict({"plan": {"budget_basis": "npv"}})
    by_capex = with_technology(cands, villages=villages, coverage=coverage, fibre_nodes=None,
                               dem=flat, config=capex_cfg, crs=32648)
    by_npv = with_technology(cands, villages=villages, coverage=coverage, fibre_nodes=None,
                             dem=flat, config=npv_cfg, crs=32648)
    assert by_capex["technology"].tolist() == ["macro_microwave_backhaul"]
    costs = capex_cfg.plan.costs
    assert by_capex["cost_vnd"].iloc[0] == 2.5e9 + costs.microwave_link_vnd + \
        costs.grid_connection_vnd
    assert by_capex["site_vnd"].iloc[0] == 2.5e9
    assert by_npv["cost_vnd"].iloc[0] == pytest.approx(float(npv_cost_vnd(
        by_npv["capex_vnd"].iloc[0], by_npv["opex_vnd_per_year"].iloc[0], config=npv_cfg)))
    assert by_npv["cost_vnd"].iloc[0] > by_capex["cost_vnd"].iloc[0]
    assert cands["cost_vnd"].tolist() == [2.5e9]  # the input is not changed
