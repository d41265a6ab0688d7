"""Digital elevation models: read a GeoTIFF onto a metric grid and sample it."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.errors
import rasterio.windows
from affine import Affine
from pyproj import CRS
from rasterio.warp import Resampling, calculate_default_transform, reproject

from geo_dx.errors import InputError
from geo_dx.io import open_raster
from geo_dx.spatial import working_crs

logger = logging.getLogger(__name__)

#: Coarsest cell (m) for travel times and the coverage overlay: walking times and a map
#: layer gain nothing from a finer grid, while line of sight for gap decisions keeps
#: the DEM's own resolution.
OVERLAY_CELL_M = 100.0


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
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        return self._rowcol(xy[:, 0], xy[:, 1])

    def _rowcol(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b, c, d, e, f = (~self.transform)[:6]
        return d * x + e * y + f - 0.5, a * x + b * y + c - 0.5

    def sample(self, xy: np.ndarray, *, clamp: bool = False) -> np.ndarray:
        """
        Elevation at points ``xy`` (n, 2) in the grid's CRS, bilinear between cell centres.

        Outside the grid (and on nodata) the value is NaN; with ``clamp`` a point off the
        grid takes the value of the nearest edge cell instead (NaN if that cell is nodata).

        Examples
        --------
        >>> grid = DemGrid(np.array([[0.0, 10.0], [0.0, 10.0]]), Affine(100, 0, 0, 0, -100, 200),
        ...                CRS.from_epsg(32648))
        >>> grid.sample(np.array([[100.0, 100.0], [900.0, 100.0]])).tolist()
        [5.0, nan]
        >>> grid.sample(np.array([[900.0, 100.0]]), clamp=True).tolist()
        [10.0]
        """
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        z = self.sample_xy(xy[:, 0], xy[:, 1])
        missing = np.isnan(z)
        if clamp and missing.any():
            rows, cols = self.rowcol(xy[missing])
            r = np.clip(np.rint(rows), 0, self.shape[0] - 1).astype(np.int64)
            c = np.clip(np.rint(cols), 0, self.shape[1] - 1).astype(np.int64)
            z[missing] = self.elevation_m[r, c]
        return z

    def sample_xy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """
        Bilinear elevation at coordinate arrays of any (equal) shape; NaN off the grid.

        Examples
        --------
        >>> grid = DemGrid(np.array([[0.0, 10.0]]), Affine(100, 0, 0, 0, -100, 100),
        ...                CRS.from_epsg(32648))
        >>> grid.sample_xy(np.array([[75.0, 100.0]]), np.array([[50.0, 50.0]])).tolist()
        [[2.5, 5.0]]
        """
        rows, cols = self._rowcol(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return _bilinear(self.elevation_m, rows, cols)

    def require_north_up(self) -> None:
        """Raise :class:`InputError` for a rotated grid (row and column axes not x and y)."""
        if self.transform.b != 0 or self.transform.d != 0:
            raise InputError(
                f"{self.path}: the DEM grid is rotated; warp it north-up first "
                "(gdalwarp -t_srs EPSG:32648 in.tif out.tif)"
            )

    def coarsened(self, max_cell_m: float) -> DemGrid:
        """
        This grid averaged over square blocks so cells are at most ``max_cell_m`` (itself
        when already that coarse).

        Walking times and the coverage overlay need no finer grid than ~100 m; a 30 m
        national DEM coarsened to 90 m has 9x fewer cells. Blocks average the cells
        that have data (NaN only where a whole block has none); the grid keeps its
        origin, and a partial last row/column of blocks averages what it holds.

        Examples
        --------
        >>> grid = DemGrid(np.arange(16.0).reshape(4, 4), Affine(30, 0, 0, 0, -30, 120),
        ...                CRS.from_epsg(32648))
        >>> coarse = grid.coarsened(100)
        >>> coarse.shape, coarse.cell_size_m, float(coarse.elevation_m[0, 0])
        ((2, 2), 90.0, 5.0)
        """
        factor = int(max_cell_m // self.cell_size_m)
        if factor <= 1:
            return self
        rows, cols = self.shape
        out_rows, out_cols = -(-rows // factor), -(-cols // factor)
        total = np.zeros((out_rows, out_cols), dtype=np.float64)
        count = np.zeros((out_rows, out_cols), dtype=np.int32)
        # one block-row at a time keeps the temporary small on a national grid
        for r in range(out_rows):
            band = self.elevation_m[r * factor:(r + 1) * factor]
            valid = np.isfinite(band)
            pad = out_cols * factor - cols
            values = np.pad(np.where(valid, band, 0.0), ((0, 0), (0, pad)))
            valid = np.pad(valid, ((0, 0), (0, pad)))
            total[r] = values.reshape(len(band), out_cols, factor).sum(axis=(0, 2))
            count[r] = valid.reshape(len(band), out_cols, factor).sum(axis=(0, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, total / count, np.nan).astype(np.float32)
        transform = self.transform @ Affine.scale(factor)
        return DemGrid(mean, transform, self.crs, self.path)


def _bilinear(grid: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
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


def read_dem(
    path: str | Path,
    *,
    crs: CRS | str | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    margin_m: float = 0.0,
) -> DemGrid:
    """
    Read a single-band elevation GeoTIFF as float32, reprojected to a metric CRS when needed.

    Only the part of the raster that covers ``bounds`` (plus ``margin_m``) is read, block
    by block, so a national 30 m DEM costs 4 bytes per cell of the study area and no
    float64 copy.

    Parameters
    ----------
    path
        Any raster GDAL reads.
    crs
        Target projected CRS. ``None`` keeps a projected DEM as is and projects a
        geographic one to its estimated UTM zone.
    bounds
        ``(xmin, ymin, xmax, ymax)`` in the target CRS of the area needed; default the
        whole raster.
    margin_m
        Extra metres read around ``bounds`` (reach of sites, walking detours).

    Returns
    -------
    DemGrid

    Examples
    --------
    >>> from geo_dx.demo import demo_paths
    >>> dem = read_dem(demo_paths().dem)
    >>> dem.crs.to_epsg(), round(dem.cell_size_m)
    (32648, 100)
    """
    path = Path(path)
    with open_raster(path, what="DEM") as src:
        src_crs = CRS.from_user_input(src.crs)
        target = CRS.from_user_input(crs) if crs is not None else None
        if target is None:
            target = src_crs if src_crs.is_projected else _utm_for_bounds(src_crs, src.bounds)
        window = _window(src, src_crs, target, bounds, margin_m)
        data = _read_float32(src, window)
        src_transform = src.window_transform(window)
        if target == src_crs:
            return DemGrid(data, src_transform, src_crs, str(path))
        left, bottom, right, top = rasterio.windows.bounds(window, src.transform)
        transform, width, height = calculate_default_transform(
            src.crs, target, data.shape[1], data.shape[0], left, bottom, right, top
        )
        out = np.full((height, width), np.nan, dtype=np.float32)
        reproject(
            data,
            out,
            src_transform=src_transform,
            src_crs=src.crs,
            dst_transform=transform,
            dst_crs=target,
            resampling=Resampling.bilinear,
            src_nodata=np.nan,
            dst_nodata=np.nan,
        )
        logger.info("reprojected DEM %s from %s to %s", path, src_crs, target)
        return DemGrid(out, transform, target, str(path))


def _window(
    src: rasterio.io.DatasetReader,
    src_crs: CRS,
    target: CRS,
    bounds: tuple[float, float, float, float] | None,
    margin_m: float,
) -> rasterio.windows.Window:
    """The source window covering ``bounds`` (target CRS) plus a margin; whole raster if None."""
    full = rasterio.windows.Window(0, 0, src.width, src.height)
    if bounds is None:
        return full
    xmin, ymin, xmax, ymax = bounds
    box = (xmin - margin_m, ymin - margin_m, xmax + margin_m, ymax + margin_m)
    if target != src_crs:
        from rasterio.warp import transform_bounds

        box = transform_bounds(target, src_crs, *box, densify_pts=21)
    window = rasterio.windows.from_bounds(*box, transform=src.transform)
    col0, row0 = math.floor(window.col_off), math.floor(window.row_off)
    window = rasterio.windows.Window(col0, row0,
                                     math.ceil(window.col_off + window.width) - col0,
                                     math.ceil(window.row_off + window.height) - row0)
    try:
        return window.intersection(full)
    except rasterio.errors.WindowError:
        return full  # no overlap: read all, callers report villages off the DEM


def _read_float32(src: rasterio.io.DatasetReader, window: rasterio.windows.Window) -> np.ndarray:
    """Band 1 of ``window`` as float32 with NaN for nodata, read in strips of rows."""
    height, width = int(window.height), int(window.width)
    out = np.empty((height, width), dtype=np.float32)
    strip = max(1, (64 << 20) // max(width * 4, 1))  # ~64 MB per read
    for r0 in range(0, height, strip):
        rows = min(strip, height - r0)
        part = rasterio.windows.Window(window.col_off, window.row_off + r0, width, rows)
        block = src.read(1, window=part, masked=True, out_dtype="float32")
        out[r0:r0 + rows] = block.filled(np.nan)
    return out


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


def dem_for(
    dem: DemGrid | str | Path | None, layer: gpd.GeoDataFrame, *, crs: str | None = None
) -> DemGrid | None:
    """
    A DEM as a grid in the working CRS of ``layer``: read from a path, or as given.

    The one way the gap rule and the plan read a DEM, so both see the same cells.

    Examples
    --------
    >>> dem_for(None, gpd.GeoDataFrame(geometry=[])) is None
    True
    """
    if dem is None or isinstance(dem, DemGrid):
        return dem
    return read_dem(dem, crs=working_crs(layer, crs))
