"""Communes: which commune each village belongs to, and per-commune gap counts."""

from __future__ import annotations

import logging
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_dx.errors import GeoDxWarning

logger = logging.getLogger(__name__)

#: Per-commune count columns, in output order.
COUNT_COLUMNS: tuple[str, ...] = (
    "villages",
    "without_fibre",
    "without_mobile_broadband",
    "without_both",
)


def village_locations(villages: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """
    Each village's location: its point, or for a polygon its ``representative_point()``.

    Examples
    --------
    >>> from shapely import box
    >>> v = gpd.GeoDataFrame(geometry=[box(0, 0, 2, 2)], crs=32648)
    >>> village_locations(v).iloc[0].within(box(0, 0, 2, 2))
    True
    """
    geom = villages.geometry
    is_point = (geom.geom_type == "Point").to_numpy()
    if is_point.all():
        return geom
    return gpd.GeoSeries(
        np.where(is_point, geom.to_numpy(), geom.representative_point().to_numpy()),
        index=villages.index,
        crs=villages.crs,
    )


def assign_communes(
    villages: gpd.GeoDataFrame,
    communes: gpd.GeoDataFrame,
    *,
    max_distance_m: float = 1000.0,
    crs: object | None = None,
) -> gpd.GeoDataFrame:
    """
    Give every village a ``commune_id`` and ``commune_name``.

    Villages keep a ``commune_id`` they already have when it names a known commune;
    the rest are placed by location: the commune containing their location, else the
    nearest commune within ``max_distance_m``, else left unassigned (``commune_id``
    missing) with a warning that counts them.

    Parameters
    ----------
    villages, communes
        Validated layers.
    max_distance_m
        How far outside every commune a village may lie and still be assigned.
    crs
        Projected CRS for the distance; default: UTM zone estimated from the villages.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``villages`` with ``commune_id`` and ``commune_name``.
    """
    out = villages.copy()
    known = set(communes["commune_id"])
    given = (
        out["commune_id"] if "commune_id" in out else pd.Series(None, index=out.index)
    ).astype(object)
    given = given.where(given.isin(known), None)
    unknown = given.isna() & (out["commune_id"].notna() if "commune_id" in out else False)
    if np.any(unknown):
        warnings.warn(
            f"{int(np.sum(unknown))} village(s) name a commune_id not in the communes layer "
            f"(e.g. {out.loc[unknown, 'commune_id'].iloc[0]!r}); placed them by location",
            GeoDxWarning,
            stacklevel=2,
        )
    todo = given.isna()
    if todo.any():
        work_crs = crs or out.estimate_utm_crs()
        locations = village_locations(out.loc[todo]).to_crs(work_crs)
        polys = communes[["commune_id", "geometry"]].to_crs(work_crs)
        points = gpd.GeoDataFrame(geometry=locations)
        inside = gpd.sjoin(points, polys, how="left", predicate="intersects")
        inside = inside[~inside.index.duplicated(keep="first")]["commune_id"]
        missing = inside.isna()
        if missing.any():
            near = gpd.sjoin_nearest(
                points.loc[missing[missing].index], polys, how="left",
                max_distance=max_distance_m,
            )
            near = near[~near.index.duplicated(keep="first")]["commune_id"]
            inside = inside.astype(object).fillna(near.astype(object))
        given = given.fillna(inside.astype(object))
    out["commune_id"] = given.astype(object)
    names = communes.set_index("commune_id")["commune_name"]
    out["commune_name"] = out["commune_id"].map(names)
    unassigned = int(out["commune_id"].isna().sum())
    if unassigned:
        warnings.warn(
            f"{unassigned} village(s) lie more than {max_distance_m:g} m outside every commune; "
            "kept them unassigned",
            GeoDxWarning,
            stacklevel=2,
        )
    return out


def summarise_communes(
    gaps: gpd.GeoDataFrame, communes: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """
    Count villages and gaps per commune, worst first.

    "Worst" is the largest share of villages with any gap, then the most villages
    without both services.

    Returns
    -------
    geopandas.GeoDataFrame
        ``commune_id, commune_name, villages, without_fibre, without_mobile_broadband,
        without_both, gap_share`` with the commune geometry.
    """
    flags = pd.DataFrame(
        {
            "commune_id": gaps["commune_id"],
            "villages": 1,
            "without_fibre": ~gaps["has_fibre"].astype(bool),
            "without_mobile_broadband": ~gaps["has_mobile_broadband"].astype(bool),
        }
    )
    flags["without_both"] = flags["without_fibre"] & flags["without_mobile_broadband"]
    counts = flags.groupby("commune_id")[list(COUNT_COLUMNS)].sum()
    out = communes[["commune_id", "commune_name", "geometry"]].merge(
        counts, left_on="commune_id", right_index=True, how="left"
    )
    out[list(COUNT_COLUMNS)] = out[list(COUNT_COLUMNS)].fillna(0).astype(int)
    any_gap = flags.assign(
        gap=flags["without_fibre"] | flags["without_mobile_broadband"]
    ).groupby("commune_id")["gap"].sum()
    out["gap_share"] = (
        out["commune_id"].map(any_gap).fillna(0) / out["villages"].where(out["villages"] > 0)
    ).fillna(0.0)
    out = out.sort_values(
        ["gap_share", "without_both", "commune_id"], ascending=[False, False, True]
    ).reset_index(drop=True)
    return gpd.GeoDataFrame(
        out[["commune_id", "commune_name", *COUNT_COLUMNS, "gap_share", "geometry"]],
        geometry="geometry",
        crs=communes.crs,
    )
