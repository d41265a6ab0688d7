"""Tests for geo_dx.maps.pages: readable safe file names, the index, the commune dossier."""

from __future__ import annotations

import re

import folium
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo_dx.errors import GeoDxError
from geo_dx.maps.dossier import dossier_html, plan_section
from geo_dx.maps.pages import (
    PAGE_LABELS,
    PageWords,
    commune_file_name,
    commune_page_names,
    index_html,
    slugify,
    use_page_template,
)

XSS = "<img src=x onerror=alert(1)>"
GAP_LABELS = {"no_fibre_no_mobile": "Neither", "no_mobile": "No mobile", "no_fibre": "No fibre",
              "none": "Both"}
GAP_COLOURS = {"no_fibre_no_mobile": "#D55E00", "no_mobile": "#CC79A7", "no_fibre": "#E69F00",
               "none": "#009E73"}
FORMATS = {"number": lambda x: "–" if x is None or pd.isna(x) else f"{x:,.0f}",
           "percent": lambda x: "–" if x is None or pd.isna(x) else f"{x:.0%}",
           "score": lambda x: "–" if x is None or pd.isna(x) else f"{x:.1f}"}
WORDS = PageWords(lang="vi", labels=PAGE_LABELS, gap_labels=GAP_LABELS, made="23/11/2026",
                  plan_columns={}, **FORMATS)


@pytest.mark.parametrize(("text", "slug"), [
    ("Xã Sín Lịch", "xa-sin-lich"),
    ("Phường Điện Biên Phủ", "phuong-dien-bien-phu"),
    ("  Thị trấn -- Mường Ảng!! ", "thi-tran-muong-ang"),
    ("ĐẮK LẮK", "dak-lak"),
    ("../../etc", "etc"),
    ("<script>", "script"),
    ("", ""),
    ("中文", ""),
])
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_page_names_are_readable_slugs_with_the_id():
    names = commune_page_names(["SYN21", "SYN02"], ["Xã Sín Lịch", "Phường Phiêng Ngám"])
    assert names == {"SYN21": "xa-sin-lich-SYN21.html",
                     "SYN02": "phuong-phieng-ngam-SYN02.html"}


def test_page_names_keep_unsafe_ids_safe():
    ids = ["../x", "CON", "a/b", "", "Xã 1", "C/../1"]
    given_names = ["Xã A", None, "", "Xã B", "Xã C", float("nan")]
    names = commune_page_names(ids, given_names)
    expected_slugs = ["xa-a-", "", "", "xa-b-", "xa-c-", ""]
    for cid, slug in zip(ids, expected_slugs, strict=True):
        assert re.fullmatch(r"[A-Za-z0-9_-]+\.html", names[cid]), cid
        assert names[cid] == slug + commune_file_name(cid)
    assert names["CON"] != "CON.html" and names["../x"] == "xa-a-___x-72e4d01d.html"
    assert len(set(names.values())) == len(ids)


def test_page_names_that_clash_get_hashes():
    # "A B" + id "c" and "A" + id "b-c" would both be a-b-c.html.
    names = commune_page_names(["c", "b-c"], ["A B", "A"])
    assert names["c"] != names["b-c"]
    assert all(n.startswith("a-b-c-") for n in names.values())
    # Ids differing only in case clash on Windows and macOS: hashes keep them apart.
    names = commune_page_names(["ab", "AB"], ["Xã", "Xã"])
    assert len({n.casefold() for n in names.values()}) == 2


@settings(max_examples=200)
@given(st.dictionaries(st.text(min_size=0, max_size=12), st.one_of(st.none(), st.text(max_size=20)),
                       min_size=1, max_size=12))
def test_page_names_are_always_safe_and_distinct(communes):
    names = commune_page_names(list(communes), list(communes.values()))
    assert set(names) == {str(c) for c in communes}
    assert len({n.casefold() for n in names.values()}) == len(names)
    for name in names.values():
        assert re.fullmatch(r"[A-Za-z0-9_-]+\.html", name)
        assert len(name) <= 180
    # The same communes always give the same names (a one-commune rebuild relies on it).
    assert commune_page_names(list(communes), list(communes.values())) == names


def test_plan_section_is_a_hook_that_escapes():
    assert plan_section(None) == ""
    assert plan_section(pd.DataFrame({"x": []})) == ""
    html = plan_section(pd.DataFrame({"site": [XSS, "Mast 2"], "cost_vnd": [1.5e9, None]}),
                        heading="Works", column_labels={"site": "Site"})
    assert 'id="geodx-plan"' in html and "<h2>Works</h2>" in html
    assert "<th>Site</th>" in html and "<th>cost_vnd</th>" in html
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<tr>") == 3  # header and two items


