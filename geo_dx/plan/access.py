"""Satellite community access: a terminal and Wi-Fi hotspot the plan can buy for a village.

Always feasible and cheap, but a lower service level (``satellite_hotspot``: never counted
as 4G coverage or fibre). It is offered to every village without mobile broadband (and,
where no fibre route reaches it, to a village without fibre), one per village, worth
``plan.satellite_access_weight`` (α) × the village's weight, at its cost on the budget's
basis (capital, or net present cost).

In the optimisation a village without mobile broadband counts as two rows: the 4G row,
worth (1 − α) × its weight, that only the sites reaching it serve; and an access row,
worth α × its weight, that those sites *or* its satellite access serve. A village counts
once: 4G is worth its full weight, satellite access alone α of it, both together no more
than 4G (so the cheapest best plan never buys both). Satellite access bought in an early
year stays worth having when a site comes later (the site then adds the remaining 1 − α).
The access columns join the mobile block (the budget's mobile part pays for them).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from geo_dx.config import Config
from geo_dx.plan.optimise import Problem
from geo_dx.plan.technology import satellite_access_cost

__all__ = ["Access", "access_villages", "with_access"]


@dataclass(frozen=True)
class Access:
    """
    The satellite access options of a plan.

    Attributes
    ----------
    villages
        Positions (among all villages) of the villages offered satellite access, one per
        access column of the problem, in order.
    first_column
        Index of the first access column among the problem's site columns (the candidate
        columns come before).
    capex_vnd, opex_vnd_per_year, npv_cost_vnd, cost_vnd
        Per village: capital, yearly fee, net present cost, and what the budget pays.
    """

    villages: np.ndarray
    first_column: int
    capex_vnd: float
    opex_vnd_per_year: float
    npv_cost_vnd: float
    cost_vnd: float

    def __len__(self) -> int:
        return len(self.villages)

    def chosen(self, site: np.ndarray) -> np.ndarray:
        """Village positions whose access column is set in a site choice (all columns)."""
        return self.villages[np.asarray(site, dtype=bool)[self.first_column:]]

    @classmethod
    def none(cls, first_column: int = 0) -> Access:
        """No access options."""
        return cls(np.zeros(0, dtype=np.int64), first_column, 0.0, 0.0, 0.0, 0.0)


def access_villages(
    n_villages: int,
    *,
    mobile_rows: np.ndarray,
    disputed: np.ndarray,
    no_grid: np.ndarray,
    fibre_rows: np.ndarray,
    fibre_cover: sparse.spmatrix,
) -> np.ndarray:
    """
    The villages offered satellite access: every village without mobile broadband (those
    without grid power too; disputed ones are measured again first), and the villages
    without fibre that no fibre route reaches.

    ``mobile_rows``/``fibre_rows`` are village positions, ``disputed`` is per mobile row,
    ``no_grid`` (over all villages) marks those left out of the mobile rows because they
    have no grid power.

    Examples
    --------
    >>> f = sparse.csr_matrix(np.array([[0], [1], [0]], dtype=bool))  # 4 has a route
    >>> access_villages(6, mobile_rows=np.array([0, 1]), disputed=np.array([False, True]),
    ...                 no_grid=np.eye(6, dtype=bool)[2], fibre_rows=np.array([0, 4, 5]),
    ...                 fibre_cover=f).tolist()
    [0, 2, 5]
    """
    offered = np.zeros(n_villages, dtype=bool)
    offered[mobile_rows[~np.asarray(disputed, dtype=bool)]] = True
    offered |= np.asarray(no_grid, dtype=bool)
    no_route = np.diff(sparse.csr_matrix(fibre_cover).indptr) == 0
    offered[fibre_rows[no_route]] = True
    return np.flatnonzero(offered)


def with_access(problem: Problem, villages: np.ndarray, weight: np.ndarray,
                mobile_rows: np.ndarray, *, config: Config) -> tuple[Problem, Access]:
    """
    ``problem`` with a satellite access column and an access row per village in
    ``villages`` (positions; ``weight`` the weight of every village, ``mobile_rows`` the
    villages of the problem's mobile rows): none when ``plan.satellite_access_weight`` is 0.

    Examples
    --------
    One village without mobile broadband, one site reaching it (2 bn), weight 2: its 4G
    row keeps 1.4, its access row (the site or satellite access) 0.6.

    >>> from geo_dx.config import config_from_dict
    >>> p = Problem(np.array([2.0]), sparse.csr_matrix(np.ones((1, 1), dtype=bool)),
    ...             np.array([2e9]), np.zeros(1, bool), np.zeros(0),
    ...             sparse.csr_matrix((0, 0), dtype=bool), np.zeros(0),
    ...             np.zeros(0, dtype=np.int64))
    >>> q, access = with_access(p, np.array([3]), np.array([0, 0, 0, 2.0]), np.array([3]),
    ...                         config=config_from_dict({}))
    >>> q.cover.toarray().astype(int).tolist(), q.mobile_weight.round(6).tolist()
    ([[1, 0], [1, 1]], [1.4, 0.6])
    >>> q.site_cost.tolist(), access.first_column
    ([2000000000.0, 50000000.0], 1)
    """
    capex, opex, npv = satellite_access_cost(config)
    cost = npv if config.plan.budget_basis == "npv" else capex
    alpha = config.plan.satellite_access_weight
    if alpha <= 0:
        villages = np.zeros(0, dtype=np.int64)
    n = len(villages)
    access = Access(np.asarray(villages, dtype=np.int64), problem.n_sites, capex, opex, npv,
                    cost)
    if n == 0:
        return problem, access
    n_m, n_c = problem.cover.shape
    row_of = dict(zip(np.asarray(mobile_rows).tolist(), range(n_m), strict=True))
    at = np.array([row_of.get(v, -1) for v in villages.tolist()], dtype=np.int64)
    old = sparse.csr_matrix(problem.cover)
    has = np.flatnonzero(at >= 0)
    copied = sparse.coo_matrix(old[at[has]])  # the sites reaching each village
    cover = sparse.csr_matrix(
        (np.ones(old.nnz + copied.nnz + n, dtype=bool),
         (np.r_[old.tocoo().row, n_m + has[copied.row], n_m + np.arange(n)],
          np.r_[old.tocoo().col, copied.col, n_c + np.arange(n)])),
        shape=(n_m + n, n_c + n))
    mobile_weight = np.asarray(problem.mobile_weight, dtype=float).copy()
    mobile_weight[at[has]] *= 1.0 - alpha
    value = alpha * np.asarray(weight, dtype=float)[villages]
    return replace(problem,
                   mobile_weight=np.r_[mobile_weight, value],
                   cover=cover,
                   site_cost=np.r_[problem.site_cost, np.full(n, cost)],
                   must=np.r_[problem.must, np.zeros(n, dtype=bool)]), access
