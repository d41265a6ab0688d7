"""The tiled least-cost search equals scikit-image's MCP_Geometric and hand-computed paths."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from geo_dx.least_cost import compiled, cumulative_cost

needs_numba = pytest.mark.skipif(not compiled(), reason="numba is not installed (dev extra)")


@pytest.fixture(params=[False, pytest.param(True, marks=needs_numba)],
                ids=["scikit-image", "compiled"])
def search(request):
    """cumulative_cost through scikit-image, then through the compiled tiled search."""
    def run(cost, starts, **kwargs):
        return cumulative_cost(cost, starts, use_compiled=request.param, **kwargs)
    return run


def test_hand_computed_straight_diagonal_and_detour(search):
    # 3 x 3 grid of cost 1 with 10 m x 20 m cells; start in the top-left corner.
    cost = np.ones((3, 3))
    out = search(cost, [(0, 0)], sampling=(10.0, 20.0), tile_cells=2)
    diag = math.hypot(10.0, 20.0)
    assert out[0, 1] == pytest.approx(20.0)
    assert out[1, 0] == pytest.approx(10.0)
    assert out[1, 1] == pytest.approx(diag)
    assert out[2, 2] == pytest.approx(2 * diag)
    assert out[2, 1] == pytest.approx(diag + 10.0)
    # A wall (negative, inf, NaN) down the middle column except the bottom cell.
    cost[0, 1], cost[1, 1] = -1.0, np.inf
    out = search(cost, [(0, 0)], sampling=(1.0, 1.0), tile_cells=2)
    assert np.isinf(out[0, 1]) and np.isinf(out[1, 1])
    # round the wall: (0,0) -> (1,0) -> (2,1) -> (1,2) -> (0,2)
    assert out[0, 2] == pytest.approx(1.0 + 2 * math.sqrt(2) + 1.0)
    cost[2, 1] = math.nan
    assert np.isinf(search(cost, [(0, 0)], tile_cells=2)[:, 2]).all()


def test_cells_weigh_by_the_mean_of_both_costs(search):
    cost = np.array([[1.0, 3.0, 5.0]], dtype=np.float32)
    out = search(cost, [(0, 2)], sampling=(1.0, 100.0))
    assert out.tolist() == [[600.0, 400.0, 0.0]]  # 100 x (5+3)/2, then + 100 x (3+1)/2


def test_starts_outside_the_grid_or_on_walls_are_ignored(search):
    cost = np.ones((2, 2))
    cost[0, 0] = -1
    assert np.isinf(search(cost, [(0, 0), (5, 5), (-1, 0)])).all()
    assert np.isinf(search(cost, np.zeros((0, 2), dtype=int))).all()
    out = search(cost, [(0, 0), (1, 1)])
    assert out[1, 1] == 0 and np.isinf(out[0, 0])


def test_not_a_grid_is_refused():
    with pytest.raises(ValueError, match="2-D"):
        cumulative_cost(np.ones(4), [(0, 0)])


_costs = st.one_of(
    st.floats(0.01, 10.0),
    st.sampled_from([math.inf, -1.0, math.nan, 0.0]),
)


@needs_numba
@given(
    cost=st.integers(1, 14).flatmap(lambda r: st.integers(1, 14).flatmap(
        lambda c: arrays(np.float64, (r, c), elements=_costs))),
    starts=st.lists(st.tuples(st.integers(-1, 14), st.integers(-1, 14)), min_size=1,
                    max_size=4),
    tile=st.integers(2, 6),
    sampling=st.tuples(st.floats(0.5, 100.0), st.floats(0.5, 100.0)),
    single=st.booleans(),
)
@settings(max_examples=300)
def test_equals_scikit_image_mcp_geometric(cost, starts, tile, sampling, single):
    """Any grid, walls, starts and tile size (tiles of 2-6 cells: many tile hand-overs)."""
    if single:
        cost = cost.astype(np.float32)
    mine = cumulative_cost(cost, starts, sampling=sampling, tile_cells=tile, use_compiled=True)
    ref = cumulative_cost(cost, starts, sampling=sampling, use_compiled=False)
    assert mine.shape == cost.shape and mine.dtype == np.float64
    assert np.array_equal(np.isinf(mine), np.isinf(ref))
    finite = np.isfinite(ref)
    np.testing.assert_allclose(mine[finite], ref[finite], rtol=1e-12, atol=0)


@needs_numba
def test_equals_scikit_image_on_a_grid_of_many_tiles():
    rng = np.random.default_rng(3)
    cost = (rng.random((300, 420)) + 0.2).astype(np.float32)
    cost[rng.random(cost.shape) < 0.05] = np.inf
    starts = rng.integers(0, 300, (6, 2))
    mine = cumulative_cost(cost, starts, sampling=(90.0, 90.0), tile_cells=32)
    ref = cumulative_cost(cost, starts, sampling=(90.0, 90.0), use_compiled=False)
    assert np.array_equal(np.isinf(mine), np.isinf(ref))
    np.testing.assert_allclose(mine[np.isfinite(ref)], ref[np.isfinite(ref)], rtol=1e-12)