def _commune_villages() -> pd.DataFrame:
    return pd.DataFrame({
        "village_id": ["v1", "v2", "v3", "v4", "v5"],
        "village_name": ["Bản Ba", XSS, "Bản Một", "Bản Có", "Bản Đủ"],
        "gap_class": ["no_fibre", "no_fibre_no_mobile", "no_mobile", "none", "none"],
        "rank": [30, 2, 7, None, None],
        "score": [51.25, 88.0, 70.0, None, None],
        "population": [120, 200, 1300, 90, 80],
        "reason": ["far", "very far", "blocked", None, None],
        "blocked_sentence": [None, None, "Blocked by terrain: site 1.6 km away", None, None],
    })


def _commune_row() -> dict:
    return {"commune_id": "SYN21", "commune_name": "Xã <i>Sín</i> Lịch", "villages": 5,
            "with_gap": 3, "without_fibre": 2, "without_mobile_broadband": 2, "without_both": 1,
            "gap_share": 0.6}


def test_dossier_lists_gap_villages_in_priority_order_with_reasons():
    head, tail = dossier_html(_commune_row(), _commune_villages(), title="Demo", words=WORDS,
                              gap_colours=GAP_COLOURS)
    assert '<a href="../index.html">' in head and '<a href="../map.html">' in head
    assert "Xã &lt;i&gt;Sín&lt;/i&gt; Lịch" in head and "<i>" not in head
    assert "window.print()" in head
    # Totals: 5 villages, 3 with a gap (60%), people in gap villages 120 + 200 + 1300.
    for text in ("<dd>5</dd>", "<dd>3 (60%)</dd>", "<dd>1,620</dd>"):
        assert text in head
    rows = re.findall(r'<tr class="geodx-village-row" data-village-id="(\w+)"><td class="num">'
                      r"(\d+)</td><td>(.*?)</td>", tail)
    assert rows == [("v2", "2", "&lt;img src=x onerror=alert(1)&gt;"), ("v3", "7", "Bản Một"),
                    ("v1", "30", "Bản Ba")]
    # a number and its unit never part at a line end
    assert '<div class="geodx-blocked">Blocked by terrain: site 1.6\u00a0km away</div>' in tail
    assert "51.2" in tail or "51.3" in tail
    # Fully covered villages are listed by name, and there is no plan yet.
    assert "Bản Có, Bản Đủ" in tail
    assert 'id="geodx-plan"' not in tail


def test_dossier_carries_the_plan_and_says_when_nothing_is_missing():
    covered = _commune_villages().assign(gap_class="none")
    plan = plan_section(pd.DataFrame({"item": ["New 4G site"]}))
    _, tail = dossier_html({**_commune_row(), "with_gap": 0, "gap_share": 0.0}, covered,
                           title="Demo", words=WORDS, gap_colours=GAP_COLOURS, plan=plan)
    assert PAGE_LABELS["dossier_no_gaps"] in tail
    assert "geodx-village-row" not in tail
    assert 'id="geodx-plan"' in tail and "New 4G site" in tail


def test_index_lists_top_villages_downloads_and_communes():
    communes = pd.DataFrame({
        "commune_id": ["SYN21", "SYN09"], "commune_name": ["Xã Sín Lịch", XSS],
        "villages": [5, 0], "with_gap": [3, 0], "without_fibre": [2, 0],
        "without_mobile_broadband": [2, 0], "without_both": [1, 0], "gap_share": [0.6, None]})
    top = _commune_villages().iloc[[1, 2]].assign(commune_id="SYN21", commune_name="Xã Sín Lịch")
    page = index_html(communes, {"SYN21": "xa-sin-lich-SYN21.html"}, top=top,
                      downloads=[("Workbook", "priority.xlsx"), ("CSV", "priority.csv")],
                      title="Demo", css="body{}", words=WORDS, gap_colours=GAP_COLOURS)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="vi">' in page
    assert '<a href="priority.xlsx" download>Workbook</a>' in page
    assert '<a href="priority.csv" download>CSV</a>' in page
    assert page.count('<a href="communes/xa-sin-lich-SYN21.html">') == 3  # 2 top + 1 commune
    assert PAGE_LABELS["top_villages"].format(n=2) in page
    # A commune without villages has no page and says so; its name is escaped.
    no_page = PAGE_LABELS["no_villages"]
    assert f'&lt;img src=x onerror=alert(1)&gt; <span class="geodx-muted">({no_page})' in page
    assert XSS not in page


def test_page_template_sets_language_and_wraps_the_map():
    m = use_page_template(folium.Map(tiles=None), lang="vi", body_class="geodx-doc x\"y",
                          before="<header>H</header>", after="<section>S</section>")
    page = m.get_root().render()
    assert '<html lang="vi">' in page and '<body class="geodx-doc xy">' in page
    assert page.index("<header>H</header>") < page.index('class="folium-map"') < page.index(
        "<section>S</section>")
    with pytest.raises(GeoDxError, match="lang must be a language tag"):
        use_page_template(folium.Map(tiles=None), lang='vi"><script>', body_class="x")
