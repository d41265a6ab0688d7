"""Relief shading: hand-checkable slopes, a hill lit from the north-west, the PNG layer."""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import pytest
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pyproj import CRS, Transformer

from geo_dx.dem import DemGrid
from geo_dx.errors import InputError
from geo_dx.maps.relief import ReliefImage, hillshade, relief_image

SIN45 = math.sin(math.radians(45))


def test_flat_ground_gets_sin_of_the_light_altitude():
    lit = hillshade(np.full((5, 4), 300.0), cell_size_m=100.0, altitude_deg=30.0)
    assert lit == pytest.approx(np.full((5, 4), 0.5))


def test_slope_facing_the_light_is_fully_lit_and_the_opposite_slope_is_dark():
    # Rises 100 m per 100 m cell to the east: a 45° slope facing west.
    east = np.tile(np.arange(6) * 100.0, (4, 1))
    assert hillshade(east, cell_size_m=100.0, azimuth_deg=270.0) == pytest.approx(1.0)
    assert hillshade(east, cell_size_m=100.0, azimuth_deg=90.0) == pytest.approx(0.0)
    # Light from the north: the slope is lit like flat ground tilted sideways, cos 45° × sin 45°.
    assert hillshade(east, cell_size_m=100.0, azimuth_deg=0.0) == pytest.approx(0.5)


def test_rows_run_north_to_south():
    # Higher in later rows = higher to the south: the slope faces north.
    south = np.tile((np.arange(5) * 100.0)[:, None], (1, 3))
    assert hillshade(south, cell_size_m=100.0, azimuth_deg=0.0) == pytest.approx(1.0)
    assert hillshade(south, cell_size_m=100.0, azimuth_deg=180.0) == pytest.approx(0.0)


def test_cell_size_per_axis_and_z_factor():
    east = np.tile(np.arange(6) * 50.0, (4, 1))  # 50 m per 50 m cell = 45°
    assert hillshade(east, cell_size_m=(50.0, 999.0), azimuth_deg=270.0) == pytest.approx(1.0)
    # Half the rise, doubled: 45° again.
    half = east / 2
    assert hillshade(half, cell_size_m=50.0, azimuth_deg=270.0, z_factor=2.0) == pytest.approx(1.0)


def test_nodata_stays_nodata_and_bad_arguments_are_named():
    z = np.zeros((4, 4))
    z[1, 1] = np.nan
    lit = hillshade(z, cell_size_m=100.0)
    assert np.isnan(lit[1, 1]) and np.isnan(lit[0, 1]) and not np.isnan(lit[3, 3])
    with pytest.raises(InputError, match="cell_size_m must be > 0"):
        hillshade(z, cell_size_m=0.0)
    with pytest.raises(InputError, match="must be 2-D"):
        hillshade(np.zeros(4), cell_size_m=1.0)


@settings(max_examples=40)
@given(arrays(float, (6, 7), elements=st.floats(-500, 3000)), st.floats(-1000, 1000),
       st.floats(0, 360), st.floats(5, 90))
def test_shading_is_in_unit_range_and_ignores_absolute_height(z, shift, azimuth, altitude):
    a = hillshade(z, cell_size_m=90.0, azimuth_deg=azimuth, altitude_deg=altitude)
    b = hillshade(z + shift, cell_size_m=90.0, azimuth_deg=azimuth, altitude_deg=altitude)
    assert ((a >= 0) & (a <= 1)).all()
    assert a == pytest.approx(b, abs=1e-9)


def _hill_dem(cell_m: float = 100.0, size: int = 81) -> DemGrid:
    """A 1,000 m cone centred at about 21.4°N 103.0°E (UTM 48N), 8 km across."""
    crs = CRS.from_epsg(32648)
    cx, cy = Transformer.from_crs(4326, crs, always_xy=True).transform(103.0, 21.4)
    half = size * cell_m / 2
    rows, cols = np.mgrid[0:size, 0:size]
    x = cx - half + (cols + 0.5) * cell_m
    y = cy + half - (rows + 0.5) * cell_m
    z = np.clip(1000.0 - np.hypot(x - cx, y - cy) / 4.0, 0.0, None) + 200.0
    return DemGrid(z, Affine(cell_m, 0, cx - half, 0, -cell_m, cy + half), crs)


def _decode(uri: str) -> np.ndarray:
    from PIL import Image

    assert uri.startswith("data:image/png;base64,")
    img = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert img.mode == "P"
    return np.asarray(img)


def test_relief_image_lights_the_north_west_side_of_a_hill():
    img = relief_image(_hill_dem(), max_px=200, z_factor=1.0)
    (south, west), (north, east) = img.bounds_latlon
    assert south < 21.4 < north and west < 103.0 < east
    levels = img.levels
    rows, cols = levels.shape
    nw = levels[rows // 4, cols // 4]      # on the slope facing north-west: lit
    se = levels[3 * rows // 4, 3 * cols // 4]  # facing south-east: shadow
    assert nw > 12 and 0 < se <= 12
    # Flat ground around the hill is left clear, and the PNG round-trips.
    assert levels[1, 1] == 0
    assert (_decode(img.png_uri()) == levels).all()


def test_relief_image_respects_max_px_and_crops():
    dem = _hill_dem(cell_m=50.0, size=161)
    img = relief_image(dem, max_px=60)
    assert max(img.levels.shape) <= 60
    inner = img.crop((102.99, 21.39, 103.01, 21.41), pad_deg=0.0)
    assert isinstance(inner, ReliefImage)
    assert inner.levels.shape[0] < img.levels.shape[0]
    (s, w), (n, e) = inner.bounds_latlon
    assert s <= 21.39 + 1e-3 and n >= 21.41 - 1e-3 and w <= 102.99 + 1e-3 and e >= 103.01 - 1e-3
    assert img.crop((110.0, 10.0, 110.1, 10.1)) is None
    with pytest.raises(InputError, match="max_px"):
        relief_image(dem, max_px=1)
