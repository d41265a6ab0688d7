"""Tests for geo_dx.evidence: coverage rasters and measured speed tiles."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from shapely.geometry import Point, box

from geo_dx.config import MeasuredConfig
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.evidence import raster_evidence, read_speed_tiles, tile_evidence
from geo_dx.schema import TECHNOLOGY_ALIASES

WGS84 = "EPSG:4326"
UTM48 = "EPSG:32648"
#: A 10 x 10 raster of 0.01° cells with its top-left corner at 103.0°E, 21.4°N.
LON0, LAT0, CELL = 103.0, 21.4, 0.01


def write_raster(path, data, *, crs=WGS84, transform=None, nodata=None):
    transform = transform or Affine(CELL, 0, LON0, 0, -CELL, LAT0)
    profile = {
        "driver": "GTiff",
        "height": data.shape[0],
        "width": data.shape[1],
        "count": 1,
        "dtype": data.dtype,
        "crs": crs,
        "transform": transform,
        "nodata": nodata,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
    return path


def cell_centre(row: int, col: int) -> tuple[float, float]:
    return LON0 + (col + 0.5) * CELL, LAT0 - (row + 0.5) * CELL


def villages_at(cells: dict[str, tuple[int, int]]) -> gpd.GeoDataFrame:
    """Point villages at the centres of raster cells, given in UTM 48N."""
    points = [Point(*cell_centre(r, c)) for r, c in cells.values()]
    frame = gpd.GeoDataFrame({"village_id": list(cells)}, geometry=points, crs=WGS84)
    return frame.set_index("village_id", drop=False).to_crs(UTM48)


@pytest.fixture
def signal_tif(tmp_path):
    """Signal in dBm: -60 in column 2, -100 in column 5, -120 elsewhere; nodata 0 at (7, 7)."""
    data = np.full((10, 10), -120.0, dtype="float32")
    data[:, 2] = -60.0
    data[:, 5] = -100.0
    data[7, 7] = 0.0
    return write_raster(tmp_path / "signal.tif", data, nodata=0.0)


def test_raster_in_another_crs_samples_the_right_cells(signal_tif):
    villages = villages_at({"a": (3, 2), "b": (3, 3), "c": (8, 5), "d": (8, 4), "e": (0, 9)})
    ev = raster_evidence(villages, signal_tif, technology="4g", threshold=-105)
    assert ev.covered.to_dict() == {"a": True, "b": False, "c": True, "d": False, "e": False}
    assert ev.technology_class == "mobile"
    assert ev.source == "modelled"
    strict = raster_evidence(villages, signal_tif, technology="4g", threshold=-80)
    assert strict.covered[strict.covered].index.tolist() == ["a"]


def test_nodata_is_not_covered(signal_tif, tmp_path):
    villages = villages_at({"hole": (7, 7), "next": (7, 5)})
    # nodata 0 would pass a -105 threshold if it were read as a value
    ev = raster_evidence(villages, signal_tif, technology="4g", threshold=-105)
    assert ev.covered.to_dict() == {"hole": False, "next": True}
    mask = np.ones((10, 10), dtype="uint8")
    mask[7, 7] = 255
    mask[0, 0] = 0
    path = write_raster(tmp_path / "mask.tif", mask, nodata=255)
    villages = villages_at({"hole": (7, 7), "zero": (0, 0), "one": (5, 5)})
    ev = raster_evidence(villages, path, technology="fibre")
    assert ev.covered.to_dict() == {"hole": False, "zero": False, "one": True}
    assert ev.technology_class == "fibre"


def test_villages_off_the_raster_are_not_covered(signal_tif):
    villages = villages_at({"in": (3, 2), "out": (3, 12)})
    ev = raster_evidence(villages, signal_tif, technology="3g", threshold=-105)
    assert ev.covered.to_dict() == {"in": True, "out": False}


def test_polygon_village_covered_by_any_cell_inside(tmp_path):
    data = np.zeros((10, 10), dtype="uint8")
    data[2, 2] = data[2, 3] = data[3, 2] = 1  # three of the 2×2 block rows 2-3, cols 2-3
    path = write_raster(tmp_path / "mask.tif", data)
    lon, lat = LON0 + 2 * CELL, LAT0 - 2 * CELL
    polygons = [
        box(lon, lat - 2 * CELL, lon + 2 * CELL, lat),  # exactly the 2×2 block
        box(lon + 5 * CELL, lat - 2 * CELL, lon + 7 * CELL, lat),  # no covered cell
        box(
            lon + 0.2 * CELL, lat - 0.6 * CELL, lon + 0.6 * CELL, lat - 0.2 * CELL
        ),  # inside (2, 2)
    ]
    villages = gpd.GeoDataFrame(
        {"village_id": ["block", "dark", "tiny"]}, geometry=polygons, crs=WGS84
    ).to_crs(UTM48)
    ev = raster_evidence(villages, path, technology="5g")
    # the block holds covered cells, the dark box none; the tiny box is inside cell (2, 2)
    assert ev.covered.tolist() == [True, False, True]


def test_raster_not_overlapping_names_file_and_extents(tmp_path):
    path = write_raster(
        tmp_path / "far.tif",
        np.ones((10, 10), dtype="uint8"),
        transform=Affine(CELL, 0, 10.0, 0, -CELL, 50.0),
    )
    villages = villages_at({"a": (3, 2)})
    with pytest.raises(InputError, match=r"far\.tif: the coverage raster does not overlap") as info:
        raster_evidence(villages, path, technology="4g")
    message = str(info.value)
    assert "Raster extent (10, 49.9, 10.1, 50)" in message
    assert "EPSG:32648" in message and "gdal_edit.py -a_srs" in message


def test_raster_technology_and_threshold_checks(signal_tif):
    villages = villages_at({"a": (3, 2)})
    with pytest.raises(InputError, match=r"technology was '2g'; allowed: fibre, 5g, 4g, 3g"):
        raster_evidence(villages, signal_tif, technology="2g", threshold=-105)
    assert (
        raster_evidence(villages, signal_tif, technology="LTE", threshold=-105).technology_class
        == "mobile"
    )
    with pytest.raises(InputError, match="look like signal strength"):
        raster_evidence(villages, signal_tif, technology="4g")
    # Rasters accept every alias coverage points accept (but 2g is not broadband).
    for alias, tech in TECHNOLOGY_ALIASES.items():
        if tech == "2g":
            with pytest.raises(InputError, match="2g is not broadband"):
                raster_evidence(villages, signal_tif, technology=alias.upper(), threshold=-105)
        else:
            ev = raster_evidence(villages, signal_tif, technology=alias.upper(), threshold=-105)
            assert ev.technology_class == ("fibre" if tech == "fibre" else "mobile"), alias
    with pytest.raises(InputError, match="source was 'guess'"):
        raster_evidence(villages, signal_tif, technology="4g", threshold=-105, source="guess")
    with pytest.raises(InputError, match="missing.tif: coverage raster not found"):
        raster_evidence(villages, signal_tif.with_name("missing.tif"), technology="4g")
    broken = signal_tif.with_name("broken.tif")
    broken.write_text("not a raster")
    with pytest.raises(InputError, match="broken.tif: cannot read the coverage raster"):
        raster_evidence(villages, broken, technology="4g")


# --- speed tiles -----------------------------------------------------------------------


def tiles_frame() -> gpd.GeoDataFrame:
    """Four 0.01° tiles in a row from 103.0°E: fast, fast with 2 tests, slow, slow upload."""
    return gpd.GeoDataFrame(
        {
            "quadkey": ["a", "b", "c", "d"],
            "avg_d_kbps": [30000, 30000, 2000, 30000],
            "avg_u_kbps": [5000, 5000, 500, 500],
            "avg_lat_ms": [30, 30, 80, 30],
            "tests": [10, 2, 10, 10],
            "devices": [5, 1, 5, 5],
        },
        geometry=[box(103.0 + i * 0.01, 21.3, 103.01 + i * 0.01, 21.31) for i in range(4)],
        crs=WGS84,
    )


def tile_villages() -> gpd.GeoDataFrame:
    lons = [103.005, 103.015, 103.025, 103.035, 103.2]
    return (
        gpd.GeoDataFrame(
            {"village_id": ["fast", "few", "slow", "up", "none"]},
            geometry=[Point(x, 21.305) for x in lons],
            crs=WGS84,
        )
        .set_index("village_id")
        .to_crs(UTM48)
    )


def test_mobile_tiles_need_speed_and_tests():
    with pytest.warns(GeoDxWarning, match="1 mobile speed tiles have fewer than 3 tests"):
        ev = tile_evidence(tile_villages(), tiles_frame(), kind="mobile")
    assert ev.covered.to_dict() == {
        "fast": True,
        "few": False,
        "slow": False,
        "up": False,
        "none": False,
    }
    assert ev.technology_class == "mobile" and ev.source == "measured"
    assert "1 tiles with < 3 tests ignored" in ev.label


def test_fixed_tiles_count_as_fibre_only_when_configured():
    tiles = tiles_frame()
    tiles.loc[0, "avg_d_kbps"] = 20000  # below the 25 Mbit/s fixed threshold
    tiles.loc[1, "tests"] = 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no tile is ignored: no warning
        ev = tile_evidence(tile_villages(), tiles, kind="fixed")
    assert ev.covered[ev.covered].index.tolist() == ["few"]
    assert ev.technology_class == "fibre"
    other = tile_evidence(
        tile_villages(), tiles, kind="fixed", config=MeasuredConfig(fixed_counts_as_fibre=False)
    )
    assert other.technology_class == "fixed"
    with pytest.raises(InputError, match="kind was 'wifi'; allowed: mobile, fixed"):
        tile_evidence(tile_villages(), tiles, kind="wifi")


def test_polygon_villages_use_their_representative_point():
    villages = gpd.GeoDataFrame(
        {"village_id": ["v"]}, geometry=[box(103.001, 21.301, 103.004, 21.304)], crs=WGS84
    ).to_crs(UTM48)
    with pytest.warns(GeoDxWarning):
        ev = tile_evidence(villages, tiles_frame(), kind="mobile")
    assert ev.covered.tolist() == [True]


def test_read_speed_tiles_formats(tmp_path):
    tiles = tiles_frame()
    tiles.to_parquet(tmp_path / "tiles.parquet")
    tiles.to_file(tmp_path / "tiles.gpkg")
    for name in ("tiles.parquet", "tiles.gpkg"):
        read = read_speed_tiles(tmp_path / name)
        assert read["avg_d_kbps"].tolist() == tiles["avg_d_kbps"].tolist()
        assert read.crs.to_epsg() == 4326
    # Ookla's own files: plain Parquet, WKT polygons in `tile`
    plain = pd.DataFrame(tiles.drop(columns="geometry"))
    plain["tile"] = tiles.geometry.to_wkt()
    plain.to_parquet(tmp_path / "ookla.parquet")
    read = read_speed_tiles(tmp_path / "ookla.parquet")
    assert read.crs.to_epsg() == 4326
    assert read.geometry.iloc[2].equals_exact(tiles.geometry.iloc[2], 1e-12)


def test_read_speed_tiles_errors(tmp_path):
    tiles = tiles_frame()
    tiles.drop(columns="avg_u_kbps").to_file(tmp_path / "noup.gpkg")
    with pytest.raises(InputError, match=r"noup\.gpkg: speed tiles lack column 'avg_u_kbps'"):
        read_speed_tiles(tmp_path / "noup.gpkg")
    tiles.set_crs(None, allow_override=True).to_file(tmp_path / "nocrs.gpkg")
    with pytest.raises(InputError, match=r"nocrs\.gpkg: speed tiles have no CRS"):
        read_speed_tiles(tmp_path / "nocrs.gpkg")
    with pytest.raises(InputError, match="not found"):
        read_speed_tiles(tmp_path / "missing.parquet")
