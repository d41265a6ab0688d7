"""Self-contained, offline HTML maps of connectivity gaps for planners.

A map is one HTML file that opens by double-click with no internet: Leaflet, its fullscreen
plugin and geo_dx's page code are inlined (:mod:`geo_dx.map_assets`); nothing is fetched
from a CDN. The only remote URL in a map is the OpenStreetMap tile template of an optional
base layer that is off by default.

What a map shows: communes shaded by the share of their villages with a gap (tooltip with
counts); villages as circles coloured by ``gap_class`` and sized by ``score``, the top 20
labelled with their rank; a popup per village; mobile sites with reach circles and fibre
nodes; optionally the terrain coverage raster (:mod:`geo_dx.map_raster`); a legend, a title,
a layer control, a village search box, a scale bar and a fullscreen button. The data drawn
comes from :func:`geo_dx.map_payload.map_payload`; this module assembles the folium map and
writes the files of a run: ``map.html``, one map per commune and ``index.html``.

The per-commune counts and their order (worst first) are those of
:func:`geo_dx.communes.summarise_communes`, passed in as ``communes``; maps never recount.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import warnings
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import jinja2
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from geo_dx.atomic import run_outputs, write_text_atomic
from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.map_assets import asset, inline_assets, script_json
from geo_dx.map_payload import LABELS, map_payload, require_columns, to_wgs84
from geo_dx.map_raster import RASTER_RGB, raster_overlay
from geo_dx.schema import working_crs

__all__ = ["OSM_TILES", "build_map", "commune_file_name", "rebuild_maps", "write_maps"]

log = logging.getLogger(__name__)

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_OSM_ATTR = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
#: Coverage within this distance (or its reach, if larger) of a commune shows on its map.
_NEAR_MIN_M = 1000.0


def build_map(
    villages: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    coverage: gpd.GeoDataFrame,
    *,
    title: str,
    coverage_raster: str | Path | None = None,
    top_n: int = 20,
    clip: bool = False,
    layers: Sequence[Callable[[folium.Map], Any]] = (),
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
        The per-commune table of :func:`geo_dx.communes.summarise_communes` (may be empty).
    coverage
        Coverage points with ``technology`` and ``reach_m`` (may be empty).
    title
        Title shown on the map and in the browser tab, e.g. ``"Điện Biên (synthetic demo)"``.
    coverage_raster
        Optional 0/1 GeoTIFF of terrain mobile coverage, shown as a semi-transparent layer.
    top_n
        How many top-ranked villages get a rank label.
    clip
        Cut the coverage raster to the communes' extent (for a commune's own map).
    layers
        Extra layers: callables that add themselves to the map (e.g. the investment plan,
        :func:`geo_dx.plan_map.plan_layer`).

    Returns
    -------
    folium.Map
        Save it with ``m.save(path)``; the file needs no internet to open.

    Examples
    --------
    >>> import geo_dx
    >>> demo = geo_dx.load_demo()
    >>> gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
    >>> table = geo_dx.summarise_communes(gaps, demo.communes)
    >>> m = build_map(gaps, table, demo.coverage, title="Demo (synthetic)")
    >>> "geoDxMap.build" in m.get_root().render()
    True
    """
    data = map_payload(villages, communes, coverage, title=title, top_n=top_n)
    bounds = data["bounds"]
    center = ([(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
              if bounds else [0.0, 0.0])
    m = folium.Map(location=center, zoom_start=10, tiles=None, prefer_canvas=True,
                   control_scale=True, max_zoom=19)
    inline_assets(m, title)
    folium.FeatureGroup(name=LABELS["basemap_none"], overlay=False, show=True).add_to(m)
    folium.TileLayer(OSM_TILES, name=LABELS["basemap_osm"], attr=_OSM_ATTR,
                     overlay=False, show=False, max_zoom=19).add_to(m)
    if coverage_raster is not None:
        clip_box = None
        if clip and len(communes):
            clip_box = tuple(to_wgs84(communes, "communes").total_bounds)
        if _add_raster(m, coverage_raster, clip_box):
            data["raster"] = {"label": LABELS["layer_raster"],
                              "color": "#{:02x}{:02x}{:02x}".format(*RASTER_RGB)}
    groups = _feature_groups(data)
    for group in groups.values():
        group.add_to(m)
    _Layers(data, groups).add_to(m)
    for add_layer in layers:
        add_layer(m)
    folium.LayerControl(position="topright", collapsed=True).add_to(m)
    return m


def write_maps(
    out_dir: str | Path,
    villages: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    coverage: gpd.GeoDataFrame,
    *,
    title: str,
    coverage_raster: str | Path | None = None,
    commune_id: str | None = None,
    layers: Sequence[Callable[[folium.Map], Any]] = (),
) -> list[Path]:
    """
    Write ``map.html``, one ``communes/<commune_id>.html`` per commune and ``index.html``.

    File names of commune maps are made safe (see :func:`commune_file_name`); each file is
    written atomically. Stale commune maps from an earlier run are removed.

    Parameters
    ----------
    out_dir
        Folder to write into.
    villages
        Villages with ``gap_class`` and ``commune_id`` (the output of ``find_gaps`` with
        communes, or of ``score``).
    communes
        The per-commune table of :func:`geo_dx.communes.summarise_communes`, worst first;
        the index lists communes in this order.
    coverage
        Coverage points with ``technology`` and ``reach_m``.
    title
        Title of the maps.
    coverage_raster
        Optional 0/1 GeoTIFF of terrain mobile coverage.
    commune_id
        Write only this commune's map (an unknown id raises :class:`InputError`).
    layers
        Extra layers for the main map (see :func:`build_map`).

    Returns
    -------
    list of Path
        The files written: the main map, the commune maps, then the index.

    Examples
    --------
    >>> import tempfile, geo_dx
    >>> demo = geo_dx.load_demo()
    >>> gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
    >>> table = geo_dx.summarise_communes(gaps, demo.communes).head(2)
    >>> paths = write_maps(tempfile.mkdtemp(), gaps, table, demo.coverage, title="Demo")
    >>> paths[0].name, len(paths), paths[-1].name
    ('map.html', 4, 'index.html')
    """
    out_dir = Path(out_dir)
    require_columns(villages, ("gap_class", "commune_id"), "villages", "find_gaps with communes")
    require_columns(communes, ("commune_id", "commune_name"), "communes", "summarise_communes")
    ids = communes["commune_id"].astype(str)
    if commune_id is not None:
        _check_commune_id(ids, commune_id, "communes")
        ids = ids[ids == str(commune_id)]
    near = _coverage_near(coverage, communes[communes["commune_id"].astype(str).isin(ids)])
    village_commune = villages["commune_id"].astype("string").fillna("").to_numpy()
    written, files = [], {}
    if commune_id is None:
        written.append(_save(build_map(villages, communes, coverage, title=title,
                                       coverage_raster=coverage_raster, layers=layers),
                             out_dir / "map.html"))
    for i, cid in zip(ids.index, ids, strict=True):
        own = communes.loc[[i]]
        name = str(own["commune_name"].iloc[0])
        m = build_map(villages[village_commune == cid], own, near[cid],
                      title=LABELS["commune_title"].format(title=title, name=name),
                      coverage_raster=coverage_raster, clip=True)
        written.append(_save(m, out_dir / "communes" / commune_file_name(cid)))
        files[cid] = written[-1].name
    if commune_id is not None:
        return written
    for old in (out_dir / "communes").glob("*.html"):
        if old.name not in set(files.values()):
            old.unlink()
    written.append(write_text_atomic(out_dir / "index.html",
                                     _index_html(communes, files, title=title)))
    log.info("wrote %d map files to %s", len(written), out_dir)
    return written


def rebuild_maps(run_dir: str | Path, *, commune_id: str | None = None) -> list[Path]:
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
    >>> rebuild_maps("no/such/run")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    geo_dx.errors.InputError: no/such/run/villages.gpkg: not found; run `geo-dx run` to ...
    """
    run_dir = Path(run_dir)
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
    if commune_id is not None:
        _check_commune_id(layers["communes"]["commune_id"].astype(str), commune_id,
                          f"{gpkg}: layer communes")
    raster = run_dir / "coverage_mobile.tif"
    outputs = run_outputs(run_dir)  # a raster this run did not write is not its layer
    shown = raster.exists() and (outputs is None or raster.name in outputs)
    from geo_dx.plan_map import plan_layer_from_run

    plan = plan_layer_from_run(gpkg, layers["villages"])
    return write_maps(run_dir, layers["villages"], layers["communes"], layers["coverage"],
                      title=_run_title(run_dir), commune_id=commune_id,
                      coverage_raster=raster if shown else None,
                      layers=(plan,) if plan is not None else ())


def _check_commune_id(ids: pd.Series, commune_id: str, where: str) -> None:
    if str(commune_id) not in set(ids):
        raise InputError(
            f"{where}: commune_id {commune_id!r} not found; valid ids include: "
            f"{', '.join(ids.head(10))}{' ...' if len(ids) > 10 else ''}")


# --- Map assembly -------------------------------------------------------------------------


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
        self.payload = script_json(payload)
        self.groups = groups


def _feature_groups(data: dict[str, Any]) -> dict[str, folium.FeatureGroup]:
    """The empty layers (filled by geo_dx_map.js) that the layer control lists."""
    groups: dict[str, folium.FeatureGroup] = {}
    if data["communes"]["features"]:
        groups["communes"] = folium.FeatureGroup(LABELS["layer_communes"])
    for cls in data["gapClasses"]:
        groups[cls["key"]] = folium.FeatureGroup(
            LABELS["layer_gap"].format(label=cls["label"], n=f"{cls['count']:,}"))
    if data["hasScore"]:
        groups["top"] = folium.FeatureGroup(LABELS["layer_top"].format(n=data["topN"]))
    tech = data["sites"]["tech"]
    n_fibre = tech.count("fibre")
    if len(tech) - n_fibre:
        groups["mobile"] = folium.FeatureGroup(
            LABELS["layer_mobile"].format(n=f"{len(tech) - n_fibre:,}"))
    if n_fibre:
        groups["fibre"] = folium.FeatureGroup(LABELS["layer_fibre"].format(n=f"{n_fibre:,}"))
    return groups


def _add_raster(
    m: folium.Map, path: str | Path, clip_lonlat: tuple[float, float, float, float] | None
) -> bool:
    overlay = raster_overlay(path, clip_lonlat=clip_lonlat)
    if overlay is None:
        return False
    png_uri, bounds = overlay
    folium.map.CustomPane("geodx-raster", z_index=350, pointer_events=False).add_to(m)
    folium.raster_layers.ImageOverlay(
        png_uri, bounds=bounds, name=LABELS["layer_raster"], opacity=0.45, pane="geodx-raster",
        overlay=True, show=True, interactive=False,
    ).add_to(m)
    return True


def _coverage_near(
    coverage: gpd.GeoDataFrame, communes: gpd.GeoDataFrame
) -> dict[str, gpd.GeoDataFrame]:
    """For each commune id, the coverage points whose reach (at least 1 km) touches it."""
    coverage = to_wgs84(coverage, "coverage")
    communes = to_wgs84(communes, "communes")
    ids = communes["commune_id"].astype(str).tolist()
    out = {cid: coverage.iloc[:0] for cid in ids}
    if coverage.empty or communes.empty:
        return out
    crs = working_crs(communes)
    points = coverage.to_crs(crs).geometry.to_numpy()
    reach = pd.to_numeric(coverage.get("reach_m", pd.Series(np.nan, index=coverage.index)),
                          errors="coerce").fillna(0).clip(lower=_NEAR_MIN_M).to_numpy()
    tree = shapely.STRtree(points)
    for cid, geom in zip(ids, communes.to_crs(crs).geometry.to_numpy(), strict=True):
        idx = tree.query(geom, predicate="dwithin", distance=float(reach.max()))
        out[cid] = coverage.iloc[np.sort(idx[shapely.distance(points[idx], geom) <= reach[idx]])]
    return out


def _save(m: folium.Map, path: Path) -> Path:
    return write_text_atomic(path, m.get_root().render())


# --- Files: safe names, the index page, the run's title -----------------------------------

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
    """A plain HTML page listing communes in the table's order with counts and links."""
    require_columns(table, ("villages", "with_gap", "without_fibre", "without_mobile_broadband",
                            "without_both", "gap_share"), "communes", "summarise_communes")
    rows = [
        {"file": files[str(r.commune_id)], "name": str(r.commune_name), "id": str(r.commune_id),
         "villages": int(r.villages), "with_gap": int(r.with_gap),
         "share": "–" if pd.isna(r.gap_share) else f"{r.gap_share:.0%}",
         "without_fibre": int(r.without_fibre),
         "without_mobile": int(r.without_mobile_broadband), "without_both": int(r.without_both)}
        for r in table.itertuples(index=False)
    ]
    env = jinja2.Environment(autoescape=True, keep_trailing_newline=True)
    template = env.from_string(asset("index_template.html").decode("utf-8"))
    return template.render(title=str(title), made=date.today().isoformat(), rows=rows)


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

