"""The investment plan: which sites and fibre routes close the most important gaps in a budget.

:class:`InvestmentPlan` is the model, in spopt's shape: built once from the villages
with their gaps (:meth:`InvestmentPlan.from_gaps`: candidates, who serves whom, the
fibre network, the weights), then solved for a budget (:meth:`InvestmentPlan.solve`)
or for a ladder of budgets (:meth:`InvestmentPlan.curve`). :func:`plan` is the thin
function notebooks call.

Which villages an item is credited with is the gap rule's answer, asked of
:mod:`geo_dx.signal.served` under the model the gaps were found with: a candidate is a
4G site at its antenna height; a fibre route lays a node at each village it reaches,
which serves the villages within the fibre reach of it. Finding the gaps again with the
chosen items built changes the class of exactly the villages the plan claims.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from geo_dx.communes import placed
from geo_dx.config import Config
from geo_dx.dem import DemGrid, dem_for
from geo_dx.disputes import contested
from geo_dx.errors import InputError
from geo_dx.plan.access import Access, access_villages, with_access
from geo_dx.plan.candidates import as_coverage_sites, plan_candidates
from geo_dx.plan.curve import budget_curve, close_all_cost, served_counts, with_years
from geo_dx.plan.items import PLAN_COLUMNS, PlanChoice, describe_plan, people_counts
from geo_dx.plan.optimise import Budget, Problem, solve_greedy, solve_milp
from geo_dx.plan.routes import FibreNetwork, fibre_routes
from geo_dx.plan.schedule import (
    first_years,
    schedule_summary,
    scheduled_choice,
    yearly_budgets,
)
from geo_dx.plan.technology import segment_cost_vnd, with_technology
from geo_dx.power import village_grid_power
from geo_dx.signal.served import mobile_model, served_matrix
from geo_dx.spatial import village_locations, working_crs

if TYPE_CHECKING:
    from geo_dx.signal.calibration import Calibration

logger = logging.getLogger(__name__)

__all__ = ["PLAN_COLUMNS", "InvestmentPlan", "PlanResult", "plan", "village_weights"]


@dataclass(frozen=True)
class PlanResult:
    """
    What the plan chose and what it buys.

    Attributes
    ----------
    items
        One row per investment in order of cost-effectiveness (the ``plan.csv`` columns),
        geometry: the site, or the fibre route (MultiLineString).
    villages
        The input villages with ``plan_item`` (the item serving the village, ``;``-joined
        when one item brings mobile and another fibre; else empty) and ``plan_answer``
        (for a gap village the plan leaves open: the cheapest single option that would
        close it and its cost, or that nothing proposed reaches it; in the run's language).
    candidates
        Every candidate considered (prepared), with ``villages_in_reach`` and ``chosen``.
    served
        Sparse villages without mobile broadband × candidates: who serves whom.
    served_village_ids
        Row labels of ``served`` (village ids).
    links
        Lines from each chosen site to each village it newly serves (for the map).
    curve
        The budget curve (:data:`geo_dx.plan.curve.CURVE_COLUMNS`); empty when not asked.
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


@dataclass(frozen=True)
class InvestmentPlan:
    """
    The investment plan model: who serves whom, the fibre network, the weights.

    Build it with :meth:`from_gaps`, then :meth:`solve` it for a budget (as many times as
    wanted) or draw its budget :meth:`curve`.

    Attributes
    ----------
    villages
        Every village, as given (with ``has_fibre``, ``has_mobile_broadband``...).
    candidates
        The prepared candidate sites, with ``villages_in_reach``.
    served
        Villages without mobile broadband (``mobile_rows``) × candidates.
    fibre_served
        Villages without fibre (``fibre_rows``) × fibre segments: building the segment
        lays a node at the village it ends at, which serves these villages.
    network
        The fibre routes (:class:`geo_dx.plan.routes.FibreNetwork`).
    problem
        The choice on arrays (:class:`geo_dx.plan.optimise.Problem`); its site columns are
        the candidates at ``columns`` (duplicates serving the same villages at a higher
        cost, and candidates serving nobody, are left out), then one satellite access
        column per village of ``access``; its mobile rows are the villages at
        ``mobile_rows``, then one row per village of ``access``.
    weight
        What newly serving each village is worth (``plan.weight``).
    model
        The mobile model of the gaps (``radius``, ``terrain``, ``itm``).
    """

    villages: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    served: sparse.csr_matrix
    fibre_served: sparse.csr_matrix
    network: FibreNetwork
    problem: Problem
    columns: np.ndarray
    weight: np.ndarray
    mobile_rows: np.ndarray
    fibre_rows: np.ndarray
    model: str
    config: Config
    crs: object
    fibre_nodes: gpd.GeoDataFrame | None = None
    dem: DemGrid | None = None
    roads: gpd.GeoSeries | None = None
    communes: gpd.GeoDataFrame | None = None
    disputed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    #: Villages without mobile broadband left out because they have no grid power
    #: (``plan.require_grid_power``), per village.
    no_grid: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    #: Satellite access for the gap villages nothing else reaches (:mod:`geo_dx.plan.access`).
    access: Access = field(default_factory=Access.none)
    #: Each village's grid power: yes, no, unknown (:func:`geo_dx.power.village_grid_power`).
    grid_power: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))

    @classmethod
    def from_gaps(
        cls,
        villages: gpd.GeoDataFrame,
        *,
        candidates: gpd.GeoDataFrame | None = None,
        coverage: gpd.GeoDataFrame | None = None,
        dem: DemGrid | str | Path | None = None,
        roads: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
        fibre: gpd.GeoDataFrame | None = None,
        communes: gpd.GeoDataFrame | None = None,
        config: Config | None = None,
        calibration: Calibration | None = None,
        power_lines: gpd.GeoDataFrame | None = None,
    ) -> InvestmentPlan:
        """
        Build the plan model from every village with its gaps.

        Parameters
        ----------
        villages
            Every village with ``has_fibre`` and ``has_mobile_broadband`` (``find_gaps``),
            and ``score`` when ``plan.weight = "priority"`` (``geo_dx.score``). Villages
            with a ``location_issue`` are not planned for.
        candidates
            Validated candidate sites (:func:`geo_dx.plan.candidates.read_candidates`);
            with ``plan.generate = "auto"`` (default) generated only without them.
        coverage
            Existing coverage points: 2G/3G sites become upgrade candidates; its fibre
            points are the network when ``fibre`` is not given.
        dem
            The DEM ``find_gaps`` used (required by the terrain and itm models).
        roads
            Road lines for fibre routes; without them, straight lines × ``detour_factor``.
        fibre
            Existing fibre nodes (points).
        communes
            Commune polygons, to name the commune each work lies in (else the commune of
            the nearest village).
        config
            The gap rule's options (the model, reach, terrain, signal) and ``plan``.
        calibration
            The signal calibration ``find_gaps`` applied (itm model), if any.
        power_lines
            Power lines: where a new site gets grid or solar power, which villages have
            grid power (after their own ``has_grid_power``; see :mod:`geo_dx.power`).

        Examples
        --------
        >>> import geo_dx
        >>> demo = geo_dx.load_demo()
        >>> gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
        >>> model = InvestmentPlan.from_gaps(gaps, coverage=demo.coverage,
        ...                                  config=geo_dx.config_from_dict(
        ...                                      {"plan": {"weight": "count"}}))
        >>> model.model, model.served.shape[0] == int((~gaps.has_mobile_broadband).sum())
        ('radius', True)
        >>> result = model.solve(5e9)
        >>> bool(result.summary["cost_used_vnd"] <= 5e9)
        True
        """
        config = config or Config()
        _check_villages(villages)
        grid = dem_for(dem, villages, crs=config.crs)
        crs = grid.crs if grid is not None else working_crs(villages, config.crs)
        model = _model(villages, config, grid)
        weight = village_weights(villages, config.plan.weight)
        located = placed(villages).to_numpy()  # misplaced villages: no place to build for
        mobile_gap = ~villages["has_mobile_broadband"].astype(bool).to_numpy() & located
        no_grid = np.zeros(len(villages), dtype=bool)
        power = village_grid_power(villages, power_lines,
                                   grid_distance_m=config.plan.grid_village_distance_m,
                                   crs=config.crs).to_numpy()
        if config.plan.require_grid_power:
            no_grid = mobile_gap & (power == "no")
            if no_grid.any():
                logger.warning("plan.require_grid_power: %d village(s) without grid power are "
                               "answered, not planned for mobile", int(no_grid.sum()))
        mobile_rows = np.flatnonzero(mobile_gap & ~no_grid)
        fibre_rows = np.flatnonzero(~villages["has_fibre"].astype(bool).to_numpy() & located)
        cands = plan_candidates(villages, candidates, coverage=coverage, dem=grid,
                                config=config, crs=crs)
        cands = with_technology(cands, villages=villages, coverage=coverage,
                                fibre_nodes=_fibre_nodes(coverage, fibre), dem=grid,
                                power_lines=power_lines, config=config, crs=crs)
        mobile = villages.iloc[mobile_rows]
        cover = served_matrix(mobile, as_coverage_sites(cands), model=model, crs=crs, dem=grid,
                              config=config, calibration=calibration)
        # where measurements dispute declared coverage, a new declared site is disputed too
        disputed = contested(mobile, config=config)
        cover = sparse.csr_matrix(sparse.diags((~disputed).astype(float)) @ cover, dtype=bool)
        cands["villages_in_reach"] = np.asarray(cover.sum(axis=0)).ravel().astype(int)
        nodes = _fibre_nodes(coverage, fibre)
        lines = _road_lines(roads, crs)
        network = _network(villages.iloc[fibre_rows], nodes, lines, crs, config, grid)
        fibre_served = _fibre_served(villages.iloc[fibre_rows], network, model, crs, grid,
                                     config)
        problem, columns = _problem(cands, cover, weight[mobile_rows], fibre_served,
                                    weight[fibre_rows], network, config)
        offered = access_villages(len(villages), mobile_rows=mobile_rows, disputed=disputed,
                                  no_grid=no_grid, fibre_rows=fibre_rows,
                                  fibre_cover=fibre_served)
        problem, access = with_access(problem, offered, weight, mobile_rows, config=config)
        return cls(villages, cands, cover, fibre_served, network, problem, columns, weight,
                   mobile_rows, fibre_rows, model, config, crs, fibre_nodes=nodes, dem=grid,
                   roads=None if lines is None else gpd.GeoSeries(lines, crs=crs),
                   communes=communes, disputed=disputed, no_grid=no_grid, access=access,
                   grid_power=power)

    def solve(self, budget_vnd: float | str | dict[str, float] | Budget) -> PlanResult:
        """
        Choose what to build within ``budget_vnd``: the best weight, and among the
        choices with it the cheapest (see :mod:`geo_dx.plan.optimise`).

        ``budget_vnd`` is one shared budget (e.g. ``30e9``) or ``{"mobile": .., "fibre": ..}``.
        The result has no budget curve (see :meth:`curve`, or :func:`plan`).
        """
        budget = Budget.parse(budget_vnd)
        greedy = solve_greedy(self.problem, budget)
        milp = solve_milp(self.problem, budget, time_limit_s=self.config.plan.time_limit_s,
                          start=greedy)
        best = milp if milp.objective >= greedy.objective - 1e-9 else greedy
        choice = PlanChoice(site=self.candidate_positions(best.site), segment=best.segment,
                            budget=budget, best=best, milp=milp, greedy=greedy,
                            close_all_vnd=float(sum(self.close_all_vnd)),
                            access=self.access.chosen(best.site))
        items, links, villages, unservable, summary = describe_plan(self, choice)
        return self._result(choice, items, links, villages, unservable, summary)

    def candidate_positions(self, site: np.ndarray) -> np.ndarray:
        """Positions in :attr:`candidates` of the candidate columns set in a site choice."""
        return self.columns[np.asarray(site, dtype=bool)[:len(self.columns)]]

    @functools.cached_property
    def close_all_vnd(self) -> tuple[float, float]:
        """(mobile, fibre) cost of the cheapest choice serving every village that can be
        served (:func:`geo_dx.plan.curve.close_all_cost`), solved once."""
        _, mobile, fibre = close_all_cost(self.problem,
                                          time_limit_s=self.config.plan.time_limit_s)
        return mobile, fibre

    def schedule(self, budgets: Mapping[int, float]) -> PlanResult:
        """
        Build the plan year by year (``budgets``: year → VND; see :mod:`geo_dx.plan.schedule`).

        Items get their ``year``, the villages ``plan_year`` (the first year something is
        built for them) and the summary a ``schedule`` section.

        Examples
        --------
        >>> import geo_dx
        >>> demo = geo_dx.load_demo()
        >>> gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
        >>> model = InvestmentPlan.from_gaps(gaps, coverage=demo.coverage,
        ...     config=geo_dx.config_from_dict({"plan": {"weight": "count"}}))
        >>> result = model.schedule({2026: 3e9, 2027: 3e9})
        >>> sorted(set(result.items["year"].astype(int)))
        [2026, 2027]
        """
        choice, years = scheduled_choice(self, budgets)
        items, links, villages, unservable, summary = describe_plan(self, choice)
        villages["plan_year"] = first_years(
            villages.index, [(np.r_[self.mobile_rows, self.access.villages], self.problem.cover,
                              years.site_year),
                             (self.fibre_rows, self.problem.fibre_cover, years.segment_year)])
        summary["schedule"] = schedule_summary(years.years, items)
        people, em_people = people_counts(self.villages)
        for entry in summary["schedule"]:  # what the schedule serves by the end of each year
            by_then = [(built > 0) & (built <= entry["year"])
                       for built in (years.site_year, years.segment_year)]
            entry["so_far"] = served_counts(
                self.problem, *by_then, mobile_rows=self.mobile_rows, fibre_rows=self.fibre_rows,
                access_rows=self.access.villages, people=people, em_people=em_people)
        return self._result(choice, items, links, villages, unservable, summary)

    def _result(self, choice: PlanChoice, items: gpd.GeoDataFrame, links: gpd.GeoDataFrame,
                villages: gpd.GeoDataFrame, unservable: pd.DataFrame,
                summary: dict[str, Any]) -> PlanResult:
        cands = self.candidates.copy()
        cands["chosen"] = False
        cands.loc[choice.site, "chosen"] = True
        return PlanResult(items, villages, cands, self.served,
                          pd.Index(self.villages["village_id"].iloc[self.mobile_rows]),
                          links, pd.DataFrame(), unservable, summary)

    def curve(self, budget_vnd: float | str | dict[str, float] | Budget | None = None, *,
              steps: int | None = None) -> pd.DataFrame:
        """
        The budget curve: ``steps + 1`` evenly spaced budgets from the pinned cost to the
        cost of closing every gap that can be closed (a split ``budget_vnd`` keeps its
        mobile/fibre ratio), each solved as :meth:`solve` does, with its status and the
        greedy figure (see :func:`geo_dx.plan.curve.budget_curve`).
        """
        plan_config = self.config.plan
        steps = plan_config.curve_steps if steps is None else steps
        budget = Budget.parse(budget_vnd if budget_vnd is not None else 0.0)
        people, em_people = people_counts(self.villages)
        return budget_curve(self.problem, budget, steps=steps, mobile_rows=self.mobile_rows,
                            fibre_rows=self.fibre_rows, access_rows=self.access.villages,
                            people=people, em_people=em_people,
                            close_all=self.close_all_vnd,
                            time_limit_s=max(plan_config.time_limit_s / max(steps, 1), 1.0))


