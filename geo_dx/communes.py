"""Communes: which commune each village belongs to, and per-commune gap counts."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_dx.errors import GeoDxWarning
from geo_dx.schema import village_locations, working_crs

#: Per-commune count columns, in output order.
COUNT_COLUMNS: tuple[str, ...] = (
    "villages",
    "with_gap",
    "without_fibre",
    "without_mobile_broadband",
    "without_both",
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
        Projected CRS for the distance; default: see :func:`geo_dx.schema.working_crs`.

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
        work_crs = working_crs(out, crs)
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
    Count villages and gaps per commune, worst first: the one per-commune table.

    "Worst" is the largest share of villages with any gap (``gap_share``), then the most
    villages without both services, then ``commune_id``. A commune without villages has no
    share (NaN) and comes last. The console table, ``summary.json``, the GeoPackage, the
    index page and the maps all use this table and its order.

    Parameters
    ----------
    gaps
        Villages with ``commune_id``, ``has_fibre`` and ``has_mobile_broadband`` (the
        output of ``find_gaps`` with communes).
    communes
        Validated communes.

    Returns
    -------
    geopandas.GeoDataFrame
        ``commune_id, commune_name, villages, with_gap, without_fibre,
        without_mobile_broadband, without_both, gap_share`` with the commune geometry
        (and ``province`` after ``commune_name`` when the communes have one).

    Examples
    --------
    >>> import geo_dx
    >>> demo = geo_dx.load_demo()
    >>> gaps = geo_dx.find_gaps(demo.villages, demo.coverage, communes=demo.communes)
    >>> table = summarise_communes(gaps, demo.communes)
    >>> int(table["villages"].sum()) == len(gaps), bool(table["gap_share"].is_monotonic_decreasing)
    (True, True)
    """
    no_fibre = ~gaps["has_fibre"].astype(bool)
    no_mobile = ~gaps["has_mobile_broadband"].astype(bool)
    flags = pd.DataFrame({
        "commune_id": gaps["commune_id"],
        "villages": 1,
        "with_gap": no_fibre | no_mobile,
        "without_fibre": no_fibre,
        "without_mobile_broadband": no_mobile,
        "without_both": no_fibre & no_mobile,
    })
    counts = flags.groupby("commune_id")[list(COUNT_COLUMNS)].sum()
    # the province (when given) lets a national map drill down province by province
    keep = ["commune_id", "commune_name", *(["province"] if "province" in communes else [])]
    out = communes[[*keep, "geometry"]].merge(
        counts, left_on="commune_id", right_index=True, how="left"
    )
    out[list(COUNT_COLUMNS)] = out[list(COUNT_COLUMNS)].fillna(0).astype(int)
    out["gap_share"] = out["with_gap"] / out["villages"].where(out["villages"] > 0)
    out = out.sort_values(
        ["gap_share", "without_both", "commune_id"], ascending=[False, False, True],
        na_position="last", kind="stable",
    ).reset_index(drop=True)
    return gpd.GeoDataFrame(
        out[[*keep, *COUNT_COLUMNS, "gap_share", "geometry"]],
        geometry="geometry",
        crs=communes.crs,
    )
