"""``priority.xlsx``: the priority list as a workbook a planner opens in Excel or LibreOffice.

Headers and code values are in the run's language (Vietnamese by default), numbers are
stored as numbers with a display format (so a Vietnamese-locale spreadsheet shows
``0,996`` or ``99,6 %``, never ``996``), the header row is frozen and filtered, and
columns are sized to their content. Text is neutralised against formula injection with
:func:`geo_dx.run.report.neutralise_formulas`, the same rule as ``priority.csv``.

Sheets: the official indicators and their targets, the indicators per commune, the
per-commune summary (worst first), the gap villages in priority order with their reasons and
their plan item (or the option if none serves them), the plan and the plan per commune (costs
in triệu đồng) when one is given, the investment by year when the plan has a schedule
(each year's budget, what it spent and carried over, its items and the villages each
technology serves), the assumptions (:mod:`geo_dx.run.assumptions`) and an
"about" sheet with the date as a date cell.

It is a handout: every sheet prints landscape on A4, fitted to the page width, with the
header row repeated on every page (print titles), the run's title in the page header and
numbered pages; tables that add up end with a totals row. ``priority.csv`` keeps the
English column names and codes for scripts.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_dx.atomic import atomic_path
from geo_dx.i18n import CODE_LABELS, DEFAULT_LANGUAGE, N_, Translator, translator
from geo_dx.indicators import COUNT_INDICATORS, target_rows
from geo_dx.power import grid_power_known
from geo_dx.run.assumptions import assumption_rows
from geo_dx.run.plan_schedule import schedule_table
from geo_dx.run.report import neutralise_formulas, priority_table
from geo_dx.schema import COMPONENTS

__all__ = ["COMMUNE_SHEET_COLUMNS", "VILLAGE_SHEET_COLUMNS", "write_sheets", "write_workbook"]

logger = logging.getLogger(__name__)

#: Per-commune sheet columns, in order (those the table lacks are left out).
COMMUNE_SHEET_COLUMNS: tuple[str, ...] = (
    "commune_name", "villages", "with_gap", "without_mobile_broadband", "without_fibre",
    "without_both", "gap_share", "commune_id",
)
#: Village sheet columns, in order: what a planner reads first, then the evidence and ids.
VILLAGE_SHEET_COLUMNS: tuple[str, ...] = (
    "rank", "village_name", "commune_name", "gap_class", "score", "reason",
    "plan_item", "plan_year", "plan_answer", "rank_p05", "rank_p95", "mobile_technology",
    "nearest_mobile_m", "mobile_blocked_by",
    "blocked_site_distance_m", "obstacle_elevation_m", "obstacle_distance_m",
    "nearest_fibre_m", "travel_time_h", "elevation_m", "population", "households",
    "ethnic_minority_share", "poverty_rate", "especially_difficult", "grid_power",
    *(f"contrib_{c}" for c in COMPONENTS), "missing_components", "cluster_id",
    "mobile_source", "fibre_source", "village_id", "commune_id", "lon", "lat",
    "obstacle_lon", "obstacle_lat",
)
#: Code columns shown by their label, and the label kind (see ``geo_dx.i18n.CODE_LABELS``).
_CODED: Mapping[str, str] = {
    "gap_class": "gap_class",
    "kind": "plan_kind",
    "technology": "plan_technology",
    "service": "plan_service",
    "power": "plan_power",
    "generated_by": "plan_origin",
    "mobile_technology": "technology",
    "mobile_source": "source",
    "fibre_source": "source",
    "especially_difficult": "boolean",
    "grid_power": "grid_power",
    "has_fibre": "boolean",
    "has_mobile_broadband": "boolean",
}
#: Excel number formats by column (the spreadsheet shows them in its own locale).
_FORMATS: Mapping[str, str] = {
    "score": "0.0",
    "travel_time_h": "0.0",
    "gap_share": "0.0%",
    "ethnic_minority_share": "0%",
    "poverty_rate": "0%",
    "lon": "0.000000",
    "lat": "0.000000",
    "year": "0",  # a year, never grouped (2026, not 2.026)
    "plan_year": "0",
    "cost_million_vnd": "#,##0",
    "cumulative_cost_million_vnd": "#,##0",
    "capex_million_vnd": "#,##0",
    "opex_million_vnd_per_year": "#,##0",
    "npv_cost_million_vnd": "#,##0",
    "budget_million_vnd": "#,##0",
    "available_million_vnd": "#,##0",
    "spent_million_vnd": "#,##0",
    "carried_million_vnd": "#,##0",
    "people_served": "#,##0",
    "ethnic_minority_people_served": "#,##0",
    "signal_share": "0.0%",
    "target_actual": "0.0%",
    "target_share": "0%",
    "mobile_broadband_share": "0.0%",
    "fibre_share": "0.0%",
    "route_km": "#,##0.0",
    "obstacle_lon": "0.000000",
    "obstacle_lat": "0.000000",
}
#: Headers of the columns only the workbook shows (others: geo_dx.i18n.COLUMN_LABELS).
_HEADERS: Mapping[str, str] = {
    "cost_million_vnd": N_("Cost (million VND)"),
    "cumulative_cost_million_vnd": N_("Cumulative cost (million VND)"),
    "capex_million_vnd": N_("Investment (million VND)"),
    "opex_million_vnd_per_year": N_("Operating cost per year (million VND)"),
    "npv_cost_million_vnd": N_("Net present cost over the horizon (million VND)"),
    "budget_million_vnd": N_("Budget of the year (million VND)"),
    "available_million_vnd": N_("Available, with what earlier years left (million VND)"),
    "spent_million_vnd": N_("Spent (million VND)"),
    "carried_million_vnd": N_("Carried over to the next year (million VND)"),
    "items": N_("Items"),
    "item_ids": N_("Items in the plan"),
    "villages_served": N_("Villages newly served"),
    "mobile_villages": N_("Of which mobile broadband"),
    "fibre_villages": N_("Of which fibre"),
    "satellite_villages": N_("Satellite access only"),
    "gap_villages_left": N_("Villages still without fibre or mobile broadband"),
    "no_signal": N_("Without any mobile signal"),
    "only_2g": N_("2G only"),
    "no_mobile_broadband": N_("Without mobile broadband (3G/4G)"),
    "no_fibre": N_("Without fixed broadband (fibre)"),
    "signal_share": N_("Share with a mobile signal"),
    "mobile_broadband_share": N_("Share with mobile broadband"),
    "fibre_share": N_("Share with fibre"),
    "fibre_4g": N_("Fibre and 4G in every village"),
    "target_indicator": N_("Indicator"),
    "target_actual": N_("Now"),
    "target_have": N_("Connected"),
    "target_total": N_("Out of"),
    "target_share": N_("Target share"),
    "target_short": N_("Still to connect"),
    "target_unit": N_("Counted in"),
    "assumption_group": N_("Group"),
    "assumption": N_("Assumption"),
    "assumption_value": N_("Value"),
    "assumption_note": N_("Status or date"),
}
#: Columns summed in each sheet's totals row (the plan sheet sums no people: a village
#: served by a site and a fibre route would count twice; the plan per commune counts it once;
#: the schedule sums the money and the villages by technology, never what is carried over).
_SUMMED: Mapping[str, tuple[str, ...]] = {
    "indicators": ("villages", *COUNT_INDICATORS),
    "communes": ("villages", "with_gap", "without_fibre", "without_mobile_broadband",
                 "without_both"),
    "villages": ("population", "households"),
    "plan": ("cost_million_vnd", "route_km"),
    "plan_communes": ("villages_served", "mobile_villages", "fibre_villages",
                      "satellite_villages", "people_served",
                      "ethnic_minority_people_served", "cost_million_vnd", "gap_villages_left"),
    "schedule": ("budget_million_vnd", "spent_million_vnd", "items"),
}
_WIDE = {"reason": 70, "village_name": 22, "commune_name": 22, "plan_answer": 40,
         "assumption_value": 70, "target_indicator": 45, "assumption": 30}
_MAX_WIDTH = 45


def write_workbook(
    path: str | Path,
    villages: gpd.GeoDataFrame,
    communes: pd.DataFrame,
    *,
    plan: pd.DataFrame | None = None,
    summary: Mapping[str, Any] | None = None,
    language: str = DEFAULT_LANGUAGE,
    title: str = "",
    made: dt.date | None = None,
) -> Path:
    """
    Write ``priority.xlsx`` (atomically).

    Parameters
    ----------
    path
        The ``.xlsx`` file to write.
    villages
        Scored villages (the output of :func:`geo_dx.scoring.score`); the gap villages
        are listed in priority order, as in ``priority.csv``.
    communes
        The per-commune table (:func:`geo_dx.communes.summarise_communes`), worst first.
    plan
        The connection plan (:func:`geo_dx.run.plan_outputs.plan_table`) when one exists:
        the plan sheet (costs in million VND, a totals row) and the plan per commune.
    summary
        The run's ``summary.json``: its indicators and targets, and the assumptions sheet.
    language
        ``"vi"`` or ``"en"``: headers, sheet names and code labels.
    title, made
        Shown on the "about" sheet (``made`` defaults to today).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from geo_dx import find_gaps, load_demo, score, summarise_communes
    >>> demo = load_demo()
    >>> gaps = find_gaps(demo.villages, demo.coverage, communes=demo.communes)
    >>> scored = score(gaps, communes=demo.communes)
    >>> per_commune = summarise_communes(scored, demo.communes)
    >>> path = write_workbook(Path(tempfile.mkdtemp()) / "priority.xlsx", scored, per_commune)
    >>> path.name, path.read_bytes()[:2]  # an xlsx file is a zip archive
    ('priority.xlsx', b'PK')
    """
    import xlsxwriter

    tr = translator(language)
    _ = tr.gettext
    summary = summary or {}
    indicators = summary.get("indicators", {})
    # (sheet name, table, the key of its summed columns or "" for no totals row)
    sheets: list[tuple[str, pd.DataFrame, str]] = []
    if indicators.get("targets"):
        sheets.append((_("Indicators"), _target_sheet(indicators["targets"], tr), ""))
    if indicators.get("communes"):
        sheets.append((_("Indicators by commune"), _indicator_sheet(indicators["communes"]),
                       "indicators"))
    sheets += [
        (_("Communes"), _commune_sheet(communes), "communes"),
        (_("Priority villages"), _village_sheet(villages, tr), "villages"),
    ]
    if plan is not None:
        from geo_dx.run.plan_outputs import PLAN_COLUMNS, commune_plan_table

        sheets.append((_("Plan"), _coded(_in_millions(pd.DataFrame(plan).drop(
            columns=[c for c in ("geometry",) if c in plan.columns])), tr), "plan"))
        if set(PLAN_COLUMNS) <= set(plan.columns):  # a plan as geo_dx.plan makes it
            by_commune = _in_millions(commune_plan_table(villages, pd.DataFrame(plan)))
            sheets.append((_("Plan by commune"), by_commune[
                [*by_commune.columns.drop("commune_id"), "commune_id"]], "plan_communes"))
        years = schedule_table(summary.get("plan") or {})
        if len(years):
            sheets.append((_("Investment by year"), _in_millions(years), "schedule"))
    assumptions = pd.DataFrame(
        [(a.group, a.item, a.value, a.note) for a in assumption_rows(summary, tr)],
        columns=["assumption_group", "assumption", "assumption_value", "assumption_note"])
    path = Path(path)
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"nan_inf_to_errors": False})
        try:
            styles = _Styles(book)
            for name, frame, summed in sheets:
                sheet = book.add_worksheet(_sheet_name(name))
                by_technology = tuple(c for c in frame.columns if c.startswith("villages_"))
                _write_sheet(sheet, frame, tr, styles, totals=_SUMMED.get(summed, ()) + (
                    by_technology if summed == "schedule" else ()))
                _print_setup(sheet, title=title, name=name)
            sheet = book.add_worksheet(_sheet_name(_("Assumptions")))
            _write_sheet(sheet, assumptions, tr, styles)
            _print_setup(sheet, title=title, name=_("Assumptions"))
            sheet = book.add_worksheet(_sheet_name(_("About")))
            _about_sheet(sheet, tr, styles, title=title, made=made or dt.date.today(),
                         plan=plan is not None)
            _print_setup(sheet, title=title, name=_("About"), header_row=False)
        finally:
            book.close()
    logger.info("wrote %s", path)
    return path


def _commune_sheet(communes: pd.DataFrame) -> pd.DataFrame:
    table = pd.DataFrame(communes.drop(columns=[c for c in ("geometry",) if c in communes]))
    return table[[c for c in COMMUNE_SHEET_COLUMNS if c in table]].reset_index(drop=True)


def write_sheets(
    path: str | Path,
    sheets: list[tuple[str, pd.DataFrame]],
    *,
    language: str = DEFAULT_LANGUAGE,
    headers: Mapping[str, str] | None = None,
) -> Path:
    """
    Write any tables as a typed workbook (atomically), one sheet each, styled as priority.xlsx.

    Headers are ``headers[column]`` when given, else the column's label in ``language``;
    text that a spreadsheet would run as a formula is neutralised.

    Examples
    --------
    >>> import tempfile
    >>> path = write_sheets(Path(tempfile.mkdtemp()) / "t.xlsx",
    ...                     [("Bảng", pd.DataFrame({"village_id": ["V1"], "score": [0.5]}))])
    >>> path.read_bytes()[:2]
    b'PK'
    """
    import xlsxwriter

    tr = translator(language)
    path = Path(path)
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"nan_inf_to_errors": False})
        try:
            styles = _Styles(book)
            for name, frame in sheets:
                _write_sheet(book.add_worksheet(_sheet_name(name)), frame, tr, styles,
                             headers=headers)
        finally:
            book.close()
    return path


def _indicator_sheet(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The official indicators per commune (``summary.json`` → ``indicators`` → ``communes``)."""
    table = pd.DataFrame(rows)
    order = ["commune_name", "villages", *COUNT_INDICATORS, "signal_share",
             "mobile_broadband_share", "fibre_share", "fibre_4g", "commune_id"]
    return table[[c for c in order if c in table]]


