"""Communes: which commune each village belongs to, and per-commune gap counts."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_dx.errors import GeoDxWarning
from geo_dx.i18n import N_, Translator
from geo_dx.spatial import village_locations, working_crs

#: Per-commune count columns, in output order.
COUNT_COLUMNS: tuple[str, ...] = (
    "villages",
    "with_gap",
    "without_fibre",
    "without_mobile_broadband",
    "without_both",
)

#: The messages of ``location_issue`` (English, as the column holds them; a reader sees
#: them through :func:`location_issue_text`). ``{distance}`` is e.g. ``1000 m`` or ``205.0 km``.
LOCATION_ISSUES: Mapping[str, str] = MappingProxyType({
    "outside_every": N_("more than {distance} outside every commune"),
    "outside_own": N_("{distance} outside its commune_id {commune_id}"),
})
#: Columns of :func:`misplaced_villages`, in order.
MISPLACED_COLUMNS: tuple[str, ...] = (
    "village_id", "village_name", "commune_id", "commune_name", "location_issue", "lon", "lat")


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
        Projected CRS for the distance; default: see :func:`geo_dx.spatial.working_crs`.

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
    out["location_issue"] = _location_issues(out, communes, kept=~todo,
                                             max_distance_m=max_distance_m, crs=crs)
    _warn_misplaced(out, max_distance_m)
    check_overlaps(communes, crs=crs)
    return out


def _location_issues(
    villages: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, *, kept: pd.Series,
    max_distance_m: float, crs: object | None,
) -> pd.Series:
    """Why a village's location cannot be trusted (None when it can)."""
    issue = pd.Series(None, index=villages.index, dtype=object)
    unassigned = villages["commune_id"].isna()
    issue[unassigned] = LOCATION_ISSUES["outside_every"].format(
        distance=f"{max_distance_m:g} m")
    check = kept.to_numpy(dtype=bool) & ~unassigned.to_numpy()
    if check.any():
        work_crs = working_crs(villages, crs)
        locations = village_locations(villages[check]).to_crs(work_crs).to_numpy()
        polys = communes.set_index("commune_id").geometry.to_crs(work_crs)
        own = polys.reindex(villages.loc[check, "commune_id"]).to_numpy()
        distance = shapely.distance(locations, own)
        far = distance > max_distance_m
        if far.any():
            where = villages.index[check][far]
            issue[where] = [
                LOCATION_ISSUES["outside_own"].format(distance=f"{d / 1000:,.1f} km",
                                                      commune_id=cid)
                for d, cid in zip(distance[far], villages.loc[where, "commune_id"], strict=True)
            ]
    return issue


def placed(villages: pd.DataFrame) -> pd.Series:
    """
    Which villages are where their coordinates say: those without a ``location_issue``.

    The one rule every stage uses for misplaced villages (set by :func:`assign_communes`):
    they are never scored, ranked, clustered or listed, and maps leave them off. Without a
    ``location_issue`` column every village is placed; an empty text counts as no issue.

    Returns
    -------
    pandas.Series
        Booleans aligned to ``villages``' index.

    Examples
    --------
    >>> v = pd.DataFrame({"location_issue": [None, "more than 1000 m outside every commune"]})
    >>> placed(v).tolist(), placed(v.drop(columns="location_issue")).tolist()
    ([True, False], [True, True])
    """
    if "location_issue" not in villages:
        return pd.Series(True, index=villages.index)
    issue = villages["location_issue"]
    return issue.isna() | (issue.astype(str).str.strip() == "")


