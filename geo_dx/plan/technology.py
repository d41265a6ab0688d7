"""What each option is built from, what it costs to build and to run, and the service it gives.

A plan compares options that give different services, so each says which:

========================== ============================================= =====================
``technology``             what is built                                  service
========================== ============================================= =====================
``upgrade``                4G radio on an existing 2G/3G site             4G coverage
``macro_fibre_backhaul``   a new 4G site, fibre to the nearest node       4G coverage
``macro_microwave_backhaul`` a new 4G site, a radio hop to a site or node 4G coverage
``macro_satellite_backhaul`` a new 4G site, satellite (VSAT/LEO) backhaul 4G coverage
``small_cell_*_backhaul``  a small cell with one of the three backhauls   4G coverage
``satellite_access``       a satellite terminal and Wi-Fi hotspot         satellite hotspot
``fibre``                  a fibre extension to the village               fixed broadband
========================== ============================================= =====================

Each new site is powered from the grid when a power line is within
``plan.max_grid_distance_m`` (a connection cost and an electricity bill), otherwise by solar
panels and a battery. Costs are indicative (:class:`geo_dx.config.PlanCostsConfig`);
``npv_cost_vnd`` is capital plus the operating costs of ``plan.horizon_years`` years
discounted at ``plan.discount_rate`` (paid at the end of each year).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.spatial import cKDTree

from geo_dx.config import Config
from geo_dx.dem import DemGrid
from geo_dx.power import distance_to_grid_m, site_power, village_grid_power
from geo_dx.signal.terrain import line_of_sight
from geo_dx.spatial import village_locations

logger = logging.getLogger(__name__)

#: The service each technology gives.
SERVICE: dict[str, str] = {
    "upgrade": "4g",
    "macro_fibre_backhaul": "4g",
    "macro_microwave_backhaul": "4g",
    "macro_satellite_backhaul": "4g",
    "small_cell_fibre_backhaul": "4g",
    "small_cell_microwave_backhaul": "4g",
    "small_cell_satellite_backhaul": "4g",
    "satellite_access": "satellite_hotspot",
    "fibre": "fibre",
}
#: Columns :func:`site_options` adds to the candidates.
OPTION_COLUMNS: tuple[str, ...] = ("technology", "backhaul", "backhaul_km", "power", "capex_vnd",
                                   "opex_vnd_per_year", "npv_cost_vnd")
#: Backhauls of a new site, in the order they are preferred at equal cost.
BACKHAULS: tuple[str, ...] = ("fibre", "microwave", "satellite")


def annuity_factor(horizon_years: int, discount_rate: float) -> float:
    """
    Present value of 1 VND paid at the end of each of ``horizon_years`` years.

    Examples
    --------
    >>> round(annuity_factor(2, 0.1), 6)  # 1/1.1 + 1/1.21
    1.735537
    >>> annuity_factor(10, 0.0)
    10.0
    """
    if discount_rate == 0:
        return float(horizon_years)
    # 1 - (1 + r)^-n without cancellation for tiny rates
    return float(-math.expm1(-horizon_years * math.log1p(discount_rate)) / discount_rate)


def npv_cost_vnd(
    capex_vnd: np.ndarray | float, opex_vnd_per_year: np.ndarray | float, *, config: Config
) -> np.ndarray:
    """
    Net present cost: capital plus discounted operating costs over the plan's horizon.

    Examples
    --------
    >>> from geo_dx.config import config_from_dict
    >>> cfg = config_from_dict({"plan": {"horizon_years": 2, "discount_rate": 0.1}})
    >>> float(npv_cost_vnd(100.0, 11.0, config=cfg).round(4))  # 100 + 11/1.1 + 11/1.21
    119.0909
    """
    factor = annuity_factor(config.plan.horizon_years, config.plan.discount_rate)
    return np.asarray(capex_vnd, dtype=float) + factor * np.asarray(opex_vnd_per_year,
                                                                    dtype=float)


@dataclass(frozen=True)
class Relays:
    """Where a new site can take its backhaul from, in the working CRS.

    Attributes
    ----------
    fibre_xy
        Fibre nodes (n, 2).
    mast_xy, mast_height_m
        Existing sites and fibre nodes a microwave hop can reach, with antenna heights.
    """

    fibre_xy: np.ndarray
    mast_xy: np.ndarray
    mast_height_m: np.ndarray


def site_options(
    candidates: pd.DataFrame,
    *,
    xy: np.ndarray,
    relays: Relays,
    dem: DemGrid | None,
    grid_distance_m: np.ndarray,
    village_power: np.ndarray | None = None,
    config: Config,
) -> pd.DataFrame:
    """
    The cheapest way to build each candidate site: technology, backhaul, power and costs.

    For a new site (or small cell) each backhaul that is possible is costed — fibre when a
    node is within ``plan.fibre_backhaul_max_km`` (laid along the roads: straight distance
    × ``plan.detour_factor``), microwave when an existing site or fibre node within
    ``plan.microwave_max_hop_km`` is in line of sight on the DEM (without a DEM: in reach),
    satellite always — and the one with the lowest net present cost is kept. An upgrade
    uses the existing site's backhaul and power.

    Parameters
    ----------
    candidates
        Prepared candidates (``kind``, ``antenna_height_m``, ``cost_vnd``: the site itself).
    xy
        Candidate coordinates (n, 2) in the working CRS (the DEM's when there is one).
    relays
        Fibre nodes and masts a backhaul can reach.
    dem
        Elevation grid for the microwave line of sight, or ``None``.
    grid_distance_m
        Distance from each candidate to the nearest power line (NaN: unknown).
    village_power
        Grid power (``yes``/``no``/``unknown``) of the village nearest each candidate,
        used where the line distance is unknown.
    config
        Unit costs (``plan.costs``), hop and fibre limits, horizon and discount rate.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``candidates``: ``technology``, ``backhaul``, ``backhaul_km``,
        ``power``, ``capex_vnd``, ``opex_vnd_per_year``, ``npv_cost_vnd``.

    Examples
    --------
    >>> cands = pd.DataFrame({"kind": ["upgrade", "new_site"], "antenna_height_m": [30.0, 30.0],
    ...                       "cost_vnd": [0.5e9, 2.5e9]})
    >>> relays = Relays(np.array([[0.0, 0.0]]), np.zeros((0, 2)), np.zeros(0))
    >>> out = site_options(cands, xy=np.array([[0.0, 0.0], [4000.0, 0.0]]), relays=relays,
    ...                    dem=None, grid_distance_m=np.array([np.nan, 100.0]),
    ...                    config=Config())
    >>> out[["technology", "backhaul", "power"]].values.tolist()
    [['upgrade', 'existing', 'existing'], ['macro_fibre_backhaul', 'fibre', 'grid']]
    """
    costs = config.plan.costs
    plan = config.plan
    n = len(candidates)
    kind = candidates["kind"].astype(str).to_numpy()
    site_capex = candidates["cost_vnd"].to_numpy(dtype=float)
    height = candidates["antenna_height_m"].to_numpy(dtype=float)
    new = kind != "upgrade"
    factor = annuity_factor(plan.horizon_years, plan.discount_rate)

    # Backhaul candidates: capex, opex per year, NaN where impossible.
    km = np.full(n, np.nan)
    if len(relays.fibre_xy):
        d, _ = cKDTree(relays.fibre_xy).query(xy, k=1)
        km = np.where(d <= plan.fibre_backhaul_max_km * 1000, d / 1000 * plan.detour_factor,
                      np.nan)
    fibre_capex = km * costs.fibre_road_per_km_vnd
    fibre_opex = km * costs.fibre_opex_vnd_per_km_year
    hop_ok = _microwave_hops(xy, height, relays, dem, max_hop_m=plan.microwave_max_hop_km * 1000,
                             config=config)
    micro_capex = np.where(hop_ok, costs.microwave_link_vnd, np.nan)
    micro_opex = np.where(hop_ok, costs.microwave_opex_vnd_per_year, np.nan)
    sat_capex = np.full(n, costs.satellite_backhaul_vnd)
    sat_opex = np.full(n, costs.satellite_backhaul_vnd_per_month * 12)
    capex_b = np.column_stack([fibre_capex, micro_capex, sat_capex])
    opex_b = np.column_stack([fibre_opex, micro_opex, sat_opex])
    npv_b = np.where(np.isnan(capex_b), np.inf, capex_b + factor * opex_b)
    pick = np.argmin(npv_b, axis=1)  # ties: the earlier backhaul in BACKHAULS
    rows = np.arange(n)

    power = site_power(grid_distance_m, max_grid_distance_m=plan.max_grid_distance_m,
                       village_power=village_power)
    power_capex = np.where(power == "solar", costs.solar_power_vnd, costs.grid_connection_vnd)
    power_opex = np.where(power == "solar", costs.solar_opex_vnd_per_year,
                          costs.grid_power_opex_vnd_per_year)

    backhaul = np.array(BACKHAULS, dtype=object)[pick]
    prefix = np.where(kind == "small_cell", "small_cell", "macro")
    technology = np.where(new, [f"{p}_{b}_backhaul" for p, b in zip(prefix, backhaul,
                                                                       strict=True)], "upgrade")
    capex = np.where(new, site_capex + capex_b[rows, pick] + power_capex, site_capex)
    opex = np.where(new, costs.site_opex_vnd_per_year + opex_b[rows, pick] + power_opex,
                    costs.upgrade_opex_vnd_per_year)
    return pd.DataFrame({
        "technology": technology,
        "backhaul": np.where(new, backhaul, "existing"),
        "backhaul_km": np.where(new & (pick == 0), km, np.nan),
        "power": np.where(new, power, "existing"),
        "capex_vnd": capex,
        "opex_vnd_per_year": opex,
        "npv_cost_vnd": capex + factor * opex,
    }, index=candidates.index)


def satellite_access_cost(config: Config) -> tuple[float, float, float]:
    """
    ``(capex_vnd, opex_vnd_per_year, npv_cost_vnd)`` of satellite access for one village.

    Examples
    --------
    >>> capex, opex, npv = satellite_access_cost(Config())
    >>> capex, opex
    (50000000.0, 25200000.0)
    """
    costs = config.plan.costs
    opex = costs.satellite_access_vnd_per_month * 12
    npv = float(npv_cost_vnd(costs.satellite_access_vnd, opex, config=config))
    return float(costs.satellite_access_vnd), float(opex), npv


def _microwave_hops(
    xy: np.ndarray, height_m: np.ndarray, relays: Relays, dem: DemGrid | None, *,
    max_hop_m: float, config: Config, k: int = 8,
) -> np.ndarray:
    """Whether each site has a line-of-sight hop to one of its ``k`` nearest masts."""
    n = len(xy)
    ok = np.zeros(n, dtype=bool)
    if len(relays.mast_xy) == 0 or n == 0 or max_hop_m <= 0:
        return ok
    k = min(k, len(relays.mast_xy))
    dist, idx = cKDTree(relays.mast_xy).query(xy, k=k, distance_upper_bound=max_hop_m)
    dist, idx = dist.reshape(n, k), idx.reshape(n, k)
    site, slot = np.nonzero(np.isfinite(dist))
    if len(site) == 0:
        return ok
    mast = idx[site, slot]
    if dem is None:
        clear = np.ones(len(site), dtype=bool)
    else:
        clear = line_of_sight(dem, xy[site], height_m[site], relays.mast_xy[mast],
                              relays.mast_height_m[mast], config=config.terrain)
    np.logical_or.at(ok, site, clear)
    return ok


def with_technology(
    candidates: gpd.GeoDataFrame,
    *,
    villages: gpd.GeoDataFrame,
    coverage: gpd.GeoDataFrame | None,
    fibre_nodes: gpd.GeoDataFrame | None,
    dem: DemGrid | None,
    power_lines: gpd.GeoDataFrame | None = None,
    config: Config,
    crs: object,
) -> gpd.GeoDataFrame:
    """
    Prepared candidates with their technology, backhaul, power and costs.

    Adds :func:`site_options`' columns; ``cost_vnd`` becomes what the budget pays for
    (``plan.budget_basis``: the capital cost, or the net present cost) and the site's own
    cost is kept as ``site_vnd``. Backhaul comes from the fibre nodes and the existing
    sites of ``coverage`` (masts at their antenna height, else ``terrain.antenna_height_m``);
    power from ``power_lines`` or, without them, the grid power of the nearest village.

    Examples
    --------
    >>> import shapely
    >>> cands = gpd.GeoDataFrame({"kind": ["new_site"], "antenna_height_m": [30.0],
    ...                           "cost_vnd": [2.5e9]},
    ...                          geometry=[shapely.Point(500000, 2300000)], crs=32648)
    >>> villages = gpd.GeoDataFrame({"has_grid_power": [False]},
    ...                             geometry=[shapely.Point(500100, 2300000)], crs=32648)
    >>> out = with_technology(cands, villages=villages, coverage=None, fibre_nodes=None,
    ...                       dem=None, config=Config(), crs=32648)
    >>> out[["technology", "power"]].values.tolist()
    [['macro_satellite_backhaul', 'solar']]
    """
    out = candidates.copy()
    if len(out) == 0:
        for col in (*OPTION_COLUMNS, "site_vnd"):
            out[col] = pd.Series(dtype=float if col.endswith(("vnd", "year", "km")) else object)
        return out
    xy = shapely.get_coordinates(out.geometry.to_crs(crs).to_numpy())
    fibre_xy = (shapely.get_coordinates(village_locations(fibre_nodes).to_crs(crs).to_numpy())
                if fibre_nodes is not None and len(fibre_nodes) else np.zeros((0, 2)))
    mast_xy, mast_h = fibre_xy, np.full(len(fibre_xy), config.terrain.antenna_height_m)
    if coverage is not None and len(coverage) and "kind" in coverage:
        sites = coverage[(coverage["kind"] == "site") & (coverage["technology"] != "fibre")]
        if len(sites):
            sxy = shapely.get_coordinates(village_locations(sites).to_crs(crs).to_numpy())
            sh = (sites["antenna_height_m"].astype(float).to_numpy()
                  if "antenna_height_m" in sites else np.full(len(sites), np.nan))
            sh = np.where(np.isnan(sh), config.terrain.antenna_height_m, sh)
            mast_xy, mast_h = np.vstack([mast_xy, sxy]), np.concatenate([mast_h, sh])
    power = village_grid_power(villages, power_lines,
                               grid_distance_m=config.plan.grid_village_distance_m,
                               crs=str(CRS.from_user_input(crs)))
    vxy = shapely.get_coordinates(village_locations(villages).to_crs(crs).to_numpy())
    _, nearest = cKDTree(vxy).query(xy, k=1) if len(vxy) else (None, np.zeros(len(xy), int))
    village_power = power.to_numpy()[nearest] if len(vxy) else None
    grid_m = distance_to_grid_m(out, power_lines, crs=str(CRS.from_user_input(crs)))
    options = site_options(out, xy=xy, relays=Relays(fibre_xy, mast_xy, mast_h), dem=dem,
                           grid_distance_m=grid_m, village_power=village_power, config=config)
    out["site_vnd"] = out["cost_vnd"].astype(float)
    for col in OPTION_COLUMNS:
        out[col] = options[col].to_numpy()
    basis = "npv_cost_vnd" if config.plan.budget_basis == "npv" else "capex_vnd"
    out["cost_vnd"] = out[basis].astype(float)
    return out


def segment_cost_vnd(capex_vnd: np.ndarray, length_km: np.ndarray, *, config: Config
                     ) -> np.ndarray:
    """
    What the budget pays per fibre segment: its capital cost, plus its discounted upkeep over
    the horizon when ``plan.budget_basis = "npv"``.

    Examples
    --------
    >>> segment_cost_vnd(np.array([1e9]), np.array([2.0]), config=Config()).tolist()
    [1000000000.0]
    """
    if config.plan.budget_basis != "npv":
        return np.asarray(capex_vnd, dtype=float)
    upkeep = np.asarray(length_km, dtype=float) * config.plan.costs.fibre_opex_vnd_per_km_year
    return np.asarray(npv_cost_vnd(capex_vnd, upkeep, config=config), dtype=float)
