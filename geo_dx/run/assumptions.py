"""What a run assumed, as a handout states it: weights, unit costs, budget, the gap rule and
model, reliability, data sources with their dates, and the software version.

One owner for the workbook's assumptions sheet (``priority.xlsx``) and the method section of
the proposal document (``de_xuat_dau_tu.docx``): both read the rows of
:func:`assumption_rows`, built from ``summary.json`` alone, so they state the same numbers.
A unit cost is "indicative" (*tham khảo*) while it equals geo_dx's default and "the
province's" (*của tỉnh*) once the configuration changed it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo_dx.config import PlanCostsConfig
from geo_dx.i18n import N_, Translator

__all__ = ["Assumption", "assumption_rows", "cost_status", "gap_rule_text"]

#: Groups of assumptions, in the order a handout lists them.
GROUPS: Mapping[str, str] = {
    "weights": N_("Priority weights"),
    "costs": N_("Unit costs"),
    "budget": N_("Budget"),
    "rule": N_("Gap rule and model"),
    "reliability": N_("Reliability"),
    "sources": N_("Data sources"),
    "software": N_("Software"),
}
#: Unit cost names as people read them.
COST_LABELS: Mapping[str, str] = {
    "new_site_vnd": N_("New 4G site"),
    "upgrade_vnd": N_("Upgrade of an existing site to 4G"),
    "small_cell_vnd": N_("Small cell"),
    "fibre_road_per_km_vnd": N_("Fibre along a road, per km"),
    "fibre_offroad_per_km_vnd": N_("Fibre off-road, per km"),
    "drop_per_village_vnd": N_("Fibre drop per village"),
    "microwave_link_vnd": N_("Microwave backhaul hop"),
    "satellite_backhaul_vnd": N_("Satellite backhaul terminal of a site"),
    "satellite_access_vnd": N_("Satellite access for a village (terminal, Wi-Fi hotspot)"),
    "grid_connection_vnd": N_("Grid connection of a site"),
    "solar_power_vnd": N_("Solar power and battery for a site"),
    "site_opex_vnd_per_year": N_("Upkeep of a new site, per year"),
    "upgrade_opex_vnd_per_year": N_("Upkeep added by an upgrade, per year"),
    "grid_power_opex_vnd_per_year": N_("Electricity of a grid-powered site, per year"),
    "solar_opex_vnd_per_year": N_("Upkeep of solar power, per year"),
    "microwave_opex_vnd_per_year": N_("Upkeep of a microwave hop, per year"),
    "satellite_backhaul_vnd_per_month": N_("Satellite backhaul fee, per month"),
    "satellite_access_vnd_per_month": N_("Satellite access fee, per month"),
    "fibre_opex_vnd_per_km_year": N_("Upkeep of fibre, per km and year"),
}
#: The gap rule under each mobile model.
RULES: Mapping[str, str] = {
    "radius": N_("A village lacks mobile broadband when no 3G/4G/5G site is within its reach "
                 "(coverage radius, terrain not counted); it lacks fibre when no fibre point "
                 "is within reach."),
    "terrain": N_("A village lacks mobile broadband when no 3G/4G/5G site within reach is in "
                  "line of sight over the terrain (elevation model); it lacks fibre when no "
                  "fibre point is within reach."),
    "itm": N_("A village lacks mobile broadband when the signal predicted by the Longley-Rice "
              "(ITM) model from every 3G/4G/5G site is below the threshold; it lacks fibre "
              "when no fibre point is within reach."),
}
#: The mobile models and what the plan maximises, as people read them.
MODEL_LABELS: Mapping[str, str] = {
    "radius": N_("coverage radius of each site"),
    "terrain": N_("coverage radius and line of sight over the terrain"),
    "itm": N_("predicted signal strength (Longley-Rice ITM)"),
}
PLAN_WEIGHT_LABELS: Mapping[str, str] = {
    "priority": N_("the sum of the priority scores of the villages newly served"),
    "population": N_("the people newly served"),
    "ethnic_population": N_("the ethnic-minority people newly served"),
    "count": N_("the number of villages newly served"),
}
NORMALISATION_LABELS: Mapping[str, str] = {
    "percentile": N_("by percentile rank"),
    "minmax": N_("between the smallest and the largest value"),
}
CONFIDENCE_LABELS: Mapping[str, str] = {
    "measured": N_("measured"),
    "modelled": N_("modelled"),
    "declared": N_("declared by the operator"),
    "disputed": N_("disputed"),
    "none": N_("no evidence of service"),
}
#: Names of the input files as a handout lists them.
SOURCE_LABELS: Mapping[str, str] = {
    "communes": N_("Commune boundaries"),
    "villages": N_("Village list"),
    "coverage": N_("Mobile sites and fibre points"),
    "dem": N_("Elevation model"),
    "roads": N_("Roads"),
    "towns": N_("Towns and commune seats"),
    "power": N_("Power lines"),
    "candidates": N_("Candidate sites"),
}


@dataclass(frozen=True)
class Assumption:
    """One row of the assumptions: its group, what it is, its value, and a note."""

    group: str
    item: str
    value: str
    note: str = ""


def cost_status(name: str, value_vnd: float) -> str:
    """
    ``"indicative"`` while a unit cost equals geo_dx's default, else ``"province"``.

    Examples
    --------
    >>> cost_status("new_site_vnd", 2.5e9), cost_status("new_site_vnd", 3.1e9)
    ('indicative', 'province')
    """
    default = getattr(PlanCostsConfig(), name, None)
    return "indicative" if default is not None and float(value_vnd) == default else "province"


def gap_rule_text(model: str, tr: Translator) -> str:
    """The gap rule under the run's mobile model, in ``tr``'s language."""
    return tr.gettext(RULES.get(model, RULES["radius"]))


def assumption_rows(summary: Mapping[str, Any], tr: Translator) -> list[Assumption]:
    """
    Every assumption of a run, from its ``summary.json``, in ``tr``'s language.

    Examples
    --------
    >>> from geo_dx.i18n import translator
    >>> summary = {"mobile_model": "radius", "generator": "geo_dx 0.1.0",
    ...            "scoring": {"weights": {"ethnic": 0.5, "remoteness": 0.5}},
    ...            "plan": {"budget_vnd": 30e9, "cost_used_vnd": 29.9e9,
    ...                     "unit_costs_vnd": {"new_site_vnd": 3e9}}}
    >>> rows = assumption_rows(summary, translator("vi"))
    >>> [(r.item, r.value, r.note) for r in rows if r.group == "Đơn giá"]
    [('Xây mới trạm BTS 4G', '3,0 tỷ đồng', 'của tỉnh')]
    >>> next(r.value for r in rows if r.group == "Ngân sách")
    '30,0 tỷ đồng'
    """
    _ = tr.gettext
    rows: list[Assumption] = []

    def add(group: str, item: str, value: str, note: str = "") -> None:
        rows.append(Assumption(_(GROUPS[group]), item, value, note))

    scoring = summary.get("scoring", {})
    for name, weight in scoring.get("weights", {}).items():
        add("weights", tr.label("component", name), tr.percent(weight))
    if scoring.get("normalisation"):
        norm = str(scoring["normalisation"])
        add("weights", _("Normalisation"),
            _(NORMALISATION_LABELS[norm]) if norm in NORMALISATION_LABELS else norm)
    plan = summary.get("plan")
    if plan:
        for name, value in plan.get("unit_costs_vnd", {}).items():
            status = cost_status(name, value)
            add("costs", _(COST_LABELS.get(name, name)), tr.money(value),
                _("indicative") if status == "indicative" else _("province's own"))
        add("budget", _("Budget"), tr.money(plan["budget_vnd"]))
        add("budget", _("Cost of the plan"), tr.money(plan["cost_used_vnd"]))
        if plan.get("weight") in PLAN_WEIGHT_LABELS:
            add("budget", _("What the plan maximises"), _(PLAN_WEIGHT_LABELS[plan["weight"]]))
    else:
        add("budget", _("Budget"), _("no budget was given: no investment plan"))
    add("rule", _("Gap rule"), gap_rule_text(summary.get("mobile_model", "radius"), tr))
    model = summary.get("mobile_model", "radius")
    add("rule", _("Mobile model"), _(MODEL_LABELS[model]) if model in MODEL_LABELS else model)
    if plan:
        add("rule", _("Plan model"), _("{solver}: the largest priority served within the "
                                       "budget", solver=str(plan.get("solver", ""))))
    sensitivity = scoring.get("sensitivity", {})
    if sensitivity.get("top_n"):
        add("reliability", _("Stability of the priority list"),
            _("{stable} of the first {n} villages stay among the first {n} in at least 90 % "
              "of {draws} draws of the weights", stable=tr.number(sensitivity["top_n_stable"]),
              n=tr.number(sensitivity["top_n"]), draws=tr.number(sensitivity["draws"])))
    confidence = summary.get("disputes", {}).get("confidence")
    if confidence:
        add("reliability", _("Where the mobile answer comes from"), ", ".join(
            f"{_(CONFIDENCE_LABELS[k]) if k in CONFIDENCE_LABELS else k}: {tr.number(v)}"
            for k, v in confidence.items()))
    for key, path in (summary.get("inputs") or {}).items():
        for one in (path if isinstance(path, list) else [path]):
            if one:
                add("sources", _(SOURCE_LABELS.get(key, key)), Path(str(one)).name,
                    _file_date(one, tr))
    add("software", _("Made with"), str(summary.get("generator", "geo_dx")))
    return rows


def _file_date(path: str, tr: Translator) -> str:
    """The date a data file was last changed (its version), or "" when it is not there."""
    try:
        stamp = Path(path).stat().st_mtime
    except OSError:
        return ""
    return tr.gettext("file of {date}", date=tr.date(dt.date.fromtimestamp(stamp)))
