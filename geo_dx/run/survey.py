"""``geo-dx survey``: field packs per commune, and which villages to measure first.

For each commune: ``survey_<commune_id>.xlsx``, an XLSForm (sheets survey, choices,
settings) for ODK Collect or KoboToolbox whose village list holds the commune's villages
with their code, name and what the analysis predicts (gap class, predicted signal, the
ridge that blocks the nearest site), and ``checklist_<commune_id>.html``, the same as an
A4 sheet to print for teams without smartphones (a small map, the villages, the
questions). ``measure_first.csv`` ranks every village by how much a measurement could
change the result (:func:`measure_first`).

The form's field names are :data:`geo_dx.field_survey.FORM`; its exports are read back
by :func:`geo_dx.field_survey.read_survey` (``geo-dx import-survey``).
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_dx.errors import InputError
from geo_dx.field_survey import FORM, NETWORKS, OPERATORS, RANGES
from geo_dx.i18n import Translator, translator
from geo_dx.run.readback import LoadedRun, write_together
from geo_dx.run.report import neutralise_formulas, write_csv

logger = logging.getLogger(__name__)

__all__ = ["measure_first", "survey_form", "write_survey"]

#: A predicted margin this far (dB) from the threshold is as sure as the model gets.
MARGIN_SPAN_DB = 20.0


def measure_first(run: LoadedRun) -> pd.DataFrame:
    """
    Villages ranked by how much one measurement could change the result.

    ``value`` = ``uncertainty`` × (0.5 + 0.5 × ``priority``) × (1 + ``plan_at_stake``):

    - ``uncertainty`` (0-1): 1 − |predicted margin| / 20 dB with the itm model; else 1
      where the radius and terrain models disagree, 0.8 for disputed villages, 0.5 for
      an answer resting on declared or modelled coverage only, 0.2 otherwise;
    - ``priority``: the village's score / 100 (0 when not scored);
    - ``plan_at_stake``: 1 when the plan spends money on the village.
    """
    v = run.villages
    margin = v.get("mobile_margin_db")
    if margin is not None and margin.notna().any():
        uncertainty = 1 - np.minimum(margin.abs().fillna(MARGIN_SPAN_DB), MARGIN_SPAN_DB) / \
            MARGIN_SPAN_DB
        why = margin.map(lambda m: f"margin {m:+.1f} dB" if pd.notna(m) else "no prediction")
    else:
        disagree = (v.get("has_mobile_broadband_radius", v["has_mobile_broadband"])
                    .astype(bool) != v["has_mobile_broadband"].astype(bool))
        confidence = v.get("mobile_confidence", pd.Series("declared", index=v.index))
        uncertainty = np.select(
            [disagree, confidence == "disputed", confidence.isin(("declared", "modelled"))],
            [1.0, 0.8, 0.5], 0.2)
        why = np.select([disagree, confidence == "disputed",
                         confidence.isin(("declared", "modelled"))],
                        ["radius and terrain models disagree", "disputed",
                         "declared coverage only"], "measured or no service")
    priority = (v["score"].fillna(0) / 100.0) if "score" in v else 0.0
    at_stake = (v["planned_by"].fillna("").astype(str).str.len() > 0).astype(float) \
        if "planned_by" in v else 0.0
    value = np.asarray(uncertainty, float) * (0.5 + 0.5 * np.asarray(priority, float)) * \
        (1 + np.asarray(at_stake, float))
    table = pd.DataFrame({
        "village_id": v["village_id"], "village_name": v["village_name"],
        "commune_id": v["commune_id"], "commune_name": v.get("commune_name"),
        "gap_class": v["gap_class"], "value": np.round(value, 3),
        "uncertainty": np.round(np.asarray(uncertainty, float), 3),
        "priority": np.round(np.asarray(priority, float), 3),
        "plan_at_stake": np.asarray(at_stake, float) > 0, "why": np.asarray(why, object),
    })
    table = table.sort_values(["value", "village_id"], ascending=[False, True])
    table.insert(0, "measure_rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)


def _prediction(r: pd.Series, tr: Translator) -> str:
    """What the analysis predicts for a village, in a few words."""
    parts = [tr.label("gap_class", r["gap_class"])]
    signal = r.get("mobile_signal_dbm")
    if signal is not None and pd.notna(signal):
        parts.append(f"{signal:.0f} dBm")
    ridge = r.get("obstacle_elevation_m")
    if ridge is not None and pd.notna(ridge):
        parts.append(tr.gettext("ridge {height} m blocks site {site}",
                                height=tr.number(ridge), site=r.get("mobile_blocked_by") or "?"))
    return "; ".join(parts)


def survey_form(run: LoadedRun, commune_id: str, *, villages: pd.DataFrame | None = None
                ) -> dict[str, pd.DataFrame]:
    """The XLSForm of one commune: ``survey``, ``choices`` and ``settings`` tables."""
    tr = translator(run.language)
    _ = tr.gettext
    v = run.villages if villages is None else villages
    own = v[v["commune_id"].astype(str) == str(commune_id)].sort_values("village_id")
    if own.empty:
        raise InputError(f"commune {commune_id!r} has no village in {run.folder}")
    rng = RANGES
    survey = [
        ("start", "start", "", "", "", ""),
        ("end", "end", "", "", "", ""),
        ("begin_group", FORM["group"], _("Village"), "", "", ""),
        ("select_one villages", FORM["village"], _("Village surveyed"), "yes", "", ""),
        ("geopoint", FORM["gps"], _("GPS point at the village centre (cultural house)"),
         "yes", "", ""),
        ("end_group", "", "", "", "", ""),
        ("begin_repeat", FORM["repeat"], _("Speed test (one per SIM card)"), "", "", ""),
        ("select_one operators", FORM["operator"], _("Operator"), "yes", "", ""),
        ("select_one networks", FORM["network"], _("Network shown on the phone"), "yes", "",
         ""),
        ("integer", FORM["signal_dbm"], _("Signal level (dBm, where the phone shows it)"), "",
         f". >= {rng['signal_dbm'][0]:g} and . <= {rng['signal_dbm'][1]:g}",
         f"${{{FORM['network']}}} != 'none'"),
        ("decimal", FORM["download_mbps"], _("Speed test: download (Mbps, e.g. i-Speed)"), "",
         f". >= 0 and . <= {rng['download_mbps'][1]:g}", f"${{{FORM['network']}}} != 'none'"),
        ("decimal", FORM["upload_mbps"], _("Speed test: upload (Mbps)"), "",
         f". >= 0 and . <= {rng['upload_mbps'][1]:g}", f"${{{FORM['network']}}} != 'none'"),
        ("end_repeat", "", "", "", "", ""),
        ("select_one yes_no", FORM["grid_power"], _("Grid power in the village"), "yes", "",
         ""),
        ("integer", FORM["households"], _("Households"), "", ". >= 0", ""),
        ("image", FORM["photo"], _("Photo"), "", "", ""),
        ("text", FORM["notes"], _("Notes"), "", "", ""),
    ]
    survey_sheet = pd.DataFrame(survey, columns=["type", "name", "label", "required",
                                                 "constraint", "relevant"])
    choices = [("villages", str(r["village_id"]),
                f"{r['village_id']} {r['village_name']} ({_prediction(r, tr)})",
                r["gap_class"], _number(r.get("mobile_signal_dbm")),
                str(r.get("mobile_blocked_by") or "") if pd.notna(r.get("mobile_blocked_by"))
                else "", str(r["commune_id"]))
               for _i, r in own.iterrows()]
    choices += [("operators", k, label if k != "other" else _("Other"), "", None, "", "")
                for k, label in OPERATORS.items()]
    choices += [("networks", k, k.upper() if k != "none" else _("No signal"), "", None, "", "")
                for k in NETWORKS]
    choices += [("yes_no", "yes", _("Yes"), "", None, "", ""),
                ("yes_no", "no", _("No"), "", None, "", "")]
    choices_sheet = pd.DataFrame(choices, columns=["list_name", "name", "label", "gap_class",
                                                   "predicted_dbm", "blocked_by", "commune_id"])
    name = own["commune_name"].iloc[0] if "commune_name" in own else commune_id
    settings = pd.DataFrame({"form_title": [_("Field survey: {commune}", commune=name)],
                             "form_id": [f"geo_dx_survey_{commune_id}"],
                             "version": [dt.date.today().strftime("%Y%m%d")]})
    return {"survey": survey_sheet, "choices": choices_sheet, "settings": settings}


def _number(value: Any) -> float | None:
    return float(round(value, 1)) if value is not None and pd.notna(value) else None


def _write_xlsform(path: Path, form: dict[str, pd.DataFrame]) -> None:
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        for sheet, frame in form.items():
            neutralise_formulas(frame).to_excel(writer, sheet_name=sheet, index=False)


def write_survey(run: LoadedRun, out_dir: str | Path, *, communes: list[str] | None = None
                 ) -> list[Path]:
    """Write the field pack of each commune (all of them by default) and measure_first.csv."""
    out = Path(out_dir)
    known = [str(c) for c in run.communes["commune_id"]]
    wanted = communes or [c for c in known if (run.villages["commune_id"] == c).any()]
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise InputError(f"--communes: {', '.join(unknown)} not in {run.folder}; its communes: "
                         f"{', '.join(known[:10])}{' …' if len(known) > 10 else ''}")
    ranking = measure_first(run)
    files: dict[Path, Any] = {}
    for cid in wanted:
        form = survey_form(run, cid)
        files[out / f"survey_{cid}.xlsx"] = lambda p, form=form: _write_xlsform(p, form)
        page = checklist_html(run, cid, ranking)
        files[out / f"checklist_{cid}.html"] = lambda p, page=page: p.write_text(
            page, encoding="utf-8")
    chosen = ranking[ranking["commune_id"].astype(str).isin(wanted)]
    files[out / "measure_first.csv"] = lambda p: write_csv(p, chosen)
    return write_together(files)


def checklist_html(run: LoadedRun, commune_id: str, ranking: pd.DataFrame) -> str:
    """A printable A4 checklist of one commune (offline, escaped), villages to measure first."""
    tr = translator(run.language)
    _ = tr.gettext
    e = html.escape
    own = ranking[ranking["commune_id"].astype(str) == str(commune_id)]
    villages = run.villages.set_index("village_id")
    commune = run.communes[run.communes["commune_id"].astype(str) == str(commune_id)]
    name = str(commune["commune_name"].iloc[0]) if len(commune) else str(commune_id)
    rows = []
    for n, r in enumerate(own.itertuples(index=False), start=1):
        pred = _prediction(villages.loc[r.village_id], tr)
        rows.append(f"<tr><td>{n}</td><td>{e(str(r.village_id))}</td>"
                    f"<td>{e(str(r.village_name))}</td><td>{e(pred)}</td>"
                    + "<td></td>" * 8 + "</tr>")
    blanks = [_("GPS (lat, lon)"), _("Operator"), _("Network"), _("dBm"), _("Down Mbps"),
              _("Up Mbps"), _("Power"), _("Households")]
    questions = [_("GPS point at the village centre (cultural house)"), _("Operator"),
                 _("Network shown on the phone") + " (2G/3G/4G/" + _("No signal") + ")",
                 _("Signal level (dBm, where the phone shows it)"),
                 _("Speed test: download (Mbps, e.g. i-Speed)"), _("Speed test: upload (Mbps)"),
                 _("Grid power in the village"), _("Households"), _("Photo"), _("Notes")]
    head = "".join(f"<th>{e(h)}</th>" for h in
                   ["#", _("Code"), _("Village"), _("Analysis predicts"), *blanks])
    title = e(_("Field checklist: {commune}", commune=name))
    team, date = e(_("Team")), e(_("Date"))
    order = e(_("Villages in the order to measure them: the first change the result most."))
    asked = e(_("Questions at each village"))
    return f"""<!DOCTYPE html>
