"""Matching list rows to villages by Vietnamese names (geo_dx.names)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo_dx.names import match_villages, name_keys, plain

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI", 7: "VII", 8: "VIII", 9: "IX",
         10: "X", 11: "XI", 12: "XII", 13: "XIII"}
WORDS = {1: "Một", 2: "Hai", 3: "Ba", 4: "Bốn", 5: "Năm", 6: "Sáu", 7: "Bảy", 8: "Tám",
         9: "Chín", 10: "Mười", 11: "Mười Một", 12: "Mười Hai", 13: "Mười Ba"}
#: Old commune names (before the 2025 merger) of five demo communes.
OLD_NAMES = {"Xã Nậm Chà Cũ": "SYN04", "Xã Huổi Lếch": "SYN21", "Xã Pa Tần": "SYN09",
             "Xã Nà Bủng": "SYN24", "Xã Vàng Đán": "SYN06"}
FAKE = ["Bản Phìn Hồ Thầu", "Thôn Quyết Thắng Mới", "Bản Chẻo Chử Phìn", "Bản Xà Quế Hồng",
        "Bản Kho Vàng Phủ"]


def _misspell(name: str, k: int) -> str:
    """A typo in the last word: a doubled letter, two letters swapped or a letter lost."""
    words = name.split()
    last = words[-1]
    if k % 3 == 0:
        last = last + last[-1]
    elif k % 3 == 1 and len(last) > 3:
        last = last[0] + last[2] + last[1] + last[3:]
    else:
        last = last[:-1] + "h" if len(last) > 2 else last + "h"
    return " ".join(words[:-1] + [last])


def province_list(villages: pd.DataFrame) -> pd.DataFrame:
    """200 rows as a province would type them, with the true village_id (None: not real)."""
    unique = villages[~villages.duplicated(["commune_id", "village_name"], keep=False)]
    numbered = unique[unique["village_name"].str.match(r".* \d+$")].iloc[:24]
    rng = np.random.default_rng(22)
    others = unique.drop(numbered.index)
    chosen = others.iloc[rng.choice(len(others), 195 - len(numbered), replace=False)]
    rows = []
    old_by_new = {v: k for k, v in OLD_NAMES.items()}
    for i, (_, v) in enumerate(numbered.iterrows()):
        base, n = v["village_name"].rsplit(" ", 1)
        written = [f"{base} {n}", f"{base} {ROMAN[int(n)]}", f"{base} {WORDS[int(n)]}"][i % 3]
        rows.append((written, v["commune_name"], v["village_id"]))
    old_left = dict(old_by_new)
    for k, (_, v) in enumerate(chosen.iterrows()):
        name, commune = v["village_name"], v["commune_name"]
        if k < 10:
            name = _misspell(plain(name) if k % 2 else name, k)
        elif k < 60:
            name = plain(name)
        elif k < 110:
            name = name.split(" ", 1)[1]
        elif k < 130:
            name = name.upper().replace(" ", "-")
        if v["commune_id"] in old_left:
            commune = old_left.pop(v["commune_id"])
        rows.append((name, commune, v["village_id"]))
    assert not old_left, "each old commune name is used"
    communes = villages.drop_duplicates("commune_id")["commune_name"].tolist()
    rows += [(fake, communes[i * 5], None) for i, fake in enumerate(FAKE)]
    frame = pd.DataFrame(rows, columns=["Tên thôn, bản", "Xã", "truth"])
    assert len(frame) == 200
    return frame


def test_a_province_list_of_200_rows_is_matched_without_a_wrong_village(demo_villages):
    villages = demo_villages[["village_id", "village_name", "commune_id", "commune_name"]]
    communes = villages.drop_duplicates("commune_id")[["commune_id", "commune_name"]]
    listed = province_list(villages)
    found = match_villages(listed, villages, village_col="Tên thôn, bản", commune_col="Xã",
                           communes=communes,
                           commune_map={k: (v,) for k, v in OLD_NAMES.items()})
    truth = listed["truth"]
    right = (found["village_id"].fillna("-") == truth.fillna("-"))
    wrong = found["village_id"].notna() & ~right
    assert not wrong.any(), listed[wrong].join(found[wrong])
    assert right.mean() >= 0.98, listed[~right].join(found[~right])
    # every row that is not right is in review, never a silent guess
    assert set(found.loc[~right, "match_status"]) <= {"ambiguous", "not_found"}
    assert set(found.loc[truth.isna(), "match_status"]) <= {"ambiguous", "not_found"}
    assert (found.loc[listed.index[:24], "match_status"] == "normalised").sum() >= 16
    assert (found["match_status"] == "fuzzy").sum() >= 8  # the misspellings


def test_same_named_villages_in_two_communes_are_kept_apart(demo_villages):
    villages = demo_villages[["village_id", "village_name", "commune_id", "commune_name"]]
    communes = villages.drop_duplicates("commune_id")[["commune_id", "commune_name"]]
    counts = villages.groupby("village_name")["commune_id"].nunique()
    name = counts[counts >= 2].index[0]
    pair = villages[villages["village_name"] == name].drop_duplicates("commune_id").iloc[:2]
    rows = pd.DataFrame({"ten": [plain(name)] * 2, "xa": pair["commune_name"].tolist()})
    found = match_villages(rows, villages, village_col="ten", commune_col="xa",
                           communes=communes)
    assert found["village_id"].tolist() == pair["village_id"].tolist()
    # without a commune the two cannot be told apart: review, not a guess
    alone = match_villages(rows[["ten"]].iloc[:1], villages, village_col="ten")
    assert alone["match_status"].tolist() == ["ambiguous"]
    assert alone["village_id"].tolist() == [None]
    assert set(pair["village_id"]) <= set(alone["candidates"][0].replace(";", " ").split())


def test_numbers_written_three_ways_are_one_name_and_a_clash_is_ambiguous():
    villages = pd.DataFrame({"village_id": ["a", "b", "c", "d"],
                             "village_name": ["Bản 3", "Tổ dân phố 12", "Bản Na", "Thôn Na"],
                             "commune_id": ["X"] * 4})
    rows = pd.DataFrame({"ten": ["Bản III", "Bản Ba", "bản 03", "TDP Mười Hai",
                                 "tổ dân phố XII", "Na", "Bản Na"]})
    found = match_villages(rows, villages, village_col="ten")
    assert found["village_id"].tolist() == ["a", "a", "a", None, "b", None, "c"]
    assert found["match_status"].tolist() == ["normalised", "normalised", "normalised",
                                              "not_found", "normalised", "ambiguous", "exact"]


def test_a_misspelling_close_to_two_villages_goes_to_review():
    villages = pd.DataFrame({"village_id": ["a", "b"], "village_name": ["Bản Na Hỏm", "Bản Na Hon"],
                             "commune_id": ["X", "X"]})
    found = match_villages(pd.DataFrame({"ten": ["Na Hom", "Na Ho", "Na Hỏmm"]}), villages,
                           village_col="ten")
    # "Na Hom" folds onto "na hom" (a) exactly; "Na Ho" is as close to both; "Na Hỏmm" to a
    assert found["match_status"].tolist() == ["normalised", "ambiguous", "fuzzy"]
    assert found["village_id"].tolist() == ["a", None, "a"]
    assert found.loc[2, "runner_up"].startswith("b Bản Na Hon")


@given(st.text(alphabet="abcdeghiklmnopqrstuvxyàáảãạăâđêôơư ", min_size=1, max_size=20))
def test_keys_do_not_depend_on_case_spacing_or_unicode_form(name):
    import unicodedata

    assert name_keys(name) == name_keys(" " + name.upper().replace(" ", " - ") + " ")
    assert name_keys(unicodedata.normalize("NFD", name)) == name_keys(name)


@pytest.mark.parametrize("text, number", [("Bản Hai Mươi Mốt", "21"), ("Thôn XIV", "14"),
                                          ("Tổ 7", "7"), ("Bản Mười Lăm", "15")])
def test_trailing_numbers(text, number):
    assert number in name_keys(text)


SYLLABLES = ["Na", "Nà", "Pá", "Sín", "Lũng", "Tà", "Hỏm", "Khá", "Mòn", "Bó", "Co", "Sáng"]


@given(st.lists(st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(SYLLABLES),
                          st.sampled_from(SYLLABLES)), min_size=1, max_size=12),
       st.lists(st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(SYLLABLES),
                          st.sampled_from(SYLLABLES), st.booleans()), min_size=1, max_size=8))
def test_a_match_is_always_a_village_of_the_rows_commune_and_never_silent(villages, rows):
    frame = pd.DataFrame({"village_id": [f"V{i}" for i in range(len(villages))],
                          "village_name": [f"Bản {a} {b}" for _c, a, b in villages],
                          "commune_id": [c for c, _a, _b in villages]})
    communes = pd.DataFrame({"commune_id": ["A", "B"], "commune_name": ["Xã Một", "Xã Hai"]})
    listed = pd.DataFrame({"ten": [plain(f"{a} {b}") if bare else f"Bản {a} {b}"
                                   for _c, a, b, bare in rows],
                           "xa": ["Xã Một" if c == "A" else "Xã Hai" for c, *_ in rows]})
    found = match_villages(listed, frame, village_col="ten", commune_col="xa",
                           communes=communes)
    commune_of = dict(zip(frame["village_id"], frame["commune_id"], strict=True))
    for (c, *_), vid, status in zip(rows, found["village_id"], found["match_status"],
                                    strict=True):
        assert (vid is None) == (status in ("ambiguous", "not_found"))
        if vid is not None:
            assert commune_of[vid] == c
    # a name written as it is, in its commune, is found unless the commune has it twice
    same = frame.groupby(["commune_id", "village_name"])["village_id"].transform("size")
    for (c, a, b, bare), vid in zip(rows, found["village_id"], strict=True):
        name = f"Bản {a} {b}"
        mine = frame[(frame["commune_id"] == c) & (frame["village_name"] == name)]
        if not bare and len(mine) == 1 and same[mine.index[0]] == 1:
            assert vid == mine["village_id"].iloc[0]
