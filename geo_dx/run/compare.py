"""``geo-dx compare-list``: a province's own name-keyed list against a finished run.

A list of villages (operators' report of villages without 3G/4G, the especially difficult
villages, villages without grid power...) as an Excel sheet, a CSV or the first table of
a Word document is matched to the run's villages by name within the named commune
(:func:`geo_dx.names.match_villages`), and each row falls in one category:

- ``listed_gap``: on the list, and a gap in the analysis;
- ``listed_covered``: on the list, but covered in the analysis (with the evidence: the
  nearest site, its distance, the model, the predicted signal);
- ``unmatched``: a row no village could be given to (ambiguous or not found: to review);

and the run's gaps no row names are ``gap_not_listed``. Rows whose match is uncertain
go to the review sheet; the planner fills in the village code (or ``không có`` / ``none``
for a village not in the run) and feeds the sheet back with ``--resolved``.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_dx.columns import fold
from geo_dx.errors import InputError
from geo_dx.field_survey import read_commune_map
from geo_dx.i18n import N_, translator
from geo_dx.io import read_layer, read_table
from geo_dx.maps.pages import add_index_section
from geo_dx.names import match_villages, plain
from geo_dx.run.readback import LoadedRun, write_together
from geo_dx.run.report import write_csv
from geo_dx.run.workbook import write_sheets
from geo_dx.schema import MOBILE_BROADBAND
from geo_dx.tables import sheet_names

logger = logging.getLogger(__name__)

__all__ = ["CATEGORIES", "GAP_KINDS", "ListComparison", "compare_list", "write_comparison"]

#: Which gap a list is about → the gap classes that count as that gap.
GAP_KINDS: Mapping[str, tuple[str, ...]] = {
    "mobile": ("no_mobile", "no_fibre_no_mobile"),
    "fibre": ("no_fibre", "no_fibre_no_mobile"),
    "both": ("no_fibre_no_mobile",),
    "any": ("no_mobile", "no_fibre", "no_fibre_no_mobile"),
}
#: Categories of the comparison (code → label msgid, sheet name msgid).
CATEGORIES: Mapping[str, tuple[str, str]] = {
    "listed_gap": (N_("On the list, a gap in the analysis"), N_("Listed, gap")),
    "listed_covered": (N_("On the list, covered in the analysis"), N_("Listed, covered")),
    "gap_not_listed": (N_("A gap in the analysis, not on the list"), N_("Gap, not listed")),
    "unmatched": (N_("Row not matched to a village"), N_("Unmatched")),
}
_VILLAGE_HEADERS = ("village_name", "ten_ban", "ten_thon", "ten_thon_ban", "thon_ban", "ban",
                    "thon", "village", "ten_thon_ban_to_dan_pho")
_COMMUNE_HEADERS = ("commune_name", "ten_xa", "xa", "xa_phuong", "ten_xa_phuong", "commune",
                    "commune_id", "ma_xa")
_NONE = {"none", "khong co", "khong", "-", "x"}
_HEADERS = {
    "list_row": N_("List row"), "given_village": N_("Village as listed"),
    "given_commune": N_("Commune as listed"), "match_status": N_("Match"),
    "score": N_("Name score (0-100)"), "runner_up": N_("Runner-up"),
    "candidates": N_("Candidates"), "category": N_("Category"),
    "evidence_site": N_("Nearest site"), "evidence_distance_m": N_("Distance to the site (m)"),
    "evidence_model": N_("Coverage model"), "evidence_signal_dbm": N_("Predicted signal (dBm)"),
    "evidence_source": N_("Evidence"), "note": N_("Note"),
    "resolved_village_id": N_("Village code chosen (village_id)"),
}


@dataclass(frozen=True)
class ListComparison:
    """A list compared with a run: one row per list row, the unlisted gaps, the totals."""

    rows: pd.DataFrame
    gaps_not_listed: pd.DataFrame
    totals: dict[str, int]
    gap: str


def _find_column(table: pd.DataFrame, given: str | None, known: tuple[str, ...], what: str,
                 option: str, source: Path) -> str | None:
    if given is not None:
        if given not in table.columns:
            raise InputError(f"{source}: no column {given!r} ({option}); its columns: "
                             f"{', '.join(table.columns)}")
        return given
    by_fold = {re.sub(r"[^a-z0-9]+", "_", plain(str(c))).strip("_"): c for c in table.columns}
    found = next((by_fold[k] for k in known if k in by_fold), None)
    if found is None and what == "village":
        raise InputError(f"{source}: no column of village names (Tên thôn, bản); its "
                         f"columns: {', '.join(table.columns)}; name it with {option}")
    return found


def compare_list(
    run: LoadedRun,
    list_path: str | Path,
    *,
    sheet: str | None = None,
    village_col: str | None = None,
    commune_col: str | None = None,
    commune_map: str | Path | None = None,
    resolved: str | Path | None = None,
    gap: str = "mobile",
) -> ListComparison:
    """
    Match a name-keyed list to the run's villages and sort every row into a category.

    ``gap`` says which gap the list is about (:data:`GAP_KINDS`: ``mobile`` for a list of
    villages without 3G/4G, ``fibre``, ``both`` or ``any``).
    """
    if gap not in GAP_KINDS:
        raise InputError(f"--gap was {gap!r}; use one of {', '.join(GAP_KINDS)}")
    source = Path(list_path)
    table = read_table(source, sheet=sheet)
    table = table[table.apply(lambda r: any(str(v).strip() for v in r), axis=1)]
    village = _find_column(table, village_col, _VILLAGE_HEADERS, "village", "--village-col",
                           source)
    commune = _find_column(table, commune_col, _COMMUNE_HEADERS, "commune", "--commune-col",
                           source)
    villages = run.villages
    communes = pd.DataFrame(run.communes[["commune_id", "commune_name"]])
    mapping = read_commune_map(commune_map, communes) if commune_map else None
    found = match_villages(table, villages, village_col=village, commune_col=commune,
                           communes=communes, commune_map=mapping)
    rows = pd.DataFrame({
        "list_row": np.arange(1, len(table) + 1),
        "given_village": table[village].to_numpy(),
        "given_commune": table[commune].to_numpy() if commune else None,
    })
    rows = pd.concat([rows, found.reset_index(drop=True)], axis=1)
    if resolved:
        rows = _apply_review(rows, resolved, set(villages["village_id"]))
    gap_ids = set(villages.loc[villages["gap_class"].isin(GAP_KINDS[gap]), "village_id"])
    matched = rows["village_id"].notna()
    rows["category"] = np.where(~matched, "unmatched", np.where(
        rows["village_id"].isin(gap_ids), "listed_gap", "listed_covered"))
    rows = rows.join(_evidence(villages, run, rows["village_id"], gap), how="left")
    listed = set(rows.loc[matched, "village_id"])
    unlisted = villages[villages["village_id"].isin(gap_ids - listed)]
    gaps_not_listed = pd.DataFrame(unlisted[["village_id", "village_name", "commune_id",
                                             "commune_name", "gap_class"]]).assign(
        category="gap_not_listed")
    totals = {"rows": len(rows), "gaps_in_analysis": len(gap_ids),
              **{status: int((rows["match_status"] == status).sum()) for status in
                 ("exact", "normalised", "fuzzy", "reviewed", "ambiguous", "not_found")},
              **{cat: int((rows["category"] == cat).sum()) for cat in CATEGORIES},
              "gap_not_listed": len(gaps_not_listed),
              "duplicates": int(rows.loc[matched, "village_id"].duplicated().sum())}
    totals["differences"] = (totals["listed_covered"] + totals["gap_not_listed"]
                             + totals["unmatched"])
    return ListComparison(rows=rows, gaps_not_listed=gaps_not_listed.reset_index(drop=True),
                          totals=totals, gap=gap)


def _apply_review(rows: pd.DataFrame, path: str | Path, known: set[str]) -> pd.DataFrame:
    """The planner's answers: a village code per list row, or 'none' (not in the run)."""
    path = Path(path)
    sheets = sheet_names(path) if path.suffix.lower() in (".xlsx", ".xlsm") else []
    review = read_table(path, sheet=next(
        (s for s in sheets if s in ("Cần xem lại", "Review")), None))
    keyed = {re.search(r"\((\w+)\)\s*$", c).group(1) if re.search(r"\((\w+)\)\s*$", c)
             else fold(c): c for c in review.columns}
    if "list_row" not in keyed or not ({"village_id", "resolved_village_id"} & set(keyed)):
        raise InputError(f"{path}: the review sheet needs the columns list_row and village_id "
                         "(as written by geo-dx compare-list); its columns: "
                         f"{', '.join(review.columns)}")
    choice = keyed.get("village_id") or keyed["resolved_village_id"]
    out = rows.copy()
    for i, r in review.iterrows():
        answer = str(r[choice]).strip()
        if not answer:
            continue
        try:
            row = int(float(str(r[keyed["list_row"]])))
        except ValueError as err:
            raise InputError(f"{path}: row {i + 2}: list_row {r[keyed['list_row']]!r} is not a "
                             "row number") from err
        at = out.index[out["list_row"] == row]
        if len(at) != 1:
            raise InputError(f"{path}: row {i + 2}: list_row {row} is not a row of the list")
        if plain(answer) in _NONE:
            out.loc[at, ["match_status", "village_id"]] = ["reviewed", None]
            out.loc[at, "note"] = "not in the run (review)"
        elif answer in known:
            out.loc[at, ["match_status", "village_id"]] = ["reviewed", answer]
        else:
            raise InputError(f"{path}: row {i + 2}: village code {answer!r} is not in the run; "
                             "write a village_id from the candidates, or 'none'")
    return out


