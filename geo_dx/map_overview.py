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

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["AREA_LABELS", "OVERVIEW_ABOVE_VILLAGES", "areas_nav_html", "drill_down_areas"]

#: Above this many villages ``map.html`` is an overview that links to per-area maps.
OVERVIEW_ABOVE_VILLAGES = 20_000
#: Most villages in an area found by bisection (a province map of ~5,000 villages is ~3 MB).
AREA_MAX_VILLAGES = 5_000

#: Texts of the overview page.
AREA_LABELS: Mapping[str, str] = {
    "areas_heading": "Maps by area",
    "areas_note": ("This overview shades communes by their share of villages with a gap; "
                   "open an area to see its villages, sites and fibre nodes."),
    "area_name": "Area {n}",
    "area_counts": "{villages} villages, {gaps} with a gap",
}


def drill_down_areas(
    communes: gpd.GeoDataFrame, *, max_villages: int = AREA_MAX_VILLAGES
) -> dict[str, list[str]]:
    """
    The areas of an overview: area name → commune ids, in the table's order.

    By the ``province`` column when every commune has one; otherwise neighbouring communes
    grouped by recursive bisection of their centres (along the longer side of their extent)
    until an area holds at most ``max_villages`` villages or one commune.

    Parameters
    ----------
    communes
        The per-commune table (``commune_id``, ``villages``, optionally ``province``).
    max_villages
        Largest area (in villages) when areas are found by bisection.

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
    xy = shapely.get_coordinates(shapely.point_on_surface(communes.geometry.to_numpy()))
    weight = pd.to_numeric(communes["villages"], errors="coerce").fillna(0).to_numpy()
    parts: list[np.ndarray] = []
    _bisect(np.arange(len(ids)), xy, weight, max_villages, parts)
    parts.sort(key=lambda p: int(p.min()))
    return {AREA_LABELS["area_name"].format(n=i + 1): ids[np.sort(p)].tolist()
            for i, p in enumerate(parts)}


def _bisect(idx: np.ndarray, xy: np.ndarray, weight: np.ndarray, limit: float,
            out: list[np.ndarray]) -> None:
    """Split ``idx`` at the weighted median of its longer side until each part fits."""
    if len(idx) <= 1 or weight[idx].sum() <= limit:
        out.append(idx)
        return
    span = xy[idx].max(axis=0) - xy[idx].min(axis=0)
    axis = int(np.argmax(span))
    order = idx[np.argsort(xy[idx, axis], kind="stable")]
    cum = np.cumsum(weight[order])
    cut = int(np.searchsorted(cum, cum[-1] / 2)) + 1
    cut = min(max(cut, 1), len(order) - 1)
    _bisect(order[:cut], xy, weight, limit, out)
    _bisect(order[cut:], xy, weight, limit, out)


def areas_nav_html(
    areas: Sequence[tuple[str, str, int, int]], *, number: object = "{:,}".format
) -> str:
    """
    The overview's list of area maps: ``(name, href, villages, with_gap)`` per area, escaped.

    Examples
    --------
    >>> print(areas_nav_html([("Tỉnh <A>", "areas/a.html", 1650, 900)]))  # doctest: +ELLIPSIS
    <section ...<a href="areas/a.html">Tỉnh &lt;A&gt;</a> ...(1,650 villages, 900 with a gap)...
    """
    items = "".join(
        f'<li><a href="{html.escape(href, quote=True)}">{html.escape(name)}</a> '
        f'<span class="geodx-muted">({html.escape(AREA_LABELS["area_counts"].format(villages=number(v), gaps=number(g)))})</span></li>'  # noqa: E501
        for name, href, v, g in areas)
    return (f'<section class="geodx-areas"><h2>{html.escape(AREA_LABELS["areas_heading"])}</h2>'
            f'<p>{html.escape(AREA_LABELS["areas_note"])}</p><ul>{items}</ul></section>')
