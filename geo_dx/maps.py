"""Self-contained, offline HTML maps of connectivity gaps for planners.

A map is one HTML file that opens by double-click with no internet: Leaflet, its fullscreen
plugin and geo_dx's own layer code are inlined from files vendored in ``geo_dx/assets/`` (see
``scripts/vendor_assets.py``); nothing is fetched from a CDN. The only remote URL in a map is
the OpenStreetMap tile template of an optional base layer that is off by default.

What a map shows: communes shaded by the share of their villages with a gap (tooltip with
counts); villages as circles coloured by ``gap_class`` and sized by ``score``, the top 20
labelled with their rank; a popup per village (distances, population, ethnic share, score
with each component's contribution, reason); mobile sites with reach circles and fibre
nodes; optionally the terrain coverage raster; a legend, a title, a layer control, a
village search box, a scale bar and a fullscreen button.

Village data is embedded once as compact JSON and drawn on a canvas, so a 20,000-village
map stays small and responsive. Every string from the input is put into the page as text
(``textContent``), never as HTML.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import math
import re
import struct
import warnings
import zlib
from collections.abc import Sequence
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.template import Template

from geo_dx.atomic import run_outputs, write_text_atomic
from geo_dx.errors import GeoDxWarning, InputError

__all__ = [
    "GAP_CLASSES", "build_map", "commune_file_name", "commune_gap_table", "rebuild_maps",
    "write_maps",
]

log = logging.getLogger(__name__)

#: Gap classes worst first: (value of ``gap_class``, legend label, colour; Okabe-Ito palette).
GAP_CLASSES: tuple[tuple[str, str, str], ...] = (
    ("no_fibre_no_mobile", "No fibre, no mobile broadband", "#D55E00"),
    ("no_mobile", "No mobile broadband", "#CC79A7"),
    ("no_fibre", "No fibre", "#E69F00"),
    ("none", "Fibre and mobile broadband", "#009E73"),
)
_COMPONENTS = ("severity", "remoteness", "ethnic", "people", "poverty")
#: Column order of village rows in the page; geo_dx_map.js reads them by position.
_VILLAGE_FIELDS = (
    "lat", "lon", "village_id", "village_name", "commune_name", "gap", "score", "rank",
    "nearest_fibre_m", "nearest_mobile_m", "population", "ethnic_minority_share", "reason",
    "missing_components", "rank_p05", "rank_p95", "mobile_technology", "contrib",
)
_SHARE_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
_SHARE_COLORS = ("#f1eef6", "#d0d1e6", "#a6bddb", "#74a9cf", "#2b8cbe")
_NO_DATA_COLOR = "#ffffff"
_TECH_STYLE = {
    "5g": {"color": "#08306b", "label": "5G site and reach"},
    "4g": {"color": "#2171b5", "label": "4G site and reach"},
    "3g": {"color": "#6baed6", "label": "3G site and reach"},
    "2g": {"color": "#8c8c8c", "label": "2G site (not broadband)", "dash": "4 4"},
    "fibre": {"color": "#6a3d9a", "label": "Fibre node"},
    "other": {"color": "#444444", "label": "Other coverage point"},
}
#: Decimal places kept for coordinates (5 ≈ 1 m) and outline simplification (≈ 20 m).
_COORD_DECIMALS = 5
_SIMPLIFY_DEG = 0.0002
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_OSM_ATTR = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)


def build_map(
    villages: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    coverage: gpd.GeoDataFrame,
    *,
    title: str,
    coverage_raster: str | Path | None = None,
    top_n: int = 20,
) -> folium.Map:
    """
    Build an offline folium map of villages, communes and coverage.

    Parameters
    ----------
    villages
        Villages with at least ``gap_class`` and a geometry (points or polygons), as
        returned by ``find_gaps``; scoring columns (``score``, ``rank``, ``contrib_*``,
        ``reason``...) are shown when present.
    communes
        Commune outlines with ``commune_id`` and ``commune_name`` (may be empty).
    coverage
        Coverage points with ``technology`` and ``reach_m`` (may be empty).
    title
        Title shown on the map and in the browser tab, e.g. ``"Điện Biên (synthetic demo)"``.
    coverage_raster
        Optional 0/1 GeoTIFF of terrain mobile coverage, shown as a semi-transparent layer.
    top_n
        How many top-ranked villages get a rank label.

    Returns
    -------
    folium.Map
        Save it with ``m.save(path)``; the file needs no internet to open.

    Examples
    --------
    >>> m = build_map(gaps, communes, coverage, title="Demo (synthetic)")  # doctest: +SKIP
    >>> m.save("map.html")  # doctest: +SKIP
    """
    return _build_map(villages, communes, coverage, title=title,
                      coverage_raster=coverage_raster, top_n=top_n)


def commune_gap_table(villages: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """
    Count villages and gaps per commune, worst commune (largest share with a gap) first.

    Returns one row per commune in ``communes`` (communes without villages last) with
    ``commune_id``, ``commune_name``, ``villages``, ``with_gap``, ``without_fibre``,
    ``without_mobile_broadband``, ``without_both`` and ``gap_share`` (NaN without villages).

    Examples
    --------
    >>> commune_gap_table(gaps, communes).head(3)  # doctest: +SKIP
    """
    _require(villages, ("gap_class",), "villages")
    _require(communes, ("commune_id",), "communes")
    gap = villages["gap_class"].astype(str)
    counts = pd.DataFrame({
        "commune_id": _commune_ids(villages, communes),
        "villages": 1,
        "with_gap": (gap != "none").astype(int),
        "without_fibre": gap.isin(["no_fibre", "no_fibre_no_mobile"]).astype(int),
        "without_mobile_broadband": gap.isin(["no_mobile", "no_fibre_no_mobile"]).astype(int),
        "without_both": (gap == "no_fibre_no_mobile").astype(int),
    }).groupby("commune_id").sum()
    table = pd.DataFrame({
        "commune_id": communes["commune_id"].astype(str).to_numpy(),
        "commune_name": _names(communes, "commune_name", "commune_id").to_numpy(),
    })
    table = table.join(counts, on="commune_id")
    cols = ["villages", "with_gap", "without_fibre", "without_mobile_broadband", "without_both"]
    table[cols] = table[cols].fillna(0).astype(int)
    table["gap_share"] = table["with_gap"] / table["villages"].where(table["villages"] > 0)
    table = table.sort_values(
        ["gap_share", "with_gap", "commune_name"], ascending=[False, False, True],
        na_position="last", kind="stable",
    )
    return table.reset_index(drop=True)


def write_maps(
    out_dir: Path,
    villages: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    coverage: gpd.GeoDataFrame,
    *,
    title: str,
    coverage_raster: str | Path | None = None,
) -> list[Path]:
    """
    Write ``map.html``, one ``communes/<commune_id>.html`` per commune and ``index.html``.

    File names of commune maps are made safe (see :func:`commune_file_name`);
    each file is written atomically. Stale commune maps from an earlier run are removed.

    Returns
    -------
    list of Path
        The files written: the main map, the commune maps, then the index.

    Examples
    --------
    >>> write_maps(Path("maps/demo"), gaps, communes, coverage, title="Demo")  # doctest: +SKIP
    """
    out_dir = Path(out_dir)
    written = [_save(_build_map(villages, communes, coverage, title=title,
                                coverage_raster=coverage_raster), out_dir / "map.html")]
    table = commune_gap_table(villages, communes)
    files = {}
    near = _coverage_near(coverage, communes)
    for cid in table["commune_id"]:
        written.append(_write_commune(out_dir, cid, villages, communes, coverage, title=title,
                                      coverage_raster=coverage_raster, near=near[cid]))
        files[cid] = written[-1].name
    keep = set(files.values())
    for old in (out_dir / "communes").glob("*.html"):
        if old.name not in keep:
            old.unlink()
    index = out_dir / "index.html"
    write_text_atomic(index, _index_html(table, files, title=title))
    written.append(index)
    log.info("wrote %d map files to %s", len(written), out_dir)
    return written


def rebuild_maps(run_dir: Path, *, commune_id: str | None = None) -> list[Path]:
    """
    Rewrite the maps of a finished run from its outputs, recomputing nothing.

    Reads ``run_dir/villages.gpkg`` (layers ``villages``, ``communes``, ``coverage``),
    ``run_dir/summary.json`` (key ``title``) and ``run_dir/coverage_mobile.tif`` if present.

    Parameters
    ----------
    run_dir
        The output directory of ``geo-dx run``.
    commune_id
        Rewrite only this commune's map; an unknown id raises :class:`InputError`.

    Examples
    --------
    >>> rebuild_maps(Path("maps/demo"), commune_id="C01")  # doctest: +SKIP
    [PosixPath('maps/demo/communes/C01.html')]
    """
    return _rebuild(Path(run_dir), commune_id=commune_id)


def _write_commune(
    out_dir: Path,
    commune_id: str,
    villages: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    coverage: gpd.GeoDataFrame,
    *,
    title: str,
    coverage_raster: str | Path | None = None,
    near: gpd.GeoDataFrame | None = None,
) -> Path:
    """Write the map of one commune: its villages, its outline and coverage that reaches it.

    ``near`` is that coverage when the caller has already found it (see ``_coverage_near``).
    """
    cid = str(commune_id)
    own = communes[communes["commune_id"].astype(str) == cid]
    if own.empty:
        raise InputError(f"commune_id {cid!r} is not among the communes")
    vmask = _commune_ids(villages, communes).to_numpy() == cid
    name = str(_names(own, "commune_name", "commune_id").iloc[0])
    if near is None:
        near = _coverage_near(coverage, own)[cid]
    m = _build_map(villages[vmask], own, near, title=f"{title} — {name}",
                   coverage_raster=coverage_raster, clip=own)
    return _save(m, Path(out_dir) / "communes" / commune_file_name(cid))


def _coverage_near(
    coverage: gpd.GeoDataFrame, communes: gpd.GeoDataFrame
) -> dict[str, gpd.GeoDataFrame]:
    """For each commune id, the coverage points whose reach (at least 1 km) touches it."""
    coverage = _to_wgs84(coverage, "coverage")
    communes = _to_wgs84(communes, "communes")
    ids = communes["commune_id"].astype(str).tolist()
    out = {cid: coverage.iloc[:0] for cid in ids}
    if coverage.empty or communes.empty:
        return out
    crs = communes.estimate_utm_crs()
    points = coverage.to_crs(crs).geometry.to_numpy()
    reach = pd.to_numeric(coverage.get("reach_m", pd.Series(np.nan, index=coverage.index)),
                          errors="coerce").fillna(0).clip(lower=1000).to_numpy()
    tree = shapely.STRtree(points)
    for cid, geom in zip(ids, communes.to_crs(crs).geometry.to_numpy(), strict=True):
        idx = tree.query(geom, predicate="dwithin", distance=float(reach.max()))
        out[cid] = coverage.iloc[np.sort(idx[shapely.distance(points[idx], geom) <= reach[idx]])]
    return out


def _build_map(
    villages: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    coverage: gpd.GeoDataFrame,
    *,
    title: str,
    coverage_raster: str | Path | None = None,
    top_n: int = 20,
    clip: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    _require(villages, ("gap_class",), "villages")
    villages = _to_wgs84(villages, "villages")
    communes = _to_wgs84(communes, "communes")
    coverage = _to_wgs84(coverage, "coverage")
    rows, counts = _village_rows(villages, communes)
    table = commune_gap_table(villages, communes) if "commune_id" in communes else None
    sites = _site_rows(coverage)
    has_score = "score" in villages and bool(
        pd.to_numeric(villages["score"], errors="coerce").notna().any())
    bounds = _bounds([villages, communes] if len(villages) or len(communes) else [coverage])
    gap_total = sum(counts[k] for k, _, _ in GAP_CLASSES if k != "none")
    payload = {
        "title": str(title),
        "subtitle": f"{_plural(len(rows), 'village')} · {gap_total:,} with a gap · "
                    f"{_plural(len(communes), 'commune')} · made {date.today().isoformat()}",
        "gapClasses": [{"key": k, "label": label, "color": c} for k, label, c in GAP_CLASSES],
        "components": list(_COMPONENTS),
        "villages": rows,
        "hasScore": has_score,
        "topN": int(top_n),
        "communes": _commune_features(communes, table),
        "shareBins": list(_SHARE_BINS),
        "shareColors": list(_SHARE_COLORS),
        "noDataColor": _NO_DATA_COLOR,
        "sites": sites,
        "techStyle": {k: {"color": v["color"], "dash": v.get("dash")}
                      for k, v in _TECH_STYLE.items()},
        "siteLegend": _site_legend(sites),
        "bounds": bounds,
    }

    center = ([(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
              if bounds else [0.0, 0.0])
    m = folium.Map(location=center, zoom_start=10, tiles=None, prefer_canvas=True,
                   control_scale=True, max_zoom=19)
    m.default_js = []  # nothing from CDNs: see _inline_assets
    m.default_css = []
    _inline_assets(m, title)

    folium.FeatureGroup(name="No basemap (offline)", overlay=False, show=True).add_to(m)
    folium.TileLayer(OSM_TILES, name="OpenStreetMap (needs internet)", attr=_OSM_ATTR,
                     overlay=False, show=False, max_zoom=19).add_to(m)
    if coverage_raster is not None and _add_raster(m, coverage_raster, clip):
        payload["raster"] = {"label": "Terrain mobile coverage",
                             "color": "#{:02x}{:02x}{:02x}".format(*_RASTER_RGB)}
    groups: dict[str, folium.FeatureGroup] = {}
    if len(communes):
        groups["communes"] = folium.FeatureGroup("Communes: share of villages with a gap")
    for key, label, _ in GAP_CLASSES:
        groups[key] = folium.FeatureGroup(f"{label} ({counts[key]:,})")
    if has_score:
        groups["top"] = folium.FeatureGroup(f"Top {int(top_n)} priority labels")
    n_mobile = sum(1 for s in sites if s[2] != "fibre")
    if n_mobile:
        groups["mobile"] = folium.FeatureGroup(f"Mobile sites and reach ({n_mobile:,})")
    if len(sites) - n_mobile:
        groups["fibre"] = folium.FeatureGroup(f"Fibre nodes ({len(sites) - n_mobile:,})")
    for group in groups.values():
        group.add_to(m)
    _Layers(payload, groups).add_to(m)
    folium.LayerControl(position="topright", collapsed=True).add_to(m)
    return m


class _Layers(MacroElement):
    """Hands the embedded data and the empty feature groups to geo_dx_map.js."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoDxMap.build({{ this._parent.get_name() }},
            {{ this.payload }},
            { {%- for key, group in this.groups.items() %}
              {{ key|tojson }}: {{ group.get_name() }},
            {%- endfor %} });
        {% endmacro %}
        """
    )

    def __init__(self, payload: dict[str, Any], groups: dict[str, folium.FeatureGroup]):
        super().__init__()
        self._name = "GeoDxLayers"
        self.payload = _script_json(payload)
        self.groups = groups


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _script_json(obj: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>``, ``<!--``, U+2028)."""
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for raw, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                     ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, esc)
    return text


