"""Choosing investments within a budget: the exact MILP (HiGHS) and the greedy rule.

The problem, on plain arrays (:class:`Problem`):

- mobile: binary ``x_c`` per candidate site with cost ``c_c``; a village without mobile
  broadband is newly served when some chosen candidate serves it;
- fibre: binary ``y_s`` per segment of the fibre tree (:mod:`geo_dx.plan.routes`) with cost
  ``c_s``; a segment can only be built with the one above it (``y_s ≤ y_parent``); a
  village without fibre is newly served when a built segment ends at a village whose
  new fibre node reaches it (the gap rule's fibre reach: its own, and its neighbours');
- maximise ``Σ w_v`` over the newly served villages within the budget (one shared, or
  one for mobile and one for fibre); pinned candidates have ``x_c = 1``;
- among the choices with that best weight, the cheapest: a second solve minimises the
  cost subject to the weight of the first (a lexicographic objective), so money is never
  spent on an item that adds nothing.

Before the MILP the rows are compacted (:func:`compact`): villages no item serves, or
worth nothing, are dropped; a village one item alone serves puts its weight on that
item's variable; villages served by the same set of items become one row. HiGHS starts
from the greedy answer, so a solve stopped at its time limit never reports less.

:func:`solve_greedy` picks, again and again, the affordable item with the highest
newly-served weight per VND (for fibre: the cost of the segments not yet built on the
route to a village), until nothing affordable adds weight.
"""

from __future__ import annotations

import heapq
import logging
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from geo_dx.errors import InputError, MissingDependencyError
from geo_dx.plan.budget import Budget
from geo_dx.plan.problem import Compact, Problem, any_of, compact

__all__ = ["Budget", "Compact", "Problem", "Solution", "check_budget", "compact", "must_cost",
           "route_prices", "solve_greedy", "solve_milp"]

logger = logging.getLogger(__name__)

#: Relative optimality gap at which HiGHS may stop (the weight, first solve).
MIP_REL_GAP = 1e-6
#: Relative gap of the second solve (the cost among the best choices).
COST_REL_GAP = 1e-9


@dataclass(frozen=True)
class Solution:
    """
    A choice of sites and segments, how good it is and how it was found.

    ``bound`` is the solver's proven upper bound on the best weight (NaN when none);
    ``status`` HiGHS's model status (``"optimal"``, ``"time limit reached"``...) or
    ``"greedy"``.
    """

    site: np.ndarray
    segment: np.ndarray
    objective: float
    bound: float
    status: str
    seconds: float
    solver: str

    @property
    def gap(self) -> float:
        """Relative optimality gap (bound − objective) / objective; 0 when proven optimal."""
        if not math.isfinite(self.bound):
            return math.nan
        return max(self.bound - self.objective, 0.0) / max(abs(self.objective), 1e-9)

    @property
    def proven(self) -> bool:
        """True when the solver proved this choice optimal (within its gap tolerance)."""
        return self.status == "optimal"


def must_cost(problem: Problem) -> float:
    """Cost of the pinned candidates."""
    return float(problem.site_cost[problem.must].sum())


def check_budget(problem: Problem, budget: Budget) -> None:
    """Raise :class:`InputError` when the pinned candidates alone exceed the budget."""
    pinned = must_cost(problem)
    limit = budget.total if budget.shared else float(budget.mobile_vnd)  # type: ignore[arg-type]
    if pinned > limit * (1 + 1e-12):
        raise InputError(
            f"plan.must: the pinned candidates cost {pinned:,.0f} VND, more than the "
            f"{'budget' if budget.shared else 'mobile budget'} of {limit:,.0f} VND; raise the "
            "budget or pin fewer candidates"
        )


