"""``geo-dx diff``: what changed between two runs, village by village, with the evidence.

A village changes when its gap class, its dispute state, its rank band (top 20, 21-100,
101-500, beyond, not ranked) or its plan item differs between the runs. Each change
carries the evidence that moved it: measurements that dispute or confirm coverage, a
nearer site, a weight or an input file that changed. ``diff.csv`` has one row per
village and change (``village_id``, ``change``, ``before``, ``after``, ``evidence``);
``diff.xlsx`` and ``diff.html`` (offline, in the run's language) add the totals before
and after; ``diff.gpkg`` holds the changed villages as a layer (``changed_villages``) to
show over the second run's map in QGIS.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_dx.i18n import N_, translator
from geo_dx.run.readback import LoadedRun, write_together
from geo_dx.run.report import write_csv
from geo_dx.run.workbook import write_sheets

__all__ = ["CHANGES", "RunDiff", "diff_runs", "rank_band", "write_diff"]

#: Kinds of change (code → label msgid).
CHANGES: Mapping[str, str] = {
    "gap_class": N_("Gap class"), "disputed": N_("Disputed by measurements"),
    "rank_band": N_("Rank band"), "plan_item": N_("Plan item"),
}
#: Upper rank of each band (inclusive).
RANK_BANDS: tuple[tuple[int, str], ...] = ((20, "1-20"), (100, "21-100"), (500, "101-500"))
_TOTALS = ("villages", "without_mobile_broadband", "without_fibre", "without_both")
#: Indicators beyond the summary's totals (code → label msgid).
_INDICATORS: Mapping[str, str] = {
    "disputed": N_("Disputed by measurements"),
    "people_without_mobile_broadband": N_("People in villages without mobile broadband"),
    "people_without_fibre": N_("People in villages without fibre"),
}


@dataclass(frozen=True)
class RunDiff:
    """Changes (one row per village and change) and the totals of both runs."""

    changes: pd.DataFrame
    totals: pd.DataFrame


def rank_band(rank: float | None) -> str:
    """
    The band of a priority rank.

    Examples
    --------
    >>> rank_band(3), rank_band(150), rank_band(900), rank_band(float("nan"))
    ('1-20', '101-500', '>500', 'not ranked')
    """
    if rank is None or not np.isfinite(rank):
        return "not ranked"
    return next((band for top, band in RANK_BANDS if rank <= top), f">{RANK_BANDS[-1][0]}")


def _state(run: LoadedRun) -> pd.DataFrame:
    v = run.villages.drop_duplicates("village_id").set_index("village_id")
    return pd.DataFrame({
        "gap_class": v["gap_class"].astype(str),
        "disputed": v.get("mobile_disputed", pd.Series(False, index=v.index)).fillna(False)
        .astype(bool).map({True: "yes", False: "no"}),
        "rank_band": v.get("rank", pd.Series(np.nan, index=v.index)).map(rank_band),
        "plan_item": v.get("planned_by", pd.Series("", index=v.index)).fillna("").astype(str),
        "population": v.get("population_used", v.get("population", pd.Series(
            np.nan, index=v.index))).fillna(0),
        "tests": v.get("mobile_dispute_tests", pd.Series(0, index=v.index)).fillna(0),
        "days": v.get("mobile_dispute_days", pd.Series(0, index=v.index)).fillna(0),
        "confidence": v.get("mobile_confidence", pd.Series("", index=v.index)).fillna(""),
        "nearest_mobile_m": v.get("nearest_mobile_m", pd.Series(np.nan, index=v.index)),
        "score": v.get("score", pd.Series(np.nan, index=v.index)),
        "rank": v.get("rank", pd.Series(np.nan, index=v.index)),
    })


def _run_evidence(before: LoadedRun, after: LoadedRun) -> list[tuple[str, dict]]:
    """What changed in the runs' inputs and settings (files, weights, model), as messages."""
    said: list[tuple[str, dict]] = []
    files_a = {Path(str(p)).name for p in before.summary.get("inputs", {}).get("coverage", [])}
    files_b = {Path(str(p)).name for p in after.summary.get("inputs", {}).get("coverage", [])}
    if files_b - files_a:
        said.append((N_("coverage added: {files}"),
                     {"files": ", ".join(sorted(files_b - files_a))}))
    if files_a - files_b:
        said.append((N_("coverage removed: {files}"),
                     {"files": ", ".join(sorted(files_a - files_b))}))
    for layer in ("communes", "villages", "dem", "roads", "towns", "power"):
        was, now = (_file(run.summary.get("inputs", {}).get(layer)) for run in (before, after))
        if was != now:
            said.append((N_("input {layer}: {before} -> {after}"),
                         {"layer": layer, "before": was, "after": now}))
    weights_a = before.summary.get("scoring", {}).get("weights")
    weights_b = after.summary.get("scoring", {}).get("weights")
    if weights_a != weights_b:
        said.append((N_("weights {before} -> {after}"), {"before": weights_a, "after": weights_b}))
    model_a, model_b = before.summary.get("mobile_model"), after.summary.get("mobile_model")
    if model_a != model_b:
        said.append((N_("mobile model {before} -> {after}"), {"before": model_a, "after": model_b}))
    return said


