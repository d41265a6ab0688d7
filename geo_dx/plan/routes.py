"""Fibre extensions: the cheapest routes from the existing fibre network to villages.

Routes follow the roads layer (a graph of road vertices, every road stretch an edge at
the along-road cost per km); the first stretch from a fibre node to the road and the
last stretch from the road to the village are straight lines at the off-road cost per
km, and a village may also be reached straight off-road from its nearest fibre node
when that is cheaper. One multi-source Dijkstra (``scipy.sparse.csgraph``) from every
fibre node gives each village its cheapest route and, together, a shortest-path tree:
routes that share a trunk share it in the tree, so a trunk is paid once when several
villages on it are connected. The tree is pruned to the villages' routes and
contracted into *segments* (a stretch between two branch points); connecting a
village means building its segment and every segment above it.

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

from geo_dx.config import PlanCostsConfig
from geo_dx.errors import InputError

logger = logging.getLogger(__name__)

#: Roads are split into stretches of at most this length, so that the nearest road
#: vertex to a village is within half of it of the nearest point on the road.
DENSIFY_M = 100.0
#: Road vertices closer than this are one junction.
_SNAP_M = 0.1
#: Cost of a zero-length edge (csgraph drops explicit zeros).
_TINY = 1e-6


@dataclass(frozen=True)
class FibreNetwork:
    """
    The pruned shortest-path tree from the fibre network to the villages, as segments.

    Arrays ``segment_*`` have one entry per segment; ``village_*`` one per target
    village, in the order given to :func:`fibre_routes`. A segment's cost includes the
    village drop when it ends at a village.

    Attributes
    ----------
    segment_cost_vnd, segment_length_km, segment_offroad_km
        Cost (VND, drop included) and length of each segment.
    segment_parent
        Segment above (towards the network), -1 when the segment starts at a fibre node.
    segment_root
        Index of the fibre node the segment's route starts from.
    segment_geometry
        LineStrings in the metric CRS the coordinates were given in.
    village_segment
        The segment ending at each village; -1 when the village is not reachable.
    village_route_km, village_route_cost_vnd
        Length and cost of the village's whole route (drop included) when built alone;
        inf when no route exists (a route longer than ``max_route_km`` is reported but
        its village has no segment).
    along_roads
        False when routes are straight lines times the detour factor (no roads given).
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

    @property
    def n_segments(self) -> int:
        """Number of segments."""
        return len(self.segment_cost_vnd)



