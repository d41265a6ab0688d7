"""Tests for geo_dx.terrain: line of sight, viewshed union, coverage rasters."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS

from geo_dx import terrain
from geo_dx.config import TerrainConfig
from geo_dx.dem import DemGrid
from geo_dx.errors import InputError
from geo_dx.terrain import (
    ground_elevation,
    line_of_sight,
    viewshed_union,
    visible_pairs,
    write_coverage_raster,
)

UTM48 = CRS.from_epsg(32648)


def profile_dem(profile, *, cols: int, rows: int = 11, cell_m: float = 100.0) -> DemGrid:
    """A DEM whose elevation depends on x only: ``profile(x_of_cell_centre)``."""
    x = (np.arange(cols) + 0.5) * cell_m
    z = np.tile(np.array([profile(v) for v in x], dtype=float), (rows, 1))
    return DemGrid(z, Affine(cell_m, 0, 0, 0, -cell_m, rows * cell_m), UTM48)


def centre_y(dem: DemGrid) -> float:
    return dem.shape[0] * abs(dem.transform.e) / 2


def ridge(x: float) -> float:
    """Plain at 100 m with a 300 m ridge one cell wide at x = 2550."""
    return 300.0 if x == 2550.0 else 100.0


def mountain(x: float) -> float:
    """Plain at 100 m; a slope rises from x=3000 to a 600 m peak at 5000 and falls to 7000."""
    if x <= 3000:
        return 100.0
    if x <= 5000:
        return 100.0 + (x - 3000) * 0.25
    if x <= 7000:
        return 600.0 - (x - 5000) * 0.25
    return 100.0


def pairs(site: tuple[float, float], targets: list[tuple[float, float]]):
    return np.repeat(np.array([site], dtype=float), len(targets), axis=0), np.array(targets)


# --- line_of_sight --------------------------------------------------------------------


def test_ridge_blocks_a_village_the_radius_model_covers():
    dem = profile_dem(ridge, cols=60)
    y = centre_y(dem)
    a, b = pairs((1050.0, y), [(4050.0, y), (2050.0, y)])
    # 3 km apart, well within a 4g reach of 4 km: the radius model says covered
    assert math.dist(a[0], b[0]) < 4000
    # line from 130 m to 101.5 m passes x=2550 at about 125 m, far below the 300 m ridge
    assert line_of_sight(dem, a, 30.0, b, 1.5).tolist() == [False, True]


def test_facing_slope_is_covered_and_back_slope_is_not():
    dem = profile_dem(mountain, cols=90)
    y = centre_y(dem)
    a, b = pairs((1050.0, y), [(4050.0, y), (6050.0, y)])
    # facing slope: the ground rises (0.25) faster than the sight line (about 0.074)
    assert line_of_sight(dem, a, 30.0, b, 1.5).tolist() == [True, False]


def test_flat_earth_horizon_matches_the_radio_horizon_formula():
    dem = DemGrid(np.zeros((80, 80)), Affine(1000, 0, 0, 0, -1000, 80000), UTM48)
    h1, h2 = 30.0, 1.5
    horizon_m = 4.12e3 * (math.sqrt(h1) + math.sqrt(h2))  # ≈ 27.6 km
    site = (5500.0, 40500.0)
    a, b = pairs(
        site, [(site[0] + horizon_m - 1500, site[1]), (site[0] + horizon_m + 1500, site[1])]
    )
    assert line_of_sight(dem, a, h1, b, h2).tolist() == [True, False]
    # a taller antenna sees further: the formula for 60 m gives ≈ 36.97 km
    assert line_of_sight(dem, a[1:], 60.0, b[1:], h2).tolist() == [True]


def test_k_factor_changes_the_horizon():
    dem = DemGrid(np.zeros((80, 80)), Affine(1000, 0, 0, 0, -1000, 80000), UTM48)
    a, b = pairs((5500.0, 40500.0), [(5500.0 + 25000, 40500.0)])
    # with k = 1 (no refraction) the horizon shrinks to 3.57 (√30 + √1.5) ≈ 23.9 km
    assert line_of_sight(dem, a, 30.0, b, 1.5).tolist() == [True]
    assert line_of_sight(dem, a, 30.0, b, 1.5, config=TerrainConfig(k_factor=1.0)).tolist() == [
        False
    ]


def test_clearance_margin_blocks_a_grazing_path():
    dem = profile_dem(lambda x: 19.9 if x == 2050.0 else 0.0, cols=40)
    y = centre_y(dem)
    a, b = pairs((1050.0, y), [(3050.0, y)])
    # mid-path: line at 20 m, terrain 19.9 m + bulge 1000·1000/(2·4/3·6371 km) ≈ 0.06 m
    assert line_of_sight(dem, a, 20.0, b, 20.0).tolist() == [True]
    blocked = line_of_sight(dem, a, 20.0, b, 20.0, config=TerrainConfig(clearance_m=1.0))
    assert blocked.tolist() == [False]


def test_endpoints_off_the_dem_use_the_edge_and_unknown_terrain_does_not_block():
    dem = profile_dem(ridge, cols=60)
    y = centre_y(dem)
    # antenna 2 km west of the grid: ground taken from the edge (100 m); the ridge still blocks
    a, b = pairs((-2000.0, y), [(4050.0, y), (2050.0, y)])
    assert line_of_sight(dem, a, 30.0, b, 1.5).tolist() == [False, True]
    # a path running entirely north of the grid crosses no known terrain
    north = dem.shape[0] * 100.0 + 5000
    a, b = pairs((1050.0, north), [(4050.0, north)])
    assert line_of_sight(dem, a, 30.0, b, 1.5).tolist() == [True]
    # nodata between the ends does not block
    holes = profile_dem(ridge, cols=60)
    holes.elevation_m[:, 25] = np.nan
    a, b = pairs((1050.0, y), [(4050.0, y)])
    assert line_of_sight(holes, a, 30.0, b, 1.5).tolist() == [True]


def test_bad_inputs_raise():
    dem = profile_dem(ridge, cols=10)
    with pytest.raises(InputError, match="from_xy has 2 points but to_xy has 1"):
        line_of_sight(dem, np.zeros((2, 2)), 30.0, np.zeros((1, 2)), 1.5)
    with pytest.raises(InputError, match="from_height_m has 3 values for 2 points"):
        line_of_sight(dem, np.zeros((2, 2)), np.ones(3), np.zeros((2, 2)), 1.5)
    with pytest.raises(InputError, match="sample_step_m was 0"):
        line_of_sight(
            dem,
            np.zeros((1, 2)),
            1.0,
            np.ones((1, 2)),
            1.0,
            config=TerrainConfig(sample_step_m=0.0),
        )


def random_dem(seed: int, size: int = 40, cell_m: float = 100.0) -> DemGrid:
    """Smooth hills: a sum of Gaussian bumps (realistic at the cell scale)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    z = np.full((size, size), 500.0)
    for _ in range(8):
        cx, cy = rng.uniform(0, size, 2)
        s = rng.uniform(1.5, size / 4)
        z += rng.uniform(-150, 150) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * s * s))
    return DemGrid(z, Affine(cell_m, 0, 0, 0, -cell_m, size * cell_m), UTM48)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), chunk=st.sampled_from([50, 1 << 21]))
