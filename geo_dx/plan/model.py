"""The investment plan: which sites and fibre routes close the most important gaps in a budget.

:func:`plan` takes the villages with their gaps (and priority scores), candidate sites
(:mod:`geo_dx.plan.candidates`), the fibre network and the roads (:mod:`geo_dx.plan.routes`),
and chooses within the budget (:mod:`geo_dx.plan.optimise`) what to build so that the sum of
the weights of newly served villages is as large as possible. It reports the exact
answer and the greedy one, the budget curve (what each step of money buys) and the
villages that no candidate can serve (candidates for satellite or other technology).
"""

from __future__ import annotations

import heapq
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from geo_dx.communes import placed
from geo_dx.config import Config
from geo_dx.dem import DemGrid
from geo_dx.errors import InputError
from geo_dx.plan.candidates import (
    as_coverage_sites,
    generate_candidates,
    prepare_candidates,
)
from geo_dx.plan.curve import budget_curve, close_all_cost
from geo_dx.plan.optimise import Budget, Problem, Solution, solve_greedy, solve_milp
from geo_dx.plan.routes import FibreNetwork, fibre_routes
from geo_dx.signal.calibration import Calibration
from geo_dx.signal.served import mobile_model, served_matrix
from geo_dx.spatial import village_locations, working_crs

logger = logging.getLogger(__name__)

#: plan.csv columns, in order.
PLAN_COLUMNS: tuple[str, ...] = (
    "rank", "item_id", "kind", "candidate_id", "generated_by", "lon", "lat", "cost_vnd",
    "cumulative_cost_vnd", "villages_served", "village_names", "people_served",
    "ethnic_minority_people_served", "communes", "route_km", "route_road_km", "route_offroad_km",
    "weight_served",
)
#: Why a village cannot be planned (user-facing, grouped for translation).
REASONS: dict[str, str] = {
    "no_candidate": "no candidate site serves it: satellite or other technology",
    "no_fibre_route": ("no fibre route from the network (no road or fibre node within "
                       "plan.max_offroad_km): satellite, microwave or other technology"),
    "too_far": "fibre route longer than plan.max_fibre_route_km: satellite, microwave or other",
}