def fibre_routes(
    villages_xy: np.ndarray,
    fibre_xy: np.ndarray,
    *,
    roads: shapely.Geometry | np.ndarray | None = None,
    costs: PlanCostsConfig | None = None,
    detour_factor: float = 1.3,
    max_route_km: float = np.inf,
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
    costs
        Unit costs: ``fibre_road_per_km_vnd``, ``fibre_offroad_per_km_vnd``,
        ``drop_per_village_vnd``.
    detour_factor
        Without roads, route length = straight line × this.
    max_route_km
        Villages whose route is longer are left unreachable (another technology).

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
    costs = costs or PlanCostsConfig()
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
    # node numbering: roads [0, n_r), fibre nodes [n_r, n_r + n_f), villages after
    f0, v0 = n_r, n_r + n_f
    us, vs, ws, ls, offs = [], [], [], [], []

    def add(u: np.ndarray, v: np.ndarray, length_m: np.ndarray, per_km: float, off: bool) -> None:
        us.append(u)
        vs.append(v)
        ls.append(length_m)
        ws.append(np.maximum(length_m / 1000.0 * per_km, _TINY))
        offs.append(np.full(len(u), off))

    nearest_f = cKDTree(fxy).query(vxy)[1]
    direct_m = np.hypot(*(vxy - fxy[nearest_f]).T)
    if along_roads:
        seg_len = np.hypot(*(road_xy[road_u] - road_xy[road_v]).T)
        add(np.r_[road_u, road_v], np.r_[road_v, road_u], np.r_[seg_len, seg_len],
            costs.fibre_road_per_km_vnd, False)
        tree = cKDTree(road_xy)
        d_f, r_f = tree.query(fxy)
        add(f0 + np.arange(n_f), r_f, d_f, costs.fibre_offroad_per_km_vnd, True)
        d_v, r_v = tree.query(vxy)
        add(r_v, v0 + np.arange(n_v), d_v, costs.fibre_offroad_per_km_vnd, True)
        add(f0 + nearest_f, v0 + np.arange(n_v), direct_m, costs.fibre_offroad_per_km_vnd, True)
    else:
        add(f0 + nearest_f, v0 + np.arange(n_v), direct_m * detour_factor,
            costs.fibre_road_per_km_vnd, False)
    u, v, w, length, off = (np.concatenate(a) for a in (us, vs, ws, ls, offs))
    u, v, w, length, off = _cheapest_parallel(u, v, w, length, off)
    n = v0 + n_v
    graph = sparse.csr_matrix((w, (u, v)), shape=(n, n))
    dist, pred, _src = dijkstra(graph, directed=True, indices=f0 + np.arange(n_f),
                                return_predecessors=True, min_only=True)
    edge_len = sparse.csr_matrix((length, (u, v)), shape=(n, n))
    edge_off = sparse.csr_matrix((off.astype(float) * length, (u, v)), shape=(n, n))
    return _contract(dist, pred, edge_len, edge_off, v0=v0, f0=f0, n_v=n_v,
                     node_xy=np.vstack([road_xy, fxy, vxy]), costs=costs,
                     max_route_km=max_route_km, along_roads=along_roads)


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
    unique, inverse = np.unique(key, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    xy = np.zeros((len(unique), 2))
    xy[inverse] = coords
    same = owner[1:] == owner[:-1]
    u, v = inverse[:-1][same], inverse[1:][same]
    keep = u != v
    logger.info("road graph: %d vertices, %d stretches", len(xy), int(keep.sum()))
    return xy, u[keep], v[keep]


def _cheapest_parallel(
    u: np.ndarray, v: np.ndarray, w: np.ndarray, length: np.ndarray, off: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Keep the cheapest of parallel edges (a sparse matrix would add them up)."""
    order = np.lexsort((w, v, u))
    u, v, w, length, off = u[order], v[order], w[order], length[order], off[order]
    first = np.r_[True, (u[1:] != u[:-1]) | (v[1:] != v[:-1])]
    return u[first], v[first], w[first], length[first], off[first]


def _contract(
    dist: np.ndarray,
    pred: np.ndarray,
    edge_len: sparse.csr_matrix,
    edge_off: sparse.csr_matrix,
    *,
    v0: int,
    f0: int,
    n_v: int,
    node_xy: np.ndarray,
    costs: PlanCostsConfig,
    max_route_km: float,
    along_roads: bool,
) -> FibreNetwork:
    """Prune the shortest-path tree to the villages' routes and cut it into segments."""
    targets = v0 + np.arange(n_v)
    reachable = np.isfinite(dist[targets])
    # cumulative length along the tree, for the nodes on the villages' routes
    on_route = _route_nodes(pred, targets[reachable])
    order = on_route[np.argsort(dist[on_route], kind="stable")]
    parent = pred[order]
    has_parent = parent >= 0
    step_len = np.zeros(len(order))
    step_off = np.zeros(len(order))
    step_len[has_parent] = np.asarray(edge_len[parent[has_parent], order[has_parent]]).ravel()
    step_off[has_parent] = np.asarray(edge_off[parent[has_parent], order[has_parent]]).ravel()
    cum_len = np.zeros(len(node_xy))
    cum_off = np.zeros(len(node_xy))
    for node, par, ln, of in zip(order, parent, step_len, step_off, strict=True):
        if par >= 0:
            cum_len[node] = cum_len[par] + ln
            cum_off[node] = cum_off[par] + of
    route_km = np.where(reachable, cum_len[targets] / 1000.0, np.inf)
    ok = reachable & (route_km <= max_route_km)
    if (reachable & ~ok).any():
        logger.info("fibre_routes: %d villages beyond max_route_km=%g",
                    int((reachable & ~ok).sum()), max_route_km)
    kept = targets[ok]
    nodes = _route_nodes(pred, kept)
    children = np.zeros(len(node_xy), dtype=np.int64)
    par_of_nodes = pred[nodes]
    np.add.at(children, par_of_nodes[par_of_nodes >= 0], 1)
    is_key = np.zeros(len(node_xy), dtype=bool)
    is_key[kept] = True
    is_key[nodes[children[nodes] >= 2]] = True
    is_root = np.zeros(len(node_xy), dtype=bool)
    is_root[f0:v0] = True
    key_nodes = nodes[is_key[nodes] & ~is_root[nodes]]
    key_nodes = key_nodes[np.argsort(dist[key_nodes], kind="stable")]
    seg_of = {}
    cost, length, offroad, parent_seg, root, geometry = [], [], [], [], [], []
    for k in key_nodes:
        chain = [k]
        node = pred[k]
        while not (is_key[node] or is_root[node]):
            chain.append(node)
            node = pred[node]
        chain.append(node)
        seg_of[k] = len(cost)
        drop = costs.drop_per_village_vnd if k >= v0 else 0.0
        cost.append(dist[k] - dist[node] + drop)
        length.append((cum_len[k] - cum_len[node]) / 1000.0)
        offroad.append((cum_off[k] - cum_off[node]) / 1000.0)
        parent_seg.append(-1 if is_root[node] else seg_of[node])
        root.append(-1 if not is_root[node] else node - f0)
        geometry.append(shapely.LineString(node_xy[chain[::-1]]))
    parent_seg_arr = np.asarray(parent_seg, dtype=np.int64)
    root_arr = np.asarray(root, dtype=np.int64)
    for s in range(len(root_arr)):  # parents come first (sorted by distance)
        if root_arr[s] < 0:
            root_arr[s] = root_arr[parent_seg_arr[s]]
    village_segment = np.full(n_v, -1, dtype=np.int64)
    village_segment[ok] = [seg_of[k] for k in kept]
    route_cost = np.where(reachable, dist[targets] + costs.drop_per_village_vnd, np.inf)
    logger.info("fibre tree: %d villages reachable, %d segments", int(ok.sum()), len(cost))
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
    )


def _route_nodes(pred: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Every node on the tree paths from ``starts`` up to their sources."""
    seen = np.zeros(len(pred), dtype=bool)
    out = []
    for s in starts:
        node = s
        while node >= 0 and not seen[node]:
            seen[node] = True
            out.append(node)
            node = pred[node]
    return np.asarray(out, dtype=np.int64)


def _empty(n_v: int, *, along_roads: bool) -> FibreNetwork:
    none_f = np.zeros(0, dtype=float)
    none_i = np.zeros(0, dtype=np.int64)
    return FibreNetwork(none_f, none_f, none_f, none_i, none_i, np.zeros(0, dtype=object),
                        np.full(n_v, -1, dtype=np.int64), np.full(n_v, np.inf),
                        np.full(n_v, np.inf), along_roads)
