"""The national overview of a large run and the areas it drills down to.

A province's ``map.html`` draws every village. A national run has ~100,000 of them and
~86,000 sites: one page with all of them is ~85 MB that no browser draws at country zoom. Above
:data:`OVERVIEW_ABOVE_VILLAGES` villages, ``map.html`` becomes an overview (communes shaded by
their share of villages with a gap, no village or site markers) that links to one map per
area, ``areas/<name>-<hash>.html``, each drawn like a province map.

An area is a province (the communes' ``province`` column) or, without one, a group of
neighbouring communes found by recursive bisection of their centres, with at most
``max_villages`` villages (:func:`drill_down_areas`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_dx.communes import area_groups
from geo_dx.i18n import DEFAULT_LANGUAGE, N_, Translator, translator
from geo_dx.maps.context import label_point
from geo_dx.maps.pages import commune_page_names
from geo_dx.maps.payload import to_wgs84
from geo_dx.spatial import working_crs

__all__ = ["AREA_LABELS", "OVERVIEW_ABOVE_VILLAGES", "Area", "area_labels", "area_plan",
           "areas_nav_html", "coverage_near", "drill_down_areas", "split_areas"]

#: Coverage within this distance (or its reach, if larger) of a commune shows on its map.
_NEAR_MIN_M = 1000.0

#: Above this many villages ``map.html`` is an overview that links to per-area maps.
OVERVIEW_ABOVE_VILLAGES = 20_000
#: Most villages in an area found by bisection (a province map of ~5,000 villages is ~3 MB).
AREA_MAX_VILLAGES = 5_000

#: Texts of the overview page (English msgids, translated with :mod:`geo_dx.i18n`).
AREA_LABELS: Mapping[str, str] = {
    "areas_heading": N_("Maps by area"),
    "areas_note": N_("Communes are shaded by their share of villages with a gap; open an "
                     "area to see its villages, sites and fibre nodes."),
    "area_name": N_("Area {n}"),
    "area_counts": N_("{villages} villages, {gaps} with a gap"),
    "area_plan": N_("Plan: {n} items, {cost} bn VND"),
}


@dataclass(frozen=True)
class Area:
    """One area map: its name, file (relative to the run) and layers."""

    name: str
    file: str
    communes: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    coverage: gpd.GeoDataFrame
    with_gap: int


def split_areas(
    villages: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, coverage: gpd.GeoDataFrame,
    by_commune: Mapping[str, np.ndarray], *, language: str = DEFAULT_LANGUAGE,
) -> list[Area]:
    """
    The areas of :func:`drill_down_areas` with their communes, villages and nearby coverage.

    ``by_commune`` maps a commune id to the positions of its villages in ``villages``.
    """
    areas = drill_down_areas(communes, language=language)
    ids = communes["commune_id"].astype(str)
    keys = [f"A{i + 1}" for i in range(len(areas))]
    files = commune_page_names(pd.Series(keys), pd.Series(list(areas)))
    empty = np.zeros(0, dtype=np.intp)
    out = []
    for key, (name, members) in zip(keys, areas.items(), strict=True):
        part = communes[ids.isin(members).to_numpy()]
        rows = np.sort(np.concatenate([by_commune.get(c, empty) for c in members] or [empty]))
        outline = part.dissolve().assign(commune_id=name)[["commune_id", "geometry"]]
        with_gap = int(pd.to_numeric(part["with_gap"], errors="coerce").fillna(0).sum())
        out.append(Area(name, f"areas/{files[key]}", part, villages.iloc[rows],
                        coverage_near(coverage, outline)[name], with_gap))
    return out


def drill_down_areas(
    communes: gpd.GeoDataFrame, *, max_villages: int = AREA_MAX_VILLAGES,
    language: str = "en",
) -> dict[str, list[str]]:
    """
    The areas of an overview: area name → commune ids, in the table's order.

    By the ``province`` column when every commune has one; otherwise the groups of
    :func:`geo_dx.communes.area_groups`, named "Area 1", "Area 2", ... in ``language``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> table = gpd.GeoDataFrame({"commune_id": ["a", "b", "c", "d"],
    ...                           "villages": [3, 3, 3, 3]},
    ...                          geometry=[box(i, 0, i + 1, 1) for i in range(4)])
    >>> drill_down_areas(table, max_villages=6)
    {'Area 1': ['a', 'b'], 'Area 2': ['c', 'd']}
    """
    ids = communes["commune_id"].astype(str).to_numpy()
    if "province" in communes and communes["province"].notna().all():
        groups: dict[str, list[str]] = {}
        for cid, province in zip(ids, communes["province"].astype(str), strict=True):
            groups.setdefault(province, []).append(cid)
        return groups
    name = translator(language).gettext(AREA_LABELS["area_name"], n="{n}")
    return {name.format(n=i + 1): part
            for i, part in enumerate(area_groups(communes, max_villages=max_villages))}


def areas_nav_html(
    areas: Sequence[tuple[str, str, int, int]], *, language: str = DEFAULT_LANGUAGE
) -> str:
    """
    The overview's list of area maps, over the map: ``(name, href, villages, with_gap)`` per
    area, escaped, in ``language``.

    Examples
    --------
    >>> print(areas_nav_html([("Tỉnh <A>", "areas/a.html", 1650, 900)]))  # doctest: +ELLIPSIS
    <details ...<a href="areas/a.html">Tỉnh &lt;A&gt;</a> ...(1.650 thôn, bản, 900 còn thiếu hụt)...
    """
    tr = translator(language)
    e = html.escape
    items = "".join(
        f'<li><a href="{e(href, quote=True)}">{e(name)}</a> <span class="geodx-muted">'
        f'({e(_counts(tr, v, g))})</span></li>' for name, href, v, g in areas)
    heading = tr.gettext(AREA_LABELS["areas_heading"])
    return (f'<details class="geodx-areas" open><summary>{e(heading)}</summary><p>'
            f'{e(tr.gettext(AREA_LABELS["areas_note"]))}</p><ul>{items}</ul>'
            "</details>")


def _counts(tr: Translator, villages: int, gaps: int) -> str:
    return tr.gettext(AREA_LABELS["area_counts"], villages=tr.number(int(villages)),
                      gaps=tr.number(int(gaps)))


def area_plan(area: Area, plan_items: pd.DataFrame | None) -> pd.DataFrame | None:
    """The plan items that serve a village of ``area`` (None without a plan)."""
    if plan_items is None:
        return None
    if "villages_served" not in plan_items or "village_id" not in area.villages:
        return plan_items.iloc[:0]
    ids = set(area.villages["village_id"].astype(str))
    served = plan_items["villages_served"].fillna("").astype(str)
    return plan_items[served.map(lambda s: bool(ids.intersection(s.split(";")))).to_numpy()]


def area_labels(areas: Sequence[Area], plans: Sequence[pd.DataFrame | None], *,
                language: str = DEFAULT_LANGUAGE) -> dict[str, list]:
    """
    One label per area for the overview map: name, a line of counts (and of the plan: items,
    cost), its label point and the link to its map.
    """
    tr = translator(language)
    out: dict[str, list] = {"name": [], "detail": [], "lat": [], "lon": [], "href": []}
    for area, plan in zip(areas, plans, strict=True):
        outline = to_wgs84(area.communes, "communes").geometry.union_all()
        if outline is None or outline.is_empty:
            continue
        lon, lat = label_point(outline)
        lines = [_counts(tr, len(area.villages), area.with_gap)]
        if plan is not None and len(plan):
            cost = float(pd.to_numeric(plan.get("cost_vnd"), errors="coerce").sum()) / 1e9
            lines.append(tr.gettext(AREA_LABELS["area_plan"], n=tr.number(len(plan)),
                                    cost=tr.number(cost, decimals=1)))
        out["name"].append(area.name)
        out["detail"].append("\n".join(lines))
        out["lat"].append(round(lat, 4))
        out["lon"].append(round(lon, 4))
        out["href"].append(area.file)
    return out


def coverage_near(
    coverage: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, *, crs: object | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """
    For each commune id, the coverage points whose reach (at least 1 km) touches it.

    Distances are measured in the working CRS: ``crs`` (the run's configured one) if
    given, else :func:`geo_dx.spatial.working_crs` of the communes.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> cov = gpd.GeoDataFrame({"reach_m": [5000.0, 100.0]},
    ...                        geometry=[Point(14000, 0), Point(11500, 0)], crs=32648)
    >>> area = gpd.GeoDataFrame({"commune_id": ["a"]}, geometry=[box(0, -10, 10000, 10)],
    ...                         crs=32648)
    >>> len(coverage_near(cov.to_crs(4326), area.to_crs(4326))["a"])
    1
    """
    coverage = to_wgs84(coverage, "coverage")
    communes = to_wgs84(communes, "communes")
    ids = communes["commune_id"].astype(str).tolist()
    out = {cid: coverage.iloc[:0] for cid in ids}
    if coverage.empty or communes.empty:
        return out
    crs = working_crs(communes, crs)
    points = coverage.to_crs(crs).geometry.to_numpy()
    reach = pd.to_numeric(coverage.get("reach_m", pd.Series(np.nan, index=coverage.index)),
                          errors="coerce").fillna(0).clip(lower=_NEAR_MIN_M).to_numpy()
    tree = shapely.STRtree(points)
    for cid, geom in zip(ids, communes.to_crs(crs).geometry.to_numpy(), strict=True):
        idx = tree.query(geom, predicate="dwithin", distance=float(reach.max()))
        out[cid] = coverage.iloc[np.sort(idx[shapely.distance(points[idx], geom) <= reach[idx]])]
    return out
