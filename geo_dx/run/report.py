"""Run outputs: the priority list (CSV), GeoPackage layers, the gap analysis section of
summary.json and the console table.

The run folder they go into is written and swapped in whole by :mod:`geo_dx.run.writer`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_dx.communes import COUNT_COLUMNS, placed
from geo_dx.i18n import DEFAULT_LANGUAGE, Translator, translator
from geo_dx.indicators import INDICATOR_LABELS, target_rows
from geo_dx.run.summary import json_value
from geo_dx.schema import COMPONENTS
from geo_dx.signal.blocking import BLOCKING_COLUMNS
from geo_dx.spatial import village_locations

#: priority.csv columns, in order (those a run does not produce are left out).
PRIORITY_COLUMNS: tuple[str, ...] = (
    "rank",
    "village_id",
    "village_name",
    "commune_id",
    "commune_name",
    "lon",
    "lat",
    "gap_class",
    "has_fibre",
    "has_mobile_broadband",
    "mobile_technology",
    "score",
    "reason",
    "plan_item",
    "plan_year",
    "plan_answer",
    *(f"contrib_{c}" for c in COMPONENTS),
    "missing_components",
    "rank_p05",
    "rank_p95",
    "cluster_id",
    "travel_time_h",
    "elevation_m",
    "nearest_fibre_m",
    "nearest_mobile_m",
    *BLOCKING_COLUMNS,
    "population",
    "households",
    "ethnic_minority_share",
    "poverty_rate",
    "especially_difficult",
    "grid_power",
    "fibre_source",
    "mobile_source",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """
    Prefix text cells that a spreadsheet would run as a formula with a single quote.

    Any text cell starting with ``= + - @``, tab or carriage return is neutralised
    (OWASP CSV injection advice). Numbers are left alone.

    Examples
    --------
    >>> neutralise_formulas(pd.DataFrame({"name": ["=HYPERLINK(1)", "Bản Mường"]})).name.tolist()
    ["'=HYPERLINK(1)", 'Bản Mường']
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v
            )
    return out


def priority_table(villages: gpd.GeoDataFrame) -> pd.DataFrame:
    """
    One row per village with a gap, in priority order, with the documented columns.

    Villages are ordered by ``rank`` when present, else by ``score`` descending.
    ``lon``/``lat`` are the village location in WGS84, rounded to 6 decimals. Villages
    with a ``location_issue`` (misplaced, never ranked) are left out; distances without
    any point (``inf``) are left empty.
    """
    keep = (villages["gap_class"] != "none") & placed(villages)
    gaps = villages[keep]
    loc = village_locations(gaps).to_crs(4326)
    table = pd.DataFrame(gaps.drop(columns=gaps.geometry.name))
    table["lon"] = loc.x.round(6).to_numpy()
    table["lat"] = loc.y.round(6).to_numpy()
    if "rank" not in table:
        table["rank"] = table["score"].rank(ascending=False, method="first")
    table = table.sort_values(["rank", "village_id"])
    items = plan_item_column(table)
    if items is not None:
        table["plan_item"] = items
    for col in ("rank", "rank_p05", "rank_p95", "cluster_id"):
        if col in table:
            table[col] = table[col].astype("Int64")
    for col in table.columns:
        if col.endswith("_m"):
            numbers = pd.to_numeric(table[col], errors="coerce")
            table[col] = numbers.where(np.isfinite(numbers)).round(0)
        elif col.startswith("contrib_") or col in ("score", "travel_time_h"):
            table[col] = table[col].round(2)
    return table[[c for c in PRIORITY_COLUMNS if c in table]].reset_index(drop=True)


def plan_item_column(villages: pd.DataFrame) -> pd.Series | None:
    """
    The plan item(s) serving each village: ``plan_item``, else ``planned_by`` (the column
    before it); empty text as None. None when the villages were never planned.

    Examples
    --------
    >>> plan_item_column(pd.DataFrame({"planned_by": ["M1", "", "F2;M1"]})).tolist()
    ['M1', None, 'F2;M1']
    """
    column = next((villages[c] for c in ("plan_item", "planned_by") if c in villages), None)
    if column is None:
        return None
    text = column.astype(object)
    return text.where(text.map(lambda v: isinstance(v, str) and bool(v.strip())), None)


def write_priority_csv(path: Path, villages: gpd.GeoDataFrame) -> Path:
    """Write ``priority.csv``: UTF-8 with BOM (Excel shows Vietnamese), formulas neutralised."""
    return write_csv(path, priority_table(villages))


def write_csv(path: Path, table: pd.DataFrame) -> Path:
    """Write a table as CSV for Excel: UTF-8 with BOM, formulas neutralised, no index."""
    neutralise_formulas(table).to_csv(path, index=False, encoding="utf-8-sig")
    return Path(path)


