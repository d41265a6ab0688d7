"""Outputs of the investment plan: plan.csv, GeoPackage layers, budget_curve.png, a console
block, and planning on a finished run (``geo-dx plan RUN_DIR``).

What people read (console block, chart) is written in the run's language (Vietnamese by
default) through :mod:`geo_dx.i18n`; the English messages are grouped in :data:`PLAN_TEXT`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo_dx.config import Config, PlanConfig, config_from_dict
from geo_dx.i18n import DEFAULT_LANGUAGE, N_, Translator, translator
from geo_dx.plan.budget import Budget
from geo_dx.plan.model import PLAN_COLUMNS, PlanResult
from geo_dx.run.plan_schedule import left_lines, satellite_line, schedule_lines
from geo_dx.signal.calibration import Calibration

#: User-facing texts of the plan outputs (console, chart): English msgids, translated by
#: :func:`geo_dx.i18n.translator` (Vietnamese in ``geo_dx/locale/vi/LC_MESSAGES/geo_dx.po``).
PLAN_TEXT: dict[str, str] = {
    "heading": N_("Investment plan: budget {budget}, cost used {cost}"),
    "mobile": N_("new mobile broadband"),
    "fibre": N_("new fibre"),
    "villages_of": N_("{n} of {total} villages ({people} people, {em} ethnic minority)"),
    "unservable": N_("{n} village(s) no candidate or route can serve (satellite / other): "
                     "see plan"),
    "proven": N_("Optimal plan (proven): serves {n} villages; the quick method reaches {share}"),
    "best_found": N_("Best plan found ({status}): serves {n} villages; the quick method "
                     "reaches {share}"),
    "close_all": N_("Cost of connecting every remaining village: about {cost}"),
    "chart_title": N_("What each budget buys (indicative unit costs)"),
    "chart_x": N_("budget (billion VND)"),
    "chart_villages": N_("villages newly served"),
    "chart_people": N_("people newly served"),
    "chart_any": N_("villages (any)"),
    "chart_mobile": N_("mobile broadband"),
    "chart_fibre": N_("fibre"),
    "chart_em": N_("ethnic-minority people"),
    "chart_satellite": N_("satellite access only (not 4G)"),
    "chart_years": N_("the schedule, end of each year"),
    "chart_all": N_("all people"),
    "chart_budget": N_("chosen budget"),
    "chart_chosen": N_("{budget}: {n} villages"),
    "chart_chosen_people": N_("{budget}: {n} people"),
    "chart_note": N_("Unit costs are indicative: replace them with the province's own. Points "
                     "are budgets computed; between them the line only joins them."),
    "costs_warning": N_("Unit costs are indicative defaults: replace them with the province's "
                        "own ([plan.costs] in the config)."),
    "not_applicable": N_("n/a"),
    "model": N_("coverage model {model}: what each item is credited with is what the gaps "
                "say once it is built"),
    "greedy_within": N_("greedy answer within {share} of the bound"),
    "curve_unproven": N_("{n} budget-curve step(s) stopped at the time limit: their figure "
                         "is the best found, at least the greedy one"),
}


#: Solver statuses as people read them: every HiGHS model status (lower case, as
#: geo_dx.plan.optimise reports them) and PuLP's own; any other is shown as the solver names it.
PLAN_STATUS_TEXT: dict[str, str] = {
    "optimal": N_("proven optimal"),
    "time limit reached": N_("time limit reached"),
    "infeasible": N_("infeasible: no choice satisfies the budget and the pinned works"),
    "unbounded": N_("unbounded (a model error: please report it)"),
    "primal infeasible or unbounded": N_("infeasible or unbounded"),
    "empty": N_("nothing to choose from"),
    "interrupted by user": N_("interrupted"),
    "interrupted by highs": N_("interrupted by the solver"),
    "iteration limit reached": N_("iteration limit reached"),
    "solution limit reached": N_("solution limit reached"),
    "memory limit reached": N_("memory limit reached"),
    "bound on objective reached": N_("objective bound reached"),
    "target for objective reached": N_("objective target reached"),
    "load error": N_("solver error (model not loaded)"),
    "model error": N_("solver error (model)"),
    "presolve error": N_("solver error (presolve)"),
    "postsolve error": N_("solver error (postsolve)"),
    "solve error": N_("solver error"),
    "not set": N_("not solved"),
    "unknown": N_("status unknown"),
    "not solved": N_("not solved"),
    "undefined": N_("status unknown"),
}


#: plan.csv columns only fibre items fill, and only site items fill (GeoPackage tables).
FIBRE_ONLY: tuple[str, ...] = ("route_km", "route_ends", "start_node_id")
SITE_ONLY: tuple[str, ...] = ("candidate_id", "name", "generated_by", "site_ref",
                              "antenna_height_m")


def _text(tr: Translator, key: str, **values: Any) -> str:
    return tr.gettext(PLAN_TEXT[key], **values)


def plan_table(result: PlanResult) -> pd.DataFrame:
    """The ``plan.csv`` table: one row per investment, in order of cost-effectiveness."""
    table = pd.DataFrame(result.items.drop(columns=result.items.geometry.name))
    for col in ("cost_vnd", "cumulative_cost_vnd", "people_served",
                "ethnic_minority_people_served"):
        table[col] = table[col].round(0).astype("Int64")
    table["weight_served"] = table["weight_served"].round(2)
    return table[list(PLAN_COLUMNS)]


def commune_plan_table(villages: pd.DataFrame, plan: pd.DataFrame) -> pd.DataFrame:
    """
    The plan per commune: items, villages and people newly served, and the cost.

    A village served by two items (a site and a fibre route) counts once among the
    villages and people served; an item's cost is shared among the communes in proportion
    to the villages it serves there, so the costs add up to the plan's cost.

    Parameters
    ----------
    villages
        The villages after the plan (``commune_id``, ``commune_name``, ``gap_class``,
        ``population``, ``ethnic_minority_share``).
    plan
        :func:`plan_table` (``item_id``, ``kind``, ``cost_vnd``, ``villages_served``).

    Returns
    -------
    pandas.DataFrame
        ``commune_id, commune_name, item_ids, villages_served, mobile_villages,
        fibre_villages, satellite_villages, people_served, ethnic_minority_people_served,
        cost_vnd, gap_villages_left`` (gap villages no item serves), communes with an item
        first, by cost. ``villages_served`` and the people count full service (4G, fibre);
        ``satellite_villages`` those given satellite access only.

    Examples
    --------
    >>> villages = pd.DataFrame({"village_id": ["a", "b", "c"], "commune_id": ["X", "X", "Y"],
    ...     "commune_name": ["Xã X", "Xã X", "Xã Y"], "population": [100, 50, 10],
    ...     "ethnic_minority_share": [1.0, 0.5, 0.0],
    ...     "gap_class": ["no_mobile", "no_fibre_no_mobile", "no_fibre"]})
    >>> plan = pd.DataFrame({"item_id": ["M1", "F1"], "kind": ["new_site", "fibre"],
    ...     "cost_vnd": [2.5e9, 0.3e9], "villages_served": ["a;b", "b;c"]})
    >>> commune_plan_table(villages, plan)[["commune_id", "item_ids", "villages_served",
    ...     "people_served", "cost_vnd", "gap_villages_left"]].to_dict("records")
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'commune_id': 'X', 'item_ids': 'M1; F1', 'villages_served': 2, 'people_served': 150.0,
      'cost_vnd': 2650000000.0, 'gap_villages_left': 0},
     {'commune_id': 'Y', 'item_ids': 'F1', 'villages_served': 1, 'people_served': 10.0,
      'cost_vnd': 150000000.0, 'gap_villages_left': 0}]
    """
    served = plan[["item_id", "kind", "cost_vnd", "villages_served"]].copy()
    served["village_id"] = served["villages_served"].fillna("").astype(str).str.split(";")
    served = served.explode("village_id")
    served = served[served["village_id"].astype(bool)]
    served["share_vnd"] = (served["cost_vnd"].astype(float)
                           / served.groupby("item_id")["village_id"].transform("size"))
    facts = villages.drop_duplicates("village_id").set_index("village_id")
    people = next((facts[c] for c in ("population_used", "population") if c in facts),
                  pd.Series(0.0, index=facts.index)).astype(float).fillna(0.0)
    share = next((facts[c] for c in ("ethnic_minority_share_used", "ethnic_minority_share")
                  if c in facts), pd.Series(0.0, index=facts.index)).astype(float).fillna(0.0)
    served["commune_id"] = served["village_id"].map(facts["commune_id"])
    rows = []
    for commune_id, group in served.groupby("commune_id", sort=False):
        satellite = (group["kind"] == "satellite_access").to_numpy()
        ids = group.loc[~satellite, "village_id"].unique()
        rows.append({
            "commune_id": commune_id,
            "item_ids": "; ".join(dict.fromkeys(group["item_id"].astype(str))),
            "villages_served": len(ids),
            "mobile_villages": group.loc[~satellite & (group["kind"] != "fibre").to_numpy(),
                                         "village_id"].nunique(),
            "fibre_villages": group.loc[group["kind"] == "fibre", "village_id"].nunique(),
            "satellite_villages": len(set(group.loc[satellite, "village_id"]) - set(ids)),
            "people_served": float(people.reindex(ids).sum()),
            "ethnic_minority_people_served": float((people * share).reindex(ids).sum()),
            "cost_vnd": float(group["share_vnd"].sum()),
        })
    table = pd.DataFrame(rows, columns=["commune_id", "item_ids", "villages_served",
                                        "mobile_villages", "fibre_villages",
                                        "satellite_villages", "people_served",
                                        "ethnic_minority_people_served", "cost_vnd"])
    gaps = facts[facts["gap_class"] != "none"] if "gap_class" in facts else facts.iloc[:0]
    left = gaps[~gaps.index.isin(served["village_id"])].groupby("commune_id").size()
    names = facts.drop_duplicates("commune_id").set_index("commune_id")["commune_name"] \
        if "commune_name" in facts else pd.Series(dtype=object)
    every = pd.Index(table["commune_id"]).union(left.index, sort=False)
    table = table.set_index("commune_id").reindex(every)
    table.insert(0, "commune_name", names.reindex(every).to_numpy())
    counts = ["villages_served", "mobile_villages", "fibre_villages", "satellite_villages"]
    table[counts] = table[counts].fillna(0).astype(int)
    table[["people_served", "ethnic_minority_people_served", "cost_vnd"]] = table[
        ["people_served", "ethnic_minority_people_served", "cost_vnd"]].fillna(0.0)
    table["item_ids"] = table["item_ids"].fillna("")
    table["gap_villages_left"] = left.reindex(every).fillna(0).astype(int).to_numpy()
    table = table.rename_axis("commune_id").reset_index()
    return table.sort_values(["cost_vnd", "gap_villages_left", "commune_id"],
                             ascending=[False, False, True], kind="stable").reset_index(drop=True)


def plan_tables(result: PlanResult) -> dict[str, gpd.GeoDataFrame]:
    """GeoPackage tables ``plan_sites`` (points) and ``plan_fibre`` (routes along the roads).

    The map overlay is :func:`geo_dx.maps.plan_layer.plan_layer`.
    """
    items = result.items
    is_site = (items["kind"] != "fibre").to_numpy()
    sites = items[is_site].drop(columns=[c for c in FIBRE_ONLY if c in items])
    fibre = items[~is_site].drop(columns=[c for c in SITE_ONLY if c in items])
    return {"plan_sites": sites.reset_index(drop=True), "plan_fibre": fibre.reset_index(drop=True)}


def write_plan_files(staging: Path, result: PlanResult, *,
                     language: str = DEFAULT_LANGUAGE) -> None:
    """Write ``plan.csv`` and ``budget_curve.png`` (labelled in ``language``) into a folder."""
    from geo_dx.run.report import write_csv

    write_csv(Path(staging) / "plan.csv", plan_table(result))
    if len(result.curve):
        write_budget_curve(Path(staging) / "budget_curve.png", result, language=language)


def write_budget_curve(path: Path, result: PlanResult, *,
                       language: str = DEFAULT_LANGUAGE) -> Path:
    """
    ``budget_curve.png``: villages and people newly served against the budget.

    Axes, legend and the unit-cost warning are in ``language`` (Vietnamese by default).

    Examples
    --------
    >>> import tempfile
    >>> import geo_dx
    >>> demo = geo_dx.load_demo()
    >>> gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
    >>> scored = geo_dx.score(gaps, communes=demo.communes)
    >>> config = geo_dx.config_from_dict({"plan": {"curve_steps": 2}})
    >>> result = geo_dx.plan(scored, budget_vnd=5e9, coverage=demo.coverage, config=config)
    >>> len(result.curve)  # no money, half the cost of closing every gap, all of it
    3
    >>> png = write_budget_curve(Path(tempfile.mkdtemp()) / "budget_curve.png", result)
    >>> png.read_bytes()[:4]
    b'\x89PNG'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    curve = result.curve
    years = (curve[curve["year"].notna()] if "year" in curve
             else curve.iloc[:0]).reset_index(drop=True)
    curve = curve[curve["year"].isna()] if "year" in curve else curve
    tr = translator(language)
    t = {key: tr.gettext(message) for key, message in PLAN_TEXT.items()}
    x = curve["budget_vnd"] / 1e9
    grouped = FuncFormatter(lambda value, _pos: tr.number(value, decimals=0 if
                                                         float(value).is_integer() else 1))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.6), constrained_layout=True)
    ax1.plot(x, curve["villages"], "o-", color="#222222", label=t["chart_any"])
    ax1.plot(x, curve["mobile_villages"], "s--", color="#d95f02", label=t["chart_mobile"])
    ax1.plot(x, curve["fibre_villages"], "^--", color="#1b9e77", label=t["chart_fibre"])
    if "satellite_villages" in curve and curve["satellite_villages"].fillna(0).any():
        ax1.plot(x, curve["satellite_villages"], "d:", color="#e6ab02",
                 label=t["chart_satellite"])
    for ax, column in ((ax1, "villages"), (ax2, "people")):  # a schedule: where each year ends
        if len(years):
            ax.plot(years["budget_vnd"] / 1e9, years[column], "P-", color="#1f78b4",
                    markersize=8, zorder=4, label=t["chart_years"])
            for _, point in years.iterrows():
                ax.annotate(str(int(point["year"])), (point["budget_vnd"] / 1e9, point[column]),
                            xytext=(-6, 8), textcoords="offset points", fontsize=8,
                            color="#1f78b4", ha="right")
    ax1.set_ylabel(t["chart_villages"])
    ax2.plot(x, curve["people"], "o-", color="#222222", label=t["chart_all"])
    ax2.plot(x, curve["ethnic_minority_people"], "s--", color="#7570b3", label=t["chart_em"])
    ax2.set_ylabel(t["chart_people"])
    plan = result.summary
    budget = plan["budget_vnd"] / 1e9
    served = plan["newly_served"]
    chosen = ((ax1, served["any"]["villages"], "chart_chosen"),
              (ax2, served["any"]["people"], "chart_chosen_people"))
    for key, marker, colour in (("mobile", "s", "#d95f02"), ("fibre", "^", "#1b9e77")):
        ax1.plot([budget], [served[key]["villages"]], marker, color=colour, markersize=9,
                 markeredgecolor="#c51b7d", zorder=5)
    for ax, value, label in chosen:  # the plan itself: a point with its value
        ax.axvline(budget, color="#999999", linestyle=":", label=t["chart_budget"])
        ax.plot([budget], [value], "o", color="#c51b7d", markersize=9, zorder=5)
        ax.annotate(tr.gettext(PLAN_TEXT[label], budget=tr.money(plan["budget_vnd"]),
                               n=tr.number(value)),
                    (budget, value), xytext=(12, 14), textcoords="offset points",
                    fontsize=9, color="#c51b7d", fontweight="bold", va="bottom",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#c51b7d"},
                    arrowprops={"arrowstyle": "-", "color": "#c51b7d"})
        ax.set_xlabel(t["chart_x"])
        ax.xaxis.set_major_formatter(grouped)
        ax.yaxis.set_major_formatter(grouped)
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    fig.suptitle(t["chart_title"])
    fig.text(0.5, -0.02, t["chart_note"], ha="center", fontsize=8, color="#555555")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def format_plan(plan: dict[str, Any], *, language: str = DEFAULT_LANGUAGE) -> str:
    """
    The console block ``geo-dx plan`` / ``geo-dx run --budget`` prints, in ``language``.

    Examples
    --------
    >>> plan = {"budget_vnd": 30e9, "cost_used_vnd": 29.99e9, "mobile_gap_villages": 86,
    ...         "fibre_gap_villages": 261, "objective": 2966.3, "status": "optimal",
    ...         "gap": 0.0, "greedy_objective": 2935.0,
    ...         "unservable": {"mobile": 0, "fibre": 0}, "cost_to_close_all_vnd": 563.9e9,
    ...         "newly_served": {k: {"villages": n, "people": 7311, "ethnic_minority_people": 7216}
    ...                          for k, n in (("mobile", 27), ("fibre", 17), ("any", 42))}}
    >>> print(format_plan(plan, language="en").splitlines()[1])
      new mobile broadband    27 of 86 villages (7,311 people, 7,216 ethnic minority)
    >>> for line in format_plan(plan).splitlines()[:5]:
    ...     print(line)
    Kế hoạch đầu tư: ngân sách 30,0 tỷ đồng, đã dùng 30,0 tỷ đồng
      Băng rộng di động mới   27/86 thôn, bản (7.311 người, trong đó 7.216 người dân tộc thiểu số)
      Cáp quang mới           17/261 thôn, bản (7.311 người, trong đó 7.216 người dân tộc thiểu số)
      Phương án tối ưu (đã kiểm chứng): phục vụ 42 thôn, bản; phương án tính nhanh đạt 99 %
      Kinh phí để kết nối tất cả thôn, bản còn lại: khoảng 563,9 tỷ đồng
    """
    tr = translator(language)
    served = plan["newly_served"]
    lines = [_text(tr, "heading", budget=tr.money(plan["budget_vnd"]),
                   cost=tr.money(plan["cost_used_vnd"]))]
    for key, total in (("mobile", plan["mobile_gap_villages"]),
                       ("fibre", plan["fibre_gap_villages"])):
        s = served[key]
        lines.append(f"  {_text(tr, key):<24}" + _text(
            tr, "villages_of", n=tr.number(s["villages"]), total=tr.number(total),
            people=tr.number(s["people"]), em=tr.number(s["ethnic_minority_people"])))
    satellite = satellite_line(plan, tr)
    if satellite:
        lines.append(satellite)
    quick = (plan["greedy_objective"] / plan["objective"] if plan["objective"] else 1.0)
    values = {"n": tr.number(served.get("any", served["mobile"])["villages"]),
              "share": tr.percent(min(quick, 1.0))}
    lines.append("  " + (_text(tr, "proven", **values) if plan["status"] == "optimal" else
                         _text(tr, "best_found", status=status_text(tr, plan["status"]), **values)))
    if plan.get("coverage_model"):
        lines.append("  " + _text(tr, "model", model=plan["coverage_model"]))
    unproven = sum(1 for step in plan.get("curve", []) if step.get("proven") is False)
    if unproven:
        lines.append("  " + _text(tr, "curve_unproven", n=tr.number(unproven)))
    unservable = plan["unservable"]["mobile"] + plan["unservable"]["fibre"]
    if unservable:
        lines.append("  " + _text(tr, "unservable", n=tr.number(unservable)))
    if plan.get("cost_to_close_all_vnd") is not None:
        lines.append("  " + _text(tr, "close_all", cost=tr.money(plan["cost_to_close_all_vnd"])))
    lines += left_lines(plan, tr) + schedule_lines(plan, tr)
    lines.append("  " + _text(tr, "costs_warning"))
    return "\n".join(lines)


