"""Fibre extensions: the cheapest tree of routes from the existing fibre network to villages.

Routes follow the roads layer (a graph of road vertices, every road stretch an edge at
the along-road cost per km). Fibre leaves the road only where it must: from a fibre node
to the road, and for the last link from the road to the village (never straight from a
node to a village across the hills, never through another village). Those off-road
links are straight lines of at most ``plan.max_offroad_km``, priced by the terrain they
cross: the slope along the line, read from the DEM, puts each stretch in a slope class
whose factor multiplies the off-road cost per km (``plan.offroad_slope_factor``);
without a DEM they are priced as flat ground.

The routes form one tree, so that a trunk is paid once however many villages hang from
it: the cheapest tree joining the villages to the network is a Steiner tree
(:func:`geo_dx.plan.steiner.steiner_tree`, within twice the optimum), kept unless the
shortest-path tree (each village's cheapest route on its own) costs less in total. A
village is a leaf: its last link is the one of its own cheapest route, and no route passes
through another village. The tree is contracted into *segments* (a stretch between two
branch points); connecting a village means building its segment and every segment above
it.

Without roads each village is reached from its nearest fibre node by a straight line
times ``detour_factor`` at the along-road cost (the route is assumed to follow a road
that is not in the data); :attr:`FibreNetwork.along_roads` says which.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo_dx.config import PlanConfig
from geo_dx.dem import DemGrid
from geo_dx.errors import InputError
from geo_dx.plan.steiner import path_sums, steiner_tree, tree_cost

logger = logging.getLogger(__name__)

#: Roads are split into stretches of at most this length, so that the nearest road
#: vertex to a village is within half of it of the nearest point on the road.
DENSIFY_M = 100.0
#: Road vertices closer than this are one junction.
_SNAP_M = 0.1
#: Cost of a zero-length edge (csgraph drops explicit zeros).
_TINY = 1e-6
#: A village's last link may start from the nearest point of each of at most this many
#: roads within ``plan.max_offroad_km`` (the cheapest one, slope included, is used).
LANDINGS = 8


@dataclass(frozen=True)
class FibreNetwork:
    """
    The tree of fibre routes from the network to the villages, as segments.

    Arrays ``segment_*`` have one entry per segment; ``village_*`` one per target
    village, in the order given to :func:`fibre_routes`. A segment's cost includes the
    village drop when it ends at a village.

    Attributes
    ----------
    segment_cost_vnd, segment_length_km, segment_offroad_km
        Cost (VND, drop included), length and off-road length of each segment.
    segment_parent
        Segment above (towards the network), -1 when the segment starts at a fibre node.
    segment_root
        Index of the fibre node the segment's route starts from.
    segment_geometry
        LineStrings in the metric CRS the coordinates were given in.
    village_segment
        The segment ending at each village; -1 when the village is not reachable.
    village_route_km, village_route_cost_vnd
        Length and cost of the village's cheapest route (drop included) when built alone;
        inf when no route exists (a route longer than ``max_fibre_route_km`` is reported
        but its village has no segment).
    along_roads
        False when routes are straight lines times the detour factor (no roads given).
    slope_priced
        True when off-road links were priced by the slope read from a DEM.
    tree
        ``"steiner"`` or ``"shortest_paths"``: which tree the segments come from.
    """

    segment_cost_vnd: np.ndarray
    segment_length_km: np.ndarray
    segment_offroad_km: np.ndarray
    segment_parent: np.ndarray
    segment_root: np.ndarray
    segment_geometry: np.ndarray
    village_segment: np.ndarray
    village_route_km: np.ndarray
    village_route_cost_vnd: np.ndarray
    along_roads: bool
    slope_priced: bool = False
    tree: str = "shortest_paths"

    @property
    def n_segments(self) -> int:
        """Number of segments."""
        return len(self.segment_cost_vnd)

    @property
    def segment_road_km(self) -> np.ndarray:
        """Length of each segment along roads (km)."""
        return self.segment_length_km - self.segment_offroad_km

    def note(self, config: PlanConfig) -> str:
        """How the routes were drawn and priced (``summary.json`` → ``plan.fibre_routes``)."""
        if not self.along_roads:
            return f"straight lines × {config.detour_factor} (no roads layer)"
        ground = ("priced by the slope from the DEM" if self.slope_priced
                  else "priced as flat ground (no DEM)")
        tree = "Steiner tree" if self.tree == "steiner" else "shortest-path tree"
        return (f"along roads; off-road only from a fibre node to the road and from the road "
                f"to the village, each at most {config.max_offroad_km:g} km, {ground}; "
                f"trunks shared as a {tree}")


@dataclass
class _Edges:
    """Edges under construction: ends, cost, length, off-road flag."""

    u: list
    v: list
    cost: list
    length: list
    off: list

    def add(self, u: np.ndarray, v: np.ndarray, cost: np.ndarray, length_m: np.ndarray,
            off: bool) -> None:
        self.u.append(np.asarray(u, dtype=np.int64))
        self.v.append(np.asarray(v, dtype=np.int64))
        self.cost.append(np.maximum(np.asarray(cost, dtype=float), _TINY))
        self.length.append(np.asarray(length_m, dtype=float))
        self.off.append(np.full(len(self.u[-1]), off))

    def arrays(self) -> tuple[np.ndarray, ...]:
        return tuple(np.concatenate(a) if a else np.zeros(0)
                     for a in (self.u, self.v, self.cost, self.length, self.off))


def fibre_routes(
    villages_xy: np.ndarray,
    fibre_xy: np.ndarray,
    *,
    roads: shapely.Geometry | np.ndarray | None = None,
    dem: DemGrid | None = None,
    config: PlanConfig | None = None,
) -> FibreNetwork:
    """
    Cheapest fibre routes from the network to each village, as a shared tree.

    Parameters
    ----------
    villages_xy
        (n, 2) village locations in a metric CRS.
    fibre_xy
        (m, 2) existing fibre nodes in the same CRS.
    roads
        Road lines (LineString/MultiLineString geometries) in the same CRS, or None.
    dem
        Elevation grid in the same CRS, to price off-road links by slope (else flat).
    config
        ``plan`` options: unit costs (``costs.fibre_road_per_km_vnd``,
        ``costs.fibre_offroad_per_km_vnd``, ``costs.drop_per_village_vnd``),
        ``max_offroad_km``, the slope classes, ``detour_factor`` (without roads) and
        ``max_fibre_route_km`` (longer routes are left unreachable: another technology).

    Returns
    -------
    FibreNetwork

    Examples
    --------
    >>> road = shapely.LineString([(0, 0), (10_000, 0)])
    >>> net = fibre_routes(np.array([[10_000.0, 1_000.0]]), np.array([[0.0, 0.0]]),
    ...                    roads=np.array([road]))
    >>> net.village_route_km.round(3).tolist()  # 10 km along the road, 1 km off-road
    [11.0]
    >>> round(float(net.village_route_cost_vnd[0]) / 1e9, 6)  # 10 × 0.15 + 1 × 0.4 + 0.1 drop
    2.0
    """
    config = config or PlanConfig()
    vxy = np.asarray(villages_xy, dtype=float).reshape(-1, 2)
    fxy = np.asarray(fibre_xy, dtype=float).reshape(-1, 2)
    n_v, n_f = len(vxy), len(fxy)
    if n_f == 0 or n_v == 0:
        if n_v and not n_f:
            logger.warning("fibre_routes: no fibre nodes; no village can be reached by fibre")
        return _empty(n_v, along_roads=roads is not None)
    road_geoms = _lines(roads)
    along_roads = len(road_geoms) > 0
    if along_roads:
        road_xy, road_u, road_v = _road_graph(road_geoms)
    else:
        road_xy = np.zeros((0, 2))
        road_u = road_v = np.zeros(0, dtype=np.int64)
    n_r = len(road_xy)
    # node numbering: roads [0, n_r), fibre nodes, villages, then the network as one root
    f0, v0 = n_r, n_r + n_f
    root = v0 + n_v
    node_xy = np.vstack([road_xy, fxy, vxy, [[np.nan, np.nan]]])
    edges = _Edges([], [], [], [], [])
    edges.add(np.full(n_f, root), f0 + np.arange(n_f), np.zeros(n_f), np.zeros(n_f), False)
    if along_roads:
        seg_m = np.hypot(*(road_xy[road_u] - road_xy[road_v]).T)
        edges.add(road_u, road_v, seg_m / 1000.0 * config.costs.fibre_road_per_km_vnd,
                  seg_m, False)
        _offroad_links(edges, vxy, fxy, road_geoms, road_xy, f0=f0, v0=v0,
                       dem=dem, config=config)
    else:
        nearest_f = cKDTree(fxy).query(vxy)[1]
        straight_m = np.hypot(*(vxy - fxy[nearest_f]).T) * config.detour_factor
        edges.add(f0 + nearest_f, v0 + np.arange(n_v),
                  straight_m / 1000.0 * config.costs.fibre_road_per_km_vnd, straight_m, False)
    u, v, w, length, off = edges.arrays()
    n = root + 1
    into_village = v >= v0
    # shortest paths: villages are entered, never left (no route through a village)
    fu = np.r_[u, v[~into_village]]
    fv = np.r_[v, u[~into_village]]
    pick = np.r_[np.arange(len(u)), np.flatnonzero(~into_village)]
    fu, fv, pick = _cheapest_parallel(fu, fv, w[pick], pick)
    directed = sparse.csr_matrix((w[pick], (fu, fv)), shape=(n, n))
    dist, pred = dijkstra(directed, directed=True, indices=root, return_predecessors=True)
    edge_len = _symmetric(u, v, length, w, n)
    edge_off = _symmetric(u, v, length * off, w, n)
    targets = v0 + np.arange(n_v)
    route_km, route_off_km = _along(pred, targets, edge_len, edge_off, dist)
    kept = np.isfinite(dist[targets]) & (route_km <= config.max_fibre_route_km)
    if (np.isfinite(route_km) & ~kept).any():
        logger.info("fibre_routes: %d villages beyond max_fibre_route_km=%g",
                    int((np.isfinite(route_km) & ~kept).sum()), config.max_fibre_route_km)
    parent, cost, tree = _cheapest_tree(u, v, w, pred, targets[kept], root=root, n=n,
                                        into_village=into_village)
    route_cost = np.where(np.isfinite(dist[targets]),
                          dist[targets] + config.costs.drop_per_village_vnd, np.inf)
    return _contract(parent, cost, edge_len, edge_off, kept=kept, v0=v0, f0=f0, root=root,
                     node_xy=node_xy, drop_vnd=config.costs.drop_per_village_vnd,
                     route_km=route_km, route_cost=route_cost, along_roads=along_roads,
                     slope_priced=dem is not None and along_roads, tree=tree)


def offroad_cost_vnd(
    start_xy: np.ndarray, end_xy: np.ndarray, *, dem: DemGrid | None,
    config: PlanConfig | None = None,
) -> np.ndarray:
    """
    Cost of straight off-road fibre links, priced by the slope they cross.

    Each link is cut into stretches of one DEM cell; a stretch's slope (its rise over its
    run, from the DEM) puts it in a class of ``plan.offroad_slope_from_pct``, whose factor
    (``plan.offroad_slope_factor``) multiplies ``costs.fibre_offroad_per_km_vnd``.
    Without a DEM, or off it, the ground counts as flat.

    Examples
    --------
    >>> from affine import Affine
    >>> from pyproj import CRS
    >>> ramp = DemGrid(np.tile(np.arange(0.0, 1000.0, 10.0) * 0.5, (100, 1)).T,
    ...                Affine(10, 0, 0, 0, -10, 1000), CRS.from_epsg(32648))  # 50 % north
    >>> a, b = np.array([[500.0, 100.0]] * 2), np.array([[500.0, 600.0], [900.0, 100.0]])
    >>> (offroad_cost_vnd(a, b, dem=ramp) / 1e9).round(3).tolist()  # up the slope, across
    [0.8, 0.16]
    """
    config = config or PlanConfig()
    a = np.asarray(start_xy, dtype=float).reshape(-1, 2)
    b = np.asarray(end_xy, dtype=float).reshape(-1, 2)
    length_m = np.hypot(*(b - a).T)
    per_km = config.costs.fibre_offroad_per_km_vnd
    if dem is None or not len(a):
        return length_m / 1000.0 * per_km * config.offroad_slope_factor["flat"]
    step_m = max(dem.cell_size_m, 1.0)
    pieces = np.maximum(np.ceil(length_m / step_m).astype(np.int64), 1)
    link = np.repeat(np.arange(len(a)), pieces + 1)
    start = np.r_[0, np.cumsum(pieces + 1)[:-1]]
    t = (np.arange(len(link)) - start[link]) / pieces[link]
    z = dem.sample(a[link] + (b[link] - a[link]) * t[:, None])
    z = np.where(np.isnan(z), np.nan, z)
    last = np.r_[start[1:], len(link)] - 1
    inner = np.ones(len(link), dtype=bool)
    inner[last] = False
    i = np.flatnonzero(inner)
    run_m = length_m[link[i]] / pieces[link[i]]
    with np.errstate(invalid="ignore", divide="ignore"):
        slope_pct = np.abs(z[i + 1] - z[i]) / run_m * 100.0
    slope_pct = np.where(np.isfinite(slope_pct), slope_pct, 0.0)
    classes = list(config.offroad_slope_from_pct)
    starts = np.array([config.offroad_slope_from_pct[c] for c in classes])
    factors = np.array([config.offroad_slope_factor[c] for c in classes])
    factor = factors[np.searchsorted(starts, slope_pct, side="right") - 1]
    return np.bincount(link[i], weights=run_m / 1000.0 * per_km * factor, minlength=len(a))


def _offroad_links(edges: _Edges, vxy: np.ndarray, fxy: np.ndarray, road_geoms: np.ndarray,
                   road_xy: np.ndarray, *, f0: int, v0: int,
                   dem: DemGrid | None, config: PlanConfig) -> None:
    """Off-road links within ``max_offroad_km``: each fibre node to its nearest road
    vertex, each village to the nearest point of each of its nearest roads."""
    limit_m = config.max_offroad_km * 1000.0
    vertices = cKDTree(road_xy)
    d_f, r_f = vertices.query(fxy)
    near = d_f <= limit_m
    f_idx = np.flatnonzero(near)
    edges.add(f0 + f_idx, r_f[near], offroad_cost_vnd(fxy[near], road_xy[r_f[near]], dem=dem,
                                                     config=config), d_f[near], True)
    lines = shapely.STRtree(road_geoms)
    pv, pl = lines.query(shapely.points(vxy), predicate="dwithin", distance=limit_m)
    gap = shapely.distance(shapely.points(vxy[pv]), road_geoms[pl])
    pv, pl, gap = _nearest_per_village(pv, pl, gap, LANDINGS)
    at = shapely.get_coordinates(shapely.line_interpolate_point(
        road_geoms[pl], shapely.line_locate_point(road_geoms[pl], shapely.points(vxy[pv]))))
    landing = vertices.query(at)[1] if len(at) else np.zeros(0, dtype=np.int64)
    d_l = np.hypot(*(vxy[pv] - road_xy[landing]).T) if len(pv) else np.zeros(0)
    ok = d_l <= limit_m
    edges.add(landing[ok], v0 + pv[ok], offroad_cost_vnd(road_xy[landing[ok]], vxy[pv[ok]],
                                                         dem=dem, config=config),
              d_l[ok], True)


def _nearest_per_village(pv: np.ndarray, pl: np.ndarray, gap: np.ndarray, k: int
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` nearest roads of each village (pairs sorted by village, then distance)."""
    order = np.lexsort((gap, pv))
    pv, pl, gap = pv[order], pl[order], gap[order]
    first = np.r_[0, np.flatnonzero(pv[1:] != pv[:-1]) + 1] if len(pv) else np.zeros(0, int)
    rank = np.arange(len(pv)) - np.repeat(first, np.diff(np.r_[first, len(pv)]))
    keep = rank < k
    return pv[keep], pl[keep], gap[keep]