def solve_milp(
    problem: Problem,
    budget: Budget,
    *,
    time_limit_s: float = 30.0,
    start: Solution | None = None,
) -> Solution:
    """
    The exact answer: the best weight within the budget, and the cheapest such choice.

    Two solves of a mixed-integer programme by HiGHS: the first maximises the weight
    newly served; the second minimises the cost among choices with at least that weight
    (each within ``time_limit_s``). Both start from a feasible choice (``start``, else
    the greedy answer), so neither reports less than it. Returns the choice with
    HiGHS's bound on the best weight (``bound``; equal to ``objective`` when proven).

    Examples
    --------
    >>> p = Problem(np.array([3.0, 1.0]), sparse.csr_matrix(np.eye(2, dtype=bool)),
    ...             np.array([1.0, 1.0]), np.zeros(2, dtype=bool), np.zeros(0),
    ...             sparse.csr_matrix((0, 0), dtype=bool), np.zeros(0),
    ...             np.zeros(0, dtype=np.int64))
    >>> solve_milp(p, Budget(total_vnd=1.0)).site.tolist()
    [True, False]
    """
    check_budget(problem, budget)
    begin = time.perf_counter()
    start = start if start is not None else solve_greedy(problem, budget)
    n_c, n_s = problem.n_sites, problem.n_segments
    if n_c == 0 and n_s == 0:
        return Solution(np.zeros(0, bool), np.zeros(0, bool), 0.0, 0.0, "optimal", 0.0, "none")
    rows = compact(problem)
    model = _Model(problem, rows, budget)
    first = model.solve(_values(problem, rows, start), maximise_weight=True,
                        time_limit_s=time_limit_s)
    if first is None:  # no solution found in time: the start stands, status said
        status = model.status
        logger.warning("MILP (%s) found no solution; keeping the greedy answer", status)
        return Solution(start.site, start.segment, start.objective, model.bound, status,
                        time.perf_counter() - begin, "greedy (HiGHS found none in time)")
    site, segment = first
    objective = problem.objective(site, segment)
    status, bound = model.status, max(model.bound, objective)
    if objective < start.objective:  # cannot happen with a start HiGHS accepted
        site, segment, objective = start.site, start.segment, start.objective
    second = model.solve(_values(problem, rows, Solution(site, segment, objective, bound,
                                                         status, 0.0, "")),
                         maximise_weight=False, time_limit_s=time_limit_s,
                         weight_at_least=objective)
    if second is not None:
        cheaper = problem.objective(*second) >= objective - _tolerance(objective)
        if cheaper and sum(problem.cost(*second)) <= sum(problem.cost(site, segment)):
            site, segment = second
            objective = problem.objective(site, segment)
    segment = _useful_segments(problem, segment)  # never a trunk that leads nowhere
    site = _without_idle_access(problem, site)
    seconds = time.perf_counter() - begin
    logger.info("MILP (%s): objective %.3f, bound %.3f, cost %.0f, %.2f s, %d rows for %d "
                "villages", status, objective, bound, sum(problem.cost(site, segment)),
                seconds, rows.rows.shape[0], rows.villages)
    return Solution(site, segment, objective, bound, status, seconds, "HiGHS")


def _tolerance(weight: float) -> float:
    return 1e-7 * max(abs(weight), 1.0)


def _values(problem: Problem, rows: Compact, solution: Solution) -> np.ndarray:
    """Column values of a choice in the MILP (sites, segments, then the row variables)."""
    chosen = np.r_[solution.site, solution.segment].astype(float)
    z = (rows.rows @ chosen > 0).astype(float) if rows.rows.shape[0] else np.zeros(0)
    values = np.r_[chosen, z]
    paired = rows.access_variable >= 0
    first = problem.n_sites - len(rows.access_variable)
    access = chosen[first + np.flatnonzero(paired)]  # s = a and not 4G
    return np.r_[values, access * (1.0 - values[rows.access_variable[paired]])]


