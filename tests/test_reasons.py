"""Reason and terrain-blocking sentences, in Vietnamese and English."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from geo_dx.i18n import translator
from geo_dx.reasons import blocked_sentence, reason_sentence

VI, EN = translator("vi"), translator("en")


def _facts(**changes) -> pd.Series:
    facts = {
        "contrib_severity": 20.0, "contrib_remoteness": 30.0, "contrib_ethnic": 25.0,
        "contrib_people": 5.0, "contrib_poverty": 1.0,
        "gap_class": "no_fibre_no_mobile", "technology": "none", "method": "terrain",
        "hours": 5.46, "distance_m": 24_600.0, "centre_kind": "town", "share": 0.96,
        "share_from_commune": False,
        "difficult": True, "people": 1650.0, "households": math.nan, "poverty": 0.45,
        "poverty_from_commune": True,
    }
    facts.update(changes)
    return pd.Series(facts)


def test_vietnamese_reason_is_a_sentence_in_vietnamese_word_order() -> None:
    text = reason_sentence(_facts(), tr=VI)
    assert text == (
        "Cách trung tâm xã, phường gần nhất khoảng 5,5 giờ đi lại; 96 % đồng bào dân tộc "
        "thiểu số; thôn đặc biệt khó khăn; không có sóng di động, chưa có cáp quang; "
        "1.650 người."
    )
    english = reason_sentence(_facts(), tr=EN)
    assert english == (
        "5.5 h from the nearest town; 96% ethnic minority, especially difficult village; "
        "no mobile signal and no fibre; 1,650 people"
    )


@pytest.mark.parametrize(
    ("changes", "kind", "vi"),
    [
        ({"method": "straight_line"}, "commune seat",
         "Cách trụ sở UBND xã 24,6 km (đường chim bay)"),
        ({"hours": 0.01}, "commune centre", "Cách trung tâm xã dưới 0,1 giờ đi lại"),
        ({"contrib_remoteness": 0.0, "contrib_ethnic": 0.0, "contrib_severity": 0.0,
          "contrib_people": 0.0, "contrib_poverty": 9.0}, "town",
         "Tỷ lệ hộ nghèo 45 % (số liệu của xã)."),
    ],
)
def test_each_phrase_has_its_vietnamese_form(changes: dict, kind: str, vi: str) -> None:
    assert reason_sentence(_facts(centre_kind=kind, **changes), tr=VI).startswith(vi)


@pytest.mark.parametrize(
    ("gap", "tech", "vi", "en"),
    [
        ("no_fibre_no_mobile", "2g", "chỉ có sóng 2G, chưa có cáp quang", "2G only and no fibre"),
        ("no_mobile", "2g", "chưa có băng rộng di động (chỉ có 2G)",
         "no mobile broadband (2G only)"),
        ("no_mobile", "none", "không có sóng di động", "no mobile signal"),
        ("no_fibre", "4g", "chưa có cáp quang (đã có 4G)", "no fibre (4G available)"),
    ],
)
def test_gap_phrases(gap: str, tech: str, vi: str, en: str) -> None:
    only = {"contrib_remoteness": 0.0, "contrib_ethnic": 0.0, "contrib_people": 0.0,
            "contrib_poverty": 0.0, "gap_class": gap, "technology": tech}
    assert reason_sentence(_facts(**only), tr=VI) == \
        vi[0].upper() + vi[1:] + "."
    assert reason_sentence(_facts(**only), tr=EN) == en


def test_households_and_nothing_to_say() -> None:
    people = _facts(contrib_remoteness=0.0, contrib_ethnic=0.0, contrib_severity=0.0,
                    contrib_poverty=math.nan, people=450.0, households=100.0)
    assert reason_sentence(people, tr=VI) == "Khoảng 450 người (100 hộ)."
    nothing = _facts(contrib_remoteness=0.0, contrib_ethnic=0.0, contrib_severity=0.0,
                     contrib_people=0.0, contrib_poverty=math.nan)
    assert reason_sentence(nothing, tr=VI) is None


def test_blocked_sentence_reads_like_the_issue_example() -> None:
    assert blocked_sentence(1_630.0, 1_720.4, 912.0, VI) == (
        "Bị núi che: trạm cách 1,6 km; đỉnh chắn cao 1.720 m, cách bản 0,9 km"
    )
    assert blocked_sentence(1_630.0, 1_720.4, 912.0, EN) == (
        "Blocked by terrain: site 1.6 km away; obstacle 1,720 m high, 0.9 km from the village"
    )
    assert blocked_sentence(math.nan, 1_720.0, 900.0, VI) is None
