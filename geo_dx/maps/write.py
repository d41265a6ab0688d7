"""Self-contained, offline HTML maps of connectivity gaps for planners.

A map is one HTML file that opens by double-click with no internet: Leaflet, its fullscreen
plugin and geo_dx's page code are inlined (:mod:`geo_dx.maps.assets`); nothing is fetched
from a CDN. The only remote URL in a map is the OpenStreetMap tile template of an optional
base layer that is off by default.

What a map shows: communes shaded by the share of their villages with a gap (tooltip with
counts); villages as circles coloured by ``gap_class`` and sized by ``score``, the top 20
labelled with their rank; a popup per village; mobile sites with reach circles and fibre
nodes; optionally the terrain coverage raster (:mod:`geo_dx.maps.raster`); a legend, a title,
a layer control, a village search box, a scale bar and a fullscreen button. The data drawn
comes from :func:`geo_dx.maps.payload.map_payload`; this module assembles the folium map and
writes the files of a run: ``map.html``, one map per commune and ``index.html``.

The per-commune counts and their order (worst first) are those of
:func:`geo_dx.communes.summarise_communes`, passed in as ``communes``; maps never recount.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import xyzservices

from geo_dx.atomic import write_text_atomic
from geo_dx.communes import misplaced_villages
from geo_dx.errors import InputError
from geo_dx.forked import fork_map
from geo_dx.i18n import DEFAULT_LANGUAGE
from geo_dx.maps.assets import (
    SHARED_ASSETS,
    asset,
    inline_assets,
    link_assets,
    write_shared_assets,
)
from geo_dx.maps.context import PlaceContext, context_payload
from geo_dx.maps.dossier import dossier_page, plan_layers, plan_rows
from geo_dx.maps.layers import GeoDxLayers, add_raster, feature_groups, text_elements
from geo_dx.maps.overview import (
    OVERVIEW_ABOVE_VILLAGES,
    Area,
    area_labels,
    area_plan,
    areas_nav_html,
    coverage_near,
    split_areas,
)
from geo_dx.maps.pages import (
    commune_file_name,
    commune_page_names,
    index_html,
    page_words,
    use_page_template,
)
from geo_dx.maps.payload import map_payload, require_columns, to_wgs84
from geo_dx.maps.raster import RASTER_RGB

__all__ = ["OSM_TILES", "PlaceContext", "build_map", "check_commune_id", "commune_file_name",
           "write_maps"]

log = logging.getLogger(__name__)

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_OSM_ATTR = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
#: The same tiles as a provider: folium looks a plain string up among ~1,000 providers
#: (10 ms a page) before using it as a URL.
_OSM_PROVIDER = xyzservices.TileProvider(name="osm", url=OSM_TILES, attribution=_OSM_ATTR,
                                         html_attribution=_OSM_ATTR)
#: Commune pages are written by a pool of processes (one per core) from this many pages.
_PARALLEL_MIN_PAGES = 48
#: ... and an overview's area maps (each up to ~20,000 villages) from this many areas.
_PARALLEL_MIN_AREAS = 4


def build_map(
    villages: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    coverage: gpd.GeoDataFrame,
    *,
    title: str,
    coverage_raster: str | Path | None = None,
    top_n: int = 20,
    top_of_map: bool = False,
    clip: bool = False,
    context: PlaceContext | None = None,
    show_covered: bool = True,
    show_coverage: bool = True,
    layers: Sequence[Callable[[folium.Map], Any]] = (),
    language: str = DEFAULT_LANGUAGE,
    assets_href: str | None = None,
    overview: bool = False,
    areas: dict[str, list] | None = None,
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
        How many top-ranked villages get a rank label (ranks 1 to ``top_n``).
    top_of_map
        Label this map's ``top_n`` best-ranked villages instead (the area maps of a
        national overview), each with its rank in the priority list.
    clip
        Cut the coverage raster, relief, roads and towns to the communes' extent (for a
        commune's own map).
    context
        Relief, roads and towns to show around the villages (:class:`PlaceContext`);
        commune names are always labelled.
    show_covered, show_coverage
        Whether villages with fibre and mobile broadband, and coverage (sites, nodes and
        the terrain coverage raster), are shown when the page opens (reach circles always
        start hidden; every layer can be switched on in the layer control).
    layers
        Extra layers: callables that add themselves to the map (e.g. the investment plan,
        :func:`geo_dx.maps.plan_layer.plan_layer`).
    language
        ``"vi"`` (default) or ``"en"``: the page's language, labels and number formats.
    assets_href
        Link the shared page code from this folder (e.g. ``"../assets/"``,
        :func:`geo_dx.maps.assets.write_shared_assets`) instead of inlining its ~200 kB.
    overview
        Communes only, no village or site markers (the national overview; counts in the
        title and legend are still those of ``villages``).
    areas
        The overview's area labels (:func:`geo_dx.maps.overview.area_labels`): names at
        national zoom, commune names only when zoomed in.

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
    data = map_payload(villages, communes, coverage.iloc[:0] if overview else coverage,
                       title=title, top_n=top_n, top_of_map=top_of_map,
                       language=language)
    if overview:
        data["villages"] = {key: [] for key in data["villages"]}
        data["hasScore"] = False
    labels = data["labels"]
    bounds = data["bounds"]
    center = ([(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
              if bounds else [0.0, 0.0])
    m = folium.Map(location=center, zoom_start=10, tiles=None, prefer_canvas=True,
                   control_scale=False, max_zoom=19, zoom_snap=0.25)
    if assets_href is None:
        inline_assets(m, title)
    else:
        link_assets(m, title, assets_href)
    use_page_template(m, lang=data["lang"], body_class="geodx-map-page")
    folium.FeatureGroup(name=labels["basemap_none"], overlay=False, show=True).add_to(m)
    folium.TileLayer(_OSM_PROVIDER, name=labels["basemap_osm"], attr=_OSM_ATTR,
                     overlay=False, show=False, max_zoom=19).add_to(m)
    clip_box = None
    if clip and len(communes):
        clip_box = tuple(float(x) for x in to_wgs84(communes, "communes").total_bounds)
    data["context"] = context_payload(context, to_wgs84(communes, "communes"), bounds=clip_box)
    if areas is not None:
        data["context"]["areaLabels"] = areas
    if coverage_raster is not None and add_raster(m, coverage_raster, clip_box,
                                                   labels["layer_raster"], show_coverage):
        data["raster"] = {"label": labels["layer_raster"],
                          "color": "#{:02x}{:02x}{:02x}".format(*RASTER_RGB)}
    groups = feature_groups(data, show_covered=show_covered, show_coverage=show_coverage)
    if overview:
        markers = {c["key"] for c in data["gapClasses"]} | {"top"}
        groups = {k: g for k, g in groups.items() if k not in markers}
    for group in groups.values():
        group.add_to(m)
    GeoDxLayers(data, groups).add_to(m)
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
    context: PlaceContext | None = None,
    all_communes: bool = False,
    plan_items: pd.DataFrame | None = None,
    layers: Sequence[Callable[[folium.Map], Any]] = (),
    language: str = DEFAULT_LANGUAGE,
    crs: object | None = None,
) -> list[Path]:
    """
    Write ``map.html``, a dossier page per commune with villages and ``index.html``.

    Commune pages are ``communes/<name slug>-<id>.html`` (see
    :func:`geo_dx.maps.pages.commune_page_names`): the commune's map, totals, gap villages in
    priority order with reasons, and its plan items. Each file is written atomically;
    stale commune pages from an earlier run are removed. Misplaced villages (a
    ``location_issue``) are left off every map and listed on the index and their commune's
    page (:func:`geo_dx.communes.misplaced_villages`).

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
        Write only this commune's page, even if it has no villages (an unknown id raises
        :class:`InputError`).
    context
        Relief, roads and towns to show (:class:`PlaceContext`).
    all_communes
        Also write pages of communes without villages.
    plan_items
        Planned works (the plan's items, :func:`geo_dx.plan.model.plan_investments`); each
        dossier lists those with a ``commune_id`` equal to its commune's or serving one of
        its villages (``villages_served``, ``;``-separated ids). ``None`` without a plan.
    layers
        Extra layers for the main map (see :func:`build_map`).
    language
        ``"vi"`` (default) or ``"en"``: the language of every page.
    crs
        The run's working CRS (configured, else :func:`geo_dx.spatial.working_crs`), in
        which distances on the pages are measured.

    Returns
    -------
    list of Path
        The files written: the main map, the commune pages, then the index.

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
    require_columns(communes, ("commune_id", "commune_name", "villages"), "communes",
                    "summarise_communes")
    all_ids = communes["commune_id"].astype(str)
    names = commune_page_names(all_ids, communes["commune_name"])
    if commune_id is not None:
        check_commune_id(all_ids, commune_id, "communes")
        ids = all_ids[all_ids == str(commune_id)]
    else:
        ids = all_ids[(pd.to_numeric(communes["villages"]) > 0) | all_communes]
    write_shared_assets(out_dir)
    # villages grouped by commune once (positions), not one scan of all villages per commune
    village_commune = villages["commune_id"].astype("string").fillna("").to_numpy()
    by_commune = pd.Series(np.arange(len(villages))).groupby(village_commune).indices
    written = [] if commune_id is not None else _main_maps(
        out_dir, villages, communes, coverage, by_commune, title=title,
        coverage_raster=coverage_raster, context=context, layers=layers, language=language,
        plan_items=plan_items)
    near = coverage_near(coverage, communes[all_ids.isin(ids)], crs=crs)
    jobs = [(int(i), cid, names[cid]) for i, cid in zip(ids.index, ids, strict=True)]
    # projected for the pages once, not once per page (a third of a page's time)
    shared = _PageInputs(out_dir, to_wgs84(villages, "villages", drop_empty=False),
                         to_wgs84(communes, "communes", drop_empty=False), near, by_commune, title,
                         coverage_raster, context, plan_items, language)
    written += fork_map(_commune_page, shared, jobs, min_jobs=_PARALLEL_MIN_PAGES)
    files = {cid: name for _, cid, name in jobs}
    if commune_id is not None:
        return written
    for old in (out_dir / "communes").glob("*.html"):
        if old.name not in set(files.values()):
            old.unlink()
    written.append(write_text_atomic(out_dir / "index.html",
                                     _index_html(communes, files, villages, title=title,
                                                 out_dir=out_dir, language=language)))
    log.info("wrote %d map files to %s", len(written), out_dir)
    return written


def _main_maps(
    out_dir: Path, villages: gpd.GeoDataFrame, communes: gpd.GeoDataFrame,
    coverage: gpd.GeoDataFrame, by_commune: dict[str, np.ndarray], *, title: str,
    coverage_raster: str | Path | None, context: PlaceContext | None,
    layers: Sequence[Callable[[folium.Map], Any]], language: str,
    plan_items: pd.DataFrame | None = None,
) -> list[Path]:
    """``map.html`` (self-contained), above a size the overview and the area maps."""
    href = SHARED_ASSETS + "/"
    if len(villages) <= OVERVIEW_ABOVE_VILLAGES:
        m = build_map(villages, communes, coverage, title=title, coverage_raster=coverage_raster,
                      context=context, show_covered=False, show_coverage=False, layers=layers,
                      language=language)
        for old in (out_dir / "areas").glob("*.html"):
            old.unlink()
        return [_save(m, out_dir / "map.html")]
    areas = split_areas(villages, communes, coverage, by_commune, language=language)
    plans = [area_plan(a, plan_items) for a in areas]
    shared = _AreaInputs(out_dir, areas, plans, title, coverage_raster, context, language,
                         "../" + href)
    written = fork_map(_area_map, shared, range(len(areas)), min_jobs=_PARALLEL_MIN_AREAS)
    keep = {Path(a.file).name for a in areas}
    for old in (out_dir / "areas").glob("*.html"):
        if old.name not in keep:
            old.unlink()
    links = [(a.name, a.file, len(a.villages), a.with_gap) for a in areas]
    # No plan layer at national zoom (its items would cover the country): each area's label
    # counts its items and their cost, its map draws them.
    m = build_map(villages, communes, coverage, title=title, context=None, language=language,
                  overview=True, areas=area_labels(areas, plans, language=language))
    use_page_template(m, lang=page_words(language).lang,
                      body_class="geodx-map-page geodx-overview",
                      after=areas_nav_html(links, language=language))
    return [_save(m, out_dir / "map.html"), *written]


@dataclass(frozen=True)
class _AreaInputs:
    """What every area map of an overview reads (inherited by forked workers)."""

    out_dir: Path
    areas: list[Area]
    plans: list[pd.DataFrame | None]
    title: str
    coverage_raster: str | Path | None
    context: PlaceContext | None
    language: str
    assets_href: str


def _area_map(shared: _AreaInputs, index: int) -> Path:
    """The map of one area of the overview."""
    a = shared.areas[index]
    m = build_map(a.villages, a.communes, a.coverage, title=f"{shared.title} — {a.name}",
                  coverage_raster=shared.coverage_raster, clip=True, context=shared.context,
                  show_covered=False, show_coverage=False, language=shared.language,
                  assets_href=shared.assets_href, top_of_map=True,
                  layers=plan_layers(shared.plans[index], a.villages, language=shared.language))
    return _save(m, shared.out_dir / a.file)


@dataclass(frozen=True)
class _PageInputs:
    """What every commune page reads (inherited by forked workers, never pickled)."""

    out_dir: Path
    villages: gpd.GeoDataFrame
    communes: gpd.GeoDataFrame
    near: dict[str, gpd.GeoDataFrame]
    by_commune: dict[str, np.ndarray]
    title: str
    coverage_raster: str | Path | None
    context: PlaceContext | None
    plan_items: pd.DataFrame | None
    language: str


def _commune_page(shared: _PageInputs, job: tuple[int, str, str]) -> Path:
    """One commune's dossier page (``job``: table row, commune id, file name)."""
    index, cid, name = job
    own = shared.communes.loc[[index]]
    mine = shared.villages.iloc[shared.by_commune.get(cid, np.zeros(0, dtype=np.intp))]
    plan = (plan_rows(shared.plan_items, cid, mine) if shared.plan_items is not None
            else None)
    m = build_map(mine, own, shared.near[cid], title=str(own["commune_name"].iloc[0]),
                  coverage_raster=shared.coverage_raster, clip=True, context=shared.context,
                  language=shared.language, assets_href="../" + SHARED_ASSETS + "/",
                  layers=plan_layers(plan, mine, language=shared.language))
    dossier_page(m, own.iloc[0], mine, title=shared.title, plan=plan,
                 language=shared.language)
    return _save(m, shared.out_dir / "communes" / name)


def check_commune_id(ids: pd.Series, commune_id: str, where: str) -> None:
    """Refuse a commune id that is not among ``ids``, listing some valid ones."""
    if str(commune_id) not in set(ids):
        raise InputError(
            f"{where}: commune_id {commune_id!r} not found; valid ids include: "
            f"{', '.join(ids.head(10))}{' ...' if len(ids) > 10 else ''}")


def _save(m: folium.Map, path: Path) -> Path:
    with text_elements():
        page = m.get_root().render()
    return write_text_atomic(path, page)


# --- Files: safe names, the index page, the run's title -----------------------------------

#: What the index leads with, when the files are there: (label key, [(link key, file)]);
#: a single link whose key is the label's is the document itself.
_DOCUMENTS = (("download_xlsx", (("download_xlsx", "priority.xlsx"),)),
              ("download_docx", (("download_docx", "de_xuat_dau_tu.docx"),)),
              ("download_plan", (("download_plan_csv", "plan.csv"),
                                 ("download_curve", "budget_curve.png"),
                                 ("download_summary", "summary.json"))))
#: Data files for software, when they are there: (label key, file name).
_DOWNLOADS = (("download_csv", "priority.csv"), ("download_gpkg", "villages.gpkg"),
              ("download_summary", "summary.json"))
#: How many of the province's top villages the index lists.
_INDEX_TOP = 20


def _index_html(table: pd.DataFrame, files: dict[str, str], villages: pd.DataFrame, *,
                title: str, out_dir: Path, language: str) -> str:
    """The index: data files, the province's top villages, communes in the table's order."""
    require_columns(table, ("villages", "with_gap", "without_fibre", "without_mobile_broadband",
                            "without_both", "gap_share"), "communes", "summarise_communes")
    words = page_words(language)
    top = villages.iloc[:0]
    if "rank" in villages:
        top = villages[pd.to_numeric(villages["rank"], errors="coerce").notna()]
        top = top.sort_values("rank", kind="stable").head(_INDEX_TOP)
        if "commune_name" not in top:
            lookup = dict(zip(table["commune_id"].astype(str), table["commune_name"],
                              strict=True))
            top = top.assign(commune_name=top["commune_id"].astype(str).map(lookup))
    downloads = [(words.labels[key], name) for key, name in _DOWNLOADS
                 if (out_dir / name).exists()]
    documents = []
    for key, parts in _DOCUMENTS:
        links = [(words.labels[k], name) for k, name in parts if (out_dir / name).exists()]
        # the plan's line is there with a plan (plan.csv), not for summary.json alone
        if links and (out_dir / parts[0][1]).exists():
            documents.append((words.labels[key], links))
    return index_html(table, files, top=pd.DataFrame(top.drop(columns="geometry",
                                                              errors="ignore")),
                      downloads=downloads, documents=documents, title=title,
                      css=asset("geo_dx_page.css").decode("utf-8"), words=words,
                      synthetic="synthetic" in str(title).lower(),
                      misplaced=misplaced_villages(villages))