def _target_sheet(targets: list[dict[str, Any]], tr: Translator) -> pd.DataFrame:
    """Each target: the indicator, now (share and count), the target, what is still short."""
    words = target_rows(targets, tr)
    return pd.DataFrame({
        "target_indicator": [w["indicator"] for w in words],
        "target_actual": [t["actual"] for t in targets],
        "target_have": [t["count"] for t in targets],
        "target_total": [t["total"] for t in targets],
        "target_share": [t["target"] for t in targets],
        "target_short": [t["short"] for t in targets],
        "target_unit": [tr.gettext(N_("villages") if t["unit"] == "villages" else N_("communes"))
                 for t in targets],
    })


def _in_millions(table: pd.DataFrame) -> pd.DataFrame:
    """Amounts in million VND (triệu đồng), as handouts state them: ``cost_vnd`` →
    ``cost_million_vnd``, ``opex_vnd_per_year`` → ``opex_million_vnd_per_year``."""
    out = table.copy()
    for column in [c for c in out.columns if "_vnd" in c and "_million_vnd" not in c]:
        out[column] = pd.to_numeric(out[column], errors="coerce") / 1e6
        out = out.rename(columns={column: column.replace("_vnd", "_million_vnd", 1)})
    return out


def _village_sheet(villages: gpd.GeoDataFrame, tr: Translator) -> pd.DataFrame:
    table = priority_table(villages)
    extra = pd.DataFrame(villages.drop(columns=villages.geometry.name))
    for column in VILLAGE_SHEET_COLUMNS:  # columns the CSV does not carry
        if column not in table and column in extra and "village_id" in extra:
            table[column] = table["village_id"].map(
                extra.drop_duplicates("village_id").set_index("village_id")[column])
    if "missing_components" in table:
        table["missing_components"] = table["missing_components"].map(
            lambda v: ", ".join(tr.label("component", c) for c in str(v).split(",") if c)
            if isinstance(v, str) else v)
    shown = [c for c in VILLAGE_SHEET_COLUMNS if c in table]
    if "grid_power" in shown and not grid_power_known(villages["grid_power"]):
        shown.remove("grid_power")  # nobody said where the grid is: no column of "unknown"
    return _coded(table[shown], tr)


