"""Fibre routes along the roads: slope-priced off-road links, the off-road limit, shared trunks."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS
from scipy import sparse
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

from geo_dx.config import Config, PlanConfig, config_from_dict
from geo_dx.dem import DemGrid
from geo_dx.errors import ConfigError
from geo_dx.plan.model import plan
from geo_dx.plan.routes import fibre_routes, offroad_cost_vnd
from geo_dx.plan.steiner import steiner_tree, tree_cost
from tests.conftest import UTM48N, X0, Y0

GB = 1e9


def _ramp_north(slope: float) -> DemGrid:
    """Ground rising northwards at ``slope`` (0.5: 50 %) over x -2..5 km, y -2..3 km."""
    cell = 25.0
    rows, cols = 200, 280
    y_centre = 3000.0 - cell * (np.arange(rows) + 0.5)
    z = np.tile((slope * y_centre)[:, None], (1, cols))
    return DemGrid(z, Affine(cell, 0, -2000.0, 0, -cell, 3000.0), CRS.from_epsg(32648))


# ------------------------------------------------------------------ off-road links by slope

def test_steep_offroad_shortcut_costs_more_than_the_road_detour_so_the_route_takes_the_road():
    # fibre node on the road at (0, 0); the village 1 km due north, up a 50 % slope; the
    # road goes east 3 km, north 1 km, back west to 200 m from the village (flat there)
    roads = np.array([shapely.LineString([(0, 0), (3_000, 0)]),
                      shapely.LineString([(3_000, 0), (3_000, 1_000), (200, 1_000)])])
    village, node = np.array([[0.0, 1_000.0]]), np.array([[0.0, 0.0]])
    flat = fibre_routes(village, node, roads=roads)
    # on flat ground the shortcut wins: 1 km off-road at 0.4 bn + 0.1 bn drop
    assert flat.village_route_cost_vnd.tolist() == pytest.approx([0.5 * GB])
    assert flat.segment_offroad_km.tolist() == pytest.approx([1.0])
    steep = fibre_routes(village, node, roads=roads, dem=_ramp_north(0.5))
    # up 50 % ("very steep", 4 x 0.4 bn/km) it would cost 1.6 bn + drop; the road detour:
    # 6.8 km x 0.15 bn + 0.2 km flat off-road x 0.4 bn + 0.1 bn drop = 1.2 bn
    assert steep.village_route_cost_vnd.tolist() == pytest.approx([1.2 * GB])
    assert steep.village_route_km.tolist() == pytest.approx([7.0])
    assert steep.segment_offroad_km.tolist() == pytest.approx([0.2])
    assert steep.segment_road_km.tolist() == pytest.approx([6.8])
    assert steep.slope_priced and not flat.slope_priced
    # the route's vertices follow the road: all but the last within 1 m of it
    line = steep.segment_geometry[0]
    xy = shapely.get_coordinates(line)
    assert shapely.distance(shapely.points(xy[:-1]), shapely.union_all(roads)).max() < 1.0


def test_offroad_cost_by_slope_class_and_configured_factors():
    ramp = _ramp_north(0.3)  # 30 %: "steep" (25-45 %), factor 2.5
    a, b = np.array([[0.0, 0.0], [0.0, 0.0]]), np.array([[0.0, 1_000.0], [1_000.0, 0.0]])
    assert (offroad_cost_vnd(a, b, dem=ramp) / GB).tolist() == pytest.approx([1.0, 0.4])
    config = config_from_dict({"plan": {"offroad_slope_factor": {"steep": 3.0}}}).plan
    assert (offroad_cost_vnd(a, b, dem=ramp, config=config) / GB).tolist() == pytest.approx(
        [1.2, 0.4])
    assert (offroad_cost_vnd(a, b, dem=None) / GB).tolist() == pytest.approx([0.4, 0.4])


@pytest.mark.parametrize("plan_table, match", [
    ({"offroad_slope_from_pct": {"steep": 5.0}}, "rise from class to class"),
    ({"offroad_slope_from_pct": {"flat": 3.0}}, "must start at flat = 0"),
    ({"offroad_slope_factor": {"cliff": 5.0}}, "unknown key plan.offroad_slope_factor"),
    ({"offroad_slope_factor": {"flat": 0.0}}, "offroad_slope_factor.flat = 0"),
    ({"max_offroad_km": -1.0}, "max_offroad_km = -1 is negative"),
])
def test_bad_offroad_settings_are_refused(plan_table, match):
    with pytest.raises(ConfigError, match=match):
        config_from_dict({"plan": plan_table})


# ----------------------------------------------------------------------- the off-road limit

@st.composite
def road_cases(draw):
    coord = st.floats(0, 20_000, allow_nan=False).map(lambda v: round(v, 1))
    n_roads = draw(st.integers(1, 4))
    roads = [shapely.LineString([(draw(coord), draw(coord)), (draw(coord), draw(coord))])
             for _ in range(n_roads)]
    roads = [r for r in roads if r.length > 1.0] or [shapely.LineString([(0, 0), (20_000, 0)])]
    villages = np.array([[draw(coord), draw(coord)] for _ in range(draw(st.integers(1, 6)))])
    nodes = np.array([[draw(coord), draw(coord)] for _ in range(draw(st.integers(1, 3)))])
    limit_km = draw(st.floats(0.3, 8.0))
    return np.array(roads), villages, nodes, limit_km


@settings(max_examples=60, deadline=None)
@given(road_cases())
def test_no_offroad_link_is_longer_than_the_limit(case):
    roads, villages, nodes, limit_km = case
    net = fibre_routes(villages, nodes, roads=roads, config=PlanConfig(max_offroad_km=limit_km))
    limit_m = limit_km * 1000 + 1e-6
    road_union = shapely.union_all(roads)
    to_road = shapely.distance(shapely.points(villages), road_union)
    # a village farther from every road than the limit has no route
    assert (net.village_segment[to_road > limit_m] == -1).all()
    for s, line in enumerate(net.segment_geometry):
        xy = shapely.get_coordinates(line)
        # no route passes through a village
        inner = xy[1:-1]
        assert not any(np.hypot(*(inner - v).T).min() < 1e-6 for v in villages if len(inner))
        if s in net.village_segment:  # the last link: from the road to the village
            assert np.hypot(*(xy[-1] - xy[-2])) <= limit_m
            assert shapely.distance(shapely.Point(xy[-2]), road_union) < 1e-3
        if net.segment_parent[s] < 0:  # the first link: from the fibre node to the road
            assert np.hypot(*(xy[1] - xy[0])) <= limit_m or len(xy) == 2
        assert net.segment_offroad_km[s] <= 2 * limit_km + 1e-9
    assert net.segment_road_km == pytest.approx(net.segment_length_km
                                                - net.segment_offroad_km)


# --------------------------------------------------------------------- shared trunks: Steiner

def _three_villages():
    # a 10 km trunk east from the fibre node to a junction H (10 km, 0), with 2 km
    # branches north and south; two diagonal roads run straight from the node to the
    # branch ends (10.198 km). V1 is 0.5 km east of H, V2 / V3 0.5 km beyond the branch ends.
    roads = [shapely.LineString([(0, 0), (10_000, 0)]),
             shapely.LineString([(10_000, 0), (10_000, 2_000)]),
             shapely.LineString([(10_000, 0), (10_000, -2_000)]),
             shapely.LineString([(0, 0), (10_000, 2_000)]),
             shapely.LineString([(0, 0), (10_000, -2_000)])]
    villages = np.array([[10_500.0, 0.0], [10_000.0, 2_500.0], [10_000.0, -2_500.0]])
    return np.array(roads), villages


def test_three_villages_share_the_trunk_only_in_a_steiner_tree():
    roads, villages = _three_villages()
    net = fibre_routes(villages, np.array([[0.0, 0.0]]), roads=roads)
    # each village alone takes its cheapest route: V1 along the trunk (10 km x 0.15 +
    # 0.5 km x 0.4 + 0.1 drop = 1.8 bn), V2 and V3 along their diagonals (10.198 km x
    # 0.15 + 0.2 + 0.1 = 1.8297 bn): a shortest-path tree shares nothing, 5.4594 bn
    diagonal_km = np.hypot(10, 2)
    alone = [1.8 * GB] + [(diagonal_km * 0.15 + 0.3) * GB] * 2
    assert net.village_route_cost_vnd.tolist() == pytest.approx(alone)
    assert sum(alone) == pytest.approx(5.4594 * GB, rel=1e-4)
    # the Steiner tree: trunk 10 km + branches 2 x 2 km = 14 km x 0.15 = 2.1 bn,
    # 3 x 0.5 km off-road x 0.4 = 0.6 bn, 3 drops 0.3 bn: 3.0 bn (the shortest-path tree
    # pays 82 % more)
    assert net.tree == "steiner"
    assert net.segment_cost_vnd.sum() == pytest.approx(3.0 * GB)
    assert net.segment_road_km.sum() == pytest.approx(14.0)
    assert net.segment_offroad_km.sum() == pytest.approx(1.5)
    trunk = int(np.argmax(net.segment_length_km == 10.0))
    assert net.segment_parent[net.village_segment].tolist() == [trunk] * 3


def test_the_plan_buys_the_steiner_tree_at_its_hand_computed_cost():
    roads, villages = _three_villages()
    gaps = gpd.GeoDataFrame(
        {"village_id": ["V1", "V2", "V3"], "village_name": ["a", "b", "c"],
         "score": [50.0, 40.0, 30.0], "has_mobile_broadband": True, "has_fibre": False},
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in villages], crs=UTM48N)
    fibre = gpd.GeoDataFrame({"technology": ["fibre"]}, geometry=[shapely.Point(X0, Y0)],
                             crs=UTM48N)
    road_layer = gpd.GeoSeries([shapely.affinity.translate(r, X0, Y0) for r in roads],
                               crs=UTM48N)
    result = plan(gaps, budget_vnd=3.0 * GB, fibre=fibre, roads=road_layer,
                  config=Config(), curve=False)
    assert result.items["villages_served"].tolist() == ["V1;V2;V3"]
    assert result.items["cost_vnd"].tolist() == pytest.approx([3.0 * GB])
    assert result.items["route_road_km"].tolist() == pytest.approx([14.0])
    assert result.items["route_offroad_km"].tolist() == pytest.approx([1.5])
    assert "Steiner tree" in result.summary["fibre_routes"]


def _brute_force_steiner(weights: np.ndarray, terminals: set[int]) -> float:
    """The cheapest tree joining ``terminals``: the best minimum spanning tree over every
    set of extra nodes."""
    n = len(weights)
    others = [i for i in range(n) if i not in terminals]
    best = np.inf
    for k in range(len(others) + 1):
        for extra in itertools.combinations(others, k):
            nodes = sorted(terminals | set(extra))
            sub = sparse.csr_matrix(weights[np.ix_(nodes, nodes)])
            if connected_components(sub, directed=False)[0] == 1:
                best = min(best, float(minimum_spanning_tree(sub).sum()))
    return best


@st.composite
def small_graphs(draw):
    n = draw(st.integers(2, 7))
    weights = np.zeros((n, n))
    for i in range(1, n):  # a random spanning tree keeps the graph connected
        j = draw(st.integers(0, i - 1))
        weights[i, j] = weights[j, i] = draw(st.integers(1, 9))
    for i, j in itertools.combinations(range(n), 2):
        if weights[i, j] == 0 and draw(st.booleans()):
            weights[i, j] = weights[j, i] = draw(st.integers(1, 9))
    terminals = draw(st.sets(st.integers(1, n - 1), min_size=1, max_size=n - 1))
    return weights, terminals


@settings(max_examples=150, deadline=None)
@given(small_graphs())
def test_steiner_tree_is_within_its_proven_bound_of_the_brute_force_optimum(case):
    weights, terminals = case
    graph = sparse.csr_matrix(weights)
    parent, cost = steiner_tree(graph, np.array(sorted(terminals)), root=0)
    found = tree_cost(graph, parent)
    optimum = _brute_force_steiner(weights, terminals | {0})
    # Mehlhorn: at most 2 (1 - 1/l) times the optimum, never below it
    assert optimum - 1e-9 <= found <= 2 * optimum + 1e-9
    # a tree: every terminal hangs from the root, every leaf is a terminal
    for t in terminals:
        node, hops = t, 0
        while node != 0:
            node, hops = parent[node], hops + 1
            assert node >= 0 and hops <= len(weights)
    on_tree = set(np.flatnonzero(np.isfinite(cost)).tolist())
    leaves = on_tree - set(parent[parent >= 0].tolist()) - {0}
    assert leaves <= terminals
    assert all(weights[parent[v], v] > 0 for v in on_tree - {0})


def test_a_fibre_node_at_a_road_junction_makes_no_empty_segment():
    # the node sits on the junction of three roads; each village is 1 km up one road
    roads = np.array([shapely.LineString([(0, 0), (x, y)])
                      for x, y in ((5_000, 0), (0, 5_000), (-5_000, 0))])
    villages = np.array([[2_000.0, 100.0], [100.0, 2_000.0], [-2_000.0, 100.0]])
    net = fibre_routes(villages, np.array([[0.0, 0.0]]), roads=roads)
    assert net.n_segments == 3
    assert (net.segment_length_km > 0).all()
    assert net.segment_parent.tolist() == [-1, -1, -1]
    assert net.segment_root.tolist() == [0, 0, 0]