def _symmetric(u: np.ndarray, v: np.ndarray, value: np.ndarray, w: np.ndarray, n: int
               ) -> sparse.csr_matrix:
    """(n, n) matrix of an edge attribute both ways, from the cheapest of parallel edges."""
    a, b = np.r_[u, v], np.r_[v, u]
    a, b, pick = _cheapest_parallel(a, b, np.r_[w, w], np.r_[np.arange(len(u)),
                                                             np.arange(len(u))])
    return sparse.csr_matrix((value[pick] + 0.0, (a, b)), shape=(n, n))


def _cheapest_tree(u: np.ndarray, v: np.ndarray, w: np.ndarray, pred: np.ndarray,
                   villages: np.ndarray, *, root: int, n: int, into_village: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, str]:
    """The Steiner tree over the roads, each village hanging by its own last link, or
    the shortest-path tree when that costs less. Returns parent, cost from root, name."""
    spt_parent = np.full(n, -1, dtype=np.int64)
    nodes = _route_nodes(pred, villages)
    spt_parent[nodes] = np.where(pred[nodes] >= 0, pred[nodes], -1)
    # every road, start link and network edge; of the links into villages, the last link
    # of each village's own cheapest route, so that a village is a leaf
    keep = ~into_village
    link = np.flatnonzero(into_village)
    keep[link[np.isin(v[link], villages) & (pred[v[link]] == u[link])]] = True
    a, b, pick = _cheapest_parallel(np.r_[u[keep], v[keep]], np.r_[v[keep], u[keep]],
                                    np.r_[w[keep], w[keep]],
                                    np.r_[np.flatnonzero(keep), np.flatnonzero(keep)])
    graph = sparse.csr_matrix((w[pick], (a, b)), shape=(n, n))
    spt_cost = tree_cost(graph, spt_parent)
    if not len(villages):
        return spt_parent, _costs_along(graph, spt_parent, root), "shortest_paths"
    parent, cost = steiner_tree(graph, villages, root=root)
    st_cost = tree_cost(graph, parent)
    logger.info("fibre tree: Steiner %.4g VND, shortest paths %.4g VND", st_cost, spt_cost)
    if st_cost <= spt_cost:
        return parent, cost, "steiner"
    return spt_parent, _costs_along(graph, spt_parent, root), "shortest_paths"


