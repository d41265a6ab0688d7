"""The plan's schedule as people read it (geo_dx.run.plan_schedule): the console block of
format_plan, the workbook's schedule sheet and the proposal's Table 4, checked against the
summary and, on the demo, against plan.csv re-read."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo_dx.cli import main
from geo_dx.i18n import CODE_LABELS, translator
from geo_dx.plan.technology import SERVICE
from geo_dx.run.plan_outputs import format_plan
from geo_dx.run.plan_schedule import schedule_lines, schedule_table
from geo_dx.run.workbook import write_workbook
from tests.test_workbook import _communes, _villages

openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is in the dev extras")
docx = pytest.importorskip("docx", reason="python-docx is a core dependency")

VI, EN = translator("vi"), translator("en")


def _plan(**extra) -> dict:
    """A finished two-year plan's summary, as format_plan reads it."""
    return {
        "budget_vnd": 20e9, "cost_used_vnd": 19.6e9, "mobile_gap_villages": 86,
        "fibre_gap_villages": 261, "objective": 100.0, "greedy_objective": 90.0,
        "status": "optimal", "unservable": {"mobile": 0, "fibre": 0},
        "cost_to_close_all_vnd": 350.7e9,
        "newly_served": {k: {"villages": n, "people": 1000, "ethnic_minority_people": 900}
                         for k, n in (("mobile", 21), ("fibre", 8), ("any", 27))},
        "schedule": [
            {"year": 2026, "budget_vnd": 10e9, "available_vnd": 10e9, "spent_vnd": 9.9e9,
             "carried_vnd": 0.1e9, "items": 12, "status": "optimal",
             "villages_by_technology": {"upgrade": 18, "macro_microwave_backhaul": 3,
                                        "satellite_access": 5}},
            {"year": 2027, "budget_vnd": 10e9, "available_vnd": 10.1e9, "spent_vnd": 9.7e9,
             "carried_vnd": 0.4e9, "items": 1, "status": "time limit reached",
             "villages_by_technology": {"fibre": 8}},
        ],
        **extra,
    }


LEFT = {"villages": 240, "mobile": 65, "fibre": 253, "cost_to_close_vnd": 331.1e9}
SATELLITE = {"villages": 5, "people": 1234, "ethnic_minority_people": 1200}


def test_the_console_block_gives_each_year_in_vietnamese():
    plan = _plan(left=LEFT, grid_power={"yes": 100, "no": 17, "unknown": 0})
    plan["newly_served"]["satellite_access"] = SATELLITE
    lines = format_plan(plan).splitlines()
    assert lines[3] == ("  Truy nhập vệ tinh       5 thôn, bản (1.234 người, trong đó 1.200 người "
                        "dân tộc thiểu số): điểm Wi-Fi qua vệ tinh, mức dịch vụ thấp hơn, "
                        "không tính là có 4G")
    assert ("  Thôn, bản vẫn chưa có đủ dịch vụ sau kế hoạch này: 240 (65 chưa có băng rộng "
            "di động, 253 chưa có cáp quang); kinh phí để kết nối: khoảng 331,1 tỷ đồng") in lines
    assert ("  Thôn, bản chưa có cáp quang hoặc băng rộng di động mà chưa có điện lưới: 17"
            in lines)
    start = lines.index("  Theo từng năm:")
    assert lines[start + 1:start + 3] == [
        "    2026: ngân sách 10,0 tỷ đồng, đã dùng 9,9 tỷ đồng, chuyển sang năm sau 100 triệu "
        "đồng; 12 hạng mục: nâng cấp trạm BTS hiện có lên 4G cho 18 thôn, bản; xây mới trạm "
        "BTS 4G, truyền dẫn viba cho 3 thôn, bản; điểm truy nhập Internet qua vệ tinh (Wi-Fi) "
        "cho 5 thôn, bản",
        "    2027: ngân sách 10,0 tỷ đồng, đã dùng 9,7 tỷ đồng, chuyển sang năm sau 400 triệu "
        "đồng; 1 hạng mục: kéo cáp quang cho 8 thôn, bản (hết thời gian giới hạn)"]
    assert lines[-1].startswith("  Đơn giá là giá trị mặc định")  # the warning stays last


