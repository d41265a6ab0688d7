"""The pages around the maps: file names, the index and the printable commune dossier.

A run's map folder is something a planner navigates and prints: ``index.html`` lists the
communes worst first and the province's top villages, and links the data files; each
commune with villages gets ``communes/<slug>-<id>.html`` (e.g. ``xa-sin-lich-SYN21.html``),
a dossier that reads on a screen and prints on A4: the commune's map, its totals, its gap
villages in priority order with the reasons, the other villages, and the planned works once
a plan exists (:func:`plan_section` is the hook the plan fills).

Every string from the input is escaped (Jinja2 autoescape); the pages need no internet.

Examples
--------
>>> commune_page_names(["SYN21", "../x"], ["Xã Sín Lịch", "Xã Nà Tấu"])
{'SYN21': 'xa-sin-lich-SYN21.html', '../x': 'xa-na-tau-___x-72e4d01d.html'}
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import folium
import jinja2
import pandas as pd
from folium.template import Template

from geo_dx.communes import location_issue_text
from geo_dx.errors import GeoDxError
from geo_dx.i18n import DEFAULT_LANGUAGE, N_, translator
from geo_dx.schema import GAP_COLOURS, GAP_LABELS

__all__ = [
    "PAGE_LABELS", "PLAN_COLUMN_LABELS", "PageWords", "cell_text", "commune_file_name",
    "commune_page_names", "index_html", "is_missing", "misplaced_section", "page_template",
    "page_words", "safe_html", "slugify", "use_page_template", "village_row",
]

#: Every piece of text the index and dossier pages show, in one place (English msgids;
#: translated as a whole). ``{n}``, ``{title}``, ``{date}``... are filled in.
PAGE_LABELS: Mapping[str, str] = MappingProxyType({
    "index_title": N_("{title} — communes"),
    "index_intro": N_("Communes below, worst first: the largest share of villages with a gap "
                         "(no fibre, no mobile broadband, or neither)."),
    "open_map": N_("Open the province map"),
    "made": N_("Made {date}."),
    "synthetic": N_("Synthetic demo data: not real villages."),
    "documents": N_("For the meeting"),
    "downloads": N_("Data files for software"),
    "downloads_note": N_("The CSV files are for software: UTF-8, comma-separated, with a "
                         "decimal point. To read the lists in Excel, open the workbook."),
    "download_xlsx": N_("Workbook for Excel (priority.xlsx)"),
    "download_docx": N_("Draft investment proposal (de_xuat_dau_tu.docx)"),
    "download_plan": N_("Investment plan"),
    "download_plan_csv": N_("items (plan.csv)"),
    "download_curve": N_("budget curve (budget_curve.png)"),
    "download_csv": N_("Priority list, CSV (priority.csv)"),
    "download_gpkg": N_("Layers for QGIS (villages.gpkg)"),
    "download_summary": N_("Summary, JSON (summary.json)"),
    "top_villages": N_("The {n} villages to connect first"),
    "communes": N_("Communes"),
    "col_rank": N_("#"),
    "col_village": N_("Village"),
    "col_commune": N_("Commune"),
    "col_id": N_("Id"),
    "col_gap": N_("Missing"),
    "col_score": N_("Score"),
    "col_population": N_("People"),
    "col_reason": N_("Why"),
    "col_villages": N_("Villages"),
    "col_with_gap": N_("With a gap"),
    "col_share": N_("Share with a gap"),
    "col_no_fibre": N_("No fibre"),
    "col_no_mobile": N_("No mobile broadband"),
    "col_neither": N_("Neither"),
    "no_villages": N_("no villages"),
    "back_index": N_("All communes"),
    "province_map": N_("Province map"),
    "print": N_("Print / save as PDF"),
    "dossier_totals": N_("In numbers"),
    "dossier_villages": N_("Villages with a gap, in priority order"),
    "dossier_no_gaps": N_("Every village of this commune has fibre and mobile broadband."),
    "dossier_covered": N_("Villages with fibre and mobile broadband ({n})"),
    "dossier_plan": N_("Planned works"),
    "col_plan": N_("In the plan"),
    "plan_item_year": N_("{item} (year {year})"),
    "plan_total": N_("Total: {n} items"),
    "plan_total_villages": N_("{n} villages"),
    "plan_total_access": N_("{n} more with satellite access only (Wi-Fi, not 4G)"),
    "plan_item_access": N_("{item} (satellite Wi-Fi, not 4G)"),
    "dossier_rank_note": N_("# is the village's rank in the whole province."),
    "total_villages": N_("Villages"),
    "total_with_gap": N_("With a gap"),
    "total_no_fibre": N_("Without fibre"),
    "total_no_mobile": N_("Without mobile broadband"),
    "total_neither": N_("Without both"),
    "total_people_gap": N_("People in villages with a gap"),
    "total_no_grid": N_("Without grid power"),
    "no_grid_power": N_("No grid power"),
    "legend_villages": N_("Villages"),
    "misplaced": N_("Villages whose location needs checking ({n})"),
    "misplaced_intro": N_("Not shown on the maps and not ranked: their coordinates lie far "
                          "outside the commune. Fix them in the villages file and run again."),
    "col_issue": N_("What is wrong"),
    "col_lon": N_("Longitude"),
    "col_lat": N_("Latitude"),
})

@dataclass(frozen=True)
class PageWords:
    """The texts and number formats of pages in one language (see :func:`page_words`)."""

    lang: str
    labels: Mapping[str, str]
    gap_labels: Mapping[str, str]
    made: str
    number: Callable[[Any], str]
    percent: Callable[[Any], str]
    score: Callable[[Any], str]
    plan_columns: Mapping[str, str]


def page_words(lang: str = DEFAULT_LANGUAGE) -> PageWords:
    """
    Page texts, gap class names, today's date and number formats for ``lang``.

    Examples
    --------
    >>> words = page_words("en")
    >>> words.number(1650), words.percent(0.25), words.score(88.04)
    ('1,650', '25%', '88.0')
    >>> vi = page_words("vi")
    >>> vi.number(1650), vi.percent(0.996), vi.score(88.04), vi.labels["print"]
    ('1.650', '100 %', '88,0', 'In / lưu PDF')
    """
    tr = translator(lang)
    return PageWords(
        lang=tr.language,
        labels=MappingProxyType({k: tr.gettext(v) for k, v in PAGE_LABELS.items()}),
        gap_labels=MappingProxyType({k: tr.label("gap_class", k) for k in GAP_LABELS}),
        made=tr.date(date.today()),
        number=lambda x: tr.number(None if is_missing(x) else float(x)),
        percent=lambda x: tr.percent(None if is_missing(x) else float(x)),
        score=lambda x: tr.number(None if is_missing(x) else float(x), decimals=1),
        plan_columns=MappingProxyType({k: tr.gettext(v) for k, v in PLAN_COLUMN_LABELS.items()}),
    )


def is_missing(x: Any) -> bool:
    return x is None or bool(pd.isna(x))


#: Headers of the plan items a dossier lists (English msgids).
PLAN_COLUMN_LABELS: Mapping[str, str] = MappingProxyType({
    "rank": N_("#"),
    "item_id": N_("Item"),
    "kind": N_("Works"),
    "cost_vnd": N_("Cost (VND)"),
    "location": N_("Location"),
    "plan_year": N_("Year"),
    "village_names": N_("Villages served"),
    "communes": N_("Communes served"),
    "people_served": N_("People served"),
})

_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
             *(f"LPT{i}" for i in range(10))}
_SLUG_MAX = 60


def slugify(text: str) -> str:
    """
    Lower-case ASCII words joined by ``-``: diacritics dropped, ``đ`` read as ``d``.

    Examples
    --------
    >>> slugify("Xã Sín Lịch")
    'xa-sin-lich'
    >>> slugify("Phường Điện Biên Phủ (mới)")
    'phuong-dien-bien-phu-moi'
    >>> slugify("<script>")
    'script'
    """
    folded = unicodedata.normalize("NFKD", str(text).replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    plain = plain.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:_SLUG_MAX].rstrip("-")


def commune_file_name(commune_id: str) -> str:
    """
    File name from a commune id alone: the id if it is safe, else a cleaned id plus a hash.

    Safe means ASCII letters, digits, ``_`` and ``-`` only, at most 80 characters and not a
    reserved Windows device name; distinct ids always get distinct names.

    Examples
    --------
    >>> commune_file_name("DB-001")
    'DB-001.html'
    >>> commune_file_name("../x")
    '___x-72e4d01d.html'
    """
    cid = str(commune_id)
    clean = re.sub(r"[^A-Za-z0-9_-]", "_", cid)[:80]
    if clean != cid or not clean or clean.upper() in _RESERVED:
        clean = f"{clean}-{_hash(cid)}"
    return f"{clean}.html"


def commune_page_names(
    commune_ids: Iterable[Any], commune_names: Iterable[Any]
) -> dict[str, str]:
    """
    Readable, safe and distinct file names of commune pages: ``<name slug>-<safe id>.html``.

    The id part is :func:`commune_file_name`'s; names that would still clash (also when
    compared ignoring case, as Windows and macOS do) get a hash of their id appended. The
    result depends only on the communes given, so rebuilding one commune's page gives the
    name the full run gave.

    Examples
    --------
    >>> commune_page_names(["SYN21"], ["Xã Sín Lịch"])
    {'SYN21': 'xa-sin-lich-SYN21.html'}
    >>> commune_page_names(["c", "b-c"], ["A B", "A"])  # both would be a-b-c.html
    {'c': 'a-b-c-84a51684.html', 'b-c': 'a-b-c-09269ee7.html'}
    """
    names: dict[str, str] = {}
    for cid, name in zip(commune_ids, commune_names, strict=True):
        cid = str(cid)
        base = commune_file_name(cid).removesuffix(".html")
        slug = slugify("" if name is None or pd.isna(name) else str(name))
        names[cid] = f"{slug}-{base}" if slug else base
    folded: dict[str, list[str]] = {}
    for cid, stem in names.items():
        folded.setdefault(stem.casefold(), []).append(cid)
    for clash in (ids for ids in folded.values() if len(ids) > 1):
        for cid in clash:
            names[cid] = f"{names[cid]}-{_hash(cid)}"
    out = {cid: f"{stem}.html" for cid, stem in names.items()}
    if len({v.casefold() for v in out.values()}) != len(out):  # pragma: no cover - sha1 clash
        raise GeoDxError("commune page names clash even with hashes; rename a commune id")
    return out


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


# --- Page templates ----------------------------------------------------------------------

_FIGURE_TEMPLATE = Template(
    "<!DOCTYPE html>\n"
    '<html lang="{{ this.geodx_lang }}">\n'
    "<head>\n"
    '<meta charset="utf-8">\n'
    "{% if this.title %}<title>{{ this.title }}</title>{% endif %}"
    "    {{ this.header.render(**kwargs) }}\n"
    "</head>\n"
    '<body class="{{ this.geodx_body_class }}">\n'
    "{{ this.geodx_before }}\n"
    "    {{ this.html.render(**kwargs) }}\n"
    "{{ this.geodx_after }}\n"
    "</body>\n"
    "<script>\n"
    "    {{ this.script.render(**kwargs) }}\n"
    "</script>\n"
    "</html>\n"
)


def use_page_template(
    m: folium.Map, *, lang: str, body_class: str, before: str = "", after: str = ""
) -> folium.Map:
    """
    Give ``m``'s page a language, a body class and HTML before and after the map.

    ``before`` and ``after`` must already be safe HTML (e.g. from :func:`dossier_html`).
    Returns ``m`` (changed in place: a folium map is a page being built).

    Examples
    --------
    >>> m = use_page_template(folium.Map(tiles=None), lang="vi", body_class="geodx-map-page")
    >>> '<html lang="vi">' in m.get_root().render()
    True
    """
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", lang):
        raise GeoDxError(f"lang must be a language tag such as 'vi' or 'en', got {lang!r}")
    root = m.get_root()
    root._template = _FIGURE_TEMPLATE
    root.geodx_lang = lang
    root.geodx_body_class = re.sub(r"[^A-Za-z0-9_ -]", "", body_class)
    root.geodx_before = before
    root.geodx_after = after
    return m


@cache
def page_template(name: str) -> jinja2.Template:
    """A page template from ``geo_dx/maps/static/pages/`` (Jinja2, every value escaped)."""
    env = jinja2.Environment(autoescape=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    text = resources.files("geo_dx.maps").joinpath("static", "pages", name).read_text("utf-8")
    return env.from_string(text)







def index_html(
    communes: pd.DataFrame,
    files: Mapping[str, str],
    *,
    top: pd.DataFrame,
    downloads: Sequence[tuple[str, str]],
    documents: Sequence[tuple[str, Sequence[tuple[str, str]]]] = (),
    title: str,
    css: str,
    words: PageWords | None = None,
    gap_colours: Mapping[str, str] = GAP_COLOURS,
    synthetic: bool = False,
    misplaced: pd.DataFrame | None = None,
) -> str:
    """
    The run's ``index.html``: data files, the province's top villages, the communes.

    Parameters
    ----------
    communes
        Per-commune counts in the order to list them (``commune_id``, ``commune_name``,
        ``villages``, ``with_gap``, ``without_fibre``, ``without_mobile_broadband``,
        ``without_both``, ``gap_share``).
    files
        Page file name per commune id; communes without one are listed without a link.
    top
        Villages to list first, in order (``rank``, ``village_name``, ``commune_id``,
        ``commune_name``, ``gap_class``, ``score``, ``population``, ``reason``).
    downloads
        ``(label, relative link)`` of the data files for software (the CSV note with them).
    documents
        What the page leads with: ``(label, [(link text, relative link), ...])`` per
        document (the workbook, the proposal, the plan's files).
    title, css
        The run's title and the page's style sheet.
    words, gap_colours
        As for :func:`dossier_html`.
    synthetic
        Say on the page that the data are synthetic.
    misplaced
        Every misplaced village of the run (:func:`geo_dx.communes.misplaced_villages`), with
        its commune (linked to its page) when it has one.
    """
    w = words or page_words()
    number, percent = w.number, w.percent
    rows = [
        {"file": files.get(str(r["commune_id"])), "name": cell_text(r.get("commune_name"))
         or str(r["commune_id"]), "id": str(r["commune_id"]),
         "villages": number(r.get("villages")), "with_gap": number(r.get("with_gap")),
         "share": percent(r.get("gap_share")), "without_fibre": number(r.get("without_fibre")),
         "without_mobile": number(r.get("without_mobile_broadband")),
         "without_both": number(r.get("without_both"))}
        for r in communes.to_dict("records")
    ]
    top_rows = [
        {**village_row(r, w, gap_colours),
         "commune": cell_text(r.get("commune_name")) or cell_text(r.get("commune_id")) or "",
         "file": files.get(str(r.get("commune_id")))}
        for r in top.to_dict("records")
    ]
    return page_template("index.html").render(
        t=w.labels, lang=w.lang, title=str(title), made=w.made, css=safe_html(css), rows=rows,
        top=top_rows,
        downloads=[{"label": label, "href": href} for label, href in downloads],
        documents=[{"label": label, "links": [{"label": t, "href": h} for t, h in links]}
                   for label, links in documents],
        synthetic=synthetic, misplaced=misplaced_section(misplaced, w, files=files))


def add_index_section(index: str, key: str, body: str) -> str:
    """
    ``index.html`` with a section added by a later command (or replaced, by ``key``).

    ``body`` is HTML the caller has escaped; the section goes before ``</body>``.

    Examples
    --------
    >>> page = add_index_section("<body><h1>Run</h1></body>", "extra", "<p>1</p>")
    >>> add_index_section(page, "extra", "<p>2</p>").count("<section")
    1
    """
    start, end = f"<!-- geo_dx:{key} -->", f"<!-- /geo_dx:{key} -->"
    section = f'{start}<section class="geodx-extra" id="{key}">{body}</section>{end}'
    if start in index and end in index:
        before, rest = index.split(start, 1)
        return before + section + rest.split(end, 1)[1]
    at = index.rfind("</body>")
    return index[:at] + section + "\n" + index[at:] if at >= 0 else index + section


def misplaced_section(misplaced: pd.DataFrame | None, words: PageWords, *,
                       files: Mapping[str, str] | None = None) -> Any:
    """Safe HTML listing misplaced villages (with their commune when ``files`` is given)."""
    if misplaced is None or misplaced.empty:
        return safe_html("")
    tr = translator(words.lang)
    rows = [{"id": cell_text(r.get("village_id")) or "",
             "name": cell_text(r.get("village_name")) or cell_text(r.get("village_id")) or "",
             "commune": cell_text(r.get("commune_name")) or cell_text(r.get("commune_id")) or "",
             "file": (files or {}).get(str(r.get("commune_id"))),
             "issue": location_issue_text(r.get("location_issue"), tr) or "",
             "lon": _coordinate(r.get("lon")), "lat": _coordinate(r.get("lat"))}
            for r in misplaced.to_dict("records")]
    return safe_html(page_template("misplaced_section.html").render(
        t=words.labels, rows=rows, with_commune=files is not None))


def _coordinate(value: Any) -> str:
    """A coordinate as a file would hold it (``.`` decimal point, up to 6 decimals)."""
    if is_missing(value):
        return ""
    return str(round(float(value), 6))


def village_row(r: Mapping[str, Any], words: PageWords, gap_colours: Mapping[str, str]
                 ) -> dict[str, Any]:
    """One village of a page's table: rank, name, gap (label and colour), score, people,
    reason, the terrain-blocking sentence and whether it lacks grid power, formatted for
    ``words``' language."""
    gap = str(r["gap_class"])
    return {
        "id": cell_text(r.get("village_id")),
        "rank": cell_text(r.get("rank"), integer=True),
        "name": cell_text(r.get("village_name")) or cell_text(r.get("village_id")),
        "gap": words.gap_labels.get(gap, gap),
        "color": gap_colours.get(gap, "#888888"),
        "score": words.score(r.get("score")),
        "population": words.number(r.get("population")),
        "reason": _keep_units(cell_text(r.get("reason"))),
        "blocked": _keep_units(cell_text(r.get("blocked_sentence"))),
        "no_grid": r.get("grid_power") == "no",
        **_plan_cells(r, words),
    }


def _plan_cells(r: Mapping[str, Any], words: PageWords) -> dict[str, str | None]:
    """What the plan does for a village: its item (and year), else the plan's answer.
    Satellite access (item ids ``S1, S2…``, :mod:`geo_dx.plan.items`) says it is not 4G."""
    item = cell_text(r.get("plan_item")) if "plan_item" in r else cell_text(r.get("planned_by"))
    if item:
        item = ", ".join(words.labels["plan_item_access"].format(item=i)
                         if _ACCESS_ID.fullmatch(i.strip()) else i.strip() for i in item.split(";"))
    year = cell_text(r.get("plan_year"), integer=True)
    if item and year:
        item = words.labels["plan_item_year"].format(item=item, year=year)
    return {"plan": item, "plan_answer": None if item else cell_text(r.get("plan_answer"))}


_ACCESS_ID = re.compile(r"S\d+")
_UNIT = re.compile(r"(\d) (km|m|%|h|giờ|người|people)(?![\w])")


def _keep_units(text: str | None) -> str | None:
    """
    A number and its unit joined by a no-break space, so a line never ends between them.

    Examples
    --------
    >>> _keep_units("đỉnh chắn cao 1.720 m, cách bản 0,9 km; 99,6 %")
    'đỉnh chắn cao 1.720\xa0m, cách bản 0,9\xa0km; 99,6\xa0%'
    """
    return None if text is None else _UNIT.sub("\\1\u00a0\\2", text)


def safe_html(text: str) -> Any:
    from markupsafe import Markup

    return Markup(text)


def cell_text(value: Any, *, integer: bool = False) -> str | None:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if integer:
        try:
            return str(int(value))
        except (TypeError, ValueError):
            return str(value)
    return str(value)
