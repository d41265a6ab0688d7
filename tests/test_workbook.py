"""priority.xlsx read back with openpyxl: typed cells, Vietnamese headers, formulas neutralised."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo_dx.run.workbook import write_workbook

openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is in the dev extras")


def _villages() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "village_id": ["v1", "v2", "v3", "v4"],
            "village_name": ["=HYPERLINK(\"http://x\",\"bấm\")", "Bản Nà", "+1 Bản Hua", "Bản Ok"],
            "commune_id": ["c1", "c1", "c2", "c2"],
            "commune_name": ["Xã Sín Lịch", "Xã Sín Lịch", "@Xã Na Hỏm", "@Xã Na Hỏm"],
            "gap_class": ["no_mobile", "no_fibre_no_mobile", "no_fibre", "none"],
            "has_fibre": [True, False, False, True],
            "has_mobile_broadband": [False, False, True, True],
            "mobile_technology": ["2g", "none", "4g", "4g"],
            "score": [71.25, 90.6, 40.0, np.nan],
            "rank": pd.array([2, 1, 3, pd.NA], dtype="Int64"),
            "reason": ["-chỉ có sóng 2G.", "Không có sóng di động.", "Chưa có cáp quang.", None],
            "missing_components": ["poverty", "", "ethnic,poverty", None],
            "population": [430.0, 1650.0, np.nan, 90.0],
            "ethnic_minority_share": [0.996, 1.0, 0.2, 0.1],
            "especially_difficult": [True, False, False, False],
            "mobile_source": [None, None, "modelled", "measured"],
            "nearest_mobile_m": [1630.4, 5200.0, 100.0, 50.0],
            "travel_time_h": [1.25, np.inf, 0.5, 0.1],  # inf: no way there
            "mobile_blocked_by": ["SYNS0042", None, None, None],
            "obstacle_elevation_m": [1720.0, np.nan, np.nan, np.nan],
        },
        geometry=[Point(103.0 + i / 100, 21.4) for i in range(4)],
        crs=4326,
    )


def _communes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"commune_id": ["c1", "c2"], "commune_name": ["Xã Sín Lịch", "=cmd|' /C calc'!A0"],
         "villages": [2, 2], "with_gap": [2, 1], "without_fibre": [1, 1],
         "without_mobile_broadband": [2, 0], "without_both": [1, 0], "gap_share": [1.0, 0.5]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326,
    )


def _rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def test_vietnamese_workbook_has_typed_cells_frozen_filtered_headers(tmp_path) -> None:
    path = write_workbook(tmp_path / "priority.xlsx", _villages(), _communes(),
                          title="Tỉnh mô phỏng", made=dt.date(2026, 11, 23))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Tổng hợp theo xã, phường", "Thôn, bản ưu tiên", "Giả định",
                               "Thông tin"]
    communes, villages, _assumptions, about = (book[n] for n in book.sheetnames)

    header = [c.value for c in villages[1]]
    assert header[:6] == ["Thứ tự ưu tiên", "Thôn, bản", "Xã, phường", "Dịch vụ còn thiếu",
                          "Điểm ưu tiên (0-100)", "Lý do ưu tiên"]
    rows = _rows(villages)[1:]
    totals = rows.pop()
    assert len(rows) == 3  # gap villages only, in priority order, then the totals row
    assert totals[0] == "Tổng cộng" and totals[header.index("Dân số")] == 430 + 1650
    col = {name: i for i, name in enumerate(header)}
    assert [r[col["Thứ tự ưu tiên"]] for r in rows] == [1, 2, 3]
    first, second = rows[0], rows[1]
    assert first[col["Thôn, bản"]] == "Bản Nà"
    assert first[col["Dịch vụ còn thiếu"]] == "Chưa có cáp quang, chưa có băng rộng di động"
    assert second[col["Công nghệ di động tốt nhất"]] == "Chỉ có 2G (không phải băng rộng)"
    assert second[col["Thôn, bản đặc biệt khó khăn"]] == "Có"
    assert second[col["Thiếu số liệu"]] == "Tỷ lệ hộ nghèo"
    assert second[col["Trạm BTS bị địa hình che chắn"]] == "SYNS0042"
    # numbers are numbers, so a Vietnamese-locale spreadsheet shows 0,996 (never 996)
    share = villages.cell(row=3, column=col["Tỷ lệ đồng bào dân tộc thiểu số"] + 1)
    assert share.data_type == "n" and share.value == pytest.approx(0.996)
    assert share.number_format == "0%"
    score = villages.cell(row=3, column=col["Điểm ưu tiên (0-100)"] + 1)
    assert isinstance(score.value, float) and score.value == pytest.approx(71.25)
    assert villages.cell(row=3, column=col["Khoảng cách đến trạm BTS 3G/4G gần nhất (m)"] + 1
                         ).value == 1630
    assert villages.cell(row=4, column=col["Dân số"] + 1).value is None  # missing stays blank
    hours = col["Thời gian đi đến trung tâm gần nhất (giờ)"] + 1
    assert villages.cell(row=2, column=hours).value is None  # unreachable: blank, not an error
    assert villages.cell(row=3, column=hours).value == pytest.approx(1.25)
    # formulas neutralised: stored as text with a leading quote, never as a formula
    name = villages.cell(row=3, column=col["Thôn, bản"] + 1)
    assert name.data_type == "s" and name.value == "'=HYPERLINK(\"http://x\",\"bấm\")"
    assert villages.cell(row=4, column=col["Thôn, bản"] + 1).value == "'+1 Bản Hua"
    assert second[col["Lý do ưu tiên"]] == "'-chỉ có sóng 2G."
    for sheet in (communes, villages):
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref is not None and sheet.auto_filter.ref.startswith("A1:")
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)

    assert [c.value for c in communes[1]][:3] == [
        "Xã, phường", "Số thôn, bản", "Số thôn, bản chưa có cáp quang hoặc băng rộng di động"]
    assert _rows(communes)[-1][:3] == ("Tổng cộng", 4, 3)
    assert communes.cell(row=3, column=1).value == "'=cmd|' /C calc'!A0"
    gap_share = communes.cell(row=3, column=7)
    assert gap_share.value == pytest.approx(0.5) and gap_share.number_format == "0.0%"
    assert communes.cell(row=2, column=2).value == 2 and communes.cell(row=2, column=2).data_type \
        == "n"
    assert communes.column_dimensions["A"].width >= 12
    assert villages.column_dimensions["F"].width == pytest.approx(70, abs=1)  # reasons get room

    about_rows = dict(_rows(about))
    assert about_rows["Ngày lập"] == dt.datetime(2026, 11, 23)  # a date cell, not text
    assert about.cell(row=2, column=2).is_date
    assert about_rows["Tiêu đề"] == "Tỉnh mô phỏng"


def test_english_workbook_and_plan_sheet(tmp_path) -> None:
    plan = pd.DataFrame({"item": [1, 2], "kind": ["site", "fibre"], "commune_name": ["A", "=B"],
                         "cost_vnd": [1.5e9, 2.25e9], "villages_connected": [3, 4]})
    path = write_workbook(tmp_path / "p.xlsx", _villages(), _communes(), plan=plan,
                          language="en")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Communes", "Priority villages", "Plan", "Assumptions", "About"]
    rows = _rows(book["Plan"])
    assert rows[0] == ("item", "Works", "Commune", "Cost (million VND)", "villages_connected")
    assert rows[1] == (1, "site", "A", 1500, 3)  # costs in million VND
    assert rows[-1] == ("Total", None, None, 3750, None)
    assert rows[2][2] == "'=B"
    assert book["Priority villages"]["D2"].value == "No fibre, no mobile broadband"
    assert book["Plan"].freeze_panes == "A2"


def test_a_failed_write_keeps_the_previous_workbook(tmp_path, monkeypatch) -> None:
    import geo_dx.run.workbook as workbook

    path = tmp_path / "p.xlsx"
    path.write_bytes(b"previous")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(workbook, "_about_sheet", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_workbook(path, _villages(), _communes())
    assert path.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["p.xlsx"]