@cache
def _asset(name: str) -> bytes:
    return resources.files("geo_dx").joinpath("assets", name).read_bytes()


def _data_uri(name: str, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(_asset(name)).decode('ascii')}"


@cache
def _inline_css() -> str:
    leaflet = _asset("leaflet/leaflet.css").decode("utf-8")
    for img in ("layers.png", "layers-2x.png", "marker-icon.png"):
        leaflet = leaflet.replace(f"url(images/{img})",
                                  f'url("{_data_uri("leaflet/images/" + img, "image/png")}")')
    fullscreen = _asset("leaflet.fullscreen/Control.FullScreen.css").decode("utf-8").replace(
        "url('icon-fullscreen.svg')",
        f'url("{_data_uri("leaflet.fullscreen/icon-fullscreen.svg", "image/svg+xml")}")')
    return "\n".join([leaflet, fullscreen, _asset("geo_dx_map.css").decode("utf-8")])


@cache
def _inline_js() -> str:
    icons = {
        "iconUrl": _data_uri("leaflet/images/marker-icon.png", "image/png"),
        "iconRetinaUrl": _data_uri("leaflet/images/marker-icon-2x.png", "image/png"),
        "shadowUrl": _data_uri("leaflet/images/marker-shadow.png", "image/png"),
    }
    parts = [
        _asset("leaflet/leaflet.js").decode("utf-8"),
        # Default marker icons as data URIs, so folium Markers added later work offline too.
        f"L.Icon.Default.imagePath='';L.Icon.Default.mergeOptions({json.dumps(icons)});",
        _asset("leaflet.fullscreen/Control.FullScreen.js").decode("utf-8"),
        _asset("geo_dx_map.js").decode("utf-8"),
    ]
    return "\n".join(p.replace("</script", "<\\/script") for p in parts)