def _file(path: object) -> str:
    return Path(str(path)).name if path else "-"


def diff_runs(before: LoadedRun, after: LoadedRun) -> RunDiff:
    """
    Villages whose gap class, dispute state, rank band or plan item changed, with evidence.

    ``changes.evidence`` is in English (for software); ``changes.evidence_text`` in the
    language of ``after``.
    """
    a, b = _state(before), _state(after)
    common = a.index.intersection(b.index)
    run_level = _run_evidence(before, after)
    en, local = translator("en"), translator(after.language)
    rows = []
    for change in CHANGES:
        moved = common[(a.loc[common, change] != b.loc[common, change]).to_numpy()]
        for vid in sorted(moved):
            parts = _evidence(a.loc[vid], b.loc[vid]) + run_level
            rows.append({"village_id": vid, "change": change, "before": a.at[vid, change],
                         "after": b.at[vid, change], "evidence": _say(parts, en),
                         "evidence_text": _say(parts, local)})
    for vid, gone in [(v, False) for v in sorted(b.index.difference(a.index))] + [
            (v, True) for v in sorted(a.index.difference(b.index))]:
        message = N_("village removed") if gone else N_("village added")
        rows.append({"village_id": vid, "change": "gap_class",
                     "before": a.at[vid, "gap_class"] if gone else None,
                     "after": None if gone else b.at[vid, "gap_class"],
                     "evidence": en.gettext(message), "evidence_text": local.gettext(message)})
    changes = pd.DataFrame(rows, columns=["village_id", "change", "before", "after",
                                          "evidence", "evidence_text"])
    totals = pd.DataFrame({
        "indicator": [*_TOTALS, *_INDICATORS],
        "before": [*(before.summary.get("totals", {}).get(k) for k in _TOTALS),
                   *_indicators(a)],
        "after": [*(after.summary.get("totals", {}).get(k) for k in _TOTALS), *_indicators(b)],
    })
    return RunDiff(changes=changes, totals=totals)


def _indicators(state: pd.DataFrame) -> list[int]:
    """Disputed villages, people in villages without mobile broadband / without fibre."""
    mobile = state["gap_class"].isin(("no_mobile", "no_fibre_no_mobile"))
    fibre = state["gap_class"].isin(("no_fibre", "no_fibre_no_mobile"))
    return [int((state["disputed"] == "yes").sum()),
            int(round(state.loc[mobile, "population"].sum())),
            int(round(state.loc[fibre, "population"].sum()))]


def _say(parts: list[tuple[str, dict]], tr: Any) -> str:
    return "; ".join(tr.gettext(message, **values) for message, values in parts)


def _evidence(a: pd.Series, b: pd.Series) -> list[tuple[str, dict]]:
    """What differs for one village between the runs, as messages."""
    said: list[tuple[str, dict]] = []
    if a["tests"] != b["tests"] or a["days"] != b["days"]:
        said.append((N_("weak tests within reach {tests_before} on {days_before} day(s) -> "
                        "{tests_after} on {days_after} day(s)"),
                     {"tests_before": int(a["tests"]), "days_before": int(a["days"]),
                      "tests_after": int(b["tests"]), "days_after": int(b["days"])}))
    if a["confidence"] != b["confidence"]:
        said.append((N_("mobile evidence {before} -> {after}"),
                     {"before": a["confidence"], "after": b["confidence"]}))
    near_a, near_b = a["nearest_mobile_m"], b["nearest_mobile_m"]
    if pd.notna(near_a) and pd.notna(near_b) and abs(near_a - near_b) >= 1:
        said.append((N_("nearest mobile site or measurement {before} m -> {after} m"),
                     {"before": f"{near_a:.0f}", "after": f"{near_b:.0f}"}))
    if a["plan_item"] != b["plan_item"]:
        said.append((N_("plan {before} -> {after}"),
                     {"before": a["plan_item"] or "-", "after": b["plan_item"] or "-"}))
    if _num(a["score"]) != _num(b["score"]):
        said.append((N_("score {before} -> {after}"),
                     {"before": _num(a["score"]), "after": _num(b["score"])}))
    if _num(a["rank"], 0) != _num(b["rank"], 0):
        said.append((N_("rank {before} -> {after}"),
                     {"before": _num(a["rank"], 0), "after": _num(b["rank"], 0)}))
    return said