class _Model:
    """The MILP in HiGHS: columns sites, segments, one per compacted row, one per satellite
    access column whose village some item can serve (``s``; see :mod:`geo_dx.plan.problem`)."""

    def __init__(self, problem: Problem, rows: Compact, budget: Budget) -> None:
        try:
            import highspy
        except ImportError as err:  # pragma: no cover - a core dependency
            raise MissingDependencyError("the plan needs highspy: pip install geo_dx") from err
        self.highspy = highspy
        self.problem, self.rows, self.budget = problem, rows, budget
        self.status, self.bound = "not set", math.nan
        n_c, n_s, n_r = problem.n_sites, problem.n_segments, rows.rows.shape[0]
        self.n_items = n_c + n_s
        paired = np.flatnonzero(rows.access_variable >= 0)
        n_p = len(paired)
        width = self.n_items + n_r + n_p
        inf = highspy.kHighsInf
        # z_r - Σ items of r <= 0
        cover = rows.rows.tocsr()
        blocks = [sparse.hstack([-cover.astype(float), sparse.identity(n_r),
                                 sparse.csr_matrix((n_r, n_p))], format="csr")]
        lower, upper = [np.full(n_r, -inf)], [np.zeros(n_r)]
        if n_p:  # s - a <= 0 and s + z <= 1: satellite access counts where 4G does not
            s_col = self.n_items + n_r + np.arange(n_p)
            a_col = n_c - len(rows.access_variable) + paired
            k = np.arange(n_p)
            blocks.append(sparse.csr_matrix(
                (np.r_[np.ones(n_p), -np.ones(n_p), np.ones(n_p), np.ones(n_p)],
                 (np.r_[k, k, n_p + k, n_p + k],
                  np.r_[s_col, a_col, s_col, rows.access_variable[paired]])),
                shape=(2 * n_p, width)))
            lower.append(np.full(2 * n_p, -inf))
            upper.append(np.r_[np.zeros(n_p), np.ones(n_p)])
        # y_s - y_parent <= 0
        child = np.flatnonzero(problem.segment_parent >= 0)
        if len(child):
            tree = sparse.csr_matrix(
                (np.r_[np.ones(len(child)), -np.ones(len(child))],
                 (np.r_[np.arange(len(child)), np.arange(len(child))],
                  n_c + np.r_[child, problem.segment_parent[child]])),
                shape=(len(child), width))
            blocks.append(tree)
            lower.append(np.full(len(child), -inf))
            upper.append(np.zeros(len(child)))
        cost = np.r_[problem.site_cost, problem.segment_cost, np.zeros(n_r + n_p)]
        site_part = np.r_[problem.site_cost, np.zeros(n_s + n_r + n_p)]
        fibre_part = np.r_[np.zeros(n_c), problem.segment_cost, np.zeros(n_r + n_p)]
        pools = ([(cost, budget.total)] if budget.shared else
                 [(site_part, float(budget.mobile_vnd)),  # type: ignore[arg-type]
                  (fibre_part, float(budget.fibre_vnd))])  # type: ignore[arg-type]
        for row, limit in pools:
            if math.isfinite(limit):
                blocks.append(sparse.csr_matrix(row.reshape(1, -1)))
                lower.append(np.array([-inf]))
                upper.append(np.array([limit]))
        self.matrix = sparse.vstack(blocks, format="csr")
        self.row_lower, self.row_upper = np.concatenate(lower), np.concatenate(upper)
        self.weight = np.r_[rows.column_weight, rows.row_weight, rows.access_weight[paired]]
        self.cost = cost
        self.col_lower = np.r_[problem.must.astype(float), np.zeros(n_s + n_r + n_p)]
        self.col_upper = np.ones(width)

    def solve(self, start: np.ndarray, *, maximise_weight: bool, time_limit_s: float,
              weight_at_least: float | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """One HiGHS solve from ``start``; the choice found, or None."""
        hs = self.highspy
        matrix, lower, upper = self.matrix, self.row_lower, self.row_upper
        if weight_at_least is not None:
            matrix = sparse.vstack([matrix, sparse.csr_matrix(self.weight.reshape(1, -1))],
                                   format="csr")
            lower = np.r_[lower, weight_at_least - _tolerance(weight_at_least)]
            upper = np.r_[upper, hs.kHighsInf]
        lp = hs.HighsLp()
        lp.num_col_, lp.num_row_ = matrix.shape[1], matrix.shape[0]
        lp.col_cost_ = self.weight if maximise_weight else self.cost
        lp.sense_ = hs.ObjSense.kMaximize if maximise_weight else hs.ObjSense.kMinimize
        lp.col_lower_, lp.col_upper_ = self.col_lower, self.col_upper
        lp.row_lower_, lp.row_upper_ = lower, upper
        lp.a_matrix_.format_ = hs.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data.astype(float)
        lp.integrality_ = ([hs.HighsVarType.kInteger] * self.n_items
                           + [hs.HighsVarType.kContinuous] * (lp.num_col_ - self.n_items))
        objective = self.weight if maximise_weight else self.cost
        for presolve in ("choose", "off"):
            h = _quiet_highs(hs)
            for option, value in (("output_flag", False), ("threads", 1), ("random_seed", 0),
                                  ("time_limit", float(max(time_limit_s, 0.05))),
                                  ("mip_rel_gap",
                                   MIP_REL_GAP if maximise_weight else COST_REL_GAP),
                                  ("presolve", presolve)):
                h.setOptionValue(option, value)
            h.passModel(lp)
            sol = hs.HighsSolution()
            sol.col_value = start
            sol.value_valid = True
            h.setSolution(sol)
            h.run()
            claimed = float(h.getInfo().objective_function_value)
            found = float(objective @ np.asarray(h.getSolution().col_value))
            if h.getInfo().primal_solution_status != 2 or math.isclose(
                    claimed, found, rel_tol=1e-7, abs_tol=1e-6):
                break
            # HiGHS 1.15 may hand back the start's values for columns its presolve removed
            logger.debug("HiGHS returned a solution worth %.6g for an objective of %.6g; "
                         "solving again without presolve", found, claimed)
        status = str(h.modelStatusToString(h.getModelStatus())).lower()
        info = h.getInfo()
        if maximise_weight:
            self.status = status
            bound = float(info.mip_dual_bound)
            self.bound = bound if math.isfinite(bound) else math.nan
        if info.primal_solution_status != 2:  # no feasible solution
            return None
        values = np.asarray(h.getSolution().col_value[: self.n_items]) > 0.5
        n_c = self.problem.n_sites
        return values[:n_c], _close_upwards(values[n_c:], self.problem.segment_parent)


def _quiet_highs(hs: Any) -> Any:
    """A new HiGHS instance without its banner (printed by C code to the process's stdout)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return hs.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def solve_greedy(problem: Problem, budget: Budget) -> Solution:
    """
    The greedy answer: best newly-served weight per VND first, while affordable.

    Pinned candidates are taken first. For fibre the price of reaching a village is the
    cost of the segments not yet built on its route, so a shared trunk is paid once, and
    its gain the weight its new node (and the nodes built on the way) newly serve.
    Candidate sites are examined lazily (their gain only falls as villages get served).

    Examples
    --------
    >>> p = Problem(np.array([3.0, 1.0]), sparse.csr_matrix(np.eye(2, dtype=bool)),
    ...             np.array([1.0, 1.0]), np.zeros(2, dtype=bool), np.zeros(0),
    ...             sparse.csr_matrix((0, 0), dtype=bool), np.zeros(0),
    ...             np.zeros(0, dtype=np.int64))
    >>> solve_greedy(p, Budget(total_vnd=2.0)).site.tolist()
    [True, True]
    """
    check_budget(problem, budget)
    begin = time.perf_counter()
    site = problem.must.copy()
    segment = np.zeros(problem.n_segments, dtype=bool)
    mobile_open = ~problem.served(site, segment)[0]
    fibre_open = np.ones(len(problem.fibre_weight), dtype=bool)
    remaining = ({"total": budget.total - must_cost(problem)} if budget.shared else
                 {"mobile": float(budget.mobile_vnd) - must_cost(problem),  # type: ignore[arg-type]
                  "fibre": float(budget.fibre_vnd)})  # type: ignore[arg-type]
    site_pool = "total" if budget.shared else "mobile"
    fibre_pool = "total" if budget.shared else "fibre"
    sites = _LazySites(problem, mobile_open, site)
    routes = _Routes(problem)
    while True:
        j, r_site = sites.best(remaining[site_pool])
        e, r_fibre, price = routes.best(fibre_open, segment, remaining[fibre_pool])
        if max(r_site, r_fibre) <= 0:
            break
        if r_site >= r_fibre:
            site[j] = True
            remaining[site_pool] -= problem.site_cost[j]
            sites.take(j)
        else:
            built = routes.build(e, segment)
            remaining[fibre_pool] -= price
            fibre_open &= ~any_of(problem.fibre_cover, built)
    site = _without_idle_access(problem, site)
    objective = problem.objective(site, segment)
    seconds = time.perf_counter() - begin
    logger.info("greedy: objective %.3f, %.2f s", objective, seconds)
    return Solution(site, segment, objective, math.nan, "greedy", seconds, "greedy")


class _LazySites:
    """Candidate sites in a heap by weight per VND, re-evaluated only when on top."""

    def __init__(self, problem: Problem, open_rows: np.ndarray, taken: np.ndarray) -> None:
        self.cover_t = sparse.csr_matrix(problem.cover).T.tocsr()
        self.weight, self.cost, self.open = problem.mobile_weight, problem.site_cost, open_rows
        gain = self.cover_t.astype(float) @ (self.weight * open_rows)
        self.heap = [(-_ratio(gain[j], self.cost[j]), j) for j in np.flatnonzero(~taken)
                     if gain[j] > 0]
        heapq.heapify(self.heap)

    def gain(self, j: int) -> float:
        rows = self.cover_t.indices[self.cover_t.indptr[j]:self.cover_t.indptr[j + 1]]
        return float(self.weight[rows][self.open[rows]].sum())

    def best(self, money: float) -> tuple[int, float]:
        while self.heap:
            neg, j = self.heap[0]
            if self.cost[j] > money + 1e-6:  # money only shrinks: never affordable again
                heapq.heappop(self.heap)
                continue
            ratio = _ratio(self.gain(j), self.cost[j])
            if ratio <= 0:
                heapq.heappop(self.heap)
                continue
            if ratio < -neg - 1e-12 * max(1.0, abs(neg)):
                heapq.heapreplace(self.heap, (-ratio, j))
                continue
            return j, ratio
        return -1, -1.0

    def take(self, j: int) -> None:
        heapq.heappop(self.heap)
        rows = self.cover_t.indices[self.cover_t.indptr[j]:self.cover_t.indptr[j + 1]]
        self.open[rows] = False


class _Routes:
    """Fibre options: building the route to each segment whose end serves someone."""

    def __init__(self, problem: Problem) -> None:
        fibre_cover = sparse.csc_matrix(problem.fibre_cover)
        self.ends = np.flatnonzero(np.diff(fibre_cover.indptr) > 0)
        self.path = _segment_paths(problem.segment_parent)[self.ends]  # ends × segments
        self.reach = (self.path @ fibre_cover.T.astype(float)).tocsr()  # ends × villages
        self.reach.data[:] = 1.0
        self.weight, self.cost = problem.fibre_weight, problem.segment_cost
        self.stale = True
        self.price = self.gain = np.zeros(len(self.ends))

    def best(self, open_rows: np.ndarray, built: np.ndarray, money: float
             ) -> tuple[int, float, float]:
        if len(self.ends) == 0:
            return -1, -1.0, 0.0
        if self.stale:
            self.price = self.path @ (self.cost * ~built)
            self.gain = self.reach @ (self.weight * open_rows)
            self.stale = False
        ok = (self.gain > 0) & (self.price <= money + 1e-6)
        ratio = np.where(ok, self.gain / np.maximum(self.price, 1e-9), -1.0)
        e = int(np.argmax(ratio))
        return e, float(ratio[e]), float(self.price[e])

    def build(self, e: int, built: np.ndarray) -> np.ndarray:
        """Build the route to option ``e`` into ``built``; the segments newly built."""
        on_route = self.path[e].indices
        new = np.zeros(len(built), dtype=bool)
        new[on_route[~built[on_route]]] = True
        built |= new
        self.stale = True
        return new


def _ratio(weight: float, cost: float) -> float:
    return float(weight) / cost if cost > 0 else (math.inf if weight > 0 else 0.0)


def _segment_paths(parent: np.ndarray) -> sparse.csr_matrix:
    """Segments × segments: row s marks s and every segment above it."""
    rows, cols = [], []
    for s in range(len(parent)):
        t = s
        while t >= 0:
            rows.append(s)
            cols.append(t)
            t = parent[t]
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)),
                             shape=(len(parent), len(parent)))


def _useful_segments(problem: Problem, segment: np.ndarray) -> np.ndarray:
    """The built segments that serve a village, and the segments above them (a solve
    stopped at its time limit may keep a segment that serves nobody below it)."""
    serves = np.diff(sparse.csc_matrix(problem.fibre_cover).indptr) > 0
    return _close_upwards(segment & serves, problem.segment_parent)


def _without_idle_access(problem: Problem, site: np.ndarray) -> np.ndarray:
    """Drop satellite access (not pinned) for villages a chosen site brings 4G to: it adds
    nothing there (the greedy rule may buy it before the site)."""
    n_a = len(problem.access_row)
    if n_a == 0 or not site[-n_a:].any():
        return site
    first, n_m = problem.n_sites - n_a, problem.cover.shape[0] - n_a
    by_site = sparse.csr_matrix(problem.cover)[n_m:, :first] @ site[:first].astype(float)
    idle = site[first:] & (np.asarray(by_site).ravel() > 0) & ~problem.must[first:]
    out = site.copy()
    out[first + np.flatnonzero(idle)] = False
    return out


def _close_upwards(segment: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Make a segment choice consistent (a built segment's parents are built)."""
    out = segment.copy()
    for s in np.flatnonzero(segment):
        t = parent[s]
        while t >= 0 and not out[t]:
            out[t] = True
            t = parent[t]
    return out


def route_prices(parent: np.ndarray, cost: np.ndarray, built: np.ndarray) -> np.ndarray:
    """
    For each segment, the cost of building the route to it: its segments not yet built.

    Examples
    --------
    >>> route_prices(np.array([-1, 0, 1]), np.array([5.0, 2.0, 1.0]),
    ...              np.array([True, False, False])).tolist()
    [0.0, 2.0, 3.0]
    """
    if len(parent) == 0:
        return np.zeros(0)
    return np.asarray(_segment_paths(parent) @ (cost * ~np.asarray(built, dtype=bool)))
