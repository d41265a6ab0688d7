"""The terrain coverage raster as a map image: warped to Web Mercator, a two-colour PNG."""

from __future__ import annotations

import base64
import warnings
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

from geo_dx.io import open_raster

__all__ = ["RASTER_RGB", "mask_png", "raster_overlay"]

#: Colour of covered cells on the map.
RASTER_RGB: tuple[int, int, int] = (0, 158, 115)
_MAX_PX = 2048
_CLIP_PAD_DEG = 0.02  # ~2 km around a commune


def raster_overlay(
    path: str | Path, *, clip_lonlat: tuple[float, float, float, float] | None = None
) -> tuple[str, list[list[float]]] | None:
    """
    Warp a 0/1 coverage GeoTIFF to Web Mercator: a PNG data URI and its lat/lon bounds.

    Parameters
    ----------
    path
        The raster (1 = covered), any CRS.
    clip_lonlat
        Keep only this (west, south, east, north) box, padded by about 2 km.

    Returns
    -------
    tuple or None
        ``(data_uri, [[south, west], [north, east]])``; None when the clip box misses the
        raster. The image keeps the source resolution, at most 2,048 pixels a side.
    """
    with open_raster(path, what="coverage raster") as src:
        left, bottom, right, top = src.bounds
        if clip_lonlat is not None:
            w, s, e, n = transform_bounds(
                4326, src.crs, clip_lonlat[0] - _CLIP_PAD_DEG, clip_lonlat[1] - _CLIP_PAD_DEG,
                clip_lonlat[2] + _CLIP_PAD_DEG, clip_lonlat[3] + _CLIP_PAD_DEG)
            left, bottom, right, top = max(left, w), max(bottom, s), min(right, e), min(top, n)
            if left >= right or bottom >= top:
                return None
        # Source pixels inside the window, so the output keeps the source resolution.
        cols = max(1, round((right - left) / abs(src.res[0])))
        rows = max(1, round((top - bottom) / abs(src.res[1])))
        transform, width, height = calculate_default_transform(
            src.crs, "EPSG:3857", cols, rows, left=left, bottom=bottom, right=right, top=top)
        scale = max(width, height) / _MAX_PX
        if scale > 1:
            width, height = max(1, int(width / scale)), max(1, int(height / scale))
            transform = Affine(transform.a * scale, 0.0, transform.c,
                               0.0, transform.e * scale, transform.f)
        mask = np.zeros((height, width), dtype=np.uint8)
        reproject(rasterio.band(src, 1), mask, dst_transform=transform, dst_crs="EPSG:3857",
                  dst_nodata=0, resampling=Resampling.nearest)
    west, north = transform.c, transform.f
    east, south = west + transform.a * width, north + transform.e * height
    w, s, e, n = transform_bounds("EPSG:3857", 4326, west, south, east, north)
    return mask_png(mask == 1), [[round(s, 6), round(w, 6)], [round(n, 6), round(e, 6)]]


def mask_png(covered: np.ndarray) -> str:
    """
    A palette PNG of a boolean mask (covered: coverage colour, else transparent), as a data URI.

    Written by GDAL's PNG driver through rasterio.

    Examples
    --------
    >>> mask_png(np.array([[True, False]])).startswith("data:image/png;base64,iVBORw0KGgo")
    True
    """
    height, width = covered.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # an image, not a map layer
        with MemoryFile() as mem:
            with mem.open(driver="PNG", width=width, height=height, count=1,
                          dtype="uint8") as dst:
                dst.write(covered.astype(np.uint8), 1)
                dst.write_colormap(1, {0: (0, 0, 0, 0), 1: (*RASTER_RGB, 255)})
            png = mem.read()
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
