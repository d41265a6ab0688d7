"""geo_dx.signal.served: the one rule of which villages a site or node serves, under every model.

The oracle is find_gaps itself: adding points to the coverage and finding the gaps again
must newly cover exactly the gap villages served_matrix says those points serve.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS

from geo_dx.config import Config, TerrainConfig
from geo_dx.coverage import covered_within_reach, pairs_within_reach
from geo_dx.dem import DemGrid
from geo_dx.errors import ConfigError
from geo_dx.gaps import find_gaps
from geo_dx.schema import validate_coverage, validate_villages
from geo_dx.signal.calibration import Calibration
from geo_dx.signal.served import mobile_model, served_matrix
from tests.conftest import UTM48N, X0, Y0, make_coverage, make_villages


def ridge_dem() -> DemGrid:
    """14 × 14 km around the test square, 100 m cells: a 600 m ridge running north-south
    at x = X0 + 6 km."""
    x = np.arange(140) * 100.0 + 50.0 - 1000.0  # cell centres, metres east of X0
    z = np.tile(600.0 * np.exp(-(((x - 6000.0) / 500.0) ** 2)), (140, 1))
    return DemGrid(z, Affine(100, 0, X0 - 1000, 0, -100, Y0 + 13_000), CRS.from_epsg(32648))


DEM = ridge_dem()
MODELS = {
    "radius": (Config(terrain=TerrainConfig(model="radius")), None),
    "terrain": (Config(terrain=TerrainConfig(model="terrain")), None),
    "itm": (Config(terrain=TerrainConfig(model="itm")), None),
    "itm calibrated": (Config(terrain=TerrainConfig(model="itm")),
                       Calibration({("4g", ""): -8.0, ("4g", "VNPT"): 4.0,
                                    ("3g", ""): -5.0})),
}


@st.composite
def worlds(draw):
    """Villages (points or 400 m squares), existing coverage, new 4G sites and fibre nodes."""
    coord = st.integers(0, 12).map(lambda k: k * 1_000.0)
    n_v = draw(st.integers(1, 9))
    villages = [(draw(coord), draw(coord), draw(st.booleans())) for _ in range(n_v)]
    existing = [(draw(st.sampled_from(["2g", "3g", "4g", "fibre"])), draw(coord), draw(coord),
                 draw(st.sampled_from([1_000.0, 2_500.0, math.nan])))
                for _ in range(draw(st.integers(0, 3)))]
    new_sites = [(draw(coord), draw(coord), draw(st.sampled_from([math.nan, 1_500.0, 3_500.0])),
                  draw(st.sampled_from([math.nan, 15.0, 40.0])),
                  draw(st.sampled_from([None, "VNPT", "Viettel"])))
                 for _ in range(draw(st.integers(0, 4)))]
    new_nodes = [(draw(coord), draw(coord)) for _ in range(draw(st.integers(0, 3)))]
    return villages, existing, new_sites, new_nodes


def _layers(world):
    villages, existing, new_sites, new_nodes = world
    geoms = [shapely.box(X0 + x - 200, Y0 + y - 200, X0 + x + 200, Y0 + y + 200) if square
             else shapely.Point(X0 + x, Y0 + y) for x, y, square in villages]
    v = validate_villages(gpd.GeoDataFrame(
        {"village_id": [f"V{i}" for i in range(len(villages))],
         "village_name": [f"Bản {i}" for i in range(len(villages))]},
        geometry=geoms, crs=UTM48N))
    cov = validate_coverage(make_coverage(existing)) if existing else None
    added = gpd.GeoDataFrame({
        "technology": ["4g"] * len(new_sites) + ["fibre"] * len(new_nodes),
        "kind": ["site"] * len(new_sites) + ["node"] * len(new_nodes),
        "source": "declared",
        "range_m": [s[2] for s in new_sites] + [math.nan] * len(new_nodes),
        "antenna_height_m": [s[3] for s in new_sites] + [math.nan] * len(new_nodes),
        "operator": [s[4] for s in new_sites] + [None] * len(new_nodes),
    }, geometry=[shapely.Point(X0 + s[0], Y0 + s[1]) for s in new_sites]
       + [shapely.Point(X0 + x, Y0 + y) for x, y in new_nodes], crs=UTM48N)
    return v, cov, validate_coverage(added) if len(added) else added


def _gaps(villages, coverage, config, calibration):
    import warnings

    empty = validate_coverage(make_coverage([("fibre", -50_000.0, -50_000.0, 1.0)]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return find_gaps(villages, coverage if coverage is not None and len(coverage) else empty,
                         config=config, dem=DEM, calibration=calibration)


@pytest.mark.parametrize("name", list(MODELS))
@settings(max_examples=30, deadline=None)
@given(world=worlds())
def test_what_served_matrix_says_is_what_find_gaps_finds_again(name, world):
    config, calibration = MODELS[name]
    villages, existing, added = _layers(world)
    before = _gaps(villages, existing, config, calibration)
    after = _gaps(villages, pd.concat([c for c in (existing, added) if c is not None],
                                      ignore_index=True), config, calibration)
    served = served_matrix(villages, added, model=mobile_model(config, DEM), crs=DEM.crs,
                           dem=DEM, config=config, calibration=calibration).toarray()
    is_site = (added["technology"] == "4g").to_numpy()
    by_sites = served[:, is_site].any(axis=1)
    by_nodes = served[:, ~is_site].any(axis=1)
    had_mobile = before["has_mobile_broadband"].to_numpy()
    had_fibre = before["has_fibre"].to_numpy()
    # both directions: every claimed village is newly covered, every newly covered is claimed
    assert np.array_equal(after["has_mobile_broadband"].to_numpy() & ~had_mobile,
                          by_sites & ~had_mobile)
    assert np.array_equal(after["has_fibre"].to_numpy() & ~had_fibre, by_nodes & ~had_fibre)


def test_the_itm_model_serves_by_predicted_signal_not_by_radius():
    # behind the ridge (x = 6 km) a 4G site at x = 2 km reaches 4 km by radius but not by signal
    villages = make_villages([(3_000.0, 6_000.0), (6_500.0, 6_000.0)])
    site = validate_coverage(make_coverage([("4g", 2_000.0, 6_000.0, 5_000.0)]))
    radius = served_matrix(villages, site, model="radius", crs=DEM.crs).toarray().ravel()
    itm = served_matrix(villages, site, model="itm", crs=DEM.crs, dem=DEM).toarray().ravel()
    assert radius.tolist() == [True, True]
    assert itm.tolist() == [True, False]
    # a calibration 60 dB down leaves nobody served
    low = Calibration({("4g", ""): -60.0})
    assert not served_matrix(villages, site, model="itm", crs=DEM.crs, dem=DEM,
                             calibration=low).toarray().any()


@pytest.mark.parametrize("model", ["banana", "", "Terrain"])
def test_an_unknown_model_is_refused_not_read_as_radius(model):
    villages = make_villages([(0.0, 0.0)])
    coverage = validate_coverage(make_coverage([("4g", 0.0, 0.0, math.nan)]))
    with pytest.raises(ConfigError, match=f"terrain.model was {model!r}"):
        find_gaps(villages, coverage, config=Config(terrain=TerrainConfig(model=model)))
    with pytest.raises(ConfigError, match=f"model was {model!r}"):
        served_matrix(villages, coverage, model=model, crs=UTM48N)


def test_weak_measurements_serve_nobody():
    villages = make_villages([(0.0, 0.0)])
    rows = make_coverage([("4g", 0.0, 0.0, math.nan)] * 2, kind=["measurement"] * 2,
                         rsrp_dbm=[-130.0, -80.0])
    served = served_matrix(villages, validate_coverage(rows), model="radius", crs=UTM48N)
    assert served.toarray().tolist() == [[False, True]]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=12),
       st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20), st.integers(0, 8)),
                min_size=1, max_size=6))
def test_pairs_within_reach_agree_with_covered_within_reach(targets, points):
    # the same tolerance: a target exactly at the reach is within it
    txy = np.array(targets, dtype=float) * 100.0
    pxy = np.array([p[:2] for p in points], dtype=float) * 100.0
    reach = np.array([p[2] for p in points], dtype=float) * 100.0
    p_idx, t_idx = pairs_within_reach(txy, pxy, reach)
    brute = np.hypot(*(txy[:, None, :] - pxy[None, :, :]).transpose(2, 0, 1)) <= reach
    assert sorted(zip(p_idx.tolist(), t_idx.tolist(), strict=True)) == sorted(
        (j, i) for i, j in zip(*np.nonzero(brute), strict=True))
    assert np.array_equal(np.isin(np.arange(len(txy)), t_idx),
                          covered_within_reach(txy, pxy, reach))
