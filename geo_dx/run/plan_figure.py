"""The static map of the plan in the proposal document (a PNG drawn offline with matplotlib):
communes, gap villages, proposed sites (triangles), fibre routes (lines) and satellite
access points (yellow circles with a black edge, a lower service level than 4G), each item
with its id.
"""

from __future__ import annotations

import io

import geopandas as gpd

from geo_dx.i18n import Translator
from geo_dx.maps.plan_layer import ACCESS_COLOUR, PLAN_MAP_TEXT
from geo_dx.schema import GAP_COLOURS

__all__ = ["plan_figure"]


def plan_figure(villages: gpd.GeoDataFrame, communes: gpd.GeoDataFrame,
                items: gpd.GeoDataFrame | None, tr: Translator) -> bytes:
    """
    The static map of the plan (PNG bytes) with a legend in ``tr``'s language.

    Examples
    --------
    >>> import shapely
    >>> from geo_dx.i18n import translator
    >>> communes = gpd.GeoDataFrame(geometry=[shapely.box(103, 21, 103.1, 21.1)], crs=4326)
    >>> villages = gpd.GeoDataFrame({"gap_class": ["no_mobile"]},
    ...                             geometry=[shapely.Point(103.05, 21.05)], crs=4326)
    >>> items = gpd.GeoDataFrame({"item_id": ["S1"], "kind": ["satellite_access"]},
    ...                          geometry=[shapely.Point(103.05, 21.05)], crs=4326)
    >>> plan_figure(villages, communes, items, translator("vi"))[:4]
    b'\\x89PNG'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    crs = communes.estimate_utm_crs() if communes.crs and communes.crs.is_geographic \
        else communes.crs
    fig, ax = plt.subplots(figsize=(7.5, 8.5))
    communes.to_crs(crs).plot(ax=ax, facecolor="#f4f4f0", edgecolor="#9a9a9a", linewidth=0.5)
    gaps = villages[villages["gap_class"] != "none"].to_crs(crs)
    for gap_class, group in gaps.groupby("gap_class"):
        group.representative_point().plot(ax=ax, markersize=9, color=GAP_COLOURS[gap_class],
                                          label=tr.label("gap_class", gap_class), zorder=3)
    if items is not None and len(items):
        items = items.to_crs(crs)
        fibre = items[items["kind"] == "fibre"]
        access = items[items["kind"] == "satellite_access"]
        sites = items[~items["kind"].isin(["fibre", "satellite_access"])]
        if len(fibre):
            fibre.plot(ax=ax, color="#1b7837", linewidth=1.6, zorder=4,
                       label=tr.label("plan_kind", "fibre"))
        if len(sites):
            sites.plot(ax=ax, marker="^", markersize=55, color="#c51b7d", edgecolor="white",
                       linewidth=0.6, zorder=5, label=tr.gettext(PLAN_MAP_TEXT["site"]))
        if len(access):
            access.plot(ax=ax, marker="o", markersize=30, color=ACCESS_COLOUR,
                        edgecolor="#111111", linewidth=1.2, zorder=5,
                        label=tr.label("plan_kind", "satellite_access"))
        for _, row in items.iterrows():
            point = row.geometry.representative_point() if row["kind"] == "fibre" \
                else row.geometry
            ax.annotate(str(row["item_id"]), (point.x, point.y), xytext=(3, 3),
                        textcoords="offset points", fontsize=6, zorder=6)
    ax.set_axis_off()
    ax.legend(loc="lower left", fontsize=7, frameon=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()
