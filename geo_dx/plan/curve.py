"""The budget curve of the investment plan: what each step of money buys.

:func:`budget_curve` solves the plan for evenly spaced budgets from the pinned cost up to
:func:`close_all_cost` (serving every village that can be served at all) and counts the
villages and people newly served by mobile (:func:`served_sets`) and by fibre.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

from geo_dx.config import Config
from geo_dx.plan.optimise import Budget, Problem, Solution, must_cost, solve_greedy, solve_milp
from geo_dx.plan.routes import FibreNetwork


def served_sets(
    problem: Problem, solution: Solution, cover: sparse.csr_matrix, columns: np.ndarray,
    network: FibreNetwork, mobile_gap: np.ndarray, fibre_gap: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks over all villages: newly served by mobile, by fibre."""
    mobile = np.zeros(len(mobile_gap), dtype=bool)
    chosen = columns[solution.site]
    hit = np.asarray(sparse.csc_matrix(cover)[:, chosen].sum(axis=1)).ravel() > 0
    mobile[np.flatnonzero(mobile_gap)[hit]] = True
    fibre = np.zeros(len(fibre_gap), dtype=bool)
    ok = network.village_segment >= 0
    built = np.zeros(len(network.village_segment), dtype=bool)
    built[ok] = solution.segment[network.village_segment[ok]]
    fibre[np.flatnonzero(fibre_gap)[built]] = True
    return mobile, fibre


def close_all_cost(problem: Problem) -> tuple[float, float]:
    """
    (mobile, fibre) cost of serving every village that can be served at all.

    The greedy answer with unlimited money and every village counting 1 (set cover for
    sites, the whole pruned fibre tree for fibre).
    """
    everything = Problem(np.ones_like(problem.mobile_weight), problem.cover, problem.site_cost,
                         problem.must, (problem.segment_weight > 0).astype(float),
                         problem.segment_cost, problem.segment_parent)
    full = solve_greedy(everything, Budget(mobile_vnd=math.inf, fibre_vnd=math.inf))
    return problem.cost(full.site, full.segment)


def budget_curve(
    problem: Problem,
    budget: Budget,
    gaps: gpd.GeoDataFrame,
    cover: sparse.csr_matrix,
    columns: np.ndarray,
    network: FibreNetwork,
    mobile_gap: np.ndarray,
    fibre_gap: np.ndarray,
    people: np.ndarray,
    em_people: np.ndarray,
    config: Config,
) -> pd.DataFrame:
    """Villages and people newly served for evenly spaced budgets up to closing every gap."""
    site_all, fibre_all = close_all_cost(problem)
    steps = config.plan.curve_steps
    pinned = must_cost(problem)
    rows = []
    limit = max(config.plan.time_limit_s / steps, 1.0)
    for k in range(steps + 1):
        f = k / steps
        if budget.shared:
            b = Budget(total_vnd=pinned + (site_all + fibre_all - pinned) * f)
        else:
            b = Budget(mobile_vnd=pinned + (site_all - pinned) * f, fibre_vnd=fibre_all * f)
        sol = solve_milp(problem, b, time_limit_s=limit)
        mobile, fibre = served_sets(problem, sol, cover, columns, network, mobile_gap,
                                     fibre_gap)
        anyone = mobile | fibre
        site_cost, fibre_cost = problem.cost(sol.site, sol.segment)
        rows.append({
            "budget_vnd": b.total, "cost_used_vnd": site_cost + fibre_cost,
            "villages": int(anyone.sum()), "mobile_villages": int(mobile.sum()),
            "fibre_villages": int(fibre.sum()), "people": float(people[anyone].sum()),
            "ethnic_minority_people": float(em_people[anyone].sum()),
            "objective": sol.objective,
        })
    return pd.DataFrame(rows)