def _inline_assets(m: folium.Map, title: str) -> None:
    root = m.get_root()
    root.title = html.escape(str(title))
    root.header.add_child(Element(f"<style>{_inline_css()}</style>"), name="geodx_css")
    root.header.add_child(Element(f"<script>{_inline_js()}</script>"), name="geodx_js")


def _add_raster(m: folium.Map, path: str | Path, clip: gpd.GeoDataFrame | None) -> bool:
    clip_bounds = None
    if clip is not None and len(clip):
        clip_bounds = tuple(_to_wgs84(clip, "communes").total_bounds)
    overlay = _raster_overlay(path, clip_lonlat=clip_bounds)
    if overlay is None:
        return False
    png_uri, bounds = overlay
    folium.map.CustomPane("geodx-raster", z_index=350, pointer_events=False).add_to(m)
    folium.raster_layers.ImageOverlay(
        png_uri, bounds=bounds, name="Terrain mobile coverage", opacity=0.45, pane="geodx-raster",
        overlay=True, show=True, interactive=False,
    ).add_to(m)
    return True


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{what}: column {missing[0]!r} is missing "
            f"(columns: {', '.join(map(str, frame.columns))});"
            " pass the output of find_gaps/score_villages"
        )


def _to_wgs84(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise InputError(f"{what}: expected a GeoDataFrame with a geometry column")
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


def _commune_ids(villages: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> pd.Series:
    """Each village's commune id (by ``commune_id`` column, else by location)."""
    if "commune_id" in villages:
        return villages["commune_id"].astype("string").fillna("").astype(str)
    ids = pd.Series("", index=villages.index, dtype=object)
    if len(villages) and len(communes):
        pts = villages.geometry.representative_point()
        pts = gpd.GeoDataFrame(geometry=pts, crs=villages.crs).to_crs(communes.crs)
        hit = gpd.sjoin(pts, communes[["commune_id", communes.geometry.name]], predicate="within")
        hit = hit[~hit.index.duplicated()]
        ids.loc[hit.index] = hit["commune_id"].astype(str)
    return ids


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
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return str(value)


def _village_rows(villages: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> tuple[list, dict]:
    keys = [k for k, _, _ in GAP_CLASSES]
    gap = villages["gap_class"].astype(str)
    unknown = sorted(set(gap) - set(keys))
    if unknown:
        raise InputError(f"villages: gap_class has {unknown[0]!r}; allowed: {', '.join(keys)}")
    counts = {k: int((gap == k).sum()) for k in keys}
    pts = villages.geometry.representative_point()
    lat = np.round(pts.y.to_numpy(), _COORD_DECIMALS)
    lon = np.round(pts.x.to_numpy(), _COORD_DECIMALS)
    names = _names(villages, "village_name", "village_id")
    if "commune_name" in villages:
        cnames = villages["commune_name"]
    else:
        lookup = dict(zip(communes.get("commune_id", pd.Series(dtype=str)).astype(str),
                          _names(communes, "commune_name", "commune_id"), strict=False))
        cnames = _commune_ids(villages, communes).map(lookup)

    def col(name: str) -> list:
        return villages[name].tolist() if name in villages else [None] * len(villages)

    contrib_cols = [f"contrib_{c}" for c in _COMPONENTS]
    has_contrib = any(c in villages for c in contrib_cols)
    contrib = list(zip(*(col(c) for c in contrib_cols), strict=True)) if has_contrib else None
    ids, score, rank = col("village_id"), col("score"), col("rank")
    fibre, mobile, pop = col("nearest_fibre_m"), col("nearest_mobile_m"), col("population")
    ethnic, reason, missing = col("ethnic_minority_share"), col("reason"), col("missing_components")
    p05, p95, tech = col("rank_p05"), col("rank_p95"), col("mobile_technology")
    gap_idx = gap.map({k: i for i, k in enumerate(keys)}).tolist()
    rows = []
    for i, (name, cname) in enumerate(zip(names.tolist(), cnames.tolist(), strict=True)):
        t = _text(tech[i])
        rows.append([
            float(lat[i]), float(lon[i]), _text(ids[i]), name, _text(cname), gap_idx[i],
            _num(score[i], 1), _num(rank[i], 0), _num(fibre[i], 0), _num(mobile[i], 0),
            _num(pop[i], 0), _num(ethnic[i], 3), _text(reason[i]) or None,
            _text(missing[i]) or None, _num(p05[i], 0), _num(p95[i], 0),
            t.upper() if t and t != "none" else None,
            [_num(c, 1) for c in contrib[i]] if contrib is not None and _num(score[i]) is not None
            else None,
        ])
    return rows, counts


def _round_coords(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, _COORD_DECIMALS)
    if isinstance(obj, list | tuple):
        return [_round_coords(x) for x in obj]
    return obj


def _commune_features(communes: gpd.GeoDataFrame, table: pd.DataFrame | None) -> dict:
    features = []
    if len(communes):
        stats = table.set_index("commune_id") if table is not None else None
        geoms = shapely.simplify(communes.geometry.to_numpy(), _SIMPLIFY_DEG,
                                 preserve_topology=True)
        names = _names(communes, "commune_name", "commune_id").tolist()
        ids = communes["commune_id"].astype(str).tolist() if "commune_id" in communes else names
        for cid, name, geom in zip(ids, names, geoms, strict=True):
            s = stats.loc[cid] if stats is not None and cid in stats.index else None
            s = s.iloc[0] if isinstance(s, pd.DataFrame) else s
            props = {"id": cid, "name": name}
            if s is not None:
                props |= {"villages": int(s["villages"]), "gap": int(s["with_gap"]),
                          "noFibre": int(s["without_fibre"]),
                          "noMobile": int(s["without_mobile_broadband"]),
                          "noBoth": int(s["without_both"]), "share": _num(s["gap_share"], 3)}
            geo = shapely.geometry.mapping(geom)
            geometry = {"type": geo["type"], "coordinates": _round_coords(geo["coordinates"])}
            features.append({"type": "Feature", "properties": props, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


def _site_rows(coverage: gpd.GeoDataFrame) -> list:
    if coverage.empty:
        return []
    pts = coverage.geometry.representative_point()
    tech = (coverage["technology"].astype(str).str.lower() if "technology" in coverage
            else pd.Series("other", index=coverage.index))
    reach = coverage["reach_m"] if "reach_m" in coverage else coverage.get("range_m")
    reach = reach.tolist() if reach is not None else [None] * len(coverage)
    extra = {c: (coverage[c].tolist() if c in coverage else [None] * len(coverage))
             for c in ("operator", "kind", "source")}
    return [
        [round(float(y), _COORD_DECIMALS), round(float(x), _COORD_DECIMALS),
         t if t in _TECH_STYLE else "other", _num(r, 0), _text(op), _text(kind), _text(src)]
        for y, x, t, r, op, kind, src in zip(pts.y, pts.x, tech, reach, extra["operator"],
                                             extra["kind"], extra["source"], strict=True)
    ]


def _site_legend(sites: list) -> list[dict]:
    present = {s[2] for s in sites}
    return [{"label": v["label"], "color": v["color"], "ring": k not in ("fibre", "other")}
            for k, v in _TECH_STYLE.items() if k in present]


def _bounds(frames: Sequence[gpd.GeoDataFrame]) -> list[list[float]] | None:
    boxes = [f.total_bounds for f in frames if len(f)]
    if not boxes:
        return None
    b = np.array(boxes)
    w, s, e, n = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    pad = 0.002 if (e - w) < 1e-3 and (n - s) < 1e-3 else 0.0
    return [[round(float(s) - pad, 5), round(float(w) - pad, 5)],
            [round(float(n) + pad, 5), round(float(e) + pad, 5)]]


def _save(m: folium.Map, path: Path) -> Path:
    return write_text_atomic(path, m.get_root().render())


# --- Files: safe names, the index page, rebuilding from a run ------------------------------

_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
             *(f"LPT{i}" for i in range(10))}


def commune_file_name(commune_id: str) -> str:
    """
    File name of a commune's map: the id if it is safe, else a cleaned id plus a short hash.

    Safe means ASCII letters, digits, ``_`` and ``-`` only, at most 80 characters and not a
    reserved Windows device name; distinct ids always get distinct names.

    Examples
    --------
    >>> commune_file_name("DB-001")
    'DB-001.html'
    >>> commune_file_name("../x")
    '___x-72e4d01d.html'
    """
    cid = str(commune_id)
    clean = re.sub(r"[^A-Za-z0-9_-]", "_", cid)[:80]
    if clean != cid or not clean or clean.upper() in _RESERVED:
        clean = f"{clean}-{hashlib.sha1(cid.encode('utf-8')).hexdigest()[:8]}"
    return f"{clean}.html"


def _index_html(table: pd.DataFrame, files: dict[str, str], *, title: str) -> str:
    """A plain HTML page listing communes worst first with counts and links (no scripts)."""
    esc = html.escape
    rows = []
    for i, r in enumerate(table.itertuples(index=False), start=1):
        share = "–" if pd.isna(r.gap_share) else f"{r.gap_share:.0%}"
        link = f'<a href="communes/{esc(files[r.commune_id])}">{esc(str(r.commune_name))}</a>'
        rows.append(
            f"<tr><td>{i}</td><td>{link}</td><td>{esc(str(r.commune_id))}</td>"
            f"<td>{r.villages}</td><td>{r.with_gap}</td><td>{share}</td>"
            f"<td>{r.without_fibre}</td><td>{r.without_mobile_broadband}</td>"
            f"<td>{r.without_both}</td></tr>"
        )
    fill = {"title": esc(str(title)), "made": date.today().isoformat(), "rows": "\n".join(rows)}
    template = _asset("index_template.html").decode("utf-8")
    return re.sub(r"\{\{(\w+)\}\}", lambda mt: fill[mt.group(1)], template)


def _rebuild(run_dir: Path, *, commune_id: str | None = None) -> list[Path]:
    """Implementation of :func:`rebuild_maps` (kept apart so the docstring stays short)."""
    gpkg = run_dir / "villages.gpkg"
    if not gpkg.exists():
        raise InputError(f"{gpkg}: not found; run `geo-dx run` to write {run_dir} first")
    try:
        layers = {name: gpd.read_file(gpkg, layer=name)
                  for name in ("villages", "communes", "coverage")}
    except Exception as err:  # pyogrio raises its own errors for a missing layer
        raise InputError(
            f"{gpkg}: cannot read layers villages, communes, coverage ({err}); "
            "re-run `geo-dx run` to rewrite it"
        ) from err
    title = _run_title(run_dir)
    raster = run_dir / "coverage_mobile.tif"
    outputs = run_outputs(run_dir)  # a raster the run did not write is not its layer
    raster_arg = raster if raster.exists() and (outputs is None or raster.name in outputs) else None
    if commune_id is None:
        return write_maps(run_dir, layers["villages"], layers["communes"], layers["coverage"],
                          title=title, coverage_raster=raster_arg)
    ids = layers["communes"]["commune_id"].astype(str)
    if str(commune_id) not in set(ids):
        some = ", ".join(ids.head(10))
        raise InputError(
            f"{gpkg}: commune_id {commune_id!r} not found in layer communes; "
            f"valid ids include: {some}{' ...' if len(ids) > 10 else ''}"
        )
    return [_write_commune(run_dir, str(commune_id), layers["villages"], layers["communes"],
                           layers["coverage"], title=title, coverage_raster=raster_arg)]


def _run_title(run_dir: Path) -> str:
    summary = run_dir / "summary.json"
    try:
        title = json.loads(summary.read_text(encoding="utf-8")).get("title")
    except FileNotFoundError:
        title = None
    except (json.JSONDecodeError, AttributeError) as err:
        raise InputError(f"{summary}: not a JSON object ({err}); re-run `geo-dx run`") from err
    if not title:
        warnings.warn(f"{summary}: no 'title'; using the folder name {run_dir.name!r}",
                      GeoDxWarning, stacklevel=3)
        return run_dir.name
    return str(title)


# --- Terrain coverage raster as an image overlay -------------------------------------------

_RASTER_MAX_PX = 2048
_RASTER_RGB = (0, 158, 115)


def _raster_overlay(
    path: str | Path, *, clip_lonlat: tuple[float, float, float, float] | None = None
) -> tuple[str, list[list[float]]] | None:
    """Warp a 0/1 coverage GeoTIFF to Web Mercator: a PNG data URI and its lat/lon bounds."""
    import rasterio
    from affine import Affine
    from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: coverage raster not found; check the path or omit it")
    with rasterio.open(path) as src:
        if src.crs is None:
            raise InputError(f"{path}: the raster has no CRS; write it with one (e.g. UTM)")
        left, bottom, right, top = src.bounds
        if clip_lonlat is not None:
            pad = 0.02  # ~2 km around the commune
            w, s, e, n = transform_bounds(4326, src.crs, clip_lonlat[0] - pad,
                                          clip_lonlat[1] - pad, clip_lonlat[2] + pad,
                                          clip_lonlat[3] + pad)
            left, bottom, right, top = max(left, w), max(bottom, s), min(right, e), min(top, n)
            if left >= right or bottom >= top:
                return None
        # Source pixels inside the window, so the output keeps the source resolution.
        cols = max(1, round((right - left) / abs(src.res[0])))
        rows = max(1, round((top - bottom) / abs(src.res[1])))
        transform, width, height = calculate_default_transform(
            src.crs, "EPSG:3857", cols, rows, left=left, bottom=bottom, right=right, top=top)
        scale = max(width, height) / _RASTER_MAX_PX
        if scale > 1:
            width, height = max(1, int(width / scale)), max(1, int(height / scale))
            transform = Affine(transform.a * scale, 0.0, transform.c,
                               0.0, transform.e * scale, transform.f)
        mask = np.zeros((height, width), dtype=np.uint8)
        reproject(rasterio.band(src, 1), mask, dst_transform=transform, dst_crs="EPSG:3857",
                  dst_nodata=0, resampling=Resampling.nearest)
    west, north = transform.c, transform.f
    east, south = west + transform.a * width, north + transform.e * height
    w, s, e, n = transform_bounds("EPSG:3857", 4326, west, south, east, north)
    return _mask_png(mask == 1), [[round(s, 6), round(w, 6)], [round(n, 6), round(e, 6)]]


def _mask_png(covered: np.ndarray) -> str:
    """A two-colour palette PNG (transparent / coverage colour) as a data URI."""
    height, width = covered.shape
    raw = np.zeros((height, width + 1), dtype=np.uint8)  # filter byte 0 starts each row
    raw[:, 1:] = covered

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    png = b"".join([
        b"\x89PNG\r\n\x1a\n",
        chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)),
        chunk(b"PLTE", bytes((0, 0, 0, *_RASTER_RGB))),
        chunk(b"tRNS", bytes((0, 255))),
        chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)),
        chunk(b"IEND", b""),
    ])
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
