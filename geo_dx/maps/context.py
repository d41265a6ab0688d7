"""Place context for the offline maps: relief, roads, towns and commune name labels.

A planner finds a village by what is around it: the commune it sits in, the road that leads
there, the nearest town and the shape of the mountains. :class:`PlaceContext` gathers what a
run has of these (a DEM, a roads layer, a towns layer; each optional) and
:func:`context_payload` turns it into compact JSON for ``geo_dx_map.js``, cropped to the
area a map shows. Nothing here needs the internet: relief is an embedded PNG, roads and
towns are vectors in the page.

Examples
--------
>>> from geo_dx.dem import read_dem
>>> from geo_dx.demo import load_demo
>>> demo = load_demo()
>>> ctx = PlaceContext.from_layers(dem=read_dem(demo.dem_path), roads=demo.roads,
...                                towns=demo.towns, relief_max_px=200)
>>> payload = context_payload(ctx, demo.communes, bounds=(102.9, 21.3, 103.1, 21.5))
>>> sorted(payload)
['communeLabels', 'relief', 'roads', 'towns']
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.ops import polylabel

from geo_dx.dem import DemGrid
from geo_dx.maps.payload import to_wgs84
from geo_dx.maps.relief import ReliefImage, relief_image

__all__ = ["PlaceContext", "context_payload", "label_point"]

log = logging.getLogger(__name__)

#: Coordinates are kept to 4 decimals (≈ 11 m) and roads simplified by ≈ 50 m: enough to
#: read a road at commune zoom, small enough for a province.
_DECIMALS = 4
_ROAD_SIMPLIFY_DEG = 0.0005
#: Longest side of the province relief image; commune maps crop it.
RELIEF_MAX_PX = 1000
#: Road kinds drawn as main roads; anything else is drawn as a local road.
_MAIN_ROADS = frozenset({"main", "primary", "trunk", "motorway", "national", "provincial",
                         "secondary"})
_TOWN_NAME_COLUMNS = ("name", "town_name", "commune_seat", "seat_name")


@dataclass(frozen=True)
class PlaceContext:
    """
    What a run has to show around its villages; every part is optional.

    Attributes
    ----------
    relief
        Relief shading of the DEM (see :func:`geo_dx.maps.relief.relief_image`).
    roads
        Road lines in EPSG:4326 with an optional ``kind`` (``main`` or other).
    towns
        Town points in EPSG:4326 with a name column (``name``) and optional ``kind``
        (``capital``, ``town``, ``commune_seat``).
    """

    relief: ReliefImage | None = None
    roads: gpd.GeoDataFrame | None = None
    towns: gpd.GeoDataFrame | None = None

    @classmethod
    def from_layers(
        cls,
        *,
        dem: DemGrid | None = None,
        roads: gpd.GeoDataFrame | None = None,
        towns: gpd.GeoDataFrame | None = None,
        relief_max_px: int = RELIEF_MAX_PX,
    ) -> PlaceContext:
        """
        Shade the DEM once and keep roads and towns in longitude/latitude.

        Examples
        --------
        >>> PlaceContext.from_layers().relief is None
        True
        """
        relief = relief_image(dem, max_px=relief_max_px) if dem is not None else None
        return cls(relief=relief, roads=_lines_wgs84(roads), towns=_points_wgs84(towns))


def context_payload(
    context: PlaceContext | None,
    communes: gpd.GeoDataFrame,
    *,
    bounds: tuple[float, float, float, float] | None = None,
) -> dict[str, Any]:
    """
    JSON-ready place context for one map, cropped to ``bounds`` (west, south, east, north).

    Returns a dict with ``communeLabels`` (name and label point of each commune), and when
    the context has them ``roads`` (``kind`` 0 main / 1 local, ``lines`` of ``[lat, lon]``),
    ``towns`` (``name``, ``kind``, ``lat``, ``lon``) and ``relief`` (``png`` data URI and
    ``bounds``).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> communes = gpd.GeoDataFrame({"commune_name": ["Xã A"]},
    ...                             geometry=[box(103.0, 21.0, 103.1, 21.1)], crs=4326)
    >>> context_payload(None, communes)["communeLabels"]
    {'name': ['Xã A'], 'lat': [21.05], 'lon': [103.05]}
    """
    out: dict[str, Any] = {"communeLabels": _commune_labels(communes)}
    if context is None:
        return out
    if context.roads is not None and len(context.roads):
        out["roads"] = _roads(context.roads, bounds)
    if context.towns is not None and len(context.towns):
        out["towns"] = _towns(context.towns, bounds)
    if context.relief is not None:
        image = context.relief.crop(bounds) if bounds is not None else context.relief
        if image is not None:
            out["relief"] = {"png": image.png_uri(), "bounds": image.bounds_latlon}
    return out


def _lines_wgs84(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if frame is None or frame.empty:
        return None
    frame = to_wgs84(frame, "roads")
    return frame[frame.geom_type.isin(["LineString", "MultiLineString"])]


def _points_wgs84(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if frame is None or frame.empty:
        return None
    frame = to_wgs84(frame, "towns")
    return frame.set_geometry(frame.geometry.representative_point())


def _clip(frame: gpd.GeoDataFrame, bounds: tuple[float, float, float, float] | None,
          pad_deg: float = 0.02) -> gpd.GeoDataFrame:
    if bounds is None:
        return frame
    w, s, e, n = bounds
    return frame[frame.intersects(shapely.box(w - pad_deg, s - pad_deg, e + pad_deg,
                                              n + pad_deg))]


def _roads(roads: gpd.GeoDataFrame, bounds: tuple[float, float, float, float] | None) -> dict:
    roads = _clip(roads, bounds)
    kinds = (roads["kind"].astype(str).str.lower() if "kind" in roads
             else pd.Series("local", index=roads.index))
    geoms = shapely.simplify(roads.geometry.to_numpy(), _ROAD_SIMPLIFY_DEG)
    kind_out, lines = [], []
    for kind, geom in zip(kinds.tolist(), geoms, strict=True):
        for part in getattr(geom, "geoms", [geom]):
            xy = np.round(shapely.get_coordinates(part), _DECIMALS)
            if len(xy) < 2:
                continue
            kind_out.append(0 if kind in _MAIN_ROADS else 1)
            lines.append(xy[:, ::-1].tolist())
    return {"kind": kind_out, "lines": lines}


def _towns(towns: gpd.GeoDataFrame, bounds: tuple[float, float, float, float] | None) -> dict:
    towns = _clip(towns, bounds, pad_deg=0.0)
    name_col = next((c for c in _TOWN_NAME_COLUMNS if c in towns), None)
    names = (towns[name_col].astype("string").fillna("").astype(str).tolist() if name_col
             else [""] * len(towns))
    kinds = (towns["kind"].astype("string").fillna("town").astype(str).str.lower().tolist()
             if "kind" in towns else ["town"] * len(towns))
    return {
        "name": names,
        "kind": kinds,
        "lat": np.round(towns.geometry.y.to_numpy(), _DECIMALS).tolist(),
        "lon": np.round(towns.geometry.x.to_numpy(), _DECIMALS).tolist(),
    }


def _commune_labels(communes: gpd.GeoDataFrame) -> dict:
    if communes.empty:
        return {"name": [], "lat": [], "lon": []}
    communes = to_wgs84(communes, "communes", drop_empty=False)
    names = (communes["commune_name"] if "commune_name" in communes
             else communes.get("commune_id", pd.Series("", index=communes.index)))
    names = names.astype("string").fillna("").astype(str).tolist()
    out: dict[str, list] = {"name": [], "lat": [], "lon": []}
    for name, geom in zip(names, communes.geometry.to_numpy(), strict=True):
        if geom is None or geom.is_empty or not name:
            continue
        lon, lat = label_point(geom)
        out["name"].append(name)
        out["lat"].append(round(lat, _DECIMALS))
        out["lon"].append(round(lon, _DECIMALS))
    return out

def label_point(geom: shapely.Geometry) -> tuple[float, float]:
    """The pole of inaccessibility of the largest part: inside, far from every edge."""
    parts = getattr(geom, "geoms", [geom])
    largest = max(parts, key=lambda g: g.area)
    if largest.geom_type != "Polygon":
        point = largest.representative_point()
    else:
        point = polylabel(largest, tolerance=0.001)
    return (point.x, point.y)