@dataclass(frozen=True)
class PlanResult:
    """
    What the plan chose and what it buys.

    Attributes
    ----------
    items
        One row per investment in order of cost-effectiveness (the ``plan.csv`` columns),
        geometry: the site, or the fibre route (MultiLineString along the roads).
    villages
        The input villages with ``planned_by`` (item ids, ``;``-separated, or empty).
    candidates
        Every candidate considered (prepared), with ``villages_in_reach`` and ``chosen``.
    served
        Sparse villages without mobile broadband × candidates: who serves whom.
    served_village_ids
        Row labels of ``served`` (village ids).
    links
        Lines from each chosen site to each village it newly serves (for the map).
    curve
        The budget curve: budget, cost used, villages / people / ethnic-minority people
        newly served.
    unservable
        Villages no candidate or fibre route can serve: ``village_id, village_name,
        need, reason``.
    summary
        The ``summary.json`` → ``plan`` document.
    """

    items: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    served: sparse.csr_matrix
    served_village_ids: pd.Index
    links: gpd.GeoDataFrame
    curve: pd.DataFrame
    unservable: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def plan(
    gaps: gpd.GeoDataFrame,
    *,
    budget_vnd: float | str | dict[str, float] | Budget,
    candidates: gpd.GeoDataFrame | None = None,
    coverage: gpd.GeoDataFrame | None = None,
    dem: DemGrid | str | Path | None = None,
    roads: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    fibre: gpd.GeoDataFrame | None = None,
    config: Config | None = None,
    calibration: Calibration | None = None,
    curve: bool = True,
) -> PlanResult:
    """
    Choose what to build within a budget to serve the most important gap villages.

    Parameters
    ----------
    gaps
        Every village with ``has_fibre`` and ``has_mobile_broadband`` (``find_gaps``),
        and ``score`` when ``plan.weight = "priority"`` (``geo_dx.score``). Villages with a
        ``location_issue`` are not planned for.
    budget_vnd
        One shared budget (e.g. ``30e9``) or ``{"mobile": .., "fibre": ..}``.
    candidates
        Validated candidate sites (:func:`geo_dx.plan.candidates.read_candidates`); with
        ``plan.generate = "auto"`` (default) candidates are generated only without them.
    coverage
        Existing coverage points: 2G/3G sites become upgrade candidates; its fibre
        points are the network when ``fibre`` is not given.
    dem
        The DEM ``find_gaps`` used (required when it used the terrain model).
    roads
        Road lines for fibre routes; without them, straight lines × ``detour_factor``.
    fibre
        Existing fibre nodes (points).
    config
        ``plan`` options and unit costs, coverage ranges and terrain options.
    calibration
        The signal calibration ``find_gaps`` applied (itm model), if any.
    curve
        Also compute the budget curve (several solves).

    Returns
    -------
    PlanResult

    Examples
    --------
    >>> import geo_dx
    >>> demo = geo_dx.load_demo()
    >>> gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
    >>> scored = geo_dx.score(gaps, communes=demo.communes)
    >>> result = geo_dx.plan(scored, budget_vnd=5e9, coverage=demo.coverage,
    ...                      roads=demo.roads, curve=False)
    >>> bool(0 < result.summary["cost_used_vnd"] <= 5e9)
    True
    >>> served = {v for s in result.items["villages_served"] for v in s.split(";")}
    >>> bool(scored.set_index("village_id").loc[sorted(served), "gap_class"].ne("none").all())
    True
    """
    config = config or Config()
    budget = Budget.parse(budget_vnd)
    _check_gaps(gaps, config)
    grid = _grid(dem, gaps, config)
    crs = grid.crs if grid is not None else working_crs(gaps, config.crs)
    model = _model(gaps, config, grid)
    weight = village_weights(gaps, config.plan.weight)
    people, em_people = _people(gaps)

    located = placed(gaps).to_numpy()  # misplaced villages are no place to build for
    mobile_gap = ~gaps["has_mobile_broadband"].astype(bool).to_numpy() & located
    fibre_gap = ~gaps["has_fibre"].astype(bool).to_numpy() & located
    cands = _candidates(gaps, candidates, coverage, grid, config, crs)
    mobile_villages = gaps[mobile_gap]
    cover = served_matrix(mobile_villages, as_coverage_sites(cands), model=model, crs=crs,
                          dem=grid, config=config, calibration=calibration)
    cands["villages_in_reach"] = np.asarray(cover.sum(axis=0)).ravel().astype(int)
    network = _network(gaps[fibre_gap], coverage, fibre, roads, crs, config, grid)

    problem, columns = _problem(cands, cover, weight[mobile_gap], network,
                                weight[fibre_gap], config)
    milp = solve_milp(problem, budget, time_limit_s=config.plan.time_limit_s)
    greedy = solve_greedy(problem, budget)
    best = milp if milp.objective >= greedy.objective - 1e-9 else greedy
    chosen_sites = columns[best.site]
    cands["chosen"] = False
    cands.loc[chosen_sites, "chosen"] = True

    items, links, planned_by = _items(gaps, cands, chosen_sites, cover, mobile_gap, weight,
                                      network, best.segment, fibre_gap, people, em_people,
                                      fibre_nodes=_fibre_nodes(coverage, fibre), crs=crs)
    villages = gaps.copy()
    villages["planned_by"] = planned_by
    unservable = _unservable(gaps, cover, mobile_gap, network, fibre_gap, config)
    table = (budget_curve(problem, budget, gaps, cover, columns, network, mobile_gap, fibre_gap,
                    people, em_people, config) if curve else pd.DataFrame())
    summary = _summary(budget, best, milp, greedy, problem, items, villages, mobile_gap,
                       fibre_gap, people, em_people, unservable, cands, network, table, config,
                       model)
    return PlanResult(items, villages, cands, cover, pd.Index(mobile_villages["village_id"]),
                      links, table, unservable, summary)


def village_weights(gaps: pd.DataFrame, weight: str) -> np.ndarray:
    """
    What newly serving each village is worth under ``plan.weight``.

    ``priority``: the priority score (villages without one count 0); ``population``:
    people (``population_used`` when scored, else ``population``); ``ethnic_population``:
    people × ethnic-minority share; ``count``: 1 each.

    Examples
    --------
    >>> village_weights(pd.DataFrame({"population": [100, None]}), "population").tolist()
    [100.0, 0.0]
    """
    if weight == "count":
        return np.ones(len(gaps))
    if weight == "priority":
        if "score" not in gaps:
            raise InputError(
                "plan.weight is 'priority' but the villages have no 'score' column; score them "
                "first (geo_dx.score) or set plan.weight = 'count' or 'population'"
            )
        return gaps["score"].astype(float).fillna(0.0).to_numpy()
    people, em_people = _people(gaps)
    return people if weight == "population" else em_people