def test_batched_pairs_equal_one_pair_at_a_time(seed, chunk):
    dem = random_dem(seed)
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 4000, (30, 2))
    b = rng.uniform(0, 4000, (30, 2))
    heights = rng.uniform(5, 40, 30)
    old = terrain._CHUNK_SAMPLES
    terrain._CHUNK_SAMPLES = chunk  # small chunks exercise the grouping by path length
    try:
        batch = line_of_sight(dem, a, heights, b, 1.5)
    finally:
        terrain._CHUNK_SAMPLES = old
    single = [line_of_sight(dem, a[i : i + 1], heights[i], b[i : i + 1], 1.5)[0] for i in range(30)]
    assert batch.tolist() == single
    # symmetric heights make the path symmetric
    assert (
        line_of_sight(dem, a, 10.0, b, 10.0).tolist()
        == line_of_sight(dem, b, 10.0, a, 10.0).tolist()
    )


# --- viewshed_union -------------------------------------------------------------------


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
def test_viewshed_agrees_with_line_of_sight(seed, site, height, reach):
    dem = random_dem(seed)
    mask = viewshed_union(dem, np.array([site]), height, reach)
    xy = cell_centres(dem)
    dist = np.hypot(xy[:, 0] - site[0], xy[:, 1] - site[1])
    in_reach = dist <= reach
    assert not mask.ravel()[~in_reach].any()
    los = line_of_sight(dem, np.repeat([site], in_reach.sum(), axis=0), height, xy[in_reach], 1.5)
    agree = mask.ravel()[in_reach] == los
    # the sweep reads the horizon from rays, not the exact path: edge cells may differ
    assert agree.mean() >= 0.95, f"{(~agree).sum()} of {agree.size} cells disagree"
    assert agree.sum() >= agree.size - max(3, int(0.02 * agree.size))


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


# --- rasters and shares ----------------------------------------------------------------


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


def test_ground_elevation_clamps_to_the_edge():
    dem = DemGrid(np.array([[1.0, 2.0], [3.0, 4.0]]), Affine(100, 0, 0, 0, -100, 200), UTM48)
    z = ground_elevation(dem, np.array([[-500.0, 150.0], [50.0, 150.0], [900.0, -900.0]]))
    assert z.tolist() == [1.0, 1.0, 4.0]


def test_visible_pairs_combines_reach_and_line_of_sight():
    dem = profile_dem(ridge, cols=60)
    y = centre_y(dem)
    sites = np.array([[1050.0, y], [5050.0, y]])
    targets = np.array([[4050.0, y], [2050.0, y], [5550.0, y], [800.0, y]])
    # site 0 (reach 3.5 km): target 0 behind the ridge, 1 and 3 in view, 2 out of reach
    # site 1 (reach 900 m, NaN height = the 30 m default): only target 2 is within reach
    site_idx, target_idx = visible_pairs(
        dem, sites, np.array([30.0, np.nan]), np.array([3500.0, 900.0]), targets
    )
    assert sorted(zip(site_idx.tolist(), target_idx.tolist(), strict=True)) == [
        (0, 1),
        (0, 3),
        (1, 2),
    ]
    # the same pairs line_of_sight finds one by one
    assert not line_of_sight(dem, sites[:1], 30.0, targets[:1], 1.5)[0]