def _evidence(villages: gpd.GeoDataFrame, run: LoadedRun, ids: pd.Series, gap: str
              ) -> pd.DataFrame:
    """Why the analysis says a listed village is covered: nearest site, distance, model."""
    by_id = villages.drop_duplicates("village_id").set_index("village_id")
    present = ids.where(ids.isin(by_id.index))
    mobile = gap in ("mobile", "both", "any")
    site = pd.Series(None, index=by_id.index, dtype=object)
    cov = run.coverage
    if cov is not None and not cov.empty and "site_id" in cov:
        wanted = cov[cov["technology"].isin(MOBILE_BROADBAND if mobile else ("fibre",))]
        if not wanted.empty:
            crs = villages.estimate_utm_crs()
            near = gpd.sjoin_nearest(by_id.reset_index()[["village_id", "geometry"]].to_crs(crs),
                                     wanted[["site_id", "operator", "technology",
                                             "geometry"]].to_crs(crs), how="left")
            near = near.drop_duplicates("village_id").set_index("village_id")
            site = (near["site_id"].fillna("").astype(str) + " " + near["operator"].fillna("")
                    .astype(str) + " " + near["technology"].fillna("").astype(str)).str.strip()
    distance = by_id.get("nearest_mobile_m" if mobile else "nearest_fibre_m")
    signal = by_id.get("mobile_signal_dbm")
    source = by_id.get("mobile_source" if mobile else "fibre_source")
    model = run.summary.get("mobile_model") if mobile else "radius"
    frame = pd.DataFrame({
        "evidence_site": site.reindex(present).to_numpy(),
        "evidence_distance_m": (distance.reindex(present).round(0).to_numpy()
                                if distance is not None else np.nan),
        "evidence_model": np.where(present.notna(), model, None),
        "evidence_signal_dbm": (signal.reindex(present).round(1).to_numpy()
                                if signal is not None else np.nan),
        "evidence_source": source.reindex(present).to_numpy() if source is not None else None,
    }, index=ids.index)
    return frame


