"""The meeting's handouts, read back from one Vietnamese demo run with a 30 bn VND plan.

The console in plain Vietnamese (no English line, no solver banner), no "thị trấn" in any
output, the proposal document read back with python-docx (format of Nghị định 30/2020,
sections, tables, picture, numbers equal to summary.json), the workbook read back with
openpyxl (print settings, totals equal the plan, assumptions complete, a date cell) and the
QGIS styles of every layer.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import fields
from pathlib import Path

import pandas as pd
import pytest

from geo_dx.config import PlanCostsConfig
from geo_dx.i18n import translator
from geo_dx.indicators import target_rows

docx = pytest.importorskip("docx", reason="python-docx is a core dependency")
openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is in the dev extras")

VI = translator("vi")
#: ASCII words that are no English sentence (file names and units are stripped before).
NOT_ENGLISH = {"BTS", "GeoPackage"}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    """`geo-dx run --budget 30e9` on the demo in a fresh process: what it printed, its folder."""
    out = tmp_path_factory.mktemp("handout") / "demo"
    done = subprocess.run([sys.executable, "-m", "geo_dx.cli", "run", "--budget", "30e9",
                           "--out", str(out)], capture_output=True, text=True, timeout=900,
                          check=False)
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {"out": out, "stdout": done.stdout, "stderr": done.stderr, "summary": summary}


def _english(line: str) -> bool:
    """A line with two or more English words and no Vietnamese letter."""
    if re.search(r"[^\x00-\x7f…–·]", line):
        return False
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'/._-]*", line)
             if not re.search(r"[/._]", w) and w not in NOT_ENGLISH and len(w) > 2]
    return len(words) >= 2


def test_english_lines_are_told():
    assert _english("INFO: wrote /tmp/x/priority.xlsx")
    assert _english("Running HiGHS 1.16.0 (git hash: f3f113d): Copyright (c) 2026")
    assert not _english("Xã Phì Lịch                 53   7")
    assert not _english("đã ghi /tmp/x/ (map.html, priority.csv)")


def test_vietnamese_run_prints_no_english_line_and_no_solver_banner(run):
    lines = [line for line in (run["stdout"] + run["stderr"]).splitlines() if line.strip()]
    assert [line for line in lines if _english(line)] == []
    assert "HiGHS" not in run["stdout"] + run["stderr"] and "INFO" not in run["stderr"]
    plan = run["summary"]["plan"]
    served = plan["newly_served"]
    assert (f"Phương án tối ưu (đã kiểm chứng): phục vụ {served['any']['villages']} thôn, bản"
            ) in run["stdout"]
    assert f"{served['mobile']['villages']}/{plan['mobile_gap_villages']} thôn, bản" in run[
        "stdout"]


def _docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def test_no_thi_tran_in_any_vietnamese_output(run):
    out = run["out"]
    texts = {"console": run["stdout"] + run["stderr"],
             "priority.csv": (out / "priority.csv").read_text(encoding="utf-8-sig"),
             "plan.csv": (out / "plan.csv").read_text(encoding="utf-8-sig"),
             "de_xuat_dau_tu.docx": _docx_text(out / "de_xuat_dau_tu.docx")}
    book = openpyxl.load_workbook(out / "priority.xlsx", read_only=True)
    texts["priority.xlsx"] = "\n".join(str(v) for sheet in book.worksheets
                                       for row in sheet.iter_rows(values_only=True)
                                       for v in row if isinstance(v, str))
    pages = [out / "map.html", out / "index.html", *sorted((out / "communes").glob("*.html"))]
    texts.update({p.name: p.read_text(encoding="utf-8") for p in pages})
    assert len(texts) > 8
    assert [name for name, text in texts.items() if "thị trấn" in text.lower()] == []
    assert "trung tâm xã, phường gần nhất" in texts["priority.csv"]  # the reasons say it


def test_proposal_document_format(run):
    document = docx.Document(str(run["out"] / "de_xuat_dau_tu.docx"))
    section = document.sections[0]
    mm = 36000  # EMU per millimetre
    assert (round(section.page_width / mm), round(section.page_height / mm)) == (210, 297)
    assert 20 <= round(section.top_margin / mm) <= 25
    assert 20 <= round(section.bottom_margin / mm) <= 25
    assert 30 <= round(section.left_margin / mm) <= 35
    assert 15 <= round(section.right_margin / mm) <= 20
    # page numbers: a PAGE field in the header, none on the first page
    assert section.different_first_page_header_footer
    assert "PAGE" in section.header._element.xml
    body = [r for p in document.paragraphs for r in p.runs if r.text.strip()]
    assert {r.font.name for r in body} == {"Times New Roman"}
    assert {r.font.size.pt for r in body} <= {12.0, 13.0, 14.0}
    assert sum(len(r.text) for r in body if r.font.size.pt == 14) > 0.7 * sum(
        len(r.text) for r in body)  # the body is in 14 pt
    letterhead = "\n".join(c.text for c in document.tables[0].rows[0].cells)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in letterhead
    assert "Độc lập - Tự do - Hạnh phúc" in letterhead
    text = "\n".join(p.text for p in document.paragraphs)
    for heading in ("BÁO CÁO", "Rà soát hiện trạng và đề xuất đầu tư hạ tầng số",
                    "I. HIỆN TRẠNG HẠ TẦNG SỐ", "II. THÔN, BẢN CHƯA CÓ DỊCH VỤ THEO XÃ, PHƯỜNG",
                    "III. PHƯƠNG PHÁP RÀ SOÁT", "IV. ĐỀ XUẤT ĐẦU TƯ",
                    "V. PHẦN CÒN LẠI SAU KẾ HOẠCH", "VI. KIẾN NGHỊ", "Phụ lục I.",
                    "Phụ lục II.", "Phụ lục III."):
        assert heading in text, heading
    assert len(document.inline_shapes) == 1  # the map of the plan
    assert document.inline_shapes[0].width > 140 * mm


def _table_after(document, caption: str):
    """The table that follows the paragraph starting with ``caption``."""
    body = document.element.body
    found = False
    for child in body.iterchildren():
        if child.tag.endswith("}p") and "".join(child.itertext()).startswith(caption):
            found = True
        elif found and child.tag.endswith("}tbl"):
            return next(t for t in document.tables if t._element is child)
    raise AssertionError(caption)


def test_proposal_numbers_are_the_summary(run):
    summary = run["summary"]
    plan, province = summary["plan"], summary["indicators"]["province"]
    document = docx.Document(str(run["out"] / "de_xuat_dau_tu.docx"))
    text = "\n".join(p.text for p in document.paragraphs)
    n = VI.number
    assert (f"Trong tổng số {n(province['villages'])} thôn, bản thuộc "
            f"{n(province['communes'])} xã, phường, có {n(province['no_signal'])} thôn, bản "
            f"chưa có sóng di động, {n(province['only_2g'])} thôn, bản chỉ có sóng 2G") in text
    served = plan["newly_served"]["any"]
    assert (f"đưa băng rộng di động (4G) hoặc cáp quang đến {n(served['villages'])} thôn, bản "
            f"với {n(served['people'])} người, trong đó "
            f"{n(round(served['ethnic_minority_people']))} người dân tộc thiểu số") in text
    assert f"khoảng {VI.money(plan['cost_to_close_all_vnd'])}" in text
    # satellite access: its own sentence, a stop-gap at a lower service level
    satellite = plan["newly_served"]["satellite_access"]
    n_access = plan["items"]["satellite_access"]
    assert n_access > 0 and plan["cost_satellite_access_vnd"] > 0  # the demo buys some
    assert (f"Ngoài ra, {n(n_access)} điểm truy nhập Internet qua vệ tinh (Wi-Fi), kinh phí "
            f"{VI.money(plan['cost_satellite_access_vnd'])}, đưa Internet đến "
            f"{n(satellite['villages'])} thôn, bản ({n(satellite['people'])} người)") in text
    assert "giải pháp tạm thời, mức dịch vụ thấp hơn" in text
    targets = _table_after(document, "Bảng 1.")
    expected = [(r["indicator"], f"{r['actual']} ({r['count']})", r["target"], r["short"])
                for r in target_rows(summary["indicators"]["targets"], VI)]
    assert [tuple(c.text for c in row.cells) for row in targets.rows[1:]] == expected
    by_kind = _table_after(document, "Bảng 3.")
    rows = [[c.text for c in row.cells] for row in by_kind.rows[1:]]
    items = pd.read_csv(run["out"] / "plan.csv", encoding="utf-8-sig")
    millions = [n(round(plan[k] / 1e6)) for k in ("cost_used_vnd", "cost_satellite_access_vnd")]
    # the two service levels do not add up: the total gives items and cost only
    assert rows[-1] == ["Tổng cộng", n(len(items)), millions[0], "", "", ""]
    assert rows[-2] == [VI.label("plan_kind", "satellite_access")
                        + ": mức dịch vụ thấp hơn, không phải 4G", n(n_access), millions[1],
                        n(satellite["villages"]), n(satellite["people"]),
                        n(satellite["ethnic_minority_people"])]
    assert rows[-3] == ["Cộng băng rộng di động (4G) và cáp quang",
                        n(plan["items"]["sites"] + plan["items"]["fibre_extensions"]),
                        n(round((plan["cost_mobile_vnd"] + plan["cost_fibre_vnd"]) / 1e6)),
                        n(served["villages"]), n(round(served["people"])),
                        n(round(served["ethnic_minority_people"]))]
    kinds = {row[0]: row for row in rows[:-3]}
    assert VI.label("plan_technology", "satellite_access") not in kinds
    for column, key in ((3, "villages"), (4, "people")):  # sites: the mobile villages
        mobile = sum(int(c[column].replace(".", "")) for k, c in kinds.items()
                     if k != VI.label("plan_technology", "fibre"))
        assert mobile == round(plan["newly_served"]["mobile"][key])
        assert int(kinds[VI.label("plan_technology", "fibre")][column].replace(".", "")) == \
            round(plan["newly_served"]["fibre"][key])
    # Appendix II: every plan item by its id, 4G and fibre first, then satellite access
    # apart, each table's costs adding up to the plan's, then the plan's total
    full, access = _table_after(document, "Phụ lục II."), _table_after(
        document, "Điểm truy nhập Internet qua vệ tinh (Wi-Fi): mức dịch vụ thấp hơn")
    is_access = items["kind"] == "satellite_access"
    assert [r.cells[0].text for r in full.rows[1:-1]] == items.loc[~is_access, "item_id"].tolist()
    assert [r.cells[0].text for r in access.rows[1:-1]] == items.loc[is_access, "item_id"].tolist()
    assert full.rows[-1].cells[-1].text == n(round(
        (plan["cost_mobile_vnd"] + plan["cost_fibre_vnd"]) / 1e6))
    assert access.rows[-1].cells[-1].text == millions[1]
    assert f"Tổng kinh phí của kế hoạch: {millions[0]} triệu đồng." in text
    assert "điểm truy nhập Internet qua vệ tinh (hình tròn màu vàng)" in text


def test_proposal_without_a_plan_states_the_current_state(tmp_path):
    import geo_dx
    from geo_dx.config import TargetsConfig
    from geo_dx.indicators import indicator_summary
    from geo_dx.run.proposal import write_proposal
    from geo_dx.run.report import build_summary

    demo = geo_dx.load_demo()
    gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
    per_commune = geo_dx.summarise_communes(gaps, demo.communes)
    summary = build_summary(gaps, per_commune, title="Tỉnh thử", extra={
        "indicators": indicator_summary(gaps, TargetsConfig(fibre_village_share=0.9))})
    path = write_proposal(tmp_path / "p.docx", summary=summary, villages=gaps,
                          communes=per_commune)
    text = _docx_text(path)
    assert "Chưa có ngân sách cho lần rà soát này: báo cáo chỉ nêu hiện trạng." in text
    assert "I. HIỆN TRẠNG HẠ TẦNG SỐ" in text and "Phụ lục I." in text
    assert "Phụ lục II." not in text and "V. PHẦN CÒN LẠI" not in text
    assert len(docx.Document(str(path)).inline_shapes) == 0


def test_workbook_is_a_handout(run):
    summary = run["summary"]
    plan = summary["plan"]
    book = openpyxl.load_workbook(run["out"] / "priority.xlsx")
    assert book.sheetnames == ["Chỉ tiêu", "Chỉ tiêu theo xã, phường", "Tổng hợp theo xã, phường",
                               "Thôn, bản ưu tiên", "Kế hoạch", "Kế hoạch theo xã, phường",
                               "Giả định", "Thông tin"]
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert setup.orientation == "landscape" and int(setup.paperSize) == 9, sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert setup.fitToWidth in (None, 1) and setup.fitToHeight == 0, sheet.title
        assert summary["title"] in sheet.oddHeader.left.text
        assert "&P" in sheet.oddFooter.center.text
        if sheet.title != "Thông tin":
            assert sheet.print_title_rows == "$1:$1", sheet.title

    def totals(name: str) -> dict:
        rows = list(book[name].iter_rows(values_only=True))
        assert rows[-1][0] == "Tổng cộng", name
        return dict(zip(rows[0], rows[-1], strict=True))

    costs = totals("Kế hoạch")
    assert costs["Chi phí (triệu đồng)"] == pytest.approx(plan["cost_used_vnd"] / 1e6)
    assert costs["Số người được phục vụ"] is None  # a village served twice would count twice
    by_commune = totals("Kế hoạch theo xã, phường")
    served = plan["newly_served"]
    assert by_commune["Thôn, bản được phục vụ mới"] == served["any"]["villages"]
    assert by_commune["Trong đó: băng rộng di động"] == served["mobile"]["villages"]
    assert by_commune["Trong đó: cáp quang"] == served["fibre"]["villages"]
    assert by_commune["Số người được phục vụ"] == pytest.approx(served["any"]["people"])
    assert by_commune["Chi phí (triệu đồng)"] == pytest.approx(plan["cost_used_vnd"] / 1e6)
    indicators = totals("Chỉ tiêu theo xã, phường")
    assert indicators["Chưa có sóng di động"] == summary["indicators"]["province"]["no_signal"]
    assert totals("Tổng hợp theo xã, phường")["Số thôn, bản"] == summary["totals"]["villages"]
    # the priority list says which item serves a village
    villages = pd.read_excel(run["out"] / "priority.xlsx", sheet_name="Thôn, bản ưu tiên")
    planned = villages["Hạng mục trong kế hoạch"].dropna()
    items = set(pd.read_csv(run["out"] / "plan.csv", encoding="utf-8-sig")["item_id"])
    # every village the plan serves, at full service (4G, fibre) or with satellite access only
    only_satellite = planned[planned.map(lambda c: all(i.startswith("S") for i in c.split(";")))]
    satellite = served["satellite_access"]["villages"]
    assert len(planned) - len(only_satellite) == served["any"]["villages"]
    assert 0 < len(only_satellite) <= satellite
    assert {i for cell in planned for i in cell.split(";")} <= items
    csv = pd.read_csv(run["out"] / "priority.csv", encoding="utf-8-sig")
    assert csv["plan_item"].notna().sum() == len(planned)

    rows = list(book["Giả định"].iter_rows(values_only=True))[1:]
    groups = {r[0] for r in rows}
    assert groups == {"Trọng số ưu tiên", "Đơn giá", "Ngân sách", "Tiêu chí và mô hình",
                      "Độ tin cậy", "Nguồn số liệu", "Phần mềm"}
    costs = [r for r in rows if r[0] == "Đơn giá"]
    assert len(costs) == len(fields(PlanCostsConfig)) and {r[3] for r in costs} == {"tham khảo"}
    assert all(any(ch in r[1] for ch in "ăâđêôơưạảấầẩậắằẳặẹẻẽếềểệịọỏốồổộớờởợụủứừửự")
               for r in costs), [r[1] for r in costs]  # every cost named in Vietnamese
    assert ("Ngân sách", "Ngân sách", "30,0 tỷ đồng", None) in rows
    weights = {r[1]: r[2] for r in rows if r[0] == "Trọng số ưu tiên"}
    assert weights["Mức độ xa xôi, cách trở"] == VI.percent(summary["scoring"]["weights"][
        "remoteness"])
    sources = [r for r in rows if r[0] == "Nguồn số liệu"]
    assert {r[2] for r in sources} >= {"villages.gpkg", "communes.gpkg", "dem.tif"}
    assert all(re.fullmatch(r"tệp ngày \d\d/\d\d/\d{4}", r[3]) for r in sources)
    assert any(r[0] == "Phần mềm" and r[2] == summary["generator"] for r in rows)
    about = book["Thông tin"]
    assert about["B2"].is_date and about["A2"].value == "Ngày lập"


def test_every_layer_has_a_vietnamese_style_and_aliases(run):
    with sqlite3.connect(run["out"] / "villages.gpkg") as db:
        styles = dict(db.execute("SELECT f_table_name, styleQML FROM layer_styles "
                                 "WHERE useAsDefault"))
        layers = {r[0] for r in db.execute("SELECT table_name FROM gpkg_geometry_columns")}
    assert set(styles) == layers == {"villages", "communes", "coverage", "clusters", "towns",
                                     "roads", "plan_sites", "plan_fibre"}
    for layer, qml in styles.items():
        root = ET.fromstring(qml)
        aliases = {a.get("field"): a.get("name") for a in root.findall("aliases/alias")}
        assert aliases, layer
        assert all(a and not _english(a) for a in aliases.values()), (layer, aliases)
    aliases = {a.get("field"): a.get("name")
               for a in ET.fromstring(styles["villages"]).findall("aliases/alias")}
    assert aliases["gap_class"] == "Dịch vụ còn thiếu"
    assert aliases["plan_item"] == "Hạng mục trong kế hoạch"
    labels = {c.get("value"): c.get("label") for c in ET.fromstring(styles["plan_sites"])
              .findall("renderer-v2/categories/category")}
    assert labels["new_site"] == "Xây mới trạm BTS 4G"
    towns = {c.get("value"): c.get("label") for c in ET.fromstring(styles["towns"])
             .findall("renderer-v2/categories/category")}
    assert towns == {"capital": "Trung tâm tỉnh", "commune_seat": "Trung tâm xã, phường"}
    coverage = {c.get("value"): c.get("label") for c in ET.fromstring(styles["coverage"])
                .findall("renderer-v2/categories/category")}
    assert coverage["4g"] == "Trạm 4G và vùng phủ"  # as the map's legend says