def status_text(tr: Translator, status: str) -> str:
    """A solver status as people read it (:data:`PLAN_STATUS_TEXT`), else as it is."""
    return tr.gettext(PLAN_STATUS_TEXT[status]) if status in PLAN_STATUS_TEXT else status


def plan_run(
    run_dir: str | Path,
    *,
    budget: Budget | float | str | Mapping[str, float],
    candidates: str | Path | None = None,
    config: Config | None = None,
    plan_options: PlanConfig | None = None,
) -> PlanResult:
    """
    Plan on a finished run without recomputing it, and write the plan into its folder.

    Without ``config`` the plan uses the run's own gap rule (``summary.json`` →
    ``gap_rule``: the model, reach, signal and dispute options, the calibration it
    applied), so that it claims what the run's gaps would say; ``plan_options`` replaces
    the ``plan`` section (budget options, pins, costs).

    Reads the run back (:func:`geo_dx.run.folder.read_run`: ``villages.gpkg`` with the
    villages' gaps and scores and the coverage, ``summary.json`` with the DEM, roads and
    power lines the run used and its CRS), plans, and rewrites the run folder atomically through the
    run's writer (:func:`geo_dx.run.writer.write_run_folder`) with ``plan.csv``,
    ``budget_curve.png``, the ``plan_sites`` and ``plan_fibre`` tables, ``plan_item`` and
    ``plan_answer`` on
    the villages, the ``plan`` section of ``summary.json`` and the maps with the plan
    layer. What people read is in the run's language. A run another command rewrote
    while this one was planning is refused, not reverted.

    Examples
    --------
    After ``geo-dx run`` wrote ``maps/demo``, ``plan_run("maps/demo", budget=30e9)``
    plans on it; a folder that is not a run is refused:

    >>> plan_run("no/such/run", budget=30e9)
    Traceback (most recent call last):
    ...
    geo_dx.errors.InputError: no/such/run: not found; run `geo-dx run` to write it first
    """
    from dataclasses import replace

    from geo_dx.io import read_layer
    from geo_dx.plan.candidates import read_candidates
    from geo_dx.plan.model import plan
    from geo_dx.power import read_power_lines
    from geo_dx.run.folder import read_run
    from geo_dx.run.writer import run_content, write_run_folder

    parsed = Budget.parse(budget)
    run = read_run(run_dir)
    config, calibration, source = run_gap_rule(run.summary, config)
    if plan_options is not None:
        config = dataclasses.replace(config, plan=plan_options)
    content = run_content(run)
    dem = run.dem(required=True, crs=run.summary.crs or config.crs)
    roads = run.summary.inputs.get("roads")
    power = run.summary.inputs.get("power")
    user = (read_candidates(candidates, within=content.communes,
                            within_source=f"the communes of the run in {run.folder}")
            if candidates else None)
    villages = content.villages.drop(columns=["planned_by", "plan_item", "plan_answer"],
                                     errors="ignore")
    result = plan(villages, budget_vnd=parsed, candidates=user, coverage=content.coverage,
                  dem=dem, roads=read_layer(roads) if roads else None,
                  communes=content.communes, config=config, calibration=calibration,
                  power_lines=read_power_lines(
                      power, within=content.communes,
                      within_source=f"the communes of the run in {run.folder}")
                  if power else None)
    result = replace(result, summary={**result.summary, "settings_from": source})
    planned = replace(content, villages=result.villages, plan=result, plan_layer=None,
                      plan_items=None,
                      summary=run.summary.with_plan(result.summary, candidates=candidates))
    used = [p for p in (candidates, run.dem_path, roads, power) if p]
    write_run_folder(run.folder, planned, previous=run, inputs=tuple(Path(p) for p in used),
                     command="geo-dx plan")
    return result


