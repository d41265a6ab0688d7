"""The printable commune dossier: one owner for everything on a commune's page.

A dossier (``communes/<slug>-<id>.html``, written by :func:`geo_dx.maps.write.write_maps`)
reads on a screen and prints on A4: the commune's map with its own plan items, its totals,
its gap villages in priority order with the reasons and what the plan does for each, the
other villages, misplaced villages, and the plan items that serve it with their totals.
This module decides which plan items belong to a commune (:func:`plan_rows`), how they read
(:func:`plan_table`), what the map adds (:func:`plan_layers`) and wraps the map in the page
(:func:`dossier_page`); the file names, templates and index live in
:mod:`geo_dx.maps.pages`.

Every string from the input is escaped (Jinja2 autoescape).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geo_dx.communes import misplaced_villages, placed
from geo_dx.i18n import DEFAULT_LANGUAGE, Translator, translator
from geo_dx.maps.pages import (
    PageWords,
    cell_text,
    misplaced_section,
    page_template,
    page_words,
    safe_html,
    use_page_template,
    village_row,
)
from geo_dx.power import grid_power_known
from geo_dx.schema import GAP_COLOURS
from geo_dx.signal.blocking import blocked_sentences

__all__ = ["dossier_html", "dossier_page", "plan_layers", "plan_rows", "plan_section",
           "plan_table"]


def plan_section(
    plan_items: pd.DataFrame | None,
    *,
    heading: str = "Planned works",
    column_labels: Mapping[str, str] | None = None,
    number: Callable[[Any], str] | None = None,
    totals: list[str] | None = None,
) -> str:
    """
    The dossier's "planned works" section: one table row per plan item, or ``""``.

    This is the hook the plan fills: pass the plan items that fall in the commune (any
    columns; ``column_labels`` renames them for readers, columns not in it keep their name).
    Values are shown as text, escaped; numbers through ``number`` when given.

    Examples
    --------
    >>> plan_section(None)
    ''
    >>> html = plan_section(pd.DataFrame({"site": ["<new mast>"], "cost_vnd": [1.5e9]}))
    >>> "&lt;new mast&gt;" in html and 'id="geodx-plan"' in html
    True
    """
    if plan_items is None or plan_items.empty:
        return ""
    labels = column_labels or {}
    columns = [labels.get(str(c), str(c)) for c in plan_items.columns]
    def cell(value: Any) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return ""
        if number is not None and isinstance(value, int | float) and not isinstance(value, bool):
            return number(value)
        return str(value)

    rows = [[cell(v) for v in row] for row in plan_items.itertuples(index=False)]
    return page_template("plan_section.html").render(heading=heading, columns=columns,
                                                     rows=rows, totals=totals)


def dossier_html(
    commune: Mapping[str, Any],
    villages: pd.DataFrame,
    *,
    title: str,
    words: PageWords | None = None,
    gap_colours: Mapping[str, str] = GAP_COLOURS,
    plan: str = "",
    misplaced: pd.DataFrame | None = None,
) -> tuple[str, str]:
    """
    The HTML before and after the map of a commune's dossier page.

    Parameters
    ----------
    commune
        ``commune_id``, ``commune_name`` and the counts ``villages``, ``with_gap``,
        ``without_fibre``, ``without_mobile_broadband``, ``without_both``, ``gap_share``.
    villages
        The commune's villages with ``gap_class`` and, when scored, ``rank``, ``score``,
        ``reason``; optional ``population``, ``blocked_sentence`` (why terrain blocks
        mobile) and ``grid_power`` (``no``: marked, and counted in the totals).
    title
        The run's title.
    words, gap_colours
        Page texts, gap class names, the date shown and number formats in the reader's
        language (default: :func:`page_words`), and the gap class colours.
    plan
        Safe HTML of the planned works (:func:`plan_section`), empty before a plan exists.
    misplaced
        The commune's misplaced villages (:func:`geo_dx.communes.misplaced_villages`), listed
        in a section of their own; ``villages`` with a ``location_issue`` are left out of the
        other lists.

    Returns
    -------
    tuple of str
        Safe HTML: the header (navigation, title, totals) and the rest (legend strip,
        village table, other villages, misplaced villages, plan).
    """
    w = words or page_words()
    t, number, percent = w.labels, w.number, w.percent
    villages = villages[placed(villages).to_numpy()]
    gap = villages["gap_class"].astype(str)
    gaps = villages[gap != "none"].copy()
    if "rank" in gaps:
        gaps = gaps.sort_values("rank", na_position="last", kind="stable")
    people = pd.to_numeric(gaps.get("population", pd.Series(dtype=float)), errors="coerce")
    with_gap = int(commune.get("with_gap", len(gaps)))
    totals = [
        (t["total_villages"], number(commune.get("villages", len(villages)))),
        (t["total_with_gap"], f"{number(with_gap)} ({percent(commune.get('gap_share'))})"),
        (t["total_no_fibre"], number(commune.get("without_fibre"))),
        (t["total_no_mobile"], number(commune.get("without_mobile_broadband"))),
        (t["total_neither"], number(commune.get("without_both"))),
    ]
    if people.notna().any():
        totals.append((t["total_people_gap"], number(people.sum())))
    if "grid_power" in villages and grid_power_known(villages["grid_power"]):
        totals.append((t["total_no_grid"], number(int((villages["grid_power"] == "no").sum()))))
    rows = [village_row(r, w, gap_colours) for r in gaps.to_dict("records")]
    covered = villages[gap == "none"]
    covered_names = sorted(
        (cell_text(n) or "" for n in covered.get("village_name", covered.get("village_id", []))),
        key=lambda s: s.casefold())
    common = {"t": t, "title": str(title), "made": w.made}
    head = page_template("dossier_head.html").render(
        **common, name=str(commune.get("commune_name") or commune["commune_id"]),
        cid=str(commune["commune_id"]), totals=totals)
    legend = [{"label": w.gap_labels.get(k, k), "color": c} for k, c in gap_colours.items()]
    tail = page_template("dossier_tail.html").render(
        **common, gaps=rows, covered=covered_names, legend=legend, plan=safe_html(plan),
        misplaced=misplaced_section(misplaced, w))
    return head, tail


def plan_rows(plan_items: pd.DataFrame, commune_id: str,
              villages: pd.DataFrame) -> pd.DataFrame:
    """
    The plan items of one commune: by ``commune_id``, else by the villages they serve.

    Examples
    --------
    >>> items = pd.DataFrame({"item_id": ["M1", "M2"], "villages_served": ["a;b", "c"]})
    >>> plan_rows(items, "X", pd.DataFrame({"village_id": ["b"]}))["item_id"].tolist()
    ['M1']
    """
    if "commune_id" in plan_items:
        mask = plan_items["commune_id"].astype(str) == commune_id
    elif "villages_served" in plan_items and "village_id" in villages:
        ids = set(villages["village_id"].astype(str))
        mask = plan_items["villages_served"].fillna("").astype(str).map(
            lambda served: bool(ids.intersection(served.split(";"))))
    else:
        return plan_items.iloc[:0]
    return plan_items[mask]


def plan_layers(plan: pd.DataFrame | None, villages: gpd.GeoDataFrame, *,
                language: str = DEFAULT_LANGUAGE) -> tuple[Callable[[folium.Map], Any], ...]:
    """The commune's own plan items on its map (those with a location), with lines to the
    villages they serve; none without a plan."""
    if plan is None or plan.empty or not isinstance(plan, gpd.GeoDataFrame):
        return ()
    from geo_dx.maps.plan_layer import plan_layer, plan_links

    items = plan[plan.geometry.notna()]
    if items.empty or "village_id" not in villages:
        return ()
    return (plan_layer(items, plan_links(items, villages), language=language),)


#: Plan item columns a dossier shows, in order (those present): where the works are is the
#: first of ``works_location``, ``site_ref`` or the coordinates.
_PLAN_COLUMNS = ("rank", "item_id", "kind", "location", "plan_year", "cost_vnd",
                 "village_names", "communes", "people_served")


def plan_table(plan: pd.DataFrame, tr: Translator) -> tuple[pd.DataFrame, dict[str, Any]]:
    """
    Plan rows as a reader sees them, and their totals (``items``, ``cost_vnd``,
    ``villages``: those given 4G or fibre, ``access_villages``: the others given satellite
    access, a lower service level, ``people_served``).

    Works are named in words, villages and communes comma-separated, the location is the
    works location, the site reference or longitude, latitude.

    Examples
    --------
    >>> from geo_dx.i18n import translator
    >>> plan = pd.DataFrame({"rank": [1, 2], "item_id": ["M1", "F1"],
    ...                      "kind": ["new_site", "fibre"], "lon": [103.1, 103.2],
    ...                      "lat": [21.4, 21.5], "cost_vnd": [1.5e9, 2e9],
    ...                      "village_names": ["Bản A;Bản B", "Bản C"],
    ...                      "people_served": [300, 200]})
    >>> table, totals = plan_table(plan, translator("vi"))
    >>> table["location"].tolist(), totals["cost_vnd"], totals["villages"]
    (['21.40000, 103.10000', '21.50000, 103.20000'], 3500000000.0, 3)
    """
    out = pd.DataFrame(plan.drop(columns="geometry", errors="ignore")).copy()
    if "kind" in out:
        out["kind"] = out["kind"].map(lambda k: tr.label("plan_kind", k))
    for column in ("village_names", "communes"):
        if column in out:
            out[column] = out[column].fillna("").astype(str).str.replace(";", ", ", regex=False)
    if "plan_year" in out:  # a year, not a number to group (2027, not 2.027)
        out["plan_year"] = [cell_text(y, integer=True) for y in out["plan_year"]]
    out["location"] = [_location(r) for r in out.to_dict("records")]
    if not out["location"].astype(bool).any():
        out = out.drop(columns="location")
    names = plan.get("village_names", pd.Series("", index=plan.index)).fillna("").astype(str)
    access = (plan["kind"] == "satellite_access").to_numpy() if "kind" in plan else \
        np.zeros(len(plan), dtype=bool)
    full = {n for s in names[~access] for n in s.split(";") if n}
    totals = {
        "items": len(plan),
        "cost_vnd": float(pd.to_numeric(plan.get("cost_vnd"), errors="coerce").sum())
        if "cost_vnd" in plan else None,
        "villages": len(full),
        "access_villages": len({n for s in names[access] for n in s.split(";") if n} - full),
        "people_served": float(pd.to_numeric(plan["people_served"], errors="coerce").sum())
        if "people_served" in plan else None,
    }
    shown = [c for c in _PLAN_COLUMNS if c in out] or list(out.columns)
    return pd.DataFrame(out[shown]), totals


def _location(row: Mapping[str, Any]) -> str:
    for column in ("works_location", "site_ref"):
        text = cell_text(row.get(column))
        if text:
            return text
    lat, lon = row.get("lat"), row.get("lon")
    if lat is None or lon is None or pd.isna(lat) or pd.isna(lon):
        return ""
    return f"{float(lat):.5f}, {float(lon):.5f}"


def dossier_page(m: folium.Map, commune: pd.Series, villages: pd.DataFrame, *, title: str,
                 plan: pd.DataFrame | None, language: str = DEFAULT_LANGUAGE) -> folium.Map:
    """Wrap a commune's map in its dossier: header and totals above, villages and the plan
    below (``m`` changed in place and returned)."""
    words = page_words(language)
    tr = translator(language)
    table = pd.DataFrame(villages.drop(columns="geometry", errors="ignore"))
    if "blocked_sentence" not in table:
        table["blocked_sentence"] = blocked_sentences(table, tr)
    section = ""
    if plan is not None and not plan.empty:
        shown, totals = plan_table(plan, tr)
        section = plan_section(shown, heading=words.labels["dossier_plan"],
                               column_labels=words.plan_columns, number=words.number,
                               totals=_totals_row(shown, totals, words))
    head, tail = dossier_html(commune.to_dict(), table, title=title, words=words,
                              misplaced=misplaced_villages(villages), plan=section)
    return use_page_template(m, lang=words.lang, body_class="geodx-doc geodx-dossier",
                             before=head, after=tail)


def _totals_row(shown: pd.DataFrame, totals: Mapping[str, Any], words: PageWords
                ) -> list[str]:
    """The plan table's last row: the count of items, then sums under their columns."""
    villages = words.labels["plan_total_villages"].format(n=words.number(totals["villages"]))
    if totals.get("access_villages"):  # satellite access apart: not 4G, not fibre
        villages += "; " + words.labels["plan_total_access"].format(
            n=words.number(totals["access_villages"]))
    cells = {"item_id": words.labels["plan_total"].format(n=words.number(totals["items"])),
             "cost_vnd": words.number(totals["cost_vnd"]),
             "village_names": villages,
             "people_served": words.number(totals["people_served"])}
    return [cells.get(str(c), "") for c in shown.columns]
