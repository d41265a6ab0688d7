"""Matching Vietnamese place names as people type them: prefixes, accents, numbers, typos.

A province's own lists name villages as *Bản Lũng Bó*, *LUNG BO*, *lũng-bó*, *Thôn
Tân Tiến II* or *Tân Tiến 2*, and communes by names that changed in the 2025 merger.
:func:`name_keys` turns a name into comparable keys: Unicode NFC, lower case, one
prefix (``bản``, ``thôn``, ``tổ dân phố``, ``tổ``, ``tiểu khu``, ``xóm``, ``khu``,
``đội``; for communes ``xã``, ``phường``, ``thị trấn``) with or without it, hyphens and
spaces dropped, a trailing number in any of three spellings (``3``, ``III``, ``Ba``)
read as one, with or without accents (:func:`plain`).

:func:`match_villages` matches the rows of a list to villages **within the named
commune** and never guesses silently: each row gets a ``match_status``

- ``exact``: the name as written, up to case and spacing;
- ``normalised``: equal keys (prefix, accents, number spelling, hyphens) and one village;
- ``fuzzy``: a misspelling, scored by rapidfuzz (0-100), well ahead of the runner-up;
- ``ambiguous``: two or more villages fit as well (or the best fuzzy score is not
  clearly ahead): the row goes to review, with the candidates;
- ``not_found``: nothing close, or the commune is unknown;

the chosen ``village_id``, the ``score`` and the ``runner_up``. Villages of the same
name in two communes never meet, as a row is only compared with its commune's villages.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

__all__ = [
    "COMMUNE_PREFIXES",
    "MATCH_STATUSES",
    "VILLAGE_PREFIXES",
    "match_villages",
    "name_keys",
    "plain",
]

#: Prefixes of a village name, longest first (one is dropped, with or without accents).
VILLAGE_PREFIXES: tuple[str, ...] = (
    "tổ dân phố", "tiểu khu", "bản", "thôn", "xóm", "khu", "đội", "tổ",
)
#: Prefixes of a commune name.
COMMUNE_PREFIXES: tuple[str, ...] = ("thị trấn", "phường", "xã")
#: Values of ``match_status``, surest first (``reviewed``: set by the planner's review).
MATCH_STATUSES: tuple[str, ...] = (
    "exact", "normalised", "fuzzy", "reviewed", "ambiguous", "not_found")
#: A fuzzy match needs this score (rapidfuzz ratio of the plain keys, 0-100) ...
FUZZY_MIN = 80.0
#: ... and this lead over the runner-up; below it the row is ambiguous.
FUZZY_LEAD = 10.0
#: A best score at least this high, but not a match, sends the row to review as ambiguous.
REVIEW_MIN = 60.0

_SEPARATORS = re.compile(r"[\s\-_–—.,/()]+")
_UNITS = {"một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5, "lăm": 5,
          "sáu": 6, "bảy": 7, "bẩy": 7, "tám": 8, "chín": 9}
_ROMAN = re.compile(r"^(x{0,3})(ix|iv|v?i{0,3})$")


def plain(text: str) -> str:
    """
    ``text`` without accents (``đ`` → ``d``), lower case.

    Examples
    --------
    >>> plain("Bản Lũng Bó"), plain("Đội 3")
    ('ban lung bo', 'doi 3')
    """
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("đ", "d")


def _tokens(text: object) -> list[str]:
    """Lower-case NFC words of ``text`` (hyphens, dots, slashes split words)."""
    if not isinstance(text, str):
        return []
    return [t for t in _SEPARATORS.split(unicodedata.normalize("NFC", text).casefold()) if t]


def _roman(token: str) -> int | None:
    """A Roman numeral I-XXXIX as a number (``iv`` → 4), else None."""
    match = _ROMAN.match(token)
    if not token or not match:
        return None
    tens = len(match.group(1)) * 10
    units = {"": 0, "i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8,
             "ix": 9}[match.group(2)]
    return tens + units or None


def _spelled(tokens: list[str]) -> int | None:
    """Vietnamese number words (accented) as a number: ``mười hai`` → 12, ``ba`` → 3."""
    if not tokens or len(tokens) > 3:
        return None
    if tokens[0] == "mười":
        if len(tokens) == 1:
            return 10
        unit = _UNITS.get(tokens[1]) if len(tokens) == 2 else None
        return None if unit is None or tokens[1] == "mốt" else 10 + unit
    if len(tokens) == 1:
        unit = _UNITS.get(tokens[0])
        return None if tokens[0] in ("mốt", "lăm") else unit
    tens = _UNITS.get(tokens[0])
    if tens is None or tens < 2 or tokens[1] != "mươi":
        return None
    if len(tokens) == 2:
        return tens * 10
    unit = _UNITS.get(tokens[2])
    return None if unit is None or tokens[2] == "một" else tens * 10 + unit


def _number_variants(tokens: list[str]) -> list[list[str]]:
    """The tokens as written, and with a trailing number in digits where one is read."""
    variants = [tokens]
    if not tokens:
        return variants
    last = tokens[-1]
    if last.isdigit():
        variants.append(tokens[:-1] + [str(int(last))])
    elif (value := _roman(last)) is not None:
        variants.append(tokens[:-1] + [str(value)])
    for width in (3, 2, 1):  # "hai mươi mốt", "mười hai", "ba"
        if len(tokens) >= width and (value := _spelled(tokens[-width:])) is not None:
            variants.append(tokens[:-width] + [str(value)])
            break
    return variants


def _strip_prefix(tokens: list[str], prefixes: Iterable[str]) -> list[str] | None:
    """``tokens`` without a leading prefix (compared without accents), or None."""
    folded = [plain(t) for t in tokens]
    for prefix in prefixes:
        words = plain(prefix).split()
        if len(tokens) > len(words) and folded[: len(words)] == words:
            return tokens[len(words):]
    return None


def name_keys(name: object, *, prefixes: Iterable[str] = VILLAGE_PREFIXES) -> frozenset[str]:
    """
    Comparable keys of a place name: with and without its prefix and number spelling.

    Keys are accented; compare :func:`plain` keys for a match without accents.

    Examples
    --------
    >>> sorted(name_keys("Bản III"))
    ['3', 'bản3', 'bảniii', 'iii']
    >>> name_keys("Tân Tiến Hai") & name_keys("Thôn Tân-Tiến 2")
    frozenset({'tântiến2'})
    >>> sorted(name_keys("Xã Sín Lịch", prefixes=COMMUNE_PREFIXES))
    ['sínlịch', 'xãsínlịch']
    """
    tokens = _tokens(name)
    if not tokens:
        return frozenset()
    forms = [tokens]
    stripped = _strip_prefix(tokens, prefixes)
    if stripped is not None:
        forms.append(stripped)
    return frozenset("".join(v) for form in forms for v in _number_variants(form))


def _exact(name: object) -> str:
    return " ".join(_tokens(name)) if isinstance(name, str) else ""


def _primary_key(name: object, prefixes: Iterable[str]) -> str:
    """One plain key for fuzzy scoring: no prefix, number in digits, no accents or spaces."""
    tokens = _tokens(name)
    tokens = _strip_prefix(tokens, prefixes) or tokens
    return plain("".join(_number_variants(tokens)[-1]))


class _Index:
    """Villages of one group (a commune, or the whole province) by key, for matching."""

    def __init__(self, villages: pd.DataFrame) -> None:
        self.ids = villages["village_id"].astype(str).to_numpy()
        self.names = villages["village_name"].astype(str).to_numpy()
        self.exact: dict[str, set[int]] = {}
        self.keys: dict[str, set[int]] = {}
        self.plain: dict[str, set[int]] = {}
        for i, name in enumerate(self.names):
            self.exact.setdefault(_exact(name), set()).add(i)
            for key in name_keys(name):
                self.keys.setdefault(key, set()).add(i)
                self.plain.setdefault(plain(key), set()).add(i)
        self.primary = [_primary_key(n, VILLAGE_PREFIXES) for n in self.names]

    def label(self, i: int, score: float) -> str:
        return f"{self.ids[i]} {self.names[i]} ({score:.0f})"

    def match(self, name: object) -> dict[str, object]:
        """One list row's match among these villages (see the module docstring)."""
        found = self.exact.get(_exact(name), set())
        if len(found) == 1:
            return self._result("exact", found, 100.0)
        keys = name_keys(name)
        for table, fold in ((self.keys, False), (self.plain, True)):
            found = set().union(*(table.get(plain(k) if fold else k, set()) for k in keys))
            if found:
                return self._result("normalised" if len(found) == 1 else "ambiguous", found,
                                    100.0)
        return self._fuzzy(_primary_key(name, VILLAGE_PREFIXES))

    def _result(self, status: str, found: set[int], score: float) -> dict[str, object]:
        chosen = sorted(found, key=lambda i: self.ids[i])
        return {"match_status": status,
                "village_id": self.ids[chosen[0]] if status != "ambiguous" else None,
                "score": score,
                "runner_up": "; ".join(self.label(i, score) for i in chosen[1:]) or None,
                "candidates": "; ".join(self.label(i, score) for i in chosen)
                if status == "ambiguous" else None}

    def _fuzzy(self, key: str) -> dict[str, object]:
        if not key or not self.primary:
            return _not_found()
        ranked = process.extract(key, self.primary, scorer=fuzz.ratio, limit=None)
        ranked.sort(key=lambda hit: (-hit[1], self.ids[hit[2]]))
        best_i, best = ranked[0][2], float(ranked[0][1])
        second = float(ranked[1][1]) if len(ranked) > 1 else 0.0
        runner = self.label(ranked[1][2], second) if len(ranked) > 1 else None
        if best >= FUZZY_MIN and best - second >= FUZZY_LEAD:
            return {"match_status": "fuzzy", "village_id": self.ids[best_i],
                    "score": round(best, 1), "runner_up": runner, "candidates": None}
        if best >= REVIEW_MIN:
            close = [hit for hit in ranked if hit[1] >= best - FUZZY_LEAD][:5]
            return {"match_status": "ambiguous", "village_id": None, "score": round(best, 1),
                    "runner_up": runner,
                    "candidates": "; ".join(self.label(h[2], h[1]) for h in close)}
        return {**_not_found(), "score": round(best, 1), "runner_up": self.label(best_i, best)}


