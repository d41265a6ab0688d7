"""Official indicators, hand-checked on 12 villages in 3 communes, and their targets."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo_dx.config import TargetsConfig, config_from_dict
from geo_dx.errors import ConfigError
from geo_dx.i18n import translator
from geo_dx.indicators import commune_indicators, indicator_summary, target_progress, target_rows
from geo_dx.run.report import format_summary

# id, commune, fibre, mobile broadband, technology
TWELVE = [
    ("V1", "A", True, True, "4g"),
    ("V2", "A", False, False, "none"),   # no signal, no fibre
    ("V3", "A", True, False, "2g"),      # 2G only
    ("V4", "A", False, True, "3g"),      # no fibre
    ("V5", "A", True, True, "4g"),
    ("V6", "B", True, True, "4g"),
    ("V7", "B", True, True, "5g"),
    ("V8", "B", True, True, "4g"),
    ("V9", "B", True, True, "4g"),       # B: fibre and 4G everywhere
    ("V10", "C", False, False, "2g"),    # 2G only, no fibre
    ("V11", "C", False, False, "none"),  # no signal, no fibre
    ("V12", "C", True, True, "3g"),      # broadband but 3G: C is not "fibre and 4G"
]


def _villages() -> pd.DataFrame:
    frame = pd.DataFrame(TWELVE, columns=["village_id", "commune_id", "has_fibre",
                                          "has_mobile_broadband", "mobile_technology"])
    frame["commune_name"] = "Xã " + frame["commune_id"]
    return frame


def test_commune_counts_by_hand():
    table = commune_indicators(_villages()).set_index("commune_id")
    assert table.loc["A", ["villages", "no_signal", "only_2g", "no_mobile_broadband",
                           "no_fibre"]].tolist() == [5, 1, 1, 2, 2]
    assert table.loc["B", ["villages", "no_signal", "only_2g", "no_mobile_broadband",
                           "no_fibre"]].tolist() == [4, 0, 0, 0, 0]
    assert table.loc["C", ["villages", "no_signal", "only_2g", "no_mobile_broadband",
                           "no_fibre"]].tolist() == [3, 1, 1, 2, 2]
    assert table["fibre_4g"].to_dict() == {"A": False, "B": True, "C": False}
    assert table.loc["A", "fibre_share"] == pytest.approx(3 / 5)
    assert table.loc["C", "signal_share"] == pytest.approx(2 / 3)
    assert table.loc["B", "commune_name"] == "Xã B"


def test_province_and_targets_by_hand():
    targets = TargetsConfig(signal_village_share=0.9, mobile_broadband_village_share=1.0,
                            fibre_village_share=0.8, fibre_4g_commune_share=0.5)
    summary = indicator_summary(_villages(), targets)
    province = summary["province"]
    assert (province["villages"], province["no_signal"], province["only_2g"],
            province["no_mobile_broadband"], province["no_fibre"]) == (12, 2, 2, 4, 4)
    assert province["fibre_share"] == round(8 / 12, 4)
    assert province["signal_share"] == round(10 / 12, 4)
    assert (province["communes"], province["communes_fibre_4g"]) == (3, 1)
    by_key = {row["key"]: row for row in summary["targets"]}
    # 90 % of 12 = 10.8: 11 villages need a signal, 10 have one
    assert (by_key["signal_village_share"]["count"], by_key["signal_village_share"]["short"]) \
        == (10, 1)
    assert by_key["mobile_broadband_village_share"]["short"] == 4
    # 80 % of 12 = 9.6: 10 villages need fibre, 8 have it
    assert by_key["fibre_village_share"]["short"] == 2
    assert by_key["fibre_village_share"]["short_share"] == round(0.8 - 8 / 12, 4)
    # half of 3 communes = 1.5: 2 communes, 1 has fibre and 4G everywhere
    assert (by_key["fibre_4g_commune_share"]["short"], by_key["fibre_4g_commune_share"]["unit"]) \
        == (1, "communes")
    assert not any(row["met"] for row in summary["targets"])
    assert [c["commune_id"] for c in summary["communes"]] == ["A", "B", "C"]


def test_a_target_already_met_reads_met():
    rows = target_progress(commune_indicators(_villages()),
                           TargetsConfig(fibre_village_share=0.5))
    fibre = next(r for r in rows if r["key"] == "fibre_village_share")
    assert fibre["met"] and fibre["short"] == 0 and fibre["short_share"] == 0.0
    text = target_rows([fibre], translator("vi"))[0]
    assert text == {"indicator": "Tỷ lệ thôn, bản có băng rộng cố định (cáp quang)",
                    "actual": "66,7 %", "count": "8/12", "target": "50 %", "short": "Đã đạt"}


def test_console_tells_no_signal_2g_and_broadband_apart():
    villages = _villages()
    summary = {
        "title": "Tỉnh thử", "language": "vi",
        "totals": {"villages": 12, "without_mobile_broadband": 4, "without_fibre": 4,
                   "without_both": 3, "unassigned": 0, "warnings": 0},
        "communes": [{"commune_id": c, "commune_name": f"Xã {c}", "villages": n,
                      "without_mobile_broadband": m, "without_fibre": f, "without_both": b}
                     for c, n, m, f, b in (("A", 5, 2, 2, 1), ("C", 3, 2, 2, 2),
                                           ("B", 4, 0, 0, 0))],
        "indicators": indicator_summary(villages, TargetsConfig(fibre_village_share=0.8)),
    }
    text = format_summary(summary)
    lines = text.splitlines()
    assert any(line.startswith("  Thôn, bản chưa có sóng di động") and line.endswith(" 2")
               for line in lines)
    assert any(line.startswith("  Thôn, bản chỉ có sóng 2G") and line.endswith(" 2")
               for line in lines)
    assert any(line.startswith("  Thôn, bản chưa có băng rộng di động (3G/4G)")
               and line.endswith(" 4") for line in lines)
    header = next(line for line in lines if line.startswith("Xã, phường"))
    assert "Chưa có sóng" in header and "Chỉ có 2G" in header and "Chưa có 3G/4G" in header
    row_c = next(line for line in lines if line.startswith("Xã C"))
    assert row_c.split()[2:] == ["3", "1", "1", "2", "2", "2"]  # villages, none, 2G, ...
    fibre = next(line for line in lines if line.startswith("Tỷ lệ thôn, bản có băng rộng cố"))
    assert "66,7 %" in fibre and "(8/12)" in fibre and fibre.endswith("2 thôn, bản")


@pytest.mark.parametrize("value, match", [
    (80, "looks like a percentage; give a share between 0 and 1, e.g. 0.8"),
    (-0.1, "targets.fibre_village_share = -0.1 is negative"),
    (1000, "out of range; allowed: >= 0 and <= 1"),
])
def test_targets_config_checked(value, match):
    with pytest.raises(ConfigError, match=match):
        config_from_dict({"targets": {"fibre_village_share": value}})


def test_unknown_target_key_refused():
    with pytest.raises(ConfigError, match="unknown key targets.'fibre'"):
        config_from_dict({"targets": {"fibre": 0.5}})


@given(st.lists(st.tuples(st.sampled_from("ABC"), st.booleans(), st.booleans(),
                          st.sampled_from(["none", "2g", "3g", "4g", "5g"])),
                min_size=1, max_size=40))
def test_counts_add_up(rows):
    villages = pd.DataFrame(rows, columns=["commune_id", "has_fibre", "has_mobile_broadband",
                                           "mobile_technology"])
    summary = indicator_summary(villages, TargetsConfig())
    province = summary["province"]
    assert province["no_signal"] + province["only_2g"] == province["no_mobile_broadband"]
    assert province["no_mobile_broadband"] == int((~villages["has_mobile_broadband"]).sum())
    for key in ("villages", "no_signal", "only_2g", "no_fibre"):
        assert sum(c[key] for c in summary["communes"]) == province[key]
    for row in summary["targets"]:  # at 100 %, what is short is what is missing
        assert row["short"] == row["total"] - row["count"]
