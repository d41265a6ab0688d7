"""The gap rule on hand-built cases (distances in metres, UTM 48N)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo_dx.config import Config, config_from_dict
from geo_dx.coverage import Evidence, covered_within_reach, reach_and_nearest, with_reach
from geo_dx.errors import GeoDxWarning
from geo_dx.gaps import find_gaps
from geo_dx.schema import validate_coverage, validate_villages
from tests.conftest import NAN, UTM48N, X0, Y0, make_coverage, make_villages


def gaps_for(villages, coverage, **kwargs):
    return find_gaps(validate_villages(villages), validate_coverage(coverage), **kwargs)


def test_reach_boundary_is_inclusive_and_exact():
    villages = make_villages([(1000, 0), (1001, 0), (0, 999.5)])
    cov = make_coverage([("4g", 0, 0, 1000.0)])
    out = gaps_for(villages, cov)
    assert out["has_mobile_broadband"].tolist() == [True, False, True]
    assert out["nearest_mobile_m"].round(3).tolist() == [1000.0, 1001.0, 999.5]


def test_default_range_per_technology_when_range_missing():
    # defaults: 4g 4000 m, fibre 1500 m
    villages = make_villages([(3990, 0), (4010, 0), (0, 1490), (0, 1510)])
    cov = make_coverage([("4g", 0, 0, NAN), ("fibre", 0, 0, NAN)])
    out = gaps_for(villages, cov)
    assert out["has_mobile_broadband"].tolist() == [True, False, True, True]
    assert out["has_fibre"].tolist() == [False, False, True, False]


def test_rows_missing_reach_get_their_default_not_nothing():
    # a layer that already has reach_m, with rows appended without it (e.g. planned sites)
    villages = make_villages([(3990, 0), (0, 1490), (0, 20_000)])
    cov = with_reach(validate_coverage(make_coverage([("4g", 0, 25_000, 1000.0)])))
    extra = validate_coverage(make_coverage([("4g", 0, 0, NAN), ("fibre", 0, 0, NAN)]))
    both = gpd.GeoDataFrame(pd.concat([cov, extra], ignore_index=True), crs=cov.crs)
    assert both["reach_m"].isna().sum() == 2
    out = find_gaps(validate_villages(villages), both)
    # defaults 4g 4000 m and fibre 1500 m; the first row keeps its own 1000 m reach
    assert out["has_mobile_broadband"].tolist() == [True, True, False]
    assert out["has_fibre"].tolist() == [False, True, False]


def test_2g_is_not_broadband_but_is_reported():
    villages = make_villages([(100, 0)])
    out = gaps_for(villages, make_coverage([("GSM", 0, 0, 5000.0)]))
    assert not out["has_mobile_broadband"].iloc[0]
    assert out["mobile_technology"].iloc[0] == "2g"
    assert out["gap_class"].iloc[0] == "no_fibre_no_mobile"
    assert np.isnan(out["nearest_mobile_m"].iloc[0])  # no 3g-5g point: missing, not inf


@pytest.mark.parametrize(
    ("alias", "tech"),
    [("LTE", "4g"), ("nr", "5g"), ("UMTS", "3g"), ("hspa", "3g"), ("WCDMA", "3g"),
     ("cdma", "3g"), ("Fiber", "fibre"), ("FTTH", "fibre"), ("gpon", "fibre"), ("gsm", "2g")],
)
def test_technology_aliases(alias, tech):
    cov = validate_coverage(make_coverage([(alias, 0, 0, 100.0)]))
    assert cov["technology"].tolist() == [tech]


def test_best_mobile_technology_and_classes():
    villages = make_villages([(0, 0), (5000, 0), (10_000, 0), (20_000, 0)])
    cov = make_coverage([
        ("3g", 0, 0, 500.0), ("4g", 0, 100, 500.0), ("fibre", 0, 0, 500.0),
        ("3g", 5000, 0, 500.0),
        ("fibre", 10_000, 0, 500.0),
    ])
    out = gaps_for(villages, cov)
    assert out["mobile_technology"].tolist() == ["4g", "3g", "none", "none"]
    assert out["gap_class"].tolist() == ["none", "no_fibre", "no_mobile", "no_fibre_no_mobile"]


def test_absurd_ranges_are_capped_with_a_warning():
    villages = make_villages([(14_000, 0), (16_000, 0)])
    cov = make_coverage([("4g", 0, 0, 900_000.0)])  # OpenCellID-style 900 km
    with pytest.warns(GeoDxWarning, match=r"capped the reach of 1 coverage point.*4g: 1"):
        reached = with_reach(validate_coverage(cov))
    assert reached["reach_m"].tolist() == [15_000.0]
    out = find_gaps(validate_villages(villages), reached)
    assert out["has_mobile_broadband"].tolist() == [True, False]


def test_configured_caps_and_defaults_apply():
    config = config_from_dict({"coverage": {"default_range_m": {"4g": 200},
                                            "max_range_m": {"3g": 300}}})
    villages = make_villages([(250, 0), (5000, 350)])
    cov = make_coverage([("4g", 0, 0, NAN), ("3g", 5000, 0, 1000.0)])
    with pytest.warns(GeoDxWarning):
        out = gaps_for(villages, cov, config=config)
    assert out["has_mobile_broadband"].tolist() == [False, False]


def test_polygon_village_uses_representative_point_or_containment():
    # A 4 km x 400 m strip; its representative point is near the middle (x ~ 2000).
    strip = shapely.box(X0, Y0, X0 + 4000, Y0 + 400)
    villages = gpd.GeoDataFrame(
        {"village_id": ["P", "Q"], "village_name": ["strip", "far"]},
        geometry=[strip, shapely.box(X0 + 10_000, Y0, X0 + 10_400, Y0 + 400)], crs=UTM48N,
    )
    # fibre node inside the strip's far corner: covers by containment, though 1.9 km away
    # from the location (beyond its 1500 m reach); a 4g site 300 m outside the far polygon
    # edge with 400 m reach does not reach that polygon's location (~500 m away).
    cov = make_coverage([("fibre", 3900, 200, NAN), ("4g", 9700, 200, 400.0)])
    out = gaps_for(villages, cov)
    assert out["has_fibre"].tolist() == [True, False]
    assert out["has_mobile_broadband"].tolist() == [False, False]
    assert out.loc[0, "nearest_fibre_m"] > 1500


def test_villages_are_assigned_to_communes(communes):
    villages = make_villages(
        [(5000, 5000), (25_000, 15_000), (-500, 5000), (-5000, 5000)],
        commune_id=[None, "C11", None, None],
    )
    with pytest.warns(GeoDxWarning, match="1 village\\(s\\) lie more than 1000 m outside"):
        out = gaps_for(villages, make_coverage([("4g", 0, 0, 10.0)]), communes=communes)
    assert out["commune_id"].tolist()[:3] == ["C00", "C11", "C00"]
    assert out["commune_id"].isna().tolist() == [False, False, False, True]
    assert out["commune_name"].iloc[1] == "Xã Ô 11"


def test_evidence_and_sources_strongest_wins():
    villages = make_villages([(0, 0), (5000, 0), (9000, 0)])
    cov = make_coverage(
        [("4g", 0, 0, 100.0), ("4g", 0, 10, 100.0)],
        kind=["site", "measurement"],
    )
    tiles = Evidence("mobile", gpd.pd.Series([False, True, False], index=villages.index),
                     "measured", "tiles")
    out = find_gaps(validate_villages(villages), validate_coverage(cov), evidence=[tiles])
    assert out["mobile_source"].fillna("-").tolist() == ["measured", "measured", "-"]
    assert out["mobile_technology"].tolist() == ["4g", "unknown", "none"]


def test_inputs_are_not_mutated_and_crs_index_kept():
    villages = validate_villages(make_villages([(0, 0), (10, 0)]).set_index(
        gpd.pd.Index([7, 3])).to_crs(4326))
    cov = validate_coverage(make_coverage([("4g", 0, 0, 100.0)]))
    before_v, before_c = villages.copy(), cov.copy()
    out = find_gaps(villages, cov)
    assert out.index.tolist() == [7, 3] and out.crs == villages.crs
    from geopandas.testing import assert_geodataframe_equal

    assert_geodataframe_equal(villages, before_v)
    assert_geodataframe_equal(cov, before_c)
    assert out["has_mobile_broadband"].all()


coords = st.floats(0, 5000, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    targets=st.lists(st.tuples(coords, coords), min_size=1, max_size=40),
    points=st.lists(st.tuples(coords, coords, st.floats(0, 3000)), min_size=1, max_size=80),
)
def test_covered_within_reach_matches_brute_force(targets, points):
    t = np.array(targets)
    p = np.array([(x, y) for x, y, _ in points])
    r = np.array([r for *_, r in points])
    d = np.hypot(t[:, None, 0] - p[None, :, 0], t[:, None, 1] - p[None, :, 1])
    expected = (d <= r[None, :] + 1e-6).any(axis=1)
    strict = (d <= r[None, :] - 1e-6).any(axis=1)
    got = covered_within_reach(t, p, r)
    # exact up to float noise at the boundary
    assert np.all(got <= expected) and np.all(got >= strict)


@settings(max_examples=30, deadline=None)
@given(
    villages=st.lists(st.tuples(coords, coords), min_size=1, max_size=20),
    sites=st.lists(st.tuples(st.sampled_from(["fibre", "4g", "3g", "2g"]), coords, coords,
                             st.floats(0, 2000)), min_size=1, max_size=15),
)
def test_adding_a_site_never_removes_coverage(villages, sites):
    v = validate_villages(make_villages(villages))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeoDxWarning)
        base = find_gaps(v, validate_coverage(make_coverage(sites[:-1] or sites[:1])))
        more = find_gaps(v, validate_coverage(make_coverage(sites)))
    assert (more["has_fibre"] >= base["has_fibre"]).all()
    assert (more["has_mobile_broadband"] >= base["has_mobile_broadband"]).all()
    assert (more["nearest_fibre_m"].fillna(np.inf) <= base["nearest_fibre_m"].fillna(np.inf)).all()


def test_config_is_default():
    assert Config().coverage.max_range_m["4g"] == 15_000


@settings(max_examples=60, deadline=None)
@given(
    targets=st.lists(st.tuples(coords, coords, st.booleans()), min_size=1, max_size=40),
    points=st.lists(st.tuples(coords, coords, st.sampled_from([0.0, 300.0, 1500.0, 2999.0])
                              | st.floats(0, 3000)), min_size=1, max_size=80),
)
def test_reach_and_nearest_matches_brute_force(targets, points):
    # many points with a few reaches exercise the k-nearest shortcut and its fallback
    t = np.array([(x, y) for x, y, _ in targets])
    need = np.array([n for *_, n in targets])
    p = np.array([(x, y) for x, y, _ in points])
    r = np.array([r for *_, r in points])
    d = np.hypot(t[:, None, 0] - p[None, :, 0], t[:, None, 1] - p[None, :, 1])
    expected = (d <= r[None, :] + 1e-6).any(axis=1) & need
    strict = (d <= r[None, :] - 1e-6).any(axis=1) & need
    got, nearest = reach_and_nearest(t, p, r, need=need)
    assert np.all(got <= expected) and np.all(got >= strict)
    np.testing.assert_allclose(nearest, d.min(axis=1), atol=1e-9)  # tree vs hypot: sub-nm
    alone, none = reach_and_nearest(t, p, r, need=need, nearest=False)
    assert none is None and np.array_equal(alone, got)


def _brute_force_gaps(villages: gpd.GeoDataFrame, cov: gpd.GeoDataFrame) -> dict[str, list]:
    """The gap rule point by point: every village against every coverage point."""
    locations = villages.geometry.representative_point()
    order = ["measured", "modelled", "declared"]
    out: dict[str, list] = {k: [] for k in ("fibre_source", "mobile_source",
                                            "mobile_technology", "nearest_fibre_m",
                                            "nearest_mobile_m")}
    threshold = dict(Config().signal.threshold_dbm)
    for polygon, location in zip(villages.geometry, locations, strict=True):
        fibre, mobile, techs, near_f, near_m = [], [], [], [np.inf], [np.inf]
        for point, tech, source, reach, kind, rsrp in zip(
                cov.geometry, cov["technology"], cov["source"], cov["reach_m"], cov["kind"],
                cov["rsrp_dbm"], strict=True):
            d = location.distance(point)
            if tech == "fibre":
                near_f.append(d)
            elif tech in ("5g", "4g", "3g"):
                near_m.append(d)
            # only broadband tests can be weak (a 2G test never disputes broadband)
            weak = (kind == "measurement" and tech in ("5g", "4g", "3g")
                    and rsrp < threshold[tech])
            if weak or not (d <= reach + 1e-6 or polygon.intersects(point)):
                continue
            if tech == "fibre":
                fibre.append(source)
            else:
                techs.append(tech)
                if tech != "2g":
                    mobile.append(source)
        out["fibre_source"].append(min(fibre, key=order.index) if fibre else None)
        out["mobile_source"].append(min(mobile, key=order.index) if mobile else None)
        out["mobile_technology"].append(min(techs, key=["5g", "4g", "3g", "2g"].index)
                                        if techs else "none")
        # no point of the kind at all: missing (NaN), never inf
        out["nearest_fibre_m"].append(min(near_f) if len(near_f) > 1 else np.nan)
        out["nearest_mobile_m"].append(min(near_m) if len(near_m) > 1 else np.nan)
    return out


@settings(max_examples=40, deadline=None)
@given(
    villages=st.lists(st.tuples(coords, coords, st.sampled_from([0.0, 150.0, 600.0])),
                      min_size=1, max_size=15),
    points=st.lists(st.tuples(st.sampled_from(["fibre", "5g", "4g", "3g", "2g"]), coords, coords,
                              st.sampled_from([NAN, 50.0, 400.0]) | st.floats(0, 2500),
                              st.sampled_from(["site", "node", "measurement"]),
                              st.sampled_from(["measured", "modelled", "declared"]),
                              st.sampled_from([NAN, -90.0, -130.0])),
                    min_size=1, max_size=40),
)
def test_find_gaps_matches_brute_force(villages, points):
    # point villages and square polygons; points of every technology, kind and source, so
    # the pruning of groups and the inside-polygon test are both checked against the rule
    geoms = [shapely.Point(X0 + x, Y0 + y) if h == 0 else
             shapely.box(X0 + x - h, Y0 + y - h, X0 + x + h, Y0 + y + h)
             for x, y, h in villages]
    v = validate_villages(gpd.GeoDataFrame(
        {"village_id": [f"V{i}" for i in range(len(geoms))], "village_name": "bản"},
        geometry=geoms, crs=UTM48N))
    # weak measurements (rsrp below the threshold) never cover but count for nearest_*
    rows = [(t, x, y, r) for t, x, y, r, *_ in points]
    cov = make_coverage(rows, kind=[p[4] for p in points], source=[p[5] for p in points],
                        rsrp_dbm=[p[6] for p in points])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeoDxWarning)
        cov = with_reach(validate_coverage(cov))
    got = find_gaps(v, cov, config=config_from_dict({"crs": UTM48N}))
    expected = _brute_force_gaps(v, cov)
    def text(column):
        return [x if isinstance(x, str) else None for x in got[column]]

    assert text("fibre_source") == expected["fibre_source"]
    assert text("mobile_source") == expected["mobile_source"]
    assert got["mobile_technology"].tolist() == expected["mobile_technology"]
    np.testing.assert_allclose(got["nearest_fibre_m"], expected["nearest_fibre_m"])
    np.testing.assert_allclose(got["nearest_mobile_m"], expected["nearest_mobile_m"])
