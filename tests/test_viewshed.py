"""Tests for geo_dx.signal.viewshed: the terrain coverage raster (radial sweep) and its file."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
from affine import Affine
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pyproj import CRS

from geo_dx.dem import DemGrid
from geo_dx.errors import InputError
from geo_dx.signal.terrain import line_of_sight
from geo_dx.signal.viewshed import viewshed_union, write_coverage_raster
from tests.test_terrain import UTM48, centre_y, profile_dem, random_dem, ridge


def cell_centres(dem: DemGrid) -> np.ndarray:
    rows, cols = np.mgrid[0 : dem.shape[0], 0 : dem.shape[1]]
    tf = dem.transform
    return np.column_stack([tf.c + (cols.ravel() + 0.5) * tf.a, tf.f + (rows.ravel() + 0.5) * tf.e])


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    site=st.tuples(st.floats(500, 3500), st.floats(500, 3500)),
    height=st.floats(2, 60),
    reach=st.floats(800, 2500),
)
# Once failed a count bound (5 of 207 cells differ, 4 were allowed); all 5 are edge cells.
@example(seed=521, site=(798.0, 1410.0), height=2.0, reach=800.0)
def test_viewshed_agrees_with_line_of_sight(seed, site, height, reach):
    dem = random_dem(seed)
    mask = viewshed_union(dem, np.array([site]), height, reach)
    xy = cell_centres(dem)
    dist = np.hypot(xy[:, 0] - site[0], xy[:, 1] - site[1])
    in_reach = dist <= reach
    assert not mask.ravel()[~in_reach].any()
    los = line_of_sight(dem, np.repeat([site], in_reach.sum(), axis=0), height, xy[in_reach], 1.5)
    agree = mask.ravel()[in_reach] == los
    assert agree.mean() >= 0.95, f"{(~agree).sum()} of {agree.size} cells disagree"
    # The sweep reads the terrain at most a cell to the side of a cell's own path and at
    # multiples of the step (line_of_sight: the path's own spacing), so the two can only
    # disagree where visibility changes within one cell: on the edge of either viewshed.
    sight = np.zeros(dem.shape, dtype=bool)
    sight.ravel()[np.flatnonzero(in_reach)] = los
    reach_grid = in_reach.reshape(dem.shape)
    for r, c in np.argwhere(reach_grid & (mask != sight)):
        near = (slice(max(r - 1, 0), r + 2), slice(max(c - 1, 0), c + 2))
        inside = reach_grid[near]
        on_edge = (sight[near][inside] != sight[r, c]).any() or (
            mask[near][inside] != mask[r, c]).any()
        assert on_edge, f"cell ({r}, {c}) disagrees away from any visibility edge"


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_viewshed_union_is_the_union_of_single_sites(seed):
    dem = random_dem(seed)
    rng = np.random.default_rng(seed)
    sites = rng.uniform(0, 4000, (3, 2))
    heights = rng.uniform(10, 40, 3)
    reach = rng.uniform(500, 2000, 3)
    union = viewshed_union(dem, sites, heights, reach)
    singles = [viewshed_union(dem, sites[i : i + 1], heights[i], reach[i]) for i in range(3)]
    assert np.array_equal(union, np.logical_or.reduce(singles))


def test_viewshed_union_over_forked_processes_equals_one_process(monkeypatch):
    """Many sites are swept by one forked process per core: the same mask as in turn."""
    from geo_dx.signal import viewshed
    dem = random_dem(7)
    rng = np.random.default_rng(7)
    sites = rng.uniform(0, 4000, (9, 2))
    heights = rng.uniform(10, 40, 9)
    reach = rng.uniform(500, 2000, 9)
    alone = viewshed_union(dem, sites, heights, reach)
    real, jobs_seen = viewshed.fork_map, []

    def spy(func, shared, jobs, **kwargs):
        jobs_seen.append(len(jobs))
        return real(func, shared, jobs, **kwargs)

    monkeypatch.setattr(viewshed, "_PARALLEL_MIN_SITES", 2)
    monkeypatch.setattr(viewshed, "fork_map", spy)
    spread = viewshed_union(dem, sites, heights, reach)
    assert jobs_seen == [viewshed.usable_cores()]
    assert np.array_equal(spread, alone) and alone.any() and not alone.all()


def test_viewshed_shadow_behind_a_ridge():
    dem = profile_dem(ridge, cols=60, rows=41)
    y = centre_y(dem) + 50  # a cell centre row
    mask = viewshed_union(dem, np.array([[1050.0, y]]), 30.0, 4000.0)
    row = int((dem.transform.f - y) // 100)
    covered_x = (np.flatnonzero(mask[row]) + 0.5) * 100
    assert covered_x.min() == 50.0  # the plain west of the site, all within reach
    assert covered_x.max() == 2550.0  # up to the ridge top, nothing in its shadow
    assert not mask[:, 26:].any()


def test_viewshed_horizon_on_flat_ground():
    dem = DemGrid(np.zeros((80, 80)), Affine(1000, 0, 0, 0, -1000, 80000), UTM48)
    site = np.array([40500.0, 40500.0])
    mask = viewshed_union(dem, site[None], 30.0, 39000.0)
    dist = np.hypot(*(cell_centres(dem) - site).T).reshape(dem.shape)
    horizon_m = 4.12e3 * (math.sqrt(30.0) + math.sqrt(1.5))
    assert mask[dist <= horizon_m - 1500].all()
    assert not mask[dist >= horizon_m + 1500].any()


def test_viewshed_plain_radius_on_flat_small_area():
    dem = DemGrid(np.zeros((21, 21)), Affine(100, 0, 0, 0, -100, 2100), UTM48)
    mask = viewshed_union(dem, np.array([[1050.0, 1050.0]]), 30.0, 500.0)
    dist = np.hypot(*(cell_centres(dem) - [1050.0, 1050.0]).T).reshape(dem.shape)
    assert np.array_equal(mask, dist <= 500.0)


def test_viewshed_site_off_grid_and_bad_reach():
    dem = DemGrid(np.zeros((10, 10)), Affine(100, 0, 0, 0, -100, 1000), UTM48)
    assert not viewshed_union(dem, np.array([[50_000.0, 50_000.0]]), 30.0, 500.0).any()
    with pytest.raises(InputError, match="reach_m must be finite and >= 0"):
        viewshed_union(dem, np.array([[500.0, 500.0]]), 30.0, -1.0)


def test_write_coverage_raster_round_trip(tmp_path):
    dem = DemGrid(np.zeros((4, 5)), Affine(100, 0, 500_000, 0, -100, 2_400_000), UTM48)
    mask = np.zeros((4, 5), dtype=bool)
    mask[1, 2] = mask[3, 4] = True
    path = write_coverage_raster(tmp_path / "out" / "coverage_mobile.tif", dem, mask)
    with rasterio.open(path) as src:
        assert src.dtypes[0] == "uint8"
        assert src.transform == dem.transform
        assert CRS(src.crs) == UTM48
        assert src.compression.name.lower() == "deflate"
        assert np.array_equal(src.read(1), mask.astype(np.uint8))
    assert list(path.parent.iterdir()) == [path]  # no temporary left behind
    with pytest.raises(InputError, match="mask shape"):
        write_coverage_raster(tmp_path / "bad.tif", dem, mask[:2])
