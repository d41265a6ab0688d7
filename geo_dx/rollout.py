"""Rollout clusters: gap villages close enough for one site or one fibre extension.

Villages are grouped by DBSCAN (scikit-learn) with ``min_samples=1`` on great-circle
distance: two gap villages within ``radius_m`` of each other share a cluster, and so do
chains of such villages. Clusters are numbered by their best-ranked village, so cluster 1
holds the village ranked first.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import MultiPoint

from geo_dx.communes import placed
from geo_dx.errors import ConfigError, InputError
from geo_dx.schema import EARTH_RADIUS_M, GAPS
from geo_dx.spatial import village_locations, working_crs

logger = logging.getLogger(__name__)

#: Cluster outlines are the members' convex hull widened by this much, so a lone village
#: or a pair still shows as an area.
HULL_BUFFER_M = 250.0
CLUSTER_COLUMNS: tuple[str, ...] = (
    "cluster_id",
    "villages",
    "village_ids",
    "population",
    *GAPS,
    "best_rank",
    "mean_score",
)


def rollout_clusters(
    scored: gpd.GeoDataFrame, *, radius_m: float, crs: object | None = None
) -> tuple[pd.Series, gpd.GeoDataFrame]:
    """
    Group gap villages that one site or one fibre extension could serve.

    Parameters
    ----------
    scored
        Villages with ``gap_class`` (``"none"`` rows are left out), and optionally ``rank``,
        ``score``, ``population_used`` (else ``population``), ``village_id``.
    radius_m
        Villages this close (great-circle metres) join the same cluster.
    crs
        The configured working CRS (``Config.crs``) the outlines are drawn in; default: see
        :func:`geo_dx.spatial.working_crs`.

    Returns
    -------
    (cluster_id, clusters)
        ``cluster_id``: nullable integer Series aligned to ``scored`` (missing for villages
        without a gap). ``clusters``: one row per cluster with :data:`CLUSTER_COLUMNS` and a
        Polygon outline in ``scored``'s CRS.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> v = gpd.GeoDataFrame({"gap_class": ["no_mobile", "no_fibre", "none"]},
    ...                      geometry=[Point(103.0, 21.0), Point(103.01, 21.0), Point(104, 21)],
    ...                      crs=4326)
    >>> ids, clusters = rollout_clusters(v, radius_m=3000)
    >>> ids.tolist(), len(clusters)
    ([1, 1, <NA>], 1)
    """
    from sklearn.cluster import DBSCAN

    if not radius_m > 0:
        raise ConfigError(f"scoring.cluster_radius_m was {radius_m!r}; it must be > 0 metres")
    if "gap_class" not in scored.columns:
        raise InputError("villages: no gap_class column; run find_gaps before rollout_clusters")
    if scored.crs is None:
        raise InputError("villages: the layer has no CRS; set one (e.g. EPSG:4326)")
    ids = pd.Series(pd.NA, index=scored.index, dtype="Int64", name="cluster_id")
    gap = scored[scored["gap_class"].isin(GAPS) & placed(scored)]  # misplaced villages: no cluster
    if gap.empty:
        return ids, _empty_clusters(scored.crs)
    points = village_locations(gap)
    lonlat = points.to_crs("EPSG:4326")
    radians = np.radians(np.column_stack([lonlat.y.to_numpy(), lonlat.x.to_numpy()]))
    labels = DBSCAN(eps=radius_m / EARTH_RADIUS_M, min_samples=1, metric="haversine",
                    algorithm="ball_tree").fit_predict(radians)
    order = _cluster_order(gap, labels)
    ids.loc[gap.index] = [order[label] for label in labels]
    clusters = _cluster_table(gap.assign(cluster_id=ids.loc[gap.index]), points,
                              working_crs(points, crs))
    logger.info("%d gap villages form %d rollout clusters (radius %.0f m)",
                len(gap), len(clusters), radius_m)
    return ids, clusters


def _cluster_order(gap: pd.DataFrame, labels: np.ndarray) -> dict[int, int]:
    """Cluster numbers 1..k ordered by each cluster's best rank, then by first appearance."""
    rank = pd.to_numeric(gap["rank"], errors="coerce") if "rank" in gap else pd.Series(
        np.nan, index=gap.index
    )
    frame = pd.DataFrame({"label": labels, "rank": rank.to_numpy(), "pos": np.arange(len(gap))})
    best = frame.groupby("label").agg(rank=("rank", "min"), pos=("pos", "min"))
    best = best.sort_values(["rank", "pos"], na_position="last")
    return {int(label): i + 1 for i, label in enumerate(best.index)}


def _cluster_table(gap: gpd.GeoDataFrame, points: gpd.GeoSeries,
                   metric: object) -> gpd.GeoDataFrame:
    people = "population_used" if "population_used" in gap else "population"
    frame = pd.DataFrame(
        {
            "cluster_id": gap["cluster_id"].astype(int).to_numpy(),
            "village_id": gap["village_id"].astype(str).to_numpy()
            if "village_id" in gap else gap.index.astype(str),
            "population": pd.to_numeric(gap[people], errors="coerce").to_numpy()
            if people in gap else np.nan,
            "gap_class": gap["gap_class"].to_numpy(),
            "rank": pd.to_numeric(gap["rank"], errors="coerce").to_numpy()
            if "rank" in gap else np.nan,
            "score": pd.to_numeric(gap["score"], errors="coerce").to_numpy()
            if "score" in gap else np.nan,
        }
    )
    grouped = frame.groupby("cluster_id", sort=True)
    table = pd.DataFrame(
        {
            "villages": grouped.size(),
            "village_ids": grouped["village_id"].agg(",".join),
            "population": grouped["population"].sum(min_count=1),
            "best_rank": grouped["rank"].min().astype("Int64"),
            "mean_score": grouped["score"].mean().round(1),
        }
    )
    for gap_class in GAPS:
        table[gap_class] = (frame["gap_class"] == gap_class).groupby(frame["cluster_id"]).sum()
    table = table.reset_index()
    xy = points.to_crs(metric)
    outlines = [
        MultiPoint(list(xy[gap["cluster_id"].to_numpy() == cid])).convex_hull.buffer(HULL_BUFFER_M)
        for cid in table["cluster_id"]
    ]
    geometry = gpd.GeoSeries(outlines, crs=metric).to_crs(gap.crs)
    return gpd.GeoDataFrame(table[list(CLUSTER_COLUMNS)], geometry=geometry.to_numpy(),
                            crs=gap.crs)


def _empty_clusters(crs: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in CLUSTER_COLUMNS}, geometry=[], crs=crs)