def test_the_console_block_in_english_aligns_the_money_of_the_years():
    plan = _plan(left={**LEFT, "cost_to_close_vnd": None},
                 grid_power={"yes": 1, "no": 2, "unknown": 30})
    plan["schedule"][1]["spent_vnd"] = 10.1e9
    text = format_plan(plan, language="en")
    assert ("  Villages left without full service after this plan: 240 (65 without mobile "
            "broadband, 253 without fibre)\n") in text  # no cost known: none invented
    assert ("  Villages without fibre or mobile broadband that have no grid power: 2 (30 not "
            "known)\n") in text
    years = text.split("  By year:\n")[1].splitlines()[:2]
    assert years[0].startswith("    2026: budget 10.0 bn VND, spent  9.9 bn VND, carried over "
                               "100 million VND; 12 items: upgrade of an existing site to 4G "
                               "for 18 villages; new 4G site, microwave backhaul for 3 villages")
    assert years[1] == ("    2027: budget 10.0 bn VND, spent 10.1 bn VND, carried over 400 "
                        "million VND; 1 item: fibre extension for 8 villages (time limit "
                        "reached)")
    assert years[0].index("carried") == years[1].index("carried")


def test_a_plan_without_schedule_or_new_keys_prints_none_of_their_lines():
    plan = _plan(schedule=[])
    for language, words in (("vi", ("Theo từng năm", "Truy nhập vệ tinh", "vẫn chưa có đủ",
                                    "điện lưới")),
                            ("en", ("By year", "satellite access", "Villages left", "grid"))):
        text = format_plan(plan, language=language)
        assert not any(w in text for w in words), language
    # nothing to say: no satellite village, no village without grid power
    plan = _plan(grid_power={"yes": 5, "no": 0, "unknown": 3})
    plan["newly_served"]["satellite_access"] = {"villages": 0, "people": 0,
                                                "ethnic_minority_people": 0}
    assert "grid" not in format_plan(plan, language="en")
    assert "satellite access" not in format_plan(plan, language="en")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(sorted(SERVICE)), st.integers(0, 2000),
                                max_size=len(SERVICE)), min_size=1, max_size=5),
       st.sampled_from(["vi", "en"]))
