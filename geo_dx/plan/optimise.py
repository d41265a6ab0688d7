"""Choosing investments within a budget: the exact MILP (PuLP + HiGHS) and the greedy rule.

The problem, on plain arrays (:class:`Problem`):

- mobile: binary ``x_c`` per candidate site with cost ``c_c``; a village without mobile
  broadband is newly served (``z_v`` ≤ 1) when some chosen candidate serves it
  (``z_v ≤ Σ_{c serves v} x_c``);
- fibre: binary ``y_s`` per segment of the fibre tree (:mod:`geo_dx.plan.routes`) with cost
  ``c_s``; a segment can only be built with the one above it (``y_s ≤ y_parent``); a
  village without fibre is newly served when its own segment is built;
- maximise ``Σ w_v z_v + Σ w_v y_{s(v)}`` subject to the budget (one shared, or one
  for mobile and one for fibre); pinned candidates have ``x_c = 1``.

:func:`solve_greedy` picks, again and again, the affordable item with the highest
newly-served weight per VND (for fibre: the cost of the segments not yet built on the
village's route), until nothing affordable adds weight.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from geo_dx.errors import InputError, MissingDependencyError

logger = logging.getLogger(__name__)

#: Relative optimality gap at which HiGHS may stop.
MIP_REL_GAP = 1e-6


@dataclass(frozen=True)
class Budget:
    """
    One shared budget (``total_vnd``) or separate mobile and fibre budgets, in VND.

    Examples
    --------
    >>> Budget.parse("30e9")
    Budget(total_vnd=30000000000.0, mobile_vnd=None, fibre_vnd=None)
    >>> Budget.parse("mobile=20e9,fibre=10e9").fibre_vnd
    10000000000.0
    """

    total_vnd: float | None = None
    mobile_vnd: float | None = None
    fibre_vnd: float | None = None

    @classmethod
    def parse(cls, value: object) -> Budget:
        """A number, a ``{"mobile": .., "fibre": ..}`` mapping or ``"mobile=X,fibre=Y"``."""
        if isinstance(value, Budget):
            return value
        if isinstance(value, Mapping):
            parts = dict(value)
        elif isinstance(value, str) and "=" in value:
            parts = {}
            for part in filter(None, (p.strip() for p in value.split(","))):
                name, _, amount = part.partition("=")
                parts[name.strip()] = amount.strip()
        else:
            return cls(total_vnd=_amount(value, "budget"))
        unknown = sorted(set(parts) - {"mobile", "fibre"})
        if unknown or len(parts) != 2:
            raise InputError(
                f"budget: expected one amount (e.g. 30e9) or mobile=...,fibre=... (both), "
                f"got {value!r}"
            )
        return cls(mobile_vnd=_amount(parts["mobile"], "budget mobile"),
                   fibre_vnd=_amount(parts["fibre"], "budget fibre"))

    @property
    def shared(self) -> bool:
        """True for one budget shared by mobile and fibre."""
        return self.total_vnd is not None

    @property
    def total(self) -> float:
        """The whole amount available."""
        if self.shared:
            return float(self.total_vnd)  # type: ignore[arg-type]
        return float(self.mobile_vnd) + float(self.fibre_vnd)  # type: ignore[arg-type]

    def scaled(self, factor: float) -> Budget:
        """This budget times ``factor`` (each part)."""
        if self.shared:
            return Budget(total_vnd=self.total * factor)
        return Budget(mobile_vnd=self.mobile_vnd * factor,  # type: ignore[operator]
                      fibre_vnd=self.fibre_vnd * factor)  # type: ignore[operator]


def _amount(value: object, what: str) -> float:
    try:
        amount = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise InputError(f"{what}: {value!r} is not a number of VND; e.g. 30e9") from err
    if not math.isfinite(amount) or amount < 0:
        raise InputError(f"{what}: {value!r} must be a finite amount of VND >= 0; e.g. 30e9")
    return amount


@dataclass(frozen=True)
class Problem:
    """
    The choice on arrays.

    Attributes
    ----------
    mobile_weight
        (n_m,) weight of each village without mobile broadband.
    cover
        (n_m, n_c) sparse boolean: candidate c serves village v.
    site_cost
        (n_c,) cost of each candidate, VND.
    must
        (n_c,) boolean: pinned candidates.
    segment_weight
        (n_s,) weight of the village a segment ends at (0 for trunk segments).
    segment_cost
        (n_s,) cost of each segment (drop included), VND.
    segment_parent
        (n_s,) index of the segment above, -1 at the network.
    """

    mobile_weight: np.ndarray
    cover: sparse.csr_matrix
    site_cost: np.ndarray
    must: np.ndarray
    segment_weight: np.ndarray
    segment_cost: np.ndarray
    segment_parent: np.ndarray

    @property
    def n_sites(self) -> int:
        """Number of candidates."""
        return len(self.site_cost)

    @property
    def n_segments(self) -> int:
        """Number of fibre segments."""
        return len(self.segment_cost)

    def objective(self, site: np.ndarray, segment: np.ndarray) -> float:
        """Weight newly served by a choice."""
        served = np.asarray(self.cover[:, np.flatnonzero(site)].sum(axis=1)).ravel() > 0
        return float(self.mobile_weight[served].sum() + self.segment_weight[segment].sum())

    def cost(self, site: np.ndarray, segment: np.ndarray) -> tuple[float, float]:
        """(mobile cost, fibre cost) of a choice."""
        return float(self.site_cost[site].sum()), float(self.segment_cost[segment].sum())


@dataclass(frozen=True)
class Solution:
    """A choice of sites and segments, how good it is and how it was found."""

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


def solve_milp(problem: Problem, budget: Budget, *, time_limit_s: float = 30.0) -> Solution:
    """
    The exact answer: a mixed-integer programme solved by HiGHS through PuLP.

    Returns the best choice found within ``time_limit_s`` with HiGHS's bound on the
    optimum (``bound``; equal to ``objective`` when proven optimal).

    Examples
    --------
    >>> p = Problem(np.array([3.0, 1.0]), sparse.csr_matrix(np.eye(2, dtype=bool)),
    ...             np.array([1.0, 1.0]), np.zeros(2, dtype=bool), np.zeros(0),
    ...             np.zeros(0), np.zeros(0, dtype=np.int64))
    >>> solve_milp(p, Budget(total_vnd=1.0)).site.tolist()
    [True, False]
    """
    try:
        import pulp
    except ImportError as err:  # pragma: no cover - a core dependency
        raise MissingDependencyError("the plan needs PuLP and highspy: pip install geo_dx") from err
    check_budget(problem, budget)
    start = time.perf_counter()
    cover = sparse.csr_matrix(problem.cover)
    rows = np.flatnonzero(np.diff(cover.indptr) > 0)
    n_c, n_s = problem.n_sites, problem.n_segments
    if n_c == 0 and n_s == 0:
        empty = Solution(np.zeros(0, bool), np.zeros(0, bool), 0.0, 0.0, "optimal", 0.0, "none")
        return empty
    prob = pulp.LpProblem("geo_dx_plan", pulp.LpMaximize)
    new = getattr(prob, "add_variable", None) or (
        lambda name, low=None, up=None, cat="Continuous": pulp.LpVariable(name, low, up, cat=cat))
    x = [new(f"x{j}", 0, 1, cat=pulp.LpBinary) for j in range(n_c)]
    y = [new(f"y{s}", 0, 1, cat=pulp.LpBinary) for s in range(n_s)]
    z = {i: new(f"z{i}", 0, 1) for i in rows}
    terms = [(z[i], float(problem.mobile_weight[i])) for i in rows]
    terms += [(y[s], float(problem.segment_weight[s])) for s in range(n_s)
              if problem.segment_weight[s]]
    prob += pulp.LpAffineExpression(terms)
    for i in rows:
        cols = cover.indices[cover.indptr[i]:cover.indptr[i + 1]]
        prob += pulp.LpAffineExpression([(z[i], 1.0)] + [(x[j], -1.0) for j in cols]) <= 0
    for s in range(n_s):
        p = problem.segment_parent[s]
        if p >= 0:
            prob += y[s] - y[p] <= 0
    site_cost = pulp.LpAffineExpression([(x[j], float(problem.site_cost[j])) for j in range(n_c)])
    fibre_cost = pulp.LpAffineExpression(
        [(y[s], float(problem.segment_cost[s])) for s in range(n_s)])
    if budget.shared:
        prob += site_cost + fibre_cost <= budget.total
    else:
        prob += site_cost <= float(budget.mobile_vnd)  # type: ignore[arg-type]
        prob += fibre_cost <= float(budget.fibre_vnd)  # type: ignore[arg-type]
    for j in np.flatnonzero(problem.must):
        x[j].lowBound = 1
    solver = pulp.HiGHS(msg=False, timeLimit=float(time_limit_s), gapRel=MIP_REL_GAP, threads=1)
    prob.solve(solver)
    status = _status(prob, pulp.LpStatus[prob.status].lower())
    site = np.array([(v.varValue or 0.0) > 0.5 for v in x], dtype=bool)
    segment = np.array([(v.varValue or 0.0) > 0.5 for v in y], dtype=bool)
    segment = _close_upwards(segment, problem.segment_parent)
    objective = problem.objective(site, segment)
    bound = _dual_bound(prob, objective, status)
    seconds = time.perf_counter() - start
    logger.info("MILP (%s): objective %.3f, bound %.3f, %.2f s", status, objective, bound,
                seconds)
    return Solution(site, segment, objective, bound, status, seconds, "HiGHS (PuLP)")


def _status(prob: object, fallback: str) -> str:
    """HiGHS's own model status (PuLP reports a time-limited answer as optimal)."""
    model = getattr(prob, "solverModel", None)
    try:
        return str(model.modelStatusToString(model.getModelStatus())).lower()  # type: ignore
    except AttributeError:  # pragma: no cover - solver versions
        return fallback