def _not_found(note: str | None = None) -> dict[str, object]:
    return {"match_status": "not_found", "village_id": None, "score": np.nan,
            "runner_up": None, "candidates": None, "note": note}


def match_villages(
    rows: pd.DataFrame,
    villages: pd.DataFrame,
    *,
    village_col: str,
    commune_col: str | None = None,
    communes: pd.DataFrame | None = None,
    commune_map: Mapping[str, tuple[str, ...]] | None = None,
) -> pd.DataFrame:
    """
    Match each row of a name-keyed list to one village, within its named commune.

    Parameters
    ----------
    rows
        The list: one row per listed village, names in ``village_col`` (and the
        commune's name or id in ``commune_col``).
    villages
        The run's villages: ``village_id``, ``village_name``, ``commune_id``.
    communes
        ``commune_id`` and ``commune_name`` of the run (needed with ``commune_col``).
    commune_map
        Old commune name (as written in the list) → the commune ids it became (the
        2025 merger), see :func:`geo_dx.field_survey.read_commune_map`.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``rows``: ``match_status``, ``village_id``, ``score``, ``runner_up``,
        ``candidates`` (for review), ``commune_id`` (the commune read) and ``note``.

    Examples
    --------
    >>> villages = pd.DataFrame({"village_id": ["A1", "A2", "B1"],
    ...                          "village_name": ["Bản Na Hỏm", "Bản 3", "Bản Na Hỏm"],
    ...                          "commune_id": ["A", "A", "B"]})
    >>> communes = pd.DataFrame({"commune_id": ["A", "B"],
    ...                          "commune_name": ["Xã Pá Khá", "Xã Sín Lịch"]})
    >>> rows = pd.DataFrame({"ten": ["na hom", "Bản III", "Na Hỏm", "Bản Nà Hỏm"],
    ...                      "xa": ["Pa Kha", "Xã Pá Khá", "Sín Lịch", "Xã Không Có"]})
    >>> found = match_villages(rows, villages, village_col="ten", commune_col="xa",
    ...                        communes=communes)
    >>> found[["match_status", "village_id"]].values.tolist()
    [['normalised', 'A1'], ['normalised', 'A2'], ['normalised', 'B1'], ['not_found', None]]
    """
    resolve = _commune_resolver(communes, commune_map) if commune_col else None
    groups = ({cid: _Index(group) for cid, group in villages.groupby("commune_id", sort=False)}
              if resolve else {None: _Index(villages)})
    out = []
    for name, commune in zip(rows[village_col], rows[commune_col] if commune_col
                             else [None] * len(rows), strict=True):
        ids: tuple[str, ...] = (None,) if resolve is None else resolve(commune)  # type: ignore
        if not ids:
            out.append({**_not_found(f"commune {commune!r} is not in the run"),
                        "commune_id": None})
            continue
        if len(ids) == 1:
            index = groups.get(ids[0])
        else:  # an old commune split between new ones: its villages together
            joined = villages[villages["commune_id"].isin(ids)]
            index = _Index(joined)
        result = index.match(name) if index is not None else _not_found()
        out.append({"note": None, **result, "commune_id": ";".join(i for i in ids if i) or None})
    frame = pd.DataFrame(out, index=rows.index,
                         columns=["match_status", "village_id", "score", "runner_up",
                                  "candidates", "commune_id", "note"])
    text = ["village_id", "runner_up", "candidates", "commune_id", "note"]
    frame[text] = frame[text].astype(object).where(frame[text].notna(), None)
    return frame