def misplaced_villages(villages: gpd.GeoDataFrame) -> pd.DataFrame:
    """
    The villages :func:`placed` leaves out, with their coordinates as given, to fix the source.

    Parameters
    ----------
    villages
        Villages with ``location_issue`` (any CRS; a frame without a CRS is taken as
        longitude/latitude).

    Returns
    -------
    pandas.DataFrame
        :data:`MISPLACED_COLUMNS` (missing ones empty): ``lon``/``lat`` are the village
        location in WGS84, rounded to 6 decimals, in the order of ``villages``.

    Examples
    --------
    >>> v = gpd.GeoDataFrame({"village_id": ["V1", "V2"], "location_issue": [None, "far"]},
    ...                      geometry=gpd.points_from_xy([103.1, -103.1], [21.4, 21.4]), crs=4326)
    >>> misplaced_villages(v)[["village_id", "location_issue", "lon", "lat"]].values.tolist()
    [['V2', 'far', -103.1, 21.4]]
    """
    rows = villages[~placed(villages).to_numpy()]
    out = pd.DataFrame({c: rows[c] if c in rows else pd.Series(None, index=rows.index,
                                                                dtype=object)
                        for c in MISPLACED_COLUMNS[:5]})
    loc = village_locations(rows)
    if loc.crs is not None and len(loc):
        loc = loc.to_crs(4326)
    out["lon"] = loc.x.round(6).to_numpy() if len(loc) else []
    out["lat"] = loc.y.round(6).to_numpy() if len(loc) else []
    return out.reset_index(drop=True)


def location_issue_text(issue: str | None, tr: Translator) -> str | None:
    """
    A ``location_issue`` in ``tr``'s language, numbers formatted for it.

    Texts that are not one of :data:`LOCATION_ISSUES` (written by another tool) are
    returned as they are.

    Examples
    --------
    >>> from geo_dx.i18n import translator
    >>> location_issue_text("205.0 km outside its commune_id C00", translator("vi"))
    'nằm ngoài xã C00 ghi ở cột commune_id, cách 205,0 km'
    >>> location_issue_text("more than 1000 m outside every commune", translator("en"))
    'more than 1,000 m outside every commune'
    """
    if issue is None or pd.isna(issue):
        return None
    text = str(issue)
    for message, pattern in _ISSUE_PATTERNS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        values = match.groupdict()
        number, unit = values["distance"].split(" ")
        value = float(number.replace(",", ""))
        values["distance"] = (tr.km(value * 1000.0, decimals=1) if unit == "km"
                              else tr.metres(value))
        return tr.gettext(message, **values)
    return text


_DISTANCE = r"(?P<distance>\d[\d,]*(?:\.\d+)? (?:km|m))"


def _issue_pattern(message: str) -> re.Pattern[str]:
    """A regular expression matching ``message`` with its placeholders filled."""
    pattern = re.escape(message).replace(re.escape("{distance}"), _DISTANCE)
    return re.compile(pattern.replace(re.escape("{commune_id}"), r"(?P<commune_id>.+)"))


_ISSUE_PATTERNS = tuple((m, _issue_pattern(m)) for m in LOCATION_ISSUES.values())


def _warn_misplaced(villages: gpd.GeoDataFrame, max_distance_m: float) -> None:
    """One counted warning per kind of misplaced village, naming them."""
    issue = villages["location_issue"]
    ids = villages["village_id"] if "village_id" in villages else villages.index.to_series()
    unassigned = villages["commune_id"].isna()
    contradicting = issue.notna() & ~unassigned
    for mask, what in (
        (unassigned, f"lie more than {max_distance_m:g} m outside every commune; kept them "
                     "unassigned"),
        (contradicting, f"lie more than {max_distance_m:g} m outside the commune their "
                        "commune_id names"),
    ):
        if not mask.any():
            continue
        shown = ", ".join(
            f"{v} ({i})" if mask is contradicting else str(v)
            for v, i in zip(ids[mask].head(5), issue[mask].head(5), strict=True)
        )
        more = f" and {int(mask.sum()) - 5} more" if mask.sum() > 5 else ""
        warnings.warn(
            f"{int(mask.sum())} village(s) {what}: {shown}{more}; they are left out of the "
            "ranking (location_issue): check their coordinates (lon/lat swapped or a sign "
            "lost?) and commune_id",
            GeoDxWarning,
            stacklevel=3,
        )


