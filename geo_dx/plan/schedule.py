"""A year-by-year schedule: what each year's budget builds, what rolls into the next year.

Provinces plan in five-year periods with yearly budgets. :func:`schedule` solves the plan
year by year with the money available so far (this year's budget plus what earlier years
left unspent): items built in earlier years are already paid for (they cost nothing in the
later solves and are always kept), so the schedule is nested — the items of the years up
to *y* are a valid plan for the cumulative budget to *y* — and the first year's items are
exactly the best plan for the first year's budget. Each item's year is the first year it
is built.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

from geo_dx.errors import InputError
from geo_dx.plan.curve import close_all_cost
from geo_dx.plan.items import PlanChoice
from geo_dx.plan.optimise import Budget, Problem, Solution, solve_greedy, solve_milp

if TYPE_CHECKING:
    from geo_dx.plan.model import InvestmentPlan

#: Columns of :attr:`Schedule.years`.
YEAR_COLUMNS: tuple[str, ...] = ("year", "budget_vnd", "available_vnd", "spent_vnd",
                                 "carried_vnd", "objective", "status")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")


def yearly_budgets(value: object) -> dict[int, float] | None:
    """
    Yearly budgets from ``"2026=10e9,2027=12e9"`` or ``{2026: 10e9}``; ``None`` otherwise.

    A budget that is not keyed by years (one amount, ``mobile=..,fibre=..``) is ``None``,
    so the caller treats it as one budget.

    Examples
    --------
    >>> yearly_budgets("2026=10e9, 2027=12e9")
    {2026: 10000000000.0, 2027: 12000000000.0}
    >>> yearly_budgets("30e9") is None, yearly_budgets("mobile=1e9,fibre=2e9") is None
    (True, True)
    """
    if isinstance(value, Mapping):
        parts = {str(k): v for k, v in value.items()}
    elif isinstance(value, str) and "=" in value:
        parts = {}
        for part in filter(None, (p.strip() for p in value.split(","))):
            key, _, amount = part.partition("=")
            parts[key.strip()] = amount.strip()
    else:
        return None
    if not parts or not all(_YEAR.match(k) for k in parts):
        if any(_YEAR.match(k) for k in parts):
            raise InputError(f"budget: {value!r} mixes years and other keys; give every year, "
                             "e.g. 2026=10e9,2027=10e9")
        return None
    out: dict[int, float] = {}
    for key, amount in parts.items():
        try:
            money = float(amount)
        except (TypeError, ValueError) as err:
            raise InputError(f"budget {key}: {amount!r} is not a number of VND; e.g. "
                             "2026=10e9") from err
        if not math.isfinite(money) or money < 0:
            raise InputError(f"budget {key}: {amount!r} must be a finite amount >= 0")
        year = int(key)
        if not 2000 <= year <= 2100 or year in out:
            raise InputError(f"budget: year {key} is out of range or given twice")
        out[year] = money
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class Schedule:
    """
    A plan built year by year.

    Attributes
    ----------
    site_year, segment_year
        The year each candidate column / fibre segment of the problem is built (0: never).
    years
        One row per year (:data:`YEAR_COLUMNS`): its budget, the money available (with
        what earlier years left), spent, carried into the next year, the weight served so
        far and the solver status.
    last
        The solution of the last year (the whole schedule's choice).
    """

    site_year: np.ndarray
    segment_year: np.ndarray
    years: pd.DataFrame
    last: Solution


def schedule(
    problem: Problem,
    budgets: Mapping[int, float],
    *,
    solve: Callable[[Problem, Budget], Solution],
) -> Schedule:
    """
    Solve ``problem`` year by year with ``budgets`` (year → VND), unspent money rolling on.

    Parameters
    ----------
    problem
        The plan's choice on arrays.
    budgets
        Budget per year; years in increasing order.
    solve
        The solver of one budget (e.g. the MILP started from the greedy answer).

    Examples
    --------
    >>> from scipy import sparse
    >>> from geo_dx.plan.optimise import solve_greedy
    >>> p = Problem(np.array([3.0, 2.0]), sparse.csr_matrix(np.eye(2, dtype=bool)),
    ...             np.array([10.0, 10.0]), np.zeros(2, bool), np.zeros(0),
    ...             sparse.csr_matrix((0, 0), dtype=bool), np.zeros(0), np.zeros(0, int))
    >>> s = schedule(p, {2026: 10.0, 2027: 10.0}, solve=solve_greedy)
    >>> s.site_year.tolist(), s.years["spent_vnd"].tolist()
    ([2026, 2027], [10.0, 10.0])
    """
    site_year = np.zeros(problem.n_sites, dtype=int)
    segment_year = np.zeros(problem.n_segments, dtype=int)
    spent = 0.0
    total = 0.0
    rows = []
    last: Solution | None = None
    for year, money in sorted(budgets.items()):
        total += float(money)
        built_site, built_segment = site_year > 0, segment_year > 0
        paid = problem.paid(built_site, built_segment)
        available = total - spent
        last = solve(paid, Budget(total_vnd=available))
        new_site = last.site & ~built_site
        new_segment = last.segment & ~built_segment
        site_year[new_site] = year
        segment_year[new_segment] = year
        cost = float(problem.site_cost[new_site].sum() + problem.segment_cost[new_segment].sum())
        spent += cost
        rows.append((year, float(money), available, cost, available - cost,
                     problem.objective(site_year > 0, segment_year > 0), last.status))
    if last is None:
        raise InputError("budget: no year given; e.g. 2026=10e9,2027=10e9")
    return Schedule(site_year, segment_year, pd.DataFrame(rows, columns=list(YEAR_COLUMNS)),
                    last)


def first_years(
    index: pd.Index, groups: list[tuple[np.ndarray, sparse.spmatrix, np.ndarray]]
) -> pd.Series:
    """
    The first year something is built for each village (NA: never).

    ``groups`` holds, per service, the village positions of the matrix rows, the matrix
    (rows: villages, columns: items; true where the item serves the village) and the year
    each column is built (0: never).

    Examples
    --------
    >>> cover = sparse.csr_matrix(np.array([[1, 1], [0, 0]], dtype=bool))
    >>> first_years(pd.RangeIndex(3), [(np.array([0, 2]), cover, np.array([2027, 2026]))]
    ...             ).tolist()
    [2026, <NA>, <NA>]
    """
    first = np.full(len(index), np.inf)
    for rows, matrix, year in groups:
        csr = sparse.csr_matrix(matrix)
        built = np.where(np.asarray(year) > 0, year, np.inf).astype(float)
        for i, v in enumerate(rows):
            cols = csr.indices[csr.indptr[i]:csr.indptr[i + 1]]
            if len(cols):
                first[v] = min(first[v], built[cols].min())
    return pd.Series(np.where(np.isfinite(first), first, np.nan), index=index).astype("Int64")


def schedule_summary(years: pd.DataFrame, items: pd.DataFrame) -> list[dict[str, object]]:
    """
    Per year: the money, what it bought and the villages newly served by technology.

    Examples
    --------
    >>> years = pd.DataFrame({"year": [2026], "budget_vnd": [5.0], "available_vnd": [5.0],
    ...                       "spent_vnd": [4.0], "carried_vnd": [1.0], "objective": [1.0],
    ...                       "status": ["optimal"]})
    >>> items = pd.DataFrame({"year": [2026], "technology": ["upgrade"],
    ...                       "villages_served": ["V1;V2"]})
    >>> schedule_summary(years, items)[0]["villages_by_technology"]
    {'upgrade': 2}
    """
    out = []
    for row in years.to_dict("records"):
        built = items[items["year"] == row["year"]]
        by_tech: dict[str, int] = {}
        for tech, served in zip(built["technology"], built["villages_served"], strict=True):
            n = len([v for v in str(served).split(";") if v])
            by_tech[str(tech)] = by_tech.get(str(tech), 0) + n
        out.append({"year": int(row["year"]), "budget_vnd": row["budget_vnd"],
                    "available_vnd": row["available_vnd"], "spent_vnd": row["spent_vnd"],
                    "carried_vnd": row["carried_vnd"], "items": len(built),
                    "villages_by_technology": by_tech, "objective": row["objective"],
                    "status": row["status"]})
    return out


def scheduled_choice(model: InvestmentPlan, budgets: Mapping[int, float]
                     ) -> tuple[PlanChoice, Schedule]:
    """
    The plan model solved year by year (each year: the MILP started from the greedy answer,
    the better kept), as the choice :func:`geo_dx.plan.items.describe_plan` describes.
    """
    time_limit_s = model.config.plan.time_limit_s

    def solve(problem: Problem, budget: Budget) -> Solution:
        greedy = solve_greedy(problem, budget)
        milp = solve_milp(problem, budget, time_limit_s=time_limit_s, start=greedy)
        return milp if milp.objective >= greedy.objective - 1e-9 else greedy

    years = schedule(model.problem, budgets, solve=solve)
    site, segment = years.site_year > 0, years.segment_year > 0
    total = Budget(total_vnd=float(sum(budgets.values())))
    best = dataclasses.replace(years.last, site=site, segment=segment,
                               objective=model.problem.objective(site, segment))
    # like for like: the same schedule built with the greedy rule each year
    greedy_years = schedule(model.problem, budgets, solve=solve_greedy)
    greedy = dataclasses.replace(
        greedy_years.last, site=greedy_years.site_year > 0,
        segment=greedy_years.segment_year > 0,
        objective=model.problem.objective(greedy_years.site_year > 0,
                                          greedy_years.segment_year > 0))
    _, *close_all = close_all_cost(model.problem, time_limit_s=time_limit_s)
    choice = PlanChoice(site=model.candidate_positions(site), segment=segment, budget=total,
                        best=best, access=model.access.chosen(site),
                        milp=best, greedy=greedy,
                        close_all_vnd=float(sum(close_all)), site_year=years.site_year,
                        segment_year=years.segment_year)
    return choice, years