#: The sections of the configuration the gap rule reads (``summary.json`` → ``gap_rule``).
GAP_RULE_SECTIONS: tuple[str, ...] = ("coverage", "terrain", "signal", "measured")


def gap_rule_settings(config: Config, *, model: str,
                      calibration: Calibration | None = None) -> dict[str, Any]:
    """
    What ``find_gaps`` decided with, for ``summary.json`` → ``gap_rule``: the model, the
    coverage, terrain, signal and dispute options, the calibration offsets applied (full
    precision), and the CRS. ``geo-dx plan`` plans with them (:func:`run_gap_rule`).

    Examples
    --------
    >>> gap_rule_settings(Config(), model="radius")["terrain"]["model"]
    'radius'
    """
    out: dict[str, Any] = {"crs": config.crs}
    for name in GAP_RULE_SECTIONS:
        section = getattr(config, name)
        out[name] = {f.name: (dict(v) if isinstance(v, Mapping) else v)
                     for f in dataclasses.fields(section)
                     for v in [getattr(section, f.name)]}
    out["terrain"]["model"] = model
    out["calibration_offsets_db"] = (
        None if calibration is None else
        {f"{t}/{o}": float(v) for (t, o), v in calibration.offsets_db.items()})
    return out


def run_gap_rule(summary: Mapping[str, Any], config: Config | None
                 ) -> tuple[Config, Calibration | None, str]:
    """
    The configuration and calibration to plan a finished run with, and where they come
    from (``"run"``: the run's own ``gap_rule``; ``"config"``: the one given).

    A run written before ``gap_rule`` was recorded gives its ``mobile_model`` and the
    calibration offsets of its report.
    """
    settings = summary.get("gap_rule")
    offsets = None
    if settings:
        offsets = settings.get("calibration_offsets_db")
    else:
        report = (summary.get("signal_calibration") or {})
        offsets = report.get("offsets_db") if report.get("applied") else None
    calibration = (Calibration({tuple(k.split("/", 1)) if "/" in k else (k, ""): float(v)
                                for k, v in offsets.items()}) if offsets else None)
    if config is not None:
        return config, calibration if config.terrain.calibrate else None, "config"
    if settings:
        data: dict[str, Any] = {  # None: the default (TOML has no null)
            k: {key: v for key, v in settings[k].items() if v is not None}
            for k in GAP_RULE_SECTIONS if k in settings}
        if settings.get("crs"):
            data["crs"] = settings["crs"]
    else:
        data = {"terrain": {"model": summary.get("mobile_model", "auto"),
                            "calibrate": calibration is not None}}
    if summary.get("language"):
        data["language"] = summary["language"]
    return config_from_dict(data, source="summary.json → gap_rule"), calibration, "run"


def plan_map_kwargs(result: PlanResult | None, *,
                    language: str = DEFAULT_LANGUAGE) -> dict[str, Any]:
    """Keyword arguments that put the plan layer (labelled in ``language``) on the maps."""
    if result is None:
        return {}
    from geo_dx.maps.plan_layer import plan_layer

    return {"layers": (plan_layer(result.items, result.links, language=language),)}