def write_comparison(comparison: ListComparison, run: LoadedRun, out_dir: str | Path, *,
                     attribute: str | None = None) -> list[Path]:
    """
    Write ``list_comparison.xlsx``, ``list_comparison.csv`` (and ``villages_<attribute>.gpkg``
    with ``attribute``), and the comparison's section in the run's ``index.html``.
    """
    out = Path(out_dir)
    tr = translator(run.language)
    _ = tr.gettext
    rows = comparison.rows.copy()
    rows["category_label"] = rows["category"].map(lambda c: _(CATEGORIES[c][0]))
    shown = rows.copy()
    shown["match_status"] = shown["match_status"].map(lambda s: _(_STATUS_LABELS[s]))
    shown["evidence_model"] = shown["evidence_model"].map(
        lambda m: _(_MODEL_LABELS[m]) if m in _MODEL_LABELS else m)
    shown["evidence_source"] = shown["evidence_source"].map(
        lambda v: tr.label("source", v) if isinstance(v, str) else v)
    headers = {k: _(v) for k, v in _HEADERS.items()}
    headers["category_label"] = _("Category")
    review = shown[rows["match_status"].isin(("ambiguous", "not_found"))][
        ["list_row", "given_village", "given_commune", "match_status", "score", "runner_up",
         "candidates", "note"]].assign(village_id="")
    headers_review = {**headers, "list_row": _("List row") + " (list_row)",
                      "village_id": _("Village code chosen") + " (village_id)"}
    sheets = [(_("Totals"), _totals_sheet(comparison, tr))]
    for code, (_label, sheet) in CATEGORIES.items():
        if code == "gap_not_listed":
            frame = comparison.gaps_not_listed.drop(columns="category").assign(
                gap_class=lambda f: f["gap_class"].map(lambda g: tr.label("gap_class", g)))
        else:
            frame = shown[rows["category"] == code].drop(columns=["category", "candidates"])
        sheets.append((_(sheet), frame))
    files: dict[Path, Any] = {
        out / "list_comparison.csv": lambda p: write_csv(p, comparison.rows[
            ["list_row", "match_status", "village_id", "score", "runner_up", "category"]]),
        out / "list_comparison.xlsx": lambda p: write_sheets(
            p, sheets + ([(_("Review"), review.rename(columns=headers_review))]
                         if not review.empty else []), language=run.language, headers=headers),
    }
    if attribute:
        files[out / f"villages_{attribute}.gpkg"] = lambda p: _attribute_villages(
            run, comparison, attribute).to_file(p, layer="villages", driver="GPKG")
    index = run.folder / "index.html"
    if index.is_file() and out.resolve() == run.folder.resolve():
        text = add_index_section(index.read_text(encoding="utf-8"), "list_comparison",
                                 _section_html(comparison, tr))
        files[index] = lambda p: p.write_text(text, encoding="utf-8")
    return write_together(files)


