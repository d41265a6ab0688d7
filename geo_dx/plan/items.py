"""What a plan says: its items (what, where, with whom), the villages each one serves, and
an answer for every gap village it leaves open.

Every item names what to build and whom to ask: a site item its candidate (``candidate_id``,
``name``, how it was found: ``generated_by``), the technology and antenna height it is
planned with (so anyone can rebuild it and find the gaps again), for an upgrade the
input site's own id (``site_ref``) and ``operator``; a fibre item the fibre node it starts
from (``start_node_id``, ``operator``) and the villages it lays new nodes at
(``route_ends``). Both say where the works are: ``lon``/``lat`` (the site; for fibre the
far village end of the route), ``elevation_m``, ``location_commune`` and
``road_distance_m`` (to the nearest road).

A village served by two items is credited once, to the more cost-effective; items are
listed in that order. Each village gets ``plan_item`` (the item serving it; an item for
mobile and one for fibre are ``;``-joined) and, for a gap the plan leaves open,
``plan_answer``: the cheapest single option that would close it and its cost (beyond the
budget, or not chosen), or that no proposed site or route reaches it.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from geo_dx.communes import placed
from geo_dx.i18n import N_, Translator, translator
from geo_dx.plan.candidates import point_refs
from geo_dx.plan.curve import close_all_cost
from geo_dx.plan.optimise import Budget, Solution, compact, route_prices
from geo_dx.plan.places import commune_labels, describe_places
from geo_dx.plan.technology import SERVICE, npv_cost_vnd, satellite_access_cost
from geo_dx.power import grid_power_summary
from geo_dx.spatial import village_locations

if TYPE_CHECKING:
    from geo_dx.plan.model import InvestmentPlan

#: plan.csv columns, in order.
PLAN_COLUMNS: tuple[str, ...] = (
    "rank", "item_id", "kind", "technology", "service", "candidate_id", "name", "generated_by",
    "site_ref", "start_node_id", "operator", "antenna_height_m", "lon", "lat", "elevation_m",
    "location_commune", "road_distance_m", "year", "power", "capex_vnd", "opex_vnd_per_year",
    "npv_cost_vnd", "cost_vnd", "cumulative_cost_vnd",
    "villages_served", "village_names", "people_served", "ethnic_minority_people_served",
    "communes", "route_km", "route_road_km", "route_offroad_km", "route_ends", "weight_served",
)
#: Why a village cannot be planned (user-facing, grouped for translation).
REASONS: dict[str, str] = {
    "no_candidate": "no candidate site serves it: satellite or other technology",
    "disputed": "measurements dispute mobile coverage here: a new site would be disputed too "
                "until measured again",
    "no_fibre_route": ("no fibre route from the network (no road or fibre node within "
                       "plan.max_offroad_km): satellite, microwave or other technology"),
    "too_far": "fibre route longer than plan.max_fibre_route_km: satellite, microwave or other",
}
#: ``plan_answer`` sentences (run language, Vietnamese by default).
ANSWERS: dict[str, str] = {
    "new_site": N_("needs a new site, {cost} bn VND"),
    "upgrade": N_("needs a site upgrade, {cost} bn VND"),
    "small_cell": N_("needs a small cell, {cost} bn VND"),
    "fibre": N_("needs a fibre route, {cost} bn VND"),
    "beyond": N_("beyond the budget"),
    "not_chosen": N_("within the budget but not chosen"),
    "nothing": N_("no proposed site or route reaches it"),
    "satellite": N_("satellite access (terminal and Wi-Fi hotspot): {capex} million VND, then "
                    "{opex} million VND a year"),
    "no_grid": N_("no grid electricity: the public telecom fund plans mobile sites only for "
                  "villages with grid power"),
    "no_site": N_("no proposed site reaches it"),
    "no_route": N_("no proposed fibre route reaches it"),
    "disputed": N_("measurements dispute coverage here: measure again once a site is built"),
    "misplaced": N_("location to check first: not planned"),
}


@dataclass(frozen=True)
class PlanChoice:
    """What was chosen: candidate positions, built segments, and how it was found."""

    site: np.ndarray
    segment: np.ndarray
    budget: Budget
    best: Solution
    milp: Solution
    greedy: Solution
    close_all_vnd: float
    #: Year each problem column / segment is built (0: never), for a schedule.
    site_year: np.ndarray | None = None
    segment_year: np.ndarray | None = None
    #: Positions of the villages given satellite access.
    access: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def describe_plan(
    model: InvestmentPlan, choice: PlanChoice
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame, dict[str, Any]]:
    """The items, the links (site → village), the villages with ``plan_item`` and
    ``plan_answer``, the unservable villages and the ``summary.json`` → ``plan`` section."""
    entries = _entries(model, choice)
    years = [_item_year(model, choice, kind, key) for kind, key, _, _ in entries]
    order, credited = _cost_effective_order(entries, model.weight, years)
    items, links, plan_item = _items(model, choice, entries, order, credited)
    villages = model.villages.copy()
    villages["plan_item"] = plan_item
    villages["plan_answer"] = _answers(model, choice, plan_item)
    unservable = _unservable(model)
    summary = _summary(model, choice, items, unservable)
    return items, links, villages, unservable, summary


def _entries(model: InvestmentPlan, choice: PlanChoice
             ) -> list[tuple[str, Any, np.ndarray, float]]:
    """(kind, key, villages it serves (positions), cost) per chosen site, fibre tree (per
    year of a schedule: key (root, year)) and satellite access."""
    entries = []
    served = sparse.csc_matrix(model.served)
    for j in choice.site:
        rows = served.indices[served.indptr[j]:served.indptr[j + 1]]
        entries.append(("site", int(j), model.mobile_rows[rows],
                        float(model.candidates["cost_vnd"].iloc[j])))
    net = model.network
    built = np.flatnonzero(choice.segment)
    by_segment = sparse.csc_matrix(model.fibre_served)
    year = (choice.segment_year if choice.segment_year is not None
            else np.zeros(net.n_segments, dtype=int))
    parts = zip(net.segment_root[built].tolist(), year[built].tolist(), strict=True)
    for root, when in sorted(set(parts)):
        segs = _tree_segments(model, choice, (root, when))  # a tree's part built in a year
        rows = np.unique(np.concatenate(
            [by_segment.indices[by_segment.indptr[s]:by_segment.indptr[s + 1]] for s in segs]))
        entries.append(("fibre", (root, when), model.fibre_rows[rows],
                        float(net.segment_cost_vnd[segs].sum())))
    for v in choice.access:
        entries.append(("access", int(v), np.array([v]), model.access.cost_vnd))
    return entries


def _cost_effective_order(
    entries: list[tuple[str, Any, np.ndarray, float]], weight: np.ndarray, years: list[float]
) -> tuple[list[int], dict[int, np.ndarray]]:
    """Order items by year (a schedule), then by newly-served weight per VND, crediting each
    village once per need (mobile, fibre, satellite access) to the first item in that order
    (lazy greedy)."""
    taken = {kind: np.zeros(len(weight), dtype=bool) for kind in ("site", "fibre", "access")}
    when = [0.0 if np.isnan(y) else float(y) for y in years]
    heap = [(when[e], -_ratio(weight[v].sum(), cost), e)
            for e, (_, _, v, cost) in enumerate(entries)]
    heapq.heapify(heap)
    order: list[int] = []
    credited: dict[int, np.ndarray] = {}
    while heap:
        year, neg, e = heapq.heappop(heap)
        kind, _, villages, cost = entries[e]
        fresh = villages[~taken[kind][villages]]
        ratio = _ratio(weight[fresh].sum(), cost)
        if heap and (year, -ratio) > heap[0][:2] and -neg > ratio + 1e-12:
            heapq.heappush(heap, (year, -ratio, e))
            continue
        order.append(e)
        credited[e] = fresh
        taken[kind][fresh] = True
    return order, credited


def _ratio(weight: float, cost: float) -> float:
    return float(weight) / cost if cost > 0 else math.inf


def _items(
    model: InvestmentPlan,
    choice: PlanChoice,
    entries: list[tuple[str, Any, np.ndarray, float]],
    order: list[int],
    credited: dict[int, np.ndarray],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray]:
    villages = model.villages
    ids = villages["village_id"].astype(str).to_numpy()
    names = (villages["village_name"].astype(str) if "village_name" in villages
             else villages["village_id"].astype(str)).to_numpy()
    communes = commune_labels(villages)
    people, em_people = people_counts(villages)
    planned: list[list[str]] = [[] for _ in range(len(villages))]
    rows, geoms, places, link_rows = [], [], [], []
    cumulative = 0.0
    counts = {"site": 0, "fibre": 0, "access": 0}
    for rank, e in enumerate(order, start=1):
        kind, key, _, cost = entries[e]
        served = credited[e]
        cumulative += cost
        counts[kind] += 1
        if kind == "site":
            item_id = f"M{counts['site']}"
            row, geom = _site_row(model, key)
            for v in served:
                link_rows.append({"item_id": item_id, "village_id": ids[v],
                                  "geometry": shapely.LineString([geom, _loc(villages, v)])})
        elif kind == "fibre":
            item_id = f"F{counts['fibre']}"
            row, geom = _fibre_row(model, key[0], _tree_segments(model, choice, key))
        else:
            item_id = f"S{counts['access']}"
            row, geom = _access_row(model, key)
        geoms.append(geom)
        places.append(row.pop("_at"))
        for v in served:
            planned[v].append(item_id)
        row.update({
            "rank": rank, "item_id": item_id, "cost_vnd": cost,
            "year": _item_year(model, choice, kind, key),
            "cumulative_cost_vnd": cumulative,
            "villages_served": ";".join(ids[served]),
            "village_names": ";".join(names[served]),
            "people_served": float(people[served].sum()),
            "ethnic_minority_people_served": float(em_people[served].sum()),
            "communes": ";".join(dict.fromkeys(c for c in communes[served] if c)),
            "weight_served": float(model.weight[served].sum()),
        })
        rows.append(row)
    items = gpd.GeoDataFrame(pd.DataFrame(rows, columns=list(PLAN_COLUMNS)),
                             geometry=geoms if geoms else [], crs=villages.crs)
    items["year"] = items["year"].astype("Float64").astype("Int64")
    describe_places(model, items, gpd.GeoSeries(places, crs=villages.crs))
    links = gpd.GeoDataFrame(pd.DataFrame(link_rows, columns=["item_id", "village_id",
                                                              "geometry"]),
                             geometry="geometry", crs=villages.crs)
    plan_item = np.array([";".join(p) for p in planned], dtype=object)
    return items, links, plan_item


def _item_year(model: InvestmentPlan, choice: PlanChoice, kind: str, key: Any) -> float:
    """The year an item is built (NaN without a schedule)."""
    if kind == "access":
        if choice.site_year is None:
            return np.nan
        at = model.access.first_column + int(np.flatnonzero(model.access.villages == key)[0])
        return float(choice.site_year[at])
    if kind == "site":
        if choice.site_year is None:
            return np.nan
        column = np.flatnonzero(model.columns == key)
        return float(choice.site_year[column[0]]) if len(column) else np.nan
    return float(key[1]) if choice.segment_year is not None else np.nan


def _tree_segments(model: InvestmentPlan, choice: PlanChoice, key: tuple[int, int]
                   ) -> np.ndarray:
    """The built segments of fibre tree ``key = (root, year)`` (year 0: not a schedule)."""
    built = choice.segment & (model.network.segment_root == key[0])
    if choice.segment_year is not None:
        built &= choice.segment_year == key[1]
    return np.flatnonzero(built)


def _site_row(model: InvestmentPlan, j: int) -> tuple[dict[str, Any], shapely.Point]:
    cand = model.candidates.iloc[j]
    point = model.candidates.geometry.iloc[j]
    ref = cand["site_ref"]
    return ({"kind": cand["kind"], "technology": _text(cand.get("technology")) or "4g",
             "service": "4g",
             "candidate_id": cand["candidate_id"], "power": _text(cand.get("power")),
             "capex_vnd": float(cand.get("capex_vnd", cand["cost_vnd"])),
             "opex_vnd_per_year": float(cand.get("opex_vnd_per_year", 0.0)),
             "npv_cost_vnd": float(cand.get("npv_cost_vnd", cand["cost_vnd"])),
             "name": _text(cand["name"]), "generated_by": cand["generated_by"],
             "site_ref": _text(ref), "start_node_id": "", "operator": _text(cand["operator"]),
             "antenna_height_m": float(cand["antenna_height_m"]),
             "elevation_m": float(cand["elevation_m"]), "route_km": np.nan,
             "route_road_km": np.nan, "route_offroad_km": np.nan, "route_ends": "",
             "_at": point}, point)


def _access_row(model: InvestmentPlan, v: int) -> tuple[dict[str, Any], shapely.Point]:
    """Satellite access for village ``v``: a terminal and Wi-Fi hotspot in the village."""
    access, villages = model.access, model.villages
    point = _loc(villages, v)
    power = model.grid_power[v] if len(model.grid_power) else "unknown"
    return ({"kind": "satellite_access", "technology": "satellite_access",
             "service": SERVICE["satellite_access"], "candidate_id": "", "name": "",
             "power": "solar" if power == "no" else "grid",
             "capex_vnd": access.capex_vnd, "opex_vnd_per_year": access.opex_vnd_per_year,
             "npv_cost_vnd": access.npv_cost_vnd, "generated_by": "gap_village",
             "site_ref": "", "start_node_id": "", "operator": "", "antenna_height_m": np.nan,
             "elevation_m": np.nan, "route_km": np.nan, "route_road_km": np.nan,
             "route_offroad_km": np.nan, "route_ends": "", "_at": point}, point)


def _fibre_row(model: InvestmentPlan, root: int, segs: np.ndarray
               ) -> tuple[dict[str, Any], shapely.Geometry]:
    net, built_to = model.network, model.fibre_rows
    ends = np.flatnonzero(np.isin(net.village_segment, segs))
    far = ends[np.argmax(net.village_route_km[ends])] if len(ends) else -1
    villages = model.villages
    at = (_loc(villages, built_to[far]) if far >= 0 else shapely.Point())
    nodes = model.fibre_nodes
    node = nodes.iloc[root] if nodes is not None and len(nodes) > root else None
    line = shapely.MultiLineString(list(net.segment_geometry[segs]))
    geom = gpd.GeoSeries([line], crs=model.crs).to_crs(villages.crs).iloc[0]
    ids = villages["village_id"].astype(str).to_numpy()
    capex = float(net.segment_cost_vnd[segs].sum())
    upkeep = model.config.plan.costs.fibre_opex_vnd_per_km_year
    opex = float(net.segment_length_km[segs].sum()) * upkeep
    return ({"kind": "fibre", "technology": "fibre", "service": "fibre", "candidate_id": "",
             "name": "",
             "power": "", "capex_vnd": capex, "opex_vnd_per_year": opex,
             "npv_cost_vnd": float(npv_cost_vnd(capex, opex, config=model.config)),
             "generated_by": "fibre_route", "site_ref": "",
             "start_node_id": point_refs(nodes.iloc[[root]])[0] if node is not None else "",
             "operator": _text(node.get("operator")) if node is not None else "",
             "antenna_height_m": np.nan, "elevation_m": np.nan,
             "route_km": float(net.segment_length_km[segs].sum()),
             "route_road_km": float(net.segment_road_km[segs].sum()),
             "route_offroad_km": float(net.segment_offroad_km[segs].sum()),
             "route_ends": ";".join(ids[built_to[ends]]), "_at": at}, geom)


def people_counts(villages: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """
    People and ethnic-minority people per village (missing: 0).

    People: ``population_used`` when scored, else ``population``; ethnic-minority people:
    people × ``ethnic_minority_share_used`` (else ``ethnic_minority_share``).

    Examples
    --------
    >>> people_counts(pd.DataFrame({"population": [100, None],
    ...                             "ethnic_minority_share": [0.5, 1.0]}))[1].tolist()
    [50.0, 0.0]
    """
    pop = next((villages[c] for c in ("population_used", "population") if c in villages), None)
    people = (pop.astype(float).fillna(0.0).to_numpy() if pop is not None
              else np.zeros(len(villages)))
    share = next((villages[c] for c in ("ethnic_minority_share_used", "ethnic_minority_share")
                  if c in villages), None)
    em = (share.astype(float).fillna(0.0).to_numpy() if share is not None
          else np.zeros(len(villages)))
    return people, people * em


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _loc(villages: gpd.GeoDataFrame, position: int) -> shapely.Point:
    return village_locations(villages.iloc[[position]]).iloc[0]


def _served_now(model: InvestmentPlan, choice: PlanChoice) -> tuple[np.ndarray, np.ndarray]:
    """Masks over all villages: newly served by mobile, by fibre."""
    mobile = np.zeros(len(model.villages), dtype=bool)
    fibre = np.zeros(len(model.villages), dtype=bool)
    site = np.zeros(model.served.shape[1], dtype=bool)
    site[choice.site] = True
    mobile[model.mobile_rows[_any(model.served, site)]] = True
    fibre[model.fibre_rows[_any(model.fibre_served, choice.segment)]] = True
    return mobile, fibre


def _any(matrix: sparse.spmatrix, chosen: np.ndarray) -> np.ndarray:
    if matrix.shape[0] == 0 or not chosen.any():
        return np.zeros(matrix.shape[0], dtype=bool)
    return np.asarray(sparse.csr_matrix(matrix) @ chosen.astype(float)).ravel() > 0


def _answers(model: InvestmentPlan, choice: PlanChoice, plan_item: np.ndarray) -> np.ndarray:
    """``plan_answer``: for every gap the plan leaves open, what would close it."""
    villages, budget = model.villages, choice.budget
    tr = translator(model.config.language)
    answer = np.full(len(villages), "", dtype=object)
    mobile_now, fibre_now = _served_now(model, choice)
    site_cost, fibre_cost = model.problem.cost(choice.best.site, choice.best.segment)
    left = ({"site": budget.total - site_cost - fibre_cost,
             "fibre": budget.total - site_cost - fibre_cost} if budget.shared else
            {"site": float(budget.mobile_vnd) - site_cost,  # type: ignore[arg-type]
             "fibre": float(budget.fibre_vnd) - fibre_cost})  # type: ignore[arg-type]
    needs: dict[int, list[tuple[str, float | None]]] = {}
    cost = model.candidates["cost_vnd"].to_numpy(dtype=float)
    kinds = model.candidates["kind"].astype(str).to_numpy()
    served = sparse.csr_matrix(model.served)
    for i, v in enumerate(model.mobile_rows):
        if mobile_now[v]:
            continue
        cols = served.indices[served.indptr[i]:served.indptr[i + 1]]
        if model.disputed[i]:
            needs.setdefault(v, []).append(("disputed", None))
        elif len(cols):
            j = cols[np.argmin(cost[cols])]
            needs.setdefault(v, []).append((kinds[j], cost[j]))
        else:
            needs.setdefault(v, []).append(("no_site", None))
    price = route_prices(model.problem.segment_parent, model.problem.segment_cost,
                         choice.segment)
    by_segment = sparse.csr_matrix(model.fibre_served)
    for k, v in enumerate(model.fibre_rows):
        if fibre_now[v]:
            continue
        segs = by_segment.indices[by_segment.indptr[k]:by_segment.indptr[k + 1]]
        needs.setdefault(v, []).append(("fibre", float(price[segs].min())) if len(segs)
                                       else ("no_route", None))
    for v in np.flatnonzero(model.no_grid):
        if not mobile_now[v]:
            needs.setdefault(v, []).insert(0, ("no_grid", None))
    sat_capex, sat_opex, _ = satellite_access_cost(model.config)
    satellite = tr.gettext(ANSWERS["satellite"], capex=tr.number(sat_capex / 1e6, decimals=0),
                           opex=tr.number(sat_opex / 1e6, decimals=1))
    given = set(choice.access.tolist())
    for v, wanted in needs.items():
        answer[v] = _sentence(wanted, left, tr)
        if v not in given and any(k in ("no_site", "no_route", "no_grid") for k, _ in wanted):
            answer[v] += "; " + satellite
    gap = (~villages["has_mobile_broadband"].astype(bool) | ~villages["has_fibre"].astype(bool))
    answer[(gap & ~placed(villages)).to_numpy()] = tr.gettext(ANSWERS["misplaced"])
    return answer


def _sentence(wanted: list[tuple[str, float | None]], left: dict[str, float],
              tr: Translator) -> str:
    if {k for k, _ in wanted} == {"no_site", "no_route"}:
        return tr.gettext(ANSWERS["nothing"])
    parts = []
    for key, cost in wanted:
        if cost is None:
            parts.append(tr.gettext(ANSWERS[key]))
            continue
        pool = "fibre" if key == "fibre" else "site"
        status = "beyond" if cost > left[pool] + 1e-6 else "not_chosen"
        parts.append(tr.gettext(ANSWERS[key], cost=tr.number(cost / 1e9, decimals=1))
                     + "; " + tr.gettext(ANSWERS[status]))
    return "; ".join(parts)


def _unservable(model: InvestmentPlan) -> pd.DataFrame:
    """Gap villages no candidate or fibre route can serve, and why."""
    villages = model.villages
    ids = villages["village_id"].astype(str).to_numpy()
    names = (villages["village_name"].astype(str).to_numpy() if "village_name" in villages
             else ids)
    rows = []
    no_site = np.diff(sparse.csr_matrix(model.served).indptr) == 0
    for i in np.flatnonzero(no_site):
        v = model.mobile_rows[i]
        reason = "disputed" if model.disputed[i] else "no_candidate"
        rows.append((ids[v], names[v], "mobile", REASONS[reason]))
    no_route = np.diff(sparse.csr_matrix(model.fibre_served).indptr) == 0
    too_far = np.isfinite(model.network.village_route_km)
    for k in np.flatnonzero(no_route):
        v = model.fibre_rows[k]
        rows.append((ids[v], names[v], "fibre",
                     REASONS["too_far" if too_far[k] else "no_fibre_route"]))
    return pd.DataFrame(rows, columns=["village_id", "village_name", "need", "reason"])


def _summary(model: InvestmentPlan, choice: PlanChoice, items: gpd.GeoDataFrame,
             unservable: pd.DataFrame) -> dict[str, Any]:
    villages, config, problem = model.villages, model.config, model.problem
    best, milp, greedy, budget = choice.best, choice.milp, choice.greedy, choice.budget
    people, em_people = people_counts(villages)
    ids = villages["village_id"].astype(str)
    is_access = (items["kind"] == "satellite_access").to_numpy()
    is_site = (items["kind"] != "fibre").to_numpy() & ~is_access

    def credited(mask: np.ndarray) -> set[str]:
        return {i for s in items["villages_served"][mask] for i in s.split(";") if i}

    def stats(chosen: set[str]) -> dict[str, float]:
        mask = ids.isin(chosen).to_numpy()
        return {"villages": int(mask.sum()), "people": round(float(people[mask].sum())),
                "ethnic_minority_people": round(float(em_people[mask].sum()))}

    mobile_ids, fibre_ids = credited(is_site), credited(~is_site & ~is_access)
    site_cost, fibre_cost = problem.cost(best.site, best.segment)
    access_cost = len(choice.access) * model.access.cost_vnd
    n_m, n_f = len(model.mobile_rows), len(model.fibre_rows)
    costs = config.plan.costs
    rows = compact(problem)
    bound = milp.bound if math.isfinite(milp.bound) else None
    return {
        "budget_vnd": budget.total,
        "budget": ({"shared_vnd": budget.total} if budget.shared else
                   {"mobile_vnd": budget.mobile_vnd, "fibre_vnd": budget.fibre_vnd}),
        "cost_used_vnd": site_cost + fibre_cost,
        "cost_mobile_vnd": site_cost - access_cost,
        "cost_fibre_vnd": fibre_cost,
        "cost_satellite_access_vnd": access_cost,
        "weight": config.plan.weight,
        "coverage_model": model.model,
        "newly_served": {"mobile": stats(mobile_ids), "fibre": stats(fibre_ids),
                         "any": stats(mobile_ids | fibre_ids),
                         "satellite_access": stats(credited(is_access))},
        "left": _left(model, choice),
        "grid_power": _grid_power(model),
        "mobile_gap_villages": n_m,
        "fibre_gap_villages": n_f,
        "share_mobile_gap_closed": round(len(mobile_ids) / n_m, 4) if n_m else None,
        "share_fibre_gap_closed": round(len(fibre_ids) / n_f, 4) if n_f else None,
        "unservable": {"mobile": int((unservable["need"] == "mobile").sum()),
                       "fibre": int((unservable["need"] == "fibre").sum())},
        "unservable_villages": unservable.to_dict("records"),
        "disputed_villages": int(model.disputed.sum()),
        "items": {"sites": int(is_site.sum()),
                  "fibre_extensions": int((~is_site & ~is_access).sum()),
                  "satellite_access": int(is_access.sum())},
        "candidates": {"considered": len(model.candidates),
                       "by_origin": {str(k): int(v) for k, v in
                                     model.candidates["generated_by"].value_counts().items()},
                       "coverage_model": model.model},
        "fibre_routes": model.network.note(config.plan),
        "solver": best.solver,
        "status": milp.status,
        "objective": round(best.objective, 6),
        "greedy_objective": round(greedy.objective, 6),
        "bound": None if bound is None else round(bound, 6),
        "gap": None if math.isnan(milp.gap) else round(best.gap if best is milp else milp.gap, 8),
        "greedy_within_bound": (None if bound is None or bound <= 0 else
                                round(max(bound - greedy.objective, 0.0) / bound, 6)),
        "milp_rows": {"villages": rows.villages, "rows": int(rows.rows.shape[0]),
                      "single_item": int((rows.column_weight > 0).sum())},
        "solve_seconds": round(milp.seconds, 3),
        "greedy_seconds": round(greedy.seconds, 3),
        "unit_costs_vnd": {f: getattr(costs, f) for f in costs.__dataclass_fields__},
        "unit_costs_note": "indicative defaults; replace them with the province's own unit costs",
        "cost_to_close_all_vnd": choice.close_all_vnd,
        "curve": [],
    }


def _left(model: InvestmentPlan, choice: PlanChoice) -> dict[str, Any]:
    """Gap villages the plan leaves without full service (4G, fibre) and what closing
    them costs on top of it (every one any option reaches; satellite access for the rest)."""
    mobile_now, fibre_now = _served_now(model, choice)
    mobile = np.zeros(len(model.villages), dtype=bool)
    mobile[model.mobile_rows] = True
    mobile |= model.no_grid
    fibre = np.zeros(len(model.villages), dtype=bool)
    fibre[model.fibre_rows] = True
    mobile &= ~mobile_now
    fibre &= ~fibre_now
    satellite = np.zeros(len(model.villages), dtype=bool)
    satellite[choice.access] = True
    rest = model.problem.paid(choice.best.site, choice.best.segment)
    _, site_cost, fibre_cost = close_all_cost(rest, time_limit_s=model.config.plan.time_limit_s)
    return {"villages": int((mobile | fibre).sum()), "mobile": int(mobile.sum()),
            "fibre": int(fibre.sum()), "with_satellite_access": int(satellite.sum()),
            "cost_to_close_vnd": site_cost + fibre_cost}


def _grid_power(model: InvestmentPlan) -> dict[str, int]:
    """Gap villages (placed) by grid power: ``yes``, ``no``, ``unknown``."""
    v = model.villages
    gap = (~v["has_mobile_broadband"].astype(bool) | ~v["has_fibre"].astype(bool)) & placed(v)
    power = model.grid_power if len(model.grid_power) else np.full(len(v), "unknown")
    return grid_power_summary(pd.Series(power[gap.to_numpy()], dtype=object))
