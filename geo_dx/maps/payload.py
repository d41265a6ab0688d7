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

from geo_dx.communes import COUNT_COLUMNS, placed
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.i18n import DEFAULT_LANGUAGE, N_, Translator, translator
from geo_dx.power import grid_power_known
from geo_dx.schema import (
    COMPONENTS,
    DISPUTED_CLASS,
    DISPUTED_COLOUR,
    DISPUTED_LABEL,
    GAP_CLASSES,
    GAP_COLOURS,
    GAPS,
    SHARE_BINS,
    SHARE_COLOURS,
)
from geo_dx.signal.blocking import blocked_sentences
from geo_dx.spatial import village_locations

__all__ = ["CONFIDENCE_LABELS", "DIRECTIONS", "LABELS", "TECH_STYLE", "direction", "map_labels",
           "map_payload", "to_wgs84"]

#: Every piece of text a map shows, in one place (English msgids, marked for the catalogue;
#: :func:`map_labels` gives them in a language). ``{n}`` and ``{label}`` are filled in.
LABELS: Mapping[str, str] = MappingProxyType({
    # Layer control and title (drawn by folium, from Python).
    "basemap_none": N_("No basemap (offline)"),
    "basemap_osm": N_("OpenStreetMap (needs internet)"),
    "layer_communes": N_("Communes: share of villages with a gap"),
    "layer_gap": N_("{label} ({n})"),
    "layer_top": N_("Top {n} priority labels"),
    "layer_mobile": N_("Mobile sites and reach ({n})"),
    "layer_fibre": N_("Fibre nodes ({n})"),
    "layer_raster": N_("Terrain mobile coverage"),
    "layer_relief": N_("Relief (hill shading)"),
    "layer_commune_names": N_("Commune names"),
    "layer_roads": N_("Roads"),
    "layer_towns": N_("Towns and commune seats"),
    "layer_reach": N_("Reach of mobile sites"),
    "subtitle": N_("{villages} · {gaps} with a gap · {communes} · made {date}"),
    "commune_title": N_("{title} — {name}"),
    # Village popup (drawn by geo_dx_map.js).
    "commune": N_("Commune"),
    "gap": N_("Gap"),
    "nearest_fibre": N_("Nearest fibre"),
    "nearest_mobile": N_("Nearest mobile (3G+)"),
    "confidence": N_("Mobile answer rests on"),
    "signal": N_("Predicted signal"),
    "dispute": N_("Measured weak or no service"),
    "dispute_evidence": N_("{tests} tests on {days} days nearby"),
    "best_mobile": N_("Best mobile here"),
    "blocked_by": N_("Mobile site blocked by terrain"),
    "blocked_site": N_("{site} ({technology}, {operator}), {direction}"),
    "blocked_site_no_operator": N_("{site} ({technology}), {direction}"),
    "obstacle": N_("Obstacle elevation (m)"),
    "population": N_("Population"),
    "ethnic": N_("Ethnic minority"),
    "grid_power": N_("Grid electricity"),
    "priority_rank": N_("Priority rank"),
    "plan_item": N_("Item of the plan"),
    "plan_item_year": N_("{item} (year {year})"),
    "plan_answer": N_("If not in the plan"),
    "rank_likely": N_("#{rank} (likely {p05}–{p95})"),
    "rank_only": N_("#{rank}"),
    "score": N_("Score {score} / 100"),
    "not_scored": N_("Not scored on (no data): {names}"),
    "unknown": N_("unknown"),
    "none_known": N_("none known"),
    # Commune tooltip.
    "villages": N_("Villages"),
    "with_gap": N_("With a gap"),
    "without_fibre": N_("Without fibre"),
    "without_mobile": N_("Without mobile broadband"),
    "without_both": N_("Without both"),
    # Legend.
    "legend": N_("Legend"),
    "legend_villages": N_("Villages by gap"),
    "legend_size": N_("Larger circle = higher priority score"),
    "legend_top": N_("Top {n} by priority rank"),
    "legend_coverage": N_("Coverage"),
    "legend_communes": N_("Communes: share of villages with a gap"),
    "legend_places": N_("Places"),
    "legend_road_main": N_("Main road"),
    "legend_road_local": N_("Local road"),
    "legend_centre": N_("Commune or ward centre"),
    "legend_capital": N_("Provincial capital"),
    "legend_commune_name": N_("Commune or ward name"),
    "legend_obstacle": N_("Ridge that blocks a village's mobile site (with its popup)"),
    # Coverage points.
    "reach": N_("reach {distance}"),
    # Search and controls.
    "search_placeholder": N_("Search village…"),
    "search_aria": N_("Search village by name"),
    "search_none": N_("No village found"),
    "fullscreen": N_("Full screen"),
    "fullscreen_exit": N_("Exit full screen"),
    "print": N_("Print / save as PDF"),
    "zoom_in": N_("Zoom in"),
    "zoom_out": N_("Zoom out"),
    "layers": N_("Layers"),
    "close": N_("Close"),
    # Kinds and sources of coverage points (site tooltips).
    "kind_site": N_("site"),
    "kind_node": N_("node"),
    "kind_measurement": N_("measurement"),
    "source_measured": N_("measured"),
    "source_modelled": N_("modelled"),
    "source_declared": N_("declared"),
})

