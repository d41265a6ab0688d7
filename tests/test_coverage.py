"""Tests for geo_dx.coverage: reach of coverage points and the within-reach query.

``reach_and_nearest`` (and ``covered_within_reach`` on it) settles most targets with the
nearest point or the few nearest points; a target with more candidates than that goes
through ``_cover_by_bands``: k-d tree queries per group of equal reach, or, with more than
48 distinct reaches, per geometric band of reaches whose borderline targets are checked
pair by pair (``_reach_bands``, ``_check_pairs``). Brute force is the oracle; the tests
below force the banded path (``_K_NEAREST = 1``) and check that it ran.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo_dx import coverage
from geo_dx.config import Config, CoverageConfig
from geo_dx.coverage import covered_within_reach, nearest_distance_m, with_reach
from geo_dx.errors import GeoDxWarning


def brute_force(targets: np.ndarray, points: np.ndarray, reach: np.ndarray) -> np.ndarray:
    d = np.hypot(targets[:, None, 0] - points[None, :, 0], targets[:, None, 1] - points[None, :, 1])
    return (d <= reach[None, :]).any(axis=1)


def test_boundary_is_inclusive_by_hand():
    points = np.array([[0.0, 0.0], [100.0, 0.0]])
    targets = np.array([[30.0, 40.0], [30.0, 40.1], [100.0, 20.0], [160.0, 0.0]])
    # 50 m from the first point (reach 50), 50.1 m (out), 20 m from the second (reach 20),
    # 60 m from the second (out)
    assert covered_within_reach(targets, points, np.array([50.0, 20.0])).tolist() == [
        True, False, True, False]


def test_banded_path_runs_and_agrees_with_brute_force(monkeypatch):
    rng = np.random.default_rng(7)
    points = rng.uniform(0, 20_000, (300, 2))
    reach = rng.uniform(100, 3000, 300)  # 300 distinct reaches: banded, not exact groups
    # targets exactly at a point's reach (inclusive), just outside it, and random
    unit = rng.normal(size=(100, 2))
    unit /= np.hypot(*unit.T)[:, None]
    on_edge = points[:100] + unit * reach[:100, None]
    targets = np.vstack([on_edge, points[:100] + unit * (reach[:100, None] + 0.5),
                         rng.uniform(0, 20_000, (600, 2))])
    bands = coverage._reach_bands(reach)
    assert len(bands) < len(np.unique(reach)) and any(lo < hi for lo, hi, _ in bands)
    calls = []
    check = coverage._check_pairs
    monkeypatch.setattr(coverage, "_check_pairs",
                        lambda *a, **k: calls.append(len(a[1])) or check(*a, **k))
    got = covered_within_reach(targets, points, reach)
    assert sum(calls) > 0  # borderline targets were checked pair by pair
    want = brute_force(targets, points, reach * (1 + 1e-9) + 1e-9)
    np.testing.assert_array_equal(got, want)
    assert got[:100].all()  # a target at exactly the reach is covered


@settings(max_examples=40)
@given(
    points=st.lists(st.tuples(st.floats(0, 5000), st.floats(0, 5000), st.floats(0, 3000)),
                    min_size=60, max_size=150, unique_by=lambda p: p[2]),
    targets=st.lists(st.tuples(st.floats(0, 5000), st.floats(0, 5000)), min_size=1,
                     max_size=60),
)
def test_banded_path_matches_brute_force(points, targets):
    p = np.array([(x, y) for x, y, _ in points])
    r = np.array([r for *_, r in points])
    t = np.array(targets)
    assert len(np.unique(r)) > coverage._MAX_EXACT_GROUPS  # the banded path
    got = covered_within_reach(t, p, r)
    # exact up to float noise at the boundary
    assert np.all(got <= brute_force(t, p, r + 1e-6))
    assert np.all(got >= brute_force(t, p, r - 1e-6))


@settings(max_examples=60)
@given(
    points=st.lists(st.tuples(st.floats(0, 5000), st.floats(0, 5000),
                              st.sampled_from([0.0, 250.0, 1000.0, 2500.0]) | st.floats(0, 3000)),
                    min_size=2, max_size=120),
    targets=st.lists(st.tuples(st.floats(0, 5000), st.floats(0, 5000), st.booleans()),
                     min_size=1, max_size=60),
)
def test_forced_band_path_matches_brute_force(points, targets):
    """With one nearest point only, every unsettled target goes through the bands
    (exact groups for few reaches, geometric bands for many)."""
    p = np.array([(x, y) for x, y, _ in points])
    r = np.array([r for *_, r in points])
    t = np.array([(x, y) for x, y, _ in targets])
    need = np.array([n for *_, n in targets])
    ran = []
    bands = coverage._cover_by_bands
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(coverage, "_K_NEAREST", 1)
        mp.setattr(coverage, "_cover_by_bands",
                   lambda cov, todo, *a: ran.append(int(todo.sum())) or bands(cov, todo, *a))
        got, _ = coverage.reach_and_nearest(t, p, r, need=need)
        alone = covered_within_reach(t, p, r)
    assert np.all(got <= brute_force(t, p, r + 1e-6) & need)
    assert np.all(got >= brute_force(t, p, r - 1e-6) & need)
    assert np.all(alone <= brute_force(t, p, r + 1e-6))
    assert np.all(alone >= brute_force(t, p, r - 1e-6))
    # the banded path ran whenever a needed target's (unique) nearest point does not
    # reach it but a farther point might
    d = np.hypot(t[:, None, 0] - p[None, :, 0], t[:, None, 1] - p[None, :, 1])
    first, second = np.sort(d, axis=1)[:, :2].T
    own = r[d.argmin(axis=1)]
    unsettled = (need & (second > first + 1e-6) & (first > own + 1e-6)
                 & (first > r.min() + 1e-6) & (first < r.max() - 1e-6))
    if unsettled.any():
        assert ran and max(ran) > 0


def test_forced_band_path_exact_on_the_edge(monkeypatch):
    """Targets at exactly a point's reach are covered through the bands and pair checks."""
    rng = np.random.default_rng(11)
    points = rng.uniform(0, 10_000, (200, 2))
    reach = rng.uniform(100, 3000, 200)
    unit = rng.normal(size=(80, 2))
    unit /= np.hypot(*unit.T)[:, None]
    targets = np.vstack([points[:80] + unit * reach[:80, None],
                         points[:80] + unit * (reach[:80, None] + 0.5),
                         rng.uniform(0, 10_000, (300, 2))])
    calls = []
    check = coverage._check_pairs
    monkeypatch.setattr(coverage, "_K_NEAREST", 1)
    monkeypatch.setattr(coverage, "_check_pairs",
                        lambda *a, **k: calls.append(len(a[1])) or check(*a, **k))
    got = covered_within_reach(targets, points, reach)
    assert sum(calls) > 0
    np.testing.assert_array_equal(got, brute_force(targets, points, reach * (1 + 1e-9) + 1e-9))
    assert got[:80].all()


