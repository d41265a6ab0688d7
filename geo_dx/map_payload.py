"""The data a map hands to ``geo_dx_map.js``: villages, communes, coverage and every label.

:func:`map_payload` returns one JSON-ready dict. Its fields are **named**: villages and
coverage points are columns (``{"lat": [...], "name": [...], ...}``), so the page code reads
``row.name``, never a position agreed by convention. Every string the page shows to a reader
comes from :data:`LABELS` (built here, in Python), so a translation changes one dict.

Strings from the input stay plain strings here; ``geo_dx_map.js`` puts them in the page as
text, never as HTML.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from datetime import date
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_dx.communes import COUNT_COLUMNS
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.schema import (
    COMPONENTS,
    DISPUTED_CLASS,
    DISPUTED_COLOUR,
    DISPUTED_LABEL,
    GAP_CLASSES,
    GAP_COLOURS,
    GAP_LABELS,
    GAPS,
    SHARE_BINS,
    SHARE_COLOURS,
)
from geo_dx.spatial import village_locations

__all__ = ["LABELS", "TECH_STYLE", "map_payload", "to_wgs84"]

#: Every piece of text a map shows, in one place. ``{n}`` and ``{label}`` are filled in.
LABELS: Mapping[str, str] = MappingProxyType({
    # Layer control and title (drawn by folium, from Python).
    "basemap_none": "No basemap (offline)",
    "basemap_osm": "OpenStreetMap (needs internet)",
    "layer_communes": "Communes: share of villages with a gap",
    "layer_gap": "{label} ({n})",
    "layer_top": "Top {n} priority labels",
    "layer_mobile": "Mobile sites and reach ({n})",
    "layer_fibre": "Fibre nodes ({n})",
    "layer_raster": "Terrain mobile coverage",
    "layer_relief": "Relief (hill shading)",
    "layer_commune_names": "Commune names",
    "layer_roads": "Roads",
    "layer_towns": "Towns and commune seats",
    "layer_reach": "Reach of mobile sites",
    "subtitle": "{villages} · {gaps} with a gap · {communes} · made {date}",
    "village_one": "{n} village",
    "village_many": "{n} villages",
    "commune_one": "{n} commune",
    "commune_many": "{n} communes",
    "commune_title": "{title} — {name}",
    # Village popup (drawn by geo_dx_map.js).
    "commune": "Commune",
    "gap": "Gap",
    "nearest_fibre": "Nearest fibre",
    "nearest_mobile": "Nearest mobile (3G+)",
    "confidence": "Mobile answer rests on",
    "signal": "Predicted signal",
    "dispute": "Measured weak or no service",
    "dispute_evidence": "{tests} tests on {days} days nearby",
    "best_mobile": "Best mobile here",
    "population": "Population",
    "ethnic": "Ethnic minority",
    "priority_rank": "Priority rank",
    "rank_likely": "#{rank} (likely {p05}\u2013{p95})",
    "rank_only": "#{rank}",
    "score": "Score {score} / 100",
    "not_scored": "Not scored on (no data): {names}",
    "unknown": "unknown",
    "none_known": "none known",
    # Commune tooltip.
    "villages": "Villages",
    "with_gap": "With a gap",
    "without_fibre": "Without fibre",
    "without_mobile": "Without mobile broadband",
    "without_both": "Without both",
    # Legend.
    "legend": "Legend",
    "legend_villages": "Villages",
    "legend_size": "Larger circle = higher priority score",
    "legend_top": "Top {n} by priority rank",
    "legend_coverage": "Coverage",
    "legend_communes": "Communes: share of villages with a gap",
    # Coverage points.
    "reach": "reach {distance}",
    # Search and controls.
    "search_placeholder": "Search village\u2026",
    "search_aria": "Search village by name",
    "search_none": "No village found",
    "fullscreen": "Full screen",
    "fullscreen_exit": "Exit full screen",
    "print": "Print / save as PDF",
    # Kinds and sources of coverage points (site tooltips).
    "kind_site": "site",
    "kind_node": "node",
    "kind_measurement": "measurement",
    "source_measured": "measured",
    "source_modelled": "modelled",
    "source_declared": "declared",
    # Score components, as shown on the contribution bars.
    **{f"component_{c}": c for c in COMPONENTS},
})

#: How each technology is drawn: colour, legend text, dash pattern of its reach circle.
TECH_STYLE: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    "5g": {"color": "#08306b", "label": "5G site and reach"},
    "4g": {"color": "#2171b5", "label": "4G site and reach"},
    "3g": {"color": "#6baed6", "label": "3G site and reach"},
    "2g": {"color": "#8c8c8c", "label": "2G site (not broadband)", "dash": "4 4"},
    "fibre": {"color": "#6a3d9a", "label": "Fibre node"},
    "other": {"color": "#444444", "label": "Other coverage point"},
})
_SHARE_BINS = SHARE_BINS
_SHARE_COLORS = SHARE_COLOURS
_NO_DATA_COLOR = "#ffffff"
#: Decimal places kept for coordinates (5 ≈ 1 m) and outline simplification (≈ 20 m).
_COORD_DECIMALS = 5
_SIMPLIFY_DEG = 0.0002


def map_payload(
    villages: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    coverage: gpd.GeoDataFrame,
    *,
    title: str,
    top_n: int = 20,
) -> dict[str, Any]:
    """
    The JSON-ready data of one map, with named fields.

    Parameters
    ----------
    villages
        Villages with ``gap_class`` (scoring columns are shown when present), any CRS.
    communes
        The per-commune table of :func:`geo_dx.communes.summarise_communes` (may be empty).
    coverage
        Coverage points with ``technology`` and ``reach_m`` (may be empty).
    title
        The map's title.
    top_n
        How many top-ranked villages get a rank label.

    Returns
    -------
    dict
        ``villages`` and ``sites`` as columns, ``communes`` as GeoJSON with the summary's
        counts, ``gapClasses``, ``labels`` and the drawing options.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> village = gpd.GeoDataFrame({"village_name": ["Bản Nà"], "gap_class": ["no_fibre"]},
    ...                            geometry=[Point(103.0, 21.4)], crs=4326)
    >>> nothing = gpd.GeoDataFrame(geometry=[], crs=4326)
    >>> data = map_payload(village, nothing, nothing, title="One village")
    >>> data["villages"]["name"], [c["count"] for c in data["gapClasses"]]
    (['Bản Nà'], [0, 0, 1, 0])
    """
    require_columns(villages, ("gap_class",), "villages", "find_gaps")
    villages = to_wgs84(villages, "villages")
    communes = to_wgs84(communes, "communes")
    coverage = to_wgs84(coverage, "coverage")
    if len(communes):
        require_columns(communes, ("commune_id", *COUNT_COLUMNS, "gap_share"), "communes",
                        "summarise_communes")
    rows = _village_columns(villages, communes)
    sites = _site_columns(coverage)
    classes = {k: (GAP_LABELS[k], GAP_COLOURS[k]) for k in GAP_CLASSES}
    if DISPUTED_CLASS in rows["gap"]:
        classes[DISPUTED_CLASS] = (DISPUTED_LABEL, DISPUTED_COLOUR)
    counts = {k: int(np.sum(np.asarray(rows["gap"]) == k)) for k in classes}
    bounds = _bounds([villages, communes] if len(villages) or len(communes) else [coverage])
    subtitle = LABELS["subtitle"].format(
        villages=_plural(len(villages), "village"),
        gaps=f"{int(villages['gap_class'].isin(GAPS).sum()):,}",
        communes=_plural(len(communes), "commune"), date=date.today().isoformat())
    present = set(sites["tech"])
    return {
        "title": str(title),
        "subtitle": subtitle,
        "lang": "en",
        "numberFormat": {"decimal": ".", "group": ",", "percent": "{n}%"},
        "labels": dict(LABELS),
        "gapClasses": [{"key": k, "label": label, "color": colour, "count": counts[k]}
                       for k, (label, colour) in classes.items()],
        "components": list(COMPONENTS),
        "villages": rows,
        "hasScore": bool(pd.Series(rows["score"], dtype=float).notna().any()),
        "topN": int(top_n),
        "communes": _commune_features(communes),
        "shareBins": list(_SHARE_BINS),
        "shareColors": list(_SHARE_COLORS),
        "noDataColor": _NO_DATA_COLOR,
        "sites": sites,
        "techStyle": {k: {"color": v["color"], "dash": v.get("dash")}
                      for k, v in TECH_STYLE.items()},
        "siteLegend": [{"label": v["label"], "color": v["color"],
                        "ring": k not in ("fibre", "other")}
                       for k, v in TECH_STYLE.items() if k in present],
        "bounds": bounds,
    }


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str, source: str) -> None:
    """Raise :class:`InputError` naming the first missing column and where it comes from."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{what}: column {missing[0]!r} is missing "
            f"(columns: {', '.join(map(str, frame.columns))}); pass the output of {source}"
        )