def _people(gaps: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """People and ethnic-minority people per village (missing: 0)."""
    pop = next((gaps[c] for c in ("population_used", "population") if c in gaps), None)
    people = (pop.astype(float).fillna(0.0).to_numpy() if pop is not None
              else np.zeros(len(gaps)))
    share = next((gaps[c] for c in ("ethnic_minority_share_used", "ethnic_minority_share")
                  if c in gaps), None)
    em = share.astype(float).fillna(0.0).to_numpy() if share is not None else np.zeros(len(gaps))
    return people, people * em


def _check_gaps(gaps: gpd.GeoDataFrame, config: Config) -> None:
    missing = [c for c in ("village_id", "has_fibre", "has_mobile_broadband") if c not in gaps]
    if missing:
        raise InputError(
            f"plan: the villages lack column(s) {missing}; give the output of geo_dx.find_gaps"
        )


def _grid(dem: DemGrid | str | Path | None, gaps: gpd.GeoDataFrame, config: Config
          ) -> DemGrid | None:
    from geo_dx.dem import dem_for  # the same grid find_gaps reads

    return dem_for(dem, gaps, crs=config.crs)


def _model(gaps: gpd.GeoDataFrame, config: Config, grid: DemGrid | None) -> str:
    terrain_run = "has_mobile_broadband_radius" in gaps  # find_gaps' terrain model adds it
    if terrain_run and grid is None:
        raise InputError(
            "plan: the gaps were found with the terrain model (line of sight over a DEM); "
            "pass the same DEM (dem=... or --dem) so the plan uses the same coverage rule"
        )
    return mobile_model(config, grid)


def _candidates(
    gaps: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame | None,
    coverage: gpd.GeoDataFrame | None,
    grid: DemGrid | None,
    config: Config,
    crs: object,
) -> gpd.GeoDataFrame:
    frames = []
    if candidates is not None and len(candidates):
        frames.append(candidates.to_crs(gaps.crs))
    generate = config.plan.generate
    if generate == "always" or (generate == "auto" and not frames):
        frames.append(generate_candidates(gaps, coverage=coverage, dem=grid, config=config,
                                          crs=crs))
    frames = [f for f in frames if len(f)]
    if not frames:
        out = gpd.GeoDataFrame({"candidate_id": [], "kind": []}, geometry=[], crs=gaps.crs)
    else:
        out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry",
                               crs=gaps.crs)
    dup = out["candidate_id"].astype(str).duplicated()
    if dup.any():
        raise InputError(
            f"candidates: id {out['candidate_id'][dup].iloc[0]!r} is used twice (ids starting "
            "'gen-' are reserved for generated candidates); make candidate ids unique"
        )
    ids = set(out["candidate_id"].astype(str))
    for key in ("must", "exclude"):
        unknown = [c for c in getattr(config.plan, key) if c not in ids]
        if unknown:
            raise InputError(
                f"plan.{key}: unknown candidate id(s) {unknown[:5]}; use ids from the "
                "candidates file or the generated ones listed in plan.csv"
            )
    clash = set(config.plan.must) & set(config.plan.exclude)
    if clash:
        raise InputError(f"plan: candidate(s) {sorted(clash)[:5]} are both in must and exclude")
    out = out[~out["candidate_id"].astype(str).isin(config.plan.exclude)]
    return prepare_candidates(out, config=config) if len(out) else _prepared_empty(gaps.crs)


def _prepared_empty(crs: object) -> gpd.GeoDataFrame:
    from geo_dx.plan.candidates import CANDIDATE_COLUMNS

    return gpd.GeoDataFrame({c: [] for c in CANDIDATE_COLUMNS}, geometry=[], crs=crs)


def _fibre_nodes(coverage: gpd.GeoDataFrame | None, fibre: gpd.GeoDataFrame | None
                 ) -> gpd.GeoDataFrame | None:
    if fibre is not None:
        return fibre
    if coverage is None:
        return None
    return coverage[coverage["technology"] == "fibre"]


