"""Sentences that explain a village: why it ranks where it does, why it has no mobile signal.

Each sentence is composed from whole translatable phrases (see :mod:`geo_dx.i18n`), so the
Vietnamese follows its own word order ("cách trung tâm xã, phường gần nhất 5,5 km") rather than an
English one with the words swapped. Numbers are formatted for the language.

Examples
--------
>>> from geo_dx.i18n import translator
>>> blocked_sentence(1630.0, 1720.4, 912.0, translator("vi"))
'Bị núi che: trạm cách 1,6 km; đỉnh chắn cao 1.720 m, cách bản 0,9 km'
>>> blocked_sentence(1630.0, 1720.4, 912.0, translator("en"))
'Blocked by terrain: site 1.6 km away; obstacle 1,720 m high, 0.9 km from the village'
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from geo_dx.i18n import N_, Translator
from geo_dx.schema import COMPONENTS

#: The reason sentence names at most this many components.
REASON_PARTS = 4

# One message per centre kind so each language can place the place name where it belongs.
_STRAIGHT = {
    "town": N_("{km} km (straight line) from the nearest town"),
    "commune seat": N_("{km} km (straight line) from the commune seat"),
    "commune centre": N_("{km} km (straight line) from the commune centre"),
}
_UNDER = {
    "town": N_("under {hours} h from the nearest town"),
    "commune seat": N_("under {hours} h from the commune seat"),
    "commune centre": N_("under {hours} h from the commune centre"),
}
_HOURS = {
    "town": N_("{hours} h from the nearest town"),
    "commune seat": N_("{hours} h from the commune seat"),
    "commune centre": N_("{hours} h from the commune centre"),
}


def _centre_message(tr: Translator, table: Mapping[str, str], kind: str, **values: str) -> str:
    return tr.gettext(table.get(kind, table["town"]), **values)


def reason_sentence(facts: pd.Series, *, tr: Translator) -> str | None:
    """
    Why a gap village ranks where it does: its largest score contributions, in words.

    Parameters
    ----------
    facts
        One village's values: ``contrib_<component>`` for every component, and the
        facts each phrase quotes (``gap_class``, ``technology``, ``method``, ``hours``,
        ``distance_m``, ``centre_kind`` (``"town"``, ``"commune seat"`` or
        ``"commune centre"``), ``share``, ``share_from_commune``, ``difficult``,
        ``people``, ``households``, ``poverty``, ``poverty_from_commune``).
    tr
        The language to write in.

    Returns
    -------
    str or None
        Up to :data:`REASON_PARTS` phrases, largest contribution first, joined by "; ";
        in Vietnamese a sentence (capital letter, full stop). None when nothing contributes.

    Examples
    --------
    >>> from geo_dx.i18n import translator
    >>> facts = pd.Series({"contrib_severity": 20.0, "contrib_remoteness": 30.0,
    ...     "contrib_ethnic": 0.0, "contrib_people": 5.0, "contrib_poverty": float("nan"),
    ...     "gap_class": "no_fibre_no_mobile", "technology": "2g", "method": "terrain",
    ...     "hours": 5.46, "centre_kind": "town", "people": 1650.0,
    ...     "households": float("nan")})
    >>> reason_sentence(facts, tr=translator("en"))
    '5.5 h from the nearest town; 2G only and no fibre; 1,650 people'
    >>> for part in reason_sentence(facts, tr=translator("vi")).split("; "):
    ...     print(part)
    Cách trung tâm xã, phường gần nhất khoảng 5,5 giờ đi lại
    chỉ có sóng 2G, chưa có cáp quang
    1.650 người.
    """
    contrib = {c: facts[f"contrib_{c}"] for c in COMPONENTS}
    present = [(float(v), c) for c, v in contrib.items() if pd.notna(v) and v > 0]
    parts = [c for _, c in sorted(present, key=lambda t: -t[0])][:REASON_PARTS]
    centre_kind = str(facts.get("centre_kind", "town"))
    words = [w for w in (_phrase(c, facts, centre_kind, tr) for c in parts) if w]
    if not words:
        return None
    text = "; ".join(words)
    if tr.language == "vi":
        text = text[0].upper() + text[1:] + "."
    return text


def _phrase(component: str, f: pd.Series, centre_kind: str, tr: Translator) -> str:
    _ = tr.gettext
    if component == "severity":
        tech = f["technology"]
        if f["gap_class"] == "no_fibre_no_mobile":
            return _("2G only and no fibre") if tech == "2g" else _("no mobile signal and no fibre")
        if f["gap_class"] == "no_mobile":
            return _("no mobile broadband (2G only)") if tech == "2g" else _("no mobile signal")
        if f["gap_class"] == "no_fibre":
            if tech in ("5g", "4g", "3g"):
                return _("no fibre ({technology} available)", technology=tech.upper())
            return _("no fibre")
        return tr.label("gap_class", f["gap_class"])
    if component == "remoteness":
        if f["method"] == "straight_line":
            km = tr.number(f["distance_m"] / 1000, decimals=1)
            return _centre_message(tr, _STRAIGHT, centre_kind, km=km)
        if f["hours"] < 0.05:
            return _centre_message(tr, _UNDER, centre_kind, hours=tr.number(0.1, decimals=1))
        return _centre_message(tr, _HOURS, centre_kind,
                               hours=tr.number(f["hours"], decimals=1))
    if component == "ethnic":
        text = ""
        if pd.notna(f["share"]):
            percent = tr.percent(f["share"])
            text = (_("{percent} ethnic minority (commune figure)", percent=percent)
                    if f["share_from_commune"] else _("{percent} ethnic minority", percent=percent))
        if f["difficult"]:
            text = (_("{ethnic}, especially difficult village", ethnic=text) if text
                    else _("especially difficult village"))
        return text
    if component == "people":
        if pd.notna(f["households"]):
            return _("~{people} people ({households} households)",
                     people=tr.number(f["people"]), households=tr.number(f["households"]))
        return _("{people} people", people=tr.number(f["people"]))
    percent = tr.percent(f["poverty"])
    if f["poverty_from_commune"]:
        return _("poverty {percent} (commune figure)", percent=percent)
    return _("poverty {percent}", percent=percent)


def blocked_sentence(
    site_distance_m: float,
    obstacle_elevation_m: float,
    obstacle_distance_m: float,
    tr: Translator,
) -> str | None:
    """
    Why a village with a mobile site in reach has no signal: the terrain in between.

    Parameters
    ----------
    site_distance_m
        Distance from the village to the blocked site.
    obstacle_elevation_m
        Ground elevation of the obstacle (the profile point highest above the line of sight).
    obstacle_distance_m
        Distance from the village to the obstacle.
    tr
        The language to write in.

    Returns
    -------
    str or None
        None when any value is missing (the village is not blocked by terrain).

    Examples
    --------
    >>> from geo_dx.i18n import translator
    >>> blocked_sentence(1630.0, float("nan"), 912.0, translator("vi")) is None
    True
    """
    values = (site_distance_m, obstacle_elevation_m, obstacle_distance_m)
    if any(v is None or not math.isfinite(float(v)) for v in values):
        return None
    return tr.gettext(
        "Blocked by terrain: site {site_km} away; obstacle {elevation} high, "
        "{obstacle_km} from the village",
        site_km=tr.km(site_distance_m),
        elevation=tr.metres(obstacle_elevation_m),
        obstacle_km=tr.km(obstacle_distance_m),
    )