def to_wgs84(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """``frame`` without empty geometries, in longitude/latitude (a missing CRS is assumed)."""
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise InputError(f"{what}: expected a GeoDataFrame with a geometry column")
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    if frame.crs is None:
        warnings.warn(f"{what}: no CRS; assuming longitude/latitude (EPSG:4326)", GeoDxWarning,
                      stacklevel=3)
        return frame.set_crs(4326)
    return frame.to_crs(4326) if frame.crs.to_epsg() != 4326 else frame


def _plural(n: int, noun: str) -> str:
    return LABELS[f"{noun}_one" if n == 1 else f"{noun}_many"].format(n=f"{n:,}")


def _names(frame: pd.DataFrame, column: str, fallback: str) -> pd.Series:
    base = frame[fallback].astype(str) if fallback in frame else pd.Series("", index=frame.index)
    if column not in frame:
        return base
    return frame[column].where(frame[column].notna(), base).astype(str)


def _num(value: Any, digits: int | None = None) -> float | int | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(x):
        return None
    if digits is None:
        return x
    return int(round(x)) if digits == 0 else round(x, digits)


def _text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value) or None


def _column(frame: pd.DataFrame, name: str) -> list:
    return frame[name].tolist() if name in frame else [None] * len(frame)


def _village_columns(villages: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> dict[str, Any]:
    """One list per field, all as long as ``villages`` (the page zips them into rows)."""
    gap = villages["gap_class"].astype(str)
    unknown = sorted(set(gap) - set(GAP_CLASSES))
    if unknown:
        raise InputError(
            f"villages: gap_class has {unknown[0]!r}; allowed: {', '.join(GAP_CLASSES)}")
    loc = village_locations(villages)
    if "commune_name" in villages:
        commune = villages["commune_name"].tolist()
    else:
        lookup = dict(zip(_column(communes, "commune_id"),
                          _names(communes, "commune_name", "commune_id"), strict=True))
        commune = [lookup.get(c) for c in _column(villages, "commune_id")]
    score = [_num(s, 1) for s in _column(villages, "score")]
    contrib = {c: [_num(x, 1) if s is not None else None
                   for x, s in zip(_column(villages, f"contrib_{c}"), score, strict=True)]
               for c in COMPONENTS}

    def numbers(name: str, digits: int) -> list:
        return [_num(x, digits) for x in _column(villages, name)]

    def texts(name: str) -> list:
        return [_text(x) for x in _column(villages, name)]

    tech = [t.upper() if t and t != "none" else None for t in texts("mobile_technology")]
    disputed = [bool(x) is True for x in _column(villages, "mobile_disputed")]
    map_class = [DISPUTED_CLASS if d else g for d, g in zip(disputed, gap, strict=True)]
    return {
        "lat": np.round(loc.y.to_numpy(), _COORD_DECIMALS).tolist(),
        "lon": np.round(loc.x.to_numpy(), _COORD_DECIMALS).tolist(),
        "id": texts("village_id"),
        "name": _names(villages, "village_name", "village_id").tolist(),
        "commune": [_text(c) for c in commune],
        "gap": map_class,
        "gapClass": gap.tolist(),
        "confidence": texts("mobile_confidence"),
        "signalDbm": numbers("mobile_signal_dbm", 1),
        "disputeTests": numbers("mobile_dispute_tests", 0),
        "disputeDays": numbers("mobile_dispute_days", 0),
        "score": score,
        "rank": numbers("rank", 0),
        "nearestFibreM": numbers("nearest_fibre_m", 0),
        "nearestMobileM": numbers("nearest_mobile_m", 0),
        "population": numbers("population", 0),
        "ethnicShare": numbers("ethnic_minority_share", 3),
        "reason": texts("reason"),
        "missing": texts("missing_components"),
        "rankP05": numbers("rank_p05", 0),
        "rankP95": numbers("rank_p95", 0),
        "tech": tech,
        "blocked": texts("blocked_sentence"),
        "contrib": contrib,
    }


def _round_coords(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, _COORD_DECIMALS)
    if isinstance(obj, list | tuple):
        return [_round_coords(x) for x in obj]
    return obj


def _commune_features(communes: gpd.GeoDataFrame) -> dict[str, Any]:
    """Commune outlines as GeoJSON, in the order of the summary table, with its counts."""
    features = []
    if len(communes):
        geoms = shapely.simplify(communes.geometry.to_numpy(), _SIMPLIFY_DEG,
                                 preserve_topology=True)
        names = _names(communes, "commune_name", "commune_id").tolist()
        for (_, row), name, geom in zip(communes.iterrows(), names, geoms, strict=True):
            props = {"id": str(row["commune_id"]), "name": name,
                     "villages": int(row["villages"]), "withGap": int(row["with_gap"]),
                     "withoutFibre": int(row["without_fibre"]),
                     "withoutMobile": int(row["without_mobile_broadband"]),
                     "withoutBoth": int(row["without_both"]), "share": _num(row["gap_share"], 3)}
            geo = shapely.geometry.mapping(geom)
            geometry = {"type": geo["type"], "coordinates": _round_coords(geo["coordinates"])}
            features.append({"type": "Feature", "properties": props, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


def _site_columns(coverage: gpd.GeoDataFrame) -> dict[str, list]:
    pts = coverage.geometry.representative_point()
    tech = (coverage["technology"].astype(str).str.lower() if "technology" in coverage
            else pd.Series("other", index=coverage.index))
    reach = "reach_m" if "reach_m" in coverage else "range_m"
    return {
        "lat": np.round(pts.y.to_numpy(dtype=float), _COORD_DECIMALS).tolist(),
        "lon": np.round(pts.x.to_numpy(dtype=float), _COORD_DECIMALS).tolist(),
        "tech": [t if t in TECH_STYLE else "other" for t in tech],
        "reachM": [_num(r, 0) for r in _column(coverage, reach)],
        **{c: [_text(x) for x in _column(coverage, c)] for c in ("operator", "kind", "source")},
    }


def _bounds(frames: Sequence[gpd.GeoDataFrame]) -> list[list[float]] | None:
    boxes = [f.total_bounds for f in frames if len(f)]
    if not boxes:
        return None
    b = np.array(boxes)
    w, s, e, n = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    pad = 0.002 if (e - w) < 1e-3 and (n - s) < 1e-3 else 0.0
    return [[round(float(s) - pad, 5), round(float(w) - pad, 5)],
            [round(float(n) + pad, 5), round(float(e) + pad, 5)]]