def _num(x: float, decimals: int = 1) -> str:
    return "-" if pd.isna(x) else f"{x:.{decimals}f}"


def write_diff(diff: RunDiff, before: LoadedRun, after: LoadedRun, out_dir: str | Path
               ) -> list[Path]:
    """Write ``diff.csv``, ``diff.xlsx``, ``diff.html`` and ``diff.gpkg`` (all or none)."""
    out = Path(out_dir)
    tr = translator(after.language)
    _ = tr.gettext
    names = after.villages.drop_duplicates("village_id").set_index("village_id")
    shown = diff.changes.copy()
    shown.insert(1, "village_name", shown["village_id"].map(names["village_name"]))
    shown.insert(2, "commune_name", shown["village_id"].map(names.get("commune_name")))
    for col in ("before", "after"):
        shown[col] = [_shown(change, value, tr) for change, value in
                      zip(shown["change"], shown[col], strict=True)]
    shown["change"] = shown["change"].map(lambda c: _(CHANGES[c]))
    shown = shown.drop(columns="evidence").rename(columns={"evidence_text": "evidence"})
    totals = diff.totals.assign(indicator=diff.totals["indicator"].map(
        lambda k: _(_INDICATORS[k]) if k in _INDICATORS else tr.column(k)))
    headers = {"change": _("Change"), "before": _("Before"), "after": _("After"),
               "evidence": _("Evidence"), "indicator": _("Indicator")}
    page = _diff_html(shown, totals, headers, before, after, tr)
    changed = after.villages.drop_duplicates("village_id").merge(
        diff.changes.groupby("village_id", as_index=False).agg(
            changes=("change", ";".join), evidence=("evidence_text", "first")),
        on="village_id")[["village_id", "village_name", "commune_id", "gap_class", "changes",
                          "evidence", "geometry"]]
    return write_together({
        out / "diff.gpkg": lambda p: changed.to_file(p, layer="changed_villages", driver="GPKG"),
        out / "diff.csv": lambda p: write_csv(p, diff.changes.drop(columns="evidence_text")),
        out / "diff.xlsx": lambda p: write_sheets(
            p, [(_("Totals"), totals), (_("Changes"), shown)], language=after.language,
            headers=headers),
        out / "diff.html": lambda p: p.write_text(page, encoding="utf-8"),
    })


def _shown(change: str, value: Any, tr: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if change == "gap_class":
        return tr.label("gap_class", value)
    if change == "disputed":
        return tr.label("boolean", value == "yes")
    if change == "rank_band" and value == "not ranked":
        return tr.gettext("not ranked")
    return value


def _diff_html(shown: pd.DataFrame, totals: pd.DataFrame, headers: Mapping[str, str],
               before: LoadedRun, after: LoadedRun, tr: Any) -> str:
    e = html.escape
    _ = tr.gettext

    def table(frame: pd.DataFrame) -> str:
        head = "".join(f"<th>{e(str(headers.get(c) or tr.column(str(c))))}</th>"
                       for c in frame.columns)
        body = "".join("<tr>" + "".join(f"<td>{e('' if pd.isna(v) else str(v))}</td>"
                                        for v in row) + "</tr>"
                       for row in frame.itertuples(index=False))
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    title = _("What changed between two runs")
    said_before, said_after = e(_("Before")), e(_("After"))
    said_totals, said_changes = e(_("Totals")), e(_("Changes"))
    return f"""<!DOCTYPE html>
<html lang="{e(after.language)}"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>body {{ font-family: sans-serif; margin: 1.5em; }} table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #999; padding: 3px 6px; vertical-align: top; }}</style></head>
<body><h1>{e(title)}</h1>
<p>{said_before}: {e(str(before.folder))} · {said_after}: {e(str(after.folder))}</p>
<h2>{said_totals}</h2>{table(totals)}
<h2>{said_changes} ({len(shown)})</h2>{table(shown)}
</body></html>
"""