def _network(
    targets: gpd.GeoDataFrame,
    coverage: gpd.GeoDataFrame | None,
    fibre: gpd.GeoDataFrame | None,
    roads: gpd.GeoDataFrame | gpd.GeoSeries | None,
    crs: object,
    config: Config,
    grid: DemGrid | None,
) -> FibreNetwork:
    nodes = _fibre_nodes(coverage, fibre)
    fxy = (shapely.get_coordinates(village_locations(nodes).to_crs(crs).to_numpy())
           if nodes is not None and len(nodes) else np.zeros((0, 2)))
    vxy = shapely.get_coordinates(village_locations(targets).to_crs(crs).to_numpy())
    lines = None
    if roads is not None and len(roads):
        if roads.crs is None:
            raise InputError("roads: the layer has no CRS; set one (e.g. EPSG:4326)")
        lines = roads.geometry.to_crs(crs).to_numpy()
    return fibre_routes(vxy, fxy, roads=lines, dem=grid, config=config.plan)


def _problem(
    cands: gpd.GeoDataFrame,
    cover: sparse.csr_matrix,
    mobile_weight: np.ndarray,
    network: FibreNetwork,
    fibre_weight: np.ndarray,
    config: Config,
) -> tuple[Problem, np.ndarray]:
    """The optimisation problem; candidates that serve nobody (unless pinned) and
    duplicates serving the same villages at a higher cost are left out."""
    cost = cands["cost_vnd"].to_numpy(dtype=float)
    must = cands["candidate_id"].astype(str).isin(config.plan.must).to_numpy()
    csc = sparse.csc_matrix(cover)
    best: dict[bytes, int] = {}
    keep = []
    for j in range(len(cands)):
        rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        if must[j]:
            keep.append(j)
            continue
        if len(rows) == 0:
            continue
        key = np.sort(rows).tobytes()
        if key not in best or cost[j] < cost[best[key]]:
            best[key] = j
    columns = np.array(sorted(set(keep) | set(best.values())), dtype=np.int64)
    seg_weight = np.zeros(network.n_segments)
    ok = network.village_segment >= 0
    seg_weight[network.village_segment[ok]] = fibre_weight[ok]
    problem = Problem(
        mobile_weight=np.asarray(mobile_weight, dtype=float),
        cover=sparse.csr_matrix(csc[:, columns]),
        site_cost=cost[columns],
        must=must[columns],
        segment_weight=seg_weight,
        segment_cost=network.segment_cost_vnd,
        segment_parent=network.segment_parent,
    )
    logger.info("plan problem: %d of %d candidates, %d fibre segments", len(columns),
                len(cands), network.n_segments)
    return problem, columns


