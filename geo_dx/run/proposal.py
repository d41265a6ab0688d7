"""``de_xuat_dau_tu.docx``: a draft report for the planner to edit, in the administrative format.

"Báo cáo rà soát hiện trạng và đề xuất đầu tư hạ tầng số", laid out as Nghị định
30/2020/NĐ-CP asks of an administrative document: the issuing body and the national
emblem lines ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM / Độc lập - Tự do - Hạnh phúc"), Times
New Roman 14 (13 in tables), A4 with margins top and bottom 20 mm, left 30 mm, right 15
mm, page numbers centred at the top from the second page, the signature block and the
recipients. The body:

I. current state (the official indicators and their targets, :mod:`geo_dx.indicators`);
II. the gaps by commune; III. the method (gap rule, priority weights, model, reliability:
:mod:`geo_dx.run.assumptions`); IV. the proposal (items by technology: cost, villages and
people served, ethnic-minority people; and, when the plan is a schedule, each year's budget,
what it spent and carried over, its items and the villages each technology serves); V. what
remains and its cost; VI. recommendations (a placeholder to write); appendices with the full tables
(indicators per commune, every plan item by its id) and a static map of the plan drawn
offline with matplotlib.

Every number is read from ``summary.json`` (and the plan table, whose sums are the
summary's), so the draft and the run agree. Without a plan the report states the current
state and says that no budget was given. Placeholders the planner fills are in square
brackets. Text from the input data is inserted as text (Word runs are never parsed).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo_dx.atomic import atomic_path
from geo_dx.i18n import DEFAULT_LANGUAGE, N_, Translator, translator
from geo_dx.indicators import COUNT_INDICATORS, INDICATOR_LABELS, target_rows
from geo_dx.run.assumptions import assumption_rows
from geo_dx.run.plan_figure import plan_figure
from geo_dx.run.plan_schedule import by_technology, schedule_table, villages_text

__all__ = ["PROPOSAL", "write_proposal"]

logger = logging.getLogger(__name__)

#: The file name in a run folder.
PROPOSAL = "de_xuat_dau_tu.docx"
#: Page layout of Nghị định 30/2020/NĐ-CP (millimetres) and the font sizes (points).
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
BODY_PT, TABLE_PT, HEADING_PT = 14, 12, 14
FONT = "Times New Roman"
#: Communes listed in section II (the rest are in the appendix).
SECTION_COMMUNES = 15

TEXT: Mapping[str, str] = {
    "body_a": N_("[ISSUING AUTHORITY]"),
    "body_b": N_("[ISSUING OFFICE]"),
    "number": N_("No.: …/BC-…"),
    "nation": N_("SOCIALIST REPUBLIC OF VIETNAM"),
    "motto": N_("Independence - Freedom - Happiness"),
    "place_date": N_("[Place], {date}"),
    "kind": N_("REPORT"),
    "title": N_("Review of the current state and proposal for investment in digital "
                "infrastructure"),
    "draft": N_("(Draft prepared with geo_dx for the planner to edit; numbers as in "
                "summary.json of the run)"),
    "s1": N_("I. CURRENT STATE OF DIGITAL INFRASTRUCTURE"),
    "s1_text": N_("Of {villages} villages in {communes} communes, {no_signal} have no mobile "
                  "signal at all, {only_2g} have 2G only, so {no_mobile} have no mobile "
                  "broadband (3G/4G); {no_fibre} have no fixed broadband (fibre)."),
    "s1_grid": N_("{no_grid} villages have no grid electricity, {no_mobile} of them without "
                  "mobile broadband: the public telecom fund finances mobile coverage only "
                  "where there is grid power."),
    "s1_table": N_("Table 1. Indicators and targets"),
    "s2": N_("II. GAPS BY COMMUNE"),
    "s2_text": N_("The communes with the largest share of villages without fibre or mobile "
                  "broadband come first ({shown} of {communes} communes; all of them in "
                  "Appendix I)."),
    "s2_table": N_("Table 2. Villages without service, by commune"),
    "s3": N_("III. METHOD"),
    "s4": N_("IV. PROPOSED INVESTMENT"),
    "s4_text": N_("With a budget of {budget}, the plan builds {items} items costing {cost}: it "
                  "newly brings mobile broadband (4G) or fibre to {villages} villages and "
                  "{people} people, of whom {em} are ethnic-minority people. Every item is "
                  "listed by its id in Appendix II and shown on the map of Appendix III."),
    "s4_access": N_("Besides, {items} satellite Internet access points (Wi-Fi), costing {cost}, "
                    "give {villages} villages ({people} people) a first connection until a site "
                    "or a fibre route reaches them. They are a stop-gap at a lower service "
                    "level: a shared Wi-Fi hotspot in the village, not 4G coverage nor fibre; "
                    "they are never counted as 4G or fibre above and are listed apart in "
                    "Table 3 and Appendix II."),
    "full_service": N_("Subtotal, mobile broadband (4G) and fibre"),
    "access_row": N_("{label}: a lower service level, not 4G"),
    "appendix2_access": N_("Satellite Internet access points (Wi-Fi): a lower service level, "
                           "not 4G"),
    "plan_total": N_("Total cost of the plan: {cost} million VND."),
    "s4_none": N_("No budget was given for this run: this report states the current state only. "
                  "Run geo-dx plan with a budget to add the proposed investment."),
    "s4_table": N_("Table 3. Proposed items by technology"),
    "s4_years": N_("Table 4. Investment by year"),
    "s5": N_("V. WHAT REMAINS"),
    "s5_text": N_("After the plan, {mobile_left} villages still lack mobile broadband and "
                  "{fibre_left} still lack fibre. Connecting every village that can be "
                  "connected costs about {close_all} in all."),
    "s5_unservable": N_("{n} villages cannot be reached by any candidate site or fibre route: "
                        "they need satellite, microwave or another technology."),
    "s6": N_("VI. RECOMMENDATIONS"),
    "s6_text": N_("[The recommendations of the office: sources of funding, schedule, operators "
                  "to involve, units costs to confirm.]"),
    "recipients": N_("Recipients:"),
    "recipients_list": N_("- [As above];\n- Filed: [archive]."),
    "signer": N_("[TITLE OF THE SIGNER]"),
    "signer_name": N_("[Full name]"),
    "appendix1": N_("Appendix I. INDICATORS BY COMMUNE"),
    "appendix2": N_("Appendix II. LIST OF PROPOSED ITEMS"),
    "appendix3": N_("Appendix III. MAP OF THE PROPOSED INVESTMENT"),
    "map_caption": N_("Villages without fibre or mobile broadband, proposed sites (triangles, "
                      "with their ids) and fibre routes (lines)"),
    "map_caption_access": N_("Villages without fibre or mobile broadband, proposed sites "
                             "(triangles, with their ids), fibre routes (lines) and satellite "
                             "Internet access points (yellow circles)"),
    "total": N_("Total"),
    "commune": N_("Commune"),
    "villages": N_("Villages"),
    "technology": N_("Works"),
    "year": N_("Year"),
    "budget": N_("Budget (million VND)"),
    "spent": N_("Spent (million VND)"),
    "carried": N_("Carried over (million VND)"),
    "served_by": N_("Villages served, by technology"),
    "items": N_("Items"),
    "cost": N_("Cost (million VND)"),
    "served": N_("Villages served"),
    "people": N_("People served"),
    "em": N_("Ethnic-minority people"),
    "item": N_("Item"),
    "where": N_("Villages served (commune)"),
    "indicator": N_("Indicator"),
    "now": N_("Now"),
    "target": N_("Target share"),
    "short": N_("Still to connect"),
}


def write_proposal(
    path: str | Path,
    *,
    summary: Mapping[str, Any],
    villages: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    plan: pd.DataFrame | None = None,
    plan_items: gpd.GeoDataFrame | None = None,
    language: str = DEFAULT_LANGUAGE,
    made: dt.date | None = None,
) -> Path:
    """
    Write the draft proposal document (atomically).

    Parameters
    ----------
    path
        The ``.docx`` file to write (a run folder's :data:`PROPOSAL`).
    summary
        The run's ``summary.json`` (its indicators, scoring, plan): every number comes
        from here or from ``plan``.
    villages, communes
        The run's villages and communes (the map of the appendix).
    plan, plan_items
        The plan table (:func:`geo_dx.run.plan_outputs.plan_table`) and its items with their
        geometry, when a budget was given.
    language
        The language of the document (Vietnamese by default).
    made
        The report's date (default today).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> import geo_dx
    >>> from geo_dx.config import TargetsConfig
    >>> from geo_dx.run.report import build_summary
    >>> demo = geo_dx.load_demo()
    >>> gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
    >>> per_commune = geo_dx.summarise_communes(gaps, demo.communes)
    >>> from geo_dx.indicators import indicator_summary
    >>> summary = build_summary(gaps, per_commune, title="Tỉnh mô phỏng", extra={
    ...     "indicators": indicator_summary(gaps, TargetsConfig())})
    >>> out = Path(tempfile.mkdtemp()) / PROPOSAL
    >>> write_proposal(out, summary=summary, villages=gaps, communes=per_commune).name
    'de_xuat_dau_tu.docx'
    """
    from docx import Document

    tr = translator(language)
    document = Document()
    _page_setup(document)
    writer = _Writer(document, tr)
    writer.letterhead(made or dt.date.today(), summary.get("title", ""))
    indicators = summary.get("indicators", {})
    writer.current_state(indicators, summary.get("grid_power"))
    writer.gaps_by_commune(indicators, summary.get("communes", []))
    writer.method(summary)
    writer.proposal(summary.get("plan"), plan)
    writer.remains(summary.get("plan"))
    writer.closing()
    writer.appendices(indicators, plan, summary.get("plan"),
                      plan_figure(villages, communes, plan_items, tr) if plan is not None
                      else None)
    path = Path(path)
    with atomic_path(path) as tmp:
        document.save(str(tmp))
    logger.info("wrote %s", path)
    return path


class _Writer:
    """Paragraphs and tables of the report, in one font and one language."""

    def __init__(self, document: Any, tr: Translator) -> None:
        self.doc = document
        self.tr = tr

    def t(self, key: str, **values: Any) -> str:
        return self.tr.gettext(TEXT[key], **values)

    def paragraph(self, text: str = "", *, bold: bool = False, italic: bool = False,
                  size: float = BODY_PT, align: str = "justify", indent: bool = True,
                  before: float = 0, after: float = 6) -> Any:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Cm, Pt

        paragraph = self.doc.add_paragraph()
        paragraph.alignment = {"justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
                               "center": WD_ALIGN_PARAGRAPH.CENTER,
                               "left": WD_ALIGN_PARAGRAPH.LEFT,
                               "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
        fmt = paragraph.paragraph_format
        fmt.space_before, fmt.space_after = Pt(before), Pt(after)
        if indent and align == "justify":
            fmt.first_line_indent = Cm(1)
        if text:
            run = paragraph.add_run(text)
            _font(run, size=size, bold=bold, italic=italic)
        return paragraph

    def heading(self, text: str) -> None:
        self.paragraph(text, bold=True, size=HEADING_PT, align="left", indent=False,
                       before=12)

    def table(self, header: Sequence[str], rows: Sequence[Sequence[Any]], *,
              total: Sequence[Any] | None = None, caption: str = "",
              first_mm: float = 50) -> Any:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        if caption:
            self.paragraph(caption, italic=True, size=TABLE_PT, align="center", indent=False,
                           after=3)
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            _cell(cell, text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        for values in [*rows, *([total] if total is not None else [])]:
            cells = table.add_row().cells
            for cell, value in zip(cells, values, strict=True):
                numeric = isinstance(value, int | float) and not isinstance(value, bool)
                _cell(cell, self.tr.number(value) if numeric else str(value),
                      bold=values is total,
                      align=WD_ALIGN_PARAGRAPH.RIGHT if numeric else WD_ALIGN_PARAGRAPH.LEFT)
        _widths(table, first_mm, len(header))
        self.paragraph(after=0)
        return table

    def letterhead(self, made: dt.date, title: str) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        head = self.doc.add_table(rows=1, cols=2)
        _widths(head, 60, 2, total_mm=165)
        left, right = head.rows[0].cells
        _cell(left, self.t("body_a"), align=WD_ALIGN_PARAGRAPH.CENTER, size=13)
        _cell(left, self.t("body_b"), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=13,
              new=True)
        _cell(left, self.t("number"), align=WD_ALIGN_PARAGRAPH.CENTER, size=13, new=True)
        _cell(right, self.t("nation"), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=12)
        _cell(right, self.t("motto"), bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, size=13,
              new=True, underline=True)
        _cell(right, self.t("place_date", date=_long_date(made, self.tr)), italic=True,
              align=WD_ALIGN_PARAGRAPH.CENTER, size=13, new=True)
        self.paragraph(self.t("kind"), bold=True, align="center", indent=False, before=18,
                       after=0)
        self.paragraph(self.t("title"), bold=True, align="center", indent=False, after=0)
        if title:
            self.paragraph(title, bold=True, align="center", indent=False, after=0)
        self.paragraph(self.t("draft"), italic=True, size=12, align="center", indent=False,
                       after=12)

    def current_state(self, indicators: Mapping[str, Any],
                      grid_power: Mapping[str, Any] | None = None) -> None:
        self.heading(self.t("s1"))
        province = indicators.get("province")
        if not province:
            return
        n = self.tr.number
        self.paragraph(self.t("s1_text", villages=n(province["villages"]),
                              communes=n(province["communes"]),
                              no_signal=n(province["no_signal"]), only_2g=n(province["only_2g"]),
                              no_mobile=n(province["no_mobile_broadband"]),
                              no_fibre=n(province["no_fibre"])))
        if grid_power and (grid_power.get("yes") or grid_power.get("no")):
            without = grid_power.get("without_mobile_broadband", {})
            self.paragraph(self.t("s1_grid", no_grid=n(grid_power["no"]),
                                  no_mobile=n(without.get("no", 0))))
        rows = [(r["indicator"], f"{r['actual']} ({r['count']})", r["target"], r["short"])
                for r in target_rows(indicators.get("targets", []), self.tr)]
        self.table([self.t("indicator"), self.t("now"), self.t("target"), self.t("short")],
                   rows, caption=self.t("s1_table"))

    def gaps_by_commune(self, indicators: Mapping[str, Any],
                        order: Sequence[Mapping[str, Any]]) -> None:
        self.heading(self.t("s2"))
        rows = _commune_rows(indicators, order)
        if not rows:
            return
        shown = rows[:SECTION_COMMUNES]
        self.paragraph(self.t("s2_text", shown=self.tr.number(len(shown)),
                              communes=self.tr.number(len(rows))))
        self.table(self._commune_header(), shown, caption=self.t("s2_table"))

    def _commune_header(self) -> list[str]:
        return [self.t("commune"), self.t("villages"),
                *(self.tr.gettext(INDICATOR_LABELS[k]) for k in COUNT_INDICATORS)]

    def method(self, summary: Mapping[str, Any]) -> None:
        self.heading(self.t("s3"))
        rows = assumption_rows(summary, self.tr)
        groups: dict[str, list[str]] = {}
        for row in rows:
            text = f"{row.item}: {row.value}" + (f" ({row.note})" if row.note else "")
            groups.setdefault(row.group, []).append(text)
        for number, (group, texts) in enumerate(groups.items(), start=1):
            self.paragraph(f"{number}. {group}: " + "; ".join(texts) + ".")

    def proposal(self, plan: Mapping[str, Any] | None, table: pd.DataFrame | None) -> None:
        self.heading(self.t("s4"))
        if not plan or table is None:
            self.paragraph(self.t("s4_none"))
            return
        served = plan["newly_served"]["any"]
        self.paragraph(self.t(
            "s4_text", budget=self.tr.money(plan["budget_vnd"]), items=self.tr.number(len(table)),
            cost=self.tr.money(plan["cost_used_vnd"]), villages=self.tr.number(served["villages"]),
            people=self.tr.number(served["people"]),
            em=self.tr.number(served["ethnic_minority_people"])))
        access = _is_access(table)
        if access.any():
            self.paragraph(self.t(
                "s4_access", items=self.tr.number(plan["items"]["satellite_access"]),
                cost=self.tr.money(plan["cost_satellite_access_vnd"]),
                villages=self.tr.number(plan["newly_served"]["satellite_access"]["villages"]),
                people=self.tr.number(plan["newly_served"]["satellite_access"]["people"])))
        # by technology (backhaul included) when the plan names it, else by the works;
        # satellite access apart from full service (4G, fibre), after its subtotal
        key, kind = (("technology", "plan_technology") if "technology" in table
                     else ("kind", "plan_kind"))
        header = [self.t("technology"), self.t("items"), self.t("cost"), self.t("served"),
                  self.t("people"), self.t("em")]
        rows = []
        full = table[~access]
        groups = dict(list(full.groupby(key)))
        for code, _ in by_technology({code: len(g) for code, g in groups.items()}):
            group = groups[code]
            rows.append([self.tr.label(kind, code), len(group),
                         _millions(group["cost_vnd"].sum()),
                         _count_ids(group["villages_served"]),
                         int(group["people_served"].sum()),
                         int(group["ethnic_minority_people_served"].sum())])
        served_row = [served["villages"], int(round(served["people"])),
                      int(round(served["ethnic_minority_people"]))]
        total = [self.t("total"), len(table), _millions(plan["cost_used_vnd"]), *served_row]
        if access.any():
            satellite = plan["newly_served"]["satellite_access"]
            rows.append([self.t("full_service"), len(full),
                         _millions(plan["cost_mobile_vnd"] + plan["cost_fibre_vnd"]),
                         *served_row])
            rows.append([self.t("access_row", label=self.tr.label("plan_kind",
                                                                  "satellite_access")),
                         plan["items"]["satellite_access"],
                         _millions(plan["cost_satellite_access_vnd"]), satellite["villages"],
                         int(round(satellite["people"])),
                         int(round(satellite["ethnic_minority_people"]))])
            total[3:] = ["", "", ""]  # the two service levels do not add up
        self.table(header, rows, total=total, caption=self.t("s4_table"))
        self.by_year(plan)

    def by_year(self, plan: Mapping[str, Any]) -> None:
        """Table 4: each year's budget, what it spent and carried over, its items and the
        villages each technology serves (only when the plan is a schedule)."""
        years = schedule_table(plan)
        if not len(years):
            return
        rows = [[str(y["year"]), _millions(y["budget_vnd"]), _millions(y["spent_vnd"]),
                 _millions(y["carried_vnd"]), int(y["items"]),
                 villages_text(year.get("villages_by_technology") or {}, self.tr)]
                for y, year in zip(years.to_dict("records"), plan["schedule"], strict=True)]
        total = [self.t("total"), _millions(years["budget_vnd"].sum()),
                 _millions(years["spent_vnd"].sum()), "", int(years["items"].sum()), ""]
        self.table([self.t("year"), self.t("budget"), self.t("spent"), self.t("carried"),
                    self.t("items"), self.t("served_by")], rows, total=total,
                   caption=self.t("s4_years"), first_mm=18)

    def remains(self, plan: Mapping[str, Any] | None) -> None:
        if not plan:
            return
        self.heading(self.t("s5"))
        served = plan["newly_served"]
        self.paragraph(self.t(
            "s5_text",
            mobile_left=self.tr.number(plan["mobile_gap_villages"] - served["mobile"]["villages"]),
            fibre_left=self.tr.number(plan["fibre_gap_villages"] - served["fibre"]["villages"]),
            close_all=self.tr.money(plan.get("cost_to_close_all_vnd"))))
        unservable = plan["unservable"]["mobile"] + plan["unservable"]["fibre"]
        if unservable:
            self.paragraph(self.t("s5_unservable", n=self.tr.number(unservable)))

    def closing(self) -> None:
        self.heading(self.t("s6"))
        self.paragraph(self.t("s6_text"))
        sign = self.doc.add_table(rows=1, cols=2)
        left, right = sign.rows[0].cells
        _cell(left, self.t("recipients"), bold=True, italic=True, size=12)
        for line in self.t("recipients_list").split("\n"):
            _cell(left, line, size=11, new=True)
        _cell(right, self.t("signer"), bold=True, size=14, center=True)
        _cell(right, "", new=True)
        _cell(right, "", new=True)
        _cell(right, self.t("signer_name"), bold=True, size=14, center=True, new=True)

    def appendices(self, indicators: Mapping[str, Any], table: pd.DataFrame | None,
                   plan: Mapping[str, Any] | None, figure: bytes | None) -> None:
        from docx.enum.text import WD_BREAK

        def new_page(title: str) -> None:
            self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            self.paragraph(title, bold=True, align="center", indent=False, after=12)

        rows = _commune_rows(indicators, [])
        if rows:
            new_page(self.t("appendix1"))
            province = indicators["province"]
            total = [self.t("total"), province["villages"],
                     *(province[k] for k in COUNT_INDICATORS)]
            self.table(self._commune_header(), rows, total=total)
        if table is None or plan is None:
            return
        new_page(self.t("appendix2"))
        header = [self.t("item"), self.t("technology"), self.t("where"), self.t("people"),
                  self.t("cost")]
        access = _is_access(table)

        def items(part: pd.DataFrame) -> list[list[Any]]:
            return [[str(r["item_id"]), self.tr.label("plan_kind", r["kind"]),
                     _served_text(r), int(r["people_served"]), _millions(r["cost_vnd"])]
                    for _, r in part.iterrows()]

        if not access.any():
            self.table(header, items(table),
                       total=[self.t("total"), "", "", "", _millions(plan["cost_used_vnd"])])
        else:  # full service (4G, fibre), then satellite access apart, then the plan's total
            self.table(header, items(table[~access]), total=[
                self.t("total"), "", "", "",
                _millions(plan["cost_mobile_vnd"] + plan["cost_fibre_vnd"])])
            self.table(header, items(table[access]), caption=self.t("appendix2_access"),
                       total=[self.t("total"), "", "", "",
                              _millions(plan["cost_satellite_access_vnd"])])
            self.paragraph(self.t("plan_total", cost=self.tr.number(
                _millions(plan["cost_used_vnd"]))), bold=True)
        if figure is not None:
            from docx.shared import Mm

            new_page(self.t("appendix3"))
            self.doc.add_picture(io.BytesIO(figure), width=Mm(160))
            caption = "map_caption_access" if _is_access(table).any() else "map_caption"
            self.paragraph(self.t(caption), italic=True, size=TABLE_PT, align="center",
                           indent=False)


def _commune_rows(indicators: Mapping[str, Any], order: Sequence[Mapping[str, Any]]
                  ) -> list[list[Any]]:
    """Per-commune indicator rows, in the per-commune table's order (worst first)."""
    by_id = {row["commune_id"]: row for row in indicators.get("communes", [])}
    ids = [row["commune_id"] for row in order if row["commune_id"] in by_id] or list(by_id)
    return [[str(by_id[i].get("commune_name") or i), by_id[i]["villages"],
             *(by_id[i][k] for k in COUNT_INDICATORS)] for i in ids]


def _is_access(table: pd.DataFrame) -> Any:
    """Which plan rows are satellite access (a lower service level, counted apart)."""
    return (table["kind"] == "satellite_access").to_numpy()


def _millions(vnd: float) -> int:
    """A cost in whole million VND (triệu đồng)."""
    return int(round(float(vnd) / 1e6))


def _count_ids(column: pd.Series) -> int:
    return len({v for text in column.fillna("") for v in str(text).split(";") if v})


def _served_text(row: pd.Series) -> str:
    names = str(row.get("village_names") or "").replace(";", ", ")
    communes = str(row.get("communes") or "").replace(";", ", ")
    return f"{names} ({communes})" if communes else names


def _long_date(day: dt.date, tr: Translator) -> str:
    if tr.language == "vi":
        return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"
    return tr.date(day)


def _font(run: Any, *, size: float, bold: bool = False, italic: bool = False) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.italic = italic
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), FONT)


def _cell(cell: Any, text: str, *, bold: bool = False, italic: bool = False,
          align: Any = None, size: float = TABLE_PT, new: bool = False,
          center: bool = False, underline: bool = False) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = cell.add_paragraph() if new else cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if center else align
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(text)
    _font(run, size=size, bold=bold, italic=italic)
    run.font.underline = underline


def _widths(table: Any, first_mm: float, columns: int, *, total_mm: float = 165) -> None:
    """The first column ``first_mm`` wide, the others sharing the rest of the text width."""
    from docx.shared import Mm

    table.autofit = False
    rest = (total_mm - first_mm) / max(columns - 1, 1)
    for index, column in enumerate(table.columns):  # the grid LibreOffice reads
        column.width = Mm(first_mm if index == 0 else rest)
    for row in table.rows:
        for index, cell in enumerate(row.cells):
            cell.width = Mm(first_mm if index == 0 else rest)


def _page_setup(document: Any) -> None:
    """A4, the decree's margins, Times New Roman, page numbers at the top from page 2."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(BODY_PT)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.header_distance = Mm(10)
    section.different_first_page_header_footer = True  # no number on the first page
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    _font(run, size=BODY_PT)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._element.append(element)

