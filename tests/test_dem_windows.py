"""DEM read by windows in float32, coarsened for overlays and travel times."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pyproj import CRS

from geo_dx.config import RemotenessConfig
from geo_dx.dem import DemGrid, read_dem
from geo_dx.remoteness import _terrain_hours, friction_h_per_m

UTM48N = CRS.from_epsg(32648)


def _write(path, data, transform, nodata=None, crs="EPSG:32648"):
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0],
                       count=1, dtype=data.dtype, crs=crs, transform=transform,
                       nodata=nodata, tiled=True, blockxsize=16, blockysize=16) as dst:
        dst.write(data, 1)


def test_read_dem_reads_only_the_window_as_float32(tmp_path):
    data = np.arange(100 * 80, dtype=np.int16).reshape(100, 80)
    data[50, 40] = -9999
    transform = Affine(30, 0, 500_000, 0, -30, 2_400_000)
    _write(tmp_path / "dem.tif", data, transform, nodata=-9999)
    full = read_dem(tmp_path / "dem.tif")
    assert full.elevation_m.dtype == np.float32 and full.shape == (100, 80)
    # columns 10..29 and rows 40..59 (x 500 300..500 900, y 2 398 200..2 398 800)
    part = read_dem(tmp_path / "dem.tif", bounds=(500_330, 2_398_230, 500_870, 2_398_770),
                    margin_m=20)
    assert part.shape == (20, 20)
    assert part.transform == Affine(30, 0, 500_300, 0, -30, 2_398_800)
    np.testing.assert_array_equal(part.elevation_m, full.elevation_m[40:60, 10:30])
    assert np.isnan(full.elevation_m[50, 40])
    np.testing.assert_array_equal(full.elevation_m[~np.isnan(full.elevation_m)],
                                  data[data != -9999].astype(np.float32))


def test_read_dem_window_of_a_geographic_dem_covers_the_bounds(tmp_path):
    data = np.full((200, 200), 100, dtype=np.int16)
    transform = Affine(0.001, 0, 103.0, 0, -0.001, 21.5)
    _write(tmp_path / "dem.tif", data, transform, crs="EPSG:4326")
    bounds = (300_000.0, 2_362_000.0, 305_000.0, 2_367_000.0)  # in UTM 48N, inside the DEM
    dem = read_dem(tmp_path / "dem.tif", crs="EPSG:32648", bounds=bounds)
    left, top = dem.transform.c, dem.transform.f
    right = left + dem.shape[1] * dem.transform.a
    bottom = top + dem.shape[0] * dem.transform.e
    assert left <= bounds[0] and bottom <= bounds[1] and right >= bounds[2] and top >= bounds[3]
    assert dem.shape[0] * dem.shape[1] < 0.2 * 200 * 200 * 1.2  # far less than the whole file
    assert np.nanmin(dem.sample(np.array([[302_000.0, 2_364_000.0]]))) == 100


@settings(max_examples=50, deadline=None)
@given(
    grid=arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(1, 12)),
                elements=st.floats(-100, 3000) | st.just(np.nan)),
    factor=st.integers(1, 5),
)
def test_coarsened_is_the_block_mean_of_cells_with_data(grid, factor):
    dem = DemGrid(grid, Affine(30, 0, 0, 0, -30, 0), UTM48N)
    coarse = dem.coarsened(30 * factor + 5)
    rows, cols = -(-grid.shape[0] // factor), -(-grid.shape[1] // factor)
    if factor == 1:
        assert coarse is dem
        return
    assert coarse.shape == (rows, cols) and coarse.cell_size_m == 30 * factor
    for r in range(rows):
        for c in range(cols):
            block = grid[r * factor:(r + 1) * factor, c * factor:(c + 1) * factor]
            expected = np.nanmean(block) if np.isfinite(block).any() else np.nan
            np.testing.assert_allclose(coarse.elevation_m[r, c], expected, rtol=1e-5,
                                       atol=1e-3)


def test_travel_search_stopped_at_the_villages_equals_the_full_search():
    from skimage.graph import MCP_Geometric

    rng = np.random.default_rng(3)
    elevation = np.cumsum(rng.normal(0, 20, (60, 70)), axis=0)
    dem = DemGrid(elevation, Affine(100, 0, 500_000, 0, -100, 2_400_000), UTM48N)
    villages = np.column_stack([rng.uniform(500_100, 506_900, 25),
                                rng.uniform(2_394_100, 2_399_900, 25)])
    centres = np.array([[503_050.0, 2_397_050.0], [500_550.0, 2_394_550.0]])
    config = RemotenessConfig()
    got = _terrain_hours(dem, villages, centres, roads=None, config=config)
    cost = friction_h_per_m(dem, config=config)
    full, _ = MCP_Geometric(cost, fully_connected=True, sampling=(100, 100)).find_costs(
        [(29, 30), (54, 5)])
    rows, cols = dem.rowcol(villages)
    expected = full[np.rint(rows).astype(int), np.rint(cols).astype(int)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_travel_time_runs_on_a_coarsened_grid_for_a_fine_dem():
    flat = DemGrid(np.zeros((300, 300), dtype=np.float32),
                   Affine(30, 0, 500_000, 0, -30, 2_409_000), UTM48N)
    villages = np.array([[504_515.0, 2_404_485.0]])
    centres = np.array([[500_015.0, 2_404_485.0]])
    hours = _terrain_hours(flat, villages, centres, roads=None, config=RemotenessConfig(),
                           max_cell_m=100)
    # 4.5 km east at 4 km/h on a 90 m grid: cell centres 4,500 m apart
    assert hours[0] == pytest.approx(4.5 / 4.0, rel=0.03)