#: Where a point lies seen from a village, by compass sector (north first, clockwise).
DIRECTIONS: tuple[str, ...] = (
    N_("to the north"), N_("to the north-east"), N_("to the east"), N_("to the south-east"),
    N_("to the south"), N_("to the south-west"), N_("to the west"), N_("to the north-west"),
)

#: What ``mobile_confidence`` says, as the village popup shows it.
CONFIDENCE_LABELS: Mapping[str, str] = MappingProxyType({
    "measured": N_("measurements (speed tests)"),
    "modelled": N_("a coverage model"),
    "declared": N_("the operator's declared coverage"),
    "disputed": N_("declared coverage that measurements dispute"),
    "none": N_("no evidence of service"),
})


def map_labels(tr: Translator) -> dict[str, str]:
    """
    Every text of a map in ``tr``'s language, score components included.

    Examples
    --------
    >>> from geo_dx.i18n import translator
    >>> labels = map_labels(translator("vi"))
    >>> labels["legend"], labels["component_people"]
    ('Chú giải', 'Số dân')
    """
    out = {key: tr.gettext(message) for key, message in LABELS.items()}
    out.update({f"component_{c}": tr.label("component", c) for c in COMPONENTS})
    out.update({f"confidence_{k}": tr.gettext(m) for k, m in CONFIDENCE_LABELS.items()})
    return out