def _items(
    gaps: gpd.GeoDataFrame,
    cands: gpd.GeoDataFrame,
    chosen_sites: np.ndarray,
    cover: sparse.csr_matrix,
    mobile_gap: np.ndarray,
    weight: np.ndarray,
    network: FibreNetwork,
    segment: np.ndarray,
    fibre_gap: np.ndarray,
    people: np.ndarray,
    em_people: np.ndarray,
    *,
    fibre_nodes: gpd.GeoDataFrame | None,
    crs: object,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray]:
    """The chosen investments in order of cost-effectiveness, each with the villages it
    newly serves (a village two sites reach is credited to the more cost-effective)."""
    mobile_pos = np.flatnonzero(mobile_gap)
    fibre_pos = np.flatnonzero(fibre_gap)
    csc = sparse.csc_matrix(cover)
    entries = []  # (kind, key, villages (positions in gaps), cost)
    for j in chosen_sites:
        rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        entries.append(("site", int(j), mobile_pos[rows], float(cands["cost_vnd"].iloc[j])))
    built = np.flatnonzero(segment)
    for root in np.unique(network.segment_root[built]):
        segs = built[network.segment_root[built] == root]
        villages = np.flatnonzero(np.isin(network.village_segment, segs))
        entries.append(("fibre", int(root), fibre_pos[villages],
                        float(network.segment_cost_vnd[segs].sum())))
    order, credited = _cost_effective_order(entries, weight)
    names = (gaps["village_name"].astype(str) if "village_name" in gaps
             else gaps["village_id"].astype(str)).to_numpy()
    ids = gaps["village_id"].astype(str).to_numpy()
    communes = (gaps["commune_name"] if "commune_name" in gaps
                else gaps.get("commune_id", pd.Series("", index=gaps.index)))
    communes = communes.astype(object).where(communes.notna(), "").astype(str).to_numpy()
    planned = [[] for _ in range(len(gaps))]
    rows, geoms, link_rows = [], [], []
    cumulative = 0.0
    n_site = n_fibre = 0
    for rank, e in enumerate(order, start=1):
        kind, key, _, cost = entries[e]
        served = credited[e]
        cumulative += cost
        if kind == "site":
            n_site += 1
            item_id = f"M{n_site}"
            cand = cands.iloc[key]
            point = cands.geometry.iloc[key]
            wgs = gpd.GeoSeries([point], crs=cands.crs).to_crs(4326).iloc[0]
            row = {"kind": cand["kind"], "candidate_id": cand["candidate_id"],
                   "generated_by": cand["generated_by"], "lon": wgs.x, "lat": wgs.y,
                   "route_km": np.nan, "route_road_km": np.nan, "route_offroad_km": np.nan}
            geoms.append(point)
            for v in served:
                link_rows.append({"item_id": item_id, "village_id": ids[v],
                                  "geometry": shapely.LineString([point, _loc(gaps, v)])})
        else:
            n_fibre += 1
            item_id = f"F{n_fibre}"
            segs = built[network.segment_root[built] == key]
            start = (fibre_nodes.to_crs(4326).geometry.iloc[key]
                     if fibre_nodes is not None else shapely.Point())
            row = {"kind": "fibre", "candidate_id": "", "generated_by": "fibre_route",
                   "lon": start.x, "lat": start.y,
                   "route_km": float(network.segment_length_km[segs].sum()),
                   "route_road_km": float(network.segment_road_km[segs].sum()),
                   "route_offroad_km": float(network.segment_offroad_km[segs].sum())}
            line = shapely.MultiLineString(list(network.segment_geometry[segs]))
            geoms.append(gpd.GeoSeries([line], crs=crs).to_crs(gaps.crs).iloc[0])
        for v in served:
            planned[v].append(item_id)
        row.update({
            "rank": rank, "item_id": item_id, "cost_vnd": cost,
            "cumulative_cost_vnd": cumulative,
            "villages_served": ";".join(ids[served]),
            "village_names": ";".join(names[served]),
            "people_served": float(people[served].sum()),
            "ethnic_minority_people_served": float(em_people[served].sum()),
            "communes": ";".join(dict.fromkeys(c for c in communes[served] if c)),
            "weight_served": float(weight[served].sum()),
        })
        rows.append(row)
    items = gpd.GeoDataFrame(pd.DataFrame(rows, columns=list(PLAN_COLUMNS)),
                             geometry=geoms if geoms else [], crs=gaps.crs)
    for col in ("lon", "lat"):
        items[col] = items[col].astype(float).round(6)
    for col in ("route_km", "route_road_km", "route_offroad_km"):
        items[col] = items[col].astype(float).round(3)
    links = gpd.GeoDataFrame(pd.DataFrame(link_rows, columns=["item_id", "village_id",
                                                              "geometry"]),
                             geometry="geometry", crs=gaps.crs)
    planned_by = np.array([";".join(p) for p in planned], dtype=object)
    return items, links, planned_by


def _loc(gaps: gpd.GeoDataFrame, position: int) -> shapely.Point:
    return village_locations(gaps.iloc[[position]]).iloc[0]


def _cost_effective_order(
    entries: list[tuple[str, int, np.ndarray, float]], weight: np.ndarray
) -> tuple[list[int], dict[int, np.ndarray]]:
    """Order items by newly-served weight per VND, crediting each village once (lazy greedy)."""
    taken = np.zeros(len(weight), dtype=bool)
    heap = []
    for e, (_, _, villages, cost) in enumerate(entries):
        heapq.heappush(heap, (-_ratio(weight[villages].sum(), cost), e))
    order: list[int] = []
    credited: dict[int, np.ndarray] = {}
    while heap:
        neg, e = heapq.heappop(heap)
        kind, _, villages, cost = entries[e]
        fresh = villages[~taken[villages]] if kind == "site" else villages
        ratio = _ratio(weight[fresh].sum(), cost)
        if heap and ratio < -heap[0][0] - 1e-12 and -neg > ratio + 1e-12:
            heapq.heappush(heap, (-ratio, e))
            continue
        order.append(e)
        credited[e] = fresh
        if kind == "site":
            taken[fresh] = True
    return order, credited


def _ratio(weight: float, cost: float) -> float:
    return float(weight) / cost if cost > 0 else math.inf


