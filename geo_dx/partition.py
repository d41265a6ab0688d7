"""Gap decisions over spatial partitions, in parallel: the optional ``[scale]`` path.

:func:`partitioned_gaps` gives the same table as :func:`geo_dx.gaps.find_gaps` (same rows,
columns and values) by splitting the villages into spatial partitions (groups of
neighbouring communes, :func:`geo_dx.communes.area_groups`) and running
``find_gaps`` on each with only what it needs: the coverage points and DEM cells within a
margin of the partition (the largest reach, dispute radius and measurement range, plus 1 km:
everything that can decide a village's answer). Partitions run as tasks of a
``dask.distributed`` cluster: a local one on all cores by default, or the cluster at
``scheduler_address``.

Exactness: a village's answer depends only on points within its reach or dispute radius
(inside the margin) and on line-of-sight profiles between it and those points (inside the
margin too). Its *nearest* distances can come from farther away: a village whose nearest
fibre or mobile distance found in its partition is at least the margin may have a nearer
point outside, so those few villages are decided again with every point, in this process.

Needs ``pip install 'geo_dx[scale]'`` (dask and distributed).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine

from geo_dx.communes import area_groups, assign_communes
from geo_dx.config import Config
from geo_dx.coverage import with_reach
from geo_dx.dem import DemGrid
from geo_dx.errors import InputError, MissingDependencyError
from geo_dx.gaps import find_gaps
from geo_dx.signal.calibration import Calibration
from geo_dx.spatial import working_crs

__all__ = ["partition_margin_m", "partitioned_gaps", "village_partitions"]

logger = logging.getLogger(__name__)

#: Added to the largest reach / dispute radius to make the margin of a partition.
_EXTRA_MARGIN_M = 1000.0


def partition_margin_m(coverage: gpd.GeoDataFrame, config: Config) -> float:
    """
    Metres around a partition within which every point that can decide a village lies.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> cov = gpd.GeoDataFrame({"reach_m": [5000.0, 12000.0]},
    ...                        geometry=[Point(0, 0), Point(1, 1)], crs=32648)
    >>> partition_margin_m(cov, Config())
    13000.0
    """
    if "reach_m" not in coverage:
        coverage = with_reach(coverage, config=config)
    reach = pd.to_numeric(coverage["reach_m"], errors="coerce").max() if len(coverage) else 0.0
    radii = (0.0 if pd.isna(reach) else float(reach), config.measured.dispute_radius_m,
             config.coverage.measurement_range_m)
    return max(radii) + _EXTRA_MARGIN_M


def village_partitions(
    villages: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, *, partitions: int
) -> list[np.ndarray]:
    """
    Positions of ``villages`` in about ``partitions`` groups of neighbouring communes.

    Every village is in exactly one group (villages without a commune form their own).

    Examples
    --------
    >>> import geo_dx
    >>> demo = geo_dx.load_demo()
    >>> parts = village_partitions(demo.villages, demo.communes, partitions=4)
    >>> len(parts) >= 4, sum(len(p) for p in parts) == len(demo.villages)
    (True, True)
    """
    assigned = villages if "commune_id" in villages else assign_communes(villages, communes)
    cid = assigned["commune_id"].astype("string").fillna("").to_numpy()
    counts = pd.Series(cid).value_counts()
    table = communes[["commune_id", "geometry"]].assign(
        commune_id=communes["commune_id"].astype(str))
    table = table.assign(villages=table["commune_id"].map(counts).fillna(0).to_numpy())
    limit = max(1.0, float(table["villages"].sum()) / max(partitions, 1))
    areas = area_groups(table, max_villages=int(np.ceil(limit)))
    of_commune = {c: k for k, ids in enumerate(areas) for c in ids}
    group = np.array([of_commune.get(c, -1) for c in cid])
    return [np.flatnonzero(group == k) for k in sorted(set(group.tolist()))]


def partitioned_gaps(
    villages: gpd.GeoDataFrame,
    coverage: gpd.GeoDataFrame,
    *,
    communes: gpd.GeoDataFrame,
    config: Config | None = None,
    dem: DemGrid | None = None,
    calibration: Calibration | None = None,
    partitions: int = 8,
    scheduler_address: str | None = None,
    workers: int | None = None,
) -> gpd.GeoDataFrame:
    """
    :func:`geo_dx.gaps.find_gaps` over spatial partitions run by dask, same result.

    Parameters
    ----------
    villages, coverage, communes, config, dem, calibration
        As for :func:`geo_dx.gaps.find_gaps` (``dem`` as a grid already read).
    partitions
        About how many partitions (groups of neighbouring communes) to make.
    scheduler_address
        A running ``dask.distributed`` scheduler (``"tcp://host:8786"``); default a local
        cluster of ``workers`` processes (default one per core).
    workers
        Processes of the local cluster.

    Returns
    -------
    geopandas.GeoDataFrame
        The table ``find_gaps`` returns for the whole input, in the input's order.
    """
    if partitions < 1:
        raise InputError(f"--partitions must be 1 or more, got {partitions}")
    client, cluster = _client(scheduler_address, workers)
    try:
        return _run(villages, coverage, communes=communes, config=config or Config(), dem=dem,
                    calibration=calibration, partitions=partitions, client=client)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _client(scheduler_address: str | None, workers: int | None) -> tuple[Any, Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as err:
        raise MissingDependencyError(
            "--partitions needs dask and distributed: pip install 'geo_dx[scale]'") from err
    if scheduler_address:
        return Client(scheduler_address), None
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster), cluster


def _run(villages: gpd.GeoDataFrame, coverage: gpd.GeoDataFrame, *,
         communes: gpd.GeoDataFrame, config: Config, dem: DemGrid | None,
         calibration: Calibration | None, partitions: int, client: Any) -> gpd.GeoDataFrame:
    # one CRS for every partition (a partition alone could estimate another UTM zone)
    crs = dem.crs if dem is not None else working_crs(villages, config.crs)
    config = dataclasses.replace(config, crs=str(crs))
    cov = coverage if "reach_m" in coverage else with_reach(coverage, config=config)
    margin = partition_margin_m(cov, config)
    parts = village_partitions(villages, communes, partitions=partitions)
    points = cov.to_crs(crs).geometry
    px, py = points.x.to_numpy(), points.y.to_numpy()
    futures = []
    for rows in parts:
        part = villages.iloc[rows]
        xmin, ymin, xmax, ymax = part.to_crs(crs).total_bounds
        near = ((px >= xmin - margin) & (px <= xmax + margin)
                & (py >= ymin - margin) & (py <= ymax + margin))
        window = (_dem_window(dem, (xmin - margin, ymin - margin, xmax + margin,
                                    ymax + margin)) if dem is not None else None)
        futures.append(client.submit(
            _gaps_task, part, cov.iloc[np.flatnonzero(near)], communes, config, window,
            calibration, margin, pure=False))
    results = client.gather(futures)
    found = pd.concat([r for r, _ in results])
    unsure = np.concatenate([u for _, u in results]) if results else np.zeros(0, dtype=bool)
    out = found.loc[villages.index] if found.index.is_unique else _reorder(found, parts)
    unsure = pd.Series(unsure, index=found.index).loc[out.index].to_numpy()
    if unsure.any():
        logger.info("%d villages have no point within the partition margin; deciding them "
                    "with every point", int(unsure.sum()))
        again = find_gaps(villages[unsure], cov, communes=communes, config=config, dem=dem,
                          calibration=calibration)
        out = pd.concat([out[~unsure], again]).loc[villages.index]
    return gpd.GeoDataFrame(out, geometry=villages.geometry.name, crs=villages.crs)


def _reorder(found: pd.DataFrame, parts: Sequence[np.ndarray]) -> pd.DataFrame:
    order = np.argsort(np.concatenate(parts), kind="stable")
    return found.iloc[order]


def _gaps_task(villages: gpd.GeoDataFrame, coverage: gpd.GeoDataFrame,
               communes: gpd.GeoDataFrame, config: Config, dem: DemGrid | None,
               calibration: Calibration | None, margin: float
               ) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """One partition's find_gaps, and which villages' nearest distances may lie outside it."""
    out = find_gaps(villages, coverage, communes=communes, config=config, dem=dem,
                    calibration=calibration)
    far = np.zeros(len(out), dtype=bool)
    for column in ("nearest_fibre_m", "nearest_mobile_m"):
        if column in out:
            d = pd.to_numeric(out[column], errors="coerce").to_numpy(dtype=float)
            far |= ~(d < margin)
    return out, far


def _dem_window(dem: DemGrid, bounds: tuple[float, float, float, float]) -> DemGrid:
    """The cells of ``dem`` covering ``bounds`` plus two cells, on the same grid."""
    inverse = ~dem.transform
    cols, rows = zip(*(inverse * (x, y) for x in bounds[0::2] for y in bounds[1::2]),
                     strict=True)
    r0 = max(int(np.floor(min(rows))) - 2, 0)
    c0 = max(int(np.floor(min(cols))) - 2, 0)
    r1 = min(int(np.ceil(max(rows))) + 2, dem.shape[0])
    c1 = min(int(np.ceil(max(cols))) + 2, dem.shape[1])
    return dataclasses.replace(dem, elevation_m=dem.elevation_m[r0:r1, c0:c1].copy(),
                               transform=dem.transform * Affine.translation(c0, r0))