def plan(
    villages: gpd.GeoDataFrame,
    *,
    budget_vnd: float | str | dict[str, float] | Budget,
    candidates: gpd.GeoDataFrame | None = None,
    coverage: gpd.GeoDataFrame | None = None,
    dem: DemGrid | str | Path | None = None,
    roads: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    fibre: gpd.GeoDataFrame | None = None,
    communes: gpd.GeoDataFrame | None = None,
    config: Config | None = None,
    calibration: Calibration | None = None,
    curve: bool = True,
    power_lines: gpd.GeoDataFrame | None = None,
) -> PlanResult:
    """
    Choose what to build within a budget to serve the most important gap villages.

    The parameters are those of :meth:`InvestmentPlan.from_gaps`, plus ``budget_vnd`` (one
    shared budget, e.g. ``30e9``, ``{"mobile": .., "fibre": ..}``, or budgets per year,
    ``"2026=10e9,2027=10e9"`` or ``{2026: 10e9, 2027: 10e9}``: a year-by-year schedule, see
    :meth:`InvestmentPlan.schedule`) and ``curve`` (also compute the budget curve: several
    solves).

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
    model = InvestmentPlan.from_gaps(villages, candidates=candidates, coverage=coverage, dem=dem,
                                     roads=roads, fibre=fibre, communes=communes, config=config,
                                     calibration=calibration, power_lines=power_lines)
    years = None if isinstance(budget_vnd, Budget) else yearly_budgets(budget_vnd)
    result = model.schedule(years) if years else model.solve(budget_vnd)
    if not curve:
        return result
    table = model.curve(float(sum(years.values())) if years else budget_vnd)
    if years:
        table = with_years(table, result.summary["schedule"])
    summary = {**result.summary, "curve": _curve_records(table)}
    return dataclasses.replace(result, curve=table, summary=summary)


def _curve_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    out = table.copy()
    out["bound"] = out["bound"].astype(float).where(np.isfinite(out["bound"].astype(float)))
    out["year"] = out["year"].astype(object) if "year" in out else None
    return [{k: (None if v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v)
             for k, v in row.items()} for row in out.round(3).to_dict("records")]


def village_weights(villages: pd.DataFrame, weight: str) -> np.ndarray:
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
        return np.ones(len(villages))
    if weight == "priority":
        if "score" not in villages:
            raise InputError(
                "plan.weight is 'priority' but the villages have no 'score' column; score them "
                "first (geo_dx.score) or set plan.weight = 'count' or 'population'"
            )
        return villages["score"].astype(float).fillna(0.0).to_numpy()
    people, em_people = people_counts(villages)
    return people if weight == "population" else em_people


def _check_villages(villages: gpd.GeoDataFrame) -> None:
    missing = [c for c in ("village_id", "has_fibre", "has_mobile_broadband")
               if c not in villages]
    if missing:
        raise InputError(
            f"plan: the villages lack column(s) {missing}; give the output of geo_dx.find_gaps"
        )


def _model(villages: gpd.GeoDataFrame, config: Config, grid: DemGrid | None) -> str:
    """The configured model, refused when the gaps' columns say they were found with another
    (``has_mobile_broadband_radius``: terrain; ``has_mobile_broadband_terrain``: itm)."""
    found = ("itm" if "has_mobile_broadband_terrain" in villages else
             "terrain" if "has_mobile_broadband_radius" in villages else "radius")
    if found != "radius" and grid is None:
        raise InputError(
            f"plan: the gaps were found with the {found} model (over a DEM); pass the same "
            "DEM (dem=... or --dem) so the plan uses the same coverage rule"
        )
    model = mobile_model(config, grid)
    if found != "radius" and model != found:  # the gaps' own columns say which model
        raise InputError(
            f"plan: the gaps were found with the {found} model but the configuration gives "
            f"{model!r} (terrain.model = {config.terrain.model!r}); plan with the gaps' own "
            f"model (terrain.model = {found!r}) so that what the plan claims is what the gaps "
            "say once it is built"
        )
    return model


def _fibre_nodes(coverage: gpd.GeoDataFrame | None, fibre: gpd.GeoDataFrame | None
                 ) -> gpd.GeoDataFrame | None:
    if fibre is not None:
        return fibre
    if coverage is None:
        return None
    return coverage[coverage["technology"] == "fibre"]


def _road_lines(roads: gpd.GeoDataFrame | gpd.GeoSeries | None, crs: object
                ) -> np.ndarray | None:
    if roads is None or not len(roads):
        return None
    if roads.crs is None:
        raise InputError("roads: the layer has no CRS; set one (e.g. EPSG:4326)")
    return roads.geometry.to_crs(crs).to_numpy()


def _network(
    targets: gpd.GeoDataFrame,
    nodes: gpd.GeoDataFrame | None,
    roads: np.ndarray | None,
    crs: object,
    config: Config,
    grid: DemGrid | None,
) -> FibreNetwork:
    fxy = (shapely.get_coordinates(village_locations(nodes).to_crs(crs).to_numpy())
           if nodes is not None and len(nodes) else np.zeros((0, 2)))
    vxy = shapely.get_coordinates(village_locations(targets).to_crs(crs).to_numpy())
    return fibre_routes(vxy, fxy, roads=roads, dem=grid, config=config.plan)


def _fibre_served(
    targets: gpd.GeoDataFrame, network: FibreNetwork, model: str, crs: object,
    grid: DemGrid | None, config: Config,
) -> sparse.csr_matrix:
    """Villages without fibre × segments: the villages the node a segment lays serves."""
    reached = np.flatnonzero(network.village_segment >= 0)
    if len(reached) == 0 or len(targets) == 0:
        return sparse.csr_matrix((len(targets), network.n_segments), dtype=bool)
    nodes = gpd.GeoDataFrame({"technology": "fibre", "kind": "node", "source": "declared"},
                             index=range(len(reached)),
                             geometry=village_locations(targets.iloc[reached]).to_numpy(),
                             crs=targets.crs)
    by_node = served_matrix(targets, nodes, model=model, crs=crs, dem=grid,
                            config=config).tocoo()
    segment = network.village_segment[reached]
    return sparse.csr_matrix((np.ones(by_node.nnz, dtype=bool),
                              (by_node.row, segment[by_node.col])),
                             shape=(len(targets), network.n_segments), dtype=bool)


def _problem(
    cands: gpd.GeoDataFrame,
    cover: sparse.csr_matrix,
    mobile_weight: np.ndarray,
    fibre_served: sparse.csr_matrix,
    fibre_weight: np.ndarray,
    network: FibreNetwork,
    config: Config,
) -> tuple[Problem, np.ndarray]:
    """The optimisation problem; candidates that serve nobody (unless pinned) and
    duplicates serving the same villages at a higher cost are left out."""
    cost = cands["cost_vnd"].to_numpy(dtype=float)
    must = cands["candidate_id"].astype(str).isin(config.plan.must).to_numpy()
    csc = sparse.csc_matrix(cover)
    csc.sort_indices()
    best: dict[bytes, int] = {}
    keep = []
    for j in range(len(cands)):
        rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        if must[j]:
            keep.append(j)
            continue
        if len(rows) == 0:
            continue
        key = rows.tobytes()
        if key not in best or cost[j] < cost[best[key]]:
            best[key] = j
    columns = np.array(sorted(set(keep) | set(best.values())), dtype=np.int64)
    problem = Problem(
        mobile_weight=np.asarray(mobile_weight, dtype=float),
        cover=sparse.csr_matrix(csc[:, columns]),
        site_cost=cost[columns],
        must=must[columns],
        fibre_weight=np.asarray(fibre_weight, dtype=float),
        fibre_cover=fibre_served,
        segment_cost=segment_cost_vnd(network.segment_cost_vnd, network.segment_length_km,
                                     config=config),
        segment_parent=network.segment_parent,
    )
    logger.info("plan problem: %d of %d candidates, %d fibre segments", len(columns),
                len(cands), network.n_segments)
    return problem, columns
