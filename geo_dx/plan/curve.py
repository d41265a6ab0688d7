"""The budget curve of the investment plan: what each step of money buys.

:func:`budget_curve` solves the plan for evenly spaced budgets from the pinned cost up to
:func:`close_all_cost` (serving every village that can be served at all) and counts the
villages and people newly served by mobile and by fibre. Each step says whether its
answer is proven optimal; one that is not shows the greedy answer beside it (the MILP
starts from it, so it never reports less).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from geo_dx.plan.optimise import Budget, Problem, Solution, must_cost, solve_greedy, solve_milp

#: Budget curve columns, in order.
CURVE_COLUMNS: tuple[str, ...] = (
    "budget_vnd", "cost_used_vnd", "villages", "mobile_villages", "fibre_villages",
    "satellite_villages", "people", "ethnic_minority_people", "objective", "greedy_objective",
    "bound", "status", "proven",
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
        mobile, fibre = problem.served(sol.site, sol.segment)
        served_mobile = np.zeros(len(people), dtype=bool)
        served_mobile[mobile_rows[mobile[:len(mobile_rows)]]] = True
        satellite = np.zeros(len(people), dtype=bool)
        if access_rows is not None:
            satellite[access_rows[mobile[len(mobile_rows):]]] = True
            satellite &= ~served_mobile  # its access row served by a site: 4G
        served_fibre = np.zeros(len(people), dtype=bool)
        served_fibre[fibre_rows[fibre]] = True
        anyone = served_mobile | served_fibre
        site_cost, fibre_cost = problem.cost(sol.site, sol.segment)
        rows.append({
            "budget_vnd": b.total, "cost_used_vnd": site_cost + fibre_cost,
            "villages": int(anyone.sum()), "mobile_villages": int(served_mobile.sum()),
            "fibre_villages": int(served_fibre.sum()),
            "satellite_villages": int(satellite.sum()), "people": float(people[anyone].sum()),
            "ethnic_minority_people": float(em_people[anyone].sum()),
            "objective": sol.objective, "greedy_objective": greedy.objective,
            "bound": sol.bound, "status": sol.status, "proven": sol.proven,
        })
    return pd.DataFrame(rows, columns=list(CURVE_COLUMNS))