def _coded(table: pd.DataFrame, tr: Translator) -> pd.DataFrame:
    """Code columns replaced by their labels in the language."""
    out = table.copy()
    for column, kind in _CODED.items():
        if column in out:
            out[column] = out[column].map(
                lambda v, kind=kind: None if _missing(v) else tr.label(kind, v))
    return out


class _Styles:
    """The workbook's cell formats, created once."""

    def __init__(self, book: Any) -> None:
        self.header = book.add_format({"bold": True, "text_wrap": True, "valign": "top",
                                       "bg_color": "#DDEBF7", "bottom": 1})
        self.text = book.add_format({"valign": "top"})
        self.wrap = book.add_format({"valign": "top", "text_wrap": True})
        self.integer = book.add_format({"valign": "top", "num_format": "#,##0"})
        self.number = book.add_format({"valign": "top", "num_format": "#,##0.00"})
        self.bold = book.add_format({"bold": True})
        self.date = book.add_format({"num_format": "dd/mm/yyyy", "align": "left"})
        self.total_label = book.add_format({"bold": True, "top": 1})
        self.totals: dict[str, Any] = {}
        self._book = book
        self._by_format: dict[str, Any] = {}

    def total(self, style: Any) -> Any:
        """The bold, top-ruled variant of a number format, for a totals row."""
        key = style.num_format or "General"
        if key not in self.totals:
            self.totals[key] = self._book.add_format({"bold": True, "top": 1,
                                                      "num_format": key})
        return self.totals[key]

    def numeric(self, column: str, values: pd.Series) -> Any:
        if column in _FORMATS:
            fmt = _FORMATS[column]
            if fmt not in self._by_format:
                self._by_format[fmt] = self._book.add_format({"valign": "top",
                                                              "num_format": fmt})
            return self._by_format[fmt]
        whole = values.dropna()
        if column.endswith("_m") or whole.empty or bool((whole == np.round(whole)).all()):
            return self.integer
        return self.number


