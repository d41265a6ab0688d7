"""Official indicators: the counts and shares provinces report, and the distance to targets.

A provincial report counts *thôn, bản* (villages) and *xã, phường* (communes) in the
terms of the national digital-infrastructure programmes:

- ``no_signal``: thôn, bản chưa có sóng di động (no mobile signal at all, not even 2G);
- ``only_2g``: thôn, bản chỉ có sóng 2G (a signal, but no broadband);
- ``no_mobile_broadband``: thôn, bản chưa có băng rộng di động (3G/4G), the two above;
- ``no_fibre``: thôn, bản chưa có băng rộng cố định (cáp quang);

and writes its targets as shares (:data:`TARGETS`): "tỷ lệ thôn, bản có băng rộng cố
định", "100 % thôn, bản có băng rộng di động", "100 % xã có cáp quang và 4G". A commune
counts as having fibre and 4G when every one of its villages has both (4G: a 4G or 5G
answer that is mobile broadband); this is stricter than "fibre to the commune centre",
which the inputs do not tell. Every village the run read is counted, as in the
per-commune table (:func:`geo_dx.communes.summarise_communes`), so the totals agree.

The targets are configured in ``[targets]`` (:class:`geo_dx.config.TargetsConfig`);
the distance to a target is said in share points and in villages (or communes) still
to connect.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from geo_dx.config import TargetsConfig
from geo_dx.i18n import N_, Translator

__all__ = [
    "COUNT_INDICATORS",
    "INDICATOR_LABELS",
    "TARGETS",
    "commune_indicators",
    "indicator_summary",
    "target_progress",
    "target_rows",
]

#: Village counts per commune and province, in the order a report lists them.
COUNT_INDICATORS: tuple[str, ...] = ("no_signal", "only_2g", "no_mobile_broadband", "no_fibre")

#: How each indicator and share reads in a report (translated with geo_dx.i18n).
INDICATOR_LABELS: Mapping[str, str] = {
    "villages": N_("villages"),
    "no_signal": N_("villages without any mobile signal"),
    "only_2g": N_("villages with 2G only"),
    "no_mobile_broadband": N_("villages without mobile broadband (3G/4G)"),
    "no_fibre": N_("villages without fixed broadband (fibre)"),
    "signal_share": N_("share of villages with a mobile signal"),
    "mobile_broadband_share": N_("share of villages with mobile broadband (3G/4G)"),
    "fibre_share": N_("share of villages with fixed broadband (fibre)"),
    "fibre_4g_commune_share": N_("share of communes with fibre and 4G in every village"),
}

#: Each target: the share it is written in, and what it counts (villages or communes).
TARGETS: Mapping[str, tuple[str, str]] = {
    "signal_village_share": ("signal_share", "villages"),
    "mobile_broadband_village_share": ("mobile_broadband_share", "villages"),
    "fibre_village_share": ("fibre_share", "villages"),
    "fibre_4g_commune_share": ("fibre_4g_commune_share", "communes"),
}


def commune_indicators(villages: pd.DataFrame) -> pd.DataFrame:
    """
    The official counts and shares of each commune.

    Parameters
    ----------
    villages
        Villages with ``commune_id``, ``has_fibre``, ``has_mobile_broadband`` and
        ``mobile_technology`` (the output of :func:`geo_dx.find_gaps`); ``commune_name``
        when present. Villages without a commune are left out.

    Returns
    -------
    pandas.DataFrame
        One row per commune in order of ``commune_id``: ``commune_id, commune_name,
        villages, no_signal, only_2g, no_mobile_broadband, no_fibre, signal_share,
        mobile_broadband_share, fibre_share, fibre_4g`` (``fibre_4g``: every village
        has fibre and 4G).

    Examples
    --------
    >>> villages = pd.DataFrame({"commune_id": ["A", "A", "A", "B"],
    ...                          "has_fibre": [True, False, True, True],
    ...                          "has_mobile_broadband": [True, False, False, True],
    ...                          "mobile_technology": ["4g", "none", "2g", "4g"]})
    >>> table = commune_indicators(villages)
    >>> table[["commune_id", "no_signal", "only_2g", "no_fibre", "fibre_4g"]].to_dict("records")
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'commune_id': 'A', 'no_signal': 1, 'only_2g': 1, 'no_fibre': 1, 'fibre_4g': False},
     {'commune_id': 'B', 'no_signal': 0, 'only_2g': 0, 'no_fibre': 0, 'fibre_4g': True}]
    """
    flags = _flags(villages)
    flags = flags[flags["commune_id"].notna()]
    counts = flags.groupby("commune_id", sort=True).agg(
        villages=("villages", "sum"),
        **{name: (name, "sum") for name in COUNT_INDICATORS},
        fibre_4g=("fibre_4g", "all"),
    )
    if "commune_name" in villages:
        names = villages.dropna(subset=["commune_id"]).drop_duplicates("commune_id")
        counts.insert(0, "commune_name",
                      names.set_index("commune_id")["commune_name"].reindex(counts.index))
    out = counts.reset_index()
    out[["villages", *COUNT_INDICATORS]] = out[["villages", *COUNT_INDICATORS]].astype(int)
    out["fibre_4g"] = out["fibre_4g"].astype(bool)
    total = out["villages"]
    out["signal_share"] = 1 - out["no_signal"] / total
    out["mobile_broadband_share"] = 1 - out["no_mobile_broadband"] / total
    out["fibre_share"] = 1 - out["no_fibre"] / total
    return out


def target_progress(communes: pd.DataFrame, targets: TargetsConfig) -> list[dict[str, Any]]:
    """
    How far the province is from each target, from :func:`commune_indicators`' table.

    Returns
    -------
    list of dict
        One per target in :data:`TARGETS` order: ``key, indicator, unit, target, actual,
        short_share`` (target minus actual, never below 0), ``count, total, short``
        (how many villages or communes still to connect to reach the target), ``met``.

    Examples
    --------
    >>> table = pd.DataFrame({"villages": [3, 1], "no_signal": [1, 0], "only_2g": [1, 0],
    ...                       "no_mobile_broadband": [2, 0], "no_fibre": [1, 0],
    ...                       "fibre_4g": [False, True]})
    >>> rows = target_progress(table, TargetsConfig(fibre_village_share=0.5))
    >>> [(r["key"], r["count"], r["total"], r["short"]) for r in rows]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('signal_village_share', 3, 4, 1), ('mobile_broadband_village_share', 2, 4, 2),
     ('fibre_village_share', 3, 4, 0), ('fibre_4g_commune_share', 1, 2, 1)]
    """
    villages = int(communes["villages"].sum())
    have = {
        "signal_share": (villages - int(communes["no_signal"].sum()), villages),
        "mobile_broadband_share": (villages - int(communes["no_mobile_broadband"].sum()),
                                   villages),
        "fibre_share": (villages - int(communes["no_fibre"].sum()), villages),
        "fibre_4g_commune_share": (int(communes["fibre_4g"].sum()), len(communes)),
    }
    rows = []
    for key, (indicator, unit) in TARGETS.items():
        target = float(getattr(targets, key))
        count, total = have[indicator]
        actual = count / total if total else math.nan
        # villages (communes) still to connect: the smallest whole number reaching the target
        needed = math.ceil(target * total - 1e-9) if total else 0
        rows.append({
            "key": key, "indicator": indicator, "unit": unit, "target": target,
            "actual": actual, "short_share": max(target - actual, 0.0) if total else 0.0,
            "count": count, "total": total, "short": max(needed - count, 0),
            "met": count >= needed,
        })
    return rows


def indicator_summary(villages: pd.DataFrame, targets: TargetsConfig) -> dict[str, Any]:
    """
    The ``summary.json`` → ``indicators`` section: province, targets and communes.

    Examples
    --------
    >>> import geo_dx
    >>> demo = geo_dx.load_demo()
    >>> gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
    >>> s = indicator_summary(gaps, TargetsConfig())
    >>> s["province"]["no_mobile_broadband"] == int((~gaps["has_mobile_broadband"]).sum())
    True
    """
    table = commune_indicators(villages)
    flags = _flags(villages)
    province: dict[str, Any] = {
        "villages": len(flags),
        **{name: int(flags[name].sum()) for name in COUNT_INDICATORS},
        "communes": len(table),
        "communes_fibre_4g": int(table["fibre_4g"].sum()),
    }
    total = max(len(flags), 1)
    province.update({
        "signal_share": 1 - province["no_signal"] / total,
        "mobile_broadband_share": 1 - province["no_mobile_broadband"] / total,
        "fibre_share": 1 - province["no_fibre"] / total,
        "fibre_4g_commune_share": (province["communes_fibre_4g"] / len(table)
                                   if len(table) else math.nan),
    })
    return {
        "province": {k: _rounded(v) for k, v in province.items()},
        "targets": [{k: _rounded(v) for k, v in row.items()}
                    for row in target_progress(table, targets)],
        "communes": [{k: _rounded(v) for k, v in row.items()}
                     for row in table.to_dict("records")],
    }


def target_rows(targets: list[dict[str, Any]], tr: Translator) -> list[dict[str, str]]:
    """
    Each target as a report reads it: the indicator, now, the target, what is still short.

    ``targets`` is :func:`target_progress` (or ``summary.json`` → ``indicators`` →
    ``targets``); every number is the summary's, only written out.

    Examples
    --------
    >>> from geo_dx.i18n import translator
    >>> rows = [{"key": "fibre_village_share", "indicator": "fibre_share", "unit": "villages",
    ...          "target": 1.0, "actual": 0.8418, "count": 1389, "total": 1650, "short": 261,
    ...          "met": False}]
    >>> target_rows(rows, translator("vi"))[0]  # doctest: +NORMALIZE_WHITESPACE
    {'indicator': 'Tỷ lệ thôn, bản có băng rộng cố định (cáp quang)', 'actual': '84,2 %',
     'count': '1.389/1.650', 'target': '100 %', 'short': '261 thôn, bản'}
    """
    out = []
    for row in targets:
        unit = (N_("{n} villages") if row["unit"] == "villages" else N_("{n} communes"))
        out.append({
            "indicator": tr.gettext(INDICATOR_LABELS[row["indicator"]]),
            "actual": tr.percent(row["actual"], decimals=1),
            "count": f"{tr.number(row['count'])}/{tr.number(row['total'])}",
            "target": tr.percent(row["target"]),
            "short": tr.gettext("met") if row["met"] else tr.gettext(unit,
                                                                     n=tr.number(row["short"])),
        })
    return out


def _flags(villages: pd.DataFrame) -> pd.DataFrame:
    """One row per village: which indicator it counts in."""
    mobile = villages["has_mobile_broadband"].astype(bool).to_numpy()
    fibre = villages["has_fibre"].astype(bool).to_numpy()
    technology = (villages["mobile_technology"] if "mobile_technology" in villages
                  else pd.Series("none", index=villages.index))
    technology = technology.fillna("none").astype(str).str.lower().to_numpy()
    # a signal that is not broadband: 2G (or a 3G/4G answer measurements dispute)
    no_signal = ~mobile & (technology == "none")
    return pd.DataFrame({
        "commune_id": villages["commune_id"].to_numpy() if "commune_id" in villages else None,
        "villages": 1,
        "no_signal": no_signal,
        "only_2g": ~mobile & ~no_signal,
        "no_mobile_broadband": ~mobile,
        "no_fibre": ~fibre,
        "fibre_4g": fibre & mobile & pd.Series(technology).isin(("4g", "5g")).to_numpy(),
    }, index=villages.index)


def _rounded(value: Any) -> Any:
    """JSON-friendly values: shares to 4 decimals, numpy scalars as Python ones."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    return value
