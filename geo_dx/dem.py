"""Digital elevation models: read a GeoTIFF onto a metric grid and sample it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.errors import RasterioError
from rasterio.warp import Resampling, calculate_default_transform, reproject

from geo_dx.errors import InputError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemGrid:
    """
    An elevation grid in a projected metric CRS.

    Attributes
    ----------
    elevation_m
        2-D float array, rows north to south; NaN where the DEM has no data.
    transform
        Affine transform from (col, row) to (x, y) of cell corners.
    crs
        Projected CRS of the grid (metres).
    path
        File it was read from, for messages.
    """

    elevation_m: np.ndarray
    transform: Affine
    crs: CRS
    path: str = "<memory>"

    @property
    def cell_size_m(self) -> float:
        """Mean cell size in metres."""
        return float((abs(self.transform.a) + abs(self.transform.e)) / 2)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return self.elevation_m.shape  # type: ignore[return-value]

    def rowcol(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fractional (row, col) of cell centres for points ``xy`` (n, 2) in the grid's CRS."""
        a, b, c, d, e, f = (~self.transform)[:6]
        cols = a * xy[:, 0] + b * xy[:, 1] + c
        rows = d * xy[:, 0] + e * xy[:, 1] + f
        return rows - 0.5, cols - 0.5

    def sample(self, xy: np.ndarray, *, bilinear: bool = True) -> np.ndarray:
        """
        Elevation at points ``xy`` (n, 2) in the grid's CRS; NaN outside the grid.

        Examples
        --------
        >>> grid = DemGrid(np.array([[0.0, 10.0], [0.0, 10.0]]), Affine(100, 0, 0, 0, -100, 200),
        ...                CRS.from_epsg(32648))
        >>> float(grid.sample(np.array([[100.0, 100.0]]))[0])
        5.0
        """
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        rows, cols = self.rowcol(xy)
        return bilinear_sample(self.elevation_m, rows, cols) if bilinear else nearest_sample(
            self.elevation_m, rows, cols
        )


def nearest_sample(grid: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Value of the cell nearest to fractional centre coordinates; NaN outside."""
    r = np.rint(rows).astype(np.int64)
    c = np.rint(cols).astype(np.int64)
    inside = (r >= 0) & (r < grid.shape[0]) & (c >= 0) & (c < grid.shape[1])
    out = np.full(r.shape, np.nan)
    out[inside] = grid[r[inside], c[inside]]
    return out


def bilinear_sample(grid: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Bilinear interpolation at fractional centre coordinates (clamped at edges); NaN outside."""
    nrows, ncols = grid.shape
    inside = (rows >= -0.5) & (rows <= nrows - 0.5) & (cols >= -0.5) & (cols <= ncols - 0.5)
    r = np.clip(rows, 0, nrows - 1)
    c = np.clip(cols, 0, ncols - 1)
    r0 = np.minimum(np.floor(r).astype(np.int64), max(nrows - 2, 0))
    c0 = np.minimum(np.floor(c).astype(np.int64), max(ncols - 2, 0))
    r1 = np.minimum(r0 + 1, nrows - 1)
    c1 = np.minimum(c0 + 1, ncols - 1)
    fr = r - r0
    fc = c - c0
    top = grid[r0, c0] * (1 - fc) + grid[r0, c1] * fc
    bottom = grid[r1, c0] * (1 - fc) + grid[r1, c1] * fc
    out = top * (1 - fr) + bottom * fr
    return np.where(inside, out, np.nan)


def read_dem(path: str | Path, *, crs: CRS | str | None = None) -> DemGrid:
    """
    Read a single-band elevation GeoTIFF, reprojected to a metric CRS when needed.

    Parameters
    ----------
    path
        Any raster GDAL reads.
    crs
        Target projected CRS. ``None`` keeps a projected DEM as is and projects a
        geographic one to its estimated UTM zone.

    Returns
    -------
    DemGrid

    Examples
    --------
    >>> dem = read_dem("data/terrain/dem.tif")  # doctest: +SKIP
    >>> dem.cell_size_m  # doctest: +SKIP
    100.0
    """
    path = Path(path)
    try:
        src = rasterio.open(path)
    except RasterioError as err:
        raise InputError(
            f"{path}: cannot read the DEM ({err}); give a GeoTIFF elevation file"
        ) from err
    with src:
        if src.crs is None:
            raise InputError(
                f"{path}: the DEM has no CRS; set one (e.g. gdal_edit.py -a_srs EPSG:32648 {path})"
            )
        data = src.read(1, masked=True).astype("float64").filled(np.nan)
        src_crs = CRS.from_user_input(src.crs)
        target = CRS.from_user_input(crs) if crs is not None else None
        if target is None:
            target = src_crs if src_crs.is_projected else _utm_for_bounds(src_crs, src.bounds)
        if target == src_crs:
            return DemGrid(data, src.transform, src_crs, str(path))
        transform, width, height = calculate_default_transform(
            src.crs, target, src.width, src.height, *src.bounds
        )
        out = np.full((height, width), np.nan)
        reproject(
            data,
            out,
            src_transform=src.transform,
            src_crs=src.crs,
            dst_transform=transform,
            dst_crs=target,
            resampling=Resampling.bilinear,
            src_nodata=np.nan,
            dst_nodata=np.nan,
        )
        logger.info("reprojected DEM %s from %s to %s", path, src_crs, target)
        return DemGrid(out, transform, target, str(path))


def _utm_for_bounds(crs: CRS, bounds: rasterio.coords.BoundingBox) -> CRS:
    from pyproj import Transformer
    from pyproj.aoi import AreaOfInterest
    from pyproj.database import query_utm_crs_info

    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
        (bounds.left + bounds.right) / 2, (bounds.bottom + bounds.top) / 2
    )
    info = query_utm_crs_info(
        datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, lat, lon, lat)
    )
    return CRS.from_epsg(info[0].code)