def _header(tr: Translator, name: str) -> str:
    code = name.removeprefix("villages_")
    if name != code and code in CODE_LABELS["plan_technology"]:  # the schedule's columns
        return tr.gettext("Villages served: {technology}",
                          technology=tr.label("plan_technology", code))
    return tr.gettext(_HEADERS[name]) if name in _HEADERS else tr.column(name)


def _write_sheet(sheet: Any, frame: pd.DataFrame, tr: Translator, styles: _Styles, *,
                 totals: tuple[str, ...] = (), headers: Mapping[str, str] | None = None
                 ) -> None:
    """Headers in row 1 (frozen, filtered; ``headers[column]`` when given), then one row per
    record, typed cell by cell, then a totals row summing the columns named in ``totals``."""
    frame = neutralise_formulas(frame.reset_index(drop=True))
    summed = [c for c in frame.columns if c in totals] if len(frame) else []
    for col, name in enumerate(frame.columns):
        header = (headers or {}).get(str(name)) or _header(tr, str(name))
        sheet.write_string(0, col, header, styles.header)
        values = frame[name]
        numeric = _is_numeric(values)
        as_float = pd.to_numeric(values, errors="coerce").astype(float) if numeric else None
        style = styles.numeric(str(name), as_float) if numeric else (
            styles.wrap if name in _WIDE else styles.text)
        for row, value in enumerate(values, start=1):
            number = float(as_float.iloc[row - 1]) if numeric else math.nan
            if _missing(value) or value == "" or (numeric and not math.isfinite(number)):
                sheet.write_blank(row, col, None, style)  # missing or infinite: no number
            elif numeric:
                sheet.write_number(row, col, number, style)
            elif isinstance(value, bool | np.bool_):
                sheet.write_string(row, col, tr.label("boolean", bool(value)), style)
            else:
                sheet.write_string(row, col, str(value), style)
        if name in summed:
            total = float(pd.to_numeric(values, errors="coerce").fillna(0).sum())
            sheet.write_number(len(frame) + 1, col, total, styles.total(style))
        sheet.set_column(col, col, _width(header, values, str(name)))
    if summed:
        sheet.write_string(len(frame) + 1, 0, tr.gettext("Total"), styles.total_label)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(frame), 1), max(len(frame.columns) - 1, 0))
    sheet.set_row(0, 32)