def test_every_year_line_reads_back_to_its_counts(counts, language):
    tr = translator(language)
    years = [{"year": 2026 + i, "budget_vnd": 1e9 * i, "spent_vnd": 0.5e9 * i,
              "carried_vnd": 0.0, "items": sum(c.values()) // 7, "villages_by_technology": c}
             for i, c in enumerate(counts)]
    lines = schedule_lines({"schedule": years}, tr)
    assert len(lines) == len(years) + 1
    assert _read_back(lines[1:], tr) == {
        y["year"]: {k: n for k, n in y["villages_by_technology"].items() if n} for y in years}


def _read_back(lines: list[str], tr) -> dict[int, dict[str, int]]:
    """Year → technology → villages, parsed from the printed year lines."""
    label = {tr.label("plan_technology", c)[:1].lower() + tr.label("plan_technology", c)[1:]: c
             for c in CODE_LABELS["plan_technology"]}
    each = (r"(.+) cho ([\d.]+) thôn, bản" if tr.language == "vi"
            else r"(.+) for ([\d,]+) villages?")
    out: dict[int, dict[str, int]] = {}
    for line in lines:
        year, _, rest = line.strip().partition(": ")
        served = rest.split("; ", 1)[1].partition(": ")[2] if ": " in rest.split("; ", 1)[1] \
            else ""
        out[int(year)] = {}
        for part in filter(None, served.split("; ")):
            name, n = re.fullmatch(each, part).groups()
            out[int(year)][label[name]] = int(re.sub(r"\D", "", n))
    return out


def test_the_workbook_has_the_schedule_sheet_with_the_summary_figures(tmp_path):
    plan = _plan()
    table = pd.DataFrame({"item_id": ["M1", "F1"], "kind": ["new_site", "fibre"],
                          "technology": ["macro_microwave_backhaul", "=cmd|' /C calc'!A0"],
                          "year": [2026, 2027], "capex_vnd": [2.8e9, 1.2e9],
                          "cost_vnd": [2.8e9, 1.2e9]})
    path = write_workbook(tmp_path / "p.xlsx", _villages(), _communes(), plan=table,
                          summary={"plan": plan})
    book = openpyxl.load_workbook(path)
    assert book.sheetnames.index("Lịch đầu tư theo năm") == book.sheetnames.index("Kế hoạch") + 1
    sheet = book["Lịch đầu tư theo năm"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Năm thực hiện", "Ngân sách năm (triệu đồng)",
        "Kinh phí có thể dùng, gồm phần năm trước chuyển sang (triệu đồng)",
        "Đã dùng (triệu đồng)", "Chuyển sang năm sau (triệu đồng)", "Số hạng mục",
        "Thôn, bản được phục vụ: Nâng cấp trạm BTS hiện có lên 4G",
        "Thôn, bản được phục vụ: Xây mới trạm BTS 4G, truyền dẫn viba",
        "Thôn, bản được phục vụ: Điểm truy nhập Internet qua vệ tinh (Wi-Fi)",
        "Thôn, bản được phục vụ: Kéo cáp quang")
    for row, year in zip(rows[1:3], plan["schedule"], strict=True):
        counts = year["villages_by_technology"]
        assert row[:6] == pytest.approx((year["year"], year["budget_vnd"] / 1e6,
                                         year["available_vnd"] / 1e6, year["spent_vnd"] / 1e6,
                                         year["carried_vnd"] / 1e6, year["items"]))
        assert row[6:] == tuple(counts.get(c, 0) for c in (
            "upgrade", "macro_microwave_backhaul", "satellite_access", "fibre"))
    # totals: money and villages add up over the years; what is carried over does not
    assert rows[3] == pytest.approx(("Tổng cộng", 20e3, None, 19.6e3, None, 13, 18, 3, 5, 8))
    assert sheet["A2"].data_type == "n" and sheet["A2"].number_format == "0"  # 2026, not 2.026
    assert sheet["B2"].number_format == "#,##0"
    plan_sheet = list(book["Kế hoạch"].iter_rows(values_only=True))
    col = {name: i for i, name in enumerate(plan_sheet[0])}
    assert plan_sheet[1][col["Công nghệ"]] == "Xây mới trạm BTS 4G, truyền dẫn viba"
    assert plan_sheet[2][col["Công nghệ"]] == "'=cmd|' /C calc'!A0"  # neutralised
    assert plan_sheet[1][col["Vốn đầu tư (triệu đồng)"]] == 2800
    assert book["Kế hoạch"].cell(row=2, column=col["Năm thực hiện"] + 1).number_format == "0"

    english = openpyxl.load_workbook(write_workbook(
        tmp_path / "en.xlsx", _villages(), _communes(), plan=table, summary={"plan": plan},
        language="en"))
    assert [c.value for c in english["Investment by year"][1]][-1] == (
        "Villages served: Fibre extension")
    no_schedule = openpyxl.load_workbook(write_workbook(
        tmp_path / "one.xlsx", _villages(), _communes(), plan=table,
        summary={"plan": _plan(schedule=[])}))
    assert "Lịch đầu tư theo năm" not in no_schedule.sheetnames


def test_schedule_table_columns_follow_the_technologies_present():
    table = schedule_table(_plan())
    assert list(table.columns) == [
        "year", "budget_vnd", "available_vnd", "spent_vnd", "carried_vnd", "items",
        "villages_upgrade", "villages_macro_microwave_backhaul", "villages_satellite_access",
        "villages_fibre"]
    assert table["villages_fibre"].tolist() == [0, 8]
    assert schedule_table({}).empty and schedule_table({"schedule": None}).empty


@pytest.fixture(scope="module")
def scheduled_demo(tmp_path_factory) -> dict:
    """`geo-dx run --budget 2026=3e9,2027=3e9` on the demo: what it printed, its folder."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("schedule") / "demo"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["run", "--out", str(out), "--budget", "2026=3e9,2027=3e9", "-q"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {"out": out, "printed": printed.getvalue(), "plan": summary["plan"]}


def test_the_demo_console_prints_each_year_as_plan_csv_says(scheduled_demo):
    printed, out = scheduled_demo["printed"], scheduled_demo["out"]
    lines = printed.split("  Theo từng năm:\n")[1].splitlines()
    year_lines = [line for line in lines if re.match(r"    \d{4}: ", line)]
    items = pd.read_csv(out / "plan.csv", encoding="utf-8-sig")
    assert [int(line.split(":")[0]) for line in year_lines] == [2026, 2027]
    served = items.assign(village_id=items["villages_served"].fillna("").str.split(";")
                          ).explode("village_id")
    served = served[served["village_id"].astype(bool)]
    expected = {int(year): {str(t): int(n) for (_, t), n in group.items()}
                for year, group in served.groupby(["year", "technology"])["village_id"]
                .nunique().groupby(level=0)}
    assert _read_back(year_lines, VI) == expected
    assert sum(sum(v.values()) for v in expected.values()) > 0  # the demo buys something
    for line in year_lines:  # the money and the items are plan.csv's too
        year = int(line.split(":")[0])
        built = items[items["year"] == year]
        assert f"đã dùng {VI.money(built['cost_vnd'].sum())}, " in line
        assert f"; {len(built)} hạng mục" in line
        assert "ngân sách 3,0 tỷ đồng," in line


def test_the_demo_workbook_and_proposal_show_the_schedule(scheduled_demo):
    out, plan = scheduled_demo["out"], scheduled_demo["plan"]
    rows = list(openpyxl.load_workbook(out / "priority.xlsx")["Lịch đầu tư theo năm"]
                .iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [2026, 2027, "Tổng cộng"]
    assert [r[3] for r in rows[1:3]] == pytest.approx(
        [y["spent_vnd"] / 1e6 for y in plan["schedule"]])
    document = docx.Document(str(out / "de_xuat_dau_tu.docx"))
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "Năm")
    body = [[c.text for c in row.cells] for row in table.rows[1:]]
    assert [r[0] for r in body] == ["2026", "2027", "Tổng cộng"]
    for row, year in zip(body, plan["schedule"], strict=False):
        assert row[1:5] == [VI.number(round(year[k] / 1e6)) for k in
                            ("budget_vnd", "spent_vnd", "carried_vnd")] + [VI.number(
                                year["items"])]
    assert "Bảng 4. Lịch đầu tư theo năm" in "\n".join(p.text for p in document.paragraphs)


def test_a_site_popup_names_its_technology_by_its_label():
    import folium
    import geopandas as gpd
    import shapely

    from geo_dx.maps.plan_layer import plan_layer

    site = shapely.Point(103.0, 21.4)
    items = gpd.GeoDataFrame({
        "rank": [1, 2], "item_id": ["M1", "M2"], "kind": ["new_site", "new_site"],
        "technology": ["macro_microwave_backhaul", "4g"], "antenna_height_m": [30.0, 25.0],
        "cost_vnd": [2.8e9, 2.5e9], "village_names": ["Bản Phì", "Bản Nà"]},
        geometry=[site, site], crs=4326)
    m = folium.Map(location=(21.4, 103.0))
    plan_layer(items, items.iloc[:0][["item_id", "geometry"]], language="vi")(m)
    page = m.get_root().render()
    assert "Công nghệ, độ cao ăng-ten: Xây mới trạm BTS 4G, truyền dẫn viba, 30 m" in page
    assert "Công nghệ, độ cao ăng-ten: 4G, 25 m" in page  # a bare code as before