def _costs_along(graph: sparse.csr_matrix, parent: np.ndarray, root: int) -> np.ndarray:
    """Cost from the root along a tree given by parents (inf off the tree)."""
    order = np.asarray(_top_down(parent, root), dtype=np.int64)
    cost = _cumulative(parent, order, graph)
    off_tree = np.ones(len(parent), dtype=bool)
    off_tree[order] = False
    off_tree[root] = False
    cost[off_tree] = np.inf
    return cost


def _top_down(parent: np.ndarray, root: int) -> list[int]:
    """Tree nodes below ``root``, each after its parent."""
    children: dict[int, list[int]] = {}
    for node in np.flatnonzero(parent >= 0).tolist():
        children.setdefault(int(parent[node]), []).append(node)
    out, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            out.append(child)
            stack.append(child)
    return out


def _along(pred: np.ndarray, targets: np.ndarray, edge_len: sparse.csr_matrix,
           edge_off: sparse.csr_matrix, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Length and off-road length (km) of each target's shortest path (inf: none)."""
    reachable = np.isfinite(dist[targets])
    nodes = _route_nodes(pred, targets[reachable])
    order = nodes[np.argsort(dist[nodes], kind="stable")]
    cum_len = _cumulative(pred, order, edge_len)
    cum_off = _cumulative(pred, order, edge_off)
    return (np.where(reachable, cum_len[targets] / 1000.0, np.inf),
            np.where(reachable, cum_off[targets] / 1000.0, np.inf))


def _cumulative(parent: np.ndarray, order: np.ndarray, edge: sparse.csr_matrix) -> np.ndarray:
    """Sum of an edge attribute from the top of a tree down to each node of ``order`` (the
    nodes of whole paths from the top; 0 elsewhere)."""
    on = np.zeros(len(parent), dtype=bool)
    on[order] = True
    child = np.flatnonzero(on & (parent >= 0))
    step = np.zeros(len(parent))
    if len(child):
        step[child] = np.asarray(edge[parent[child], child]).ravel()
    return path_sums(np.where(on, parent, -1), step)


def _lines(roads: shapely.Geometry | np.ndarray | None) -> np.ndarray:
    if roads is None:
        return np.zeros(0, dtype=object)
    geoms = np.asarray(roads, dtype=object).reshape(-1)
    geoms = geoms[~shapely.is_missing(geoms)]
    parts = shapely.get_parts(geoms)
    bad = ~np.isin(shapely.get_type_id(parts), (1, 2))
    if bad.any():
        raise InputError(
            f"roads: geometry must be LineString/MultiLineString, got "
            f"{sorted(set(shapely.get_type_id(parts[bad]).tolist()))} (GEOS type ids); "
            "give the road centre lines"
        )
    return parts[~shapely.is_empty(parts)]


def _road_graph(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Road vertices (snapped) and the stretches between consecutive ones."""
    dense = shapely.segmentize(lines, DENSIFY_M)
    coords, owner = shapely.get_coordinates(dense, return_index=True)
    key = np.round(coords / _SNAP_M).astype(np.int64)
    key -= key.min(axis=0)
    unique, inverse = np.unique(key[:, 0] * (key[:, 1].max() + 1) + key[:, 1],
                                return_inverse=True)  # one int per cell: 10x faster
    inverse = inverse.reshape(-1)
    xy = np.zeros((len(unique), 2))
    xy[inverse] = coords
    same = owner[1:] == owner[:-1]
    u, v = inverse[:-1][same], inverse[1:][same]
    keep = u != v
    logger.info("road graph: %d vertices, %d stretches", len(xy), int(keep.sum()))
    return xy, u[keep], v[keep]


def _cheapest_parallel(u: np.ndarray, v: np.ndarray, w: np.ndarray, pick: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep the cheapest of parallel edges (a sparse matrix would add them up): the ends
    and ``pick`` (e.g. the edges' indices) of each kept edge."""
    order = np.lexsort((w, v, u))
    u, v, pick = u[order], v[order], pick[order]
    first = np.r_[True, (u[1:] != u[:-1]) | (v[1:] != v[:-1])]
    return u[first], v[first], pick[first]


def _contract(
    parent: np.ndarray,
    cost_from_root: np.ndarray,
    edge_len: sparse.csr_matrix,
    edge_off: sparse.csr_matrix,
    *,
    kept: np.ndarray,
    v0: int,
    f0: int,
    root: int,
    node_xy: np.ndarray,
    drop_vnd: float,
    route_km: np.ndarray,
    route_cost: np.ndarray,
    along_roads: bool,
    slope_priced: bool,
    tree: str,
) -> FibreNetwork:
    """Cut the tree (pruned to the kept villages' routes) into segments."""
    n_v = len(kept)
    targets = v0 + np.arange(n_v)
    villages = targets[kept]
    nodes = _route_nodes(parent, villages)
    order = nodes[np.argsort(cost_from_root[nodes], kind="stable")]
    cum_len = _cumulative(parent, order, edge_len)
    cum_off = _cumulative(parent, order, edge_off)
    children = np.zeros(len(node_xy), dtype=np.int64)
    par_of_nodes = parent[nodes]
    np.add.at(children, par_of_nodes[par_of_nodes >= 0], 1)
    is_key = np.zeros(len(node_xy), dtype=bool)
    is_key[villages] = True
    is_key[nodes[children[nodes] >= 2]] = True
    is_root = np.zeros(len(node_xy), dtype=bool)
    is_root[f0:v0] = True
    is_root[root] = True
    key_nodes = nodes[is_key[nodes] & ~is_root[nodes]]
    key_nodes = key_nodes[np.argsort(cost_from_root[key_nodes], kind="stable")]
    seg_of: dict[int, int] = {}
    same_place: dict[int, int] = {}  # zero-length chains: the node above stands for them
    cost, length, offroad, parent_seg, seg_root, geometry = [], [], [], [], [], []
    for k in key_nodes.tolist():
        chain = [k]
        node = parent[k]
        while not (is_key[node] or is_root[node]):
            chain.append(node)
            node = parent[node]
        chain.append(node)
        top = same_place.get(node, node)
        if k < v0 and cum_len[k] == cum_len[node]:
            same_place[k] = top  # a branch point where the chain starts: no segment
            continue
        seg_of[k] = len(cost)
        drop = drop_vnd if k >= v0 else 0.0
        cost.append(cost_from_root[k] - cost_from_root[node] + drop)
        length.append((cum_len[k] - cum_len[node]) / 1000.0)
        offroad.append((cum_off[k] - cum_off[node]) / 1000.0)
        parent_seg.append(-1 if is_root[top] else seg_of[top])
        seg_root.append(top - f0 if is_root[top] else -1)
        xy = node_xy[chain[::-1]]
        xy = xy[np.concatenate(([True], (np.diff(xy, axis=0) != 0).any(axis=1)))]
        geometry.append(shapely.LineString(np.vstack([xy, xy[-1:]]) if len(xy) == 1 else xy))
    parent_seg_arr = np.asarray(parent_seg, dtype=np.int64)
    root_arr = np.asarray(seg_root, dtype=np.int64)
    for s in range(len(root_arr)):  # parents come first (sorted by cost from the root)
        if root_arr[s] < 0:
            root_arr[s] = root_arr[parent_seg_arr[s]]
    village_segment = np.full(n_v, -1, dtype=np.int64)
    village_segment[kept] = [seg_of[k] for k in villages.tolist()]
    logger.info("fibre tree (%s): %d villages reachable, %d segments", tree, int(kept.sum()),
                len(cost))
    return FibreNetwork(
        segment_cost_vnd=np.asarray(cost, dtype=float),
        segment_length_km=np.asarray(length, dtype=float),
        segment_offroad_km=np.asarray(offroad, dtype=float),
        segment_parent=parent_seg_arr,
        segment_root=root_arr,
        segment_geometry=np.asarray(geometry, dtype=object),
        village_segment=village_segment,
        village_route_km=route_km,
        village_route_cost_vnd=route_cost,
        along_roads=along_roads,
        slope_priced=slope_priced,
        tree=tree,
    )


def _route_nodes(pred: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Every node on the tree paths from ``starts`` up to their sources."""
    seen = np.zeros(len(pred), dtype=bool)
    level = np.unique(np.asarray(starts, dtype=np.int64))
    while len(level):
        seen[level] = True
        level = pred[level]
        level = np.unique(level[level >= 0])
        level = level[~seen[level]]
    return np.flatnonzero(seen)


def _empty(n_v: int, *, along_roads: bool) -> FibreNetwork:
    none_f = np.zeros(0, dtype=float)
    none_i = np.zeros(0, dtype=np.int64)
    return FibreNetwork(none_f, none_f, none_f, none_i, none_i, np.zeros(0, dtype=object),
                        np.full(n_v, -1, dtype=np.int64), np.full(n_v, np.inf),
                        np.full(n_v, np.inf), along_roads)