def _about_sheet(sheet: Any, tr: Translator, styles: _Styles, *, title: str, made: dt.date,
                 plan: bool) -> None:
    _ = tr.gettext
    rows = [
        (_("Title"), title),
        (_("Made on"), made),
        (_("Sheets"), _("per-commune summary (worst first); gap villages in priority order "
                        "with the reasons for their rank")
         + ("; " + _("the connection plan") if plan else "")),
        (_("Numbers"), _("stored as numbers: sort, filter and sum them; your spreadsheet "
                         "shows them with its own decimal separator")),
        (_("For scripts"), _("priority.csv, villages.gpkg and summary.json keep English "
                             "column names and codes (docs/language.md lists their labels)")),
    ]
    for row, (key, value) in enumerate(rows):
        sheet.write_string(row, 0, key, styles.bold)
        if isinstance(value, dt.date):  # a real date cell, shown in the spreadsheet's way
            sheet.write_datetime(row, 1, dt.datetime.combine(value, dt.time()), styles.date)
            continue
        sheet.write_string(row, 1, neutralise_formulas(pd.DataFrame({"v": [value]}))["v"][0],
                           styles.wrap)
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 1, 90)


def _print_setup(sheet: Any, *, title: str, name: str, header_row: bool = True) -> None:
    """A handout's page: A4 landscape, fitted to the page width, the header row repeated on
    every page (print titles), the title and sheet in the page header, pages numbered."""
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)  # one page wide, as many tall as needed
    sheet.set_margins(left=0.4, right=0.4, top=0.7, bottom=0.6)
    if header_row:
        sheet.repeat_rows(0)
    def escaped(text: str) -> str:
        return text.replace("&", "&&")[:100]
    sheet.set_header(f"&L{escaped(title)}&R{escaped(name)}")
    sheet.set_footer("&C&P / &N")


def _is_numeric(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_numeric_dtype(values):
        return True
    present = values.dropna()
    return bool(len(present)) and all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
        for v in present
    )


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _width(header: str, values: pd.Series, name: str) -> float:
    if name in _WIDE:
        return _WIDE[name]
    sample = values.dropna().astype(str).head(500)
    longest = max([len(header) * 0.6, *(len(v) for v in sample)], default=8)
    return float(min(max(longest + 2, 8), _MAX_WIDTH))


def _sheet_name(name: str) -> str:
    """Excel sheet names: at most 31 characters, none of ``[]:*?/\\``."""
    for ch in "[]:*?/\\":
        name = name.replace(ch, " ")
    return name[:31]

