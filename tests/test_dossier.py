"""The commune dossier and the index: plan items, what the plan does for each village,
the documents the index leads with (tiny hand-built cases)."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from test_maps import TITLE, make_communes, make_coverage, make_villages

from geo_dx.i18n import translator
from geo_dx.maps.dossier import plan_rows, plan_table
from geo_dx.maps.pages import commune_page_names, page_words, village_row
from geo_dx.maps.write import write_maps
from geo_dx.schema import GAP_COLOURS


def _plan() -> pd.DataFrame:
    return pd.DataFrame({
        "rank": [1, 2, 3], "item_id": ["M1", "F1", "M2"],
        "kind": ["new_site", "fibre", "upgrade"],
        "lon": [103.1, 103.2, np.nan], "lat": [21.4, 21.5, np.nan],
        "site_ref": [None, None, "BTS-17"],
        "cost_vnd": [1.5e9, 2.25e9, 0.5e9],
        "villages_served": ["v01;v02", "v02;v03", "v05"],
        "village_names": ["Bản A;Bản B", "Bản B;Bản C", "Bản D"],
        "communes": ["Xã Một", "Xã Một;Xã Hai", "Xã Hai"],
        "people_served": [300, 500, 120],
    })


def test_plan_table_reads_in_words_and_totals_by_hand():
    table, totals = plan_table(_plan(), translator("vi"))
    assert list(table.columns) == ["rank", "item_id", "kind", "location", "cost_vnd",
                                   "village_names", "communes", "people_served"]
    assert table["location"].tolist() == ["21.40000, 103.10000", "21.50000, 103.20000",
                                          "BTS-17"]
    assert table["communes"].tolist()[1] == "Xã Một, Xã Hai"
    # 1.5 + 2.25 + 0.5 bn; Bản A, B, C, D (B counted once); 300 + 500 + 120 people
    assert totals == {"items": 3, "cost_vnd": 4.25e9, "villages": 4, "access_villages": 0,
                      "people_served": 920.0}


def test_plan_rows_of_a_commune_are_the_items_serving_its_villages():
    rows = plan_rows(_plan(), "A", pd.DataFrame({"village_id": ["v03", "v04"]}))
    assert rows["item_id"].tolist() == ["F1"]


def test_a_village_row_says_its_item_year_or_the_plan_answer():
    words = page_words("vi")
    base = {"gap_class": "no_mobile", "village_name": "Bản A"}
    assert village_row({**base, "plan_item": "M3", "plan_year": 2027.0}, words,
                       GAP_COLOURS)["plan"] == "M3 (năm 2027)"
    answer = "Phương án rẻ nhất: trạm mới, 1,6 tỷ đồng"
    row = village_row({**base, "plan_item": None, "plan_answer": answer}, words, GAP_COLOURS)
    assert row["plan"] is None and row["plan_answer"] == answer
    # before plan_item exists, planned_by (ids ;-separated)
    assert village_row({**base, "planned_by": "M1;F2"}, words, GAP_COLOURS)["plan"] == \
        "M1, F2"


def _run(tmp_path, *, with_files=()):
    villages = make_villages()
    villages["plan_item"] = np.where(villages["village_id"].isin(["v01", "v02"]), "M1", None)
    villages["plan_answer"] = np.where(villages["village_id"] == "v03",
                                       "Chưa có phương án trong tầm với", None)
    for name in with_files:
        (tmp_path / name).write_bytes(b"")
    plan = gpd.GeoDataFrame(_plan().iloc[:2], geometry=[
        shapely.Point(500_000 + 3_000, 2_360_000 + 4_000),
        shapely.LineString([(500_000, 2_360_000 + 9_000), (503_000, 2_369_000)])],
        crs="EPSG:32648")
    write_maps(tmp_path, villages, make_communes(), make_coverage(), title=TITLE,
               plan_items=plan)
    return tmp_path


def test_index_leads_with_the_workbook_proposal_and_plan(tmp_path):
    out = _run(tmp_path, with_files=("priority.xlsx", "de_xuat_dau_tu.docx", "plan.csv",
                                     "budget_curve.png", "summary.json", "priority.csv"))
    page = (out / "index.html").read_text(encoding="utf-8")
    order = [page.index(s) for s in ('href="priority.xlsx"', 'href="de_xuat_dau_tu.docx"',
                                     'href="plan.csv"', 'href="budget_curve.png"',
                                     "Tệp dữ liệu cho phần mềm", 'href="priority.csv"',
                                     "thôn, bản cần ưu tiên kết nối trước")]
    assert order == sorted(order)
    assert "mã UTF-8, phân cách bằng dấu phẩy, dấu chấm thập phân" in page
    # the top villages say what the plan does for them
    assert "<th>Trong kế hoạch</th>" in page and "Chưa có phương án trong tầm với" in page


def test_index_links_only_the_files_there(tmp_path):
    page = (_run(tmp_path, with_files=("priority.xlsx",)) / "index.html").read_text("utf-8")
    assert 'href="priority.xlsx"' in page
    assert "de_xuat_dau_tu.docx" not in page and "plan.csv" not in page


def test_dossier_lists_its_plan_with_totals_and_maps_its_items(tmp_path):
    out = _run(tmp_path)
    name = commune_page_names(["A"], ["Xã Mường Phăng"])["A"]
    page = (out / "communes" / name).read_text(encoding="utf-8")
    plan = page[page.index('id="geodx-plan"'):]
    assert "Tổng cộng: 2 hạng mục" in plan and "3.750.000.000" in plan  # 1.5 + 2.25 bn
    assert "3 thôn, bản" in plan  # Bản A, B, C
    assert "Xã Một, Xã Hai" in plan and "21.40000, 103.10000" in plan
    # the village table: v01 and v02 in M1, v03 with the plan's answer
    table = page[page.index("geodx-village-table"):page.index('id="geodx-plan"')]
    assert table.count(">M1<") == 2 and "Chưa có phương án trong tầm với" in table
    # the commune map draws its own plan items
    assert '"label":"M1"' in page and '"label":"F1"' in page


def _with_access() -> pd.DataFrame:
    """A site serving Bản A and B, satellite access for Bản B (already served by the
    site) and for Bản E (nothing else reaches it)."""
    plan = _plan().iloc[:1]
    access = pd.DataFrame({
        "rank": [2, 3], "item_id": ["S1", "S2"], "kind": ["satellite_access"] * 2,
        "service": ["satellite_hotspot"] * 2, "lon": [103.3, 103.4], "lat": [21.6, 21.7],
        "cost_vnd": [5e7, 5e7], "capex_vnd": [5e7, 5e7], "opex_vnd_per_year": [2.52e7] * 2,
        "power": ["grid", "solar"], "villages_served": ["v02", "v04"],
        "village_names": ["Bản B", "Bản E"], "communes": ["Xã Một", "Xã Hai"],
        "people_served": [200, 80]})
    return pd.concat([plan, access], ignore_index=True)


def test_plan_table_counts_satellite_access_villages_apart():
    table, totals = plan_table(_with_access(), translator("vi"))
    assert table["kind"].tolist()[1] == "Điểm truy nhập Internet qua vệ tinh (Wi-Fi)"
    # 4G: Bản A, B; satellite access only: Bản E (Bản B has 4G from M1)
    assert (totals["items"], totals["villages"], totals["access_villages"]) == (3, 2, 1)
    assert totals["cost_vnd"] == 1.6e9


def test_a_village_row_says_satellite_access_is_not_4g():
    words = page_words("vi")
    base = {"village_id": "v1", "village_name": "Bản A", "gap_class": "no_mobile"}
    assert village_row({**base, "plan_item": "S3"}, words, GAP_COLOURS)["plan"] == \
        "S3 (Wi-Fi qua vệ tinh, không phải 4G)"
    assert village_row({**base, "plan_item": "M12;S4"}, words, GAP_COLOURS)["plan"] == \
        "M12, S4 (Wi-Fi qua vệ tinh, không phải 4G)"
    assert village_row({**base, "plan_item": "M1;F2"}, words, GAP_COLOURS)["plan"] == "M1, F2"


def test_dossier_counts_satellite_access_apart_and_draws_it_without_a_line(tmp_path):
    villages = make_villages()
    villages["plan_item"] = villages["village_id"].map({"v01": "M1", "v02": "M1;S1",
                                                        "v04": "S2"})
    at = villages.set_index("village_id").geometry
    plan = gpd.GeoDataFrame(_with_access(), geometry=[
        shapely.Point(500_000 + 3_000, 2_360_000 + 4_000), at["v02"], at["v04"]],
        crs="EPSG:32648")
    write_maps(tmp_path, villages, make_communes(), make_coverage(), title=TITLE,
               plan_items=plan)
    name = commune_page_names(["A"], ["Xã Mường Phăng"])["A"]
    page = (tmp_path / "communes" / name).read_text(encoding="utf-8")
    section = page[page.index('id="geodx-plan"'):]
    assert ("2 thôn, bản; thêm 1 thôn, bản chỉ có Internet vệ tinh (Wi-Fi, không phải 4G)"
            in section)
    table = page[page.index("geodx-village-table"):page.index('id="geodx-plan"')]
    assert ">M1, S1 (Wi-Fi qua vệ tinh, không phải 4G)<" in table
    # the commune map: satellite access among the access points, lines only from M1
    payload = json.loads(re.search(r"\(function \(data, group, map\).*?\}\)\((\{.*?\}), ",
                                   page, re.S).group(1))
    assert [a["label"] for a in payload["access"]] == ["S1", "S2"]
    assert [s["label"] for s in payload["sites"]] == ["M1"]
    assert len(payload["links"]) == 2  # M1 to Bản A and Bản B, none for S1, S2
    row = next(r for r in payload["legend"]["rows"] if r["kind"] == "plan-access")
    assert row["label"] == "Điểm truy nhập Internet qua vệ tinh (Wi-Fi)"
    assert row["color"] not in {r["color"] for r in payload["legend"]["rows"] if r is not row}
    popup = payload["access"][1]["popup"]
    for words in ("Dịch vụ: Điểm Wi-Fi qua vệ tinh (không phải 4G)",
                  "Thiết bị đầu cuối và lắp đặt 50 triệu đồng, sau đó 25,2 triệu đồng mỗi năm",
                  "Nguồn điện: Điện mặt trời"):
        assert words in popup, (words, popup)
    assert "Trạm BTS" not in popup and "4G," not in popup