def _commune_resolver(communes: pd.DataFrame | None, commune_map: Mapping[str, tuple[str, ...]]
                      | None):
    """A function from a commune cell (name or id, old or new) to the run's commune ids."""
    if communes is None:
        raise ValueError("match_villages: give communes with commune_col")
    by_id = {str(c): (str(c),) for c in communes["commune_id"]}
    by_key: dict[str, set[str]] = {}
    for cid, name in zip(communes["commune_id"], communes["commune_name"], strict=True):
        for key in name_keys(name, prefixes=COMMUNE_PREFIXES):
            by_key.setdefault(plain(key), set()).add(str(cid))
    old: dict[str, set[str]] = {}
    for old_name, new_ids in (commune_map or {}).items():
        for key in name_keys(old_name, prefixes=COMMUNE_PREFIXES):
            old.setdefault(plain(key), set()).update(new_ids)

    def resolve(cell: object) -> tuple[str, ...]:
        text = str(cell).strip() if isinstance(cell, str | int) else ""
        if text in by_id:
            return by_id[text]
        keys = {plain(k) for k in name_keys(text, prefixes=COMMUNE_PREFIXES)}
        for table in (by_key, old):
            found = set().union(*(table.get(k, set()) for k in keys))
            if found:
                return tuple(sorted(found))
        return ()

    return resolve
