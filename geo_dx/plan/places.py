"""Where each plan item's works are: lon/lat, elevation, commune and road distance."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo_dx.spatial import village_locations

if TYPE_CHECKING:
    from geo_dx.plan.model import InvestmentPlan

__all__ = ["commune_at", "commune_labels", "describe_places"]


def describe_places(model: InvestmentPlan, items: gpd.GeoDataFrame, at: gpd.GeoSeries) -> None:
    """lon/lat, elevation, commune and distance to the nearest road of each item's place."""
    placed_at = (~at.is_empty & at.notna()).to_numpy()
    if not placed_at.any():
        return
    at = at[placed_at]
    rows = items.index[placed_at]
    metric = at.to_crs(model.crs)
    xy = shapely.get_coordinates(metric.to_numpy())
    wgs = at.to_crs(4326)
    items[["lon", "lat", "road_distance_m"]] = items[["lon", "lat", "road_distance_m"]
                                                      ].astype(float)
    items.loc[rows, "lon"] = wgs.x.round(6).to_numpy()
    items.loc[rows, "lat"] = wgs.y.round(6).to_numpy()
    if model.dem is not None:
        known = items.loc[rows, "elevation_m"].astype(float)
        items.loc[rows, "elevation_m"] = known.where(
            known.notna(), pd.Series(model.dem.sample(xy), index=rows))
    items["elevation_m"] = items["elevation_m"].astype(float).round(0)
    items["location_commune"] = items["location_commune"].astype(object).where(
        items["location_commune"].notna(), "")
    items.loc[rows, "location_commune"] = commune_at(model, at, xy)
    if model.roads is not None and len(model.roads):
        tree = shapely.STRtree(model.roads.to_numpy())
        _, dist = tree.query_nearest(metric.to_numpy(), return_distance=True, all_matches=False)
        items.loc[rows, "road_distance_m"] = np.round(dist, 0)
    for col in ("route_km", "route_road_km", "route_offroad_km", "antenna_height_m"):
        items[col] = items[col].astype(float).round(3)


def commune_at(model: InvestmentPlan, at: gpd.GeoSeries, xy: np.ndarray) -> np.ndarray:
    """The commune each point lies in: from the commune polygons when the plan has them,
    else the commune of the nearest village."""
    """The commune each point lies in (polygons when given), else its nearest village's."""
    if model.communes is not None and len(model.communes):
        label = "commune_name" if "commune_name" in model.communes else "commune_id"
        joined = gpd.sjoin(gpd.GeoDataFrame(geometry=at.to_crs(model.communes.crs)),
                           model.communes[[label, model.communes.geometry.name]],
                           how="left", predicate="within")
        first = joined[~joined.index.duplicated()]
        return first[label].astype(object).where(first[label].notna(), "").astype(str).to_numpy()
    labels = commune_labels(model.villages)
    vxy = shapely.get_coordinates(village_locations(model.villages).to_crs(model.crs).to_numpy())
    if len(vxy) == 0:
        return np.full(len(xy), "")
    _, nearest = cKDTree(vxy).query(xy)
    return labels[nearest]


def commune_labels(villages: pd.DataFrame) -> np.ndarray:
    """
    Each village's commune name (else its id; else empty).

    Examples
    --------
    >>> commune_labels(pd.DataFrame({"commune_name": ["Xã A", None]})).tolist()
    ['Xã A', '']
    """
    col = next((c for c in ("commune_name", "commune_id") if c in villages), None)
    if col is None:
        return np.full(len(villages), "", dtype=object)
    return villages[col].astype(object).where(villages[col].notna(), "").astype(str).to_numpy()