def check_overlaps(
    communes: gpd.GeoDataFrame, *, crs: object | None = None, tolerance: float = 0.05
) -> pd.DataFrame:
    """
    Report pairs of communes that overlap by more than ``tolerance`` of the smaller one.

    Overlapping communes make "which commune" depend on the order of the file (one can
    take the other's villages), so every such pair is counted in one warning. Slivers
    from digitising (below the tolerance; GADM's Son La communes share up to 2%) are
    ignored.

    Returns
    -------
    pandas.DataFrame
        ``commune_a, commune_b, overlap_km2, share_of_smaller`` for the reported pairs.

    Examples
    --------
    >>> import shapely
    >>> c = gpd.GeoDataFrame({"commune_id": ["A", "B"]},
    ...     geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(500, 0, 1500, 1000)],
    ...     crs=32648)
    >>> import warnings
    >>> with warnings.catch_warnings(record=True):
    ...     check_overlaps(c).share_of_smaller.tolist()
    [0.5]
    """
    columns = ["commune_a", "commune_b", "overlap_km2", "share_of_smaller"]
    if len(communes) < 2:
        return pd.DataFrame(columns=columns)
    polys = communes.geometry.to_crs(working_crs(communes, crs)).to_numpy()
    left, right = shapely.STRtree(polys).query(polys, predicate="intersects")
    pair = left < right
    left, right = left[pair], right[pair]
    area = shapely.area(polys)
    shared = shapely.area(shapely.intersection(polys[left], polys[right]))
    smaller = np.minimum(area[left], area[right])
    share = np.divide(shared, smaller, out=np.zeros_like(shared), where=smaller > 0)
    bad = share > tolerance
    ids = communes["commune_id"].astype(str).to_numpy()
    table = pd.DataFrame({"commune_a": ids[left[bad]], "commune_b": ids[right[bad]],
                          "overlap_km2": shared[bad] / 1e6, "share_of_smaller": share[bad]},
                         columns=columns)
    if len(table):
        shown = ", ".join(f"{r.commune_a} and {r.commune_b} ({r.share_of_smaller:.0%})"
                          for r in table.head(5).itertuples())
        warnings.warn(
            f"{len(table)} pair(s) of communes overlap by more than {tolerance:.0%} of the "
            f"smaller one: {shown}{' …' if len(table) > 5 else ''}; villages in an overlap "
            "go to one of them: fix the boundaries",
            GeoDxWarning,
            stacklevel=3,
        )
    return table


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


def area_groups(communes: gpd.GeoDataFrame, *, max_villages: float) -> list[list[str]]:
    """
    Neighbouring communes grouped into areas of at most ``max_villages`` villages.

    Recursive bisection of the communes' centres along the longer side of their extent,
    at the weighted median, until an area holds at most ``max_villages`` villages or one
    commune. Areas come in the table's order (by their first commune); ids only.

    Parameters
    ----------
    communes
        ``commune_id``, ``villages`` (a count) and geometry.
    max_villages
        Largest area, in villages.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> table = gpd.GeoDataFrame({"commune_id": ["a", "b", "c", "d"],
    ...                           "villages": [3, 3, 3, 3]},
    ...                          geometry=[box(i, 0, i + 1, 1) for i in range(4)])
    >>> area_groups(table, max_villages=6)
    [['a', 'b'], ['c', 'd']]
    """
    ids = communes["commune_id"].astype(str).to_numpy()
    xy = shapely.get_coordinates(shapely.point_on_surface(communes.geometry.to_numpy()))
    weight = pd.to_numeric(communes["villages"], errors="coerce").fillna(0).to_numpy()
    parts: list[np.ndarray] = []
    _bisect(np.arange(len(ids)), xy, weight, max_villages, parts)
    parts.sort(key=lambda p: int(p.min()))
    return [ids[np.sort(p)].tolist() for p in parts]


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