def test_nearest_distance_without_points_is_infinite():
    t = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert nearest_distance_m(t, np.array([[0.0, 0.0]])).tolist() == [0.0, 5.0]
    assert np.isinf(nearest_distance_m(t, np.zeros((0, 2)))).all()


def make_points(rows):
    return gpd.GeoDataFrame(
        {"technology": [r[0] for r in rows], "kind": [r[1] for r in rows],
         "range_m": [r[2] for r in rows]},
        geometry=[shapely.Point(0, 0)] * len(rows), crs=32648)


def test_with_reach_defaults_measurements_and_caps():
    pts = make_points([("4g", "site", np.nan), ("fibre", "node", np.nan),
                       ("4g", "measurement", np.nan), ("3g", "site", 2500.0),
                       ("2g", "site", 90_000.0)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GeoDxWarning)
        out = with_reach(pts)
    assert out["reach_m"].tolist() == [4000.0, 1500.0, 300.0, 2500.0, 35000.0]
    assert [str(w.message) for w in caught] == [
        "capped the reach of 1 coverage point(s) at the configured coverage.max_range_m "
        "(2g: 1)"]
    assert "reach_m" not in pts  # the input is not modified


def test_with_reach_uses_the_configured_ranges():
    config = Config(coverage=CoverageConfig(
        default_range_m={**CoverageConfig().default_range_m, "4g": 2000.0},
        max_range_m={**CoverageConfig().max_range_m, "4g": 3000.0},
        measurement_range_m=50.0))
    pts = make_points([("4g", "site", np.nan), ("4g", "site", 5000.0),
                       ("4g", "measurement", np.nan)])
    with pytest.warns(GeoDxWarning, match="capped the reach of 1"):
        out = with_reach(pts, config=config)
    assert out["reach_m"].tolist() == [2000.0, 3000.0, 50.0]


# --------------------------------------------------------------------- points in polygons

def _star(x: float, y: float, radii: list[float], hole: bool) -> shapely.Polygon:
    """A star-shaped (mostly concave) polygon around (x, y), optionally with a hole."""
    angles = np.linspace(0, 2 * np.pi, len(radii), endpoint=False)
    shell = np.c_[x + np.cos(angles) * radii, y + np.sin(angles) * radii]
    holes = [shapely.box(x - 5, y - 5, x + 5, y + 5).exterior.coords] if hole else None
    return shapely.Polygon(shell, holes)


villages_st = st.lists(
    st.tuples(st.integers(0, 300), st.integers(0, 300),
              st.lists(st.sampled_from([10.0, 25.0, 60.0]), min_size=6, max_size=40),
              st.sampled_from(["point", "star", "holed", "multi"])),
    min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(villages=villages_st, extra=st.lists(st.tuples(st.integers(-50, 350),
                                                      st.integers(-50, 350)), max_size=60))
def test_points_in_polygons_matches_brute_force(villages, extra):
    geoms = []
    for x, y, radii, shape in villages:
        if shape == "point":
            geoms.append(shapely.Point(x, y))
        elif shape == "multi":
            geoms.append(shapely.MultiPolygon([_star(x, y, radii, False),
                                               _star(x + 200, y, radii, False)]))
        else:
            geoms.append(_star(x, y, radii, shape == "holed"))
    series = gpd.GeoSeries(geoms, crs="EPSG:32648")
    # points on vertices and on the boundary count (boundary included), hole centres do not
    boundary = shapely.get_coordinates(shapely.boundary(series.to_numpy()))
    midpoints = (boundary[:-1] + boundary[1:]) / 2
    xy = np.r_[np.asarray(extra, dtype=float).reshape(-1, 2), boundary, midpoints,
               [[x, y] for x, y, *_ in villages]]
    points = shapely.points(xy)
    got_point, got_village = coverage.points_in_polygons(series, points)
    want = {(p, v) for v, g in enumerate(geoms) if g.geom_type != "Point"
            for p, point in enumerate(points) if g.intersects(point)}
    assert set(zip(got_point.tolist(), got_village.tolist(), strict=True)) == want


def test_points_in_polygons_in_threads_matches_shapely_on_many_polygons():
    rng = np.random.default_rng(3)
    centres = rng.uniform(0, 50_000, (3000, 2))
    polygons = [_star(x, y, list(rng.uniform(50, 400, rng.integers(6, 41))), i % 7 == 0)
                for i, (x, y) in enumerate(centres)]
    villages = gpd.GeoSeries(polygons + [shapely.Point(1, 1)], crs="EPSG:32648")
    points = shapely.points(rng.uniform(0, 50_000, (40_000, 2)))
    want = shapely.STRtree(points).query(villages.to_numpy()[:-1], predicate="intersects")
    want = set(zip(want[1].tolist(), want[0].tolist(), strict=True))
    assert len(want) > 1000
    for workers in (1, 2):
        got = coverage.points_in_polygons(villages, points, workers=workers)
        assert set(zip(*[g.tolist() for g in got], strict=True)) == want
