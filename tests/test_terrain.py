"""Tests for geo_dx.signal.terrain: line of sight between antennas and receivers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS

from geo_dx.config import TerrainConfig
from geo_dx.dem import DemGrid
from geo_dx.errors import InputError
from geo_dx.signal import terrain
from geo_dx.signal.terrain import line_of_sight, visible_pairs

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
