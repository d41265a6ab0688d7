"""The budget curve of the investment plan: what each step of money buys.

:func:`budget_curve` solves the plan for evenly spaced budgets from the pinned cost up to
:func:`close_all_cost` (serving every village that can be served at all) and counts the
villages and people newly served by mobile and by fibre. Each step says whether its
answer is proven optimal; one that is not shows the greedy answer beside it (the MILP
starts from it, so it never reports less).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from geo_dx.plan.optimise import Budget, Problem, Solution, must_cost, solve_greedy, solve_milp

#: Budget curve columns, in order.
CURVE_COLUMNS: tuple[str, ...] = (
    "budget_vnd", "cost_used_vnd", "villages", "mobile_villages", "fibre_villages",
    "satellite_villages", "people", "ethnic_minority_people", "objective", "greedy_objective",
    "bound", "status", "proven", "year",
)


def close_all_cost(problem: Problem, *, time_limit_s: float = 30.0
                   ) -> tuple[Solution, float, float]:
    """
    The cheapest choice serving every village that can be served at all.

    Every village counts 1 and the money is unlimited: the MILP's first solve serves
    them all, its second finds the cheapest way (greedy set cover when not proven).
    Returns the choice and its (mobile, fibre) cost.

    Examples
    --------
    >>> from scipy import sparse
    >>> cover = sparse.csr_matrix(np.array([[1, 1, 0], [1, 0, 1]], dtype=bool))
    >>> p = Problem(np.ones(2), cover, np.array([3.0, 1.0, 1.0]), np.zeros(3, bool),
    ...             np.zeros(0), sparse.csr_matrix((0, 0), dtype=bool), np.zeros(0),
    ...             np.zeros(0, dtype=np.int64))
    >>> close_all_cost(p)[1:]  # two cheap sites, not the one that serves both at 3
    (2.0, 0.0)
    """
    everything = problem.with_weights(np.ones_like(problem.mobile_weight),
                                      np.ones_like(problem.fibre_weight))
    unlimited = Budget(mobile_vnd=math.inf, fibre_vnd=math.inf)
    full = solve_milp(everything, unlimited, time_limit_s=time_limit_s)
    return (full, *problem.cost(full.site, full.segment))


def budget_curve(
    problem: Problem,
    budget: Budget,
    *,
    steps: int,
    mobile_rows: np.ndarray,
    fibre_rows: np.ndarray,
    people: np.ndarray,
    em_people: np.ndarray,
    close_all: tuple[float, float],
    access_rows: np.ndarray | None = None,
    time_limit_s: float = 30.0,
) -> pd.DataFrame:
    """
    Villages and people newly served for evenly spaced budgets up to closing every gap.

    Parameters
    ----------
    problem, budget
        The plan's problem and budget (a split budget is scaled part by part).
    steps
        Number of steps above the pinned cost (``steps + 1`` rows).
    mobile_rows, fibre_rows
        Positions (among all villages) of the problem's mobile and fibre rows.
    access_rows
        Positions of the villages of the satellite access rows that follow the mobile rows
        (:mod:`geo_dx.plan.access`); counted apart (``satellite_villages``), not in
        ``villages``, ``people``: those count full service, 4G or fibre.
    people, em_people
        People and ethnic-minority people of every village.
    close_all
        (mobile, fibre) cost of serving everything (:func:`close_all_cost`).
    time_limit_s
        Per solve of each step.

    Returns
    -------
    pandas.DataFrame
        :data:`CURVE_COLUMNS`; ``proven`` is False where the MILP stopped at its limit
        (then ``objective`` is at least ``greedy_objective``, and ``bound`` says how far
        from the best it may be).
    """
    site_all, fibre_all = close_all
    pinned = must_cost(problem)
    rows = []
    for k in range(steps + 1):
        f = k / steps if steps else 1.0
        if budget.shared:
            b = Budget(total_vnd=pinned + max(site_all + fibre_all - pinned, 0.0) * f)
        else:
            b = Budget(mobile_vnd=pinned + max(site_all - pinned, 0.0) * f,
                       fibre_vnd=fibre_all * f)
        greedy = solve_greedy(problem, b)
        sol = solve_milp(problem, b, time_limit_s=time_limit_s, start=greedy)
        rows.append({
            "budget_vnd": b.total,
            **served_counts(problem, sol.site, sol.segment, mobile_rows=mobile_rows,
                            fibre_rows=fibre_rows, access_rows=access_rows, people=people,
                            em_people=em_people),
            "objective": sol.objective, "greedy_objective": greedy.objective,
            "bound": sol.bound, "status": sol.status, "proven": sol.proven, "year": pd.NA,
        })
    return pd.DataFrame(rows, columns=list(CURVE_COLUMNS))


def served_counts(
    problem: Problem,
    site: np.ndarray,
    segment: np.ndarray,
    *,
    mobile_rows: np.ndarray,
    fibre_rows: np.ndarray,
    people: np.ndarray,
    em_people: np.ndarray,
    access_rows: np.ndarray | None = None,
) -> dict[str, float]:
    """
    What a choice costs and serves: ``cost_used_vnd``, ``villages`` (newly given 4G or
    fibre), ``mobile_villages``, ``fibre_villages``, ``satellite_villages`` (satellite
    access and no 4G), ``people`` and ``ethnic_minority_people`` (of ``villages``).

    Examples
    --------
    >>> from scipy import sparse
    >>> p = Problem(np.ones(2), sparse.csr_matrix(np.eye(2, dtype=bool)), np.array([1.0, 2.0]),
    ...             np.zeros(2, bool), np.zeros(0), sparse.csr_matrix((0, 0), dtype=bool),
    ...             np.zeros(0), np.zeros(0, dtype=np.int64))
    >>> c = served_counts(p, np.array([True, False]), np.zeros(0, bool),
    ...                   mobile_rows=np.array([0, 1]), fibre_rows=np.zeros(0, int),
    ...                   people=np.array([10.0, 20.0]), em_people=np.array([5.0, 0.0]))
    >>> c["cost_used_vnd"], c["villages"], c["people"]
    (1.0, 1, 10.0)
    """
    mobile, fibre = problem.served(site, segment)
    served_mobile = np.zeros(len(people), dtype=bool)
    served_mobile[mobile_rows[mobile[:len(mobile_rows)]]] = True
    satellite = np.zeros(len(people), dtype=bool)
    if access_rows is not None and len(access_rows):
        satellite[access_rows[mobile[len(mobile_rows):]]] = True
        satellite &= ~served_mobile  # its access row served by a site: 4G
    served_fibre = np.zeros(len(people), dtype=bool)
    served_fibre[fibre_rows[fibre]] = True
    anyone = served_mobile | served_fibre
    site_cost, fibre_cost = problem.cost(site, segment)
    return {"cost_used_vnd": site_cost + fibre_cost, "villages": int(anyone.sum()),
            "mobile_villages": int(served_mobile.sum()),
            "fibre_villages": int(served_fibre.sum()),
            "satellite_villages": int(satellite.sum()), "people": float(people[anyone].sum()),
            "ethnic_minority_people": float(em_people[anyone].sum())}


def with_years(curve: pd.DataFrame, years: list[dict[str, Any]]) -> pd.DataFrame:
    """
    The budget curve with a point for the end of each year of a schedule (``year`` set):
    the money given up to that year, what the schedule spent and serves by then
    (``summary["schedule"]`` entries with their ``so_far`` counts), in budget order.

    Examples
    --------
    >>> curve = pd.DataFrame({"budget_vnd": [0.0, 4.0], "villages": [0, 3]})
    >>> years = [{"year": 2026, "budget_vnd": 2.0, "objective": 1.0, "status": "optimal",
    ...           "so_far": {"cost_used_vnd": 1.5, "villages": 1}}]
    >>> with_years(curve, years)[["budget_vnd", "villages", "year"]].values.tolist()
    [[0.0, 0, <NA>], [2.0, 1, 2026], [4.0, 3, <NA>]]
    """
    given = 0.0
    rows = []
    for entry in years:
        given += float(entry["budget_vnd"])
        rows.append({"budget_vnd": given, **entry["so_far"], "objective": entry["objective"],
                     "status": "schedule", "proven": entry["status"] == "optimal",
                     "year": int(entry["year"])})
    out = pd.concat([curve, pd.DataFrame(rows)], ignore_index=True)
    out["year"] = out["year"].astype("Int64") if "year" in out else pd.NA
    return (out.sort_values(["budget_vnd", "year"], kind="stable", na_position="first")
            .reset_index(drop=True).reindex(columns=[c for c in CURVE_COLUMNS if c in out]
                                            or list(out.columns)))
