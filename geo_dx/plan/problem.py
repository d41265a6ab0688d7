"""The investment choice on plain arrays, and its rows as the MILP sees them.

:class:`Problem` holds who serves whom and what it costs (candidate sites, fibre segments,
satellite access); :func:`compact` turns its villages into as few MILP rows as possible
(see :mod:`geo_dx.plan.optimise` for the programme itself).

Satellite access (:mod:`geo_dx.plan.access`) is described in the problem by an access row
per village, served by its sites or its access column, worth α × the village's weight
(its 4G row keeps 1 − α): the objective and the greedy rule read it that way. The MILP
uses an equivalent, tighter form (:func:`compact`): the 4G row at the full weight, and
per village a continuous ``s`` worth α × the weight with ``s ≤ a`` (its access column)
and ``s + z ≤ 1`` (``z``: its 4G row's variable), so 4G rows with the same sites still
merge into one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import sparse

__all__ = ["Compact", "Problem", "any_of", "compact"]


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
    fibre_weight
        (n_f,) weight of each village without fibre.
    fibre_cover
        (n_f, n_s) sparse boolean: building segment s serves village v (the node at the
        village the segment ends at reaches it; trunk segments serve nobody).
    segment_cost
        (n_s,) cost of each segment (drop included), VND.
    segment_parent
        (n_s,) index of the segment above, -1 at the network.
    """

    mobile_weight: np.ndarray
    cover: sparse.csr_matrix
    site_cost: np.ndarray
    must: np.ndarray
    fibre_weight: np.ndarray
    fibre_cover: sparse.csr_matrix
    segment_cost: np.ndarray
    segment_parent: np.ndarray
    #: Per satellite access column (the last ``len(access_row)`` site columns; each serves
    #: only its own access row, the last rows of ``cover``): the row of ``cover`` that is its
    #: village's 4G row, or -1 (see :mod:`geo_dx.plan.access`).
    access_row: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_sites(self) -> int:
        """Number of candidates."""
        return len(self.site_cost)

    @property
    def n_segments(self) -> int:
        """Number of fibre segments."""
        return len(self.segment_cost)

    def served(self, site: np.ndarray, segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mobile rows, fibre rows) newly served by a choice, as boolean masks."""
        mobile = any_of(self.cover, site)
        fibre = any_of(self.fibre_cover, segment)
        return mobile, fibre

    def objective(self, site: np.ndarray, segment: np.ndarray) -> float:
        """Weight newly served by a choice."""
        mobile, fibre = self.served(site, segment)
        return float(self.mobile_weight[mobile].sum() + self.fibre_weight[fibre].sum())

    def cost(self, site: np.ndarray, segment: np.ndarray) -> tuple[float, float]:
        """(mobile cost, fibre cost) of a choice."""
        return float(self.site_cost[site].sum()), float(self.segment_cost[segment].sum())

    def paid(self, site: np.ndarray, segment: np.ndarray) -> Problem:
        """The same choice once ``site``/``segment`` are built: pinned, at no cost."""
        return replace(self, site_cost=np.where(site, 0.0, self.site_cost),
                       must=self.must | site,
                       segment_cost=np.where(segment, 0.0, self.segment_cost))

    def with_weights(self, mobile_weight: np.ndarray, fibre_weight: np.ndarray) -> Problem:
        """The same choice with other village weights."""
        return replace(self, mobile_weight=mobile_weight, fibre_weight=fibre_weight)


def any_of(matrix: sparse.spmatrix, chosen: np.ndarray) -> np.ndarray:
    """Rows of ``matrix`` (rows × items) with at least one chosen item."""
    cols = np.flatnonzero(chosen)
    if len(cols) == 0 or matrix.shape[0] == 0:
        return np.zeros(matrix.shape[0], dtype=bool)
    return np.asarray(sparse.csc_matrix(matrix)[:, cols].sum(axis=1)).ravel() > 0



@dataclass(frozen=True)
class Compact:
    """
    The rows of a problem as the MILP sees them (see :func:`compact`).

    Attributes
    ----------
    column_weight
        (n_c + n_s,) weight on each site and segment variable (villages it alone serves).
    rows
        (n_rows, n_c + n_s) sparse boolean: the items serving each remaining row.
    row_weight
        (n_rows,) summed weight of the villages merged into each row.
    villages
        How many villages (with weight, served by some item) the rows stand for.
    """

    column_weight: np.ndarray
    rows: sparse.csr_matrix
    row_weight: np.ndarray
    villages: int
    #: Per satellite access column: the MILP variable of its village's 4G row (a site or
    #: segment column, or ``n_items + row``), or -1 when no item serves it.
    access_variable: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: Per satellite access column: the weight of its access row (α × the village's weight).
    access_weight: np.ndarray = field(default_factory=lambda: np.zeros(0))


def compact(problem: Problem) -> Compact:
    """
    Villages as few MILP rows: same items → one row, one item → a weight on that item;
    satellite access rows as ``access_variable``/``access_weight`` (see the module).

    Examples
    --------
    >>> cover = sparse.csr_matrix(np.array([[1, 1], [1, 1], [0, 1], [0, 0]], dtype=bool))
    >>> p = Problem(np.array([1.0, 2.0, 4.0, 8.0]), cover, np.ones(2), np.zeros(2, bool),
    ...             np.zeros(0), sparse.csr_matrix((0, 0), dtype=bool), np.zeros(0),
    ...             np.zeros(0, dtype=np.int64))
    >>> c = compact(p)
    >>> c.column_weight.tolist(), c.rows.toarray().tolist(), c.row_weight.tolist()
    ([0.0, 4.0], [[True, True]], [3.0])
    """
    n_a = len(problem.access_row)
    if n_a:
        return _with_access_rows(problem)
    n_c = problem.n_sites
    both = sparse.bmat([[sparse.csr_matrix(problem.cover), None],
                        [None, sparse.csr_matrix(problem.fibre_cover)]], format="csr",
                       dtype=bool) if problem.n_sites or problem.n_segments else None
    weight = np.concatenate([problem.mobile_weight, problem.fibre_weight]).astype(float)
    n_cols = n_c + problem.n_segments
    if both is None or both.shape[0] == 0:
        return Compact(np.zeros(n_cols), sparse.csr_matrix((0, n_cols), dtype=bool),
                       np.zeros(0), 0)
    both.sum_duplicates()
    both.sort_indices()
    count = np.diff(both.indptr)
    keep = (weight > 0) & (count > 0)
    column_weight = np.zeros(n_cols)
    single = np.flatnonzero(keep & (count == 1))
    np.add.at(column_weight, both.indices[both.indptr[single]], weight[single])
    groups: dict[bytes, int] = {}
    row_weight: list[float] = []
    members: list[np.ndarray] = []
    for r in np.flatnonzero(keep & (count > 1)):
        cols = both.indices[both.indptr[r]:both.indptr[r + 1]]
        key = cols.tobytes()
        g = groups.get(key)
        if g is None:
            groups[key] = len(row_weight)
            row_weight.append(float(weight[r]))
            members.append(cols)
        else:
            row_weight[g] += float(weight[r])
    lengths = np.array([len(m) for m in members], dtype=np.int64)
    rows = sparse.csr_matrix(
        (np.ones(int(lengths.sum()), dtype=bool),
         np.concatenate(members) if members else np.zeros(0, dtype=np.int64),
         np.r_[0, np.cumsum(lengths)]), shape=(len(members), n_cols))
    return Compact(column_weight, rows, np.asarray(row_weight, dtype=float), int(keep.sum()))




def _row_variables(problem: Problem, rows: Compact) -> np.ndarray:
    """The MILP variable of each row of ``problem`` (mobile, then fibre) as :func:`compact`
    merges them: its single item's column, ``n_items + merged row``, or -1 (dropped)."""
    both = sparse.bmat([[sparse.csr_matrix(problem.cover), None],
                        [None, sparse.csr_matrix(problem.fibre_cover)]], format="csr",
                       dtype=bool)
    both.sum_duplicates()
    both.sort_indices()
    n_items = problem.n_sites + problem.n_segments
    merged = sparse.csr_matrix(rows.rows)
    group = {merged.indices[merged.indptr[g]:merged.indptr[g + 1]].tobytes(): n_items + g
             for g in range(merged.shape[0])}
    weight = np.concatenate([problem.mobile_weight, problem.fibre_weight])
    out = np.full(both.shape[0], -1, dtype=np.int64)
    for r in range(both.shape[0]):
        cols = both.indices[both.indptr[r]:both.indptr[r + 1]]
        if len(cols) == 0 or weight[r] <= 0:
            continue
        out[r] = cols[0] if len(cols) == 1 else group[cols.tobytes()]
    return out


