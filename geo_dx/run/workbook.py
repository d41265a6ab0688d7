"""``priority.xlsx``: the priority list as a workbook a planner opens in Excel or LibreOffice.

Headers and code values are in the run's language (Vietnamese by default), numbers are
stored as numbers with a display format (so a Vietnamese-locale spreadsheet shows
``0,996`` or ``99,6 %``, never ``996``), the header row is frozen and filtered, and
columns are sized to their content. Text is neutralised against formula injection with
:func:`geo_dx.run.report.neutralise_formulas`, the same rule as ``priority.csv``.

Sheets: the per-commune summary (worst first), the gap villages in priority order with
their reasons, the connection plan when one is given, and a short "about" sheet.
``priority.csv`` keeps the English column names and codes for scripts.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_dx.atomic import atomic_path
from geo_dx.i18n import DEFAULT_LANGUAGE, Translator, translator
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
    "rank_p05", "rank_p95", "mobile_technology", "nearest_mobile_m", "mobile_blocked_by",
    "blocked_site_distance_m", "obstacle_elevation_m", "obstacle_distance_m",
    "nearest_fibre_m", "travel_time_h", "elevation_m", "population", "households",
    "ethnic_minority_share", "poverty_rate", "especially_difficult",
    *(f"contrib_{c}" for c in COMPONENTS), "missing_components", "cluster_id",
    "mobile_source", "fibre_source", "village_id", "commune_id", "lon", "lat",
    "obstacle_lon", "obstacle_lat",
)
#: Code columns shown by their label, and the label kind (see ``geo_dx.i18n.CODE_LABELS``).
_CODED: Mapping[str, str] = {
    "gap_class": "gap_class",
    "kind": "plan_kind",
    "generated_by": "plan_origin",
    "mobile_technology": "technology",
    "mobile_source": "source",
    "fibre_source": "source",
    "especially_difficult": "boolean",
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
    "obstacle_lon": "0.000000",
    "obstacle_lat": "0.000000",
}
_WIDE = {"reason": 70, "village_name": 22, "commune_name": 22}
_MAX_WIDTH = 45


def write_workbook(
    path: str | Path,
    villages: gpd.GeoDataFrame,
    communes: pd.DataFrame,
    *,
    plan: pd.DataFrame | None = None,
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
        The connection plan, one row per item, when one exists: written as a third sheet
        with its columns in their order (known columns get translated headers).
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
    tr = translator(language)
    _ = tr.gettext
    sheets: list[tuple[str, pd.DataFrame]] = [
        (_("Communes"), _commune_sheet(communes)),
        (_("Priority villages"), _village_sheet(villages, tr)),
    ]
    if plan is not None:
        sheets.append((_("Plan"), _coded(pd.DataFrame(plan).drop(
            columns=[c for c in ("geometry",) if c in plan.columns]), tr)))
    path = _write_book(path, sheets, tr, after=lambda book, styles: _about_sheet(
        book.add_worksheet(_sheet_name(_("About"))), tr, styles, title=title,
        made=made or dt.date.today(), plan=plan is not None))
    logger.info("wrote %s", path)
    return path


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
    return _write_book(path, sheets, translator(language), headers=headers)


def _write_book(path: str | Path, sheets: list[tuple[str, pd.DataFrame]], tr: Translator, *,
                headers: Mapping[str, str] | None = None,
                after: Callable[[Any, _Styles], None] | None = None) -> Path:
    """One typed sheet per table (then ``after(book, styles)``), written atomically."""
    import xlsxwriter

    path = Path(path)
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), {"nan_inf_to_errors": False})
        try:
            styles = _Styles(book)
            for name, frame in sheets:
                _write_sheet(book.add_worksheet(_sheet_name(name)), frame, tr, styles,
                             headers=headers)
            if after is not None:
                after(book, styles)
        finally:
            book.close()
    return path


def _commune_sheet(communes: pd.DataFrame) -> pd.DataFrame:
    table = pd.DataFrame(communes.drop(columns=[c for c in ("geometry",) if c in communes]))
    return table[[c for c in COMMUNE_SHEET_COLUMNS if c in table]].reset_index(drop=True)


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
    table = table[[c for c in VILLAGE_SHEET_COLUMNS if c in table]]
    return _coded(table, tr)


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
        self._book = book
        self._by_format: dict[str, Any] = {}

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


def _write_sheet(sheet: Any, frame: pd.DataFrame, tr: Translator, styles: _Styles, *,
                 headers: Mapping[str, str] | None = None) -> None:
    """Headers in row 1 (frozen, filtered), then one row per record, typed cell by cell."""
    frame = neutralise_formulas(frame.reset_index(drop=True))
    for col, name in enumerate(frame.columns):
        header = (headers or {}).get(str(name)) or tr.column(str(name))
        sheet.write_string(0, col, header, styles.header)
        values = frame[name]
        numeric = _is_numeric(values)
        as_float = pd.to_numeric(values, errors="coerce").astype(float) if numeric else None
        style = styles.numeric(str(name), as_float) if numeric else (
            styles.wrap if name in _WIDE else styles.text)
        for row, value in enumerate(values, start=1):
            number = float(as_float.iloc[row - 1]) if numeric else math.nan
            if _missing(value) or (numeric and not math.isfinite(number)):
                sheet.write_blank(row, col, None, style)  # missing or infinite: no number
            elif numeric:
                sheet.write_number(row, col, number, style)
            elif isinstance(value, bool | np.bool_):
                sheet.write_string(row, col, tr.label("boolean", bool(value)), style)
            else:
                sheet.write_string(row, col, str(value), style)
        sheet.set_column(col, col, _width(header, values, str(name)))
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(frame), 1), max(len(frame.columns) - 1, 0))
    sheet.set_row(0, 32)


def _about_sheet(sheet: Any, tr: Translator, styles: _Styles, *, title: str, made: dt.date,
                 plan: bool) -> None:
    _ = tr.gettext
    rows = [
        (_("Title"), title),
        (_("Made on"), tr.date(made)),
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
        sheet.write_string(row, 1, neutralise_formulas(pd.DataFrame({"v": [value]}))["v"][0],
                           styles.wrap)
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 1, 90)


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

