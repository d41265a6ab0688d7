"""The field loop on the demo: compare a list, send forms out, bring measurements back, diff."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyxform.xls2xform import convert

from geo_dx.cli import main
from geo_dx.field_survey import read_survey
from geo_dx.run.readback import read_run

ODK_MAIN = ("SubmissionDate,start,end,place-village,place-gps-Latitude,place-gps-Longitude,"
            "place-gps-Altitude,place-gps-Accuracy,grid_power,households,photo,notes,"
            "meta-instanceID,KEY,SubmitterID,SubmitterName,AttachmentsPresent,"
            "AttachmentsExpected,Status,ReviewState,DeviceID,Edits,FormVersion")
ODK_TEST = "operator,network,signal_dbm,download_mbps,upload_mbps,PARENT_KEY,KEY"
KOBO_MAIN = ("start;end;place/village;place/gps;_place/gps_latitude;_place/gps_longitude;"
             "_place/gps_altitude;_place/gps_precision;grid_power;households;photo;notes;"
             "_id;_uuid;_submission_time;_validation_status;_index")
KOBO_TEST = ("test/operator;test/network;test/signal_dbm;test/download_mbps;"
             "test/upload_mbps;_index;_parent_table_name;_parent_index;_submission__uuid")


def _lonely_covered(villages: gpd.GeoDataFrame, n: int) -> gpd.GeoDataFrame:
    """``n`` villages with declared mobile coverage, none within 2.5 km of another village."""
    utm = villages.to_crs(villages.estimate_utm_crs())
    xy = np.c_[utm.geometry.x, utm.geometry.y]
    dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(dist, np.inf)
    ok = (villages["has_mobile_broadband"].astype(bool)
          & (villages["mobile_confidence"] == "declared") & (dist.min(axis=1) > 2500)
          & villages["location_issue"].isna())
    chosen = villages[ok].sort_values("village_id")
    picked = []
    for i in chosen.index:  # also far from each other
        if all(dist[villages.index.get_loc(i), villages.index.get_loc(j)] > 5000 for j in picked):
            picked.append(i)
        if len(picked) == n:
            break
    return villages.loc[picked]


def _answers(villages: gpd.GeoDataFrame) -> list[dict]:
    """Two visits per village on two days, two weak tests each; one visit without GPS."""
    visits = []
    for k, (_, v) in enumerate(villages.iterrows()):
        for day in (1, 2):
            visits.append({"uuid": f"uuid:{k}-{day}", "village": v["village_id"],
                           "lat": v.geometry.y, "lon": v.geometry.x, "acc": 4.5,
                           "start": f"2025-03-0{day}T08:1{k}:00.000+07:00",
                           "power": "yes" if k else "no", "households": 40 + k,
                           "tests": [("viettel", "4g", -121, 0.8, 0.2),
                                     ("vnpt", "none", None, None, None)]})
    visits.append({"uuid": "uuid:nogps", "village": villages["village_id"].iloc[0], "lat": None,
                   "lon": None, "acc": None, "start": "2025-03-01T09:00:00.000+07:00",
                   "power": "yes", "households": 12, "tests": [("mobifone", "3g", -90, 9, 2)]})
    return visits


def _cell(x: object) -> str:
    return "" if x is None else str(x)


def write_odk(folder: Path, visits: list[dict]) -> Path:
    main_rows, test_rows = [ODK_MAIN], [ODK_TEST]
    for v in visits:
        main_rows.append(",".join([
            "2025-03-05T10:00:00.000Z", v["start"], v["start"], v["village"], _cell(v["lat"]),
            _cell(v["lon"]), "812.5" if v["lat"] else "", _cell(v["acc"]), v["power"],
            str(v["households"]), "1712.jpg", '"ghi chú, có dấu phẩy"', v["uuid"], v["uuid"],
            "7", "Tổ CNS", "1", "1", "", "", "collect:abc", "0", "2025031"]))
        for n, t in enumerate(v["tests"], start=1):
            test_rows.append(",".join([*map(_cell, t), v["uuid"], f"{v['uuid']}/test[{n}]"]))
    path = folder / "khao_sat.csv"
    path.write_text("\n".join(main_rows) + "\n", encoding="utf-8")
    (folder / "khao_sat-test.csv").write_text("\n".join(test_rows) + "\n", encoding="utf-8")
    return path


def write_kobo(folder: Path, visits: list[dict]) -> Path:
    main_rows, test_rows = [KOBO_MAIN], [KOBO_TEST]
    t_index = 0
    for i, v in enumerate(visits, start=1):
        whole = f"{v['lat']} {v['lon']} 812.5 {v['acc']}" if v["lat"] else ""
        main_rows.append(";".join([
            v["start"], v["start"], v["village"], whole, _cell(v["lat"]), _cell(v["lon"]),
            "812.5" if v["lat"] else "", _cell(v["acc"]), v["power"], str(v["households"]),
            "1712.jpg", "ghi chú", str(1000 + i), v["uuid"].split(":")[1],
            "2025-03-05T10:00:00", "", str(i)]))
        for t in v["tests"]:
            t_index += 1
            test_rows.append(";".join([*map(_cell, t), str(t_index), "khao_sat", str(i),
                                       v["uuid"].split(":")[1]]))
    path = folder / "kobo.csv"
    path.write_text("\n".join(main_rows) + "\n", encoding="utf-8")
    (folder / "kobo-test.csv").write_text("\n".join(test_rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def disputed_three(demo_run, demo_villages, tmp_path_factory):
    folder = tmp_path_factory.mktemp("survey")
    chosen = _lonely_covered(demo_villages, 3)
    assert len(chosen) == 3
    visits = _answers(chosen)
    return chosen, write_odk(folder, visits), write_kobo(folder, visits)


def test_odk_central_and_kobo_exports_of_the_same_answers_read_the_same(disputed_three,
                                                                        demo_villages):
    chosen, odk, kobo = disputed_three
    ids = set(demo_villages["village_id"])
    a, b = (read_survey(odk, village_ids=ids, language="en"),
            read_survey(kobo, village_ids=ids, language="en"))
    columns = ["village_id", "technology", "operator", "network_shown", "rsrp_dbm",
               "download_kbps", "upload_kbps", "measured_at"]
    assert len(a.measurements) == 12  # 3 villages x 2 visits x 2 tests
    pd.testing.assert_frame_equal(a.measurements[columns], b.measurements[columns])
    assert np.allclose(np.c_[a.measurements.geometry.x, a.measurements.geometry.y],
                       np.c_[b.measurements.geometry.x, b.measurements.geometry.y])
    first = a.measurements.iloc[0]
    assert (first["technology"], first["operator"], first["rsrp_dbm"],
            first["download_kbps"], first["upload_kbps"]) == ("4g", "Viettel", -121.0, 800.0,
                                                               200.0)
    assert a.measurements["measured_at"].iloc[0].startswith("2025-03-01T08:10:00")
    none = a.measurements.iloc[1]  # the phone showed no network: no broadband, 0 kbps
    assert none["network_shown"] == "none" and none["download_kbps"] == 0
    pd.testing.assert_frame_equal(a.attributes.drop(columns="submission"),
                                  b.attributes.drop(columns="submission"))
    assert a.attributes["households"].tolist() == [40, 40, 41, 41, 42, 42]
    for got in (a, b):  # the visit without GPS and its test: listed, with the reason
        assert got.rejected["reason"].tolist() == ["no GPS point", "its visit was rejected"]


def test_bad_rows_are_listed_with_their_reason(tmp_path, demo_villages):
    v = demo_villages.iloc[0]
    visits = [{"uuid": f"uuid:{k}", "village": vid, "lat": v.geometry.y, "lon": v.geometry.x,
               "acc": acc, "start": "2025-03-01T08:00:00+07:00", "power": "yes",
               "households": hh, "tests": [test]}
              for k, (vid, acc, hh, test) in enumerate([
                  ("SYNV9999", 5, 10, ("viettel", "4g", -100, 5, 1)),
                  (v["village_id"], 120, 10, ("viettel", "4g", -100, 5, 1)),
                  (v["village_id"], 5, -3, ("viettel", "4g", -100, 5, 1)),
                  (v["village_id"], 5, 10, ("viettel", "4g", -10, 5, 1)),
                  (v["village_id"], 5, 10, ("viettel", "6g", -100, 5, 1))])]
    got = read_survey(write_odk(tmp_path, visits), village_ids=set(demo_villages["village_id"]),
                      language="en")
    reasons = got.rejected["reason"].tolist()
    assert reasons[:3] == ["village id 'SYNV9999' is not in the run",
                           "GPS accuracy 120 m is worse than 50 m",
                           "households '-3' is not a whole number of households"]
    assert reasons[3:6] == ["its visit was rejected"] * 3
    assert reasons[6] == "signal_dbm '-10' is outside -160..-20"
    assert reasons[7] == "network '6g' is none of 4g, 3g, 2g, none"
    assert len(got.measurements) == 0 and len(got.attributes) == 2


def test_measurements_against_declared_coverage_dispute_exactly_three_villages_and_diff_says_so(
        disputed_three, demo_run, tmp_path):
    chosen, odk, _kobo = disputed_three
    inputs = read_run(demo_run).summary["inputs"]
    after = tmp_path / "after"
    args = ["run", "--communes", inputs["communes"], "--villages", inputs["villages"],
            "--coverage", *inputs["coverage"], str(odk), "--dem", inputs["dem"],
            "--roads", inputs["roads"], "--towns", inputs["towns"], "--out", str(after), "-q",
            "--title", read_run(demo_run).summary["title"]]
    assert main(args) == 0
    run_b = read_run(after)
    disputed = set(run_b.villages.loc[run_b.villages["mobile_disputed"], "village_id"])
    assert disputed == set(chosen["village_id"])
    assert main(["diff", str(demo_run), str(after), "--out", str(tmp_path / "diff")]) == 0
    diff = pd.read_csv(tmp_path / "diff" / "diff.csv", encoding="utf-8-sig", dtype=str)
    moved = diff[diff["change"].isin(["gap_class", "disputed"])]
    assert set(moved["village_id"]) == set(chosen["village_id"])
    assert (moved[moved["change"] == "disputed"][["before", "after"]].values.tolist()
            == [["no", "yes"]] * 3)
    assert moved["evidence"].str.contains("weak tests within reach 0 on 0 day\\(s\\) -> 4 on "
                                          "2 day\\(s\\)").all()
    assert moved["evidence"].str.contains("coverage added: khao_sat.csv").all()
    assert set(diff["change"]) <= {"gap_class", "disputed", "rank_band"}
    # the same inputs and settings but the survey: no other village's score moved
    others = diff[~diff["village_id"].isin(chosen["village_id"])]
    assert not others["evidence"].str.contains("score").any(), others
    assert set(others["change"]) <= {"rank_band"} and others["evidence"].str.match(
        r"rank \d+ -> \d+; coverage added: khao_sat.csv").all(), others
    page = (tmp_path / "diff" / "diff.html").read_text(encoding="utf-8")
    # the change of the 3 villages and the totals row, in Vietnamese
    assert page.count("<td>Bị số liệu đo thực tế phản bác</td>") == 3 + 1
    assert "số lần đo sóng yếu gần thôn, bản: 0 lần trong 0 ngày -&gt; 4 lần trong 2 ngày" in page
    layer = gpd.read_file(tmp_path / "diff" / "diff.gpkg", layer="changed_villages")
    assert set(layer["village_id"]) == set(diff["village_id"])
    totals = pd.read_excel(tmp_path / "diff" / "diff.xlsx", sheet_name=0)
    assert totals.iloc[:, 1].tolist()[:2] == [1650, 86]  # before: villages, without mobile


def test_compare_list_of_the_analysis_itself_reports_no_difference(demo_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(demo_run, run)
    villages = read_run(run).villages
    gaps = villages[villages["gap_class"].isin(["no_mobile", "no_fibre_no_mobile"])]
    listed = pd.DataFrame({"STT": range(1, len(gaps) + 1), "Tên thôn, bản": gaps["village_name"],
                           "Xã": gaps["commune_name"]})
    path = tmp_path / "danh_sach.csv"
    listed.to_csv(path, sep=";", index=False, encoding="utf-8")
    assert main(["compare-list", str(run), str(path)]) == 0
    out = pd.read_csv(run / "list_comparison.csv", encoding="utf-8-sig", dtype=str)
    assert len(out) == 86 and set(out["category"]) == {"listed_gap"}
    assert out.columns.tolist() == ["list_row", "match_status", "village_id", "score",
                                    "runner_up", "category"]
    assert out["village_id"].tolist() == gaps["village_id"].tolist()
    totals = pd.read_excel(run / "list_comparison.xlsx", sheet_name=0)
    differences = totals[totals.iloc[:, 0].str.startswith("Số khác biệt")].iloc[0, 1]
    assert differences == 0
    assert 'id="list_comparison"' in (run / "index.html").read_text(encoding="utf-8")


def test_compare_list_review_round_trip_and_attribute_for_the_next_run(demo_run, tmp_path):
    from docx import Document

    villages = read_run(demo_run).villages
    pair = villages.iloc[[0, 1]]
    doc = Document()
    table = doc.add_table(rows=4, cols=2)
    for row, (a, b) in zip(table.rows, [("Tên bản", "Xã"),
                                        (pair["village_name"].iloc[0], pair["commune_name"]
                                         .iloc[0]),
                                        ("=HYPERLINK(\"x\")", pair["commune_name"].iloc[0]),
                                        (pair["village_name"].iloc[1], "Xã Không Tồn Tại")],
                           strict=True):
        row.cells[0].text, row.cells[1].text = a, b
    path = tmp_path / "ds.docx"
    doc.save(path)
    out = tmp_path / "out"
    assert main(["compare-list", str(demo_run), str(path), "--out", str(out), "--gap", "any",
                 "--as", "especially_difficult"]) == 0
    first = pd.read_csv(out / "list_comparison.csv", encoding="utf-8-sig", dtype=str)
    assert first["match_status"].tolist() == ["exact", "not_found", "not_found"]
    review = pd.read_excel(out / "list_comparison.xlsx", sheet_name="Cần xem lại")
    assert review.iloc[0, 1] == "'=HYPERLINK(\"x\")"  # neutralised
    review[review.columns[-1]] = ["không có", pair["village_id"].iloc[1]]
    review.to_excel(tmp_path / "review.xlsx", index=False)
    assert main(["compare-list", str(demo_run), str(path), "--out", str(out), "--gap", "any",
                 "--resolved", str(tmp_path / "review.xlsx")]) == 0
    final = pd.read_csv(out / "list_comparison.csv", encoding="utf-8-sig", dtype=str)
    assert final["match_status"].tolist() == ["exact", "reviewed", "reviewed"]
    assert final["village_id"].fillna("-").tolist() == [pair["village_id"].iloc[0], "-",
                                                         pair["village_id"].iloc[1]]
    assert final["category"].tolist()[1] == "unmatched"
    marked = gpd.read_file(out / "villages_especially_difficult.gpkg")
    assert marked["especially_difficult"].sum() == 1


def test_survey_forms_convert_with_pyxform_and_list_the_communes_villages(demo_run, tmp_path):
    assert main(["survey", str(demo_run), "--communes", "SYN04,SYN21", "--out",
                 str(tmp_path)]) == 0
    villages = read_run(demo_run).villages
    for commune in ("SYN04", "SYN21"):
        form = tmp_path / f"survey_{commune}.xlsx"
        xform = convert(xlsform=str(form)).xform
        assert 'type="geopoint"' in xform and f'id="geo_dx_survey_{commune}"' in xform
        assert '<instance id="villages">' in xform and 'nodeset="/data/test"' in xform
        choices = pd.read_excel(form, sheet_name="choices", dtype=str)
        listed = choices[choices["list_name"] == "villages"]
        own = villages[villages["commune_id"] == commune]
        assert sorted(listed["name"]) == sorted(own["village_id"])
        assert set(listed["gap_class"]) <= {"none", "no_fibre", "no_mobile",
                                            "no_fibre_no_mobile"}
        page = (tmp_path / f"checklist_{commune}.html").read_text(encoding="utf-8")
        assert page.count("<tr><td>") == len(own) and "<svg" in page and "@page" in page
    ranked = pd.read_csv(tmp_path / "measure_first.csv", encoding="utf-8-sig")
    assert ranked["value"].is_monotonic_decreasing
    assert set(ranked["commune_id"]) == {"SYN04", "SYN21"}


@pytest.mark.parametrize("argv, message", [
    (["compare-list", "no/run", "x.csv"], "no/run: not found"),
    (["survey", "{run}", "--communes", "NOPE", "--out", "{tmp}"], "NOPE not in"),
    (["compare-list", "{run}", "{tmp}/missing.xlsx"], "file not found"),
    (["compare-list", "{run}", "{run}/priority.csv", "--as", "Bad Name"], "--as was"),
    (["import-survey", "{run}", "{run}/priority.csv"], "no 'village' column"),
    (["diff", "{run}", "no/run"], "no/run: not found"),
])
def test_cli_errors_are_one_line_and_exit_2(argv, message, demo_run, tmp_path, capsys):
    argv = [a.format(run=demo_run, tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_an_odk_central_zip_and_a_kobo_workbook_read_like_their_csv_files(disputed_three,
                                                                          tmp_path):
    import zipfile

    _chosen, odk, kobo = disputed_three
    with zipfile.ZipFile(tmp_path / "khao_sat.zip", "w") as archive:
        archive.write(odk, "khao_sat.csv")
        archive.write(odk.with_name("khao_sat-test.csv"), "khao_sat-test.csv")
    with pd.ExcelWriter(tmp_path / "kobo.xlsx") as book:  # Kobo's XLS export: a sheet per repeat
        pd.read_csv(kobo, sep=";", dtype=str, keep_default_na=False).to_excel(
            book, sheet_name="khao_sat", index=False)
        pd.read_csv(kobo.with_name("kobo-test.csv"), sep=";", dtype=str,
                    keep_default_na=False).to_excel(book, sheet_name="test", index=False)
    columns = ["village_id", "technology", "operator", "rsrp_dbm", "download_kbps",
               "measured_at"]
    expected = read_survey(odk).measurements[columns]
    for path in (tmp_path / "khao_sat.zip", tmp_path / "kobo.xlsx"):
        pd.testing.assert_frame_equal(read_survey(path).measurements[columns], expected)


def test_import_survey_writes_measurements_the_next_run_reads(disputed_three, demo_run,
                                                              tmp_path, capsys):
    _chosen, odk, _kobo = disputed_three
    assert main(["import-survey", str(demo_run), str(odk), "--out", str(tmp_path)]) == 0
    assert "Đã đọc 12 lần đo tốc độ và 6 lượt khảo sát" in capsys.readouterr().out
    rejected = pd.read_csv(tmp_path / "survey_rejected.csv", encoding="utf-8-sig")
    assert rejected["reason"].tolist() == ["không có điểm GPS",
                                           "phiếu khảo sát của lần đo này bị loại"]
    from geo_dx.io import read_coverage

    coverage = read_coverage(tmp_path / "survey_measurements.csv")
    assert len(coverage) == 12 and set(coverage["kind"]) == {"measurement"}
    assert coverage["measured_at"].notna().all()
    attributes = pd.read_csv(tmp_path / "survey_villages.csv", encoding="utf-8-sig")
    assert attributes.columns.tolist()[1:4] == ["village_id", "grid_power", "households"]
