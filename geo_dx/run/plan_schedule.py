"""The plan's year-by-year schedule and what the plan leaves, as people read them.

``summary.json`` → ``plan`` holds the figures (:mod:`geo_dx.plan.schedule`,
:mod:`geo_dx.plan.model`); this module words them for the console block of
:func:`geo_dx.run.plan_outputs.format_plan` (the villages given satellite access, a lower
service level; the villages left and the cost of closing them; gap villages without grid
power; one aligned line per year with its money, items and the villages served by
technology) and makes the one table of the schedule the workbook and the proposal show
(:func:`schedule_table`). Technologies are named by their label
(``CODE_LABELS["plan_technology"]`` in :mod:`geo_dx.i18n`).

Every key is read with ``.get``: a summary written before a key existed reads without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from geo_dx.i18n import N_, Translator
from geo_dx.plan.technology import SERVICE

__all__ = ["SCHEDULE_COLUMNS", "by_technology", "left_lines", "satellite_line",
           "schedule_lines", "schedule_table", "villages_text"]

#: User-facing texts (English msgids, translated by :func:`geo_dx.i18n.translator`).
SCHEDULE_TEXT: Mapping[str, str] = {
    "satellite": N_("satellite access"),
    "satellite_villages": N_("{n} villages ({people} people, {em} ethnic minority): a Wi-Fi "
                             "hotspot by satellite, a lower service level, not counted as 4G"),
    "by_year": N_("By year:"),
    "year": N_("{year}: budget {budget}, spent {spent}, carried over {carried}; {items}"),
    "left": N_("Villages left without full service after this plan: {n} ({mobile} without "
               "mobile broadband, {fibre} without fibre)"),
    "left_cost": N_("Villages left without full service after this plan: {n} ({mobile} "
                    "without mobile broadband, {fibre} without fibre); cost to close them: "
                    "about {cost}"),
    "no_grid": N_("Villages without fibre or mobile broadband that have no grid power: {n}"),
    "no_grid_unknown": N_("Villages without fibre or mobile broadband that have no grid "
                          "power: {n} ({unknown} not known)"),
}
#: The money and items columns of :func:`schedule_table`, as ``summary.json`` names them.
SCHEDULE_COLUMNS: tuple[str, ...] = ("year", "budget_vnd", "available_vnd", "spent_vnd",
                                     "carried_vnd", "items")


def satellite_line(plan: Mapping[str, Any], tr: Translator) -> str | None:
    """
    The villages given satellite access only, said to be a lower service level (or None).

    Examples
    --------
    >>> from geo_dx.i18n import translator
    >>> plan = {"newly_served": {"satellite_access": {"villages": 5, "people": 1200,
    ...                                               "ethnic_minority_people": 1100}}}
    >>> print(satellite_line(plan, translator("en")))  # doctest: +NORMALIZE_WHITESPACE
      satellite access        5 villages (1,200 people, 1,100 ethnic minority): a Wi-Fi
      hotspot by satellite, a lower service level, not counted as 4G
    """
    served = (plan.get("newly_served") or {}).get("satellite_access") or {}
    if not served.get("villages"):
        return None
    return f"  {tr.gettext(SCHEDULE_TEXT['satellite']):<24}" + tr.gettext(
        SCHEDULE_TEXT["satellite_villages"], n=tr.number(served["villages"]),
        people=tr.number(served.get("people")),
        em=tr.number(served.get("ethnic_minority_people")))


def left_lines(plan: Mapping[str, Any], tr: Translator) -> list[str]:
    """
    The villages the plan leaves without full service and the cost of closing them; the
    gap villages without grid power (when some are).

    Examples
    --------
    >>> from geo_dx.i18n import translator
    >>> plan = {"left": {"villages": 61, "mobile": 79, "fibre": 243,
    ...                  "cost_to_close_vnd": 344.8e9},
    ...         "grid_power": {"yes": 250, "no": 12, "unknown": 40}}
    >>> print("\\n".join(left_lines(plan, translator("vi"))))
    ... # doctest: +NORMALIZE_WHITESPACE
      Thôn, bản vẫn chưa có đủ dịch vụ sau kế hoạch này: 61 (79 chưa có băng rộng di động,
      243 chưa có cáp quang); kinh phí để kết nối: khoảng 344,8 tỷ đồng
      Thôn, bản chưa có cáp quang hoặc băng rộng di động mà chưa có điện lưới: 12 (40 chưa rõ)
    """
    lines = []
    left = plan.get("left")
    if left:
        cost = left.get("cost_to_close_vnd")
        lines.append("  " + tr.gettext(
            SCHEDULE_TEXT["left" if cost is None else "left_cost"],
            n=tr.number(left.get("villages")), mobile=tr.number(left.get("mobile")),
            fibre=tr.number(left.get("fibre")), cost=tr.money(cost)))
    power = plan.get("grid_power") or {}
    if power.get("no"):
        lines.append("  " + tr.gettext(
            SCHEDULE_TEXT["no_grid_unknown" if power.get("unknown") else "no_grid"],
            n=tr.number(power["no"]), unknown=tr.number(power.get("unknown"))))
    return lines


def schedule_lines(plan: Mapping[str, Any], tr: Translator) -> list[str]:
    """
    One aligned line per year of ``plan["schedule"]``: the year's budget, what it spent and
    carried over, its items and the villages each technology serves (none: no lines).

    Examples
    --------
    >>> from geo_dx.i18n import translator
    >>> plan = {"schedule": [
    ...     {"year": 2026, "budget_vnd": 10e9, "spent_vnd": 9.9e9, "carried_vnd": 0.1e9,
    ...      "items": 12, "villages_by_technology": {"satellite_access": 5, "upgrade": 18,
    ...                                              "macro_microwave_backhaul": 3}},
    ...     {"year": 2027, "budget_vnd": 10e9, "spent_vnd": 10.1e9, "carried_vnd": 0.0,
    ...      "items": 1, "villages_by_technology": {"fibre": 1}}]}
    >>> lines = schedule_lines(plan, translator("en"))
    >>> for line in lines:  # the money aligned from year to year
    ...     print(line[:78])
      By year:
        2026: budget 10.0 bn VND, spent  9.9 bn VND, carried over 100 million VND;
        2027: budget 10.0 bn VND, spent 10.1 bn VND, carried over   0 million VND;
    >>> for line in lines[1:]:
    ...     print(line[79:].replace("; ", ";\\n  "))
    12 items: upgrade of an existing site to 4G for 18 villages;
      new 4G site, microwave backhaul for 3 villages;
      satellite Internet access point (Wi-Fi) for 5 villages
    1 item: fibre extension for 1 village
    """
    years = list(plan.get("schedule") or [])
    if not years:
        return []
    cells = [{"year": str(y.get("year")), "budget": tr.money(y.get("budget_vnd")),
              "spent": tr.money(y.get("spent_vnd")), "carried": tr.money(y.get("carried_vnd")),
              "items": tr.ngettext("{n} item", "{n} items", int(y.get("items") or 0))}
             for y in years]
    width = {key: max(len(c[key]) for c in cells) for key in cells[0]}
    lines = ["  " + tr.gettext(SCHEDULE_TEXT["by_year"])]
    for year, cell in zip(years, cells, strict=True):
        text = tr.gettext(SCHEDULE_TEXT["year"], **{  # money aligned; the tail as it comes
            k: v if k == "items" else v.rjust(width[k]) for k, v in cell.items()})
        served = villages_text(year.get("villages_by_technology") or {}, tr)
        status = year.get("status")
        lines.append("    " + text + (": " + served if served else "")
                     + (f" ({_status(tr, status)})" if status and status != "optimal" else ""))
    return lines


def villages_text(counts: Mapping[str, int], tr: Translator) -> str:
    """
    The villages a year serves, by technology, in words ("" when none).

    Examples
    --------
    >>> from geo_dx.i18n import translator
    >>> villages_text({"fibre": 8, "upgrade": 5}, translator("vi"))
    'nâng cấp trạm BTS hiện có lên 4G cho 5 thôn, bản; kéo cáp quang cho 8 thôn, bản'
    """
    return "; ".join(
        tr.ngettext("{technology} for {n} village", "{technology} for {n} villages", n,
                    technology=_lower_first(tr.label("plan_technology", code)))
        for code, n in by_technology(counts))


def by_technology(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """
    Non-zero counts by technology, in the order of :data:`geo_dx.plan.technology.SERVICE`
    (other codes after, by name).

    Examples
    --------
    >>> by_technology({"fibre": 2, "upgrade": 1, "odd": 3, "satellite_access": 0})
    [('upgrade', 1), ('fibre', 2), ('odd', 3)]
    """
    order = {code: i for i, code in enumerate(SERVICE)}
    return sorted(((str(c), int(n)) for c, n in counts.items() if n),
                  key=lambda cn: (order.get(cn[0], len(order)), cn[0]))


def schedule_table(plan: Mapping[str, Any]) -> pd.DataFrame:
    """
    The plan's schedule as a table: one row per year (:data:`SCHEDULE_COLUMNS`), then one
    ``villages_<technology>`` column per technology that serves a village in some year.

    Examples
    --------
    >>> plan = {"schedule": [
    ...     {"year": 2026, "budget_vnd": 3e9, "available_vnd": 3e9, "spent_vnd": 2.9e9,
    ...      "carried_vnd": 0.1e9, "items": 2, "villages_by_technology": {"fibre": 4}},
    ...     {"year": 2027, "budget_vnd": 3e9, "available_vnd": 3.1e9, "spent_vnd": 3e9,
    ...      "carried_vnd": 0.1e9, "items": 1, "villages_by_technology": {"upgrade": 2}}]}
    >>> table = schedule_table(plan)
    >>> list(table.columns[-2:]), table[["year", "villages_upgrade", "villages_fibre"]
    ...                                  ].values.tolist()
    (['villages_upgrade', 'villages_fibre'], [[2026, 0, 4], [2027, 2, 0]])
    """
    years = list(plan.get("schedule") or [])
    counts = [y.get("villages_by_technology") or {} for y in years]
    codes = [c for c, _ in by_technology({c: 1 for year in counts for c, n in year.items() if n})]
    rows = [{**{k: y.get(k) for k in SCHEDULE_COLUMNS},
             **{f"villages_{c}": int(n.get(c, 0)) for c in codes}}
            for y, n in zip(years, counts, strict=True)]
    return pd.DataFrame(rows, columns=[*SCHEDULE_COLUMNS, *(f"villages_{c}" for c in codes)])


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _status(tr: Translator, status: str) -> str:
    from geo_dx.run.plan_outputs import status_text  # plan_outputs imports this module

    return status_text(tr, status)
