"""Compiled (numba) tiled Dijkstra search of :mod:`geo_dx.least_cost`.

Import through :func:`geo_dx.least_cost.cumulative_cost`, which falls back to scikit-image
when numba is missing.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_DR = np.array([-1, -1, -1, 0, 0, 1, 1, 1], dtype=np.int64)
_DC = np.array([-1, 0, 1, -1, 1, -1, 0, 1], dtype=np.int64)


@njit(cache=True, nogil=True)
def _push(keys, cells, n, key, cell):
    """Add ``(key, cell)`` to the binary min-heap ``keys``/``cells`` of ``n`` entries."""
    if n == keys.shape[0]:
        grown_keys = np.empty(2 * n, dtype=keys.dtype)
        grown_keys[:n] = keys
        grown_cells = np.empty(2 * n, dtype=cells.dtype)
        grown_cells[:n] = cells
        keys, cells = grown_keys, grown_cells
    i = n
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        cells[i] = cells[parent]
        i = parent
    keys[i] = key
    cells[i] = cell
    return keys, cells, n + 1


@njit(cache=True, nogil=True)
def _pop(keys, cells, n):
    """Remove and return the smallest ``(key, cell)`` of the heap, and its new size."""
    key, cell = keys[0], cells[0]
    n -= 1
    last_key, last_cell = keys[n], cells[n]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and keys[child + 1] < keys[child]:
            child += 1
        if keys[child] >= last_key:
            break
        keys[i] = keys[child]
        cells[i] = cells[child]
        i = child
    if n > 0:
        keys[i] = last_key
        cells[i] = last_cell
    return key, cell, n


@njit(cache=True, nogil=True)
def _passable(c):
    return c >= 0.0 and c < np.inf  # False for NaN too


@njit(cache=True, nogil=True)
def tiled_dijkstra(cost, starts, lengths, tile):
    """
    Least cumulative cost from ``starts`` (flat indices) over the 8-connected ``cost`` grid.

    ``lengths`` are the lengths of the moves ``(_DR[k], _DC[k])``. Returns the costs
    (float64, ``cost``'s shape) and how many tile visits the search took.
    """
    nr, nc = cost.shape
    flat = cost.ravel()
    dist = np.full(nr * nc, np.inf)
    pending = np.zeros(nr * nc, dtype=np.bool_)
    tiles_r = (nr + tile - 1) // tile
    tiles_c = (nc + tile - 1) // tile
    tile_min = np.full(tiles_r * tiles_c, np.inf)  # cheapest pending cell of each tile
    seen = np.zeros(tiles_r * tiles_c, dtype=np.bool_)  # visited once (starts handed over)
    for s in starts:
        if _passable(flat[s]):
            dist[s] = 0.0
            pending[s] = True
            tile_min[(s // nc) // tile * tiles_c + (s % nc) // tile] = 0.0
    keys = np.empty(1 << 12, dtype=np.float64)
    cells = np.empty(1 << 12, dtype=np.int64)
    visits = 0
    while True:
        t = np.argmin(tile_min)
        if not tile_min[t] < np.inf:
            break
        tile_min[t] = np.inf
        visits += 1
        r0 = (t // tiles_c) * tile
        c0 = (t % tiles_c) * tile
        r1 = min(r0 + tile, nr)
        c1 = min(c0 + tile, nc)
        n = 0
        # Pending cells: anywhere on the first visit (the starts), later only on the
        # tile's edge (cells improved from a neighbouring tile).
        for r in range(r0, r1):
            edge_row = r == r0 or r == r1 - 1
            # an inner row's edge cells: c0 and c1 - 1
            step = 1 if (edge_row or not seen[t]) else max(c1 - c0 - 1, 1)
            for c in range(c0, c1, step):
                v = r * nc + c
                if pending[v]:
                    pending[v] = False
                    keys, cells, n = _push(keys, cells, n, dist[v], v)
        seen[t] = True
        while n > 0:
            d, v, n = _pop(keys, cells, n)
            if d > dist[v]:
                continue  # an older, dearer entry
            r = v // nc
            c = v - r * nc
            here = np.float64(flat[v])
            for k in range(8):
                rr = r + _DR[k]
                cc = c + _DC[k]
                if rr < 0 or rr >= nr or cc < 0 or cc >= nc:
                    continue
                u = rr * nc + cc
                there = np.float64(flat[u])
                if not _passable(there):
                    continue
                nd = d + lengths[k] * 0.5 * (here + there)
                if nd < dist[u]:
                    dist[u] = nd
                    if r0 <= rr < r1 and c0 <= cc < c1:
                        keys, cells, n = _push(keys, cells, n, nd, u)
                    else:
                        pending[u] = True
                        tu = (rr // tile) * tiles_c + cc // tile
                        if nd < tile_min[tu]:
                            tile_min[tu] = nd
    return dist.reshape(nr, nc), visits