def _with_access_rows(problem: Problem) -> Compact:
    """:func:`compact` of a problem with satellite access (the module's tighter form)."""
    n_a = len(problem.access_row)
    n_m = problem.cover.shape[0] - n_a
    access_weight = np.asarray(problem.mobile_weight[n_m:], dtype=float)
    full = np.asarray(problem.mobile_weight[:n_m], dtype=float).copy()
    paired = problem.access_row >= 0
    np.add.at(full, problem.access_row[paired], access_weight[paired])  # 4G: whole weight
    base = replace(problem, mobile_weight=full, access_row=np.zeros(0, dtype=np.int64),
                   cover=sparse.csr_matrix(problem.cover)[:n_m])
    rows = compact(base)
    variable = np.full(n_a, -1, dtype=np.int64)
    variable[paired] = _row_variables(base, rows)[problem.access_row[paired]]
    column_weight = rows.column_weight.copy()
    first = problem.n_sites - n_a
    alone = variable < 0  # nothing else serves the village: the weight sits on its column
    column_weight[first + np.flatnonzero(alone)] += access_weight[alone]
    return replace(rows, column_weight=column_weight, access_variable=variable,
                   access_weight=np.where(alone, 0.0, access_weight),
                   villages=rows.villages + int((access_weight > 0).sum()))
