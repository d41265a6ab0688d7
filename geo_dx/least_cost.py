"""Least-cost travel over a grid: the cheapest cumulative cost from any start to every cell.

Moves go to the 8 neighbours of a cell; a move costs its length (``sampling`` in metres
per row and column) times the mean of the two cells' costs, scikit-image's
``MCP_Geometric`` rule. Cells whose cost is negative, infinite or NaN cannot be entered.

:func:`cumulative_cost` answers what ``MCP_Geometric(cost, fully_connected=True,
sampling=...).find_costs(starts)`` answers (to rounding; tested against it). With numba
installed (``pip install 'geo_dx[scale]'``) it runs compiled and tile by tile: Dijkstra's
search inside one square tile at a time, the tile holding the cheapest pending cell
first, handing improved cells on a tile's edge to the neighbouring tile. Each tile's cells
stay in the processor's cache, so the cost per cell does not grow with the grid (~0.4 µs),
while scikit-image's one search over the whole grid slows per cell as the grid grows
(1.2 µs at 1.4 M cells, 2.1 µs at 23 M): 0.18x its time on the demo's friction tiled to
23 M cells, with equal answers (``benchmarks/bench_least_cost.py``). It ends when
no tile has a pending cell; every cell's cost is then the cheapest over all paths, as in
one search. Without numba it calls scikit-image.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["TILE_CELLS", "cumulative_cost", "compiled"]

#: Side of a tile, in cells: 256 x 256 float64 costs so far and float32 costs fit a
#: processor's second-level cache.
TILE_CELLS = 256


def compiled() -> bool:
    """
    Whether the compiled tiled search is available (numba installed).

    Examples
    --------
    >>> isinstance(compiled(), bool)
    True
    """
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def cumulative_cost(
    cost: np.ndarray,
    starts: np.ndarray | Sequence[tuple[int, int]],
    *,
    sampling: tuple[float, float] = (1.0, 1.0),
    tile_cells: int = TILE_CELLS,
    use_compiled: bool | None = None,
) -> np.ndarray:
    """
    The least cumulative cost from the nearest start to every cell (``inf`` if unreachable).

    Parameters
    ----------
    cost
        2-D cost of crossing one unit of length of each cell (e.g. hours per metre).
    starts
        ``(row, col)`` cells where the cost is 0; cells outside the grid or that cannot be
        entered are ignored.
    sampling
        Length of a cell along rows and along columns (metres).
    tile_cells
        Side of the tiles of the compiled search.
    use_compiled
        ``True`` / ``False`` to force or avoid the compiled search; default: when numba is
        installed.

    Returns
    -------
    numpy.ndarray
        float64 array of ``cost``'s shape.

    Examples
    --------
    Two cells of cost 1 and 3, 10 m apart: the move costs 10 x (1 + 3) / 2.

    >>> cumulative_cost(np.array([[1.0, 3.0]]), [(0, 0)], sampling=(10.0, 10.0)).tolist()
    [[0.0, 20.0]]
    >>> cumulative_cost(np.array([[1.0, -1.0, 1.0]]), [(0, 0)]).tolist()  # a wall
    [[0.0, inf, inf]]
    """
    cost = np.asarray(cost)
    if cost.ndim != 2:
        raise ValueError(f"cost must be a 2-D grid, got shape {cost.shape}")
    rc = np.asarray(starts, dtype=np.int64).reshape(-1, 2)
    inside = ((rc[:, 0] >= 0) & (rc[:, 0] < cost.shape[0])
              & (rc[:, 1] >= 0) & (rc[:, 1] < cost.shape[1]))
    rc = rc[inside]
    if use_compiled is None:
        use_compiled = compiled()
    if cost.size == 0 or len(rc) == 0:
        return np.full(cost.shape, np.inf)
    if not use_compiled:
        return _skimage_cost(cost, rc, sampling)
    from geo_dx._least_cost_kernel import tiled_dijkstra

    grid = np.ascontiguousarray(cost, dtype=np.float32 if cost.dtype == np.float32
                                else np.float64)
    flat_starts = rc[:, 0] * cost.shape[1] + rc[:, 1]
    lengths = np.array([math.hypot(dr * sampling[0], dc * sampling[1])
                        for dr, dc in _OFFSETS], dtype=np.float64)
    out, visits = tiled_dijkstra(grid, flat_starts, lengths, int(max(2, tile_cells)))
    logger.debug("least-cost search: %d cells, %d tile visits", cost.size, visits)
    return out


#: The 8 moves, in the order the compiled kernel takes them.
_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def _skimage_cost(cost: np.ndarray, rc: np.ndarray, sampling: tuple[float, float]) -> np.ndarray:
    from skimage.graph import MCP_Geometric

    costs = np.asarray(cost, dtype=np.float64)
    costs = np.where(np.isnan(costs), -1.0, costs)  # scikit-image would walk through NaN
    ok = np.isfinite(costs[rc[:, 0], rc[:, 1]]) & (costs[rc[:, 0], rc[:, 1]] >= 0)
    if not ok.any():
        return np.full(cost.shape, np.inf)
    mcp = MCP_Geometric(costs, fully_connected=True, sampling=tuple(float(s) for s in sampling))
    cumulative, _ = mcp.find_costs([tuple(x) for x in rc[ok].tolist()])
    return np.asarray(cumulative, dtype=np.float64)