<html lang="{e(run.language)}"><head><meta charset="utf-8">
<title>{title}</title>
<style>@page {{ size: A4 landscape; margin: 12mm; }}
body {{ font-family: sans-serif; font-size: 10pt; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #444; padding: 3px; vertical-align: top; }}
td:nth-child(n+5) {{ min-width: 16mm; height: 9mm; }}
tr {{ page-break-inside: avoid; }} svg {{ border: 1px solid #999; }}</style></head>
<body><h1>{title}</h1>
<p>{team}: ______________ {date}: ____/____/______ · {order}</p>
{_map_svg(run, commune_id, own)}
<h2>{asked}</h2>
<ol>{"".join(f"<li>{e(q)}</li>" for q in questions)}</ol>
<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>
</body></html>
"""


def _map_svg(run: LoadedRun, commune_id: str, own: pd.DataFrame, width: int = 360,
             height: int = 260) -> str:
    """A small static map: the commune's outline and its villages numbered in visit order."""
    commune = run.communes[run.communes["commune_id"].astype(str) == str(commune_id)]
    points = run.villages.set_index("village_id").loc[own["village_id"]].geometry
    shapes = [g for g in commune.to_crs(4326).geometry] if len(commune) else []
    points = points.to_crs(4326)
    xs = [p.x for p in points] + [c[0] for s in shapes for c in _rings(s)]
    ys = [p.y for p in points] + [c[1] for s in shapes for c in _rings(s)]
    if not xs:
        return ""
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    scale = min((width - 20) / max(x1 - x0, 1e-6),
                (height - 20) / max(y1 - y0, 1e-6) * math.cos(math.radians((y0 + y1) / 2)))

    def at(x: float, y: float) -> tuple[float, float]:
        return (10 + (x - x0) * scale,
                height - 10 - (y - y0) * scale / math.cos(math.radians((y0 + y1) / 2)))

    paths = "".join(
        '<polygon fill="none" stroke="#555" points="'
        + " ".join(f"{a:.1f},{b:.1f}" for a, b in (at(x, y) for x, y in ring)) + '"/>'
        for s in shapes for ring in [_rings(s)])
    dots = "".join(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="#D55E00"/>'
                   f'<text x="{a + 4:.1f}" y="{b - 3:.1f}" font-size="8">{n}</text>'
                   for n, (a, b) in enumerate((at(p.x, p.y) for p in points), start=1))
    return f'<svg width="{width}" height="{height}" role="img">{paths}{dots}</svg>'


def _rings(shape: Any) -> list[tuple[float, float]]:
    """The exterior ring of a polygon (the largest part of a multipolygon)."""
    if shape is None or shape.is_empty:
        return []
    if shape.geom_type == "MultiPolygon":
        shape = max(shape.geoms, key=lambda g: g.area)
    return list(shape.exterior.coords)
