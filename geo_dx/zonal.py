"""Zonal share: which part of each polygon a raster mask covers, counted in cells.

One rule for every raster (the terrain coverage grid, an operator's coverage raster): a
cell counts as inside a polygon when its centre is; a polygon smaller than a cell (no centre
inside) takes the value of the cell under its representative point; other geometries and
polygons off the grid get NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from rasterio import features
from rasterio.windows import Window
from rasterio.windows import transform as window_transform

__all__ = ["zonal_share"]


def zonal_share(
    polygons: gpd.GeoSeries,
    transform: Affine,
    shape: tuple[int, int],
    read: Callable[[Window], np.ndarray],
) -> pd.Series:
    """
    Share (0-1) of each polygon's cells where the mask is True.

    Parameters
    ----------
    polygons
        Geometries in the grid's CRS; only Polygon and MultiPolygon get a share.
    transform, shape
        The grid (north up) and its ``(rows, cols)``.
    read
        Returns the boolean mask of a window of the grid (an in-memory array slice, or a
        windowed read of a raster file, so a large raster is never read whole).

    Returns
    -------
    pandas.Series
        Aligned to ``polygons.index``; NaN for non-polygons and polygons off the grid.

    Examples
    --------
    >>> import shapely
    >>> mask = np.array([[True, True, False, False]] * 2)  # 4 x 2 cells of 10 m
    >>> tf = Affine(10, 0, 0, 0, -10, 20)
    >>> polys = gpd.GeoSeries([shapely.box(0, 0, 40, 20), shapely.box(1, 1, 2, 2),
    ...                        shapely.Point(5, 5)])
    >>> zonal_share(polys, tf, mask.shape, lambda w: mask[w.toslices()]).tolist()
    [0.5, 1.0, nan]
    """
    share = pd.Series(np.nan, index=polygons.index, dtype=float)
    nrows, ncols = shape
    inverse = ~transform
    for label, geom in polygons.items():
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        minx, miny, maxx, maxy = geom.bounds
        cols, rows = zip(inverse @ (minx, maxy), inverse @ (maxx, miny), strict=True)
        c0, c1 = max(math.floor(min(cols)), 0), min(math.ceil(max(cols)), ncols)
        r0, r1 = max(math.floor(min(rows)), 0), min(math.ceil(max(rows)), nrows)
        if c0 >= c1 or r0 >= r1:
            continue
        window = Window(c0, r0, c1 - c0, r1 - r0)
        inside = features.geometry_mask([geom], out_shape=(r1 - r0, c1 - c0),
                                        transform=window_transform(window, transform),
                                        invert=True)
        cells = int(inside.sum())
        if cells:
            share[label] = float(np.asarray(read(window), dtype=bool)[inside].sum()) / cells
            continue
        point = geom.representative_point()
        col, row = inverse @ (point.x, point.y)
        r, c = math.floor(row), math.floor(col)
        if 0 <= r < nrows and 0 <= c < ncols:
            share[label] = float(bool(np.asarray(read(Window(c, r, 1, 1)))[0, 0]))
    return share