def _unservable(
    gaps: gpd.GeoDataFrame,
    cover: sparse.csr_matrix,
    mobile_gap: np.ndarray,
    network: FibreNetwork,
    fibre_gap: np.ndarray,
    config: Config,
) -> pd.DataFrame:
    rows = []
    ids = gaps["village_id"].astype(str).to_numpy()
    names = (gaps["village_name"].astype(str).to_numpy() if "village_name" in gaps
             else ids)
    no_site = np.asarray(cover.sum(axis=1)).ravel() == 0
    for v in np.flatnonzero(mobile_gap)[no_site]:
        rows.append((ids[v], names[v], "mobile", REASONS["no_candidate"]))
    for k, v in enumerate(np.flatnonzero(fibre_gap)):
        if network.village_segment[k] < 0:
            reason = "too_far" if np.isfinite(network.village_route_km[k]) else "no_fibre_route"
            rows.append((ids[v], names[v], "fibre", REASONS[reason]))
    return pd.DataFrame(rows, columns=["village_id", "village_name", "need", "reason"])


def _summary(
    budget: Budget, best: Solution, milp: Solution, greedy: Solution, problem: Problem,
    items: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, mobile_gap: np.ndarray,
    fibre_gap: np.ndarray, people: np.ndarray, em_people: np.ndarray,
    unservable: pd.DataFrame, cands: gpd.GeoDataFrame, network: FibreNetwork,
    curve: pd.DataFrame, config: Config, model: str,
) -> dict[str, Any]:
    served_ids = {i for s in items["villages_served"] for i in s.split(";") if i}
    ids = villages["village_id"].astype(str)
    is_site = (items["kind"] != "fibre").to_numpy()
    mobile_ids = {i for s in items["villages_served"][is_site] for i in s.split(";") if i}
    fibre_ids = {i for s in items["villages_served"][~is_site] for i in s.split(";") if i}

    def stats(chosen: set[str]) -> dict[str, float]:
        mask = ids.isin(chosen).to_numpy()
        return {"villages": int(mask.sum()), "people": round(float(people[mask].sum())),
                "ethnic_minority_people": round(float(em_people[mask].sum()))}

    site_cost, fibre_cost = problem.cost(best.site, best.segment)
    n_m, n_f = int(mobile_gap.sum()), int(fibre_gap.sum())
    costs = config.plan.costs
    return {
        "budget_vnd": budget.total,
        "budget": ({"shared_vnd": budget.total} if budget.shared else
                   {"mobile_vnd": budget.mobile_vnd, "fibre_vnd": budget.fibre_vnd}),
        "cost_used_vnd": site_cost + fibre_cost,
        "cost_mobile_vnd": site_cost,
        "cost_fibre_vnd": fibre_cost,
        "weight": config.plan.weight,
        "newly_served": {"mobile": stats(mobile_ids), "fibre": stats(fibre_ids),
                         "any": stats(served_ids)},
        "mobile_gap_villages": n_m,
        "fibre_gap_villages": n_f,
        "share_mobile_gap_closed": round(len(mobile_ids) / n_m, 4) if n_m else None,
        "share_fibre_gap_closed": round(len(fibre_ids) / n_f, 4) if n_f else None,
        "unservable": {"mobile": int((unservable["need"] == "mobile").sum()),
                       "fibre": int((unservable["need"] == "fibre").sum())},
        "unservable_villages": unservable.to_dict("records"),
        "items": {"sites": int(is_site.sum()), "fibre_extensions": int((~is_site).sum())},
        "candidates": {"considered": len(cands),
                       "by_origin": {str(k): int(v) for k, v in
                                     cands["generated_by"].value_counts().items()},
                       "coverage_model": model},
        "fibre_routes": network.note(config.plan),
        "solver": best.solver,
        "status": milp.status,
        "objective": round(milp.objective, 6),
        "greedy_objective": round(greedy.objective, 6),
        "bound": None if not math.isfinite(milp.bound) else round(milp.bound, 6),
        "gap": None if math.isnan(milp.gap) else round(milp.gap, 8),
        "solve_seconds": round(milp.seconds, 3),
        "greedy_seconds": round(greedy.seconds, 3),
        "unit_costs_vnd": {f: getattr(costs, f) for f in costs.__dataclass_fields__},
        "unit_costs_note": "indicative defaults; replace them with the province's own unit costs",
        "cost_to_close_all_vnd": sum(close_all_cost(problem)),
        "curve": curve.round(3).to_dict("records") if len(curve) else [],
    }