def build_summary(
    villages: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    *,
    title: str,
    warnings: Sequence[str] = (),
    mobile_model: str = "radius",
    synthetic: bool | None = None,
    generator: str | None = None,
    crs: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    scoring: Mapping[str, Any] | None = None,
    evidence: Sequence[Mapping[str, Any]] | None = None,
    language: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """
    The ``summary.json`` document, built in one place from explicit fields.

    Parameters
    ----------
    villages
        Every village with its gap columns (and scores).
    communes
        The per-commune table from :func:`geo_dx.communes.summarise_communes`, worst first.
    title, warnings, mobile_model, synthetic, generator, crs, inputs, scoring, evidence
        What the run was and what it saw; fields left ``None`` are left out.
    language
        The language of what people read from this run (``geo-dx map`` reuses it).
    extra
        Further sections (e.g. an investment plan), added last.

    Returns
    -------
    dict
        ``title, mobile_model, totals, communes, warnings``, the given fields, and
        ``terrain`` (radius against terrain counts) when the villages hold both answers.

    Examples
    --------
    >>> import geo_dx
    >>> demo = geo_dx.load_demo()
    >>> gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
    >>> s = build_summary(gaps, geo_dx.summarise_communes(gaps, demo.communes), title="Demo")
    >>> s["totals"]["villages"] == len(gaps), len(s["communes"]) == len(demo.communes)
    (True, True)
    """
    totals = {
        "villages": len(villages),
        "without_fibre": int((~villages["has_fibre"]).sum()),
        "without_mobile_broadband": int((~villages["has_mobile_broadband"]).sum()),
        "without_both": int((villages["gap_class"] == "no_fibre_no_mobile").sum()),
        "unassigned": int(villages["commune_id"].isna().sum()),
        "warnings": len(warnings),
    }
    rows = pd.DataFrame(communes.drop(columns="geometry"))
    fields = {"synthetic": synthetic, "language": language, "generator": generator, "crs": crs,
              "inputs": inputs, "scoring": scoring}
    summary: dict[str, Any] = {
        "title": title,
        "mobile_model": mobile_model,
        "totals": totals,
        "communes": [
            {k: json_value(v) for k, v in row.items()}
            for row in rows[["commune_id", "commune_name", *COUNT_COLUMNS]].to_dict("records")
        ],
        "warnings": list(warnings),
        **{k: v for k, v in fields.items() if v is not None},
    }
    if "has_mobile_broadband_radius" in villages and "has_mobile_broadband_terrain" not in villages:
        radius = villages["has_mobile_broadband_radius"]
        summary["terrain"] = {
            "terrain_without_mobile_broadband": int((~villages["has_mobile_broadband"]).sum()),
            "radius_without_mobile_broadband": int((~radius).sum()),
            "changed_class": int((radius != villages["has_mobile_broadband"]).sum()),
        }
    if evidence:
        summary["evidence"] = [dict(e) for e in evidence]
    summary.update(extra or {})
    return summary


def format_summary(
    summary: Mapping[str, Any], *, max_communes: int = 15, language: str | None = None
) -> str:
    """
    The console table ``geo-dx run`` prints: totals, then communes worst first.

    Written in ``language`` (default: the run's ``summary["language"]``, else Vietnamese).
    """
    tr = translator(language or summary.get("language", DEFAULT_LANGUAGE))
    _ = tr.gettext
    t = summary["totals"]

    def total(label: str, value: int) -> str:
        return f"{label:<50}{tr.number(value):>7}"

    indicators = summary.get("indicators", {})
    province = indicators.get("province", {})
    lines = [summary["title"], "", total(_("villages"), t["villages"])]
    # no signal, 2G only and no broadband told apart, as provinces report them
    shown = (("no_signal", province.get("no_signal")), ("only_2g", province.get("only_2g")),
             ("no_mobile_broadband", t["without_mobile_broadband"]),
             ("no_fibre", t["without_fibre"]))
    lines += [total("  " + tr.gettext(INDICATOR_LABELS[key]), value)
              for key, value in shown if value is not None]
    lines.append(total("  " + _("without both"), t["without_both"]))
    if t["unassigned"]:
        lines.append(total(_("unassigned to a commune"), t["unassigned"]))
    if "terrain" in summary:
        lines.append("  " + _("(by coverage radius alone, without terrain: {n} villages without "
                              "mobile broadband)",
                              n=tr.number(summary["terrain"]["radius_without_mobile_broadband"])))
    models = summary.get("mobile_models", {})
    if models.get("active") == "itm":
        counts = ", ".join(f"{m} {tr.number(n)}"
                           for m, n in models["without_mobile_broadband"].items())
        changes = ", ".join(
            _("{models}: {n} change class", models=k.replace("_vs_", " vs "), n=tr.number(n))
            for k, n in models["changed_class"].items())
        lines.append("  " + _("without mobile by model: {counts} ({changes})",
                              counts=counts, changes=changes))
    lines += _grid_power_lines(summary.get("grid_power"), tr)
    disputes = summary.get("disputes", {})
    if disputes.get("disputed_count"):
        lines.append(total(_("disputed by measurements"), disputes["disputed_count"]))
    if indicators.get("targets"):
        lines += ["", *_target_lines(indicators["targets"], tr)]
    by_id = {row["commune_id"]: row for row in indicators.get("communes", [])}
    heads = [tr.pgettext("console", "commune"), tr.pgettext("console", "villages"),
             *([tr.pgettext("console", "no signal"), tr.pgettext("console", "2G only")]
               if by_id else []),
             tr.pgettext("console", "no mobile broadband"), tr.pgettext("console", "no fibre"),
             tr.pgettext("console", "neither")]
    widths = [30, *(max(9, len(h) + 2) for h in heads[1:])]
    lines += ["", f"{heads[0]:<{widths[0]}}" + "".join(
        f"{h:>{w}}" for h, w in zip(heads[1:], widths[1:], strict=True))]
    keys = ("villages", *(("no_signal", "only_2g") if by_id else ()),
            "without_mobile_broadband", "without_fibre", "without_both")
    # a name several communes share (a national run) is told apart by the commune's id
    shared = Counter(str(row["commune_name"]) for row in summary["communes"])
    for row in summary["communes"][:max_communes]:
        name = _console_name(row, repeated=shared[str(row["commune_name"])] > 1,
                             width=widths[0] - 2)
        values = {**by_id.get(row["commune_id"], {}), **row}
        lines.append(f"{name:<{widths[0]}}" + "".join(
            f"{tr.number(values.get(k, 0)):>{w}}" for k, w in zip(keys, widths[1:], strict=True)))
    hidden = len(summary["communes"]) - max_communes
    if hidden > 0:
        lines.append(_("… and {n} more communes (see summary.json)", n=tr.number(hidden)))
    if t["warnings"]:
        lines.append("\n" + _("{n} warning(s); see summary.json", n=tr.number(t["warnings"])))
    return "\n".join(lines)


def _grid_power_lines(section: Mapping[str, Any] | None, tr: Translator) -> list[str]:
    """The console's grid power lines (the fund's rule), when any village's is known."""
    if not section or not (section.get("yes", 0) or section.get("no", 0)):
        return []
    _ = tr.gettext
    no_mobile = section.get("without_mobile_broadband", {}).get("no", 0)
    rows = [("  " + _("villages without grid power"), section["no"],
             "  " + _("({n} of them without mobile broadband)", n=tr.number(no_mobile)))]
    if section.get("unknown"):
        rows.append(("  " + _("grid power not known"), section["unknown"], ""))
    return [f"{label:<50}{tr.number(n):>7}{note}" for label, n, note in rows]


def write_gpkg_layer(frame: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    """Write ``frame`` as ``layer`` of the GeoPackage ``path`` (missing values as NULL)."""
    clean = frame.copy()
    for col in clean.columns:
        if col != clean.geometry.name and clean[col].dtype == object:
            clean[col] = clean[col].map(lambda v: v if v is None or isinstance(v, str | bool)
                                        else (None if pd.isna(v) else v))
    clean.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")


def _target_lines(targets: list[dict[str, Any]], tr: Translator) -> list[str]:
    """The targets block of the console: indicator, now (count), target, still short."""
    _ = tr.gettext
    rows = target_rows(targets, tr)
    width = max(len(r["indicator"]) for r in rows) + 2
    target, now, wanted, short = _("Target"), _("now"), _("target"), _("still to connect")
    head = f"{target:<{width}}{now:>9}{'':<14}{wanted:>9}  {short}"
    return [head, *(f"{r['indicator']:<{width}}{r['actual']:>9} {'(' + r['count'] + ')':<13}"
                    f"{r['target']:>9}  {r['short']}" for r in rows)]


def _console_name(row: Mapping[str, Any], *, repeated: bool, width: int) -> str:
    """A commune's name cut to ``width``, with its id when other communes share the name.

    Examples
    --------
    >>> _console_name({"commune_name": "Xã Tân Lập", "commune_id": "P07-21"},
    ...               repeated=True, width=28)
    'Xã Tân Lập (P07-21)'
    >>> _console_name({"commune_name": "Xã Mường Phăng Trên Cao", "commune_id": "12"},
    ...               repeated=True, width=20)
    'Xã Mường Phăng (12)'
    """
    name = str(row["commune_name"])
    if not repeated:
        return name[:width]
    suffix = f" ({row['commune_id']})"
    return name[: max(width - len(suffix), 1)].rstrip() + suffix