_MODEL_LABELS = {"radius": N_("reach radius of the sites"),
                 "terrain": N_("line of sight over the terrain"),
                 "itm": N_("ITM signal model (Longley-Rice)")}
_STATUS_LABELS = {"exact": N_("exact"), "normalised": N_("same name, written differently"),
                  "fuzzy": N_("close spelling"), "reviewed": N_("chosen in review"),
                  "ambiguous": N_("several villages fit: review"),
                  "not_found": N_("no village found: review")}


def _totals_sheet(comparison: ListComparison, tr: Any) -> pd.DataFrame:
    _ = tr.gettext
    t = comparison.totals
    lines = [(_("Rows in the list"), t["rows"]),
             (_("Villages with this gap in the analysis"), t["gaps_in_analysis"]),
             *[(_(CATEGORIES[c][0]), t[c]) for c in CATEGORIES],
             (_("Differences (covered, not listed, unmatched)"), t["differences"]),
             *[(_(_STATUS_LABELS[s]), t[s]) for s in _STATUS_LABELS],
             (_("Villages listed twice"), t["duplicates"])]
    return pd.DataFrame(lines, columns=[_("What"), _("Number")])


def _section_html(comparison: ListComparison, tr: Any) -> str:
    """The comparison's totals for index.html (escaped), with links to the files."""
    _ = tr.gettext
    rows = "".join(f"<tr><td>{html.escape(str(label))}</td><td>{html.escape(str(value))}"
                   "</td></tr>" for label, value in _totals_sheet(comparison, tr).itertuples(
                       index=False))
    heading = html.escape(_("The province list compared"))
    return (f"<h2>{heading}</h2><table>{rows}</table>"
            f"<p><a href=\"list_comparison.xlsx\">list_comparison.xlsx</a> · "
            f"<a href=\"list_comparison.csv\">list_comparison.csv</a></p>")


def _attribute_villages(run: LoadedRun, comparison: ListComparison, attribute: str
                        ) -> gpd.GeoDataFrame:
    """The run's input villages with ``attribute`` true for the listed ones, for a next run."""
    source = run.summary.get("inputs", {}).get("villages")
    if source and Path(str(source).split(":")[0]).exists():
        villages = read_layer(source, role="villages")
        key = next((c for c in villages.columns if fold(c) in ("village_id", "ma_ban",
                                                                "ma_thon")), None)
    else:
        villages, key = None, None
    if villages is None or key is None:
        base = ["village_id", "village_name", "commune_id", "population", "households",
                "ethnic_minority_share", "poverty_rate", "geometry"]
        villages = run.villages[[c for c in base if c in run.villages.columns]]
        key = "village_id"
    listed = set(comparison.rows["village_id"].dropna())
    out = villages.copy()
    out[attribute] = out[key].astype(str).isin(listed)
    return out
