"""Tests for geo_dx.dem: reading a DEM onto a metric grid, and sampling it."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS
from rasterio.transform import from_origin

from geo_dx.dem import DemGrid, read_dem
from geo_dx.errors import InputError

UTM48 = CRS.from_epsg(32648)


def grid_2x2() -> DemGrid:
    return DemGrid(np.array([[1.0, 2.0], [3.0, 4.0]]), Affine(100, 0, 0, 0, -100, 200), UTM48)


def test_sample_is_bilinear_between_cell_centres():
    dem = grid_2x2()
    # cell centres: (50, 150)=1, (150, 150)=2, (50, 50)=3, (150, 50)=4
    z = dem.sample(np.array([[50.0, 150.0], [100.0, 150.0], [100.0, 100.0], [150.0, 50.0]]))
    assert z.tolist() == [1.0, 1.5, 2.5, 4.0]
    # between the outer centre and the grid edge the edge value holds; beyond it, NaN
    assert dem.sample(np.array([[10.0, 190.0], [-1.0, 150.0]])).tolist()[0] == 1.0
    assert np.isnan(dem.sample(np.array([[-1.0, 150.0]]))[0])


def test_clamped_sample_takes_the_nearest_edge_cell():
    z = grid_2x2().sample(np.array([[-500.0, 150.0], [50.0, 150.0], [900.0, -900.0]]),
                          clamp=True)
    assert z.tolist() == [1.0, 1.0, 4.0]


def test_nodata_is_nan_and_rowcol_are_centre_coordinates():
    dem = DemGrid(np.array([[np.nan, 2.0]]), Affine(100, 0, 0, 0, -100, 100), UTM48)
    assert np.isnan(dem.sample(np.array([[50.0, 50.0]]))[0])
    rows, cols = dem.rowcol(np.array([[50.0, 50.0], [150.0, 50.0]]))
    assert rows.tolist() == [0.0, 0.0] and cols.tolist() == [0.0, 1.0]


@settings(max_examples=50)
@given(x=st.floats(0, 300), y=st.floats(0, 200))
def test_sample_xy_matches_sample_and_stays_within_the_cell_values(x, y):
    rng = np.random.default_rng(0)
    dem = DemGrid(rng.uniform(0, 100, (2, 3)), Affine(100, 0, 0, 0, -100, 200), UTM48)
    z = dem.sample(np.array([[x, y]]))[0]
    assert dem.sample_xy(np.array([x]), np.array([y]))[0] == z
    assert dem.elevation_m.min() - 1e-9 <= z <= dem.elevation_m.max() + 1e-9


def test_rotated_grid_is_refused():
    dem = DemGrid(np.zeros((2, 2)), Affine(100, 10, 0, 10, -100, 200), UTM48)
    with pytest.raises(InputError, match="rotated; warp it north-up"):
        dem.require_north_up()


def write_tif(path, data, *, crs, transform, nodata=None):
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1],
                       count=1, dtype="float32", crs=crs, transform=transform,
                       nodata=nodata) as dst:
        dst.write(data.astype("float32"), 1)
    return path


def test_read_dem_keeps_a_projected_grid_and_masks_nodata(tmp_path):
    data = np.array([[100.0, -9999.0], [300.0, 400.0]])
    path = write_tif(tmp_path / "dem.tif", data, crs=UTM48,
                     transform=from_origin(500_000, 2_400_000, 100, 100), nodata=-9999.0)
    dem = read_dem(path)
    assert dem.crs == UTM48 and dem.cell_size_m == 100.0 and dem.path == str(path)
    assert dem.elevation_m[0, 0] == 100.0 and np.isnan(dem.elevation_m[0, 1])


def test_read_dem_projects_a_geographic_grid_to_utm(tmp_path):
    data = np.full((20, 20), 800.0)
    path = write_tif(tmp_path / "dem_wgs84.tif", data, crs="EPSG:4326",
                     transform=from_origin(103.0, 21.5, 0.001, 0.001))
    dem = read_dem(path)
    assert dem.crs.to_epsg() == 32648  # 103 E is in UTM zone 48
    assert 90 < dem.cell_size_m < 120  # 0.001 degree is ~100 m here
    assert np.nanmax(dem.elevation_m) == pytest.approx(800.0)
    assert read_dem(path, crs="EPSG:3405").crs.to_epsg() == 3405  # the configured CRS wins


def test_read_dem_errors_name_the_file(tmp_path):
    bad = tmp_path / "not_a_dem.tif"
    bad.write_text("hello")
    with pytest.raises(InputError, match="not_a_dem.tif: cannot read the DEM"):
        read_dem(bad)
    no_crs = write_tif(tmp_path / "no_crs.tif", np.zeros((2, 2)), crs=None,
                       transform=from_origin(0, 200, 100, 100))
    with pytest.raises(InputError, match="no_crs.tif: the DEM has no CRS"):
        read_dem(no_crs)