def _dual_bound(prob: object, objective: float, status: str) -> float:
    """HiGHS's bound on the optimum (PuLP minimises −objective for a maximisation)."""
    model = getattr(prob, "solverModel", None)
    if model is None:
        return objective if status == "optimal" else math.nan  # pragma: no cover
    try:
        info = model.getInfo()
        bound = -float(info.mip_dual_bound)
    except (AttributeError, TypeError, ValueError):  # pragma: no cover - solver versions
        return objective if status == "optimal" else math.nan  # pragma: no cover
    if not math.isfinite(bound):
        return objective if status == "optimal" else math.nan  # pragma: no cover
    return max(bound, objective)


def solve_greedy(problem: Problem, budget: Budget) -> Solution:
    """
    The greedy answer: best newly-served weight per VND first, while affordable.

    Pinned candidates are taken first. For fibre the price of a village is the cost of
    the segments not yet built on its route, so a shared trunk is paid once.

    Examples
    --------
    >>> p = Problem(np.array([3.0, 1.0]), sparse.csr_matrix(np.eye(2, dtype=bool)),
    ...             np.array([1.0, 1.0]), np.zeros(2, dtype=bool), np.zeros(0),
    ...             np.zeros(0), np.zeros(0, dtype=np.int64))
    >>> solve_greedy(p, Budget(total_vnd=2.0)).site.tolist()
    [True, True]
    """
    check_budget(problem, budget)
    start = time.perf_counter()
    cover_t = sparse.csr_matrix(problem.cover).T.tocsr().astype(np.float64)
    n_c, n_s = problem.n_sites, problem.n_segments
    site = problem.must.copy()
    segment = np.zeros(n_s, dtype=bool)
    unserved = np.ones(len(problem.mobile_weight), dtype=bool)
    unserved[np.asarray(sparse.csr_matrix(problem.cover)[:, np.flatnonzero(site)].sum(axis=1))
             .ravel() > 0] = False
    path = _segment_paths(problem.segment_parent)
    ends = np.flatnonzero(problem.segment_weight > 0)
    remaining = {"total": budget.total - float(problem.site_cost[site].sum())}
    if not budget.shared:
        remaining = {"mobile": float(budget.mobile_vnd) - float(problem.site_cost[site].sum()),
                     "fibre": float(budget.fibre_vnd)}
    site_pool = "total" if budget.shared else "mobile"
    fibre_pool = "total" if budget.shared else "fibre"
    while True:
        gain_site = cover_t @ (problem.mobile_weight * unserved)
        ok_site = ~site & (gain_site > 0) & (problem.site_cost <= remaining[site_pool] + 1e-6)
        ratio_site = np.where(ok_site, gain_site / np.maximum(problem.site_cost, 1e-9), -1.0)
        if len(ends):
            price = path[ends] @ (problem.segment_cost * ~segment)
            ok_fibre = ~segment[ends] & (price <= remaining[fibre_pool] + 1e-6)
            ratio_fibre = np.where(ok_fibre, problem.segment_weight[ends]
                                   / np.maximum(price, 1e-9), -1.0)
        else:
            price = ratio_fibre = np.zeros(0)
        best_site = int(np.argmax(ratio_site)) if n_c else -1
        best_fibre = int(np.argmax(ratio_fibre)) if len(ends) else -1
        r_site = ratio_site[best_site] if best_site >= 0 else -1.0
        r_fibre = ratio_fibre[best_fibre] if best_fibre >= 0 else -1.0
        if max(r_site, r_fibre) <= 0:
            break
        if r_site >= r_fibre:
            site[best_site] = True
            remaining[site_pool] -= problem.site_cost[best_site]
            col = cover_t.indices[cover_t.indptr[best_site]:cover_t.indptr[best_site + 1]]
            unserved[col] = False
        else:
            s = ends[best_fibre]
            on_route = path[s].indices
            remaining[fibre_pool] -= price[best_fibre]
            segment[on_route] = True
    objective = problem.objective(site, segment)
    seconds = time.perf_counter() - start
    logger.info("greedy: objective %.3f, %.2f s", objective, seconds)
    return Solution(site, segment, objective, math.nan, "greedy", seconds, "greedy")


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


def _close_upwards(segment: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Make a segment choice consistent (a built segment's parents are built)."""
    out = segment.copy()
    for s in np.flatnonzero(segment):
        t = parent[s]
        while t >= 0 and not out[t]:
            out[t] = True
            t = parent[t]
    return out