#: How each technology is drawn: colour, legend text, dash pattern of its reach circle.
TECH_STYLE: Mapping[str, Mapping[str, Any]] = MappingProxyType({
    "5g": {"color": "#08306b", "label": N_("5G site and reach")},
    "4g": {"color": "#2171b5", "label": N_("4G site and reach")},
    "3g": {"color": "#6baed6", "label": N_("3G site and reach")},
    "2g": {"color": "#8c8c8c", "label": N_("2G site (not broadband)"), "dash": "4 4"},
    "fibre": {"color": "#6a3d9a", "label": N_("Fibre node")},
    "other": {"color": "#444444", "label": N_("Other coverage point")},
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
    top_of_map: bool = False,
    language: str = DEFAULT_LANGUAGE,
) -> dict[str, Any]:
    """
    The JSON-ready data of one map, with named fields, in ``language``.

    Parameters
    ----------
    villages
        Villages with ``gap_class`` (scoring columns are shown when present), any CRS.
        Misplaced villages (a ``location_issue``, see :func:`geo_dx.communes.placed`) are
        left off: not drawn, not in the bounds, counts or subtitle, only counted in
        ``unplaced`` and said in ``unplacedNote``.
    communes
        The per-commune table of :func:`geo_dx.communes.summarise_communes` (may be empty).
    coverage
        Coverage points with ``technology`` and ``reach_m`` (may be empty).
    title
        The map's title.
    top_n
        How many top-ranked villages get a rank label: those ranked 1 to ``top_n``.
    top_of_map
        Label the ``top_n`` best-ranked villages of this map instead (an area of a national
        run, where few villages rank in the national top 20); ``topRank`` is then the rank
        of the ``top_n``-th of them. Labels always show the rank as in the priority list.
    language
        ``"vi"`` (default) or ``"en"``: every label, gap class name, number format and the
        terrain-blocking sentence of villages with ``obstacle_*`` columns.

    Returns
    -------
    dict
        ``villages`` and ``sites`` as columns, ``communes`` as GeoJSON with the summary's
        counts, ``gapClasses``, ``labels``, the drawing options, and ``unplaced`` (how many
        misplaced villages were left off) with ``unplacedNote`` (the legend's line about
        them, ``None`` when there are none).

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> village = gpd.GeoDataFrame({"village_name": ["Bản Nà"], "gap_class": ["no_fibre"]},
    ...                            geometry=[Point(103.0, 21.4)], crs=4326)
    >>> nothing = gpd.GeoDataFrame(geometry=[], crs=4326)
    >>> data = map_payload(village, nothing, nothing, title="One village")
    >>> data["villages"]["name"], [c["count"] for c in data["gapClasses"]]
    (['Bản Nà'], [0, 0, 1, 0])
    >>> data["lang"], data["gapClasses"][2]["label"], data["subtitle"].split(" · ")[0]
    ('vi', 'Chưa có cáp quang', '1 thôn, bản')
    """
    require_columns(villages, ("gap_class",), "villages", "find_gaps")
    villages = to_wgs84(villages, "villages")
    is_placed = placed(villages).to_numpy()
    villages = villages[is_placed]  # a wrong position is not drawn, nor zoomed out to
    communes = to_wgs84(communes, "communes")
    coverage = to_wgs84(coverage, "coverage")
    if len(communes):
        require_columns(communes, ("commune_id", *COUNT_COLUMNS, "gap_share"), "communes",
                        "summarise_communes")
    tr = translator(language)
    rows = _village_columns(villages, communes, tr)
    rows["blockedBy"] = _blocked_sites(villages, coverage, tr)
    sites = _site_columns(coverage)
    classes = {k: (tr.label("gap_class", k), GAP_COLOURS[k]) for k in GAP_CLASSES}
    if DISPUTED_CLASS in rows["gap"]:
        classes[DISPUTED_CLASS] = (tr.gettext(DISPUTED_LABEL), DISPUTED_COLOUR)
    counts = {k: int(np.sum(np.asarray(rows["gap"]) == k)) for k in classes}
    bounds = _bounds([villages, communes] if len(villages) or len(communes) else [coverage])
    labels = map_labels(tr)
    n_villages, n_communes = len(villages), len(communes)
    subtitle = labels["subtitle"].format(
        villages=tr.ngettext("{n} village", "{n} villages", n_villages),
        gaps=tr.number(int(villages["gap_class"].isin(GAPS).sum())),
        communes=tr.ngettext("{n} commune", "{n} communes", n_communes),
        date=tr.date(date.today()))
    present = set(sites["tech"])
    unplaced = int((~is_placed).sum())
    return {
        "title": str(title),
        "subtitle": subtitle,
        "lang": tr.language,
        "numberFormat": tr.number_format(),
        "labels": labels,
        "gapClasses": [{"key": k, "label": label, "color": colour, "count": counts[k]}
                       for k, (label, colour) in classes.items()],
        "components": list(COMPONENTS),
        "villages": rows,
        "hasScore": bool(pd.Series(rows["score"], dtype=float).notna().any()),
        "topN": int(top_n),
        "topRank": _top_rank(rows["rank"], top_n) if top_of_map else float(top_n),
        "communes": _commune_features(communes),
        "shareBins": list(_SHARE_BINS),
        "shareColors": list(_SHARE_COLORS),
        "noDataColor": _NO_DATA_COLOR,
        "sites": sites,
        "techStyle": {k: {"color": v["color"], "dash": v.get("dash")}
                      for k, v in TECH_STYLE.items()},
        "siteLegend": [{"label": _translated(tr, style, "label"), "color": style["color"],
                        "ring": k not in ("fibre", "other")}
                       for k, style in TECH_STYLE.items() if k in present],
        "bounds": bounds,
        "unplaced": unplaced,
        "unplacedNote": tr.ngettext("{n} village not shown: its location needs checking",
                                    "{n} villages not shown: their location needs checking",
                                    unplaced) if unplaced else None,
    }


def direction(dlon: float, dlat: float, lat: float, tr: Translator) -> str:
    """
    The compass sector of a point ``dlon``, ``dlat`` degrees away, seen from latitude ``lat``.

    Examples
    --------
    >>> from geo_dx.i18n import translator
    >>> direction(-0.01, 0.01, 21.5, translator("vi")), direction(0.0, -1.0, 0, translator("en"))
    ('phía tây bắc', 'to the south')
    """
    bearing = math.degrees(math.atan2(dlon * math.cos(math.radians(lat)), dlat)) % 360
    return tr.gettext(DIRECTIONS[int((bearing + 22.5) // 45) % 8])


def _blocked_sites(villages: gpd.GeoDataFrame, coverage: gpd.GeoDataFrame,
                   tr: Translator) -> list[str | None]:
    """The site that terrain hides from each village: id, technology, operator, direction."""
    blocked = _column(villages, "mobile_blocked_by")
    if not any(_text(b) for b in blocked):
        return [None] * len(villages)
    sites = {}
    if "site_id" in coverage and len(coverage):
        pts = coverage.geometry.representative_point()
        for sid, tech, op, pt in zip(coverage["site_id"], _column(coverage, "technology"),
                                     _column(coverage, "operator"), pts, strict=True):
            if _text(sid) is not None:
                sites.setdefault(str(sid), (tech, _text(op), pt))
    loc = village_locations(villages)
    out: list[str | None] = []
    for sid, point in zip(blocked, loc, strict=True):
        sid = _text(sid)
        if sid is None or sid not in sites:
            out.append(sid)
            continue
        tech, operator, site = sites[sid]
        where = direction(site.x - point.x, site.y - point.y, point.y, tr)
        values = {"site": sid, "technology": str(tech).upper(),
                  "operator": operator, "direction": where}
        out.append(tr.gettext(LABELS["blocked_site" if operator else "blocked_site_no_operator"],
                              **values))
    return out


def _top_rank(ranks: Sequence[float | None], top_n: int) -> float:
    """
    The rank of the ``top_n``-th best-ranked village (all of them when fewer are ranked).

    Examples
    --------
    >>> _top_rank([None, 40, 7, 112, 9], 2), _top_rank([None, 40], 5), _top_rank([], 5)
    (9.0, 40.0, 5.0)
    """
    ranked = sorted(float(r) for r in ranks if r is not None)
    return ranked[min(top_n, len(ranked)) - 1] if ranked else float(top_n)


def _translated(tr: Translator, entry: Mapping[str, Any], key: str) -> str:
    message = entry[key]
    return tr.gettext(message)


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str, source: str) -> None:
    """Raise :class:`InputError` naming the first missing column and where it comes from."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{what}: column {missing[0]!r} is missing "
            f"(columns: {', '.join(map(str, frame.columns))}); pass the output of {source}"
        )


def to_wgs84(frame: gpd.GeoDataFrame, what: str, *, drop_empty: bool = True
             ) -> gpd.GeoDataFrame:
    """
    ``frame`` in longitude/latitude for display: the one policy of every map and page.

    Empty geometries are dropped unless ``drop_empty`` is False (rows kept in place when
    they are addressed by position); a frame without a CRS is assumed to be in
    longitude/latitude, with a warning naming ``what``.

    Examples
    --------
    >>> pts = gpd.GeoDataFrame(geometry=[shapely.Point(500_000, 2_300_000), None], crs=32648)
    >>> [round(c, 3) for c in to_wgs84(pts, "villages").geometry.iloc[0].coords[0]]
    [105.0, 20.8]
    >>> len(to_wgs84(pts, "villages")), len(to_wgs84(pts, "villages", drop_empty=False))
    (1, 2)
    """
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise InputError(f"{what}: expected a GeoDataFrame with a geometry column")
    if drop_empty:
        frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    if frame.crs is None:
        warnings.warn(f"{what}: no CRS; assuming longitude/latitude (EPSG:4326)", GeoDxWarning,
                      stacklevel=3)
        return frame.set_crs(4326)
    return frame.to_crs(4326) if frame.crs.to_epsg() != 4326 else frame


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


def _village_columns(villages: gpd.GeoDataFrame, communes: gpd.GeoDataFrame,
                     tr: Translator) -> dict[str, Any]:
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

    tech = [tr.label("technology", t) if t and t != "none" else None
            for t in texts("mobile_technology")]
    blocked = texts("blocked_sentence") if "blocked_sentence" in villages else [
        _text(x) for x in blocked_sentences(villages, tr)]
    power = texts("grid_power")
    known = grid_power_known(pd.Series(power, dtype=object))
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
        # shown only where someone said where the grid is (a village column or power lines)
        "gridPower": [tr.label("grid_power", p) if known and p else None for p in power],
        "reason": texts("reason"),
        "missing": [None if m is None else ", ".join(
            tr.label("component", c.strip()) for c in m.split(",") if c.strip())
            for m in texts("missing_components")],
        "rankP05": numbers("rank_p05", 0),
        "rankP95": numbers("rank_p95", 0),
        "tech": tech,
        "blocked": blocked,
        "planItem": texts("plan_item") if "plan_item" in villages else texts("planned_by"),
        "planYear": numbers("plan_year", 0),
        "planAnswer": texts("plan_answer"),
        "obstacleLat": numbers("obstacle_lat", _COORD_DECIMALS),
        "obstacleLon": numbers("obstacle_lon", _COORD_DECIMALS),
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
