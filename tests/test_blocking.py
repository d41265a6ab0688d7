"""Why no mobile: the blocking site and the obstacle, on hand-built ridges."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS, Transformer
from shapely.geometry import Point

from geo_dx.config import TerrainConfig
from geo_dx.dem import DemGrid
from geo_dx.i18n import translator
from geo_dx.signal.blocking import BLOCKING_COLUMNS, blocked_sentences, terrain_blocking
from geo_dx.signal.terrain import highest_obstruction, line_of_sight

UTM = CRS.from_epsg(32648)
X0, Y = 400_000.0, 2_400_500.0  # every path runs east-west along y = Y


def _dem(profile: np.ndarray, rows: int = 11) -> DemGrid:
    """Cells of 100 m with centres at X0 + 100 k; every row the same east-west profile."""
    z = np.tile(np.asarray(profile, dtype=float), (rows, 1))
    return DemGrid(z, Affine(100, 0, X0 - 50, 0, -100, Y + 550), UTM)


def _ridge_profile() -> np.ndarray:
    """1,000 m ground with a ridge whose top (1,720 m) is 3 km east of X0."""
    x = np.arange(130) * 100.0
    return 1000.0 + np.clip(720.0 - np.abs(x - 3000.0) * 1.44, 0.0, None)


def _xy(*xs: float) -> np.ndarray:
    return np.array([[X0 + x, Y] for x in xs])


def test_obstacle_is_the_ridge_top_with_its_elevation() -> None:
    dem = _dem(_ridge_profile())
    top = highest_obstruction(dem, _xy(1000.0), 30.0, _xy(4600.0), 1.5)
    assert top.x[0] == pytest.approx(X0 + 3000.0) and top.y[0] == pytest.approx(Y)
    assert top.elevation_m[0] == pytest.approx(1720.0)
    assert top.distance_to_m[0] == pytest.approx(1600.0)
    # the line runs from 1,030 m to 1,001.5 m: at 2 km along it stands 1,030 - 28.5 * 20/36
    line = 1030.0 - 28.5 * 2000.0 / 3600.0
    bulge = 2000.0 * 1600.0 / (2 * 4.0 / 3.0 * 6_371_000.0)
    assert top.excess_m[0] == pytest.approx(1720.0 + bulge - line)


def test_obstacle_is_the_point_highest_above_the_line_not_the_highest_ground() -> None:
    profile = np.zeros(60)
    profile[0] = 2000.0  # the site stands on a 2,000 m peak at x = 0
    profile[10] = 1500.0  # ridge A: higher ground, but below the falling line of sight
    profile[40] = 900.0  # ridge B: lower, but far above the line near the village
    dem = _dem(profile)
    top = highest_obstruction(dem, _xy(0.0), 30.0, _xy(5000.0), 1.5)
    assert top.x[0] == pytest.approx(X0 + 4000.0)
    assert top.elevation_m[0] == pytest.approx(900.0)
    assert top.distance_to_m[0] == pytest.approx(1000.0)
    lower = profile.copy()
    lower[40] = 0.0
    without_b = highest_obstruction(_dem(lower), _xy(0.0), 30.0, _xy(5000.0), 1.5)
    # A, 1,500 m high, stays 124 m under the line (1,624 m there): the path is clear
    assert without_b.excess_m[0] < 0
    assert line_of_sight(_dem(lower), _xy(0.0), 30.0, _xy(5000.0), 1.5)[0]


def test_short_or_unknown_paths_have_no_obstacle() -> None:
    profile = _ridge_profile()
    profile[:20] = np.nan  # nodata under the site: its elevation is unknown
    dem = _dem(profile)
    top = highest_obstruction(dem, _xy(500.0, 4000.0), 30.0, _xy(4600.0, 4050.0), 1.5)
    assert np.isnan(top.excess_m).all() and np.isnan(top.elevation_m).all()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    heights=st.lists(st.floats(0, 800, allow_nan=False), min_size=40, max_size=40),
    ends=st.lists(st.tuples(st.floats(0, 3900), st.floats(0, 3900)), min_size=1, max_size=6),
    antenna=st.floats(0, 60),
)
def test_obstacle_agrees_with_line_of_sight_and_a_brute_force_profile(heights, ends, antenna):
    dem = _dem(np.array(heights))
    config = TerrainConfig()
    a = _xy(*(e[0] for e in ends))
    b = _xy(*(e[1] for e in ends))
    top = highest_obstruction(dem, a, antenna, b, 1.5, config=config)
    clear = line_of_sight(dem, a, antenna, b, 1.5, config=config)
    blocked = np.nan_to_num(top.excess_m, nan=-1.0) > 0
    np.testing.assert_array_equal(blocked, ~clear)
    two_kr = 2 * config.k_factor * 6_371_000.0
    for i in range(len(a)):  # brute force: every interior sample, one at a time
        dist = abs(b[i, 0] - a[i, 0])
        n = max(int(np.ceil(dist / 100.0)) - 1, 0)
        za = dem.sample(a[i], clamp=True)[0] + antenna
        zb = dem.sample(b[i], clamp=True)[0] + 1.5
        samples = {}  # distance from the village -> excess above the line
        for j in range(1, n + 1):
            t = j / (n + 1)
            p = a[i] + t * (b[i] - a[i])
            samples[(1 - t) * dist] = dem.sample(p, clamp=True)[0] + t * (1 - t) * dist**2 / \
                two_kr - (za + t * (zb - za))
        known = {d: e for d, e in samples.items() if not np.isnan(e)}
        if not known:
            assert np.isnan(top.excess_m[i])
            continue
        assert top.excess_m[i] == pytest.approx(max(known.values()), abs=1e-6)
        at = min(known, key=lambda d: abs(d - top.distance_to_m[i]))
        assert at == pytest.approx(top.distance_to_m[i], abs=1e-6)  # a real sample...
        assert known[at] == pytest.approx(top.excess_m[i], abs=1e-6)  # ...the highest one


def _villages() -> gpd.GeoDataFrame:
    xs = {"blocked": 4600.0, "covered": 2000.0, "far": 11900.0, "clear": 1500.0}
    return gpd.GeoDataFrame(
        {"village_id": list(xs), "has_mobile_broadband": [False, True, False, False]},
        geometry=[Point(X0 + x, Y) for x in xs.values()], crs=UTM,
    ).set_index(pd.Index([10, 11, 12, 13]))


def _sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"site_id": ["S1", "S2", "F1", "G1"], "technology": ["4g", "3g", "fibre", "2g"],
         "kind": ["site", "site", "node", "site"], "reach_m": [5000.0, 6000.0, 9000.0, 9000.0],
         "antenna_height_m": [30.0, np.nan, np.nan, 30.0]},
        geometry=[Point(X0 + 1000.0, Y), Point(X0 + 200.0, Y), Point(X0 + 4000.0, Y),
                  Point(X0 + 4200.0, Y)],
        crs=UTM,
    ).to_crs(4326)  # any CRS: measured on the DEM's grid


def test_village_names_its_nearest_blocked_site_and_the_ridge() -> None:
    blocked = terrain_blocking(_villages().to_crs(4326), _sites(), _dem(_ridge_profile()))
    assert list(blocked.columns) == list(BLOCKING_COLUMNS)
    assert blocked.index.tolist() == [10, 11, 12, 13]
    row = blocked.loc[10]
    assert row["mobile_blocked_by"] == "S1"  # S2 is blocked too, but farther (4.4 km)
    assert row["blocked_site_distance_m"] == pytest.approx(3600.0, abs=1)
    assert row["obstacle_elevation_m"] == 1720.0
    assert row["obstacle_distance_m"] == pytest.approx(1600.0, abs=1)
    lon, lat = Transformer.from_crs(UTM, 4326, always_xy=True).transform(X0 + 3000.0, Y)
    assert row["obstacle_lon"] == pytest.approx(lon, abs=2e-6)
    assert row["obstacle_lat"] == pytest.approx(lat, abs=2e-6)
    # covered, out of every reach, or in clear sight (fibre and 2G never count)
    assert blocked.loc[[11, 12, 13]].isna().all().all()
    sentence = blocked_sentences(blocked, translator("vi"))
    assert sentence[10] == "Bị núi che: trạm cách 3,6 km; đỉnh chắn cao 1.720 m, cách bản 1,6 km"
    assert sentence[[11, 12, 13]].isna().all()


def test_no_sites_or_no_gap_gives_empty_columns() -> None:
    dem = _dem(_ridge_profile())
    none = terrain_blocking(_villages(), _sites().iloc[2:3], dem)
    assert none["mobile_blocked_by"].isna().all() and len(none) == 4
    covered = _villages().assign(has_mobile_broadband=True)
    assert terrain_blocking(covered, _sites(), dem).isna().all().all()
